//! Open data: the certificates a comune released, per kind per month, in
//! bollo and exempt, in the columns of ANPR's open data on certificates
//! (`TIPOLOGIA_CERTIFICATO`, `BOLLO`, `ESENTI_DA_BOLLO`, `TOTALE`), with the
//! month they fall in (Rome time) before them.
//!
//! Small counts are suppressed so that no person can be singled out: a
//! count from 1 to [`THRESHOLD`] − 1 is not published (primary
//! suppression, ISTAT's frequency threshold of 3). When one of `BOLLO` and
//! `ESENTI_DA_BOLLO` is suppressed and the total is not, the other is
//! suppressed too, or the total would give the hidden one away
//! (secondary suppression). A zero is published: it says nothing about
//! anyone. No totals across rows are published, so no subtraction
//! reveals a suppressed cell.

use seal::CertificateKind;
use serde::Serialize;
use store::Released;

/// The smallest count published.
pub const THRESHOLD: u64 = 3;

/// The CSV's header, in order.
pub const COLUMNS: [&str; 6] = [
    "ANNO",
    "MESE",
    "TIPOLOGIA_CERTIFICATO",
    "BOLLO",
    "ESENTI_DA_BOLLO",
    "TOTALE",
];

/// One kind in one month. `None` is a suppressed count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The year, in Rome.
    #[serde(rename = "ANNO")]
    pub year: i32,
    /// The month, 1 to 12, in Rome.
    #[serde(rename = "MESE")]
    pub month: u8,
    /// The kind, as its certificate is titled.
    #[serde(rename = "TIPOLOGIA_CERTIFICATO")]
    pub kind: &'static str,
    /// Released in bollo.
    #[serde(rename = "BOLLO")]
    pub bollo: Option<u64>,
    /// Released exempt.
    #[serde(rename = "ESENTI_DA_BOLLO")]
    pub exempt: Option<u64>,
    /// Both.
    #[serde(rename = "TOTALE")]
    pub total: Option<u64>,
}

/// The rows of `released`, by month then by kind (ANPR's order), with
/// small counts suppressed.
pub fn monthly(released: &[Released]) -> Vec<Row> {
    let mut counts: std::collections::BTreeMap<(i32, u8, CertificateKind), (u64, u64)> =
        std::collections::BTreeMap::new();
    for certificate in released {
        let local = seal::rome::local(certificate.issued_at);
        let entry = counts
            .entry((local.year(), u8::from(local.month()), certificate.kind))
            .or_default();
        if certificate.in_bollo {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    counts
        .into_iter()
        .map(|((year, month, kind), (bollo, exempt))| {
            let (bollo, exempt, total) = suppressed(bollo, exempt);
            Row {
                year,
                month,
                kind: kind.title(),
                bollo,
                exempt,
                total,
            }
        })
        .collect()
}

/// The three counts as published.
fn suppressed(bollo: u64, exempt: u64) -> (Option<u64>, Option<u64>, Option<u64>) {
    let small = |count: u64| count > 0 && count < THRESHOLD;
    let total = bollo + exempt;
    if small(total) {
        return (None, None, None);
    }
    match (small(bollo), small(exempt)) {
        (false, false) => (Some(bollo), Some(exempt), Some(total)),
        // One hidden and the total shown: the other would give it away.
        _ => (None, None, Some(total)),
    }
}

/// The rows as CSV (RFC 4180, comma-separated, CRLF), a suppressed count
/// an empty field.
pub fn csv(rows: &[Row]) -> String {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    let count = |value: Option<u64>| value.map(|v| v.to_string()).unwrap_or_default();
    for row in rows {
        out.push_str(&format!(
            "{},{},\"{}\",{},{},{}\r\n",
            row.year,
            row.month,
            row.kind.replace('"', "\"\""),
            count(row.bollo),
            count(row.exempt),
            count(row.total)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn released(kind: CertificateKind, in_bollo: bool, at: time::OffsetDateTime) -> Released {
        Released {
            kind,
            in_bollo,
            issued_at: at,
        }
    }

    #[test]
    fn counts_go_by_rome_month_and_kind() {
        let mut all = Vec::new();
        for _ in 0..4 {
            all.push(released(
                CertificateKind::Residenza,
                true,
                datetime!(2026-03-10 10:00 UTC),
            ));
        }
        for _ in 0..3 {
            all.push(released(
                CertificateKind::Residenza,
                false,
                datetime!(2026-03-11 10:00 UTC),
            ));
        }
        // 23:30 UTC on 31 March is 1 April in Rome (CEST).
        for _ in 0..5 {
            all.push(released(
                CertificateKind::Residenza,
                true,
                datetime!(2026-03-31 23:30 UTC),
            ));
        }
        let rows = monthly(&all);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            Row {
                year: 2026,
                month: 3,
                kind: "Certificato di residenza",
                bollo: Some(4),
                exempt: Some(3),
                total: Some(7),
            }
        );
        assert_eq!(
            (rows[1].month, rows[1].bollo, rows[1].exempt),
            (4, Some(5), Some(0))
        );
    }

    #[test]
    fn small_counts_are_suppressed_and_cannot_be_worked_out() {
        assert_eq!(suppressed(0, 0), (Some(0), Some(0), Some(0)));
        assert_eq!(suppressed(1, 0), (None, None, None), "one person");
        assert_eq!(suppressed(1, 1), (None, None, None));
        assert_eq!(
            suppressed(2, 5),
            (None, None, Some(7)),
            "the 2 hidden, so the 5 too"
        );
        assert_eq!(suppressed(5, 1), (None, None, Some(6)));
        assert_eq!(suppressed(3, 0), (Some(3), Some(0), Some(3)));
        assert_eq!(suppressed(3, 4), (Some(3), Some(4), Some(7)));
        // Every published row: either all shown, or what is shown does not
        // determine a hidden count below the threshold.
        for bollo in 0..8 {
            for exempt in 0..8 {
                let (b, e, t) = suppressed(bollo, exempt);
                if let (Some(t), Some(b)) = (t, b) {
                    assert_eq!(e, Some(t - b));
                }
                if let (Some(t), Some(e)) = (t, e) {
                    assert_eq!(b, Some(t - e));
                }
            }
        }
    }

    #[test]
    fn the_csv_has_the_columns_and_empty_suppressed_fields() {
        let rows = vec![
            Row {
                year: 2026,
                month: 3,
                kind: "Certificato di residenza",
                bollo: Some(4),
                exempt: Some(3),
                total: Some(7),
            },
            Row {
                year: 2026,
                month: 3,
                kind: "Certificato di stato libero",
                bollo: None,
                exempt: None,
                total: None,
            },
        ];
        assert_eq!(
            csv(&rows),
            "ANNO,MESE,TIPOLOGIA_CERTIFICATO,BOLLO,ESENTI_DA_BOLLO,TOTALE\r\n\
             2026,3,\"Certificato di residenza\",4,3,7\r\n\
             2026,3,\"Certificato di stato libero\",,,\r\n"
        );
    }
}
