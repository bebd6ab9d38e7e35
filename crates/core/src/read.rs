//! The one way the tool reads a file it did not just write: host files, the configuration, the
//! install record, the docker CLI's `config.json`. Every input is treated as hostile, so a read
//!
//! - opens without blocking (`O_NONBLOCK`, `O_NOCTTY`): a FIFO planted as `/etc/subuid` cannot
//!   hang the tool, and a terminal cannot become its controlling one;
//! - accepts only a regular file, judged before opening (so a device is not opened at all) and again on
//!   the opened descriptor (`fstat`), so a symlink to `/dev/zero`, a directory, a socket or a
//!   device is refused however it was reached;
//! - stops at a [`Limit`] and refuses a larger file instead of growing without bound.
//!
//! Refusals are [`io::Error`]s carrying a typed [`Refusal`] (see [`refusal`]), so every caller's
//! existing "could not read PATH: …" reporting names the file and the reason.

use std::fmt;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The most bytes one read accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub u64);

impl Limit {
    /// Host files: `/etc/passwd`, `/etc/subuid`, mountinfo, `/proc` and `/sys` values. Large
    /// enough for a directory server's worth of accounts, small enough to hold in memory.
    pub const HOST: Limit = Limit(16 << 20);
    /// Files the user writes for the tool or other tools write for the user:
    /// `config.toml`, the install record, the docker CLI's `config.json`, unit files.
    pub const CONFIG: Limit = Limit(1 << 20);
    /// What a program run by [`crate::process`] prints, per stream: versions, JSON of a
    /// `docker context inspect`, a journal's tail.
    pub const OUTPUT: Limit = Limit(1 << 20);
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >= 1 << 20 && self.0.is_multiple_of(1 << 20) {
            write!(f, "{} MiB", self.0 >> 20)
        } else if self.0 >= 1 << 10 && self.0.is_multiple_of(1 << 10) {
            write!(f, "{} KiB", self.0 >> 10)
        } else {
            write!(f, "{} bytes", self.0)
        }
    }
}

/// Why a file that exists was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A FIFO, socket, device or directory where a regular file belongs.
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    /// Larger than the limit for its kind.
    #[error("it is larger than {0}, the most this tool reads from such a file")]
    TooLarge(Limit),
}

impl Refusal {
    fn into_io(self) -> io::Error {
        let kind = match self {
            Refusal::NotRegular(_) => io::ErrorKind::InvalidInput,
            Refusal::TooLarge(_) => io::ErrorKind::FileTooLarge,
        };
        io::Error::new(kind, self)
    }
}

/// The [`Refusal`] inside an error from this module, if it is one.
pub fn refusal(e: &io::Error) -> Option<&Refusal> {
    e.get_ref()?.downcast_ref::<Refusal>()
}

/// What kind of file `meta` describes, in words for a message.
pub fn describe(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

/// Opens `path` (following symlinks) for reading without blocking and returns it with its
/// metadata, only if it is a regular file; `Ok(None)` when nothing is there.
pub fn open_regular(path: &Path) -> io::Result<Option<(File, Metadata)>> {
    // Judged before opening too: opening some devices acts (a watchdog starts, a tape rewinds).
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return Err(Refusal::NotRegular(describe(&meta)).into_io()),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    }
    // And on the opened descriptor, which is what is read (the path may change in between).
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        // A directory opens fine; a symlink loop or a path through a file does not.
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Refusal::NotRegular(describe(&meta)).into_io());
    }
    Ok(Some((file, meta)))
}

/// Reads at most `limit` bytes from an opened regular file; a longer one is refused whole.
/// The size is not trusted (`/proc` files report 0): the read itself is bounded.
pub fn read_from(file: &mut File, limit: Limit) -> io::Result<Vec<u8>> {
    // The reported size only sizes the buffer, never bounds the read.
    let hint = file
        .metadata()
        .map_or(0, |m| m.len().min(limit.0).saturating_add(1));
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    file.take(limit.0.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit.0 {
        return Err(Refusal::TooLarge(limit).into_io());
    }
    Ok(bytes)
}

/// Reads the regular file at `path`, at most `limit` bytes; `Ok(None)` when it does not exist.
pub fn bytes(path: &Path, limit: Limit) -> io::Result<Option<Vec<u8>>> {
    let Some((mut file, _)) = open_regular(path)? else {
        return Ok(None);
    };
    read_from(&mut file, limit).map(Some)
}

/// [`bytes`] as text, invalid UTF-8 replaced.
pub fn text(path: &Path, limit: Limit) -> io::Result<Option<String>> {
    Ok(bytes(path, limit)?.map(|b| {
        // Valid UTF-8 (the usual case) is taken as it is, without a copy.
        String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn reads_regular_files_and_misses_quietly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        assert_eq!(text(&p, Limit::CONFIG).unwrap(), None);
        std::fs::write(&p, "a\u{fffd}b").unwrap();
        assert_eq!(text(&p, Limit::CONFIG).unwrap().unwrap(), "a\u{fffd}b");
        // Exactly at the limit is fine, one byte over is refused.
        std::fs::write(&p, [b'x'; 16]).unwrap();
        assert_eq!(bytes(&p, Limit(16)).unwrap().unwrap().len(), 16);
        let err = bytes(&p, Limit(15)).unwrap_err();
        assert_eq!(refusal(&err), Some(&Refusal::TooLarge(Limit(15))));
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert!(err.to_string().contains("larger than 15 bytes"), "{err}");
    }

    #[test]
    fn a_fifo_is_refused_at_once_instead_of_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo");
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let start = Instant::now();
        let err = text(&p, Limit::HOST).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(refusal(&err), Some(&Refusal::NotRegular("a FIFO")));
        assert!(
            err.to_string().contains("a FIFO, not a regular file"),
            "{err}"
        );
    }

    #[test]
    fn devices_directories_and_loops_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = bytes(&zero, Limit::HOST).unwrap_err();
        assert_eq!(
            refusal(&err),
            Some(&Refusal::NotRegular("a character device"))
        );
        let err = bytes(dir.path(), Limit::HOST).unwrap_err();
        assert_eq!(refusal(&err), Some(&Refusal::NotRegular("a directory")));
        let a = dir.path().join("a");
        std::os::unix::fs::symlink(&a, &a).unwrap();
        let err = bytes(&a, Limit::HOST).unwrap_err();
        assert_eq!(refusal(&err), None, "an ordinary error: {err}");
    }

    #[test]
    fn limits_print_in_units() {
        assert_eq!(Limit::HOST.to_string(), "16 MiB");
        assert_eq!(Limit::CONFIG.to_string(), "1 MiB");
        assert_eq!(Limit(2048).to_string(), "2 KiB");
        assert_eq!(Limit(100).to_string(), "100 bytes");
    }
}
