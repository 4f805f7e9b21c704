//! Load generator for the image-upload storm (`scripts/verify_storm.sh`
//! runs it against a release server it starts): many concurrent uploads
//! of the worst image for the verifier — an image as large as the limits
//! let through, plain white, so every pass of the QR search runs and finds
//! nothing — while one client verifies the seal's text one request after
//! the other, as a counter's scanner does.
//!
//! It measures the text verification's latency idle and during the storm,
//! counts the uploads answered, refused with 503 or failed otherwise,
//! samples the server's resident memory from `/proc/<pid>/status` and
//! reads its peak (`VmHWM`) at the end, and checks the server still
//! answers `/health`.
//!
//! ```text
//! cargo run --release --example verify_storm -- \
//!     --base http://127.0.0.1:18182 --pid 1234 --seal seal.txt \
//!     [--uploads 64] [--seconds 20] [--width 16000 --height 3000]
//! ```

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

struct Args {
    base: String,
    pid: u32,
    seal: String,
    uploads: usize,
    seconds: u64,
    width: u32,
    height: u32,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        base: String::new(),
        pid: 0,
        seal: String::new(),
        uploads: 64,
        seconds: 20,
        width: 16_000,
        height: 3000,
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let value = words
            .next()
            .with_context(|| format!("{word} needs a value"))?;
        match word.as_str() {
            "--base" => args.base = value,
            "--pid" => args.pid = value.parse()?,
            "--seal" => args.seal = std::fs::read_to_string(&value)?.trim().to_owned(),
            "--uploads" => args.uploads = value.parse()?,
            "--seconds" => args.seconds = value.parse()?,
            "--width" => args.width = value.parse()?,
            "--height" => args.height = value.parse()?,
            other => bail!("unknown argument {other}"),
        }
    }
    if args.base.is_empty() || args.pid == 0 || args.seal.is_empty() {
        bail!("--base, --pid and --seal are needed");
    }
    Ok(args)
}

/// A white PNG of `width × height`: a few tens of kilobytes on the wire.
fn worst_image(width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let image = image::GrayImage::from_pixel(width, height, image::Luma([255]));
    let mut png = Vec::new();
    image.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)?;
    Ok(png)
}

/// The server's resident memory now, and its peak, in KiB.
fn memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// One text verification; its latency, or why it was lost.
async fn verify_text(client: &reqwest::Client, url: &str, seal: &str) -> Result<Duration, String> {
    let start = Instant::now();
    let response = client
        .post(url)
        .header("Content-Type", "text/plain")
        .body(seal.to_owned())
        .send()
        .await
        .map_err(|error| error.to_string())?;
    let status = response.status();
    let body = response.text().await.map_err(|error| error.to_string())?;
    if !status.is_success() || !body.contains("\"outcome\": \"authentic\"") {
        return Err(format!(
            "{status}: {}",
            body.chars().take(120).collect::<String>()
        ));
    }
    Ok(start.elapsed())
}

/// Verifies the text one request after the other until `stop`.
async fn text_client(
    client: reqwest::Client,
    url: String,
    seal: String,
    stop: Arc<AtomicBool>,
    at_least: usize,
) -> (Vec<Duration>, Vec<String>) {
    let (mut latencies, mut lost) = (Vec::new(), Vec::new());
    while !stop.load(Ordering::Relaxed) || latencies.len() + lost.len() < at_least {
        match verify_text(&client, &url, &seal).await {
            Ok(latency) => latencies.push(latency),
            Err(why) => lost.push(why),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (latencies, lost)
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * share).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(name: &str, mut latencies: Vec<Duration>, lost: &[String]) -> (Duration, Duration) {
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    println!(
        "{name}: {} verified, {} lost; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        lost.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    for why in lost.iter().take(3) {
        println!("  lost: {why}");
    }
    (p50, p99)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let url = format!("{}/api/v1/verify", args.base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(args.uploads + 4)
        .build()?;
    let image = Arc::new(worst_image(args.width, args.height)?);
    println!(
        "worst image: {}×{} white PNG, {} bytes; {} concurrent uploads for {} s",
        args.width,
        args.height,
        image.len(),
        args.uploads,
        args.seconds
    );
    let (rss_before, _) = memory(args.pid).context("the server's /proc status")?;

    // Idle: the text alone, after a few to warm the connection up.
    for _ in 0..20 {
        let _ = verify_text(&client, &url, &args.seal).await;
    }
    let stop = Arc::new(AtomicBool::new(true));
    let (idle, idle_lost) =
        text_client(client.clone(), url.clone(), args.seal.clone(), stop, 200).await;
    let (_, idle_p99) = summary("text, idle", idle, &idle_lost);

    // The storm, with the text client beside it.
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new([
        AtomicU64::new(0), // 200
        AtomicU64::new(0), // 503
        AtomicU64::new(0), // other answers
        AtomicU64::new(0), // transport errors
    ]);
    let image_latency = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut uploads = Vec::new();
    for _ in 0..args.uploads {
        let (client, url, image, stop, counts, image_latency) = (
            client.clone(),
            url.clone(),
            Arc::clone(&image),
            Arc::clone(&stop),
            Arc::clone(&counts),
            Arc::clone(&image_latency),
        );
        uploads.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                let sent = client
                    .post(&url)
                    .header("Content-Type", "image/png")
                    .body(image.as_ref().clone())
                    .send()
                    .await;
                let slot = match sent {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let _ = response.bytes().await;
                        match status {
                            200 => {
                                if let Ok(mut latencies) = image_latency.lock() {
                                    latencies.push(start.elapsed());
                                }
                                0
                            }
                            503 => {
                                // As a well-behaved client: wait a little.
                                tokio::time::sleep(Duration::from_millis(200)).await;
                                1
                            }
                            _ => 2,
                        }
                    }
                    Err(_) => 3,
                };
                counts[slot].fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let sampler = {
        let stop = Arc::clone(&stop);
        let pid = args.pid;
        tokio::spawn(async move {
            let mut peak = 0;
            while !stop.load(Ordering::Relaxed) {
                if let Some((rss, _)) = memory(pid) {
                    peak = peak.max(rss);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            peak
        })
    };
    // The counter's client is another user: its own connections.
    let counter = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let text = tokio::spawn(text_client(
        counter,
        url.clone(),
        args.seal.clone(),
        Arc::clone(&stop),
        0,
    ));
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let (storm, storm_lost) = text.await?;
    for upload in uploads {
        upload.await?;
    }
    let sampled_peak = sampler.await?;
    let (_, p99) = summary("text, during the storm", storm, &storm_lost);
    let mut image_latency = image_latency.lock().map(|l| l.clone()).unwrap_or_default();
    image_latency.sort();
    println!(
        "uploads: {} verified (median {:.2} s), {} refused with 503, {} other answers, {} transport errors",
        counts[0].load(Ordering::Relaxed),
        percentile(&image_latency, 0.5).as_secs_f64(),
        counts[1].load(Ordering::Relaxed),
        counts[2].load(Ordering::Relaxed),
        counts[3].load(Ordering::Relaxed)
    );
    let (_, hwm) = memory(args.pid).context("the server is gone")?;
    println!(
        "server memory: {} MiB before, peak sampled {} MiB, peak (VmHWM) {} MiB",
        rss_before / 1024,
        sampled_peak / 1024,
        hwm / 1024
    );
    let alive = client
        .get(format!("{}/health", args.base.trim_end_matches('/')))
        .send()
        .await
        .is_ok_and(|response| response.status().is_success());
    println!("server alive after the storm: {alive}");
    let ratio = p99.as_secs_f64() / idle_p99.as_secs_f64().max(1e-6);
    println!(
        "RESULT peak_mib={} text_p99_idle_ms={:.1} text_p99_storm_ms={:.1} ratio={ratio:.1} text_lost={} alive={alive}",
        hwm / 1024,
        idle_p99.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        storm_lost.len() + idle_lost.len()
    );
    Ok(())
}
