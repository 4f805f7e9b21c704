//! The image reader against zxing-cpp on a corpus of degraded scans and
//! photos, made at test time (nothing large is committed).
//!
//! Two demo certificates are issued from the demo registry, rasterised by
//! pdftoppm at 300 and 150 dpi, and degraded here: turned 90° and 180° and
//! by small angles, seen in perspective, blurred, faded, inverted (a
//! negative), JPEG-compressed,
//! photographed by a phone (1200 px, tilted, noisy), and put on one page
//! with another certificate's seal and a QR code that is not a seal. Each
//! image is read by our reader (the bytes, PNG or JPEG, through
//! `Verifier::verify_now`) and by zxing-cpp (the same pixels, through
//! `tests/interop/zxing_read.py`). Every seal zxing-cpp finds, ours must
//! find and find authentic; the counts per degradation are printed.
//!
//! Needs pdftoppm (poppler-utils) and python3 with zxing-cpp; without them
//! the test is skipped (and fails under CI=true). Set `SIGILLO_CORPUS_DIR`
//! to a directory to keep the images there, to look at them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use issuer::catalogue::{kind_by_slug, parse_usage};
use issuer::register::{Issuance, Issuer};
use issuer::templates::Templates;
use keys::{Comune, KeyStore};
use seal::CodiceFiscale;
use store::Store;
use testkit::tool_available;
use time::OffsetDateTime;
use verifier::image::Gray;
use verifier::{Input, NoStatus, Outcome, Trust, Verifier};

/// A head of family in the demo registry.
const PARISI: &str = "PRSRRT80H69G504L";

#[tokio::test]
async fn the_reader_finds_every_seal_zxing_cpp_finds_in_the_scan_corpus() {
    if !tool_available(
        "pdftoppm (poppler-utils)",
        Command::new("pdftoppm").arg("-v"),
    ) || !tool_available(
        "python3 with zxing-cpp",
        Command::new("python3").args(["-c", "import zxingcpp"]),
    ) {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let (trust, certificates) = issue_demo_certificates(dir.path()).await;
    let mut corpus = Vec::new();
    for (index, (slug, pdf)) in certificates.iter().enumerate() {
        let page300 = rasterise(dir.path(), pdf, 300, &format!("{slug}-300"));
        let page150 = rasterise(dir.path(), pdf, 150, &format!("{slug}-150"));
        corpus.extend(degrade(slug, &page300, &page150, index as u64));
    }
    let other_seal = certificates[1].1.clone();
    let other300 = rasterise(dir.path(), &other_seal, 300, "other-300");
    let first300 = rasterise(dir.path(), &certificates[0].1, 300, "first-300");
    corpus.push(several_codes(&first300, &other300));
    let prepared = started.elapsed();

    // zxing-cpp reads the pixels, from PGM files.
    let mut paths = Vec::new();
    for (index, image) in corpus.iter().enumerate() {
        let path = dir.path().join(format!("{index:03}.pgm"));
        write_pgm(&path, &image.pixels);
        paths.push(path);
    }
    let zxing = zxing_read(&paths);
    if let Some(keep) = std::env::var_os("SIGILLO_CORPUS_DIR") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).expect("corpus directory");
        for image in &corpus {
            let extension = if image.bytes.starts_with(b"\x89PNG") {
                "png"
            } else {
                "jpg"
            };
            let name = image.name.replace([' ', ',', '°'], "_");
            std::fs::write(keep.join(format!("{name}.{extension}")), &image.bytes).expect("write");
        }
    }

    // Ours reads the encoded bytes, as an upload would come.
    let verifier = Verifier::new(&trust);
    let now = OffsetDateTime::now_utc();
    let mut counts: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    let mut misses = Vec::new();
    let reading = Instant::now();
    for (image, path) in corpus.iter().zip(&paths) {
        let theirs: Vec<&String> = zxing
            .get(path)
            .map(|texts| {
                texts
                    .iter()
                    .filter(|t| seal::text::parse_text(t).is_ok())
                    .collect()
            })
            .unwrap_or_default();
        let scan_started = Instant::now();
        let scan = verifier::image::scan(&image.bytes, &verifier::Limits::default())
            .expect("the image reads");
        let report = verifier.verify_now(Input::Image(&image.bytes), &NoStatus, now);
        let ours_ok = matches!(report.outcome, Outcome::Authentic { .. });
        let entry = counts.entry(image.degradation).or_default();
        entry[0] += 1;
        entry[1] += usize::from(ours_ok);
        entry[2] += usize::from(!theirs.is_empty());
        println!(
            "{:<34} {:>5}×{:<5} ours: {:<28} zxing-cpp: {} seal(s)  {:>5} ms",
            image.name,
            image.pixels.width,
            image.pixels.height,
            if ours_ok {
                format!("authentic ({:?})", scan.pass.expect("a pass"))
            } else {
                format!("{:?}", report.headline)
            },
            theirs.len(),
            scan_started.elapsed().as_millis()
        );
        for text in theirs {
            if !scan.seals.contains(text) || !ours_ok {
                misses.push(format!("{}: zxing-cpp read a seal we did not", image.name));
            }
        }
        if image.degradation == "several codes" {
            assert!(
                report
                    .ignored_codes
                    .iter()
                    .any(|code| code.reason == verifier::IgnoredReason::NotASeal),
                "the foreign QR code is reported as ignored: {:?}",
                report.ignored_codes
            );
        }
    }
    println!("\ndegradation            images  ours  zxing-cpp");
    let mut totals = [0; 3];
    for (degradation, [images, ours, theirs]) in &counts {
        println!("{degradation:<22} {images:>6} {ours:>5} {theirs:>10}");
        totals[0] += images;
        totals[1] += ours;
        totals[2] += theirs;
    }
    println!(
        "{:<22} {:>6} {:>5} {:>10}",
        "total", totals[0], totals[1], totals[2]
    );
    println!(
        "corpus made in {:.1} s, read by ours in {:.1} s",
        prepared.as_secs_f64(),
        reading.elapsed().as_secs_f64()
    );
    assert!(misses.is_empty(), "{misses:#?}");
}

/// An image of the corpus: its pixels, and the bytes our reader gets.
struct CorpusImage {
    name: String,
    degradation: &'static str,
    pixels: Gray,
    bytes: Vec<u8>,
}

async fn issue_demo_certificates(dir: &Path) -> (Trust, Vec<(String, Vec<u8>)>) {
    let keys = KeyStore::new(dir);
    let comune = Comune {
        code: store::demo::code(),
        name: store::demo::NAME.into(),
    };
    keys.init(
        &comune,
        OffsetDateTime::now_utc() - time::Duration::minutes(5),
        false,
    )
    .expect("keys");
    let url = format!("sqlite:{}?mode=rwc", dir.join("sigillo.db").display());
    let store = Store::connect(&url).await.expect("store");
    store
        .upsert_comune(&store::demo::comune())
        .await
        .expect("comune");
    store::demo::load(&store).await.expect("demo data");
    let issuer = Issuer::new(
        store,
        keys.clone(),
        Templates::builtin().expect("templates"),
    );
    let mut certificates = Vec::new();
    for slug in ["residenza", "stato_famiglia_parentela"] {
        let request = Issuance {
            comune: store::demo::code(),
            spec: kind_by_slug(slug).expect("kind"),
            fiscal_code: CodiceFiscale::parse(PARISI).expect("fiscal code"),
            parts: Vec::new(),
            parcels: Vec::new(),
            usage: parse_usage("esente:9").expect("use"),
            issued_by: "test".into(),
            now: OffsetDateTime::now_utc(),
        };
        let issued = issuer.issue(&request).await.expect("issued");
        certificates.push((slug.to_owned(), issued.pdf));
    }
    (Trust::new(keys.trust_store().expect("trust")), certificates)
}

fn rasterise(dir: &Path, pdf: &[u8], dpi: u32, name: &str) -> Gray {
    let input = dir.join(format!("{name}.pdf"));
    std::fs::write(&input, pdf).expect("write");
    let prefix = dir.join(name);
    let status = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-gray", "-singlefile"])
        .arg(&input)
        .arg(&prefix)
        .status()
        .expect("pdftoppm runs");
    assert!(status.success());
    read_pgm(&prefix.with_extension("pgm"))
}

fn read_pgm(path: &Path) -> Gray {
    let bytes = std::fs::read(path).expect("raster");
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
    assert_eq!(fields[0], "P5");
    let width: u32 = fields[1].parse().expect("width");
    let height: u32 = fields[2].parse().expect("height");
    let pixels = bytes[at + 1..at + 1 + (width * height) as usize].to_vec();
    Gray {
        width,
        height,
        pixels,
    }
}

fn write_pgm(path: &Path, gray: &Gray) {
    let mut bytes = format!("P5\n{} {}\n255\n", gray.width, gray.height).into_bytes();
    bytes.extend_from_slice(&gray.pixels);
    std::fs::write(path, bytes).expect("write");
}

fn zxing_read(paths: &[PathBuf]) -> BTreeMap<PathBuf, Vec<String>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/zxing_read.py");
    let output = Command::new("python3")
        .arg(script)
        .args(paths)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            let file = PathBuf::from(value["file"].as_str().expect("file"));
            let texts = value["texts"]
                .as_array()
                .expect("texts")
                .iter()
                .map(|t| t.as_str().expect("text").to_owned())
                .collect();
            (file, texts)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Degradations

fn degrade(slug: &str, page300: &Gray, page150: &Gray, seed: u64) -> Vec<CorpusImage> {
    let mut images = Vec::new();
    let mut add = |degradation: &'static str, label: &str, gray: Gray, jpeg: Option<u8>| {
        let bytes = match jpeg {
            Some(quality) => encode_jpeg(&gray, quality),
            None => encode_png(&gray),
        };
        // What our reader decodes is what zxing-cpp gets.
        let pixels = match jpeg {
            Some(_) => {
                verifier::image::decode(&bytes, &verifier::Limits::default()).expect("decodes")
            }
            None => gray,
        };
        images.push(CorpusImage {
            name: format!("{slug} {label}"),
            degradation,
            pixels,
            bytes,
        });
    };
    add("300 dpi", "300 dpi", page300.clone(), None);
    add("150 dpi", "150 dpi", page150.clone(), None);
    add(
        "rotated 90/180",
        "300 dpi turned 90°",
        rotate90(page300),
        None,
    );
    add(
        "rotated 90/180",
        "300 dpi turned 180°",
        rotate180(page300),
        None,
    );
    for degrees in [3.0, 8.0, 20.0] {
        add(
            "small angle",
            &format!("150 dpi turned {degrees}°"),
            rotate(page150, degrees),
            None,
        );
    }
    add(
        "perspective",
        "150 dpi in perspective",
        perspective(page150, 0.08),
        None,
    );
    add("blur", "150 dpi blurred r1", blur(page150, 1), None);
    add("blur", "300 dpi blurred r3", blur(page300, 3), None);
    add(
        "low contrast",
        "300 dpi faded",
        noise(&fade(page300, 120, 175), 6, seed),
        None,
    );
    add("negative", "150 dpi negative", negative(page150), None);
    add("jpeg", "300 dpi JPEG q30", page300.clone(), Some(30));
    add("jpeg", "150 dpi JPEG q50", page150.clone(), Some(50));
    add(
        "phone 1200 px",
        "phone, seal corner",
        phone(page300, PhoneShot::SealCorner, seed),
        Some(70),
    );
    add(
        "phone 1200 px",
        "phone, whole page",
        phone(page300, PhoneShot::WholePage, seed + 7),
        Some(80),
    );
    images
}

/// The page printed white on black, as a negative scan or a dark-mode
/// screen shows it.
fn negative(gray: &Gray) -> Gray {
    Gray {
        width: gray.width,
        height: gray.height,
        pixels: gray.pixels.iter().map(|&luma| 255 - luma).collect(),
    }
}

/// A page with the first certificate, the second certificate's seal pasted
/// at the right, and a QR code that is not a seal at the top.
fn several_codes(first: &Gray, second: &Gray) -> CorpusImage {
    let mut page = first.clone();
    let (w, h) = (second.width as usize, second.height as usize);
    // The second certificate's seal block: bottom left, 45% × 28%.
    let (block_w, block_h) = (w * 45 / 100, h * 28 / 100);
    let (from_x, from_y) = (0, h - block_h);
    let (to_x, to_y) = (page.width as usize - block_w, page.height as usize / 2);
    for row in 0..block_h {
        let src = (from_y + row) * w + from_x;
        let dst = (to_y + row) * page.width as usize + to_x;
        page.pixels[dst..dst + block_w].copy_from_slice(&second.pixels[src..src + block_w]);
    }
    let foreign = qrcode::QrCode::new(b"https://www.comune.example.it/servizi").expect("QR");
    let modules = foreign.width();
    let colours = foreign.to_colors();
    let scale = 8;
    let (left, top) = (page.width as usize - (modules + 8) * scale - 100, 150);
    for y in 0..modules * scale {
        for x in 0..modules * scale {
            let dark = colours[(y / scale) * modules + x / scale] == qrcode::Color::Dark;
            page.pixels[(top + y) * page.width as usize + left + x] = if dark { 0 } else { 255 };
        }
    }
    CorpusImage {
        name: "two seals and a foreign QR code".into(),
        degradation: "several codes",
        bytes: encode_png(&page),
        pixels: page,
    }
}

fn encode_png(gray: &Gray) -> Vec<u8> {
    use image::ImageEncoder as _;
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut bytes,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Sub,
    )
    .write_image(
        &gray.pixels,
        gray.width,
        gray.height,
        image::ExtendedColorType::L8,
    )
    .expect("PNG");
    bytes
}

fn encode_jpeg(gray: &Gray, quality: u8) -> Vec<u8> {
    use image::ImageEncoder as _;
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .write_image(
            &gray.pixels,
            gray.width,
            gray.height,
            image::ExtendedColorType::L8,
        )
        .expect("JPEG");
    bytes
}

fn rotate90(gray: &Gray) -> Gray {
    let (w, h) = (gray.width as usize, gray.height as usize);
    let mut pixels = vec![0; w * h];
    for y in 0..h {
        for x in 0..w {
            // Clockwise: (x, y) goes to (h - 1 - y, x).
            pixels[x * h + (h - 1 - y)] = gray.pixels[y * w + x];
        }
    }
    Gray {
        width: h as u32,
        height: w as u32,
        pixels,
    }
}

fn rotate180(gray: &Gray) -> Gray {
    let mut pixels = gray.pixels.clone();
    pixels.reverse();
    Gray {
        pixels,
        ..gray.clone()
    }
}

/// Samples `gray` at `(x, y)` bilinearly; white outside.
fn sample(gray: &Gray, x: f32, y: f32) -> u8 {
    let (w, h) = (gray.width as i64, gray.height as i64);
    let (x0, y0) = (x.floor() as i64, y.floor() as i64);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |x: i64, y: i64| {
        if x < 0 || y < 0 || x >= w || y >= h {
            255.0
        } else {
            f32::from(gray.pixels[(y * w + x) as usize])
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
    let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
    (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
}

/// An image of `width × height` whose pixel `(x, y)` is `gray` at `map(x, y)`.
fn warp(gray: &Gray, width: u32, height: u32, map: impl Fn(f32, f32) -> (f32, f32)) -> Gray {
    let mut pixels = Vec::with_capacity(width as usize * height as usize);
    for y in 0..height {
        for x in 0..width {
            let (sx, sy) = map(x as f32, y as f32);
            pixels.push(sample(gray, sx, sy));
        }
    }
    Gray {
        width,
        height,
        pixels,
    }
}

/// Turned by `degrees` about the centre, on a canvas that holds it all.
fn rotate(gray: &Gray, degrees: f32) -> Gray {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (w, h) = (gray.width as f32, gray.height as f32);
    let (out_w, out_h) = (w * cos + h * sin, w * sin + h * cos);
    warp(gray, out_w as u32, out_h as u32, |x, y| {
        let (dx, dy) = (x - out_w / 2.0, y - out_h / 2.0);
        (
            dx * cos + dy * sin + w / 2.0,
            -dx * sin + dy * cos + h / 2.0,
        )
    })
}

/// The page as a camera sees it at an angle: its top edge shrunk by
/// `amount` of the width on each side.
fn perspective(gray: &Gray, amount: f32) -> Gray {
    let (w, h) = (gray.width as f32, gray.height as f32);
    // Output corners (the whole canvas) from the page's corners seen in
    // perspective: the top narrower than the bottom.
    let page_corners = [
        (w * amount, 0.0),
        (w * (1.0 - amount), 0.0),
        (w, h),
        (0.0, h),
    ];
    homography_warp(gray, &page_corners, gray.width, gray.height)
}

#[derive(Clone, Copy)]
enum PhoneShot {
    /// The bottom left of the page, where the seal is, tilted.
    SealCorner,
    /// The whole page.
    WholePage,
}

/// A phone photo: part of the page seen at a slight angle, 1200 px wide,
/// softened, greyer and noisier than a scan.
fn phone(page: &Gray, shot: PhoneShot, seed: u64) -> Gray {
    let (w, h) = (page.width as f32, page.height as f32);
    // The region of the page (corners in page pixels, clockwise from the
    // top left) that fills the photo.
    let region = match shot {
        PhoneShot::SealCorner => [
            (0.02 * w, 0.52 * h),
            (0.58 * w, 0.55 * h),
            (0.56 * w, 0.97 * h),
            (-0.01 * w, 0.95 * h),
        ],
        PhoneShot::WholePage => [
            (-0.03 * w, -0.01 * h),
            (1.01 * w, 0.02 * h),
            (1.03 * w, 1.02 * h),
            (-0.02 * w, 0.99 * h),
        ],
    };
    let span_w = ((region[1].0 - region[0].0) + (region[2].0 - region[3].0)) / 2.0;
    let span_h = ((region[3].1 - region[0].1) + (region[2].1 - region[1].1)) / 2.0;
    let out_w = 1200;
    let out_h = (1200.0 * span_h / span_w) as u32;
    let photo = homography_warp(page, &region, out_w, out_h);
    noise(&fade(&blur(&photo, 1), 40, 215), 8, seed)
}

/// Warps so that the output canvas's corners (clockwise from top left)
/// show `corners` of the source.
fn homography_warp(gray: &Gray, corners: &[(f32, f32); 4], width: u32, height: u32) -> Gray {
    let (w, h) = (width as f64, height as f64);
    let targets = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    // Solve for H mapping output (u, v) to source (x, y).
    let mut a = [[0.0f64; 9]; 8];
    for (i, (&(u, v), &(x, y))) in targets.iter().zip(corners.iter()).enumerate() {
        let (x, y) = (f64::from(x), f64::from(y));
        a[2 * i] = [u, v, 1.0, 0.0, 0.0, 0.0, -u * x, -v * x, x];
        a[2 * i + 1] = [0.0, 0.0, 0.0, u, v, 1.0, -u * y, -v * y, y];
    }
    let m = solve8(a);
    warp(gray, width, height, |u, v| {
        let (u, v) = (f64::from(u), f64::from(v));
        let d = m[6] * u + m[7] * v + 1.0;
        (
            ((m[0] * u + m[1] * v + m[2]) / d) as f32,
            ((m[3] * u + m[4] * v + m[5]) / d) as f32,
        )
    })
}

/// Gaussian elimination of an 8×8 system (augmented).
fn solve8(mut a: [[f64; 9]; 8]) -> [f64; 8] {
    for col in 0..8 {
        let pivot = (col..8)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .expect("rows");
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (row, line) in a.iter_mut().enumerate() {
            if row != col {
                let factor = line[col] / pivot_row[col];
                for (value, pivot_value) in line.iter_mut().zip(pivot_row).skip(col) {
                    *value -= factor * pivot_value;
                }
            }
        }
    }
    std::array::from_fn(|i| a[i][8] / a[i][i])
}

/// Two passes of a box blur of radius `r` each way: close to a Gaussian.
fn blur(gray: &Gray, r: usize) -> Gray {
    let (w, h) = (gray.width as usize, gray.height as usize);
    let mut current = gray.pixels.clone();
    for _ in 0..2 {
        let mut horizontal = vec![0u8; w * h];
        for y in 0..h {
            let row = &current[y * w..(y + 1) * w];
            let mut sum: u32 = (0..=r).map(|x| u32::from(row[x.min(w - 1)])).sum::<u32>()
                + r as u32 * u32::from(row[0]);
            for x in 0..w {
                horizontal[y * w + x] = (sum / (2 * r as u32 + 1)) as u8;
                let add = row[(x + r + 1).min(w - 1)];
                let remove = row[x.saturating_sub(r)];
                sum = sum + u32::from(add) - u32::from(remove);
            }
        }
        let mut vertical = vec![0u8; w * h];
        for x in 0..w {
            let at = |y: usize| u32::from(horizontal[y.min(h - 1) * w + x]);
            let mut sum: u32 = (0..=r).map(at).sum::<u32>() + r as u32 * at(0);
            for y in 0..h {
                vertical[y * w + x] = (sum / (2 * r as u32 + 1)) as u8;
                sum = sum + at(y + r + 1) - at(y.saturating_sub(r));
            }
        }
        current = vertical;
    }
    Gray {
        pixels: current,
        ..gray.clone()
    }
}

/// Black to `low`, white to `high`.
fn fade(gray: &Gray, low: u8, high: u8) -> Gray {
    let span = u32::from(high - low);
    Gray {
        pixels: gray
            .pixels
            .iter()
            .map(|&p| low + (u32::from(p) * span / 255) as u8)
            .collect(),
        ..gray.clone()
    }
}

/// Uniform noise of ±`amount`, from a fixed seed.
fn noise(gray: &Gray, amount: i32, seed: u64) -> Gray {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    Gray {
        pixels: gray
            .pixels
            .iter()
            .map(|&p| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let r = ((state >> 33) % (2 * amount as u64 + 1)) as i32 - amount;
                (i32::from(p) + r).clamp(0, 255) as u8
            })
            .collect(),
        ..gray.clone()
    }
}
