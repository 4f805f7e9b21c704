#!/usr/bin/env python3
"""Validates the PAdES signature of a Sigillo PDF with pyHanko, an
independent PDF signing library.

    pyhanko_validate.py SIGNED.pdf CA.pem

Validates every signature in the file with CA.pem as the only trust root and
prints, per signature, one `key: value` line for each check:

    subfilter   the signature dictionary's /SubFilter (/ETSI.CAdES.detached for PAdES)
    intact      the digest of the signed byte ranges matches the CMS
    valid       the CMS signature checks against the signer's key
    trusted     the signer's certificate chains to CA.pem
    coverage    ENTIRE_FILE, ENTIRE_REVISION, ...
    summary     pyHanko's own one-line summary

Exit status: 0 every signature is a PAdES signature that is intact, valid,
trusted and covers the entire file; 1 some check failed; 2 usage error or
a file pyHanko cannot read.
Requires: pyHanko, pyhanko-certvalidator.
"""

import sys

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

PADES_SUBFILTER = "/ETSI.CAdES.detached"


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    pdf_path, ca_path = argv[1], argv[2]
    try:
        root = load_cert_from_pemder(ca_path)
        context = ValidationContext(trust_roots=[root])
        with open(pdf_path, "rb") as f:
            reader = PdfFileReader(f)
            signatures = reader.embedded_signatures
            if not signatures:
                print("signatures: 0")
                return 1
            all_good = True
            for signature in signatures:
                status = validate_pdf_signature(signature, context)
                subfilter = str(signature.sig_object.get("/SubFilter"))
                coverage = status.coverage.name if status.coverage else "NONE"
                print(f"field: {signature.field_name}")
                print(f"subfilter: {subfilter}")
                print(f"intact: {status.intact}")
                print(f"valid: {status.valid}")
                print(f"trusted: {status.trusted}")
                print(f"coverage: {coverage}")
                print(f"summary: {status.summary()}")
                all_good &= (
                    subfilter == PADES_SUBFILTER
                    and status.intact
                    and status.valid
                    and status.trusted
                    and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
                )
    except Exception as error:  # pyHanko raises many kinds on a broken file
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    return 0 if all_good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
