//! The two namespace probes behind [`crate::system::LiveSystem`]: running a program as mapped
//! root in a throwaway user+network namespace, and mapping the caller's full subordinate ranges
//! into a fresh user namespace through `newuidmap`/`newgidmap`. Both only affect the child.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::libc;
use nix::sched::{CloneFlags, unshare};

use crate::system::{
    Invocation, LiveSystem, ProbeError, System, UsernsMapOutcome, UsernsMapRequest, release,
};

/// Writes `data` to the proc file `path` using only async-signal-safe calls (no allocation),
/// as required between `fork` and `exec`.
fn write_proc(path: &std::ffi::CStr, data: &[u8]) -> std::io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string; the fd is closed before returning.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `data` is a valid buffer of `data.len()` bytes and `fd` is open.
    let written = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    // SAFETY: `fd` was opened above and is closed exactly once.
    unsafe { libc::close(fd) };
    if written < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Makes `command` start in a new user and network namespace where the caller is root (its own
/// uid and gid mapped to 0, nothing else), as an unprivileged process may do without helpers.
pub(crate) fn enter_userns_as_root(command: &mut Command) {
    let uid_map = format!("0 {} 1", nix::unistd::getuid().as_raw()).into_bytes();
    let gid_map = format!("0 {} 1", nix::unistd::getgid().as_raw()).into_bytes();
    let hook = move || -> std::io::Result<()> {
        unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET)
            .map_err(std::io::Error::from)?;
        write_proc(c"/proc/self/setgroups", b"deny")?;
        write_proc(c"/proc/self/uid_map", &uid_map)?;
        write_proc(c"/proc/self/gid_map", &gid_map)?;
        Ok(())
    };
    // SAFETY: the hook only calls unshare, open, write and close, which are async-signal-safe,
    // and touches no memory shared with other threads (the maps were formatted before fork).
    unsafe { command.pre_exec(hook) };
}

/// Builds the helper arguments `PID 0 OWN 1 1 START COUNT [NEXT START COUNT …]`.
pub(crate) fn helper_args(pid: u32, own: u32, ranges: &[(u64, u64)]) -> Vec<String> {
    let mut args = vec![pid.to_string(), "0".into(), own.to_string(), "1".into()];
    let mut inside = 1u64;
    for (start, count) in ranges {
        args.extend([inside.to_string(), start.to_string(), count.to_string()]);
        inside = inside.saturating_add(*count);
    }
    args
}

/// Creates a user namespace in a child, maps the caller and the full subordinate ranges into it
/// with the setuid helpers (exactly what rootlesskit does), and reads the maps back from inside.
pub(crate) fn map_full_ranges(request: &UsernsMapRequest) -> Result<UsernsMapOutcome, ProbeError> {
    let shell = std::path::PathBuf::from("/bin/sh");
    let mut command = Command::new(&shell);
    command
        .args([
            "-c",
            "read _ && cat /proc/self/uid_map && echo -- && cat /proc/self/gid_map",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let hook = || unshare(CloneFlags::CLONE_NEWUSER).map_err(std::io::Error::from);
    // SAFETY: unshare is async-signal-safe and the hook touches no shared memory.
    unsafe { command.pre_exec(hook) };
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) if e.raw_os_error().is_some() && e.kind() != std::io::ErrorKind::NotFound => {
            return Ok(UsernsMapOutcome::UnshareFailed(e.to_string()));
        }
        Err(source) => {
            return Err(ProbeError {
                program: shell,
                source,
            });
        }
    };
    let pid = child.id();
    let helpers = [
        (&request.newuidmap, request.uid, &request.subuids),
        (&request.newgidmap, request.gid, &request.subgids),
    ];
    for (helper, own, ranges) in helpers {
        let invocation = Invocation::new(helper.as_path())
            .args(helper_args(pid, own, ranges))
            .timeout(Duration::from_secs(5));
        let output = LiveSystem.run(&invocation);
        let failed = match output {
            Ok(out) if out.success() => None,
            Ok(out) => Some(Ok(UsernsMapOutcome::HelperFailed {
                helper: helper.clone(),
                output: out,
            })),
            Err(e) => Some(Err(e)),
        };
        if let Some(result) = failed {
            let _ = child.kill();
            let _ = child.wait();
            return result;
        }
    }
    let err = |source| ProbeError {
        program: shell.clone(),
        source,
    };
    release(&mut child, b"go\n").map_err(err)?;
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout).map_err(err)?;
    }
    let _ = child.wait();
    let (uid_map, gid_map) = stdout.split_once("--\n").unwrap_or((stdout.as_str(), ""));
    Ok(UsernsMapOutcome::Mapped {
        uid_map: uid_map.to_owned(),
        gid_map: gid_map.to_owned(),
    })
}

/// Total number of ids a `/proc/PID/uid_map` text maps.
pub fn mapped_count(map: &str) -> u64 {
    map.lines()
        .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok())
        .fold(0u64, u64::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_arguments_stack_ranges_after_the_own_id() {
        assert_eq!(
            helper_args(42, 1000, &[(100000, 65536), (300000, 10)]).join(" "),
            "42 0 1000 1 1 100000 65536 65537 300000 10"
        );
    }

    #[test]
    fn mapped_count_sums_the_third_column() {
        assert_eq!(
            mapped_count("         0       1000          1\n         1     100000      65536\n"),
            65537
        );
        assert_eq!(mapped_count(""), 0);
    }
}
