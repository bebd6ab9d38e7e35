//! `rootless-setup enter [--engine ENGINE] [--] [CMD…]`: runs CMD in the running rootless engine's
//! namespaces, as `nsenter -U --preserve-credentials -m -n -t PID` does with the pid
//! rootlesskit wrote.
//!
//! - [`pidfile`]: the engine's pid file, read as hostile input;
//! - [`target`]: the process it names, judged the caller's and opened without a race;
//! - here: the messages, joining the namespaces (`setns`, user namespace first) and the `exec`
//!   of CMD, which so exits with CMD's own status.
//!
//! `setns` into a user namespace needs a single-threaded process: nothing before it here starts
//! a thread (no program is run, no bus is asked).

mod pidfile;
mod target;

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns};
use nix::unistd::Pid;
use rootless_setup_checks::Caller;
use rootless_setup_core::engine::{EngineSpec, Namespace};

use super::as_user::Prepare;
use crate::cli::EngineArg;
use crate::paths::Paths;
use crate::results::ErrorId;
use crate::style::{Hinted, Style, hinted, stopped};
use pidfile::PidFileError;
use target::{Target, TargetError};

/// Run a command inside your running rootless engine's namespaces.
///
/// Joins the user, mount and network namespaces of the engine that `rootless-setup install`
/// started and runs CMD there, by default your login shell: what `nsenter -U
/// --preserve-credentials -m -n -t PID` does. The pid is rootlesskit's, in
/// $XDG_RUNTIME_DIR/dockerd-rootless/child_pid for Docker (else dockerd's own docker.pid, for
/// older scripts) and containerd-rootless/child_pid for containerd; the file and the process
/// must be yours. Use it to look at the
/// engine's network (`ip addr` shows rootlesskit's tap0), its mounts, or its data directory as
/// the engine sees it. For containerd, CONTAINERD_ADDRESS is set so that `ctr` works unchanged.
///
/// Inside, you appear as root (uid 0): rootlesskit maps your uid to 0 in its user namespace.
/// Your credentials do not change: that root has no rights on the host beyond yours, and the
/// files you create belong to you outside.
///
/// Exit status: CMD's own (a shell shows a command killed by signal N as 128+N); 1 no engine is
/// running or its pid file is refused; 2 usage or internal error; 126 CMD could not be run,
/// 127 CMD was not found.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The engine whose namespaces to join (default: the one installed; asked for when several
    /// are; docker when none is recorded).
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,

    /// As root: act for this user (an ordinary login user): the command runs as NAME, with
    /// NAME's environment, exactly as if NAME had run it (see docs/admin.md).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// The command and its arguments (default: your login shell, else $SHELL, else /bin/sh).
    #[arg(
        value_name = "CMD",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<OsString>,
}

/// Exit status when CMD was not found, as a shell's.
const NOT_FOUND: u8 = 127;
/// Exit status when CMD was found but could not be run, as a shell's.
const NOT_RUN: u8 = 126;

/// Finds the engine's process, joins its namespaces and runs the command; returns only on error.
pub fn run(args: &Args, style: &Style) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.user {
        return super::as_user::act(name, "enter", Prepare::Manager, style);
    }
    let caller = Caller::from_process();
    super::refuse_root(
        &caller,
        "enter",
        "joins your own rootless engine",
        "the user whose engine it is",
    )?;
    let paths = Paths::of_installed(&caller, args.engine.map(Into::into), "enter")?;
    let spec = paths.spec();
    let target = find(spec, &paths.runtime_dir, caller.uid)?;
    let argv = command(&args.command, &caller);
    let env = environment(std::env::vars_os(), spec.enter.env);
    let cwd = std::env::current_dir().ok();
    join(target)?;
    enter_directory(cwd.as_deref(), &paths.home, style);
    Err(exec(&argv, &env))
}

/// The engine's process, from the first of its pid files under `runtime_dir` that exists: the
/// caller's, and in namespaces of its own.
fn find(spec: &EngineSpec, runtime_dir: &Path, uid: u32) -> anyhow::Result<Target> {
    let not_running = |why: String| {
        stopped(
            ErrorId::EngineNotRunning,
            format!("no rootless {} is running for you ({why})", spec.name),
            &[
                "`rootless-setup status` shows the installed engine and why it is not running",
                &format!("start it: {}", engine_command(spec, "start")),
            ],
        )
    };
    let refused = |why: String| {
        stopped(
            ErrorId::PidFileUntrusted,
            why,
            &[
                "the file is not the one the engine wrote; restarting the engine writes it again",
                &format!("restart it: {}", engine_command(spec, "restart")),
            ],
        )
    };
    let files: Vec<PathBuf> = spec
        .enter
        .pid_files
        .iter()
        .map(|f| runtime_dir.join(f))
        .collect();
    let (pid_file, pid) = match first_pid(&files, uid) {
        Ok(found) => found,
        Err(PidFileError::Missing(_)) => return Err(not_running(none_exists(&files))),
        Err(e) => return Err(refused(e.to_string())),
    };
    let namespaces = spec.enter.namespaces;
    match target::open(
        Path::new(target::PROC),
        Path::new(target::OWN_NAMESPACES),
        pid,
        uid,
        namespaces,
    ) {
        Ok(target) => Ok(target),
        Err(TargetError::Gone(pid)) => Err(not_running(format!(
            "process {pid}, named by {}, is not running",
            pid_file.display()
        ))),
        Err(e @ (TargetError::NotYours { pid, .. } | TargetError::NotRootless(pid))) => {
            Err(refused(format!(
                "refusing to enter process {pid}, named by {}: {e}",
                pid_file.display()
            )))
        }
        Err(e @ TargetError::Read { .. }) => Err(anyhow::Error::new(e)),
    }
}

/// The pid in the first of `files` that exists, with that file.
fn first_pid(files: &[PathBuf], uid: u32) -> Result<(&Path, Pid), PidFileError> {
    for file in files {
        match pidfile::read(file, uid) {
            Ok(pid) => return Ok((file, pid)),
            Err(PidFileError::Missing(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Err(PidFileError::Missing(
        files.first().cloned().unwrap_or_default(),
    ))
}

/// `A does not exist`, `neither A nor B exists`, `none of A, B or C exists`.
fn none_exists(files: &[PathBuf]) -> String {
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    match shown.as_slice() {
        [one] => format!("{one} does not exist"),
        [a, b] => format!("neither {a} nor {b} exists"),
        [rest @ .., last] => format!("none of {} or {last} exists", rest.join(", ")),
        [] => "no pid file is known".to_owned(),
    }
}

/// How to start (`verb`: `start` or `restart`) the engine's process: its own command, else
/// `systemctl --user VERB` of its unit.
fn engine_command(spec: &EngineSpec, verb: &str) -> String {
    spec.enter.start.map_or_else(
        || {
            let unit = spec.unit.strip_suffix(".service").unwrap_or(spec.unit);
            format!("systemctl --user {verb} {unit}")
        },
        str::to_owned,
    )
}

/// The flag `setns` takes for `ns`.
fn clone_flag(ns: Namespace) -> CloneFlags {
    match ns {
        Namespace::User => CloneFlags::CLONE_NEWUSER,
        Namespace::Mount => CloneFlags::CLONE_NEWNS,
        Namespace::Net => CloneFlags::CLONE_NEWNET,
    }
}

/// Joins the target's namespaces in order (the user namespace first, which grants the rights
/// to join the others). Credentials are kept: no `setuid`/`setgid` inside.
fn join(target: Target) -> anyhow::Result<()> {
    for (ns, fd) in target.namespaces {
        setns(&fd, clone_flag(ns)).map_err(|e| {
            anyhow::anyhow!(
                "could not join the {} namespace of process {}: {}",
                ns.proc_name(),
                target.pid,
                e.desc()
            )
        })?;
    }
    Ok(())
}

/// Joining a mount namespace moves to its root: go back to the directory the command was
/// started in, else home, else stay at `/`.
fn enter_directory(cwd: Option<&Path>, home: &Path, style: &Style) {
    if let Some(cwd) = cwd {
        if nix::unistd::chdir(cwd).is_ok() {
            return;
        }
        let fallback = if nix::unistd::chdir(home).is_ok() {
            home
        } else {
            Path::new("/")
        };
        style.warning(&format!(
            "{} does not exist in the engine's mount namespace; starting in {}",
            cwd.display(),
            fallback.display()
        ));
    }
}

/// The command to run: the one given, else the caller's shell.
fn command(given: &[OsString], caller: &Caller) -> Vec<CString> {
    let argv = if given.is_empty() {
        let passwd = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(caller.uid))
            .ok()
            .flatten()
            .map(|u| u.shell);
        vec![default_shell(passwd, caller.var("SHELL")).into_os_string()]
    } else {
        given.to_vec()
    };
    argv.into_iter().map(c_string).collect()
}

/// The login shell from passwd, else `$SHELL`, else `/bin/sh`; only absolute paths count.
fn default_shell(passwd: Option<PathBuf>, shell_var: Option<&str>) -> PathBuf {
    passwd
        .filter(|p| p.is_absolute())
        .or_else(|| shell_var.map(PathBuf::from).filter(|p| p.is_absolute()))
        .unwrap_or_else(|| PathBuf::from("/bin/sh"))
}

/// The environment for the command: the current one with the engine's variables set.
fn environment(
    current: impl Iterator<Item = (OsString, OsString)>,
    set: &[(&str, &str)],
) -> Vec<CString> {
    let overridden = |key: &OsStr| set.iter().any(|(k, _)| OsStr::new(k) == key);
    current
        .filter(|(key, _)| !overridden(key))
        .map(|(key, value)| {
            let mut pair = key.into_vec();
            pair.push(b'=');
            pair.extend(value.as_bytes());
            OsString::from_vec(pair)
        })
        .chain(set.iter().map(|(k, v)| OsString::from(format!("{k}={v}"))))
        .map(c_string)
        .collect()
}

/// An argument or variable as C string; the kernel passed none with a NUL byte, so one cut
/// there is what the command would have seen.
fn c_string(s: OsString) -> CString {
    let mut bytes = s.into_vec();
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        bytes.truncate(nul);
    }
    CString::new(bytes).unwrap_or_default()
}

/// Replaces this process with the command; what it returns is why that failed.
fn exec(argv: &[CString], env: &[CString]) -> anyhow::Error {
    let Some(program) = argv.first() else {
        return hinted(
            ErrorId::Usage,
            "no command to run",
            &["name one after `--`"],
        );
    };
    let Err(errno) = nix::unistd::execvpe(program, argv, env);
    let name = program.to_string_lossy();
    let exit = exec_status(errno);
    let help = if exit == NOT_FOUND {
        "inside, the command is looked up in your PATH as outside; give its full path"
    } else {
        "check that the file is an executable you may run"
    };
    anyhow::Error::new(Hinted {
        id: ErrorId::Usage,
        message: format!(
            "could not run {name} in the engine's namespaces: {}",
            errno.desc()
        ),
        details: Vec::new(),
        help: vec![help.to_owned()],
        exit,
    })
}

/// The exit status for a command that could not be run, as a shell's: 127 when it was not
/// found, 126 when it was found but not run.
fn exec_status(errno: Errno) -> u8 {
    match errno {
        Errno::ENOENT | Errno::ENOTDIR => NOT_FOUND,
        _ => NOT_RUN,
    }
}

#[cfg(test)]
mod tests;
