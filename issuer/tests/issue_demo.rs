//! Issuing from the demo registry, as the counter does: every kind of the
//! catalogue, checked by tools we did not write. The PDF's text is a
//! snapshot (numbers and dates redacted); `qpdf --check` passes; pdfsig and
//! pyHanko find the PAdES seal valid and covering the whole file, and both
//! notice a changed byte; the QR code, rasterised at 300 and 150 dpi,
//! decodes with rxing and zbarimg and its seal verifies. Every refusal case
//! of the demo data is refused with its reason, and a certificate that is
//! not issued is never downloadable.

use std::path::Path;
use std::process::Command;

use issuer::catalogue::{kind_by_slug, parse_usage};
use issuer::eligibility::Refusal;
use issuer::register::{Issuance, IssueError, Issued, Issuer};
use issuer::templates::Templates;
use issuer::withdraw::{WithdrawError, Withdrawal, withdraw};
use keys::{Comune, KeyStore};
use seal::{CertificateKind, CodiceFiscale};
use store::model::CertificateStatus;
use store::{StatusChange, Store, StoreError};
use testkit::command_available;
use testkit::pdf_tools::{
    Scratch, assert_totally_signed, pdfsig, poppler_and_qpdf_available, pyhanko, pyhanko_available,
};
use time::OffsetDateTime;

/// A head of family, married, fully certifiable (demo id 55).
const PARISI: &str = "PRSRRT80H69G504L";

struct Demo {
    _dir: tempfile::TempDir,
    issuer: Issuer,
    ca_pem: String,
}

async fn demo() -> Demo {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = KeyStore::new(dir.path());
    let comune = Comune {
        code: store::demo::code(),
        name: store::demo::NAME.into(),
    };
    // Outside validators check certificates at their own clock: keys made now.
    keys.init(
        &comune,
        OffsetDateTime::now_utc() - time::Duration::minutes(5),
        false,
    )
    .expect("keys");
    let url = format!(
        "sqlite:{}?mode=rwc",
        dir.path().join("sigillo.db").display()
    );
    let store = Store::connect(&url).await.expect("store");
    store
        .upsert_comune(&store::demo::comune())
        .await
        .expect("comune");
    store::demo::load(&store).await.expect("demo data");
    let ca_pem = keys
        .certificates(comune.code)
        .expect("certificates")
        .ca
        .to_pem();
    let issuer = Issuer::new(store, keys, Templates::builtin().expect("templates"));
    Demo {
        _dir: dir,
        issuer,
        ca_pem,
    }
}

fn request(slug: &str, cf: &str, usage: &str) -> Issuance {
    Issuance {
        comune: store::demo::code(),
        spec: kind_by_slug(slug).expect("kind"),
        fiscal_code: CodiceFiscale::parse(cf).expect("fiscal code"),
        parts: Vec::new(),
        parcels: Vec::new(),
        usage: parse_usage(usage).expect("use"),
        issued_by: "test".into(),
        now: OffsetDateTime::now_utc(),
    }
}

/// One request per kind of the catalogue, each for a suitable demo person.
fn every_kind() -> Vec<Issuance> {
    let mut requests: Vec<Issuance> = [
        ("nascita", PARISI),
        ("matrimonio", PARISI),
        ("cittadinanza", PARISI),
        ("esistenza_in_vita", PARISI),
        ("residenza", PARISI),
        ("residenza_aire", "CLMNMO73R54B650N"),
        ("stato_civile", PARISI),
        ("stato_famiglia", PARISI),
        ("stato_famiglia_stato_civile", PARISI),
        ("residenza_convivenza", "SNTDRD40E26C781L"),
        ("stato_famiglia_aire", "CLMNMO73R54B650N"),
        ("stato_famiglia_parentela", PARISI),
        ("stato_libero", "VLNMNL53C27A275T"),
        ("unione_civile", "FNTVNT62D66M999A"),
        ("contratto_convivenza", "FBBLNZ56D22D107T"),
        ("contestuale", PARISI),
        ("cdu", PARISI),
    ]
    .into_iter()
    .map(|(slug, cf)| request(slug, cf, "esente:9"))
    .collect();
    for request in &mut requests {
        match request.spec.kind {
            CertificateKind::Contestuale => {
                request.parts = vec![
                    CertificateKind::Residenza,
                    CertificateKind::Cittadinanza,
                    CertificateKind::StatoFamiglia,
                ];
            }
            CertificateKind::DestinazioneUrbanistica => {
                request.usage = parse_usage("esente:99:compravendita").expect("use");
                request.parcels = vec![
                    ("1".into(), "28".into(), None),
                    ("1".into(), "76".into(), None),
                ];
            }
            _ => {}
        }
    }
    requests
}

/// The PDF's text for a snapshot: what changes from run to run (number,
/// dates, the seal's fiscal-code-free parts) is redacted. The diagonal
/// demo mark is drawn, not written, so it adds no text.
fn snapshot_text(pdf: &[u8]) -> Option<String> {
    if !command_available("pdftotext", "-v") {
        return None;
    }
    let scratch = Scratch::new();
    let path = scratch.write("c.pdf", pdf);
    let output = Command::new("pdftotext")
        .arg("-raw")
        .arg(&path)
        .arg("-")
        .output()
        .expect("runs");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = Vec::new();
    for line in text.lines() {
        lines.push(redact(line));
    }
    Some(lines.join("\n"))
}

fn redact(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        // dd/mm/yyyy of the issue date and yyyy/nnnnnn of the number.
        let rest: String = chars[i..].iter().take(11).collect();
        let is_date = rest.len() >= 10
            && rest.chars().take(10).enumerate().all(|(k, c)| {
                if k == 2 || k == 5 {
                    c == '/'
                } else {
                    c.is_ascii_digit()
                }
            });
        let is_number = rest.chars().count() == 11
            && rest
                .chars()
                .enumerate()
                .all(|(k, c)| if k == 4 { c == '/' } else { c.is_ascii_digit() });
        if is_number {
            out.push_str("[NUMERO]");
            i += 11;
        } else if is_date
            && recent_days()
                .iter()
                .any(|day| rest.starts_with(day.as_str()))
        {
            out.push_str("[OGGI]");
            i += 10;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Today and yesterday in Rome: a test run across midnight prints either.
fn recent_days() -> [String; 2] {
    let now = OffsetDateTime::now_utc();
    [
        seal::rome::date_text(now),
        seal::rome::date_text(now - time::Duration::days(1)),
    ]
}

#[tokio::test]
async fn every_kind_issues_from_the_demo_registry_with_the_text_it_should_print() {
    let demo = demo().await;
    for request in every_kind() {
        let issued = demo
            .issuer
            .issue(&request)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", request.spec.slug));
        assert_eq!(issued.record.kind, request.spec.kind);
        assert!(
            issued.pdf.len() <= 40 * 1024,
            "{}: {} bytes",
            request.spec.slug,
            issued.pdf.len()
        );
        if let Some(text) = snapshot_text(&issued.pdf) {
            insta::assert_snapshot!(request.spec.slug, text);
        }
    }
}

#[tokio::test]
async fn every_kind_is_totally_signed_for_pdfsig_qpdf_and_pyhanko() {
    if !poppler_and_qpdf_available() || !pyhanko_available() {
        return;
    }
    let demo = demo().await;
    let scratch = Scratch::new();
    let ca = scratch.write("ca.pem", demo.ca_pem.as_bytes());
    for request in every_kind() {
        let slug = request.spec.slug;
        let issued = demo.issuer.issue(&request).await.expect("issued");
        let pdf = scratch.write(&format!("{slug}.pdf"), &issued.pdf);
        assert_totally_signed(&pdf, &ca, slug);
    }
}

#[tokio::test]
async fn a_changed_byte_is_reported_by_pdfsig_and_pyhanko() {
    if !poppler_and_qpdf_available() || !pyhanko_available() {
        return;
    }
    let demo = demo().await;
    let issued = demo
        .issuer
        .issue(&request("residenza", PARISI, "esente:9"))
        .await
        .expect("issued");
    let scratch = Scratch::new();
    let ca = scratch.write("ca.pem", demo.ca_pem.as_bytes());
    // Inside the signed range: a letter of the document's title.
    let mut changed = issued.pdf.clone();
    let at = changed
        .windows(6)
        .position(|w| w == b"/Title")
        .expect("title");
    changed[at + 1] ^= 0x20;
    let path = scratch.write("changed.pdf", &changed);
    let report = pdfsig(&path);
    assert!(!report.contains("Signature is Valid."), "pdfsig: {report}");
    let (code, verdict) = pyhanko(&path, &ca);
    assert_ne!(code, 0, "pyHanko: {verdict}");
}

#[tokio::test]
async fn the_printed_qr_decodes_with_rxing_and_zbarimg_at_300_and_150_dpi_and_verifies() {
    if !command_available("pdftoppm", "-v") || !command_available("zbarimg", "--version") {
        return;
    }
    let demo = demo().await;
    let trust = demo.issuer.trust().expect("trust list");
    for slug in ["residenza", "stato_famiglia_parentela"] {
        let issued: Issued = demo
            .issuer
            .issue(&request(slug, PARISI, "esente:9"))
            .await
            .expect("issued");
        let scratch = Scratch::new();
        let pdf = scratch.write("c.pdf", &issued.pdf);
        for dpi in ["300", "150"] {
            let png = rasterise(&pdf, dpi, &scratch);
            let zbar = Command::new("zbarimg")
                .args(["-q", "--raw"])
                .arg(&png)
                .output()
                .expect("zbarimg");
            let zbar_text = String::from_utf8_lossy(&zbar.stdout).trim().to_owned();
            let ours = decode_with_rxing(&png);
            for (reader, text) in [("zbarimg", &zbar_text), ("rxing", &ours)] {
                let verified = seal::verify_text(text, &trust, OffsetDateTime::now_utc())
                    .unwrap_or_else(|e| panic!("{slug} at {dpi} dpi via {reader}: {e}"));
                assert_eq!(verified.claims().number, issued.record.number);
            }
        }
    }
}

fn rasterise(pdf: &Path, dpi: &str, scratch: &Scratch) -> std::path::PathBuf {
    let prefix = pdf.with_file_name(format!("page{dpi}"));
    let status = Command::new("pdftoppm")
        .args(["-r", dpi, "-gray", "-singlefile"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .expect("pdftoppm");
    assert!(status.success());
    let _ = scratch;
    prefix.with_extension("pgm")
}

/// Reads a binary PGM (what `pdftoppm -gray` writes) and decodes the QR
/// code in it with rxing, the reader the verifier uses.
fn decode_with_rxing(pgm: &Path) -> String {
    let bytes = std::fs::read(pgm).expect("raster");
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P5", "binary PGM");
    let width: u32 = fields[1].parse().expect("width");
    let height: u32 = fields[2].parse().expect("height");
    let pixels = bytes[at + 1..].to_vec();
    let result =
        rxing::helpers::detect_in_luma(pixels, width, height, Some(rxing::BarcodeFormat::QR_CODE))
            .expect("rxing finds the QR code");
    result.getText().to_owned()
}

#[tokio::test]
async fn every_refusal_case_of_the_demo_data_is_refused_with_its_reason() {
    let demo = demo().await;
    let cases = [
        ("residenza", "FBBPLG40A26E172E", Refusal::Deceased),
        ("residenza", "FRNTRS86S59M999N", Refusal::Cancelled),
        ("residenza", "SLASLV82S55H207R", Refusal::NotCertifiable),
        (
            "cittadinanza",
            "VLNPLA44E08M999I",
            Refusal::PartiallyCertifiable,
        ),
        ("residenza", "MRTDRD87B20H478E", Refusal::Interdicted),
        ("residenza", "CNTPLG95P05L185B", Refusal::OpenProcedure),
        (
            "stato_famiglia",
            "KLLRSU72E02Z133E",
            Refusal::FamilyWithoutHead,
        ),
        ("residenza", "CLMNMO73R54B650N", Refusal::NotResident),
        ("residenza_aire", PARISI, Refusal::NotAire),
        ("stato_libero", PARISI, Refusal::NotFree),
        ("unione_civile", PARISI, Refusal::NoCivilUnion),
    ];
    for (slug, cf, expected) in cases {
        match demo.issuer.issue(&request(slug, cf, "esente:9")).await {
            Err(IssueError::Refused(refusal)) => assert_eq!(refusal, expected, "{slug} {cf}"),
            other => panic!(
                "{slug} {cf}: expected {expected:?}, got {:?}",
                other.map(|i| i.record.number)
            ),
        }
    }
    let listed = demo
        .issuer
        .store()
        .list_certificates(store::demo::code(), &Default::default())
        .await
        .expect("list");
    assert!(listed.is_empty(), "a refusal registered a certificate");
}

#[tokio::test]
async fn a_certificate_not_issued_is_never_downloadable() {
    let demo = demo().await;
    let store = demo.issuer.store();
    let code = store::demo::code();
    // Certificates in bollo wait for payment; until payments exist, the
    // registry's pending state is reached only through the store.
    let pending = store
        .register_certificate(code, 2026, |_, _| {
            Ok::<_, std::convert::Infallible>(store::NewCertificate {
                kind: CertificateKind::Residenza,
                holder: CodiceFiscale::parse(PARISI).expect("cf"),
                usage: parse_usage("bollo").expect("use"),
                clause: seal::Clause::Standard,
                status: store::model::CertificateStatus::Pending,
                created_at: OffsetDateTime::now_utc(),
                issued_at: None,
                expires_at: None,
                seal: vec![0xD2],
                kid: seal::Kid([0; 8]),
                pdf: b"%PDF-1.7 pending".to_vec(),
                issued_by: "test".into(),
                marca_id: None,
                origin: None,
            })
        })
        .await
        .expect("registered");
    assert!(matches!(
        store.certificate_pdf(code, &pending.id).await,
        Err(StoreError::PdfNotAvailable { .. })
    ));
    store
        .set_certificate_status(code, &pending.id, StatusChange::Void)
        .await
        .expect("void");
    assert!(matches!(
        store.certificate_pdf(code, &pending.id).await,
        Err(StoreError::PdfNotAvailable { .. })
    ));
    // A certificate in bollo is not issued without its payment.
    assert!(matches!(
        demo.issuer
            .issue(&request("residenza", PARISI, "bollo"))
            .await,
        Err(IssueError::Prepare(
            issuer::prepare::PrepareError::BolloNotPaid
        ))
    ));
}

/// The events of the audit chain about `subject`.
async fn events_about(store: &Store, subject: &str) -> Vec<store::AuditRecord> {
    store
        .audit_entries(store::demo::code(), Some(subject), 100)
        .await
        .expect("audit")
}

#[tokio::test]
async fn a_revocation_is_audited_and_a_second_one_is_refused() {
    let demo = demo().await;
    let store = demo.issuer.store();
    let code = store::demo::code();
    let issued = demo
        .issuer
        .issue(&request("residenza", PARISI, "esente:9"))
        .await
        .expect("issued");
    let number = issued.record.number;
    let reason = || Withdrawal::Revoke {
        reason: "dati anagrafici errati".into(),
    };

    let revoked = withdraw(
        store,
        code,
        number,
        reason(),
        "operatore-7",
        OffsetDateTime::now_utc(),
    )
    .await
    .expect("revoked");

    assert_eq!(revoked.status, CertificateStatus::Revoked);
    assert_eq!(
        revoked.revocation_reason.as_deref(),
        Some("dati anagrafici errati")
    );
    let events = events_about(store, &issued.record.id).await;
    let revocations: Vec<_> = events
        .iter()
        .filter(|entry| entry.event == "certificate.revoked")
        .collect();
    assert_eq!(revocations.len(), 1, "{events:?}");
    assert_eq!(revocations[0].actor, "operatore-7");
    assert_eq!(revocations[0].detail, "", "no reason text in the chain");

    let second = withdraw(
        store,
        code,
        number,
        Withdrawal::Revoke {
            reason: "un altro motivo".into(),
        },
        "operatore-8",
        OffsetDateTime::now_utc(),
    )
    .await;

    let Err(error @ WithdrawError::AlreadyRevoked { .. }) = second else {
        panic!("a second revocation is refused: {second:?}");
    };
    assert!(error.to_string().contains("già revocato"), "{error}");
    let after = store
        .certificate(code, &issued.record.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(
        after.revocation_reason.as_deref(),
        Some("dati anagrafici errati")
    );
    assert_eq!(after.revoked_at, revoked.revoked_at);
    assert_eq!(events_about(store, &issued.record.id).await, events);
    assert!(matches!(store.verify_audit_chain(code).await, Ok(Ok(_))));
}

#[tokio::test]
async fn a_supersession_names_its_replacement_and_only_an_issued_one_of_the_same_holder() {
    let demo = demo().await;
    let store = demo.issuer.store();
    let code = store::demo::code();
    let now = OffsetDateTime::now_utc;
    let old = demo
        .issuer
        .issue(&request("residenza", PARISI, "esente:9"))
        .await
        .expect("issued")
        .record;
    let new = demo
        .issuer
        .issue(&request("residenza", PARISI, "esente:9"))
        .await
        .expect("issued")
        .record;
    let supersede = |by| Withdrawal::Supersede { by };

    assert!(matches!(
        withdraw(store, code, old.number, supersede(old.number), "op", now()).await,
        Err(WithdrawError::SelfReplacement)
    ));
    let unknown = seal::CertificateNumber::new(2026, 999_999).expect("number");
    assert!(matches!(
        withdraw(store, code, old.number, supersede(unknown), "op", now()).await,
        Err(WithdrawError::ReplacementNotFound(_))
    ));
    let superseded = withdraw(store, code, old.number, supersede(new.number), "op", now())
        .await
        .expect("superseded");

    assert_eq!(superseded.status, CertificateStatus::Superseded);
    let events = events_about(store, &old.id).await;
    let entry = events
        .iter()
        .find(|entry| entry.event == "certificate.superseded")
        .expect("audited");
    assert_eq!(entry.detail, format!("by={}", new.number));
    assert!(matches!(
        withdraw(store, code, old.number, supersede(new.number), "op", now()).await,
        Err(WithdrawError::AlreadySuperseded(_))
    ));
    assert!(matches!(
        withdraw(
            store,
            code,
            old.number,
            Withdrawal::Revoke {
                reason: "errore".into()
            },
            "op",
            now()
        )
        .await,
        Err(WithdrawError::AlreadySuperseded(_))
    ));
}

#[tokio::test]
async fn a_contestuale_ends_its_list_with_a_full_stop_and_an_exchange_between_administrations_keeps_no_prohibition()
 {
    let demo = demo().await;
    let mut request = request("contestuale", PARISI, "esente:9");
    request.parts = vec![CertificateKind::Residenza, CertificateKind::Cittadinanza];
    let issued = demo.issuer.issue(&request).await.expect("issued");
    let Some(text) = snapshot_text(&issued.pdf) else {
        return;
    };
    assert!(text.contains("BORGO SIGILLO;"), "{text}");
    assert!(text.contains("cittadinanza ITALIANA."), "{text}");
    assert!(!text.contains("ITALIANA;"), "{text}");

    let exchange = demo
        .issuer
        .issue(&self::request("residenza", PARISI, "esente:10"))
        .await
        .expect("issued");
    let text = snapshot_text(&exchange.pdf).expect("pdftotext was there a moment ago");
    assert!(
        text.contains("scambio tra pubbliche amministrazioni (DPR 642/1972, Tabella B, art. 16)"),
        "{text}"
    );
    assert!(!text.contains("non può essere prodotto"), "{text}");
    // Exemption 10 waives the diritti too.
    assert!(
        text.contains("Diritti di segreteria: non dovuti."),
        "{text}"
    );
}
