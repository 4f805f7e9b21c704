//! The wiring: from the configuration to built services, then to the
//! HTTP server of the `web` crate with the background reconciliation job.
//!
//! ```no_run
//! # async fn example(config: sigillo::config::Config) -> anyhow::Result<()> {
//! sigillo::app::App::build(&config).await?.serve().await
//! # }
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, bail};
use issuer::notifications::{DrainSummary, Notifier};
use issuer::register::Issuer;
use issuer::requests::{RequestSettings, Requests};
use issuer::templates::Templates;
use keys::KeyStore;
use notify::emulator::{IoEmulator, SmtpSink};
use notify::io::{Io, IoConfig};
use notify::mail::{MailConfig, Mailer};
use pagopa::client::{PagoPa, PagoPaConfig};
use pagopa::emulator::Emulator;
use store::Store;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use web::{AppState, PortalSettings, Verification};

use crate::config::{Config, PagoPaEndpoints};

/// The application bound to its address, ready to serve.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    state: AppState,
    emulator: Option<Emulator>,
    reconcile_every: Duration,
    base_url: String,
    notifier: Notifier,
    notify_every: Duration,
    io_emulator: Option<IoEmulator>,
    smtp_sink: Option<SmtpSink>,
}

impl App {
    /// Binds the configured address, opens the store and the keys, and
    /// connects the pagoPA adapter (to the emulator mounted here when no
    /// platform is configured). A production configuration refuses to
    /// start when pagoPA answers as the emulator.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("ascolto su {}", config.server.listen))?;
        let address = listener.local_addr().context("indirizzo di ascolto")?;
        let base_url = config
            .server
            .public_base_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        let settings = &config.pagopa;
        let timeout = Duration::from_secs(settings.timeout_seconds);
        let (pagopa_config, emulator) = match &settings.endpoints {
            None => (
                PagoPaConfig::emulator(&format!("http://{}/sandbox/pagopa", local(address))),
                Some(Emulator::new()),
            ),
            Some(PagoPaEndpoints::Emulator(base)) => (PagoPaConfig::emulator(base), None),
            Some(PagoPaEndpoints::Platform {
                gpd_base_url,
                payments_base_url,
                mbd_base_url,
                checkout_base_url,
                subscription_key,
                service_id,
                transfer_category,
            }) => (
                PagoPaConfig {
                    gpd_base_url: gpd_base_url.clone(),
                    payments_base_url: payments_base_url.clone(),
                    mbd_base_url: mbd_base_url.clone(),
                    checkout_base_url: checkout_base_url.clone(),
                    subscription_key: subscription_key.clone(),
                    timeout,
                    max_retries: settings.retries,
                    service_id: service_id.clone(),
                    transfer_category: transfer_category.clone(),
                },
                None,
            ),
        };
        let pagopa_config = PagoPaConfig {
            timeout,
            max_retries: settings.retries,
            ..pagopa_config
        };
        let pagopa = PagoPa::new(pagopa_config).context("configurazione di pagoPA")?;
        if config.server.production {
            let info = pagopa
                .info()
                .await
                .context("verifica dell'ambiente pagoPA all'avvio")?;
            if info.environment == "emulator" {
                bail!("in produzione pagoPA risponde come emulatore: avvio rifiutato");
            }
        }
        if config.database_url.starts_with("sqlite:") {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!(
                    "creazione della cartella dati {}",
                    config.data_dir.display()
                )
            })?;
        }
        let store = Store::connect(&config.database_url)
            .await
            .context("apertura del database")?;
        let templates = Templates::load(config.templates_dir.as_deref())?;
        let mut verification = Verification::new(
            KeyStore::new(&config.data_dir),
            store.clone(),
            &base_url,
            config.server.verify_per_minute,
        );
        if config.server.verify_workers.is_some() || config.server.verify_queue.is_some() {
            let workers = config
                .server
                .verify_workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
            let queue = config
                .server
                .verify_queue
                .unwrap_or(web::queue::QUEUE_PER_WORKER * workers);
            verification = verification.with_queue(workers, queue);
        }
        let (notifier, io_emulator, smtp_sink) =
            notifications(config, &store, &base_url, local(address)).await?;
        let issuer = Issuer::new(store, KeyStore::new(&config.data_dir), templates);
        let requests = Requests::new(
            issuer,
            pagopa,
            RequestSettings {
                pay_within: Duration::from_secs(settings.pay_within_minutes * 60),
                public_base_url: base_url.clone(),
                segregation_code: settings.segregation_code,
            },
        );
        Ok(Self {
            listener,
            state: AppState::with_portal(
                requests,
                verification,
                Some(portal_settings(config, &base_url)?),
            ),
            emulator,
            reconcile_every: Duration::from_secs(settings.reconcile_every_seconds),
            base_url,
            notifier,
            notify_every: Duration::from_secs(config.notifications.every_seconds),
            io_emulator,
            smtp_sink,
        })
    }

    /// The App IO emulator mounted here (the demo), if any.
    pub fn io_emulator(&self) -> Option<&IoEmulator> {
        self.io_emulator.as_ref()
    }

    /// The SMTP sink started for the demo, if any.
    pub fn smtp_sink(&self) -> Option<&SmtpSink> {
        self.smtp_sink.as_ref()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener.local_addr().context("indirizzo di ascolto")
    }

    /// The server's public base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The shared state (the store, for set-up before serving).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C or SIGTERM, with reconciliation at start-up
    /// and then periodically.
    pub async fn serve(self) -> anyhow::Result<()> {
        let reconciler = tokio::spawn(reconcile_forever(self.state.clone(), self.reconcile_every));
        let notifier = tokio::spawn(notify_forever(self.notifier.clone(), self.notify_every));
        let mut extra = self
            .emulator
            .as_ref()
            .map(|emulator| emulator.router_at("/sandbox/pagopa"));
        if let Some(io) = &self.io_emulator {
            let mut io = axum::Router::new().nest(IO_EMULATOR_PATH, io.router());
            if let Some(sink) = &self.smtp_sink {
                io = io.nest(MAIL_SINK_PATH, sink.router());
            }
            extra = Some(match extra {
                Some(router) => router.merge(io),
                None => io,
            });
        }
        let app = web::router(self.state, extra);
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await;
        reconciler.abort();
        notifier.abort();
        served.context("server HTTP")
    }
}

/// The address to call ourselves at: a wildcard listen address is reached
/// through loopback.
fn local(address: SocketAddr) -> SocketAddr {
    if address.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], address.port()))
    } else {
        address
    }
}

/// Where the demo's App IO emulator is mounted (its messages at
/// `…/_messages`).
pub const IO_EMULATOR_PATH: &str = "/sandbox/io/api/v1";
/// Where the demo's SMTP sink shows what it received.
pub const MAIL_SINK_PATH: &str = "/sandbox/posta";

/// The notifier of the configured channels; for the demo, an App IO
/// emulator mounted here and an SMTP sink on loopback.
async fn notifications(
    config: &Config,
    store: &Store,
    base_url: &str,
    local: SocketAddr,
) -> anyhow::Result<(Notifier, Option<IoEmulator>, Option<SmtpSink>)> {
    let settings = &config.notifications;
    let timeout = Duration::from_secs(10);
    let (mut io_config, mut mail_config) = (None, None);
    let (mut io_emulator, mut smtp_sink) = (None, None);
    if settings.emulators {
        io_emulator = Some(IoEmulator::new());
        io_config = Some(IoConfig {
            base_url: format!("http://{local}{IO_EMULATOR_PATH}"),
            subscription_key: "emulator".into(),
            timeout,
        });
        let sink = SmtpSink::start("127.0.0.1:0")
            .await
            .context("avvio del server di posta di prova")?;
        mail_config = Some(MailConfig {
            host: "127.0.0.1".into(),
            port: sink.addr().port(),
            from: format!(
                "Comune di {} <certificati@example.invalid>",
                config.comune.name
            ),
            timeout,
        });
        smtp_sink = Some(sink);
    }
    if let Some((base_url, key)) = &settings.io {
        io_config = Some(IoConfig {
            base_url: base_url.clone(),
            subscription_key: key.clone(),
            timeout,
        });
    }
    if let Some((host, port, from)) = &settings.smtp {
        mail_config = Some(MailConfig {
            host: host.clone(),
            port: *port,
            from: from.clone(),
            timeout,
        });
    }
    if io_config.is_none() && mail_config.is_none() {
        tracing::warn!("no [notifications] configured: citizens are told nothing");
    }
    let io = io_config
        .as_ref()
        .map(Io::new)
        .transpose()
        .context("configurazione di App IO")?;
    let mail = mail_config
        .as_ref()
        .map(Mailer::new)
        .transpose()
        .context("configurazione della posta")?;
    // Unique per process: claims of two nodes never mix.
    let sender = format!("{}-{}", local, std::process::id());
    let notifier = Notifier::new(
        store.clone(),
        io,
        mail,
        base_url,
        &sender,
        Duration::from_secs(settings.lease_seconds),
    );
    Ok((notifier, io_emulator, smtp_sink))
}

async fn notify_forever(notifier: Notifier, every: Duration) {
    loop {
        match notifier.drain(OffsetDateTime::now_utc()).await {
            Ok(summary) if summary != DrainSummary::default() => {
                tracing::info!(
                    sent = summary.sent,
                    not_allowed = summary.not_allowed,
                    retried = summary.retried,
                    gave_up = summary.gave_up,
                    skipped = summary.skipped,
                    "notifications pass"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "notifications pass failed"),
        }
        tokio::time::sleep(every).await;
    }
}

/// The citizen portal of the configured comune, with SPID and CIE when
/// `[portal.oidc]` names providers.
fn portal_settings(config: &Config, base_url: &str) -> anyhow::Result<PortalSettings> {
    let oidc = match &config.portal.oidc {
        Some(settings) => {
            let rp = oidc::RelyingParty::new(
                settings.clone(),
                &oidc::Context {
                    public_base_url: base_url,
                    data_dir: &config.data_dir,
                    organization_name: &config.comune.name,
                    production: config.server.production,
                },
            )
            .context("accesso con SPID e CIE ([portal.oidc])")?;
            tracing::info!(
                entity_id = rp.entity_id(),
                providers = rp.providers().len(),
                "SPID/CIE login configured"
            );
            Some(std::sync::Arc::new(rp))
        }
        None => None,
    };
    Ok(PortalSettings {
        comune: config.comune.code,
        demo_login: config.portal.demo_login && !config.server.production,
        contacts: config.portal.contacts.clone(),
        oidc,
    })
}

/// Logs what a purge of `what` did.
fn report_purge(done: Result<u64, store::StoreError>, what: &str) {
    match done {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "{what} deleted"),
        Err(error) => tracing::warn!(%error, "{what} not purged"),
    }
}

async fn reconcile_forever(state: AppState, every: Duration) {
    loop {
        let now = OffsetDateTime::now_utc();
        let store = state.requests().issuer().store();
        report_purge(
            store.purge_sessions(now, web::SESSION_TIMEOUTS).await,
            "portal sessions that timed out",
        );
        report_purge(
            store.purge_logins(now, oidc::LOGIN_TTL).await,
            "unfinished logins",
        );
        let summary = state.requests().reconcile(now).await;
        if summary.checked > 0 {
            tracing::info!(
                checked = summary.checked,
                advanced = summary.advanced,
                failed = summary.failed,
                "reconciliation pass"
            );
        }
        tokio::time::sleep(every).await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
