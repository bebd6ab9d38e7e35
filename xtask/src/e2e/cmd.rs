//! Commands run inside a booted box through `nsenter -a -t INIT`, as root or as a user
//! (`setpriv --reuid --regid --init-groups`), always with a clean environment (`env -i`), in the
//! home directory, with a deadline, and recorded in the box's transcript.

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
        let mut shown = String::from("as root:");
        if let Some((user, session)) = &self.user {
            cmd.args(["setpriv", "--reuid", &user.uid.to_string()])
                .args(["--regid", &user.gid.to_string(), "--init-groups"]);
            shown = format!("as {} ({session:?}):", user.name);
        }
        let home = self
            .env
            .iter()
            .find(|(k, _)| k == "HOME")
            .map(|(_, v)| v.clone());
        cmd.args(["env", "-i"]);
        if let Some(home) = home {
            cmd.arg(format!("--chdir={home}"));
        }
        cmd.args(self.env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.args(&self.argv);
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
pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}
