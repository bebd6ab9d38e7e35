//! What programs said their versions were, remembered between runs so each program is asked once
//! until it changes (`dockerd --version` alone costs about 27 ms).
//!
//! An answer is tied to the program file's [`Identity`]: device, inode, size, modification and
//! change times. Replacing or upgrading the program changes at least one of them (the change
//! time cannot be set back by anyone but the kernel), so a stale answer is never used. The
//! checker only reads these ([`KnownVersions::lookup`]) and reports what it asked afresh; the
//! binary loads and saves the file (`$XDG_CACHE_HOME/rootless-setup/versions.json`).
//!
//! The file is the user's to change, so it is read as hostile: bounded by the caller, parsed
//! strictly, a version kept only if it looks like one, and any doubt discards the whole file
//! (it is then rewritten from fresh answers).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file's format; a file of another format is ignored and rewritten.
pub const FORMAT: u32 = 1;
/// The most answers kept (a host has a dozen programs; the rest would be old paths).
pub const MAX_ENTRIES: usize = 64;
/// The most bytes a version may have.
const MAX_VERSION: usize = 64;
/// The most bytes the file may have: [`MAX_ENTRIES`] answers and their paths.
pub const MAX_FILE: crate::read::Limit = crate::read::Limit(256 << 10);

/// Which file a program is, as far as its answer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Status change time, nanoseconds since the epoch.
    pub ctime_ns: i64,
}

impl Identity {
    /// The identity of the regular file at `path` (following symlinks, as running it does).
    pub fn of(path: &Path) -> Option<Identity> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() {
            return None;
        }
        let ns = |secs: i64, nsec: i64| secs.checked_mul(1_000_000_000)?.checked_add(nsec);
        Some(Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec())?,
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec())?,
        })
    }
}

/// One remembered answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The program's path, as run.
    pub path: PathBuf,
    /// The arguments it was asked with (`--version`).
    pub args: Vec<String>,
    /// The file it was then.
    pub identity: Identity,
    /// The version it reported; `None` when it answered without one.
    pub version: Option<String>,
    /// What else the same answer told, in the same characters (iptables' backend: `nf_tables`
    /// or `legacy`); absent in files written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// Remembered answers, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownVersions {
    format: u32,
    answers: Vec<Answer>,
}

impl Default for KnownVersions {
    fn default() -> Self {
        KnownVersions {
            format: FORMAT,
            answers: Vec::new(),
        }
    }
}

impl KnownVersions {
    /// The version `path` reported when asked with `args`, if it is still the file it was:
    /// `Some(None)` for a remembered answer without a version.
    pub fn lookup(&self, path: &Path, args: &[&str], identity: &Identity) -> Option<Option<&str>> {
        self.answer(path, args, identity)
            .map(|a| a.version.as_deref())
    }

    /// The whole answer `path` gave when asked with `args`, if it is still the file it was.
    pub fn answer(&self, path: &Path, args: &[&str], identity: &Identity) -> Option<&Answer> {
        self.answers
            .iter()
            .find(|a| a.path == path && a.args == args && a.identity == *identity)
    }

    /// Adds fresh answers, replacing older ones for the same program and arguments and dropping
    /// the oldest beyond [`MAX_ENTRIES`]. Returns whether anything changed.
    pub fn remember(&mut self, fresh: impl IntoIterator<Item = Answer>) -> bool {
        let mut changed = false;
        for answer in fresh.into_iter().filter(valid) {
            if self.answers.contains(&answer) {
                continue;
            }
            self.answers
                .retain(|a| !(a.path == answer.path && a.args == answer.args));
            self.answers.push(answer);
            changed = true;
        }
        let excess = self.answers.len().saturating_sub(MAX_ENTRIES);
        self.answers.drain(..excess);
        changed
    }

    /// How many answers are remembered.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// A file's content as parsed (the binary parses the JSON), if every part of it is as this
    /// module writes it: this format, at most [`MAX_ENTRIES`] answers, each one that asking a
    /// program could give (an absolute path, a few short arguments, a version of version
    /// characters). `None` means forget it all.
    pub fn checked(self) -> Option<KnownVersions> {
        (self.format == FORMAT
            && self.answers.len() <= MAX_ENTRIES
            && self.answers.iter().all(valid))
        .then_some(self)
    }

    /// What to write: these answers, in this format.
    pub fn for_file(&self) -> KnownVersions {
        KnownVersions {
            format: FORMAT,
            answers: self.answers.clone(),
        }
    }
}

/// Whether an answer could have come from asking a program: an absolute path, a few short
/// arguments, a version of version characters.
fn valid(answer: &Answer) -> bool {
    let word = |v: &str| {
        !v.is_empty()
            && v.len() <= MAX_VERSION
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+-~_".contains(c))
    };
    let version_ok = answer.version.as_deref().is_none_or(word);
    let variant_ok = answer.variant.as_deref().is_none_or(word);
    answer.path.is_absolute()
        && answer.path.as_os_str().len() <= 4096
        && answer.args.len() <= 4
        && answer.args.iter().all(|a| !a.is_empty() && a.len() <= 32)
        && version_ok
        && variant_ok
}

#[cfg(test)]
#[path = "known_versions_tests.rs"]
mod tests;
