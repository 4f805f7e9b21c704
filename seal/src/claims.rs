//! The seal's payload: a CWT claims set (RFC 8392) with the standard claims
//! `iss`, `iat`, `exp`, `cti` and Sigillo's own claims under small negative
//! integer keys.
//!
//! The private keys are one byte each in CBOR (-1 to -24). They sit in the
//! range that the IANA "CBOR Web Token Claims" registry leaves to Standards
//! Action and has not assigned; the registry's "private use" range (below
//! -65536) would cost four more bytes a claim, and the seal must stay small
//! enough to print. A seal is read only by Sigillo's verifiers, which know
//! these keys.
//!
//! | key | claim | CBOR |
//! |---|---|---|
//! | 1 `iss` | issuing comune, ISTAT code | text, 6 digits |
//! | 6 `iat` | issued at | integer seconds |
//! | 4 `exp` | end of legal validity; absent when unlimited | integer seconds |
//! | 7 `cti` | certificate number `2026/000123` | bytes (UTF-8) |
//! | -1 | certificate kind | unsigned |
//! | -2 | holder | `[surname, given names, birth date (days since 1970-01-01), birth place, codice fiscale]` |
//! | -3 | facts | `[shape, …]` (see [`Facts`]) or 32 bytes of SHA-256 |
//! | -4 | use | `[exemption id or 0 for bollo, clause, note?]` |
//! | -5 | bollo reference | `[1, IUV]`, `[2, IUBD]`, `[3, ""]` (marca digitale on the PDF's digest) or `[4, 14 digits, issue day]` (paper marca); absent when exempt or not yet paid |
//! | -6 | status-list index | unsigned |
//! | -7 | demo | `true`, absent on real certificates |

use ciborium::value::Value;
use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};

use crate::types::{CertificateNumber, CodiceFiscale, ComuneCode};

/// Everything a seal states, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The comune that issued the certificate (`iss`).
    pub issuer: ComuneCode,
    /// When the certificate was issued (`iat`), to the second.
    pub issued_at: OffsetDateTime,
    /// End of legal validity (`exp`); `None` for certificates of facts that
    /// cannot change (nascita), which never expire.
    pub expires_at: Option<OffsetDateTime>,
    /// The certificate's registry number (`cti`).
    pub number: CertificateNumber,
    /// What kind of certificate it is.
    pub kind: CertificateKind,
    /// Whom the certificate is about.
    pub holder: Holder,
    /// What the certificate attests, as the paper states it.
    pub facts: Facts,
    /// The use declared and the clause it puts on the paper.
    pub usage: Usage,
    /// The stamp duty payment, when the certificate is in bollo.
    pub bollo: Option<BolloRef>,
    /// The certificate's position in the comune's status list.
    pub status_index: u32,
    /// A demo certificate, without legal value.
    pub demo: bool,
}

/// The certificate kinds: the ANPR catalogue (`tab_Tipo_di_certificato`,
/// whose ids are the codes here), the certificato contestuale and the
/// certificato di destinazione urbanistica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CertificateKind {
    /// 1 — Anagrafico di nascita.
    Nascita,
    /// 2 — Anagrafico di morte (staff only).
    Morte,
    /// 3 — Anagrafico di matrimonio.
    Matrimonio,
    /// 4 — di Cancellazione anagrafica (staff only).
    CancellazioneAnagrafica,
    /// 5 — di Cittadinanza.
    Cittadinanza,
    /// 6 — Storico di cittadinanza (staff only).
    StoricoCittadinanza,
    /// 7 — di Esistenza in vita.
    EsistenzaInVita,
    /// 8 — di Residenza.
    Residenza,
    /// 9 — Storico di residenza (staff only).
    StoricoResidenza,
    /// 10 — di Residenza AIRE.
    ResidenzaAire,
    /// 11 — di Stato civile.
    StatoCivile,
    /// 12 — di Stato di famiglia.
    StatoFamiglia,
    /// 13 — di Stato di famiglia e di stato civile.
    StatoFamigliaStatoCivile,
    /// 14 — di Residenza in convivenza.
    ResidenzaConvivenza,
    /// 15 — di Stato di famiglia AIRE.
    StatoFamigliaAire,
    /// 16 — di Stato di famiglia con rapporti di parentela.
    StatoFamigliaParentela,
    /// 17 — di Stato libero.
    StatoLibero,
    /// 18 — Anagrafico di unione civile.
    UnioneCivile,
    /// 19 — di Contratto di convivenza.
    ContrattoConvivenza,
    /// 20 — Storico di residenza alla data (staff only).
    StoricoResidenzaAllaData,
    /// 100 — Contestuale: several of the above in one document.
    Contestuale,
    /// 200 — Certificato di destinazione urbanistica (DPR 380/2001 art. 30).
    DestinazioneUrbanistica,
}

impl CertificateKind {
    /// Every kind, in catalogue order.
    pub const ALL: [Self; 22] = [
        Self::Nascita,
        Self::Morte,
        Self::Matrimonio,
        Self::CancellazioneAnagrafica,
        Self::Cittadinanza,
        Self::StoricoCittadinanza,
        Self::EsistenzaInVita,
        Self::Residenza,
        Self::StoricoResidenza,
        Self::ResidenzaAire,
        Self::StatoCivile,
        Self::StatoFamiglia,
        Self::StatoFamigliaStatoCivile,
        Self::ResidenzaConvivenza,
        Self::StatoFamigliaAire,
        Self::StatoFamigliaParentela,
        Self::StatoLibero,
        Self::UnioneCivile,
        Self::ContrattoConvivenza,
        Self::StoricoResidenzaAllaData,
        Self::Contestuale,
        Self::DestinazioneUrbanistica,
    ];

    /// The code in the seal: the ANPR id, 100 for contestuale, 200 for CDU.
    pub fn code(self) -> u16 {
        match self {
            Self::Contestuale => 100,
            Self::DestinazioneUrbanistica => 200,
            other => {
                // ANPR ids run 1..=20 in the order of `ALL`.
                let index = Self::ALL.iter().position(|&k| k == other).unwrap_or(0);
                (index + 1) as u16
            }
        }
    }

    /// The kind with this code, if any.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// The certificate's title as printed: «Certificato di …».
    pub fn title(self) -> &'static str {
        match self {
            Self::Nascita => "Certificato anagrafico di nascita",
            Self::Morte => "Certificato anagrafico di morte",
            Self::Matrimonio => "Certificato anagrafico di matrimonio",
            Self::CancellazioneAnagrafica => "Certificato di cancellazione anagrafica",
            Self::Cittadinanza => "Certificato di cittadinanza",
            Self::StoricoCittadinanza => "Certificato storico di cittadinanza",
            Self::EsistenzaInVita => "Certificato di esistenza in vita",
            Self::Residenza => "Certificato di residenza",
            Self::StoricoResidenza => "Certificato storico di residenza",
            Self::ResidenzaAire => "Certificato di residenza AIRE",
            Self::StatoCivile => "Certificato di stato civile",
            Self::StatoFamiglia => "Certificato di stato di famiglia",
            Self::StatoFamigliaStatoCivile => "Certificato di stato di famiglia e di stato civile",
            Self::ResidenzaConvivenza => "Certificato di residenza in convivenza",
            Self::StatoFamigliaAire => "Certificato di stato di famiglia AIRE",
            Self::StatoFamigliaParentela => {
                "Certificato di stato di famiglia con rapporti di parentela"
            }
            Self::StatoLibero => "Certificato di stato libero",
            Self::UnioneCivile => "Certificato anagrafico di unione civile",
            Self::ContrattoConvivenza => "Certificato di contratto di convivenza",
            Self::StoricoResidenzaAllaData => "Certificato storico di residenza alla data",
            Self::Contestuale => "Certificato contestuale",
            Self::DestinazioneUrbanistica => "Certificato di destinazione urbanistica",
        }
    }

    /// Whether `facts` has the shape this kind states. A digest stands for
    /// the facts of any kind.
    pub fn accepts(self, facts: &Facts) -> bool {
        use CertificateKind as K;
        match facts {
            Facts::Digest(_) => true,
            Facts::Holder => matches!(
                self,
                K::Nascita | K::Morte | K::EsistenzaInVita | K::CancellazioneAnagrafica
            ),
            Facts::Residence { .. } => matches!(
                self,
                K::Residenza
                    | K::ResidenzaAire
                    | K::ResidenzaConvivenza
                    | K::StoricoResidenza
                    | K::StoricoResidenzaAllaData
            ),
            Facts::Citizenship { .. } => matches!(self, K::Cittadinanza | K::StoricoCittadinanza),
            Facts::CivilStatus { .. } => matches!(self, K::StatoCivile | K::StatoLibero),
            Facts::Family { .. } => matches!(
                self,
                K::StatoFamiglia
                    | K::StatoFamigliaStatoCivile
                    | K::StatoFamigliaAire
                    | K::StatoFamigliaParentela
            ),
            Facts::Union { .. } => {
                matches!(
                    self,
                    K::Matrimonio | K::UnioneCivile | K::ContrattoConvivenza
                )
            }
            Facts::Combined(parts) => {
                self == K::Contestuale
                    && !parts.is_empty()
                    && parts.iter().all(|(kind, facts)| {
                        !matches!(kind, K::Contestuale | K::DestinazioneUrbanistica)
                            && !matches!(facts, Facts::Digest(_))
                            && kind.accepts(facts)
                    })
            }
        }
    }
}

/// Whom a certificate is about, as the paper names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Cognome.
    pub surname: String,
    /// Nome (all given names).
    pub given_names: String,
    /// Data di nascita.
    pub birth_date: Date,
    /// Luogo di nascita as printed, e.g. `ROMA (RM)`.
    pub birth_place: String,
    /// Codice fiscale.
    pub fiscal_code: CodiceFiscale,
}

/// A member of a registry family, as a family certificate lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyMember {
    /// Cognome.
    pub surname: String,
    /// Nome.
    pub given_names: String,
    /// Data di nascita.
    pub birth_date: Date,
    /// Relationship to the head of the family: the ANPR code of
    /// `tab_Relazione_di_parentela` (1 intestatario, 2 coniuge, 3 figlio, …).
    pub relationship: u16,
    /// Stato civile, on the kinds that state it (13).
    pub civil_status: Option<String>,
}

/// What a certificate attests beyond its holder, as the paper states it.
/// Each shape fits certain kinds ([`CertificateKind::accepts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Facts {
    /// Nothing beyond the holder's own data (nascita, esistenza in vita).
    Holder,
    /// An address: residenza, residenza AIRE (the address abroad),
    /// residenza in convivenza (the convivenza named in the text).
    Residence {
        /// The address as printed.
        address: String,
    },
    /// A citizenship, e.g. `italiana`.
    Citizenship {
        /// The citizenship as printed.
        citizenship: String,
    },
    /// A civil status, e.g. `libero`, `coniugato`.
    CivilStatus {
        /// The status as printed.
        status: String,
    },
    /// A registry family at an address.
    Family {
        /// The family's address as printed.
        address: String,
        /// Every member, head of the family first.
        members: Vec<FamilyMember>,
    },
    /// A marriage, civil union or cohabitation contract.
    Union {
        /// The other party's full name as printed.
        partner: String,
        /// When it was celebrated or registered.
        date: Date,
        /// Where, as printed.
        place: String,
    },
    /// The parts of a certificato contestuale, each with its kind.
    Combined(Vec<(CertificateKind, Facts)>),
    /// SHA-256 of the full facts text, when it does not fit a readable QR
    /// (a CDU with many parcels); the online check shows the text.
    Digest([u8; 32]),
}

impl Facts {
    /// The digest form of a facts text too long to carry in full.
    pub fn digest_of(full_text: &str) -> Self {
        Self::Digest(Sha256::digest(full_text.as_bytes()).into())
    }
}

/// The use a certificate is requested for: whether it pays the stamp duty or
/// which exemption applies, and the art. 40 clause it prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// Stamp duty paid, or the exemption declared.
    pub stamp: Stamp,
    /// The clause of DPR 445/2000 art. 40 c.02 or its alternative.
    pub clause: Clause,
}

/// The stamp duty position of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stamp {
    /// In bollo: the duty is due (and [`Claims::bollo`] says how it was paid).
    Bollo,
    /// Exempt, by the id of ANPR's `tab_Esenzione_bollo` (1–10, 99) or of a
    /// comune's own list; `note` carries the free text of id 99.
    Exempt {
        /// The exemption's id.
        code: u16,
        /// Free text, for «altro» (at most 256 characters).
        note: Option<String>,
    },
}

/// The clause of DPR 445/2000 art. 40 printed on the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clause {
    /// «Il presente certificato non può essere prodotto agli organi della
    /// pubblica amministrazione o ai privati gestori di pubblici servizi».
    Standard,
    /// Issued only for use abroad.
    Estero,
    /// For immigration procedures.
    Immigrazione,
    /// For court cases.
    Giudiziario,
    /// Exchanged between public administrations (exemption 10, DPR
    /// 642/1972 Tabella B art. 16): not for private parties, so the art. 40
    /// prohibition, which is about producing certificates to the PA, is
    /// not printed beside it. Implied by that exemption, never chosen.
    Amministrazione,
}

impl Clause {
    fn code(self) -> u8 {
        match self {
            Self::Standard => 0,
            Self::Estero => 1,
            Self::Immigrazione => 2,
            Self::Giudiziario => 3,
            Self::Amministrazione => 4,
        }
    }

    fn from_code(code: u64) -> Option<Self> {
        [
            Self::Standard,
            Self::Estero,
            Self::Immigrazione,
            Self::Giudiziario,
            Self::Amministrazione,
        ]
        .into_iter()
        .find(|clause| u64::from(clause.code()) == code)
    }
}

/// How the stamp duty of a certificate in bollo was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BolloRef {
    /// Bollo virtuale: the pagoPA payment's IUV.
    Iuv(String),
    /// Marca da bollo digitale: the stamp's IUBD.
    Iubd(String),
    /// Marca da bollo digitale bound to the SHA-256 of this very PDF: the
    /// stamp is bought after the document is final, so its IUBD cannot be
    /// printed or sealed; the registry records it and the online check
    /// shows it.
    MarcaDigitale,
    /// A marca da bollo on paper (the contrassegno telematico sold by
    /// tobacconists), applied at the counter: its 14-digit identifier and
    /// the day it was issued, as printed on it.
    Marca {
        /// The identifier printed on the stamp: 14 digits.
        id: String,
        /// The day the stamp was issued.
        issued_on: Date,
    },
}

impl BolloRef {
    /// Whether `id` has the shape of a paper stamp's identifier: 14 digits.
    pub fn is_marca_id(id: &str) -> bool {
        id.len() == 14 && id.bytes().all(|b| b.is_ascii_digit())
    }
}

/// Why claims could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    /// The facts do not have the shape the certificate kind states.
    #[error("the facts do not fit a certificate of kind {0}")]
    FactsDoNotFitKind(u16),
    /// A text field is longer than a seal may carry.
    #[error("the field {field} is longer than {max} bytes")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// A time that cannot be written as whole seconds since 1970.
    #[error("a time is out of range")]
    TimeOutOfRange,
    /// The CBOR is not a claims map of the expected shape.
    #[error("malformed claims: {0}")]
    Malformed(String),
}

impl ClaimsError {
    /// A stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::FactsDoNotFitKind(_) => "facts_do_not_fit_kind",
            Self::TooLong { .. } => "claim_too_long",
            Self::TimeOutOfRange => "claim_time_out_of_range",
            Self::Malformed(_) => "claims_malformed",
        }
    }
}

/// Longest text in any single claim field, in bytes. A seal has to fit a QR
/// code readable from paper; anything longer belongs in a digest.
pub const MAX_FIELD_LEN: usize = 256;

mod key {
    pub(super) const ISS: i64 = 1;
    pub(super) const EXP: i64 = 4;
    pub(super) const IAT: i64 = 6;
    pub(super) const CTI: i64 = 7;
    pub(super) const KIND: i64 = -1;
    pub(super) const HOLDER: i64 = -2;
    pub(super) const FACTS: i64 = -3;
    pub(super) const USE: i64 = -4;
    pub(super) const BOLLO: i64 = -5;
    pub(super) const STATUS: i64 = -6;
    pub(super) const DEMO: i64 = -7;
}

mod shape {
    pub(super) const HOLDER: u64 = 0;
    pub(super) const RESIDENCE: u64 = 1;
    pub(super) const CITIZENSHIP: u64 = 2;
    pub(super) const CIVIL_STATUS: u64 = 3;
    pub(super) const FAMILY: u64 = 4;
    pub(super) const UNION: u64 = 5;
    pub(super) const COMBINED: u64 = 6;
}

impl Claims {
    /// Checks the claims against the rules every seal obeys: facts fit the
    /// kind, texts within limits, validity after issuance.
    pub fn validate(&self) -> Result<(), ClaimsError> {
        if !self.kind.accepts(&self.facts) {
            return Err(ClaimsError::FactsDoNotFitKind(self.kind.code()));
        }
        if let Some(expiry) = self.expires_at
            && expiry <= self.issued_at
        {
            return Err(ClaimsError::Malformed("exp is not after iat".into()));
        }
        Ok(())
    }

    /// Encodes the claims as a CWT claims set (CBOR map).
    pub fn to_cbor(&self) -> Result<Vec<u8>, ClaimsError> {
        self.validate()?;
        let mut map = vec![
            (int(key::ISS), Value::Text(self.issuer.to_string())),
            (int(key::IAT), seconds(self.issued_at)),
        ];
        if let Some(expiry) = self.expires_at {
            map.push((int(key::EXP), seconds(expiry)));
        }
        map.extend([
            (
                int(key::CTI),
                Value::Bytes(self.number.to_string().into_bytes()),
            ),
            (int(key::KIND), uint(self.kind.code().into())),
            (int(key::HOLDER), encode_holder(&self.holder)?),
            (int(key::FACTS), encode_facts(&self.facts)?),
            (int(key::USE), encode_usage(&self.usage)?),
        ]);
        if let Some(bollo) = &self.bollo {
            let value = match bollo {
                BolloRef::Iuv(text) => vec![uint(1), text_field("bollo", text)?],
                BolloRef::Iubd(text) => vec![uint(2), text_field("bollo", text)?],
                BolloRef::MarcaDigitale => vec![uint(3), text_field("bollo", "")?],
                BolloRef::Marca { id, issued_on } => {
                    if !BolloRef::is_marca_id(id) {
                        return Err(ClaimsError::Malformed(
                            "a marca's identifier is 14 digits".into(),
                        ));
                    }
                    vec![
                        uint(4),
                        text_field("bollo", id)?,
                        days_since_epoch(*issued_on),
                    ]
                }
            };
            map.push((int(key::BOLLO), Value::Array(value)));
        }
        map.push((int(key::STATUS), uint(self.status_index.into())));
        if self.demo {
            map.push((int(key::DEMO), Value::Bool(true)));
        }
        let mut out = Vec::with_capacity(256);
        ciborium::into_writer(&Value::Map(map), &mut out)
            .map_err(|e| ClaimsError::Malformed(e.to_string()))?;
        Ok(out)
    }

    /// Decodes a CWT claims set. Unknown or repeated claims are refused: a
    /// seal says exactly what the format defines, nothing more.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, ClaimsError> {
        let value: Value = ciborium::from_reader(bytes).map_err(|e| malformed(&e.to_string()))?;
        // ciborium stops after one item; anything after it is not ours.
        let mut reencoded = Vec::with_capacity(bytes.len());
        ciborium::into_writer(&value, &mut reencoded).map_err(|e| malformed(&e.to_string()))?;
        if reencoded.len() != bytes.len() {
            return Err(malformed("trailing or non-minimal bytes after the claims"));
        }
        let Value::Map(entries) = value else {
            return Err(malformed("claims are not a map"));
        };
        let mut fields = ClaimFields::default();
        for (name, value) in entries {
            let name = as_int(&name).ok_or_else(|| malformed("claim key is not an integer"))?;
            let slot = match name {
                key::ISS => &mut fields.iss,
                key::EXP => &mut fields.exp,
                key::IAT => &mut fields.iat,
                key::CTI => &mut fields.cti,
                key::KIND => &mut fields.kind,
                key::HOLDER => &mut fields.holder,
                key::FACTS => &mut fields.facts,
                key::USE => &mut fields.usage,
                key::BOLLO => &mut fields.bollo,
                key::STATUS => &mut fields.status,
                key::DEMO => &mut fields.demo,
                other => return Err(malformed(&format!("unknown claim {other}"))),
            };
            if slot.replace(value).is_some() {
                return Err(malformed(&format!("claim {name} repeated")));
            }
        }
        fields.into_claims()
    }
}

#[derive(Default)]
struct ClaimFields {
    iss: Option<Value>,
    exp: Option<Value>,
    iat: Option<Value>,
    cti: Option<Value>,
    kind: Option<Value>,
    holder: Option<Value>,
    facts: Option<Value>,
    usage: Option<Value>,
    bollo: Option<Value>,
    status: Option<Value>,
    demo: Option<Value>,
}

impl ClaimFields {
    fn into_claims(self) -> Result<Claims, ClaimsError> {
        let required = |value: Option<Value>, name: &str| {
            value.ok_or_else(|| malformed(&format!("claim {name} missing")))
        };
        let issuer = ComuneCode::parse(&as_text(required(self.iss, "iss")?)?)
            .map_err(|_| malformed("iss is not an ISTAT code"))?;
        let issued_at = decode_time(&required(self.iat, "iat")?)?;
        let expires_at = self.exp.as_ref().map(decode_time).transpose()?;
        let Value::Bytes(cti) = required(self.cti, "cti")? else {
            return Err(malformed("cti is not a byte string"));
        };
        let number = std::str::from_utf8(&cti)
            .ok()
            .and_then(|text| CertificateNumber::parse(text).ok())
            .filter(|number| number.to_string().as_bytes() == cti.as_slice())
            .ok_or_else(|| malformed("cti is not a certificate number"))?;
        let kind_code = as_uint(&required(self.kind, "kind")?)?;
        let kind = u16::try_from(kind_code)
            .ok()
            .and_then(CertificateKind::from_code)
            .ok_or_else(|| malformed("unknown certificate kind"))?;
        let bollo = self.bollo.map(decode_bollo).transpose()?;
        let status_index = u32::try_from(as_uint(&required(self.status, "status")?)?)
            .map_err(|_| malformed("status index out of range"))?;
        let demo = match self.demo {
            None => false,
            Some(Value::Bool(true)) => true,
            Some(_) => return Err(malformed("demo flag must be true or absent")),
        };
        let claims = Claims {
            issuer,
            issued_at,
            expires_at,
            number,
            kind,
            holder: decode_holder(required(self.holder, "holder")?)?,
            facts: decode_facts(required(self.facts, "facts")?, 0)?,
            usage: decode_usage(required(self.usage, "use")?)?,
            bollo,
            status_index,
            demo,
        };
        claims.validate()?;
        Ok(claims)
    }
}

fn int(value: i64) -> Value {
    Value::Integer(value.into())
}

fn uint(value: u64) -> Value {
    Value::Integer(value.into())
}

fn seconds(time: OffsetDateTime) -> Value {
    int(time.unix_timestamp())
}

fn days_since_epoch(date: Date) -> Value {
    int(i64::from(date.to_julian_day() - EPOCH_JULIAN_DAY))
}

/// Julian day number of 1970-01-01.
const EPOCH_JULIAN_DAY: i32 = 2_440_588;

fn text_field(field: &'static str, text: &str) -> Result<Value, ClaimsError> {
    if text.len() > MAX_FIELD_LEN {
        return Err(ClaimsError::TooLong {
            field,
            max: MAX_FIELD_LEN,
        });
    }
    Ok(Value::Text(text.to_owned()))
}

fn encode_holder(holder: &Holder) -> Result<Value, ClaimsError> {
    Ok(Value::Array(vec![
        text_field("surname", &holder.surname)?,
        text_field("given_names", &holder.given_names)?,
        days_since_epoch(holder.birth_date),
        text_field("birth_place", &holder.birth_place)?,
        Value::Text(holder.fiscal_code.to_string()),
    ]))
}

fn encode_facts(facts: &Facts) -> Result<Value, ClaimsError> {
    let fields = match facts {
        Facts::Digest(digest) => return Ok(Value::Bytes(digest.to_vec())),
        Facts::Holder => vec![uint(shape::HOLDER)],
        Facts::Residence { address } => {
            vec![uint(shape::RESIDENCE), text_field("address", address)?]
        }
        Facts::Citizenship { citizenship } => {
            vec![
                uint(shape::CITIZENSHIP),
                text_field("citizenship", citizenship)?,
            ]
        }
        Facts::CivilStatus { status } => {
            vec![
                uint(shape::CIVIL_STATUS),
                text_field("civil_status", status)?,
            ]
        }
        Facts::Family { address, members } => {
            let members = members
                .iter()
                .map(|member| {
                    let mut fields = vec![
                        text_field("surname", &member.surname)?,
                        text_field("given_names", &member.given_names)?,
                        days_since_epoch(member.birth_date),
                        uint(member.relationship.into()),
                    ];
                    if let Some(status) = &member.civil_status {
                        fields.push(text_field("civil_status", status)?);
                    }
                    Ok(Value::Array(fields))
                })
                .collect::<Result<_, ClaimsError>>()?;
            vec![
                uint(shape::FAMILY),
                text_field("address", address)?,
                Value::Array(members),
            ]
        }
        Facts::Union {
            partner,
            date,
            place,
        } => vec![
            uint(shape::UNION),
            text_field("partner", partner)?,
            days_since_epoch(*date),
            text_field("place", place)?,
        ],
        Facts::Combined(parts) => {
            let parts = parts
                .iter()
                .map(|(kind, facts)| {
                    Ok(Value::Array(vec![
                        uint(kind.code().into()),
                        encode_facts(facts)?,
                    ]))
                })
                .collect::<Result<_, ClaimsError>>()?;
            vec![uint(shape::COMBINED), Value::Array(parts)]
        }
    };
    Ok(Value::Array(fields))
}

fn encode_usage(usage: &Usage) -> Result<Value, ClaimsError> {
    let mut fields = match &usage.stamp {
        Stamp::Bollo => vec![uint(0)],
        Stamp::Exempt { code: 0, .. } => {
            return Err(ClaimsError::Malformed(
                "exemption id 0 is reserved for bollo".into(),
            ));
        }
        Stamp::Exempt { code, .. } => vec![uint((*code).into())],
    };
    fields.push(uint(usage.clause.code().into()));
    if let Stamp::Exempt {
        note: Some(note), ..
    } = &usage.stamp
    {
        fields.push(text_field("note", note)?);
    }
    Ok(Value::Array(fields))
}

fn malformed(detail: &str) -> ClaimsError {
    ClaimsError::Malformed(detail.to_owned())
}

fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(integer) => i64::try_from(*integer).ok(),
        _ => None,
    }
}

fn as_uint(value: &Value) -> Result<u64, ClaimsError> {
    match value {
        Value::Integer(integer) => {
            u64::try_from(*integer).map_err(|_| malformed("expected an unsigned integer"))
        }
        _ => Err(malformed("expected an unsigned integer")),
    }
}

fn as_text(value: Value) -> Result<String, ClaimsError> {
    match value {
        Value::Text(text) if text.len() <= MAX_FIELD_LEN => Ok(text),
        Value::Text(_) => Err(malformed("text field too long")),
        _ => Err(malformed("expected a text string")),
    }
}

fn as_array(value: Value, min: usize, max: usize) -> Result<Vec<Value>, ClaimsError> {
    match value {
        Value::Array(items) if (min..=max).contains(&items.len()) => Ok(items),
        _ => Err(malformed(&format!(
            "expected an array of {min} to {max} items"
        ))),
    }
}

fn decode_time(value: &Value) -> Result<OffsetDateTime, ClaimsError> {
    let seconds = as_int(value).ok_or_else(|| malformed("time is not an integer"))?;
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| ClaimsError::TimeOutOfRange)
}

fn decode_date(value: &Value) -> Result<Date, ClaimsError> {
    let days = as_int(value).ok_or_else(|| malformed("date is not an integer"))?;
    i32::try_from(days)
        .ok()
        .and_then(|days| days.checked_add(EPOCH_JULIAN_DAY))
        .and_then(|julian| Date::from_julian_day(julian).ok())
        .ok_or(ClaimsError::TimeOutOfRange)
}

fn decode_holder(value: Value) -> Result<Holder, ClaimsError> {
    let mut items = as_array(value, 5, 5)?.into_iter();
    let mut next = || items.next().unwrap_or(Value::Null);
    let surname = as_text(next())?;
    let given_names = as_text(next())?;
    let birth_date = decode_date(&next())?;
    let birth_place = as_text(next())?;
    let fiscal_code = CodiceFiscale::parse(&as_text(next())?)
        .map_err(|_| malformed("holder's fiscal code is not valid"))?;
    Ok(Holder {
        surname,
        given_names,
        birth_date,
        birth_place,
        fiscal_code,
    })
}

/// Contestuale parts cannot nest; one level below the top is the most.
const MAX_FACTS_DEPTH: usize = 1;

fn decode_facts(value: Value, depth: usize) -> Result<Facts, ClaimsError> {
    if let Value::Bytes(bytes) = value {
        let digest = bytes
            .try_into()
            .map_err(|_| malformed("facts digest is not 32 bytes"))?;
        return Ok(Facts::Digest(digest));
    }
    let items = as_array(value, 1, 4)?;
    let shape_code = as_uint(&items[0])?;
    let mut rest = items.into_iter().skip(1);
    let mut next = || rest.next().unwrap_or(Value::Null);
    let facts = match shape_code {
        shape::HOLDER => Facts::Holder,
        shape::RESIDENCE => Facts::Residence {
            address: as_text(next())?,
        },
        shape::CITIZENSHIP => Facts::Citizenship {
            citizenship: as_text(next())?,
        },
        shape::CIVIL_STATUS => Facts::CivilStatus {
            status: as_text(next())?,
        },
        shape::FAMILY => {
            let address = as_text(next())?;
            let members = as_array(next(), 1, 64)?
                .into_iter()
                .map(decode_member)
                .collect::<Result<_, _>>()?;
            Facts::Family { address, members }
        }
        shape::UNION => {
            let partner = as_text(next())?;
            let date = decode_date(&next())?;
            let place = as_text(next())?;
            Facts::Union {
                partner,
                date,
                place,
            }
        }
        shape::COMBINED if depth < MAX_FACTS_DEPTH => {
            let parts = as_array(next(), 1, 16)?
                .into_iter()
                .map(|part| {
                    let mut pair = as_array(part, 2, 2)?.into_iter();
                    let code = as_uint(&pair.next().unwrap_or(Value::Null))?;
                    let kind = u16::try_from(code)
                        .ok()
                        .and_then(CertificateKind::from_code)
                        .ok_or_else(|| malformed("unknown kind in contestuale"))?;
                    let facts = decode_facts(pair.next().unwrap_or(Value::Null), depth + 1)?;
                    Ok((kind, facts))
                })
                .collect::<Result<_, ClaimsError>>()?;
            Facts::Combined(parts)
        }
        _ => return Err(malformed("unknown facts shape")),
    };
    if rest.next().is_some() {
        return Err(malformed("extra items in facts"));
    }
    Ok(facts)
}

fn decode_member(value: Value) -> Result<FamilyMember, ClaimsError> {
    let mut items = as_array(value, 4, 5)?.into_iter();
    let mut next = || items.next();
    let surname = as_text(next().unwrap_or(Value::Null))?;
    let given_names = as_text(next().unwrap_or(Value::Null))?;
    let birth_date = decode_date(&next().unwrap_or(Value::Null))?;
    let relationship = u16::try_from(as_uint(&next().unwrap_or(Value::Null))?)
        .map_err(|_| malformed("relationship code out of range"))?;
    let civil_status = next().map(as_text).transpose()?;
    Ok(FamilyMember {
        surname,
        given_names,
        birth_date,
        relationship,
        civil_status,
    })
}

fn decode_usage(value: Value) -> Result<Usage, ClaimsError> {
    let items = as_array(value, 2, 3)?;
    let stamp_code = as_uint(&items[0])?;
    let clause =
        Clause::from_code(as_uint(&items[1])?).ok_or_else(|| malformed("unknown clause"))?;
    let note = items.into_iter().nth(2).map(as_text).transpose()?;
    let stamp = match (stamp_code, note) {
        (0, None) => Stamp::Bollo,
        (0, Some(_)) => return Err(malformed("a note on a certificate in bollo")),
        (code, note) => Stamp::Exempt {
            code: u16::try_from(code).map_err(|_| malformed("exemption id out of range"))?,
            note,
        },
    };
    Ok(Usage { stamp, clause })
}

fn decode_bollo(value: Value) -> Result<BolloRef, ClaimsError> {
    let items = as_array(value, 2, 3)?;
    let three = items.len() == 3;
    let mut items = items.into_iter();
    let tag = as_uint(&items.next().unwrap_or(Value::Null))?;
    let text = as_text(items.next().unwrap_or(Value::Null))?;
    match (tag, items.next()) {
        (1, None) => Ok(BolloRef::Iuv(text)),
        (2, None) => Ok(BolloRef::Iubd(text)),
        (3, None) if text.is_empty() => Ok(BolloRef::MarcaDigitale),
        (4, Some(day)) if three && BolloRef::is_marca_id(&text) => Ok(BolloRef::Marca {
            id: text,
            issued_on: decode_date(&day)?,
        }),
        _ => Err(malformed("unknown bollo reference kind")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples as testdata;

    #[test]
    fn claims_of_every_sample_round_trip_through_cbor() {
        for claims in [
            testdata::residenza(),
            testdata::famiglia(6),
            testdata::contestuale(),
        ] {
            let bytes = claims.to_cbor().expect("encodes");
            assert_eq!(Claims::from_cbor(&bytes), Ok(claims));
        }
    }

    #[test]
    fn a_paper_marca_round_trips_and_only_with_fourteen_digits() {
        let mut claims = testdata::residenza();
        claims.bollo = Some(BolloRef::Marca {
            id: "01234567890123".into(),
            issued_on: time::macros::date!(2026 - 11 - 30),
        });
        let bytes = claims.to_cbor().expect("encodes");
        assert_eq!(Claims::from_cbor(&bytes), Ok(claims.clone()));
        claims.bollo = Some(BolloRef::Marca {
            id: "0123456789012".into(),
            issued_on: time::macros::date!(2026 - 11 - 30),
        });
        assert!(matches!(claims.to_cbor(), Err(ClaimsError::Malformed(_))));
    }

    #[test]
    fn facts_that_do_not_fit_the_kind_are_refused() {
        let mut claims = testdata::residenza();
        claims.kind = CertificateKind::StatoFamiglia;
        assert_eq!(claims.to_cbor(), Err(ClaimsError::FactsDoNotFitKind(12)));
    }

    #[test]
    fn an_unknown_claim_is_refused() {
        let claims = testdata::residenza();
        let Value::Map(mut map) =
            ciborium::from_reader::<Value, _>(claims.to_cbor().expect("encodes").as_slice())
                .expect("decodes")
        else {
            panic!("claims are a map");
        };
        map.push((int(-20), Value::Bool(true)));
        let mut bytes = Vec::new();
        ciborium::into_writer(&Value::Map(map), &mut bytes).expect("encodes");
        assert!(
            matches!(Claims::from_cbor(&bytes), Err(ClaimsError::Malformed(m)) if m.contains("unknown claim"))
        );
    }

    #[test]
    fn every_kind_code_maps_back_to_its_kind() {
        for kind in CertificateKind::ALL {
            assert_eq!(CertificateKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(CertificateKind::Residenza.code(), 8);
        assert_eq!(CertificateKind::StoricoResidenzaAllaData.code(), 20);
    }
}
