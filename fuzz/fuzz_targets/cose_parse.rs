//! Seal bytes: the COSE_Sign1 decoder, the seal's header policy and the
//! claims decoder (reached in verification only after the signature holds,
//! but it must not panic on anything).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = seal::ParsedSeal::parse(data);
    let _ = seal::cose::Sign1::decode(data);
    let _ = seal::Claims::from_cbor(data);
});
