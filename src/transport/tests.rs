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

#[test]
fn mirror_headers_must_agree_with_the_body() {
    let req = call(TOOL);
    assert!(check_mirror_headers(&[], &[], &req, Some("2025-06-18")).is_ok());
    assert!(check_mirror_headers(&[b"tools/call"], &[b"get_patient"], &req, None).is_ok());
    assert!(check_mirror_headers(&[b"tools/list"], &[], &req, None).is_err());
    assert!(check_mirror_headers(&[b"tools/call"], &[b"get_billing"], &req, None).is_err());
    assert!(check_mirror_headers(&[b"tools/call", b"tools/call"], &[], &req, None).is_err());
    let read = call(
        r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"hospital://patients/NUGWI"}}"#,
    );
    assert!(check_mirror_headers(
        &[b"resources/read"],
        &[b"hospital://patients/NUGWI"],
        &read,
        None
    )
    .is_ok());
    assert!(check_mirror_headers(
        &[b"resources/read"],
        &[b"hospital://patients/SQHUM"],
        &read,
        None
    )
    .is_err());
    let ping = call(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    assert!(
        check_mirror_headers(&[b"ping"], &[b"x"], &ping, None).is_err(),
        "a name for a call that has none"
    );
}

#[test]
fn the_newest_revision_requires_the_mirror_headers() {
    let req = call(TOOL);
    let newest = Some("2026-07-28");
    assert!(check_mirror_headers(&[], &[], &req, newest).is_err());
    assert!(check_mirror_headers(&[b"tools/call"], &[], &req, newest).is_err());
    assert!(check_mirror_headers(&[b"tools/call"], &[b"get_patient"], &req, newest).is_ok());
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
