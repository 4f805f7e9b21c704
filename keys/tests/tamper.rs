//! Tamper tests: for a sample of seals, every single-bit flip of the COSE
//! bytes and every change of one digit of the text form is refused.

use seal::{Seal, samples};
use testkit::{KEYS_MADE, demo_comune, keys_for, sample_now};

#[test]
fn every_single_bit_flip_of_the_cose_bytes_is_refused() {
    let (_, signer, trust) = keys_for(&demo_comune(), KEYS_MADE);
    let mut checked = 0;
    for claims in [
        samples::residenza(),
        samples::famiglia(6),
        samples::nascita(),
    ] {
        let seal = Seal::sign(&claims, &signer).expect("signs");
        assert!(seal::verify(seal.as_bytes(), &trust, sample_now()).is_ok());
        for index in 0..seal.as_bytes().len() {
            for bit in 0..8 {
                let mut bytes = seal.as_bytes().to_vec();
                bytes[index] ^= 1 << bit;
                let outcome = seal::verify(&bytes, &trust, sample_now());
                assert!(
                    outcome.is_err(),
                    "flip of bit {bit} of byte {index} was accepted"
                );
                checked += 1;
            }
        }
    }
    println!("{checked} bit flips refused");
}

#[test]
fn every_one_digit_change_of_the_text_form_is_refused() {
    let (_, signer, trust) = keys_for(&demo_comune(), KEYS_MADE);
    let mut checked = 0;
    for claims in [samples::residenza(), samples::contestuale()] {
        let digits = Seal::sign(&claims, &signer).expect("signs").to_digits();
        assert!(seal::verify_text(&digits, &trust, sample_now()).is_ok());
        for index in 0..digits.len() {
            for replacement in b'0'..=b'9' {
                if digits.as_bytes()[index] == replacement {
                    continue;
                }
                let mut changed = digits.clone().into_bytes();
                changed[index] = replacement;
                let changed = String::from_utf8(changed).expect("ASCII");
                let outcome = seal::verify_text(&changed, &trust, sample_now());
                assert!(
                    outcome.is_err(),
                    "digit {index} changed to {replacement} was accepted"
                );
                checked += 1;
            }
        }
    }
    println!("{checked} digit changes refused");
}
