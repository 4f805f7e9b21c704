//! The printed pagoPA payment notice («avviso di pagamento»), for paying a
//! request at any pagoPA channel: a bank, a post office, a shop with a
//! payment terminal, an app that reads the code.
//!
//! One A4 page: the creditor, what is paid, the amount and the deadline,
//! the notice number and the creditor's fiscal code in large digits, and the
//! QR code that pagoPA channels read, `PAGOPA|002|<notice>|<creditor>|<cents>`
//! ([`seal::notice::NoticeNumber::payment_qr_text`]). It carries the data of
//! pagoPA's notice, not its official graphic layout (the «avviso pagoPA»
//! model with the Poste data matrix); a comune that prints notices through
//! its intermediary's service keeps using that.

use seal::notice::NoticeNumber;
use time::OffsetDateTime;

use crate::fonts::Weight;
use crate::pdf::{Canvas, Meta, RenderError, grey, mm, wrap};
use crate::qr::{QrError, SealQr};

/// What the notice says.
#[derive(Debug, Clone)]
pub struct NoticePage {
    /// The creditor as the payer sees it, e.g. «Comune di Borgo Sigillo».
    pub creditor_name: String,
    /// The creditor's fiscal code (11 digits).
    pub creditor_fiscal_code: String,
    /// What is paid for.
    pub description: String,
    /// The amount, in cents.
    pub amount_cents: i64,
    /// The notice number.
    pub notice: NoticeNumber,
    /// Until when it can be paid, as printed (e.g. «03/12/2026 alle 16:15»).
    pub due: String,
    /// Who pays, as printed, if known.
    pub debtor: Option<String>,
    /// A demo notice: said so on the page.
    pub demo: bool,
    /// When the notice was made.
    pub created_at: OffsetDateTime,
}

/// Why a notice could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoticeError {
    /// The page could not be drawn or written.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The QR code could not be made or read back.
    #[error(transparent)]
    Qr(#[from] QrError),
}

const PAGE_WIDTH_MM: f32 = 210.0;
const PAGE_HEIGHT_MM: f32 = 297.0;
const MARGIN_MM: f32 = 20.0;
/// A module of the payment code: 0.6 mm, larger than the seal's, for the
/// readers of shop terminals.
const MODULE_MM: f32 = 0.6;

/// `1652` → «16,52 €».
fn euro(cents: i64) -> String {
    format!("{},{:02} €", cents / 100, (cents % 100).abs())
}

/// The notice number in groups of four, as printed notices write it.
fn grouped(notice: &NoticeNumber) -> String {
    let digits = notice.as_str().as_bytes();
    digits
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Renders the notice to PDF bytes. The QR code is decoded back from a
/// raster before the page is made.
pub fn render_notice(page: &NoticePage) -> Result<Vec<u8>, NoticeError> {
    let qr = SealQr::encode(
        &page
            .notice
            .payment_qr_text(&page.creditor_fiscal_code, page.amount_cents),
    )?;
    qr.check_readable()?;
    let mut canvas = Canvas::default();
    let index = canvas.blank_page();
    let left = mm(MARGIN_MM).0;
    let right = mm(PAGE_WIDTH_MM - MARGIN_MM).0;
    let width = right - left;
    let mut y = mm(PAGE_HEIGHT_MM - MARGIN_MM).0 - 10.0;

    canvas.text(
        index,
        Weight::Bold,
        20.0,
        left,
        y,
        "AVVISO DI PAGAMENTO",
        grey(0.0),
    );
    y -= 18.0;
    canvas.text(
        index,
        Weight::Regular,
        10.0,
        left,
        y,
        "pagoPA — sistema dei pagamenti della pubblica amministrazione",
        grey(0.3),
    );
    y -= 10.0;
    canvas.rule(index, left, right, y, 1.0, grey(0.2));
    if page.demo {
        y -= 18.0;
        canvas.text(
            index,
            Weight::Bold,
            11.0,
            left,
            y,
            "DEMO — avviso di prova: nessun pagamento reale è possibile",
            grey(0.0),
        );
    }
    y -= 26.0;
    let field =
        |canvas: &mut Canvas, y: &mut f32, label: &str, value: &str| -> Result<(), RenderError> {
            canvas.text(index, Weight::SemiBold, 9.0, left, *y, label, grey(0.3));
            *y -= 14.0;
            for line in wrap(Weight::Regular, 12.0, value, width)? {
                canvas.text(index, Weight::Regular, 12.0, left, *y, &line, grey(0.0));
                *y -= 15.0;
            }
            *y -= 8.0;
            Ok(())
        };
    field(&mut canvas, &mut y, "ENTE CREDITORE", &page.creditor_name)?;
    field(
        &mut canvas,
        &mut y,
        "CODICE FISCALE ENTE CREDITORE",
        &page.creditor_fiscal_code,
    )?;
    if let Some(debtor) = &page.debtor {
        field(&mut canvas, &mut y, "DESTINATARIO DELL'AVVISO", debtor)?;
    }
    field(
        &mut canvas,
        &mut y,
        "OGGETTO DEL PAGAMENTO",
        &page.description,
    )?;

    // Amount and deadline, then the codes, in a frame.
    let frame_height = 150.0;
    let frame_bottom = y - frame_height;
    canvas.frame(index, left, frame_bottom, width, frame_height);
    let inner = left + 12.0;
    let mut row = y - 24.0;
    canvas.text(
        index,
        Weight::SemiBold,
        9.0,
        inner,
        row,
        "IMPORTO",
        grey(0.3),
    );
    canvas.text(
        index,
        Weight::SemiBold,
        9.0,
        inner + width / 2.0,
        row,
        "DA PAGARE ENTRO",
        grey(0.3),
    );
    row -= 22.0;
    canvas.text(
        index,
        Weight::Bold,
        20.0,
        inner,
        row,
        &euro(page.amount_cents),
        grey(0.0),
    );
    canvas.text(
        index,
        Weight::Regular,
        12.0,
        inner + width / 2.0,
        row,
        &page.due,
        grey(0.0),
    );
    row -= 34.0;
    canvas.text(
        index,
        Weight::SemiBold,
        9.0,
        inner,
        row,
        "CODICE AVVISO",
        grey(0.3),
    );
    row -= 22.0;
    canvas.text(
        index,
        Weight::Bold,
        18.0,
        inner,
        row,
        &grouped(&page.notice),
        grey(0.0),
    );
    row -= 20.0;
    canvas.text(
        index,
        Weight::Regular,
        9.0,
        inner,
        row,
        &format!(
            "Codice fiscale ente creditore: {}",
            page.creditor_fiscal_code
        ),
        grey(0.0),
    );

    // The QR code, and where to pay.
    let module = mm(MODULE_MM).0;
    let qr_bottom = frame_bottom - 30.0 - (qr.width() + 8) as f32 * module;
    let side = canvas.qr(index, &qr, left, qr_bottom, module);
    let text_left = left + side + 16.0;
    let text_width = right - text_left;
    let mut ty = qr_bottom + side - 14.0;
    canvas.text(
        index,
        Weight::SemiBold,
        11.0,
        text_left,
        ty,
        "Dove pagare",
        grey(0.0),
    );
    let how = [
        "Online, dal portale del Comune o dall'app IO, con carta, conto o altri metodi.",
        "Presso banche, uffici postali, punti vendita e sportelli automatici aderenti a pagoPA, \
         inquadrando il codice QR o indicando il codice avviso e il codice fiscale dell'ente.",
        "L'avviso si paga una volta sola: se è già stato pagato, il sistema lo segnala e non \
         addebita nulla.",
    ];
    for paragraph in how {
        ty -= 6.0;
        for line in wrap(Weight::Regular, 9.5, paragraph, text_width)? {
            ty -= 12.5;
            canvas.text(index, Weight::Regular, 9.5, text_left, ty, &line, grey(0.0));
        }
    }
    let bytes = canvas.write(&Meta {
        title: "Avviso di pagamento pagoPA",
        author: &page.creditor_name,
        subject: &format!("Avviso {}", page.notice.as_str()),
        created_at: page.created_at,
        seal_url: None,
    })?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> NoticePage {
        NoticePage {
            creditor_name: "Comune di Borgo Sigillo".into(),
            creditor_fiscal_code: "99999999999".into(),
            description: "Certificato n. 2026/000001 — imposta di bollo e diritti di segreteria"
                .into(),
            amount_cents: 1652,
            notice: NoticeNumber::parse("301202600000000103").expect("notice"),
            due: "03/12/2026 alle 16:15".into(),
            debtor: Some("Sara Romano".into()),
            demo: true,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_notice_is_a_pdf_and_the_number_is_grouped() {
        let bytes = render_notice(&page()).expect("rendered");
        assert!(bytes.starts_with(b"%PDF-"));
        assert_eq!(
            grouped(&page().notice),
            "3012 0260 0000 0001 03",
            "in fours"
        );
        assert_eq!(euro(1652), "16,52 €");
        assert_eq!(euro(5), "0,05 €");
    }
}
