//! Finding the seal's QR code in a scan or a phone photo (PNG or JPEG).
//!
//! The image's size is read from its header and checked against the
//! limits before anything is decoded, so a small file that claims to be
//! huge (a decompression bomb) is refused without allocating it. Then the
//! reader tries, stopping at the first pass that finds a seal:
//!
//! 1. where the seal is printed — the bottom left of an upright A4 page,
//!    or the corner it moves to when the page is turned — when the image
//!    has the proportions of a page;
//! 2. the whole image;
//! 3. the whole image halved, then quartered: a large photo's blur and
//!    noise average out, and its modules come down to a size the finder
//!    likes;
//! 4. the whole image with its contrast stretched (a faint print, a grey
//!    photo);
//! 5. the whole image sharpened (unsharp mask): a blurred scan or an
//!    out-of-focus photo, which the finder otherwise misses;
//! 6. the whole image with one global threshold instead of the local one;
//! 7. the whole image inverted, then inverted and halved: a negative scan
//!    or a screen photo in dark mode (white modules on black), which
//!    zxing-cpp reads and the finder otherwise misses. Last, so an
//!    ordinary scan never pays for it.
//!
//! When the first pass finds a seal, the whole image is still read once
//! (halved, when it is large) so that other codes on the page — another
//! seal, a QR code that is not a seal — are reported rather than missed.
//! Every QR code found is read; those whose text is not a seal's are
//! reported as ignored. Which pass found the seal is recorded, so the scan
//! corpus can measure what each pass is worth (see `tests/scan_corpus.rs`).

use std::collections::HashSet;
use std::io::Cursor;

use image::{ImageFormat, ImageReader};
use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::multi::MultipleBarcodeReader as _;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8Source, RXingResult};
use serde::Serialize;

use crate::Limits;
use crate::error::{Cause, ReadError};

/// A QR code found in an image that is not the seal checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredCode {
    /// Its text (at most 120 characters, then `…`).
    pub text: String,
    /// Why it was not checked.
    pub reason: IgnoredReason,
}

/// Why a QR code was set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoredReason {
    /// Its text is not a Sigillo seal (another QR code on the page).
    NotASeal,
    /// Another seal in the same image: verify it on its own.
    AnotherSeal,
}

impl IgnoredReason {
    /// Why, in Italian.
    pub fn message(self) -> &'static str {
        match self {
            Self::NotASeal => "codice QR che non è un sigillo Sigillo",
            Self::AnotherSeal => "altro sigillo nella stessa immagine: verificarlo a parte",
        }
    }
}

/// The passes of the image reader, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pass {
    /// Where the seal is printed on an A4 page, in any of its orientations.
    LikelyRegion,
    /// The whole image as it is.
    WholeImage,
    /// Halved.
    Halved,
    /// Quartered.
    Quartered,
    /// Contrast stretched.
    Contrast,
    /// Sharpened.
    Sharpened,
    /// One global threshold.
    GlobalThreshold,
    /// Inverted (a negative: white modules on black), whole or halved.
    Inverted,
}

/// What the reader found in an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageScan {
    /// The texts of the codes that read as seals, the likeliest first.
    pub seals: Vec<String>,
    /// The other codes.
    pub ignored: Vec<IgnoredCode>,
    /// The pass that found the seals, if any did.
    pub pass: Option<Pass>,
}

/// A greyscale image, one byte a pixel, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gray {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width × height` luma values.
    pub pixels: Vec<u8>,
}

/// Decodes a PNG or JPEG into greyscale, refusing, before decoding, an
/// image beyond the limits.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Gray, ReadError> {
    if bytes.len() > limits.max_file_bytes {
        return Err(ReadError::TooLarge {
            size: bytes.len(),
            max: limits.max_file_bytes,
        });
    }
    let format = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        ImageFormat::Png
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        ImageFormat::Jpeg
    } else {
        return Err(ReadError::UnsupportedFormat);
    };
    let image_error = |error: image::ImageError| ReadError::Image(image_cause(&error));
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(image_error)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_image_pixels
        || width > limits.max_image_side
        || height > limits.max_image_side
        || pixels == 0
    {
        return Err(ReadError::ImageTooLarge {
            width,
            height,
            max_pixels: limits.max_image_pixels,
            max_side: limits.max_image_side,
        });
    }
    let factor = working_factor(width, height);
    if factor > 1 {
        return match format {
            ImageFormat::Png => decode_png_reduced(bytes, factor, limits),
            _ => decode_jpeg_reduced(bytes, factor, limits),
        };
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_image_side);
    decoder_limits.max_image_height = Some(limits.max_image_side);
    // Eight bytes a pixel covers 16-bit RGBA, the widest a PNG decodes to.
    decoder_limits.max_alloc = Some(limits.max_image_pixels.saturating_mul(8));
    reader.limits(decoder_limits);
    let luma = reader.decode().map_err(image_error)?.into_luma8();
    Ok(Gray {
        width,
        height,
        pixels: luma.into_raw(),
    })
}

/// The most pixels the reader works on. An A4 page scanned at 300 dpi
/// (2480 × 3508, 8.7 million) and a 12-megapixel phone photo are read as
/// they are; a larger image is reduced while it is decoded, by the least
/// whole factor that brings it within this and [`WORKING_MAX_SIDE`]. Its
/// QR code only gets larger with the resolution, so nothing readable is
/// lost, and one upload's memory stays bounded whatever size it claims.
pub const WORKING_MAX_PIXELS: u64 = 12_600_000;

/// The longest side the reader works on (see [`WORKING_MAX_PIXELS`]).
pub const WORKING_MAX_SIDE: u32 = 4096;

/// The least whole factor that brings `width × height` within the working
/// size (1 for an image already within it).
pub fn working_factor(width: u32, height: u32) -> u32 {
    (1..=u32::MAX)
        .find(|&factor| {
            let (w, h) = (width / factor, height / factor);
            w <= WORKING_MAX_SIDE
                && h <= WORKING_MAX_SIDE
                && u64::from(w) * u64::from(h) <= WORKING_MAX_PIXELS
        })
        .unwrap_or(u32::MAX)
}

/// A greyscale image built row by row, each output pixel the mean of a
/// `factor × factor` block of input pixels (a remainder at the right and
/// bottom edges is dropped). Holds one row of sums besides the output.
struct Reduction {
    factor: usize,
    width: usize,
    sums: Vec<u32>,
    rows_in_block: usize,
    out: Vec<u8>,
    out_height: usize,
}

impl Reduction {
    fn new(width: u32, height: u32, factor: u32) -> Self {
        let factor = factor.max(1) as usize;
        let (width, out_height) = (width as usize / factor, height as usize / factor);
        Self {
            factor,
            width,
            sums: vec![0; width],
            rows_in_block: 0,
            out: Vec::with_capacity(width * out_height),
            out_height,
        }
    }

    /// Adds one input row of luma values.
    fn push(&mut self, luma: impl Iterator<Item = u8>) {
        if self.out.len() >= self.width * self.out_height {
            return;
        }
        for (index, value) in luma.take(self.width * self.factor).enumerate() {
            self.sums[index / self.factor] += u32::from(value);
        }
        self.rows_in_block += 1;
        if self.rows_in_block == self.factor {
            let block = (self.factor * self.factor) as u32;
            self.out
                .extend(self.sums.iter().map(|&sum| (sum / block) as u8));
            self.sums.fill(0);
            self.rows_in_block = 0;
        }
    }

    fn finish(self) -> Result<Gray, ReadError> {
        if self.out.len() != self.width * self.out_height || self.width == 0 {
            return Err(ReadError::Image(Cause::new(
                "image_truncated",
                "the image has fewer rows than its header says",
            )));
        }
        Ok(Gray {
            width: u32::try_from(self.width).unwrap_or(u32::MAX),
            height: u32::try_from(self.out_height).unwrap_or(u32::MAX),
            pixels: self.out,
        })
    }
}

/// Luma of one decoded pixel of `channels` 8-bit samples (alpha dropped,
/// as `image` does), with the Rec. 709 weights `image` uses.
fn luma(pixel: &[u8]) -> u8 {
    match pixel {
        [grey] | [grey, _] => *grey,
        [r, g, b, ..] => {
            let weighted = 2126 * u32::from(*r) + 7152 * u32::from(*g) + 722 * u32::from(*b);
            (weighted / 10_000) as u8
        }
        [] => 0,
    }
}

/// A PNG larger than the working size, decoded row by row into the
/// reduction (an interlaced one, whose rows come pass by pass, decoded
/// whole first, within the pixel limit).
fn decode_png_reduced(bytes: &[u8], factor: u32, limits: &Limits) -> Result<Gray, ReadError> {
    let png_error = |error: png::DecodingError| {
        let code = match error {
            png::DecodingError::IoError(_) => "image_truncated",
            png::DecodingError::LimitsExceeded => "image_limits",
            _ => "image_decoding",
        };
        ReadError::Image(Cause::new(code, error.to_string()))
    };
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: usize::try_from(limits.max_image_pixels.saturating_mul(8)).unwrap_or(usize::MAX),
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(png_error)?;
    let (width, height) = reader.info().size();
    let interlaced = reader.info().interlaced;
    let channels = reader.output_color_type().0.samples();
    let mut reduction = Reduction::new(width, height, factor);
    if interlaced {
        let size = reader.output_buffer_size().ok_or_else(|| {
            ReadError::Image(Cause::new(
                "image_limits",
                "the frame does not fit in memory",
            ))
        })?;
        let mut frame = vec![0; size];
        let info = reader.next_frame(&mut frame).map_err(png_error)?;
        for row in frame.chunks_exact(info.line_size.max(1)) {
            reduction.push(row.chunks_exact(channels).map(luma));
        }
    } else {
        while let Some(row) = reader.next_row().map_err(png_error)? {
            reduction.push(row.data().chunks_exact(channels).map(luma));
        }
    }
    reduction.finish()
}

/// A JPEG larger than the working size, decoded straight to greyscale (one
/// byte a pixel, never RGB), then reduced.
fn decode_jpeg_reduced(bytes: &[u8], factor: u32, limits: &Limits) -> Result<Gray, ReadError> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    let side = limits.max_image_side as usize;
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::Luma)
        .set_max_width(side)
        .set_max_height(side);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let pixels = decoder
        .decode()
        .map_err(|error| ReadError::Image(Cause::new("image_decoding", format!("{error:?}"))))?;
    let info = decoder
        .info()
        .ok_or_else(|| ReadError::Image(Cause::new("image_decoding", "no JPEG header")))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    if pixels.len() != width as usize * height as usize {
        return Err(ReadError::Image(Cause::new(
            "image_decoding",
            "the JPEG did not decode to one byte a pixel",
        )));
    }
    let mut reduction = Reduction::new(width, height, factor);
    for row in pixels.chunks_exact(width as usize) {
        reduction.push(row.iter().copied());
    }
    reduction.finish()
}

/// Reads the QR codes of a PNG or JPEG and sorts seals from the rest.
pub fn scan(bytes: &[u8], limits: &Limits) -> Result<ImageScan, ReadError> {
    Ok(scan_gray(&decode(bytes, limits)?))
}

/// Reads the QR codes of a greyscale image, pass after pass (see the
/// module documentation), stopping at the first pass that finds a seal.
pub fn scan_gray(gray: &Gray) -> ImageScan {
    let mut found = Found::default();
    for region in likely_regions(gray.width, gray.height) {
        found.add(&read_codes(&crop(gray, region), Threshold::Local));
    }
    if found.has_seal() {
        // The rest of the page, for other codes: a large scan halved, which
        // still reads a clean code and costs a quarter.
        let rest = if u64::from(gray.width) * u64::from(gray.height) > LARGE_PIXELS {
            read_codes(&halve(gray), Threshold::Local)
        } else {
            read_codes(gray, Threshold::Local)
        };
        found.add(&rest);
        return found.finish(Pass::LikelyRegion);
    }
    found.add(&read_codes(gray, Threshold::Local));
    if found.has_seal() {
        return found.finish(Pass::WholeImage);
    }
    let halved = halve(gray);
    found.add(&read_codes(&halved, Threshold::Local));
    if found.has_seal() {
        return found.finish(Pass::Halved);
    }
    found.add(&read_codes(&halve(&halved), Threshold::Local));
    if found.has_seal() {
        return found.finish(Pass::Quartered);
    }
    if let Some(stretched) = stretch_contrast(gray) {
        found.add(&read_codes(&stretched, Threshold::Local));
        if found.has_seal() {
            return found.finish(Pass::Contrast);
        }
    }
    found.add(&read_codes(&sharpen(gray), Threshold::Local));
    if found.has_seal() {
        return found.finish(Pass::Sharpened);
    }
    found.add(&read_codes(gray, Threshold::Global));
    if found.has_seal() {
        return found.finish(Pass::GlobalThreshold);
    }
    let inverted = invert(gray);
    found.add(&read_codes(&inverted, Threshold::Local));
    if !found.has_seal() {
        found.add(&read_codes(&halve(&inverted), Threshold::Local));
    }
    if found.has_seal() {
        return found.finish(Pass::Inverted);
    }
    found.finish_without_seal()
}

#[derive(Default)]
struct Found {
    seals: Vec<String>,
    others: Vec<String>,
}

impl Found {
    fn add(&mut self, texts: &[String]) {
        for text in texts {
            let list = if seal::text::parse_text(text).is_ok() {
                &mut self.seals
            } else {
                &mut self.others
            };
            if !list.contains(text) {
                list.push(text.clone());
            }
        }
    }

    fn has_seal(&self) -> bool {
        !self.seals.is_empty()
    }

    fn finish(self, pass: Pass) -> ImageScan {
        ImageScan {
            ignored: self
                .others
                .into_iter()
                .map(|text| IgnoredCode {
                    text: preview(&text),
                    reason: IgnoredReason::NotASeal,
                })
                .collect(),
            seals: self.seals,
            pass: Some(pass),
        }
    }

    fn finish_without_seal(self) -> ImageScan {
        let mut scan = self.finish(Pass::GlobalThreshold);
        scan.pass = None;
        scan
    }
}

/// At most 120 characters of a code's text.
pub(crate) fn preview(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(120).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

#[derive(Debug, Clone, Copy)]
enum Threshold {
    Local,
    Global,
}

/// Every QR code rxing's port of the zxing-cpp detector finds, then, if it
/// finds none, what the older zxing detector finds.
fn read_codes(gray: &Gray, threshold: Threshold) -> Vec<String> {
    let Ok(source) = Luma8Source::new_with_slice(&gray.pixels, gray.width, gray.height) else {
        return Vec::new();
    };
    let hints = DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        ..DecodeHints::default()
    };
    let results = match threshold {
        Threshold::Local => read_with(HybridBinarizer::new(source), &hints),
        Threshold::Global => read_with(GlobalHistogramBinarizer::new(source), &hints),
    };
    results
        .iter()
        .map(|result| result.getText().to_owned())
        .collect()
}

fn read_with<B: Binarizer>(binarizer: B, hints: &DecodeHints) -> Vec<RXingResult> {
    let mut bitmap = BinaryBitmap::new(binarizer);
    let found = QrReader
        .decode_multiple_with_hints(&mut bitmap, hints)
        .unwrap_or_default();
    if !found.is_empty() {
        return found;
    }
    let mut reader = rxing::multi::qrcode::QRCodeMultiReader::new();
    reader
        .decode_multiple_with_hints(&mut bitmap, hints)
        .unwrap_or_default()
}

/// Above this many pixels (an A4 page at about 170 dpi), the look at the
/// rest of the page after a seal is found is made at half size.
const LARGE_PIXELS: u64 = 4_000_000;

/// A rectangle of an image: left, top, width, height.
type Region = (u32, u32, u32, u32);

/// Where the seal lies if the image is an A4 page: the seal sits in the
/// bottom left corner (20 mm from the left and the bottom edges, at most
/// 45 mm wide), which a page turned by 90°, 180° or 270° moves to another
/// corner. Nothing for images without a page's proportions.
fn likely_regions(width: u32, height: u32) -> Vec<Region> {
    let (long, short) = (width.max(height), width.min(height));
    let ratio = f64::from(long) / f64::from(short.max(1));
    if !(1.30..=1.55).contains(&ratio) {
        return Vec::new();
    }
    let part = |total: u32, fraction: f64| (f64::from(total) * fraction) as u32;
    if height >= width {
        // Upright: bottom left. Upside down: top right.
        let (w, h) = (part(width, 0.45), part(height, 0.40));
        vec![(0, height - h, w, h), (width - w, 0, w, h)]
    } else {
        // Turned a quarter clockwise: top left; anticlockwise: bottom right.
        let (w, h) = (part(width, 0.40), part(height, 0.45));
        vec![(0, 0, w, h), (width - w, height - h, w, h)]
    }
}

fn crop(gray: &Gray, (left, top, width, height): Region) -> Gray {
    let mut pixels = Vec::with_capacity(width as usize * height as usize);
    for row in top..top + height {
        let start = row as usize * gray.width as usize + left as usize;
        pixels.extend_from_slice(&gray.pixels[start..start + width as usize]);
    }
    Gray {
        width,
        height,
        pixels,
    }
}

/// Half the size each way, each pixel the mean of four.
fn halve(gray: &Gray) -> Gray {
    let (width, height) = (gray.width / 2, gray.height / 2);
    let stride = gray.width as usize;
    let mut pixels = Vec::with_capacity(width as usize * height as usize);
    for y in 0..height as usize {
        let top = &gray.pixels[2 * y * stride..];
        let bottom = &gray.pixels[(2 * y + 1) * stride..];
        pixels.extend((0..width as usize).map(|x| {
            let sum = u16::from(top[2 * x])
                + u16::from(top[2 * x + 1])
                + u16::from(bottom[2 * x])
                + u16::from(bottom[2 * x + 1]);
            (sum / 4) as u8
        }));
    }
    Gray {
        width,
        height,
        pixels,
    }
}

/// The negative of `gray`: dark modules become light and light dark.
fn invert(gray: &Gray) -> Gray {
    Gray {
        width: gray.width,
        height: gray.height,
        pixels: gray.pixels.iter().map(|&luma| 255 - luma).collect(),
    }
}

/// An unsharp mask: each pixel pushed away from its neighbourhood's mean
/// (a 5 × 5 box) by twice the difference. Blur spreads a module's edge
/// over several pixels; this steepens it again.
fn sharpen(gray: &Gray) -> Gray {
    const RADIUS: usize = 2;
    const AMOUNT: i32 = 2;
    let (w, h) = (gray.width as usize, gray.height as usize);
    if w <= 2 * RADIUS || h <= 2 * RADIUS {
        return gray.clone();
    }
    let window = (2 * RADIUS + 1) as u32;
    // Row sums over the window, then column sums of those.
    let mut rows = vec![0u32; w * h];
    for y in 0..h {
        let line = &gray.pixels[y * w..(y + 1) * w];
        let mut sum: u32 = line[..window as usize].iter().map(|&p| u32::from(p)).sum();
        for x in 0..w {
            rows[y * w + x] = sum;
            if x >= RADIUS && x + RADIUS + 1 < w {
                sum = sum + u32::from(line[x + RADIUS + 1]) - u32::from(line[x - RADIUS]);
            }
        }
    }
    let mut pixels = vec![0u8; w * h];
    for x in 0..w {
        let mut sum: u32 = (0..window as usize).map(|y| rows[y * w + x]).sum();
        for y in 0..h {
            let mean = (sum / (window * window)) as i32;
            let p = i32::from(gray.pixels[y * w + x]);
            pixels[y * w + x] = (p + AMOUNT * (p - mean)).clamp(0, 255) as u8;
            if y >= RADIUS && y + RADIUS + 1 < h {
                sum = sum + rows[(y + RADIUS + 1) * w + x] - rows[(y - RADIUS) * w + x];
            }
        }
    }
    Gray {
        width: gray.width,
        height: gray.height,
        pixels,
    }
}

/// The 1st to 99th percentile of grey stretched to the full range; `None`
/// when the image already spans it.
fn stretch_contrast(gray: &Gray) -> Option<Gray> {
    let mut histogram = [0usize; 256];
    for &p in &gray.pixels {
        histogram[usize::from(p)] += 1;
    }
    let total = gray.pixels.len();
    let percentile = |share: usize| {
        let mut seen = 0;
        histogram
            .iter()
            .position(|&count| {
                seen += count;
                seen * 100 >= total * share
            })
            .unwrap_or(255)
    };
    let (low, high) = (percentile(1), percentile(99));
    if high <= low || (low < 16 && high > 239) {
        return None;
    }
    let span = (high - low) as u32;
    let table: Vec<u8> = (0..256u32)
        .map(|p| {
            let p = p.clamp(low as u32, high as u32) - low as u32;
            (p * 255 / span) as u8
        })
        .collect();
    Some(Gray {
        width: gray.width,
        height: gray.height,
        pixels: gray.pixels.iter().map(|&p| table[usize::from(p)]).collect(),
    })
}

/// The decoder's error as a technical cause.
fn image_cause(error: &image::ImageError) -> Cause {
    let code = match error {
        image::ImageError::Decoding(_) => "image_decoding",
        image::ImageError::Encoding(_) => "image_encoding",
        image::ImageError::Parameter(_) => "image_parameter",
        image::ImageError::Limits(_) => "image_limits",
        image::ImageError::Unsupported(_) => "image_unsupported",
        image::ImageError::IoError(_) => "image_truncated",
    };
    Cause::new(code, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_a4_page_has_a_likely_region_in_each_orientation_and_a_photo_none() {
        let upright = likely_regions(2480, 3508);
        assert_eq!(upright.len(), 2);
        assert_eq!(upright[0].0, 0, "bottom left starts at the left edge");
        assert_eq!(upright[0].1 + upright[0].3, 3508, "and ends at the bottom");
        assert_eq!(likely_regions(3508, 2480).len(), 2);
        assert!(likely_regions(1200, 1200).is_empty());
    }

    #[test]
    fn halving_averages_four_pixels() {
        let gray = Gray {
            width: 4,
            height: 2,
            pixels: vec![0, 255, 10, 10, 255, 0, 10, 10],
        };
        assert_eq!(halve(&gray).pixels, vec![127, 10]);
    }

    #[test]
    fn contrast_is_stretched_only_when_it_is_low() {
        let faint = Gray {
            width: 100,
            height: 1,
            pixels: (0..100).map(|i| if i < 50 { 100 } else { 150 }).collect(),
        };
        let stretched = stretch_contrast(&faint).expect("low contrast");
        assert_eq!((stretched.pixels[0], stretched.pixels[99]), (0, 255));
        let full = Gray {
            width: 2,
            height: 1,
            pixels: vec![0, 255],
        };
        assert!(stretch_contrast(&full).is_none());
    }

    #[test]
    fn sharpening_steepens_an_edge_and_leaves_flat_areas_alone() {
        let ramp = Gray {
            width: 10,
            height: 5,
            pixels: (0..50)
                .map(|i| [0, 0, 0, 64, 128, 192, 255, 255, 255, 255][i % 10])
                .collect(),
        };
        let sharp = sharpen(&ramp);
        let row: Vec<u8> = sharp.pixels[20..30].to_vec();
        assert_eq!(row[0], 0);
        assert_eq!(row[9], 255);
        assert!(row[3] < 64, "the dark side of the edge darkens: {row:?}");
    }

    #[test]
    fn an_image_beyond_the_working_size_is_reduced_by_a_whole_factor() {
        assert_eq!(working_factor(2480, 3508), 1, "A4 at 300 dpi as it is");
        assert_eq!(working_factor(4000, 3000), 1, "a 12 MP photo as it is");
        assert_eq!(working_factor(4960, 7016), 2, "A4 at 600 dpi halved");
        assert_eq!(working_factor(7000, 7000), 2);
        assert_eq!(working_factor(16_000, 3000), 4, "the long side bounds it");
        for (width, height) in [(7000, 7000), (16_000, 3000), (8000, 6000), (16_384, 3051)] {
            let factor = working_factor(width, height);
            let (w, h) = (width / factor, height / factor);
            assert!(w <= WORKING_MAX_SIDE && h <= WORKING_MAX_SIDE);
            assert!(u64::from(w) * u64::from(h) <= WORKING_MAX_PIXELS);
        }
    }

    #[test]
    fn a_large_png_and_jpeg_decode_reduced_with_the_block_means() {
        // 8200 × 10: factor 3 (the long side), a dark left half.
        let (width, height) = (8200u32, 10u32);
        let image = image::GrayImage::from_fn(width, height, |x, _| {
            image::Luma([if x < width / 2 { 0 } else { 255 }])
        });
        let mut png = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .expect("encodes");
        let gray = decode(&png, &Limits::default()).expect("decodes");
        assert_eq!((gray.width, gray.height), (2733, 3));
        assert_eq!(gray.pixels[0], 0);
        assert_eq!(gray.pixels[2732], 255);
        let mut jpeg = Vec::new();
        image::DynamicImage::ImageLuma8(image)
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .expect("encodes");
        let gray = decode(&jpeg, &Limits::default()).expect("decodes");
        assert_eq!((gray.width, gray.height), (2733, 3));
        assert!(
            gray.pixels[10] < 30 && gray.pixels[2720] > 225,
            "{:?}",
            &gray.pixels[..4]
        );
    }

    #[test]
    fn a_truncated_large_png_is_refused_as_unreadable() {
        let image = image::GrayImage::from_pixel(9000, 40, image::Luma([200]));
        let mut png = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .expect("encodes");
        png.truncate(png.len() / 2);
        let error = decode(&png, &Limits::default()).expect_err("truncated");
        assert!(matches!(error, ReadError::Image(_)), "{error:?}");
    }

    #[test]
    fn bytes_that_are_neither_png_nor_jpeg_are_refused_unread() {
        assert_eq!(
            decode(b"GIF89a", &Limits::default()),
            Err(ReadError::UnsupportedFormat)
        );
    }
}
