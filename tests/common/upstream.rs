//! A scripted upstream: answers what the test says, including what mock-mcp never would (a
//! hostile server's carriers, server→client requests on a stream), and keeps every request it
//! received, so "never reached the upstream" is counted here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// One request as the upstream received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub head: String,
    pub body: Vec<u8>,
}

impl Received {
    /// The JSON-RPC body, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body's `method` (empty for a response or a non-JSON body).
    pub fn method(&self) -> String {
        self.json()
            .and_then(|v| v.get("method").and_then(Value::as_str).map(String::from))
            .unwrap_or_default()
    }
}

/// What to answer: status, header lines (`Name: value`) and body.
pub struct Reply {
    pub status: u16,
    /// The status line's reason phrase.
    pub reason: String,
    pub headers: Vec<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(body: &Value) -> Self {
        Reply {
            status: 200,
            reason: "Scripted".into(),
            headers: vec!["Content-Type: application/json".into()],
            body: body.to_string().into_bytes(),
        }
    }

    /// Raw bytes under a content type of the test's choosing (or several, or none).
    pub fn raw(content_types: &[&str], body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status: 200,
            reason: "Scripted".into(),
            headers: content_types
                .iter()
                .map(|t| format!("Content-Type: {t}"))
                .collect(),
            body: body.into(),
        }
    }

    pub fn sse(events: &str) -> Self {
        Reply::raw(&["text/event-stream"], events)
    }

    pub fn with_reason(mut self, reason: &str) -> Self {
        self.reason = reason.to_string();
        self
    }

    pub fn with_header(mut self, line: &str) -> Self {
        self.headers.push(line.to_string());
        self
    }
}

type Script = dyn Fn(&Received) -> Reply + Send + Sync;

pub struct Upstream {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Upstream {
    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// How many requests reached it whose body names `method` (empty: responses).
    pub fn count(&self, method: &str) -> usize {
        self.received()
            .iter()
            .filter(|r| r.method() == method)
            .count()
    }
}

/// Starts the upstream on a free loopback port; it answers each request with `script` and
/// closes the connection. It lives as long as the test process.
pub fn start_upstream(script: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding the scripted upstream");
    let addr = listener.local_addr().expect("its address");
    let received = Arc::new(Mutex::new(Vec::new()));
    let script: Arc<Script> = Arc::new(script);
    let log = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (script, log) = (Arc::clone(&script), Arc::clone(&log));
            std::thread::spawn(move || serve(stream, &*script, &log));
        }
    });
    Upstream { addr, received }
}

fn serve(stream: TcpStream, script: &Script, log: &Mutex<Vec<Received>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = Received { head, body };
    if let Ok(mut log) = log.lock() {
        log.push(request.clone());
    }
    let reply = script(&request);
    let mut out = format!("HTTP/1.1 {} {}\r\n", reply.status, reply.reason);
    for h in &reply.headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    let _ = writer.write_all(out.as_bytes());
    let _ = writer.write_all(&reply.body);
    let _ = writer.flush();
}
