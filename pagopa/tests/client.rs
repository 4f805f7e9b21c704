//! The pagoPA client against the emulator over real HTTP on 127.0.0.1:
//! both ways of paying the stamp duty end to end, the idempotent opening of
//! a debt position, invalidation, retries and timeouts.

mod common;

use std::time::Duration;

use common::*;
use pagopa::client::{PagoPa, PagoPaConfig, PagoPaError};
use pagopa::emulator::{Emulator, Fault};
use pagopa::receipt::{check_marca, check_virtuale};

#[tokio::test]
async fn a_bollo_virtuale_is_paid_through_a_checkout_cart_as_often_as_it_is_asked() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-CART-1", 43);
    sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");
    let cart = cart_order(&order);

    // Twice (a reload, a second click): the same notice's page.
    let first = sandbox.client.checkout_cart(&cart).await.expect("a cart");
    let second = sandbox.client.checkout_cart(&cart).await.expect("a cart");
    assert_eq!(first, second);
    assert_eq!(
        first,
        format!(
            "{}/checkout/{}",
            sandbox.handle.base_url(),
            order.notice.as_str()
        )
    );
    let paid = press(&first, "pay").await;
    assert_eq!(paid.status(), 303);
    assert_eq!(
        paid.headers()["location"],
        format!("{RETURN_URL}?outcome=ok").as_str()
    );
    let again = press(&first, "pay").await;
    assert_eq!(again.status(), 409, "a notice is paid once");
    assert!(
        sandbox
            .client
            .virtuale_receipt(CREDITOR, &order.notice)
            .await
            .expect("receipt")
            .is_some()
    );

    // A cart that does not match the notice is refused.
    let wrong_amount = pagopa::client::CartOrder {
        amount_cents: cart.amount_cents + 100,
        ..cart.clone()
    };
    let unknown = pagopa::client::CartOrder {
        notice: virtuale_order("IUPD-CART-NONE", 44).notice,
        ..cart.clone()
    };
    for refused in [wrong_amount, unknown] {
        assert!(
            matches!(
                sandbox.client.checkout_cart(&refused).await,
                Err(PagoPaError::Rejected { status: 400, .. })
            ),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn a_bollo_virtuale_is_opened_paid_and_confirmed_by_its_receipt() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-VIRTUALE-1", 42);

    let opened = sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");
    assert_eq!(opened.notice, order.notice);
    assert_eq!(
        sandbox
            .client
            .virtuale_receipt(CREDITOR, &opened.notice)
            .await,
        Ok(None),
        "no receipt before paying"
    );
    let page = browser()
        .get(&opened.checkout_url)
        .send()
        .await
        .expect("checkout page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    for shown in [
        "€ 16,52",
        "Comune di Borgo Sigillo",
        CREDITOR,
        "Certificato di residenza n. 2026/000042",
        ">Paga<",
        ">Annulla<",
    ] {
        assert!(html.contains(shown), "the page shows {shown}");
    }
    let paid = press(&opened.checkout_url, "pay").await;
    assert_eq!(paid.status(), 303);
    assert_eq!(
        paid.headers()["location"],
        format!("{RETURN_URL}?outcome=ok").as_str()
    );

    let receipt = sandbox
        .client
        .virtuale_receipt(CREDITOR, &opened.notice)
        .await
        .expect("receipt call")
        .expect("a receipt once paid");
    assert_eq!(check_virtuale(&expected_virtuale(&order), &receipt), Ok(()));
    assert_eq!(receipt.amount_cents, 1652);
    assert_eq!(receipt.iuv, order.notice.iuv());
    assert_eq!(
        sandbox.emulator().position_status(CREDITOR, &order.iupd),
        Some("PAID".into())
    );
}

#[tokio::test]
async fn cancelling_at_the_checkout_returns_with_the_outcome_and_leaves_it_unpaid() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-CANCEL", 43);
    let opened = sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");

    let cancelled = press(&opened.checkout_url, "cancel").await;

    assert_eq!(cancelled.status(), 303);
    assert_eq!(
        cancelled.headers()["location"],
        format!("{RETURN_URL}?outcome=cancelled").as_str()
    );
    assert_eq!(
        sandbox
            .client
            .virtuale_receipt(CREDITOR, &opened.notice)
            .await,
        Ok(None)
    );
}

#[tokio::test]
async fn a_marca_da_bollo_is_bought_paid_and_bound_to_the_document() {
    let sandbox = sandbox().await;
    let order = marca_order(b"%PDF-1.7 certificato finale");

    let opened = sandbox
        .client
        .open_marca(CREDITOR, &order)
        .await
        .expect("opened");
    assert!(
        opened
            .checkout_url
            .starts_with(&format!("{}/checkout/", sandbox.handle.base_url())),
        "an absolute URL of the emulator: {}",
        opened.checkout_url
    );
    assert_eq!(
        sandbox.client.marca_receipt(CREDITOR, &opened.notice).await,
        Ok(None)
    );
    let html = browser()
        .get(&opened.checkout_url)
        .send()
        .await
        .expect("checkout page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("€ 16,00"), "the page shows the amount");
    let paid = press(&opened.checkout_url, "pay").await;
    assert_eq!(paid.status(), 303);
    assert_eq!(
        paid.headers()["location"],
        format!("{RETURN_URL}?outcome=ok").as_str()
    );

    let stamp = sandbox
        .client
        .marca_receipt(CREDITOR, &opened.notice)
        .await
        .expect("receipt call")
        .expect("a stamp once paid");
    assert_eq!(
        check_marca(&expected_marca(&order, opened.notice), &stamp),
        Ok(())
    );
    assert_eq!(stamp.digest, order.document_hash);
    assert_eq!(stamp.amount_cents, 1600);
    assert_eq!(stamp.iubd.len(), 14);
}

#[tokio::test]
async fn opening_the_same_order_twice_gives_the_same_payment_and_one_position() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-TWICE", 44);

    let first = sandbox.client.open_virtuale(CREDITOR, &order).await;
    let second = sandbox.client.open_virtuale(CREDITOR, &order).await;

    assert_eq!(first, second);
    assert_eq!(
        sandbox.calls(),
        [
            format!("POST /gpd/organizations/{CREDITOR}/debtpositions"),
            format!("POST /gpd/organizations/{CREDITOR}/debtpositions"),
            format!("GET /gpd/organizations/{CREDITOR}/debtpositions/IUPD-TWICE"),
        ]
    );
}

#[tokio::test]
async fn the_same_iupd_with_another_amount_is_a_conflict() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-CONFLICT", 45);
    sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");
    let changed = pagopa::client::VirtualeOrder {
        amount_cents: 1626,
        ..order
    };

    let reopened = sandbox.client.open_virtuale(CREDITOR, &changed).await;

    assert_eq!(reopened, Err(PagoPaError::Conflict));
}

#[tokio::test]
async fn an_invalidated_position_cannot_be_paid_and_invalidating_again_is_fine() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-INVALIDATE", 46);
    sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");

    assert_eq!(
        sandbox.client.invalidate(CREDITOR, &order.iupd).await,
        Ok(())
    );
    assert_eq!(
        sandbox.client.invalidate(CREDITOR, &order.iupd).await,
        Ok(())
    );
    assert_eq!(
        sandbox.client.invalidate(CREDITOR, "IUPD-UNKNOWN").await,
        Ok(())
    );

    assert_eq!(
        sandbox.emulator().position_status(CREDITOR, &order.iupd),
        Some("INVALID".into())
    );
    assert_eq!(
        sandbox.emulator().pay(&order.notice),
        Err(pagopa::emulator::PayError::NotPayable)
    );
}

#[tokio::test]
async fn a_paid_position_cannot_be_invalidated() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-PAID", 47);
    sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");
    sandbox.emulator().pay(&order.notice).expect("paid");

    let invalidated = sandbox.client.invalidate(CREDITOR, &order.iupd).await;

    assert_eq!(invalidated, Err(PagoPaError::AlreadyPaid));
}

#[tokio::test]
async fn two_server_errors_then_success_succeeds_after_two_retries() {
    let sandbox = sandbox().await;
    sandbox.emulator().inject(Fault::ServerError {
        count: 2,
        status: 503,
    });

    let opened = sandbox
        .client
        .open_virtuale(CREDITOR, &virtuale_order("IUPD-RETRY", 48))
        .await;

    assert!(opened.is_ok(), "{opened:?}");
    assert_eq!(sandbox.calls().len(), 3, "{:?}", sandbox.calls());
}

#[tokio::test]
async fn too_many_requests_is_retried() {
    let sandbox = sandbox().await;
    sandbox.emulator().inject(Fault::ServerError {
        count: 1,
        status: 429,
    });

    let info = sandbox.client.info().await;

    assert!(info.is_ok(), "{info:?}");
    assert_eq!(sandbox.calls().len(), 2);
}

#[tokio::test]
async fn server_errors_past_the_retries_make_the_service_unavailable() {
    let sandbox = sandbox().await;
    sandbox.emulator().inject(Fault::ServerError {
        count: 3,
        status: 503,
    });

    let info = sandbox.client.info().await;

    assert_eq!(info, Err(PagoPaError::Unavailable { status: Some(503) }));
    assert_eq!(sandbox.calls().len(), 3);
}

#[tokio::test]
async fn timeouts_surface_as_timeout_after_the_configured_retries() {
    let sandbox = sandbox_with(Duration::from_millis(300), 2).await;
    sandbox.emulator().inject(Fault::Timeout { count: 5 });

    let info = sandbox.client.info().await;

    assert_eq!(info, Err(PagoPaError::Timeout));
    assert_eq!(sandbox.calls().len(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn a_refused_request_is_not_retried() {
    let sandbox = sandbox().await;
    let expired = pagopa::client::VirtualeOrder {
        due: time::OffsetDateTime::now_utc() - time::Duration::days(1),
        ..virtuale_order("IUPD-PAST", 49)
    };

    let opened = sandbox.client.open_virtuale(CREDITOR, &expired).await;

    assert!(
        matches!(&opened, Err(PagoPaError::Rejected { status: 400, detail }) if detail.contains("dueDate")),
        "{opened:?}"
    );
    assert_eq!(sandbox.calls().len(), 1);
}

#[tokio::test]
async fn an_unreachable_service_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let client = PagoPa::new(PagoPaConfig {
        max_retries: 1,
        ..PagoPaConfig::emulator(&format!("http://{addr}"))
    })
    .expect("client");

    assert_eq!(
        client.info().await,
        Err(PagoPaError::Unavailable { status: None })
    );
}

#[tokio::test]
async fn the_subscription_key_is_required() {
    let sandbox = sandbox().await;
    let keyless = PagoPa::new(PagoPaConfig {
        subscription_key: String::new(),
        ..sandbox.client.config().clone()
    })
    .expect("client");

    let info = keyless.info().await;

    assert!(
        matches!(info, Err(PagoPaError::Rejected { status: 401, .. })),
        "{info:?}"
    );
}

#[tokio::test]
async fn the_emulator_says_it_is_the_emulator() {
    let sandbox = sandbox().await;

    let info = sandbox.client.info().await.expect("info");

    assert_eq!(info.environment, "emulator");
}

#[tokio::test]
async fn orders_the_services_would_refuse_are_refused_before_sending() {
    let sandbox = sandbox().await;
    let mut no_email = marca_order(b"doc");
    no_email.payer.email = None;
    let mut bad_hash = marca_order(b"doc");
    bad_hash.document_hash = "PHJvb3Q+PC9yb290Pg==========================".into();

    for order in [no_email, bad_hash] {
        let opened = sandbox.client.open_marca(CREDITOR, &order).await;
        assert!(
            matches!(opened, Err(PagoPaError::InvalidOrder(_))),
            "{opened:?}"
        );
    }
    assert!(sandbox.calls().is_empty());
}

#[tokio::test]
async fn the_emulator_refuses_an_unknown_creditor_with_a_problem() {
    let sandbox = sandbox().await;
    sandbox.emulator().restrict_creditors([CREDITOR]);

    let opened = sandbox
        .client
        .open_virtuale("99999999999", &virtuale_order("IUPD-OTHER", 50))
        .await;

    assert!(
        matches!(&opened, Err(PagoPaError::Rejected { status: 400, detail }) if detail.contains("creditor")),
        "{opened:?}"
    );
}

#[tokio::test]
async fn the_emulator_mounted_under_a_prefix_builds_its_urls_under_it() {
    let emulator = Emulator::new();
    let app = axum::Router::new().merge(emulator.router_at("/sandbox/pagopa"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let base = format!("http://{addr}/sandbox/pagopa");
    let client = PagoPa::new(PagoPaConfig::emulator(&base)).expect("client");
    let order = marca_order(b"documento");

    let opened = client.open_marca(CREDITOR, &order).await.expect("opened");
    let page = browser()
        .get(&opened.checkout_url)
        .send()
        .await
        .expect("page");

    assert!(
        opened
            .checkout_url
            .starts_with(&format!("{base}/checkout/")),
        "{}",
        opened.checkout_url
    );
    assert_eq!(page.status(), 200);
    let paid = press(&opened.checkout_url, "pay").await;
    assert_eq!(paid.status(), 303);
    let stamp = client.marca_receipt(CREDITOR, &opened.notice).await;
    assert!(matches!(stamp, Ok(Some(_))), "{stamp:?}");
    server.abort();
}
