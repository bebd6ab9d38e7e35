//! The process a pid file names, opened so that it cannot change under us: its `/proc/PID`
//! directory is opened once and everything else is read through that descriptor. The kernel
//! ties the descriptor to that one process: once it exits, nothing more can be opened through
//! it, even when its pid is given to a new process. So the owner judged, the namespaces opened
//! and the owner judged again are all of the same process, and [`Target`] holds descriptors of
//! its namespaces, which `setns` joins whatever happens to the process afterwards.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{Mode, fstat};
use nix::unistd::Pid;
use rootless_setup_core::engine::Namespace;
use rootless_setup_core::read::{self, Limit};

/// Where processes are.
pub const PROC: &str = "/proc";
/// The caller's own namespaces.
pub const OWN_NAMESPACES: &str = "/proc/self/ns";

/// A process of the caller's, with descriptors of the namespaces to join.
#[derive(Debug)]
pub struct Target {
    /// The process.
    pub pid: Pid,
    /// The namespaces to join, in order: those the caller is already in are left out.
    pub namespaces: Vec<(Namespace, OwnedFd)>,
}

/// Why the process may not be entered.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// No such process (any more): a stale pid file.
    #[error("process {0} is not running")]
    Gone(Pid),
    /// Someone else's process.
    #[error("it belongs to uid {owner}, not to you (uid {uid})")]
    NotYours {
        /// The process.
        pid: Pid,
        /// The first of its ids that is not the caller's (its `/proc` directory's owner, then
        /// the real, effective, saved and filesystem uid).
        owner: u32,
        /// The caller.
        uid: u32,
    },
    /// In the caller's own user namespace: not a process of a rootless engine.
    #[error("it is in your own user namespace, not in a rootless engine's")]
    NotRootless(Pid),
    /// `/proc/PID/…` could not be read.
    #[error("could not read /proc/{pid}/{what}: {source}")]
    Read {
        /// The process.
        pid: Pid,
        /// The file under `/proc/PID`.
        what: String,
        /// What went wrong.
        source: io::Error,
    },
}

/// Opens process `pid` under `proc` (`/proc`) if it is `uid`'s, with its `namespaces`, leaving
/// out those it shares with `own` (`/proc/self/ns`).
pub fn open(
    proc: &Path,
    own: &Path,
    pid: Pid,
    uid: u32,
    namespaces: &[Namespace],
) -> Result<Target, TargetError> {
    let dir = match File::options()
        .read(true)
        .custom_flags(nix::libc::O_DIRECTORY)
        .open(proc.join(pid.to_string()))
    {
        Ok(dir) => dir,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(TargetError::Gone(pid)),
        Err(source) => {
            return Err(TargetError::Read {
                pid,
                what: String::new(),
                source,
            });
        }
    };
    judge(pid, &owners(&dir, pid)?, uid)?;
    let mut joined = Vec::new();
    for &ns in namespaces {
        let what = format!("ns/{}", ns.proc_name());
        let fd = at(&dir, pid, &what)?;
        let theirs = fstat(&fd).map_err(|e| failed(pid, &what, e.into()))?;
        let mine = std::fs::metadata(own.join(ns.proc_name()))
            .map_err(|e| failed(pid, &format!("{what} (yours)"), e))?;
        if (theirs.st_dev, theirs.st_ino) == (mine.dev(), mine.ino()) {
            if ns == Namespace::User {
                return Err(TargetError::NotRootless(pid));
            }
            continue;
        }
        joined.push((ns, fd));
    }
    // Still alive (else nothing opens through `dir`), and still the caller's.
    judge(pid, &owners(&dir, pid)?, uid)?;
    Ok(Target {
        pid,
        namespaces: joined,
    })
}

fn failed(pid: Pid, what: &str, source: io::Error) -> TargetError {
    TargetError::Read {
        pid,
        what: what.to_owned(),
        source,
    }
}

/// Opens `what` below the process's directory; gone when the process is.
fn at(dir: &File, pid: Pid, what: &str) -> Result<OwnedFd, TargetError> {
    openat(
        dir.as_fd(),
        what,
        OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOCTTY | OFlag::O_NONBLOCK,
        Mode::empty(),
    )
    .map_err(|e| match e {
        Errno::ESRCH | Errno::ENOENT => TargetError::Gone(pid),
        e => failed(pid, what, e.into()),
    })
}

/// The process's owners: its `/proc/PID` directory's owner, then the real, effective, saved and
/// filesystem uid from its `status`.
fn owners(dir: &File, pid: Pid) -> Result<Vec<u32>, TargetError> {
    let owner = dir.metadata().map_err(|e| failed(pid, "", e))?.uid();
    let mut status = File::from(at(dir, pid, "status")?);
    let bytes = read::read_from(&mut status, Limit::HOST).map_err(|e| match e.raw_os_error() {
        Some(nix::libc::ESRCH) => TargetError::Gone(pid),
        _ => failed(pid, "status", e),
    })?;
    let uids = uids(&String::from_utf8_lossy(&bytes)).ok_or_else(|| {
        failed(
            pid,
            "status",
            io::Error::new(
                io::ErrorKind::InvalidData,
                "it has no Uid: line of four ids",
            ),
        )
    })?;
    Ok(std::iter::once(owner).chain(uids).collect())
}

/// The four ids of `status`'s `Uid:` line: real, effective, saved, filesystem.
pub fn uids(status: &str) -> Option<[u32; 4]> {
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    let mut ids = line.split_whitespace().map(|id| id.parse::<u32>().ok());
    let uids = [ids.next()??, ids.next()??, ids.next()??, ids.next()??];
    ids.next().is_none().then_some(uids)
}

/// The process is the caller's only when every one of its `owners` is.
pub fn judge(pid: Pid, owners: &[u32], uid: u32) -> Result<(), TargetError> {
    match owners.iter().find(|&&owner| owner != uid) {
        Some(&owner) => Err(TargetError::NotYours { pid, owner, uid }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const STATUS: &str = "Name:\tdockerd\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t812\n\
                          Pid:\t812\nPPid:\t790\nUid:\t1000\t1000\t1000\t1000\n\
                          Gid:\t1000\t1000\t1000\t1000\n";

    fn me() -> u32 {
        nix::unistd::getuid().as_raw()
    }

    #[test]
    fn uids_are_the_four_of_the_uid_line() {
        assert_eq!(uids(STATUS), Some([1000; 4]));
        assert_eq!(uids("Uid:\t0\t1000\t2\t3\n"), Some([0, 1000, 2, 3]));
        for bad in [
            "",
            "Gid:\t1\t1\t1\t1\n",
            "Uid:\t1000\t1000\t1000\n",
            "Uid:\t1000\t1000\t1000\t1000\t1000\n",
            "Uid:\t-1\t1000\t1000\t1000\n",
            "Uid:\t1000\tx\t1000\t1000\n",
            " Uid:\t1\t1\t1\t1\n",
        ] {
            assert_eq!(uids(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_process_is_yours_only_when_every_owner_is_you() {
        let pid = Pid::from_raw(7);
        assert!(judge(pid, &[1000; 5], 1000).is_ok());
        for (owners, first) in [
            ([0, 1000, 1000, 1000, 1000], 0),
            ([1000, 0, 1000, 1000, 1000], 0),
            ([1000, 1000, 1001, 1000, 1000], 1001),
            ([1000, 1000, 1000, 1000, 0], 0),
        ] {
            let err = judge(pid, &owners, 1000).unwrap_err();
            assert!(
                matches!(err, TargetError::NotYours { owner, uid: 1000, .. } if owner == first),
                "{owners:?}: {err:?}"
            );
        }
        assert_eq!(
            judge(Pid::from_raw(1), &[0; 5], 1000)
                .unwrap_err()
                .to_string(),
            "it belongs to uid 0, not to you (uid 1000)"
        );
    }

    /// A fake `/proc` with process 812 (its `status` and namespace files) and a fake
    /// `/proc/self/ns`, all plain files: a namespace is told by its file's device and inode.
    struct FakeProc {
        dir: tempfile::TempDir,
    }

    impl FakeProc {
        fn new(status: &str) -> FakeProc {
            let dir = tempfile::tempdir().unwrap();
            let ns = dir.path().join("812/ns");
            std::fs::create_dir_all(&ns).unwrap();
            std::fs::create_dir_all(dir.path().join("self/ns")).unwrap();
            std::fs::write(dir.path().join("812/status"), status).unwrap();
            for name in ["user", "mnt", "net"] {
                std::fs::write(ns.join(name), "").unwrap();
                std::fs::write(dir.path().join("self/ns").join(name), "").unwrap();
            }
            FakeProc { dir }
        }

        /// Makes the caller's namespace `name` the process's own (a hard link: same inode).
        fn share(&self, name: &str) {
            let own = self.dir.path().join("self/ns").join(name);
            std::fs::remove_file(&own).unwrap();
            std::fs::hard_link(self.dir.path().join("812/ns").join(name), own).unwrap();
        }

        fn open(&self, uid: u32) -> Result<Target, TargetError> {
            open(
                self.dir.path(),
                &self.dir.path().join("self/ns"),
                Pid::from_raw(812),
                uid,
                &[Namespace::User, Namespace::Mount, Namespace::Net],
            )
        }

        fn status(uid: u32) -> String {
            STATUS.replace("1000", &uid.to_string())
        }
    }

    fn joined(target: &Target) -> Vec<Namespace> {
        target.namespaces.iter().map(|(ns, _)| *ns).collect()
    }

    #[test]
    fn your_process_in_other_namespaces_is_opened_with_all_three() {
        let fake = FakeProc::new(&FakeProc::status(me()));
        let target = fake.open(me()).unwrap();
        assert_eq!(target.pid, Pid::from_raw(812));
        assert_eq!(
            joined(&target),
            [Namespace::User, Namespace::Mount, Namespace::Net]
        );
    }

    #[test]
    fn namespaces_you_are_in_already_are_left_out() {
        // rootlesskit's --detach-netns leaves its child in the host's network namespace.
        let fake = FakeProc::new(&FakeProc::status(me()));
        fake.share("net");
        let target = fake.open(me()).unwrap();
        assert_eq!(joined(&target), [Namespace::User, Namespace::Mount]);
    }

    #[test]
    fn a_process_in_your_own_user_namespace_is_no_rootless_engine() {
        let fake = FakeProc::new(&FakeProc::status(me()));
        fake.share("user");
        let err = fake.open(me()).unwrap_err();
        assert!(matches!(err, TargetError::NotRootless(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "it is in your own user namespace, not in a rootless engine's"
        );
    }

    #[test]
    fn a_process_of_another_uid_is_refused_before_any_namespace_is_opened() {
        let other = me().wrapping_add(1);
        let fake = FakeProc::new(&FakeProc::status(other));
        // No namespace files: had they been opened first, the process would seem gone.
        std::fs::remove_dir_all(fake.dir.path().join("812/ns")).unwrap();
        let err = fake.open(me()).unwrap_err();
        assert!(
            matches!(err, TargetError::NotYours { owner, uid, .. } if owner == other && uid == me()),
            "{err:?}"
        );
        // The directory's owner counts as well as the ids in `status`.
        let fake = FakeProc::new(&FakeProc::status(other));
        let err = fake.open(other).unwrap_err();
        assert!(
            matches!(err, TargetError::NotYours { owner, uid, .. } if owner == me() && uid == other),
            "{err:?}"
        );
    }

    #[test]
    fn no_process_is_gone_and_a_broken_status_is_an_error() {
        let fake = FakeProc::new(&FakeProc::status(me()));
        let err = open(
            fake.dir.path(),
            &fake.dir.path().join("self/ns"),
            Pid::from_raw(99),
            me(),
            &[Namespace::User],
        )
        .unwrap_err();
        assert!(
            matches!(err, TargetError::Gone(p) if p.as_raw() == 99),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "process 99 is not running");

        let fake = FakeProc::new("Name:\tx\n");
        let err = fake.open(me()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "could not read /proc/812/status: it has no Uid: line of four ids"
        );
    }

    #[test]
    fn the_real_proc_names_this_process_as_yours_in_your_namespaces() {
        let pid = nix::unistd::getpid();
        let err = open(
            &PathBuf::from(PROC),
            Path::new(OWN_NAMESPACES),
            pid,
            me(),
            &[Namespace::User, Namespace::Mount, Namespace::Net],
        )
        .unwrap_err();
        assert!(
            matches!(err, TargetError::NotRootless(p) if p == pid),
            "{err:?}"
        );
        let target = open(
            &PathBuf::from(PROC),
            Path::new(OWN_NAMESPACES),
            pid,
            me(),
            &[Namespace::Mount, Namespace::Net],
        )
        .unwrap();
        assert!(target.namespaces.is_empty(), "{target:?}");
    }
}
