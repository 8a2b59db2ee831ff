use super::*;
use crate::jsonrpc::parse;

fn call(body: &str) -> Request {
    parse(body.as_bytes()).unwrap()
}

const TOOL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","arguments":{}}}"#;

#[test]
fn origin_is_checked_only_when_present() {
    let allowed = vec!["https://app.hospital.example".to_string()];
    assert!(check_origin(&[], &allowed, &[]).is_ok());
    assert!(check_origin(&[b"https://app.hospital.example"], &allowed, &[]).is_ok());
    assert!(check_origin(&[b"https://APP.hospital.example"], &allowed, &[]).is_ok());
    for evil in [
        &b"https://evil.example"[..],
        b"null",
        b"",
        b"https://app.hospital.example.evil",
    ] {
        assert!(check_origin(&[evil], &allowed, &[]).is_err(), "{evil:?}");
    }
    assert!(check_origin(&[b"https://app.hospital.example"], &[], &[]).is_err());
    assert!(check_origin(
        &[
            b"https://app.hospital.example",
            b"https://app.hospital.example"
        ],
        &allowed,
        &[]
    )
    .is_err());
}

#[test]
fn hosts_and_same_host_origins_against_dns_rebinding() {
    let loopback: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
        .map(String::from)
        .to_vec();
    for ok in [
        &b"localhost:8080"[..],
        b"127.0.0.1:39111",
        b"[::1]:8080",
        b"LOCALHOST",
    ] {
        assert!(check_host(&[ok], &loopback).is_ok(), "{ok:?}");
    }
    for evil in [
        &b"evil.example:8080"[..],
        b"localhost.evil.example",
        b"127.0.0.1.nip.io:80",
    ] {
        assert!(check_host(&[evil], &loopback).is_err(), "{evil:?}");
    }
    assert!(check_host(&[], &loopback).is_err());
    assert!(
        check_host(&[b"anything"], &[]).is_ok(),
        "no names configured: not checked"
    );
    // No origins configured: an origin on an allowed host passes, any other does not.
    assert!(check_origin(&[b"http://localhost:8080"], &[], &loopback).is_ok());
    assert!(check_origin(&[b"http://127.0.0.1:5173"], &[], &loopback).is_ok());
    for evil in [&b"http://evil.example"[..], b"null", b"file://localhost"] {
        assert!(check_origin(&[evil], &[], &loopback).is_err(), "{evil:?}");
    }
}

#[test]
fn protocol_versions_are_the_known_revisions() {
    assert_eq!(protocol_version(&[]), Ok(None));
    assert_eq!(protocol_version(&[b"2025-06-18"]), Ok(Some("2025-06-18")));
    for bad in [
        &b"2099-01-01"[..],
        b"",
        b"2025-06-18, 2025-03-26",
        b"latest",
    ] {
        assert!(protocol_version(&[bad]).is_err(), "{bad:?}");
    }
    assert!(protocol_version(&[b"2025-06-18", b"2025-06-18"]).is_err());
}

fn check(method: &[&[u8]], name: &[&[u8]], req: &Request, version: Option<&str>) -> bool {
    let mirror = Mirror {
        method: method.to_vec(),
        name: name.to_vec(),
        params: Vec::new(),
    };
    check_mirror(&mirror, req, version, None).is_ok()
}

#[test]
fn mirror_headers_must_agree_with_the_body() {
    let req = call(TOOL);
    assert!(check(&[], &[], &req, Some("2025-06-18")));
    assert!(check(&[b"tools/call"], &[b"get_patient"], &req, None));
    assert!(!check(&[b"tools/list"], &[], &req, None));
    assert!(!check(&[b"tools/call"], &[b"get_billing"], &req, None));
    assert!(!check(&[b"tools/call", b"tools/call"], &[], &req, None));
    let read = call(
        r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"hospital://patients/NUGWI"}}"#,
    );
    assert!(check(
        &[b"resources/read"],
        &[b"hospital://patients/NUGWI"],
        &read,
        None
    ));
    assert!(!check(
        &[b"resources/read"],
        &[b"hospital://patients/SQHUM"],
        &read,
        None
    ));
    let ping = call(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    assert!(
        !check(&[b"ping"], &[b"x"], &ping, None),
        "a name for a call that has none"
    );
}

#[test]
fn the_newest_revision_requires_the_mirror_headers() {
    let req = call(TOOL);
    let newest = Some("2026-07-28");
    assert!(!check(&[], &[], &req, newest));
    assert!(!check(&[b"tools/call"], &[], &req, newest));
    assert!(check(&[b"tools/call"], &[b"get_patient"], &req, newest));
    let note = call(r#"{"jsonrpc":"2.0","method":"notifications/x"}"#);
    assert!(
        check(&[], &[], &note, newest),
        "a notification's headers are not defined"
    );
}

#[test]
fn base64_values_are_decoded_before_they_are_compared() {
    let req = call(TOOL);
    let newest = Some("2026-07-28");
    // "get_patient"
    assert!(check(
        &[b"tools/call"],
        &[b"=?base64?Z2V0X3BhdGllbnQ=?="],
        &req,
        newest
    ));
    assert!(check(
        &[b"tools/call"],
        &[b"=?base64?Z2V0X3BhdGllbnQ?="],
        &req,
        newest
    ));
    assert!(
        !check(
            &[b"tools/call"],
            &[b"=?BASE64?Z2V0X3BhdGllbnQ=?="],
            &req,
            newest
        ),
        "case-sensitive markers"
    );
    assert!(!check(&[b"tools/call"], &[b"=?base64?!!?="], &req, newest));
    assert!(
        !check(&[b"tools/call"], &[b"get_patient\x01"], &req, newest),
        "control bytes"
    );
    assert!(
        check(&[b" tools/call "], &[b" get_patient"], &req, newest),
        "whitespace around values"
    );
}

#[test]
fn param_headers_must_equal_the_argument_they_mirror() {
    let req = call(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"patient_id":"NUGWI","n":42,"ok":true,"deep":{"region":"eu"}}}}"#,
    );
    let newest = Some("2026-07-28");
    let run = |params: &[(&str, &[u8])], declared: Option<&[ParamHeader]>| {
        let mirror = Mirror {
            method: vec![b"tools/call"],
            name: vec![b"t"],
            params: params.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
        };
        check_mirror(&mirror, &req, newest, declared).is_ok()
    };
    // Unknown schema: the argument of the same name (case, '-' and '_' aside).
    assert!(run(&[("patient-id", b"NUGWI")], None));
    assert!(!run(&[("patient-id", b"SQHUM")], None));
    assert!(run(&[("n", b"42"), ("ok", b"true")], None));
    assert!(run(&[("n", b"42.0")], None), "integers compare as numbers");
    assert!(!run(&[("n", b"43")], None));
    assert!(!run(&[("ok", b"True")], None));
    assert!(
        !run(&[("region", b"eu")], None),
        "nothing ties it to an argument"
    );
    assert!(!run(
        &[("patient-id", b"NUGWI"), ("patient-id", b"NUGWI")],
        None
    ));
    // Declared by the schema: by its path, and required when the body has the value.
    let declared = declared_params(&serde_json::json!({"type":"object","properties":{
        "patient_id":{"type":"string","x-mcp-header":"Patient-Id"},
        "deep":{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"}}},
        "list":{"type":"array","items":{"properties":{"x":{"x-mcp-header":"X"}}}}}}));
    assert_eq!(declared.len(), 2, "not through items: {declared:?}");
    assert!(run(
        &[("patient-id", b"NUGWI"), ("region", b"eu")],
        Some(&declared)
    ));
    assert!(
        !run(&[("patient-id", b"NUGWI")], Some(&declared)),
        "Region left out"
    );
    assert!(!run(
        &[("patient-id", b"NUGWI"), ("region", b"us")],
        Some(&declared)
    ));
}

#[test]
fn the_body_and_the_header_name_one_revision() {
    let modern = call(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
    );
    assert!(check_revision(&modern, Some("2026-07-28")).is_ok());
    assert!(check_revision(&modern, Some("2025-11-25")).is_err());
    assert!(check_revision(&modern, None).is_err());
    let batch = call(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#);
    assert!(check_revision(&batch, Some("2026-07-28")).is_err());
    assert!(check_revision(&batch, Some("2025-03-26")).is_ok());
    let answer = call(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
    assert!(check_revision(&answer, Some("2026-07-28")).is_err());
}

#[test]
fn tokens_in_the_query_are_refused_in_any_spelling() {
    assert!(check_query(None).is_ok());
    assert!(check_query(Some("session=1&x=2")).is_ok());
    for q in [
        "access_token=abc",
        "x=1&ACCESS_TOKEN=abc",
        "access%5Ftoken=abc",
        "token=abc",
        "access_token",
    ] {
        assert_eq!(
            check_query(Some(q)),
            Err(TransportError::TokenInQuery),
            "{q}"
        );
    }
}
