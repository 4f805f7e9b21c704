//! The JSON shapes of the pagoPA APIs, named as the published OpenAPI
//! documents name them: the debt positions of GPD (`gpd.json`) and the
//! marca da bollo digitale service (`mbd-service-openapi.json`). The
//! client writes requests and reads answers with them; the emulator reads
//! the requests and writes the answers, so both speak the same shapes, and
//! the tests check the requests against the published schemas.

use serde::{Deserialize, Serialize};

/// `PaymentPositionModel`: a debt position, as created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PaymentPosition {
    pub(crate) iupd: String,
    /// `F` (natural person) or `G` (legal person).
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) fiscal_code: String,
    pub(crate) full_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    pub(crate) switch_to_expired: bool,
    pub(crate) company_name: String,
    #[serde(default)]
    pub(crate) payment_option: Vec<PaymentOption>,
}

/// `PaymentOptionModel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PaymentOption {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nav: Option<String>,
    pub(crate) iuv: String,
    pub(crate) amount: i64,
    pub(crate) description: String,
    pub(crate) is_partial_payment: bool,
    pub(crate) due_date: String,
    #[serde(default)]
    pub(crate) transfer: Vec<Transfer>,
}

/// `TransferModel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Transfer {
    pub(crate) id_transfer: String,
    pub(crate) amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) organization_fiscal_code: Option<String>,
    pub(crate) remittance_information: String,
    pub(crate) category: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) iban: Option<String>,
}

/// `PaymentPositionModelBaseResponse`: a debt position as read back. The
/// published schema has no debtor; `fiscalCode` is read when the service
/// adds it (the emulator does), and compared only then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PositionResponse {
    pub(crate) iupd: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) organization_fiscal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) company_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fiscal_code: Option<String>,
    #[serde(default)]
    pub(crate) payment_option: Vec<OptionResponse>,
}

/// `PaymentOptionModelResponse`, the fields compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OptionResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nav: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) iuv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) due_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
}

/// `GetMbdRequest`: ask for a marca da bollo digitale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MbdRequest {
    pub(crate) payment_notices: Vec<MbdNotice>,
    #[serde(rename = "idCIService")]
    pub(crate) id_ci_service: String,
    pub(crate) return_urls: ReturnUrls,
}

/// `PaymentNotice` of the MBD service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MbdNotice {
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) fiscal_code: String,
    pub(crate) email: String,
    pub(crate) amount: i64,
    pub(crate) province: String,
    pub(crate) document_hash: String,
}

/// `ReturnUrls` of the MBD service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReturnUrls {
    pub(crate) success_url: String,
    pub(crate) cancel_url: String,
    pub(crate) error_url: String,
}

/// `GetCartResponse`: where to send the payer, and the notice number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CartResponse {
    pub(crate) checkout_redirect_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) mbd_download_link: Option<String>,
    pub(crate) nav: String,
}

/// `GetMdbReceipt`: the Agenzia delle Entrate stamp, base64. The service
/// (Java `byte[]`) sends one base64 string; the published schema says an
/// array of them, which is read too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MbdReceipt {
    pub(crate) content: MbdContent,
}

/// The `content` of [`MbdReceipt`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum MbdContent {
    /// One base64 string.
    One(String),
    /// Base64 strings to join.
    Many(Vec<String>),
}

/// `ProblemJson`: the error body of every pagoPA API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Problem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
}

/// `CartRequest` of pagoPA Checkout's carts API (`checkout_v1.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CartRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email_notice: Option<String>,
    pub(crate) payment_notices: Vec<CartNotice>,
    pub(crate) return_urls: CartReturnUrls,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id_cart: Option<String>,
}

/// `PaymentNotice` of the carts API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CartNotice {
    pub(crate) notice_number: String,
    pub(crate) fiscal_code: String,
    pub(crate) amount: i64,
    pub(crate) company_name: String,
    pub(crate) description: String,
}

/// The carts API's `returnUrls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CartReturnUrls {
    pub(crate) return_ok_url: String,
    pub(crate) return_cancel_url: String,
    pub(crate) return_error_url: String,
}
