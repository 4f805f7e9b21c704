//! Sigillo over HTTP: the request API, verification (the JSON API, the
//! pages the QR code opens, the counter's page), the lists offline
//! verifiers fetch, pagoPA's return address and the OpenAPI document.
//! Handlers only translate HTTP to calls of the `issuer` and `verifier`
//! libraries and back; the rules live there.
//!
//! The crate receives services already built ([`AppState`]) and answers a
//! [`Router`]; binding a socket, configuration and background jobs are the
//! binary's.
//!
//! ```no_run
//! # async fn example(state: web::AppState) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let app = web::router(state, None);
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
//! # }
//! ```
#![warn(missing_docs)]

mod api;
pub mod error;
mod headers;
mod office;
mod opendata;
mod pages;
pub mod portal;
pub mod queue;
mod templates;
pub mod verify;
mod verify_pages;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use issuer::requests::Requests;

pub use portal::{Contacts, PortalSettings};

/// When the citizen portal's sessions end: 30 minutes idle, 8 hours after
/// login.
pub const SESSION_TIMEOUTS: store::SessionTimeouts = portal::TIMEOUTS;
pub use verify::Verification;

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
    portal: Option<PortalSettings>,
}

impl AppState {
    /// State over a request flow and verification, without the citizen
    /// portal (its pages answer 404).
    pub fn new(requests: Requests, verification: Verification) -> Self {
        Self::with_portal(requests, verification, None)
    }

    /// State with the citizen portal of `portal`'s comune.
    pub fn with_portal(
        requests: Requests,
        verification: Verification,
        portal: Option<PortalSettings>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                requests,
                verification,
                portal,
            }),
        }
    }

    /// The citizen portal's settings, when it is served.
    pub fn portal(&self) -> Option<&PortalSettings> {
        self.inner.portal.as_ref()
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

/// The application's routes over `state`; `extra`, when given, is merged
/// beside them (the demo mounts the pagoPA emulator so).
pub fn router(state: AppState, extra: Option<Router>) -> Router {
    let api = Router::new()
        .route("/requests", post(api::create))
        .route("/requests/{id}", get(api::show))
        .route("/requests/{id}/pdf", get(api::pdf))
        .route("/requests/{id}/notice.pdf", get(api::notice_pdf))
        .route("/requests/{id}/cancel", post(api::cancel))
        .route("/openapi.json", get(openapi))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .route(
            "/verify",
            post(verify::verify).layer(DefaultBodyLimit::max(verify::MAX_VERIFY_BYTES)),
        )
        .fallback(headers::api_not_found)
        .method_not_allowed_fallback(headers::api_method_not_allowed);
    let well_known = Router::new()
        .route("/status-list", get(verify::status_list))
        .route("/trust-list", get(verify::trust_list))
        .route("/ca.pem", get(verify::ca_pem));
    let https = state
        .requests()
        .settings()
        .public_base_url
        .starts_with("https://");
    let mut router = Router::new()
        .nest("/api/v1", api)
        .route("/api", any(headers::api_not_found))
        .route("/api/", any(headers::api_not_found))
        .route("/api/{*rest}", any(headers::api_not_found))
        .nest("/.well-known/sigillo/{istat}", well_known)
        .route("/v", verify_pages::routes())
        .route("/V", verify_pages::routes())
        .route("/dati-aperti/{istat}/certificati.csv", get(opendata::csv))
        .route("/dati-aperti/{istat}/certificati.json", get(opendata::json))
        .route("/pagamenti/{comune}/{id}", get(pages::payment_return))
        .route("/pagamenti/{comune}/{id}/paga", get(pages::pay))
        .route("/static/{name}", get(templates::assets::serve))
        .route(&templates::vendor::route(), get(templates::vendor::serve))
        .merge(portal::routes())
        .merge(office::routes())
        .fallback(portal::fallback)
        .route("/health", get(|| async { "ok" }))
        .with_state(state)
        // The emulator's sandbox pages, merged below, keep their own headers.
        .layer(axum::middleware::map_response(move |response| async move {
            headers::secure(response, https)
        }));
    if let Some(extra) = extra {
        router = router.merge(extra);
    }
    router.layer(tower_http::trace::TraceLayer::new_for_http())
}

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}
