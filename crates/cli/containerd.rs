//! Whether rootless containerd answers: containerd speaks gRPC (HTTP/2), not the Docker API, so
//! readiness is its own client asking its version service, `ctr --address SOCKET version`,
//! run through `core::process` with a deadline and polled until the server part answers.
//!
//! Why `ctr` and not a probe of our own: a connect, or even an HTTP/2 SETTINGS exchange, shows
//! only that something listens; `ctr version` is a real RPC (`containerd.services.version.v1`)
//! answered by containerd's services, and `ctr` is the client `engine.binaries` checks for (it
//! comes with containerd in every distribution). The socket is the one containerd creates at
//! `/run/containerd/containerd.sock` inside rootlesskit's mount namespace, which is the
//! bind-mounted `$XDG_RUNTIME_DIR/containerd/containerd.sock` on the host (the engine's
//! `api_socket`): a unix socket works across the user namespace, so no `nsenter` is needed.

use std::path::Path;
use std::time::{Duration, Instant};

use rootless_setup_core::process::{self, Invocation, ProcessError};

/// How long one `ctr version` may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// The least time an attempt gets, even when the deadline is nearer: a `ctr` cut short says
/// nothing about containerd.
pub const MIN_ATTEMPT: Duration = Duration::from_secs(1);
/// How long to wait between two attempts that failed at once (no socket yet).
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// containerd answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// From the first attempt to the answer.
    pub elapsed: Duration,
    /// `ctr version` runs until then.
    pub attempts: u32,
    /// The server's version, as `ctr version` printed it.
    pub version: String,
}

/// containerd did not answer.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    /// `ctr` could not be run at all.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// The deadline passed; what the last attempt said.
    #[error(
        "containerd did not answer `{ctr} --address {socket} version` within {:.1} s: {last}",
        .waited.as_secs_f64()
    )]
    Timeout {
        /// The client run.
        ctr: String,
        /// The socket asked.
        socket: String,
        /// How long it was asked for.
        waited: Duration,
        /// The last line the last attempt printed (or why it ended).
        last: String,
    },
}

/// The server's version in `ctr version`'s output (`Server:` then `  Version:  1.7.24~ds1`),
/// if the server part is there.
pub fn server_version(stdout: &str) -> Option<String> {
    let mut lines = stdout.lines().skip_while(|l| l.trim() != "Server:").skip(1);
    lines.find_map(|l| {
        let value = l.trim().strip_prefix("Version:")?.trim();
        (!value.is_empty()).then(|| value.to_owned())
    })
}

/// Asks containerd on `socket` for its version with `ctr` until it answers or `deadline` passes
/// (the last attempt may end up to [`MIN_ATTEMPT`] after it).
pub fn wait_ready(ctr: &Path, socket: &Path, deadline: Duration) -> Result<Ready, NotReady> {
    let begun = Instant::now();
    let mut attempts = 0;
    // What the last attempt that was not cut short said.
    let mut said: Option<String> = None;
    loop {
        attempts += 1;
        let left = deadline.saturating_sub(begun.elapsed());
        let invocation = Invocation::new(ctr)
            .args(["--address".as_ref(), socket.as_os_str(), "version".as_ref()])
            .timeout(left.clamp(MIN_ATTEMPT, ATTEMPT_TIMEOUT));
        let out = process::run(&invocation)?;
        if out.success()
            && let Some(version) = server_version(&out.stdout)
        {
            return Ok(Ready {
                elapsed: begun.elapsed(),
                attempts,
                version,
            });
        }
        if !out.timed_out {
            said = Some(match out.last_line() {
                "" => format!("exit code {:?}", out.code),
                line => line.to_owned(),
            });
        }
        if begun.elapsed() + POLL_INTERVAL >= deadline {
            return Err(NotReady::Timeout {
                ctr: ctr.display().to_string(),
                socket: socket.display().to_string(),
                waited: deadline,
                last: said.unwrap_or_else(|| {
                    format!(
                        "no attempt finished within {} s",
                        ATTEMPT_TIMEOUT.min(deadline.max(MIN_ATTEMPT)).as_secs()
                    )
                }),
            });
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    const ANSWER: &str = "Client:\n  Version:  1.7.24~ds1\n  Revision: \n  Go version: go1.24.4\n\nServer:\n  Version:  1.7.24~ds2\n  Revision: \n  UUID: 0b5e\n";

    /// A fake `ctr` in `dir` that records its arguments and answers from the `n`th call on.
    fn fake_ctr(dir: &Path, answer_from: u32) -> PathBuf {
        let path = dir.join("ctr");
        let script = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" > '{dir}/args'\nn=$(cat '{dir}/count' 2>/dev/null || echo 0)\nn=$((n + 1))\necho $n > '{dir}/count'\nif [ $n -ge {answer_from} ]; then printf '%s' '{ANSWER}'; exit 0; fi\nprintf 'Client:\\n  Version:  1.7.24~ds1\\n'\necho 'ctr: failed to dial \"/s\": connection refused' >&2\nexit 1\n",
            dir = dir.display()
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn the_server_version_is_read_from_its_part() {
        assert_eq!(server_version(ANSWER).as_deref(), Some("1.7.24~ds2"));
        assert_eq!(server_version("Client:\n  Version:  1.7.24\n"), None);
        assert_eq!(server_version("Server:\n  Version:\n"), None);
        assert_eq!(server_version(""), None);
    }

    #[test]
    fn an_answer_ends_the_wait_with_the_attempts_it_took() {
        let dir = tempfile::tempdir().unwrap();
        let ctr = fake_ctr(dir.path(), 3);
        let socket = Path::new("/run/user/1000/containerd/containerd.sock");
        let ready = wait_ready(&ctr, socket, Duration::from_secs(20)).unwrap();
        assert_eq!((ready.attempts, ready.version.as_str()), (3, "1.7.24~ds2"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("args")).unwrap(),
            "--address /run/user/1000/containerd/containerd.sock version\n"
        );
    }

    #[test]
    fn no_answer_before_the_deadline_names_the_command_and_the_last_error() {
        let dir = tempfile::tempdir().unwrap();
        let ctr = fake_ctr(dir.path(), u32::MAX);
        let err = wait_ready(&ctr, Path::new("/s"), Duration::from_millis(300)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "containerd did not answer `{} --address /s version` within 0.3 s: ctr: failed to dial \"/s\": connection refused",
                ctr.display()
            )
        );
    }

    #[test]
    fn a_hanging_ctr_is_cut_short_and_said_so() {
        let dir = tempfile::tempdir().unwrap();
        let ctr = dir.path().join("ctr");
        std::fs::write(&ctr, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&ctr, std::fs::Permissions::from_mode(0o755)).unwrap();
        let begun = Instant::now();
        let err = wait_ready(&ctr, Path::new("/s"), Duration::from_millis(100)).unwrap_err();
        assert!(begun.elapsed() < Duration::from_secs(10));
        assert!(
            err.to_string()
                .ends_with("within 0.1 s: no attempt finished within 1 s"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_ctr_is_an_error_naming_it() {
        let err = wait_ready(
            Path::new("/nonexistent/ctr"),
            Path::new("/s"),
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(matches!(err, NotReady::Process(_)), "{err:?}");
        assert!(err.to_string().contains("/nonexistent/ctr"), "{err}");
    }
}
