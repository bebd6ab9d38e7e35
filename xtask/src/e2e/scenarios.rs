//! The end-to-end scenarios. Each one runs in a fresh box prepared by
//! `NspawnBox::prepare` (module `box`) (users `dev` with subordinate ids and
//! linger, `nosub` without subordinate ids; system Docker masked; the binary installed), after
//! its optional `setup` hook changed the tree before boot.
//!
//! To add a scenario: write `fn name(cx: &mut Ctx<'_>) -> Result<()>` and list it in [`all`].
//! Put what is worth seeing in the suite's output in `cx.note(...)`; everything run in the box is
//! in the transcript anyway.

use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, bail, ensure};

use super::r#box::{BINARY_IN_BOX, BoxSpec, BoxUser, Cgroup, NspawnBox, Session};
use super::cmd::{BoxCmd, indent};
use super::report::CheckReport;
use super::tree::Release;
use crate::util::{self, Captured, fmt_duration};

/// A named scenario.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Name, also the box's name and run directory; FILTER matches it.
    pub name: &'static str,
    /// One line for `--list`.
    pub about: &'static str,
    /// Changes to the prepared tree before boot.
    pub setup: Option<fn(&NspawnBox) -> Result<()>>,
    /// The test itself, in the booted box.
    pub run: fn(&mut Ctx<'_>) -> Result<()>,
    /// The cgroup layout this scenario always runs on (`None`: `--cgroup`'s).
    pub cgroup: Option<Cgroup>,
    /// The Debian release this scenario always runs on (`None`: `--release`'s).
    pub release: Option<Release>,
}

impl Scenario {
    /// The box this scenario runs in, given the command line's.
    pub fn spec(&self, default: BoxSpec) -> BoxSpec {
        BoxSpec {
            release: self.release.unwrap_or(default.release),
            cgroup: self.cgroup.unwrap_or(default.cgroup),
        }
    }
}

/// What a scenario gets: the booted box, its users, and a place for notes.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The booted box.
    pub bx: &'a NspawnBox,
    /// The prepared user: subordinate ids, linger, running manager.
    pub dev: BoxUser,
    /// A user without subordinate ids.
    pub nosub: BoxUser,
    /// Lines printed under the scenario's result.
    pub notes: Vec<String>,
}

impl<'a> Ctx<'a> {
    /// Looks up the standard users in the box.
    pub fn new(bx: &'a NspawnBox) -> Result<Self> {
        Ok(Ctx {
            bx,
            dev: bx.lookup_user("dev")?,
            nosub: bx.lookup_user("nosub")?,
            notes: Vec::new(),
        })
    }

    /// Adds a line to the scenario's output.
    pub fn note(&mut self, line: impl Into<String>) {
        self.notes.push(line.into());
    }

    /// Runs `rootless-setup ARGS` as `user`.
    pub fn tool(&self, user: &BoxUser, session: Session, args: &[&str]) -> Result<Captured> {
        let mut argv = vec![BINARY_IN_BOX];
        argv.extend_from_slice(args);
        self.bx
            .user(user, session, &argv)
            .timeout(Duration::from_secs(120))
            .run()
    }

    /// Runs `rootless-setup ARGS` as dev in a login environment; fails unless it exits `want`.
    pub fn dev_tool(&self, args: &[&str], want: i32) -> Result<Captured> {
        let out = self.tool(&self.dev, Session::Login, args)?;
        super::cmd::require_exit(&out, want, &format!("rootless-setup {}", args.join(" ")))?;
        Ok(out)
    }

    /// Fails naming what is left after an uninstall: anything `paths` (shell patterns, without
    /// spaces) names, any process of `user` whose command line matches `processes` (a `pgrep`
    /// pattern).
    pub fn require_gone(&self, user: &BoxUser, paths: &[String], processes: &str) -> Result<()> {
        let mut argv = vec![
            "sh".to_owned(),
            "-c".to_owned(),
            r#"uid=$1 pattern=$2; shift 2; for p in "$@"; do ls -d $p 2>/dev/null; done; pgrep -a -u "$uid" "$pattern"; true"#
                .to_owned(),
            "sh".to_owned(),
            user.uid.to_string(),
            processes.to_owned(),
        ];
        argv.extend(paths.iter().cloned());
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let left = self.bx.root(&argv).run()?;
        ensure!(
            left.stdout.trim().is_empty(),
            "left after uninstall:\n{}",
            indent(&left.stdout)
        );
        Ok(())
    }

    /// `docker ARGS` as dev in a login environment, with a 120 s deadline.
    pub fn docker(&self, args: &[&str]) -> BoxCmd<'a> {
        let mut argv = vec!["docker"];
        argv.extend_from_slice(args);
        self.bx
            .user(&self.dev, Session::Login, &argv)
            .timeout(Duration::from_secs(120))
    }

    /// Whether `user` lingers, by logind's record `/var/lib/systemd/linger/NAME`.
    pub fn linger_file_exists(&self, user: &BoxUser) -> Result<bool> {
        let file = format!("/var/lib/systemd/linger/{}", user.name);
        Ok(self.bx.root(&["test", "-e", &file]).run()?.success())
    }

    /// Runs `rootless-setup check --format json` as `user`, requires exit code `want_exit` and a
    /// schema-valid, complete report (noted as a tally plus every non-pass finding).
    pub fn check_json(
        &mut self,
        user: &BoxUser,
        session: Session,
        want_exit: i32,
    ) -> Result<CheckReport> {
        let out = self.tool(user, session, &["check", "--format", "json"])?;
        let report = match CheckReport::parse(&out.stdout) {
            Ok(report) => report,
            Err(err) => bail!(
                "check --format json as {} ({}): {err:#}\n{}{}",
                user.name,
                out.describe_exit(),
                indent(&util::tail(&out.stdout, 15)),
                indent(&util::tail(&out.stderr, 15))
            ),
        };
        self.note(format!(
            "check as {} ({session:?}): {} in {}",
            user.name,
            report.tally(),
            fmt_duration(out.elapsed)
        ));
        for line in report.non_pass_lines() {
            let line = format!("  {line}");
            if !self.notes.contains(&line) {
                self.note(line);
            }
        }
        report.require_complete()?;
        ensure!(
            out.code == Some(want_exit),
            "check --format json: {}, want exit {want_exit}\n{}",
            out.describe_exit(),
            indent(&out.stderr)
        );
        ensure!(
            report.user == user.name,
            "report says user {:?}, want {:?}",
            report.user,
            user.name
        );
        ensure!(
            report.uid == u64::from(user.uid),
            "report says uid {}, want {}",
            report.uid,
            user.uid
        );
        Ok(report)
    }
}

/// Every scenario, in run order.
pub fn all() -> Vec<Scenario> {
    let mut all = vec![
        Scenario {
            name: "engine-recipe",
            about: "Debian's dockerd-rootless.sh runs as dev and `docker run` works (no tool involved)",
            setup: None,
            run: engine_recipe,
            cgroup: None,
            release: None,
        },
        Scenario {
            name: "check-ready",
            about: "prepared user dev in a login session: check exits 0, JSON complete, no fail",
            setup: None,
            run: check_ready,
            cgroup: None,
            release: None,
        },
        Scenario {
            name: "check-nosub",
            about: "user without /etc/subuid and /etc/subgid lines: exit 1, subid.uid/gid fail",
            setup: Some(|bx| bx.enable_linger("nosub")),
            run: check_nosub,
            cgroup: None,
            release: None,
        },
        Scenario {
            name: "check-no-session",
            about: "dev without XDG_RUNTIME_DIR/DBUS_SESSION_BUS_ADDRESS (as after su): exit 1",
            setup: None,
            run: check_no_session,
            cgroup: None,
            release: None,
        },
    ];
    all.extend(super::install::scenarios());
    all.extend(super::admin::scenarios());
    all.extend(super::podman::scenarios());
    all.extend(super::repair::scenarios());
    all.extend(super::faults::scenarios());
    all.extend(super::containerd::scenarios());
    all.extend(super::package::scenarios());
    all.extend(super::enter::scenarios());
    all.extend(super::ansible::scenarios());
    all.extend(super::json::scenarios());
    all.extend(super::remote::scenarios());
    all
}

/// (a) The prepared user in a login-like environment is ready.
fn check_ready(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let report = cx.check_json(&dev, Session::Login, 0)?;
    ensure!(report.ready, "report is not ready");
    // The same from a real logind session (su -l): the process sits in session-cN.scope.
    let pam = cx.check_json(&dev, Session::Pam, 0)?;
    ensure!(pam.ready, "report from the su -l session is not ready");
    ensure!(
        report.distribution.starts_with("debian"),
        "distribution {:?}",
        report.distribution
    );
    let human = cx.tool(&dev, Session::Login, &["check"])?;
    ensure!(
        human.code == Some(0),
        "check (human): {}, want exit 0\n{}{}",
        human.describe_exit(),
        indent(&human.stdout),
        indent(&human.stderr)
    );
    Ok(())
}

/// (b) No subordinate ids: the subid checks fail and so does the run.
fn check_nosub(cx: &mut Ctx<'_>) -> Result<()> {
    let nosub = cx.nosub.clone();
    let report = cx.check_json(&nosub, Session::Login, 1)?;
    report.require_status("subid.uid", "fail")?;
    report.require_status("subid.gid", "fail")?;
    let human = cx.tool(&nosub, Session::Login, &["check"])?;
    ensure!(
        human.code == Some(1),
        "check (human): {}, want exit 1",
        human.describe_exit()
    );
    Ok(())
}

/// (c) Without a login session (as after `su`): the session checks fail and the human output
/// points to `machinectl shell`.
fn check_no_session(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let report = cx.check_json(&dev, Session::Bare, 1)?;
    report.require_status("session.runtime-dir", "fail")?;
    report.require_status("session.bus", "fail")?;
    let human = cx.tool(&dev, Session::Bare, &["check", "--color", "never"])?;
    ensure!(
        human.code == Some(1),
        "check (human): {}, want exit 1",
        human.describe_exit()
    );
    ensure!(
        human.stdout.contains("machinectl shell") || human.stderr.contains("machinectl shell"),
        "the human output does not mention `machinectl shell`:\n{}",
        indent(&human.stdout)
    );
    Ok(())
}

/// The last 60 lines of the journal of the user unit `unit` (any user's), read as root.
pub fn user_unit_journal(cx: &Ctx<'_>, unit: &str) -> Result<String> {
    Ok(cx
        .bx
        .root(&[
            "journalctl",
            "--no-pager",
            "-n",
            "60",
            &format!("_SYSTEMD_USER_UNIT={unit}"),
        ])
        .run()?
        .stdout)
}

/// Where the rootless daemon's socket is for `user`.
pub fn docker_host(user: &BoxUser) -> String {
    format!("unix:///run/user/{}/docker.sock", user.uid)
}

/// Polls `docker version` as `user` until the daemon answers with its version; fails early
/// when `unit` (a user unit running the daemon) is no longer active, with its journal.
pub fn wait_for_docker(
    cx: &Ctx<'_>,
    user: &BoxUser,
    unit: &str,
    deadline: Duration,
) -> Result<Duration> {
    let start = Instant::now();
    let host = docker_host(user);
    loop {
        let info = cx
            .bx
            .user(
                user,
                Session::Login,
                &["docker", "version", "--format", "{{.Server.Version}}"],
            )
            .env("DOCKER_HOST", &host)
            .quiet()
            .run()?;
        // Newer clients exit 0 from `docker info` without a daemon: require a server version.
        if info.success() && !info.stdout.trim().is_empty() {
            return Ok(start.elapsed());
        }
        let state = cx
            .bx
            .user(
                user,
                Session::Login,
                &["systemctl", "--user", "is-active", unit],
            )
            .quiet()
            .run()?;
        let state = state.stdout.trim();
        if !matches!(state, "active" | "activating") || start.elapsed() > deadline {
            let journal = user_unit_journal(cx, unit)?;
            bail!(
                "the daemon did not answer after {} (unit {unit} is {state}); last `docker version`:\n{}\
                 journal:\n{}",
                fmt_duration(start.elapsed()),
                indent(&info.stderr),
                indent(&journal)
            );
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// (d) The real rootless engine works in the box, without our tool: Debian's
/// `dockerd-rootless.sh` under `systemd-run --user`, an image from a busybox tarball, and
/// `docker run`. This is the recipe the install scenarios build on.
fn engine_recipe(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let host = docker_host(&dev);
    cx.bx.write_busybox_image("/opt/e2e/busybox.tar")?;
    let unit = "e2e-dockerd.service";
    cx.bx
        .user(
            &dev,
            Session::Login,
            &[
                "systemd-run",
                "--user",
                "--quiet",
                &format!("--unit={unit}"),
                "--setenv=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "/usr/share/docker.io/contrib/dockerd-rootless.sh",
            ],
        )
        .success()?;
    let waited = wait_for_docker(cx, &dev, unit, Duration::from_secs(90))?;
    let docker = |args: &[&str]| {
        let mut argv = vec!["docker"];
        argv.extend_from_slice(args);
        cx.bx
            .user(&dev, Session::Login, &argv)
            .env("DOCKER_HOST", &host)
            .timeout(Duration::from_secs(120))
            .success()
    };
    let info = docker(&[
        "info",
        "--format",
        "{{.ServerVersion}} {{.Driver}} {{.CgroupDriver}} cgroup{{.CgroupVersion}} {{.SecurityOptions}}",
    ])?;
    cx.note(format!(
        "dockerd answered after {}: {}",
        fmt_duration(waited),
        info.stdout.trim()
    ));
    docker(&["import", "/opt/e2e/busybox.tar", "e2e/busybox:latest"])?;
    let start = Instant::now();
    let run = docker(&[
        "run",
        "--rm",
        "e2e/busybox",
        "sh",
        "-c",
        "echo hello-from-box",
    ])?;
    ensure!(
        run.stdout.contains("hello-from-box"),
        "docker run printed {:?}, want hello-from-box",
        run.stdout
    );
    cx.note(format!(
        "docker run --rm e2e/busybox: {}",
        fmt_duration(start.elapsed())
    ));
    Ok(())
}
