//! Measures the store: how fast the importers load the demo comune, and how
//! many certificates concurrent issuers register per second.
//!
//! ```sh
//! cargo run --release -p store --example store_throughput -- URL [TASKS] [PER_TASK]
//! ```
//!
//! `URL` is a scratch database (`sqlite:/tmp/x.db?mode=rwc` or
//! `postgres://…`): the run writes the demo comune into it and registers
//! `TASKS` × `PER_TASK` certificates (default 8 × 25) of the demo comune in
//! year 2099. Each registration's PDF is 50 kB.

use std::error::Error;
use std::time::Instant;

use seal::{CertificateKind, Clause, CodiceFiscale, Kid};
use store::model::CertificateStatus;
use store::{NewCertificate, Store};
use time::OffsetDateTime;

const LOADS: u32 = 5;

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: store_throughput URL [TASKS] [PER_TASK]")?;
    let tasks: usize = args.next().map_or(Ok(8), |n| n.parse())?;
    let per_task: usize = args.next().map_or(Ok(25), |n| n.parse())?;
    let store = Store::connect(&url).await?;
    println!("backend: {:?}", store.backend());

    // The first load warms up connections and caches; the rest are timed.
    store::demo::load(&store).await?;
    let started = Instant::now();
    let mut people_rows = 0;
    let mut parcel_rows = 0;
    for _ in 0..LOADS {
        let summary = store::demo::load(&store).await?;
        people_rows += summary.people.rows;
        parcel_rows += summary.parcels.rows;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "demo load: {LOADS} × ({} people rows + {} parcel rows) in {elapsed:.2} s = {:.0} rows/s",
        people_rows / u64::from(LOADS),
        parcel_rows / u64::from(LOADS),
        (people_rows + parcel_rows) as f64 / elapsed
    );

    let comune = store::demo::code();
    let holder = CodiceFiscale::parse("RSSMRA85T10A562S")?;
    let pdf = vec![b'x'; 50_000];
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (store, holder, pdf) = (store.clone(), holder.clone(), pdf.clone());
        handles.push(tokio::spawn(async move {
            for _ in 0..per_task {
                let (holder, pdf) = (holder.clone(), pdf.clone());
                store
                    .register_certificate(comune, 2099, move |_, _| {
                        Ok::<_, String>(NewCertificate {
                            kind: CertificateKind::Residenza,
                            holder,
                            usage: seal::usage::parse_usage("bollo").expect("use"),
                            clause: Clause::Standard,
                            status: CertificateStatus::Pending,
                            created_at: OffsetDateTime::now_utc(),
                            issued_at: None,
                            expires_at: None,
                            seal: vec![0; 260],
                            kid: Kid([0; 8]),
                            pdf,
                            issued_by: "throughput".into(),
                            marca_id: None,
                            origin: None,
                        })
                    })
                    .await?;
            }
            Ok::<_, store::RegisterError<String>>(())
        }));
    }
    for handle in handles {
        handle.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let count = tasks * per_task;
    println!(
        "registration: {tasks} tasks × {per_task} = {count} certificates in {elapsed:.2} s = {:.0}/s",
        count as f64 / elapsed
    );
    Ok(())
}
