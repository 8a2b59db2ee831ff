//! Several replicas, one behaviour: two gatekeepers on one real `redis-server` (started here on
//! a free loopback port) share session and task bindings and rate-limit budgets; Redis killed
//! mid-run fails closed and recovers; a reloaded limit applies without a restart.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// A redis-server of our own, killed when dropped.
struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start_on(port: u16) -> Redis {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/ensure-deps.sh installs it)");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis {
            child,
            port,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn policy_with_limit(dir: &Path, per_hour: u32) -> PathBuf {
    let text = std::fs::read_to_string(repo_root().join("policy/hospital.yaml")).unwrap();
    let text = format!(
        "{text}\nrate_limits:\n  - name: researcher-search\n    roles: [Researcher]\n    \
         tools: [search_patients]\n    per_user: {per_hour}/h\n    burst: {per_hour}\n"
    );
    let path = dir.join("policy.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn replica(mock: &Proc, policy: &Path, state: &str) -> Proc {
    let mut opts = GateOptions::new(mock.addr);
    opts.policy = policy.to_path_buf();
    opts.config_yaml = state.to_string();
    start_gatekeeper(opts)
}

fn shared(redis: &Redis) -> String {
    format!("state:\n  store: {}\n  timeout_ms: 300\n", redis.url())
}

fn url(gate: &Proc) -> String {
    format!("http://{}/mcp", gate.addr)
}

fn user(role: &str, id: &str) -> String {
    token_with(json!({"user_id": id, "role": role, "exp": now() + 300}))
}

fn search(gate: &Proc, token: &str) -> (u16, Headers, Value) {
    let (status, headers, body) = post(
        &url(gate),
        Some(token),
        &tools_call("search_patients", json!({"query": "a"})),
    );
    (
        status,
        headers,
        messages(&body).pop().unwrap_or(Value::Null),
    )
}

fn with_session(gate: &Proc, token: &str, session: &str, body: &Value) -> u16 {
    let auth = format!("Bearer {token}");
    let headers = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("authorization", auth.as_str()),
        ("mcp-session-id", session),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    post_raw(&url(gate), &headers, body.to_string().into_bytes()).0
}

fn initialize(gate: &Proc, token: &str) -> String {
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let (status, headers, body) = post(&url(gate), Some(token), &init);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    header(&headers, "mcp-session-id").unwrap().to_string()
}

fn metric(gate: &Proc, line_start: &str) -> f64 {
    let (_, _, body) = get(
        &format!("http://{}/metrics", gate.metrics_addr.unwrap()),
        &[],
    );
    String::from_utf8_lossy(&body)
        .lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

fn tool_calls(mock: &Proc, tool: &str) -> u64 {
    let (_, _, body) = get(&format!("http://{}/stats", mock.addr), &[]);
    serde_json::from_slice::<Value>(&body).unwrap()["tools"][tool]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn a_session_and_a_task_made_through_one_replica_continue_through_another() {
    let redis = Redis::start_on(free_port());
    let mock = start_mock(false);
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_with_limit(dir.path(), 1000);
    let (a, b) = (
        replica(&mock, &policy, &shared(&redis)),
        replica(&mock, &policy, &shared(&redis)),
    );
    let (alice, bob) = (user("Doctor", "alice"), user("Doctor", "bob"));
    let session = initialize(&a, &alice);
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list"});
    assert_eq!(
        with_session(&b, &alice, &session, &list),
        200,
        "B knows A's session"
    );
    assert_eq!(
        with_session(&b, &bob, &session, &list),
        404,
        "but only for its owner"
    );

    let mut call = tools_call("get_patient", json!({"patient_id": "NUGWI"}));
    call["params"]["task"] = json!({"ttl": 60000});
    let (status, _, body) = post_raw(
        &url(&a),
        &[
            ("content-type", "application/json"),
            ("accept", "application/json"),
            ("authorization", &format!("Bearer {alice}")),
            ("mcp-session-id", &session),
        ],
        call.to_string().into_bytes(),
    );
    assert_eq!(status, 200);
    let task = message(&body)["result"]["task"]["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    let get_task = json!({"jsonrpc":"2.0","id":2,"method":"tasks/get","params":{"taskId":task}});
    let bob_session = initialize(&b, &bob);
    assert_eq!(
        with_session(&b, &bob, &bob_session, &get_task),
        404,
        "bob's poll"
    );
    assert_eq!(
        with_session(&b, &alice, &session, &get_task),
        200,
        "alice's, through B"
    );

    // What the replicas share names nobody: owners and ids are digests; only a task id sits
    // in clear, in its (digested) owner's set, for `tasks/list`.
    let dump = redis_dump(&redis);
    assert!(dump.contains("gk:s:") && dump.contains("gk:t:"), "{dump}");
    for clear in ["alice", "bob", session.as_str()] {
        assert!(!dump.contains(clear), "{clear} in Redis: {dump}");
    }
    assert_eq!(dump.matches(task.as_str()).count(), 1, "{dump}");
}

/// Every key in the Redis, and each string value or set member, one per line.
fn redis_dump(redis: &Redis) -> String {
    let cli = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-p", &redis.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli (installed with redis-server)");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let keys = cli(&["--scan"]);
    let mut dump = keys.clone();
    for key in keys.lines() {
        dump += &match cli(&["TYPE", key]).trim() {
            "set" => cli(&["SMEMBERS", key]),
            _ => cli(&["GET", key]),
        };
    }
    dump
}

#[test]
fn a_per_user_limit_holds_across_replicas_together() {
    let redis = Redis::start_on(free_port());
    let mock = start_mock(false);
    let dir = tempfile::tempdir().unwrap();
    let (n, k) = (5, 3);
    let policy = policy_with_limit(dir.path(), n);
    let (a, b) = (
        replica(&mock, &policy, &shared(&redis)),
        replica(&mock, &policy, &shared(&redis)),
    );
    let researcher = user("Researcher", "r1");
    let mut refused = 0;
    for i in 0..(n + k) {
        let gate = if i % 2 == 0 { &a } else { &b };
        let (status, headers, msg) = search(gate, &researcher);
        if status == 429 {
            refused += 1;
            assert_eq!(msg["error"]["code"], -32004, "{msg}");
            let wait: u64 = header(&headers, "retry-after").unwrap().parse().unwrap();
            assert!(wait >= 1, "Retry-After: {wait}");
        } else {
            assert_eq!(status, 200, "{msg}");
        }
    }
    assert_eq!(
        refused, k,
        "N+k calls over both replicas: exactly k refused"
    );
    assert_eq!(
        tool_calls(&mock, "search_patients"),
        n as u64,
        "only N reached the upstream"
    );
    assert_eq!(
        search(&a, &user("Researcher", "r2")).0,
        200,
        "another user has a budget of their own"
    );
    let counted: f64 = [&a, &b]
        .iter()
        .map(|g| {
            metric(
                g,
                "gatekeeper_rate_limited_total{role=\"Researcher\",tool=\"search_patients\"}",
            )
        })
        .sum();
    assert_eq!(counted, f64::from(k));
    let limited = || {
        [&a, &b]
            .iter()
            .map(|g| std::fs::read_to_string(g.audit_log.clone().unwrap()).unwrap_or_default())
            .map(|t| {
                t.lines()
                    .filter(|l| l.contains("\"decision\":\"rate_limited\""))
                    .count()
            })
            .sum::<usize>()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while limited() < k as usize && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(limited(), k as usize, "one audit line per refusal");
}

#[test]
fn redis_going_away_fails_closed_and_the_gatekeeper_recovers_by_itself() {
    let port = free_port();
    let redis = Redis::start_on(port);
    let mock = start_mock(false);
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_with_limit(dir.path(), 1000);
    let gate = replica(&mock, &policy, &shared(&redis));
    let alice = user("Doctor", "alice");
    let researcher = user("Researcher", "r1");
    let session = initialize(&gate, &alice);
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list"});
    assert_eq!(with_session(&gate, &alice, &session, &list), 200);
    assert_eq!(search(&gate, &researcher).0, 200);
    let before = tool_calls(&mock, "search_patients");

    drop(redis);
    assert_eq!(
        with_session(&gate, &alice, &session, &list),
        503,
        "no session check, no service"
    );
    assert_eq!(search(&gate, &researcher).0, 503, "on_unavailable: deny");
    assert_eq!(
        tool_calls(&mock, "search_patients"),
        before,
        "nothing unchecked reached it"
    );
    let doctor = post(
        &url(&gate),
        Some(&alice),
        &tools_call("get_patient", json!({"patient_id": "NUGWI"})),
    );
    assert_eq!(
        doctor.0, 200,
        "a call no store check applies to is still served"
    );
    let ready = get(
        &format!("http://{}/readyz", gate.metrics_addr.unwrap()),
        &[],
    );
    assert_eq!(ready.0, 503, "{}", String::from_utf8_lossy(&ready.2));
    assert_eq!(metric(&gate, "gatekeeper_state_store_up"), 0.0);

    let _redis = Redis::start_on(port);
    let deadline = Instant::now() + Duration::from_secs(15);
    while search(&gate, &researcher).0 != 200 {
        assert!(Instant::now() < deadline, "did not recover");
        std::thread::sleep(Duration::from_millis(200));
    }
    let ready = get(
        &format!("http://{}/readyz", gate.metrics_addr.unwrap()),
        &[],
    );
    assert_eq!(ready.0, 200);
    assert_eq!(metric(&gate, "gatekeeper_state_store_up"), 1.0);
    // The new Redis kept nothing (no persistence here): the old session is unknown, not open.
    assert_eq!(with_session(&gate, &alice, &session, &list), 404);
    assert!(
        gate.stderr_so_far().contains("unavailable"),
        "the outage was logged"
    );
}

#[test]
fn rate_limits_can_be_allowed_through_an_outage_when_configured() {
    let port = free_port();
    let mock = start_mock(false);
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_with_limit(dir.path(), 1000);
    let yaml = format!(
        "state:\n  store: redis://127.0.0.1:{port}\n  on_unavailable: allow\n  timeout_ms: 200\n"
    );
    let gate = replica(&mock, &policy, &yaml);
    assert_eq!(
        search(&gate, &user("Researcher", "r1")).0,
        200,
        "no Redis at all: allowed"
    );
}

#[test]
fn a_reloaded_limit_applies_without_a_restart() {
    let mock = start_mock(false);
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_with_limit(dir.path(), 2);
    let gate = replica(&mock, &policy, "");
    let researcher = user("Researcher", "r1");
    assert_eq!(search(&gate, &researcher).0, 200);
    assert_eq!(search(&gate, &researcher).0, 200);
    assert_eq!(
        search(&gate, &researcher).0,
        429,
        "the in-memory store enforces it too"
    );
    let wider = std::fs::read_to_string(&policy).unwrap().replace(
        "per_user: 2/h\n    burst: 2",
        "per_user: 100/h\n    burst: 100",
    );
    let tmp = dir.path().join("policy.yaml.new");
    std::fs::write(&tmp, wider).unwrap();
    std::fs::rename(&tmp, &policy).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while search(&gate, &researcher).0 != 200 {
        assert!(Instant::now() < deadline, "the new limit did not apply");
        std::thread::sleep(Duration::from_millis(100));
    }
}
