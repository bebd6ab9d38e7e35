//! The install record: the reversal journal of everything `install` did, so rollback and
//! `uninstall` reverse exactly that ([`crate::state::reversal`]) and `status` knows what is ours. JSON,
//! versioned, written atomically with mode 0600 to
//! `$XDG_STATE_HOME/rootless-setup/state.json` (`~/.local/state/rootless-setup/state.json`).
//!
//! Every step is appended as a pending [`Entry`] and saved *before* its effect becomes visible,
//! then marked done; a run killed at any moment leaves a record naming everything that may
//! exist. A later install appends its own entries; once it succeeds the journal is compacted to
//! one entry per target, keeping what the first run found before it (previous file contents,
//! the previous current context, linger off), so one `uninstall` goes back to before the first
//! install.
//!
//! The record is input like any other: [`State::load`] refuses one that is not a regular file,
//! not the caller's, readable or writable by others, larger than [`Limit::CONFIG`] or not
//! parseable; what an entry may touch is decided by [`crate::state::guard`], never by the record.

use std::fmt;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use rootless_setup_core::Engine;
use rootless_setup_core::read::{self, Limit};
use serde::{Deserialize, Serialize};

use crate::atomic;

pub mod guard;
pub mod lock;
pub mod ops;
#[cfg(test)]
pub mod ops_fake;
pub mod reversal;

/// The version of the record's layout; a record with a higher one is refused. Version 1 (flat
/// fields instead of a journal) is read and migrated by [`v1`].
pub const STATE_VERSION: u32 = 2;

/// The record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Layout version ([`STATE_VERSION`]).
    pub version: u32,
    /// The rootless-setup version that last wrote it.
    pub tool_version: String,
    /// `docker`.
    pub engine: String,
    /// The engine's data directory.
    pub data_root: PathBuf,
    /// The engine's API socket.
    pub socket: PathBuf,
    /// When the first install happened (RFC 3339, UTC).
    pub installed_at: String,
    /// When the record was last written (RFC 3339, UTC).
    pub updated_at: String,
    /// What install did, in the order done.
    pub journal: Vec<Entry>,
    /// The remote API the unit serves (`remote.expose`), for `status`; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteApi>,
}

/// The remote API as installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteApi {
    /// `tcp://ADDRESS:PORT`.
    pub address: String,
    /// The TLS directory; `None` for an insecure loopback socket.
    pub tls_dir: Option<PathBuf>,
}

/// One step of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(flatten)]
    pub step: Step,
    /// `false` from just before the effect until it is known to have happened; a pending entry
    /// left by a killed run is reversed like a done one (every reversal tolerates "never
    /// happened").
    pub done: bool,
}

/// A change install makes, with what reversing it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// A directory created for a file (removed on reversal when empty).
    Dir { path: PathBuf },
    /// A file written.
    File {
        path: PathBuf,
        /// SHA-256 of the whole file as written.
        sha256: String,
        /// What was there before (`None`: nothing).
        previous: Option<Previous>,
    },
    /// The unit enabled (it was not before).
    Enable { unit: String },
    /// The unit started or restarted.
    Start {
        unit: String,
        /// Whether it ran before (reversal starts it again).
        was_active: bool,
    },
    /// The CLI context created (or replaced) by install.
    Context { name: String, endpoint: String },
    /// The current CLI context switched.
    Switch {
        /// The current one before.
        from: String,
        /// The one made current.
        to: String,
    },
    /// Linger turned on for the caller (it was off).
    Linger,
    /// The data directory marked as the engine's (purge removes only a marked one).
    DataRoot {
        path: PathBuf,
        /// Whether install created the directory.
        created: bool,
    },
}

/// A file's content before install replaced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Previous {
    /// Not ours (the old setup tool's unit, or hand-edited): kept whole, put back on reversal.
    Content { text: String },
    /// An earlier rendering of ours: a rollback puts its text back, uninstall removes it.
    Ours {
        /// SHA-256 of the whole file.
        sha256: String,
        /// The text (absent in records of layout 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
}

impl Step {
    /// What the step is about: two entries with the same key are merged by [`State::compact`].
    fn key(&self) -> (u8, String) {
        match self {
            Step::Dir { path } => (0, path.display().to_string()),
            Step::File { path, .. } => (1, path.display().to_string()),
            Step::Enable { unit } => (2, unit.clone()),
            Step::Start { unit, .. } => (3, unit.clone()),
            Step::Context { name, .. } => (4, name.clone()),
            Step::Switch { .. } => (5, String::new()),
            Step::Linger => (6, String::new()),
            Step::DataRoot { path, .. } => (7, path.display().to_string()),
        }
    }

    /// Merges a later entry for the same target into this earlier one: what was there before
    /// the first run wins, what the last run made wins.
    fn absorb(&mut self, later: Step) {
        match (self, later) {
            (Step::File { sha256, .. }, Step::File { sha256: now, .. }) => *sha256 = now,
            (Step::Context { endpoint, .. }, Step::Context { endpoint: now, .. }) => {
                *endpoint = now;
            }
            _ => {}
        }
    }
}

/// Why a record cannot be used. Each names the file; [`RecordError::help`] says what to do.
#[derive(Debug)]
pub struct RecordError {
    /// The record.
    pub path: PathBuf,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a record; shown after `the install record PATH`.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("cannot be read: {0}")]
    Unreadable(std::io::Error),
    #[error("belongs to uid {owner}, not to you (uid {uid}); it was not written by your install")]
    NotYours { owner: u32, uid: u32 },
    #[error("has mode {0:04o}; install writes it 0600, so someone else may have changed it")]
    Mode(u32),
    #[error("is not UTF-8 text")]
    NotText,
    #[error("is not a rootless-setup record: {0}")]
    NotARecord(serde_json::Error),
    #[error("is malformed (layout 1): {0}")]
    MalformedV1(serde_json::Error),
    #[error("is malformed: {0}")]
    Malformed(serde_json::Error),
    #[error(
        "has layout version {0}, this rootless-setup reads 1 to {STATE_VERSION}; use the rootless-setup that wrote it"
    )]
    Newer(u32),
    #[error("is for the engine {found:?}, but this file holds the {expected} install")]
    OtherEngine {
        found: String,
        expected: &'static str,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the install record {} {}",
            self.path.display(),
            self.problem
        )
    }
}

impl std::error::Error for RecordError {}

impl RecordError {
    /// What the user can do about it.
    pub fn help(&self) -> String {
        format!(
            "move it away (`mv {0} {0}.bad`) and run again: without a record uninstall removes only the standard unit and context; install also accepts --force to replace it",
            self.path.display()
        )
    }
}

/// Where `engine`'s record lives: `$XDG_STATE_HOME/rootless-setup/` (or
/// `~/.local/state/rootless-setup/`) and the engine's record name (`state.json` for Docker,
/// `podman.json`, …): one directory, so one lock, for every engine.
pub fn path(xdg_state_home: Option<&str>, home: &Path, engine: Engine) -> PathBuf {
    rootless_setup_core::paths::state_home(xdg_state_home, home)
        .join("rootless-setup")
        .join(engine.spec().record)
}

impl State {
    /// A new, empty record for `engine`.
    pub fn new(engine: Engine, data_root: PathBuf, socket: PathBuf) -> State {
        let now = now_rfc3339();
        State {
            version: STATE_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            engine: engine.as_str().to_owned(),
            data_root,
            socket,
            installed_at: now.clone(),
            updated_at: now,
            journal: Vec::new(),
            remote: None,
        }
    }

    /// Reads `engine`'s record at `path` for the caller `uid`: `Ok(None)` when there is none.
    /// Refused: not a regular file, owned by someone else, group or other bits set in its mode,
    /// larger than [`Limit::CONFIG`], not a record, or another engine's.
    pub fn load(path: &Path, uid: u32, engine: Engine) -> Result<Option<State>, RecordError> {
        let refuse = |problem: Problem| RecordError {
            path: path.to_path_buf(),
            problem,
        };
        let (mut file, meta) = match read::open_regular(path) {
            Ok(Some(opened)) => opened,
            Ok(None) => return Ok(None),
            Err(e) => return Err(refuse(Problem::Unreadable(e))),
        };
        if meta.uid() != uid {
            return Err(refuse(Problem::NotYours {
                owner: meta.uid(),
                uid,
            }));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(refuse(Problem::Mode(meta.mode() & 0o7777)));
        }
        let bytes = read::read_from(&mut file, Limit::CONFIG)
            .map_err(|e| refuse(Problem::Unreadable(e)))?;
        let text = String::from_utf8(bytes).map_err(|_| refuse(Problem::NotText))?;
        let state = Self::parse(&text).map_err(refuse)?;
        if state.engine != engine.as_str() {
            return Err(refuse(Problem::OtherEngine {
                found: rootless_setup_core::finding::cut(state.engine, 40),
                expected: engine.as_str(),
            }));
        }
        Ok(Some(state))
    }

    /// Parses a record of layout 1 or 2, refusing one from a newer layout.
    pub fn parse(text: &str) -> Result<State, Problem> {
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let v: Version = serde_json::from_str(text).map_err(Problem::NotARecord)?;
        match v.version {
            1 => serde_json::from_str::<v1::State>(text)
                .map(v1::State::migrate)
                .map_err(Problem::MalformedV1),
            STATE_VERSION => serde_json::from_str(text).map_err(Problem::Malformed),
            n => Err(Problem::Newer(n)),
        }
    }

    /// Writes the record atomically (mode 0600).
    pub fn save(&mut self, path: &Path) -> anyhow::Result<()> {
        self.updated_at = now_rfc3339();
        atomic::write_mode(path, self.to_text().as_bytes(), 0o600)
    }

    /// The record as written.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Appends `step` as pending; returns its index for [`State::finish`].
    pub fn begin(&mut self, step: Step) -> usize {
        self.journal.push(Entry { step, done: false });
        self.journal.len() - 1
    }

    /// Marks entry `index` done.
    pub fn finish(&mut self, index: usize) {
        if let Some(e) = self.journal.get_mut(index) {
            e.done = true;
        }
    }

    /// The files the journal lists.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.journal.iter().filter_map(|e| match &e.step {
            Step::File { path, .. } => Some(path.as_path()),
            _ => None,
        })
    }

    /// Whether a context of `name` is recorded as install's.
    pub fn created_context(&self, name: &str) -> bool {
        self.journal
            .iter()
            .any(|e| matches!(&e.step, Step::Context { name: n, .. } if n == name))
    }

    /// One entry per target, in the order first done: an earlier entry keeps what was there
    /// before it and takes what later ones made (see [`Step::absorb`]). Done when any was.
    pub fn compact(&mut self) {
        let mut out: Vec<Entry> = Vec::with_capacity(self.journal.len());
        let mut index: std::collections::HashMap<(u8, String), usize> =
            std::collections::HashMap::new();
        for e in std::mem::take(&mut self.journal) {
            match index.get(&e.step.key()) {
                Some(&i) => {
                    out[i].done |= e.done;
                    out[i].step.absorb(e.step);
                }
                None => {
                    index.insert(e.step.key(), out.len());
                    out.push(e);
                }
            }
        }
        self.journal = out;
    }
}

/// Layout 1: flat fields, read only to migrate to the journal.
mod v1 {
    use std::path::PathBuf;

    use serde::Deserialize;

    use super::{Entry, Previous, Step};

    #[derive(Deserialize)]
    pub(super) struct State {
        tool_version: String,
        engine: String,
        unit: String,
        files: Vec<File>,
        #[serde(default)]
        dirs: Vec<PathBuf>,
        enabled_by_us: bool,
        context: Option<Context>,
        previous_context: Option<String>,
        linger_enabled_by_us: bool,
        data_root: PathBuf,
        socket: PathBuf,
        installed_at: String,
        updated_at: String,
    }

    #[derive(Deserialize)]
    struct File {
        path: PathBuf,
        sha256: String,
        previous: Option<Previous>,
    }

    #[derive(Deserialize)]
    struct Context {
        name: String,
        endpoint: String,
        created: bool,
    }

    impl State {
        /// The journal layout 1 implies: its directories, files, enablement, the engine it
        /// started, its context and switch, linger. Its data root carries no marker.
        pub(super) fn migrate(self) -> super::State {
            let mut steps: Vec<Step> = Vec::new();
            let mut dirs = self.dirs;
            // Shallowest first, as created.
            dirs.sort_by_key(|d| d.components().count());
            steps.extend(dirs.into_iter().map(|path| Step::Dir { path }));
            steps.extend(self.files.into_iter().map(|f| Step::File {
                path: f.path,
                sha256: f.sha256,
                previous: f.previous,
            }));
            if self.enabled_by_us {
                steps.push(Step::Enable {
                    unit: self.unit.clone(),
                });
            }
            steps.push(Step::Start {
                unit: self.unit,
                was_active: false,
            });
            let context = self.context.filter(|c| c.created);
            if let Some(c) = &context {
                steps.push(Step::Context {
                    name: c.name.clone(),
                    endpoint: c.endpoint.clone(),
                });
            }
            if let (Some(from), Some(to)) = (self.previous_context, context) {
                steps.push(Step::Switch { from, to: to.name });
            }
            if self.linger_enabled_by_us {
                steps.push(Step::Linger);
            }
            super::State {
                version: super::STATE_VERSION,
                tool_version: self.tool_version,
                engine: self.engine,
                data_root: self.data_root,
                socket: self.socket,
                installed_at: self.installed_at,
                updated_at: self.updated_at,
                journal: steps
                    .into_iter()
                    .map(|step| Entry { step, done: true })
                    .collect(),
                remote: None,
            }
        }
    }
}

/// The directories that writing `path` would create: its missing ancestors, shallowest first.
pub fn missing_dirs(path: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = path
        .ancestors()
        .skip(1)
        .take_while(|d| !d.as_os_str().is_empty() && std::fs::symlink_metadata(d).is_err())
        .map(Path::to_path_buf)
        .collect();
    dirs.reverse();
    dirs
}

/// Now, as RFC 3339 in UTC (`2025-01-31T12:00:00Z`).
pub fn now_rfc3339() -> String {
    rfc3339(now_secs())
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Seconds since the epoch as RFC 3339 in UTC.
pub fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
