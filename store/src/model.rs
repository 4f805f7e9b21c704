//! The comune's data as issuance reads it: the comune itself, people and
//! their registry families, cadastral parcels under the town plan, and the
//! registry of issued certificates. Every record belongs to one comune.

use seal::digest::DocumentDigest;
use seal::notice::NoticeNumber;
use seal::{CertificateKind, CertificateNumber, Clause, CodiceFiscale, ComuneCode, Kid, Usage};
use time::{Date, OffsetDateTime};

/// A comune served by this deployment, with what issuance needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComuneRecord {
    /// ISTAT code.
    pub code: ComuneCode,
    /// Belfiore (cadastral) code, e.g. `H501`.
    pub belfiore: String,
    /// Name, e.g. `Roma` (printed after «Comune di»).
    pub name: String,
    /// Province abbreviation, e.g. `RM`.
    pub province: String,
    /// The comune's fiscal code as pagoPA creditor (11 digits).
    pub creditor_fiscal_code: String,
    /// Host of the verification page printed in the QR code, e.g.
    /// `certificati.comune.roma.it`.
    pub verification_host: String,
    /// How the stamp duty is collected.
    pub bollo_mode: BolloMode,
    /// Stamp duty amount in cents (1600 today).
    pub bollo_cents: i64,
    /// Diritti di segreteria on a certificate in bollo, in cents (52).
    pub diritti_bollo_cents: i64,
    /// Diritti di segreteria on an exempt certificate, in cents (26).
    pub diritti_esente_cents: i64,
    /// A demo comune: its certificates carry «DEMO — privo di valore legale».
    pub demo: bool,
    /// The seal signer in use for this comune, once keys exist.
    pub signer_kid: Option<Kid>,
}

/// How a comune collects the stamp duty (DOMAIN.md §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BolloMode {
    /// Bollo virtuale under an authorisation (DPR 642/1972 art. 15).
    Virtuale {
        /// Authorisation number.
        authorization: String,
        /// Authorisation date.
        authorized_on: Date,
    },
    /// Marca da bollo digitale (@e.bollo).
    MarcaDigitale,
}

/// Sex as the registry records it (and the codice fiscale encodes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Maschio.
    M,
    /// Femmina.
    F,
}

impl Sex {
    /// The code in import files and in the database: `M` or `F`.
    pub fn code(self) -> &'static str {
        match self {
            Self::M => "M",
            Self::F => "F",
        }
    }

    /// The sex with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "M" => Some(Self::M),
            "F" => Some(Self::F),
            _ => None,
        }
    }
}

/// Stato civile, as ANPR records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CivilStatus {
    /// Celibe / nubile.
    Single,
    /// Coniugato/a.
    Married,
    /// Vedovo/a.
    Widowed,
    /// Divorziato/a.
    Divorced,
    /// Unito/a civilmente.
    CivilUnion,
    /// Stato libero a seguito di scioglimento dell'unione civile.
    UnionDissolved,
    /// Stato libero a seguito di decesso della parte dell'unione civile.
    UnionWidowed,
}

impl CivilStatus {
    /// Every civil status, in the order above.
    pub const ALL: [Self; 7] = [
        Self::Single,
        Self::Married,
        Self::Widowed,
        Self::Divorced,
        Self::CivilUnion,
        Self::UnionDissolved,
        Self::UnionWidowed,
    ];

    /// The code in import files and in the database (`docs/import.md`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Single => "celibe-nubile",
            Self::Married => "coniugato",
            Self::Widowed => "vedovo",
            Self::Divorced => "divorziato",
            Self::CivilUnion => "unito-civilmente",
            Self::UnionDissolved => "libero-scioglimento-unione",
            Self::UnionWidowed => "libero-decesso-unito",
        }
    }

    /// The civil status with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.code() == code)
    }
}

/// The ANPR certifiability of a person (`tab_Motivi_di_non_certificabilità`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Certifiability {
    /// 0 — non certificabile.
    NotCertifiable,
    /// 1 — certificabilità parziale (solo residenza e stato di famiglia).
    Partial,
    /// 2 — certificabilità completa.
    Full,
    /// 3 — soggetto non iscrivibile.
    NotRegistrable,
    /// 4 — interdetto sottoposto a tutela.
    Interdicted,
}

impl Certifiability {
    /// The ANPR id (0–4).
    pub fn code(self) -> u8 {
        match self {
            Self::NotCertifiable => 0,
            Self::Partial => 1,
            Self::Full => 2,
            Self::NotRegistrable => 3,
            Self::Interdicted => 4,
        }
    }

    /// The certifiability with this ANPR id.
    pub fn from_code(code: u8) -> Option<Self> {
        [
            Self::NotCertifiable,
            Self::Partial,
            Self::Full,
            Self::NotRegistrable,
            Self::Interdicted,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }
}

/// How a person stands in this comune's registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// Resident (APR).
    Resident,
    /// Italian citizen living abroad, registered in the comune's AIRE.
    Aire(AireRegistration),
    /// Deleted from the registry (emigrated, untraceable, …) on that date.
    Cancelled {
        /// Date of cancellation.
        on: Date,
        /// Reason as recorded.
        reason: String,
    },
}

/// An AIRE registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AireRegistration {
    /// Country of residence, e.g. `FRANCIA`.
    pub country: String,
    /// Address abroad as printed.
    pub address_abroad: String,
    /// Date of registration in AIRE.
    pub registered_on: Date,
}

/// A person in the comune's registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Registry id, unique within the comune.
    pub id: i64,
    /// The comune whose registry holds the person.
    pub comune: ComuneCode,
    /// Codice fiscale.
    pub fiscal_code: CodiceFiscale,
    /// Cognome.
    pub surname: String,
    /// Nome (all given names).
    pub given_names: String,
    /// Sesso.
    pub sex: Sex,
    /// Data di nascita.
    pub birth_date: Date,
    /// Luogo di nascita as printed: `ROMA (RM)`, or the foreign state.
    pub birth_place: String,
    /// Cittadinanza as printed, e.g. `ITALIANA`.
    pub citizenship: String,
    /// Stato civile.
    pub civil_status: CivilStatus,
    /// Resident, AIRE or cancelled.
    pub registration: Registration,
    /// The registry family (famiglia anagrafica), if any.
    pub family_id: Option<i64>,
    /// ANPR relationship code to the family's head (1 = the head itself).
    pub relationship: Option<u16>,
    /// The convivenza the person lives in, if any.
    pub convivenza_id: Option<i64>,
    /// ANPR certifiability.
    pub certifiability: Certifiability,
    /// Date of death, if deceased.
    pub death_date: Option<Date>,
}

/// An address in the comune, as printed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    /// Street type and name, e.g. `VIA GIUSEPPE GARIBALDI`.
    pub street: String,
    /// Civic number, e.g. `112` or `12/B`.
    pub number: String,
    /// Interno, scala, piano as recorded, if any.
    pub unit: Option<String>,
    /// CAP.
    pub postcode: String,
    /// Locality (the comune's name or a frazione).
    pub locality: String,
}

impl Address {
    /// One line, as certificates print it: `VIA ROMA 1 INT. 4, 00100 BORGO SIGILLO`.
    pub fn line(&self) -> String {
        let unit = self
            .unit
            .as_deref()
            .map(|u| format!(" {u}"))
            .unwrap_or_default();
        format!(
            "{} {}{unit}, {} {}",
            self.street, self.number, self.postcode, self.locality
        )
    }
}

/// A famiglia anagrafica: people living together, one of them the head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// Registry id, unique within the comune.
    pub id: i64,
    /// Where the family lives (for AIRE families, the address abroad is on
    /// each member's registration).
    pub address: Option<Address>,
    /// Members, head first, then by relationship and birth date.
    pub members: Vec<Person>,
}

/// A convivenza anagrafica (a community: convent, care home, barracks, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Convivenza {
    /// Registry id, unique within the comune.
    pub id: i64,
    /// Name, e.g. `CASA DI RIPOSO SAN GIUSEPPE`.
    pub name: String,
    /// Where it is.
    pub address: Address,
    /// The person responsible for it, if recorded.
    pub head_id: Option<i64>,
}

/// A marriage, civil union or registered cohabitation contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnionRecord {
    /// Which of the three.
    pub kind: UnionKind,
    /// The person whose record this is.
    pub person_id: i64,
    /// The other party's full name as printed.
    pub partner_name: String,
    /// Date celebrated or registered.
    pub date: Date,
    /// Place as printed.
    pub place: String,
    /// Date it ended (divorce, dissolution, death), if it has.
    pub ended_on: Option<Date>,
}

/// The kinds of union a certificate can attest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnionKind {
    /// Matrimonio.
    Marriage,
    /// Unione civile (L. 76/2016).
    CivilUnion,
    /// Contratto di convivenza (L. 76/2016 c. 50).
    CohabitationContract,
}

impl UnionKind {
    /// The code in import files and in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Marriage => "matrimonio",
            Self::CivilUnion => "unione-civile",
            Self::CohabitationContract => "contratto-convivenza",
        }
    }

    /// The kind with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Marriage, Self::CivilUnion, Self::CohabitationContract]
            .into_iter()
            .find(|kind| kind.code() == code)
    }
}

/// An administrative procedure open on a person (e.g. a change of residence
/// being verified): while open, certificates are not issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenProcedure {
    /// The person.
    pub person_id: i64,
    /// What it is, as recorded.
    pub description: String,
    /// When it was opened.
    pub opened_on: Date,
}

/// Everything the registry knows that a certificate about one person needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The person the certificate is about.
    pub person: Person,
    /// Their registry family with every member, if any.
    pub family: Option<Family>,
    /// The convivenza they live in, if any.
    pub convivenza: Option<Convivenza>,
    /// Their unions (marriages, civil unions, cohabitation contracts).
    pub unions: Vec<UnionRecord>,
    /// Administrative procedures open on them.
    pub open_procedures: Vec<OpenProcedure>,
}

/// Which plan a zoning applies under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plan {
    /// The plan in force (piano vigente).
    InForce,
    /// The adopted plan not yet in force (piano adottato), under safeguard.
    Adopted,
}

impl Plan {
    /// The code in import files and in the database: `vigente`, `adottato`.
    pub fn code(self) -> &'static str {
        match self {
            Self::InForce => "vigente",
            Self::Adopted => "adottato",
        }
    }

    /// The plan with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "vigente" => Some(Self::InForce),
            "adottato" => Some(Self::Adopted),
            _ => None,
        }
    }
}

/// A town-plan zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Which plan defines it.
    pub plan: Plan,
    /// Zone code, e.g. `B2`, `E1`.
    pub code: String,
    /// Zone name, e.g. `Zona agricola produttiva`.
    pub name: String,
    /// Articles of the plan's technical rules (NTA), e.g. `art. 24`.
    pub nta_articles: Vec<String>,
    /// Permitted uses, as the NTA state them.
    pub permitted_uses: String,
}

/// The share of a parcel that falls in one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneShare {
    /// The zone.
    pub zone: Zone,
    /// Share of the parcel's area, in hundredths of a percent (10000 = all).
    pub share_bp: u32,
}

/// A constraint (vincolo) on land.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// Short code, e.g. `PAES`.
    pub code: String,
    /// Description as printed, e.g. `Vincolo paesaggistico`.
    pub description: String,
    /// The norm that imposes it, e.g. `D.Lgs. 42/2004 art. 142`.
    pub norm: String,
}

/// A cadastral parcel with its zoning under both plans and its constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parcel {
    /// Foglio.
    pub foglio: String,
    /// Particella (mappale).
    pub particella: String,
    /// Subalterno, if any.
    pub subalterno: Option<String>,
    /// Area in square metres.
    pub area_m2: u32,
    /// Zones under the plan in force, shares adding to 10000.
    pub zones_in_force: Vec<ZoneShare>,
    /// Zones under the adopted plan (empty if none is adopted).
    pub zones_adopted: Vec<ZoneShare>,
    /// Constraints on the parcel.
    pub constraints: Vec<Constraint>,
}

/// Where an issued certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateStatus {
    /// Prepared, not yet valid nor downloadable (waiting for payment).
    Pending,
    /// Issued and in force (until its expiry).
    Issued,
    /// Revoked by the comune.
    Revoked,
    /// Replaced by a later certificate.
    Superseded,
    /// Past its legal validity.
    Expired,
    /// Never issued (unpaid, cancelled): its number is void and not reused.
    Void,
}

impl CertificateStatus {
    /// The code in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Issued => "issued",
            Self::Revoked => "revoked",
            Self::Superseded => "superseded",
            Self::Expired => "expired",
            Self::Void => "void",
        }
    }

    /// The status as staff and citizens read it, in Italian.
    pub fn italian(self) -> &'static str {
        match self {
            Self::Pending => "in attesa",
            Self::Issued => "rilasciato",
            Self::Revoked => "revocato",
            Self::Superseded => "sostituito",
            Self::Expired => "scaduto",
            Self::Void => "annullato",
        }
    }

    /// Every status.
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Issued,
        Self::Revoked,
        Self::Superseded,
        Self::Expired,
        Self::Void,
    ];

    /// The status with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.code() == code)
    }

    /// Whether the certificate's PDF may be handed out: only once issued
    /// (and still afterwards, when expired, revoked or superseded, so the
    /// holder can see what was issued); never while pending or when void.
    pub fn pdf_available(self) -> bool {
        matches!(
            self,
            Self::Issued | Self::Expired | Self::Revoked | Self::Superseded
        )
    }
}

/// One row of the registry of issued certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// Opaque id.
    pub id: String,
    /// Issuing comune.
    pub comune: ComuneCode,
    /// Registry number, per comune per year.
    pub number: CertificateNumber,
    /// Kind.
    pub kind: CertificateKind,
    /// Holder's fiscal code.
    pub holder: CodiceFiscale,
    /// Use declared: `bollo` or `esente:<id>`.
    pub usage: Usage,
    /// The art. 40 clause printed on it.
    pub clause: Clause,
    /// Status.
    pub status: CertificateStatus,
    /// When it was created (prepared).
    pub created_at: OffsetDateTime,
    /// When it was issued (released), if it has been.
    pub issued_at: Option<OffsetDateTime>,
    /// End of legal validity, if limited.
    pub expires_at: Option<OffsetDateTime>,
    /// The seal's COSE bytes.
    pub seal: Vec<u8>,
    /// The signer that sealed it.
    pub kid: Kid,
    /// SHA-256 of the final PDF, hex.
    pub pdf_sha256: DocumentDigest,
    /// Index in the comune's status list.
    pub status_index: u32,
    /// Who issued it: a staff user, an API key name, `cli`.
    pub issued_by: String,
    /// Revocation reason, when revoked.
    pub revocation_reason: Option<String>,
    /// When it was revoked, if it has been.
    pub revoked_at: Option<OffsetDateTime>,
    /// The stamp's reference when the certificate cannot print it: the
    /// IUBD of a marca da bollo digitale bought for this very PDF.
    pub bollo_reference: Option<String>,
}

/// Where a request for a certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestState {
    /// Received; nothing prepared yet.
    Requested,
    /// Its certificate is rendered, sealed and signed, and pending.
    Prepared,
    /// A payment is open at pagoPA.
    AwaitingPayment,
    /// Paid (or exempt): the certificate is issued and downloadable.
    Issued,
    /// The registry data do not allow the certificate; nothing was numbered.
    Refused,
    /// Withdrawn before payment: the pending certificate is void.
    Cancelled,
    /// Unpaid in time: the pending certificate is void.
    Expired,
}

impl RequestState {
    /// The code in the database and the API.
    pub fn code(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Prepared => "prepared",
            Self::AwaitingPayment => "awaiting_payment",
            Self::Issued => "issued",
            Self::Refused => "refused",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// The state as citizens and staff read it, in Italian.
    pub fn italian(self) -> &'static str {
        match self {
            Self::Requested => "ricevuta",
            Self::Prepared => "in preparazione",
            Self::AwaitingPayment => "in attesa di pagamento",
            Self::Issued => "evasa",
            Self::Refused => "respinta",
            Self::Cancelled => "annullata",
            Self::Expired => "scaduta senza pagamento",
        }
    }

    /// The state with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Requested,
            Self::Prepared,
            Self::AwaitingPayment,
            Self::Issued,
            Self::Refused,
            Self::Cancelled,
            Self::Expired,
        ]
        .into_iter()
        .find(|state| state.code() == code)
    }

    /// Whether the request has reached the end of its life.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Issued | Self::Refused | Self::Cancelled | Self::Expired
        )
    }
}

/// Where a request was made: online by the citizen (through the comune's
/// portal) or at the counter by staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The citizen, online.
    Online,
    /// Staff at the counter.
    Counter,
}

impl Channel {
    /// The code in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Counter => "counter",
        }
    }

    /// The channel with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Online, Self::Counter]
            .into_iter()
            .find(|channel| channel.code() == code)
    }
}

/// How a request's stamp duty is being paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentMode {
    /// Bollo virtuale: a pagoPA debt position; the IUV is printed.
    Virtuale,
    /// Marca da bollo digitale bound to the SHA-256 of the final PDF.
    Marca,
}

impl PaymentMode {
    /// The code in the database and the API.
    pub fn code(self) -> &'static str {
        match self {
            Self::Virtuale => "virtuale",
            Self::Marca => "marca",
        }
    }

    /// The mode with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Virtuale, Self::Marca]
            .into_iter()
            .find(|mode| mode.code() == code)
    }
}

/// A request for a certificate, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Opaque id (128 random bits, hex).
    pub id: String,
    /// The comune asked.
    pub comune: ComuneCode,
    /// The kind asked for.
    pub kind: CertificateKind,
    /// For a contestuale, the kinds it combines.
    pub parts: Vec<CertificateKind>,
    /// Whom the certificate is about.
    pub holder: CodiceFiscale,
    /// Who asked for it.
    pub requester: CodiceFiscale,
    /// The requester's e-mail, for pagoPA's receipt (needed by the marca
    /// da bollo digitale).
    pub email: Option<String>,
    /// The declared use, as `issuer::catalogue::parse_usage` reads it.
    pub usage: Usage,
    /// Online or at the counter.
    pub channel: Channel,
    /// Where it stands.
    pub state: RequestState,
    /// Why it was refused, in Italian for the requester.
    pub refusal: Option<String>,
    /// Its certificate, once prepared.
    pub certificate_id: Option<String>,
    /// The payment, once opened.
    pub payment: Option<PaymentRecord>,
    /// The API key that made it.
    pub created_by: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// A request's payment at pagoPA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// Bollo virtuale or marca da bollo digitale.
    pub mode: PaymentMode,
    /// Amount in cents.
    pub amount_cents: i64,
    /// The debt position id (bollo virtuale), the idempotency key at pagoPA.
    pub iupd: Option<String>,
    /// The notice number (codice avviso), 18 digits.
    pub notice_number: NoticeNumber,
    /// Where the payer pays.
    pub checkout_url: String,
    /// Unpaid after this, the request expires.
    pub pay_by: OffsetDateTime,
    /// The receipt that paid it (the IUBD, for a marca), once paid.
    pub receipt_id: Option<String>,
    /// When it was paid.
    pub paid_at: Option<OffsetDateTime>,
}
