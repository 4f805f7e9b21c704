//! The HTTP server: the request API, pagoPA's return address, the OpenAPI
//! document and, in demo and test set-ups, the pagoPA emulator under
//! `/sandbox/pagopa`. Handlers only translate HTTP to calls of the issuer
//! library and back; the rules live there.
//!
//! ```no_run
//! # async fn example(config: sigillo::config::Config) -> anyhow::Result<()> {
//! let server = sigillo::server::Server::bind(&config).await?;
//! server.run().await
//! # }
//! ```

mod api;
pub mod error;
mod pages;
pub mod verify;
mod verify_pages;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use issuer::payments::client::{PagoPa, PagoPaConfig};
use issuer::payments::emulator::Emulator;
use issuer::requests::{RequestSettings, Requests};
use issuer::service::Issuer;
use issuer::store::Store;
use issuer::templates::Templates;
use keys::KeyStore;
use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::config::{Config, PagoPaEndpoints};
use verify::Verification;

/// The OpenAPI document of the JSON API, served at `/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

/// Largest JSON body the API reads.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// What every handler shares. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    requests: Requests,
    verification: Verification,
}

impl AppState {
    /// State over a request flow and verification.
    pub fn new(requests: Requests, verification: Verification) -> Self {
        Self {
            inner: Arc::new(Inner {
                requests,
                verification,
            }),
        }
    }

    /// The request flow.
    pub fn requests(&self) -> &Requests {
        &self.inner.requests
    }

    /// Verification and the published lists.
    pub fn verification(&self) -> &Verification {
        &self.inner.verification
    }
}

/// The application's routes over `state`; `emulator`, when given, is
/// mounted under `/sandbox/pagopa`.
pub fn router(state: AppState, emulator: Option<&Emulator>) -> Router {
    let api = Router::new()
        .route("/requests", post(api::create))
        .route("/requests/{id}", get(api::show))
        .route("/requests/{id}/pdf", get(api::pdf))
        .route("/requests/{id}/cancel", post(api::cancel))
        .route("/openapi.json", get(openapi))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .route(
            "/verify",
            post(verify::verify).layer(DefaultBodyLimit::max(verify::MAX_VERIFY_BYTES)),
        );
    let well_known = Router::new()
        .route("/status-list", get(verify::status_list))
        .route("/trust-list", get(verify::trust_list))
        .route("/ca.pem", get(verify::ca_pem));
    let mut router = Router::new()
        .nest("/api/v1", api)
        .nest("/.well-known/sigillo/{istat}", well_known)
        .route("/v", verify_pages::routes())
        .route("/V", verify_pages::routes())
        .route("/sportello/verifica", get(verify_pages::counter))
        .route("/pagamenti/{comune}/{id}", get(pages::payment_return))
        .route("/health", get(|| async { "ok" }))
        .with_state(state);
    if let Some(emulator) = emulator {
        router = router.merge(emulator.router_at("/sandbox/pagopa"));
    }
    router.layer(tower_http::trace::TraceLayer::new_for_http())
}

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

/// A server bound to its address, ready to run.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: AppState,
    emulator: Option<Emulator>,
    reconcile_every: Duration,
    base_url: String,
}

impl Server {
    /// Binds the configured address, opens the store and the keys, and
    /// connects the pagoPA adapter (to the emulator mounted here when no
    /// platform is configured). A production configuration refuses to
    /// start when pagoPA answers as the emulator.
    pub async fn bind(config: &Config) -> anyhow::Result<Self> {
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
        let verification = Verification::new(
            KeyStore::new(&config.data_dir),
            store.clone(),
            &base_url,
            config.server.verify_per_minute,
        );
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
            state: AppState::new(requests, verification),
            emulator,
            reconcile_every: Duration::from_secs(settings.reconcile_every_seconds),
            base_url,
        })
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
    pub async fn run(self) -> anyhow::Result<()> {
        let reconciler = tokio::spawn(reconcile_forever(self.state.clone(), self.reconcile_every));
        let app = router(self.state, self.emulator.as_ref());
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await;
        reconciler.abort();
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

async fn reconcile_forever(state: AppState, every: Duration) {
    loop {
        let summary = state.requests().reconcile(OffsetDateTime::now_utc()).await;
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
