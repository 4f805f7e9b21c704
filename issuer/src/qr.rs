//! The printed seal's QR code: the seal URL at error correction level Q,
//! segmented so the digits travel in numeric mode, and a check that decodes
//! the code back from a raster of its modules before anything is issued.

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
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)
            .map_err(|e| QrError::TooLong(e.to_string()))?;
        let version = match code.version() {
            Version::Normal(v) | Version::Micro(v) => v,
        };
        Ok(Self {
            width: code.width(),
            modules: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
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
        let (luma, side) = self.raster(3);
        let side = u32::try_from(side).map_err(|_| QrError::Unreadable("too large".into()))?;
        let result = rxing::helpers::detect_in_luma(luma, side, side, Some(BarcodeFormat::QR_CODE))
            .map_err(|e| QrError::Unreadable(e.to_string()))?;
        if result.getText() == self.text {
            Ok(())
        } else {
            Err(QrError::Mismatch)
        }
    }
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
    fn text_beyond_any_qr_code_is_refused() {
        assert!(matches!(
            SealQr::encode(&seal_like_url(8000)),
            Err(QrError::TooLong(_))
        ));
    }
}
