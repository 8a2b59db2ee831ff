//! The official MCP SDK clients through the gatekeeper, for every role of the reference policy:
//! the Python SDK (tests/python/interop.py) and the TypeScript SDK (tests/ts/interop.mjs), each
//! in front of mock-mcp and in front of a third-party server built on the official Python SDK
//! (tests/python/sdk_server.py). What every role must get — tools listed, calls answered and
//! how they are redacted, calls refused, resources and prompts — is tests/sdk_matrix.json; each
//! client prints one `ok NAME` / `FAIL NAME: why` line per check, and this test asserts that
//! every check of every role passed, printing the gatekeeper's stderr when one did not.
//!
//! The environment (`make test` provides it; without it a client is skipped, with a message):
//! - `GATEKEEPER_TEST_PYTHON`: a Python with `mcp` and `pyjwt` (target/pyenv) — the Python
//!   client, and the SDK server (the tests in front of it need Python even for the TS client);
//! - `GATEKEEPER_TEST_NODE`: a `node` (>= 20; v20 and v22 work) for the TypeScript client;
//! - `GATEKEEPER_TEST_TS_DIR`: the directory whose `node_modules` holds
//!   `@modelcontextprotocol/sdk` (`npm ci --prefix tests/ts`); tests/ts when unset.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::*;

/// A whole matrix run of one client takes about a second; this only bounds a hung client.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);
const SERVER_READY_TIMEOUT: Duration = Duration::from_secs(30);

// --- The clients ------------------------------------------------------------------------------

/// One SDK client: how to run its interop script.
struct Client {
    name: &'static str,
    program: String,
    script: PathBuf,
    /// Keeps the TypeScript client's scratch directory (see `typescript_client`) alive.
    _dir: Option<tempfile::TempDir>,
}

fn python() -> Option<String> {
    let python = std::env::var("GATEKEEPER_TEST_PYTHON").ok();
    if python.is_none() {
        eprintln!(
            "GATEKEEPER_TEST_PYTHON is not set: skipping the Python SDK client and the SDK server (make test sets it)"
        );
    }
    python
}

fn python_client() -> Option<Client> {
    Some(Client {
        name: "python",
        program: python()?,
        script: repo_root().join("tests/python/interop.py"),
        _dir: None,
    })
}

/// The TypeScript client. Node resolves `@modelcontextprotocol/sdk` from the script's own
/// directory upwards (ES modules ignore NODE_PATH), so a `GATEKEEPER_TEST_TS_DIR` other than
/// tests/ts gets a scratch directory: a copy of the script beside a link to its node_modules.
fn typescript_client() -> Option<Client> {
    let Ok(node) = std::env::var("GATEKEEPER_TEST_NODE") else {
        eprintln!("GATEKEEPER_TEST_NODE is not set: skipping the TypeScript SDK client (make test sets it)");
        return None;
    };
    let here = repo_root().join("tests/ts");
    let deps =
        std::env::var_os("GATEKEEPER_TEST_TS_DIR").map_or_else(|| here.clone(), PathBuf::from);
    let sdk = deps.join("node_modules/@modelcontextprotocol/sdk/package.json");
    assert!(
        sdk.exists(),
        "{} is missing: install the TypeScript client's dependencies with `npm ci --prefix tests/ts` \
         (or point GATEKEEPER_TEST_TS_DIR at a directory where that was done)",
        sdk.display()
    );
    let script = here.join("interop.mjs");
    if same_dir(&deps, &here) {
        return Some(Client {
            name: "typescript",
            program: node,
            script,
            _dir: None,
        });
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("interop.mjs");
    std::fs::copy(&script, &copy).expect("copying interop.mjs");
    link_dir(&deps.join("node_modules"), &dir.path().join("node_modules"));
    Some(Client {
        name: "typescript",
        program: node,
        script: copy,
        _dir: Some(dir),
    })
}

fn same_dir(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

#[cfg(unix)]
fn link_dir(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("linking node_modules");
}

#[cfg(not(unix))]
fn link_dir(_target: &Path, _link: &Path) {
    panic!("GATEKEEPER_TEST_TS_DIR other than tests/ts needs symlinks (unix)");
}

/// What one client run printed, and how it ended.
struct Run {
    label: String,
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn fails(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("FAIL "))
            .collect()
    }

    /// Why the run did not pass (empty: it did): it must exit 0 with no FAIL line, reach its
    /// closing line (no crash half-way) and have started every role of the matrix.
    fn problems(&self, roles: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        match self.status {
            None => out.push(format!("timed out after {CLIENT_TIMEOUT:?}")),
            Some(s) if !s.success() => out.push(format!("exited {s}")),
            Some(_) => {}
        }
        out.extend(self.fails().iter().map(|l| l.to_string()));
        if !self
            .stdout
            .lines()
            .any(|l| l.starts_with("interop done: ") && l.ends_with(" 0 FAIL"))
        {
            out.push("no `interop done: … 0 FAIL` line".into());
        }
        for role in roles {
            let (ok, fail) = (
                format!("ok {role}/initialize"),
                format!("FAIL {role}/initialize"),
            );
            if !self.stdout.lines().any(|l| l == ok || l.starts_with(&fail)) {
                out.push(format!("no check of role {role} ran"));
            }
        }
        out
    }

    /// One summary line per role: `python × mock-mcp  Nurse  12 ok` or its first failure.
    fn summary(&self, roles: &[String]) -> String {
        let mut out = String::new();
        for role in roles {
            let prefix = format!("{role}/");
            let ok = self
                .stdout
                .lines()
                .filter(|l| {
                    l.strip_prefix("ok ")
                        .is_some_and(|n| n.starts_with(&prefix))
                })
                .count();
            let fails: Vec<&str> = self
                .fails()
                .into_iter()
                .filter(|l| l[5..].starts_with(&prefix))
                .collect();
            let verdict = match fails.first() {
                None => "pass".to_string(),
                Some(first) => format!("FAIL ({} failing), first: {}", fails.len(), &first[5..]),
            };
            out.push_str(&format!(
                "  {:<24} {:<11} {ok:>3} ok  {verdict}\n",
                self.label, role
            ));
        }
        out
    }
}

/// Runs `client` against the gatekeeper at `url` (upstream `upstream` for the baseline).
fn run_client(
    client: &Client,
    server: &str,
    url: &str,
    upstream: SocketAddr,
    args: &[String],
) -> Run {
    let mut cmd = Command::new(&client.program);
    cmd.arg(&client.script)
        .arg(url)
        .args(["--upstream", &format!("http://{upstream}/mcp")])
        .args(["--matrix", &matrix_path().to_string_lossy()])
        .args(args)
        .env("JWT_SECRET", SECRET);
    let (status, stdout, stderr) = output_within(cmd, CLIENT_TIMEOUT);
    Run {
        label: format!("{} × {server}", client.name),
        status,
        stdout,
        stderr,
    }
}

/// Runs a command to its end or `timeout` (then kills it: `None`), collecting its output.
fn output_within(mut cmd: Command, timeout: Duration) -> (Option<ExitStatus>, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().expect("waiting for the client") {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    (
        status,
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    )
}

// --- The matrix and the servers ---------------------------------------------------------------

fn matrix_path() -> PathBuf {
    repo_root().join("tests/sdk_matrix.json")
}

fn matrix() -> Value {
    let text = std::fs::read_to_string(matrix_path()).expect("reading tests/sdk_matrix.json");
    serde_json::from_str(&text).expect("tests/sdk_matrix.json is JSON")
}

fn roles(matrix: &Value) -> Vec<String> {
    matrix["roles"]
        .as_object()
        .expect("matrix roles")
        .keys()
        .cloned()
        .collect()
}

/// tests/python/sdk_server.py on a free port, killed on drop; its stderr kept for failures.
struct SdkServer {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl SdkServer {
    fn start(python: &str) -> SdkServer {
        // The port was free a moment ago; if another process took it meanwhile, try another.
        for _ in 0..3 {
            let port = free_port();
            let mut child = Command::new(python)
                .arg(repo_root().join("tests/python/sdk_server.py"))
                .args(["--port", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawning tests/python/sdk_server.py");
            let stderr = Arc::new(Mutex::new(String::new()));
            let sink = Arc::clone(&stderr);
            let err = child.stderr.take().expect("stderr");
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if let Ok(mut s) = sink.lock() {
                        s.push_str(&line);
                        s.push('\n');
                    }
                }
            });
            // Ready once it announces the bound socket (printed after uvicorn has started).
            let (tx, rx) = mpsc::channel();
            let out = child.stdout.take().expect("stdout");
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if line.starts_with("sdk-server listening on ") {
                        let _ = tx.send(());
                    }
                }
            });
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let server = SdkServer {
                child,
                addr,
                stderr,
            };
            if rx.recv_timeout(SERVER_READY_TIMEOUT).is_ok() {
                return server;
            }
            eprintln!(
                "sdk_server.py did not start on port {port}: {}",
                server.stderr_so_far()
            );
        }
        panic!("tests/python/sdk_server.py did not start");
    }

    fn stderr_so_far(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for SdkServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The reference policy with the matrix's proposed resource/prompt grant merged in (lists
/// appended, maps merged), written beside the test's other temporary files.
fn policy_with_resource_grants(dir: &Path, matrix: &Value) -> PathBuf {
    let text = std::fs::read_to_string(repo_root().join("policy/hospital.yaml"))
        .expect("reading the policy");
    let mut policy: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("policy YAML");
    merge(&mut policy, &matrix["resource_grants"]["policy"]);
    let path = dir.join("hospital-with-resource-grants.yaml");
    std::fs::write(
        &path,
        serde_yaml_ng::to_string(&policy).expect("writing YAML"),
    )
    .expect("writing the policy");
    path
}

fn merge(base: &mut serde_yaml_ng::Value, patch: &Value) {
    use serde_yaml_ng::Value as Y;
    match patch {
        Value::Object(members) => {
            if !base.is_mapping() {
                *base = Y::Mapping(Default::default());
            }
            let map = base.as_mapping_mut().expect("a mapping");
            for (key, value) in members {
                let key = Y::String(key.clone());
                merge(map.entry(key).or_insert(Y::Null), value);
            }
        }
        Value::Array(items) => {
            if !base.is_sequence() {
                *base = Y::Sequence(Vec::new());
            }
            let seq = base.as_sequence_mut().expect("a sequence");
            seq.extend(
                items
                    .iter()
                    .map(|v| serde_yaml_ng::to_value(v).expect("JSON to YAML")),
            );
        }
        scalar => *base = serde_yaml_ng::to_value(scalar).expect("JSON to YAML"),
    }
}

// --- The tests --------------------------------------------------------------------------------

/// What to run, beyond the whole matrix with the reference policy's expectations.
#[derive(Default)]
struct Extra {
    /// Arguments for both clients.
    args: &'static [&'static str],
    /// Arguments for the Python client only (`--legacy`: the web app's call form).
    python: &'static [&'static str],
}

/// Every available client against the gatekeeper `gate` in front of `server`; panics with
/// every failure, the clients' stderr and the gatekeeper's (and upstream's) stderr.
fn run_matrix(
    clients: &[Client],
    server: &str,
    gate: &Proc,
    upstream: SocketAddr,
    upstream_log: &dyn Fn() -> String,
    extra: Extra,
) {
    let roles = roles(&matrix());
    let url = format!("http://{}/mcp", gate.addr);
    let runs: Vec<Run> = clients
        .iter()
        .map(|c| {
            let only = if c.name == "python" {
                extra.python
            } else {
                &[]
            };
            let args: Vec<String> = extra
                .args
                .iter()
                .chain(only)
                .map(|a| a.to_string())
                .collect();
            run_client(c, server, &url, upstream, &args)
        })
        .collect();
    let summary: String = runs.iter().map(|r| r.summary(&roles)).collect();
    let with = match extra.args {
        [] => String::new(),
        args => format!(" ({})", args.join(" ")),
    };
    println!("role × client, in front of {server}{with}:\n{summary}");
    let failed: Vec<String> = runs
        .iter()
        .filter_map(|r| {
            let problems = r.problems(&roles);
            (!problems.is_empty()).then(|| {
                format!(
                    "── {}:\n{}\n── {} stderr (last lines):\n{}",
                    r.label,
                    problems.join("\n"),
                    r.label,
                    last_lines(&r.stderr, 15)
                )
            })
        })
        .collect();
    // The summary is on stdout already (cargo shows it with the failure).
    assert!(
        failed.is_empty(),
        "SDK clients through the gatekeeper in front of {server}:\n{}\n── gatekeeper stderr:\n{}\n── {server} stderr:\n{}",
        failed.join("\n\n"),
        gate.stderr_so_far(),
        last_lines(&upstream_log(), 40)
    );
}

/// The last `n` lines of `text`, or a note that it is empty.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return "(nothing)".into();
    }
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The clients whose environment is set (each missing one says so).
fn clients() -> Vec<Client> {
    [python_client(), typescript_client()]
        .into_iter()
        .flatten()
        .collect()
}

#[test]
fn sdk_clients_through_the_gatekeeper_in_front_of_mock_mcp() {
    let clients = clients();
    if clients.is_empty() {
        return;
    }
    let stack = Stack::start(false);
    let extra = Extra {
        python: &["--legacy"],
        ..Extra::default()
    };
    run_matrix(
        &clients,
        "mock-mcp",
        &stack.gate,
        stack.mock.addr,
        &|| stack.mock.stderr_so_far(),
        extra,
    );
}

#[test]
fn sdk_clients_through_the_gatekeeper_in_front_of_a_python_sdk_server() {
    let Some(python) = python() else { return };
    let clients = clients();
    let server = SdkServer::start(&python);
    let gate = start_gatekeeper(GateOptions::new(server.addr));
    run_matrix(
        &clients,
        "sdk-server",
        &gate,
        server.addr,
        &|| server.stderr_so_far(),
        Extra::default(),
    );
}

/// The reference policy grants no resources or prompts: this runs the resource and prompt
/// checks with the grant the matrix proposes, in front of the SDK server (mock-mcp has none).
#[test]
fn resource_and_prompt_grants_with_a_python_sdk_server() {
    let Some(python) = python() else { return };
    let clients = clients();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = SdkServer::start(&python);
    let mut opts = GateOptions::new(server.addr);
    opts.policy = policy_with_resource_grants(dir.path(), &matrix());
    let gate = start_gatekeeper(opts);
    run_matrix(
        &clients,
        "sdk-server",
        &gate,
        server.addr,
        &|| server.stderr_so_far(),
        Extra {
            args: &[
                "--grants",
                "resource_grants",
                "--sections",
                "resources,prompts",
            ],
            ..Extra::default()
        },
    );
}
