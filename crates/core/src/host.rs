//! The host as the checker sees it: every read of `/etc`, `/proc`, `/sys`, `/run`, `/usr`, … goes
//! through a [`Host`] whose root directory tests replace with a fixture tree.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::read::Limit;

/// Could not even look at a file (other than it being absent).
#[derive(Debug, thiserror::Error)]
#[error("could not read {path}: {source}")]
pub struct HostError {
    /// The host path (as seen from the root, not the fixture path).
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: io::Error,
}

/// File metadata reduced to what checks look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo {
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// Full mode including the file type and setuid/setgid bits.
    pub mode: u32,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Whether it is a regular file.
    pub is_file: bool,
}

impl FileInfo {
    /// Permission bits including setuid, setgid and sticky (`0o7777`).
    pub fn perms(&self) -> u32 {
        self.mode & 0o7777
    }
}

/// Reads the host through a root directory: `/` on a real run, a fixture tree in tests.
///
/// A fixture tree cannot hold root-owned or setuid files, nor `security.*` extended attributes,
/// when the tests run unprivileged. So a fixture root may carry `/.fixture-meta`, lines of
/// `PATH uid=N gid=N mode=OCTAL xattr.NAME=HEX`, that override what [`Host::stat`] and
/// [`Host::xattr`] report for `PATH`. The real root (`/`) never reads it.
#[derive(Debug, Clone)]
pub struct Host {
    root: PathBuf,
    meta: Vec<(PathBuf, MetaOverride)>,
}

/// One line of `/.fixture-meta`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct MetaOverride {
    uid: Option<u32>,
    gid: Option<u32>,
    mode: Option<u32>,
    xattrs: Vec<(String, Vec<u8>)>,
}

fn parse_meta(text: &str) -> Vec<(PathBuf, MetaOverride)> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut words = line.split_whitespace();
        let Some(path) = words.next() else { continue };
        let mut meta = MetaOverride::default();
        for word in words {
            let Some((key, value)) = word.split_once('=') else {
                continue;
            };
            match key {
                "uid" => meta.uid = value.parse().ok(),
                "gid" => meta.gid = value.parse().ok(),
                "mode" => meta.mode = u32::from_str_radix(value, 8).ok(),
                _ => {
                    if let Some(name) = key.strip_prefix("xattr.") {
                        let bytes = (0..value.len() / 2)
                            .filter_map(|i| {
                                u8::from_str_radix(value.get(2 * i..2 * i + 2)?, 16).ok()
                            })
                            .collect();
                        meta.xattrs.push((name.to_owned(), bytes));
                    }
                }
            }
        }
        out.push((PathBuf::from(path), meta));
    }
    out
}

impl Host {
    /// The real host.
    pub fn real() -> Self {
        Host {
            root: PathBuf::from("/"),
            meta: Vec::new(),
        }
    }

    /// A host whose `/` is `root` (reads `root/.fixture-meta` when `root` is not `/`).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        if root == Path::new("/") {
            return Host::real();
        }
        let meta = crate::read::text(&root.join(".fixture-meta"), Limit::HOST)
            .ok()
            .flatten()
            .map(|t| parse_meta(&t))
            .unwrap_or_default();
        Host { root, meta }
    }

    fn meta_for(&self, path: &Path) -> Option<&MetaOverride> {
        self.meta
            .iter()
            .rev()
            .find(|(p, _)| p == path)
            .map(|(_, m)| m)
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether this is the real host (root `/`), where live probes make sense.
    pub fn is_real(&self) -> bool {
        self.root == Path::new("/")
    }

    /// Where the host path `path` (absolute) lives on this machine.
    pub fn path(&self, path: impl AsRef<Path>) -> PathBuf {
        let path = path.as_ref();
        self.root.join(path.strip_prefix("/").unwrap_or(path))
    }

    fn err(path: &Path, source: io::Error) -> HostError {
        HostError {
            path: path.to_owned(),
            source,
        }
    }

    /// Reads a whole regular file of at most [`Limit::HOST`] bytes; `Ok(None)` when it does not
    /// exist. Anything else (a FIFO, a device, a directory, a larger file) is an error.
    pub fn read(&self, path: impl AsRef<Path>) -> Result<Option<String>, HostError> {
        let path = path.as_ref();
        crate::read::text(&self.path(path), Limit::HOST).map_err(|e| Host::err(path, e))
    }

    /// Reads a one-line file such as a sysctl or a cgroup attribute, trimmed.
    pub fn read_value(&self, path: impl AsRef<Path>) -> Result<Option<String>, HostError> {
        Ok(self.read(path)?.map(|s| s.trim().to_owned()))
    }

    /// Whether anything exists at `path` (following symlinks).
    pub fn exists(&self, path: impl AsRef<Path>) -> bool {
        self.path(path).exists()
    }

    /// Metadata of `path` following symlinks; `Ok(None)` when it does not exist.
    pub fn stat(&self, path: impl AsRef<Path>) -> Result<Option<FileInfo>, HostError> {
        let path = path.as_ref();
        match fs::metadata(self.path(path)) {
            Ok(m) => {
                let mut info = FileInfo {
                    uid: m.uid(),
                    gid: m.gid(),
                    mode: m.mode(),
                    is_dir: m.is_dir(),
                    is_file: m.is_file(),
                };
                if let Some(o) = self.meta_for(path) {
                    info.uid = o.uid.unwrap_or(info.uid);
                    info.gid = o.gid.unwrap_or(info.gid);
                    if let Some(mode) = o.mode {
                        info.mode = (info.mode & !0o7777) | (mode & 0o7777);
                    }
                }
                Ok(Some(info))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Host::err(path, e)),
        }
    }

    /// Whether `path` itself is a symbolic link (`lstat`, not following it); `Ok(false)` when
    /// it does not exist.
    pub fn is_symlink(&self, path: impl AsRef<Path>) -> Result<bool, HostError> {
        let path = path.as_ref();
        match fs::symlink_metadata(self.path(path)) {
            Ok(m) => Ok(m.file_type().is_symlink()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Host::err(path, e)),
        }
    }

    /// The extended attribute `name` (such as `security.capability`) of `path`; `None` when the
    /// file or the attribute does not exist or cannot be read.
    pub fn xattr(&self, path: impl AsRef<Path>, name: &str) -> Option<Vec<u8>> {
        let path = path.as_ref();
        if let Some(o) = self.meta_for(path)
            && let Some((_, v)) = o.xattrs.iter().find(|(n, _)| n == name)
        {
            return Some(v.clone());
        }
        read_xattr(&self.path(path), name)
    }

    /// The names in a directory, sorted; empty when it does not exist.
    pub fn list_dir(&self, path: impl AsRef<Path>) -> Result<Vec<String>, HostError> {
        let path = path.as_ref();
        let entries = match fs::read_dir(self.path(path)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Host::err(path, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Host::err(path, e))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    /// The target of the symbolic link `path` as written (not resolved, not read through the
    /// root: `/proc/1/exe` names a path on the host); `None` when it is not a link or cannot be
    /// read.
    pub fn read_link(&self, path: impl AsRef<Path>) -> Option<PathBuf> {
        fs::read_link(self.path(path)).ok()
    }

    /// Resolves symlinks of a host path, staying inside the root; `None` when it does not exist.
    pub fn canonicalize(&self, path: impl AsRef<Path>) -> Option<PathBuf> {
        let real = fs::canonicalize(self.path(path)).ok()?;
        let canon_root = fs::canonicalize(&self.root).ok()?;
        let inner = real.strip_prefix(&canon_root).ok()?;
        Some(Path::new("/").join(inner))
    }

    /// Finds an executable regular file named `name` in the host directories `dirs`, in order.
    /// Which directories, for a program the tool runs, is [`crate::process::find`]'s rule.
    pub fn find_executable<'a, I>(&self, name: &str, dirs: I) -> Option<PathBuf>
    where
        I: IntoIterator<Item = &'a Path>,
    {
        dirs.into_iter().map(|d| d.join(name)).find(|p| {
            self.stat(p)
                .ok()
                .flatten()
                .is_some_and(|i| i.is_file && i.mode & 0o111 != 0)
        })
    }
}

fn read_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let cpath = CString::new(path.as_os_str().as_bytes()).ok()?;
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0u8; 256];
    // SAFETY: both strings are NUL-terminated and `buf` is valid for `buf.len()` bytes.
    let n = unsafe {
        nix::libc::getxattr(
            cpath.as_ptr(),
            cname.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let n = usize::try_from(n).ok()?;
    buf.truncate(n);
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_joined_under_the_root() {
        let host = Host::at("/fixture");
        assert_eq!(
            host.path("/etc/subuid"),
            PathBuf::from("/fixture/etc/subuid")
        );
        assert_eq!(
            host.path("etc/subuid"),
            PathBuf::from("/fixture/etc/subuid")
        );
        assert!(Host::real().is_real());
        assert!(!host.is_real());
    }

    #[test]
    fn missing_files_are_none_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        let host = Host::at(dir.path());
        assert_eq!(host.read("/etc/nothing").unwrap(), None);
        assert_eq!(host.stat("/etc/nothing").unwrap(), None);
        assert!(host.list_dir("/nothing").unwrap().is_empty());
        fs::create_dir_all(dir.path().join("etc")).unwrap();
        fs::write(dir.path().join("etc/x"), " 1\n").unwrap();
        assert_eq!(host.read_value("/etc/x").unwrap().as_deref(), Some("1"));
        assert_eq!(host.canonicalize("/etc/x"), Some(PathBuf::from("/etc/x")));
    }

    #[test]
    fn fixture_meta_overrides_owner_mode_and_xattrs() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("usr/bin")).unwrap();
        fs::write(dir.path().join("usr/bin/newuidmap"), "").unwrap();
        fs::write(
            dir.path().join(".fixture-meta"),
            "# comment\n/usr/bin/newuidmap uid=0 gid=0 mode=4755 xattr.security.capability=0102\n",
        )
        .unwrap();
        let host = Host::at(dir.path());
        let info = host.stat("/usr/bin/newuidmap").unwrap().unwrap();
        assert_eq!((info.uid, info.gid, info.perms()), (0, 0, 0o4755));
        assert!(info.is_file);
        assert_eq!(
            host.xattr("/usr/bin/newuidmap", "security.capability"),
            Some(vec![1, 2])
        );
        assert_eq!(host.xattr("/usr/bin/newuidmap", "user.other"), None);
    }
}
