//! Binary content in answers — an image or audio block's `data`, a resource's `blob` — holds
//! what the detectors cannot read (a scanned letter, a photograph: Safe Harbor's full-face
//! images). For a redacting role a blob of a text type is decoded before the walk, read by it
//! like any string (field-rule values, detectors, JSON inside) and encoded again after it; an
//! image or audio clip becomes a blank one of its type, so clients still get a valid block;
//! anything else becomes empty. A profile with `binary: keep` lets binary content pass.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::detect::Entity;
use super::tree::{Node, Text};
use super::Tally;

/// 1×1 transparent PNG, 1×1 transparent GIF, and a WAV of 1 ms of silence: what an image or a
/// clip becomes.
const BLANK_PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII=";
const BLANK_GIF: &str = "R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==";
const BLANK_WAV: &str =
    "UklGRjQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YRAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Rewrites every binary member under `node` for a redacting role.
pub(super) fn scrub(node: &mut Node, tally: &mut Tally, marked: &mut usize) {
    match node {
        Node::Object(members) => {
            let mime = members
                .iter()
                .find(|(k, _)| k == "mimeType" || k == "contentType")
                .and_then(|(_, v)| v.as_str())
                .map(str::to_ascii_lowercase)
                .unwrap_or_default();
            let media_block = members
                .iter()
                .any(|(k, v)| k == "type" && matches!(v.as_str(), Some("image" | "audio")));
            for (key, value) in members.iter_mut() {
                let binary = key == "blob" || (key == "data" && media_block);
                match value {
                    Node::String(b64) if binary && !b64.is_empty() => {
                        let essence = mime.split(';').next().unwrap_or("").trim().to_string();
                        match is_text(&essence).then(|| decode(b64)).flatten() {
                            // Read as text by the walk (known values, detectors, JSON inside)
                            // under a marked key, and encoded again after it (`encode_marked`).
                            Some(text) => {
                                *key = Text::from(format!("{TEXT_MARK}{}", key.as_ref()));
                                *value = Node::string(text);
                                *marked += 1;
                            }
                            None => *value = Node::string(replace(&mime, tally)),
                        }
                    }
                    _ if value.is_container() => scrub(value, tally, marked),
                    _ => {}
                }
            }
        }
        Node::Array(items) => items.iter_mut().for_each(|v| scrub(v, tally, marked)),
        _ => {}
    }
}

/// The key a decoded text blob travels under through the walk.
const TEXT_MARK: &str = "\u{0}gatekeeper:text-blob:";

/// After the walk: every text blob decoded by `scrub` is encoded again under its own key.
pub(super) fn encode_marked(node: &mut Node) {
    match node {
        Node::Object(members) => {
            for (key, value) in members.iter_mut() {
                if let Some(original) = key.strip_prefix(TEXT_MARK).map(str::to_string) {
                    let text = value.as_str().unwrap_or("").to_string();
                    *key = Text::from(original);
                    *value = Node::string(STANDARD.encode(text));
                } else if value.is_container() {
                    encode_marked(value);
                }
            }
        }
        Node::Array(items) => items.iter_mut().for_each(encode_marked),
        _ => {}
    }
}

fn decode(b64: &str) -> Option<String> {
    String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()
}

/// What one blob of `mime` becomes.
/// A blob that is not text (or not readable as such): blank of its kind, or empty.
fn replace(mime: &str, tally: &mut Tally) -> String {
    let essence = mime.split(';').next().unwrap_or("").trim();
    tally.add(Entity::Attachment);
    match essence {
        "image/png" => BLANK_PNG.into(),
        "image/gif" => BLANK_GIF.into(),
        "audio/wav" | "audio/x-wav" | "audio/wave" => BLANK_WAV.into(),
        _ => String::new(),
    }
}

/// Text types: read, redacted and written back rather than blanked.
fn is_text(essence: &str) -> bool {
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/json" | "application/xml" | "application/ndjson"
        )
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
}
