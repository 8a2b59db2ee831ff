//! Live policy: edits take effect without a restart; invalid versions never do; requests keep
//! flowing (zero 5xx, none dropped) while the file is rewritten under load.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const HOSPITAL: &str = include_str!("../policy/hospital.yaml");

/// The hospital policy plus `get_billing` for Nurses.
fn nurse_bills() -> String {
    HOSPITAL.replace(
        "tools: [get_patient, get_medical_records, list_appointments]",
        "tools: [get_patient, get_medical_records, list_appointments, get_billing]",
    )
}

/// Versions that must never take effect. Each would let a Nurse call add_clinical_note.
const INVALID: [&str; 4] = [
    // a role that inherits a role that does not exist
    "roles:\n  Nurse:\n    tools: ['*']\n  Bad:\n    inherits: [Ghost]\n",
    // the same role twice
    "roles:\n  Nurse:\n    tools: [get_patient]\n  Nurse:\n    tools: ['*']\n",
    // a file cut off mid-write
    "roles:\n  Nurse:\n    tools: [get_patient, add_clinical_note",
    // an unknown key
    "roles:\n  Nurse:\n    tools: ['*']\n    tool: [x]\n",
];

struct Fixture {
    _mock: Proc,
    gate: Proc,
    policy: PathBuf,
    _dir: tempfile::TempDir,
}

fn start(config_yaml: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, HOSPITAL).unwrap();
    let mock = start_mock(false);
    let mut opts = GateOptions::new(mock.addr);
    opts.policy = policy.clone();
    opts.config_yaml = config_yaml.into();
    let gate = start_gatekeeper(opts);
    Fixture {
        _mock: mock,
        gate,
        policy,
        _dir: dir,
    }
}

impl Fixture {
    /// The configuration file the gatekeeper was started with.
    fn gate_config(&self) -> PathBuf {
        self.gate.config_path().expect("config path")
    }

    fn url(&self) -> String {
        format!("http://{}/mcp", self.gate.addr)
    }

    fn status(&self, role: &str, tool: &str) -> u16 {
        post(
            &self.url(),
            Some(&token(role)),
            &tools_call(tool, json!({"patient_id":"NUGWI","note":"x"})),
        )
        .0
    }

    /// Polls until `tool` answers `want` for `role` (readiness, not a fixed sleep).
    fn wait_for(&self, role: &str, tool: &str, want: u16) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.status(role, tool) == want {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "{role} {tool} never became {want}:\n{}",
            self.gate.stderr_so_far()
        );
    }
}

/// Replaces the file the way editors do: write a temporary file, then rename it over.
fn replace_by_rename(path: &Path, text: &str) {
    let tmp = path.with_extension("yaml.swp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn edits_apply_without_a_restart_and_invalid_versions_never_do() {
    let f = start("");
    assert_eq!(f.status("Nurse", "get_billing"), 403);

    std::fs::write(&f.policy, nurse_bills()).unwrap();
    f.wait_for("Nurse", "get_billing", 200);

    let rejections = || f.gate.stderr_so_far().matches("rejected").count();
    for (i, bad) in INVALID.iter().enumerate() {
        let seen = rejections();
        if i % 2 == 0 {
            std::fs::write(&f.policy, bad).unwrap();
        } else {
            replace_by_rename(&f.policy, bad);
        }
        // Wait until the gatekeeper has seen and rejected it (its log says so), then check.
        let deadline = Instant::now() + Duration::from_secs(15);
        while rejections() == seen {
            assert!(
                Instant::now() < deadline,
                "invalid version {i} was never reported"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        assert_eq!(
            f.status("Nurse", "add_clinical_note"),
            403,
            "invalid version {i} took effect"
        );
        assert_eq!(
            f.status("Nurse", "get_billing"),
            200,
            "the last good policy stays in force"
        );
    }

    replace_by_rename(&f.policy, HOSPITAL);
    f.wait_for("Nurse", "get_billing", 403);
}

#[test]
fn sighup_reloads_when_file_watching_is_off() {
    let f = start("watch_files: false\n");
    std::fs::write(&f.policy, nurse_bills()).unwrap();
    assert_eq!(f.status("Nurse", "get_billing"), 403);
    let status = std::process::Command::new("kill")
        .args(["-HUP", &f.gate.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    f.wait_for("Nurse", "get_billing", 200);
    assert_eq!(
        f.status("Doctor", "get_patient"),
        200,
        "SIGHUP did not stop the process"
    );
}

/// A policy version in force: confirmed live at `.0`, superseded by a write at `.1`,
/// allowing Nurses to bill when `.2`.
type Window = (Instant, Option<Instant>, bool);

/// One observed request: when it started and ended, and what it got.
struct Observation {
    start: Instant,
    end: Instant,
    tool: &'static str,
    status: u16,
}

#[test]
fn under_load_every_answer_follows_the_policy_in_force() {
    const CLIENTS: usize = 8;
    const PER_CLIENT: usize = 250;
    let f = Arc::new(start(""));
    let stop_writer = Arc::new(AtomicBool::new(false));
    // (time the version was confirmed live, time the next valid version was written, allows billing)
    let windows: Arc<Mutex<Vec<Window>>> =
        Arc::new(Mutex::new(vec![(Instant::now(), None, false)]));

    let writer = {
        let (f, stop, windows) = (f.clone(), stop_writer.clone(), windows.clone());
        std::thread::spawn(move || {
            let mut bills = false;
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                let bad = INVALID[round % INVALID.len()];
                replace_by_rename(&f.policy, bad);
                std::thread::sleep(Duration::from_millis(200));
                bills = !bills;
                let written = Instant::now();
                windows.lock().unwrap().last_mut().unwrap().1 = Some(written);
                replace_by_rename(
                    &f.policy,
                    &if bills {
                        nurse_bills()
                    } else {
                        HOSPITAL.to_string()
                    },
                );
                f.wait_for("Nurse", "get_billing", if bills { 200 } else { 403 });
                windows.lock().unwrap().push((Instant::now(), None, bills));
                round += 1;
                std::thread::sleep(Duration::from_millis(150));
            }
            round
        })
    };

    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let f = f.clone();
            std::thread::spawn(move || {
                (0..PER_CLIENT)
                    .map(|i| {
                        let tool = if (i + c) % 5 == 0 {
                            "add_clinical_note"
                        } else {
                            "get_billing"
                        };
                        let start = Instant::now();
                        let status = f.status("Nurse", tool);
                        Observation {
                            start,
                            end: Instant::now(),
                            tool,
                            status,
                        }
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let observations: Vec<Observation> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    stop_writer.store(true, Ordering::Relaxed);
    let rounds = writer.join().unwrap();

    assert_eq!(
        observations.len(),
        CLIENTS * PER_CLIENT,
        "every request got an answer"
    );
    assert!(rounds >= 3, "the policy was rewritten only {rounds} times");
    let server_errors: Vec<u16> = observations
        .iter()
        .filter(|o| o.status >= 500)
        .map(|o| o.status)
        .collect();
    assert!(
        server_errors.is_empty(),
        "5xx answers: {server_errors:?}\n{}",
        f.gate
            .stderr_so_far()
            .lines()
            .filter(|l| l.contains("ERROR") || l.contains("WARN"))
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
    for o in &observations {
        assert!(
            o.status == 200 || o.status == 403,
            "unexpected status {}",
            o.status
        );
        if o.tool == "add_clinical_note" {
            assert_eq!(o.status, 403, "an invalid policy version took effect");
        }
    }
    let windows = windows.lock().unwrap();
    let mut checked = 0;
    for o in observations.iter().filter(|o| o.tool == "get_billing") {
        let inside = windows
            .iter()
            .find(|(live, next, _)| o.start >= *live && next.is_none_or(|n| o.end < n));
        if let Some((_, _, bills)) = inside {
            assert_eq!(
                o.status,
                if *bills { 200 } else { 403 },
                "answer disagrees with the policy in force"
            );
            checked += 1;
        }
    }
    eprintln!("{} requests, {rounds} rewrites (each an invalid then a valid version), {checked} answers checked against a confirmed window", observations.len());
    assert!(
        checked > CLIENTS * PER_CLIENT / 4,
        "only {checked} answers fell inside a confirmed window"
    );
}

#[test]
fn jwt_settings_reload_from_the_config_file() {
    let f = start("jwt: {require_exp: true}\n");
    let no_exp = token_with(json!({"user_id":"1","role":"Doctor"}));
    let call = tools_call("get_patient", json!({"patient_id":"NUGWI"}));
    assert_eq!(post(&f.url(), Some(&no_exp), &call).0, 401);
    let config = f.gate_config();
    std::fs::write(&config, "jwt: {require_exp: false}\nthreads: 3\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while post(&f.url(), Some(&no_exp), &call).0 != 200 {
        assert!(Instant::now() < deadline, "{}", f.gate.stderr_so_far());
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(f
        .gate
        .stderr_so_far()
        .contains("'threads' changed; it takes effect after a restart"));
}

#[test]
fn a_shadow_policy_is_logged_never_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let shadow = dir.path().join("candidate.yaml");
    std::fs::write(&shadow, nurse_bills()).unwrap();
    let f = start(&format!("shadow_policy: {}\n", shadow.display()));
    assert_eq!(
        f.status("Nurse", "get_billing"),
        403,
        "the live policy decides"
    );
    assert_eq!(f.status("Nurse", "get_patient"), 200);
    let log = f.gate.stderr_so_far();
    let disagreements: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("shadow policy disagrees"))
        .collect();
    assert_eq!(disagreements.len(), 1, "{log}");
    assert!(disagreements[0].contains("get_billing") && disagreements[0].contains("total=1"));
}
