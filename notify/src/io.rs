//! App IO's services API (`io-services-api.yaml`, `https://api.io.pagopa.it/api/v1`):
//! a service of the comune, authenticated by its subscription key.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use seal::CodiceFiscale;
use serde::{Deserialize, Serialize};

/// The header of the service's key.
pub const SUBSCRIPTION_KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";

/// The shortest and longest subject App IO accepts (`MessageSubject`).
pub const SUBJECT_CHARS: std::ops::RangeInclusive<usize> = 10..=120;
/// The shortest and longest body App IO accepts (`MessageBodyMarkdown`).
pub const MARKDOWN_CHARS: std::ops::RangeInclusive<usize> = 80..=10_000;

/// Where App IO is and the comune's service key.
#[derive(Clone)]
pub struct IoConfig {
    /// The API's base, e.g. `https://api.io.pagopa.it/api/v1`.
    pub base_url: String,
    /// The service's subscription key.
    pub subscription_key: String,
    /// How long a call may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for IoConfig {
    // The key is a credential: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoConfig")
            .field("base_url", &self.base_url)
            .field("subscription_key", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why a call to App IO failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IoError {
    /// The configuration is not usable.
    #[error("configurazione di App IO non valida: {0}")]
    Config(String),
    /// App IO did not answer, or answered 5xx/429: try again later.
    #[error("App IO non è raggiungibile (stato {status:?})")]
    Unavailable {
        /// The status, if an answer came.
        status: Option<u16>,
    },
    /// App IO refused the call (4xx): trying again will not help.
    #[error("App IO ha rifiutato la richiesta ({status})")]
    Rejected {
        /// The status.
        status: u16,
    },
    /// The message does not fit App IO's limits.
    #[error("messaggio non valido per App IO: {0}")]
    InvalidMessage(&'static str),
    /// An answer without the documented shape.
    #[error("risposta di App IO inattesa: {0}")]
    Malformed(String),
}

impl IoError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// What `getProfile` says of a citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The citizen has App IO and accepts this service's messages.
    Allowed,
    /// The citizen has App IO but does not accept this service's messages.
    Refused,
    /// The citizen has no App IO profile.
    NoProfile,
}

/// `LimitedProfile`: what the service may know.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimitedProfile {
    /// Whether the citizen accepts this service's messages.
    pub sender_allowed: bool,
    /// Their languages, if said.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_languages: Vec<String>,
}

/// `NewMessage`, as this client sends it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewMessage {
    /// Seconds the message may wait for delivery.
    pub time_to_live: u32,
    /// Subject and text.
    pub content: MessageContent,
}

/// `MessageContent`: subject and Markdown text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageContent {
    /// 10 to 120 characters.
    pub subject: String,
    /// 80 to 10 000 characters of Markdown.
    pub markdown: String,
}

/// `CreatedMessage`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedMessage {
    /// App IO's id of the message.
    pub id: String,
}

/// A client of App IO's services API.
#[derive(Debug, Clone)]
pub struct Io {
    http: reqwest::Client,
    base: Url,
    key: String,
}

impl Io {
    /// A client for `config`.
    pub fn new(config: &IoConfig) -> Result<Self, IoError> {
        let base = Url::parse(config.base_url.trim_end_matches('/'))
            .map_err(|e| IoError::Config(format!("base_url: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(IoError::Config("base_url must be http(s)".into()));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .user_agent(concat!("sigillo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| IoError::Config(e.to_string()))?;
        Ok(Self {
            http,
            base,
            key: config.subscription_key.clone(),
        })
    }

    fn url(&self, segments: &[&str]) -> Result<Url, IoError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| IoError::Config("base_url cannot take a path".into()))?
            .extend(segments);
        Ok(url)
    }

    /// `getProfile`: whether the citizen can be reached.
    pub async fn reach(&self, citizen: &CodiceFiscale) -> Result<Reach, IoError> {
        let url = self.url(&["profiles", citizen.as_str()])?;
        let answer = self
            .http
            .get(url)
            .header(SUBSCRIPTION_KEY_HEADER, &self.key)
            .send()
            .await
            .map_err(|_| IoError::Unavailable { status: None })?;
        match answer.status() {
            StatusCode::NOT_FOUND => Ok(Reach::NoProfile),
            status if status.is_success() => {
                let profile: LimitedProfile = answer
                    .json()
                    .await
                    .map_err(|e| IoError::Malformed(format!("getProfile: {e}")))?;
                Ok(if profile.sender_allowed {
                    Reach::Allowed
                } else {
                    Reach::Refused
                })
            }
            status => Err(failure(status)),
        }
    }

    /// `submitMessageforUser`: sends `subject` and `markdown` to the
    /// citizen; answers App IO's message id.
    pub async fn send(
        &self,
        citizen: &CodiceFiscale,
        subject: &str,
        markdown: &str,
    ) -> Result<String, IoError> {
        if !SUBJECT_CHARS.contains(&subject.chars().count()) {
            return Err(IoError::InvalidMessage(
                "l'oggetto deve avere da 10 a 120 caratteri",
            ));
        }
        if !MARKDOWN_CHARS.contains(&markdown.chars().count()) {
            return Err(IoError::InvalidMessage(
                "il testo deve avere da 80 a 10000 caratteri",
            ));
        }
        let url = self.url(&["messages", citizen.as_str()])?;
        let body = NewMessage {
            time_to_live: 3600,
            content: MessageContent {
                subject: subject.to_owned(),
                markdown: markdown.to_owned(),
            },
        };
        let answer = self
            .http
            .post(url)
            .header(SUBSCRIPTION_KEY_HEADER, &self.key)
            .json(&body)
            .send()
            .await
            .map_err(|_| IoError::Unavailable { status: None })?;
        let status = answer.status();
        if !status.is_success() {
            return Err(failure(status));
        }
        let created: CreatedMessage = answer
            .json()
            .await
            .map_err(|e| IoError::Malformed(format!("submitMessageforUser: {e}")))?;
        Ok(created.id)
    }
}

fn failure(status: StatusCode) -> IoError {
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        IoError::Unavailable {
            status: Some(status.as_u16()),
        }
    } else {
        IoError::Rejected {
            status: status.as_u16(),
        }
    }
}
