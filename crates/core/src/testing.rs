//! Test support (feature `testing`): [`Fixture`], a temporary host tree to build per test, and
//! [`account`], the passwd entry a test user gets.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::host::Host;
use crate::model::Account;

/// An account named `name` with uid and primary gid `id`, home `home` and shell `/bin/sh`, as
/// the `user` check would store it in [`Facts::account`](crate::model::Facts::account).
pub fn account(name: &str, id: u32, home: &str) -> Account {
    Account {
        name: name.to_owned(),
        uid: id,
        gid: id,
        home: PathBuf::from(home),
        shell: "/bin/sh".to_owned(),
    }
}

/// A temporary host tree. Paths given to its methods are host paths (`/etc/subuid`).
#[derive(Debug)]
pub struct Fixture {
    dir: tempfile::TempDir,
    meta: Mutex<String>,
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}

impl Fixture {
    /// An empty tree.
    pub fn new() -> Self {
        // A test cannot go on without its temporary directory.
        #[allow(clippy::unwrap_used, clippy::expect_used)]
        let dir = tempfile::tempdir().expect("create a temporary fixture directory");
        Fixture {
            dir,
            meta: Mutex::new(String::new()),
        }
    }

    /// The tree's root directory on this machine.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Where host path `path` lives on this machine.
    pub fn path(&self, path: &str) -> PathBuf {
        self.root().join(path.trim_start_matches('/'))
    }

    /// Writes a file, creating its parents.
    #[allow(clippy::unwrap_used, clippy::expect_used)] // fixture set-up failures end the test
    pub fn file(&self, path: &str, contents: &str) -> &Self {
        let p = self.path(path);
        fs::create_dir_all(p.parent().expect("absolute host path")).expect("create parents");
        fs::write(&p, contents).expect("write fixture file");
        self
    }

    /// Writes an executable file (mode 0755).
    #[allow(clippy::unwrap_used, clippy::expect_used)]
    pub fn exe(&self, path: &str) -> &Self {
        self.file(path, "#!/bin/sh\nexit 0\n");
        fs::set_permissions(self.path(path), fs::Permissions::from_mode(0o755)).expect("chmod");
        self
    }

    /// Creates a directory (and parents).
    #[allow(clippy::unwrap_used, clippy::expect_used)]
    pub fn dir(&self, path: &str) -> &Self {
        fs::create_dir_all(self.path(path)).expect("create fixture directory");
        self
    }

    /// Creates a symlink at `path` pointing to `target` (taken verbatim).
    #[allow(clippy::unwrap_used, clippy::expect_used)]
    pub fn symlink(&self, path: &str, target: &str) -> &Self {
        let p = self.path(path);
        fs::create_dir_all(p.parent().expect("absolute host path")).expect("create parents");
        let _ = fs::remove_file(&p);
        std::os::unix::fs::symlink(target, &p).expect("create symlink");
        self
    }

    /// Removes a file or directory tree if present.
    pub fn remove(&self, path: &str) -> &Self {
        let p = self.path(path);
        let _ = fs::remove_file(&p).or_else(|_| fs::remove_dir_all(&p));
        self
    }

    /// Overrides what the checker sees as owner, mode and extended attributes of `path`
    /// (`attrs` like `uid=0 gid=0 mode=4755`), see [`Host`].
    #[allow(clippy::unwrap_used, clippy::expect_used)]
    pub fn meta(&self, path: &str, attrs: &str) -> &Self {
        let mut meta = self.meta.lock().expect("fixture meta lock");
        meta.push_str(&format!("{path} {attrs}\n"));
        fs::write(self.root().join(".fixture-meta"), meta.as_bytes()).expect("write meta");
        self
    }

    /// The host view of this tree.
    pub fn host(&self) -> Host {
        Host::at(self.root())
    }
}
