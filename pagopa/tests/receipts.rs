//! Hostile receipts: each receipt fault the emulator can inject yields a
//! receipt the checks reject with its own reason; a duplicate receipt
//! passes the checks but names the notice already confirmed.

mod common;

use common::*;
use pagopa::emulator::{Fault, PayError};
use pagopa::receipt::{ReceiptRejected, check_marca, check_virtuale};

/// Opens a bollo virtuale, injects `fault`, pays, and checks the receipt.
async fn virtuale_with(fault: Fault, base: u64) -> Result<(), ReceiptRejected> {
    let sandbox = sandbox().await;
    let order = virtuale_order(&format!("IUPD-HOSTILE-{base}"), base);
    let opened = sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");
    sandbox.emulator().inject(fault);
    sandbox.emulator().pay(&opened.notice).expect("paid");
    let receipt = sandbox
        .client
        .virtuale_receipt(CREDITOR, &opened.notice)
        .await
        .expect("receipt call")
        .expect("a receipt");
    check_virtuale(&expected_virtuale(&order), &receipt)
}

/// Buys a marca, injects `fault`, pays, and checks the stamp.
async fn marca_with(fault: Fault) -> Result<(), ReceiptRejected> {
    let sandbox = sandbox().await;
    let order = marca_order(b"%PDF certificato");
    let opened = sandbox
        .client
        .open_marca(CREDITOR, &order)
        .await
        .expect("opened");
    sandbox.emulator().inject(fault);
    sandbox.emulator().pay(&opened.notice).expect("paid");
    let stamp = sandbox
        .client
        .marca_receipt(CREDITOR, &opened.notice)
        .await
        .expect("receipt call")
        .expect("a stamp");
    check_marca(&expected_marca(&order, opened.notice), &stamp)
}

#[tokio::test]
async fn each_altered_bollo_virtuale_receipt_is_rejected_for_its_reason() {
    let cases = [
        (
            Fault::WrongAmount,
            ReceiptRejected::WrongAmount {
                expected: 1652,
                got: 1752,
            },
        ),
        (Fault::WrongDebtor, ReceiptRejected::WrongDebtor),
        (Fault::WrongCreditor, ReceiptRejected::WrongCreditor),
        (Fault::UnknownNotice, ReceiptRejected::UnknownNotice),
        (Fault::NegativeOutcome, ReceiptRejected::NotPositive),
    ];
    for (base, (fault, rejected)) in (100..).zip(cases) {
        let outcome = virtuale_with(fault.clone(), base).await;
        assert_eq!(outcome, Err(rejected), "{fault:?}");
    }
}

#[tokio::test]
async fn each_altered_stamp_is_rejected_for_its_reason() {
    assert_eq!(
        marca_with(Fault::WrongAmount).await,
        Err(ReceiptRejected::WrongAmount {
            expected: 1600,
            got: 1700
        })
    );
    assert_eq!(
        marca_with(Fault::WrongDigest).await,
        Err(ReceiptRejected::WrongDigest)
    );
}

#[tokio::test]
async fn faults_injected_over_http_alter_the_next_receipt() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-HTTP-FAULT", 120);
    sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");

    let injected = browser()
        .post(format!("{}/_faults", sandbox.handle.base_url()))
        .header("content-type", "application/json")
        .body(r#"{"fault":"negative_outcome"}"#)
        .send()
        .await
        .expect("fault injected");
    assert_eq!(injected.status(), 204);
    sandbox.emulator().pay(&order.notice).expect("paid");
    let receipt = sandbox
        .client
        .virtuale_receipt(CREDITOR, &order.notice)
        .await
        .expect("receipt call")
        .expect("a receipt");

    assert_eq!(
        check_virtuale(&expected_virtuale(&order), &receipt),
        Err(ReceiptRejected::NotPositive)
    );
}

#[tokio::test]
async fn a_duplicate_receipt_passes_the_checks_for_the_same_notice() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-DUPLICATE", 121);
    sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");
    sandbox.emulator().pay(&order.notice).expect("paid");
    let first = sandbox
        .client
        .virtuale_receipt(CREDITOR, &order.notice)
        .await
        .expect("receipt call")
        .expect("a receipt");
    assert_eq!(
        sandbox.emulator().pay(&order.notice),
        Err(PayError::AlreadyPaid)
    );

    sandbox.emulator().inject(Fault::DuplicateReceipt);
    sandbox.emulator().pay(&order.notice).expect("paid again");
    let second = sandbox
        .client
        .virtuale_receipt(CREDITOR, &order.notice)
        .await
        .expect("receipt call")
        .expect("a receipt");

    assert_ne!(second.receipt_id, first.receipt_id);
    assert_eq!(second.notice_number, first.notice_number);
    assert_eq!(check_virtuale(&expected_virtuale(&order), &second), Ok(()));
}

#[tokio::test]
async fn receipt_faults_wait_for_a_receipt_they_apply_to() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-WAITING-FAULT", 122);
    sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");
    sandbox.emulator().inject(Fault::WrongDigest);

    sandbox.emulator().pay(&order.notice).expect("paid");
    let receipt = sandbox
        .client
        .virtuale_receipt(CREDITOR, &order.notice)
        .await
        .expect("receipt call")
        .expect("a receipt");
    assert_eq!(check_virtuale(&expected_virtuale(&order), &receipt), Ok(()));

    let marca = marca_order(b"altro documento");
    let opened = sandbox
        .client
        .open_marca(CREDITOR, &marca)
        .await
        .expect("opened");
    sandbox.emulator().pay(&opened.notice).expect("paid");
    let stamp = sandbox
        .client
        .marca_receipt(CREDITOR, &opened.notice)
        .await
        .expect("receipt call")
        .expect("a stamp");
    assert_eq!(
        check_marca(&expected_marca(&marca, opened.notice), &stamp),
        Err(ReceiptRejected::WrongDigest)
    );
}

#[test]
fn rejections_have_stable_codes_for_the_audit_log() {
    let codes: Vec<&str> = [
        ReceiptRejected::UnknownNotice,
        ReceiptRejected::NotPositive,
        ReceiptRejected::WrongAmount {
            expected: 1,
            got: 2,
        },
        ReceiptRejected::WrongCreditor,
        ReceiptRejected::WrongDebtor,
        ReceiptRejected::WrongDigest,
    ]
    .iter()
    .map(ReceiptRejected::code)
    .collect();
    assert_eq!(
        codes,
        [
            "unknown_notice",
            "not_positive",
            "wrong_amount",
            "wrong_creditor",
            "wrong_debtor",
            "wrong_digest"
        ]
    );
}
