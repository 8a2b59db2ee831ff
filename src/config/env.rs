//! The environment variables the gatekeeper reads (a `.env` file is loaded into it first).

#[derive(Debug, Default, Clone)]
pub struct Env {
    pub jwt_secret: Option<String>,
    pub jwt_alg: Option<String>,
    pub listen: Option<String>,
    pub upstream: Option<String>,
    pub policy: Option<String>,
    pub shadow_policy: Option<String>,
    pub metrics_listen: Option<String>,
    pub audit_log: Option<String>,
    pub audit_key: Option<String>,
    pub state_store: Option<String>,
    /// Other variables named by the configuration (`secret_env`).
    pub extra: std::collections::BTreeMap<String, String>,
}

impl Env {
    /// A variable the configuration names: from `extra` in tests, else the process.
    pub fn lookup(&self, name: &str) -> Option<String> {
        self.extra
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
            .filter(|v| !v.is_empty())
    }

    pub fn from_process() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            jwt_secret: var("JWT_SECRET"),
            jwt_alg: var("JWT_ALG"),
            listen: var("GATEKEEPER_LISTEN"),
            upstream: var("GATEKEEPER_UPSTREAM"),
            policy: var("GATEKEEPER_POLICY"),
            shadow_policy: var("GATEKEEPER_SHADOW_POLICY"),
            metrics_listen: var("GATEKEEPER_METRICS_LISTEN"),
            audit_log: var("GATEKEEPER_AUDIT_LOG"),
            audit_key: var("GATEKEEPER_AUDIT_KEY"),
            state_store: var("GATEKEEPER_STATE_STORE"),
            extra: Default::default(),
        }
    }
}
