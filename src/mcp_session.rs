//! MCP sessions bound to the caller who created them. The upstream's `Mcp-Session-Id` is
//! recorded against the principal whose `initialize` received it; another principal presenting
//! it, or anyone presenting an id the gatekeeper never saw issued, gets 404 (MCP 2025-06-18,
//! Security Best Practices §"Session Hijacking": sessions must not authenticate, and bind to
//! the user).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::auth::Identity;
use crate::transport::ParamHeader;

/// What a presented session id is to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    Owner,
    /// Never issued through this gatekeeper, expired, or ended.
    Unknown,
    /// Issued to someone else. Answered like `Unknown`, so ids cannot be probed.
    Foreign,
}

/// How many live sessions one caller may hold.
pub const SESSIONS_PER_CALLER: usize = 64;

struct Binding {
    principal: String,
    last_seen: Instant,
}

pub struct Sessions {
    bindings: Mutex<HashMap<String, Binding>>,
    capacity: usize,
    idle: Duration,
}

impl Sessions {
    pub fn new(capacity: usize, idle: Duration) -> Self {
        Sessions {
            bindings: Mutex::default(),
            capacity: capacity.max(1),
            idle,
        }
    }

    /// Who a caller is across issuers: the issuer and the user id together.
    pub fn principal(who: &Identity) -> String {
        format!("{}\u{0}{}", who.claim_str("iss").unwrap_or(""), who.user_id)
    }

    /// Records that `id` belongs to `who`. A caller holds at most `SESSIONS_PER_CALLER`: past
    /// that its own least recently used goes (one caller cannot push out everyone else's). At
    /// capacity, idle sessions go first, then the least recently used.
    pub fn bind(&self, id: &str, who: &Identity) {
        let Ok(mut bindings) = self.bindings.lock() else {
            return;
        };
        let now = Instant::now();
        let principal = Self::principal(who);
        let mine: Vec<(&String, Instant)> = bindings
            .iter()
            .filter(|(k, b)| b.principal == principal && k.as_str() != id)
            .map(|(k, b)| (k, b.last_seen))
            .collect();
        if mine.len() >= SESSIONS_PER_CALLER {
            if let Some(oldest) = mine
                .iter()
                .min_by_key(|(_, at)| *at)
                .map(|(k, _)| (*k).clone())
            {
                bindings.remove(&oldest);
            }
        }
        if bindings.len() >= self.capacity && !bindings.contains_key(id) {
            bindings.retain(|_, b| now.duration_since(b.last_seen) < self.idle);
            if bindings.len() >= self.capacity {
                let oldest = bindings
                    .iter()
                    .min_by_key(|(_, b)| b.last_seen)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    bindings.remove(&k);
                }
            }
        }
        bindings.insert(
            id.to_string(),
            Binding {
                principal,
                last_seen: now,
            },
        );
    }

    pub fn check(&self, id: &str, who: &Identity) -> Ownership {
        let Ok(mut bindings) = self.bindings.lock() else {
            return Ownership::Unknown;
        };
        let now = Instant::now();
        match bindings.get_mut(id) {
            Some(b) if now.duration_since(b.last_seen) >= self.idle => {
                bindings.remove(id);
                Ownership::Unknown
            }
            Some(b) if b.principal == Self::principal(who) => {
                b.last_seen = now;
                Ownership::Owner
            }
            Some(_) => Ownership::Foreign,
            None => Ownership::Unknown,
        }
    }

    /// The live ids bound to `who`.
    pub fn owned_by(&self, who: &Identity) -> Vec<String> {
        let Ok(bindings) = self.bindings.lock() else {
            return Vec::new();
        };
        let (principal, now) = (Self::principal(who), Instant::now());
        bindings
            .iter()
            .filter(|(_, b)| {
                b.principal == principal && now.duration_since(b.last_seen) < self.idle
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The owner deleted the session (DELETE answered 2xx).
    pub fn end(&self, id: &str) {
        if let Ok(mut bindings) = self.bindings.lock() {
            bindings.remove(id);
        }
    }

    pub fn len(&self) -> usize {
        self.bindings.lock().map(|b| b.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Requests the server sent each caller (sampling, elicitation, roots, ping), so a client's
/// answer is forwarded only by the caller it was sent to, once, and only while fresh. A
/// caller holds at most `per_caller`; past that its oldest go first (one caller cannot push
/// out another's).
const MAX_CALLERS: usize = 100_000;

pub struct ServerRequests {
    sent: Mutex<HashMap<String, Vec<(String, Instant)>>>,
    per_caller: usize,
    ttl: Duration,
}

impl ServerRequests {
    pub fn new(per_caller: usize, ttl: Duration) -> Self {
        ServerRequests {
            sent: Mutex::default(),
            per_caller: per_caller.max(1),
            ttl,
        }
    }

    /// The server sent `who` a request with `id` (its JSON text).
    pub fn sent(&self, who: &Identity, id: String) {
        let Ok(mut sent) = self.sent.lock() else {
            return;
        };
        let now = Instant::now();
        if sent.len() >= MAX_CALLERS {
            sent.retain(|_, mine| {
                mine.iter()
                    .any(|(_, at)| now.duration_since(*at) < self.ttl)
            });
        }
        let mine = sent.entry(Sessions::principal(who)).or_default();
        mine.retain(|(_, at)| now.duration_since(*at) < self.ttl);
        if mine.len() >= self.per_caller {
            mine.remove(0);
        }
        mine.push((id, now));
    }

    /// Whether `who` was sent a request with `id` (JSON text), still fresh; it is answered now.
    pub fn answer(&self, who: &Identity, id: &str) -> bool {
        let Ok(mut sent) = self.sent.lock() else {
            return false;
        };
        let now = Instant::now();
        let principal = Sessions::principal(who);
        let Some(mine) = sent.get_mut(&principal) else {
            return false;
        };
        let found = mine
            .iter()
            .position(|(i, at)| i == id && now.duration_since(*at) < self.ttl);
        if let Some(at) = found {
            mine.remove(at);
        }
        if mine.is_empty() {
            sent.remove(&principal);
        }
        found.is_some()
    }
}

/// The `Mcp-Param-*` headers each tool's input schema declares (`x-mcp-header`), as the last
/// `tools/list` through the gatekeeper showed them: what a header on a `tools/call` must be
/// checked against. Bounded; a tool not seen is checked by argument name instead.
const MAX_TOOLS: usize = 10_000;

#[derive(Default)]
pub struct ToolParams {
    tools: Mutex<HashMap<String, Arc<[ParamHeader]>>>,
}

impl ToolParams {
    /// What `tools/list` said of `tool` (an empty list: it mirrors nothing).
    pub fn learn(&self, tool: String, params: Vec<ParamHeader>) {
        let Ok(mut tools) = self.tools.lock() else {
            return;
        };
        if tools.len() >= MAX_TOOLS && !tools.contains_key(&tool) {
            tools.clear();
        }
        tools.insert(tool, params.into());
    }

    pub fn get(&self, tool: &str) -> Option<Arc<[ParamHeader]>> {
        self.tools.lock().ok()?.get(tool).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn who(user: &str, iss: &str) -> Identity {
        let claims = json!({"sub": user, "iss": iss});
        crate::auth::identity_from_claims(claims.as_object().cloned().unwrap()).unwrap()
    }

    #[test]
    fn one_caller_cannot_push_out_everyone_elses_sessions() {
        let s = Sessions::new(1000, Duration::from_secs(60));
        s.bind("bob-1", &who("bob", "idp"));
        for i in 0..SESSIONS_PER_CALLER * 3 {
            s.bind(&format!("mallory-{i}"), &who("mallory", "idp"));
        }
        assert_eq!(s.check("bob-1", &who("bob", "idp")), Ownership::Owner);
        assert_eq!(s.len(), SESSIONS_PER_CALLER + 1);
        let last = format!("mallory-{}", SESSIONS_PER_CALLER * 3 - 1);
        assert_eq!(s.check(&last, &who("mallory", "idp")), Ownership::Owner);
    }

    #[test]
    fn a_session_belongs_to_its_creator_only() {
        let s = Sessions::new(10, Duration::from_secs(60));
        s.bind("abc", &who("alice", "idp"));
        assert_eq!(s.check("abc", &who("alice", "idp")), Ownership::Owner);
        assert_eq!(s.check("abc", &who("bob", "idp")), Ownership::Foreign);
        assert_eq!(
            s.check("abc", &who("alice", "other-idp")),
            Ownership::Foreign
        );
        assert_eq!(s.check("zzz", &who("alice", "idp")), Ownership::Unknown);
        s.end("abc");
        assert_eq!(s.check("abc", &who("alice", "idp")), Ownership::Unknown);
    }

    #[test]
    fn idle_sessions_expire_and_the_table_stays_bounded() {
        let s = Sessions::new(3, Duration::ZERO);
        s.bind("a", &who("alice", ""));
        assert_eq!(s.check("a", &who("alice", "")), Ownership::Unknown);
        let s = Sessions::new(3, Duration::from_secs(60));
        for id in ["a", "b", "c", "d", "e"] {
            s.bind(id, &who("alice", ""));
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.check("e", &who("alice", "")), Ownership::Owner);
        assert_eq!(s.check("a", &who("alice", "")), Ownership::Unknown);
    }
}
