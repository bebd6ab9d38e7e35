//! What one run of the checks reads and asks once, shared by the checks' threads.
//!
//! The host files several checks read, read and parsed once per run: `/etc/passwd` (the account,
//! the owners of subordinate ranges), `/etc/group`, `/etc/nsswitch.conf`, both subordinate id
//! files (each check reads its own, and the other for a free block), and
//! `/proc/self/mountinfo` (`cgroup`, `uidmap` and `storage`). Every check of one run sees the
//! same text, whichever thread reads it first.
//!
//! And what a check that writes no facts learnt by asking a program (`iptables -V`), for the
//! runner to hand on with the rest of this run's fresh answers
//! ([`Facts::fresh_versions`](rootless_setup_core::model::Facts::fresh_versions)), so the next
//! run need not ask again.

use std::sync::{Mutex, OnceLock};

use rootless_setup_core::known_versions::Answer;

use rootless_setup_core::host::{Host, HostError};
use rootless_setup_core::subid::parse::{self as subid, IdDatabase, SubidFile};

use crate::mountinfo::{self, Mount};

/// A host file more than one check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shared {
    Passwd,
    Group,
    Nsswitch,
    Subuid,
    Subgid,
    Mountinfo,
}

impl Shared {
    pub(crate) fn path(self) -> &'static str {
        match self {
            Shared::Passwd => "/etc/passwd",
            Shared::Group => "/etc/group",
            Shared::Nsswitch => "/etc/nsswitch.conf",
            Shared::Subuid => "/etc/subuid",
            Shared::Subgid => "/etc/subgid",
            Shared::Mountinfo => mountinfo::PATH,
        }
    }
}

/// What a read gave: the text, nothing there (`None`), or why it could not be read.
pub(crate) type Text = Result<Option<String>, HostError>;

/// What one run of the checks read and asked, each file read on first use. Make one per run: a
/// file changed since is not seen again.
#[derive(Debug, Default)]
pub struct RunMemo {
    asked: Mutex<Vec<Answer>>,
    texts: [OnceLock<Text>; 6],
    passwd: OnceLock<IdDatabase>,
    group: OnceLock<IdDatabase>,
    subuid: OnceLock<SubidFile>,
    subgid: OnceLock<SubidFile>,
    mounts: OnceLock<Vec<Mount>>,
}

impl RunMemo {
    /// `file` as [`Host::read`] gave it the first time in this run.
    pub(crate) fn text(&self, host: &Host, file: Shared) -> &Text {
        self.texts[file as usize].get_or_init(|| host.read(file.path()))
    }

    /// `file`'s text, or empty when it is absent or unreadable (the check of that file reports
    /// why).
    pub(crate) fn text_or_empty(&self, host: &Host, file: Shared) -> &str {
        match self.text(host, file) {
            Ok(Some(text)) => text,
            _ => "",
        }
    }

    /// Names and uids of `/etc/passwd`.
    pub(crate) fn passwd(&self, host: &Host) -> &IdDatabase {
        self.passwd
            .get_or_init(|| IdDatabase::parse(self.text_or_empty(host, Shared::Passwd)))
    }

    /// Names and gids of `/etc/group`.
    pub(crate) fn group(&self, host: &Host) -> &IdDatabase {
        self.group
            .get_or_init(|| IdDatabase::parse(self.text_or_empty(host, Shared::Group)))
    }

    /// `/etc/subuid` parsed; empty when absent or unreadable.
    pub(crate) fn subuid(&self, host: &Host) -> &SubidFile {
        self.subuid
            .get_or_init(|| parse_subids(host, self, Shared::Subuid))
    }

    /// `/etc/subgid` parsed; empty when absent or unreadable.
    pub(crate) fn subgid(&self, host: &Host) -> &SubidFile {
        self.subgid
            .get_or_init(|| parse_subids(host, self, Shared::Subgid))
    }

    /// Keeps a program's fresh answer for the next run.
    pub(crate) fn learnt(&self, answer: Answer) {
        self.asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(answer);
    }

    /// The fresh answers kept so far, taken.
    pub(crate) fn take_learnt(&self) -> Vec<Answer> {
        std::mem::take(
            &mut *self
                .asked
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// The caller's mounts; `Ok(None)` without a mountinfo.
    pub(crate) fn mounts(&self, host: &Host) -> Result<Option<&[Mount]>, &HostError> {
        match self.text(host, Shared::Mountinfo) {
            Ok(Some(text)) => Ok(Some(self.mounts.get_or_init(|| mountinfo::parse(text)))),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The caller's mounts, none when mountinfo is absent or unreadable.
    pub(crate) fn mounts_or_none(&self, host: &Host) -> &[Mount] {
        self.mounts(host).ok().flatten().unwrap_or_default()
    }
}

fn parse_subids(host: &Host, files: &RunMemo, file: Shared) -> SubidFile {
    subid::parse(file.path(), files.text_or_empty(host, file))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rootless_setup_core::testing::Fixture;

    const MOUNTS: &str = "22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw\n\
                          23 22 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";

    fn fixture() -> Fixture {
        let fx = Fixture::new();
        fx.file("/etc/passwd", "alice:x:1000:1000::/home/alice:/bin/sh\n")
            .file("/etc/group", "alice:x:1000:\ndocker:x:998:alice\n")
            .file("/etc/subuid", "alice:100000:65536\n")
            .file("/etc/subgid", "alice:200000:65536\nbroken line\n")
            .file(mountinfo::PATH, MOUNTS);
        fx
    }

    #[test]
    fn each_file_is_read_and_parsed_once_per_run() {
        let fx = fixture();
        let host = fx.host();
        let files = RunMemo::default();
        let passwd = files.passwd(&host);
        assert_eq!(passwd.entries, [("alice".to_owned(), 1000)]);
        assert_eq!(files.group(&host).entries.len(), 2);
        assert_eq!(files.subuid(&host).entries.len(), 1);
        assert_eq!(files.subgid(&host).entries.len(), 1);
        assert_eq!(files.subgid(&host).malformed.len(), 1);
        let mounts = files.mounts(&host).unwrap().unwrap();
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[1].fstype, "cgroup2");

        // Changed behind the run's back: this run keeps what it read, the next one sees it.
        fx.file("/etc/passwd", "bob:x:1001:1001::/home/bob:/bin/sh\n")
            .remove(mountinfo::PATH);
        assert!(std::ptr::eq(files.passwd(&host), passwd), "parsed once");
        assert_eq!(
            files.text_or_empty(&host, Shared::Passwd),
            "alice:x:1000:1000::/home/alice:/bin/sh\n"
        );
        assert_eq!(files.mounts_or_none(&host).len(), 2);
        let next = RunMemo::default();
        assert_eq!(next.passwd(&host).entries, [("bob".to_owned(), 1001)]);
        assert!(matches!(next.mounts(&host), Ok(None)));
        assert!(next.mounts_or_none(&host).is_empty());
    }

    #[test]
    fn an_unreadable_file_is_an_error_once_and_parses_as_empty() {
        let fx = fixture();
        fx.remove("/etc/subuid").dir("/etc/subuid");
        let host = fx.host();
        let files = RunMemo::default();
        let err = files.text(&host, Shared::Subuid).as_ref().unwrap_err();
        assert!(err.to_string().contains("/etc/subuid"), "{err}");
        assert_eq!(files.text_or_empty(&host, Shared::Subuid), "");
        assert!(files.subuid(&host).entries.is_empty());
        assert!(matches!(files.text(&host, Shared::Nsswitch), Ok(None)));
    }
}
