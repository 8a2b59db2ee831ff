//! JSON inside a result's `content[]` texts (and embedded resources' texts): taken out so
//! field rules can see inside it, recognised when it repeats `structuredContent` byte for byte
//! (redacted once, written into both places), and put back serialised.

use super::tree::{Node, Text};

/// A `content[]` item's text (or its embedded resource's) that may hold JSON, taken out of the
/// message so it can be parsed.
pub(super) struct TakenText<'a> {
    index: usize,
    /// `None`: the text is the section's `structuredContent` serialised, byte for byte.
    text: Option<Text<'a>>,
}

/// JSON found in a `content[]` item's text, parsed so field rules can see inside it.
pub(super) struct JsonText<'t> {
    pub(super) index: usize,
    /// `None`: the text is the section's `structuredContent` again — the same bytes, or the same
    /// JSON once parsed (MCP asks servers to send both) — which is redacted once and written
    /// into both places.
    pub(super) parsed: Option<Node<'t>>,
}

/// How many texts repeat the section's `structuredContent`.
pub(super) fn copies_of_structured(texts: &[JsonText]) -> usize {
    texts.iter().filter(|t| t.parsed.is_none()).count()
}

/// The text slot of a `content[]` item: its own `text`, or its embedded resource's.
pub(super) fn text_slot<'n, 'a>(item: &'n mut Node<'a>) -> Option<&'n mut Node<'a>> {
    if item.get("text").is_some() {
        item.get_mut("text")
    } else {
        item.get_mut("resource").and_then(|r| r.get_mut("text"))
    }
}

/// A section's `content[]` items, looked up once per pass (a section may have many members).
pub(super) fn content_items<'n, 'a>(section: &'n mut Node<'a>) -> Option<&'n mut Vec<Node<'a>>> {
    section.get_mut("content").and_then(Node::as_array_mut)
}

/// Takes out of `content[].text` and `content[].resource.text` what may be JSON (leaving
/// `null` in its place). Blobs are `binary`'s.
pub(super) fn take_texts<'a>(section: &mut Node<'a>) -> Vec<TakenText<'a>> {
    let mut out = Vec::new();
    let copies = byte_copies_of_structured(section);
    let Some(items) = content_items(section) else {
        return out;
    };
    // `copies` is in ascending order.
    for (index, item) in items.iter_mut().enumerate() {
        let Some(slot) = text_slot(item) else {
            continue;
        };
        if copies.binary_search(&index).is_ok() {
            *slot = Node::Null;
            out.push(TakenText { index, text: None });
            continue;
        }
        if !slot.as_str().is_some_and(opens_json_container) {
            continue;
        }
        if let Node::String(text) = std::mem::replace(slot, Node::Null) {
            out.push(TakenText {
                index,
                text: Some(text),
            });
        }
    }
    out
}

/// Whether a text starts like a JSON object or array (only those are parsed).
pub(super) fn opens_json_container(text: &str) -> bool {
    matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['))
}

/// Parses the texts taken out; one that is not a JSON object or array goes back as it was.
pub(super) fn parse_texts<'t>(
    section: &mut Node<'_>,
    taken: &'t [TakenText<'_>],
) -> Vec<JsonText<'t>> {
    let mut out = Vec::new();
    let mut items = content_items(section);
    for t in taken {
        let Some(text) = &t.text else {
            out.push(JsonText {
                index: t.index,
                parsed: None,
            });
            continue;
        };
        match Node::parse(text.as_bytes()) {
            Ok(parsed) if parsed.is_container() => out.push(JsonText {
                index: t.index,
                parsed: Some(parsed),
            }),
            _ => {
                let item = items.as_mut().and_then(|items| items.get_mut(t.index));
                if let Some(slot) = item.and_then(text_slot) {
                    *slot = Node::string(text.to_string());
                }
            }
        }
    }
    if let Some(structured) = section.get("structuredContent") {
        for text in out.iter_mut() {
            if text.parsed.as_ref().is_some_and(|p| p == structured) {
                text.parsed = None;
            }
        }
    }
    out
}

/// The `content[]` items whose text is byte for byte the serialised `structuredContent` (what
/// a server using serde_json sends): found without parsing them.
pub(super) fn byte_copies_of_structured(section: &Node) -> Vec<usize> {
    let (Some(structured), Some(Node::Array(items))) =
        (section.get("structuredContent"), section.get("content"))
    else {
        return Vec::new();
    };
    if !structured.is_container() {
        return Vec::new();
    }
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| {
            item.get("text")
                .and_then(Node::as_str)
                .is_some_and(|t| serialises_to(structured, t))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Whether writing `value` gives exactly `text`, checked while writing (no string is built;
/// the first difference stops it).
pub(super) fn serialises_to(value: &Node, text: &str) -> bool {
    struct Compare<'a>(&'a [u8]);
    impl std::io::Write for Compare<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            match self.0.strip_prefix(buf) {
                Some(rest) => {
                    self.0 = rest;
                    Ok(buf.len())
                }
                None => Err(std::io::ErrorKind::InvalidData.into()),
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut rest = Compare(text.as_bytes());
    value.write(&mut rest).is_ok() && rest.0.is_empty()
}

/// Puts the redacted JSON texts back, serialised (written at once in their escaped form: no
/// pass reads them as strings again).
pub(super) fn put_json_texts(section: &mut Node<'_>, texts: &mut Vec<JsonText<'_>>) {
    let mut copies = copies_of_structured(texts);
    let mut structured = match copies {
        0 => None,
        _ => section.get("structuredContent").map(Node::json_text),
    };
    let Some(items) = content_items(section) else {
        return;
    };
    for text in texts.drain(..) {
        let serialised = match text.parsed {
            Some(parsed) => Node::json_text(&parsed),
            // The last copy takes the serialisation itself (usually there is one).
            None => {
                copies = copies.saturating_sub(1);
                match copies {
                    0 => structured.take(),
                    _ => structured.clone(),
                }
                .unwrap_or_else(|| Node::string(String::new()))
            }
        };
        if let Some(slot) = items.get_mut(text.index).and_then(text_slot) {
            *slot = serialised;
        }
    }
}
