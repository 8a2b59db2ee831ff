//! The token client: the Rust twin of the web app's handler. It mints a short-lived JWT with
//! `JWT_SECRET`, sends one JSON-RPC call to `MCP_SERVER_URL` and reports what came back.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Map, Value};

/// The claims the web app puts in its tokens, plus any extra ones (e.g. `patient_id`).
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub user_id: String,
    pub roles: Vec<String>,
    pub username: Option<String>,
    pub ttl_seconds: i64,
    pub extra: Vec<(String, String)>,
}

/// Mints a token in the web app's format: `{"user_id","role","username","exp"}` (plus `iat`).
/// Several roles go in `roles`.
pub fn mint(secret: &[u8], algorithm: Algorithm, spec: &TokenSpec) -> anyhow::Result<String> {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    let mut claims = Map::new();
    claims.insert("user_id".into(), json!(spec.user_id));
    match spec.roles.as_slice() {
        [] => {}
        [one] => {
            claims.insert("role".into(), json!(one));
        }
        many => {
            claims.insert("roles".into(), json!(many));
        }
    }
    if let Some(u) = &spec.username {
        claims.insert("username".into(), json!(u));
    }
    for (k, v) in &spec.extra {
        claims.insert(k.clone(), json!(v));
    }
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + spec.ttl_seconds));
    let token = jsonwebtoken::encode(
        &Header::new(algorithm),
        &claims,
        &EncodingKey::from_secret(secret),
    )?;
    Ok(token)
}

/// Builds the JSON-RPC body: MCP methods as they are, tool names as `tools/call`
/// (or in the legacy method-is-the-tool form).
pub fn request_body(target: &str, arguments: Map<String, Value>, legacy: bool, id: u64) -> Value {
    let is_method = target.contains('/') || target == "initialize" || target == "ping";
    match (is_method, legacy) {
        (true, _) if arguments.is_empty() && target != "initialize" => {
            json!({"jsonrpc":"2.0","id":id,"method":target})
        }
        (true, _) if target == "initialize" => json!({"jsonrpc":"2.0","id":id,"method":target,
            "params":{"protocolVersion":"2025-06-18","capabilities":{},
                      "clientInfo":{"name":"mcp-gatekeeper-call","version":env!("CARGO_PKG_VERSION")}}}),
        (true, _) => json!({"jsonrpc":"2.0","id":id,"method":target,"params":arguments}),
        (false, true) => {
            json!({"jsonrpc":"2.0","id":id,"method":target,"params":{"arguments":arguments}})
        }
        (false, false) => json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
            "params":{"name":target,"arguments":arguments}}),
    }
}

/// What a call returned, or why it failed, in one line a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("MCP server returned {status}: {message}")]
    Status { status: u16, message: String },
    #[error("MCP server returned a JSON-RPC error {code}: {message}")]
    Rpc { code: i64, message: String },
    #[error("cannot reach MCP server at {url}: {reason}")]
    Unreachable { url: String, reason: String },
}

/// How the client speaks HTTPS: the CA to trust instead of the system roots, and a client
/// certificate for a listener that asks for one (mutual TLS).
#[derive(Debug, Default, Clone)]
pub struct Tls {
    pub ca_file: Option<std::path::PathBuf>,
    pub cert: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

impl Tls {
    fn config(&self) -> Result<ureq::tls::TlsConfig, CallError> {
        use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
        let bad = |what: &std::path::Path, e: &dyn std::fmt::Display| CallError::Unreachable {
            url: what.display().to_string(),
            reason: e.to_string(),
        };
        let read = |p: &std::path::Path| std::fs::read(p).map_err(|e| bad(p, &e));
        let mut config = TlsConfig::builder();
        if let Some(ca) = &self.ca_file {
            let pem = read(ca)?;
            let certs = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect::<Vec<_>>();
            config = config.root_certs(RootCerts::new_with_certs(&certs));
        }
        if let Some((cert, key)) = &self.cert {
            let chain = ureq::tls::parse_pem(&read(cert)?)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect::<Vec<Certificate<'static>>>();
            let key = PrivateKey::from_pem(&read(key)?).map_err(|e| bad(key, &e))?;
            config = config.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
        }
        Ok(config.build())
    }
}

/// Sends `body` (with the Bearer token, when given) and returns the response body on success.
pub fn send(url: &str, token: Option<&str>, body: &Value) -> Result<String, CallError> {
    send_with(url, token, body, &Tls::default())
}

/// `send`, speaking HTTPS as `tls` says.
pub fn send_with(
    url: &str,
    token: Option<&str>,
    body: &Value,
    tls: &Tls,
) -> Result<String, CallError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .tls_config(tls.config()?)
        .build()
        .into();
    let mut request = agent.post(url);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let response = request
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .send(body.to_string())
        .map_err(|e| CallError::Unreachable {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
    let status = response.status().as_u16();
    let text = response
        .into_body()
        .read_to_string()
        .map_err(|e| CallError::Unreachable {
            url: url.to_string(),
            reason: format!("reading the response: {e}"),
        })?;
    if !(200..300).contains(&status) {
        let message = rpc_error(&text).map_or_else(|| first_line(&text), |(_, m)| m);
        return Err(CallError::Status { status, message });
    }
    if let Some((code, message)) = rpc_error(&text) {
        return Err(CallError::Rpc { code, message });
    }
    Ok(text)
}

/// The JSON-RPC error in a JSON body or in the first SSE event's data.
fn rpc_error(text: &str) -> Option<(i64, String)> {
    let json_text = text
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .unwrap_or(text);
    let v: Value = serde_json::from_str(json_text.trim()).ok()?;
    let e = v.get("error")?;
    Some((
        e.get("code")?.as_i64()?,
        e.get("message")?.as_str()?.to_string(),
    ))
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        "(empty body)".into()
    } else {
        line.chars().take(200).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_become_tools_call_and_legacy_keeps_the_method() {
        let mut args = Map::new();
        args.insert("patient_id".into(), json!("NUGWI"));
        let mcp = request_body("get_medical_records", args.clone(), false, 1);
        assert_eq!(mcp["method"], "tools/call");
        assert_eq!(mcp["params"]["name"], "get_medical_records");
        let legacy = request_body("get_medical_records", args, true, 1);
        assert_eq!(legacy["method"], "get_medical_records");
        assert_eq!(legacy["params"]["arguments"]["patient_id"], "NUGWI");
        assert_eq!(
            request_body("tools/list", Map::new(), false, 2)["method"],
            "tools/list"
        );
    }

    #[test]
    fn minted_tokens_verify() {
        let spec = TokenSpec {
            user_id: "1".into(),
            roles: vec!["Doctor".into()],
            username: Some("yenji100".into()),
            ttl_seconds: 60,
            extra: vec![("patient_id".into(), "NUGWI".into())],
        };
        let secret = b"0123456789abcdef0123456789abcdef";
        let token = mint(secret, Algorithm::HS256, &spec).unwrap();
        let rules = crate::auth::JwtRules {
            leeway_seconds: 0,
            cache_entries: 0,
            ..crate::auth::JwtRules::default()
        };
        let id = crate::auth::Verifier::hmac(secret, &rules)
            .unwrap()
            .verify(&token)
            .unwrap();
        assert_eq!(id.roles, vec!["Doctor"]);
        assert_eq!(id.claim_str("patient_id"), Some("NUGWI"));
    }

    #[test]
    fn errors_are_read_from_json_and_sse() {
        let body = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Invalid token: expired"}}"#;
        assert_eq!(rpc_error(body).unwrap().1, "Invalid token: expired");
        let sse = format!("event: message\ndata: {body}\n\n");
        assert_eq!(rpc_error(&sse).unwrap().0, -32001);
    }
}
