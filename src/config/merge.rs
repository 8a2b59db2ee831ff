//! A reload's new settings merged into the running ones: what may change live is taken, what
//! needs a restart is kept and named.

use super::{Settings, StateSettings};

impl Settings {
    /// Takes the live-safe fields of `new` (JWT rules, limits, timeouts, forwarding, batches)
    /// and keeps this value's restart-only fields, naming those that differ.
    pub fn merge_live(&self, new: Settings) -> (Settings, Vec<&'static str>) {
        let mut needs_restart = Vec::new();
        if new.listen != self.listen {
            needs_restart.push("listen");
        }
        if new.threads != self.threads {
            needs_restart.push("threads");
        }
        if new.upstream.authority != self.upstream.authority
            || new.upstream.tls != self.upstream.tls
        {
            needs_restart.push("upstream");
        }
        if new.state.redis_url != self.state.redis_url {
            needs_restart.push("state.store");
        }
        if new.tls != self.tls {
            // The certificate files themselves reload live (see `tls`); which files, not.
            needs_restart.push("tls");
        }
        if new.max_connections != self.max_connections {
            needs_restart.push("limits.max_connections");
        }
        if new.session_capacity != self.session_capacity || new.session_idle != self.session_idle {
            needs_restart.push("sessions");
        }
        if new.policy_path != self.policy_path || new.shadow_policy_path != self.shadow_policy_path
        {
            needs_restart.push("policy paths");
        }
        let merged = Settings {
            listen: self.listen.clone(),
            threads: self.threads,
            upstream: self.upstream.clone(),
            policy_path: self.policy_path.clone(),
            shadow_policy_path: self.shadow_policy_path.clone(),
            metrics_listen: self.metrics_listen.clone(),
            audit: self.audit.clone(),
            max_connections: self.max_connections,
            session_capacity: self.session_capacity,
            session_idle: self.session_idle,
            tls: self.tls.clone(),
            state: StateSettings {
                redis_url: self.state.redis_url.clone(),
                ..new.state
            },
            ..new
        };
        (merged, needs_restart)
    }
}
