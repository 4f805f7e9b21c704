//! What every HTML page shares, over real HTTP: one layout, styles and
//! scripts only from `/static/` under names that carry their content's
//! hash (served for a year, immutable; any other name is a 404), nothing
//! inline, and the Content-Security-Policy that forbids it.

mod common;

use common::{TestApp, digits, spawn_app, virtuale};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderMap};
use sha2::{Digest, Sha256};

const POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// A page as the server answered it.
struct Page {
    what: String,
    status: StatusCode,
    headers: HeaderMap,
    html: String,
}

impl Page {
    async fn of(what: impl Into<String>, response: reqwest::Response) -> Self {
        Self {
            what: what.into(),
            status: response.status(),
            headers: response.headers().clone(),
            html: response.text().await.expect("html"),
        }
    }
}

/// One of each page: the verification page (both addresses), a verified
/// report, an error, the counter, and the payment return page (known
/// request, unknown request).
async fn every_page(app: &TestApp) -> Vec<Page> {
    let mut pages = Vec::new();
    let cookie = common::operator_cookie(app).await;
    for path in ["/v", "/V", "/sportello/verifica"] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await;
        pages.push(Page::of(path, response.expect("GET")).await);
    }
    let (record, _) = app.issue_exempt().await;
    let verified = app
        .http
        .post(format!("{}/v", app.base))
        .form(&[("seal", digits(&record))])
        .send()
        .await
        .expect("POST /v");
    pages.push(Page::of("POST /v (report)", verified).await);
    let empty = app
        .http
        .post(format!("{}/v", app.base))
        .form(&[("seal", " ")])
        .send()
        .await
        .expect("POST /v");
    pages.push(Page::of("POST /v (error)", empty).await);
    let (_, request) = app.request("residenza", common::HOLDER, "bollo").await;
    let id = request["id"].as_str().expect("id");
    let comune = store::demo::code();
    let returned = app
        .http
        .get(format!("{}/pagamenti/{comune}/{id}?outcome=ok", app.base))
        .send()
        .await
        .expect("GET return");
    pages.push(Page::of("payment return", returned).await);
    let unknown = app
        .http
        .get(format!("{}/pagamenti/{comune}/nessuna", app.base))
        .send()
        .await
        .expect("GET return");
    pages.push(Page::of("payment return (unknown)", unknown).await);
    for path in [
        "/",
        "/accedi",
        "/informativa-privacy",
        "/dichiarazione-accessibilita",
        "/contatti",
        "/pagina-che-non-esiste",
    ] {
        let response = app.http.get(format!("{}{path}", app.base)).send().await;
        pages.push(Page::of(format!("portal {path}"), response.expect("GET")).await);
    }
    pages
}

/// The style sheets a page links.
fn stylesheets(html: &str) -> Vec<&str> {
    let needle = "<link rel=\"stylesheet\" href=\"";
    html.match_indices(needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// The vendored Bootstrap Italia's folder, by version.
fn vendored(url: &str) -> bool {
    url.strip_prefix("/static/bootstrap-italia-")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(version, _)| {
            version.split('.').count() == 3
                && version.split('.').all(|part| part.parse::<u16>().is_ok())
        })
}

/// The values of every `name="…"` attribute in `html`.
fn attribute_values<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!(" {name}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// `/static/sigillo.3f2a1b9c0d.css` → `Some("3f2a1b9c0d")`.
fn hash_in_name(url: &str) -> Option<&str> {
    let name = url.strip_prefix("/static/")?;
    let mut parts = name.rsplitn(3, '.');
    let (_extension, hash, _stem) = (parts.next()?, parts.next()?, parts.next()?);
    (hash.len() == 10 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hash)
}

#[tokio::test]
async fn every_page_links_only_hashed_or_versioned_assets_the_server_serves_as_immutable() {
    let app = spawn_app(virtuale()).await;
    let mut assets = Vec::new();

    for page in every_page(&app).await {
        let sheets = stylesheets(&page.html);
        assert_eq!(sheets.len(), 3, "{}: {:?}", page.what, sheets);
        for url in attribute_values(&page.html, "src")
            .into_iter()
            .chain(sheets)
        {
            assert!(
                hash_in_name(url).is_some() || vendored(url),
                "{}: {url}",
                page.what
            );
            assets.push(url.to_owned());
        }
    }
    assets.sort();
    assets.dedup();
    let (hashed, versioned): (Vec<_>, Vec<_>) =
        assets.iter().partition(|url| hash_in_name(url).is_some());
    assert_eq!(
        hashed.len(),
        4,
        "one style sheet, three scripts: {hashed:?}"
    );
    assert_eq!(
        versioned.len(),
        2,
        "Bootstrap Italia and its fonts: {versioned:?}"
    );

    for url in assets {
        let response = app
            .http
            .get(format!("{}{url}", app.base))
            .send()
            .await
            .expect("GET asset");
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert_eq!(
            response.headers()[CACHE_CONTROL],
            "public, max-age=31536000, immutable",
            "{url}"
        );
        let content_type = response.headers()[CONTENT_TYPE]
            .to_str()
            .expect("ASCII")
            .to_owned();
        let expected = if url.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        assert_eq!(content_type, expected, "{url}");
        let body = response.bytes().await.expect("body");
        if let Some(hash) = hash_in_name(&url) {
            let digest = hex::encode(Sha256::digest(&body));
            assert_eq!(&digest[..10], hash, "{url}: the name is the content's");
        }
    }

    // The fonts the font sheet names are served too, as fonts.
    let sheet = app
        .http
        .get(format!(
            "{}/static/bootstrap-italia-2.18.3/fonts.css",
            app.base
        ))
        .send()
        .await
        .expect("GET fonts.css")
        .text()
        .await
        .expect("text");
    for font in sheet
        .split("url(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
    {
        let response = app
            .http
            .get(format!(
                "{}/static/bootstrap-italia-2.18.3/{font}",
                app.base
            ))
            .send()
            .await
            .expect("GET font");
        assert_eq!(response.status(), StatusCode::OK, "{font}");
        assert_eq!(response.headers()[CONTENT_TYPE], "font/woff2", "{font}");
    }
}

#[tokio::test]
async fn an_unknown_or_stale_asset_name_is_not_found() {
    let app = spawn_app(virtuale()).await;
    let page = app
        .http
        .get(format!("{}/v", app.base))
        .send()
        .await
        .expect("GET /v")
        .text()
        .await
        .expect("html");
    let current = stylesheets(&page)
        .into_iter()
        .find(|href| hash_in_name(href).is_some())
        .expect("a hashed style sheet")
        .to_owned();
    let hash = hash_in_name(&current).expect("hashed");
    let stale = current.replace(hash, "0000000000");

    for url in [
        stale.as_str(),
        "/static/sigillo.css",
        "/static/nessuno.0123456789.js",
        "/static/..%2FCargo.toml",
        "/static/bootstrap-italia-2.18.3/README.md",
        "/static/bootstrap-italia-2.18.3/../../Cargo.toml",
        "/static/bootstrap-italia-0.0.1/css/bootstrap-italia.min.css",
    ] {
        let response = app
            .http
            .get(format!("{}{url}", app.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{url}");
        // Never kept: no cache header, or the HTML 404 page's no-store.
        let kept = response
            .headers()
            .get(CACHE_CONTROL)
            .is_some_and(|value| value != "no-store");
        assert!(!kept, "{url}");
    }
}

#[tokio::test]
async fn every_page_carries_the_content_security_policy_and_nothing_inline() {
    let app = spawn_app(virtuale()).await;

    for page in every_page(&app).await {
        let what = &page.what;
        assert_eq!(page.headers[CONTENT_SECURITY_POLICY], POLICY, "{what}");
        assert!(
            page.headers[CONTENT_TYPE]
                .to_str()
                .expect("ASCII")
                .starts_with("text/html"),
            "{what}"
        );
        assert!(page.html.starts_with("<!doctype html>\n"), "{what}");
        assert!(!page.html.contains("<style"), "{what}");
        assert!(!page.html.contains(" style=\""), "{what}");
        assert!(!page.html.contains("<script>"), "{what}");
        assert_eq!(
            page.html.matches("<script").count(),
            page.html.matches("<script src=\"/static/").count(),
            "{what}"
        );
        for handler in [" onclick=", " onload=", " onsubmit=", "javascript:"] {
            assert!(!page.html.contains(handler), "{what}: {handler}");
        }
    }
}

#[tokio::test]
async fn the_payment_page_names_the_comune_and_the_verification_pages_stay_neutral() {
    let app = spawn_app(virtuale()).await;
    let header = format!(
        "<span class=\"d-lg-block navbar-brand\">Comune di {}</span>",
        store::demo::NAME
    );

    for page in every_page(&app).await {
        let what = &page.what;
        assert!(page.html.contains("<html lang=\"it\">"), "{what}");
        assert!(
            page.html
                .contains("Certificati con sigillo elettronico, verificabili da chiunque."),
            "{what}"
        );
        for link in [
            "/informativa-privacy",
            "/dichiarazione-accessibilita",
            "/contatti",
        ] {
            assert!(
                page.html.contains(&format!("<a href=\"{link}\">")),
                "{what}: {link}"
            );
        }
        assert!(page.html.contains("<a href=\"/v\">"), "{what}");
        match what.as_str() {
            "payment return" => {
                assert_eq!(page.status, StatusCode::OK);
                assert!(page.html.contains(&header), "{what}: {}", page.html);
                assert!(page.html.contains("Pagamento in verifica"), "{what}");
            }
            "payment return (unknown)" => {
                assert_eq!(page.status, StatusCode::NOT_FOUND);
                assert!(page.html.contains(&header), "{what}: {}", page.html);
                assert!(page.html.contains("Richiesta non trovata"), "{what}");
            }
            "portal /pagina-che-non-esiste" => {
                assert_eq!(page.status, StatusCode::NOT_FOUND);
                assert!(page.html.contains(&header), "{what}: {}", page.html);
                assert!(page.html.contains("Pagina non trovata"), "{what}");
            }
            // The counter's page is the office's, behind the staff login:
            // it speaks for the staff member's comune.
            "/sportello/verifica" => {
                assert_eq!(page.status, StatusCode::OK, "{what}");
                assert!(page.html.contains(&header), "{what}: {}", page.html);
            }
            portal if portal.starts_with("portal ") => {
                assert_eq!(page.status, StatusCode::OK, "{what}");
                assert!(page.html.contains(&header), "{what}: {}", page.html);
            }
            _ => {
                assert!(
                    page.html.contains(
                        "<span class=\"d-lg-block navbar-brand\">Verifica dei certificati</span>"
                    ),
                    "{what}: {}",
                    page.html
                );
            }
        }
    }
}
