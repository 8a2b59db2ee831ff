//! Streamable HTTP (MCP 2025-06-18 "Transports"): `POST /mcp` answers as JSON or as an SSE
//! stream, sessions via `Mcp-Session-Id`, `DELETE` ends one; `/stats` and `/healthz` for tests.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::data::Hospital;
use crate::rpc;
use crate::stats::Stats;

const MAX_BODY: usize = 8 * 1024 * 1024;
const SESSION: &str = "mcp-session-id";

pub struct AppState {
    hospital: Mutex<Hospital>,
    sessions: Mutex<HashSet<String>>,
    stats: Mutex<Stats>,
    sse: bool,
}

impl AppState {
    pub fn new(hospital: Hospital, sse: bool) -> Self {
        AppState {
            hospital: Mutex::new(hospital),
            sessions: Mutex::new(HashSet::new()),
            stats: Mutex::new(Stats::default()),
            sse,
        }
    }
}

/// A poisoned lock only means another request panicked; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn router(state: Arc<AppState>) -> Router {
    let mcp = post(post_mcp).get(get_mcp).delete(delete_mcp);
    Router::new()
        .route("/mcp", mcp.clone())
        .route("/mcp/", mcp)
        .route("/stats", get(stats))
        .route("/stats/reset", post(reset_stats))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

async fn post_mcp(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    lock(&state.stats).record_http("POST", &headers, &body);
    if let Some(unknown) = unknown_session(&state, &headers) {
        return unknown;
    }
    let message: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = rpc::error(Value::Null, -32700, &format!("Parse error: {e}"));
            return (StatusCode::BAD_REQUEST, Json(err)).into_response();
        }
    };
    let messages = match &message {
        Value::Array(items) if !items.is_empty() => items.clone(),
        Value::Array(_) => {
            let err = rpc::error(Value::Null, -32600, "Invalid Request: empty batch");
            return (StatusCode::BAD_REQUEST, Json(err)).into_response();
        }
        one => vec![one.clone()],
    };
    let mut responses = Vec::new();
    let mut new_session = None;
    for m in &messages {
        let outcome = rpc::handle(&mut lock(&state.hospital), m);
        lock(&state.stats).record_call(&outcome.method, outcome.tool.as_deref());
        if outcome.new_session {
            let id = uuid::Uuid::new_v4().to_string();
            lock(&state.sessions).insert(id.clone());
            new_session = Some(id);
        }
        responses.extend(outcome.response);
    }
    if responses.is_empty() {
        return StatusCode::ACCEPTED.into_response();
    }
    let payload = if message.is_array() {
        vec![Value::Array(responses)]
    } else {
        responses
    };
    let mut response = if state.sse {
        sse_response(&payload)
    } else {
        Json(payload.into_iter().next().unwrap_or(Value::Null)).into_response()
    };
    if let Some(id) = new_session.and_then(|s| HeaderValue::from_str(&s).ok()) {
        response.headers_mut().insert(SESSION, id);
    }
    response
}

/// Each JSON-RPC message one SSE event (WHATWG HTML §9.2): `event: message`, one `data:` line.
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

fn unknown_session(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let id = headers.get(SESSION)?.to_str().unwrap_or("");
    if lock(&state.sessions).contains(id) {
        return None;
    }
    let err = rpc::error(Value::Null, -32001, "Session not found");
    Some((StatusCode::NOT_FOUND, Json(err)).into_response())
}

async fn get_mcp(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    lock(&state.stats).record_http("GET", &headers, b"");
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "POST, DELETE")],
        "this server offers no server-initiated stream",
    )
        .into_response()
}

async fn delete_mcp(State(state): State<Arc<AppState>>, headers: HeaderMap) -> StatusCode {
    lock(&state.stats).record_http("DELETE", &headers, b"");
    let id = headers
        .get(SESSION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if lock(&state.sessions).remove(id) {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn stats(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(lock(&state.stats).to_json())
}

async fn reset_stats(State(state): State<Arc<AppState>>) -> StatusCode {
    *lock(&state.stats) = Stats::default();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sse_framing_is_one_event_per_message() {
        let body = sse_body(&[json!({"id":1}), json!({"id":2})]);
        assert_eq!(
            body,
            "event: message\ndata: {\"id\":1}\n\nevent: message\ndata: {\"id\":2}\n\n"
        );
    }
}
