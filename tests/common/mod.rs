//! Test harness: the real `mock-mcp` and `mcp-gatekeeper` binaries on loopback with ephemeral
//! ports, readiness by polling (never fixed sleeps), killed on drop.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";
const READY_TIMEOUT: Duration = Duration::from_secs(30);

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>/mock-mcp`, built on demand when a bare `cargo test` has not built it.
fn mock_binary() -> PathBuf {
    let gatekeeper = PathBuf::from(env!("CARGO_BIN_EXE_mcp-gatekeeper"));
    let path = gatekeeper.with_file_name(format!("mock-mcp{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "mock-mcp"])
            .current_dir(repo_root())
            .status()
            .expect("running cargo build -p mock-mcp");
        assert!(status.success(), "cargo build -p mock-mcp failed");
    }
    path
}

/// A child process killed when dropped; its stderr is kept for failure messages.
pub struct Proc {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
    config: Option<PathBuf>,
    pub metrics_addr: Option<SocketAddr>,
    pub audit_log: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

impl Proc {
    pub fn config_path(&self) -> Option<PathBuf> {
        self.config.clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `within` for the process to exit; its status if it did.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the process has written to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let log = Arc::new(Mutex::new(String::new()));
    if let Some(err) = child.stderr.take() {
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
    }
    log
}

/// Starts mock-mcp on an ephemeral port; ready once it prints its address.
pub fn start_mock(sse: bool) -> Proc {
    start_mock_with(if sse { &["--sse"] } else { &[] })
}

/// Starts mock-mcp with extra arguments (`--sse`, `--gzip`).
pub fn start_mock_with(args: &[&str]) -> Proc {
    let mut cmd = Command::new(mock_binary());
    cmd.args(["--listen", "127.0.0.1:0"]).args(args);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning mock-mcp");
    let stderr = collect_stderr(&mut child);
    let stdout = child.stdout.take().expect("mock-mcp stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        for _ in lines {}
    });
    let line = rx
        .recv_timeout(READY_TIMEOUT)
        .expect("mock-mcp did not print its address");
    let addr = line
        .rsplit("://")
        .next()
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or_else(|| panic!("unexpected mock-mcp ready line: {line}"));
    Proc {
        child,
        addr,
        stderr,
        config: None,
        metrics_addr: None,
        audit_log: None,
        _dir: None,
    }
}

/// A port that was free a moment ago (Pingora binds by address, so we cannot pass it a socket),
/// and never handed out before in this test process: tests run in parallel, and two of them
/// given the same port would each find the other's listener and take it for their own.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("binding an ephemeral port");
        let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// Options for one gatekeeper instance.
pub struct GateOptions {
    pub upstream: String,
    pub policy: PathBuf,
    pub config_yaml: String,
    pub env: Vec<(String, String)>,
    /// Leave the gatekeeper's stderr a pipe nobody reads (a stalled log collector).
    pub stderr_unread: bool,
}

impl GateOptions {
    pub fn new(upstream: SocketAddr) -> Self {
        GateOptions {
            upstream: format!("http://{upstream}"),
            policy: repo_root().join("policy/hospital.yaml"),
            config_yaml: String::new(),
            env: Vec::new(),
            stderr_unread: false,
        }
    }
}

/// Starts the gatekeeper; ready once its port accepts connections.
pub fn start_gatekeeper(opts: GateOptions) -> Proc {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("gatekeeper.yaml");
    std::fs::write(&config, &opts.config_yaml).expect("writing config");
    // Not beside the config: the reload watcher would wake on every audit write.
    std::fs::create_dir(dir.path().join("audit")).expect("audit dir");
    let audit_log = dir.path().join("audit/audit.log");
    for _ in 0..5 {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-gatekeeper"))
            .args(["serve", "-c"])
            .arg(&config)
            .current_dir(dir.path())
            .env("JWT_SECRET", SECRET)
            .env_remove("JWT_ALG")
            .env("GATEKEEPER_LISTEN", addr.to_string())
            .env("GATEKEEPER_UPSTREAM", &opts.upstream)
            .env("GATEKEEPER_POLICY", &opts.policy)
            .env("GATEKEEPER_METRICS_LISTEN", metrics.to_string())
            .env("GATEKEEPER_AUDIT_LOG", &audit_log)
            .env("RUST_LOG", "info")
            .envs(opts.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning mcp-gatekeeper");
        let stderr = if opts.stderr_unread {
            // The pipe stays open in `child`, and fills.
            Arc::default()
        } else {
            collect_stderr(&mut child)
        };
        let mut proc = Proc {
            child,
            addr,
            stderr,
            config: Some(config.clone()),
            metrics_addr: Some(metrics),
            audit_log: Some(audit_log.clone()),
            _dir: None,
        };
        if wait_until_listening(&mut proc) {
            proc._dir = Some(dir);
            return proc;
        }
    }
    panic!("mcp-gatekeeper did not start");
}

fn wait_until_listening(proc: &mut Proc) -> bool {
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = proc.child.try_wait() {
            eprintln!("mcp-gatekeeper exited ({status}): {}", proc.stderr_so_far());
            return false;
        }
        let metrics_up = proc
            .metrics_addr
            .is_none_or(|m| TcpStream::connect_timeout(&m, Duration::from_millis(200)).is_ok());
        if metrics_up && TcpStream::connect_timeout(&proc.addr, Duration::from_millis(200)).is_ok()
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Mock and gatekeeper together, in JSON or SSE mode.
pub struct Stack {
    pub mock: Proc,
    pub gate: Proc,
}

impl Stack {
    pub fn start(sse: bool) -> Self {
        let mock = start_mock(sse);
        let gate = start_gatekeeper(GateOptions::new(mock.addr));
        Stack { mock, gate }
    }

    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.gate.addr)
    }

    pub fn stats(&self) -> Value {
        let (status, _, body) = get(&format!("http://{}/stats", self.mock.addr), &[]);
        assert_eq!(status, 200);
        serde_json::from_slice(&body).expect("stats JSON")
    }

    /// How many times the mock saw `tool` called (tools/call or legacy form).
    pub fn tool_count(&self, tool: &str) -> u64 {
        self.stats()["tools"][tool].as_u64().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.stats()["total_requests"].as_u64().unwrap_or(0)
    }
}

pub fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

pub fn sign_with(secret: &str, alg: Algorithm, claims: Value) -> String {
    encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signing")
}

/// A token in the web app's format for `role`.
pub fn token(role: &str) -> String {
    sign_with(
        SECRET,
        Algorithm::HS256,
        json!({"user_id":"1","role":role,"username":"yenji100","exp": now() + 300}),
    )
}

pub fn token_with(claims: Value) -> String {
    sign_with(SECRET, Algorithm::HS256, claims)
}

pub fn tools_call(tool: &str, args: Value) -> Value {
    json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":tool,"arguments":args}})
}

pub fn legacy_call(tool: &str, args: Value) -> Value {
    json!({"jsonrpc":"2.0","id":1,"method":tool,"params":{"arguments":args}})
}

pub type Headers = Vec<(String, String)>;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn finish(resp: Result<http::Response<ureq::Body>, ureq::Error>) -> (u16, Headers, Vec<u8>) {
    let resp = resp.expect("HTTP request failed");
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let mut body = Vec::new();
    resp.into_body()
        .into_reader()
        .read_to_end(&mut body)
        .expect("reading body");
    (status, headers, body)
}

/// POSTs raw bytes with the given headers.
pub fn post_raw(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, Headers, Vec<u8>) {
    let mut req = agent().post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    finish(req.send(body))
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> (u16, Headers, Vec<u8>) {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    finish(req.call())
}

/// POSTs a JSON-RPC body as an MCP client would, with an optional Bearer token.
pub fn post(url: &str, token: Option<&str>, body: &Value) -> (u16, Headers, Vec<u8>) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    post_raw(url, &headers, body.to_string().into_bytes())
}

pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The JSON-RPC message(s) in a body: the JSON itself, or each SSE event's data.
pub fn messages(body: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(body);
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        return vec![v];
    }
    text.replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            (!data.is_empty()).then(|| serde_json::from_str(&data.join("\n")).ok())?
        })
        .collect()
}

/// The single JSON-RPC message in a body.
pub fn message(body: &[u8]) -> Value {
    let mut all = messages(body);
    assert_eq!(
        all.len(),
        1,
        "expected one message in {}",
        String::from_utf8_lossy(body)
    );
    all.remove(0)
}
pub mod attack;
pub mod upstream;
