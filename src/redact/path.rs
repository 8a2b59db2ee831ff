//! Field selectors: a subset of JSONPath (RFC 9535) — `$.a.b`, `$..key`, `[*]`, `.*`, `[0]`,
//! `['k.e.y']` — and case-insensitive key-name globs (`*ssn*`).

/// One step of a location inside a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
    Wild,
    /// `..key`: `key` at any depth below.
    Descend(String),
}

/// A compiled JSONPath selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(Vec<Segment>);

impl JsonPath {
    pub fn parse(text: &str) -> Result<Self, String> {
        let err = |why: &str| format!("JSON path '{text}': {why}");
        let mut rest = text
            .strip_prefix('$')
            .ok_or_else(|| err("must start with $"))?;
        let mut segs = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("..") {
                let (name, r) = take_name(r);
                if name.is_empty() {
                    return Err(err("'..' needs a key name"));
                }
                segs.push(Segment::Descend(name.to_string()));
                rest = r;
            } else if let Some(r) = rest.strip_prefix(".*") {
                segs.push(Segment::Wild);
                rest = r;
            } else if let Some(r) = rest.strip_prefix('.') {
                let (name, r) = take_name(r);
                if name.is_empty() {
                    return Err(err("'.' needs a key name"));
                }
                segs.push(Segment::Key(name.to_string()));
                rest = r;
            } else if let Some(r) = rest.strip_prefix('[') {
                let close = r.find(']').ok_or_else(|| err("unclosed '['"))?;
                let inner = &r[..close];
                segs.push(match inner {
                    "*" => Segment::Wild,
                    q if q.len() >= 2
                        && (q.starts_with('\'') && q.ends_with('\'')
                            || q.starts_with('"') && q.ends_with('"')) =>
                    {
                        Segment::Key(q[1..q.len() - 1].to_string())
                    }
                    n => Segment::Index(n.parse().map_err(|_| err("bad selector in []"))?),
                });
                rest = &r[close + 1..];
            } else {
                return Err(err("unexpected character"));
            }
        }
        Ok(JsonPath(segs))
    }

    /// Whether this path selects the value at `location`.
    pub fn matches(&self, location: &[Step]) -> bool {
        matches_from(&self.0, location)
    }
}

fn take_name(s: &str) -> (&str, &str) {
    let end = s.find(['.', '[']).unwrap_or(s.len());
    s.split_at(end)
}

fn matches_from(segs: &[Segment], loc: &[Step]) -> bool {
    let Some((seg, rest)) = segs.split_first() else {
        return loc.is_empty();
    };
    match seg {
        Segment::Key(k) => {
            matches!(loc.first(), Some(Step::Key(s)) if s == k) && matches_from(rest, &loc[1..])
        }
        Segment::Index(i) => {
            matches!(loc.first(), Some(Step::Index(s)) if s == i) && matches_from(rest, &loc[1..])
        }
        Segment::Wild => !loc.is_empty() && matches_from(rest, &loc[1..]),
        Segment::Descend(k) => (0..loc.len())
            .any(|i| matches!(loc[i], Step::Key(s) if s == k) && matches_from(rest, &loc[i + 1..])),
    }
}

/// A case-insensitive key-name glob where `*` stands for any run of characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGlob(Vec<String>);

impl KeyGlob {
    /// Each literal part in the canonical key spelling (`super::message::normalize_key`), so
    /// a glob written `postalCode` or `postal_code` matches every spelling of that key.
    pub fn new(pattern: &str) -> Self {
        KeyGlob(
            pattern
                .split('*')
                .map(|part| super::message::normalize_key(part).into_owned())
                .collect(),
        )
    }

    /// The glob as an anchored regular expression over a normalised key.
    pub fn to_regex(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|p| regex::escape(p)).collect();
        format!("(?s)^{}$", parts.join(".*"))
    }

    #[cfg(test)]
    pub fn matches(&self, key: &str) -> bool {
        self.matches_lowercase(&super::message::normalize_key(key))
    }

    /// `matches` for a key already lowercased: the reference the compiled form is tested
    /// against.
    #[cfg(test)]
    pub fn matches_lowercase(&self, key: &str) -> bool {
        let parts = &self.0;
        if parts.len() == 1 {
            return key == parts[0];
        }
        let (first, last) = (&parts[0], &parts[parts.len() - 1]);
        if !key.starts_with(first.as_str())
            || !key[first.len()..].ends_with(last.as_str())
            || key.len() < first.len() + last.len()
        {
            return false;
        }
        let mut at = first.len();
        let end = key.len() - last.len();
        for middle in &parts[1..parts.len() - 1] {
            match key[at..end].find(middle.as_str()) {
                Some(i) => at += i + middle.len(),
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc<'a>(steps: &[&'a str]) -> Vec<Step<'a>> {
        steps
            .iter()
            .map(|s| s.parse().map(Step::Index).unwrap_or(Step::Key(s)))
            .collect()
    }

    #[test]
    fn paths() {
        let p = JsonPath::parse("$.insurance.member_id").unwrap();
        assert!(p.matches(&loc(&["insurance", "member_id"])));
        assert!(!p.matches(&loc(&["x", "insurance", "member_id"])));
        let p = JsonPath::parse("$..ssn").unwrap();
        assert!(p.matches(&loc(&["patients", "3", "ssn"])));
        assert!(p.matches(&loc(&["ssn"])));
        let p = JsonPath::parse("$.patients[*].name").unwrap();
        assert!(p.matches(&loc(&["patients", "0", "name"])));
        let p = JsonPath::parse("$['k.e.y'][2]").unwrap();
        assert!(p.matches(&loc(&["k.e.y", "2"])));
        assert!(JsonPath::parse("a.b").is_err());
        assert!(JsonPath::parse("$[").is_err());
    }

    #[test]
    fn globs() {
        assert!(KeyGlob::new("*ssn*").matches("patient_SSN"));
        assert!(KeyGlob::new("*ssn*").matches("ssn"));
        assert!(KeyGlob::new("*_id").matches("member_id"));
        assert!(!KeyGlob::new("*_id").matches("identity"));
        assert!(KeyGlob::new("name").matches("Name"));
        assert!(!KeyGlob::new("name").matches("names"));
        assert!(KeyGlob::new("a*b*c").matches("aXbYc"));
        assert!(!KeyGlob::new("a*b*c").matches("acb"));
    }

    #[test]
    fn globs_as_regexes_agree() {
        for glob in ["*ssn*", "*_id", "name", "a*b*c", "a.b*", "*"] {
            let g = KeyGlob::new(glob);
            let re = regex::Regex::new(&g.to_regex()).unwrap();
            for key in [
                "patient_ssn",
                "ssn",
                "member_id",
                "identity",
                "name",
                "names",
                "aXbYc",
                "acb",
                "a.bc",
                "axbc",
                "a\nb",
                "",
            ] {
                let key = crate::redact::message::normalize_key(key);
                assert_eq!(
                    re.is_match(&key),
                    g.matches_lowercase(&key),
                    "{glob} on {key:?}"
                );
            }
        }
    }
}
