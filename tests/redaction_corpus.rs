//! Detector quality on a seeded synthetic corpus of MCP-shaped responses: free text with known
//! identifiers of every type and look-alike distractors. Recall must reach 0.99 for every
//! pattern-class identifier, field-rule values must never leak, and precision is reported.
//!
//!     cargo test --test redaction_corpus -- --nocapture    # prints the table

use std::collections::BTreeMap;

use mcp_gatekeeper::auth::Identity;
use serde_json::{json, Value};

/// xorshift64*: a deterministic generator, so the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn luhn_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 0 {
                let dd = d * 2;
                if dd > 9 {
                    dd - 9
                } else {
                    dd
                }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MBI_LETTERS: &[u8] = b"ACDEFGHJKMNPQRTUVWXY";

/// One identifier of `kind`, rendered in one of its usual spellings, inside a phrase.
fn identifier(rng: &mut Rng, kind: &str) -> (String, String) {
    let value = match kind {
        "ssn" => {
            let area = loop {
                let a = 1 + rng.below(899);
                if a != 666 {
                    break a;
                }
            };
            format!(
                "{area:03}-{:02}-{:04}",
                1 + rng.below(99),
                1 + rng.below(9999)
            )
        }
        "phone" => {
            let (a, b) = (
                rng.pick(&["617", "207", "860", "401", "212", "415"]),
                rng.digits(4),
            );
            match rng.below(4) {
                0 => format!("({a}) 555-{b}"),
                1 => format!("{a}-555-{b}"),
                2 => format!("{a}.555.{b}"),
                _ => format!("+44{}", rng.digits(10)),
            }
        }
        "email" => format!(
            "{}.{}{}@{}",
            rng.pick(&["ana", "li", "omar", "zoe"]),
            rng.pick(&["ruiz", "chen", "haddad"]),
            rng.below(99),
            rng.pick(&["example.org", "mail.example.com"])
        ),
        "date" => {
            let (y, m, d) = (1940 + rng.below(85), 1 + rng.below(12), 1 + rng.below(28));
            match rng.below(3) {
                0 => format!("{y}-{m:02}-{d:02}"),
                1 => format!("{m}/{d}/{y}"),
                _ => format!("{} {d}, {y}", MONTHS[m as usize - 1]),
            }
        }
        "mrn" => match rng.below(2) {
            0 => format!("MRN-{}", rng.digits(7)),
            _ => format!("MRN: {}", rng.digits(8)),
        },
        "member_id" => format!("{}{}", rng.pick(&["XKH", "BCA", "QMZ"]), rng.digits(9)),
        "ip" => match rng.below(2) {
            0 => format!(
                "10.{}.{}.{}",
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            ),
            _ => format!(
                "2001:db8:{:x}::{:x}",
                rng.below(65535),
                1 + rng.below(65535)
            ),
        },
        "url" => format!("https://portal.example.org/records/{}", rng.digits(6)),
        "card" => {
            let body = format!("4{}", rng.digits(14));
            let card = format!("{body}{}", luhn_digit(&body));
            format!(
                "{} {} {} {}",
                &card[..4],
                &card[4..8],
                &card[8..12],
                &card[12..]
            )
        }
        "npi" => {
            let body = format!("1{}", rng.digits(8));
            let check = luhn_digit(&format!("80840{body}"));
            format!("NPI {body}{check}")
        }
        "mbi" => {
            let l = |rng: &mut Rng| {
                char::from(MBI_LETTERS[rng.below(MBI_LETTERS.len() as u64) as usize])
            };
            format!(
                "{}{}{}{}-{}{}{}-{}{}{}{}",
                1 + rng.below(9),
                l(rng),
                l(rng),
                rng.below(10),
                l(rng),
                l(rng),
                rng.below(10),
                l(rng),
                l(rng),
                rng.below(10),
                rng.below(10)
            )
        }
        "zip" => format!(
            "{}, {} {}",
            rng.pick(&["Boston", "Hartford", "Albany"]),
            rng.pick(&["MA", "CT", "NY"]),
            rng.digits(5)
        ),
        "age" => format!("{}-year-old", 90 + rng.below(15)),
        _ => unreachable!(),
    };
    let phrase = format!(
        "{} {value}{}",
        rng.pick(&["noted", "see", "recorded:", "ref", "per"]),
        rng.pick(&[".", ";", ",", ""])
    );
    (value, phrase)
}

const KINDS: [&str; 13] = [
    "ssn",
    "phone",
    "email",
    "date",
    "mrn",
    "member_id",
    "ip",
    "url",
    "card",
    "npi",
    "mbi",
    "zip",
    "age",
];

/// Harmless look-alikes that must come through untouched.
fn distractor(rng: &mut Rng) -> String {
    match rng.below(9) {
        0 => format!("Lab order ORD-{}-{}", 2020 + rng.below(6), rng.digits(5)),
        1 => format!("HbA1c {}.{}%", 5 + rng.below(5), rng.below(10)),
        2 => format!("LDL {} mg/dL", 70 + rng.below(120)),
        3 => format!("app v{}.{}.{}", rng.below(5), rng.below(20), rng.below(20)),
        4 => {
            let body = format!("4{}", rng.digits(14));
            let good = luhn_digit(&body);
            let bad = char::from(b'0' + ((good as u8 - b'0' + 1) % 10));
            format!("card {body}{bad}")
        }
        5 => format!(
            "{}-{:02}-{:04} is not an SSN",
            900 + rng.below(100),
            1 + rng.below(99),
            1 + rng.below(9999)
        ),
        6 => format!(
            "logged 2024-0{}-1{}T0{}:15:00Z",
            1 + rng.below(9),
            rng.below(9),
            rng.below(9)
        ),
        7 => format!("BP {}/{}", 100 + rng.below(60), 60 + rng.below(40)),
        _ => format!("ticket {}", rng.digits(4)),
    }
}

fn researcher() -> std::sync::Arc<mcp_gatekeeper::redact::Redactor> {
    let policy =
        mcp_gatekeeper::policy_file::parse(include_str!("../policy/hospital.yaml")).unwrap();
    let who = Identity {
        user_id: "r".into(),
        username: None,
        roles: vec!["Researcher".into()],
        claims: Default::default(),
        certificate: None,
    };
    policy.redactor_for(&who).expect("researchers are redacted")
}

#[test]
fn recall_precision_and_field_leaks_on_a_seeded_corpus() {
    let redactor = researcher();
    let mut rng = Rng(0x5EED_0FC0_FFEE);
    let mut planted: BTreeMap<&str, (u64, u64)> = BTreeMap::new(); // kind → (planted, caught)
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    let (mut distractors, mut distractors_kept) = (0, 0);
    let mut field_leaks = Vec::new();
    for n in 0..3000 {
        let mut sentences = Vec::new();
        let mut values = Vec::new();
        for _ in 0..4 {
            let kind = KINDS[rng.below(KINDS.len() as u64) as usize];
            let (value, phrase) = identifier(&mut rng, kind);
            sentences.push(phrase);
            values.push((kind, value));
        }
        let mut noise = Vec::new();
        for _ in 0..3 {
            let d = distractor(&mut rng);
            sentences.push(d.clone());
            noise.push(d);
        }
        // Shuffle so identifiers and distractors sit in every order.
        for i in (1..sentences.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            sentences.swap(i, j);
        }
        let ssn = format!(
            "{:03}-{:02}-{:04}",
            100 + rng.below(500),
            1 + rng.below(98),
            1 + rng.below(9998)
        );
        let name = format!(
            "{} {}",
            ["Ana", "Omar", "Zoe"][n % 3],
            ["Ruiz", "Haddad", "Chen"][n % 3]
        );
        let mut message = json!({"jsonrpc":"2.0","id":n,"result":{"structuredContent":{
            "note": sentences.join(" "),
            "patient": {"ssn": ssn, "name": name, "diagnosis": "Essential hypertension"}
        }}});
        let counts = redactor.redact_value(&mut message).expect("redacts");
        for (k, v) in counts {
            *counted.entry(k.to_string()).or_default() += v;
        }
        let out = message.to_string();
        for (kind, value) in values {
            let e = planted.entry(kind).or_default();
            e.0 += 1;
            if !out.contains(&value) {
                e.1 += 1;
            }
        }
        for d in noise {
            distractors += 1;
            if out.contains(&d) {
                distractors_kept += 1;
            }
        }
        for v in [&ssn, &name] {
            if out.contains(v.as_str()) {
                field_leaks.push(v.clone());
            }
        }
        assert!(out.contains("Essential hypertension"));
    }
    eprintln!(
        "{:<10} {:>8} {:>8} {:>8} {:>10}",
        "entity", "planted", "caught", "recall", "precision"
    );
    let mut failures = Vec::new();
    for (kind, (total, caught)) in &planted {
        let recall = *caught as f64 / *total as f64;
        let flagged = counted.get(*kind).copied().unwrap_or(0);
        // Field-rule redactions of the planted `patient.ssn` are counted as ssn too.
        let flagged = if *kind == "ssn" {
            flagged.saturating_sub(3000)
        } else {
            flagged
        };
        let precision = if flagged == 0 {
            1.0
        } else {
            (*caught as f64 / flagged as f64).min(1.0)
        };
        eprintln!("{kind:<10} {total:>8} {caught:>8} {recall:>8.4} {precision:>10.4}");
        if recall < 0.99 {
            failures.push(format!("{kind}: recall {recall:.4}"));
        }
    }
    let kept = distractors_kept as f64 / distractors as f64;
    eprintln!("distractors: {distractors_kept}/{distractors} left intact ({kept:.4})");
    assert!(
        field_leaks.is_empty(),
        "field-rule values leaked: {:?}",
        &field_leaks[..field_leaks.len().min(5)]
    );
    assert!(failures.is_empty(), "recall below 0.99: {failures:?}");
    assert!(kept >= 0.95, "too many distractors redacted: {kept:.4}");
}

#[test]
fn the_json_in_content_text_gets_the_field_rules_too() {
    let redactor = researcher();
    let payload = json!({"patient":{"ssn":"123-45-6789","name":"Ana Ruiz","mrn":"MRN-1234567"}});
    let mut message = json!({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":payload.to_string()}]}});
    redactor.redact_value(&mut message).expect("redacts");
    let text = message["result"]["content"][0]["text"].as_str().unwrap();
    let inner: Value = serde_json::from_str(text).unwrap();
    assert_eq!(inner["patient"]["name"], "[REDACTED:NAME]");
    assert!(!text.contains("123-45-6789") && !text.contains("MRN-1234567"));
}
