use jsonwebtoken::Algorithm;

use super::*;

fn env() -> Env {
    Env {
        jwt_secret: Some("s3cret".into()),
        ..Env::default()
    }
}

#[test]
fn defaults_match_the_contract() {
    let s = Settings::from_parts(ConfigFile::default(), &env()).unwrap();
    assert_eq!(s.listen, "127.0.0.1:8080");
    assert_eq!(s.upstream.addr.to_string(), "127.0.0.1:5000");
    assert_eq!(s.jwt.algorithm, Algorithm::HS256);
    assert!(s.jwt.require_exp);
    assert!(!s.forward_authorization);
}

#[test]
fn environment_wins_over_the_file() {
    let file: ConfigFile =
        serde_yaml_ng::from_str("listen: 0.0.0.0:1\nupstream: http://127.0.0.1:2\n").unwrap();
    let e = Env {
        listen: Some("127.0.0.1:3".into()),
        upstream: Some("http://127.0.0.1:4".into()),
        jwt_alg: Some("hs512".into()),
        ..env()
    };
    let s = Settings::from_parts(file, &e).unwrap();
    assert_eq!(s.listen, "127.0.0.1:3");
    assert_eq!(s.upstream.addr.port(), 4);
    assert_eq!(s.jwt.algorithm, Algorithm::HS512);
}

#[test]
fn missing_secret_is_a_clear_error() {
    let err = Settings::from_parts(ConfigFile::default(), &Env::default()).unwrap_err();
    assert!(err.to_string().contains("JWT_SECRET is not set"));
}

#[test]
fn bad_values_are_refused() {
    for (k, v) in [
        ("upstream", "ftp://127.0.0.1:5000"),
        ("upstream", "http://127.0.0.1:5000/mcp"),
        ("upstream", "127.0.0.1:5000"),
        ("listen", "8080"),
    ] {
        let file: ConfigFile = serde_yaml_ng::from_str(&format!("{k}: '{v}'")).unwrap();
        assert!(Settings::from_parts(file, &env()).is_err(), "{k}={v}");
    }
    let e = Env {
        jwt_alg: Some("none".into()),
        ..env()
    };
    assert!(Settings::from_parts(ConfigFile::default(), &e).is_err());
    assert!(serde_yaml_ng::from_str::<ConfigFile>("lisen: x").is_err());
}

#[test]
fn tls_settings_are_checked_at_load() {
    let load = |yaml: &str| {
        let file: ConfigFile = serde_yaml_ng::from_str(yaml).unwrap();
        Settings::from_parts(file, &env())
    };
    let s = load("upstream: https://127.0.0.1:8443\n").unwrap();
    let tls = s.upstream.tls.unwrap();
    assert_eq!(
        (tls.server_name.as_str(), tls.insecure_skip_verify),
        ("127.0.0.1", false)
    );
    let s = load("upstream: https://localhost\n").unwrap();
    assert_eq!(s.upstream.addr.port(), 443);
    for bad in [
        "upstream_tls: {insecure_skip_verify: true}\n",
        "upstream: https://localhost\nupstream_tls: {cert_file: Cargo.toml}\n",
        "upstream: https://localhost\nupstream_tls: {ca_file: /no/such/file}\n",
        "tls: {cert_file: /no/such/cert, key_file: Cargo.toml}\n",
        "tls: {cert_file: Cargo.toml, key_file: Cargo.toml, client_auth: optional}\n",
    ] {
        assert!(load(bad).is_err(), "{bad}");
    }
    let s =
        load("tls: {cert_file: Cargo.toml, key_file: Cargo.toml, client_ca_file: Cargo.toml}\n")
            .unwrap();
    assert!(
        s.tls.unwrap().client_cert_required,
        "a client CA alone means required"
    );
}

#[test]
fn providers_are_validated_at_load() {
    let parse = |yaml: &str, env: &Env| {
        let file: ConfigFile = serde_yaml_ng::from_str(yaml).unwrap();
        Settings::from_parts(file, env)
    };
    let ok = "jwt:\n  providers:\n    - {issuer: https://idp, algorithms: [RS256], jwks_url: https://idp/jwks}\n";
    let s = parse(ok, &Env::default()).expect("a provider stands in for JWT_SECRET");
    assert!(s.jwt_secret.is_none());
    assert_eq!(s.jwt_providers[0].algorithms, vec![Algorithm::RS256]);
    for (bad, why) in [
        (
            "{issuer: https://idp, algorithms: [HS256], jwks_url: https://idp/jwks}",
            "HMAC with a public key",
        ),
        (
            "{issuer: https://idp, algorithms: [RS256], secret_env: S}",
            "RSA with a secret",
        ),
        (
            "{issuer: https://idp, algorithms: [RS256]}",
            "no key source",
        ),
        (
            "{issuer: https://idp, algorithms: [RS256], jwks_url: u, jwks_file: f}",
            "two key sources",
        ),
        (
            "{issuer: https://idp, algorithms: [XX1], jwks_url: https://idp/jwks}",
            "unknown algorithm",
        ),
        (
            "{issuer: https://idp, algorithms: [RS256], jwks_url: ftp://idp}",
            "not http(s)",
        ),
        (
            "{issuer: https://idp, algorithms: [HS256], secret_env: NOT_SET_ANYWHERE_4711}",
            "unset variable",
        ),
    ] {
        let yaml = format!("jwt:\n  providers:\n    - {bad}\n");
        assert!(parse(&yaml, &env()).is_err(), "{why}");
    }
    let mut with_var = env();
    with_var.extra.insert("IDP_SECRET".into(), "x".repeat(32));
    let yaml =
        "jwt:\n  providers:\n    - {issuer: idp, algorithms: [HS512], secret_env: IDP_SECRET}\n";
    assert!(parse(yaml, &with_var).is_ok());
}

#[test]
fn paths_and_resource_are_validated() {
    for bad in [
        "mcp_paths: [mcp]",
        "mcp_paths: ['/mcp?x=1']",
        "resource_metadata: {resource: 'ftp://x'}",
    ] {
        let file: ConfigFile = serde_yaml_ng::from_str(bad).unwrap();
        assert!(Settings::from_parts(file, &env()).is_err(), "{bad}");
    }
    let s = Settings::from_parts(ConfigFile::default(), &env()).unwrap();
    assert_eq!(s.mcp_paths, vec!["/mcp"]);
}

#[test]
fn shipped_config_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/gatekeeper.yaml");
    Settings::load(Some(&path), &env()).unwrap();
}
