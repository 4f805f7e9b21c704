//! Requests for certificates, from submission to release, with the stamp
//! duty paid through pagoPA first (DESIGN.md "Stamp duty, then issuance").
//!
//! ```text
//! requested ──prepare──▶ prepared ──open payment──▶ awaiting_payment ──receipt──▶ issued
//!     │                     │ (exempt)                     │
//!     ▼                     └──────────────▶ issued        ├──unpaid in time──▶ expired
//!  refused                                                 └──withdrawn───────▶ cancelled
//! ```
//!
//! [`Requests::advance`] takes a request as far as it can go now, one
//! persisted step at a time; every step is idempotent, so after a crash at
//! any point the same call — from the API, the checkout return, or the
//! reconciliation job ([`Requests::reconcile`]) — finishes the work:
//! - *prepare* takes a number and registers the pending certificate in the
//!   same transaction that moves the request (a second process loses the
//!   compare-and-set and re-reads);
//! - *open payment* is idempotent at pagoPA: a debt position's `iupd` is
//!   derived from the request, so creating it again answers 409 and the
//!   adapter compares; its notice number is derived from the certificate's
//!   number, so it is never reused;
//! - *confirm* asks pagoPA's receipt API — never the return URL's
//!   parameters — checks the receipt against the position (notice, creditor,
//!   debtor, amount, or the marca's digest), and issues the certificate and
//!   closes the request in one transaction; a second receipt finds the
//!   request issued and changes nothing;
//! - *expire*: an unpaid request past its deadline has its position
//!   invalidated first, then the receipt is asked once more (a payment made
//!   in between still issues), and only then is the certificate voided.
//!
//! A rejected receipt (unknown notice, wrong amount, creditor, debtor or
//! digest, negative outcome) leaves the certificate unissued and is logged
//! and audited, without personal data.

use std::time::Duration;

use seal::{CertificateKind, CodiceFiscale, ComuneCode, Stamp, Usage};
use time::OffsetDateTime;

use crate::catalogue::{CatalogueError, spec_of};
use crate::fees::{FeeSchedule, Quote};
use crate::register::{BolloPlan, Issuance, IssueError, Issuer, notice_for};
use pagopa::client::{CartOrder, Debtor, MarcaOrder, PagoPa, PagoPaError, VirtualeOrder};
use pagopa::receipt::{Expected, ReceiptRejected, check_marca, check_virtuale};
use store::model::{
    BolloMode, Channel, ComuneRecord, PaymentMode, PaymentRecord, RequestRecord, RequestState,
};
use store::{ApiKeyRole, AuditEntry, NewRequest, PaymentOpened, RequestTransition, StoreError};

/// How requests are handled in this deployment.
#[derive(Debug, Clone)]
pub struct RequestSettings {
    /// How long a payment stays open before the request expires.
    pub pay_within: Duration,
    /// This server's public base URL (`https://certificati.comune.example.it`),
    /// for the checkout's return address.
    pub public_base_url: String,
    /// The segregation code of Sigillo's pagoPA notices (each system of the
    /// comune that creates notices has its own).
    pub segregation_code: u8,
}

/// What a caller asks for.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The comune asked (the API key's).
    pub comune: ComuneCode,
    /// The kind.
    pub kind: CertificateKind,
    /// For a contestuale, the kinds it combines.
    pub parts: Vec<CertificateKind>,
    /// Whom the certificate is about.
    pub holder: CodiceFiscale,
    /// Who asks.
    pub requester: CodiceFiscale,
    /// The requester's e-mail, where pagoPA sends the receipt; required
    /// where the comune collects the bollo with the marca da bollo digitale.
    pub email: Option<String>,
    /// The declared use, parsed at the edge.
    pub usage: Usage,
    /// The calling key's role: decides the channel and who may ask.
    pub role: ApiKeyRole,
    /// The calling key's id, or the portal session's name.
    pub key_id: String,
    /// The portal form's random key: the same form sent twice makes one
    /// request ([`store::NewRequest::form_key`]).
    pub form_key: Option<String>,
}

/// Why a request could not be made or moved on.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// No such request in the comune.
    #[error("richiesta non trovata")]
    NotFound,
    /// The kind or the use is not valid.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// This kind is not requested through this flow.
    #[error("il certificato di destinazione urbanistica si richiede con una pratica, non qui")]
    KindNotRequestable,
    /// The comune's fee schedule does not accept this use for this kind.
    #[error("uso non ammesso dal comune: {0}")]
    UsageNotAccepted(String),
    /// The marca da bollo digitale needs the payer's e-mail.
    #[error("per la marca da bollo digitale occorre l'indirizzo e-mail di chi paga")]
    EmailRequired,
    /// The requester may not ask for this holder's certificate.
    #[error(
        "il richiedente può chiedere certificati solo per sé o per i componenti della propria famiglia anagrafica"
    )]
    NotAllowed,
    /// The issuing service failed (unknown person, keys, store).
    #[error(transparent)]
    Service(#[from] IssueError),
    /// pagoPA could not be reached or refused: the request stays where it
    /// was and is retried.
    #[error("il servizio pagoPA non è al momento raggiungibile: riprovare più tardi")]
    Payment(#[from] PagoPaError),
    /// The comune's fee schedule is not valid.
    #[error("tariffe del comune non valide: {0}")]
    Fees(String),
    /// The comune's payment set-up is incomplete.
    #[error("configurazione dei pagamenti incompleta: {0}")]
    Config(&'static str),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The PDF is asked for before the certificate is issued.
    #[error("il certificato non è ancora rilasciato (la richiesta è {})", .0.italian())]
    NotIssued(RequestState),
    /// The printed payment notice could not be made.
    #[error("l'avviso di pagamento non è stato generato: {0}")]
    Notice(#[from] render::notice::NoticeError),
    /// There is no notice to print: the request is not waiting for a bollo
    /// virtuale payment.
    #[error("la richiesta nello stato «{}» non ha un avviso da pagare", .0.italian())]
    NoNotice(RequestState),
    /// Only a request that is prepared or waiting for payment can be
    /// withdrawn.
    #[error("la richiesta nello stato «{}» non può essere annullata", .0.italian())]
    NotCancellable(RequestState),
}

/// Where [`Requests::checkout`] sends the payer.
#[derive(Debug, Clone)]
pub enum PayStep {
    /// To this checkout page.
    Checkout(String),
    /// Nowhere: the request is not waiting for payment (paid, expired,
    /// exempt, …); here it is.
    NotPayable(Box<RequestRecord>),
}

/// Whether `requester` may ask for a certificate of `kind` about
/// `subject` through `channel`: the holder and their registry family
/// always; at the counter, anyone for residenza and stato di famiglia
/// (DOMAIN.md §1).
pub fn requester_allowed(
    kind: CertificateKind,
    channel: Channel,
    subject: &crate::eligibility::Subject,
    requester: &CodiceFiscale,
) -> bool {
    let family_member = subject.person.fiscal_code == *requester
        || subject.family.as_ref().is_some_and(|family| {
            family
                .members
                .iter()
                .any(|member| member.fiscal_code == *requester)
        });
    let open_at_counter = matches!(
        kind,
        CertificateKind::Residenza | CertificateKind::StatoFamiglia
    );
    family_member || (channel == Channel::Counter && open_at_counter)
}

/// What the payer reads as the payment's subject, at the position and in
/// the checkout cart alike.
fn payment_description(number: seal::CertificateNumber) -> String {
    format!("Certificato n. {number} — imposta di bollo e diritti di segreteria")
}

/// What a reconciliation pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileSummary {
    /// Requests looked at.
    pub checked: usize,
    /// Requests that changed state.
    pub advanced: usize,
    /// Requests whose step failed (left for the next pass).
    pub failed: usize,
}

/// The request flow over an issuer and a pagoPA adapter.
#[derive(Debug)]
pub struct Requests {
    issuer: Issuer,
    pagopa: PagoPa,
    settings: RequestSettings,
}

/// How many steps one `advance` takes at most (requested → prepared →
/// awaiting → issued is three).
const MAX_STEPS: usize = 4;

impl Requests {
    /// The flow over `issuer` and `pagopa`.
    pub fn new(issuer: Issuer, pagopa: PagoPa, settings: RequestSettings) -> Self {
        Self {
            issuer,
            pagopa,
            settings,
        }
    }

    /// The issuer.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The settings the flow runs with.
    pub fn settings(&self) -> &RequestSettings {
        &self.settings
    }

    /// Checks and stores a request, then takes it as far as it goes now.
    /// An unknown holder or a requester who may not ask is an error and
    /// nothing is stored; a certificate the registry data do not allow is
    /// stored as `refused`, with the reason.
    #[tracing::instrument(skip_all, fields(comune = %submission.comune))]
    pub async fn submit(
        &self,
        submission: &Submission,
        now: OffsetDateTime,
    ) -> Result<RequestRecord, RequestError> {
        let spec = spec_of(submission.kind).ok_or_else(|| {
            CatalogueError::UnknownKind(submission.kind.code().to_string(), String::new())
        })?;
        if spec.kind == CertificateKind::DestinazioneUrbanistica {
            return Err(RequestError::KindNotRequestable);
        }
        let usage = &submission.usage;
        let comune = self.comune(submission.comune).await?;
        // An exemption the comune's schedule does not accept is refused
        // here, not charged as bollo.
        self.fees(submission.comune)
            .await?
            .check_usage(spec.kind, usage)
            .map_err(|error| RequestError::UsageNotAccepted(error.to_string()))?;
        if usage.stamp == Stamp::Bollo
            && !spec.stato_civile
            && comune.bollo_mode == BolloMode::MarcaDigitale
            && submission
                .email
                .as_deref()
                .is_none_or(|email| !email.contains('@'))
        {
            return Err(RequestError::EmailRequired);
        }
        let subject = self
            .issuer
            .subject(submission.comune, &submission.holder)
            .await?;
        let channel = match submission.role {
            ApiKeyRole::Sportello => Channel::Counter,
            ApiKeyRole::Portale => Channel::Online,
        };
        if !requester_allowed(submission.kind, channel, &subject, &submission.requester) {
            return Err(RequestError::NotAllowed);
        }
        let record = self
            .issuer
            .store()
            .insert_request(&NewRequest {
                comune: submission.comune,
                kind: submission.kind,
                parts: submission.parts.clone(),
                holder: submission.holder.clone(),
                requester: submission.requester.clone(),
                email: submission.email.clone(),
                usage: usage.clone(),
                channel,
                created_by: submission.key_id.clone(),
                form_key: submission.form_key.clone(),
                now,
            })
            .await?;
        tracing::info!(request = %record.id, kind = spec.slug, "request received");
        crash_point("request-stored");
        self.advance(submission.comune, &record.id, now).await
    }

    /// The comune's request `id`.
    pub async fn get(&self, comune: ComuneCode, id: &str) -> Result<RequestRecord, RequestError> {
        self.issuer
            .store()
            .request(comune, id)
            .await?
            .ok_or(RequestError::NotFound)
    }

    /// Takes the request as far as it can go now: prepares it, opens its
    /// payment, asks for its receipt, expires it when unpaid past its
    /// deadline. Safe to call any number of times, from anywhere.
    #[tracing::instrument(skip_all, fields(comune = %comune, request = id))]
    pub async fn advance(
        &self,
        comune: ComuneCode,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<RequestRecord, RequestError> {
        for _ in 0..MAX_STEPS {
            let record = self.get(comune, id).await?;
            let moved = match record.state {
                RequestState::Requested => self.prepare(&record, now).await?,
                RequestState::Prepared => self.open_payment(&record, now).await?,
                RequestState::AwaitingPayment => self.confirm(&record, now).await?,
                _ => false,
            };
            if !moved {
                return Ok(record);
            }
        }
        self.get(comune, id).await
    }

    /// Withdraws a request that is prepared or waiting for payment: the
    /// position is invalidated, the receipt asked once more (a payment
    /// already made still issues the certificate), then the certificate is
    /// voided.
    pub async fn cancel(
        &self,
        comune: ComuneCode,
        id: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<RequestRecord, RequestError> {
        let record = self.get(comune, id).await?;
        match record.state {
            RequestState::Prepared => {}
            RequestState::AwaitingPayment => {
                if self.close_payment(&record, now).await? {
                    return self.get(comune, id).await;
                }
            }
            state => return Err(RequestError::NotCancellable(state)),
        }
        self.issuer
            .store()
            .finish_request(comune, id, &RequestTransition::Cancelled, actor, now)
            .await?;
        self.get(comune, id).await
    }

    /// The issued certificate's PDF, for `actor` (an API key, a session),
    /// with the download written to the audit log. A read: nothing is
    /// prepared, signed or opened here. A request waiting for payment has
    /// its receipt asked for once, so a payment made moments ago is found;
    /// nothing else is called, and an unpaid request is left as it was.
    #[tracing::instrument(skip_all, fields(comune = %comune, request = id))]
    pub async fn download(
        &self,
        comune: ComuneCode,
        id: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, RequestError> {
        let mut record = self.get(comune, id).await?;
        if record.state == RequestState::AwaitingPayment && self.settle(&record, now).await? {
            record = self.get(comune, id).await?;
        }
        let certificate = match (&record.state, &record.certificate_id) {
            (RequestState::Issued, Some(certificate)) => certificate,
            (state, _) => return Err(RequestError::NotIssued(*state)),
        };
        let store = self.issuer.store();
        let pdf = store.certificate_pdf(comune, certificate).await?;
        store
            .audit(
                comune,
                &AuditEntry {
                    at: now,
                    event: "certificate.downloaded",
                    subject: id,
                    actor,
                    detail: "",
                },
            )
            .await?;
        Ok(pdf)
    }

    /// Where to send the payer of request `id` now: for a bollo virtuale
    /// waiting for payment, the pagoPA Checkout page of a cart holding its
    /// notice; for a marca da bollo digitale, the MBD service's checkout.
    /// Asked again (a reload, a second click), the answer is the same
    /// notice: a request has one payment, never a second. A request that
    /// is not waiting for payment is answered as it is, to show.
    #[tracing::instrument(skip_all, fields(comune = %comune, request = id))]
    pub async fn checkout(&self, comune: ComuneCode, id: &str) -> Result<PayStep, RequestError> {
        let record = self.get(comune, id).await?;
        let payment = match (&record.state, &record.payment) {
            (RequestState::AwaitingPayment, Some(payment)) => payment.clone(),
            _ => return Ok(PayStep::NotPayable(Box::new(record))),
        };
        if payment.mode == PaymentMode::Marca {
            return Ok(PayStep::Checkout(payment.checkout_url));
        }
        let comune_record = self.comune(comune).await?;
        let certificate = self.certificate(&record).await?;
        let order = CartOrder {
            notice: payment.notice_number,
            creditor_fiscal_code: comune_record.creditor_fiscal_code.clone(),
            amount_cents: payment.amount_cents,
            company_name: format!("Comune di {}", comune_record.name),
            description: payment_description(certificate.number),
            return_url: format!(
                "{}/pagamenti/{}/{}",
                self.settings.public_base_url.trim_end_matches('/'),
                comune,
                record.id
            ),
            email: record.email.clone(),
        };
        let url = self.pagopa.checkout_cart(&order).await?;
        tracing::info!("payer sent to pagoPA Checkout");
        Ok(PayStep::Checkout(url))
    }

    /// The printed pagoPA notice of request `id`, waiting for a bollo
    /// virtuale payment: the same notice as the checkout's, for paying at
    /// any pagoPA channel (a marca da bollo digitale is bought online for
    /// the document's digest, so it has none).
    pub async fn payment_notice_pdf(
        &self,
        comune: ComuneCode,
        id: &str,
    ) -> Result<Vec<u8>, RequestError> {
        let record = self.get(comune, id).await?;
        let payment = match (&record.state, &record.payment) {
            (RequestState::AwaitingPayment, Some(payment))
                if payment.mode == PaymentMode::Virtuale =>
            {
                payment
            }
            (state, _) => return Err(RequestError::NoNotice(*state)),
        };
        let comune_record = self.comune(comune).await?;
        let certificate = self.certificate(&record).await?;
        let page = render::notice::NoticePage {
            creditor_name: format!("Comune di {}", comune_record.name),
            creditor_fiscal_code: comune_record.creditor_fiscal_code.clone(),
            description: payment_description(certificate.number),
            amount_cents: payment.amount_cents,
            notice: payment.notice_number,
            due: seal::rome::date_time_text(payment.pay_by),
            debtor: None,
            demo: comune_record.demo,
            created_at: OffsetDateTime::now_utc(),
        };
        Ok(render::notice::render_notice(&page)?)
    }

    /// Advances every request not at the end of its life: at start-up and
    /// periodically, so crashes, lost return calls and pagoPA outages heal.
    pub async fn reconcile(&self, now: OffsetDateTime) -> ReconcileSummary {
        let mut summary = ReconcileSummary::default();
        let open = match self.issuer.store().open_requests(10_000).await {
            Ok(open) => open,
            Err(error) => {
                tracing::error!(%error, "reconciliation could not list open requests");
                summary.failed += 1;
                return summary;
            }
        };
        for record in open {
            summary.checked += 1;
            match self.advance(record.comune, &record.id, now).await {
                Ok(after) if after.state != record.state => summary.advanced += 1,
                Ok(_) => {}
                Err(error) => {
                    summary.failed += 1;
                    tracing::warn!(request = %record.id, %error, "reconciliation step failed");
                }
            }
        }
        summary
    }

    /// The fees of a request of `kind` with `usage` on `channel`.
    pub async fn quote(
        &self,
        comune: ComuneCode,
        kind: CertificateKind,
        usage: &seal::Usage,
        channel: Channel,
    ) -> Result<Quote, RequestError> {
        Ok(self.fees(comune).await?.quote(kind, usage, channel, 0))
    }

    async fn fees(&self, comune: ComuneCode) -> Result<FeeSchedule, RequestError> {
        let record = self.comune(comune).await?;
        self.issuer
            .fee_schedule(&record)
            .await
            .map_err(|error| match error {
                IssueError::Fees(error) => RequestError::Fees(error.to_string()),
                other => RequestError::Service(other),
            })
    }

    /// requested → prepared (or issued, exempt) or refused.
    async fn prepare(
        &self,
        record: &RequestRecord,
        now: OffsetDateTime,
    ) -> Result<bool, RequestError> {
        let comune = self.comune(record.comune).await?;
        let spec = spec_of(record.kind).ok_or_else(|| {
            CatalogueError::UnknownKind(record.kind.code().to_string(), String::new())
        })?;
        let usage = &record.usage;
        let plan = match (&usage.stamp, spec.stato_civile, &comune.bollo_mode) {
            (Stamp::Bollo, false, BolloMode::Virtuale { .. }) => BolloPlan::Virtuale {
                segregation_code: self.settings.segregation_code,
            },
            (Stamp::Bollo, false, BolloMode::MarcaDigitale) => BolloPlan::Marca,
            _ => BolloPlan::None,
        };
        let request = Issuance {
            comune: record.comune,
            spec,
            fiscal_code: record.holder.clone(),
            parts: record.parts.clone(),
            parcels: Vec::new(),
            usage: usage.clone(),
            issued_by: record.created_by.clone(),
            now,
        };
        match self
            .issuer
            .prepare_for_request(&request, &record.id, plan)
            .await
        {
            Ok(_) => {
                crash_point("certificate-prepared");
                Ok(true)
            }
            Err(IssueError::Refused(refusal)) => {
                self.issuer
                    .store()
                    .refuse_request(
                        record.comune,
                        &record.id,
                        &refusal.to_string(),
                        "eligibility",
                        now,
                    )
                    .await?;
                Ok(true)
            }
            // Another process prepared it first: read it again.
            Err(IssueError::Registry(_)) => Ok(true),
            Err(error) => Err(error.into()),
        }
    }

    /// prepared → awaiting_payment, or issued at once if nothing is due.
    async fn open_payment(
        &self,
        record: &RequestRecord,
        now: OffsetDateTime,
    ) -> Result<bool, RequestError> {
        let comune = self.comune(record.comune).await?;
        let certificate = self.certificate(record).await?;
        let usage = &certificate.usage;
        let quote = self
            .fees(record.comune)
            .await?
            .quote(record.kind, usage, record.channel, 0);
        let debtor = self.debtor(record).await?;
        let pay_by = now + self.settings.pay_within;
        let return_url = format!(
            "{}/pagamenti/{}/{}",
            self.settings.public_base_url.trim_end_matches('/'),
            record.comune,
            record.id
        );
        let description = payment_description(certificate.number);
        let opened = match comune.bollo_mode {
            BolloMode::Virtuale { .. } => {
                let notice = notice_for(self.settings.segregation_code, certificate.number)
                    .map_err(IssueError::from)?;
                let iupd = iupd_of(record);
                let iban = self
                    .issuer
                    .store()
                    .comune_iban(record.comune)
                    .await?
                    .ok_or(RequestError::Config(
                        "l'IBAN di tesoreria del comune non è configurato",
                    ))?;
                // The payer goes to Sigillo's own address, which puts the
                // notice in a pagoPA Checkout cart when followed
                // ([`Requests::checkout`]): a cart's page is made per visit.
                let pay_url = format!("{return_url}/paga");
                let order = VirtualeOrder {
                    company_name: format!("Comune di {}", comune.name),
                    iban,
                    iupd: iupd.clone(),
                    notice,
                    amount_cents: quote.total_cents(),
                    debtor,
                    description,
                    due: pay_by,
                    return_url,
                };
                let opened = self
                    .pagopa
                    .open_virtuale(&comune.creditor_fiscal_code, &order)
                    .await?;
                PaymentOpened {
                    mode: PaymentMode::Virtuale,
                    amount_cents: order.amount_cents,
                    iupd: Some(iupd),
                    notice_number: opened.notice,
                    checkout_url: pay_url,
                    pay_by,
                }
            }
            BolloMode::MarcaDigitale => {
                // The marca pays the stamp only; diritti, where charged,
                // are not collected through it.
                let order = MarcaOrder {
                    payer: debtor,
                    amount_cents: quote.bollo_cents,
                    province: comune.province.clone(),
                    document_hash: certificate.pdf_sha256.to_base64(),
                    return_url,
                };
                let opened = self
                    .pagopa
                    .open_marca(&comune.creditor_fiscal_code, &order)
                    .await?;
                PaymentOpened {
                    mode: PaymentMode::Marca,
                    amount_cents: order.amount_cents,
                    iupd: None,
                    notice_number: opened.notice,
                    checkout_url: opened.checkout_url,
                    pay_by,
                }
            }
        };
        crash_point("payment-opened");
        self.issuer
            .store()
            .record_payment_opened(record.comune, &record.id, &opened, now)
            .await?;
        crash_point("payment-recorded");
        Ok(true)
    }

    /// awaiting_payment → issued on a matching receipt, → expired when
    /// unpaid past the deadline; otherwise stays.
    async fn confirm(
        &self,
        record: &RequestRecord,
        now: OffsetDateTime,
    ) -> Result<bool, RequestError> {
        if self.settle(record, now).await? {
            return Ok(true);
        }
        let Some(payment) = &record.payment else {
            return Ok(false);
        };
        if now <= payment.pay_by {
            return Ok(false);
        }
        if self.close_payment(record, now).await? {
            return Ok(true);
        }
        self.issuer
            .store()
            .finish_request(
                record.comune,
                &record.id,
                &RequestTransition::Expired,
                "reconciliation",
                now,
            )
            .await?;
        Ok(true)
    }

    /// Closes the payment at pagoPA so it can no longer be paid, then asks
    /// for the receipt once more: `true` if it had been paid (and the
    /// certificate is now issued).
    async fn close_payment(
        &self,
        record: &RequestRecord,
        now: OffsetDateTime,
    ) -> Result<bool, RequestError> {
        if let Some(PaymentRecord {
            iupd: Some(iupd), ..
        }) = &record.payment
        {
            let comune = self.comune(record.comune).await?;
            match self
                .pagopa
                .invalidate(&comune.creditor_fiscal_code, iupd)
                .await
            {
                // Paid meanwhile: the receipt below issues it.
                Ok(()) | Err(PagoPaError::AlreadyPaid) => {}
                Err(error) => return Err(error.into()),
            }
        }
        self.settle(record, now).await
    }

    /// Asks pagoPA for the receipt; on one that matches, issues the
    /// certificate. `true` if the request is now issued.
    async fn settle(
        &self,
        record: &RequestRecord,
        now: OffsetDateTime,
    ) -> Result<bool, RequestError> {
        let Some(payment) = &record.payment else {
            return Ok(false);
        };
        let comune = self.comune(record.comune).await?;
        let certificate = self.certificate(record).await?;
        let notice = payment.notice_number;
        let creditor = &comune.creditor_fiscal_code;
        let (checked, transition) = match payment.mode {
            PaymentMode::Virtuale => {
                let Some(receipt) = self.pagopa.virtuale_receipt(creditor, &notice).await? else {
                    return Ok(false);
                };
                let expected = Expected {
                    notice,
                    creditor_fiscal_code: creditor.clone(),
                    debtor_fiscal_code: Some(record.holder.clone()),
                    amount_cents: payment.amount_cents,
                    document_hash: None,
                };
                let checked = check_virtuale(&expected, &receipt);
                let resealed = if checked.is_ok() {
                    self.reseal(record, &certificate, &notice, now).await
                } else {
                    None
                };
                (
                    checked,
                    RequestTransition::Paid {
                        receipt_id: receipt.receipt_id.clone(),
                        iubd: None,
                        paid_at: receipt.paid_at,
                        resealed,
                    },
                )
            }
            PaymentMode::Marca => {
                let Some(receipt) = self.pagopa.marca_receipt(creditor, &notice).await? else {
                    return Ok(false);
                };
                let expected = Expected {
                    notice,
                    creditor_fiscal_code: creditor.clone(),
                    debtor_fiscal_code: None,
                    amount_cents: payment.amount_cents,
                    document_hash: Some(certificate.pdf_sha256),
                };
                (
                    check_marca(&expected, &receipt),
                    RequestTransition::Paid {
                        receipt_id: receipt.iubd.clone(),
                        iubd: Some(receipt.iubd.clone()),
                        paid_at: receipt.purchased_at,
                        // The marca was bought for these very bytes: the
                        // document stays as it was when it became final.
                        resealed: None,
                    },
                )
            }
        };
        if let Err(rejected) = checked {
            self.reject(record, &rejected, now).await?;
            return Ok(false);
        }
        crash_point("receipt-checked");
        let issued = self
            .issuer
            .store()
            .finish_request(record.comune, &record.id, &transition, "pagopa", now)
            .await?;
        crash_point("certificate-issued");
        if issued {
            tracing::info!(request = %record.id, number = %certificate.number, "paid: certificate issued");
        }
        Ok(issued)
    }

    /// The certificate of a paid bollo virtuale request made again at its
    /// release (see [`Issuer::reseal`]). If that fails — the registry's
    /// data no longer allow it, the keys are unavailable — the certificate
    /// prepared at the request is released as it is: the payment is made,
    /// and what it states was true at its date. Logged, without personal
    /// data.
    async fn reseal(
        &self,
        record: &RequestRecord,
        certificate: &store::model::CertificateRecord,
        notice: &pagopa::notice::NoticeNumber,
        now: OffsetDateTime,
    ) -> Option<store::Resealed> {
        let spec = spec_of(record.kind)?;
        let issuance = Issuance {
            comune: record.comune,
            spec,
            fiscal_code: record.holder.clone(),
            parts: record.parts.clone(),
            parcels: Vec::new(),
            usage: record.usage.clone(),
            issued_by: record.created_by.clone(),
            now,
        };
        match self
            .issuer
            .reseal(
                &issuance,
                certificate,
                seal::BolloRef::Iuv(notice.iuv().to_owned()),
                record.channel,
            )
            .await
        {
            Ok(resealed) => Some(resealed),
            Err(error) => {
                tracing::warn!(request = %record.id, %error, "release: the certificate prepared at the request is issued as it is");
                None
            }
        }
    }

    async fn reject(
        &self,
        record: &RequestRecord,
        rejected: &ReceiptRejected,
        now: OffsetDateTime,
    ) -> Result<(), RequestError> {
        tracing::warn!(request = %record.id, reason = rejected.code(), "receipt rejected: certificate stays unissued");
        let detail = format!("reason={}", rejected.code());
        self.issuer
            .store()
            .audit(
                record.comune,
                &AuditEntry {
                    at: now,
                    event: "receipt.rejected",
                    subject: &record.id,
                    actor: "pagopa",
                    detail: &detail,
                },
            )
            .await?;
        Ok(())
    }

    async fn comune(&self, code: ComuneCode) -> Result<ComuneRecord, RequestError> {
        Ok(self
            .issuer
            .store()
            .comune(code)
            .await?
            .ok_or(StoreError::UnknownComune(code))?)
    }

    async fn certificate(
        &self,
        record: &RequestRecord,
    ) -> Result<store::model::CertificateRecord, RequestError> {
        let id = record
            .certificate_id
            .as_deref()
            .ok_or(StoreError::Corrupt {
                table: "requests",
                column: "certificate_id",
            })?;
        Ok(self
            .issuer
            .store()
            .certificate(record.comune, id)
            .await?
            .ok_or(StoreError::CertificateNotFound)?)
    }

    /// The position's debtor: the certificate's holder, who owes the duty
    /// (anyone may pay it).
    async fn debtor(&self, record: &RequestRecord) -> Result<Debtor, RequestError> {
        let person = self
            .issuer
            .store()
            .person_by_fiscal_code(record.comune, &record.holder)
            .await?
            .ok_or(IssueError::UnknownPerson)?;
        Ok(Debtor {
            fiscal_code: record.holder.clone(),
            full_name: format!("{} {}", person.given_names, person.surname),
            email: record.email.clone(),
        })
    }
}

/// The environment variable that names a crash point, for the
/// crash-safety tests: see [`crash_point`].
pub const CRASH_POINT_VARIABLE: &str = "SIGILLO_CRASH_POINT";

/// A place where the crash-safety tests stop the process. Inert unless
/// [`CRASH_POINT_VARIABLE`] names this point: then the process says so on
/// standard error and stops working (it never returns), for the test to
/// kill it with SIGKILL right there — between two steps that a real crash
/// could separate.
pub(crate) fn crash_point(name: &str) {
    static WANTED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let wanted = WANTED.get_or_init(|| std::env::var(CRASH_POINT_VARIABLE).ok());
    if wanted.as_deref() == Some(name) {
        eprintln!("crash point reached: {name}");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}

/// The debt position's id: derived from the request, so creating it again
/// after a crash is recognised by pagoPA as the same position.
fn iupd_of(record: &RequestRecord) -> String {
    format!("SIGILLO-{}-{}", record.comune, record.id)
}
