//! Open data at `/dati-aperti/{istat}/certificati.csv` and `.json`: the
//! certificates released through the API this month, per kind, in bollo
//! and exempt, in ANPR's columns; a kind released once is suppressed whole;
//! an unknown comune is a 404.

mod common;

use common::{HOLDER, spawn_app, virtuale};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn released_certificates_are_counted_per_kind_and_month_with_small_counts_suppressed() {
    let app = spawn_app(virtuale()).await;
    // Residenza: four exempt, three paid in bollo; cittadinanza: one exempt.
    for _ in 0..4 {
        let (status, body) = app.request("residenza", HOLDER, "esente:7").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for _ in 0..3 {
        let (status, request) = app.request("residenza", HOLDER, "bollo").await;
        assert_eq!(status, StatusCode::CREATED, "{request}");
        let (status, page) = app.pay(&request).await;
        assert_eq!(status, StatusCode::OK, "{page}");
    }
    let (status, body) = app.request("cittadinanza", HOLDER, "esente:7").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A request still waiting for its payment is not released: not counted.
    let (status, _) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::CREATED);

    let now = seal::rome::local(time::OffsetDateTime::now_utc());
    let (year, month) = (now.year(), u8::from(now.month()));
    let base = format!("{}/dati-aperti/{}", app.base, store::demo::code());

    let response = app
        .http
        .get(format!("{base}/certificati.csv"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert_eq!(response.headers()["cache-control"], "public, max-age=3600");
    let csv = response.text().await.expect("body");
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "ANNO,MESE,TIPOLOGIA_CERTIFICATO,BOLLO,ESENTI_DA_BOLLO,TOTALE"
    );
    assert!(
        lines.contains(&format!("{year},{month},\"Certificato di residenza\",3,4,7").as_str()),
        "{csv}"
    );
    assert!(
        lines.contains(&format!("{year},{month},\"Certificato di cittadinanza\",,,").as_str()),
        "{csv}"
    );

    let json: Value = app
        .http
        .get(format!("{base}/certificati.json"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(json["soglia"], 3);
    let rows = json["righe"].as_array().expect("rows");
    assert!(
        rows.contains(&json!({
            "ANNO": year, "MESE": month, "TIPOLOGIA_CERTIFICATO": "Certificato di residenza",
            "BOLLO": 3, "ESENTI_DA_BOLLO": 4, "TOTALE": 7,
        })),
        "{json}"
    );
    assert!(
        rows.contains(&json!({
            "ANNO": year, "MESE": month, "TIPOLOGIA_CERTIFICATO": "Certificato di cittadinanza",
            "BOLLO": null, "ESENTI_DA_BOLLO": null, "TOTALE": null,
        })),
        "{json}"
    );
    // Nothing names a person.
    assert!(!csv.contains(HOLDER) && !json.to_string().contains(HOLDER));

    for path in ["999999/certificati.csv", "abc/certificati.json"] {
        let response = app
            .http
            .get(format!("{}/dati-aperti/{path}", app.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}
