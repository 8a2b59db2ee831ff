//! JSON a string carries: the whole string (a resource's text, a log message's data), markdown
//! code fences (what LLM-facing servers print), or NDJSON lines. Each piece is redacted as JSON
//! — field rules included — rather than as prose, so a key rule cannot be dodged by sending
//! the record as text. Nesting is bounded: past `MAX_DEPTH` strings within strings are prose.

use std::cell::Cell;

/// How many strings deep JSON is looked for (a string of JSON holding a string of JSON...).
const MAX_DEPTH: u8 = 3;

thread_local! {
    static DEPTH: Cell<u8> = const { Cell::new(0) };
}

/// One piece of a string.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Piece<'t> {
    Json(&'t str),
    Prose(&'t str),
}

/// A cheap first look: could `text` carry JSON at all?
pub(super) fn may_carry(text: &str) -> bool {
    let t = text.trim_start();
    matches!(t.as_bytes().first(), Some(b'{' | b'[')) || has_fence(text.as_bytes())
}

/// Whether three backticks occur: a backtick is rare in data, so one `memchr` pass usually
/// settles it (a substring search builds its searcher for every string).
fn has_fence(bytes: &[u8]) -> bool {
    let mut at = 0;
    while let Some(i) = bytes.get(at..).and_then(|rest| memchr::memchr(b'`', rest)) {
        if bytes.get(at + i..at + i + 3) == Some(b"```".as_slice()) {
            return true;
        }
        at += i + 1;
    }
    false
}

/// The pieces of `text` when it carries JSON; `None` when it is prose only.
pub(super) fn pieces(text: &str) -> Option<Vec<Piece<'_>>> {
    if is_json(text) {
        return Some(vec![Piece::Json(text)]);
    }
    fenced(text).or_else(|| ndjson(text))
}

/// Runs `f` one level deeper; `None` (do not parse) past the bound.
pub(super) fn nested<T>(f: impl FnOnce() -> T) -> Option<T> {
    let depth = DEPTH.with(Cell::get);
    if depth >= MAX_DEPTH {
        return None;
    }
    DEPTH.with(|d| d.set(depth + 1));
    let out = f();
    DEPTH.with(|d| d.set(depth));
    Some(out)
}

fn is_json(text: &str) -> bool {
    let t = text.trim();
    matches!(t.as_bytes().first(), Some(b'{' | b'['))
        && serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok()
}

/// CommonMark fenced code blocks (```` ``` ```` with an optional info string such as `json`).
fn fenced(text: &str) -> Option<Vec<Piece<'_>>> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut found = false;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let Some(line_end) = after.find('\n') else {
            break;
        };
        let body_start = open + 3 + line_end + 1;
        let Some(close) = rest[body_start..].find("```") else {
            break;
        };
        let body = &rest[body_start..body_start + close];
        if is_json(body) {
            found = true;
            out.push(Piece::Prose(&rest[..body_start]));
            out.push(Piece::Json(body));
            out.push(Piece::Prose(
                &rest[body_start + close..body_start + close + 3],
            ));
        } else {
            out.push(Piece::Prose(&rest[..body_start + close + 3]));
        }
        rest = &rest[body_start + close + 3..];
    }
    out.push(Piece::Prose(rest));
    found.then_some(out)
}

/// Two or more lines, each a JSON object or array (blank lines allowed).
fn ndjson(text: &str) -> Option<Vec<Piece<'_>>> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let json_lines = lines.iter().filter(|l| !l.trim().is_empty()).count();
    if json_lines < 2 || !lines.iter().all(|l| l.trim().is_empty() || is_json(l)) {
        return None;
    }
    let mut out = Vec::new();
    for line in lines {
        let body = line.trim_end_matches(['\n', '\r']);
        if body.trim().is_empty() {
            out.push(Piece::Prose(line));
        } else {
            out.push(Piece::Json(body));
            out.push(Piece::Prose(&line[body.len()..]));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_is_three_backticks_anywhere() {
        for (text, fenced) in [
            ("```", true),
            ("a `b` `` c ```json", true),
            ("x``", false),
            ("`` ` ``", false),
            ("é```", true),
            ("", false),
        ] {
            assert_eq!(has_fence(text.as_bytes()), fenced, "{text}");
            assert_eq!(has_fence(text.as_bytes()), text.contains("```"), "{text}");
        }
    }

    #[test]
    fn whole_fenced_and_ndjson() {
        assert_eq!(
            pieces(r#" {"a":1} "#),
            Some(vec![Piece::Json(r#" {"a":1} "#)])
        );
        let md = "Here:\n```json\n{\"ssn\":\"x\"}\n```\nbye";
        let p = pieces(md).unwrap();
        assert!(p.contains(&Piece::Json("{\"ssn\":\"x\"}\n")), "{p:?}");
        let joined: String = p
            .iter()
            .map(|p| match p {
                Piece::Json(t) | Piece::Prose(t) => *t,
            })
            .collect();
        assert_eq!(joined, md);
        let nd = "{\"a\":1}\n{\"b\":2}\n";
        assert_eq!(
            pieces(nd),
            Some(vec![
                Piece::Json("{\"a\":1}"),
                Piece::Prose("\n"),
                Piece::Json("{\"b\":2}"),
                Piece::Prose("\n")
            ])
        );
        assert_eq!(pieces("plain {not json"), None);
        assert_eq!(pieces("```\nnot json\n```"), None);
    }

    #[test]
    fn nesting_is_bounded() {
        fn down(n: u8) -> u8 {
            nested(|| down(n + 1)).unwrap_or(n)
        }
        assert_eq!(down(0), MAX_DEPTH);
    }
}
