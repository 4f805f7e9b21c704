//! A PDF as an upload brings it: read without rendering, the seal from its
//! metadata, its PAdES signature (byte range, CMS, digest) checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = verifier::Verifier::new(&verifier::Trust::default()).verify_now(verifier::Input::Pdf(data), &verifier::NoStatus, time::OffsetDateTime::UNIX_EPOCH);
});
