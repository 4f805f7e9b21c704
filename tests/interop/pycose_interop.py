#!/usr/bin/env python3
"""Checks Sigillo seals with pycose, an independent COSE implementation.

    pycose_interop.py verify CERT.pem SEAL.cbor   verify a seal; print its payload in hex
    pycose_interop.py sign KEY.pem CERT.pem PAYLOAD.cbor OUT.cbor
                                                 sign PAYLOAD as a seal with pycose

Exit status: 0 success, 1 the seal does not verify, 2 usage or I/O error.
Requires: pycose, cbor2<6 (pycose 1.x does not yet work with cbor2 6).
"""

import hashlib
import sys

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pycose.algorithms import Es256
from pycose.headers import KID, Algorithm
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import CoseMessage, Sign1Message

COSE_SIGN1_TAG = 18


def load_certificate(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def kid_of(certificate):
    der = certificate.public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).digest()[:8]


def coordinates(public_key):
    numbers = public_key.public_numbers()
    return numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")


def verify(cert_path, seal_path):
    certificate = load_certificate(cert_path)
    with open(seal_path, "rb") as f:
        data = f.read()
    outer = cbor2.loads(data)
    if not isinstance(outer, cbor2.CBORTag) or outer.tag != COSE_SIGN1_TAG:
        print("not a tagged COSE_Sign1", file=sys.stderr)
        return 1
    try:
        message = CoseMessage.decode(data)
    except Exception as error:  # pycose raises several types for bad input
        print(f"undecodable: {error}", file=sys.stderr)
        return 1
    if message.phdr.get(Algorithm) is not Es256:
        print(f"algorithm is {message.phdr.get(Algorithm)}, not ES256", file=sys.stderr)
        return 1
    if message.phdr.get(KID) != kid_of(certificate):
        print("kid does not name the certificate", file=sys.stderr)
        return 1
    x, y = coordinates(certificate.public_key())
    message.key = EC2Key(crv=P256, x=x, y=y)
    try:
        valid = message.verify_signature()
    except Exception as error:
        print(f"verification error: {error}", file=sys.stderr)
        return 1
    if not valid:
        print("bad signature", file=sys.stderr)
        return 1
    print(message.payload.hex())
    return 0


def sign(key_path, cert_path, payload_path, out_path):
    certificate = load_certificate(cert_path)
    with open(key_path, "rb") as f:
        private_key = serialization.load_pem_private_key(f.read(), password=None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        print("not an EC key", file=sys.stderr)
        return 2
    with open(payload_path, "rb") as f:
        payload = f.read()
    x, y = coordinates(private_key.public_key())
    d = private_key.private_numbers().private_value.to_bytes(32, "big")
    message = Sign1Message(phdr={Algorithm: Es256, KID: kid_of(certificate)}, payload=payload)
    message.key = EC2Key(crv=P256, x=x, y=y, d=d)
    with open(out_path, "wb") as f:
        f.write(message.encode(tag=True))
    return 0


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "verify":
            return verify(argv[2], argv[3])
        if len(argv) == 6 and argv[1] == "sign":
            return sign(argv[2], argv[3], argv[4], argv[5])
    except OSError as error:
        print(error, file=sys.stderr)
        return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
