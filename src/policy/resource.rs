//! Resource URIs as the policy compares them: percent-decoding and dot-segment removal
//! (RFC 3986 §2.1, §5.2.4) happen before matching, so `a/%2e%2e/secret` cannot dodge a rule.
//! Patterns match whole segments: `*` is one segment, a final `**` is any remaining ones.

/// A URI reduced to scheme+authority and decoded path segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalUri {
    prefix: String,
    segments: Vec<String>,
}

/// Normalises `uri`; `None` when it cannot be read safely (bad escapes, an encoded `/`,
/// a `..` that climbs above the root, a query or fragment). Such URIs match no rule.
pub fn normalize(uri: &str) -> Option<NormalUri> {
    if uri.contains(['?', '#']) || uri.chars().any(char::is_control) {
        return None;
    }
    let (prefix, path) = split_prefix(uri);
    let mut segments: Vec<String> = Vec::new();
    for raw in path.split('/') {
        let segment = crate::percent::decode(raw)?;
        if segment.contains('/') || segment.contains('\\') {
            return None;
        }
        match segment.as_str() {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            _ => segments.push(segment),
        }
    }
    Some(NormalUri {
        prefix: prefix.to_ascii_lowercase(),
        segments,
    })
}

/// `scheme://authority` (or `scheme:`) and the path after it.
fn split_prefix(uri: &str) -> (&str, &str) {
    if let Some(scheme_end) = uri.find("://") {
        let rest = &uri[scheme_end + 3..];
        let path_start = rest.find('/').map_or(uri.len(), |i| scheme_end + 3 + i);
        return uri.split_at(path_start);
    }
    match uri.find(':') {
        Some(i) => uri.split_at(i + 1),
        None => ("", uri),
    }
}

/// A compiled resource pattern.
#[derive(Debug, Clone)]
pub struct ResourcePattern {
    any: bool,
    uri: NormalUri,
    rest: bool,
}

impl ResourcePattern {
    pub fn parse(spec: &str) -> Result<Self, String> {
        if spec == "*" {
            return Ok(ResourcePattern {
                any: true,
                uri: NormalUri {
                    prefix: String::new(),
                    segments: vec![],
                },
                rest: false,
            });
        }
        let mut uri = normalize(spec)
            .ok_or_else(|| format!("resource pattern '{spec}' is not a readable URI"))?;
        let rest = uri.segments.last().is_some_and(|s| s == "**");
        if rest {
            uri.segments.pop();
        }
        if uri.segments.iter().any(|s| s.contains('*') && s != "*") {
            return Err(format!(
                "resource pattern '{spec}': '*' must stand for a whole segment"
            ));
        }
        Ok(ResourcePattern {
            any: false,
            uri,
            rest,
        })
    }

    pub fn matches(&self, uri: &NormalUri) -> bool {
        if self.any {
            return true;
        }
        let (want, got) = (&self.uri.segments, &uri.segments);
        let length_ok = if self.rest {
            got.len() > want.len()
        } else {
            got.len() == want.len()
        };
        self.uri.prefix == uri.prefix
            && length_ok
            && want.iter().zip(got).all(|(w, g)| w == "*" || w == g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(pattern: &str, uri: &str) -> bool {
        let p = ResourcePattern::parse(pattern).unwrap();
        normalize(uri).is_some_and(|u| p.matches(&u))
    }

    #[test]
    fn exact_and_segment_wildcards() {
        assert!(allows(
            "file:///records/public/a.txt",
            "file:///records/public/a.txt"
        ));
        assert!(allows(
            "file:///records/*/a.txt",
            "file:///records/ward3/a.txt"
        ));
        assert!(!allows(
            "file:///records/*/a.txt",
            "file:///records/a/b/a.txt"
        ));
        assert!(allows(
            "file:///records/public/**",
            "file:///records/public/x/y.txt"
        ));
        assert!(!allows(
            "file:///records/public/**",
            "file:///records/public"
        ));
        assert!(allows("hospital://patients/*", "HOSPITAL://patients/NUGWI"));
    }

    #[test]
    fn dot_segments_and_escapes_are_resolved_before_matching() {
        assert!(!allows(
            "file:///records/public/**",
            "file:///records/public/../secret/x"
        ));
        assert!(!allows(
            "file:///records/public/**",
            "file:///records/public/%2e%2e/secret/x"
        ));
        assert!(allows(
            "file:///records/public/**",
            "file:///records/x/../public/ok"
        ));
        assert!(allows(
            "file:///records/public/a b",
            "file:///records/public/a%20b"
        ));
    }

    #[test]
    fn unreadable_uris_match_nothing() {
        for uri in [
            "file:///a/%2F/b",
            "file:///a/%zz",
            "file:///../etc/passwd",
            "file:///a?x=1",
            "file:///a#f",
            "file:///a/%C3",
            "file:///a\\b",
        ] {
            assert!(normalize(uri).is_none(), "{uri}");
        }
        assert!(allows("*", "anything:at/all"));
    }

    #[test]
    fn partial_wildcards_are_refused() {
        assert!(ResourcePattern::parse("file:///records/pub*").is_err());
    }
}
