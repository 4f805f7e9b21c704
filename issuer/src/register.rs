//! Issuing a certificate from the registry: read the person or the parcels,
//! check eligibility, then take the next number and prepare, seal, sign and
//! store the certificate in one registry transaction.

use keys::{KeyError, KeyStore, TrustStore};
use seal::{
    BolloRef, CertificateKind, CertificateNumber, CodiceFiscale, ComuneCode, Holder,
    SealSigner as _, Stamp, Usage,
};
use time::OffsetDateTime;

use crate::catalogue::KindSpec;
use crate::eligibility::{self, Refusal, Subject};
use crate::fees::FeeSchedule;
use crate::prepare::{About, Draft, PrepareError, prepare};
use crate::templates::Templates;
use pagopa::notice::NoticeNumber;
use seal::rome;
use store::model::{CertificateRecord, CertificateStatus, Channel, ComuneRecord, Parcel};
use store::{NewCertificate, RegisterError, Store, StoreError};

/// Issues certificates of the comuni whose keys it holds.
#[derive(Debug)]
pub struct Issuer {
    store: Store,
    keys: KeyStore,
    templates: Templates,
}

/// What a certificate is asked for.
#[derive(Debug, Clone)]
pub struct Issuance {
    /// The issuing comune.
    pub comune: ComuneCode,
    /// The kind.
    pub spec: &'static KindSpec,
    /// The person the certificate is about (the applicant, for a CDU).
    pub fiscal_code: CodiceFiscale,
    /// For a contestuale, the kinds it combines.
    pub parts: Vec<CertificateKind>,
    /// For a CDU, the parcels: (foglio, particella, subalterno).
    pub parcels: Vec<(String, String, Option<String>)>,
    /// The declared use.
    pub usage: Usage,
    /// Who issues it: a staff user, an API key's name, `cli`.
    pub issued_by: String,
    /// The issue time.
    pub now: OffsetDateTime,
}

/// A certificate issued and stored.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Its registry row.
    pub record: CertificateRecord,
    /// The signed PDF.
    pub pdf: Vec<u8>,
    /// The URL its QR code opens.
    pub verification_url: String,
}

/// Why a certificate was not issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The comune is not configured here.
    #[error("il comune {0} non è configurato")]
    UnknownComune(ComuneCode),
    /// Nobody with this fiscal code is in the comune's registry.
    #[error("nessuna persona con questo codice fiscale nell'anagrafe del comune")]
    UnknownPerson,
    /// A parcel named is not in the comune's cadastre.
    #[error("particella non trovata: foglio {0}, particella {1}")]
    UnknownParcel(String, String),
    /// The registry data do not allow the certificate.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Preparing the certificate failed.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// The comune's keys could not be used.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The registry refused what was prepared.
    #[error("il registro ha rifiutato il certificato: {0}")]
    Registry(&'static str),
    /// The paper marca's identifier is not 14 digits.
    #[error("il numero identificativo della marca da bollo è di 14 cifre")]
    MarcaId,
    /// The paper marca paid another certificate of the comune already.
    #[error("la marca da bollo n. {0} è già stata usata per un altro certificato del Comune")]
    MarcaUsed(String),
    /// The comune's fee schedule does not read.
    #[error("tariffe del comune non valide: {0}")]
    Fees(crate::fees::FeesError),
}

impl Issuer {
    /// An issuer over a store, the key store and the templates.
    pub fn new(store: Store, keys: KeyStore, templates: Templates) -> Self {
        Self {
            store,
            keys,
            templates,
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The trust list of every comune's keys here.
    pub fn trust(&self) -> Result<TrustStore, KeyError> {
        self.keys.trust_store()
    }

    /// Issues a certificate at once: exempt ones only. One in bollo is
    /// refused here ([`PrepareError::BolloNotPaid`]): its stamp duty must be
    /// paid first, through a request ([`crate::requests`]).
    #[tracing::instrument(skip_all, fields(comune = %issuance.comune, kind = issuance.spec.slug))]
    pub async fn issue(&self, issuance: &Issuance) -> Result<Issued, IssueError> {
        self.register(issuance, None, BolloPlan::None, None).await
    }

    /// Issues a certificate at the counter, at once: exempt, or in bollo
    /// paid with a marca da bollo on paper (`BolloPlan::Paper`), whose
    /// identifier is printed and sealed and may pay only one certificate
    /// of the comune ([`IssueError::MarcaUsed`], also when two counters
    /// try it at the same moment). `origin` is the staff member's address,
    /// for the audit entry.
    #[tracing::instrument(skip_all, fields(comune = %issuance.comune, kind = issuance.spec.slug))]
    pub async fn issue_at_counter(
        &self,
        issuance: &Issuance,
        bollo: BolloPlan,
        origin: Option<String>,
    ) -> Result<Issued, IssueError> {
        match &bollo {
            BolloPlan::None => {}
            BolloPlan::Paper { id, .. } if BolloRef::is_marca_id(id) => {}
            BolloPlan::Paper { .. } => return Err(IssueError::MarcaId),
            BolloPlan::Virtuale { .. } | BolloPlan::Marca => {
                return Err(IssueError::Registry(
                    "allo sportello si rilascia subito solo un certificato esente o con la marca da bollo",
                ));
            }
        }
        self.register(issuance, None, bollo, origin).await
    }

    /// Prepares the certificate of the request `request_id` and links the
    /// two in one transaction: an exempt certificate is registered as
    /// issued (and the request with it); one in bollo is registered as
    /// pending with the payment reference `bollo` prints — the IUV of the
    /// notice derived from its number, or the marca's wording — and the
    /// request as prepared.
    #[tracing::instrument(skip_all, fields(comune = %issuance.comune, kind = issuance.spec.slug))]
    pub async fn prepare_for_request(
        &self,
        issuance: &Issuance,
        request_id: &str,
        bollo: BolloPlan,
    ) -> Result<Issued, IssueError> {
        self.register(issuance, Some(request_id), bollo, None).await
    }

    /// Makes a pending anagrafe certificate again at its release, at
    /// `issuance.now`: the same number, status index and stamp (`bollo`),
    /// the registry's data of now, the release date printed and sealed and
    /// its validity counted from it (DPR 445/2000 art. 41: «dalla data di
    /// rilascio»). Nothing is stored: the caller replaces the prepared
    /// certificate in the transaction that issues it.
    pub async fn reseal(
        &self,
        issuance: &Issuance,
        certificate: &CertificateRecord,
        bollo: BolloRef,
        channel: Channel,
    ) -> Result<store::Resealed, IssueError> {
        let comune = self
            .store
            .comune(issuance.comune)
            .await?
            .ok_or(IssueError::UnknownComune(issuance.comune))?;
        let subject = self.subject(issuance.comune, &issuance.fiscal_code).await?;
        let signer = self.keys.signer(issuance.comune)?;
        let trust = self.keys.trust_store()?;
        let diritti = self.fee_schedule(&comune).await?.quote(
            issuance.spec.kind,
            &issuance.usage,
            channel,
            0,
        );
        let draft = Draft {
            comune: &comune,
            spec: issuance.spec,
            about: About::Person {
                subject: &subject,
                parts: &issuance.parts,
            },
            usage: issuance.usage.clone(),
            bollo: Some(bollo),
            diritti_cents: Some(diritti.diritti_cents),
            issued_at: issuance.now,
        };
        let prepared = prepare(
            &draft,
            certificate.number,
            certificate.status_index,
            &self.templates,
            &signer,
            &trust,
        )?;
        Ok(store::Resealed {
            seal: prepared.seal.as_bytes().to_vec(),
            pdf: prepared.pdf,
            kid: signer.kid(),
            issued_at: prepared.claims.issued_at,
            expires_at: prepared.claims.expires_at,
        })
    }

    /// The comune's fee schedule: its own, or the default with the
    /// amounts its record holds.
    pub async fn fee_schedule(&self, comune: &ComuneRecord) -> Result<FeeSchedule, IssueError> {
        match self.store.comune_fees(comune.code).await? {
            Some(text) => FeeSchedule::from_toml(&text).map_err(IssueError::Fees),
            None => Ok(FeeSchedule::from_comune(comune)),
        }
    }

    async fn register(
        &self,
        issuance: &Issuance,
        request_id: Option<&str>,
        plan: BolloPlan,
        origin: Option<String>,
    ) -> Result<Issued, IssueError> {
        let comune = self
            .store
            .comune(issuance.comune)
            .await?
            .ok_or(IssueError::UnknownComune(issuance.comune))?;
        let target = if issuance.spec.kind == CertificateKind::DestinazioneUrbanistica {
            Target::Land(
                self.applicant(issuance).await?,
                self.parcels(issuance).await?,
            )
        } else {
            let subject = self.subject(issuance.comune, &issuance.fiscal_code).await?;
            // Refuse before taking a number: numbering locks the comune's
            // counter, and a refusal should not wait for it. `prepare`
            // checks again, on the same data.
            eligibility::check(issuance.spec.kind, &issuance.parts, &subject)?;
            Target::Person(Box::new(subject))
        };
        let signer = self.keys.signer(issuance.comune)?;
        let trust = self.keys.trust_store()?;
        let year = u16::try_from(rome::local(issuance.now).year()).unwrap_or(u16::MAX);
        let about = match &target {
            Target::Person(subject) => About::Person {
                subject,
                parts: &issuance.parts,
            },
            Target::Land(applicant, parcels) => About::Land { applicant, parcels },
        };
        let channel = match request_id {
            Some(id) => self
                .store
                .request(issuance.comune, id)
                .await?
                .map_or(Channel::Counter, |request| request.channel),
            None => Channel::Counter,
        };
        let diritti = self.fee_schedule(&comune).await?.quote(
            issuance.spec.kind,
            &issuance.usage,
            channel,
            issuance.parcels.len(),
        );
        let draft = Draft {
            comune: &comune,
            spec: issuance.spec,
            about,
            usage: issuance.usage.clone(),
            bollo: None,
            diritti_cents: Some(diritti.diritti_cents),
            issued_at: issuance.now,
        };
        let mut pdf_out = Vec::new();
        let mut url_out = String::new();
        let prepare_numbered = |number: CertificateNumber, status_index: u32| {
            let bollo = match &plan {
                BolloPlan::None => None,
                BolloPlan::Virtuale { segregation_code } => Some(BolloRef::Iuv(
                    notice_for(*segregation_code, number)?.iuv().to_owned(),
                )),
                BolloPlan::Marca => Some(BolloRef::MarcaDigitale),
                BolloPlan::Paper { id, issued_on } => Some(BolloRef::Marca {
                    id: id.clone(),
                    issued_on: *issued_on,
                }),
            };
            let marca_id = match &plan {
                BolloPlan::Paper { id, .. } => Some(id.clone()),
                _ => None,
            };
            let draft = Draft {
                bollo,
                ..draft.clone()
            };
            let prepared = prepare(
                &draft,
                number,
                status_index,
                &self.templates,
                &signer,
                &trust,
            )?;
            // Exempt, or paid on paper at the counter: issued at once.
            let exempt =
                matches!(prepared.claims.usage.stamp, Stamp::Exempt { .. }) || marca_id.is_some();
            pdf_out.clone_from(&prepared.pdf);
            url_out = prepared.seal.to_url(&comune.verification_host);
            Ok::<_, PrepareError>(NewCertificate {
                kind: issuance.spec.kind,
                holder: prepared.claims.holder.fiscal_code.clone(),
                usage: prepared.claims.usage.clone(),
                clause: prepared.claims.usage.clause,
                status: if exempt {
                    CertificateStatus::Issued
                } else {
                    CertificateStatus::Pending
                },
                created_at: prepared.claims.issued_at,
                issued_at: exempt.then_some(prepared.claims.issued_at),
                expires_at: prepared.claims.expires_at,
                seal: prepared.seal.as_bytes().to_vec(),
                kid: signer.kid(),
                pdf: prepared.pdf,
                issued_by: issuance.issued_by.clone(),
                marca_id,
                origin: origin.clone(),
            })
        };
        let registered = match request_id {
            Some(id) => {
                self.store
                    .register_certificate_for_request(issuance.comune, year, id, prepare_numbered)
                    .await
            }
            None => {
                self.store
                    .register_certificate(issuance.comune, year, prepare_numbered)
                    .await
            }
        };
        let record = registered.map_err(|error| match error {
            RegisterError::Prepare(error) => IssueError::Prepare(error),
            RegisterError::Invalid(what) => IssueError::Registry(what),
            RegisterError::Store(StoreError::MarcaUsed(id)) => IssueError::MarcaUsed(id),
            RegisterError::Store(error) => IssueError::Store(error),
        })?;
        tracing::info!(number = %record.number, status = record.status.code(), "certificate registered");
        Ok(Issued {
            record,
            pdf: pdf_out,
            verification_url: url_out,
        })
    }

    /// Everything the registry knows about the person with `fiscal_code`.
    pub async fn subject(
        &self,
        comune: ComuneCode,
        fiscal_code: &CodiceFiscale,
    ) -> Result<Subject, IssueError> {
        let person = self
            .store
            .person_by_fiscal_code(comune, fiscal_code)
            .await?
            .ok_or(IssueError::UnknownPerson)?;
        let family = match person.family_id {
            Some(id) => self.store.family(comune, id).await?,
            None => None,
        };
        let convivenza = match person.convivenza_id {
            Some(id) => self.store.convivenza(comune, id).await?,
            None => None,
        };
        let unions = self.store.unions_of(comune, person.id).await?;
        let open_procedures = self.store.open_procedures_of(comune, person.id).await?;
        Ok(Subject {
            person,
            family,
            convivenza,
            unions,
            open_procedures,
        })
    }

    async fn applicant(&self, issuance: &Issuance) -> Result<Holder, IssueError> {
        let person = self
            .store
            .person_by_fiscal_code(issuance.comune, &issuance.fiscal_code)
            .await?
            .ok_or(IssueError::UnknownPerson)?;
        Ok(Holder {
            surname: person.surname,
            given_names: person.given_names,
            birth_date: person.birth_date,
            birth_place: person.birth_place,
            fiscal_code: person.fiscal_code,
        })
    }

    async fn parcels(&self, issuance: &Issuance) -> Result<Vec<Parcel>, IssueError> {
        let mut parcels = Vec::with_capacity(issuance.parcels.len());
        for (foglio, particella, subalterno) in &issuance.parcels {
            let parcel = self
                .store
                .parcel(issuance.comune, foglio, particella, subalterno.as_deref())
                .await?
                .ok_or_else(|| IssueError::UnknownParcel(foglio.clone(), particella.clone()))?;
            parcels.push(parcel);
        }
        Ok(parcels)
    }
}

/// How a certificate's stamp duty will be paid, which decides what its
/// bollo box prints and its seal names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BolloPlan {
    /// No payment: the certificate is exempt (or refused if in bollo).
    None,
    /// Bollo virtuale: a pagoPA notice whose IUV is derived from the
    /// certificate's number ([`notice_for`]) is printed and sealed.
    Virtuale {
        /// The comune's segregation code for Sigillo's notices.
        segregation_code: u8,
    },
    /// Marca da bollo digitale, bought for the final PDF's digest.
    Marca,
    /// A marca da bollo on paper, applied at the counter: paid already.
    Paper {
        /// Its 14-digit identifier.
        id: String,
        /// The day it was issued, as printed on it.
        issued_on: time::Date,
    },
}

/// The pagoPA notice of the certificate `number` (aux digit 3): the IUV
/// base is the year and the sequence, `YYYY` + 9 digits, so a number never
/// reused gives an IUV never reused under the comune's segregation code.
pub fn notice_for(
    segregation_code: u8,
    number: CertificateNumber,
) -> Result<NoticeNumber, PrepareError> {
    let base = u64::from(number.year()) * 1_000_000_000 + u64::from(number.sequence());
    NoticeNumber::new(segregation_code, base)
        .map_err(|error| PrepareError::Notice(error.to_string()))
}

enum Target {
    Person(Box<Subject>),
    Land(Holder, Vec<Parcel>),
}
