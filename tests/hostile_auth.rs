//! Hostile input, authentication: missing, forged, confused and expired tokens. Every case states the answer it must get AND whether the upstream
//! may see it; the mock counts every request it receives, so "never reached the upstream" is
//! measured, not assumed.
#![allow(unused_imports)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::attack::*;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

// ---- authentication ---------------------------------------------------------------------

#[test]
fn authentication_attacks() {
    let stack = Stack::start(false);
    let cases = vec![
        case("no Authorization header", 401, false, |s| {
            send(s, "/mcp", &[], GET_PATIENT)
        }),
        case("empty Bearer token", 401, false, |s| {
            send(s, "/mcp", &[("authorization", "Bearer ")], GET_PATIENT)
        }),
        case("Basic scheme", 401, false, |s| {
            send(
                s,
                "/mcp",
                &[("authorization", "Basic ZG9jdG9yOnB3")],
                GET_PATIENT,
            )
        }),
        case("two Authorization headers", 401, false, |s| {
            let two = format!("{}{}", auth_line("Doctor"), auth_line("Nurse"));
            raw_status(s, &raw_post(&two, GET_PATIENT))
        }),
        case("alg none, unsigned", 401, false, |s| {
            let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
            let c = URL_SAFE_NO_PAD.encode(claims("Doctor").to_string());
            with_token(s, &format!("{h}.{c}."), GET_PATIENT)
        }),
        case("alg NONE, upper case", 401, false, |s| {
            let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"NONE"}"#);
            let c = URL_SAFE_NO_PAD.encode(claims("Doctor").to_string());
            with_token(s, &format!("{h}.{c}."), GET_PATIENT)
        }),
        case("HS512 where HS256 is pinned", 401, false, |s| {
            with_token(
                s,
                &sign_with(SECRET, Algorithm::HS512, claims("Doctor")),
                GET_PATIENT,
            )
        }),
        case("header says RS256, signed HS256", 401, false, |s| {
            with_token(
                s,
                &forge(r#"{"alg":"RS256"}"#, &claims("Doctor").to_string()),
                GET_PATIENT,
            )
        }),
        case("signed with another secret", 401, false, |s| {
            let t = sign_with(
                "another-secret-of-sufficient-length!!",
                Algorithm::HS256,
                claims("Doctor"),
            );
            with_token(s, &t, GET_PATIENT)
        }),
        case("payload swapped to Doctor", 401, false, |s| {
            let nurse = token("Nurse");
            let parts: Vec<&str> = nurse.split('.').collect();
            let doctor = URL_SAFE_NO_PAD.encode(claims("Doctor").to_string());
            with_token(
                s,
                &format!("{}.{doctor}.{}", parts[0], parts[2]),
                GET_PATIENT,
            )
        }),
        case("expired", 401, false, |s| {
            let t = token_with(json!({"user_id":"1","role":"Doctor","exp": now() - 120}));
            with_token(s, &t, GET_PATIENT)
        }),
        case("not yet valid (nbf)", 401, false, |s| {
            let t = token_with(
                json!({"user_id":"1","role":"Doctor","nbf": now() + 600,"exp": now() + 900}),
            );
            with_token(s, &t, GET_PATIENT)
        }),
        case("no exp", 401, false, |s| {
            with_token(
                s,
                &token_with(json!({"user_id":"1","role":"Doctor"})),
                GET_PATIENT,
            )
        }),
        case("issued in the year 2300", 401, false, |s| {
            let t = token_with(
                json!({"user_id":"1","role":"Doctor","iat": 10_413_792_000_i64,"exp": now()+60}),
            );
            with_token(s, &t, GET_PATIENT)
        }),
        case("exp of 1e300 (no expiry in disguise)", 401, false, |s| {
            let t = forge(
                r#"{"alg":"HS256","typ":"JWT"}"#,
                r#"{"user_id":"1","role":"Doctor","exp":1e300}"#,
            );
            with_token(s, &t, GET_PATIENT)
        }),
        case("exp as a string", 401, false, |s| {
            let t = token_with(json!({"user_id":"1","role":"Doctor","exp": "9999999999"}));
            with_token(s, &t, GET_PATIENT)
        }),
        case("token over 8 KiB", 401, false, |s| {
            let t = token_with(
                json!({"user_id":"1","role":"Doctor","pad":"x".repeat(9000),"exp": now()+60}),
            );
            with_token(s, &t, GET_PATIENT)
        }),
        case("token with a quote", 401, false, |s| {
            send(
                s,
                "/mcp",
                &[("authorization", "Bearer abc\"def")],
                GET_PATIENT,
            )
        }),
        case("crit header", 401, false, |s| {
            with_token(
                s,
                &forge(
                    r#"{"alg":"HS256","crit":["exp"]}"#,
                    &claims("Doctor").to_string(),
                ),
                GET_PATIENT,
            )
        }),
        case("duplicate role claim", 401, false, |s| {
            let c = format!(
                r#"{{"user_id":"1","role":"Nurse","role":"Doctor","exp":{}}}"#,
                now() + 60
            );
            with_token(s, &forge(r#"{"alg":"HS256"}"#, &c), GET_PATIENT)
        }),
        case("duplicate alg header parameter", 401, false, |s| {
            with_token(
                s,
                &forge(
                    r#"{"alg":"HS256","alg":"none"}"#,
                    &claims("Doctor").to_string(),
                ),
                GET_PATIENT,
            )
        }),
        case("two-part token", 401, false, |s| {
            let t = token("Doctor");
            with_token(s, t.rsplit_once('.').map_or("", |(a, _)| a), GET_PATIENT)
        }),
        case("four-part token", 401, false, |s| {
            with_token(s, &format!("{}.x", token("Doctor")), GET_PATIENT)
        }),
        case("roles with a non-string", 401, false, |s| {
            let t = token_with(json!({"user_id":"1","roles":["Doctor", 1],"exp": now()+60}));
            with_token(s, &t, GET_PATIENT)
        }),
        case("no user id", 401, false, |s| {
            with_token(
                s,
                &token_with(json!({"role":"Doctor","exp": now()+60})),
                GET_PATIENT,
            )
        }),
        case("token in the query string", 400, false, |s| {
            let path = format!("/mcp?access_token={}", token("Doctor"));
            send(s, &path, &[], GET_PATIENT)
        }),
        case("token in the query beside a header", 400, false, |s| {
            let auth = bearer(&token("Doctor"));
            send(
                s,
                "/mcp?access_token=x",
                &[("authorization", &auth)],
                GET_PATIENT,
            )
        }),
        case("control: lower-case scheme, valid token", 200, true, |s| {
            let auth = format!("bearer {}", token("Doctor"));
            send(s, "/mcp", &[("authorization", &auth)], GET_PATIENT)
        }),
    ];
    run(&stack, cases);
    // The gatekeeper never hands the client's token to the upstream (no passthrough).
    as_role(&stack, "Doctor", GET_PATIENT);
    assert_eq!(
        stack.stats()["last_request"]["authorization_present"],
        false
    );
}
