//! The audit trail's hash chain. Each line is a JSON object whose `prev` is the previous line's
//! `hash`, and whose `hash` — the last member — is SHA-256 (or HMAC-SHA256 with
//! `GATEKEEPER_AUDIT_KEY`) over the line's bytes up to that member. Editing a line breaks its own
//! hash; deleting one breaks the next line's `prev`; either is reported at that line.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// `prev` of the first line ever written.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const HASH_MEMBER: &str = ",\"hash\":\"";

/// Computes line hashes, keyed or not.
#[derive(Clone)]
pub struct Chain {
    /// The keyed state, made once: HMAC's padded key costs two compressions per line otherwise.
    mac: Option<Hmac<Sha256>>,
}

impl Chain {
    pub fn new(key: Option<Vec<u8>>) -> Self {
        // HMAC takes a key of any length, so `ok()` drops nothing.
        let mac = key.and_then(|k| Hmac::<Sha256>::new_from_slice(&k).ok());
        Chain { mac }
    }

    fn digest(&self, body: &[u8]) -> String {
        let digest: [u8; 32] = match &self.mac {
            Some(mac) => {
                let mut mac = mac.clone();
                mac.update(body);
                mac.finalize().into_bytes().into()
            }
            None => Sha256::digest(body).into(),
        };
        // Into a buffer at once: `hex::encode` collects the digits char by char.
        let mut digits = [0u8; 64];
        match hex::encode_to_slice(digest, &mut digits) {
            Ok(()) => String::from_utf8_lossy(&digits).into_owned(),
            Err(_) => hex::encode(digest),
        }
    }

    /// Seals a serialised record in place: `line` is a JSON object without its closing `}`
    /// (and with `prev`); the `hash` member and the `}` are appended. Returns the hash. The
    /// same bytes as `seal`, without copying the line.
    pub fn seal_into(&self, line: &mut Vec<u8>) -> String {
        let hash = self.digest(line);
        line.extend_from_slice(HASH_MEMBER.as_bytes());
        line.extend_from_slice(hash.as_bytes());
        line.extend_from_slice(b"\"}");
        hash
    }

    /// Seals a JSON object (which must end in `}` and already carry `prev`): appends `hash`.
    pub fn seal(&self, body: &str) -> (String, String) {
        let open = body.strip_suffix('}').unwrap_or(body);
        let hash = self.digest(open.as_bytes());
        (format!("{open}{HASH_MEMBER}{hash}\"}}"), hash)
    }

    /// Checks one sealed line; returns its `(prev, hash)`.
    pub fn open(&self, line: &str) -> Result<(String, String), String> {
        let at = line.rfind(HASH_MEMBER).ok_or("no hash member")?;
        let (open, sealed) = line.split_at(at);
        let hash = sealed
            .strip_prefix(HASH_MEMBER)
            .and_then(|h| h.strip_suffix("\"}"))
            .filter(|h| h.len() == 64)
            .ok_or("malformed hash member")?;
        if self.digest(open.as_bytes()) != hash {
            return Err("hash mismatch: the line was altered".into());
        }
        let record: serde_json::Value =
            serde_json::from_str(line).map_err(|_| "the line is not JSON".to_string())?;
        let prev = record["prev"].as_str().ok_or("no prev member")?.to_string();
        Ok((prev, hash.to_string()))
    }
}

/// The outcome of verifying one or more files in order.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    pub lines: usize,
    /// The `prev` the first line pointed at: the genesis value, or the end of an older file.
    pub anchor: String,
    pub last_hash: String,
}

/// Why a chain does not verify: which file and line (1-based), and what was wrong.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct Broken {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// Verifies files that continue each other (rotated files, oldest first).
pub fn verify(chain: &Chain, files: &[(String, String)]) -> Result<Verified, Broken> {
    let mut prev: Option<String> = None;
    let mut anchor = None;
    let mut lines = 0;
    for (name, text) in files {
        for (i, line) in text.lines().enumerate() {
            let broken = |reason: String| Broken {
                file: name.clone(),
                line: i + 1,
                reason,
            };
            if line.trim().is_empty() {
                return Err(broken("empty line".into()));
            }
            let (line_prev, hash) = chain.open(line).map_err(broken)?;
            match &prev {
                Some(expected) if *expected != line_prev => {
                    return Err(broken(
                        "prev does not match the previous line: a line was removed or reordered"
                            .into(),
                    ))
                }
                None => anchor = Some(line_prev),
                _ => {}
            }
            prev = Some(hash);
            lines += 1;
        }
    }
    Ok(Verified {
        lines,
        anchor: anchor.unwrap_or_else(|| GENESIS.to_string()),
        last_hash: prev.unwrap_or_else(|| GENESIS.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(chain: &Chain, n: usize) -> String {
        let mut prev = GENESIS.to_string();
        let mut out = String::new();
        for i in 0..n {
            let (line, hash) = chain.seal(&format!("{{\"n\":{i},\"prev\":\"{prev}\"}}"));
            out.push_str(&line);
            out.push('\n');
            prev = hash;
        }
        out
    }

    fn run(chain: &Chain, text: &str) -> Result<Verified, Broken> {
        verify(chain, &[("audit.log".into(), text.to_string())])
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = Chain::new(None);
        let v = run(&c, &build(&c, 5)).unwrap();
        assert_eq!(v.lines, 5);
        assert_eq!(v.anchor, GENESIS);
    }

    #[test]
    fn an_edited_line_fails_at_that_line() {
        let c = Chain::new(None);
        let text = build(&c, 5).replace("\"n\":2", "\"n\":7");
        assert_eq!(run(&c, &text).unwrap_err().line, 3);
    }

    #[test]
    fn a_deleted_line_fails_where_it_was() {
        let c = Chain::new(None);
        let text = build(&c, 5);
        let mut lines: Vec<&str> = text.lines().collect();
        lines.remove(3);
        let err = run(&c, &(lines.join("\n") + "\n")).unwrap_err();
        assert_eq!(err.line, 4);
        assert!(err.reason.contains("removed"));
    }

    #[test]
    fn a_keyed_chain_needs_the_key() {
        let keyed = Chain::new(Some(b"k".to_vec()));
        let text = build(&keyed, 3);
        assert!(run(&keyed, &text).is_ok());
        assert!(
            run(&Chain::new(None), &text).is_err(),
            "recomputing without the key fails"
        );
    }

    #[test]
    fn rotated_files_verify_in_order() {
        let c = Chain::new(None);
        let all = build(&c, 6);
        let lines: Vec<&str> = all.lines().collect();
        let old = lines[..4].join("\n") + "\n";
        let new = lines[4..].join("\n") + "\n";
        let files = [
            ("a".to_string(), old.clone()),
            ("b".to_string(), new.clone()),
        ];
        assert_eq!(verify(&c, &files).unwrap().lines, 6);
        assert!(verify(&c, &[("b".into(), new.clone())]).unwrap().anchor != GENESIS);
        assert!(verify(&c, &[("b".into(), new), ("a".into(), old)]).is_err());
    }
}
