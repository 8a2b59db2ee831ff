//! Rate limits in the policy (OWASP API4:2023): which calls a budget counts, whose budget it
//! is (each user's, a role's, or everyone's), and the GCRA arithmetic that spends it — pure,
//! the clock and the buckets' store are the shell's.

use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::MethodPattern;
use crate::auth::Identity;
use crate::jsonrpc::Call;

/// One `rate_limits` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    /// Names the limit in metrics, audit and `policy explain`; default `limit-N`.
    #[serde(default)]
    pub name: Option<String>,
    /// The roles it applies to; empty: every caller.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The tools it counts; with `methods` empty too, it counts every call.
    #[serde(default)]
    pub tools: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    /// `N/s`, `N/min`, `N/h` or `N/day`: one budget per user…
    #[serde(default)]
    pub per_user: Option<String>,
    /// …one per role, shared by everyone holding it…
    #[serde(default)]
    pub per_role: Option<String>,
    /// …or one for all callers together.
    #[serde(default)]
    pub total: Option<String>,
    /// How many calls may come at once (default 1: evenly spaced).
    #[serde(default)]
    pub burst: Option<u32>,
}

/// Whose budget a limit spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    User,
    Role,
    All,
}

/// A compiled limit.
#[derive(Debug, Clone)]
pub struct RateLimit {
    pub name: String,
    roles: Vec<String>,
    tools: Vec<String>,
    methods: Vec<MethodPattern>,
    pub scope: Scope,
    /// The steady pace: one call per `interval`.
    pub interval: Duration,
    pub burst: u32,
}

/// The bucket one call spends from: which limit, and under which key (a digest, so no user
/// id is written to a shared store).
#[derive(Debug, Clone)]
pub struct Bucket<'p> {
    pub limit: &'p RateLimit,
    pub key: String,
}

pub(super) fn compile(specs: &[LimitSpec]) -> Result<Vec<RateLimit>, String> {
    let mut limits: Vec<RateLimit> = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| format!("limit-{}", i + 1));
        let at = |m: String| format!("rate_limits[{i}] ({name}): {m}");
        if limits.iter().any(|l| l.name == name) {
            return Err(at("the name is used twice".into()));
        }
        let (scope, rate) = match (&spec.per_user, &spec.per_role, &spec.total) {
            (Some(r), None, None) => (Scope::User, r),
            (None, Some(r), None) => (Scope::Role, r),
            (None, None, Some(r)) => (Scope::All, r),
            _ => return Err(at("give exactly one of per_user, per_role, total".into())),
        };
        let burst = spec.burst.unwrap_or(1);
        if burst == 0 {
            return Err(at("burst must be at least 1".into()));
        }
        let methods = spec
            .methods
            .iter()
            .map(|m| MethodPattern::parse(m))
            .collect::<Result<_, _>>()
            .map_err(at)?;
        limits.push(RateLimit {
            interval: parse_rate(rate).map_err(at)?,
            name,
            roles: spec.roles.clone(),
            tools: spec.tools.clone(),
            methods,
            scope,
            burst,
        });
    }
    Ok(limits)
}

/// `30/min` → one call every 2 s.
fn parse_rate(rate: &str) -> Result<Duration, String> {
    let bad = || format!("rate '{rate}' must be N/s, N/min, N/h or N/day with N ≥ 1");
    let (count, per) = rate.split_once('/').ok_or_else(bad)?;
    let count: u32 = count.trim().parse().map_err(|_| bad())?;
    let period = match per.trim() {
        "s" | "sec" | "second" => 1,
        "min" | "minute" => 60,
        "h" | "hour" => 3_600,
        "d" | "day" => 86_400,
        _ => return Err(bad()),
    };
    if count == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(period) / count)
}

impl RateLimit {
    /// Whether this limit counts `call` by `who`, and in which bucket.
    pub fn bucket(&self, who: &Identity, call: &Call) -> Option<Bucket<'_>> {
        let role = if self.roles.is_empty() {
            who.roles.first().map(String::as_str)
        } else {
            Some(who.roles.iter().find(|r| self.roles.contains(r))?.as_str())
        };
        let counted = (self.tools.is_empty() && self.methods.is_empty())
            || call
                .tool()
                .is_some_and(|t| self.tools.iter().any(|x| x == t))
            || self.methods.iter().any(|m| m.matches(&call.method));
        if !counted {
            return None;
        }
        let owner = match self.scope {
            Scope::User => format!("u\0{}\0{}", who.claim_str("iss").unwrap_or(""), who.user_id),
            Scope::Role => format!("r\0{}", role.unwrap_or("")),
            Scope::All => "a".to_string(),
        };
        // The limit's terms are part of the key: a reload that changes them starts afresh,
        // rather than judging by a pace written for the old terms.
        let terms = format!("{}\0{:?}\0{}", self.name, self.interval, self.burst);
        let digest = Sha256::digest(format!("{terms}\0{owner}").as_bytes());
        let key = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        Some(Bucket { limit: self, key })
    }

    /// How far ahead a bucket may run before a call is refused (GCRA's tolerance).
    pub fn tolerance(&self) -> Duration {
        self.interval * (self.burst - 1)
    }
}

/// GCRA (the generic cell rate algorithm, ITU-T I.371): a bucket is its theoretical arrival
/// time `tat`. A call at `now` is allowed when `tat - tolerance <= now`, and moves `tat` one
/// interval on; else it is refused, with how long until it would pass. Times in microseconds.
pub fn gcra(tat: Option<u64>, now: u64, interval: u64, tolerance: u64) -> Result<u64, u64> {
    let tat = tat.unwrap_or(now).max(now);
    let earliest = tat.saturating_sub(tolerance);
    if now < earliest {
        Err(earliest - now)
    } else {
        Ok(tat + interval.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_steady_pace() {
        let (interval, tolerance) = (2_000, 2_000 * 9); // 30/min in ms, burst 10 (any unit)
        let mut tat = None;
        for i in 0..10 {
            tat = Some(gcra(tat, 0, interval, tolerance).unwrap_or_else(|_| panic!("call {i}")));
        }
        assert_eq!(gcra(tat, 0, interval, tolerance), Err(2_000));
        assert!(gcra(tat, 1_999, interval, tolerance).is_err());
        assert!(gcra(tat, 2_000, interval, tolerance).is_ok());
        // A bucket left alone refills: a call much later starts from now.
        assert_eq!(gcra(Some(5), 100_000, interval, 0), Ok(102_000));
    }

    #[test]
    fn rates_are_written_per_period() {
        assert_eq!(parse_rate("30/min"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_rate("10/s"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_rate("24/day"), Ok(Duration::from_secs(3_600)));
        for bad in ["0/min", "x/min", "10", "10/week", "-1/s"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
