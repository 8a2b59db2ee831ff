//! What operators see: exact metric deltas for a known set of requests, an audit line per
//! request whose chain verifies (and breaks where a line is edited or removed), rotation
//! without loss, health endpoints, the audit-failure policy, and no PHI anywhere they look.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

type Samples = BTreeMap<String, f64>;

/// `/metrics` as `name{sorted labels}` → value.
fn scrape(gate: &Proc) -> Samples {
    let url = format!("http://{}/metrics", gate.metrics_addr.unwrap());
    let (status, _, body) = get(&url, &[]);
    assert_eq!(status, 200);
    String::from_utf8(body)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            let key = match key.split_once('{') {
                Some((name, labels)) => {
                    let mut pairs: Vec<&str> = labels.trim_end_matches('}').split(',').collect();
                    pairs.sort_unstable();
                    format!("{name}{{{}}}", pairs.join(","))
                }
                None => key.to_string(),
            };
            Some((key, value.parse().ok()?))
        })
        .collect()
}

/// `scrape` once every request has been recorded: the logging phase runs after the client has
/// its answer, so a scrape right after a response can come before its counters move.
fn settled_scrape(gate: &Proc) -> Samples {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let samples = scrape(gate);
        if samples.get("gatekeeper_in_flight_requests") == Some(&0.0) {
            return samples;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "requests stayed in flight"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn delta(before: &Samples, after: &Samples, key: &str) -> f64 {
    after.get(key).copied().unwrap_or(0.0) - before.get(key).copied().unwrap_or(0.0)
}

fn requests_key(decision: &str, method: &str, role: &str, status: u16, tool: &str) -> String {
    format!("gatekeeper_requests_total{{decision=\"{decision}\",method=\"{method}\",role=\"{role}\",status=\"{status}\",tool=\"{tool}\"}}")
}

fn records() -> Value {
    tools_call("get_medical_records", json!({"patient_id":"NUGWI"}))
}

#[test]
fn metrics_count_exactly_what_happened() {
    let stack = Stack::start(false);
    let before = scrape(&stack.gate);
    let url = stack.url();
    for _ in 0..2 {
        assert_eq!(
            post(
                &url,
                Some(&token("Nurse")),
                &tools_call("get_patient", json!({"patient_id":"NUGWI"}))
            )
            .0,
            200
        );
    }
    assert_eq!(post(&url, Some(&token("Billing")), &records()).0, 403);
    assert_eq!(post(&url, None, &records()).0, 401);
    let expired = token_with(json!({"user_id":"1","role":"Doctor","exp": now() - 600}));
    assert_eq!(post(&url, Some(&expired), &records()).0, 401);
    assert_eq!(
        post(
            &url,
            Some(&token("Doctor")),
            &legacy_call("get_medical_records", json!({"patient_id":"NUGWI"}))
        )
        .0,
        200
    );
    let after = settled_scrape(&stack.gate);

    let d = |k: &str| delta(&before, &after, k);
    assert_eq!(
        d(&requests_key(
            "allow",
            "tools/call",
            "Nurse",
            200,
            "get_patient"
        )),
        2.0
    );
    assert_eq!(
        d(&requests_key(
            "deny",
            "tools/call",
            "Billing",
            403,
            "get_medical_records"
        )),
        1.0
    );
    assert_eq!(d(&requests_key("deny", "-", "none", 401, "-")), 2.0);
    assert_eq!(
        d(&requests_key(
            "allow",
            "legacy",
            "Doctor",
            200,
            "get_medical_records"
        )),
        1.0
    );
    assert_eq!(d("gatekeeper_auth_failures_total{reason=\"missing\"}"), 1.0);
    assert_eq!(d("gatekeeper_auth_failures_total{reason=\"expired\"}"), 1.0);
    assert_eq!(
        d("gatekeeper_policy_decisions_total{decision=\"allow\"}"),
        3.0
    );
    assert_eq!(
        d("gatekeeper_policy_decisions_total{decision=\"deny\"}"),
        1.0
    );
    assert_eq!(d("gatekeeper_request_duration_seconds_count"), 6.0);
    assert_eq!(d("gatekeeper_upstream_duration_seconds_count"), 3.0);
    // Each Nurse get_patient answer carries the SSN and the member id twice (structuredContent
    // and its JSON copy in content[].text): 2 answers × 2 copies, masked to the last four.
    assert_eq!(d("gatekeeper_redactions_total{entity=\"ssn\"}"), 4.0);
    assert_eq!(d("gatekeeper_redactions_total{entity=\"member_id\"}"), 4.0);
    assert_eq!(after.get("gatekeeper_in_flight_requests"), Some(&0.0));
    assert!(after
        .keys()
        .any(|k| k.starts_with("gatekeeper_policy_info{version=\"hospital-1@")));
    assert!(after.contains_key("gatekeeper_policy_seconds_since_reload"));
}

#[test]
fn an_unreachable_upstream_counts_as_an_upstream_error() {
    let dead = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let gate = start_gatekeeper(GateOptions::new(dead));
    let before = scrape(&gate);
    let url = format!("http://{}/mcp", gate.addr);
    assert_eq!(post(&url, Some(&token("Doctor")), &records()).0, 502);
    let after = settled_scrape(&gate);
    assert_eq!(
        delta(
            &before,
            &after,
            "gatekeeper_upstream_errors_total{kind=\"upstream_unavailable\"}"
        ),
        1.0
    );
    assert_eq!(
        delta(
            &before,
            &after,
            &requests_key("error", "tools/call", "Doctor", 502, "get_medical_records")
        ),
        1.0
    );
}

fn audit_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// Waits until the audit file holds `n` lines (the writer is asynchronous).
fn wait_for_lines(paths: &[&Path], n: usize) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let have: usize = paths.iter().map(|p| audit_lines(p).len()).sum();
        if have >= n {
            assert_eq!(have, n, "more audit lines than requests");
            return;
        }
        assert!(Instant::now() < deadline, "only {have} of {n} audit lines");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn verify(files: &[&Path]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-gatekeeper"))
        .arg("audit")
        .arg("verify")
        .args(files)
        .env_remove("GATEKEEPER_AUDIT_KEY")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text.trim().to_string())
}

/// 8 clients × `per_client` requests of every kind; returns how many were sent.
fn load(url: &str, per_client: usize) -> usize {
    let threads: Vec<_> = (0..8)
        .map(|c| {
            let url = url.to_string();
            std::thread::spawn(move || {
                for i in 0..per_client {
                    let (role, body) = match (c + i) % 4 {
                        0 => ("Nurse", records()),
                        1 => ("Billing", records()),
                        2 => (
                            "Researcher",
                            tools_call("search_patients", json!({"query":"diabetes"})),
                        ),
                        _ => (
                            "Doctor",
                            legacy_call("get_billing", json!({"patient_id":"NUGWI"})),
                        ),
                    };
                    let status = post(&url, Some(&token(role)), &body).0;
                    assert!(status == 200 || status == 403, "{status}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    8 * per_client
}

#[test]
fn every_request_has_one_chained_audit_line_and_tampering_is_located() {
    let stack = Stack::start(false);
    let log = stack.gate.audit_log.clone().unwrap();
    let sent = load(&stack.url(), 25);
    wait_for_lines(&[&log], sent);
    let (ok, text) = verify(&[&log]);
    assert!(ok, "{text}");
    assert!(text.starts_with(&format!("ok: {sent} lines")), "{text}");

    let lines = audit_lines(&log);
    let first: Value = serde_json::from_str(&lines[0]).unwrap();
    for field in [
        "ts",
        "request_id",
        "user_id",
        "roles",
        "method",
        "decision",
        "rule",
        "policy_version",
        "status",
        "latency_us",
        "prev",
        "hash",
    ] {
        assert!(
            first.get(field).is_some(),
            "audit line lacks {field}: {first}"
        );
    }
    let denied = lines
        .iter()
        .filter(|l| l.contains("\"decision\":\"deny\""))
        .count();
    assert_eq!(
        denied,
        sent / 4,
        "Billing's requests are recorded as denials"
    );

    let dir = tempfile::tempdir().unwrap();
    let edited = dir.path().join("edited.log");
    let mut changed = lines.clone();
    changed[41] = changed[41]
        .replace("\"status\":200", "\"status\":201")
        .replace("\"status\":403", "\"status\":200");
    std::fs::write(&edited, changed.join("\n") + "\n").unwrap();
    let (ok, text) = verify(&[&edited]);
    assert!(!ok);
    assert!(text.contains("edited.log:42:"), "{text}");

    let deleted = dir.path().join("deleted.log");
    let mut fewer = lines.clone();
    fewer.remove(99);
    std::fs::write(&deleted, fewer.join("\n") + "\n").unwrap();
    let (ok, text) = verify(&[&deleted]);
    assert!(!ok);
    assert!(text.contains("deleted.log:100:"), "{text}");
}

#[test]
fn rotation_loses_and_duplicates_nothing() {
    let stack = Stack::start(false);
    let log = stack.gate.audit_log.clone().unwrap();
    let rotated = log.with_extension("log.1");
    let url = stack.url();
    let first = std::thread::spawn({
        let url = url.clone();
        move || load(&url, 30)
    });
    // Rotate the way logrotate does (rename, then the writer creates a new file) mid-load.
    let deadline = Instant::now() + Duration::from_secs(15);
    while audit_lines(&log).len() < 40 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::rename(&log, &rotated).unwrap();
    let sent = first.join().unwrap() + load(&url, 5);
    wait_for_lines(&[&rotated, &log], sent);
    let (ok, text) = verify(&[&rotated, &log]);
    assert!(ok, "{text}");
    assert!(text.starts_with(&format!("ok: {sent} lines")), "{text}");
    let (ok, text) = verify(&[&log]);
    assert!(
        ok && text.contains("an earlier file"),
        "the new file continues the old chain: {text}"
    );
}

#[test]
fn health_and_readiness() {
    let mut stack = Stack::start(false);
    let admin = stack.gate.metrics_addr.unwrap();
    assert_eq!(get(&format!("http://{admin}/healthz"), &[]).0, 200);
    let (status, _, body) = get(&format!("http://{admin}/readyz"), &[]);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["upstream"],
        "reachable"
    );
    drop(std::mem::replace(&mut stack.mock, start_mock(false)));
    let (status, _, body) = get(&format!("http://{admin}/readyz"), &[]);
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert_eq!(get(&format!("http://{admin}/healthz"), &[]).0, 200);
}

#[test]
fn an_audit_trail_beside_the_watched_config_is_warned_about() {
    // inotify watches directories: every audit write there would wake the reload watcher.
    const WARNING: &str = "audit trail is in a directory watched";
    let mock = start_mock(false);
    let elsewhere = start_gatekeeper(GateOptions::new(mock.addr));
    let mut opts = GateOptions::new(mock.addr);
    opts.env.push((
        "GATEKEEPER_AUDIT_LOG".into(),
        "beside-the-config.log".into(),
    ));
    let beside = start_gatekeeper(opts);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !beside.stderr_so_far().contains(WARNING) {
        assert!(
            Instant::now() < deadline,
            "no warning: {}",
            beside.stderr_so_far()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!elsewhere.stderr_so_far().contains(WARNING));
}

fn gate_with_failing_audit(on_failure: &str) -> (Proc, Proc) {
    let mock = start_mock(false);
    let mut opts = GateOptions::new(mock.addr);
    opts.config_yaml = format!("audit: {{on_failure: {on_failure}, queue: 2}}\n");
    opts.env
        .push(("GATEKEEPER_AUDIT_LOG".into(), "/dev/full".into()));
    (mock, start_gatekeeper(opts))
}

#[test]
fn a_failing_audit_sink_refuses_requests_by_default() {
    let (mock, gate) = gate_with_failing_audit("reject");
    let url = format!("http://{}/mcp", gate.addr);
    let call = tools_call("get_patient", json!({"patient_id":"NUGWI"}));
    let deadline = Instant::now() + Duration::from_secs(15);
    let (status, body) = loop {
        let (status, _, body) = post(&url, Some(&token("Nurse")), &call);
        if status != 200 {
            break (status, body);
        }
        assert!(
            Instant::now() < deadline,
            "the failing sink never stopped requests"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status, 503);
    assert!(message(&body)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("audit"));
    let stats_url = format!("http://{}/stats", mock.addr);
    let reached = |b: Vec<u8>| {
        serde_json::from_slice::<Value>(&b).unwrap()["tools"]["get_patient"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = reached(get(&stats_url, &[]).2);
    assert_eq!(post(&url, Some(&token("Nurse")), &call).0, 503);
    assert_eq!(
        reached(get(&stats_url, &[]).2),
        before,
        "a refused request never reaches the upstream"
    );
}

#[test]
fn in_drop_mode_requests_are_served_and_lost_records_counted() {
    let (_mock, gate) = gate_with_failing_audit("drop");
    let url = format!("http://{}/mcp", gate.addr);
    let call = tools_call("get_patient", json!({"patient_id":"NUGWI"}));
    for _ in 0..10 {
        assert_eq!(post(&url, Some(&token("Nurse")), &call).0, 200);
    }
    assert!(scrape(&gate)["gatekeeper_audit_dropped_total"] >= 1.0);
}

/// Every identifying string in mock-mcp's data set.
fn phi_values() -> Vec<String> {
    let data: Value = serde_json::from_str(include_str!("../mock-mcp/data/hospital.json")).unwrap();
    let mut values = Vec::new();
    for p in data["patients"].as_array().unwrap() {
        for ptr in [
            "/patient_id",
            "/name",
            "/ssn",
            "/phone",
            "/email",
            "/date_of_birth",
            "/mrn",
            "/address/street",
            "/insurance/member_id",
            "/emergency_contact/name",
            "/emergency_contact/phone",
        ] {
            values.extend(p.pointer(ptr).and_then(Value::as_str).map(String::from));
        }
        for note in p["clinical_notes"].as_array().unwrap() {
            values.push(note["text"].as_str().unwrap().to_string());
        }
    }
    values
}

#[test]
fn no_phi_reaches_the_audit_trail_logs_or_metrics() {
    let stack = Stack::start(false);
    let url = stack.url();
    let data: Value = serde_json::from_str(include_str!("../mock-mcp/data/hospital.json")).unwrap();
    for p in data["patients"].as_array().unwrap().iter().take(10) {
        let id = p["patient_id"].as_str().unwrap();
        for role in ["Doctor", "Nurse", "Billing", "Researcher"] {
            for tool in ["get_patient", "get_medical_records", "get_billing"] {
                post(
                    &url,
                    Some(&token(role)),
                    &tools_call(tool, json!({"patient_id": id})),
                );
            }
        }
        let me =
            token_with(json!({"user_id":"p","role":"Patient","patient_id":"NUGWI","exp":now()+60}));
        post(
            &url,
            Some(&me),
            &tools_call("get_medical_records", json!({"patient_id": id})),
        );
        post(
            &url,
            Some(&token("Doctor")),
            &legacy_call("get_medical_records", json!({"patient_id": id})),
        );
    }
    let log = stack.gate.audit_log.clone().unwrap();
    wait_for_lines(&[&log], 10 * 14);
    let metrics = get(
        &format!("http://{}/metrics", stack.gate.metrics_addr.unwrap()),
        &[],
    )
    .2;
    let places = [
        ("audit trail", std::fs::read_to_string(&log).unwrap()),
        ("gatekeeper log", stack.gate.stderr_so_far()),
        ("metrics", String::from_utf8(metrics).unwrap()),
    ];
    for value in phi_values() {
        for (place, text) in &places {
            assert!(!text.contains(&value), "{place} contains PHI: {value}");
        }
    }
}

/// A trail that stalls mid-load (a FIFO nobody reads, `reject`): no request is held — each is
/// served or refused at once — and every request that was served has its line once the trail
/// drains, because its place in the queue was reserved when it was admitted.
#[test]
fn a_stalled_trail_holds_no_request_and_loses_no_served_record() {
    let (_dir, mut held, gate, _mock) = gate_with_fifo_trail(4);
    let url = format!("http://{}/mcp", gate.addr);
    let call = tools_call("get_patient", json!({"patient_id":"NUGWI"}));
    let nurse = token("Nurse");
    let results: Vec<(u16, Duration)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    // One kept-alive connection per client, as MCP clients hold them: a
                    // request the gatekeeper still holds after answering delays the next.
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(30)))
                        .build()
                        .into();
                    let auth = format!("Bearer {nurse}");
                    let mut seen = Vec::new();
                    let until = Instant::now() + Duration::from_secs(4);
                    while Instant::now() < until {
                        let t = Instant::now();
                        let response = agent
                            .post(&url)
                            .header("content-type", "application/json")
                            .header("accept", "application/json, text/event-stream")
                            .header("authorization", &auth)
                            .send(call.to_string())
                            .unwrap();
                        let status = response.status().as_u16();
                        response.into_body().read_to_vec().unwrap();
                        seen.push((status, t.elapsed()));
                    }
                    seen
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let served = results.iter().filter(|(s, _)| *s == 200).count();
    let refused = results.iter().filter(|(s, _)| *s == 503).count();
    assert_eq!(served + refused, results.len(), "only 200 or 503");
    assert!(refused > 0, "the trail never stalled ({served} served)");
    let slowest = results.iter().map(|(_, d)| *d).max().unwrap();
    assert!(
        slowest < Duration::from_millis(1000),
        "a request was held {slowest:?} by the stalled trail"
    );
    // Drain the FIFO: the writer goes on, and every served request's line must come out.
    let lines: Vec<Value> = String::from_utf8(read_until_idle(&mut held))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let served_lines = lines.iter().filter(|r| r["status"] == 200).count();
    assert_eq!(
        served_lines, served,
        "a served request's audit line is missing"
    );
}

/// A slow trail at shutdown: every request was served and answered, but the trail (a FIFO
/// nobody reads yet) holds their records in the queue. SIGTERM must not lose them: the
/// gatekeeper waits, after Pingora's graceful shutdown, while the trail still takes records;
/// the reader here starts only after that shutdown would have ended the process.
#[test]
fn a_shutdown_waits_for_the_trail_to_take_every_served_record() {
    let (_dir, mut held, mut gate, _mock) = gate_with_fifo_trail(5000);
    // More lines than the pipe's 64 KiB hold: most wait in the queue.
    let served = load(&format!("http://{}/mcp", gate.addr), 60);
    let status = Command::new("kill")
        .args(["-TERM", &gate.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Pingora's graceful shutdown takes its one-second grace period; only then read.
    assert!(
        gate.wait_exit(Duration::from_secs(2)).is_none(),
        "the gatekeeper exited with the trail still full"
    );
    let text = read_until_idle(&mut held);
    let exit = gate.wait_exit(Duration::from_secs(10));
    assert!(exit.is_some_and(|s| s.success()), "exit: {exit:?}");
    let lines = String::from_utf8(text).unwrap().lines().count();
    assert_eq!(
        lines, served,
        "served requests' audit lines lost at shutdown"
    );
}

/// A gatekeeper (`on_failure: reject`, a queue of `queue` records) whose audit trail is a FIFO
/// held open read-write here, so its open does not block and nothing reads until the test
/// does; with the directory and the mock that must outlive it.
fn gate_with_fifo_trail(queue: usize) -> (tempfile::TempDir, std::fs::File, Proc, Proc) {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("audit.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc_nonblock())
        .open(&fifo)
        .unwrap();
    let mock = start_mock(false);
    let mut opts = GateOptions::new(mock.addr);
    opts.config_yaml = format!("audit: {{on_failure: reject, queue: {queue}}}\n");
    opts.env
        .push(("GATEKEEPER_AUDIT_LOG".into(), fifo.display().to_string()));
    let gate = start_gatekeeper(opts);
    (dir, held, gate, mock)
}

/// Everything the FIFO gives until it has been quiet for two seconds.
fn read_until_idle(held: &mut std::fs::File) -> Vec<u8> {
    use std::io::Read;
    let mut text = Vec::new();
    let mut buf = [0u8; 65536];
    let mut idle_since = Instant::now();
    while idle_since.elapsed() < Duration::from_secs(2) {
        match held.read(&mut buf) {
            Ok(n) if n > 0 => {
                text.extend_from_slice(&buf[..n]);
                idle_since = Instant::now();
            }
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    text
}

/// `O_NONBLOCK`, so draining the FIFO cannot hang the test (Linux's value).
fn libc_nonblock() -> i32 {
    0o4000
}
