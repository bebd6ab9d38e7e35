//! The data the crates hand each other: the [`Engine`] being prepared for (its facts are in
//! [`crate::engine`]), the caller's [`Account`], subordinate [`IdRange`]s, discovered
//! [`Binary`]s, the [`NetworkPlan`] install would use, and the [`Facts`] the checks established (which `render` and `install` act on).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::catalogue::CheckId;
use crate::finding::Status;
use crate::init::HostInit;

/// The container engine being prepared for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Rootless Docker (`dockerd-rootless.sh`).
    #[default]
    Docker,
    /// Rootless Podman (the user's `podman.socket`).
    Podman,
    /// Rootless containerd (`containerd-rootless.sh`, nerdctl).
    Containerd,
}

impl Engine {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// The engine named `name` ([`as_str`](Self::as_str), surrounding blanks ignored).
    pub fn named(name: &str) -> Option<Engine> {
        Engine::ALL.into_iter().find(|e| e.as_str() == name.trim())
    }

    /// The script that starts the engine under rootlesskit (none for an engine that runs
    /// without it).
    pub fn rootless_script(self) -> Option<&'static str> {
        self.spec().script().map(|s| s.name)
    }

    /// The systemd user unit the rootless engine runs as.
    pub fn unit_name(self) -> &'static str {
        self.spec().unit
    }
}

/// The caller's passwd entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    /// Login name.
    pub name: String,
    /// Numeric uid.
    pub uid: u32,
    /// Primary gid.
    pub gid: u32,
    /// Home directory.
    pub home: PathBuf,
    /// Login shell.
    pub shell: String,
}

/// A subordinate id range, `start .. start + count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct IdRange {
    /// First id.
    pub start: u64,
    /// Number of ids.
    pub count: u64,
}

impl IdRange {
    /// One past the last id.
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.count)
    }

    /// Whether the two ranges share an id.
    pub fn overlaps(&self, other: &IdRange) -> bool {
        self.count > 0 && other.count > 0 && self.start < other.end() && other.start < self.end()
    }

    /// Whether `id` is inside the range.
    pub fn contains(&self, id: u64) -> bool {
        id >= self.start && id < self.end()
    }
}

/// One discovered program.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Binary {
    /// Name looked for, such as `rootlesskit`.
    pub name: String,
    /// Where it was found (host path).
    pub path: PathBuf,
    /// The version it reports, when it could be asked.
    pub version: Option<String>,
}

/// The network setup install would use, as chosen by `network.driver`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NetworkPlan {
    /// `slirp4netns`, `pasta`, …
    pub driver: String,
    /// `builtin`, `slirp4netns`, `implicit`.
    pub port_driver: String,
    /// The driver's binary, when it has one.
    pub binary: Option<PathBuf>,
    /// The MTU install would use.
    pub mtu: u32,
}

/// Facts established by earlier checks, for later ones. Each field is `None` until the check
/// that establishes it has run (or when it could not establish it).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// What runs as PID 1 and what kind of host this is (`host.init`).
    pub host: Option<HostInit>,
    /// The caller's passwd entry (`user`).
    pub account: Option<Account>,
    /// The caller's subordinate uid ranges (`subid.uid`).
    pub subuids: Option<Vec<IdRange>>,
    /// The caller's subordinate gid ranges (`subid.gid`).
    pub subgids: Option<Vec<IdRange>>,
    /// `newuidmap` (`uidmap`).
    pub newuidmap: Option<PathBuf>,
    /// `newgidmap` (`uidmap`).
    pub newgidmap: Option<PathBuf>,
    /// The engine's programs by name (`engine.binaries`): `dockerd`, `rootlesskit`,
    /// `dockerd-rootless.sh`, `docker`, `slirp4netns`, `pasta`, …
    pub binaries: BTreeMap<String, Binary>,
    /// The network setup install would use (`network.driver`).
    pub network: Option<NetworkPlan>,
    /// Whether the user manager has the cgroup controllers rootless containers need (`cgroup`:
    /// cgroup v2 with them delegated); `Some(false)` on cgroup v1 or without delegation.
    pub controllers_delegated: Option<bool>,
    /// The controllers delegated to the user manager, by name (`cgroup`): on cgroup v2 what its
    /// `cgroup.controllers` lists, empty on cgroup v1 (an unprivileged engine creates no
    /// cgroups there); `None` when it could not be told.
    pub delegated_controllers: Option<Vec<String>>,
    /// The status each check that ran ended with.
    pub statuses: BTreeMap<CheckId, Status>,
    /// Versions programs reported when asked in this run (not remembered ones): the binary
    /// remembers them for the next run.
    pub fresh_versions: Vec<crate::known_versions::Answer>,
}

impl Facts {
    /// The host's init facts when the host is known to run without systemd as PID 1
    /// (`host.init`): advice that needs systemd, logind or a user manager does not work there.
    pub fn without_systemd(&self) -> Option<&HostInit> {
        self.host.as_ref().filter(|h| h.without_systemd())
    }

    /// A found binary by name.
    pub fn binary(&self, name: &str) -> Option<&Binary> {
        self.binaries.get(name)
    }

    /// The first prerequisite of `id` that failed or did not run, if any: a prerequisite that
    /// was skipped could not establish its facts either.
    pub fn failed_dependency(&self, id: CheckId) -> Option<CheckId> {
        id.depends_on()
            .iter()
            .copied()
            .find(|d| matches!(self.statuses.get(d), Some(Status::Fail | Status::Skip)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_is_found_by_its_name() {
        for engine in Engine::ALL {
            assert_eq!(Engine::named(engine.as_str()), Some(engine));
        }
        assert_eq!(Engine::named(" podman\n"), Some(Engine::Podman));
        assert_eq!(Engine::named("Docker"), None);
        assert_eq!(Engine::named(""), None);
    }

    #[test]
    fn ranges_overlap_only_when_sharing_an_id() {
        let a = IdRange {
            start: 100,
            count: 10,
        };
        assert!(a.overlaps(&IdRange {
            start: 109,
            count: 1
        }));
        assert!(!a.overlaps(&IdRange {
            start: 110,
            count: 5
        }));
        assert!(!a.overlaps(&IdRange {
            start: 90,
            count: 10
        }));
        assert!(!a.overlaps(&IdRange {
            start: 100,
            count: 0
        }));
        assert!(a.contains(109) && !a.contains(110));
    }
}
