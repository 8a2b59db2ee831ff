//! Binary content in answers — an image or audio block's `data`, a resource's `blob` — holds
//! what the detectors cannot read (a scanned letter, a photograph: Safe Harbor's full-face
//! images). For a redacting role a blob of a text type is decoded, redacted like any text
//! (or JSON) and re-encoded; an image or audio clip becomes a blank one of its type, so clients
//! still get a valid block; anything else becomes empty. A profile with `binary: keep` lets
//! binary content pass (a radiology role, say).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::detect::Entity;
use super::tree::Node;
use super::{Redactor, Tally};

/// 1×1 transparent PNG, 1×1 transparent GIF, and a WAV of 1 ms of silence: what an image or a
/// clip becomes.
const BLANK_PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII=";
const BLANK_GIF: &str = "R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==";
const BLANK_WAV: &str =
    "UklGRjQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YRAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Rewrites every binary member under `node` for a redacting role.
pub(super) fn scrub(node: &mut Node, redactor: &Redactor, tally: &mut Tally) {
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
                        *value = Node::string(replace(b64, &mime, redactor, tally));
                    }
                    _ if value.is_container() => scrub(value, redactor, tally),
                    _ => {}
                }
            }
        }
        Node::Array(items) => items.iter_mut().for_each(|v| scrub(v, redactor, tally)),
        _ => {}
    }
}

/// What one blob of `mime` becomes.
fn replace(b64: &str, mime: &str, redactor: &Redactor, tally: &mut Tally) -> String {
    let essence = mime.split(';').next().unwrap_or("").trim();
    if is_text(essence) {
        if let Some(text) = redact_text(b64, redactor, tally) {
            return STANDARD.encode(text);
        }
    }
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

/// The decoded text, redacted; `None` when it is not base64 of UTF-8.
fn redact_text(b64: &str, redactor: &Redactor, tally: &mut Tally) -> Option<String> {
    let bytes = STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let json = matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['));
    let (clean, counts) = match json.then(|| redactor.redact_payload(text.as_bytes())) {
        Some(Ok((json, counts))) => (String::from_utf8(json).ok()?, counts),
        _ => redactor.redact_text(&text),
    };
    tally.add_counts(&counts);
    Some(clean)
}
