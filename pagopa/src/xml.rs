//! The XML documents of a payment: the pagoPA receipt (`paSendRTV2`, whose
//! `receipt` is a `ctReceiptV2` of `paForNode.xsd`), as the receipts
//! service stores and returns it, and the Agenzia delle Entrate stamp of a
//! marca da bollo digitale (`marcaDaBollo` of `MarcaDaBollo.xsd`).
//!
//! Reading goes through a small element tree keyed by local names, so the
//! namespace prefixes a producer picks (`ds:`, `mdb:`, `ns2:`, none) do not
//! matter. Writing (the emulator's side) goes through serde structs whose
//! fields carry the XSD element names, in the XSD's sequence order.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use quick_xml::events::Event;

/// An element: its local name, attributes (local names), text, children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attributes: Vec<(String, String)>,
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    /// The element at `path` of child names below this one.
    pub(crate) fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter()
            .try_fold(self, |element, name| element.child(name))
    }

    /// The trimmed text at `path`, if there is an element there.
    pub(crate) fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).map(|element| element.text.trim())
    }

    /// The first element named `name` here or below, depth first.
    pub(crate) fn find(&self, name: &str) -> Option<&Element> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|child| child.find(name))
    }
}

/// Parses a document into its root element.
pub(crate) fn parse(xml: &str) -> Result<Element, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(start) => stack.push(open(&start)?),
            Event::Empty(start) => {
                let element = open(&start)?;
                close(element, &mut stack, &mut root)?;
            }
            Event::End(_) => {
                let element = stack.pop().ok_or("an end tag without its start")?;
                close(element, &mut stack, &mut root)?;
            }
            Event::Text(text) => {
                let text = text.decode().map_err(|e| e.to_string())?;
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&text);
                }
            }
            Event::CData(data) => {
                let text = data.decode().map_err(|e| e.to_string())?;
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&text);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(ch) => ch.to_string(),
                    None => {
                        let name = reference.decode().map_err(|e| e.to_string())?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity &{name};"))?
                            .to_owned()
                    }
                };
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

fn open(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, String> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let key = String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned();
        let value = attribute.unescape_value().map_err(|e| e.to_string())?;
        attributes.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        attributes,
        ..Element::default()
    })
}

fn close(
    element: Element,
    stack: &mut [Element],
    root: &mut Option<Element>,
) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None if root.is_none() => *root = Some(element),
        None => return Err("more than one root element".into()),
    }
    Ok(())
}

/// An `xsd:dateTime` as UTC. pagoPA writes Italian civil time without an
/// offset (`2026-03-02T10:15:00`), which is read as Europe/Rome; a time
/// with an offset or `Z` is taken as written.
pub(crate) fn parse_date_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(instant) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(instant.to_offset(UtcOffset::UTC));
    }
    let local = PrimitiveDateTime::parse(
        text,
        format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
        ),
    )
    .ok()?;
    let guess = seal::rome::offset_at(local.assume_utc());
    let offset = seal::rome::offset_at(local.assume_offset(guess));
    Some(local.assume_offset(offset).to_offset(UtcOffset::UTC))
}

/// The documents the emulator writes, with the fields in the XSD's order;
/// the adapter only reads.
#[cfg(feature = "emulator")]
mod write {
    use serde::Serialize;
    use time::OffsetDateTime;
    use time::macros::format_description;

    /// Italian civil time without offset, as pagoPA writes `paymentDateTime`.
    pub(crate) fn rome_local_text(instant: OffsetDateTime) -> String {
        let local = seal::rome::local(instant);
        local
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]"
            ))
            .unwrap_or_default()
    }

    /// The date part of Italian civil time (`xsd:date`).
    pub(crate) fn rome_date_text(instant: OffsetDateTime) -> String {
        let local = seal::rome::local(instant);
        local
            .format(format_description!("[year]-[month]-[day]"))
            .unwrap_or_default()
    }

    /// The stored receipt document: the `paSendRTV2` request the node sent,
    /// as the receipts service marshals it.
    #[derive(Debug, Clone, Serialize)]
    #[serde(rename = "PaSendRTV2Request")]
    pub(crate) struct PaSendRtV2 {
        #[serde(rename = "idPA")]
        pub(crate) id_pa: String,
        #[serde(rename = "idBrokerPA")]
        pub(crate) id_broker_pa: String,
        #[serde(rename = "idStation")]
        pub(crate) id_station: String,
        pub(crate) receipt: ReceiptV2,
    }

    /// `ctReceiptV2`, the elements the emulator writes, in sequence order.
    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct ReceiptV2 {
        pub(crate) receipt_id: String,
        pub(crate) notice_number: String,
        pub(crate) fiscal_code: String,
        pub(crate) outcome: String,
        pub(crate) creditor_reference_id: String,
        pub(crate) payment_amount: String,
        pub(crate) description: String,
        pub(crate) company_name: String,
        pub(crate) debtor: Subject,
        pub(crate) transfer_list: TransferList,
        #[serde(rename = "idPSP")]
        pub(crate) id_psp: String,
        #[serde(rename = "PSPCompanyName")]
        pub(crate) psp_company_name: String,
        pub(crate) id_channel: String,
        pub(crate) channel_description: String,
        pub(crate) payment_method: String,
        pub(crate) fee: String,
        pub(crate) payment_date_time: String,
        pub(crate) application_date: String,
        pub(crate) transfer_date: String,
    }

    /// `ctSubject`.
    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct Subject {
        pub(crate) unique_identifier: UniqueIdentifier,
        pub(crate) full_name: String,
        #[serde(rename = "e-mail", skip_serializing_if = "Option::is_none")]
        pub(crate) email: Option<String>,
    }

    /// `ctEntityUniqueIdentifier`.
    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct UniqueIdentifier {
        pub(crate) entity_unique_identifier_type: String,
        pub(crate) entity_unique_identifier_value: String,
    }

    /// `ctTransferListPAReceiptV2`.
    #[derive(Debug, Clone, Serialize)]
    pub(crate) struct TransferList {
        pub(crate) transfer: Vec<TransferV2>,
    }

    /// `ctTransferPAReceiptV2`, with an IBAN (the choice the bollo virtuale
    /// takes).
    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct TransferV2 {
        pub(crate) id_transfer: String,
        pub(crate) transfer_amount: String,
        #[serde(rename = "fiscalCodePA")]
        pub(crate) fiscal_code_pa: String,
        pub(crate) company_name: String,
        #[serde(rename = "IBAN")]
        pub(crate) iban: String,
        pub(crate) remittance_information: String,
        pub(crate) transfer_category: String,
    }

    /// The Agenzia delle Entrate stamp (`tipoMarcaDaBollo`).
    #[derive(Debug, Clone, Serialize)]
    #[serde(rename = "marcaDaBollo")]
    pub(crate) struct MarcaDaBollo {
        #[serde(rename = "@xmlns")]
        pub(crate) xmlns: &'static str,
        #[serde(rename = "@xmlns:ds")]
        pub(crate) xmlns_ds: &'static str,
        #[serde(rename = "PSP")]
        pub(crate) psp: Psp,
        #[serde(rename = "IUBD")]
        pub(crate) iubd: String,
        #[serde(rename = "OraAcquisto")]
        pub(crate) ora_acquisto: String,
        #[serde(rename = "Importo")]
        pub(crate) importo: String,
        #[serde(rename = "TipoBollo")]
        pub(crate) tipo_bollo: &'static str,
        #[serde(rename = "ImprontaDocumento")]
        pub(crate) impronta: Impronta,
        #[serde(rename = "ds:Signature")]
        pub(crate) signature: Signature,
    }

    /// The Agenzia delle Entrate's namespace of the stamp.
    pub(crate) const MARCA_NAMESPACE: &str = "http://www.agenziaentrate.gov.it/2014/MarcaDaBollo";
    /// XML Signature's namespace.
    pub(crate) const DSIG_NAMESPACE: &str = "http://www.w3.org/2000/09/xmldsig#";
    /// The only digest the stamp admits.
    pub(crate) const SHA256_ALGORITHM: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

    /// `tipoPSP`.
    #[derive(Debug, Clone, Serialize)]
    pub(crate) struct Psp {
        #[serde(rename = "CodiceFiscale")]
        pub(crate) codice_fiscale: String,
        #[serde(rename = "Denominazione")]
        pub(crate) denominazione: String,
    }

    /// `tipoImpronta`: the digest of the stamped document.
    #[derive(Debug, Clone, Serialize)]
    pub(crate) struct Impronta {
        #[serde(rename = "DigestMethod")]
        pub(crate) digest_method: Algorithm,
        #[serde(rename = "ds:DigestValue")]
        pub(crate) digest_value: String,
    }

    /// An element with only an `Algorithm` attribute.
    #[derive(Debug, Clone, Serialize)]
    pub(crate) struct Algorithm {
        #[serde(rename = "@Algorithm")]
        pub(crate) algorithm: &'static str,
    }

    /// An XML Signature's outline. The emulator cannot sign as the Agenzia
    /// delle Entrate, so its value is a placeholder; its `DigestValue` is the
    /// signature's own, which a reader must not take for the document's.
    #[derive(Debug, Clone, Serialize)]
    pub(crate) struct Signature {
        #[serde(rename = "ds:SignedInfo")]
        pub(crate) signed_info: SignedInfo,
        #[serde(rename = "ds:SignatureValue")]
        pub(crate) signature_value: String,
    }

    /// `ds:SignedInfo`.
    #[derive(Debug, Clone, Serialize)]
    pub(crate) struct SignedInfo {
        #[serde(rename = "ds:CanonicalizationMethod")]
        pub(crate) canonicalization_method: Algorithm,
        #[serde(rename = "ds:SignatureMethod")]
        pub(crate) signature_method: Algorithm,
        #[serde(rename = "ds:Reference")]
        pub(crate) reference: Reference,
    }

    /// `ds:Reference`.
    #[derive(Debug, Clone, Serialize)]
    pub(crate) struct Reference {
        #[serde(rename = "@URI")]
        pub(crate) uri: &'static str,
        #[serde(rename = "ds:DigestMethod")]
        pub(crate) digest_method: Algorithm,
        #[serde(rename = "ds:DigestValue")]
        pub(crate) digest_value: String,
    }

    /// Writes a document with its XML declaration.
    pub(crate) fn to_document<T: Serialize>(value: &T) -> Result<String, String> {
        let body = quick_xml::se::to_string(value).map_err(|e| e.to_string())?;
        Ok(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"
        ))
    }
}

#[cfg(feature = "emulator")]
pub(crate) use write::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_entities_do_not_change_what_is_read() {
        let root = parse(
            "<?xml version=\"1.0\"?><ns2:a xmlns:ns2=\"urn:x\"><ns2:b k=\"v&amp;w\">x &amp; y&#33;</ns2:b><c/></ns2:a>",
        )
        .expect("well formed");
        assert_eq!(root.name, "a");
        assert_eq!(root.text_at(&["b"]), Some("x & y!"));
        assert_eq!(
            root.at(&["b"]).map(|b| b.attributes.clone()),
            Some(vec![("k".into(), "v&w".into())])
        );
        assert!(root.child("c").is_some());
    }

    #[test]
    fn broken_documents_are_refused() {
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a>").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn times_without_offset_are_italian_civil_time() {
        let winter = parse_date_time("2026-01-10T10:00:00").expect("time");
        assert_eq!(winter, time::macros::datetime!(2026-01-10 09:00:00 UTC));
        let summer = parse_date_time("2026-07-10T10:00:00.123").expect("time");
        assert_eq!(summer, time::macros::datetime!(2026-07-10 08:00:00.123 UTC));
        let explicit = parse_date_time("2026-07-10T10:00:00Z").expect("time");
        assert_eq!(explicit, time::macros::datetime!(2026-07-10 10:00:00 UTC));
        assert_eq!(rome_local_text(summer).as_str(), "2026-07-10T10:00:00");
        assert!(parse_date_time("10/07/2026").is_none());
    }
}
