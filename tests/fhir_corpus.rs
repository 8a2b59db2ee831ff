//! FHIR-aware redaction, measured: 35 seeded synthetic patients as FHIR R4 / US Core
//! resources (a searchset Bundle each, returned as an MCP `tools/call` result whose
//! `structuredContent` is repeated pretty-printed in `content[0].text`), and 200 generic,
//! non-FHIR records with addresses, names, phones and dates of birth under many key
//! spellings. Each answer goes through the library exactly as the proxy sends it for a role
//! (the shipped policy, `redactor_for`, `redact_json`), and every planted PHI value is looked
//! for in what comes out — the twin and base64-decoded attachments included — by category:
//! the string itself, or for dates their month and day, for ZIPs a fourth digit. Utility
//! values (systems, codes, displays, units, values, profiles, OIDs, gender, state, country)
//! must come out unchanged in place.
//!
//!     cargo test --test fhir_corpus -- --nocapture    # prints the tables
//!
//! The tables are printed before anything is asserted, so a failing run shows them too.

mod fhir;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use mcp_gatekeeper::auth::identity_from_claims;
use mcp_gatekeeper::redact::{Asked, Redactor};
use serde_json::{json, Value};

use fhir::generic;
use fhir::patients::{self, SSN_SYSTEM};
use fhir::rng::Rng;
use fhir::truth::{Cat, Hay, Needle, Origin, Truth};
use fhir::utility::{utility, Keep, Kind};

const PATIENTS: usize = 35;
const GENERIC_DOCS: usize = 200;
const SEED: u64 = 0xF41C_C0DE_2025_0001;
/// How many leaks or losses the report shows per row.
const EXAMPLES: usize = 3;

fn redactor(role: &str) -> Arc<Redactor> {
    let policy = mcp_gatekeeper::policy_file::parse(include_str!("../policy/hospital.yaml"))
        .expect("the shipped policy loads");
    let claims = json!({"sub": format!("fhir-corpus-{role}"), "role": role});
    let who =
        identity_from_claims(claims.as_object().cloned().unwrap_or_default()).expect("identity");
    policy
        .redactor_for(&who)
        .unwrap_or_else(|| panic!("{role} is redacted"))
}

fn fhir_corpus() -> Vec<(Value, Truth)> {
    let mut rng = Rng::new(SEED);
    (0..PATIENTS)
        .map(|n| patients::bundle(&mut rng, n))
        .collect()
}

fn generic_corpus() -> Vec<(Value, Truth)> {
    let mut rng = Rng::new(SEED ^ 0x6E6E_7269_6300);
    (0..GENERIC_DOCS)
        .map(|n| generic::document(&mut rng, n))
        .collect()
}

/// The `tools/call` answer a hospital MCP server sends: the payload as `structuredContent`
/// and, pretty-printed, as `content[0].text`.
fn answer(id: usize, payload: &Value) -> Vec<u8> {
    let text = serde_json::to_string_pretty(payload).expect("serialises");
    let message = json!({"jsonrpc": "2.0", "id": id, "result": {
        "content": [{"type": "text", "text": text}],
        "structuredContent": payload,
        "isError": false,
    }});
    serde_json::to_vec(&message).expect("serialises")
}

/// A redacted answer: its bytes, searchable text, and its two copies of the payload.
struct Out {
    bytes: Vec<u8>,
    hay: Hay,
    structured: Value,
    twin: Value,
}

fn redact(redactor: &Redactor, id: usize, payload: &Value) -> Out {
    let (bytes, _counts) = redactor
        .redact_json(&answer(id, payload))
        .unwrap_or_else(|e| panic!("document {id}: the redactor failed: {e}"));
    let message: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("document {id}: redacted output is not JSON: {e}"));
    let twin = message
        .pointer("/result/content/0/text")
        .and_then(Value::as_str)
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null);
    Out {
        hay: Hay::of(&bytes),
        bytes,
        structured: message
            .pointer("/result/structuredContent")
            .cloned()
            .unwrap_or(Value::Null),
        twin,
    }
}

#[derive(Default)]
struct Report {
    /// (category, origin) → (leaked, planted)
    leaks: BTreeMap<(Cat, Origin), (usize, usize)>,
    /// (category, origin) → leaks found in a string of about the value's own size: the field
    /// itself (or a copy in a field), not only a mention inside longer text.
    in_field: BTreeMap<(Cat, Origin), usize>,
    leak_examples: BTreeMap<(Cat, Origin), Vec<String>>,
    /// kind → (kept, total)
    kept: BTreeMap<Kind, (usize, usize)>,
    lost_examples: BTreeMap<Kind, Vec<String>>,
}

impl Report {
    fn leaks_in(&mut self, doc: usize, truth: &Truth, out: &Out) {
        for e in &truth.entries {
            let slot = self.leaks.entry((e.cat, e.origin)).or_default();
            slot.1 += 1;
            if let Some(hit) = out.hay.locate(&e.needle, e.shown.len() + 12) {
                slot.0 += 1;
                *self.in_field.entry((e.cat, e.origin)).or_default() += usize::from(hit.in_field);
                let examples = self.leak_examples.entry((e.cat, e.origin)).or_default();
                if examples.len() < EXAMPLES || verbose() {
                    examples.push(format!(
                        "#{doc} {:?}{} found in …{}…",
                        e.shown,
                        if hit.in_field { " (in a field)" } else { "" },
                        out.hay.snippet(hit.at, 50)
                    ));
                }
            }
        }
    }

    fn utility_in(&mut self, doc: usize, keeps: &[Keep], out: &Out) {
        for k in keeps {
            let slot = self.kept.entry(k.kind).or_default();
            slot.1 += 1;
            let s = out.structured.pointer(&k.pointer);
            let t = out.twin.pointer(&k.pointer);
            if s == Some(&k.value) && t == Some(&k.value) {
                slot.0 += 1;
                continue;
            }
            let examples = self.lost_examples.entry(k.kind).or_default();
            if examples.len() < EXAMPLES || verbose() {
                let got = |v: Option<&Value>| v.map_or("(gone)".to_string(), Value::to_string);
                examples.push(format!(
                    "#{doc} {}: {} → structuredContent {} / text {}",
                    k.pointer,
                    k.value,
                    got(s),
                    got(t)
                ));
            }
        }
    }

    fn leaked(&self, cat: Cat, origin: Origin) -> (usize, usize) {
        self.leaks.get(&(cat, origin)).copied().unwrap_or_default()
    }

    fn print_leaks(&self, title: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "\n== {title} ==");
        let _ = writeln!(
            s,
            "{:<28} {:>18} {:>18} {:>11}",
            "category", "structured", "free text", "in a field"
        );
        let cell = |(leaked, total): (usize, usize)| {
            if total == 0 {
                "-".to_string()
            } else {
                format!(
                    "{leaked}/{total} ({:.1}%)",
                    100.0 * leaked as f64 / total as f64
                )
            }
        };
        for cat in Cat::ALL {
            let (st, ft) = (
                self.leaked(cat, Origin::Structured),
                self.leaked(cat, Origin::FreeText),
            );
            if st.1 + ft.1 == 0 {
                continue;
            }
            let fields: usize = [Origin::Structured, Origin::FreeText]
                .iter()
                .filter_map(|o| self.in_field.get(&(cat, *o)))
                .sum();
            let _ = writeln!(
                s,
                "{:<28} {:>18} {:>18} {:>11}",
                cat.label(),
                cell(st),
                cell(ft),
                fields
            );
        }
        let _ = writeln!(
            s,
            "leaked/planted per category: a value counts as leaked wherever it comes out; \
             \"in a field\": leaks also found as a string of about their own size, not only \
             inside text.\nexamples (document, value, where it came out; FHIR_CORPUS_VERBOSE=1 \
             lists all):"
        );
        for ((cat, origin), examples) in &self.leak_examples {
            for e in examples {
                let _ = writeln!(s, "  {} [{origin:?}] {e}", cat.label());
            }
        }
        s
    }

    fn print_utility(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{:<28} {:>14} {:>8}", "utility", "kept/total", "kept");
        let (mut kept, mut total) = (0, 0);
        for kind in Kind::ALL {
            let Some((k, t)) = self.kept.get(&kind).copied() else {
                continue;
            };
            kept += k;
            total += t;
            let _ = writeln!(
                s,
                "{:<28} {:>14} {:>7.1}%",
                kind.label(),
                format!("{k}/{t}"),
                100.0 * k as f64 / t.max(1) as f64
            );
        }
        let _ = writeln!(
            s,
            "{:<28} {:>14} {:>7.1}%",
            "all utility values",
            format!("{kept}/{total}"),
            100.0 * kept as f64 / total.max(1) as f64
        );
        let _ = writeln!(
            s,
            "over-redaction examples (pointer: planted → what came out):"
        );
        for (kind, examples) in &self.lost_examples {
            for e in examples {
                let _ = writeln!(s, "  {} {e}", kind.label());
            }
        }
        s
    }

    fn utility_ratio(&self) -> f64 {
        let (k, t) = self
            .kept
            .values()
            .fold((0, 0), |(k, t), (a, b)| (k + a, t + b));
        k as f64 / t.max(1) as f64
    }
}

/// `FHIR_CORPUS_DUMP=DIR`: each answer as sent and as redacted, `DIR/<label>-<n>.in.json` and
/// `.out.json`, to read what the redactor did.
fn dump(label: &str, n: usize, payload: &Value, out: &Out) {
    let Some(dir) = std::env::var_os("FHIR_CORPUS_DUMP") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("the dump directory");
    let pretty = |v: &Value| serde_json::to_vec_pretty(v).unwrap_or_default();
    let redacted: Value = serde_json::from_slice(&out.bytes).unwrap_or(Value::Null);
    std::fs::write(dir.join(format!("{label}-{n}.in.json")), pretty(payload)).expect("dump");
    std::fs::write(dir.join(format!("{label}-{n}.out.json")), pretty(&redacted)).expect("dump");
}

/// `FHIR_CORPUS_VERBOSE=1`: every leak and every lost value in the report, not a few.
fn verbose() -> bool {
    std::env::var_os("FHIR_CORPUS_VERBOSE").is_some_and(|v| v != "0")
}

fn percent((leaked, total): (usize, usize)) -> f64 {
    100.0 * leaked as f64 / total.max(1) as f64
}

#[test]
fn researcher_safe_harbor_on_fhir_patients() {
    let redactor = redactor("Researcher");
    let mut report = Report::default();
    for (n, (bundle, truth)) in fhir_corpus().iter().enumerate() {
        let out = redact(&redactor, n, bundle);
        dump("researcher-fhir", n, bundle, &out);
        report.leaks_in(n, truth, &out);
        report.utility_in(n, &utility(bundle), &out);
    }
    let table = report.print_leaks(&format!(
        "FHIR R4 / US Core corpus, Researcher (safe_harbor): {PATIENTS} patients"
    ));
    println!("{table}{}", report.print_utility());

    let mut failures = Vec::new();
    for cat in Cat::ALL.into_iter().filter(|c| *c != Cat::Provider) {
        let st = report.leaked(cat, Origin::Structured);
        if st.0 > 0 {
            failures.push(format!(
                "structured {}: {}/{} leaked (target 0)",
                cat.label(),
                st.0,
                st.1
            ));
        }
        let ft = report.leaked(cat, Origin::FreeText);
        if cat.pattern_class() && percent(ft) > 1.0 {
            failures.push(format!(
                "free-text {}: {:.1}% leaked (target ≤ 1%)",
                cat.label(),
                percent(ft)
            ));
        }
        if cat.known_from_structure() && ft.0 > 0 {
            failures.push(format!(
                "free-text {} known from the structure: {}/{} leaked (target 0)",
                cat.label(),
                ft.0,
                ft.1
            ));
        }
    }
    let ratio = report.utility_ratio();
    if ratio < 0.95 {
        failures.push(format!("utility {:.1}% kept (target ≥ 95%)", 100.0 * ratio));
    }
    for kind in Kind::ALL.into_iter().filter(|k| k.untouchable()) {
        if let Some((k, t)) = report.kept.get(&kind).copied().filter(|(k, t)| k < t) {
            failures.push(format!("{}: {k}/{t} untouched (target all)", kind.label()));
        }
    }
    assert!(
        failures.is_empty(),
        "safe_harbor on FHIR misses the targets:\n  {}",
        failures.join("\n  ")
    );
}

#[test]
fn researcher_safe_harbor_on_generic_records() {
    let redactor = redactor("Researcher");
    let mut report = Report::default();
    for (n, (doc, truth)) in generic_corpus().iter().enumerate() {
        let out = redact(&redactor, n, doc);
        dump("researcher-generic", n, doc, &out);
        report.leaks_in(n, truth, &out);
    }
    println!(
        "{}",
        report.print_leaks(&format!(
            "generic (non-FHIR) corpus, Researcher (safe_harbor): {GENERIC_DOCS} documents"
        ))
    );
    let mut failures = Vec::new();
    for cat in [Cat::Street, Cat::City, Cat::Zip, Cat::Zip3Restricted] {
        for origin in [Origin::Structured, Origin::FreeText] {
            let (leaked, total) = report.leaked(cat, origin);
            if leaked > 0 {
                failures.push(format!(
                    "{} [{origin:?}]: {leaked}/{total} leaked (target 0)",
                    cat.label()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "addresses leak from generic records:\n  {}",
        failures.join("\n  ")
    );
}

/// The resources of one type in a bundle, as (entry index, resource).
fn resources<'a>(bundle: &'a Value, kind: &'a str) -> impl Iterator<Item = (usize, &'a Value)> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, e)| (i, &e["resource"]))
        .filter(move |(_, r)| r["resourceType"] == kind)
}

/// The SSN identifier of the bundle's Patient: (its index in `identifier`, its value).
fn ssn_identifier(bundle: &Value) -> (usize, String) {
    let (_, patient) = resources(bundle, "Patient").next().expect("a Patient");
    patient["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .find(|(_, i)| i["system"] == SSN_SYSTEM)
        .and_then(|(n, i)| Some((n, i["value"].as_str()?.to_string())))
        .expect("an SSN identifier")
}

#[test]
fn nurse_sees_the_ssn_identifier_as_its_last_four_digits() {
    let redactor = redactor("Nurse");
    let (mut masked, mut leaked, mut visible) = (0, 0, 0);
    let mut examples = Vec::new();
    let corpus = fhir_corpus();
    for (n, (bundle, _)) in corpus.iter().enumerate() {
        let out = redact(&redactor, n, bundle);
        let (at, ssn) = ssn_identifier(bundle);
        let digits: String = ssn.chars().filter(char::is_ascii_digit).collect();
        let last4 = &digits[5..];
        let ptr = format!("/entry/0/resource/identifier/{at}/value");
        let shown: Vec<String> = [&out.structured, &out.twin]
            .iter()
            .map(|v| v.pointer(&ptr).map_or("(gone)".into(), Value::to_string))
            .collect();
        let last4_only = shown.iter().all(|v| {
            let d: String = v.chars().filter(char::is_ascii_digit).collect();
            d == last4
        });
        let anywhere = out.hay.find(&Needle::Digits(ssn.clone())).is_some()
            || out.hay.find(&Needle::Digits(digits.clone())).is_some();
        masked += usize::from(last4_only && !anywhere);
        leaked += usize::from(anywhere);
        let (_, patient) = resources(bundle, "Patient").next().expect("a Patient");
        let family = patient["name"][0]["family"].as_str().unwrap_or_default();
        let display = resources(bundle, "Condition")
            .next()
            .and_then(|(_, c)| c["code"]["coding"][0]["display"].as_str())
            .unwrap_or_default();
        let sees = out.hay.find(&Needle::Exact(family.to_string())).is_some()
            && out.hay.find(&Needle::Exact(display.to_string())).is_some();
        visible += usize::from(sees);
        if (!last4_only || anywhere || !sees) && examples.len() < EXAMPLES {
            examples.push(format!(
                "#{n} SSN {ssn} came out as {shown:?}; name and diagnosis visible: {sees}"
            ));
        }
    }
    println!(
        "\n== Nurse on {PATIENTS} FHIR patients ==\nSSN identifier masked to its last 4: {masked}/{PATIENTS}\nfull SSN still somewhere: {leaked}/{PATIENTS}\nname and diagnosis visible: {visible}/{PATIENTS}\n  {}",
        examples.join("\n  ")
    );
    assert_eq!(
        (masked, leaked, visible),
        (PATIENTS, 0, PATIENTS),
        "Nurse: SSN identifiers (system {SSN_SYSTEM}) must show only their last 4 digits, names and diagnoses stay"
    );
}

#[test]
fn billing_sees_no_conditions_or_clinical_notes() {
    let redactor = redactor("Billing");
    let mut clean = 0;
    let mut examples = Vec::new();
    for (n, (bundle, _)) in fhir_corpus().iter().enumerate() {
        let out = redact(&redactor, n, bundle);
        let mut seen = Vec::new();
        for (i, _) in resources(bundle, "Condition") {
            let code = format!("/entry/{i}/resource/code");
            let note = format!("/entry/{i}/resource/note");
            for copy in [&out.structured, &out.twin] {
                for ptr in [&code, &note] {
                    if let Some(v) = copy.pointer(ptr).filter(|v| !v.is_null()) {
                        seen.push(format!("{ptr} = {}", truncate(&v.to_string(), 70)));
                    }
                }
            }
        }
        for (_, c) in resources(bundle, "Condition") {
            for coding in c["code"]["coding"].as_array().into_iter().flatten() {
                let display = coding["display"].as_str().unwrap_or_default();
                if let Some(at) = out.hay.find(&Needle::Exact(display.to_string())) {
                    seen.push(format!(
                        "diagnosis {display:?} in …{}…",
                        out.hay.snippet(at, 40)
                    ));
                }
            }
        }
        if out.hay.find(&Needle::Exact("Assessment:".into())).is_some() {
            seen.push("the progress note's assessment (decoded attachment)".into());
        }
        let (_, ssn) = ssn_identifier(bundle);
        let digits: String = ssn.chars().filter(char::is_ascii_digit).collect();
        if out.hay.find(&Needle::Digits(ssn.clone())).is_some()
            || out.hay.find(&Needle::Digits(digits.clone())).is_some()
        {
            seen.push(format!("SSN {ssn}"));
        }
        let family = resources(bundle, "Patient")
            .next()
            .and_then(|(_, p)| p["name"][0]["family"].as_str())
            .unwrap_or_default();
        let name_kept = out.hay.find(&Needle::Exact(family.to_string())).is_some();
        if !name_kept {
            seen.push(format!("(the patient's name {family:?} was removed too)"));
        }
        if seen.is_empty() {
            clean += 1;
        } else if examples.len() < EXAMPLES {
            examples.push(format!("#{n}: {}", seen[..seen.len().min(4)].join("; ")));
        }
    }
    println!(
        "\n== Billing on {PATIENTS} FHIR patients ==\nno Condition, no diagnosis text, no note, no SSN, name kept: {clean}/{PATIENTS}\n  {}",
        examples.join("\n  ")
    );
    assert_eq!(
        clean, PATIENTS,
        "Billing must see no Condition or clinical note, no SSN, and still the patient's name"
    );
}

fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// The corpus goes through `redact_json`; the proxy calls `redact_answer` with what the
/// request asked (`tools/call`). They must agree, or the tables measure something else.
#[test]
fn redact_json_is_what_the_proxy_sends_for_a_tools_call() {
    for role in ["Researcher", "Nurse", "Billing"] {
        let redactor = redactor(role);
        let docs = fhir_corpus()
            .into_iter()
            .chain(generic_corpus().into_iter().take(40));
        for (n, (doc, _)) in docs.enumerate() {
            let body = answer(n, &doc);
            let id = json!(n);
            let asked = Asked::new([(Some(&id), "tools/call", None)]);
            let plain = redactor.redact_json(&body).expect("redacts").0;
            let proxied = redactor.redact_answer(&body, &asked).expect("redacts").0;
            assert!(
                plain == proxied,
                "{role} #{n}: redact_json and redact_answer(tools/call) differ"
            );
        }
    }
}

/// Every string leaf replaced, keys kept: what a perfect redactor would leave of a document.
fn blank_strings(v: &Value) -> Value {
    match v {
        Value::String(_) => json!("[X]"),
        Value::Array(items) => Value::Array(items.iter().map(blank_strings).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), blank_strings(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The harness itself: the corpus is the same on every run, has what the issue asks for, every
/// planted value is found in the unredacted answer (a needle that cannot match would hide a
/// leak) and none in an answer whose strings are all blanked (a needle matching keys, numbers
/// or the protocol would invent one), and every utility pointer resolves.
#[test]
fn the_corpus_is_deterministic_complete_and_its_needles_are_sound() {
    let (a, b) = (fhir_corpus(), fhir_corpus());
    assert!(
        a.iter().zip(&b).all(|(x, y)| x.0 == y.0),
        "FHIR corpus not deterministic"
    );
    let (g1, g2) = (generic_corpus(), generic_corpus());
    assert!(
        g1.iter().zip(&g2).all(|(x, y)| x.0 == y.0),
        "generic corpus not deterministic"
    );
    assert_eq!((a.len(), g1.len()), (PATIENTS, GENERIC_DOCS));

    let mut planted: BTreeMap<Cat, usize> = BTreeMap::new();
    let mut kinds: BTreeMap<Kind, usize> = BTreeMap::new();
    let (mut over_89, mut restricted, mut types) = (0, 0, BTreeMap::<String, usize>::new());
    for (n, (doc, truth)) in a.iter().chain(g1.iter()).enumerate() {
        let raw = answer(n, doc);
        let hay = Hay::of(&raw);
        for e in &truth.entries {
            *planted.entry(e.cat).or_default() += 1;
            assert!(
                hay.find(&e.needle).is_some(),
                "#{n}: planted {:?} ({}) not found unredacted by {:?}",
                e.shown,
                e.cat.label(),
                e.needle
            );
        }
        let blank = Hay::of(&answer(n, &blank_strings(doc)));
        for e in &truth.entries {
            assert!(
                blank.find(&e.needle).is_none(),
                "#{n}: needle {:?} for {:?} matches a document without strings",
                e.needle,
                e.shown
            );
        }
        if n < PATIENTS {
            over_89 += usize::from(truth.count(Cat::BirthYear90, Origin::Structured) > 0);
            restricted += usize::from(truth.count(Cat::Zip3Restricted, Origin::Structured) > 0);
        }
    }
    for (bundle, _) in &a {
        assert_eq!(bundle["type"], "searchset");
        for e in bundle["entry"].as_array().unwrap() {
            assert!(e["fullUrl"].is_string());
            *types
                .entry(e["resource"]["resourceType"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        for k in utility(bundle) {
            assert_eq!(bundle.pointer(&k.pointer), Some(&k.value), "{}", k.pointer);
            *kinds.entry(k.kind).or_default() += 1;
        }
        let text = bundle.to_string();
        for must in [
            "\"contained\"",
            "\"photo\"",
            patients::EPI_OID,
            patients::SSN_SYSTEM,
            "http://snomed.info/sct",
            "http://hl7.org/fhir/sid/icd-10-cm",
            "us-core-race",
        ] {
            assert!(text.contains(must), "a bundle without {must}");
        }
    }
    println!("planted per category: {planted:?}\nutility values per kind: {kinds:?}\nresources: {types:?}\npatients over 89: {over_89}, in restricted ZIP3 areas: {restricted}");
    for t in [
        "Patient",
        "Encounter",
        "Condition",
        "Observation",
        "MedicationRequest",
        "DocumentReference",
    ] {
        assert!(
            types.get(t).copied().unwrap_or(0) >= PATIENTS,
            "{t}: {types:?}"
        );
    }
    assert!(
        over_89 >= 5 && restricted >= 10,
        "{over_89} over 89, {restricted} restricted"
    );
    for kind in Kind::ALL {
        assert!(
            kinds.get(&kind).copied().unwrap_or(0) > 0,
            "no {}",
            kind.label()
        );
    }
    for cat in Cat::ALL {
        assert!(
            planted.get(&cat).copied().unwrap_or(0) > 0,
            "nothing planted for {}",
            cat.label()
        );
    }
}
