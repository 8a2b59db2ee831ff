//! Checks and conversions from what was written to what runs: addresses, the upstream URL,
//! algorithms, issuers and their key sources.

use std::net::ToSocketAddrs;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use jsonwebtoken::{Algorithm, AlgorithmFamily};

use super::file::{ClientAuth, StateFile, TlsFile, UpstreamTlsFile};
use super::{
    ConfigError, ConfigFile, Env, ListenerTls, ProviderFile, StateSettings, Upstream, UpstreamTls,
};
use crate::auth::{KeySource, ProviderConfig};

pub(super) fn metrics_listen(env: &Env, file: &ConfigFile) -> Result<Option<String>, ConfigError> {
    let value = pick(&env.metrics_listen, &file.metrics_listen, "127.0.0.1:9464");
    if value == "off" {
        return Ok(None);
    }
    check_host_port(&value, "GATEKEEPER_METRICS_LISTEN / metrics_listen")?;
    Ok(Some(value))
}

pub(super) fn read_file(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    serde_yaml_ng::from_str(&text).map_err(|e| ConfigError::Yaml {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

pub(super) fn pick(env: &Option<String>, file: &Option<String>, default: &str) -> String {
    env.clone()
        .or_else(|| file.clone())
        .unwrap_or_else(|| default.to_string())
}

/// Maps `JWT_ALG` to an algorithm. Only the HMAC family is keyed by `JWT_SECRET`.
pub fn parse_algorithm(name: &str) -> Result<Algorithm, ConfigError> {
    match name.trim().to_ascii_uppercase().as_str() {
        "HS256" => Ok(Algorithm::HS256),
        "HS384" => Ok(Algorithm::HS384),
        "HS512" => Ok(Algorithm::HS512),
        other => Err(ConfigError::Invalid(format!(
            "JWT_ALG '{other}' is not supported: use HS256, HS384 or HS512"
        ))),
    }
}

pub(super) fn provider_config(p: &ProviderFile, env: &Env) -> Result<ProviderConfig, ConfigError> {
    let invalid = |why: String| ConfigError::Invalid(format!("jwt.providers[{}]: {why}", p.issuer));
    if p.issuer.is_empty() {
        return Err(ConfigError::Invalid(
            "jwt.providers: issuer must not be empty".into(),
        ));
    }
    let algorithms = p
        .algorithms
        .iter()
        .map(|a| {
            Algorithm::from_str(a.trim()).map_err(|_| invalid(format!("unknown algorithm '{a}'")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let source = match (&p.jwks_url, &p.jwks_file, &p.public_key_pem, &p.secret_env) {
        (Some(url), None, None, None)
            if url.starts_with("https://") || url.starts_with("http://") =>
        {
            KeySource::JwksUrl(url.clone())
        }
        (Some(url), None, None, None) => {
            return Err(invalid(format!("jwks_url '{url}' must be http(s)")))
        }
        (None, Some(path), None, None) => KeySource::JwksFile(path.clone()),
        (None, None, Some(path), None) => KeySource::PemFile(path.clone()),
        (None, None, None, Some(var)) => KeySource::Secret(
            env.lookup(var)
                .ok_or_else(|| invalid(format!("environment variable {var} is not set")))?
                .into_bytes(),
        ),
        _ => {
            return Err(invalid(
                "needs exactly one of jwks_url, jwks_file, public_key_pem, secret_env".into(),
            ))
        }
    };
    let symmetric = matches!(source, KeySource::Secret(_));
    if algorithms.is_empty()
        || algorithms
            .iter()
            .any(|a| (a.family() == AlgorithmFamily::Hmac) != symmetric)
    {
        return Err(invalid(
            "algorithms must be HS* with secret_env and public-key algorithms otherwise".into(),
        ));
    }
    Ok(ProviderConfig {
        issuer: p.issuer.clone(),
        algorithms,
        source,
        audiences: p.audiences.clone(),
        refresh: Duration::from_secs(p.refresh_seconds.max(1)),
        refetch_min_interval: Duration::from_secs(p.refetch_min_interval_seconds),
    })
}

pub(super) fn check_host_port(value: &str, what: &str) -> Result<(), ConfigError> {
    match value.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(ConfigError::Invalid(format!(
            "{what} must be host:port, got '{value}'"
        ))),
    }
}

/// `GATEKEEPER_UPSTREAM` is a base URL: `http://host:port` or `https://host:port`, no path.
pub(super) fn parse_upstream(url: &str) -> Result<Upstream, ConfigError> {
    let invalid = |why: &str| {
        ConfigError::Invalid(format!(
            "GATEKEEPER_UPSTREAM '{url}' {why} (expected http://host:port or https://host:port)"
        ))
    };
    let (rest, tls, default_port) =
        match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
            (Some(rest), _) => (rest, false, 80),
            (_, Some(rest)) => (rest, true, 443),
            _ => return Err(invalid("must start with http:// or https://")),
        };
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return Err(invalid("must not carry a path, query or credentials"));
    }
    let port = authority
        .rsplit_once(':')
        .filter(|(_, p)| p.parse::<u16>().is_ok());
    let (host, with_port) = match port {
        Some((host, _)) => (host, authority.to_string()),
        None => (authority, format!("{authority}:{default_port}")),
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| invalid(&format!("does not resolve: {e}")))?
        .next()
        .ok_or_else(|| invalid("resolves to no address"))?;
    Ok(Upstream {
        addr,
        authority: authority.to_string(),
        tls: tls.then(|| UpstreamTls {
            server_name: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            ca_file: None,
            client_cert: None,
            insecure_skip_verify: false,
        }),
    })
}

/// `upstream_tls` applies to an `https://` upstream only; its files must be readable now.
pub(super) fn upstream_tls(
    mut upstream: Upstream,
    file: UpstreamTlsFile,
) -> Result<Upstream, ConfigError> {
    let configured = file.ca_file.is_some()
        || file.cert_file.is_some()
        || file.key_file.is_some()
        || file.server_name.is_some()
        || file.insecure_skip_verify;
    let Some(tls) = upstream.tls.as_mut() else {
        if configured {
            return Err(ConfigError::Invalid(
                "upstream_tls is set but the upstream is http://; use https:// or remove it".into(),
            ));
        }
        return Ok(upstream);
    };
    for path in [&file.ca_file, &file.cert_file, &file.key_file]
        .into_iter()
        .flatten()
    {
        readable(path, "upstream_tls")?;
    }
    tls.client_cert = match (file.cert_file, file.key_file) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => {
            return Err(ConfigError::Invalid(
                "upstream_tls.cert_file and upstream_tls.key_file go together".into(),
            ))
        }
    };
    tls.ca_file = file.ca_file;
    tls.insecure_skip_verify = file.insecure_skip_verify;
    if let Some(name) = file.server_name.filter(|n| !n.is_empty()) {
        tls.server_name = name;
    }
    Ok(upstream)
}

/// The listener's TLS: both files readable; mutual TLS only with a CA to verify against.
pub(super) fn listener_tls(file: Option<TlsFile>) -> Result<Option<ListenerTls>, ConfigError> {
    let Some(file) = file else {
        return Ok(None);
    };
    readable(&file.cert_file, "tls.cert_file")?;
    readable(&file.key_file, "tls.key_file")?;
    if let Some(ca) = &file.client_ca_file {
        readable(ca, "tls.client_ca_file")?;
    }
    if file.client_auth.is_some() && file.client_ca_file.is_none() {
        return Err(ConfigError::Invalid(
            "tls.client_auth needs tls.client_ca_file (the CA client certificates chain to)".into(),
        ));
    }
    Ok(Some(ListenerTls {
        client_cert_required: file.client_auth != Some(ClientAuth::Optional),
        cert_file: file.cert_file,
        key_file: file.key_file,
        client_ca_file: file.client_ca_file,
        expiry_warning: Duration::from_secs(file.expiry_warning_days.saturating_mul(86_400)),
    }))
}

/// `state.store`: `memory`, or a Redis URL (the environment's `GATEKEEPER_STATE_STORE` wins).
pub(super) fn state(file: &StateFile, env: &Env) -> Result<StateSettings, ConfigError> {
    let store = env.state_store.as_deref().unwrap_or(&file.store).trim();
    let redis_url = match store {
        "" | "memory" => None,
        url if url.starts_with("redis://") || url.starts_with("rediss://") => Some(url.to_string()),
        other => {
            return Err(ConfigError::Invalid(format!(
                "state.store '{}' must be memory, redis://… or rediss://…",
                other.split('@').next_back().unwrap_or("")
            )))
        }
    };
    Ok(StateSettings {
        redis_url,
        limits_when_unavailable: file.on_unavailable,
        timeout: Duration::from_millis(file.timeout_ms.max(1)),
    })
}

fn readable(path: &Path, what: &str) -> Result<(), ConfigError> {
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|e| ConfigError::Invalid(format!("{what}: {}: {e}", path.display())))
}

/// The `Host` names accepted: as configured; else loopback's own names for a loopback
/// listener (what a DNS-rebinding page cannot send); else the configured resource's host.
pub(super) fn allowed_hosts(
    configured: &[String],
    listen: &str,
    resource: Option<&str>,
) -> Vec<String> {
    if !configured.is_empty() {
        return configured.iter().map(|h| h.to_ascii_lowercase()).collect();
    }
    let host = listen.rsplit_once(':').map_or(listen, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        return vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()];
    }
    resource
        .and_then(|r| r.split_once("://"))
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .filter(|authority| !authority.is_empty())
        .map(|authority| vec![authority.to_ascii_lowercase()])
        .unwrap_or_default()
}
