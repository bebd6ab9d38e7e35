//! The engine's pid file under `$XDG_RUNTIME_DIR` (rootlesskit's `child_pid`), read as hostile
//! input: a regular file reached without a symbolic link, owned by the caller, at most
//! [`LIMIT`] bytes, holding one positive decimal pid.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::unistd::Pid;
use rootless_setup_core::read::{self, Limit};

/// The most a pid file may hold: a pid is at most 7 digits (`pid_max` ≤ 2²²), with room for
/// whitespace around it.
pub const LIMIT: Limit = Limit(64);

/// Why the pid file gave no pid.
#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    /// Nothing there: the engine is not running.
    #[error("{} does not exist", .0.display())]
    Missing(PathBuf),
    /// A symbolic link, which rootlesskit never writes.
    #[error("refusing {}: it is a symbolic link, not the file rootlesskit writes", .0.display())]
    Symlink(PathBuf),
    /// Replaced between looking at it and opening it.
    #[error("refusing {}: it was replaced while being read", .0.display())]
    Replaced(PathBuf),
    /// Owned by someone else.
    #[error("refusing {}: it belongs to uid {owner}, not to you (uid {uid})", path.display())]
    NotOwned {
        /// The file.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The caller.
        uid: u32,
    },
    /// Not one positive decimal number.
    #[error("refusing {}: it holds {content:?}, not a process id", path.display())]
    NotAPid {
        /// The file.
        path: PathBuf,
        /// What it holds (at most [`LIMIT`] bytes, invalid UTF-8 replaced).
        content: String,
    },
    /// Not a regular file, too large, or unreadable.
    #[error("could not read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
}

/// The pid in `path`, a file `uid` owns.
pub fn read(path: &Path, uid: u32) -> Result<Pid, PidFileError> {
    let failed = |source| PidFileError::Read {
        path: path.to_owned(),
        source,
    };
    let seen = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(PidFileError::Symlink(path.to_owned()));
        }
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(PidFileError::Missing(path.to_owned()));
        }
        Err(e) => return Err(failed(e)),
    };
    let Some((mut file, meta)) = read::open_regular(path).map_err(failed)? else {
        return Err(PidFileError::Missing(path.to_owned()));
    };
    // What was opened is what was looked at (not a symlink swapped in since).
    if (meta.dev(), meta.ino()) != (seen.dev(), seen.ino()) {
        return Err(PidFileError::Replaced(path.to_owned()));
    }
    if meta.uid() != uid {
        return Err(PidFileError::NotOwned {
            path: path.to_owned(),
            owner: meta.uid(),
            uid,
        });
    }
    let bytes = read::read_from(&mut file, LIMIT).map_err(failed)?;
    parse(&bytes).ok_or_else(|| PidFileError::NotAPid {
        path: path.to_owned(),
        content: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// One positive decimal pid, whitespace around it allowed (rootlesskit writes none, `echo $$`
/// a newline); no sign, nothing else.
pub fn parse(bytes: &[u8]) -> Option<Pid> {
    let digits = bytes.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let pid: i32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    (pid > 0).then(|| Pid::from_raw(pid))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use proptest::prelude::*;

    use super::*;

    fn me() -> u32 {
        nix::unistd::getuid().as_raw()
    }

    /// A `child_pid` holding `content` in a fresh directory (kept while the directory lives).
    fn written(content: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("child_pid");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    #[test]
    fn parse_takes_one_positive_decimal_number() {
        assert_eq!(parse(b"4242"), Some(Pid::from_raw(4242)));
        assert_eq!(parse(b"4242\n"), Some(Pid::from_raw(4242)));
        assert_eq!(parse(b"  17 \n"), Some(Pid::from_raw(17)));
        assert_eq!(parse(b"2147483647"), Some(Pid::from_raw(i32::MAX)));
        for bad in [
            &b""[..],
            b"\n",
            b"0",
            b"-1",
            b"+5",
            b"2147483648",
            b"99999999999999999999",
            b"12 34",
            b"12\n34",
            b"0x10",
            b"1e3",
            b"\xff12",
            b"\xd9\xa1",
        ] {
            assert_eq!(parse(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    proptest! {
        #[test]
        fn parse_survives_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            if let Some(pid) = parse(&bytes) {
                prop_assert!(pid.as_raw() > 0);
            }
        }

        #[test]
        fn parse_reads_back_every_pid(pid in 1..=i32::MAX) {
            prop_assert_eq!(parse(format!("{pid}\n").as_bytes()), Some(Pid::from_raw(pid)));
        }
    }

    #[test]
    fn a_file_of_the_caller_gives_its_pid() {
        let (_dir, path) = written("1234");
        assert_eq!(read(&path, me()).unwrap(), Pid::from_raw(1234));
    }

    #[test]
    fn no_file_means_no_engine() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("child_pid");
        let err = read(&path, me()).unwrap_err();
        assert!(
            matches!(&err, PidFileError::Missing(p) if *p == path),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("{} does not exist", path.display())
        );
    }

    #[test]
    fn a_symlink_is_refused_even_to_a_good_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        std::fs::write(&good, "1234").unwrap();
        let path = dir.path().join("child_pid");
        symlink(&good, &path).unwrap();
        let err = read(&path, me()).unwrap_err();
        assert!(matches!(err, PidFileError::Symlink(_)), "{err:?}");
        assert!(
            err.to_string()
                .ends_with("it is a symbolic link, not the file rootlesskit writes")
        );
        // A dangling one too (not reported as missing).
        let dangling = dir.path().join("dangling");
        symlink(dir.path().join("nothing"), &dangling).unwrap();
        assert!(matches!(
            read(&dangling, me()),
            Err(PidFileError::Symlink(_))
        ));
    }

    #[test]
    fn a_directory_or_fifo_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path(), me()).unwrap_err();
        assert!(matches!(err, PidFileError::Read { .. }), "{err:?}");
        assert!(
            err.to_string()
                .ends_with("it is a directory, not a regular file"),
            "{err}"
        );
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let err = read(&fifo, me()).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("it is a FIFO, not a regular file"),
            "{err}"
        );
    }

    #[test]
    fn a_file_of_someone_else_is_refused() {
        let (_dir, path) = written("1234");
        let other = me().wrapping_add(1);
        let err = read(&path, other).unwrap_err();
        assert!(
            matches!(err, PidFileError::NotOwned { owner, uid, .. } if owner == me() && uid == other),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "refusing {}: it belongs to uid {}, not to you (uid {other})",
                path.display(),
                me()
            )
        );
    }

    #[test]
    fn content_that_is_no_pid_is_shown() {
        let (_dir, path) = written("12; rm -rf ~\n");
        let err = read(&path, me()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "refusing {}: it holds \"12; rm -rf ~\\n\", not a process id",
                path.display()
            )
        );
    }

    #[test]
    fn a_large_file_is_refused_unread() {
        let (_dir, path) = written(&format!("{}1", " ".repeat(64)));
        let err = read(&path, me()).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("it is larger than 64 bytes, the most this tool reads from such a file"),
            "{err}"
        );
    }
}
