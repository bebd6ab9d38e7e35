//! Atomic file replacement: a temporary file beside the target, written, `fsync`ed, renamed over
//! the target, and the directory synced, so a reader (systemd, a later run) sees either the old
//! or the new content and never half a file, even after a crash.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context as _;
use rootless_setup_core::read::{self, Limit};

/// Writes `contents` to `path` atomically with mode `0644` (created directories `0755`).
pub fn write(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    write_mode(path, contents, 0o644)
}

/// [`write()`] with the file mode given (the state file is `0600`).
pub fn write_mode(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(temp_name(&name, std::process::id()));
    let written = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .and_then(|mut f| f.write_all(contents).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.with_context(|| format!("could not write {}", path.display()))?;
    // The rename is durable once the directory is synced; failing to sync is not worth an error.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes temporary files [`write_mode`] left in `dir` when a run was killed between creating
/// and renaming them (`.NAME.rootless-setup-PID.tmp` of another process). Only call it holding
/// the user's lock, so no other run is writing there. Returns those removed.
pub fn sweep(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| {
            temp_owner(&p.file_name().unwrap_or_default().to_string_lossy())
                .is_some_and(|pid| pid != std::process::id())
        })
        .filter(|p| fs::remove_file(p).is_ok())
        .collect()
}

/// The temporary name [`write_mode`] uses for `name`: `.NAME.rootless-setup-PID.tmp`.
fn temp_name(name: &str, pid: u32) -> String {
    format!(".{name}.rootless-setup-{pid}.tmp")
}

/// The pid in a name of exactly [`temp_name`]'s shape, else `None`.
fn temp_owner(file: &str) -> Option<u32> {
    let (name, pid) = file
        .strip_prefix('.')?
        .strip_suffix(".tmp")?
        .rsplit_once(".rootless-setup-")?;
    let digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    (!name.is_empty() && digits)
        .then(|| pid.parse().ok())
        .flatten()
}

/// Removes `path`; a file that is already gone is not an error. Returns whether it existed.
pub fn remove(path: &Path) -> anyhow::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => {
            Err(anyhow::Error::new(e).context(format!("could not remove {}", path.display())))
        }
    }
}

/// Removes `dir` if it exists and is empty (a drop-in directory we emptied); anything else is
/// left alone. Returns whether it was removed.
pub fn remove_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
        && fs::remove_dir(dir).is_ok()
}

/// Reads the regular file `path` (at most [`Limit::CONFIG`] bytes) as text: `Ok(None)` when it
/// does not exist.
pub fn read_optional(path: &Path) -> anyhow::Result<Option<String>> {
    read::text(path, Limit::CONFIG).with_context(|| format!("could not read {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/docker.service");
        write(&path, b"one\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "one\n");
        write(&path, b"two\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two\n");
        assert_eq!(names(&dir.path().join("a/b")), ["docker.service"]);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        let secret = dir.path().join("state.json");
        write_mode(&secret, b"{}", 0o600).unwrap();
        assert_eq!(
            fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn a_failed_write_keeps_the_old_content_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a non-empty directory: the rename fails after the temp file was written.
        let target = dir.path().join("unit");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), "x").unwrap();
        let err = write(&target, b"new").unwrap_err();
        assert!(err.to_string().contains("could not write"), "{err}");
        assert_eq!(names(dir.path()), ["unit"]);
        assert_eq!(fs::read_to_string(target.join("keep")).unwrap(), "x");
    }

    #[test]
    fn temporary_files_of_killed_runs_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            ".docker.service.rootless-setup-1.tmp",
            ".state.json.rootless-setup-99999999.tmp",
            "docker.service",
            ".hidden.tmp",
            ".x.rootless-setup-edited.tmp",
            ".rootless-setup-1.tmp",
            "notes.rootless-setup-1.tmp",
        ] {
            fs::write(dir.path().join(name), "").unwrap();
        }
        let own = format!(".state.json.rootless-setup-{}.tmp", std::process::id());
        fs::write(dir.path().join(&own), "").unwrap();
        // Only regular files go, whatever their name: a symlink (to a file the user cares about),
        // a directory and a FIFO of the temporary shape stay.
        let kept = dir.path().join("kept");
        fs::write(&kept, "precious").unwrap();
        let link = ".unit.rootless-setup-2.tmp";
        std::os::unix::fs::symlink(&kept, dir.path().join(link)).unwrap();
        let directory = ".dir.rootless-setup-3.tmp";
        fs::create_dir(dir.path().join(directory)).unwrap();
        let fifo = ".fifo.rootless-setup-4.tmp";
        nix::unistd::mkfifo(
            &dir.path().join(fifo),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        let mut swept = sweep(dir.path());
        swept.sort();
        assert_eq!(
            swept,
            [
                dir.path().join(".docker.service.rootless-setup-1.tmp"),
                dir.path().join(".state.json.rootless-setup-99999999.tmp"),
            ]
        );
        assert_eq!(
            names(dir.path()),
            [
                directory,
                fifo,
                ".hidden.tmp",
                ".rootless-setup-1.tmp",
                own.as_str(),
                link,
                ".x.rootless-setup-edited.tmp",
                "docker.service",
                "kept",
                "notes.rootless-setup-1.tmp",
            ]
        );
        assert_eq!(fs::read_to_string(&kept).unwrap(), "precious");
        assert!(sweep(&dir.path().join("missing")).is_empty());
    }

    #[test]
    fn remove_and_read_optional_tolerate_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        assert_eq!(read_optional(&path).unwrap(), None);
        assert!(!remove(&path).unwrap());
        fs::write(&path, "x").unwrap();
        assert_eq!(read_optional(&path).unwrap().as_deref(), Some("x"));
        assert!(remove(&path).unwrap());
        let d = dir.path().join("d");
        fs::create_dir(&d).unwrap();
        fs::write(d.join("other.conf"), "").unwrap();
        assert!(!remove_empty_dir(&d));
        fs::remove_file(d.join("other.conf")).unwrap();
        assert!(remove_empty_dir(&d));
        assert!(!d.exists());
    }
}
