//! The string pass over FHIR resources: their free text (notes, narratives, decoded text
//! attachments) gets the detectors and the values the field pass took out; the schema's own
//! strings are left alone.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::STRUCTURAL;
use crate::redact::detect::Entity;
use crate::redact::tree::{Node, Text};
use crate::redact::Tally;

/// The string pass over a resource: free text gets `scrub` (detectors and known values); the
/// schema's own strings are left alone; a text attachment is decoded, scrubbed, re-encoded,
/// and any other attachment blanked unless the profile keeps binary content.
pub(in crate::redact) fn scrub_text(
    node: &mut Node,
    keep_binary: bool,
    scrub: &mut dyn FnMut(&str) -> Option<String>,
    tally: &mut Tally,
) {
    match node {
        Node::Object(members) => {
            let coding = members.iter().any(|(k, _)| k == "system" || k == "code");
            // An Extension's `url` names its definition; any other `url` (a link, an
            // attachment's location) can carry an id and is read as text.
            let extension = members
                .iter()
                .any(|(k, _)| k.starts_with("value") || k == "extension");
            let content_type = members
                .iter()
                .find(|(k, _)| k == "contentType")
                .and_then(|(_, v)| v.as_str())
                .map(str::to_ascii_lowercase);
            for (key, value) in members.iter_mut() {
                let key = key.as_ref();
                let canonical_url = key == "url" && extension;
                if (STRUCTURAL.contains(&key) && key != "url")
                    || canonical_url
                    || (key == "display" && coding)
                    || key == "id"
                {
                    continue;
                }
                match (key, &content_type, &mut *value) {
                    ("data", Some(kind), Node::String(b64)) => {
                        if let Some(out) = attachment(b64, kind, keep_binary, scrub, tally) {
                            *value = Node::string(out);
                        }
                    }
                    ("div", _, Node::String(s)) => {
                        if let Some(clean) = scrub_narrative(s, scrub) {
                            *s = Text::from(clean);
                        }
                    }
                    (_, _, Node::String(s)) => {
                        if let Some(clean) = scrub(s) {
                            *s = Text::from(clean);
                        }
                    }
                    _ => scrub_text(value, keep_binary, scrub, tally),
                }
            }
        }
        Node::Array(items) => items
            .iter_mut()
            .for_each(|v| scrub_text(v, keep_binary, scrub, tally)),
        _ => {}
    }
}

/// The XHTML namespace every Narrative `div` must declare: a URL the detectors would mask.
const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// A Narrative's XHTML: its text scrubbed, its namespace kept (FHIR requires it).
fn scrub_narrative(div: &str, scrub: &mut dyn FnMut(&str) -> Option<String>) -> Option<String> {
    let pieces: Vec<&str> = div.split(XHTML_NS).collect();
    let mut changed = false;
    let scrubbed: Vec<String> = pieces
        .iter()
        .map(|p| match scrub(p) {
            Some(clean) => {
                changed = true;
                clean
            }
            None => p.to_string(),
        })
        .collect();
    changed.then(|| scrubbed.join(XHTML_NS))
}

/// An Attachment's `data`: a text type decoded, scrubbed and re-encoded; any other blanked
/// (unless kept). `None`: leave it as it is.
fn attachment(
    b64: &str,
    content_type: &str,
    keep_binary: bool,
    scrub: &mut dyn FnMut(&str) -> Option<String>,
    tally: &mut Tally,
) -> Option<String> {
    if keep_binary {
        return None;
    }
    let text_type = content_type.starts_with("text/")
        || content_type.contains("json")
        || content_type.contains("xml");
    let decoded = text_type
        .then(|| STANDARD.decode(b64.trim()).ok())
        .flatten()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match decoded {
        Some(text) => Some(STANDARD.encode(scrub(&text).unwrap_or(text))),
        None => {
            tally.add(Entity::Attachment);
            Some(String::new())
        }
    }
}
