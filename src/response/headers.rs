//! The upstream's response headers as a redacted role receives them: only the protocol's, and
//! each only in its own strict form. A header value is text the upstream writes like any other
//! (an `ETag` can hold a name as well as the body can), so a value that is not of its header's
//! grammar — or, for the opaque session id, that the detectors find something in — is dropped.

use crate::redact::Redactor;
use crate::transport::is_revision_form;

/// What a redacted role gets of one upstream header value.
#[derive(Debug, PartialEq, Eq)]
pub enum Kept {
    /// Sent as it came.
    Value,
    /// Not sent.
    Dropped,
    /// Framing the shell manages itself (`Content-Length`, `Transfer-Encoding`, `Connection`,
    /// `Content-Type`): left where it is.
    Framing,
}

/// Request header names a `Vary` or a CORS list may name: the ones MCP clients send.
const REQUEST_HEADERS: [&str; 14] = [
    "accept",
    "accept-encoding",
    "accept-language",
    "authorization",
    "content-type",
    "cookie",
    "origin",
    "last-event-id",
    "mcp-session-id",
    "mcp-protocol-version",
    "mcp-method",
    "mcp-name",
    "user-agent",
    "www-authenticate",
];

const METHODS: [&str; 7] = ["GET", "POST", "DELETE", "OPTIONS", "HEAD", "PUT", "PATCH"];

/// `Cache-Control` directives (RFC 9111 §5.2) without arguments, and those whose argument is
/// a number of seconds.
const CACHE_FLAGS: [&str; 9] = [
    "no-store",
    "no-cache",
    "private",
    "public",
    "must-revalidate",
    "proxy-revalidate",
    "no-transform",
    "immutable",
    "must-understand",
];
const CACHE_SECONDS: [&str; 4] = [
    "max-age",
    "s-maxage",
    "stale-while-revalidate",
    "stale-if-error",
];

/// Whether a redacted role gets `value` of the upstream's header `name` (lower case);
/// `origin` is the request's own `Origin`, the one value an allowed origin may echo.
pub fn kept(name: &str, value: &str, redactor: &Redactor, origin: Option<&str>) -> Kept {
    let keep = |ok: bool| if ok { Kept::Value } else { Kept::Dropped };
    match name {
        "content-length" | "transfer-encoding" | "connection" | "content-type" => Kept::Framing,
        "date" | "expires" | "retry-after" => keep(seconds(value) || http_date(value)),
        "cache-control" => keep(list(value).all(cache_directive)),
        "pragma" => keep(value.trim().eq_ignore_ascii_case("no-cache")),
        "vary" | "access-control-allow-headers" | "access-control-expose-headers" => {
            keep(list(value).all(|t| t == "*" || REQUEST_HEADERS.contains(&lower(t).as_str())))
        }
        "allow" | "access-control-allow-methods" => keep(list(value).all(|m| METHODS.contains(&m))),
        "access-control-allow-credentials" => keep(value.trim() == "true"),
        "access-control-max-age" => keep(seconds(value)),
        "access-control-allow-origin" => keep(value.trim() == "*" || Some(value.trim()) == origin),
        "mcp-protocol-version" => keep(is_revision_form(value.trim())),
        // Opaque, and the client must send it back: it passes unless it holds an identifier.
        "mcp-session-id" => keep(!finds(redactor, value)),
        // Validators describe the upstream's body, not the one this role gets; anything else
        // (a challenge for the upstream's own credentials, a cookie) is not the role's.
        _ => Kept::Dropped,
    }
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// The items of a comma-separated header list (RFC 9110 §5.6.1), empty ones skipped.
fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|t| !t.is_empty())
}

fn seconds(value: &str) -> bool {
    let v = value.trim();
    (1..=10).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit())
}

/// IMF-fixdate (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(value: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = value.trim().split(' ').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let time = |s: &str| {
        let t: Vec<&str> = s.split(':').collect();
        t.len() == 3 && t.iter().all(|p| digits(p, 2))
    };
    match parts.as_slice() {
        [day, dd, month, year, hms, "GMT"] => {
            day.strip_suffix(',').is_some_and(|d| DAYS.contains(&d))
                && digits(dd, 2)
                && MONTHS.contains(month)
                && digits(year, 4)
                && time(hms)
        }
        _ => false,
    }
}

fn cache_directive(directive: &str) -> bool {
    let lower = lower(directive);
    match lower.split_once('=') {
        None => CACHE_FLAGS.contains(&lower.as_str()),
        Some((name, arg)) => CACHE_SECONDS.contains(&name) && seconds(arg),
    }
}

/// Whether the detectors find an identifier in `value`.
fn finds(redactor: &Redactor, value: &str) -> bool {
    !redactor.redact_text(value).1.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_forms() {
        assert!(http_date("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert!(!http_date("Sun, 06 Nov 1994 08:49:37 Smithers"));
        assert!(cache_directive("max-age=60") && cache_directive("No-Store"));
        assert!(!cache_directive("private=\"Smithers\""));
        assert!(is_revision_form("2025-11-25") && !is_revision_form("123-45-6789"));
    }
}
