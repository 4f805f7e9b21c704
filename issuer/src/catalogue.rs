//! The certificate catalogue: which kinds a comune issues, how long each is
//! valid, what it may be used for and which clause it prints (DOMAIN.md
//! §1–3).

use seal::{CertificateKind, Stamp, Usage};
use time::{Duration, OffsetDateTime};

/// How long a certificate is valid from issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Facts that cannot change: no expiry.
    Unlimited,
    /// Six months (DPR 445/2000 art. 41).
    SixMonths,
    /// One year (CDU, DPR 380/2001 art. 30).
    OneYear,
}

impl Validity {
    /// The expiry for a certificate released at `issued_at`, if it expires:
    /// the end of the day, in Italy, that the law's «sei mesi» or «un anno
    /// dalla data di rilascio» reach counted in calendar months (codice
    /// civile art. 2963: the term ends on the day of the month that bears
    /// the same number as the release day, or on the month's last day when
    /// it has no such day). Released 01/12/2026, a six-month certificate is
    /// valid through 01/06/2027; released 31/08/2026, through 28/02/2027.
    pub fn expiry(self, issued_at: OffsetDateTime) -> Option<OffsetDateTime> {
        let months = match self {
            Self::Unlimited => return None,
            Self::SixMonths => 6,
            Self::OneYear => 12,
        };
        let released = seal::rome::local(issued_at).date();
        let last_day = add_months(released, months);
        // The end of that day in Italy: one second before the next midnight.
        let next = last_day
            .next_day()
            .unwrap_or(last_day)
            .midnight()
            .assume_utc();
        let midnight =
            next - Duration::seconds(i64::from(seal::rome::offset_at(next).whole_seconds()));
        Some(midnight - Duration::SECOND)
    }

    /// The sentence printed on the certificate.
    pub fn sentence(self) -> &'static str {
        match self {
            Self::Unlimited => {
                "Il presente certificato ha validità illimitata, attestando fatti non soggetti a modificazioni (DPR 445/2000 art. 41)."
            }
            Self::SixMonths => {
                "Il presente certificato ha validità sei mesi dalla data di rilascio (DPR 445/2000 art. 41). Scaduto tale termine, conserva validità se l'interessato dichiara in calce che le informazioni non hanno subito variazioni."
            }
            Self::OneYear => {
                "Il presente certificato conserva validità per un anno dalla data del rilascio, salvo modificazioni degli strumenti urbanistici (DPR 380/2001 art. 30)."
            }
        }
    }
}

/// `date` moved on by `months` calendar months, on the same day of the
/// month or, when that month is shorter, on its last day.
fn add_months(date: time::Date, months: u8) -> time::Date {
    let index = i32::from(u8::from(date.month())) - 1 + i32::from(months);
    let year = date.year() + index.div_euclid(12);
    let month = time::Month::try_from(u8::try_from(index.rem_euclid(12) + 1).unwrap_or(1))
        .unwrap_or(time::Month::January);
    let day = date.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day).unwrap_or(date)
}

/// One kind of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSpec {
    /// The kind.
    pub kind: CertificateKind,
    /// Its name on the command line and in template file names.
    pub slug: &'static str,
    /// Validity from issue.
    pub validity: Validity,
    /// Whether it attests facts of the stato civile registers, exempt from
    /// stamp duty and diritti (L. 405/1990 art. 7).
    pub stato_civile: bool,
}

/// The kinds Sigillo issues: the citizen-facing ANPR catalogue, the
/// certificato contestuale and the CDU.
pub const CATALOGUE: [KindSpec; 17] = [
    spec(
        CertificateKind::Nascita,
        "nascita",
        Validity::Unlimited,
        true,
    ),
    spec(
        CertificateKind::Matrimonio,
        "matrimonio",
        Validity::Unlimited,
        true,
    ),
    spec(
        CertificateKind::Cittadinanza,
        "cittadinanza",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::EsistenzaInVita,
        "esistenza_in_vita",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::Residenza,
        "residenza",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::ResidenzaAire,
        "residenza_aire",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::StatoCivile,
        "stato_civile",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::StatoFamiglia,
        "stato_famiglia",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::StatoFamigliaStatoCivile,
        "stato_famiglia_stato_civile",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::ResidenzaConvivenza,
        "residenza_convivenza",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::StatoFamigliaAire,
        "stato_famiglia_aire",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::StatoFamigliaParentela,
        "stato_famiglia_parentela",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::StatoLibero,
        "stato_libero",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::UnioneCivile,
        "unione_civile",
        Validity::SixMonths,
        true,
    ),
    spec(
        CertificateKind::ContrattoConvivenza,
        "contratto_convivenza",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::Contestuale,
        "contestuale",
        Validity::SixMonths,
        false,
    ),
    spec(
        CertificateKind::DestinazioneUrbanistica,
        "cdu",
        Validity::OneYear,
        false,
    ),
];

const fn spec(
    kind: CertificateKind,
    slug: &'static str,
    validity: Validity,
    stato_civile: bool,
) -> KindSpec {
    KindSpec {
        kind,
        slug,
        validity,
        stato_civile,
    }
}

/// Why a request names no issuable kind or use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// No kind of that name.
    #[error("tipo di certificato sconosciuto: {0:?} (tipi: {1})")]
    UnknownKind(String, String),
    /// The use is not one Sigillo knows.
    #[error(transparent)]
    Usage(#[from] UsageError),
}

/// The catalogue entry of `kind`, if Sigillo issues it.
pub fn spec_of(kind: CertificateKind) -> Option<&'static KindSpec> {
    CATALOGUE.iter().find(|spec| spec.kind == kind)
}

/// The kind named `slug` (as in `--kind residenza`).
pub fn kind_by_slug(slug: &str) -> Result<&'static KindSpec, CatalogueError> {
    let wanted = slug.trim().to_ascii_lowercase().replace('-', "_");
    CATALOGUE
        .iter()
        .find(|spec| spec.slug == wanted)
        .ok_or_else(|| {
            let names: Vec<&str> = CATALOGUE.iter().map(|spec| spec.slug).collect();
            CatalogueError::UnknownKind(slug.to_owned(), names.join(", "))
        })
}

/// A stamp-duty exemption: ANPR's `tab_Esenzione_bollo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exemption {
    /// ANPR id.
    pub id: u16,
    /// The use, as printed.
    pub description: &'static str,
    /// The norm, as printed.
    pub norm: &'static str,
    /// Whether it also waives the diritti di segreteria.
    pub waives_diritti: bool,
}

/// The exemption that certificates of the stato civile registers carry by
/// law, whatever use is declared. Not in ANPR's table, so outside its ids.
pub const STATO_CIVILE_EXEMPTION: u16 = seal::wording::STATO_CIVILE_EXEMPTION;

/// ANPR's exemptions (DOMAIN.md §3), and the stato civile one, worded as
/// [`seal::wording::EXEMPTIONS`] prints them; a comune's own list comes
/// with its fee configuration.
pub const EXEMPTIONS: [Exemption; 12] = [
    anpr(1, false),
    anpr(2, false),
    anpr(3, false),
    anpr(4, true),
    anpr(5, false),
    anpr(6, true),
    anpr(7, true),
    anpr(8, false),
    anpr(9, false),
    anpr(10, true),
    anpr(99, false),
    anpr(STATO_CIVILE_EXEMPTION, true),
];

/// The exemption `id` of the shared wording, and whether it also waives the
/// diritti di segreteria.
const fn anpr(id: u16, waives_diritti: bool) -> Exemption {
    let wording = seal::wording::exemption_const(id);
    Exemption {
        id,
        description: wording.description,
        norm: wording.norm,
        waives_diritti,
    }
}

/// The exemption with this id.
pub fn exemption_by_id(id: u16) -> Option<&'static Exemption> {
    EXEMPTIONS.iter().find(|e| e.id == id)
}

/// The use as the command line, the API and the registry write it
/// (`bollo`, `esente:<id>`, `esente:99:<motivo>`, with `/estero`,
/// `/immigrazione` or `/giudiziario`): one parser, in `seal`, so the store
/// reads it as a [`Usage`] and nobody parses it twice.
pub use seal::usage::{UsageError, parse_usage, usage_text};

/// The clause of DPR 445/2000 art. 40 that the certificate prints.
pub use seal::wording::clause_sentence;

/// The use as printed: «Uso: …».
pub fn usage_sentence(usage: &Usage, stato_civile: bool) -> String {
    match &usage.stamp {
        Stamp::Bollo => "Uso: consentito dalla legge, in bollo.".to_owned(),
        Stamp::Exempt { code: 99, note } => format!(
            "Uso: {}, esente dall'imposta di bollo come dichiarato dal richiedente.",
            note.as_deref().unwrap_or("altro")
        ),
        Stamp::Exempt { code, .. } => match exemption_by_id(*code) {
            Some(e) if !stato_civile => format!(
                "Uso: {}, esente dall'imposta di bollo ({}).",
                e.description, e.norm
            ),
            _ => "Esente dall'imposta di bollo e dai diritti di segreteria (L. 405/1990 art. 7)."
                .to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn validity_is_counted_in_calendar_months_to_the_end_of_the_day_in_italy() {
        let day = |at: OffsetDateTime| seal::rome::date_text(at);
        // Released on 01/12/2026 (winter time): valid through 01/06/2027.
        let six = Validity::SixMonths
            .expiry(datetime!(2026-12-01 10:00 UTC))
            .expect("expires");
        assert_eq!(day(six), "01/06/2027");
        assert_eq!(
            six,
            datetime!(2027-06-01 21:59:59 UTC),
            "23:59:59 summer time"
        );
        // A day the sixth month does not have: its last day.
        let short = Validity::SixMonths
            .expiry(datetime!(2026-08-31 08:00 UTC))
            .expect("expires");
        assert_eq!(day(short), "28/02/2027");
        // Late in the evening in Italy is already the next day in UTC terms
        // of the Italian calendar: the release day is Italy's.
        let evening = Validity::SixMonths
            .expiry(datetime!(2026-03-31 22:30 UTC))
            .expect("expires");
        assert_eq!(
            day(evening),
            "01/10/2026",
            "released 01/04/2026 at 00:30 in Italy"
        );
        assert_eq!(
            day(Validity::OneYear
                .expiry(datetime!(2028-02-29 09:00 UTC))
                .expect("expires")),
            "28/02/2029"
        );
        assert_eq!(
            Validity::Unlimited.expiry(datetime!(2026-12-01 10:00 UTC)),
            None
        );
    }

    #[test]
    fn every_citizen_facing_anpr_kind_and_the_cdu_are_in_the_catalogue() {
        for code in [
            1, 3, 5, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100, 200,
        ] {
            let kind = CertificateKind::from_code(code).expect("known code");
            assert!(spec_of(kind).is_some(), "{kind:?} missing");
        }
        assert!(spec_of(CertificateKind::Morte).is_none(), "staff only");
    }

    #[test]
    fn kinds_are_found_by_their_slug() {
        assert_eq!(
            kind_by_slug("residenza").map(|s| s.kind),
            Ok(CertificateKind::Residenza)
        );
        assert_eq!(
            kind_by_slug("Stato-Famiglia").map(|s| s.kind),
            Ok(CertificateKind::StatoFamiglia)
        );
        assert!(matches!(
            kind_by_slug("passaporto"),
            Err(CatalogueError::UnknownKind(..))
        ));
    }
}
