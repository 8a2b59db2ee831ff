use std::sync::Arc;

use serde_json::{json, Value};

use super::*;
use crate::auth::Identity;
use crate::policy::Policy;

const POLICY: &str = r#"
roles:
  Nurse:
    tools: [get_patient]
    prompts: [handover]
    resources: ['file:///ward/**']
  Admin:
    resources: ['*']
  Doctor:
    tools: ['*']
redaction:
  profiles:
    nurse:
      fields:
        - { key: ssn, action: { partial: 4 }, entity: ssn }
      detect: { ssn: { partial: 4 } }
  roles: { Nurse: nurse, Admin: none, Doctor: none }
"#;

fn identity(role: &str) -> Identity {
    Identity {
        user_id: "1".into(),
        username: None,
        roles: vec![role.into()],
        claims: Default::default(),
        certificate: None,
    }
}

fn rewrite(role: &str, list: &[ListKind], cap: usize) -> Rewrite {
    let policy = Arc::new(Policy::from_yaml(POLICY).unwrap());
    let who = identity(role);
    let list = (!list.is_empty())
        .then(|| ListFilter::new(list.to_vec(), who.clone(), Arc::clone(&policy)));
    Plan {
        list,
        redactor: policy.redactor_for(&who),
        asked: Asked::default(),
        observe: false,
        watch: Default::default(),
        private_cache: false,
        read_passed_body: false,
        id: json!(9),
        cap,
    }
    .into_rewrite()
    .expect("something to do")
}

fn head(content_type: &str) -> Head<'_> {
    Head {
        content_types: vec![content_type],
        content_encodings: vec![],
    }
}

fn run(r: &mut Rewrite, chunks: &[&[u8]]) -> String {
    let mut out = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        out.extend(r.push(chunk, i + 1 == chunks.len()));
    }
    String::from_utf8(out).unwrap()
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn tools_are_filtered_across_chunks() {
    let mut r = rewrite("Nurse", &[ListKind::Tools], 1 << 20);
    assert!(r.start(&head("application/json")).body_changes);
    let out = run(
        &mut r,
        &[
            br#"{"jsonrpc":"2.0","id":9,"result":{"tools":[{"name":"get_pat"#,
            br#"ient"},{"name":"add_clinical_note"}]}}"#,
        ],
    );
    assert_eq!(
        json_of(&out)["result"]["tools"],
        json!([{"name":"get_patient"}])
    );
}

#[test]
fn a_list_in_a_batch_answer_is_filtered_too() {
    let mut r = rewrite("Nurse", &[ListKind::Tools], 1 << 20);
    r.start(&head("application/json"));
    let out = run(&mut r, &[br#"[{"jsonrpc":"2.0","id":9,"result":{"tools":[{"name":"add_clinical_note"},{"name":"get_patient"}]}}]"#]);
    assert_eq!(
        json_of(&out)[0]["result"]["tools"],
        json!([{"name":"get_patient"}])
    );
}

#[test]
fn prompts_resources_and_templates() {
    let body = br#"{"result":{"prompts":[{"name":"handover"},{"name":"discharge"}]}}"#;
    let mut r = rewrite("Nurse", &[ListKind::Prompts], 1 << 20);
    r.start(&head("application/json"));
    assert_eq!(
        json_of(&run(&mut r, &[body]))["result"]["prompts"],
        json!([{"name":"handover"}])
    );
    let body = br#"{"result":{"resources":[{"uri":"file:///ward/a"},{"uri":"file:///ward/../admin/b"},{"uri":"file:///admin/c"}]}}"#;
    let mut r = rewrite("Nurse", &[ListKind::Resources], 1 << 20);
    r.start(&head("application/json"));
    assert_eq!(
        json_of(&run(&mut r, &[body]))["result"]["resources"],
        json!([{"uri":"file:///ward/a"}])
    );
    let templates = br#"{"result":{"resourceTemplates":[{"uriTemplate":"file:///{x}"}]}}"#;
    let mut r = rewrite("Nurse", &[ListKind::ResourceTemplates], 1 << 20);
    r.start(&head("application/json"));
    assert_eq!(
        json_of(&run(&mut r, &[templates]))["result"]["resourceTemplates"],
        json!([])
    );
    let mut r = rewrite("Admin", &[ListKind::ResourceTemplates], 1 << 20);
    r.start(&head("application/json"));
    assert_eq!(
        json_of(&run(&mut r, &[templates]))["result"]["resourceTemplates"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn sse_events_are_rewritten_with_any_line_ending_and_priming_events_pass() {
    let mut r = rewrite("Admin", &[ListKind::Tools], 1 << 20);
    assert!(r.start(&head("text/event-stream")).body_changes);
    let out = run(
        &mut r,
        &[
            b"id: 0\r\nretry: 5000\r\ndata:\r\n\r\nevent: message\r\nid: 4\r\ndata: {\"result\":{\"tools\":[{\"name\":\"x\"},",
            b"{\"name\":\"get_patient\"}]}}\r\n\r\n",
        ],
    );
    assert_eq!(
        out,
        "id: 0\nretry: 5000\ndata:\n\nevent: message\nid: 4\ndata: {\"result\":{\"tools\":[]}}\n\n"
    );
}

#[test]
fn lists_are_redacted_as_well_as_filtered() {
    let mut r = rewrite("Nurse", &[ListKind::Tools], 1 << 20);
    r.start(&head("application/json"));
    let out = run(&mut r, &[br#"{"id":9,"result":{"tools":[{"name":"get_patient","description":"SSN 123-45-6789"}],"_meta":{"note":"ssn 123-45-6789"}}}"#]);
    assert!(!out.contains("123-45-6789"), "{out}");
    assert!(out.contains("get_patient"), "{out}");
}

#[test]
fn oversized_or_unreadable_answers_fail_closed() {
    let mut r = rewrite("Nurse", &[ListKind::Tools], 10);
    r.start(&head("application/json"));
    let out = run(
        &mut r,
        &[br#"{"result":{"tools":[{"name":"add_clinical_note"}]}}"#],
    );
    assert!(!out.contains("add_clinical_note"));
    assert_eq!(json_of(&out)["id"], 9);
    let mut r = rewrite("Nurse", &[ListKind::Tools], 1 << 20);
    r.start(&head("application/json"));
    let out = run(&mut r, &[b"{not json add_clinical_note"]);
    assert!(!out.contains("add_clinical_note") && out.contains("could not be read"));
}

#[test]
fn a_mislabelled_body_is_still_read_as_json_and_labelled_json() {
    for label in ["text/plain", "text/html"] {
        let mut r = rewrite("Nurse", &[], 1 << 20);
        let change = r.start(&head(label));
        assert_eq!(change.content_type, Some("application/json"));
        let out = run(
            &mut r,
            &[br#"{"id":9,"result":{"structuredContent":{"ssn":"123-45-6789"}}}"#],
        );
        assert!(
            !out.contains("123-45-6789") && out.contains("6789"),
            "{out}"
        );
    }
    let mut r = rewrite("Nurse", &[], 1 << 20);
    r.start(&head("text/plain"));
    let out = run(&mut r, &[b"Patient SSN 123-45-6789"]);
    assert!(
        !out.contains("123-45-6789") && out.contains("\"error\""),
        "{out}"
    );
}

#[test]
fn two_content_types_are_not_an_event_stream() {
    let mut r = rewrite("Nurse", &[], 1 << 20);
    let two = Head {
        content_types: vec!["text/event-stream", "application/json"],
        content_encodings: vec![],
    };
    r.start(&two);
    let out = run(&mut r, &[b"data: {\"ssn\":\"123-45-6789\"}\n\n"]);
    assert!(
        !out.contains("123-45-6789") && out.contains("\"error\""),
        "{out}"
    );
}

#[test]
fn a_compressed_answer_is_refused() {
    let mut r = rewrite("Nurse", &[], 1 << 20);
    let change = r.start(&Head {
        content_types: vec!["application/json"],
        content_encodings: vec!["gzip"],
    });
    assert_eq!(change.status, Some(502));
    assert!(change.drop_encoding);
    let out = run(&mut r, &[b"\x1f\x8b\x08garbage", b"more"]);
    assert!(
        out.contains("compressed") && !out.contains("garbage"),
        "{out}"
    );
}

fn sse_event(msg: &Value) -> String {
    format!("event: message\r\nid: 7\r\ndata: {msg}\r\n\r\n")
}

fn patient_message() -> Value {
    json!({"jsonrpc":"2.0","id":1,"result":{"structuredContent":{"name":"Noah","ssn":"123-45-6789"}}})
}

#[test]
fn sse_output_does_not_depend_on_how_the_stream_is_split() {
    let stream = format!(
        "{}: keepalive\n\n{}",
        sse_event(&patient_message()),
        sse_event(&patient_message()).replace("\r\n", "\r")
    );
    let whole = {
        let mut r = rewrite("Nurse", &[], 1 << 20);
        r.start(&head("text/event-stream"));
        run(&mut r, &[stream.as_bytes()])
    };
    assert!(
        !whole.contains("123-45-6789") && whole.contains("***-**-6789"),
        "{whole}"
    );
    assert_eq!(whole.matches("data: ").count(), 2);
    for split in [1, 2, 3, 7, 64, 333] {
        let mut r = rewrite("Nurse", &[], 1 << 20);
        r.start(&head("text/event-stream"));
        let chunks: Vec<&[u8]> = stream.as_bytes().chunks(split).collect();
        assert_eq!(run(&mut r, &chunks), whole, "split every {split} bytes");
    }
}

#[test]
fn sse_data_that_is_not_json_cuts_the_stream_for_a_redacted_role() {
    for data in [
        r#"{"result":{"text":"Noah \ud83d SSN 123-45-6789"}}"#,
        r#"{"n":1e400,"ssn":"123-45-6789"}"#,
        "Patient SSN 123-45-6789",
    ] {
        let mut r = rewrite("Nurse", &[], 1 << 20);
        r.start(&head("text/event-stream"));
        let out = run(
            &mut r,
            &[format!("data: {data}\n\ndata: {{\"after\":1}}\n\n").as_bytes()],
        );
        assert!(!out.contains("123-45-6789"), "{out}");
        assert!(out.contains("\"error\"") && !out.contains("after"), "{out}");
    }
}

#[test]
fn an_oversized_sse_event_cuts_the_stream() {
    let mut r = rewrite("Nurse", &[], 64);
    r.start(&head("text/event-stream"));
    let out = run(
        &mut r,
        &[format!("data: {}", "1".repeat(100)).as_bytes(), b"\n\n"],
    );
    assert!(
        out.contains("buffer limit") && !out.contains("1111"),
        "{out}"
    );
}
