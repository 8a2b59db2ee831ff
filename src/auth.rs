//! Authentication: the Bearer token (RFC 6750 §2.1), its JWT verification and the `Identity`
//! it yields. The algorithm is pinned by configuration; the token's header never chooses it.

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::strict_json::StrictValue;

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

fn malformed(why: &str) -> AuthError {
    AuthError::Malformed(why.to_string())
}

/// What a token must satisfy. Built once from configuration.
#[derive(Debug, Clone)]
pub struct JwtRules {
    pub algorithm: Algorithm,
    pub require_exp: bool,
    pub leeway_seconds: u64,
    pub issuers: Vec<String>,
    pub audiences: Vec<String>,
}

/// Verifies JWTs against one key and one pinned algorithm.
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
    algorithm: Algorithm,
}

impl Verifier {
    /// An HMAC (HS256/384/512) verifier with a shared secret.
    pub fn hmac(secret: &[u8], rules: &JwtRules) -> Result<Self, String> {
        if !matches!(
            rules.algorithm,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            return Err(format!(
                "algorithm {:?} needs a public key; only HS256/HS384/HS512 are supported with JWT_SECRET",
                rules.algorithm
            ));
        }
        if secret.is_empty() {
            return Err("JWT_SECRET is empty".to_string());
        }
        Ok(Verifier {
            key: DecodingKey::from_secret(secret),
            validation: validation_for(rules),
            algorithm: rules.algorithm,
        })
    }

    /// Verifies `token` and maps its claims to an `Identity`.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(malformed("token too large"));
        }
        self.check_header(token)?;
        let data = jsonwebtoken::decode::<StrictValue>(token, &self.key, &self.validation)
            .map_err(map_jwt_error)?;
        match data.claims.0 {
            Value::Object(claims) => identity_from_claims(claims),
            _ => Err(malformed("claims are not a JSON object")),
        }
    }

    /// Rejects a header that names another algorithm (or `none`) with a precise message.
    fn check_header(&self, token: &str) -> Result<(), AuthError> {
        let header = token.split('.').next().unwrap_or_default();
        let bytes = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| malformed("header is not base64url"))?;
        let header: Value = crate::strict_json::from_slice(&bytes)
            .map_err(|_| malformed("header is not a JSON object"))?;
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
        let expected = format!("{:?}", self.algorithm);
        if alg != expected {
            return Err(AuthError::WrongAlgorithm {
                expected,
                got: if alg.is_empty() {
                    "(none given)".into()
                } else {
                    alg.chars().take(16).collect()
                },
            });
        }
        if header.get("crit").is_some() {
            return Err(malformed("critical header extensions are not supported"));
        }
        Ok(())
    }
}

fn validation_for(rules: &JwtRules) -> Validation {
    let mut v = Validation::new(rules.algorithm);
    let mut required: BTreeSet<&str> = BTreeSet::new();
    if rules.require_exp {
        required.insert("exp");
    }
    v.validate_exp = true;
    v.validate_nbf = true;
    v.leeway = rules.leeway_seconds;
    if !rules.issuers.is_empty() {
        v.set_issuer(&rules.issuers);
        required.insert("iss");
    }
    v.validate_aud = !rules.audiences.is_empty();
    if v.validate_aud {
        v.set_audience(&rules.audiences);
        required.insert("aud");
    }
    v.set_required_spec_claims(&required.into_iter().collect::<Vec<_>>());
    v
}

fn map_jwt_error(e: jsonwebtoken::errors::Error) -> AuthError {
    match e.kind() {
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::MissingRequiredClaim(c) => AuthError::MissingClaim(c.clone()),
        ErrorKind::InvalidClaimFormat(c) => AuthError::BadClaim(c.clone()),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            malformed("algorithm not accepted")
        }
        ErrorKind::Json(e) if e.to_string().contains("duplicate key") => {
            malformed("duplicate claim")
        }
        _ => malformed("not a well-formed JWT"),
    }
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
