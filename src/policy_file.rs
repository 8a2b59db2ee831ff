//! The shell's side of a policy: its file read, and what compiling it needs from outside the
//! file — `GATEKEEPER_REDACT_KEY` from the environment and this year from the clock.

use std::path::Path;

use chrono::Datelike;

use crate::policy::{CompileInputs, Policy, PolicyError};

/// The inputs as the running process has them now.
pub fn inputs() -> CompileInputs {
    CompileInputs {
        redact_key: std::env::var("GATEKEEPER_REDACT_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .map(String::into_bytes),
        year: chrono::Utc::now().year(),
    }
}

/// Parses and compiles policy YAML with the process's inputs.
pub fn parse(text: &str) -> Result<Policy, PolicyError> {
    Policy::compile(text, &inputs())
}

/// Reads, parses and compiles a policy file.
pub fn load(path: &Path) -> Result<Policy, PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text)
}
