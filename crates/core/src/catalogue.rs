//! The catalogue of checks: every [`CheckId`] with its stable name, group, title and the checks
//! it depends on. The order of [`CheckId::ALL`] is the order checks run and are shown in.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// Stable identifier of one check. The string form (`subid.uid`) is part of the public interface:
/// it appears in JSON, in `--only`/`--skip`, in `explain` and in docs/checks.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckId {
    HostInit,
    User,
    SessionRuntimeDir,
    SessionBus,
    SessionSystemd,
    SessionLinger,
    SubidUid,
    SubidGid,
    Uidmap,
    UsernsSysctl,
    UsernsApparmor,
    UsernsProbe,
    Cgroup,
    NetworkDriver,
    NetworkPorts,
    NetworkPing,
    NetworkIptables,
    Storage,
    EngineBinaries,
    EngineRootful,
    EngineSmoke,
    EngineInstalled,
    EnvClient,
}

impl CheckId {
    /// Every check, in display order. Checks run in this order too, except that a check's
    /// dependencies always run before it.
    pub const ALL: [CheckId; 23] = [
        CheckId::HostInit,
        CheckId::User,
        CheckId::SessionRuntimeDir,
        CheckId::SessionBus,
        CheckId::SessionSystemd,
        CheckId::SessionLinger,
        CheckId::SubidUid,
        CheckId::SubidGid,
        CheckId::Uidmap,
        CheckId::UsernsSysctl,
        CheckId::UsernsApparmor,
        CheckId::UsernsProbe,
        CheckId::Cgroup,
        CheckId::NetworkDriver,
        CheckId::NetworkPorts,
        CheckId::NetworkPing,
        CheckId::NetworkIptables,
        CheckId::Storage,
        CheckId::EngineBinaries,
        CheckId::EngineRootful,
        CheckId::EngineSmoke,
        CheckId::EngineInstalled,
        CheckId::EnvClient,
    ];

    /// The stable string id.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::HostInit => "host.init",
            CheckId::User => "user",
            CheckId::SessionRuntimeDir => "session.runtime-dir",
            CheckId::SessionBus => "session.bus",
            CheckId::SessionSystemd => "session.systemd",
            CheckId::SessionLinger => "session.linger",
            CheckId::SubidUid => "subid.uid",
            CheckId::SubidGid => "subid.gid",
            CheckId::Uidmap => "uidmap",
            CheckId::UsernsSysctl => "userns.sysctl",
            CheckId::UsernsApparmor => "userns.apparmor",
            CheckId::UsernsProbe => "userns.probe",
            CheckId::Cgroup => "cgroup",
            CheckId::NetworkDriver => "network.driver",
            CheckId::NetworkPorts => "network.ports",
            CheckId::NetworkPing => "network.ping",
            CheckId::NetworkIptables => "network.iptables",
            CheckId::Storage => "storage",
            CheckId::EngineBinaries => "engine.binaries",
            CheckId::EngineRootful => "engine.rootful",
            CheckId::EngineSmoke => "engine.smoke",
            CheckId::EngineInstalled => "engine.installed",
            CheckId::EnvClient => "env.client",
        }
    }

    /// The group a check is shown under: the part of the id before the first dot.
    pub fn group(self) -> &'static str {
        let id = self.as_str();
        id.split('.').next().unwrap_or(id)
    }

    /// A short human title.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::HostInit => "systemd as PID 1",
            CheckId::User => "an ordinary user with a home",
            CheckId::SessionRuntimeDir => "XDG_RUNTIME_DIR",
            CheckId::SessionBus => "user D-Bus",
            CheckId::SessionSystemd => "systemd user manager",
            CheckId::SessionLinger => "linger",
            CheckId::SubidUid => "subordinate user ids",
            CheckId::SubidGid => "subordinate group ids",
            CheckId::Uidmap => "newuidmap and newgidmap",
            CheckId::UsernsSysctl => "user namespace sysctls",
            CheckId::UsernsApparmor => "AppArmor user namespace restriction",
            CheckId::UsernsProbe => "user namespace with the full id ranges",
            CheckId::Cgroup => "cgroup version and delegation",
            CheckId::NetworkDriver => "network and port driver",
            CheckId::NetworkPorts => "privileged ports",
            CheckId::NetworkPing => "ping inside containers",
            CheckId::NetworkIptables => "iptables in a user namespace",
            CheckId::Storage => "storage driver and data-root",
            CheckId::EngineBinaries => "engine binaries",
            CheckId::EngineRootful => "rootful daemon",
            CheckId::EngineSmoke => "rootlesskit smoke run",
            CheckId::EngineInstalled => "existing rootless install",
            CheckId::EnvClient => "client environment",
        }
    }

    /// Prerequisites: checks that must not have failed for this one to mean anything. They run
    /// first (silently when not selected), and when one failed this check is skipped and names
    /// it.
    pub fn depends_on(self) -> &'static [CheckId] {
        match self {
            CheckId::SessionSystemd => &[CheckId::SessionBus],
            CheckId::SessionLinger => &[CheckId::User],
            CheckId::SubidUid | CheckId::SubidGid => &[CheckId::User],
            CheckId::UsernsProbe => &[
                CheckId::User,
                CheckId::SubidUid,
                CheckId::SubidGid,
                CheckId::Uidmap,
                CheckId::UsernsSysctl,
            ],
            CheckId::Cgroup => &[CheckId::User],
            CheckId::NetworkIptables => &[CheckId::UsernsSysctl],
            CheckId::Storage => &[CheckId::User],
            CheckId::EngineSmoke => &[
                CheckId::EngineBinaries,
                CheckId::UsernsProbe,
                CheckId::NetworkDriver,
            ],
            CheckId::EngineInstalled => &[CheckId::User],
            _ => &[],
        }
    }

    /// Checks whose facts this one uses when they are there (found binaries, the chosen network
    /// driver). They run first, but their failing does not skip this one: it judges with what
    /// it has (a missing `dockerd` says nothing about the port sysctl).
    pub fn runs_after(self) -> &'static [CheckId] {
        match self {
            CheckId::NetworkDriver | CheckId::Storage => &[CheckId::EngineBinaries],
            CheckId::UsernsApparmor => &[CheckId::EngineBinaries],
            CheckId::NetworkPorts => &[CheckId::EngineBinaries, CheckId::NetworkDriver],
            // The user's group decides whether ping sockets are allowed.
            CheckId::NetworkPing => &[CheckId::NetworkDriver, CheckId::User],
            // Which OCI runtime an engine needs depends on the delegated controllers.
            CheckId::EngineBinaries => &[CheckId::Cgroup],
            // What runs as PID 1 decides which advice works on the host (no user manager, no
            // logind, no `systemctl` without systemd); the session's advice names the user, and
            // the rootful daemon's socket is judged by the user's groups.
            CheckId::SessionRuntimeDir
            | CheckId::SessionBus
            | CheckId::SessionSystemd
            | CheckId::EngineRootful => &[CheckId::HostInit, CheckId::User],
            CheckId::User | CheckId::SessionLinger | CheckId::Cgroup => &[CheckId::HostInit],
            _ => &[],
        }
    }

    /// Anchor of this check's section in docs/checks.md (`subid.uid` → `#subid-uid`).
    pub fn docs_anchor(self) -> String {
        format!("docs/checks.md#{}", self.as_str().replace('.', "-"))
    }

    /// All ids whose string form starts with `prefix` followed by a dot, or equals it; so
    /// `session` selects every `session.*` check.
    pub fn matching(pattern: &str) -> Vec<CheckId> {
        CheckId::ALL
            .into_iter()
            .filter(|id| {
                let s = id.as_str();
                s == pattern
                    || s.strip_prefix(pattern)
                        .is_some_and(|rest| rest.starts_with('.'))
            })
            .collect()
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A string that names no check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown check id `{given}`{}", suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownCheckId {
    /// What was given.
    pub given: String,
    /// The closest known id, if one is close.
    pub suggestion: Option<&'static str>,
}

impl FromStr for CheckId {
    type Err = UnknownCheckId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CheckId::ALL
            .into_iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| UnknownCheckId {
                given: s.to_owned(),
                suggestion: CheckId::ALL
                    .into_iter()
                    .map(|id| (strsim::levenshtein(s, id.as_str()), id.as_str()))
                    .filter(|(d, _)| *d <= 3)
                    .min()
                    .map(|(_, id)| id),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for id in CheckId::ALL {
            assert_eq!(id.as_str().parse::<CheckId>(), Ok(id));
            assert!(seen.insert(id.as_str()), "duplicate id {id}");
        }
    }

    #[test]
    fn dependencies_have_no_cycles() {
        fn depth(id: CheckId, level: usize) -> usize {
            assert!(level <= CheckId::ALL.len(), "dependency cycle through {id}");
            id.depends_on()
                .iter()
                .map(|d| depth(*d, level + 1))
                .max()
                .unwrap_or(level)
        }
        for id in CheckId::ALL {
            depth(id, 0);
            assert!(!id.depends_on().contains(&id), "{id} depends on itself");
        }
    }

    #[test]
    fn unknown_id_suggests_the_closest() {
        let err = "subid.ui".parse::<CheckId>().unwrap_err();
        assert_eq!(err.suggestion, Some("subid.uid"));
        assert_eq!(
            err.to_string(),
            "unknown check id `subid.ui` (did you mean `subid.uid`?)"
        );
        assert_eq!(
            "zzzzzzzzzz".parse::<CheckId>().unwrap_err().suggestion,
            None
        );
    }

    #[test]
    fn group_prefix_selects_the_group() {
        assert_eq!(
            CheckId::matching("session"),
            vec![
                CheckId::SessionRuntimeDir,
                CheckId::SessionBus,
                CheckId::SessionSystemd,
                CheckId::SessionLinger
            ]
        );
        assert_eq!(CheckId::matching("user"), vec![CheckId::User]);
        assert_eq!(CheckId::matching("host"), vec![CheckId::HostInit]);
        assert!(CheckId::matching("sess").is_empty());
    }
}
