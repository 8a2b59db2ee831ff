//! Streamable HTTP (MCP "Transports"): `POST /mcp` answers as JSON or as an SSE stream,
//! sessions via `Mcp-Session-Id` (`DELETE` ends one, unknown ones are 404), no GET stream;
//! a 2026-07-28 request (`MCP-Protocol-Version`) has no session and may open a
//! `subscriptions/listen` stream (`modern`); plus `/stats`, `/stats/reset` and `/healthz`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::Value;

use crate::data::Hospital;
use crate::stats::Stats;
use crate::tasks::{self, Tasks};
use crate::{modern, rpc};

/// Largest request body accepted on `/mcp`.
pub const MAX_BODY: usize = 8 * 1024 * 1024;
const SESSION: &str = "mcp-session-id";
const ALLOW: &str = "POST, DELETE";

pub struct AppState {
    hospital: Mutex<Hospital>,
    sessions: Mutex<HashSet<String>>,
    tasks: Mutex<Tasks>,
    stats: Mutex<Stats>,
    sse: bool,
    gzip: bool,
    flavor: rpc::Flavor,
}

impl AppState {
    pub fn new(hospital: Hospital, sse: bool) -> Self {
        AppState {
            hospital: Mutex::new(hospital),
            sessions: Mutex::new(HashSet::new()),
            tasks: Mutex::default(),
            stats: Mutex::new(Stats::default()),
            sse,
            gzip: false,
            flavor: rpc::Flavor::Plain,
        }
    }

    /// Serve FHIR R4 / US Core resources (`--fhir`).
    pub fn with_fhir(mut self, fhir: bool) -> Self {
        self.flavor = if fhir {
            rpc::Flavor::Fhir
        } else {
            rpc::Flavor::Plain
        };
        self
    }

    /// Compress every answer with gzip, whatever the client asked for (a misbehaving server).
    pub fn with_gzip(mut self, gzip: bool) -> Self {
        self.gzip = gzip;
        self
    }

    fn stats(&self) -> MutexGuard<'_, Stats> {
        lock(&self.stats)
    }

    fn sessions(&self) -> MutexGuard<'_, HashSet<String>> {
        lock(&self.sessions)
    }
}

/// A poisoned lock only means another request panicked; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn router(state: Arc<AppState>) -> Router {
    let mcp: MethodRouter<Arc<AppState>> = post(post_mcp)
        .get(get_mcp)
        .delete(delete_mcp)
        .fallback(other_mcp);
    Router::new()
        .route("/mcp", mcp.clone())
        .route("/mcp/", mcp)
        .route("/stats", get(stats))
        .route("/stats/reset", post(reset_stats))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(other_path)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Any other path is counted too: a test can then see that something reached the server
/// outside its MCP endpoint (as an admin or debug route would).
async fn other_path(
    State(state): State<Arc<AppState>>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.stats().record_http(method.as_str(), &headers, &body);
    json_error(StatusCode::NOT_FOUND, -32601, "Not found")
}

async fn post_mcp(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    state.stats().record_http("POST", &headers, &body);
    let version = headers
        .get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok());
    let modern = modern::is_modern(version);
    if !modern && unknown_session(&state, &headers) {
        return json_error(StatusCode::NOT_FOUND, -32001, "Session not found");
    }
    let message: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let message = format!("Parse error: {e}");
            return json_error(StatusCode::BAD_REQUEST, rpc::PARSE_ERROR, &message);
        }
    };
    let (batch, messages): (bool, Vec<&Value>) = match &message {
        Value::Array(items) if items.is_empty() => {
            let message = "Invalid Request: empty batch";
            return json_error(StatusCode::BAD_REQUEST, rpc::INVALID_REQUEST, message);
        }
        Value::Array(items) => (true, items.iter().collect()),
        one => (false, vec![one]),
    };
    if modern && batch {
        let message = "Invalid Request: 2026-07-28 has no batches";
        return json_error(StatusCode::BAD_REQUEST, rpc::INVALID_REQUEST, message);
    }
    if modern && message.get("method").and_then(Value::as_str) == Some("subscriptions/listen") {
        state.stats().record_message("subscriptions/listen", None);
        return listen(state.clone(), &message);
    }

    let mut responses = Vec::with_capacity(messages.len());
    let mut response_codes = Vec::new();
    let mut all_invalid = true;
    let mut new_session = None;
    for m in messages {
        let outcome = answer(&state, m, modern);
        state
            .stats()
            .record_message(&outcome.method, outcome.tool.as_deref());
        all_invalid &= outcome.invalid;
        if outcome.new_session && !modern {
            let id = uuid::Uuid::new_v4().to_string();
            state.sessions().insert(id.clone());
            new_session = Some(id);
        }
        response_codes.push(
            outcome
                .response
                .as_ref()
                .and_then(|r| r.pointer("/error/code")?.as_i64()),
        );
        responses.extend(outcome.response);
    }
    if responses.is_empty() {
        return StatusCode::ACCEPTED.into_response();
    }

    let mut response = if state.sse {
        sse_response(&responses)
    } else if batch {
        Json(Value::Array(responses)).into_response()
    } else {
        Json(responses.swap_remove(0)).into_response()
    };
    if all_invalid && !batch {
        // Streamable HTTP: input the server cannot accept gets an HTTP error status.
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    let not_found = responses_code(&response_codes) == Some(rpc::METHOD_NOT_FOUND);
    if modern && !batch && not_found {
        // 2026-07-28: a method the server does not implement is a 404 with -32601.
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    if let Some(id) = new_session.and_then(|s| HeaderValue::from_str(&s).ok()) {
        response.headers_mut().insert(SESSION, id);
    }
    if state.gzip {
        return gzipped(response).await;
    }
    response
}

/// One message answered: tasks first (either revision), then what 2026-07-28 answers itself,
/// then the shared dispatch; a `tools/call` that asked for a task gets one.
fn answer(state: &AppState, message: &Value, modern: bool) -> rpc::Outcome {
    let mut tasks = lock(&state.tasks);
    if let Some(outcome) = tasks.handle(message, modern) {
        return outcome;
    }
    let intercepted = modern.then(|| modern::intercept(message)).flatten();
    let mut outcome = intercepted
        .unwrap_or_else(|| rpc::handle(state.flavor, &mut lock(&state.hospital), message));
    if outcome.method == "tools/call" && tasks::wanted(message, modern) {
        tasks.create(&mut outcome, modern);
    }
    if modern {
        let method = outcome.method.clone();
        modern::decorate(&method, &mut outcome);
    }
    outcome
}

/// The single error code of a one-message answer, if it is an error.
fn responses_code(codes: &[Option<i64>]) -> Option<i64> {
    match codes {
        [one] => *one,
        _ => None,
    }
}

/// A `subscriptions/listen` answer: its events at once, then a keep-alive comment every
/// 15 s until the client goes (counted in `/stats` as `listen.closed`).
fn listen(state: Arc<AppState>, message: &Value) -> Response {
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    let params = message.get("params").and_then(Value::as_object);
    let first = sse_body(&modern::listen_events(&id, params));
    state.stats().listen_opened();
    let guard = ListenGuard(state);
    let stream = futures_util::stream::unfold((Some(first), guard), |(first, guard)| async move {
        let chunk = match first {
            Some(events) => events,
            None => {
                tokio::time::sleep(std::time::Duration::from_secs(15)).await;
                ":\n\n".to_string()
            }
        };
        Some((Ok::<_, std::convert::Infallible>(chunk), (None, guard)))
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// Counts a listen stream's end when its body is dropped (the client, or the gatekeeper
/// between, closed the connection).
struct ListenGuard(Arc<AppState>);

impl Drop for ListenGuard {
    fn drop(&mut self) {
        self.0.stats().listen_closed();
    }
}

async fn gzipped(response: Response) -> Response {
    use std::io::Write;
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let compressed = encoder.write_all(&bytes).and_then(|()| encoder.finish());
    let Ok(compressed) = compressed else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(compressed))
}

/// Requests without a session id are served; one naming a session we do not know is a 404.
fn unknown_session(state: &AppState, headers: &HeaderMap) -> bool {
    headers
        .get(SESSION)
        .is_some_and(|id| !id.to_str().is_ok_and(|id| state.sessions().contains(id)))
}

fn json_error(status: StatusCode, code: i64, message: &str) -> Response {
    (status, Json(rpc::error(Value::Null, code, message))).into_response()
}

/// Each JSON-RPC message as one SSE event: `event: message` and a single `data:` line.
pub fn sse_body(messages: &[Value]) -> String {
    messages
        .iter()
        .map(|m| format!("event: message\ndata: {m}\n\n"))
        .collect()
}

fn sse_response(messages: &[Value]) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        sse_body(messages),
    )
        .into_response()
}

async fn get_mcp(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    state.stats().record_http("GET", &headers, b"");
    method_not_allowed("this server offers no server-initiated stream")
}

async fn other_mcp(
    State(state): State<Arc<AppState>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.stats().record_http(method.as_str(), &headers, &body);
    method_not_allowed("use POST, or DELETE to end a session")
}

fn method_not_allowed(why: &'static str) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, ALLOW)],
        why,
    )
        .into_response()
}

async fn delete_mcp(State(state): State<Arc<AppState>>, headers: HeaderMap) -> StatusCode {
    state.stats().record_http("DELETE", &headers, b"");
    let ended = headers
        .get(SESSION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|id| state.sessions().remove(id));
    if ended {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn stats(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(state.stats().to_json())
}

async fn reset_stats(State(state): State<Arc<AppState>>) -> Json<Value> {
    let mut stats = state.stats();
    *stats = Stats::default();
    Json(stats.to_json())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use serde_json::json;
    use tower::ServiceExt;

    fn app(sse: bool) -> Router {
        router(Arc::new(AppState::new(Hospital::builtin().unwrap(), sse)))
    }

    async fn send(
        app: &Router,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, HeaderMap, String) {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Body::from(body.to_string())).unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }

    async fn stats_of(app: &Router) -> Value {
        let (_, _, body) = send(app, "GET", "/stats", &[], "").await;
        serde_json::from_str(&body).unwrap()
    }

    #[test]
    fn sse_framing_is_one_event_per_message() {
        let body = sse_body(&[json!({"id":1}), json!({"id":2})]);
        assert_eq!(
            body,
            "event: message\ndata: {\"id\":1}\n\nevent: message\ndata: {\"id\":2}\n\n"
        );
    }

    #[tokio::test]
    async fn session_lifecycle() {
        let app = app(false);
        let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}"#;
        let (status, headers, body) = send(&app, "POST", "/mcp", &[], init).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert!(body.contains("2025-06-18"));
        let session = headers[SESSION].to_str().unwrap().to_string();
        assert!(uuid::Uuid::parse_str(&session).is_ok());

        let note = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let with = [(SESSION, session.as_str())];
        let (status, _, body) = send(&app, "POST", "/mcp/", &with, note).await;
        assert_eq!((status, body.as_str()), (StatusCode::ACCEPTED, ""));
        let bogus = [(SESSION, "not-a-session")];
        let (status, _, _) = send(&app, "POST", "/mcp", &bogus, note).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (status, headers, _) = send(&app, "GET", "/mcp", &with, "").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(headers[header::ALLOW], ALLOW);
        assert_eq!(
            send(&app, "DELETE", "/mcp", &with, "").await.0,
            StatusCode::OK
        );
        assert_eq!(
            send(&app, "DELETE", "/mcp", &with, "").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(&app, "POST", "/mcp", &with, note).await.0,
            StatusCode::NOT_FOUND
        );

        let s = stats_of(&app).await;
        assert_eq!(s["total_requests"], 7);
        assert_eq!(s["http"], json!({"POST":4,"GET":1,"DELETE":2}));
        assert_eq!(
            s["methods"],
            json!({"initialize":1,"notifications/initialized":1})
        );
    }

    #[tokio::test]
    async fn bad_bodies() {
        let app = app(false);
        let (status, _, body) = send(&app, "POST", "/mcp", &[], "{nope").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["error"]["code"],
            -32700
        );
        for bad in ["[]", r#"{"id":1}"#] {
            let (status, _, body) = send(&app, "POST", "/mcp", &[], bad).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(
                serde_json::from_str::<Value>(&body).unwrap()["error"]["code"],
                -32600
            );
        }
        let big = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
            "x".repeat(2 * 1024 * 1024)
        );
        assert_eq!(
            send(&app, "POST", "/mcp", &[], &big).await.0,
            StatusCode::OK
        );
        let s = stats_of(&app).await;
        assert_eq!(s["last_request"]["body_len"], big.len());
    }

    #[tokio::test]
    async fn sse_batches_get_one_event_per_response() {
        let app = app(true);
        let batch = json!([
            {"jsonrpc":"2.0","id":1,"method":"tools/call",
             "params":{"name":"get_patient","arguments":{"patient_id":"NUGWI"}}},
            {"jsonrpc":"2.0","method":"notifications/initialized"},
            {"jsonrpc":"2.0","id":2,"method":"list_appointments","params":{"patient_id":"NUGWI"}}
        ]);
        let headers = [
            ("x-gatekeeper-role", "Doctor"),
            ("content-type", "application/json"),
        ];
        let (status, resp_headers, body) =
            send(&app, "POST", "/mcp", &headers, &batch.to_string()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(resp_headers[header::CONTENT_TYPE], "text/event-stream");
        let events: Vec<&str> = body.split_terminator("\n\n").collect();
        assert_eq!(events.len(), 2, "{body}");
        for (event, id) in events.iter().zip([1, 2]) {
            let data = event.strip_prefix("event: message\ndata: ").unwrap();
            assert_eq!(serde_json::from_str::<Value>(data).unwrap()["id"], id);
        }
        let s = stats_of(&app).await;
        assert_eq!(s["tools"], json!({"get_patient":1,"list_appointments":1}));
        assert_eq!(s["methods"]["list_appointments"], 1);
        assert_eq!(
            s["last_request"]["headers"],
            json!({"x-gatekeeper-role":"Doctor"})
        );
        assert_eq!(s["last_request"]["content_type"], "application/json");

        let (_, _, body) = send(&app, "POST", "/stats/reset", &[], "").await;
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["total_requests"],
            0
        );
    }

    #[tokio::test]
    async fn fhir_answers_with_resources_and_serves_them() {
        let hospital = Hospital::builtin().unwrap();
        let app = router(Arc::new(AppState::new(hospital, false).with_fhir(true)));
        let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
            "params":{"name":"get_medical_records","arguments":{"patient_id":"NUGWI"}}});
        let (status, _, body) = send(&app, "POST", "/mcp", &[], &call.to_string()).await;
        assert_eq!(status, StatusCode::OK);
        let result = &serde_json::from_str::<Value>(&body).unwrap()["result"];
        assert_eq!(result["structuredContent"]["resourceType"], "Bundle");
        let text = result["content"][0]["text"].as_str().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(text).unwrap(),
            result["structuredContent"]
        );
        let read = json!({"jsonrpc":"2.0","id":2,"method":"resources/read",
            "params":{"uri":"fhir://Patient/NUGWI"}});
        let (status, _, body) = send(&app, "POST", "/mcp", &[], &read.to_string()).await;
        assert_eq!(status, StatusCode::OK);
        let contents = &serde_json::from_str::<Value>(&body).unwrap()["result"]["contents"][0];
        assert_eq!(contents["mimeType"], "application/fhir+json");
        let s = stats_of(&app).await;
        assert_eq!(s["methods"], json!({"tools/call":1,"resources/read":1}));
    }

    #[tokio::test]
    async fn health() {
        let (status, _, body) = send(&app(false), "GET", "/healthz", &[], "").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    }
}
