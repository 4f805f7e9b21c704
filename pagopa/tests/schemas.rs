//! What the client sends and what the emulator answers, checked against
//! the platform's published documents (copied in `pagopa-openapi/`): the
//! JSON bodies against the OpenAPI schemas, strictly (no field the schema
//! does not name), and the receipt and stamp XML against the element
//! structure of `paForNode.xsd` and `MarcaDaBollo.xsd`.

mod common;

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::*;
use jsonschema::{Draft, Validator};
use quick_xml::events::Event;
use serde_json::{Value, json};

const GPD: &str = include_str!("pagopa-openapi/gpd.json");
const MBD: &str = include_str!("pagopa-openapi/mbd-service-openapi.json");
const PAYMENTS: &str = include_str!("pagopa-openapi/gpd_payments.json");
const CHECKOUT: &str = include_str!("pagopa-openapi/checkout_v1.json");
const PA_FOR_NODE: &str = include_str!("pagopa-openapi/paForNode.xsd");
const MARCA_DA_BOLLO: &str = include_str!("pagopa-openapi/MarcaDaBollo.xsd");

/// A validator of `#/components/schemas/<name>` of an OpenAPI document.
/// Strict: every object schema with properties refuses other properties,
/// so a misspelt field fails instead of passing unnoticed.
fn validator(document: &str, name: &str, strict: bool) -> Validator {
    let document: Value = serde_json::from_str(document).expect("OpenAPI JSON");
    let mut components = document["components"].clone();
    if strict {
        forbid_extra_properties(&mut components);
    }
    let schema = json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": components,
    });
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("a valid schema")
}

fn forbid_extra_properties(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(forbid_extra_properties);
        }
        Value::Array(items) => items.iter_mut().for_each(forbid_extra_properties),
        _ => {}
    }
}

fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path))
        .collect()
}

/// The read-only properties of a component schema (the service sets them).
fn read_only_properties(document: &str, name: &str) -> Vec<String> {
    let document: Value = serde_json::from_str(document).expect("OpenAPI JSON");
    document["components"]["schemas"][name]["properties"]
        .as_object()
        .map(|properties| {
            properties
                .iter()
                .filter(|(_, schema)| schema["readOnly"] == json!(true))
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The JSON bodies the client sent to paths ending with `suffix`.
fn bodies_sent(sandbox: &Sandbox, suffix: &str) -> Vec<Value> {
    sandbox
        .emulator()
        .requests_seen()
        .into_iter()
        .filter(|seen| seen.method == "POST" && seen.path.ends_with(suffix))
        .map(|seen| serde_json::from_str(&seen.body).expect("a JSON body"))
        .collect()
}

#[tokio::test]
async fn the_debt_positions_the_client_creates_are_payment_position_models() {
    let sandbox = sandbox().await;
    let mut without_email = virtuale_order("IUPD-SCHEMA-2", 201);
    without_email.debtor.email = None;
    for order in [virtuale_order("IUPD-SCHEMA-1", 200), without_email] {
        sandbox
            .client
            .open_virtuale(CREDITOR, &order)
            .await
            .expect("opened");
    }
    let validator = validator(GPD, "PaymentPositionModel", true);
    let read_only = read_only_properties(GPD, "PaymentPositionModel");
    assert!(read_only.contains(&"status".to_owned()));

    let bodies = bodies_sent(&sandbox, "/debtpositions");

    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        assert_eq!(errors(&validator, body), Vec::<String>::new(), "{body:#}");
        for field in &read_only {
            assert!(body.get(field).is_none(), "read-only {field} sent");
        }
        let option = &body["paymentOption"][0];
        assert_eq!(option["amount"], json!(1652));
        assert_eq!(option["transfer"].as_array().map(Vec::len), Some(1));
        assert_eq!(option["transfer"][0]["amount"], json!(1652));
        assert_eq!(
            option["transfer"][0]["organizationFiscalCode"],
            json!(CREDITOR)
        );
    }
}

#[tokio::test]
async fn the_checkout_carts_the_client_sends_are_cart_requests() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-SCHEMA-CART", 210);
    sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");
    let mut cart = cart_order(&order);
    sandbox.client.checkout_cart(&cart).await.expect("a cart");
    cart.email = None;
    sandbox.client.checkout_cart(&cart).await.expect("a cart");
    let validator = validator(CHECKOUT, "CartRequest", true);

    let bodies = bodies_sent(&sandbox, "/ec/v1/carts");

    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        assert_eq!(errors(&validator, body), Vec::<String>::new(), "{body:#}");
        assert_eq!(body["paymentNotices"][0]["amount"], json!(1652));
        assert_eq!(
            body["paymentNotices"][0]["noticeNumber"],
            json!(order.notice.as_str())
        );
        assert_eq!(
            body["returnUrls"]["returnOkUrl"],
            json!(format!("{RETURN_URL}?outcome=ok"))
        );
    }
    assert_eq!(bodies[0]["emailNotice"], json!("mario.rossi@example.org"));
    assert!(bodies[1].get("emailNotice").is_none());
}

#[tokio::test]
async fn the_marca_orders_the_client_sends_are_get_mbd_requests() {
    let sandbox = sandbox().await;
    sandbox
        .client
        .open_marca(CREDITOR, &marca_order(b"documento"))
        .await
        .expect("opened");
    let validator = validator(MBD, "GetMbdRequest", true);

    let bodies = bodies_sent(&sandbox, "/mbd");

    assert_eq!(bodies.len(), 1);
    assert_eq!(
        errors(&validator, &bodies[0]),
        Vec::<String>::new(),
        "{:#}",
        bodies[0]
    );
    assert_eq!(
        bodies[0]["paymentNotices"][0]["documentHash"],
        json!(document_hash(b"documento"))
    );
}

#[tokio::test]
async fn the_validators_catch_what_the_services_would_refuse() {
    let sandbox = sandbox().await;
    sandbox
        .client
        .open_virtuale(CREDITOR, &virtuale_order("IUPD-CONTROL", 202))
        .await
        .expect("opened");
    sandbox
        .client
        .open_marca(CREDITOR, &marca_order(b"documento"))
        .await
        .expect("opened");
    let position = bodies_sent(&sandbox, "/debtpositions").remove(0);
    let marca = bodies_sent(&sandbox, "/mbd").remove(0);
    let gpd = validator(GPD, "PaymentPositionModel", true);
    let mbd = validator(MBD, "GetMbdRequest", true);

    let mut missing = position.clone();
    missing.as_object_mut().map(|map| map.remove("companyName"));
    let mut misspelt = position.clone();
    misspelt["paymentOption"][0]["isPartialPaiment"] = json!(false);
    let mut bad_date = position.clone();
    bad_date["paymentOption"][0]["dueDate"] = json!("31/12/2026");
    let mut short_hash = marca.clone();
    short_hash["paymentNotices"][0]["documentHash"] = json!("QUJD");
    let mut two_notices = marca.clone();
    two_notices["paymentNotices"] = json!([marca["paymentNotices"][0], marca["paymentNotices"][0]]);

    for (what, validator, body) in [
        ("no companyName", &gpd, missing),
        ("misspelt field", &gpd, misspelt),
        ("dueDate not a date-time", &gpd, bad_date),
        ("documentHash of 4 characters", &mbd, short_hash),
        ("two paymentNotices", &mbd, two_notices),
    ] {
        assert!(!errors(validator, &body).is_empty(), "{what} passed");
    }
}

#[tokio::test]
async fn the_emulator_answers_in_the_documented_shapes() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-ANSWERS", 203);
    sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");
    let base = sandbox.handle.base_url();
    let get = |url: String| async move {
        browser()
            .get(url)
            .header("Ocp-Apim-Subscription-Key", "test")
            .send()
            .await
            .expect("answer")
            .json::<Value>()
            .await
            .expect("JSON")
    };

    let position = get(format!(
        "{base}/gpd/organizations/{CREDITOR}/debtpositions/{}",
        order.iupd
    ))
    .await;
    let missing = get(format!(
        "{base}/gpd/organizations/{CREDITOR}/debtpositions/NONE"
    ))
    .await;
    let no_receipt = get(format!(
        "{base}/payments/{CREDITOR}/receipts/{}",
        order.notice.iuv()
    ))
    .await;
    let info = get(format!("{base}/mbd/info")).await;

    for (what, document, schema, answer) in [
        (
            "position",
            GPD,
            "PaymentPositionModelBaseResponse",
            &position,
        ),
        ("GPD 404", GPD, "ProblemJson", &missing),
        ("receipts 404", PAYMENTS, "ProblemJson", &no_receipt),
        ("MBD info", MBD, "AppInfo", &info),
    ] {
        let validator = validator(document, schema, false);
        assert_eq!(
            errors(&validator, answer),
            Vec::<String>::new(),
            "{what}: {answer:#}"
        );
    }
    sandbox
        .client
        .open_marca(CREDITOR, &marca_order(b"documento"))
        .await
        .expect("opened");
    let order = bodies_sent(&sandbox, "/mbd").remove(0);
    let cart: Value = browser()
        .post(format!("{base}/mbd/organizations/{CREDITOR}/mbd"))
        .header("Ocp-Apim-Subscription-Key", "test")
        .json(&order)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    let validator = validator(MBD, "GetCartResponse", true);
    assert_eq!(errors(&validator, &cart), Vec::<String>::new(), "{cart:#}");
}

/// An XML element: local name, attributes, text, children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: HashMap<String, String>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|child| child.name == name)
    }

    fn text_at(&self, path: &[&str]) -> Option<&str> {
        path.iter()
            .try_fold(self, |node, name| node.child(name))
            .map(|node| node.text.trim())
    }
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name).into_owned();
    match name.split_once(':') {
        Some((_, local)) => local.to_owned(),
        None => name,
    }
}

fn parse_xml(text: &str) -> Node {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack = vec![Node::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(start) => stack.push(node(&start)),
            Event::Empty(start) => {
                let node = node(&start);
                stack.last_mut().expect("parent").children.push(node);
            }
            Event::End(_) => {
                let done = stack.pop().expect("open element");
                stack.last_mut().expect("parent").children.push(done);
            }
            Event::Text(text) => {
                let text = text.decode().expect("UTF-8").into_owned();
                stack.last_mut().expect("element").text.push_str(&text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut document = stack.pop().expect("document");
    assert_eq!(document.children.len(), 1, "one root element");
    document.children.remove(0)
}

fn node(start: &quick_xml::events::BytesStart<'_>) -> Node {
    Node {
        name: local(start.name().as_ref()),
        attributes: start
            .attributes()
            .map(|attribute| {
                let attribute = attribute.expect("attribute");
                (
                    local(attribute.key.as_ref()),
                    attribute.unescape_value().expect("value").into_owned(),
                )
            })
            .collect(),
        ..Node::default()
    }
}

/// One element a complex type allows.
#[derive(Debug)]
struct Particle {
    name: String,
    kind: Option<String>,
    required: bool,
}

/// The complex types of a schema: their elements, in sequence order.
fn complex_types(schema: &str) -> HashMap<String, Vec<Particle>> {
    let root = parse_xml(schema);
    let mut types = HashMap::new();
    for complex in root.children.iter().filter(|n| n.name == "complexType") {
        let mut particles = Vec::new();
        collect_particles(complex, false, &mut particles);
        types.insert(complex.attributes["name"].clone(), particles);
    }
    types
}

fn collect_particles(node: &Node, in_choice: bool, particles: &mut Vec<Particle>) {
    for child in &node.children {
        match child.name.as_str() {
            "element" => {
                let name = child
                    .attributes
                    .get("name")
                    .or_else(|| child.attributes.get("ref"))
                    .map(|name| local(name.as_bytes()))
                    .expect("a named element");
                particles.push(Particle {
                    name,
                    kind: child.attributes.get("type").map(|t| local(t.as_bytes())),
                    required: !in_choice
                        && child
                            .attributes
                            .get("minOccurs")
                            .is_none_or(|min| min != "0"),
                });
            }
            "choice" => collect_particles(child, true, particles),
            _ => collect_particles(child, in_choice, particles),
        }
    }
}

/// Checks `node` against complex type `kind`: only its elements, in its
/// order, the required ones present; recursively.
fn conforms(
    types: &HashMap<String, Vec<Particle>>,
    node: &Node,
    kind: &str,
    path: &str,
    problems: &mut Vec<String>,
) {
    let Some(particles) = types.get(kind) else {
        return;
    };
    let mut last = 0;
    for child in &node.children {
        let here = format!("{path}/{}", child.name);
        match particles.iter().position(|p| p.name == child.name) {
            None => problems.push(format!("{here} is not an element of {kind}")),
            Some(index) => {
                if index < last {
                    problems.push(format!("{here} is out of {kind}'s order"));
                }
                last = index;
                if let Some(child_kind) = &particles[index].kind {
                    conforms(types, child, child_kind, &here, problems);
                }
            }
        }
    }
    for particle in particles.iter().filter(|p| p.required) {
        if node.child(&particle.name).is_none() {
            problems.push(format!("{path} lacks {} of {kind}", particle.name));
        }
    }
}

fn matches_pattern(text: &str, digits_before: Option<usize>, fraction: Option<usize>) -> bool {
    let (units, decimals) = match text.split_once('.') {
        Some((units, decimals)) => (units, Some(decimals)),
        None => (text, None),
    };
    let units_ok = !units.is_empty()
        && units.bytes().all(|b| b.is_ascii_digit())
        && digits_before.is_none_or(|n| units.len() == n);
    let fraction_ok = match (decimals, fraction) {
        (Some(decimals), Some(n)) => {
            decimals.len() == n && decimals.bytes().all(|b| b.is_ascii_digit())
        }
        (None, None) => true,
        _ => false,
    };
    units_ok && fraction_ok
}

#[tokio::test]
async fn the_emulator_receipt_has_the_structure_of_ct_receipt_v2() {
    let sandbox = sandbox().await;
    let order = virtuale_order("IUPD-XML", 204);
    sandbox
        .client
        .open_virtuale(CREDITOR, &order)
        .await
        .expect("opened");
    sandbox.emulator().pay(&order.notice).expect("paid");
    let document = browser()
        .get(format!(
            "{}/payments/{CREDITOR}/receipts/{}",
            sandbox.handle.base_url(),
            order.notice.iuv()
        ))
        .header("Ocp-Apim-Subscription-Key", "test")
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("XML");
    let types = complex_types(PA_FOR_NODE);
    assert!(types.contains_key("ctReceiptV2"), "the schema was read");

    let root = parse_xml(&document);
    let mut problems = Vec::new();
    assert!(
        root.name.eq_ignore_ascii_case("paSendRTV2Request"),
        "{}",
        root.name
    );
    conforms(
        &types,
        &root,
        "paSendRTV2Request",
        &root.name,
        &mut problems,
    );

    assert_eq!(problems, Vec::<String>::new());
    let receipt = root.child("receipt").expect("receipt");
    let text = |path: &[&str]| receipt.text_at(path).unwrap_or_default().to_owned();
    assert!(matches_pattern(&text(&["noticeNumber"]), Some(18), None));
    assert!(matches_pattern(&text(&["fiscalCode"]), Some(11), None));
    assert!(matches_pattern(&text(&["paymentAmount"]), None, Some(2)));
    assert!(matches_pattern(
        &text(&["transferList", "transfer", "transferAmount"]),
        None,
        Some(2)
    ));
    assert!(matches!(text(&["outcome"]).as_str(), "OK" | "KO"));
    assert!(text(&["debtor", "fullName"]).chars().count() <= 70);
    let parsed = pagopa::client::PaymentReceipt::from_xml(&document).expect("parses");
    assert_eq!(parsed.notice_number, order.notice.as_str());
}

#[tokio::test]
async fn the_emulator_stamp_has_the_structure_of_marca_da_bollo() {
    let sandbox = sandbox().await;
    let order = marca_order(b"documento finale");
    let opened = sandbox
        .client
        .open_marca(CREDITOR, &order)
        .await
        .expect("opened");
    sandbox.emulator().pay(&opened.notice).expect("paid");
    let answer: Value = browser()
        .get(format!(
            "{}/mbd/organizations/{CREDITOR}/receipt/{}",
            sandbox.handle.base_url(),
            opened.notice
        ))
        .header("Ocp-Apim-Subscription-Key", "test")
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    let content = answer["content"].as_str().expect("base64 content");
    let document = String::from_utf8(BASE64.decode(content).expect("base64")).expect("UTF-8");
    let types = complex_types(MARCA_DA_BOLLO);
    assert!(
        types.contains_key("tipoMarcaDaBollo"),
        "the schema was read"
    );

    let root = parse_xml(&document);
    let mut problems = Vec::new();
    assert_eq!(root.name, "marcaDaBollo");
    assert_eq!(
        root.attributes.get("xmlns").map(String::as_str),
        Some("http://www.agenziaentrate.gov.it/2014/MarcaDaBollo")
    );
    conforms(
        &types,
        &root,
        "tipoMarcaDaBollo",
        "marcaDaBollo",
        &mut problems,
    );

    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(root.text_at(&["TipoBollo"]), Some("01"));
    assert!(matches_pattern(
        root.text_at(&["Importo"]).unwrap_or_default(),
        None,
        Some(2)
    ));
    assert_eq!(
        root.child("ImprontaDocumento")
            .and_then(|impronta| impronta.child("DigestMethod"))
            .and_then(|method| method.attributes.get("Algorithm"))
            .map(String::as_str),
        Some("http://www.w3.org/2001/04/xmlenc#sha256")
    );
    assert_eq!(
        root.text_at(&["ImprontaDocumento", "DigestValue"]),
        Some(order.document_hash.as_str())
    );
}
