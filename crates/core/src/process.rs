//! The one way the tool runs a program, whether a read-only probe of the checker or a change the
//! binary makes (`docker context`, the purge, `journalctl`, `sudo` for `fix --apply`), and the
//! one rule for where it finds one.
//!
//! An [`Invocation`] names the program by path, its arguments, extra environment, the namespace
//! it starts in, a deadline and how much of each output stream to keep. [`run`] waits for it up to
//! the deadline and kills it after; the output is drained on threads (a chatty child never blocks
//! on a full pipe) and kept up to the limit. [`start`] does the same in two steps, for a probe
//! that must act on the child (its pid) before letting it go on; [`run_attached`] hands the
//! terminal to the child.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd as _, FromRawFd as _, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sched::{CloneFlags, unshare};

use crate::SYSTEM_PATH;
use crate::host::Host;
use crate::read::Limit;

/// Where the program starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Namespace {
    /// The caller's own namespaces.
    #[default]
    Host,
    /// As root in a fresh user and network namespace with only the caller's own uid and gid
    /// mapped (to 0), as an unprivileged process may do without helpers; the way rootlesskit
    /// runs the engine's iptables.
    MappedRoot,
    /// In a fresh user namespace with nothing mapped yet, for `newuidmap`/`newgidmap` to map
    /// from outside (see [`start`]).
    Unmapped,
}

/// A program to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Absolute path of the program.
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Extra environment variables (the rest is inherited).
    pub env: Vec<(OsString, OsString)>,
    pub namespace: Namespace,
    /// Killed after this long.
    pub timeout: Duration,
    /// How much of each of standard output and standard error is kept; the rest is read and
    /// dropped.
    pub output_limit: Limit,
    /// Run as this user instead of the caller (root acting for a user).
    pub user: Option<Credentials>,
    /// Start from an empty environment (only [`env`](Self::env) is set).
    pub clear_env: bool,
    /// The working directory (default: the caller's).
    pub current_dir: Option<PathBuf>,
    /// For [`run_inherited`]: its standard output goes to this process's standard error (so a
    /// caller's own standard output stays one document).
    pub stdout_to_stderr: bool,
    /// For [`run`]: written to its standard input, which is then closed (empty: no input).
    pub input: Vec<u8>,
}

/// Whom a program runs as: set between fork and exec, supplementary groups first, then the
/// group, then the user, so nothing of root's stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (the user's, from the group database).
    pub groups: Vec<u32>,
}

impl Invocation {
    /// A program with a 10 s deadline, keeping up to [`Limit::OUTPUT`] of each stream.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Invocation {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            namespace: Namespace::Host,
            timeout: Duration::from_secs(10),
            output_limit: Limit::OUTPUT,
            user: None,
            clear_env: false,
            current_dir: None,
            stdout_to_stderr: false,
            input: Vec::new(),
        }
    }

    /// Sends its standard output to this process's standard error ([`run_inherited`]).
    #[must_use]
    pub fn stdout_to_stderr(mut self) -> Self {
        self.stdout_to_stderr = true;
        self
    }

    /// Runs as `user` ([`Credentials`]), in a clean environment holding only what
    /// [`env`](Self::env) sets, from `dir`.
    #[must_use]
    pub fn as_user(mut self, user: Credentials, dir: impl Into<PathBuf>) -> Self {
        self.user = Some(user);
        self.clear_env = true;
        self.current_dir = Some(dir.into());
        self
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

    /// Gives [`run`] this to write to its standard input.
    #[must_use]
    pub fn input(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.input = input.into();
        self
    }

    /// Sets an environment variable.
    #[must_use]
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs as root in a fresh user and network namespace ([`Namespace::MappedRoot`]).
    #[must_use]
    pub fn in_userns(mut self) -> Self {
        self.namespace = Namespace::MappedRoot;
        self
    }

    /// Starts in a fresh user namespace with nothing mapped ([`Namespace::Unmapped`]).
    #[must_use]
    pub fn in_unmapped_userns(mut self) -> Self {
        self.namespace = Namespace::Unmapped;
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

/// What a finished (or killed) program produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    /// Exit code; `None` when killed by a signal or the deadline.
    pub code: Option<i32>,
    /// Standard output up to the limit, lossily decoded.
    pub stdout: String,
    /// Standard error up to the limit, lossily decoded.
    pub stderr: String,
    /// Killed because the deadline passed.
    pub timed_out: bool,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Output {
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

/// Could not run the program, or lost track of it.
#[derive(Debug, thiserror::Error)]
#[error("could not run {program}: {source}")]
pub struct ProcessError {
    pub program: PathBuf,
    /// Why: from starting it (a missing program, a namespace the kernel refused), feeding its
    /// input or waiting for it; or why a stand-in refused to run it.
    #[source]
    pub source: io::Error,
}

/// Runs `invocation` to completion or its deadline, with its [`input`](Invocation::input) (or
/// none), and collects its output.
pub fn run(invocation: &Invocation) -> Result<Output, ProcessError> {
    let stdin = if invocation.input.is_empty() {
        Stdio::null()
    } else {
        Stdio::piped()
    };
    spawn(invocation, stdin)?.finish(&invocation.input)
}

/// Starts `invocation` with its standard input open, for [`Running::finish`] to feed.
pub fn start(invocation: &Invocation) -> Result<Running, ProcessError> {
    spawn(invocation, Stdio::piped())
}

/// Where an attached program's standard output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attached {
    /// Ours: it writes where we do.
    Terminal,
    /// Our standard error, leaving our standard output to a document (`--format json`).
    StdoutToStderr,
}

/// Runs `invocation` on this terminal: its output goes to ours (its standard output to our
/// standard error with [`Attached::StdoutToStderr`]), `input` is written to its standard input.
/// No deadline and nothing captured: a person watches it (and may be answering `sudo`'s
/// password prompt).
pub fn run_attached(
    invocation: &Invocation,
    input: &[u8],
    output: Attached,
) -> Result<ExitStatus, ProcessError> {
    let err = error(&invocation.program);
    let mut command = command(invocation);
    command.stdin(Stdio::piped());
    if output == Attached::StdoutToStderr {
        command.stdout(Stdio::from(io::stderr()));
    }
    let mut child = command.spawn().map_err(err)?;
    feed(&mut child, input).map_err(err)?;
    child.wait().map_err(err)
}

/// Runs `invocation` on this terminal with this process's standard input, output and error, no
/// deadline, and returns how it ended: for a command run on the caller's behalf (as another
/// user), whose output is the caller's.
pub fn run_inherited(invocation: &Invocation) -> Result<ExitStatus, ProcessError> {
    let err = error(&invocation.program);
    let mut command = command(invocation);
    if invocation.stdout_to_stderr {
        let stderr = io::stderr().as_fd().try_clone_to_owned().map_err(err)?;
        command.stdout(Stdio::from(stderr));
    }
    command.status().map_err(err)
}

/// A started program. Dropping it kills the program (if it still runs) and reaps it.
#[derive(Debug)]
pub struct Running {
    program: PathBuf,
    child: Child,
    started: Instant,
    timeout: Duration,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes `input` to its standard input (if open) and closes it, then waits up to the
    /// deadline (counted from the start) and collects the output. A program that exits without
    /// reading its input is not an error: its exit code says how it went.
    pub fn finish(mut self, input: &[u8]) -> Result<Output, ProcessError> {
        let err = error(&self.program);
        feed(&mut self.child, input).map_err(err)?;
        // A deadline too far to represent is none.
        let deadline = self.started.checked_add(self.timeout);
        let (status, timed_out) = match wait_until(&mut self.child, deadline).map_err(err)? {
            Some(status) => (Some(status), false),
            None => {
                let _ = self.child.kill();
                (self.child.wait().ok(), true)
            }
        };
        Ok(Output {
            code: if timed_out {
                None
            } else {
                status.and_then(|s| s.code())
            },
            stdout: collect(self.stdout.take()),
            stderr: collect(self.stderr.take()),
            timed_out,
            elapsed: self.started.elapsed(),
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How often a child is looked at where no pidfd can be had (kernels before 5.3).
const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// Waits for `child` to exit, up to `deadline` (none: for as long as it runs); `None` if it
/// still runs then. The wait sleeps on the child's pidfd, so it ends the moment the child does;
/// without one it looks every [`POLL_INTERVAL`].
fn wait_until(child: &mut Child, deadline: Option<Instant>) -> io::Result<Option<ExitStatus>> {
    let pidfd = pidfd(child.id());
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let left = match deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => Duration::MAX,
        };
        if left.is_zero() {
            return Ok(None);
        }
        match &pidfd {
            Some(fd) => {
                // Rounded up, so the wait never ends just short of the deadline.
                let ms = u16::try_from(left.as_millis() + 1).unwrap_or(u16::MAX);
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, PollTimeout::from(ms)) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            None => std::thread::sleep(POLL_INTERVAL.min(left)),
        }
    }
}

/// A pidfd for the child `pid`, readable once it exits; `None` where the kernel has none. The
/// child is not reaped before the caller waits for it, so `pid` is still this child's.
fn pidfd(pid: u32) -> Option<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: `fd` was just returned by the kernel and is owned by nothing else.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn error(program: &Path) -> impl Fn(io::Error) -> ProcessError + Copy + '_ {
    move |source| ProcessError {
        program: program.to_owned(),
        source,
    }
}

/// The command for `invocation`, its namespace entered between fork and exec.
fn command(invocation: &Invocation) -> Command {
    let mut command = Command::new(&invocation.program);
    if invocation.clear_env {
        command.env_clear();
    }
    command
        .args(&invocation.args)
        .envs(invocation.env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &invocation.current_dir {
        command.current_dir(dir);
    }
    if let Some(user) = invocation.user.clone() {
        drop_to(&mut command, user);
    }
    match invocation.namespace {
        Namespace::Host => {}
        Namespace::MappedRoot => enter_userns_as_root(&mut command),
        Namespace::Unmapped => {
            let hook = || unshare(CloneFlags::CLONE_NEWUSER).map_err(io::Error::from);
            // SAFETY: unshare is async-signal-safe and the hook touches no shared memory.
            unsafe { command.pre_exec(hook) };
        }
    }
    command
}

/// Makes the child `user` before it executes: std's own uid/gid switch runs after the
/// pre-exec hooks, too late to set the supplementary groups, so all three are set here.
fn drop_to(command: &mut Command, user: Credentials) {
    let groups: Vec<libc::gid_t> = user.groups.clone();
    let hook = move || {
        // SAFETY: setgroups, setgid and setuid are async-signal-safe; `groups` was allocated
        // before the fork and is only read.
        let ok = unsafe {
            libc::setgroups(groups.len(), groups.as_ptr()) == 0
                && libc::setgid(user.gid) == 0
                && libc::setuid(user.uid) == 0
        };
        if ok {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    // SAFETY: the hook only makes the three calls above.
    unsafe { command.pre_exec(hook) };
}

fn spawn(invocation: &Invocation, stdin: Stdio) -> Result<Running, ProcessError> {
    let mut child = command(invocation)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(error(&invocation.program))?;
    let started = Instant::now();
    let limit = invocation.output_limit.0;
    Ok(Running {
        program: invocation.program.clone(),
        stdout: child.stdout.take().map(|s| drain::<ChildStdout>(s, limit)),
        stderr: child.stderr.take().map(|s| drain::<ChildStderr>(s, limit)),
        child,
        started,
        timeout: invocation.timeout,
    })
}

/// Reads `stream` to its end on a thread, keeping the first `limit` bytes.
fn drain<R: Read + Send + 'static>(mut stream: R, limit: u64) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let _ = (&mut stream).take(limit).read_to_end(&mut kept);
        let _ = io::copy(&mut stream, &mut io::sink());
        kept
    })
}

fn collect(handle: Option<JoinHandle<Vec<u8>>>) -> String {
    handle
        .and_then(|h| h.join().ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Writes `input` to the child's standard input, if it has one, and closes it.
fn feed(child: &mut Child, input: &[u8]) -> io::Result<()> {
    let Some(mut stdin) = child.stdin.take() else {
        return Ok(());
    };
    match stdin.write_all(input) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(()),
    }
}

/// Writes `data` to the proc file `path` using only async-signal-safe calls (no allocation),
/// as required between `fork` and `exec`.
fn write_proc(path: &std::ffi::CStr, data: &[u8]) -> io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string; the fd is closed before returning.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `data` is a valid buffer of `data.len()` bytes and `fd` is open.
    let written = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    // SAFETY: `fd` was opened above and is closed exactly once.
    unsafe { libc::close(fd) };
    if written < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Makes `command` start in a new user and network namespace where the caller is root (its own
/// uid and gid mapped to 0, nothing else).
fn enter_userns_as_root(command: &mut Command) {
    let uid_map = format!("0 {} 1", nix::unistd::getuid().as_raw()).into_bytes();
    let gid_map = format!("0 {} 1", nix::unistd::getgid().as_raw()).into_bytes();
    let hook = move || -> io::Result<()> {
        unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
        write_proc(c"/proc/self/setgroups", b"deny")?;
        write_proc(c"/proc/self/uid_map", &uid_map)?;
        write_proc(c"/proc/self/gid_map", &gid_map)?;
        Ok(())
    };
    // SAFETY: the hook only calls unshare, open, write and close, which are async-signal-safe,
    // and touches no memory shared with other threads (the maps were formatted before fork).
    unsafe { command.pre_exec(hook) };
}

/// `dirs` in order, without relative entries (they would depend on the working directory) and
/// without repeats: the directories a program is looked for in.
pub fn search_dirs(dirs: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        if dir.is_absolute() && !out.contains(&dir) {
            out.push(dir);
        }
    }
    out
}

/// Finds the program `name` the tool is about to run, by the one rule: the caller's `PATH`
/// directories (`on_path`, in order), then `hint` (the directory where the checker found it),
/// then [`SYSTEM_PATH`]. The first executable regular file wins ([`Host::find_executable`]).
pub fn find(
    host: &Host,
    name: &str,
    on_path: impl IntoIterator<Item = PathBuf>,
    hint: Option<&Path>,
) -> Option<PathBuf> {
    let dirs = search_dirs(
        on_path
            .into_iter()
            .chain(hint.map(Path::to_path_buf))
            .chain(SYSTEM_PATH.iter().map(PathBuf::from)),
    );
    host.find_executable(name, dirs.iter().map(PathBuf::as_path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Fixture;

    /// As root (CI runs as root): the child is `nobody` with only the groups given, in a clean
    /// environment, from the directory given. Not as root it cannot change users: the spawn
    /// fails, which is checked instead.
    #[test]
    fn a_program_run_as_another_user_has_only_their_ids_and_environment() {
        let nobody = Credentials {
            uid: 65534,
            gid: 65534,
            groups: vec![65534],
        };
        let id = Invocation::new("/bin/sh")
            .args([
                "-c",
                "echo $(id -u) $(id -g) $(id -G) \"$HOME\" \"${CARGO_PKG_NAME-unset}\" $(pwd)",
            ])
            .as_user(nobody, "/")
            .env("HOME", "/nonexistent");
        // cargo sets CARGO_PKG_NAME for this test process; the clean environment drops it.
        assert!(std::env::var_os("CARGO_PKG_NAME").is_some());
        let out = run(&id);
        if nix::unistd::geteuid().is_root() {
            let out = out.unwrap();
            assert!(out.success(), "{out:?}");
            assert_eq!(out.stdout.trim(), "65534 65534 65534 /nonexistent unset /");
        } else {
            assert!(out.is_err() || !out.unwrap().success());
        }
    }

    #[test]
    fn a_deadline_beyond_the_clock_is_no_deadline() {
        let out = run(&Invocation::new("/bin/true").timeout(Duration::MAX)).unwrap();
        assert!(out.success() && !out.timed_out, "{out:?}");
    }

    #[test]
    fn deadline_kills_a_hanging_program() {
        let out = run(&Invocation::new("/bin/sleep")
            .args(["5"])
            .timeout(Duration::from_millis(100)))
        .unwrap();
        assert!(out.timed_out);
        assert_eq!(out.code, None);
        assert!(out.elapsed < Duration::from_secs(2));
    }

    #[test]
    fn a_child_is_waited_for_on_its_pidfd_up_to_the_deadline() {
        let mut child = Command::new("/bin/sleep").arg("30").spawn().unwrap();
        assert!(
            pidfd(child.id()).is_some(),
            "every supported kernel has pidfds"
        );
        let soon = Instant::now() + Duration::from_millis(20);
        assert_eq!(
            wait_until(&mut child, Some(soon)).unwrap(),
            None,
            "still sleeping"
        );
        child.kill().unwrap();
        // No deadline: waited for as long as it runs.
        let status = wait_until(&mut child, None)
            .unwrap()
            .expect("killed, so ended");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        assert!(pidfd(u32::MAX).is_none(), "no such process");
    }

    #[test]
    fn output_and_exit_code_are_collected() {
        let out = run(&Invocation::new("/bin/sh").args(["-c", "echo out; echo err >&2; exit 3"]))
            .unwrap();
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(3), "out\n", "err\n")
        );
        assert_eq!(out.last_line(), "err");
        assert!(!out.success() && !out.timed_out);
    }

    #[test]
    fn input_is_written_to_standard_input() {
        let out = run(&Invocation::new("/bin/sh")
            .args(["-c", "read a; read b; echo \"$b $a\"; read c || echo end"])
            .input("one\ntwo\n"))
        .unwrap();
        assert_eq!((out.code, out.stdout.as_str()), (Some(0), "two one\nend\n"));
    }

    #[test]
    fn environment_is_added_and_input_is_empty() {
        let out = run(&Invocation::new("/bin/sh")
            .args(["-c", "echo \"$A\"; cat; echo done"])
            .env("A", "x y"))
        .unwrap();
        assert_eq!(out.stdout, "x y\ndone\n");
        assert!(out.success());
    }

    #[test]
    fn output_is_kept_up_to_the_limit_and_the_rest_is_drained() {
        let mut inv = Invocation::new("/bin/sh").args(["-c", "head -c 100000 /dev/zero; exit 4"]);
        inv.output_limit = Limit(10);
        let out = run(&inv).unwrap();
        assert_eq!(out.stdout, "\0".repeat(10));
        assert_eq!(
            out.code,
            Some(4),
            "the child finished: its pipe was drained"
        );
    }

    #[test]
    fn a_missing_program_is_an_error_naming_it() {
        let err = run(&Invocation::new("/nonexistent/program")).unwrap_err();
        assert_eq!(err.program, PathBuf::from("/nonexistent/program"));
        assert_eq!(err.source.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string()
                .starts_with("could not run /nonexistent/program: ")
        );
    }

    #[test]
    fn a_started_program_gets_its_input_when_finished() {
        let running =
            start(&Invocation::new("/bin/sh").args(["-c", "read l && echo \"<$l>\""])).unwrap();
        assert!(running.pid() > 0);
        let out = running.finish(b"go\n").unwrap();
        assert_eq!((out.code, out.stdout.as_str()), (Some(0), "<go>\n"));
        // One that ignores its input and exits first is no error.
        let quick = start(&Invocation::new("/bin/true")).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(quick.finish(&vec![b'x'; 1 << 20]).unwrap().success());
    }

    #[test]
    fn dropping_a_started_program_kills_it() {
        let running = start(&Invocation::new("/bin/sleep").args(["30"])).unwrap();
        let proc_dir = PathBuf::from(format!("/proc/{}", running.pid()));
        assert!(proc_dir.exists());
        drop(running);
        assert!(!proc_dir.exists(), "killed and reaped");
    }

    #[test]
    fn an_attached_program_reads_its_input_and_reports_its_status() {
        let status = run_attached(
            &Invocation::new("/bin/sh").args(["-c", "read l; test \"$l\" = go && exit 7"]),
            b"go\n",
            Attached::Terminal,
        )
        .unwrap();
        assert_eq!(status.code(), Some(7));
        let err = run_attached(
            &Invocation::new("/nonexistent/sudo"),
            b"",
            Attached::Terminal,
        )
        .unwrap_err();
        assert_eq!(err.program, PathBuf::from("/nonexistent/sudo"));
    }

    #[test]
    fn an_attached_programs_output_can_go_to_our_standard_error() {
        // The shell's standard output (fd 3 while readlink writes to the file), as the link
        // /proc shows for it, is our standard error.
        let dir = tempfile::tempdir().unwrap();
        let seen = dir.path().join("fd1");
        let status = run_attached(
            &Invocation::new("/bin/sh").args([
                "-c",
                "exec 3>&1; readlink /proc/self/fd/3 > \"$0\"",
                seen.to_str().unwrap(),
            ]),
            b"",
            Attached::StdoutToStderr,
        )
        .unwrap();
        assert!(status.success());
        let ours = std::fs::read_link("/proc/self/fd/2").unwrap();
        assert_eq!(
            std::fs::read_to_string(&seen).unwrap().trim_end(),
            ours.to_str().unwrap()
        );
    }

    #[test]
    fn mapped_root_runs_as_root_of_its_own_namespace() {
        let inv = Invocation::new("/bin/sh")
            .args([
                "-c",
                "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/net",
            ])
            .in_userns();
        assert_eq!(inv.namespace, Namespace::MappedRoot);
        // Root may always create user namespaces (the tests run as root in CI); an ordinary
        // user only where the distribution allows unprivileged ones.
        let must_work = nix::unistd::geteuid().is_root();
        match run(&inv) {
            Ok(out) if out.success() => {
                let uid = nix::unistd::getuid().as_raw();
                let mut lines = out.stdout.lines();
                assert_eq!(lines.next(), Some("0"));
                let map: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
                assert_eq!(map, ["0", &uid.to_string(), "1"]);
                let own_net = std::fs::read_link("/proc/self/ns/net").unwrap();
                assert_ne!(
                    lines.next().map(PathBuf::from),
                    Some(own_net),
                    "a fresh net namespace"
                );
            }
            other => assert!(!must_work && other.is_err(), "{other:?}"),
        }
    }

    #[test]
    fn unmapped_userns_starts_with_nothing_mapped() {
        let inv = Invocation::new("/bin/cat")
            .args(["/proc/self/uid_map"])
            .in_unmapped_userns();
        assert_eq!(inv.namespace, Namespace::Unmapped);
        match run(&inv) {
            Ok(out) => assert_eq!((out.code, out.stdout.as_str()), (Some(0), "")),
            Err(e) => assert_eq!(e.program, PathBuf::from("/bin/cat")),
        }
    }

    #[test]
    fn the_command_line_is_shown_as_one_line() {
        let inv = Invocation::new("/usr/bin/docker").args(["context", "use", "rootless"]);
        assert_eq!(inv.display(), "/usr/bin/docker context use rootless");
        assert_eq!(Invocation::new("/bin/true").display(), "/bin/true");
    }

    #[test]
    fn search_dirs_drop_relative_entries_and_repeats() {
        let dirs = ["/opt/bin", "bin", "/usr/bin", "/opt/bin"].map(PathBuf::from);
        assert_eq!(
            search_dirs(dirs),
            [PathBuf::from("/opt/bin"), PathBuf::from("/usr/bin")]
        );
    }

    #[test]
    fn programs_are_found_on_path_then_at_the_hint_then_in_the_system_dirs() {
        let fx = Fixture::new();
        fx.exe("/opt/a/docker")
            .exe("/opt/hint/docker")
            .exe("/usr/bin/docker")
            .exe("/usr/bin/rootlesskit")
            .file("/opt/b/docker", "not executable");
        let host = fx.host();
        let path = |dirs: &[&str]| dirs.iter().map(PathBuf::from).collect::<Vec<_>>();
        let hint = Some(Path::new("/opt/hint"));
        assert_eq!(
            find(&host, "docker", path(&["rel", "/opt/a"]), hint),
            Some(PathBuf::from("/opt/a/docker"))
        );
        assert_eq!(
            find(&host, "docker", path(&["/opt/b"]), hint),
            Some(PathBuf::from("/opt/hint/docker")),
            "not executable: skipped"
        );
        assert_eq!(
            find(&host, "docker", path(&["/opt/b"]), None),
            Some(PathBuf::from("/usr/bin/docker"))
        );
        assert_eq!(
            find(&host, "rootlesskit", Vec::new(), None),
            Some(PathBuf::from("/usr/bin/rootlesskit"))
        );
        assert_eq!(find(&host, "sudo", path(&["/opt/a"]), hint), None);
    }
}
