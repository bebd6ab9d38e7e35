//! Commands run inside a booted box through `nsenter -a -t INIT`, as root or as a user
//! (`setpriv --reuid --regid --init-groups` with a clean, login-like environment, or `su -l` for a
//! real logind session), in the home directory, with a deadline, and recorded in the box's
//! transcript.

use std::process::Command;
use std::time::Duration;

use anyhow::{Result, bail};

use super::r#box::{BoxUser, NspawnBox, ROOT_PATH, Session, USER_PATH};
use crate::util::{self, Captured};

/// A command to run inside a box; see [`NspawnBox::root`] and [`NspawnBox::user`].
#[derive(Debug)]
pub struct BoxCmd<'b> {
    bx: &'b NspawnBox,
    user: Option<(BoxUser, Session)>,
    env: Vec<(String, String)>,
    argv: Vec<String>,
    timeout: Duration,
    quiet: bool,
}

impl<'b> BoxCmd<'b> {
    pub(super) fn new(bx: &'b NspawnBox, user: Option<(BoxUser, Session)>, argv: &[&str]) -> Self {
        let mut env = Vec::new();
        match &user {
            None => {
                env.push(("HOME".to_owned(), "/root".to_owned()));
                env.push(("PATH".to_owned(), ROOT_PATH.to_owned()));
            }
            // su -l sets up the environment.
            Some((_, Session::Pam)) => {}
            Some((u, session)) => {
                env.push(("HOME".to_owned(), u.home.clone()));
                env.push(("USER".to_owned(), u.name.clone()));
                env.push(("LOGNAME".to_owned(), u.name.clone()));
                env.push(("PATH".to_owned(), USER_PATH.to_owned()));
                if *session == Session::Login {
                    let run = format!("/run/user/{}", u.uid);
                    env.push((
                        "DBUS_SESSION_BUS_ADDRESS".to_owned(),
                        format!("unix:path={run}/bus"),
                    ));
                    env.push(("XDG_RUNTIME_DIR".to_owned(), run));
                }
            }
        }
        BoxCmd {
            bx,
            user,
            env,
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            timeout: Duration::from_secs(60),
            quiet: false,
        }
    }

    /// Sets (or replaces) an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The deadline after which the command is killed (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Leaves the command out of the transcript (for polling loops).
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Runs the command; any exit code is a result, only "could not run it" is an error.
    pub fn run(self) -> Result<Captured> {
        let Some(init) = self.bx.init_pid() else {
            bail!("box is not running");
        };
        let mut cmd = Command::new("nsenter");
        cmd.args(["-a", "-t", &init.to_string()]);
        let assignments = self.env.iter().map(|(k, v)| format!("{k}={v}"));
        let shown = match &self.user {
            None => {
                cmd.args(["env", "-i", "--chdir=/root"])
                    .args(assignments)
                    .args(&self.argv);
                "as root:".to_owned()
            }
            Some((user, Session::Pam)) => {
                // su -l opens a real logind session (pam_systemd) and sets the login
                // environment itself; only explicitly added variables are passed on.
                let mut words = vec!["exec".to_owned()];
                if !self.env.is_empty() {
                    words.push("env".to_owned());
                    words.extend(assignments.map(util::quote));
                }
                words.extend(self.argv.iter().map(util::quote));
                cmd.args(["env", "-i", &format!("PATH={ROOT_PATH}")]).args([
                    "su",
                    "-l",
                    &user.name,
                    "-c",
                    &words.join(" "),
                ]);
                format!("as {} (su -l):", user.name)
            }
            Some((user, session)) => {
                cmd.args(["setpriv", "--reuid", &user.uid.to_string()])
                    .args(["--regid", &user.gid.to_string(), "--init-groups"])
                    .args(["env", "-i", &format!("--chdir={}", user.home)])
                    .args(assignments)
                    .args(&self.argv);
                format!("as {} ({session:?}):", user.name)
            }
        };
        let argv_shown: Vec<String> = self.argv.iter().map(util::quote).collect();
        let seq = self.bx.next_seq();
        let out = util::capture(
            &mut cmd,
            &self.bx.run_dir().join("last.out"),
            &self.bx.run_dir().join("last.err"),
            self.timeout,
        )?;
        if !self.quiet {
            self.bx
                .record(&format!("[{seq}] {shown} {}", argv_shown.join(" ")), &out);
        }
        Ok(out)
    }

    /// Runs the command and requires exit code 0 (the error carries both outputs).
    pub fn success(self) -> Result<Captured> {
        let argv = self.argv.join(" ");
        let out = self.run()?;
        if !out.success() {
            bail!(
                "`{argv}` failed ({}):\n{}{}",
                out.describe_exit(),
                indent(&out.stdout),
                indent(&out.stderr)
            );
        }
        Ok(out)
    }
}

/// Indents every line by four spaces (for error messages that carry program output).
/// Fails unless `out` exited with `code`, showing `what` ran and both its streams.
pub fn require_exit(out: &Captured, code: i32, what: &str) -> Result<()> {
    anyhow::ensure!(
        out.code == Some(code),
        "{what}: {}, want exit {code}\nstdout:\n{}stderr:\n{}",
        out.describe_exit(),
        indent(&out.stdout),
        indent(&out.stderr)
    );
    Ok(())
}

pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}
