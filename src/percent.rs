//! RFC 3986 §2.1 percent-decoding, strict: the `percent-encoding` crate decodes, and an escape
//! that is not `%` followed by two hex digits (`%+5`, `%4`, a trailing `%`) is refused instead
//! of passed through, as is a result that is not UTF-8. Resource URIs and header names use it.

/// The decoded text; `None` for a broken escape or bytes that are not UTF-8.
pub fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_encoding::percent_decode(bytes)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_escapes_and_refuses_broken_ones() {
        assert_eq!(decode("a%2Fb%20c").as_deref(), Some("a/b c"));
        assert_eq!(decode("plain").as_deref(), Some("plain"));
        assert_eq!(decode("%e2%82%ac").as_deref(), Some("€"));
        for broken in ["%+5", "%4", "%", "x%g0", "%-1"] {
            assert_eq!(decode(broken), None, "{broken}");
        }
        assert_eq!(decode("%ff"), None, "not UTF-8");
    }
}
