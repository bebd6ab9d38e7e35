//! The outside world the install flows act on, behind traits: the systemd user manager
//! ([`Manager`]), logind's linger ([`Linger`]), the docker CLI's contexts ([`Contexts`]) and
//! the engine's API socket ([`Engine`]). The real implementations wrap
//! `rootless_setup_systemd::{UserManager, Login}`, [`DockerCli`] and [`crate::engine_api`];
//! the unit tests of install, rollback and uninstall use in-memory fakes (`ops_fake.rs`).

use std::path::Path;
use std::time::Duration;

use rootless_setup_systemd::{Error as BusError, JobOutcome, Login, UnitState, UserManager};

use crate::docker_context::{ContextInfo, DockerCli};
use crate::engine_api::{self, ApiError};
use crate::journal::JournalError;

/// The systemd user manager.
pub trait Manager {
    /// `daemon-reload`.
    fn reload(&self) -> Result<(), BusError>;
    /// Enables `unit`; whether a link was created.
    fn enable(&self, unit: &str) -> Result<bool, BusError>;
    /// Disables `unit`; whether a link was removed.
    fn disable(&self, unit: &str) -> Result<bool, BusError>;
    /// Starts `unit`, awaiting the job.
    fn start(&self, unit: &str, timeout: Duration) -> Result<JobOutcome, BusError>;
    /// Restarts `unit`, awaiting the job.
    fn restart(&self, unit: &str, timeout: Duration) -> Result<JobOutcome, BusError>;
    /// Stops `unit`, awaiting the job.
    fn stop(&self, unit: &str, timeout: Duration) -> Result<JobOutcome, BusError>;
    /// Forgets `unit`'s failed state.
    fn reset_failed(&self, unit: &str) -> Result<(), BusError>;
    /// `unit`'s state.
    fn unit_state(&self, unit: &str) -> Result<UnitState, BusError>;
    /// The tail of `unit`'s journal, or why it could not be read.
    fn journal_tail(&self, unit: &str, lines: u32) -> Result<String, JournalError>;
}

impl Manager for UserManager {
    fn reload(&self) -> Result<(), BusError> {
        UserManager::reload(self)
    }
    fn enable(&self, unit: &str) -> Result<bool, BusError> {
        UserManager::enable(self, &[unit]).map(|e| !e.changes.is_empty())
    }
    fn disable(&self, unit: &str) -> Result<bool, BusError> {
        UserManager::disable(self, &[unit]).map(|c| !c.is_empty())
    }
    fn start(&self, unit: &str, timeout: Duration) -> Result<JobOutcome, BusError> {
        UserManager::start(self, unit, timeout)
    }
    fn restart(&self, unit: &str, timeout: Duration) -> Result<JobOutcome, BusError> {
        UserManager::restart(self, unit, timeout)
    }
    fn stop(&self, unit: &str, timeout: Duration) -> Result<JobOutcome, BusError> {
        UserManager::stop(self, unit, timeout)
    }
    fn reset_failed(&self, unit: &str) -> Result<(), BusError> {
        UserManager::reset_failed(self, unit)
    }
    fn unit_state(&self, unit: &str) -> Result<UnitState, BusError> {
        UserManager::unit_state(self, unit)
    }
    fn journal_tail(&self, unit: &str, lines: u32) -> Result<String, JournalError> {
        crate::journal::tail(unit, lines)
    }
}

/// logind's linger flag for one uid.
pub trait Linger {
    /// Whether linger is on.
    fn linger(&self, uid: u32) -> Result<bool, BusError>;
    /// Turns it on or off (`interactive`: polkit may ask for a password).
    fn set_linger(&self, uid: u32, on: bool, interactive: bool) -> Result<(), BusError>;
}

impl Linger for Login {
    fn linger(&self, uid: u32) -> Result<bool, BusError> {
        Login::linger(self, uid)
    }
    fn set_linger(&self, uid: u32, on: bool, interactive: bool) -> Result<(), BusError> {
        Login::set_linger(self, uid, on, interactive)
    }
}

/// The docker CLI's contexts.
pub trait Contexts {
    /// `docker context inspect NAME` (`None`: no such context).
    fn inspect(&self, name: &str) -> anyhow::Result<Option<ContextInfo>>;
    /// `docker context create NAME` with our description and `endpoint`.
    fn create(&self, name: &str, endpoint: &str) -> anyhow::Result<()>;
    /// `docker context use NAME`.
    fn use_context(&self, name: &str) -> anyhow::Result<()>;
    /// `docker context rm --force NAME`.
    fn remove(&self, name: &str) -> anyhow::Result<()>;
    /// The current context (`default` when none is set).
    fn current(&self) -> String;
}

impl Contexts for DockerCli {
    fn inspect(&self, name: &str) -> anyhow::Result<Option<ContextInfo>> {
        DockerCli::inspect(self, name)
    }
    fn create(&self, name: &str, endpoint: &str) -> anyhow::Result<()> {
        DockerCli::create(self, name, endpoint)
    }
    fn use_context(&self, name: &str) -> anyhow::Result<()> {
        DockerCli::use_context(self, name)
    }
    fn remove(&self, name: &str) -> anyhow::Result<()> {
        DockerCli::remove(self, name)
    }
    fn current(&self) -> String {
        crate::docker_context::current_context(&self.config_dir)
    }
}

/// The engine's API socket.
pub trait Engine {
    /// Whether it answers `GET /_ping` within `timeout`.
    fn ping(&self, socket: &Path, timeout: Duration) -> Result<(), ApiError>;
    /// Polls `/_ping` until it answers or `deadline` passes.
    fn wait_ready(&self, socket: &Path, deadline: Duration) -> Result<engine_api::Ready, ApiError>;
}

/// The real socket.
#[derive(Debug, Clone, Copy)]
pub struct Socket;

impl Engine for Socket {
    fn ping(&self, socket: &Path, timeout: Duration) -> Result<(), ApiError> {
        engine_api::ping(socket, timeout)
    }
    fn wait_ready(&self, socket: &Path, deadline: Duration) -> Result<engine_api::Ready, ApiError> {
        engine_api::wait_ready(socket, deadline, || {})
    }
}

/// containerd, asked through `ctr --address SOCKET version` (it speaks gRPC, not HTTP).
#[derive(Debug, Clone)]
pub struct Ctr {
    /// The `ctr` client.
    pub ctr: std::path::PathBuf,
}

impl Engine for Ctr {
    fn ping(&self, socket: &Path, timeout: Duration) -> Result<(), ApiError> {
        self.wait_ready(socket, timeout).map(|_| ())
    }
    fn wait_ready(&self, socket: &Path, deadline: Duration) -> Result<engine_api::Ready, ApiError> {
        crate::containerd::wait_ready(&self.ctr, socket, deadline)
            .map(|r| engine_api::Ready {
                elapsed: r.elapsed,
                attempts: r.attempts,
            })
            .map_err(|e| ApiError::NotReady(e.to_string()))
    }
}

/// How to ask `engine` whether it is ready
/// ([`Readiness`](rootless_setup_core::engine::Readiness)): the HTTP socket, or `ctr` (found by
/// the checks, else by [`rootless_setup_core::process::find`]); `None` when `ctr` is nowhere.
pub fn probe(
    readiness: rootless_setup_core::engine::Readiness,
    client: Option<&Path>,
    caller: &rootless_setup_checks::Caller,
) -> Option<Box<dyn Engine>> {
    use rootless_setup_core::engine::Readiness;
    match readiness {
        Readiness::Ping => Some(Box::new(Socket)),
        Readiness::CtrVersion => client
            .map(Path::to_path_buf)
            .or_else(|| {
                rootless_setup_core::process::find(
                    &rootless_setup_core::Host::real(),
                    "ctr",
                    caller.path_dirs(),
                    None,
                )
            })
            .map(|ctr| Box::new(Ctr { ctr }) as Box<dyn Engine>),
    }
}

/// Everything a flow acts on. `manager` is `None` when the user manager cannot be reached
/// (uninstall then still does what needs no bus), `login` when logind cannot, `docker` when
/// there is no client or the context is not ours to touch.
#[derive(Clone, Copy)]
pub struct World<'a> {
    pub manager: Option<&'a dyn Manager>,
    pub login: Option<&'a dyn Linger>,
    pub docker: Option<&'a dyn Contexts>,
    pub engine: &'a dyn Engine,
}
