//! The pages' style sheet and scripts, embedded in the binary and served at
//! `GET /static/{name}` under a name that carries a hash of their content,
//! e.g. `/static/sigillo.3f2a1b9c0d.css`.
//!
//! Because a changed file gets a new name, every answer may be cached for
//! a year without revalidation (`immutable`): a page always names the
//! version it was rendered with, and an old page in a cache keeps working
//! until it is reloaded. A name that is not the current one is a 404, so a
//! stale address is never answered with different content.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// How long a browser or proxy may keep an asset: a year, without asking
/// again, as its name changes with its content.
const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// Hex digits of the SHA-256 kept in a name: 40 bits tell apart the few
/// versions of a file that are ever in use at once.
const HASH_CHARS: usize = 10;

/// One embedded file, under its plain name.
#[derive(Debug)]
struct Embedded {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const EMBEDDED: [Embedded; 4] = [
    Embedded {
        name: "sigillo.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/sigillo.css"),
    },
    Embedded {
        name: "sigillo.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/sigillo.js"),
    },
    Embedded {
        name: "verifica.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/verifica.js"),
    },
    Embedded {
        name: "sportello.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/sportello.js"),
    },
];

/// An embedded file with its hashed name.
#[derive(Debug)]
struct Asset {
    hashed: String,
    file: &'static Embedded,
}

/// The hashed names, computed once from the embedded bytes.
static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    EMBEDDED
        .iter()
        .map(|file| Asset {
            hashed: hashed_name(file.name, file.bytes),
            file,
        })
        .collect()
});

/// The address of the asset `name` (a plain name such as `sigillo.css`),
/// or `None` when no such file is embedded.
pub(crate) fn url(name: &str) -> Option<String> {
    ASSETS
        .iter()
        .find(|asset| asset.file.name == name)
        .map(|asset| format!("/static/{}", asset.hashed))
}

/// `GET /static/{name}`: an embedded file under its current hashed name.
pub(crate) async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.hashed == name) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Risorsa non trovata.",
        )
            .into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.file.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(CACHE_CONTROL),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        asset.file.bytes,
    )
        .into_response()
}

/// `sigillo.css` → `sigillo.<first hex digits of SHA-256>.css`.
fn hashed_name(name: &str, bytes: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(bytes));
    let hash = &digest[..HASH_CHARS];
    match name.rsplit_once('.') {
        Some((stem, extension)) => format!("{stem}.{hash}.{extension}"),
        None => format!("{name}.{hash}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_name_keeps_the_extension_and_changes_with_the_content() {
        let one = hashed_name("sigillo.css", b"body{}");
        let other = hashed_name("sigillo.css", b"body{color:red}");

        assert!(
            one.starts_with("sigillo.") && one.ends_with(".css"),
            "{one}"
        );
        assert_eq!(one.len(), "sigillo.".len() + HASH_CHARS + ".css".len());
        assert_ne!(one, other);
    }

    #[test]
    fn every_embedded_file_has_an_address_and_unknown_names_have_none() {
        for file in &EMBEDDED {
            let url = url(file.name).expect("embedded");
            assert!(url.starts_with("/static/"), "{url}");
            assert_ne!(url, format!("/static/{}", file.name));
        }
        assert_eq!(url("nessuno.css"), None);
    }
}
