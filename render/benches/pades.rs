//! Time to put the PAdES seal on a one-page certificate: parse the PDF,
//! write the incremental update, hash, sign and build the CMS.
//!
//! `cargo bench -p issuer --bench pades`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keys::{Comune, KeySigner, generate_ca, generate_signer};
use printpdf::{
    BuiltinFont, Mm, Op, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, TextItem,
};
use render::pades::{SignOptions, sign_pdf};
use seal::ComuneCode;
use time::OffsetDateTime;

fn signer(now: OffsetDateTime) -> KeySigner {
    let comune = Comune {
        code: ComuneCode::parse("999001").expect("code"),
        name: "Borgo Sigillo".into(),
    };
    let ca = generate_ca(&comune, now).expect("CA");
    let signer = generate_signer(&comune, &ca, now).expect("signer");
    KeySigner::new(&signer.certificate, &signer.key)
        .expect("signer")
        .with_ca(&ca.certificate)
}

/// A page of certificate text in a built-in font, as printpdf writes it.
fn certificate_pdf() -> Vec<u8> {
    let font = PdfFontHandle::Builtin(BuiltinFont::Helvetica);
    let mut ops = vec![
        Op::StartTextSection,
        Op::SetFont {
            font,
            size: Pt(11.0),
        },
    ];
    for line in 0..40 {
        ops.push(Op::SetTextCursor {
            pos: Point::new(Mm(20.0), Mm(270.0 - 6.0 * line as f32)),
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(format!(
                "Riga {line}: si certifica che la persona indicata risiede nel Comune di Borgo Sigillo"
            ))],
        });
    }
    ops.push(Op::EndTextSection);
    let mut doc = PdfDocument::new("Certificato di residenza");
    let mut warnings = Vec::new();
    doc.with_pages(vec![PdfPage::new(Mm(210.0), Mm(297.0), ops)])
        .save(&PdfSaveOptions::default(), &mut warnings)
}

/// A one-page PDF carrying a 512 × 512 grey image of noise (256 KiB that no
/// filter would shrink): the size class of a certificate with embedded
/// fonts and a logo (lopdf, classic cross-reference table).
fn large_pdf() -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    // A xorshift sequence.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let blob: Vec<u8> = (0..256 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let image_id = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 512, "Height" => 512,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
        },
        blob,
    ));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Resources" => dictionary! { "XObject" => dictionary! { "Im1" => image_id } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("saves");
    bytes
}

fn benches(c: &mut Criterion) {
    let now = OffsetDateTime::now_utc();
    let signer = signer(now);
    let options = SignOptions {
        signing_time: now,
        name: "Comune di Borgo Sigillo".into(),
        reason: "Rilascio del certificato di residenza".into(),
        location: "Borgo Sigillo".into(),
    };
    let mut group = c.benchmark_group("pades");
    group.throughput(Throughput::Elements(1));
    for (name, pdf) in [
        ("printpdf_one_page", certificate_pdf()),
        ("lopdf_256k_stream", large_pdf()),
    ] {
        let signed = sign_pdf(&pdf, &signer, &options).expect("signs");
        println!(
            "{name}: input {} bytes, signed {} bytes, {} bytes added",
            pdf.len(),
            signed.len(),
            signed.len() - pdf.len()
        );
        group.bench_function(format!("sign_pdf/{name}"), |b| {
            b.iter(|| sign_pdf(black_box(&pdf), &signer, &options).expect("signs"))
        });
    }
    group.finish();
}

criterion_group!(pades, benches);
criterion_main!(pades);
