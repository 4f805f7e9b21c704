//! Interoperability with pycose, an independent COSE implementation: a seal
//! made by our code verifies in pycose, and a COSE_Sign1 made by pycose with
//! our key verifies in ours. Needs python3 with `pycose` and `cbor2<6`.

use std::path::{Path, PathBuf};
use std::process::Command;

use keys::{KeyStore, SIGNER_VALIDITY};
use seal::{Claims, Seal, samples};
use testkit::{KEYS_MADE, demo_comune, sample_now, tool_available};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/pycose_interop.py")
}

fn pycose_available() -> bool {
    tool_available(
        "python3 with pycose and cbor2<6",
        Command::new("python3").args(["-c", "import pycose, cbor2, cryptography"]),
    )
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: KeyStore,
    cert: PathBuf,
    key: PathBuf,
    work: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = KeyStore::new(dir.path());
    let comune = demo_comune();
    let current = store.init(&comune, KEYS_MADE, false).expect("init").current;
    let signers = store.comune_dir(comune.code).join("signers");
    let work = dir.path().to_path_buf();
    Fixture {
        cert: signers.join(format!("{current}.crt.pem")),
        key: signers.join(format!("{current}.key.pem")),
        _dir: dir,
        store,
        work,
    }
}

fn pycose(args: &[&Path]) -> std::process::Output {
    let output = Command::new("python3")
        .arg(script())
        .args(args)
        .output()
        .expect("python3 runs");
    if !output.stderr.is_empty() {
        eprintln!("pycose: {}", String::from_utf8_lossy(&output.stderr));
    }
    output
}

#[test]
fn pycose_verifies_our_seals_and_refuses_a_tampered_one() {
    if !pycose_available() {
        return;
    }
    let f = fixture();
    let signer = f.store.signer(demo_comune().code).expect("signer");
    for claims in samples::all() {
        let seal = Seal::sign(&claims, &signer).expect("signs");
        let seal_path = f.work.join("seal.cbor");
        std::fs::write(&seal_path, seal.as_bytes()).expect("write");
        let output = pycose(&[Path::new("verify"), &f.cert, &seal_path]);
        assert!(
            output.status.success(),
            "pycose refused seal {}",
            claims.number
        );
        let payload = hex::decode(String::from_utf8_lossy(&output.stdout).trim()).expect("hex");
        assert_eq!(Claims::from_cbor(&payload).expect("claims"), claims);

        let mut tampered = seal.as_bytes().to_vec();
        let last = tampered.len() - 1;
        tampered[last] ^= 0x01;
        std::fs::write(&seal_path, &tampered).expect("write");
        let output = pycose(&[Path::new("verify"), &f.cert, &seal_path]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "pycose accepted a tampered seal"
        );
    }
}

#[test]
fn a_seal_signed_by_pycose_with_our_key_verifies_in_ours() {
    if !pycose_available() {
        return;
    }
    let f = fixture();
    let claims = samples::famiglia(6);
    let payload_path = f.work.join("payload.cbor");
    std::fs::write(&payload_path, claims.to_cbor().expect("encodes")).expect("write");
    let out_path = f.work.join("pycose-seal.cbor");
    let output = pycose(&[Path::new("sign"), &f.key, &f.cert, &payload_path, &out_path]);
    assert!(output.status.success(), "pycose could not sign");

    let bytes = std::fs::read(&out_path).expect("pycose output");
    let trust = f.store.trust_store().expect("trust list");
    let verified = seal::verify(&bytes, &trust, sample_now()).expect("our verifier accepts it");
    assert_eq!(verified.claims(), &claims);
    assert!(sample_now() < KEYS_MADE + SIGNER_VALIDITY);
}
