//! The certificate as a PDF page (A4): the comune's header, the title, the
//! text from the kind's template, the bollo box, the printed seal with its
//! number and verification address, and how to check the document. Fonts
//! are embedded as per-document subsets; the seal's text also goes into the
//! document information dictionary (`/SigilloSeal`) so a verifier can read a
//! PDF without rendering it.

use std::collections::{BTreeMap, BTreeSet};

use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem, TextMatrix, WindingOrder,
};
use time::OffsetDateTime;

use crate::fonts::{self, FontError, Weight};
use crate::qr::{QUIET_ZONE_MODULES, SealQr};

/// The document information key that carries the seal's text.
pub const SEAL_INFO_KEY: &str = "SigilloSeal";

/// The printed size of one QR module. DESIGN.md asks for at least 0.5 mm.
pub const QR_MODULE_MM: f32 = 0.5;

const PAGE_WIDTH_MM: f32 = 210.0;
const PAGE_HEIGHT_MM: f32 = 297.0;
const MARGIN_MM: f32 = 20.0;
const BODY_SIZE: f32 = 10.5;
const BODY_LEADING: f32 = 14.5;
const SMALL_SIZE: f32 = 8.0;
/// Height kept free at the foot of the last page for the seal block.
const SEAL_BLOCK_MM: f32 = 72.0;

/// A piece of a certificate's text, as the template lays it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A centred heading line (`# CERTIFICA`).
    Heading(String),
    /// A paragraph of running text, wrapped to the page.
    Paragraph(String),
    /// A table: the first row is the header.
    Table(Vec<Vec<String>>),
}

/// Everything printed on a certificate.
#[derive(Debug, Clone)]
pub struct CertificatePage {
    /// «Comune di …» as printed.
    pub comune_name: String,
    /// The line under it, e.g. «Provincia di XX — Servizi demografici».
    pub comune_subtitle: String,
    /// The certificate's title, e.g. «CERTIFICATO DI RESIDENZA».
    pub title: String,
    /// The certificate number, e.g. `2026/000123`.
    pub number: String,
    /// The text, from the kind's template.
    pub body: Vec<Block>,
    /// The lines of the stamp-duty box.
    pub bollo: Vec<String>,
    /// The seal's QR code.
    pub qr: SealQr,
    /// The short verification address printed under the code.
    pub verification_address: String,
    /// One line on how to check the document.
    pub how_to_check: String,
    /// Place and date of issue, printed at the end of the text.
    pub place_and_date: String,
    /// A demo certificate: marked «DEMO — privo di valore legale».
    pub demo: bool,
    /// The seal's URL, for the document information dictionary.
    pub seal_url: String,
    /// The document's creation time.
    pub created_at: OffsetDateTime,
}

/// Why a page could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// A font could not be loaded or subset.
    #[error(transparent)]
    Font(#[from] FontError),
    /// The PDF could not be written.
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

/// Renders the certificate to PDF bytes.
pub fn render(page: &CertificatePage) -> Result<Vec<u8>, RenderError> {
    let mut canvas = Canvas::default();
    if canvas.compose(page, None)? == SealBlock::Alone {
        // The text filled the page and the seal block went over alone: a
        // seal must stand with the text it seals, so the last paragraphs
        // (use, clause, validity) go over with it.
        let keep = KEEP_WITH_SEAL.min(page.body.len());
        let mut again = Canvas::default();
        again.compose(page, Some(page.body.len() - keep))?;
        canvas = again;
    }
    canvas.finish(page)
}

/// How many of the last body blocks go to the next page with the seal
/// block when it does not fit under the text.
const KEEP_WITH_SEAL: usize = 3;

/// Where the seal block landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SealBlock {
    /// Below text on the same page.
    WithText,
    /// On a page of its own.
    Alone,
}

pub(crate) fn mm(value: f32) -> Pt {
    Mm(value).into_pt()
}

pub(crate) fn grey(level: f32) -> Color {
    Color::Rgb(Rgb::new(level, level, level, None))
}

const BLUE: (f32, f32, f32) = (0.0, 0.4, 0.8);

/// A letter of the demo mark: its strokes, as polylines in a box one unit
/// high, and its advance.
type StrokeLetter = (&'static [&'static [(f32, f32)]], f32);

/// «DEMO», drawn with straight strokes.
const DEMO_LETTERS: [StrokeLetter; 4] = [
    (
        &[&[
            (0.0, 0.0),
            (0.0, 1.0),
            (0.5, 1.0),
            (0.75, 0.85),
            (0.85, 0.5),
            (0.75, 0.15),
            (0.5, 0.0),
            (0.0, 0.0),
        ]],
        1.1,
    ),
    (
        &[
            &[(0.75, 1.0), (0.0, 1.0), (0.0, 0.0), (0.75, 0.0)],
            &[(0.0, 0.5), (0.55, 0.5)],
        ],
        1.0,
    ),
    (
        &[&[(0.0, 0.0), (0.0, 1.0), (0.5, 0.35), (1.0, 1.0), (1.0, 0.0)]],
        1.3,
    ),
    (
        &[&[
            (0.42, 0.0),
            (0.7, 0.1),
            (0.85, 0.5),
            (0.7, 0.9),
            (0.42, 1.0),
            (0.14, 0.9),
            (0.0, 0.5),
            (0.14, 0.1),
            (0.42, 0.0),
        ]],
        1.0,
    ),
];

/// Pages being drawn: shapes per page, and the text runs laid on them
/// once the fonts are subset to what they use.
#[derive(Default)]
pub(crate) struct Canvas {
    pages: Vec<Vec<Op>>,
    /// Text cursor: the baseline of the next line, in points from the bottom.
    y: f32,
    used: BTreeMap<Weight, BTreeSet<char>>,
    texts: Vec<TextRun>,
}

/// A run of text, kept until the fonts are subset to what the page uses.
struct TextRun {
    page: usize,
    weight: Weight,
    size: f32,
    placement: Placement,
    text: String,
    color: Color,
}

enum Placement {
    /// Baseline start, in points from the page's lower left corner.
    At(f32, f32),
}

impl Canvas {
    /// Lays the page out; `break_before` starts a new page before that
    /// body block. Says whether the seal block ended up alone.
    fn compose(
        &mut self,
        page: &CertificatePage,
        break_before: Option<usize>,
    ) -> Result<SealBlock, RenderError> {
        self.new_page(page);
        let left = mm(MARGIN_MM).0;
        let width = mm(PAGE_WIDTH_MM - 2.0 * MARGIN_MM).0;
        for (index, block) in page.body.iter().enumerate() {
            if break_before == Some(index) && index > 0 {
                self.new_page(page);
            }
            match block {
                Block::Heading(text) => {
                    self.space(6.0, page);
                    let face = fonts::face(Weight::Bold)?;
                    let size = 11.5;
                    let x = left + (width - face.width(text, size)) / 2.0;
                    self.line(page, Weight::Bold, size, x, text, grey(0.0));
                    self.space(4.0, page);
                }
                Block::Paragraph(text) => {
                    for line in wrap(Weight::Regular, BODY_SIZE, text, width)? {
                        self.line(page, Weight::Regular, BODY_SIZE, left, &line, grey(0.0));
                    }
                    self.space(5.0, page);
                }
                Block::Table(rows) => self.table(page, rows, left, width)?,
            }
        }
        self.space(4.0, page);
        self.line(
            page,
            Weight::Regular,
            BODY_SIZE,
            left,
            &page.place_and_date,
            grey(0.0),
        );
        // The seal block needs the foot of the page; start a new one if the
        // text reached it.
        let mut placed = SealBlock::WithText;
        if self.y - BODY_LEADING < mm(MARGIN_MM + SEAL_BLOCK_MM).0 {
            self.new_page(page);
            placed = SealBlock::Alone;
        }
        self.seal_block(page)?;
        Ok(placed)
    }

    fn new_page(&mut self, page: &CertificatePage) {
        self.pages.push(Vec::new());
        let index = self.pages.len() - 1;
        let left = mm(MARGIN_MM).0;
        let right = mm(PAGE_WIDTH_MM - MARGIN_MM).0;
        let top = mm(PAGE_HEIGHT_MM - MARGIN_MM).0;
        let (r, g, b) = BLUE;
        self.text(
            index,
            Weight::Bold,
            15.0,
            left,
            top - 12.0,
            &format!("COMUNE DI {}", page.comune_name.to_uppercase()),
            Color::Rgb(Rgb::new(r, g, b, None)),
        );
        self.text(
            index,
            Weight::Regular,
            9.0,
            left,
            top - 25.0,
            &page.comune_subtitle,
            grey(0.25),
        );
        let number = format!("N. {}", page.number);
        let number_width = fonts::face(Weight::SemiBold)
            .map(|f| f.width(&number, 9.0))
            .unwrap_or(0.0);
        self.text(
            index,
            Weight::SemiBold,
            9.0,
            right - number_width,
            top - 25.0,
            &number,
            grey(0.25),
        );
        self.rule(
            index,
            left,
            right,
            top - 32.0,
            0.8,
            Color::Rgb(Rgb::new(r, g, b, None)),
        );
        let title_size = 13.5;
        let title_width = fonts::face(Weight::Bold)
            .map(|f| f.width(&page.title, title_size))
            .unwrap_or(0.0);
        self.text(
            index,
            Weight::Bold,
            title_size,
            (left + right - title_width) / 2.0,
            top - 54.0,
            &page.title,
            grey(0.0),
        );
        if page.demo {
            self.demo_mark(index);
        }
        self.y = top - 80.0;
    }

    /// The demo mark: «DEMO» in large letters drawn as strokes (not text,
    /// so it never mixes into the text a reader extracts) diagonally under
    /// the page, and «DEMO — privo di valore legale» as one plain line
    /// under the title.
    fn demo_mark(&mut self, index: usize) {
        const LETTER_MM: f32 = 48.0;
        const ORIGIN_MM: (f32, f32) = (42.0, 78.0);
        let (sin, cos) = std::f32::consts::FRAC_PI_4.sin_cos();
        let ops = &mut self.pages[index];
        ops.push(Op::SetOutlineColor { col: grey(0.88) });
        ops.push(Op::SetOutlineThickness { pt: Pt(7.0) });
        let mut advance = 0.0;
        for (strokes, width) in DEMO_LETTERS {
            for stroke in strokes {
                let points = stroke
                    .iter()
                    .map(|&(u, v)| {
                        let (u, v) = ((advance + u) * LETTER_MM, v * LETTER_MM);
                        LinePoint {
                            p: Point {
                                x: mm(ORIGIN_MM.0 + u * cos - v * sin),
                                y: mm(ORIGIN_MM.1 + u * sin + v * cos),
                            },
                            bezier: false,
                        }
                    })
                    .collect();
                ops.push(Op::DrawLine {
                    line: Line {
                        points,
                        is_closed: false,
                    },
                });
            }
            advance += width;
        }
        let top = mm(PAGE_HEIGHT_MM - MARGIN_MM).0;
        let notice = "DEMO — privo di valore legale";
        let size = 9.0;
        let width = fonts::face(Weight::SemiBold)
            .map(|f| f.width(notice, size))
            .unwrap_or(0.0);
        let centre = mm(PAGE_WIDTH_MM / 2.0).0;
        self.text(
            index,
            Weight::SemiBold,
            size,
            centre - width / 2.0,
            top - 68.0,
            notice,
            grey(0.35),
        );
    }

    fn table(
        &mut self,
        page: &CertificatePage,
        rows: &[Vec<String>],
        left: f32,
        width: f32,
    ) -> Result<(), RenderError> {
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        if columns == 0 {
            return Ok(());
        }
        let size = 9.5;
        let gap = 8.0;
        // Each column wants its widest cell on one line, and needs at least
        // its longest word; when the table is too wide, columns give up
        // what they can spare above their longest word, in proportion.
        let mut natural = vec![20.0_f32; columns];
        let mut least = vec![20.0_f32; columns];
        for (index, row) in rows.iter().enumerate() {
            let face = fonts::face(if index == 0 {
                Weight::SemiBold
            } else {
                Weight::Regular
            })?;
            for (c, cell) in row.iter().enumerate() {
                natural[c] = natural[c].max(face.width(cell, size));
                let longest_word = cell
                    .split_whitespace()
                    .map(|w| face.width(w, size))
                    .fold(0.0, f32::max);
                least[c] = least[c].max(longest_word);
            }
        }
        let available = width - gap * (columns as f32 - 1.0);
        let total: f32 = natural.iter().sum();
        let floor: f32 = least.iter().sum();
        let mut widths: Vec<f32> = if total <= available {
            natural.clone()
        } else if floor >= available {
            least.iter().map(|w| w * available / floor).collect()
        } else {
            let spare = (available - floor) / (total - floor);
            least
                .iter()
                .zip(&natural)
                .map(|(l, n)| l + (n - l) * spare)
                .collect()
        };
        let slack = (available - widths.iter().sum::<f32>()).max(0.0);
        if let Some(last) = widths.last_mut() {
            *last += slack;
        }
        for (index, row) in rows.iter().enumerate() {
            let weight = if index == 0 {
                Weight::SemiBold
            } else {
                Weight::Regular
            };
            let cells: Vec<Vec<String>> = (0..columns)
                .map(|c| {
                    wrap(
                        weight,
                        size,
                        row.get(c).map(String::as_str).unwrap_or(""),
                        widths[c],
                    )
                })
                .collect::<Result<_, _>>()?;
            let height = cells.iter().map(Vec::len).max().unwrap_or(1);
            if self.y - height as f32 * 12.5 < mm(MARGIN_MM).0 + 10.0 {
                self.new_page(page);
            }
            for line in 0..height {
                let mut x = left;
                for (c, cell) in cells.iter().enumerate() {
                    if let Some(text) = cell.get(line) {
                        let page_index = self.pages.len() - 1;
                        self.text(page_index, weight, size, x, self.y, text, grey(0.0));
                    }
                    x += widths[c] + gap;
                }
                self.y -= 12.5;
            }
            if index == 0 {
                let page_index = self.pages.len() - 1;
                self.rule(page_index, left, left + width, self.y + 8.5, 0.4, grey(0.5));
                self.y -= 2.0;
            }
        }
        self.space(5.0, page);
        Ok(())
    }

    fn seal_block(&mut self, page: &CertificatePage) -> Result<(), RenderError> {
        let index = self.pages.len() - 1;
        let left = mm(MARGIN_MM).0;
        let right = mm(PAGE_WIDTH_MM - MARGIN_MM).0;
        let bottom = mm(MARGIN_MM).0;
        let module = mm(QR_MODULE_MM).0;
        let side_modules = page.qr.width() + 2 * QUIET_ZONE_MODULES;
        let qr_side = side_modules as f32 * module;
        let qr_bottom = bottom + 16.0;
        self.qr(index, &page.qr, left, qr_bottom, module);
        self.text(
            index,
            Weight::SemiBold,
            SMALL_SIZE,
            left + 4.0,
            qr_bottom - 2.0,
            &format!("Certificato n. {}", page.number),
            grey(0.0),
        );
        self.text(
            index,
            Weight::Regular,
            SMALL_SIZE,
            left + 4.0,
            qr_bottom - 12.0,
            &page.verification_address,
            grey(0.0),
        );

        // The bollo box and the note on checking, right of the code.
        let box_left = left + qr_side + 14.0;
        let box_width = right - box_left;
        let line_height = 11.0;
        let mut bollo_lines = Vec::new();
        for line in &page.bollo {
            bollo_lines.extend(wrap(Weight::Regular, 8.5, line, box_width - 12.0)?);
        }
        let box_height = 22.0 + bollo_lines.len() as f32 * line_height;
        let box_top = qr_bottom + qr_side;
        self.frame(index, box_left, box_top - box_height, box_width, box_height);
        self.text(
            index,
            Weight::SemiBold,
            8.5,
            box_left + 6.0,
            box_top - 13.0,
            "IMPOSTA DI BOLLO",
            grey(0.0),
        );
        for (i, line) in bollo_lines.iter().enumerate() {
            self.text(
                index,
                Weight::Regular,
                8.5,
                box_left + 6.0,
                box_top - 25.0 - i as f32 * line_height,
                line,
                grey(0.0),
            );
        }
        let mut y = box_top - box_height - 16.0;
        self.text(
            index,
            Weight::SemiBold,
            8.5,
            box_left,
            y,
            "Come verificare questo documento",
            grey(0.0),
        );
        for line in wrap(Weight::Regular, 8.5, &page.how_to_check, box_width)? {
            y -= line_height;
            self.text(index, Weight::Regular, 8.5, box_left, y, &line, grey(0.0));
        }
        let pages = self.pages.len();
        if pages > 1 {
            for p in 0..pages {
                let label = format!("Pagina {} di {pages}", p + 1);
                self.text(
                    p,
                    Weight::Regular,
                    7.5,
                    right - 50.0,
                    bottom - 8.0,
                    &label,
                    grey(0.4),
                );
            }
        }
        Ok(())
    }

    /// Draws `qr` with its quiet zone left white, the zone's lower left
    /// corner at (`left`, `bottom`) points, `module` points a module;
    /// answers the side with the quiet zone.
    pub(crate) fn qr(
        &mut self,
        page: usize,
        qr: &SealQr,
        left: f32,
        bottom: f32,
        module: f32,
    ) -> f32 {
        let side = (qr.width() + 2 * QUIET_ZONE_MODULES) as f32 * module;
        let origin_x = left + QUIET_ZONE_MODULES as f32 * module;
        let origin_y = bottom + side - QUIET_ZONE_MODULES as f32 * module;
        for (row, column, length) in qr.dark_runs() {
            self.pages[page].push(Op::DrawRectangle {
                rectangle: Rect {
                    x: Pt(origin_x + column as f32 * module),
                    y: Pt(origin_y - (row + 1) as f32 * module),
                    width: Pt(length as f32 * module),
                    height: Pt(module),
                    mode: Some(PaintMode::Fill),
                    winding_order: Some(WindingOrder::NonZero),
                },
            });
        }
        side
    }

    /// Starts an empty page; answers its index.
    pub(crate) fn blank_page(&mut self) -> usize {
        self.pages.push(Vec::new());
        self.pages.len() - 1
    }

    fn space(&mut self, points: f32, page: &CertificatePage) {
        self.y -= points;
        if self.y < mm(MARGIN_MM).0 + 10.0 {
            self.new_page(page);
        }
    }

    fn line(
        &mut self,
        page: &CertificatePage,
        weight: Weight,
        size: f32,
        x: f32,
        text: &str,
        color: Color,
    ) {
        if self.y < mm(MARGIN_MM).0 + 10.0 {
            self.new_page(page);
        }
        let index = self.pages.len() - 1;
        self.text(index, weight, size, x, self.y, text, color);
        self.y -= BODY_LEADING;
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "a text run has that many properties"
    )]
    pub(crate) fn text(
        &mut self,
        page: usize,
        weight: Weight,
        size: f32,
        x: f32,
        y: f32,
        text: &str,
        color: Color,
    ) {
        let text = fonts::printable(text);
        self.used.entry(weight).or_default().extend(text.chars());
        self.texts.push(TextRun {
            page,
            weight,
            size,
            placement: Placement::At(x, y),
            text,
            color,
        });
    }

    pub(crate) fn rule(
        &mut self,
        page: usize,
        x0: f32,
        x1: f32,
        y: f32,
        thickness: f32,
        color: Color,
    ) {
        let ops = &mut self.pages[page];
        ops.push(Op::SetOutlineColor { col: color });
        ops.push(Op::SetOutlineThickness { pt: Pt(thickness) });
        ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: Point {
                            x: Pt(x0),
                            y: Pt(y),
                        },
                        bezier: false,
                    },
                    LinePoint {
                        p: Point {
                            x: Pt(x1),
                            y: Pt(y),
                        },
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
    }

    pub(crate) fn frame(&mut self, page: usize, x: f32, y: f32, width: f32, height: f32) {
        let ops = &mut self.pages[page];
        ops.push(Op::SetOutlineColor { col: grey(0.3) });
        ops.push(Op::SetOutlineThickness { pt: Pt(0.6) });
        ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(x),
                y: Pt(y),
                width: Pt(width),
                height: Pt(height),
                mode: Some(PaintMode::Stroke),
                winding_order: Some(WindingOrder::NonZero),
            },
        });
    }

    fn finish(self, page: &CertificatePage) -> Result<Vec<u8>, RenderError> {
        self.write(&Meta {
            title: &page.title,
            author: &format!("Comune di {}", page.comune_name),
            subject: &format!("{} n. {}", page.title, page.number),
            created_at: page.created_at,
            seal_url: Some(&page.seal_url),
        })
    }

    /// The PDF of the pages drawn, with `meta` in its information
    /// dictionary.
    pub(crate) fn write(mut self, meta: &Meta<'_>) -> Result<Vec<u8>, RenderError> {
        let mut doc = PdfDocument::new(meta.title);
        let mut font_ids: BTreeMap<Weight, FontId> = BTreeMap::new();
        for (weight, chars) in &self.used {
            let subset = fonts::face(*weight)?.subset(chars)?;
            font_ids.insert(*weight, doc.add_font(&subset));
        }
        // Text goes after the shapes of each page (the demo mark, drawn
        // first, lies under everything).
        self.texts.sort_by_key(|run| run.page);
        for run in self.texts {
            let Some(font) = font_ids.get(&run.weight) else {
                continue;
            };
            let matrix = match run.placement {
                Placement::At(x, y) => TextMatrix::Translate(Pt(x), Pt(y)),
            };
            self.pages[run.page].extend([
                Op::StartTextSection,
                Op::SetFillColor { col: run.color },
                Op::SetFont {
                    font: PdfFontHandle::External(font.clone()),
                    size: Pt(run.size),
                },
                Op::SetTextMatrix { matrix },
                Op::ShowText {
                    items: vec![TextItem::Text(run.text)],
                },
                Op::EndTextSection,
            ]);
        }
        let pages = self
            .pages
            .into_iter()
            .map(|ops| PdfPage::new(Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM), ops))
            .collect();
        doc.metadata.info.document_title = meta.title.to_owned();
        doc.metadata.info.author = meta.author.to_owned();
        doc.metadata.info.creator = "Sigillo".into();
        doc.metadata.info.producer = "Sigillo".into();
        doc.metadata.info.subject = meta.subject.to_owned();
        let created =
            printpdf::OffsetDateTime::from_unix_timestamp(meta.created_at.unix_timestamp())
                .map_err(|e| RenderError::Write(e.to_string()))?;
        doc.metadata.info.creation_date = created;
        doc.metadata.info.modification_date = created;
        doc.metadata.info.metadata_date = created;
        doc.with_pages(pages);
        let mut warnings = Vec::new();
        let mut lo = doc.to_lopdf_document(&PdfSaveOptions::default(), &mut warnings);
        if let Some(seal_url) = meta.seal_url {
            add_seal_to_info(&mut lo, seal_url).map_err(RenderError::Write)?;
        }
        lo.compress();
        let mut bytes = Vec::with_capacity(32 * 1024);
        lo.save_to(&mut bytes)
            .map_err(|e| RenderError::Write(e.to_string()))?;
        Ok(bytes)
    }
}

/// What the document information dictionary says.
pub(crate) struct Meta<'a> {
    pub(crate) title: &'a str,
    pub(crate) author: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) created_at: OffsetDateTime,
    /// The seal's text, for `/SigilloSeal` (certificates only).
    pub(crate) seal_url: Option<&'a str>,
}

/// Puts the seal's text in the document information dictionary.
fn add_seal_to_info(doc: &mut lopdf_printpdf::Document, seal_url: &str) -> Result<(), String> {
    let info = doc
        .trailer
        .get(b"Info")
        .and_then(lopdf_printpdf::Object::as_reference)
        .ok();
    let value = lopdf_printpdf::Object::String(
        seal_url.as_bytes().to_vec(),
        lopdf_printpdf::StringFormat::Literal,
    );
    match info {
        Some(id) => {
            let dict = doc
                .get_object_mut(id)
                .and_then(lopdf_printpdf::Object::as_dict_mut)
                .map_err(|e| e.to_string())?;
            dict.set(SEAL_INFO_KEY, value);
        }
        None => {
            let id = doc.add_object(lopdf_printpdf::dictionary! { SEAL_INFO_KEY => value });
            doc.trailer.set("Info", id);
        }
    }
    Ok(())
}

/// Splits `text` into lines no wider than `width` points, breaking at
/// spaces (a word wider than the line is broken where it must be).
pub(crate) fn wrap(
    weight: Weight,
    size: f32,
    text: &str,
    width: f32,
) -> Result<Vec<String>, RenderError> {
    let face = fonts::face(weight)?;
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if face.width(&candidate, size) <= width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        let mut piece = String::new();
        for c in word.chars() {
            piece.push(c);
            if face.width(&piece, size) > width && piece.chars().count() > 1 {
                piece.pop();
                lines.push(std::mem::take(&mut piece));
                piece.push(c);
            }
        }
        current = piece;
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_with(paragraphs: usize, demo: bool) -> CertificatePage {
        let mut body = vec![Block::Heading("CERTIFICA".into())];
        body.extend((0..paragraphs).map(|i| {
            Block::Paragraph(format!(
                "Paragrafo {i}: la particella ricade in zona agricola E1, articoli 12 e 14 delle norme tecniche di attuazione del piano vigente."
            ))
        }));
        body.push(Block::Paragraph(
            "Il certificato è rilasciato per uso notarile.".into(),
        ));
        body.push(Block::Paragraph(
            "Validità: un anno dalla data del rilascio.".into(),
        ));
        CertificatePage {
            comune_name: "Borgo Sigillo".into(),
            comune_subtitle: "Provincia di Roma — Ufficio urbanistica".into(),
            title: "CERTIFICATO DI DESTINAZIONE URBANISTICA".into(),
            number: "2026/000001".into(),
            body,
            bollo: vec!["Imposta di bollo da assolvere.".into()],
            qr: crate::qr::SealQr::encode("HTTPS://LOCALHOST/V#1234567890").expect("encodes"),
            verification_address: "localhost/v".into(),
            how_to_check: "Inquadra il codice QR.".into(),
            place_and_date: "Borgo Sigillo, 01/12/2026".into(),
            demo,
            seal_url: "HTTPS://LOCALHOST/V#1234567890".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_demo_mark_leaves_the_text_as_it_reads() {
        // pdftotext lays text out by position, as a reader's tools do: a
        // mark written as text across the page mixed its letters in.
        let Some(demo) =
            testkit::pdf_tools::pdf_text(&render(&page_with(3, true)).expect("renders"))
        else {
            return;
        };
        let Some(plain) =
            testkit::pdf_tools::pdf_text(&render(&page_with(3, false)).expect("renders"))
        else {
            return;
        };
        assert_eq!(demo.matches("DEMO").count(), 1, "{demo}");
        assert!(demo.contains("DEMO — privo di valore legale"), "{demo}");
        let words = |text: &str| {
            text.replace("DEMO — privo di valore legale", "")
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(words(&demo), words(&plain), "{demo}");
    }

    #[test]
    fn a_seal_block_never_stands_alone_on_a_page() {
        // The first body length whose seal block would go over alone.
        let paragraphs = (1..80)
            .find(|&n| {
                let mut canvas = Canvas::default();
                canvas
                    .compose(&page_with(n, false), None)
                    .expect("composes")
                    == SealBlock::Alone
            })
            .expect("some length fills the first page");
        let page = page_with(paragraphs, false);
        let pdf = render(&page).expect("renders");
        let document = lopdf::Document::load_mem(&pdf).expect("reads back");
        let last = u32::try_from(document.get_pages().len()).expect("pages");
        assert!(last >= 2, "the text needs two pages");
        let text = document
            .extract_text(&[last])
            .expect("text of the last page");
        assert!(
            text.contains("Validità: un anno"),
            "the last paragraphs go over with the seal block: {text:?}"
        );
        assert!(text.contains("Borgo Sigillo, 01/12/2026"), "{text:?}");
    }

    #[test]
    fn wrapping_keeps_every_word_and_respects_the_width() {
        let text = "che ROSSI MARIA CHIARA, nata a ROMA (RM) il 10/12/1985, è residente in questo Comune in VIA GIUSEPPE GARIBALDI 112 INT. 4";
        let lines = wrap(Weight::Regular, 10.5, text, 200.0).expect("wraps");
        assert!(lines.len() > 2);
        assert_eq!(lines.join(" "), text);
        let face = fonts::face(Weight::Regular).expect("font");
        assert!(lines.iter().all(|l| face.width(l, 10.5) <= 200.0));
    }
}
