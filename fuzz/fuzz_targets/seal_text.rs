//! The seal's text form: URL or bare digits, as scanned or typed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = seal::text::parse_text(text);
        let _ = seal::ParsedSeal::from_text(text);
    }
});
