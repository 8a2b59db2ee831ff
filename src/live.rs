//! The state a running gatekeeper may change without a restart: settings with their verifier,
//! the policy and the shadow policy. Each sits behind an `ArcSwap`: a request takes one
//! snapshot when it starts and is decided wholly by it; a reload swaps in a new value.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};

use crate::auth::Verifier;
use crate::config::Settings;
use crate::policy::Policy;

/// Settings and the verifier built from them: swapped together so they always agree.
pub struct Runtime {
    pub settings: Settings,
    pub verifier: Verifier,
}

impl Runtime {
    /// Builds the verifier; a JWKS that cannot be fetched now keeps `previous`'s keys.
    pub fn new(settings: Settings, previous: Option<&Runtime>) -> Result<Self, String> {
        let verifier = Verifier::new(
            settings.jwt_secret.as_deref(),
            &settings.jwt,
            &settings.jwt_providers,
            previous.map(|r| &r.verifier),
            &crate::key_loader::FilesAndHttp::shared(),
        )?;
        crate::key_loader::refresh_in_background(&verifier);
        Ok(Runtime { settings, verifier })
    }
}

pub struct Live {
    pub runtime: ArcSwap<Runtime>,
    pub policy: ArcSwap<Policy>,
    /// A candidate policy judged beside the live one; it never decides.
    pub shadow: ArcSwapOption<Policy>,
    shadow_disagreements: AtomicU64,
}

impl Live {
    pub fn new(runtime: Runtime, policy: Policy, shadow: Option<Policy>) -> Self {
        Live {
            runtime: ArcSwap::from_pointee(runtime),
            policy: ArcSwap::from_pointee(policy),
            shadow: ArcSwapOption::from(shadow.map(Arc::new)),
            shadow_disagreements: AtomicU64::new(0),
        }
    }

    pub fn count_shadow_disagreement(&self) -> u64 {
        self.shadow_disagreements.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn shadow_disagreements(&self) -> u64 {
        self.shadow_disagreements.load(Ordering::Relaxed)
    }
}
