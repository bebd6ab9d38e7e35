//! Test support (feature `testing`): [`ScriptedSystem`], a [`System`] whose probe answers are
//! scripted and whose calls are recorded, and [`Harness`], the context of checks run over a
//! [`Fixture`] host tree.
//!
//! Scripted answers stand in for live probes in fixture tests only; the end-to-end suite runs the
//! real ones in a booted Debian.

use std::io;
use std::sync::Mutex;
use std::time::Duration;

use crate::caller::Caller;
use crate::context::{Context, Options};
use crate::memo::RunMemo;
use crate::system::{BusAnswer, ManagerInfo, System, UsernsMapOutcome, UsernsMapRequest};
use rootless_setup_core::distro::Distro;
use rootless_setup_core::host::Host;
use rootless_setup_core::model::Engine;
use rootless_setup_core::process::{Invocation, Namespace, Output, ProcessError};
use rootless_setup_core::testing::Fixture;

/// One scripted answer: for a program whose file name is `program` and whose arguments
/// contain `args_contain` (in order, as one joined string).
#[derive(Debug, Clone)]
struct Script {
    program: String,
    args_contain: String,
    answer: Result<Output, io::ErrorKind>,
}

/// A [`System`] with scripted answers. Unscripted programs fail to start (`NotFound`); the buses
/// are unreachable until scripted.
#[derive(Debug)]
pub struct ScriptedSystem {
    scripts: Vec<Script>,
    userns: Option<UsernsMapOutcome>,
    bus: BusAnswer<()>,
    manager: BusAnswer<ManagerInfo>,
    linger: BusAnswer<bool>,
    engine_warnings: Result<Vec<String>, String>,
    calls: Mutex<Vec<String>>,
}

impl Default for ScriptedSystem {
    fn default() -> Self {
        ScriptedSystem::new()
    }
}

impl ScriptedSystem {
    /// Nothing scripted.
    pub fn new() -> Self {
        let down = "scripted: no bus".to_owned();
        ScriptedSystem {
            scripts: Vec::new(),
            userns: None,
            bus: BusAnswer::Unreachable(down.clone()),
            manager: BusAnswer::Unreachable(down.clone()),
            linger: BusAnswer::Unreachable(down),
            engine_warnings: Err("scripted: no engine".to_owned()),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// A successful output with `stdout`.
    pub fn ok(stdout: &str) -> Output {
        Output {
            code: Some(0),
            stdout: stdout.to_owned(),
            ..Output::default()
        }
    }

    /// A failed output with exit code `code` and `stderr`.
    pub fn failed(code: i32, stderr: &str) -> Output {
        Output {
            code: Some(code),
            stderr: stderr.to_owned(),
            ..Output::default()
        }
    }

    /// An output killed at its deadline.
    pub fn timed_out() -> Output {
        Output {
            timed_out: true,
            elapsed: Duration::from_secs(10),
            ..Output::default()
        }
    }

    /// Answers runs of `program` (file name) whose joined arguments contain `args_contain`.
    /// Later scripts win over earlier ones.
    #[must_use]
    pub fn on(mut self, program: &str, args_contain: &str, answer: Output) -> Self {
        self.scripts.push(Script {
            program: program.to_owned(),
            args_contain: args_contain.to_owned(),
            answer: Ok(answer),
        });
        self
    }

    /// Makes runs of `program` fail to start with `kind`.
    #[must_use]
    pub fn on_error(mut self, program: &str, kind: io::ErrorKind) -> Self {
        self.scripts.push(Script {
            program: program.to_owned(),
            args_contain: String::new(),
            answer: Err(kind),
        });
        self
    }

    /// Scripts the user-namespace mapping probe.
    #[must_use]
    pub fn userns(mut self, outcome: UsernsMapOutcome) -> Self {
        self.userns = Some(outcome);
        self
    }

    /// Scripts the user bus ping.
    #[must_use]
    pub fn bus(mut self, answer: BusAnswer<()>) -> Self {
        self.bus = answer;
        self
    }

    /// Scripts the user manager's answer.
    #[must_use]
    pub fn manager(mut self, answer: BusAnswer<ManagerInfo>) -> Self {
        self.manager = answer;
        self
    }

    /// Scripts logind's linger answer.
    #[must_use]
    pub fn linger(mut self, answer: BusAnswer<bool>) -> Self {
        self.linger = answer;
        self
    }

    /// Scripts the engine's answer to `/info` (its warnings).
    #[must_use]
    pub fn engine_warnings(mut self, answer: Result<Vec<String>, String>) -> Self {
        self.engine_warnings = answer;
        self
    }

    /// Every call made so far, as `run PROGRAM ARGS…`, `map_userns`, `ping ADDRESS`, ….
    #[allow(clippy::unwrap_used, clippy::expect_used)]
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("calls lock").clone()
    }

    #[allow(clippy::unwrap_used, clippy::expect_used)]
    fn record(&self, call: String) {
        self.calls.lock().expect("calls lock").push(call);
    }
}

impl System for ScriptedSystem {
    fn run(&self, invocation: &Invocation) -> Result<Output, ProcessError> {
        let ns = if invocation.namespace != Namespace::Host {
            " [userns]"
        } else {
            ""
        };
        let input = if invocation.input.is_empty() {
            String::new()
        } else {
            format!(" < {:?}", String::from_utf8_lossy(&invocation.input))
        };
        self.record(format!("run {}{ns}{input}", invocation.display()));
        let name = invocation
            .program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let args = invocation
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let script = self.scripts.iter().rev().find(|s| {
            name.as_deref() == Some(s.program.as_str()) && args.contains(&s.args_contain)
        });
        match script.map(|s| &s.answer) {
            Some(Ok(out)) => Ok(out.clone()),
            Some(Err(kind)) => Err(ProcessError {
                program: invocation.program.clone(),
                source: io::Error::from(*kind),
            }),
            None => Err(ProcessError {
                program: invocation.program.clone(),
                source: io::Error::from(io::ErrorKind::NotFound),
            }),
        }
    }

    fn map_userns(&self, request: &UsernsMapRequest) -> Result<UsernsMapOutcome, ProcessError> {
        self.record("map_userns".to_owned());
        self.userns.clone().ok_or_else(|| ProcessError {
            program: request.newuidmap.clone(),
            source: io::Error::from(io::ErrorKind::NotFound),
        })
    }

    fn ping_user_bus(&self, address: &str) -> BusAnswer<()> {
        self.record(format!("ping {address}"));
        self.bus.clone()
    }

    fn user_manager(&self, address: &str) -> BusAnswer<ManagerInfo> {
        self.record(format!("manager {address}"));
        self.manager.clone()
    }

    fn linger(&self, uid: u32) -> BusAnswer<bool> {
        self.record(format!("linger {uid}"));
        self.linger.clone()
    }
    fn engine_warnings(&self, socket: &std::path::Path) -> Result<Vec<String>, String> {
        self.record(format!("info {}", socket.display()));
        self.engine_warnings.clone()
    }
}

/// Everything a check needs, owned, so a test can borrow a [`Context`] from it.
#[derive(Debug)]
pub struct Harness {
    pub host: Host,
    pub caller: Caller,
    pub system: ScriptedSystem,
    /// The distribution (parsed from the tree's os-release).
    pub distro: Distro,
    pub engine: Engine,
    pub options: Options,
    /// What the checks read of the host: a harness is one run.
    pub memo: RunMemo,
}

impl Harness {
    /// A harness over `fixture` for `caller` with `system`.
    pub fn new(fixture: &Fixture, caller: Caller, system: ScriptedSystem) -> Self {
        let host = fixture.host();
        let distro = Distro::detect(&host);
        Harness {
            host,
            caller,
            system,
            distro,
            engine: Engine::Docker,
            options: Options::default(),
            memo: RunMemo::default(),
        }
    }

    /// The context to pass to checks.
    pub fn context(&self) -> Context<'_> {
        Context {
            host: &self.host,
            caller: &self.caller,
            system: &self.system,
            distro: &self.distro,
            engine: self.engine,
            options: &self.options,
            memo: &self.memo,
        }
    }
}
