//! In-memory fakes of [`super::ops`] for the flows' unit tests: one [`Fake`] plays the user
//! manager, logind, the docker CLI and the engine's socket, records every call, and fails the
//! operation named in [`Fake::fail`] once.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rootless_setup_systemd::{ActiveState, Error, JobOutcome, JobResult, LoadState, UnitState};

use crate::journal::JournalError;

use super::ops::{Contexts, Engine, Linger, Manager, World};
use crate::docker_context::{ContextInfo, DESCRIPTION};
use crate::engine_api::{ApiError, Ready};

/// What the fake world looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub enabled: bool,
    /// The engine runs.
    pub active: bool,
    /// The manager knows the unit (a unit file exists).
    pub loaded: bool,
    pub contexts: BTreeMap<String, ContextInfo>,
    pub current: String,
    pub linger: bool,
}

#[derive(Debug)]
pub struct Fake {
    pub seen: RefCell<Seen>,
    /// The operation to fail once (`start`, `enable`, `create`, …).
    pub fail: RefCell<Option<&'static str>>,
    /// The operation at which the process "is killed" (the fake panics before the effect).
    pub kill: RefCell<Option<&'static str>>,
    /// The start job ends this way (when not failing outright).
    pub start_result: RefCell<JobResult>,
    /// The stop job ends this way.
    pub stop_result: RefCell<JobResult>,
    /// Every call, in order (`start docker.service`, `use rootless`, …).
    pub calls: RefCell<Vec<String>>,
}

/// A context as install creates it.
pub fn ours(endpoint: &str) -> ContextInfo {
    ContextInfo {
        endpoint: endpoint.to_owned(),
        description: DESCRIPTION.to_owned(),
    }
}

impl Fake {
    /// Nothing installed, nothing running, `default` current, linger off.
    pub fn new() -> Fake {
        Fake {
            seen: RefCell::new(Seen {
                enabled: false,
                active: false,
                loaded: true,
                contexts: BTreeMap::new(),
                current: "default".into(),
                linger: false,
            }),
            fail: RefCell::new(None),
            kill: RefCell::new(None),
            start_result: RefCell::new(JobResult::Done),
            stop_result: RefCell::new(JobResult::Done),
            calls: RefCell::new(Vec::new()),
        }
    }

    /// All of it as a [`World`].
    pub fn world(&self) -> World<'_> {
        World {
            manager: Some(self),
            login: Some(self),
            docker: Some(self),
            engine: self,
        }
    }

    /// A snapshot of the state.
    pub fn state(&self) -> Seen {
        self.seen.borrow().clone()
    }

    fn call(&self, op: &'static str, arg: &str) -> Result<(), Error> {
        self.calls.borrow_mut().push(format!("{op} {arg}"));
        if *self.kill.borrow() == Some(op) {
            panic!("killed at {op}");
        }
        if *self.fail.borrow() == Some(op) {
            self.fail.borrow_mut().take();
            return Err(Error::Call {
                address: "fake".into(),
                target: arg.into(),
                operation: "Fake",
                name: "org.example.Failed".into(),
                message: format!("{op} failed on purpose"),
            });
        }
        Ok(())
    }

    fn job(&self, op: &'static str, unit: &str, result: JobResult) -> Result<JobOutcome, Error> {
        self.call(op, unit)?;
        Ok(JobOutcome {
            unit: unit.into(),
            job: "/org/freedesktop/systemd1/job/1".into(),
            result,
            elapsed: Duration::from_millis(1),
        })
    }
}

impl Manager for Fake {
    fn reload(&self) -> Result<(), Error> {
        self.call("reload", "")
    }
    fn enable(&self, unit: &str) -> Result<bool, Error> {
        self.call("enable", unit)?;
        let was = std::mem::replace(&mut self.seen.borrow_mut().enabled, true);
        Ok(!was)
    }
    fn disable(&self, unit: &str) -> Result<bool, Error> {
        self.call("disable", unit)?;
        Ok(std::mem::replace(
            &mut self.seen.borrow_mut().enabled,
            false,
        ))
    }
    fn start(&self, unit: &str, _: Duration) -> Result<JobOutcome, Error> {
        let result = self.start_result.borrow().clone();
        let o = self.job("start", unit, result)?;
        self.seen.borrow_mut().active = o.result.is_done();
        Ok(o)
    }
    fn restart(&self, unit: &str, _: Duration) -> Result<JobOutcome, Error> {
        let result = self.start_result.borrow().clone();
        let o = self.job("restart", unit, result)?;
        self.seen.borrow_mut().active = o.result.is_done();
        Ok(o)
    }
    fn stop(&self, unit: &str, _: Duration) -> Result<JobOutcome, Error> {
        let result = self.stop_result.borrow().clone();
        let o = self.job("stop", unit, result)?;
        self.seen.borrow_mut().active = !o.result.is_done();
        Ok(o)
    }
    fn reset_failed(&self, unit: &str) -> Result<(), Error> {
        self.call("reset-failed", unit)
    }
    fn unit_state(&self, unit: &str) -> Result<UnitState, Error> {
        let s = self.seen.borrow();
        Ok(UnitState {
            unit: unit.into(),
            load: if s.loaded {
                LoadState::Loaded
            } else {
                LoadState::NotFound
            },
            active: if s.active {
                ActiveState::Active
            } else if s.loaded {
                ActiveState::Failed
            } else {
                ActiveState::Inactive
            },
            sub: if s.active { "running" } else { "failed" }.into(),
            unit_file_state: if s.enabled { "enabled" } else { "disabled" }.into(),
            fragment_path: None,
            drop_ins: Vec::new(),
            need_daemon_reload: false,
            main_pid: None,
            exec_main_status: Some(1),
            result: Some("exit-code".into()),
        })
    }
    fn journal_tail(&self, unit: &str, _: u32) -> Result<String, JournalError> {
        Ok(format!("{unit}: unknown flag: --no-such-flag\n"))
    }
}

impl Linger for Fake {
    fn linger(&self, _: u32) -> Result<bool, Error> {
        Ok(self.seen.borrow().linger)
    }
    fn set_linger(&self, uid: u32, on: bool, _: bool) -> Result<(), Error> {
        self.call(
            if on { "linger-on" } else { "linger-off" },
            &uid.to_string(),
        )?;
        self.seen.borrow_mut().linger = on;
        Ok(())
    }
}

impl Contexts for Fake {
    fn inspect(&self, name: &str) -> anyhow::Result<Option<ContextInfo>> {
        self.call("inspect", name)?;
        Ok(self.seen.borrow().contexts.get(name).cloned())
    }
    fn create(&self, name: &str, endpoint: &str) -> anyhow::Result<()> {
        self.call("create", name)?;
        self.seen
            .borrow_mut()
            .contexts
            .insert(name.into(), ours(endpoint));
        Ok(())
    }
    fn use_context(&self, name: &str) -> anyhow::Result<()> {
        self.call("use", name)?;
        self.seen.borrow_mut().current = name.into();
        Ok(())
    }
    fn remove(&self, name: &str) -> anyhow::Result<()> {
        self.call("remove", name)?;
        self.seen.borrow_mut().contexts.remove(name);
        Ok(())
    }
    fn current(&self) -> String {
        self.seen.borrow().current.clone()
    }
}

impl Engine for Fake {
    fn ping(&self, socket: &Path, _: Duration) -> Result<(), ApiError> {
        let refused = |source| ApiError::Io {
            path: socket.display().to_string(),
            source,
        };
        self.call("ping", "")
            .map_err(|e| refused(std::io::Error::other(e)))?;
        if self.seen.borrow().active {
            Ok(())
        } else {
            Err(refused(std::io::ErrorKind::ConnectionRefused.into()))
        }
    }
    fn wait_ready(&self, socket: &Path, deadline: Duration) -> Result<Ready, ApiError> {
        self.ping(socket, deadline).map(|()| Ready {
            elapsed: Duration::from_millis(1),
            attempts: 1,
        })
    }
}
