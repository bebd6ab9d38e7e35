//! Live probes: everything the checker learns by running something rather than reading a file.
//! [`System`] is the seam: [`LiveSystem`] really runs programs, creates namespaces and asks
//! D-Bus (through `rootless-setup-systemd`, read-only); tests substitute a scripted one.
//!
//! Nothing here changes the host: probes run as the calling user, in throwaway namespaces.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A program to run as a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Absolute path of the program.
    pub program: PathBuf,
    /// Arguments.
    pub args: Vec<OsString>,
    /// Extra environment variables (the rest is inherited).
    pub env: Vec<(OsString, OsString)>,
    /// Run as mapped root in a fresh user and network namespace (one id mapped, no helpers),
    /// the way rootlesskit runs the engine's iptables.
    pub in_userns: bool,
    /// Killed after this long.
    pub timeout: Duration,
}

impl Invocation {
    /// A program with a 10 s deadline.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Invocation {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            in_userns: false,
            timeout: Duration::from_secs(10),
        }
    }

    /// Appends arguments.
    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable.
    #[must_use]
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs inside a fresh user and network namespace as mapped root.
    #[must_use]
    pub fn in_userns(mut self) -> Self {
        self.in_userns = true;
        self
    }

    /// Sets the deadline.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The command line, for observations and messages.
    pub fn display(&self) -> String {
        std::iter::once(self.program.to_string_lossy())
            .chain(self.args.iter().map(|a| a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What a finished (or killed) probe produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProbeOutput {
    /// Exit code; `None` when killed by a signal or the deadline.
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
    /// Killed because the deadline passed.
    pub timed_out: bool,
    /// How long it ran.
    pub elapsed: Duration,
}

impl ProbeOutput {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The last non-empty line of stderr (or stdout), for one-line summaries.
    pub fn last_line(&self) -> &str {
        [&self.stderr, &self.stdout]
            .iter()
            .find_map(|s| s.lines().rev().map(str::trim).find(|l| !l.is_empty()))
            .unwrap_or("")
    }
}

/// The full mapping the decisive user-namespace probe asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsernsMapRequest {
    /// `newuidmap`.
    pub newuidmap: PathBuf,
    /// `newgidmap`.
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
    /// The child's `/proc/self/uid_map` and `gid_map` as read inside the namespace.
    Mapped {
        /// Contents of uid_map.
        uid_map: String,
        /// Contents of gid_map.
        gid_map: String,
    },
    /// `unshare(CLONE_NEWUSER)` itself failed.
    UnshareFailed(String),
    /// A mapping helper failed; `helper` is its path.
    HelperFailed {
        /// Which helper.
        helper: PathBuf,
        /// Its exit code and stderr.
        output: ProbeOutput,
    },
}

/// Could not run the probe at all.
#[derive(Debug, thiserror::Error)]
#[error("could not run {program}: {source}")]
pub struct ProbeError {
    /// The program.
    pub program: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
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

/// Live probes, injectable so tests can script them.
pub trait System: fmt::Debug + Sync {
    /// Runs a program to completion or its deadline.
    fn run(&self, invocation: &Invocation) -> Result<ProbeOutput, ProbeError>;

    /// Creates a user namespace in a child and maps the full ranges with the helpers.
    fn map_userns(&self, request: &UsernsMapRequest) -> Result<UsernsMapOutcome, ProbeError>;

    /// Pings the bus at `address` (`org.freedesktop.DBus.Peer.Ping`).
    fn ping_user_bus(&self, address: &str) -> BusAnswer<()>;

    /// Asks the user manager on the bus at `address` for its version and state.
    fn user_manager(&self, address: &str) -> BusAnswer<ManagerInfo>;

    /// Asks logind on the system bus whether `uid` lingers.
    fn linger(&self, uid: u32) -> BusAnswer<bool>;
}

/// The real thing.
#[derive(Debug, Default, Clone, Copy)]
pub struct LiveSystem;

impl System for LiveSystem {
    fn run(&self, invocation: &Invocation) -> Result<ProbeOutput, ProbeError> {
        let err = |source| ProbeError {
            program: invocation.program.clone(),
            source,
        };
        let mut command = Command::new(&invocation.program);
        command
            .args(&invocation.args)
            .envs(invocation.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if invocation.in_userns {
            crate::namespace::enter_userns_as_root(&mut command);
        }
        let child = command.spawn().map_err(err)?;
        wait_with_deadline(child, invocation.timeout).map_err(err)
    }

    fn map_userns(&self, request: &UsernsMapRequest) -> Result<UsernsMapOutcome, ProbeError> {
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
    fn run(&self, invocation: &Invocation) -> Result<ProbeOutput, ProbeError> {
        Err(ProbeError {
            program: invocation.program.clone(),
            source: io::Error::new(io::ErrorKind::Unsupported, Offline::WHY),
        })
    }

    fn map_userns(&self, request: &UsernsMapRequest) -> Result<UsernsMapOutcome, ProbeError> {
        Err(ProbeError {
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
}

/// Waits for `child` to exit, killing it when `timeout` passes; collects its output.
pub(crate) fn wait_with_deadline(mut child: Child, timeout: Duration) -> io::Result<ProbeOutput> {
    let start = Instant::now();
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let stdout = child.stdout.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            buf
        })
    });
    let stderr = child.stderr.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            buf
        })
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if start.elapsed() >= timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait().ok();
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let collect = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Ok(ProbeOutput {
        code: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        stdout: collect(stdout),
        stderr: collect(stderr),
        timed_out,
        elapsed: start.elapsed(),
    })
}

/// Writes `line` to a child's stdin and closes it.
pub(crate) fn release(child: &mut Child, line: &[u8]) -> io::Result<()> {
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_kills_a_hanging_program() {
        let out = LiveSystem
            .run(
                &Invocation::new("/bin/sleep")
                    .args(["5"])
                    .timeout(Duration::from_millis(100)),
            )
            .unwrap();
        assert!(out.timed_out);
        assert_eq!(out.code, None);
        assert!(out.elapsed < Duration::from_secs(2));
    }

    #[test]
    fn output_and_exit_code_are_collected() {
        let out = LiveSystem
            .run(&Invocation::new("/bin/sh").args(["-c", "echo out; echo err >&2; exit 3"]))
            .unwrap();
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(3), "out\n", "err\n")
        );
        assert_eq!(out.last_line(), "err");
    }

    #[test]
    fn a_missing_program_is_a_probe_error() {
        let err = LiveSystem
            .run(&Invocation::new("/nonexistent/program"))
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("could not run /nonexistent/program")
        );
    }
}
