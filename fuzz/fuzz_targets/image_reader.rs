//! A PNG or JPEG as an upload brings it: the header checked against the
//! limits before decoding, then every pass of the QR reader. The pixel limit
//! is lowered so that each input stays fast.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = verifier::image::scan(data, &verifier::Limits { max_image_pixels: 1 << 20, ..verifier::Limits::default() });
});
