//! Shared set-up of the payments tests: an emulator on 127.0.0.1, port 0,
//! a client pointed at it, and orders to send.
#![allow(dead_code, reason = "each test file uses only some of these helpers")]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use pagopa::client::{Debtor, MarcaOrder, PagoPa, PagoPaConfig, VirtualeOrder};
use pagopa::emulator::{self, Emulator, EmulatorHandle, SeenRequest};
use pagopa::notice::NoticeNumber;
use pagopa::receipt::Expected;
use seal::CodiceFiscale;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

/// The comune's fiscal code as creditor.
pub(crate) const CREDITOR: &str = "01234567891";
/// Where the checkout sends the payer back.
pub(crate) const RETURN_URL: &str = "https://certificati.example.it/richieste/42/pagamento";

/// An emulator and a client of it.
pub(crate) struct Sandbox {
    /// The running emulator (stopped when dropped).
    pub(crate) handle: EmulatorHandle,
    /// A client pointed at it.
    pub(crate) client: PagoPa,
}

impl Sandbox {
    /// The emulator.
    pub(crate) fn emulator(&self) -> &Emulator {
        self.handle.emulator()
    }

    /// The API requests the emulator saw, as `METHOD path`.
    pub(crate) fn calls(&self) -> Vec<String> {
        self.emulator()
            .requests_seen()
            .iter()
            .map(|seen: &SeenRequest| format!("{} {}", seen.method, seen.path))
            .collect()
    }
}

/// A sandbox whose client waits 2 s per attempt and retries twice.
pub(crate) async fn sandbox() -> Sandbox {
    sandbox_with(Duration::from_secs(2), 2).await
}

/// A sandbox with this client timeout and number of retries.
pub(crate) async fn sandbox_with(timeout: Duration, max_retries: u32) -> Sandbox {
    let (_, handle) = emulator::spawn("127.0.0.1:0").await.expect("emulator");
    let config = PagoPaConfig {
        timeout,
        max_retries,
        ..PagoPaConfig::emulator(&handle.base_url())
    };
    let client = PagoPa::new(config).expect("client");
    Sandbox { handle, client }
}

/// The debtor of the orders.
pub(crate) fn debtor() -> Debtor {
    Debtor {
        fiscal_code: CodiceFiscale::parse("RSSMRA85T10A562S").expect("valid"),
        full_name: "Mario Rossi".into(),
        email: Some("mario.rossi@example.org".into()),
    }
}

/// A bollo virtuale order of €16.52 with IUV base `base`.
pub(crate) fn virtuale_order(iupd: &str, base: u64) -> VirtualeOrder {
    VirtualeOrder {
        iupd: iupd.into(),
        notice: NoticeNumber::new(1, base).expect("notice"),
        amount_cents: 1652,
        debtor: debtor(),
        description: "Certificato di residenza n. 2026/000042".into(),
        due: OffsetDateTime::now_utc() + time::Duration::days(30),
        return_url: RETURN_URL.into(),
        company_name: "Comune di Borgo Sigillo".into(),
        iban: "IT60X0542811101000000123456".into(),
    }
}

/// What the receipt of `order` must say.
pub(crate) fn expected_virtuale(order: &VirtualeOrder) -> Expected {
    Expected {
        notice: order.notice,
        creditor_fiscal_code: CREDITOR.into(),
        debtor_fiscal_code: Some(order.debtor.fiscal_code.clone()),
        amount_cents: order.amount_cents,
        document_hash: None,
    }
}

/// Base64 of the SHA-256 of `document`.
pub(crate) fn document_hash(document: &[u8]) -> String {
    BASE64.encode(Sha256::digest(document))
}

/// A marca da bollo order of €16.00 for `document`.
pub(crate) fn marca_order(document: &[u8]) -> MarcaOrder {
    MarcaOrder {
        payer: debtor(),
        amount_cents: 1600,
        province: "RM".into(),
        document_hash: document_hash(document),
        return_url: RETURN_URL.into(),
    }
}

/// What the stamp of `order`, opened as `notice`, must say.
pub(crate) fn expected_marca(order: &MarcaOrder, notice: NoticeNumber) -> Expected {
    Expected {
        notice,
        creditor_fiscal_code: CREDITOR.into(),
        debtor_fiscal_code: None,
        amount_cents: order.amount_cents,
        document_hash: Some(
            seal::digest::DocumentDigest::parse_base64(&order.document_hash).expect("a digest"),
        ),
    }
}

/// The Checkout cart of `order`'s notice.
pub(crate) fn cart_order(order: &VirtualeOrder) -> pagopa::client::CartOrder {
    pagopa::client::CartOrder {
        notice: order.notice,
        creditor_fiscal_code: CREDITOR.into(),
        amount_cents: order.amount_cents,
        company_name: order.company_name.clone(),
        description: order.description.clone(),
        return_url: RETURN_URL.into(),
        email: Some("mario.rossi@example.org".into()),
    }
}

/// A browser that does not follow redirects, to see where they lead.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser")
}

/// Presses a button of the checkout page (`pay` or `cancel`) and returns
/// the page's answer.
pub(crate) async fn press(checkout_url: &str, button: &str) -> reqwest::Response {
    let page = reqwest::Url::parse(checkout_url).expect("checkout URL");
    let return_url: Option<String> = page
        .query_pairs()
        .find(|(key, _)| key == "returnUrl")
        .map(|(_, value)| value.into_owned());
    let mut action = page.clone();
    action.set_query(None);
    action.path_segments_mut().expect("base").push(button);
    let form: Vec<(&str, String)> = return_url
        .map(|url| ("returnUrl", url))
        .into_iter()
        .collect();
    browser()
        .post(action)
        .form(&form)
        .send()
        .await
        .expect("checkout answers")
}
