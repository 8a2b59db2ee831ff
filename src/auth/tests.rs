use super::*;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;

const SECRET: &[u8] = b"a-test-secret-that-is-32-bytes-long!";

fn rules() -> JwtRules {
    JwtRules {
        algorithm: Algorithm::HS256,
        require_exp: true,
        leeway_seconds: 0,
        issuers: vec![],
        audiences: vec![],
    }
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

fn sign(claims: Value) -> String {
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn verifier() -> Verifier {
    Verifier::hmac(SECRET, &rules()).unwrap()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[test]
fn pyjwt_web_app_token_is_accepted() {
    let token =
        sign(json!({"user_id":"1","role":"Doctor","username":"yenji100","exp": now() + 60}));
    let id = verifier().verify(&token).unwrap();
    assert_eq!(id.user_id, "1");
    assert_eq!(id.roles, vec!["Doctor"]);
    assert_eq!(id.username.as_deref(), Some("yenji100"));
}

#[test]
fn integer_user_id_and_sub_fallback() {
    let id = verifier()
        .verify(&sign(json!({"user_id": 42, "exp": now() + 60})))
        .unwrap();
    assert_eq!(id.user_id, "42");
    let id = verifier()
        .verify(&sign(json!({"sub": "u-7", "exp": now() + 60})))
        .unwrap();
    assert_eq!(id.user_id, "u-7");
}

#[test]
fn role_and_roles_are_unioned() {
    let token = sign(json!({"sub":"1","role":"Nurse","roles":["Viewer","Nurse"],"exp": now()+60}));
    assert_eq!(
        verifier().verify(&token).unwrap().roles,
        vec!["Nurse", "Viewer"]
    );
}

#[test]
fn no_user_id_is_rejected() {
    let token = sign(json!({"role":"Doctor","exp": now() + 60}));
    assert_eq!(verifier().verify(&token), Err(AuthError::NoUserId));
}

#[test]
fn non_string_roles_are_rejected() {
    let token = sign(json!({"sub":"1","roles":["Doctor", 3],"exp": now() + 60}));
    assert_eq!(
        verifier().verify(&token),
        Err(AuthError::BadClaim("roles".into()))
    );
}

#[test]
fn expired_token_is_rejected() {
    let token = sign(json!({"sub":"1","exp": now() - 10}));
    assert_eq!(verifier().verify(&token), Err(AuthError::Expired));
}

#[test]
fn leeway_accepts_a_just_expired_token() {
    let token = sign(json!({"sub":"1","exp": now() - 10}));
    let v = Verifier::hmac(
        SECRET,
        &JwtRules {
            leeway_seconds: 60,
            ..rules()
        },
    )
    .unwrap();
    assert!(v.verify(&token).is_ok());
}

#[test]
fn not_yet_valid_token_is_rejected() {
    let token = sign(json!({"sub":"1","exp": now() + 600, "nbf": now() + 300}));
    assert_eq!(verifier().verify(&token), Err(AuthError::NotYetValid));
}

#[test]
fn exp_is_required_unless_configured_otherwise() {
    let token = sign(json!({"sub":"1"}));
    assert_eq!(
        verifier().verify(&token),
        Err(AuthError::MissingClaim("exp".into()))
    );
    let legacy = Verifier::hmac(
        SECRET,
        &JwtRules {
            require_exp: false,
            ..rules()
        },
    )
    .unwrap();
    assert!(legacy.verify(&token).is_ok());
}

#[test]
fn another_secret_is_a_bad_signature() {
    let token = encode(
        &Header::default(),
        &json!({"sub":"1","exp": now() + 60}),
        &EncodingKey::from_secret(b"some-other-secret-of-enough-length"),
    )
    .unwrap();
    assert_eq!(verifier().verify(&token), Err(AuthError::BadSignature));
}

#[test]
fn tampered_payload_is_a_bad_signature() {
    let token = sign(json!({"sub":"1","role":"Nurse","exp": now() + 60}));
    let parts: Vec<&str> = token.split('.').collect();
    let forged = b64(&json!({"sub":"1","role":"Doctor","exp": now() + 60}));
    let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
    assert_eq!(verifier().verify(&tampered), Err(AuthError::BadSignature));
}

#[test]
fn alg_none_is_rejected() {
    let header = b64(&json!({"alg":"none","typ":"JWT"}));
    let payload = b64(&json!({"sub":"1","role":"Doctor","exp": now() + 60}));
    let err = verifier()
        .verify(&format!("{header}.{payload}."))
        .unwrap_err();
    assert!(matches!(err, AuthError::WrongAlgorithm { ref got, .. } if got == "none"));
}

#[test]
fn another_hmac_algorithm_is_rejected() {
    let token = encode(
        &Header::new(Algorithm::HS512),
        &json!({"sub":"1","exp": now() + 60}),
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    assert!(matches!(
        verifier().verify(&token),
        Err(AuthError::WrongAlgorithm { .. })
    ));
}

#[test]
fn issuer_and_audience_are_checked_when_configured() {
    let v = Verifier::hmac(
        SECRET,
        &JwtRules {
            issuers: vec!["https://idp.example".into()],
            audiences: vec!["mcp".into()],
            ..rules()
        },
    )
    .unwrap();
    let ok = sign(json!({"sub":"1","iss":"https://idp.example","aud":"mcp","exp": now()+60}));
    assert!(v.verify(&ok).is_ok());
    let bad_iss = sign(json!({"sub":"1","iss":"https://evil","aud":"mcp","exp": now()+60}));
    assert_eq!(v.verify(&bad_iss), Err(AuthError::WrongIssuer));
    let bad_aud = sign(json!({"sub":"1","iss":"https://idp.example","aud":"x","exp": now()+60}));
    assert_eq!(v.verify(&bad_aud), Err(AuthError::WrongAudience));
    let no_aud = sign(json!({"sub":"1","iss":"https://idp.example","exp": now()+60}));
    assert_eq!(
        v.verify(&no_aud),
        Err(AuthError::MissingClaim("aud".into()))
    );
}

#[test]
fn duplicate_claims_are_rejected() {
    let header = b64(&json!({"alg":"HS256","typ":"JWT"}));
    let payload = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"sub":"1","role":"Nurse","role":"Doctor","exp":{}}}"#,
        now() + 60
    ));
    let signing_input = format!("{header}.{payload}");
    let sig = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(SECRET),
        Algorithm::HS256,
    )
    .unwrap();
    let err = verifier()
        .verify(&format!("{signing_input}.{sig}"))
        .unwrap_err();
    assert_eq!(err, AuthError::Malformed("duplicate claim".into()));
}

#[test]
fn garbage_is_malformed_not_a_panic() {
    for t in [
        "",
        "abc",
        "a.b",
        "a.b.c",
        "....",
        "eyJhbGciOiJIUzI1NiJ9.%%%.x",
    ] {
        assert!(verifier().verify(t).is_err(), "{t}");
    }
}

#[test]
fn bearer_extraction() {
    assert_eq!(bearer_token(&[b"Bearer abc.def.ghi"]), Ok("abc.def.ghi"));
    assert_eq!(bearer_token(&[b"bEaReR abc"]), Ok("abc"));
    assert_eq!(bearer_token(&[]), Err(AuthError::Missing));
    assert_eq!(bearer_token(&[b"Bearer "]), Err(AuthError::Missing));
    assert!(bearer_token(&[b"Basic dXNlcjpwYXNz"]).is_err());
    assert!(bearer_token(&[b"Bearer a", b"Bearer b"]).is_err());
    assert!(bearer_token(&[b"Bearer a b"]).is_err());
    assert!(bearer_token(&[b"Bearer a\"b"]).is_err());
    assert!(bearer_token(&[b"Bearer \xff"]).is_err());
}
