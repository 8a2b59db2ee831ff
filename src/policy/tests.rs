use super::*;
use crate::jsonrpc;
use serde_json::json;

const HOSPITAL: &str = include_str!("../../policy/hospital.yaml");

fn hospital() -> Policy {
    Policy::from_yaml(HOSPITAL).unwrap()
}

fn who(roles: &[&str], claims: Value) -> Identity {
    Identity {
        user_id: "1".into(),
        username: None,
        roles: roles.iter().map(|r| r.to_string()).collect(),
        claims: claims.as_object().cloned().unwrap_or_default(),
        certificate: None,
    }
}

fn call(tool: &str, args: Value) -> Call {
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":tool,"arguments":args}});
    match jsonrpc::parse(body.to_string().as_bytes()).unwrap() {
        Request::Single(c) => c,
        _ => unreachable!(),
    }
}

fn method(m: &str) -> Call {
    let body = json!({"jsonrpc":"2.0","id":1,"method":m});
    match jsonrpc::parse(body.to_string().as_bytes()).unwrap() {
        Request::Single(c) => c,
        _ => unreachable!(),
    }
}

const TOOLS: [&str; 6] = [
    "get_patient",
    "get_medical_records",
    "search_patients",
    "list_appointments",
    "get_billing",
    "add_clinical_note",
];

fn allowed_tools(p: &Policy, role: &str) -> Vec<&'static str> {
    let id = who(&[role], json!({}));
    TOOLS
        .into_iter()
        .filter(|t| {
            p.decide(&id, &call(t, json!({"patient_id":"NUGWI"})))
                .allowed
        })
        .collect()
}

#[test]
fn reference_scenario_tool_grants() {
    let p = hospital();
    assert_eq!(allowed_tools(&p, "Doctor"), TOOLS.to_vec());
    assert_eq!(
        allowed_tools(&p, "Nurse"),
        ["get_patient", "get_medical_records", "list_appointments"]
    );
    assert_eq!(allowed_tools(&p, "Billing"), ["get_patient", "get_billing"]);
    assert_eq!(
        allowed_tools(&p, "Researcher"),
        ["get_medical_records", "search_patients"]
    );
    assert!(allowed_tools(&p, "Janitor").is_empty());
    assert!(
        allowed_tools(&p, "doctor").is_empty(),
        "role names are case-sensitive"
    );
}

#[test]
fn plumbing_is_open_to_every_authenticated_role() {
    let p = hospital();
    for role in ["Doctor", "Janitor"] {
        for m in [
            "initialize",
            "notifications/initialized",
            "ping",
            "tools/list",
        ] {
            assert!(
                p.decide(&who(&[role], json!({})), &method(m)).allowed,
                "{role} {m}"
            );
        }
    }
    assert!(
        !p.decide(&who(&["Doctor"], json!({})), &method("resources/list"))
            .allowed
    );
}

#[test]
fn decision_names_the_rule() {
    let p = hospital();
    let d = p.decide(&who(&["Nurse"], json!({})), &call("get_patient", json!({})));
    assert_eq!(d.rule, "roles.Nurse.tools.get_patient");
    let d = p.decide(
        &who(&["Billing"], json!({})),
        &call("get_medical_records", json!({})),
    );
    assert_eq!(d, Decision::deny("default-deny"));
}

#[test]
fn patient_sees_only_their_own_record() {
    let p = hospital();
    let me = who(&["Patient"], json!({"patient_id":"NUGWI"}));
    assert!(
        p.decide(
            &me,
            &call("get_medical_records", json!({"patient_id":"NUGWI"}))
        )
        .allowed
    );
    for args in [
        json!({"patient_id":"ABCDE"}),
        json!({}),
        json!({"patient_id": null}),
        json!({"patient_id": 5}),
        json!({"patient_id": ["NUGWI"]}),
        json!({"patient_id": " NUGWI"}),
        json!({"patient_id": "nugwi"}),
    ] {
        assert!(
            !p.decide(&me, &call("get_medical_records", args.clone()))
                .allowed,
            "{args}"
        );
    }
    let no_claim = who(&["Patient"], json!({}));
    assert!(
        !p.decide(&no_claim, &call("get_patient", json!({"patient_id":""})))
            .allowed
    );
    assert!(
        !p.decide(&me, &call("get_billing", json!({"patient_id":"NUGWI"})))
            .allowed
    );
}

#[test]
fn several_roles_get_the_union() {
    let p = hospital();
    let both = who(&["Billing", "Researcher"], json!({}));
    assert!(p.decide(&both, &call("get_billing", json!({}))).allowed);
    assert!(p.decide(&both, &call("search_patients", json!({}))).allowed);
    assert!(
        !p.decide(&both, &call("add_clinical_note", json!({})))
            .allowed
    );
}

#[test]
fn tools_list_visibility_follows_grants() {
    let p = hospital();
    let patient = who(&["Patient"], json!({"patient_id":"NUGWI"}));
    assert!(p.tool_visible(&patient, "get_patient"));
    assert!(!p.tool_visible(&patient, "search_patients"));
    assert!(p.tool_visible(&who(&["Doctor"], json!({})), "anything"));
}

#[test]
fn inheritance_is_transitive_and_cycles_fail() {
    let p = Policy::from_yaml(
        "roles:\n  Viewer: {tools: [a]}\n  Nurse: {inherits: [Viewer], tools: [b]}\n  Head: {inherits: [Nurse]}\n",
    )
    .unwrap();
    let head = who(&["Head"], json!({}));
    assert!(p.decide(&head, &call("a", json!({}))).allowed);
    assert!(p.decide(&head, &call("b", json!({}))).allowed);
    let err =
        Policy::from_yaml("roles:\n  A: {inherits: [B]}\n  B: {inherits: [A]}\n").unwrap_err();
    assert!(err.to_string().contains("cycle"), "{err}");
    let err = Policy::from_yaml("roles:\n  A: {inherits: [Ghost]}\n").unwrap_err();
    assert!(err.to_string().contains("unknown role 'Ghost'"), "{err}");
}

#[test]
fn method_wildcards_cover_whole_segments_only() {
    let p = Policy::from_yaml("roles:\n  R: {methods: ['notifications/*']}\n").unwrap();
    let r = who(&["R"], json!({}));
    assert!(p.decide(&r, &method("notifications/cancelled")).allowed);
    assert!(!p.decide(&r, &method("notificationsX")).allowed);
    assert!(!p.decide(&r, &method("notifications/")).allowed);
    assert!(Policy::from_yaml("roles:\n  R: {methods: ['notif*']}\n").is_err());
    assert!(Policy::from_yaml("roles:\n  R: {tools: ['get_*']}\n").is_err());
}

#[test]
fn invalid_files_are_rejected_with_a_location() {
    let err = Policy::from_yaml("roles:\n  Nurse:\n    tool: [a]\n").unwrap_err();
    assert!(err.to_string().contains("unknown field `tool`"), "{err}");
    assert!(err.to_string().contains("line"), "{err}");
    let err = Policy::from_yaml("roles:\n  A: {tools: [a]}\n  A: {tools: [b]}\n").unwrap_err();
    assert!(err.to_string().contains("duplicate"), "{err}");
    assert!(Policy::from_yaml("roles: [").is_err());
    assert!(Policy::from_yaml("").is_err());
}

#[test]
fn version_hashes_the_file() {
    let a = Policy::from_yaml(HOSPITAL).unwrap();
    assert!(a.version().starts_with("hospital-1@"));
    let b = Policy::from_yaml(&format!("{HOSPITAL}\n# edited\n")).unwrap();
    assert_ne!(a.version(), b.version());
}

fn read(uri: &str) -> Call {
    let body = json!({"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":uri}});
    match jsonrpc::parse(body.to_string().as_bytes()).unwrap() {
        Request::Single(c) => c,
        _ => unreachable!(),
    }
}

#[test]
fn resources_are_matched_after_normalisation() {
    let p =
        Policy::from_yaml("roles:\n  R: {resources: ['file:///ward/**'], prompts: [handover]}\n")
            .unwrap();
    let r = who(&["R"], json!({}));
    assert!(p.decide(&r, &read("file:///ward/3B/list")).allowed);
    assert!(!p.decide(&r, &read("file:///ward/../pharmacy/list")).allowed);
    assert!(
        !p.decide(&r, &read("file:///ward/%2e%2e/pharmacy/list"))
            .allowed
    );
    assert!(!p.decide(&r, &read("file:///ward%2F..%2Fpharmacy")).allowed);
    assert!(p.prompt_visible(&r, "handover"));
    assert!(!p.prompt_visible(&r, "discharge"));
}

#[test]
fn semantic_errors_are_located() {
    let err = Policy::from_yaml("roles:\n  Nurse:\n    inherits: [Ghost]\n").unwrap_err();
    assert_eq!(err.location(), Some((3, 16)), "{err}");
    let err = Policy::from_yaml("roles:\n  Nurse: {tools: [a]\n").unwrap_err();
    assert!(err.location().is_some(), "{err}");
}
