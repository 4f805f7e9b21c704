//! What a certificate costs: the stamp duty (imposta di bollo), the diritti
//! di segreteria and the exemptions, per comune (DOMAIN.md §2–3). Amounts
//! are configuration, not code: a comune's schedule is TOML text, read by
//! [`FeeSchedule::from_toml`]; [`FeeSchedule::default`] holds the amounts
//! of the law and of common practice.
//!
//! ```
//! use issuer::fees::{Channel, FeeSchedule};
//! let fees = FeeSchedule::default();
//! let usage = issuer::catalogue::parse_usage("bollo").unwrap();
//! let quote = fees.quote(seal::CertificateKind::Residenza, &usage, Channel::Online, 0);
//! assert_eq!(quote.total_cents(), 1652);
//! ```

use seal::{CertificateKind, Stamp, Usage};
use serde::{Deserialize, Serialize};

use crate::catalogue::{self, EXEMPTIONS, Exemption, STATO_CIVILE_EXEMPTION};
use store::model::ComuneRecord;

/// A comune's fees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeeSchedule {
    /// Stamp duty on one document, in cents (€16.00, DPR 642/1972).
    pub bollo_cents: i64,
    /// Diritti di segreteria on a certificate in bollo, in cents (€0.52,
    /// L. 604/1962 Tab. D).
    pub diritti_bollo_cents: i64,
    /// Diritti di segreteria on an exempt certificate, in cents (€0.26).
    pub diritti_esente_cents: i64,
    /// Whether anagrafe certificates requested online pay the diritti.
    pub diritti_online: DirittiOnline,
    /// The certificato di destinazione urbanistica.
    pub cdu: CduFees,
    /// The exemptions the comune accepts, with their printed wording.
    pub exemptions: Vec<ExemptionFee>,
    /// Whether a CDU for a declaration of succession is exempt from the
    /// stamp duty (exemption [`SUCCESSIONE_EXEMPTION`]). Disputed in
    /// practice, so a choice of each comune; off unless configured.
    pub successione_exempt_cdu: bool,
}

/// Whether the diritti di segreteria of anagrafe certificates are charged
/// when the certificate is requested online (a comune may waive them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirittiOnline {
    /// Charged online as at the counter.
    Charged,
    /// Waived online; still charged at the counter.
    Waived,
}

/// Fees of the certificato di destinazione urbanistica (DPR 380/2001
/// art. 30; diritti by DL 8/1993 art. 10, between €5.16 and €51.65).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CduFees {
    /// Diritti di segreteria by number of parcels, ascending: the first
    /// tier whose `up_to_parcels` covers the request applies; a request
    /// with more parcels than the last tier pays the last tier.
    pub tiers: Vec<CduTier>,
    /// The request (istanza) is in bollo.
    pub bollo_on_request: bool,
    /// The certificate is in bollo.
    pub bollo_on_certificate: bool,
}

/// One tier of the CDU's diritti.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CduTier {
    /// The largest number of parcels the tier covers.
    pub up_to_parcels: u32,
    /// Diritti di segreteria, in cents.
    pub diritti_cents: i64,
}

/// An exemption a comune accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemptionFee {
    /// The id: ANPR's (1–10, 99) or one of [`EXTRA_EXEMPTIONS`].
    pub id: u16,
    /// The use, as printed.
    pub description: String,
    /// The norm, as printed.
    pub norm: String,
    /// Whether it also waives the diritti di segreteria.
    pub waives_diritti: bool,
}

pub use store::model::Channel;

/// What a request costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quote {
    /// Stamp duty, in cents (for a CDU, both stamps).
    pub bollo_cents: i64,
    /// Diritti di segreteria, in cents.
    pub diritti_cents: i64,
}

impl Quote {
    /// Nothing to pay.
    pub const FREE: Self = Self {
        bollo_cents: 0,
        diritti_cents: 0,
    };

    /// Stamp duty and diritti together, in cents.
    pub fn total_cents(&self) -> i64 {
        self.bollo_cents + self.diritti_cents
    }
}

/// Why a fee schedule, or a use under it, is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeesError {
    /// The text is not TOML of the schedule's shape.
    #[error("configurazione delle tariffe non valida: {0}")]
    Toml(String),
    /// An amount below zero.
    #[error("l'importo {field} non può essere negativo ({cents} centesimi)")]
    NegativeAmount {
        /// Which amount.
        field: String,
        /// Its value.
        cents: i64,
    },
    /// CDU tiers not in strictly ascending order of parcels, or none.
    #[error(
        "le fasce dei diritti del CDU devono essere almeno una, in ordine crescente di particelle"
    )]
    TiersNotAscending,
    /// An exemption id that is neither ANPR's nor one of the known extras.
    #[error("esenzione sconosciuta: {0} (ammesse: 1–10, 99 e {extras})", extras = extra_ids())]
    UnknownExemption(u16),
    /// The same exemption id twice.
    #[error("l'esenzione {0} compare due volte")]
    DuplicateExemption(u16),
    /// An exemption without its use or norm.
    #[error("l'esenzione {0} deve indicare l'uso e la norma")]
    BlankExemption(u16),
    /// The comune does not accept this exemption.
    #[error("l'esenzione {0} non è prevista da questo comune")]
    ExemptionNotAccepted(u16),
    /// A CDU for succession is in bollo in this comune.
    #[error("in questo comune il CDU per uso successione non è esente dall'imposta di bollo")]
    SuccessioneNotExempt,
}

/// The Tabella B exemption of a declaration of succession, which some
/// comuni also apply to the CDU ([`FeeSchedule::successione_exempt_cdu`]).
pub const SUCCESSIONE_EXEMPTION: u16 = 108;

/// Exemptions that comuni commonly accept beyond ANPR's table (DPR
/// 642/1972, Tabella B), with ids above [`STATO_CIVILE_EXEMPTION`] so they
/// never collide with ANPR's.
pub const EXTRA_EXEMPTIONS: [Exemption; 8] = [
    extra(101, "materia elettorale", "DPR 642/1972, Tabella B, art. 1"),
    extra(
        102,
        "procedimento penale",
        "DPR 642/1972, Tabella B, art. 3",
    ),
    extra(
        103,
        "applicazione delle leggi tributarie",
        "DPR 642/1972, Tabella B, art. 5",
    ),
    extra(
        104,
        "sussidi e assistenza",
        "DPR 642/1972, Tabella B, art. 8",
    ),
    extra(
        105,
        "pensioni, assegni familiari, collocamento",
        "DPR 642/1972, Tabella B, art. 9",
    ),
    extra(
        106,
        "iscrizione e frequenza scolastica",
        "DPR 642/1972, Tabella B, art. 11",
    ),
    extra(
        107,
        "lavoro e previdenza sociale",
        "DPR 642/1972, Tabella B, art. 12",
    ),
    extra(
        SUCCESSIONE_EXEMPTION,
        "dichiarazione di successione",
        "DPR 642/1972, Tabella B, art. 5",
    ),
];

const fn extra(id: u16, description: &'static str, norm: &'static str) -> Exemption {
    Exemption {
        id,
        description,
        norm,
        waives_diritti: false,
    }
}

fn extra_ids() -> String {
    let ids: Vec<String> = EXTRA_EXEMPTIONS.iter().map(|e| e.id.to_string()).collect();
    ids.join(", ")
}

impl Default for FeeSchedule {
    fn default() -> Self {
        let exemptions = EXEMPTIONS
            .iter()
            .filter(|e| e.id != STATO_CIVILE_EXEMPTION)
            .chain(EXTRA_EXEMPTIONS.iter())
            .map(ExemptionFee::from)
            .collect();
        Self {
            bollo_cents: 1600,
            diritti_bollo_cents: 52,
            diritti_esente_cents: 26,
            diritti_online: DirittiOnline::Charged,
            cdu: CduFees::default(),
            exemptions,
            successione_exempt_cdu: false,
        }
    }
}

impl Default for CduFees {
    /// Example tiers within the legal range (€5.16–€51.65); each comune
    /// sets its own by deliberation.
    fn default() -> Self {
        Self {
            tiers: vec![
                CduTier {
                    up_to_parcels: 5,
                    diritti_cents: 2582,
                },
                CduTier {
                    up_to_parcels: 10,
                    diritti_cents: 3873,
                },
                CduTier {
                    up_to_parcels: 20,
                    diritti_cents: 5165,
                },
            ],
            bollo_on_request: true,
            bollo_on_certificate: true,
        }
    }
}

impl From<&Exemption> for ExemptionFee {
    fn from(exemption: &Exemption) -> Self {
        Self {
            id: exemption.id,
            description: exemption.description.to_owned(),
            norm: exemption.norm.to_owned(),
            waives_diritti: exemption.waives_diritti,
        }
    }
}

impl FeeSchedule {
    /// The default schedule with the amounts a comune's record holds, so
    /// the two agree until the comune configures its own schedule.
    pub fn from_comune(comune: &ComuneRecord) -> Self {
        Self {
            bollo_cents: comune.bollo_cents,
            diritti_bollo_cents: comune.diritti_bollo_cents,
            diritti_esente_cents: comune.diritti_esente_cents,
            ..Self::default()
        }
    }

    /// Reads and checks a schedule written in TOML. Fields left out take
    /// their default, so a comune writes only what differs.
    pub fn from_toml(text: &str) -> Result<Self, FeesError> {
        let schedule: Self =
            toml::from_str(text).map_err(|e| FeesError::Toml(e.message().to_owned()))?;
        schedule.validate()?;
        Ok(schedule)
    }

    /// The schedule as TOML, in the form [`FeeSchedule::from_toml`] reads.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self)
            .expect("a fee schedule is tables of integers, strings and booleans, all TOML can hold")
    }

    /// Checks amounts, tiers and exemptions.
    pub fn validate(&self) -> Result<(), FeesError> {
        let amounts = [
            ("bollo_cents", self.bollo_cents),
            ("diritti_bollo_cents", self.diritti_bollo_cents),
            ("diritti_esente_cents", self.diritti_esente_cents),
        ];
        let tiers = self
            .cdu
            .tiers
            .iter()
            .map(|tier| ("cdu.tiers.diritti_cents", tier.diritti_cents));
        for (field, cents) in amounts.into_iter().chain(tiers) {
            if cents < 0 {
                return Err(FeesError::NegativeAmount {
                    field: field.to_owned(),
                    cents,
                });
            }
        }
        let ascending = self
            .cdu
            .tiers
            .windows(2)
            .all(|pair| pair[0].up_to_parcels < pair[1].up_to_parcels);
        if self.cdu.tiers.is_empty() || !ascending {
            return Err(FeesError::TiersNotAscending);
        }
        let mut seen = Vec::with_capacity(self.exemptions.len());
        for exemption in &self.exemptions {
            let known = exemption.id != STATO_CIVILE_EXEMPTION
                && (catalogue::exemption_by_id(exemption.id).is_some()
                    || EXTRA_EXEMPTIONS.iter().any(|e| e.id == exemption.id));
            if !known {
                return Err(FeesError::UnknownExemption(exemption.id));
            }
            if seen.contains(&exemption.id) {
                return Err(FeesError::DuplicateExemption(exemption.id));
            }
            if exemption.description.trim().is_empty() || exemption.norm.trim().is_empty() {
                return Err(FeesError::BlankExemption(exemption.id));
            }
            seen.push(exemption.id);
        }
        Ok(())
    }

    /// The exemption with this id, if the comune accepts it.
    pub fn exemption(&self, id: u16) -> Option<&ExemptionFee> {
        self.exemptions.iter().find(|e| e.id == id)
    }

    /// Whether a request may declare this use for this kind here: the
    /// exemption must be one the comune accepts, and the succession one
    /// applies to a CDU only where the comune says so. Call before
    /// [`FeeSchedule::quote`], which charges a refused exemption as bollo.
    pub fn check_usage(&self, kind: CertificateKind, usage: &Usage) -> Result<(), FeesError> {
        match &usage.stamp {
            Stamp::Bollo => Ok(()),
            Stamp::Exempt { code, .. } if *code == STATO_CIVILE_EXEMPTION => Ok(()),
            Stamp::Exempt { code, .. } => {
                if self.exemption(*code).is_none() {
                    return Err(FeesError::ExemptionNotAccepted(*code));
                }
                if kind == CertificateKind::DestinazioneUrbanistica
                    && *code == SUCCESSIONE_EXEMPTION
                    && !self.successione_exempt_cdu
                {
                    return Err(FeesError::SuccessioneNotExempt);
                }
                Ok(())
            }
        }
    }

    /// What a request costs: `parcels` counts only for a CDU.
    ///
    /// Certificates of the stato civile registers pay nothing (L. 405/1990
    /// art. 7). An exemption the schedule does not accept for this kind
    /// (see [`FeeSchedule::check_usage`]) is charged as bollo: a quote
    /// never undercharges.
    pub fn quote(
        &self,
        kind: CertificateKind,
        usage: &Usage,
        channel: Channel,
        parcels: usize,
    ) -> Quote {
        let stato_civile = catalogue::spec_of(kind).is_some_and(|spec| spec.stato_civile)
            || matches!(usage.stamp, Stamp::Exempt { code, .. } if code == STATO_CIVILE_EXEMPTION);
        if stato_civile {
            return Quote::FREE;
        }
        let exemption = match &usage.stamp {
            Stamp::Exempt { code, .. } if self.check_usage(kind, usage).is_ok() => {
                self.exemption(*code)
            }
            _ => None,
        };
        let cdu = kind == CertificateKind::DestinazioneUrbanistica;
        let stamps = if cdu {
            i64::from(self.cdu.bollo_on_request) + i64::from(self.cdu.bollo_on_certificate)
        } else {
            1
        };
        let bollo_cents = match exemption {
            Some(_) => 0,
            None => self.bollo_cents * stamps,
        };
        let diritti_cents = if exemption.is_some_and(|e| e.waives_diritti) {
            0
        } else if cdu {
            self.cdu.diritti_for(parcels)
        } else if channel == Channel::Online && self.diritti_online == DirittiOnline::Waived {
            0
        } else if exemption.is_some() {
            self.diritti_esente_cents
        } else {
            self.diritti_bollo_cents
        };
        Quote {
            bollo_cents,
            diritti_cents,
        }
    }
}

impl CduFees {
    /// The diritti for a CDU of `parcels` parcels.
    pub fn diritti_for(&self, parcels: usize) -> i64 {
        let parcels = u64::try_from(parcels).unwrap_or(u64::MAX);
        self.tiers
            .iter()
            .find(|tier| parcels <= u64::from(tier.up_to_parcels))
            .or(self.tiers.last())
            .map_or(0, |tier| tier.diritti_cents)
    }
}
