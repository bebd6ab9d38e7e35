//! The install record: what `install` did, so `uninstall` reverses exactly that and `status`
//! knows what is ours. JSON, versioned, written atomically with mode 0600 to
//! `$XDG_STATE_HOME/rootless-setup/state.json` (`~/.local/state/rootless-setup/state.json`).
//!
//! A second `install` merges into the existing record: what the first run found before it
//! (previous file contents, the previous current context, linger off) is kept, so one
//! `uninstall` still restores the state from before the first install.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::atomic;

/// The version of the record's layout; a record with a higher one is refused.
pub const STATE_VERSION: u32 = 1;

/// The record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Layout version ([`STATE_VERSION`]).
    pub version: u32,
    /// The rootless-setup version that last wrote it.
    pub tool_version: String,
    /// `docker`.
    pub engine: String,
    /// The unit's name, `docker.service`.
    pub unit: String,
    /// The files written, in the order written.
    pub files: Vec<FileRecord>,
    /// Directories install created for them (and for this record), removed by uninstall when
    /// empty, deepest first.
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
    /// Whether install created the unit's enablement symlink (`default.target.wants/`).
    pub enabled_by_us: bool,
    /// The docker CLI context install uses, if any.
    pub context: Option<ContextRecord>,
    /// The current CLI context before the first install (`default` when none was set).
    pub previous_context: Option<String>,
    /// Whether install turned linger on (uninstall turns it off only then).
    pub linger_enabled_by_us: bool,
    /// The engine's data directory.
    pub data_root: PathBuf,
    /// The engine's API socket.
    pub socket: PathBuf,
    /// When the first install happened (RFC 3339, UTC).
    pub installed_at: String,
    /// When the record was last written (RFC 3339, UTC).
    pub updated_at: String,
}

/// One file install wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Where.
    pub path: PathBuf,
    /// SHA-256 of what was written (the whole file).
    pub sha256: String,
    /// What was there before the first install, if it was not ours: restored by uninstall.
    pub previous: Option<Previous>,
}

/// A file's content before install replaced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Previous {
    /// Not ours (the old setup tool's unit, or hand-edited): kept whole, put back on uninstall.
    Content {
        /// The text.
        text: String,
    },
    /// An earlier, untouched rendering of ours: only its hash (nothing to restore).
    Ours {
        /// SHA-256 of the whole file.
        sha256: String,
    },
}

/// The CLI context install uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextRecord {
    /// Its name, `rootless`.
    pub name: String,
    /// Its docker endpoint, `unix:///run/user/1000/docker.sock`.
    pub endpoint: String,
    /// Whether install created it (uninstall removes it only then).
    pub created: bool,
}

/// Where the record lives: `$XDG_STATE_HOME/rootless-setup/state.json`, or
/// `~/.local/state/rootless-setup/state.json`.
pub fn path(xdg_state_home: Option<&str>, home: &Path) -> PathBuf {
    let base = xdg_state_home
        .filter(|d| d.starts_with('/'))
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".local/state"));
    base.join("rootless-setup/state.json")
}

impl State {
    /// Reads the record at `path`: `Ok(None)` when there is none.
    pub fn load(path: &Path) -> anyhow::Result<Option<State>> {
        let Some(text) = atomic::read_optional(path)? else {
            return Ok(None);
        };
        Self::parse(&text)
            .map(Some)
            .with_context(|| format!("the install record {} is unreadable", path.display()))
    }

    /// Parses a record, refusing one from a newer layout.
    pub fn parse(text: &str) -> anyhow::Result<State> {
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let v: Version = serde_json::from_str(text).context("not a rootless-setup record")?;
        if v.version > STATE_VERSION {
            anyhow::bail!(
                "it has layout version {}, this rootless-setup reads up to {STATE_VERSION}; use a newer rootless-setup",
                v.version
            );
        }
        serde_json::from_str(text).context("malformed record")
    }

    /// Writes the record atomically (mode 0600).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        atomic::write_mode(path, text.as_bytes(), 0o600)
    }

    /// The record of `path`, if listed.
    pub fn file(&self, path: &Path) -> Option<&FileRecord> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Merges the record of an earlier install into this one (the new run's): what the first
    /// run saw before it changed anything wins, so uninstall goes back to before the first
    /// install.
    pub fn merge_earlier(&mut self, earlier: &State) {
        for file in &mut self.files {
            if let Some(old) = earlier.file(&file.path) {
                if matches!(old.previous, Some(Previous::Content { .. })) || file.previous.is_none()
                {
                    file.previous = old.previous.clone();
                }
            }
        }
        // Files the earlier install wrote that this one no longer writes stay listed, so
        // uninstall still removes them.
        for old in &earlier.files {
            if self.file(&old.path).is_none() {
                self.files.push(old.clone());
            }
        }
        for dir in &earlier.dirs {
            if !self.dirs.contains(dir) {
                self.dirs.push(dir.clone());
            }
        }
        self.enabled_by_us |= earlier.enabled_by_us;
        self.linger_enabled_by_us |= earlier.linger_enabled_by_us;
        if let (Some(now), Some(before)) = (&mut self.context, &earlier.context) {
            if now.name == before.name {
                now.created |= before.created;
            }
        }
        if earlier.previous_context.is_some() {
            self.previous_context.clone_from(&earlier.previous_context);
        }
        self.installed_at.clone_from(&earlier.installed_at);
    }
}

/// The directories that writing `path` would create: its missing ancestors, deepest first.
pub fn missing_dirs(path: &Path) -> Vec<PathBuf> {
    path.ancestors()
        .skip(1)
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_path_buf)
        .collect()
}

/// Removes each of `dirs` that is empty, deepest first; returns those removed.
pub fn remove_empty_dirs(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut sorted: Vec<&PathBuf> = dirs.iter().collect();
    sorted.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    sorted
        .into_iter()
        .filter(|d| atomic::remove_empty_dir(d))
        .cloned()
        .collect()
}

/// Now, as RFC 3339 in UTC (`2025-01-31T12:00:00Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
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
mod tests {
    use super::*;

    pub(crate) fn sample() -> State {
        State {
            version: STATE_VERSION,
            tool_version: "0.1.0".into(),
            engine: "docker".into(),
            unit: "docker.service".into(),
            files: vec![
                FileRecord {
                    path: "/home/dev/.config/systemd/user/docker.service".into(),
                    sha256: "aa".into(),
                    previous: Some(Previous::Content {
                        text: "[Unit]\nDescription=old\n".into(),
                    }),
                },
                FileRecord {
                    path: "/home/dev/.config/systemd/user/docker.service.d/10-rootless-setup.conf"
                        .into(),
                    sha256: "bb".into(),
                    previous: None,
                },
            ],
            dirs: vec!["/home/dev/.config/systemd/user/docker.service.d".into()],
            enabled_by_us: true,
            context: Some(ContextRecord {
                name: "rootless".into(),
                endpoint: "unix:///run/user/1000/docker.sock".into(),
                created: true,
            }),
            previous_context: Some("default".into()),
            linger_enabled_by_us: false,
            data_root: "/home/dev/.local/share/docker".into(),
            socket: "/run/user/1000/docker.sock".into(),
            installed_at: "2025-01-01T00:00:00Z".into(),
            updated_at: "2025-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(None, dir.path());
        assert_eq!(p, dir.path().join(".local/state/rootless-setup/state.json"));
        assert_eq!(State::load(&p).unwrap(), None);
        let s = sample();
        s.save(&p).unwrap();
        assert_eq!(State::load(&p).unwrap(), Some(s));
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("\"kind\": \"content\""), "{text}");
    }

    #[test]
    fn xdg_state_home_is_used_when_absolute() {
        let home = Path::new("/home/u");
        assert_eq!(
            path(Some("/s"), home),
            PathBuf::from("/s/rootless-setup/state.json")
        );
        assert_eq!(
            path(Some("rel"), home),
            PathBuf::from("/home/u/.local/state/rootless-setup/state.json")
        );
    }

    #[test]
    fn newer_or_broken_records_are_refused_with_a_reason() {
        let err = State::parse(r#"{"version": 99}"#).unwrap_err();
        assert!(err.to_string().contains("layout version 99"), "{err}");
        assert!(State::parse("garbage").is_err());
        assert!(State::parse(r#"{"version": 1}"#).is_err());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        std::fs::write(&p, "{").unwrap();
        let err = State::load(&p).unwrap_err();
        assert!(format!("{err:#}").contains("unreadable"), "{err:#}");
    }

    #[test]
    fn a_second_install_keeps_what_the_first_found() {
        let first = sample();
        let mut second = sample();
        second.files[0].previous = Some(Previous::Ours {
            sha256: "aa".into(),
        });
        second.files.truncate(1);
        second.enabled_by_us = false;
        second.previous_context = Some("rootless".into());
        second.installed_at = "2026-01-01T00:00:00Z".into();
        second.merge_earlier(&first);
        assert_eq!(second.files[0].previous, first.files[0].previous);
        assert_eq!(second.files.len(), 2, "the drop-in stays listed");
        assert!(second.enabled_by_us);
        assert_eq!(second.previous_context.as_deref(), Some("default"));
        assert_eq!(second.installed_at, "2025-01-01T00:00:00Z");
        assert!(second.context.unwrap().created);
    }

    #[test]
    fn created_directories_are_found_and_removed_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/b/c/file");
        let missing = missing_dirs(&file);
        assert_eq!(
            missing,
            [
                dir.path().join("a/b/c"),
                dir.path().join("a/b"),
                dir.path().join("a")
            ]
        );
        std::fs::create_dir_all(dir.path().join("a/b/c")).unwrap();
        std::fs::write(dir.path().join("a/keep"), "").unwrap();
        let mut shuffled = missing.clone();
        shuffled.reverse();
        let removed = remove_empty_dirs(&shuffled);
        assert_eq!(removed, [dir.path().join("a/b/c"), dir.path().join("a/b")]);
        assert!(dir.path().join("a/keep").exists());
        assert!(missing_dirs(&dir.path().join("a/keep")).is_empty());
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_735_689_599), "2024-12-31T23:59:59Z");
    }
}
