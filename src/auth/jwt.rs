//! JWT verification (RFC 7519, JWS compact form RFC 7515 §7.1) in one pass: the header and the
//! claims are each decoded and parsed once (strictly: duplicate members are refused), the
//! issuer picks the keys, the configured algorithms — never the token — decide how to verify,
//! and only then are the claims trusted.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use super::cache::TokenCache;
use super::keys::{key_from_pem, key_generation, Jwks, KeyLoader, KeySet, KeySource, Lookup};
use super::{identity_from_claims, malformed, AuthError, Identity, MAX_TOKEN_BYTES};

/// Rules every token must satisfy, whoever issued it.
#[derive(Debug, Clone)]
pub struct JwtRules {
    /// The algorithm of the `JWT_SECRET` key.
    pub algorithm: Algorithm,
    pub require_exp: bool,
    pub leeway_seconds: u64,
    /// Accepted `iss` values for the `JWT_SECRET` key (empty: any).
    pub issuers: Vec<String>,
    /// Accepted `aud` values (RFC 8707 audience binding); empty: not checked.
    pub audiences: Vec<String>,
    /// When set, the header's `typ` must be this media type (RFC 8725 §3.11), e.g. `at+jwt`.
    pub typ: Option<String>,
    /// Verified tokens remembered until they expire (0: verify every time).
    pub cache_entries: usize,
}

impl Default for JwtRules {
    fn default() -> Self {
        JwtRules {
            algorithm: Algorithm::HS256,
            require_exp: true,
            leeway_seconds: 30,
            issuers: vec![],
            audiences: vec![],
            typ: None,
            cache_entries: 16_384,
        }
    }
}

/// One trusted issuer and how its tokens are verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// The exact `iss` its tokens carry.
    pub issuer: String,
    pub algorithms: Vec<Algorithm>,
    pub source: KeySource,
    /// Overrides the global audiences for this issuer when not empty.
    pub audiences: Vec<String>,
    pub refresh: std::time::Duration,
    pub refetch_min_interval: std::time::Duration,
}

enum Keys {
    Fixed(Arc<KeySet>),
    Jwks(Arc<Jwks>),
}

struct Provider {
    /// `None` for the `JWT_SECRET` key, which serves tokens no named issuer claims.
    issuer: Option<String>,
    algorithms: Vec<Algorithm>,
    keys: Keys,
    audiences: Vec<String>,
}

impl Provider {
    fn key_set(&self) -> Arc<KeySet> {
        match &self.keys {
            Keys::Fixed(set) => set.clone(),
            Keys::Jwks(jwks) => jwks.keys(),
        }
    }
}

/// Verifies tokens from every configured issuer. Built once per configuration version.
pub struct Verifier {
    providers: Vec<Provider>,
    rules: JwtRules,
    cache: Option<TokenCache>,
}

/// The parts of a token's header that matter.
struct Header<'a> {
    alg: &'a str,
    kid: Option<&'a str>,
}

impl Verifier {
    /// A verifier with one HMAC key (HS256/384/512) for every issuer `rules` accepts.
    pub fn hmac(secret: &[u8], rules: &JwtRules) -> Result<Self, String> {
        Self::new(Some(secret), rules, &[], None, &no_loader())
    }

    /// The `JWT_SECRET` key (if any) and the named issuers. A JWKS that cannot be loaded now
    /// keeps the key set `previous` had for the same source, or is an error.
    pub fn new(
        secret: Option<&[u8]>,
        rules: &JwtRules,
        providers: &[ProviderConfig],
        previous: Option<&Verifier>,
        loader: &Arc<dyn KeyLoader>,
    ) -> Result<Self, String> {
        let mut built = Vec::with_capacity(providers.len() + 1);
        for config in providers {
            built.push(open_provider(config, previous, loader)?);
        }
        if let Some(secret) = secret {
            built.push(secret_provider(secret, rules)?);
        }
        if built.is_empty() {
            return Err(
                "no verification key: set JWT_SECRET or configure jwt.providers".to_string(),
            );
        }
        Ok(Verifier {
            providers: built,
            rules: rules.clone(),
            cache: TokenCache::new(rules.cache_entries),
        })
    }

    /// Verifies `token` and maps its claims to an `Identity`.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        self.verify_shared(token).map(Arc::unwrap_or_clone)
    }

    /// `verify`, answering from the cache of verified tokens when it can.
    pub fn verify_shared(&self, token: &str) -> Result<Arc<Identity>, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(malformed("token too large"));
        }
        let now = jsonwebtoken::get_current_timestamp() as f64;
        let Some(cache) = &self.cache else {
            return self.verify_uncached(token, now).map(|(id, _)| Arc::new(id));
        };
        let key = TokenCache::key(token);
        // Read before verifying: a key set swapped in meanwhile must not bless this entry.
        let generation = key_generation();
        if let Some(identity) = cache.get(&key, now, generation) {
            return Ok(identity);
        }
        let (identity, valid_until) = self.verify_uncached(token, now)?;
        let identity = Arc::new(identity);
        cache.insert(key, identity.clone(), valid_until, generation, now);
        Ok(identity)
    }

    /// The whole verification; also returns until when the token stays valid (exp + leeway).
    fn verify_uncached(&self, token: &str, now: f64) -> Result<(Identity, Option<f64>), AuthError> {
        let mut parts = token.split('.');
        let (Some(h64), Some(c64), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("a JWT has three parts"));
        };
        let header_json = decode_json(h64, "header")?;
        let header = self.check_header(&header_json)?;
        let claims = match decode_json(c64, "claims")? {
            Value::Object(claims) => claims,
            _ => return Err(malformed("claims are not a JSON object")),
        };
        let provider = self.provider_for(&claims)?;
        let alg = accepted_algorithm(provider, header.alg)?;
        let keys = provider.key_set();
        let key = match keys.find(header.kid, alg) {
            Lookup::Found(key) => &key.key,
            Lookup::UnknownKid => return Err(AuthError::UnknownKey),
            Lookup::Ambiguous => {
                return Err(malformed(
                    "the token needs a kid: its issuer has several keys",
                ))
            }
            Lookup::NoKeyForAlgorithm => return Err(AuthError::UnknownKey),
        };
        check_signature(&token[..h64.len() + 1 + c64.len()], sig, key, alg)?;
        let valid_until = self.check_claims(provider, &claims, now)?;
        Ok((identity_from_claims(claims)?, valid_until))
    }

    /// A token failed with `UnknownKey`: refetch its issuer's JWKS (rate-limited, blocking).
    /// Returns whether new keys were loaded, so verifying again may succeed.
    pub fn refetch_keys_for(&self, token: &str) -> bool {
        let Some(claims) = token
            .split('.')
            .nth(1)
            .and_then(|c| decode_json(c, "claims").ok())
        else {
            return false;
        };
        let Value::Object(claims) = claims else {
            return false;
        };
        match self.provider_for(&claims) {
            Ok(Provider {
                keys: Keys::Jwks(jwks),
                ..
            }) => jwks.refetch_for_unknown_kid(),
            _ => false,
        }
    }

    /// Issuers tokens may come from, for the protected resource metadata (RFC 9728 §2).
    pub fn issuers(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .providers
            .iter()
            .filter_map(|p| p.issuer.clone())
            .collect();
        out.extend(self.rules.issuers.iter().cloned());
        out
    }

    /// Every JWKS this verifier reads, for the shell to refresh in the background.
    pub fn key_sets(&self) -> Vec<Arc<Jwks>> {
        self.providers
            .iter()
            .filter_map(|p| match &p.keys {
                Keys::Jwks(j) => Some(Arc::clone(j)),
                Keys::Fixed(_) => None,
            })
            .collect()
    }

    fn jwks_of(&self, source: &KeySource) -> Option<&Jwks> {
        self.providers.iter().find_map(|p| match &p.keys {
            Keys::Jwks(j) if j.source() == source => Some(j.as_ref()),
            _ => None,
        })
    }

    /// `alg` is read here only to refuse early with a precise message; the issuer's configured
    /// algorithms decide (RFC 8725 §3.1). `crit` extensions are not understood, so refused
    /// (RFC 7515 §4.1.11).
    fn check_header<'a>(&self, header: &'a Value) -> Result<Header<'a>, AuthError> {
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
        if alg.is_empty() || alg.eq_ignore_ascii_case("none") {
            return Err(AuthError::WrongAlgorithm {
                expected: self.algorithm_names(),
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
        if let Some(want) = &self.rules.typ {
            let typ = header.get("typ").and_then(Value::as_str).unwrap_or("");
            let typ = strip_prefix_ignore_case(typ, "application/");
            if !typ.eq_ignore_ascii_case(strip_prefix_ignore_case(want, "application/")) {
                return Err(malformed("wrong token type (typ)"));
            }
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(k)) => Some(k.as_str()),
            Some(_) => return Err(malformed("kid is not a string")),
        };
        Ok(Header { alg, kid })
    }

    fn algorithm_names(&self) -> String {
        let mut names: Vec<String> = self
            .providers
            .iter()
            .flat_map(|p| p.algorithms.iter().map(|a| format!("{a:?}")))
            .collect();
        names.sort();
        names.dedup();
        names.join(", ")
    }

    /// The named issuer whose `iss` the token carries; otherwise the `JWT_SECRET` key, if the
    /// token's issuer is one it accepts.
    fn provider_for(&self, claims: &Map<String, Value>) -> Result<&Provider, AuthError> {
        let iss = match claims.get("iss") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(AuthError::BadClaim("iss".into())),
        };
        if let Some(p) = self
            .providers
            .iter()
            .find(|p| p.issuer.is_some() && p.issuer.as_deref() == iss)
        {
            return Ok(p);
        }
        let default = self
            .providers
            .iter()
            .find(|p| p.issuer.is_none())
            .ok_or(AuthError::WrongIssuer)?;
        match iss {
            _ if self.rules.issuers.is_empty() => Ok(default),
            None => Err(AuthError::MissingClaim("iss".into())),
            Some(iss) if self.rules.issuers.iter().any(|i| i == iss) => Ok(default),
            Some(_) => Err(AuthError::WrongIssuer),
        }
    }

    /// `exp` and `nbf` (RFC 7519 §4.1.4–5, with leeway) and `aud` (§4.1.3). Returns the
    /// moment the token stops being valid.
    fn check_claims(
        &self,
        provider: &Provider,
        claims: &Map<String, Value>,
        now: f64,
    ) -> Result<Option<f64>, AuthError> {
        let leeway = self.rules.leeway_seconds as f64;
        let valid_until = match numeric_date(claims, "exp")? {
            None if self.rules.require_exp => return Err(AuthError::MissingClaim("exp".into())),
            Some(exp) if exp + leeway < now => return Err(AuthError::Expired),
            exp => exp.map(|e| e + leeway),
        };
        if numeric_date(claims, "nbf")?.is_some_and(|nbf| nbf > now + leeway) {
            return Err(AuthError::NotYetValid);
        }
        // A token issued in the future was not issued by a clock we trust (RFC 7519 §4.1.6).
        if numeric_date(claims, "iat")?.is_some_and(|iat| iat > now + leeway) {
            return Err(AuthError::BadClaim("iat".into()));
        }
        let audiences = if provider.audiences.is_empty() {
            &self.rules.audiences
        } else {
            &provider.audiences
        };
        check_audience(claims, audiences)?;
        Ok(valid_until)
    }
}

fn open_provider(
    config: &ProviderConfig,
    previous: Option<&Verifier>,
    loader: &Arc<dyn KeyLoader>,
) -> Result<Provider, String> {
    let context = |e: String| format!("issuer {}: {e}", config.issuer);
    if config.algorithms.is_empty() {
        return Err(context("names no algorithms".into()));
    }
    let keys = match &config.source {
        KeySource::Secret(secret) => {
            Keys::Fixed(Arc::new(fixed_key(DecodingKey::from_secret(secret))))
        }
        source @ KeySource::PemFile(path) => {
            let (pem, _) = loader
                .load(source)
                .map_err(|e| context(format!("cannot read {}: {e}", path.display())))?;
            let key =
                key_from_pem(&pem).map_err(|e| context(format!("{}: {e}", path.display())))?;
            Keys::Fixed(Arc::new(fixed_key(key)))
        }
        source @ (KeySource::JwksFile(_) | KeySource::JwksUrl(_)) => Keys::Jwks(
            Jwks::open(
                source.clone(),
                Arc::clone(loader),
                config.refresh,
                config.refetch_min_interval,
                previous.and_then(|v| v.jwks_of(source)),
            )
            .map_err(context)?,
        ),
    };
    Ok(Provider {
        issuer: Some(config.issuer.clone()),
        algorithms: config.algorithms.clone(),
        keys,
        audiences: config.audiences.clone(),
    })
}

fn secret_provider(secret: &[u8], rules: &JwtRules) -> Result<Provider, String> {
    if !matches!(
        rules.algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        return Err(format!(
            "algorithm {:?} needs a public key (jwt.providers); JWT_SECRET keys HS256/HS384/HS512",
            rules.algorithm
        ));
    }
    if secret.is_empty() {
        return Err("JWT_SECRET is empty".to_string());
    }
    Ok(Provider {
        issuer: None,
        algorithms: vec![rules.algorithm],
        keys: Keys::Fixed(Arc::new(fixed_key(DecodingKey::from_secret(secret)))),
        audiences: vec![],
    })
}

fn fixed_key(key: DecodingKey) -> KeySet {
    KeySet::new(vec![super::keys::Key {
        kid: None,
        alg: None,
        key,
    }])
}

fn accepted_algorithm(provider: &Provider, alg: &str) -> Result<Algorithm, AuthError> {
    provider
        .algorithms
        .iter()
        .copied()
        .find(|a| format!("{a:?}") == alg)
        .ok_or_else(|| AuthError::WrongAlgorithm {
            expected: provider
                .algorithms
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            got: alg.chars().take(16).collect(),
        })
}

fn check_signature(
    signing_input: &str,
    signature: &str,
    key: &DecodingKey,
    alg: Algorithm,
) -> Result<(), AuthError> {
    match jsonwebtoken::crypto::verify(signature, signing_input.as_bytes(), key, alg) {
        Ok(true) => Ok(()),
        Ok(false) => Err(AuthError::BadSignature),
        Err(_) => Err(malformed("signature is not base64url")),
    }
}

fn decode_json(part: &str, what: &str) -> Result<Value, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed(format!("{what} is not base64url")))?;
    crate::strict_json::from_slice(&bytes).map_err(|e| {
        if e.to_string().contains("duplicate key") {
            malformed(if what == "claims" {
                "duplicate claim"
            } else {
                "duplicate header parameter"
            })
        } else {
            AuthError::Malformed(format!("{what} is not JSON"))
        }
    })
}

/// A NumericDate (RFC 7519 §2): seconds, possibly fractional.
/// 9999-12-31T23:59:59Z.
const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        // NumericDate (RFC 7519 §2): seconds since the epoch; past year 9999 it is no date.
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|v| v.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(v))
            .map(Some)
            .ok_or_else(|| AuthError::BadClaim(name.into())),
        Some(_) => Err(AuthError::BadClaim(name.into())),
    }
}

fn check_audience(claims: &Map<String, Value>, accepted: &[String]) -> Result<(), AuthError> {
    if accepted.is_empty() {
        return Ok(());
    }
    let named = |aud: &str| accepted.iter().any(|a| a == aud);
    match claims.get("aud") {
        None | Some(Value::Null) => Err(AuthError::MissingClaim("aud".into())),
        Some(Value::String(aud)) if named(aud) => Ok(()),
        Some(Value::Array(auds)) => {
            if auds.iter().any(|a| !a.is_string()) {
                return Err(AuthError::BadClaim("aud".into()));
            }
            if auds.iter().filter_map(Value::as_str).any(named) {
                Ok(())
            } else {
                Err(AuthError::WrongAudience)
            }
        }
        Some(Value::String(_)) => Err(AuthError::WrongAudience),
        Some(_) => Err(AuthError::BadClaim("aud".into())),
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> &'a str {
    match s.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(prefix) => &s[prefix.len()..],
        _ => s,
    }
}

/// For verifiers that need no key material from outside (an HMAC secret alone).
fn no_loader() -> Arc<dyn KeyLoader> {
    struct NoLoader;
    impl KeyLoader for NoLoader {
        fn load(&self, source: &KeySource) -> Result<(Vec<u8>, Option<Duration>), String> {
            Err(format!("{source:?}: no key loader"))
        }
    }
    Arc::new(NoLoader)
}
