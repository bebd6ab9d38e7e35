//! The `enter` scenario: `rootless-setup enter` against a rootless Docker that install started,
//! as the unprivileged `dev`.
//!
//! - `enter-docker` (Debian 13, cgroup v2): install → `enter -- id -u` prints 0 → the engine's
//!   network namespace has rootlesskit's `tap0` (the host's has not) → the working directory is
//!   kept → CMD's exit status and a signal's 128+N come through → an unknown CMD exits 127 → a
//!   pid file naming PID 1, or a symlink, is refused → with the engine stopped, exit 1 and the
//!   message → uninstall leaves nothing.

use std::time::Instant;

use anyhow::{Result, ensure};

use super::r#box::{BINARY_IN_BOX, Cgroup, Session};
use super::cmd::indent;
use super::scenarios::{Ctx, Scenario};
use super::tree::Release;
use crate::util::{Captured, fmt_duration};

/// The enter scenarios, for [`super::scenarios::all`].
pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "enter-docker",
        about: "install, then enter: uid 0 inside, tap0, exit status, PID 1 refused, engine stopped: exit 1",
        setup: None,
        run: enter_docker,
        cgroup: Some(Cgroup::V2),
        release: Some(Release::Trixie),
    }]
}

/// `sh -c SCRIPT` as dev; fails unless it succeeds.
fn dev_sh(cx: &Ctx<'_>, script: &str) -> Result<Captured> {
    let dev = cx.dev.clone();
    cx.bx
        .user(&dev, Session::Login, &["sh", "-c", script])
        .success()
}

/// `rootless-setup enter -- CMD…` as dev; fails unless it exits `want`.
fn enter(cx: &Ctx<'_>, cmd: &[&str], want: i32) -> Result<Captured> {
    let mut args = vec!["enter", "--"];
    args.extend_from_slice(cmd);
    cx.dev_tool(&args, want)
}

fn enter_docker(cx: &mut Ctx<'_>) -> Result<()> {
    let started = Instant::now();
    cx.dev_tool(&["install", "--yes"], 0)?;
    cx.note(format!(
        "install --yes: {}",
        fmt_duration(started.elapsed())
    ));
    let run = format!("/run/user/{}", cx.dev.uid);
    let pid_file = format!("{run}/dockerd-rootless/child_pid");
    which_pid(cx, &run, &pid_file)?;

    let started = Instant::now();
    let id = enter(cx, &["id", "-u"], 0)?;
    ensure!(
        id.stdout.trim() == "0",
        "id -u inside printed {:?}",
        id.stdout
    );
    cx.note(format!(
        "enter -- id -u: 0 in {}",
        fmt_duration(started.elapsed())
    ));
    the_engines_network(cx)?;
    let pwd = enter(cx, &["pwd"], 0)?;
    ensure!(
        pwd.stdout.trim() == cx.dev.home,
        "pwd inside printed {:?}, want the directory enter ran in, {}",
        pwd.stdout,
        cx.dev.home
    );
    exit_statuses(cx)?;
    hostile_pid_files(cx, &pid_file)?;

    dev_sh(cx, "systemctl --user stop docker")?;
    let stopped = enter(cx, &["id", "-u"], 1)?;
    let want = "error: no rootless docker is running for you (";
    ensure!(
        stopped.stderr.starts_with(want)
            && stopped.stderr.contains("systemctl --user start docker"),
        "with the engine stopped, enter said:\n{}want {want}… and the start command",
        indent(&stopped.stderr)
    );
    cx.note(format!(
        "engine stopped: {}",
        stopped.stderr.lines().next().unwrap_or_default()
    ));

    cx.dev_tool(&["uninstall", "--yes"], 0)?;
    super::install::require_nothing_left(cx, &cx.dev, "default")
}

/// Which pid to enter: rootlesskit's `child_pid` names its child (`exe`), which runs the
/// script that `exec`s dockerd; dockerd writes its own pid to `docker.pid` (the guide's). Both
/// must be in the same user, mount and network namespaces, and not in dev's.
fn which_pid(cx: &mut Ctx<'_>, run: &str, pid_file: &str) -> Result<()> {
    let describe = |pid: &str| {
        format!(
            "echo \"$(ps -o comm= -p {pid})\" $(readlink /proc/{pid}/ns/user /proc/{pid}/ns/mnt /proc/{pid}/ns/net)"
        )
    };
    let both = dev_sh(
        cx,
        &format!(
            "{}; {}; {}",
            describe(&format!("$(cat {pid_file})")),
            describe(&format!("$(cat {run}/docker.pid)")),
            describe("$$")
        ),
    )?;
    let lines: Vec<Vec<&str>> = both
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    ensure!(
        lines.len() == 3
            && lines.iter().all(|l| l.len() == 4)
            && lines[1][0] == "dockerd"
            && lines[0][1..] == lines[1][1..]
            && lines[0][1..]
                .iter()
                .zip(&lines[2][1..])
                .all(|(a, b)| a != b),
        "child_pid's and docker.pid's processes are not in the same namespaces of their own \
         (command, user, mnt, net; the last line is dev's shell):\n{}",
        indent(&both.stdout)
    );
    cx.note(format!(
        "child_pid names {}, docker.pid {}: the same namespaces",
        lines[0][0], lines[1][0]
    ));
    Ok(())
}

/// Inside, the network is rootlesskit's (`tap0`); outside it is not.
fn the_engines_network(cx: &mut Ctx<'_>) -> Result<()> {
    let inside = enter(cx, &["cat", "/proc/net/dev"], 0)?;
    let outside = dev_sh(cx, "cat /proc/net/dev")?;
    let names = |dev: &str| -> Vec<String> {
        dev.lines()
            .filter_map(|l| l.split_once(':').map(|(name, _)| name.trim().to_owned()))
            .collect()
    };
    let (inside, outside) = (names(&inside.stdout), names(&outside.stdout));
    ensure!(
        inside.iter().any(|n| n == "tap0") && !outside.iter().any(|n| n == "tap0"),
        "tap0 should be inside only: inside {inside:?}, outside {outside:?}"
    );
    cx.note(format!("interfaces inside: {}", inside.join(" ")));
    Ok(())
}

/// CMD's status comes through; a signal shows as 128+N in the calling shell; a CMD that is not
/// there exits 127.
fn exit_statuses(cx: &mut Ctx<'_>) -> Result<()> {
    enter(cx, &["sh", "-c", "exit 7"], 7)?;
    let signalled = dev_sh(
        cx,
        &format!("{BINARY_IN_BOX} enter -- sh -c 'kill -TERM $$'; echo status=$?"),
    )?;
    ensure!(
        signalled.stdout.trim() == "status=143",
        "a CMD killed by SIGTERM: {:?}, want status=143",
        signalled.stdout
    );
    let missing = enter(cx, &["no-such-command-here"], 127)?;
    ensure!(
        missing
            .stderr
            .contains("could not run no-such-command-here"),
        "{}",
        missing.stderr
    );
    Ok(())
}

/// A pid file naming PID 1 (root's) or replaced by a symlink is refused, never entered.
fn hostile_pid_files(cx: &mut Ctx<'_>, pid_file: &str) -> Result<()> {
    let saved = format!("{pid_file}.saved");
    // rootlesskit writes it read-only; dev owns the directory.
    dev_sh(cx, &format!("mv {pid_file} {saved} && echo 1 > {pid_file}"))?;
    let pid1 = enter(cx, &["id", "-u"], 1)?;
    ensure!(
        pid1.stdout.is_empty()
            && pid1
                .stderr
                .contains("refusing to enter process 1, named by"),
        "a pid file naming PID 1:\n{}{}",
        indent(&pid1.stdout),
        indent(&pid1.stderr)
    );
    cx.note(format!(
        "pid file naming PID 1: {}",
        pid1.stderr.lines().next().unwrap_or_default()
    ));
    dev_sh(cx, &format!("ln -sf {saved} {pid_file}"))?;
    let link = enter(cx, &["id", "-u"], 1)?;
    ensure!(
        link.stderr.contains("it is a symbolic link"),
        "a symlinked pid file:\n{}",
        indent(&link.stderr)
    );
    dev_sh(cx, &format!("mv -f {saved} {pid_file}"))?;
    enter(cx, &["true"], 0)?;
    Ok(())
}
