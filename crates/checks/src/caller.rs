//! Who runs the checker: numeric ids and a snapshot of the environment variables the checks
//! read. Tests build one by hand; a real run takes [`Caller::from_process`].

use std::collections::BTreeMap;

/// The user running the checker and their environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Real user id.
    pub uid: u32,
    /// Real group id.
    pub gid: u32,
    /// Environment variables (only valid UTF-8 ones are kept).
    pub vars: BTreeMap<String, String>,
}

impl Caller {
    /// The current process.
    pub fn from_process() -> Self {
        Caller {
            uid: nix::unistd::getuid().as_raw(),
            gid: nix::unistd::getgid().as_raw(),
            vars: std::env::vars().collect(),
        }
    }

    /// A caller with the given ids and no environment.
    pub fn new(uid: u32, gid: u32) -> Self {
        Caller {
            uid,
            gid,
            vars: BTreeMap::new(),
        }
    }

    /// Sets a variable (builder style).
    #[must_use]
    pub fn with_var(mut self, key: &str, value: &str) -> Self {
        self.vars.insert(key.to_owned(), value.to_owned());
        self
    }

    /// A variable's value, treating the empty string as unset.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The directories of `PATH`, in order.
    pub fn path_dirs(&self) -> Vec<std::path::PathBuf> {
        self.var("PATH")
            .map(|p| {
                p.split(':')
                    .filter(|d| !d.is_empty())
                    .map(Into::into)
                    .collect()
            })
            .unwrap_or_default()
    }
}
