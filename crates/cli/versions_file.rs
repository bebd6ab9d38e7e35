//! The versions programs reported, kept between runs in
//! `$XDG_CACHE_HOME/rootless-setup/versions.json` (`~/.cache/…`): loaded before the checks run,
//! and saved after them with what they asked afresh ([`KnownVersions`] says how an answer is tied
//! to the program's file).
//!
//! Only a process running as the user themselves uses it: never root (acting for a user, it
//! would read that user's words as its own and leave root-owned files in their home), never on
//! a fixture tree. The file is read as hostile input: a regular file owned by the user, at most
//! [`MAX_FILE`] bytes, parsed strictly; a file
//! that fails any of that is ignored and replaced. Failing to save is not an error: the next run
//! asks the programs again.

use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;

use rootless_setup_checks::Caller;
use rootless_setup_core::Host;
use rootless_setup_core::known_versions::{Answer, KnownVersions, MAX_FILE};
use rootless_setup_core::{paths, read};

/// The file, for a run that may use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionsFile {
    path: PathBuf,
    uid: u32,
}

impl VersionsFile {
    /// The caller's file and what it remembers (nothing with `ignore_remembered`, as for
    /// `check --no-cache`: the fresh answers are still saved). No file for a run that must not
    /// use one: on a fixture tree, as root, in a process not running as the caller, or without
    /// an absolute `HOME`.
    pub fn open(
        caller: &Caller,
        host: &Host,
        ignore_remembered: bool,
    ) -> (Option<VersionsFile>, KnownVersions) {
        let euid = nix::unistd::geteuid().as_raw();
        VersionsFile::open_as(caller, host, ignore_remembered, euid)
    }

    /// [`VersionsFile::open`] for a process running as `euid`.
    fn open_as(
        caller: &Caller,
        host: &Host,
        ignore_remembered: bool,
        euid: u32,
    ) -> (Option<VersionsFile>, KnownVersions) {
        let file = VersionsFile::of(caller, host, euid);
        let known = file
            .as_ref()
            .filter(|_| !ignore_remembered)
            .map(VersionsFile::load)
            .unwrap_or_default();
        (file, known)
    }

    /// The file of `caller` for a process running as `euid`, if it may use one.
    fn of(caller: &Caller, host: &Host, euid: u32) -> Option<VersionsFile> {
        if !host.is_real() || euid == 0 || euid != caller.uid {
            return None;
        }
        let home = caller.var("HOME").filter(|h| h.starts_with('/'))?;
        let dir = paths::cache_home(caller.var("XDG_CACHE_HOME"), home.as_ref());
        Some(VersionsFile {
            path: dir.join("rootless-setup/versions.json"),
            uid: euid,
        })
    }

    /// What the file remembers; nothing when it is missing, not the user's regular file, too
    /// large, or not exactly what [`VersionsFile::save`] writes.
    pub fn load(&self) -> KnownVersions {
        let read = || -> Option<KnownVersions> {
            let (mut file, meta) = read::open_regular(&self.path).ok()??;
            if meta.uid() != self.uid {
                return None;
            }
            let bytes = read::read_from(&mut file, MAX_FILE).ok()?;
            serde_json::from_slice::<KnownVersions>(&bytes)
                .ok()?
                .checked()
        };
        read().unwrap_or_default()
    }

    /// Adds `fresh` to `known` and writes the file (mode 0600, atomically) when that changed
    /// anything. Returns whether it was written.
    pub fn save(&self, mut known: KnownVersions, fresh: Vec<Answer>) -> bool {
        if !known.remember(fresh) {
            return false;
        }
        let Ok(mut bytes) = serde_json::to_vec_pretty(&known.for_file()) else {
            return false;
        };
        bytes.push(b'\n');
        crate::atomic::write_mode(&self.path, &bytes, 0o600).is_ok()
    }
}

#[cfg(test)]
#[path = "versions_file_tests.rs"]
mod tests;
