//! The printed seal's QR code: the seal URL at error correction level Q,
//! segmented so the digits travel in numeric mode, and a check that decodes
//! the code back from a raster of its modules before anything is issued.

use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{Color, EcLevel, QrCode, Version};
use rxing::BarcodeFormat;

/// The quiet zone around the code, in modules (ISO/IEC 18004 asks for 4).
pub const QUIET_ZONE_MODULES: usize = 4;

/// The text a seal's QR code carries: `HTTPS://<HOST>/V#<digits>`.
///
/// The URL is written in capitals so that everything before `#` fits QR
/// alphanumeric mode (5.5 bits a character instead of 8), the digits go in
/// numeric mode, and only `#` is a byte. Scheme and host are
/// case-insensitive; the verification page answers `/V` as well as `/v`,
/// and `seal::text::parse_text` accepts either.
pub fn qr_text(host: &str, digits: &str) -> String {
    format!("HTTPS://{}/V#{digits}", host.to_ascii_uppercase())
}

/// Why a seal could not be put in a QR code, or read back from one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The text does not fit any QR code at level Q.
    #[error("the seal does not fit a QR code: {0}")]
    TooLong(String),
    /// The code, rasterised, could not be decoded.
    #[error("the QR code could not be read back: {0}")]
    Unreadable(String),
    /// The code decoded to a different text.
    #[error("the QR code reads back a different text")]
    Mismatch,
}

/// A QR code's modules, dark or light, without the quiet zone.
#[derive(Clone)]
pub struct SealQr {
    width: usize,
    modules: Vec<bool>,
    version: i16,
    text: String,
}

impl SealQr {
    /// Encodes `text` at error correction level Q in the smallest version
    /// that holds it. The encoder picks segments optimally, so a run of
    /// digits is written in numeric mode and the URL before it in byte mode.
    pub fn encode(text: &str) -> Result<Self, QrError> {
        let (modules, width, version) = match seal_segments(text) {
            // The seal's own shape: segment it directly.
            Some(segments) => encode_segments(&segments)?,
            None => {
                let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)
                    .map_err(|e| QrError::TooLong(e.to_string()))?;
                let version = match code.version() {
                    Version::Normal(v) | Version::Micro(v) => v,
                };
                let dark = code
                    .to_colors()
                    .into_iter()
                    .map(|c| c == Color::Dark)
                    .collect();
                (dark, code.width(), version)
            }
        };
        Ok(Self {
            width,
            modules,
            version,
            text: text.to_owned(),
        })
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The QR version (1–40).
    pub fn version(&self) -> i16 {
        self.version
    }

    /// The text encoded.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the module at column `x`, row `y` (from the top left) is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.modules[y * self.width + x]
    }

    /// Runs of dark modules per row: `(row, first column, length)`, so a
    /// renderer can draw one rectangle per run rather than per module.
    pub fn dark_runs(&self) -> Vec<(usize, usize, usize)> {
        let mut runs = Vec::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.width && self.is_dark(x, y) {
                        x += 1;
                    }
                    runs.push((y, start, x - start));
                } else {
                    x += 1;
                }
            }
        }
        runs
    }

    /// A greyscale raster (0 black, 255 white) with the quiet zone, at
    /// `pixels` pixels a module. Returns the pixels and the side length.
    pub fn raster(&self, pixels: usize) -> (Vec<u8>, usize) {
        let side = (self.width + 2 * QUIET_ZONE_MODULES) * pixels;
        let mut luma = vec![255u8; side * side];
        for (row, column, length) in self.dark_runs() {
            for dy in 0..pixels {
                let y = (row + QUIET_ZONE_MODULES) * pixels + dy;
                let x0 = (column + QUIET_ZONE_MODULES) * pixels;
                luma[y * side + x0..y * side + x0 + length * pixels].fill(0);
            }
        }
        (luma, side)
    }

    /// Decodes the code from a raster of its modules with an independent
    /// reader (`rxing`) and checks that it reads back the text encoded.
    pub fn check_readable(&self) -> Result<(), QrError> {
        let (luma, side) = self.raster(2);
        let side = u32::try_from(side).map_err(|_| QrError::Unreadable("too large".into()))?;
        // The raster is the code alone, square and upright: the reader may
        // skip locating it in a photo.
        let mut hints = rxing::DecodeHints {
            PureBarcode: Some(true),
            ..Default::default()
        };
        let result = rxing::helpers::detect_in_luma_with_hints(
            luma,
            side,
            side,
            Some(BarcodeFormat::QR_CODE),
            &mut hints,
        )
        .map_err(|e| QrError::Unreadable(e.to_string()))?;
        if result.getText() == self.text {
            Ok(())
        } else {
            Err(QrError::Mismatch)
        }
    }
}

/// A run of the text in one QR mode.
enum Segment<'a> {
    Alphanumeric(&'a str),
    Byte(&'a str),
    Numeric(&'a str),
}

/// The segments of a seal text shaped like [`qr_text`]'s output: the URL up
/// to `#` in alphanumeric mode, `#` as a byte, the digits in numeric mode.
/// `None` for any other text.
fn seal_segments(text: &str) -> Option<Vec<Segment<'_>>> {
    let (url, digits) = text.split_once('#')?;
    let alphanumeric =
        |b: u8| b.is_ascii_digit() || b.is_ascii_uppercase() || b" $%*+-./:".contains(&b);
    if url.is_empty() || !url.bytes().all(alphanumeric) || digits.is_empty() {
        return None;
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(vec![
        Segment::Alphanumeric(url),
        Segment::Byte("#"),
        Segment::Numeric(digits),
    ])
}

/// Encodes the segments at level Q in the smallest version that holds them.
fn encode_segments(segments: &[Segment<'_>]) -> Result<(Vec<bool>, usize, i16), QrError> {
    for number in 1..=40 {
        let mut bits = qrcode::bits::Bits::new(Version::Normal(number));
        let pushed = segments.iter().try_for_each(|segment| match segment {
            Segment::Alphanumeric(text) => bits.push_alphanumeric_data(text.as_bytes()),
            Segment::Byte(text) => bits.push_byte_data(text.as_bytes()),
            Segment::Numeric(text) => bits.push_numeric_data(text.as_bytes()),
        });
        if pushed.is_ok() && bits.push_terminator(EcLevel::Q).is_ok() {
            return draw(bits);
        }
    }
    Err(QrError::TooLong("more than version 40 holds".into()))
}

/// Lays out the codewords and picks the mask with the lowest ISO/IEC 18004
/// penalty. The `qrcode` crate does the same in `QrCode::with_bits`, but
/// its scoring takes about 3 ms for a version 15 code; scoring the modules
/// as plain booleans takes a fraction of that.
fn draw(bits: qrcode::bits::Bits) -> Result<(Vec<bool>, usize, i16), QrError> {
    let version = bits.version();
    let data = bits.into_bytes();
    let (codewords, ec) = qrcode::ec::construct_codewords(&data, version, EcLevel::Q)
        .map_err(|e| QrError::TooLong(e.to_string()))?;
    let mut canvas = Canvas::new(version, EcLevel::Q);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&codewords, &ec);
    let best = MASKS
        .iter()
        .map(|&pattern| {
            let mut masked = canvas.clone();
            masked.apply_mask(pattern);
            let dark: Vec<bool> = masked
                .into_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect();
            dark
        })
        .min_by_key(|dark| penalty(dark))
        .ok_or_else(|| QrError::TooLong("no mask".into()))?;
    let width = (best.len() as f64).sqrt() as usize;
    let number = match version {
        Version::Normal(v) | Version::Micro(v) => v,
    };
    Ok((best, width, number))
}

const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// The ISO/IEC 18004 mask penalty of a square of modules: runs of five or
/// more modules of one colour (N1 = 3, plus one per module beyond five),
/// 2×2 blocks of one colour (N2 = 3), finder-like 1:1:3:1:1 patterns next
/// to four light modules (N3 = 40), and the imbalance of dark and light
/// (N4 = 10 for every 5% away from half).
fn penalty(dark: &[bool]) -> u32 {
    let width = (dark.len() as f64).sqrt() as usize;
    let at = |x: usize, y: usize| dark[y * width + x];
    let mut score = 0u32;
    for horizontal in [true, false] {
        let cell = |i: usize, j: usize| if horizontal { at(j, i) } else { at(i, j) };
        for i in 0..width {
            let mut run = 1u32;
            for j in 1..=width {
                if j < width && cell(i, j) == cell(i, j - 1) {
                    run += 1;
                    continue;
                }
                if run >= 5 {
                    score += 3 + (run - 5);
                }
                run = 1;
            }
            for j in 0..width.saturating_sub(6) {
                let finder = [true, false, true, true, true, false, true]
                    .iter()
                    .enumerate()
                    .all(|(k, &want)| cell(i, j + k) == want);
                let light = |from: usize, to: usize| (from..to).all(|k| k >= width || !cell(i, k));
                if finder
                    && ((j >= 4 && light(j - 4, j))
                        || (j < 4 && light(0, j))
                        || light(j + 7, j + 11))
                {
                    score += 40;
                }
            }
        }
    }
    for y in 0..width.saturating_sub(1) {
        for x in 0..width - 1 {
            let c = at(x, y);
            if at(x + 1, y) == c && at(x, y + 1) == c && at(x + 1, y + 1) == c {
                score += 3;
            }
        }
    }
    let dark_count = dark.iter().filter(|&&d| d).count();
    let percent = dark_count * 100 / dark.len().max(1);
    score + 10 * u32::try_from(percent.abs_diff(50) / 5).unwrap_or(10)
}

impl std::fmt::Debug for SealQr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SealQr(version {}, {} modules)",
            self.version, self.width
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal_like_url(digits: usize) -> String {
        let body: String = (0..digits)
            .map(|i| char::from(b'0' + ((i * 7 + 3) % 10) as u8))
            .collect();
        qr_text("certificati.comune.example.it", &format!("1{body}"))
    }

    #[test]
    fn a_residenza_sized_seal_fits_version_15_at_level_q() {
        // The sample residenza seal is 258 bytes of COSE: 622 digits.
        let qr = SealQr::encode(&seal_like_url(621)).expect("fits");
        assert!(qr.version() <= 15, "version {}", qr.version());
    }

    #[test]
    fn the_capitalised_url_is_a_seal_text() {
        let text = qr_text("certificati.comune.example.it", "256");
        assert_eq!(seal::text::parse_text(&text), Ok(vec![1, 0]));
    }

    #[test]
    fn an_encoded_seal_reads_back_the_same_text() {
        let qr = SealQr::encode(&seal_like_url(900)).expect("fits");
        qr.check_readable().expect("readable");
    }

    #[test]
    fn dark_runs_cover_exactly_the_dark_modules() {
        let qr = SealQr::encode("https://example.it/v#123456789").expect("fits");
        let dark: usize = (0..qr.width())
            .flat_map(|y| (0..qr.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| qr.is_dark(x, y))
            .count();
        assert_eq!(qr.dark_runs().iter().map(|r| r.2).sum::<usize>(), dark);
    }

    #[test]
    fn direct_segmentation_gives_the_optimisers_version() {
        for digits in [10, 300, 621, 900, 2000] {
            let text = seal_like_url(digits);
            let direct = SealQr::encode(&text).expect("fits");
            let optimal =
                QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q).expect("fits");
            let Version::Normal(v) = optimal.version() else {
                panic!("micro")
            };
            assert_eq!(direct.version(), v, "{digits} digits");
            direct.check_readable().expect("readable");
        }
    }

    #[test]
    fn a_damaged_code_does_not_pass_the_check() {
        let mut qr = SealQr::encode(&seal_like_url(621)).expect("fits");
        // Invert every module of the data area in the middle third: far more
        // than level Q corrects.
        let third = qr.width / 3;
        for y in third..2 * third {
            for x in 0..qr.width {
                qr.modules[y * qr.width + x] ^= true;
            }
        }
        assert!(qr.check_readable().is_err());
    }

    #[test]
    fn text_beyond_any_qr_code_is_refused() {
        assert!(matches!(
            SealQr::encode(&seal_like_url(8000)),
            Err(QrError::TooLong(_))
        ));
    }
}
