use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use serde_json::Value;

/// Key material from files, as the shell's loader reads it (tests may touch the disk).
fn files() -> std::sync::Arc<dyn keys::KeyLoader> {
    struct Files;
    impl keys::KeyLoader for Files {
        fn load(
            &self,
            source: &KeySource,
        ) -> Result<(Vec<u8>, Option<std::time::Duration>), String> {
            match source {
                KeySource::PemFile(p) | KeySource::JwksFile(p) => std::fs::read(p)
                    .map(|b| (b, None))
                    .map_err(|e| e.to_string()),
                other => Err(format!("{other:?}")),
            }
        }
    }
    std::sync::Arc::new(Files)
}

const SECRET: &[u8] = b"a-test-secret-that-is-32-bytes-long!";

fn rules() -> JwtRules {
    JwtRules {
        leeway_seconds: 0,
        cache_entries: 0,
        ..JwtRules::default()
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

mod public_keys {
    //! RS*, PS*, ES* and EdDSA with PEM keys and a JWKS, several issuers at once, and the
    //! algorithm-confusion attacks those invite.
    use super::*;
    use crate::auth::{KeySource, ProviderConfig};
    use std::path::PathBuf;
    use std::time::Duration;

    fn key_file(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/keys")
            .join(name)
    }

    fn private(name: &str, alg: Algorithm) -> EncodingKey {
        let pem = std::fs::read(key_file(name)).unwrap();
        match alg.family() {
            jsonwebtoken::AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(&pem),
            jsonwebtoken::AlgorithmFamily::Ec => EncodingKey::from_ec_pem(&pem),
            _ => EncodingKey::from_ed_pem(&pem),
        }
        .unwrap()
    }

    fn provider(issuer: &str, algs: &[Algorithm], source: KeySource) -> ProviderConfig {
        ProviderConfig {
            issuer: issuer.into(),
            algorithms: algs.to_vec(),
            source,
            audiences: vec![],
            refresh: Duration::from_secs(300),
            refetch_min_interval: Duration::from_secs(10),
        }
    }

    fn signed(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_string);
        encode(&header, &claims, key).unwrap()
    }

    fn claims(iss: &str) -> Value {
        json!({"sub":"u1","role":"Doctor","iss": iss,"exp": now() + 60})
    }

    #[test]
    fn every_public_key_algorithm_verifies_with_its_pem() {
        for (alg, private_key, public_key) in [
            (Algorithm::RS256, "rsa.key", "rsa.pub.pem"),
            (Algorithm::RS384, "rsa.key", "rsa.pub.pem"),
            (Algorithm::RS512, "rsa.key", "rsa.pub.pem"),
            (Algorithm::PS256, "rsa.key", "rsa.pub.pem"),
            (Algorithm::PS384, "rsa.key", "rsa.pub.pem"),
            (Algorithm::PS512, "rsa.key", "rsa.pub.pem"),
            (Algorithm::ES256, "ec256.key", "ec256.pub.pem"),
            (Algorithm::ES384, "ec384.key", "ec384.pub.pem"),
            (Algorithm::EdDSA, "ed25519.key", "ed25519.pub.pem"),
        ] {
            let source = KeySource::PemFile(key_file(public_key));
            let v = Verifier::new(
                None,
                &rules(),
                &[provider("idp", &[alg], source)],
                None,
                &files(),
            )
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
            let token = signed(alg, None, &private(private_key, alg), claims("idp"));
            let id = v.verify(&token).unwrap_or_else(|e| panic!("{alg:?}: {e}"));
            assert_eq!(id.roles, vec!["Doctor"]);
            let forged = signed(alg, None, &private(private_key, alg), claims("other"));
            assert_eq!(v.verify(&forged), Err(AuthError::WrongIssuer), "{alg:?}");
        }
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_refused() {
        // The classic confusion: an HMAC token keyed with the RSA public key's bytes.
        let source = KeySource::PemFile(key_file("rsa.pub.pem"));
        let v = Verifier::new(
            None,
            &rules(),
            &[provider("idp", &[Algorithm::RS256], source)],
            None,
            &files(),
        )
        .unwrap();
        let public = std::fs::read(key_file("rsa.pub.pem")).unwrap();
        let token = signed(
            Algorithm::HS256,
            None,
            &EncodingKey::from_secret(&public),
            claims("idp"),
        );
        assert!(matches!(
            v.verify(&token),
            Err(AuthError::WrongAlgorithm { .. })
        ));
    }

    #[test]
    fn jwks_picks_the_key_by_kid_and_refuses_unknown_kids() {
        let source = KeySource::JwksFile(key_file("jwks.json"));
        let algs = [Algorithm::RS256, Algorithm::ES256];
        let v = Verifier::new(
            None,
            &rules(),
            &[provider("idp", &algs, source)],
            None,
            &files(),
        )
        .unwrap();
        let rs = signed(
            Algorithm::RS256,
            Some("rsa-1"),
            &private("rsa.key", Algorithm::RS256),
            claims("idp"),
        );
        let es = signed(
            Algorithm::ES256,
            Some("ec-1"),
            &private("ec256.key", Algorithm::ES256),
            claims("idp"),
        );
        assert!(v.verify(&rs).is_ok());
        assert!(v.verify(&es).is_ok());
        let unknown = signed(
            Algorithm::RS256,
            Some("rsa-2"),
            &private("rsa.key", Algorithm::RS256),
            claims("idp"),
        );
        assert_eq!(v.verify(&unknown), Err(AuthError::UnknownKey));
        // A kid naming the EC key cannot make it verify an RSA signature.
        let crossed = signed(
            Algorithm::RS256,
            Some("ec-1"),
            &private("rsa.key", Algorithm::RS256),
            claims("idp"),
        );
        assert!(v.verify(&crossed).is_err());
        // Several keys and no kid: ambiguous, refused rather than tried one by one.
        let no_kid = signed(
            Algorithm::RS256,
            None,
            &private("rsa.key", Algorithm::RS256),
            claims("idp"),
        );
        assert!(v.verify(&no_kid).is_ok(), "only one RSA key fits RS256");
    }

    #[test]
    fn several_issuers_each_with_their_own_keys() {
        let providers = [
            provider(
                "https://idp.a",
                &[Algorithm::RS256],
                KeySource::PemFile(key_file("rsa.pub.pem")),
            ),
            provider(
                "https://idp.b",
                &[Algorithm::ES256],
                KeySource::PemFile(key_file("ec256.pub.pem")),
            ),
        ];
        let v = Verifier::new(Some(SECRET), &rules(), &providers, None, &files()).unwrap();
        let a = signed(
            Algorithm::RS256,
            None,
            &private("rsa.key", Algorithm::RS256),
            claims("https://idp.a"),
        );
        let b = signed(
            Algorithm::ES256,
            None,
            &private("ec256.key", Algorithm::ES256),
            claims("https://idp.b"),
        );
        let web_app = sign(json!({"sub":"1","role":"Nurse","exp": now() + 60}));
        assert!(v.verify(&a).is_ok());
        assert!(v.verify(&b).is_ok());
        assert!(
            v.verify(&web_app).is_ok(),
            "JWT_SECRET still serves tokens without a named issuer"
        );
        // Issuer A's key cannot vouch for a token claiming issuer B, nor can the shared secret.
        let a_as_b = signed(
            Algorithm::RS256,
            None,
            &private("rsa.key", Algorithm::RS256),
            claims("https://idp.b"),
        );
        assert!(matches!(
            v.verify(&a_as_b),
            Err(AuthError::WrongAlgorithm { .. })
        ));
        let secret_as_a = sign(claims("https://idp.a"));
        assert!(matches!(
            v.verify(&secret_as_a),
            Err(AuthError::WrongAlgorithm { .. })
        ));
    }

    #[test]
    fn audience_per_issuer_overrides_the_global_one() {
        let mut p = provider(
            "idp",
            &[Algorithm::ES256],
            KeySource::PemFile(key_file("ec256.pub.pem")),
        );
        p.audiences = vec!["https://mcp.hospital.example".into()];
        let v = Verifier::new(None, &rules(), &[p], None, &files()).unwrap();
        let key = private("ec256.key", Algorithm::ES256);
        let mut c = claims("idp");
        c["aud"] = json!(["other", "https://mcp.hospital.example"]);
        assert!(v
            .verify(&signed(Algorithm::ES256, None, &key, c.clone()))
            .is_ok());
        c["aud"] = json!("https://another-resource.example");
        assert_eq!(
            v.verify(&signed(Algorithm::ES256, None, &key, c)),
            Err(AuthError::WrongAudience)
        );
    }

    #[test]
    fn an_unreadable_key_is_a_start_up_error() {
        let bad = provider(
            "idp",
            &[Algorithm::RS256],
            KeySource::PemFile(key_file("jwks.json")),
        );
        assert!(Verifier::new(None, &rules(), &[bad], None, &files()).is_err());
        let missing = provider(
            "idp",
            &[Algorithm::RS256],
            KeySource::JwksFile(key_file("absent.json")),
        );
        assert!(Verifier::new(None, &rules(), &[missing], None, &files()).is_err());
        assert!(
            Verifier::new(None, &rules(), &[], None, &files()).is_err(),
            "no key at all"
        );
    }
}

#[test]
fn typ_is_enforced_when_configured() {
    let v = Verifier::hmac(
        SECRET,
        &JwtRules {
            typ: Some("at+jwt".into()),
            ..rules()
        },
    )
    .unwrap();
    let claims = json!({"sub":"1","exp": now() + 60});
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("application/at+jwt".into());
    let at = encode(&header, &claims, &EncodingKey::from_secret(SECRET)).unwrap();
    assert!(v.verify(&at).is_ok());
    let plain = sign(claims);
    assert_eq!(
        v.verify(&plain),
        Err(AuthError::Malformed("wrong token type (typ)".into()))
    );
}

#[test]
fn crit_and_duplicate_header_parameters_are_refused() {
    for header in [
        r#"{"alg":"HS256","crit":["exp"]}"#.to_string(),
        r#"{"alg":"HS256","alg":"none"}"#.to_string(),
    ] {
        let h = URL_SAFE_NO_PAD.encode(header);
        let payload = b64(&json!({"sub":"1","exp": now() + 60}));
        let input = format!("{h}.{payload}");
        let sig = jsonwebtoken::crypto::sign(
            input.as_bytes(),
            &EncodingKey::from_secret(SECRET),
            Algorithm::HS256,
        )
        .unwrap();
        assert!(matches!(
            verifier().verify(&format!("{input}.{sig}")),
            Err(AuthError::Malformed(_))
        ));
    }
}
