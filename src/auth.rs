//! Authentication: the Bearer token (RFC 6750 §2.1), its JWT verification and the `Identity`
//! it yields. Keys and algorithms are pinned per issuer by configuration; the token's header
//! never chooses them (`jwt.rs` verifies, `keys.rs` holds secrets, PEM keys and JWKS).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

mod cache;
mod jwt;
mod keys;

pub use jwt::{JwtRules, ProviderConfig, Verifier};
pub use keys::{max_age, Jwks, KeyLoader, KeySource, MAX_JWKS_BYTES};

/// Tokens longer than this are refused before any decoding.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a request is not authenticated. Messages are safe to return to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("Missing Bearer token")]
    Missing,
    #[error("Invalid token: {0}")]
    Malformed(String),
    #[error("Invalid token: signature does not match")]
    BadSignature,
    #[error("Invalid token: expired")]
    Expired,
    #[error("Invalid token: not yet valid (nbf)")]
    NotYetValid,
    #[error("Invalid token: wrong issuer")]
    WrongIssuer,
    #[error("Invalid token: wrong audience")]
    WrongAudience,
    #[error("Invalid token: algorithm {got} is not accepted (expected {expected})")]
    WrongAlgorithm { expected: String, got: String },
    #[error("Invalid token: missing required claim '{0}'")]
    MissingClaim(String),
    #[error("Invalid token: claim '{0}' has the wrong type")]
    BadClaim(String),
    #[error("Invalid token: no user id (claim 'user_id' or 'sub')")]
    NoUserId,
    #[error("Invalid token: no key of its issuer verifies it (unknown kid)")]
    UnknownKey,
}

impl AuthError {
    /// A bounded label for metrics and audit.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Malformed(_) => "malformed",
            AuthError::BadSignature => "bad_signature",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::WrongIssuer => "wrong_issuer",
            AuthError::WrongAudience => "wrong_audience",
            AuthError::WrongAlgorithm { .. } => "wrong_algorithm",
            AuthError::UnknownKey => "unknown_key",
            AuthError::MissingClaim(_) | AuthError::BadClaim(_) | AuthError::NoUserId => {
                "bad_claims"
            }
        }
    }
}

/// Who is calling, as the verified token says.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub user_id: String,
    pub username: Option<String>,
    /// Sorted and de-duplicated union of `role` and `roles`.
    pub roles: Vec<String>,
    /// Every claim, for policy conditions such as `patient_id`.
    pub claims: Map<String, Value>,
    /// The client certificate the connection was made with, verified by the listener's TLS
    /// (mutual TLS); `None` on plain HTTP or without one.
    pub certificate: Option<Certificate>,
}

/// A verified client certificate, as the policy and the audit trail read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The subject, RFC 4514 form (`CN=webapp, O=Hospital`).
    pub subject: String,
    /// Its DNS, URI and e-mail subject alternative names.
    pub sans: Vec<String>,
}

impl Identity {
    /// A claim's value when it is a string (conditions compare strings only).
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    pub fn roles_label(&self) -> String {
        self.roles.join(",")
    }
}

/// Extracts the token from the request's `Authorization` header values (all of them).
pub fn bearer_token<'a>(values: &[&'a [u8]]) -> Result<&'a str, AuthError> {
    let value = match values {
        [] => return Err(AuthError::Missing),
        [one] => *one,
        _ => return Err(malformed("more than one Authorization header")),
    };
    let value = std::str::from_utf8(value).map_err(|_| malformed("Authorization is not ASCII"))?;
    let value = value.trim();
    if value.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| malformed("Authorization must be 'Bearer <token>'"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(malformed("Authorization scheme must be Bearer"));
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(malformed("token too large"));
    }
    if !token.bytes().all(is_token68_byte) {
        return Err(malformed("token has characters outside RFC 6750 token68"));
    }
    Ok(token)
}

fn is_token68_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

pub(crate) fn malformed(why: &str) -> AuthError {
    AuthError::Malformed(why.to_string())
}

/// Maps verified claims to an `Identity`: user id from `user_id` (string or integer), else `sub`.
pub fn identity_from_claims(claims: Map<String, Value>) -> Result<Identity, AuthError> {
    let user_id = match (claims.get("user_id"), claims.get("sub")) {
        (Some(Value::String(s)), _) if !s.is_empty() => s.clone(),
        (Some(Value::Number(n)), _) if n.is_u64() || n.is_i64() => n.to_string(),
        (Some(Value::Null) | None, Some(Value::String(s))) if !s.is_empty() => s.clone(),
        (Some(Value::Null) | None, None | Some(Value::Null)) => return Err(AuthError::NoUserId),
        (Some(_), _) => return Err(AuthError::BadClaim("user_id".into())),
        (_, Some(_)) => return Err(AuthError::BadClaim("sub".into())),
    };
    let username = match claims.get("username") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(AuthError::BadClaim("username".into())),
    };
    let roles = roles_from_claims(&claims)?;
    Ok(Identity {
        user_id,
        username,
        roles,
        claims,
        certificate: None,
    })
}

fn roles_from_claims(claims: &Map<String, Value>) -> Result<Vec<String>, AuthError> {
    let mut roles = BTreeSet::new();
    match claims.get("role") {
        None | Some(Value::Null) => {}
        Some(Value::String(r)) => {
            roles.insert(r.clone());
        }
        Some(_) => return Err(AuthError::BadClaim("role".into())),
    }
    match claims.get("roles") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let r = item.as_str().ok_or(AuthError::BadClaim("roles".into()))?;
                roles.insert(r.to_string());
            }
        }
        Some(_) => return Err(AuthError::BadClaim("roles".into())),
    }
    roles.retain(|r| !r.is_empty());
    Ok(roles.into_iter().collect())
}

#[cfg(test)]
mod tests;
