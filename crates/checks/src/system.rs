//! Live probes: everything the checker learns by running something rather than reading a file.
//! [`System`] is the seam: [`LiveSystem`] really runs programs (through
//! [`rootless_setup_core::process`]), creates namespaces and asks D-Bus (through
//! `rootless-setup-systemd`, read-only) and the engine's API (`/info`, through
//! [`crate::engine_api`]); tests substitute a scripted one.
//!
//! Only read-only probes go through it: they run as the calling user, in throwaway namespaces,
//! and change nothing. What the binary changes (the docker context, the purge) it runs through
//! `process` itself.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use rootless_setup_core::process::{self, Invocation, Output, ProcessError};

/// The full mapping the decisive user-namespace probe asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsernsMapRequest {
    pub newuidmap: PathBuf,
    pub newgidmap: PathBuf,
    /// The caller's uid (mapped to 0).
    pub uid: u32,
    /// The caller's gid (mapped to 0).
    pub gid: u32,
    /// Subordinate uid ranges `(start, count)`, mapped from 1 upwards.
    pub subuids: Vec<(u64, u64)>,
    /// Subordinate gid ranges `(start, count)`, mapped from 1 upwards.
    pub subgids: Vec<(u64, u64)>,
}

/// What the user-namespace probe achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernsMapOutcome {
    /// The child's `uid_map` and `gid_map` once both helpers ran.
    Mapped { uid_map: String, gid_map: String },
    /// `unshare(CLONE_NEWUSER)` itself failed.
    UnshareFailed(String),
    /// A mapping helper failed; `helper` is its path.
    HelperFailed {
        helper: PathBuf,
        /// Its exit code and stderr.
        output: Output,
    },
}

/// What the session's D-Bus said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusAnswer<T> {
    /// It answered.
    Ok(T),
    /// It could not be reached or answered with an error; the message says which.
    Unreachable(String),
}

/// The user's systemd manager, as it reports itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerInfo {
    /// `Version`.
    pub version: String,
    /// `SystemState`: running, degraded, starting, …
    pub state: String,
}

/// Read-only live probes, injectable so tests can script them.
pub trait System: fmt::Debug + Sync {
    /// Runs a probe program to completion or its deadline.
    fn run(&self, invocation: &Invocation) -> Result<Output, ProcessError>;

    /// Creates a user namespace in a child and maps the full ranges with the helpers.
    fn map_userns(&self, request: &UsernsMapRequest) -> Result<UsernsMapOutcome, ProcessError>;

    /// Pings the bus at `address` (asks the bus driver for its id, `org.freedesktop.DBus.GetId`).
    fn ping_user_bus(&self, address: &str) -> BusAnswer<()>;

    /// Asks the user manager on the bus at `address` for its version and state.
    fn user_manager(&self, address: &str) -> BusAnswer<ManagerInfo>;

    /// Asks logind on the system bus whether `uid` lingers.
    fn linger(&self, uid: u32) -> BusAnswer<bool>;

    /// Asks the engine on its API socket what it says is wrong with its set-up (`/info`'s
    /// `Warnings`); `Err` says why it could not be asked.
    fn engine_warnings(&self, socket: &Path) -> Result<Vec<String>, String>;
}

/// The real thing.
#[derive(Debug, Default, Clone, Copy)]
pub struct LiveSystem;

impl System for LiveSystem {
    fn run(&self, invocation: &Invocation) -> Result<Output, ProcessError> {
        process::run(invocation)
    }

    fn map_userns(&self, request: &UsernsMapRequest) -> Result<UsernsMapOutcome, ProcessError> {
        crate::namespace::map_full_ranges(request)
    }

    fn ping_user_bus(&self, address: &str) -> BusAnswer<()> {
        match rootless_setup_systemd::probe::ping(address) {
            Ok(()) => BusAnswer::Ok(()),
            Err(e) => BusAnswer::Unreachable(e.to_string()),
        }
    }

    fn user_manager(&self, address: &str) -> BusAnswer<ManagerInfo> {
        match rootless_setup_systemd::probe::manager_state(address) {
            Ok(m) => BusAnswer::Ok(ManagerInfo {
                version: m.version,
                state: m.state,
            }),
            Err(e) => BusAnswer::Unreachable(e.to_string()),
        }
    }

    fn linger(&self, uid: u32) -> BusAnswer<bool> {
        match rootless_setup_systemd::probe::linger(uid) {
            Ok(on) => BusAnswer::Ok(on),
            Err(e) => BusAnswer::Unreachable(e.to_string()),
        }
    }
    fn engine_warnings(&self, socket: &Path) -> Result<Vec<String>, String> {
        crate::engine_api::info_warnings(socket).map_err(|e| e.to_string())
    }
}

/// No live probes at all: every probe reports that it was not run. Used when the host is a
/// directory tree rather than the running system (`--root`), where running programs or asking
/// buses would describe a different machine than the files do.
#[derive(Debug, Default, Clone, Copy)]
pub struct Offline;

impl Offline {
    const WHY: &'static str = "live probes are off: the host is a directory tree (--root)";
}

impl System for Offline {
    fn run(&self, invocation: &Invocation) -> Result<Output, ProcessError> {
        Err(ProcessError {
            program: invocation.program.clone(),
            source: io::Error::new(io::ErrorKind::Unsupported, Offline::WHY),
        })
    }

    fn map_userns(&self, request: &UsernsMapRequest) -> Result<UsernsMapOutcome, ProcessError> {
        Err(ProcessError {
            program: request.newuidmap.clone(),
            source: io::Error::new(io::ErrorKind::Unsupported, Offline::WHY),
        })
    }

    fn ping_user_bus(&self, _address: &str) -> BusAnswer<()> {
        BusAnswer::Unreachable(Offline::WHY.to_owned())
    }

    fn user_manager(&self, _address: &str) -> BusAnswer<ManagerInfo> {
        BusAnswer::Unreachable(Offline::WHY.to_owned())
    }

    fn linger(&self, _uid: u32) -> BusAnswer<bool> {
        BusAnswer::Unreachable(Offline::WHY.to_owned())
    }
    fn engine_warnings(&self, _socket: &Path) -> Result<Vec<String>, String> {
        Err(Offline::WHY.to_owned())
    }
}
