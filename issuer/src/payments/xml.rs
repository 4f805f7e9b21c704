//! The XML documents of a payment: the pagoPA receipt (`paSendRTV2`, whose
//! `receipt` is a `ctReceiptV2` of `paForNode.xsd`), as the receipts
//! service stores and returns it, and the Agenzia delle Entrate stamp of a
//! marca da bollo digitale (`marcaDaBollo` of `MarcaDaBollo.xsd`).
//!
//! Reading goes through a small element tree keyed by local names, so the
//! namespace prefixes a producer picks (`ds:`, `mdb:`, `ns2:`, none) do not
//! matter.

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
    let guess = crate::rome::offset_at(local.assume_utc());
    let offset = crate::rome::offset_at(local.assume_offset(guess));
    Some(local.assume_offset(offset).to_offset(UtcOffset::UTC))
}

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
        assert!(parse_date_time("10/07/2026").is_none());
    }
}
