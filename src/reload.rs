//! Live reload. The policy, the shadow policy and the safe parts of the configuration are
//! re-read when their files change (notify) or on SIGHUP. A file is parsed, validated and
//! compiled off the request path, then swapped in one step; a bad file keeps the last good one.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use crate::config::{Env, Settings};
use crate::live::{Live, Runtime};
use crate::metrics::Metrics;

/// How long a file must stay quiet before it is read: editors and `cp` write in several steps.
const SETTLE: Duration = Duration::from_millis(150);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum WatchedFile {
    Policy,
    Shadow,
    Config,
}

impl WatchedFile {
    fn label(self) -> &'static str {
        match self {
            WatchedFile::Policy => "policy",
            WatchedFile::Shadow => "shadow_policy",
            WatchedFile::Config => "config",
        }
    }
}

/// Re-reads the gatekeeper's files into `Live`.
pub struct Reloader {
    live: Arc<Live>,
    metrics: Arc<Metrics>,
    config_path: Option<PathBuf>,
    env: Env,
    /// Hash of the content last tried per file, so unrelated events do not re-log old errors.
    last_seen: Mutex<HashMap<WatchedFile, u64>>,
}

impl Reloader {
    pub fn new(
        live: Arc<Live>,
        metrics: Arc<Metrics>,
        config_path: Option<PathBuf>,
        env: Env,
    ) -> Arc<Self> {
        Arc::new(Reloader {
            live,
            metrics,
            config_path,
            env,
            last_seen: Mutex::new(HashMap::new()),
        })
    }

    fn settings(&self) -> Settings {
        self.live.runtime.load().settings.clone()
    }

    fn path_of(&self, target: WatchedFile) -> Option<PathBuf> {
        let settings = self.settings();
        match target {
            WatchedFile::Policy => Some(settings.policy_path),
            WatchedFile::Shadow => settings.shadow_policy_path,
            WatchedFile::Config => self.config_path.clone(),
        }
    }

    /// Reloads everything now (SIGHUP), whether or not the files changed.
    pub fn reload_all(&self) {
        for target in [
            WatchedFile::Config,
            WatchedFile::Policy,
            WatchedFile::Shadow,
        ] {
            self.reload(target, true);
        }
    }

    /// Reloads one file; `force` skips the unchanged-content check.
    fn reload(&self, target: WatchedFile, force: bool) {
        let Some(path) = self.path_of(target) else {
            return;
        };
        let text = match read_settled(&path) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "reload: cannot read; keeping the last good version");
                return;
            }
        };
        if !self.first_sight(target, &text) && !force {
            return;
        }
        let outcome = match target {
            WatchedFile::Policy => crate::policy_file::parse(&text).map(|p| {
                let version = p.version().to_string();
                self.live.policy.store(Arc::new(p));
                self.metrics.policy_loaded(&version);
                version
            }),
            WatchedFile::Shadow => crate::policy_file::parse(&text).map(|p| {
                let version = p.version().to_string();
                self.live.shadow.store(Some(Arc::new(p)));
                version
            }),
            WatchedFile::Config => return self.apply_config(&path),
        };
        self.metrics.reload(target.label(), outcome.is_ok());
        match outcome {
            Ok(version) => {
                tracing::info!(file = %path.display(), %version, "reload: {target:?} applied")
            }
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "reload: {target:?} rejected; keeping the last good version")
            }
        }
    }

    fn first_sight(&self, target: WatchedFile, text: &str) -> bool {
        let mut h = DefaultHasher::new();
        text.hash(&mut h);
        let hash = h.finish();
        let mut seen = self.last_seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.insert(target, hash) != Some(hash)
    }

    /// Applies the live-safe settings; listeners, workers, upstream and file paths need a
    /// restart, and the log says so.
    fn apply_config(&self, path: &Path) {
        let new = match Settings::load(Some(path), &self.env) {
            Ok(s) => s,
            Err(e) => {
                self.metrics.reload(WatchedFile::Config.label(), false);
                tracing::error!(file = %path.display(), error = %e, "reload: configuration rejected; keeping the last good version");
                return;
            }
        };
        let current = self.settings();
        let (merged, needs_restart) = current.merge_live(new);
        for field in needs_restart {
            tracing::warn!(
                field,
                "reload: '{field}' changed; it takes effect after a restart"
            );
        }
        let previous = self.live.runtime.load_full();
        match Runtime::new(merged, Some(&previous)) {
            Ok(runtime) => {
                self.metrics.reload(WatchedFile::Config.label(), true);
                self.live.runtime.store(Arc::new(runtime));
                tracing::info!(file = %path.display(), "reload: configuration applied");
            }
            Err(e) => tracing::error!(error = %e, "reload: configuration rejected"),
        }
    }

    /// Starts the SIGHUP listener and, unless `watch_files` is off, the file watcher.
    /// Keep the returned guard alive.
    pub fn watch(self: &Arc<Self>) -> anyhow::Result<WatchGuard> {
        if !self.settings().watch_files {
            self.listen_for_sighup()?;
            return Ok(WatchGuard {
                _watcher: None,
                dirs: Vec::new(),
            });
        }
        self.listen_for_sighup()?;
        let (tx, rx) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
        })?;
        let mut watched = Vec::new();
        for target in [
            WatchedFile::Policy,
            WatchedFile::Shadow,
            WatchedFile::Config,
        ] {
            if let Some(dir) = self.path_of(target).as_deref().and_then(watch_dir) {
                if !watched.contains(&dir) {
                    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
                    watched.push(dir);
                }
            }
        }
        for target in [
            WatchedFile::Policy,
            WatchedFile::Shadow,
            WatchedFile::Config,
        ] {
            if let Some(path) = self.path_of(target) {
                if let Ok(text) = std::fs::read_to_string(path) {
                    self.first_sight(target, &text);
                }
            }
        }
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name("reload-watch".into())
            .spawn(move || me.watch_loop(rx))?;
        Ok(WatchGuard {
            _watcher: Some(watcher),
            dirs: watched,
        })
    }

    fn listen_for_sighup(self: &Arc<Self>) -> anyhow::Result<()> {
        let me = Arc::clone(self);
        let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGHUP])?;
        std::thread::Builder::new()
            .name("reload-sighup".into())
            .spawn(move || {
                for _ in signals.forever() {
                    tracing::info!("SIGHUP: reloading configuration and policies");
                    me.reload_all();
                }
            })?;
        Ok(())
    }

    /// Any event in a watched directory (writes, renames, a Kubernetes `..data` symlink swap)
    /// triggers a settled re-read of every file whose content changed.
    fn watch_loop(&self, rx: mpsc::Receiver<notify::Result<notify::Event>>) {
        let names = self.watched_names();
        let relevant = |event: &notify::Result<notify::Event>| match event {
            // Reading a file is an event too (inotify IN_OPEN/IN_ACCESS): ignoring those keeps
            // our own re-reads from triggering the next reload, forever.
            Ok(e) if matches!(e.kind, notify::EventKind::Access(_)) => false,
            Ok(e) => e.paths.iter().any(|p| is_watched(p, &names)),
            Err(e) => {
                tracing::warn!(error = %e, "file watcher error");
                true
            }
        };
        while let Ok(first) = rx.recv() {
            if !relevant(&first) {
                continue;
            }
            // Settle: wait until no relevant event has arrived for SETTLE (other files in the
            // same directory, such as a busy audit log, do not extend the wait).
            let mut last = std::time::Instant::now();
            while let Some(left) = SETTLE.checked_sub(last.elapsed()) {
                match rx.recv_timeout(left) {
                    Ok(e) if relevant(&e) => last = std::time::Instant::now(),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            for target in [
                WatchedFile::Config,
                WatchedFile::Policy,
                WatchedFile::Shadow,
            ] {
                self.reload(target, false);
            }
        }
    }

    fn watched_names(&self) -> Vec<std::ffi::OsString> {
        [
            WatchedFile::Policy,
            WatchedFile::Shadow,
            WatchedFile::Config,
        ]
        .into_iter()
        .filter_map(|t| self.path_of(t)?.file_name().map(ToOwned::to_owned))
        .collect()
    }
}

/// Keeps the file watcher alive.
pub struct WatchGuard {
    _watcher: Option<notify::RecommendedWatcher>,
    dirs: Vec<PathBuf>,
}

impl WatchGuard {
    /// Whether `file` sits in a watched directory: every write to it then wakes the watcher
    /// (inotify watches directories), which costs CPU for a busy file such as the audit trail.
    pub fn watches_dir_of(&self, file: &Path) -> bool {
        watch_dir(file).is_some_and(|dir| self.dirs.contains(&dir))
    }
}

/// An event concerns us when it names one of our files, or a `..`-prefixed entry (the
/// symlinked data directory a Kubernetes ConfigMap swaps atomically).
fn is_watched(path: &Path, names: &[std::ffi::OsString]) -> bool {
    path.file_name()
        .is_some_and(|n| names.iter().any(|w| w == n) || n.to_string_lossy().starts_with(".."))
}

fn watch_dir(file: &Path) -> Option<PathBuf> {
    let parent = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parent.canonicalize().ok()
}

/// Reads a file until two reads `SETTLE` apart agree, so a write still in progress is not
/// mistaken for the new version.
fn read_settled(path: &Path) -> std::io::Result<String> {
    let mut text = std::fs::read_to_string(path)?;
    for _ in 0..20 {
        std::thread::sleep(SETTLE / 3);
        let again = std::fs::read_to_string(path)?;
        if again == text {
            return Ok(text);
        }
        text = again;
    }
    Err(std::io::Error::other("the file keeps changing"))
}
