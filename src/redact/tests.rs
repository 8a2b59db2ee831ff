use super::*;
use serde_json::{json, Value};

use super::config::RedactionFile;

/// The year these tests run in, as the shell would read it from the clock.
const YEAR: i32 = 2026;

const NURSE: &str = r#"
profiles:
  nurse:
    fields:
      - { key: ssn, action: { partial: 4 }, entity: ssn }
      - { key: "*member_id*", action: { partial: 4 }, entity: member_id }
    detect: { ssn: { partial: 4 }, member_id: { partial: 4 } }
  billing:
    fields:
      - { key: diagnoses, action: remove }
      - { key: clinical_notes, action: remove }
      - { key: ssn, action: mask, entity: ssn }
    detect: { ssn: mask }
roles:
  Doctor: none
  Nurse: nurse
  Billing: billing
"#;

fn redaction() -> Redaction {
    let file: RedactionFile = serde_yaml_ng::from_str(NURSE).unwrap();
    Redaction::compile(Some(&file), None, YEAR).unwrap()
}

fn patient() -> Value {
    json!({"patient_id":"NUGWI","name":"Noah Ferreira","date_of_birth":"1934-06-01","ssn":"123-45-6789",
        "phone":"401-555-0154","email":"noah.ferreira3@example.org",
        "address":{"street":"251 Granite Way","city":"Hartford","state":"CT","zip":"06184"},
        "mrn":"MRN-4080828","insurance":{"payer":"Medicare","member_id":"XKH019662164"},
        "diagnoses":[{"code":"I10","description":"Essential hypertension"}],
        "clinical_notes":[{"note_id":"N-NUGWI-1","text":"Spoke with Noah Ferreira at 401-555-0154; SSN 123-45-6789 confirmed. HbA1c 7.2%. Seen 03/04/2024."}]})
}

fn mcp(payload: &Value) -> Value {
    json!({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":payload.to_string()}],
        "structuredContent":payload,"isError":false}})
}

fn redact(role: &str, msg: &Value) -> (String, Counts) {
    let r = redaction().for_roles(&[role.to_string()]);
    let mut m = msg.clone();
    let counts = r
        .map(|r| r.redact_value(&mut m).unwrap())
        .unwrap_or_default();
    (m.to_string(), counts)
}

#[test]
fn doctor_sees_everything() {
    assert!(redaction().for_roles(&["Doctor".into()]).is_none());
}

#[test]
fn nurse_sees_ssn_and_member_id_last_four_in_every_copy() {
    let (out, counts) = redact("Nurse", &mcp(&patient()));
    assert!(
        !out.contains("123-45-6789") && !out.contains("XKH019662164"),
        "{out}"
    );
    assert!(
        out.contains("***-**-6789") && out.contains("********2164"),
        "{out}"
    );
    assert!(out.contains("Noah Ferreira") && out.contains("Essential hypertension"));
    assert!(counts["ssn"] >= 4, "{counts:?}");
}

#[test]
fn billing_loses_clinical_content_and_the_ssn() {
    let (out, _) = redact("Billing", &mcp(&patient()));
    assert!(
        !out.contains("hypertension") && !out.contains("HbA1c"),
        "{out}"
    );
    assert!(!out.contains("6789"), "{out}");
    assert!(out.contains("[REDACTED:SSN]") && out.contains("XKH019662164"));
}

#[test]
fn unknown_roles_get_safe_harbor() {
    for role in ["Researcher", "Janitor"] {
        let (out, counts) = redact(role, &mcp(&patient()));
        for phi in [
            "Noah",
            "Ferreira",
            "123-45-6789",
            "401-555-0154",
            "noah.ferreira3",
            "251 Granite Way",
            "Hartford",
            "06184",
            "MRN-4080828",
            "XKH019662164",
            "1934-06-01",
            "03/04/2024",
            "NUGWI",
        ] {
            assert!(!out.contains(phi), "{role}: {phi} leaked in {out}");
        }
        assert!(
            out.contains("Essential hypertension") && out.contains("HbA1c 7.2%"),
            "{out}"
        );
        assert!(out.contains("\"zip\":\"061\""), "{out}");
        assert!(counts.values().sum::<u64>() > 10);
    }
}

#[test]
fn legacy_data_and_errors_are_redacted_too() {
    let legacy = json!({"jsonrpc":"2.0","id":1,"result":{"data":[patient()]}});
    let (out, _) = redact("Nurse", &legacy);
    assert!(!out.contains("123-45-6789"), "{out}");
    let error = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"No record for SSN 123-45-6789","data":{"ssn":"123-45-6789"}}});
    let (out, _) = redact("Nurse", &error);
    assert!(!out.contains("123-45-6789"), "{out}");
}

#[test]
fn safe_harbor_generalises_zips_dates_and_ages() {
    let r = redaction().for_roles(&["Researcher".into()]).unwrap();
    let mut m = json!({"jsonrpc":"2.0","id":1,"result":{"structuredContent":{"zip":"03601","onset_date":"2019-05-02","age":93,"note":"a 93-year-old seen on March 3, 2024"}}});
    r.redact_value(&mut m).unwrap();
    let s = &m["result"]["structuredContent"];
    assert_eq!(s["zip"], "000");
    assert_eq!(s["onset_date"], "2019");
    assert_eq!(s["age"], "90+");
    assert_eq!(s["note"], "a 90+ seen on 2024");
}

#[test]
fn hashing_needs_a_key() {
    let file: RedactionFile =
        serde_yaml_ng::from_str("profiles:\n  p:\n    detect: {ssn: hash}\nroles: {R: p}\n")
            .unwrap();
    assert!(Redaction::compile(Some(&file), None, YEAR).is_err());
    let r = Redaction::compile(Some(&file), Some(b"k".to_vec()), YEAR).unwrap();
    let r = r.for_roles(&["R".into()]).unwrap();
    let (a, _) = r.redact_text("SSN 123-45-6789");
    let (b, _) = r.redact_text("again 123-45-6789");
    assert!(
        a.starts_with("SSN [SSN:") && a[4..] == b[6..],
        "stable pseudonym: {a} / {b}"
    );
}

#[test]
fn data_outside_the_mcp_sections_is_redacted_too() {
    // A server may add members of its own, or answer with JSON that is not JSON-RPC at all:
    // neither is a way around the rules (found by the sse_redact fuzz target).
    let redactor = redaction().for_roles(&["Billing".to_string()]).unwrap();
    let mut extra = json!({"jsonrpc":"2.0","id":1,"result":{"content":[],"patient":patient()},
        "debug":{"ssn":"123-45-6789","echo":"SSN 123-45-6789"}});
    redactor.redact_value(&mut extra).unwrap();
    let text = extra.to_string();
    assert!(!text.contains("123-45-6789"), "{text}");
    assert!(
        !text.contains("Essential hypertension"),
        "field rules apply beside content: {text}"
    );
    let (bare, counts) = redactor.redact_json(br#"{"x":"SSN 123-45-6789"}"#).unwrap();
    assert!(!String::from_utf8_lossy(&bare).contains("123-45-6789"));
    assert_eq!(counts.values().sum::<u64>(), 1);
    let (scalar, _) = redactor.redact_json(br#""123-45-6789""#).unwrap();
    assert!(!String::from_utf8_lossy(&scalar).contains("123-45-6789"));
}

#[test]
fn an_ssn_glued_to_letters_is_still_found_but_not_inside_longer_numbers() {
    let redactor = redaction().for_roles(&["Billing".to_string()]).unwrap();
    for text in ["SSN123-45-6789", "ssn:123-45-6789.", "x 123-45-6789mment"] {
        let (out, _) = redactor.redact_text(text);
        assert!(!out.contains("123-45-6789"), "{text} -> {out}");
    }
    for text in [
        "order 9123-45-6789",
        "ref 123-45-6789-01",
        "part 123-45-67890",
    ] {
        let (out, _) = redactor.redact_text(text);
        assert_eq!(out, text, "not an SSN");
    }
}

#[test]
fn a_rejected_candidate_does_not_hide_what_it_covered() {
    // "8123-45-6789 123-45-6789" reads as one 19-digit card number (Luhn-invalid): rejecting it
    // must not hide the SSN it spans (found by the sse_redact fuzz target).
    let redactor = redaction().for_roles(&["Billing".to_string()]).unwrap();
    let (out, _) = redactor.redact_text("ref 8123-45-6789 123-45-6789, ok");
    assert_eq!(out, "ref 8123-45-6789 [REDACTED:SSN], ok");
}

#[test]
fn a_zip_inside_a_longer_number_is_left_alone() {
    // Generalising "12323" of "SN 12323-45-6789" to "123" once made an SSN-shaped string
    // (found by the sse_redact fuzz target).
    let file: RedactionFile = serde_yaml_ng::from_str("roles: {}\ndefault: safe_harbor\n").unwrap();
    let redactor = Redaction::compile(Some(&file), None, YEAR)
        .unwrap()
        .for_roles(&["Researcher".to_string()])
        .unwrap();
    let (out, _) = redactor.redact_text("SN 12323-45-6789 and CT 06184");
    assert_eq!(out, "SN 12323-45-6789 and CT 061");
}

#[test]
fn identifiers_in_object_keys_are_redacted() {
    // A map keyed by SSN (found by the sse_redact fuzz target).
    let redactor = redaction().for_roles(&["Billing".to_string()]).unwrap();
    let mut msg = json!({"jsonrpc":"2.0","id":1,"result":{"by_ssn":{
        "123-45-6789":{"plan":"A"},"SSN 219-09-9999":{"plan":"B"}}}});
    redactor.redact_value(&mut msg).unwrap();
    let text = msg.to_string();
    assert!(
        !text.contains("123-45-6789") && !text.contains("219-09-9999"),
        "{text}"
    );
    assert_eq!(
        msg["result"]["by_ssn"].as_object().unwrap().len(),
        2,
        "no value lost: {text}"
    );
}

#[test]
fn a_text_copy_of_structured_content_is_redacted_like_the_original() {
    // The copy is recognised (byte-equal, or equal once parsed) and redacted once; counts and
    // bytes are what redacting both separately gives. A text that differs is redacted itself.
    let nurse = redaction().for_roles(&["Nurse".to_string()]).unwrap();
    let payload = patient();
    let compact = mcp(&payload);
    let mut pretty = compact.clone();
    pretty["result"]["content"][0]["text"] = json!(serde_json::to_string_pretty(&payload).unwrap());
    let (mut a, mut b) = (compact.clone(), pretty);
    let (ca, cb) = (
        nurse.redact_value(&mut a).unwrap(),
        nurse.redact_value(&mut b).unwrap(),
    );
    assert_eq!(a, b, "same output for both spellings of the copy");
    assert_eq!(ca, cb);
    assert_eq!(ca["ssn"], 2 * 2, "field and note, in both copies: {ca:?}");
    let text = &a["result"]["content"][0]["text"];
    assert_eq!(
        text.as_str().unwrap(),
        a["result"]["structuredContent"].to_string()
    );

    let mut different = patient();
    different["ssn"] = json!("219-09-9999");
    let mut c = compact;
    c["result"]["content"][0]["text"] = json!(different.to_string());
    nurse.redact_value(&mut c).unwrap();
    let out = c.to_string();
    assert!(
        !out.contains("219-09-9999") && !out.contains("123-45-6789"),
        "{out}"
    );
    assert!(out.contains(r#"\"ssn\":\"***-**-9999\""#), "{out}");
}

#[test]
fn two_sections_with_text_keep_their_own() {
    let nurse = redaction().for_roles(&["Nurse".to_string()]).unwrap();
    let mut m = json!({"jsonrpc":"2.0","id":1,
        "params":{"content":[{"type":"text","text":"{\"ssn\":\"123-45-6789\",\"from\":\"params\"}"}]},
        "result":{"content":[{"type":"text","text":"{\"ssn\":\"219-09-9999\",\"from\":\"result\"}"}]}});
    nurse.redact_value(&mut m).unwrap();
    let text = |section: &str| {
        m[section]["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(text("params").contains("params") && text("params").contains("6789"));
    assert!(text("result").contains("result") && text("result").contains("9999"));
    assert!(!m.to_string().contains("123-45-6789"));
}

#[test]
fn key_globs_match_every_key_even_one_that_looks_like_an_index() {
    // Locations once spelled array indexes "[0]", and keys starting with "[" skipped the globs.
    let nurse = redaction().for_roles(&["Nurse".to_string()]).unwrap();
    let mut m = json!({"jsonrpc":"2.0","id":1,"result":{"structuredContent":{
        "[member_id]":"ABCDEF12","Member_ID":"GHIJKL34"}}});
    nurse.redact_value(&mut m).unwrap();
    let s = &m["result"]["structuredContent"];
    assert_eq!(s["[member_id]"], "****EF12", "{m}");
    assert_eq!(s["Member_ID"], "****KL34", "{m}");
}

#[test]
fn json_paths_select_members_and_array_items_and_the_last_rule_wins() {
    let file: RedactionFile = serde_yaml_ng::from_str(
        r#"
profiles:
  p:
    fields:
      - { path: "$.patients[*].ssn", action: mask, entity: ssn }
      - { path: "$.codes[0]", action: remove }
      - { key: "*note*", action: remove }
      - { path: "$.patients[*].note", action: mask }
roles: { R: p }
"#,
    )
    .unwrap();
    let r = Redaction::compile(Some(&file), None, YEAR).unwrap();
    let r = r.for_roles(&["R".to_string()]).unwrap();
    let payload = json!({"patients":[{"ssn":"x1","note":"n1","other":{"ssn":"keep"}}],
        "codes":["secret-code","B"]});
    let mut m = mcp(&payload);
    r.redact_value(&mut m).unwrap();
    let s = &m["result"]["structuredContent"];
    assert_eq!(s["patients"][0]["ssn"], "[REDACTED:SSN]");
    assert_eq!(s["patients"][0]["other"]["ssn"], "keep", "paths are exact");
    assert_eq!(
        s["patients"][0]["note"], "[REDACTED:FIELD]",
        "the later rule wins"
    );
    assert_eq!(s["codes"], json!(["B"]), "a removed item leaves the array");
    let text = m["result"]["content"][0]["text"].as_str().unwrap();
    assert_eq!(serde_json::from_str::<Value>(text).unwrap(), *s);
    assert!(!m.to_string().contains("secret-code"));
}

#[test]
fn a_known_value_inside_a_protocol_member_name_does_not_rename_it() {
    // "red" is a name a field rule took out; "structuredContent" contains it.
    let file: RedactionFile = serde_yaml_ng::from_str("roles: {}\ndefault: safe_harbor\n").unwrap();
    let r = Redaction::compile(Some(&file), None, YEAR).unwrap();
    let r = r.for_roles(&["Anyone".to_string()]).unwrap();
    let mut m = mcp(&json!({"name": "red", "note": "red said hi"}));
    r.redact_value(&mut m).unwrap();
    let s = &m["result"]["structuredContent"];
    assert_eq!(s["name"], "[REDACTED:NAME]", "{m}");
    assert_eq!(s["note"], "[REDACTED:NAME] said hi", "{m}");
    let text = m["result"]["content"][0]["text"].as_str().unwrap();
    assert_eq!(serde_json::from_str::<Value>(text).unwrap(), *s);
}

#[test]
fn what_no_rule_touches_comes_back_as_it_was_sent_in_order() {
    let nurse = redaction().for_roles(&["Nurse".into()]).unwrap();
    let body = r#"{"jsonrpc":"2.0","id":7,"result":{"structuredContent":{"zeta":"a","alpha":[1,2.5,true,null],"note":"BP 128/82, line\nbreak"},"isError":false}}"#;
    let (out, counts) = nurse.redact_json(body.as_bytes()).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), body);
    assert!(counts.is_empty());
}

#[test]
fn a_repeated_member_name_is_sent_once_with_its_last_value_redacted() {
    let nurse = redaction().for_roles(&["Nurse".into()]).unwrap();
    let body = r#"{"jsonrpc":"2.0","id":1,"result":{"structuredContent":{"ssn":"123-45-6789"}},"result":{"structuredContent":{"ssn":"234-56-7890","ssn":"345-67-8901"}}}"#;
    let (out, _) = nurse.redact_json(body.as_bytes()).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out.matches("\"result\"").count(), 1, "{out}");
    assert_eq!(out.matches("\"ssn\"").count(), 1, "{out}");
    assert!(out.contains("***-**-8901"), "{out}");
    for digits in ["123-45", "234-56", "345-67", "6789", "7890"] {
        assert!(!out.contains(digits), "{digits} in {out}");
    }
}

#[test]
fn escaped_strings_are_matched_unescaped_and_written_back_escaped() {
    let nurse = redaction().for_roles(&["Nurse".into()]).unwrap();
    let body = r#"{"jsonrpc":"2.0","id":1,"result":{"structuredContent":{"note":"SSN\u0020123\u002d45-6789 \"quoted\"\n"}}}"#;
    let (out, counts) = nurse.redact_json(body.as_bytes()).unwrap();
    let back: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        back["result"]["structuredContent"]["note"],
        "SSN ***-**-6789 \"quoted\"\n"
    );
    assert_eq!(counts.get("ssn"), Some(&1));
}

#[test]
fn keys_that_redact_to_the_same_name_are_numbered_and_keep_their_values() {
    let billing = redaction().for_roles(&["Billing".into()]).unwrap();
    let mut map = serde_json::Map::new();
    map.insert("[REDACTED:SSN]".into(), json!("was here"));
    for i in 0..5000 {
        map.insert(format!("{:03}-45-{:04}", 100 + i % 500, 1000 + i), json!(i));
    }
    let mut msg = json!({"jsonrpc":"2.0","id":1,"result":{"structuredContent":{"by_ssn": map}}});
    billing.redact_value(&mut msg).unwrap();
    let out = msg["result"]["structuredContent"]["by_ssn"]
        .as_object()
        .unwrap();
    assert_eq!(out.len(), 5001);
    assert_eq!(out["[REDACTED:SSN]"], "was here");
    assert_eq!(out["[REDACTED:SSN]'2"], 0);
    assert_eq!(out["[REDACTED:SSN]'5001"], 4999);
    assert!(out.keys().all(|k| k.starts_with("[REDACTED:SSN]")));
}

#[test]
fn identifiers_in_the_protocol_members_are_redacted_but_the_version_is_kept() {
    let nurse = redaction().for_roles(&["Billing".into()]).unwrap();
    let body =
        r#"{"jsonrpc":"n 123-45-6789","id":"123-45-6789","method":"x/123-45-6789","params":{}}"#;
    let (out, counts) = nurse.redact_json(body.as_bytes()).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(!out.contains("6789"), "{out}");
    assert_eq!(counts.get("ssn"), Some(&3));
    let plain = r#"{"jsonrpc":"2.0","id":"req-7","method":"notifications/message","params":{"level":"info"}}"#;
    let (out, counts) = nurse.redact_json(plain.as_bytes()).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), plain);
    assert!(counts.is_empty());
}

/// The built-in `safe_harbor` profile, as any role without a profile of its own gets it.
fn safe_harbor() -> std::sync::Arc<Redactor> {
    Redaction::compile(None, None, YEAR)
        .unwrap()
        .for_roles(&["Researcher".into()])
        .unwrap()
}

fn answer(method: &str, uri: Option<&str>, message: &Value) -> Value {
    let asked = Asked::new([(Some(&json!(1)), method, uri)]);
    let (out, _) = safe_harbor()
        .redact_answer(message.to_string().as_bytes(), &asked)
        .unwrap();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn the_handshake_passes_byte_identical_for_a_redacted_role() {
    let init = json!({"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25",
        "capabilities":{"tools":{"listChanged":true},"logging":{}},
        "serverInfo":{"name":"Hospital EHR","version":"1.4.2","title":"St. Mary"},
        "instructions":"Call get_patient first."}});
    let body = init.to_string();
    let asked = Asked::new([(Some(&json!(1)), "initialize", None)]);
    let (out, counts) = safe_harbor()
        .redact_answer(body.as_bytes(), &asked)
        .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), body);
    assert!(counts.is_empty(), "{counts:?}");
}

#[test]
fn list_entries_keep_their_names_and_schemas_but_not_phi_in_their_text() {
    let list = json!({"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"get_patient",
        "description":"Looks up Mr. John Smith, SSN 123-45-6789",
        "inputSchema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"name":{"type":"string"},"patient_id":{"type":"string"}}},
        "annotations":{"readOnlyHint":true}}],"nextCursor":"abc",
        "_meta":{"note":"call 401-555-0154"}}});
    let out = answer("tools/list", None, &list);
    let tool = &out["result"]["tools"][0];
    assert_eq!(tool["name"], "get_patient");
    assert_eq!(
        tool["inputSchema"],
        list["result"]["tools"][0]["inputSchema"]
    );
    assert_eq!(out["result"]["nextCursor"], "abc");
    let text = out.to_string();
    assert!(
        !text.contains("123-45-6789") && !text.contains("555-0154"),
        "{text}"
    );
}

#[test]
fn a_member_name_a_server_adds_to_a_list_entry_gets_the_detectors() {
    // Found by fuzzing: an entry's members the schema does not name are held as protocol,
    // and their names passed unread.
    let list = json!({"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"get_patient",
        "mo123-45-6789de":"x","inputSchema":{"type":"object"}}]}});
    let out = answer("tools/list", None, &list);
    let tool = &out["result"]["tools"][0];
    assert!(!out.to_string().contains("123-45-6789"), "{out}");
    assert_eq!(tool["name"], "get_patient");
    assert_eq!(tool["inputSchema"], json!({"type":"object"}));
}

#[test]
fn tool_results_keep_content_types_and_redact_the_payload() {
    let patient = json!({"name":"John Smith","ssn":"123-45-6789","zip":"06184"});
    let msg = json!({"jsonrpc":"2.0","id":1,"result":{"content":[
        {"type":"text","text":patient.to_string()},
        {"type":"image","mimeType":"image/png","data":"aGVsbG8="}],
        "structuredContent":patient,"isError":false}});
    let out = answer("tools/call", None, &msg);
    assert_eq!(out["result"]["content"][0]["type"], "text");
    assert_eq!(out["result"]["content"][1]["type"], "image");
    assert_eq!(out["result"]["content"][1]["mimeType"], "image/png");
    assert_eq!(out["result"]["isError"], false);
    assert_eq!(out["result"]["structuredContent"]["zip"], "061");
    assert!(!out.to_string().contains("John Smith"), "{out}");
}

#[test]
fn a_protocol_member_out_of_its_form_gets_the_detectors() {
    let msg = json!({"jsonrpc":"2.0","id":1,"result":{"content":[
        {"type":"text","mimeType":"text/plain; SSN 123-45-6789","text":"ok"}]}});
    let out = answer("tools/call", None, &msg);
    assert!(!out.to_string().contains("123-45-6789"), "{out}");
    let init = json!({"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"SSN 123-45-6789"}});
    assert!(!answer("initialize", None, &init)
        .to_string()
        .contains("123-45-6789"));
}

#[test]
fn server_requests_and_notifications_keep_their_protocol() {
    let elicit = json!({"jsonrpc":"2.0","id":"e1","method":"elicitation/create","params":{
        "message":"Confirm Mr. John Smith's SSN 123-45-6789",
        "requestedSchema":{"type":"object","properties":{"name":{"type":"string","description":"Your name"}},
        "required":["name"]}}});
    let out = answer("tools/call", None, &elicit);
    assert_eq!(
        out["params"]["requestedSchema"],
        elicit["params"]["requestedSchema"]
    );
    assert!(!out.to_string().contains("123-45-6789"), "{out}");
    let log = json!({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info",
        "logger":"ehr","data":{"name":"John Smith","ssn":"123-45-6789"}}});
    let out = answer("tools/call", None, &log);
    assert_eq!(
        (
            out["params"]["level"].as_str(),
            out["params"]["logger"].as_str()
        ),
        (Some("info"), Some("ehr"))
    );
    assert!(!out.to_string().contains("John Smith"), "{out}");
}

#[test]
fn a_round_trip_keeps_its_keys_forms_and_state() {
    use base64::Engine;
    let state = "eyJsb2NhdGlvbiI6Im5vd2hlcmUifQ";
    let msg = json!({"jsonrpc":"2.0","id":1,"result":{"resultType":"input_required",
        "inputRequests":{"user_name":{"method":"elicitation/create","params":{
            "message":"Confirm the chart of Mr. John Smith, SSN 123-45-6789",
            "requestedSchema":{"type":"object","properties":{"user_name":{"type":"string"}}}}},
        "ask_llm":{"method":"sampling/createMessage","params":{"maxTokens":9,
            "messages":[{"role":"user","content":{"type":"text","text":"SSN 123-45-6789"}}]}}},
        "requestState":state}});
    let out = answer("tools/call", None, &msg);
    let asks = &out["result"]["inputRequests"];
    assert_eq!(asks["user_name"]["method"], "elicitation/create", "{out}");
    assert_eq!(
        asks["user_name"]["params"]["requestedSchema"],
        msg["result"]["inputRequests"]["user_name"]["params"]["requestedSchema"]
    );
    assert_eq!(asks["ask_llm"]["params"]["maxTokens"], 9);
    assert_eq!(
        out["result"]["requestState"], state,
        "opaque state passes unaltered"
    );
    assert!(!out.to_string().contains("123-45-6789"), "{out}");

    // A state that decodes to PHI is scrubbed (the server will refuse it, nobody reads it).
    let leaky = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"ssn":"123-45-6789"}"#);
    let msg = json!({"jsonrpc":"2.0","id":1,"result":{"resultType":"input_required","requestState":leaky}});
    let out = answer("tools/call", None, &msg);
    let got = out["result"]["requestState"].as_str().unwrap();
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(got)
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&decoded).contains("123-45-6789"),
        "{got}"
    );
}

#[test]
fn a_resource_the_client_named_keeps_its_uri() {
    let uri = "patient://1234567/chart";
    let msg = json!({"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":uri,"mimeType":"text/plain",
        "text":"Patient John Smith, SSN 123-45-6789"}]}});
    let out = answer("resources/read", Some(uri), &msg);
    assert_eq!(out["result"]["contents"][0]["uri"], uri);
    assert_eq!(out["result"]["contents"][0]["mimeType"], "text/plain");
    assert!(!out.to_string().contains("123-45-6789"), "{out}");
}

#[test]
fn an_error_keeps_its_code_and_loses_phi_in_its_message() {
    let msg = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"no record for SSN 123-45-6789",
        "data":{"name":"John Smith"}}});
    let out = answer("tools/call", None, &msg);
    assert_eq!(out["error"]["code"], -32602);
    assert!(
        !out.to_string().contains("123-45-6789") && !out.to_string().contains("John Smith"),
        "{out}"
    );
}

#[test]
fn json_a_string_carries_gets_the_field_rules_wherever_it_is() {
    let record =
        json!({"name":"Johnathan Smithers","date_of_birth":"1961-04-02","zip":"06184","note":"ok"});
    let fenced = format!("Here is the chart:\n```json\n{record}\n```\nAnything else?");
    let ndjson = format!("{record}\n{record}\n");
    for (method, msg) in [
        (
            "resources/read",
            json!({"jsonrpc":"2.0","id":1,"result":{"contents":[
            {"uri":"file:///c","mimeType":"application/json","text":record.to_string()}]}}),
        ),
        (
            "tools/call",
            json!({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":fenced}]}}),
        ),
        (
            "prompts/get",
            json!({"jsonrpc":"2.0","id":1,"result":{"messages":[
            {"role":"user","content":{"type":"text","text":ndjson}}]}}),
        ),
        (
            "tools/call",
            json!({"jsonrpc":"2.0","method":"notifications/message","params":{
            "level":"info","data":record.to_string()}}),
        ),
    ] {
        let out = answer(method, None, &msg).to_string();
        assert!(
            !out.contains("Smithers") && !out.contains("1961-04-02") && !out.contains("06184"),
            "{method}: {out}"
        );
        assert!(
            out.contains("061") && out.contains("1961"),
            "{method}: {out}"
        );
    }
}

#[test]
fn binary_content_is_read_when_it_is_text_and_blanked_when_it_is_not() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let note = b64("Spoke with Mr. Johnathan Smithers, SSN 123-45-6789.");
    let photo = b64("\u{89}PNG pretend this is a face");
    let msg = json!({"jsonrpc":"2.0","id":1,"result":{"content":[
        {"type":"image","mimeType":"image/png","data":photo},
        {"type":"audio","mimeType":"audio/mpeg","data":photo},
        {"type":"resource","resource":{"uri":"file:///n","mimeType":"text/plain","blob":note}}]}});
    let out = answer("tools/call", None, &msg);
    let content = &out["result"]["content"];
    assert_ne!(content[0]["data"], photo);
    assert_eq!(content[0]["mimeType"], "image/png");
    assert!(
        !content[0]["data"].as_str().unwrap().is_empty(),
        "a blank image, still an image"
    );
    assert_eq!(content[1]["data"], "");
    let text = base64::engine::general_purpose::STANDARD
        .decode(content[2]["resource"]["blob"].as_str().unwrap())
        .unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        !text.contains("123-45-6789") && text.contains("Spoke with"),
        "{text}"
    );
    let read = json!({"jsonrpc":"2.0","id":1,"result":{"contents":[
        {"uri":"file:///scan","mimeType":"application/pdf","blob":photo}]}});
    assert_eq!(
        answer("resources/read", Some("file:///scan"), &read)["result"]["contents"][0]["blob"],
        ""
    );
    // A profile may let binary content pass.
    let file: RedactionFile = serde_yaml_ng::from_str(
        "profiles:\n  radiology:\n    extends: safe_harbor\n    binary: keep\nroles: {Radiologist: radiology}\n",
    )
    .unwrap();
    let r = Redaction::compile(Some(&file), None, YEAR)
        .unwrap()
        .for_roles(&["Radiologist".into()])
        .unwrap();
    let (kept, _) = r.redact_json(msg.to_string().as_bytes()).unwrap();
    assert!(String::from_utf8(kept).unwrap().contains(&photo));
}

#[test]
fn keys_are_one_key_in_every_spelling() {
    use super::message::normalize_key;
    for (key, canonical) in [
        ("postalCode", "postal_code"),
        ("PostalCode", "postal_code"),
        ("postal-code", "postal_code"),
        ("postal_code", "postal_code"),
        ("patientID", "patient_id"),
        ("DOB", "dob"),
        ("dateOfBirth", "date_of_birth"),
        ("addressLine1", "address_line1"),
        ("HTTPServer", "http_server"),
        ("_meta", "_meta"),
    ] {
        assert_eq!(normalize_key(key), canonical, "{key}");
    }
}

#[test]
fn addresses_and_their_parts_under_any_common_key_spelling() {
    let street = "251 Granite Way";
    for key in [
        "address",
        "addr",
        "home_address",
        "streetAddress",
        "address1",
        "Address",
        "address_line_1",
        "street_address",
    ] {
        let msg = mcp(&json!({ key: format!("{street}, Hartford, CT 06184") }));
        let (out, _) = redact("Researcher", &msg);
        assert!(
            !out.contains("Granite") && !out.contains("06184"),
            "{key}: {out}"
        );
    }
    for (zip_key, city_key) in [
        ("postalCode", "city"),
        ("postal_code", "town"),
        ("zip-code", "City"),
        ("ZipCode", "cityName"),
    ] {
        let msg = mcp(
            &json!({"address": {"line": [street], city_key: "Hartford", "state": "CT", zip_key: "06184", "country": "US"}}),
        );
        let (out, _) = redact("Researcher", &msg);
        assert!(
            !out.contains("Granite") && !out.contains("Hartford") && !out.contains("06184"),
            "{zip_key}: {out}"
        );
        assert!(
            out.contains("\"state\":\"CT\"")
                && out.contains("\"country\":\"US\"")
                && out.contains("061"),
            "{zip_key}: {out}"
        );
    }
}

/// A tools/call answer carrying a small US Core Bundle (tests/fixtures/fhir_bundle_answer.json).
fn fhir_answer() -> Value {
    serde_json::from_str(include_str!("../../tests/fixtures/fhir_bundle_answer.json")).unwrap()
}

fn hospital_redactor(role: &str) -> Option<std::sync::Arc<Redactor>> {
    let policy =
        crate::policy::Policy::from_yaml(include_str!("../../policy/hospital.yaml")).unwrap();
    let who = crate::auth::Identity {
        user_id: "1".into(),
        username: None,
        roles: vec![role.into()],
        claims: Default::default(),
        certificate: None,
    };
    policy.redactor_for(&who)
}

fn fhir_as(role: &str) -> (String, Value) {
    let r = hospital_redactor(role).unwrap();
    let (out, _) = r.redact_json(fhir_answer().to_string().as_bytes()).unwrap();
    let text = String::from_utf8(out).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    (text, v)
}

#[test]
fn fhir_resources_are_redacted_by_datatype_for_safe_harbor() {
    use base64::Engine;
    let (text, v) = fhir_as("Researcher");
    for phi in [
        "Smithers",
        "Johnathan",
        "123-45-6789",
        "8839201",
        "370-270-2396",
        "js@example.org",
        "Granite",
        "Hartford",
        "06184",
        "1931-04-02",
        "2019-03-04",
        "Willis",
        "/9j/AAAA",
        "urn:uuid:p1",
    ] {
        assert!(!text.contains(phi), "{phi} leaked: {text}");
    }
    for kept in [
        "http://snomed.info/sct",
        "38341003",
        "Hypertensive disorder",
        "http://loinc.org",
        "4548-4",
        "Hemoglobin A1c",
        "http://unitsofmeasure.org",
        "urn:oid:1.2.36.146.595.217.0.1",
        "http://hl7.org/fhir/sid/us-ssn",
        "us-core-patient",
        "\"state\":\"CT\"",
        "\"country\":\"US\"",
        "\"gender\":\"male\"",
        "\"value\":7.2",
        "\"postalCode\":\"061\"",
        "\"onsetDateTime\":\"2019\"",
    ] {
        assert!(text.contains(kept), "{kept} was lost: {text}");
    }
    let entries = v["result"]["structuredContent"]["entry"]
        .as_array()
        .unwrap();
    let patient_url = entries[0]["fullUrl"].as_str().unwrap();
    assert_eq!(
        entries[1]["resource"]["subject"]["reference"], patient_url,
        "the Bundle stays linked"
    );
    assert!(
        entries[0]["resource"].get("photo").is_none(),
        "the photo goes"
    );
    let note = entries[2]["resource"]["content"][0]["attachment"]["data"]
        .as_str()
        .unwrap();
    let note = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(note)
            .unwrap(),
    )
    .unwrap();
    assert!(
        !note.contains("Smithers") && !note.contains("370-270") && note.starts_with("Note:"),
        "{note}"
    );
}

#[test]
fn fhir_resources_follow_each_profile() {
    let (text, v) = fhir_as("Nurse");
    assert!(
        text.contains("***-**-6789") && !text.contains("123-45-6789"),
        "{text}"
    );
    assert!(
        text.contains("Smithers") && text.contains("1931-04-02"),
        "a Nurse sees names and dates: {text}"
    );
    let (text, v2) = fhir_as("Billing");
    let kinds: Vec<&str> = v2["result"]["structuredContent"]["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource"]["resourceType"].as_str())
        .collect();
    assert_eq!(kinds, ["Patient", "Observation"], "{text}");
    assert!(
        !text.contains("reachable at") && !text.contains("123-45-6789"),
        "{text}"
    );
    drop(v);
    assert!(hospital_redactor("Doctor").is_none());
}

#[test]
fn identifiers_written_as_json_numbers_do_not_pass() {
    // A hostile server writes what it would quote as a bare number: a card number, an SSN a
    // field rule takes under one key and repeats under another.
    let msg = json!({"jsonrpc":"2.0","id":1,"result":{"structuredContent":{
        "ssn":123456789,"ref":123456789,"payment":4111111111111111_u64,
        "note":"on file: 123456789","count":42}}});
    let out = answer("tools/call", None, &msg);
    let text = out.to_string();
    for secret in ["123456789", "4111111111111111"] {
        assert!(!text.contains(secret), "{secret}: {text}");
    }
    assert_eq!(out["result"]["structuredContent"]["count"], 42);
}
