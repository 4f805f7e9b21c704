//! Bootstrap Italia, the design system of Italian public administration
//! websites, vendored in `web/static/bootstrap-italia/` (its README says
//! what was taken from the npm package) and served from this origin at
//! `GET /static/bootstrap-italia-<VERSION>/<path>`.
//!
//! The version is in the address, so every answer may be cached for a year
//! without revalidation, as the hashed assets are: the style sheet's
//! relative `url(…)`s to its fonts stay valid, which a hash per file would
//! break. Only the files listed here are served; any other path is a 404.
//!
//! Bootstrap Italia's script is not vendored: the pages use only its
//! components that need none (the header's links wrap instead of
//! collapsing into a menu), and its bundle injects inline styles (video.js)
//! that the pages' Content-Security-Policy forbids.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The vendored version; the folder of the served addresses.
pub(crate) const VERSION: &str = "2.18.3";

/// How long a browser or proxy may keep a file (see [`super::assets`]).
const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// One vendored file: its path below the version's folder, its type, its
/// bytes.
type File = (&'static str, &'static str, &'static [u8]);

const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";
const WOFF2: &str = "font/woff2";

macro_rules! vendored {
    ($path:literal, $type:expr) => {
        (
            $path,
            $type,
            include_bytes!(concat!("../../static/bootstrap-italia/", $path)),
        )
    };
}

const FILES: [File; 12] = [
    vendored!("css/bootstrap-italia.min.css", CSS),
    vendored!("fonts.css", CSS),
    vendored!("svg/sprites.svg", SVG),
    vendored!("fonts/titillium-web-v10-latin-ext_latin-300.woff2", WOFF2),
    vendored!(
        "fonts/titillium-web-v10-latin-ext_latin-regular.woff2",
        WOFF2
    ),
    vendored!(
        "fonts/titillium-web-v10-latin-ext_latin-italic.woff2",
        WOFF2
    ),
    vendored!("fonts/titillium-web-v10-latin-ext_latin-600.woff2", WOFF2),
    vendored!("fonts/titillium-web-v10-latin-ext_latin-700.woff2", WOFF2),
    vendored!("fonts/roboto-mono-v13-latin-ext_latin-regular.woff2", WOFF2),
    vendored!("fonts/roboto-mono-v13-latin-ext_latin-700.woff2", WOFF2),
    vendored!("fonts/lora-v20-latin-ext_latin-regular.woff2", WOFF2),
    vendored!("fonts/lora-v20-latin-ext_latin-700.woff2", WOFF2),
];

/// The route's pattern.
pub(crate) fn route() -> String {
    format!("/static/bootstrap-italia-{VERSION}/{{*path}}")
}

/// The address of the vendored file `path` (`css/bootstrap-italia.min.css`),
/// or `None` when it is not vendored.
pub(crate) fn url(path: &str) -> Option<String> {
    FILES
        .iter()
        .any(|(name, _, _)| *name == path)
        .then(|| format!("/static/bootstrap-italia-{VERSION}/{path}"))
}

/// `GET /static/bootstrap-italia-<VERSION>/{*path}`.
pub(crate) async fn serve(Path(path): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = FILES.iter().find(|(name, _, _)| *name == path) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Risorsa non trovata.",
        )
            .into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(CACHE_CONTROL),
            ),
        ],
        *bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_font_the_font_sheet_names_is_served() {
        let (_, _, sheet) = FILES
            .iter()
            .find(|(name, _, _)| *name == "fonts.css")
            .expect("fonts.css");
        let sheet = std::str::from_utf8(sheet).expect("utf-8");
        let named: Vec<&str> = sheet
            .split("url(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert_eq!(named.len(), 9, "{sheet}");
        for path in named {
            assert!(url(path).is_some(), "{path} is named but not served");
        }
    }

    #[test]
    fn only_vendored_files_have_an_address() {
        assert!(url("css/bootstrap-italia.min.css").is_some());
        assert_eq!(url("../Cargo.toml"), None);
        assert_eq!(url("README.md"), None);
    }
}
