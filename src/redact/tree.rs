//! The JSON tree redaction walks: parsed by serde_json, but borrowing from the bytes it came
//! from. A string the input held without escapes stays a slice of it and is written back as it
//! came; objects keep their members in order. No allocation per string or member name, so
//! parsing, walking and writing a response costs less than a plain `serde_json::Value` round
//! trip.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::io::{self, Write};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

/// A JSON string. Only the parser can make a borrowed one — what it found between quotes
/// without a single escape, valid inside quotes as it is — so that is written out unescaped;
/// every `Text` made from a `String` is escaped when written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text<'a>(Cow<'a, str>);

impl From<String> for Text<'_> {
    fn from(s: String) -> Self {
        Text(Cow::Owned(s))
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

/// An object's members, in the order they came (a repeated name keeps its last value, as
/// serde_json's own `Value` does, so what is redacted is what clients read).
pub type Members<'a> = Vec<(Text<'a>, Node<'a>)>;

#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Text<'a>),
    Array(Vec<Node<'a>>),
    Object(Members<'a>),
    /// A string already in its written form, quotes and escapes included: a `content[]` text
    /// that is a redacted node serialised (`Node::json_text`). Made only once every pass that
    /// reads strings is done; the writer copies it out.
    Written(Vec<u8>),
}

/// Where a node is written: as a value, or as the content of a JSON string (a JSON text that
/// is itself a string, so every quote and escape is escaped once more).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Depth {
    Value,
    InString,
}

impl<'a> Node<'a> {
    /// Parses one JSON document (serde_json's grammar and nesting limit). The bytes are
    /// checked as UTF-8 once, whole, rather than string by string as `from_slice` does; what
    /// fails that check goes to `from_slice` for serde_json's own error.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, serde_json::Error> {
        match std::str::from_utf8(bytes) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(bytes),
        }
    }

    /// A new string (escaped when written).
    pub fn string(s: String) -> Self {
        Node::String(Text::from(s))
    }

    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node<'a>> {
        match self {
            Node::Object(members) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Node<'a>>> {
        match self {
            Node::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_container(&self) -> bool {
        matches!(self, Node::Array(_) | Node::Object(_))
    }

    /// Writes the node as compact JSON.
    pub fn write<W: Write>(&self, w: &mut W) -> io::Result<()> {
        self.write_at(w, Depth::Value)
    }

    /// A string whose content is `node` written as compact JSON — what `Node::string` of its
    /// `to_json_string` would be, byte for byte, without building the text and then escaping
    /// it: the escapes are written at once, twice over. Writing to memory cannot fail; were
    /// it to, the string would be empty rather than partial.
    pub fn json_text(node: &Node<'_>) -> Node<'static> {
        let mut out = Vec::with_capacity(if node.is_container() { 1280 } else { 32 });
        out.push(b'"');
        match node.write_at(&mut out, Depth::InString) {
            Ok(()) => {
                out.push(b'"');
                Node::Written(out)
            }
            Err(_) => Node::string(String::new()),
        }
    }

    fn write_at<W: Write>(&self, w: &mut W, depth: Depth) -> io::Result<()> {
        match self {
            Node::Null => w.write_all(b"null"),
            Node::Bool(b) => w.write_all(if *b { b"true" } else { b"false" }),
            // Digits, signs, `.` and `e`: nothing in a number is escaped at any depth.
            Node::Number(n) => serde_json::to_writer(&mut *w, n).map_err(io::Error::other),
            Node::String(s) => write_text(w, s, depth),
            Node::Written(bytes) => match depth {
                Depth::Value => w.write_all(bytes),
                Depth::InString => escape_bytes(w, bytes, Depth::Value),
            },
            Node::Array(items) => {
                w.write_all(b"[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        w.write_all(b",")?;
                    }
                    item.write_at(w, depth)?;
                }
                w.write_all(b"]")
            }
            Node::Object(members) => {
                w.write_all(b"{")?;
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        w.write_all(b",")?;
                    }
                    write_text(w, key, depth)?;
                    w.write_all(b":")?;
                    value.write_at(w, depth)?;
                }
                w.write_all(b"}")
            }
        }
    }

    /// The node as compact JSON. Writing to memory cannot fail; were it to, the result would
    /// be empty rather than partial.
    pub fn to_json(&self) -> Vec<u8> {
        // Room for a typical payload from the start: growing from empty re-allocated and
        // copied a kilobyte's answer eight times.
        let mut out = Vec::with_capacity(if self.is_container() { 1024 } else { 32 });
        match self.write(&mut out) {
            Ok(()) => out,
            Err(_) => Vec::new(),
        }
    }

    /// The node as compact JSON text.
    pub fn to_json_string(&self) -> String {
        String::from_utf8(self.to_json()).unwrap_or_default()
    }

    /// The text a scalar would be written as (for rules that act on numbers and booleans).
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Node::Number(n) => Some(n.to_string()),
            Node::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

fn write_text<W: Write>(w: &mut W, text: &Text<'_>, depth: Depth) -> io::Result<()> {
    let quote: &[u8] = match depth {
        Depth::Value => b"\"",
        Depth::InString => b"\\\"",
    };
    w.write_all(quote)?;
    match &text.0 {
        // What the parser borrowed holds no quote, backslash or control character: it needs
        // no escape at any depth.
        Cow::Borrowed(raw) => w.write_all(raw.as_bytes())?,
        Cow::Owned(s) => escape_bytes(w, s.as_bytes(), depth)?,
    }
    w.write_all(quote)
}

/// Eight copies of a byte, for testing a whole word at once.
const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// The high bit of each byte of a little-endian word that needs escaping: a quote, a
/// backslash or a control character. Exact per byte (no carry crosses a byte), so the bits
/// name the bytes.
#[inline]
fn escape_mask(x: u64) -> u64 {
    const LOW7: u64 = splat(0x7f);
    let zero = |v: u64| !(((v & LOW7) + LOW7) | v) & splat(0x80);
    let control = !(((x & LOW7) + splat(0x80 - 0x20)) | x) & splat(0x80);
    control | zero(x ^ splat(b'"')) | zero(x ^ splat(b'\\'))
}

/// Writes the escape of one byte `escape_mask` selected; inside a string, that escape is
/// escaped again (`"` becomes `\"` as a value, `\\\"` inside a string).
fn write_escape<W: Write>(w: &mut W, b: u8, depth: Depth) -> io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut escape = [b'\\', 0, b'0', b'0', 0, 0];
    let len = match b {
        b'"' | b'\\' => {
            escape[1] = b;
            2
        }
        b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => {
            escape[1] = match b {
                b'\n' => b'n',
                b'\r' => b'r',
                b'\t' => b't',
                0x08 => b'b',
                _ => b'f',
            };
            2
        }
        _ => {
            escape[1] = b'u';
            escape[4] = HEX[usize::from(b >> 4)];
            escape[5] = HEX[usize::from(b & 0xf)];
            6
        }
    };
    let escape = &escape[..len];
    match depth {
        Depth::Value => w.write_all(escape),
        // The escape's own backslash, and the quote or backslash it escapes, are escaped.
        Depth::InString => {
            w.write_all(b"\\\\")?;
            match escape[1] {
                b'"' | b'\\' => w.write_all(&[b'\\', escape[1]]),
                _ => w.write_all(&escape[1..]),
            }
        }
    }
}

/// Writes `s` as a JSON string (RFC 8259 §7), escaped exactly as serde_json escapes it: `"`
/// and `\`, control characters as `\n`, `\t`, … or `\u00xx`, nothing else. Eight bytes are
/// tested at a time and the runs between escapes copied whole; serde_json tests each byte,
/// which made escaping the largest cost of writing an answer.
#[cfg(test)]
fn write_escaped<W: Write>(w: &mut W, s: &str) -> io::Result<()> {
    w.write_all(b"\"")?;
    escape_bytes(w, s.as_bytes(), Depth::Value)?;
    w.write_all(b"\"")
}

/// The escaped form of `bytes` (UTF-8 text) at `depth`, without quotes.
fn escape_bytes<W: Write>(w: &mut W, bytes: &[u8], depth: Depth) -> io::Result<()> {
    let mut copied = 0;
    let mut words = bytes.chunks_exact(8);
    for (n, word) in words.by_ref().enumerate() {
        let mut eight = [0; 8];
        eight.copy_from_slice(word);
        let mut mask = escape_mask(u64::from_le_bytes(eight));
        while mask != 0 {
            let at = n * 8 + (mask.trailing_zeros() / 8) as usize;
            w.write_all(&bytes[copied..at])?;
            write_escape(w, bytes[at], depth)?;
            copied = at + 1;
            mask &= mask - 1;
        }
    }
    let tail = bytes.len() - words.remainder().len();
    for (at, &b) in bytes.iter().enumerate().skip(tail) {
        if b < 0x20 || b == b'"' || b == b'\\' {
            w.write_all(&bytes[copied..at])?;
            write_escape(w, b, depth)?;
            copied = at + 1;
        }
    }
    w.write_all(&bytes[copied..])
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Node<'de>, E> {
        // serde_json refuses numbers out of f64's range, so `n` is finite: `Null` is unreachable.
        Ok(Number::from_f64(n).map_or(Node::Null, Node::Number))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::String(Text(Cow::Borrowed(s))))
    }

    fn visit_str<E>(self, s: &str) -> Result<Node<'de>, E> {
        Ok(Node::string(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Node<'de>, E> {
        Ok(Node::string(s))
    }

    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut members = Vec::new();
        while let Some((Key(key), value)) = map.next_entry()? {
            members.push((key, value));
        }
        drop_repeated_names(&mut members);
        Ok(Node::Object(members))
    }
}

/// Keeps only the last member of each name (linear for the usual small object, a set past it).
fn drop_repeated_names(members: &mut Members<'_>) {
    const SMALL: usize = 16;
    let keep: Vec<bool> = if members.len() <= SMALL {
        (0..members.len())
            .map(|i| !members[i + 1..].iter().any(|(k, _)| *k == members[i].0))
            .collect()
    } else {
        let mut later: HashSet<&str, foldhash::fast::RandomState> = HashSet::default();
        let mut keep: Vec<bool> = members
            .iter()
            .rev()
            .map(|(k, _)| later.insert(k.as_ref()))
            .collect();
        keep.reverse();
        keep
    };
    if keep.iter().all(|k| *k) {
        return;
    }
    let mut flags = keep.into_iter();
    members.retain(|_| flags.next().unwrap_or(true));
}

/// A member name: borrowed when it came without escapes (serde's own `Cow<str>` never borrows).
struct Key<'de>(Text<'de>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Text(Cow::Borrowed(s))))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Text::from(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Text::from(s)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn round_trip(json: &str) -> String {
        String::from_utf8(Node::parse(json.as_bytes()).unwrap().to_json()).unwrap()
    }

    #[test]
    fn writes_back_what_it_read_in_order_and_compact() {
        let json = r#"{"z":1,"a":[true,false,null,-2,3.5,"x"],"m":{"k":"v","e":""}}"#;
        assert_eq!(round_trip(json), json);
        assert_eq!(round_trip(" [ 1 , { \"a\" : 2 } ] "), r#"[1,{"a":2}]"#);
    }

    #[test]
    fn strings_without_escapes_are_borrowed_and_escaped_ones_come_back_valid() {
        let json = r#"{"plain":"abc é","esc\"aped":"line\nbreak \u0041 \\ \"q\""}"#;
        let node = Node::parse(json.as_bytes()).unwrap();
        let Node::Object(members) = &node else {
            panic!("object")
        };
        assert!(matches!(members[0].0 .0, Cow::Borrowed(_)));
        assert!(matches!(
            &members[0].1,
            Node::String(Text(Cow::Borrowed("abc é")))
        ));
        assert!(matches!(members[1].0 .0, Cow::Owned(_)));
        assert_eq!(members[1].1.as_str(), Some("line\nbreak A \\ \"q\""));
        let back: Value = serde_json::from_slice(&node.to_json()).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(json).unwrap());
    }

    /// Every byte that needs escaping, at every offset within and across the eight-byte
    /// words, beside multi-byte characters: written exactly as serde_json writes it.
    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        let specials: Vec<char> = (0u8..0x20)
            .map(char::from)
            .chain(['"', '\\', '\u{7f}', '/', 'é', '€', '𝄞', 'a'])
            .collect();
        for len in 0..20 {
            for at in 0..len.max(1) {
                for &c in &specials {
                    let s: String = (0..len).map(|i| if i == at { c } else { 'x' }).collect();
                    let mut out = Vec::new();
                    write_escaped(&mut out, &s).unwrap();
                    assert_eq!(
                        String::from_utf8(out).unwrap(),
                        serde_json::to_string(&s).unwrap(),
                        "{s:?}"
                    );
                }
            }
        }
        let text = include_str!("../../tests/fixtures/medical_records_answer.json");
        let mut out = Vec::new();
        write_escaped(&mut out, text).unwrap();
        assert_eq!(out, serde_json::to_vec(text).unwrap());
    }

    /// `json_text` writes what escaping the node's compact JSON would: every byte that needs
    /// escaping, in keys and values, owned and borrowed, at every offset of the words, and a
    /// text already written inside it.
    #[test]
    fn a_json_text_is_its_node_written_then_escaped() {
        let specials: Vec<char> = (0u8..0x20)
            .map(char::from)
            .chain(['"', '\\', '\u{7f}', '/', 'é', '𝄞'])
            .collect();
        let escaped_as_before = |node: &Node| Node::string(node.to_json_string()).to_json();
        for len in 0..12 {
            for at in 0..len.max(1) {
                for &c in &specials {
                    let s: String = (0..len).map(|i| if i == at { c } else { 'x' }).collect();
                    let node = Node::Object(vec![
                        (Text::from(s.clone()), Node::string(s.clone())),
                        (
                            Text::from("n".to_string()),
                            Node::Array(vec![Node::Null, Node::Number(Number::from(-15))]),
                        ),
                    ]);
                    assert_eq!(
                        Node::json_text(&node).to_json(),
                        escaped_as_before(&node),
                        "{s:?}"
                    );
                }
            }
        }
        let answer = include_bytes!("../../tests/fixtures/medical_records_answer.json");
        let mut parsed = Node::parse(answer).unwrap();
        assert_eq!(
            Node::json_text(&parsed).to_json(),
            escaped_as_before(&parsed)
        );
        // A written text inside: escaped once more, as its string would be.
        let inner = Node::json_text(&parsed);
        let inner_as_before = Node::string(parsed.to_json_string());
        if let Node::Object(members) = &mut parsed {
            members.push((Text::from("twin".to_string()), inner));
        }
        let mut before = parsed.clone();
        if let Node::Object(members) = &mut before {
            members.last_mut().unwrap().1 = inner_as_before;
        }
        assert_eq!(
            Node::json_text(&parsed).to_json(),
            escaped_as_before(&before)
        );
        assert_eq!(parsed.to_json(), before.to_json());
    }

    #[test]
    fn a_repeated_name_keeps_its_last_value_as_serde_json_does() {
        assert_eq!(round_trip(r#"{"a":1,"b":2,"a":3}"#), r#"{"b":2,"a":3}"#);
        let many: Vec<String> = (0..40).map(|i| format!("\"k{}\":{i}", i % 20)).collect();
        let json = format!("{{{}}}", many.join(","));
        let node = Node::parse(json.as_bytes()).unwrap();
        let expected: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&node.to_json()).unwrap(),
            expected
        );
        assert!(matches!(&node, Node::Object(m) if m.len() == 20));
    }

    /// Also the guard against serde_json's `arbitrary_precision` feature being switched on by
    /// some dependency: numbers would then arrive as maps, and this would fail.
    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        for n in [
            "0",
            "-1",
            "18446744073709551615",
            "-9223372036854775808",
            "1.5",
            "1e300",
            "0.1",
        ] {
            let value: Value = serde_json::from_str(n).unwrap();
            assert_eq!(round_trip(n), value.to_string(), "{n}");
        }
    }

    #[test]
    fn what_serde_json_refuses_is_refused() {
        for bad in [
            "{",
            "[1,]",
            "{\"a\" 1}",
            "\"\u{1}\"",
            "01",
            "[1] x",
            &"[".repeat(200),
        ] {
            assert!(Node::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
