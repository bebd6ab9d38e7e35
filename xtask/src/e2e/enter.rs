//! The `enter` scenario: `rootless-setup enter` against a rootless Docker that install started,
//! as the unprivileged `dev`.
//!
//! - `enter-docker` (Debian 13, cgroup v2): install → `child_pid` and `docker.pid` name processes
//!   in the same namespaces → `enter -- id -u` prints 0 → the engine's network namespace has
//!   rootlesskit's `tap0` (the host's has not) → the working directory is kept (home when it is
//!   not there inside) → without CMD, dev's shell runs → CMD's exit status and a signal's 128+N
//!   come through → an unknown CMD exits 127 → a pid file naming PID 1, or a symlink, is refused
//!   → with the engine stopped, exit 1 and the message → uninstall leaves nothing.

use std::time::Instant;

use anyhow::{Result, ensure};

use super::r#box::{BINARY_IN_BOX, Cgroup, Session};
use super::cmd::indent;
use super::scenarios::{Ctx, Scenario};
use super::tree::Release;
use crate::util::{Captured, fmt_duration};

/// The enter scenarios, for [`super::scenarios::all`].
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "enter-docker",
            about: "install, then enter: uid 0 inside, tap0, exit status, PID 1 refused, engine stopped: exit 1",
            setup: None,
            run: |cx| enter_docker(cx, CHILD_PID),
            cgroup: Some(Cgroup::V2),
            release: Some(Release::Trixie),
        },
        Scenario {
            name: "enter-docker-bookworm",
            about: "the same on Debian 12, whose dockerd-rootless.sh (20.10) leaves only docker.pid",
            setup: None,
            run: |cx| enter_docker(cx, DOCKER_PID),
            cgroup: Some(Cgroup::V2),
            release: Some(Release::Bookworm),
        },
    ]
}

/// rootlesskit's child, in the state directory newer `dockerd-rootless.sh` give it.
const CHILD_PID: &str = "dockerd-rootless/child_pid";
/// dockerd's own pid file.
const DOCKER_PID: &str = "docker.pid";

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

/// The scenario, where enter reads `pid_file` (under `$XDG_RUNTIME_DIR`).
fn enter_docker(cx: &mut Ctx<'_>, pid_file: &str) -> Result<()> {
    let started = Instant::now();
    cx.dev_tool(&["install", "--yes"], 0)?;
    cx.note(format!(
        "install --yes: {}",
        fmt_duration(started.elapsed())
    ));
    let run = format!("/run/user/{}", cx.dev.uid);
    which_pid(cx, &run, pid_file)?;
    let pid_file = format!("{run}/{pid_file}");

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
    directories(cx)?;
    let shell = dev_sh(
        cx,
        &format!("echo 'echo in-the-shell $(id -u)' | {BINARY_IN_BOX} enter"),
    )?;
    ensure!(
        shell.stdout.trim() == "in-the-shell 0",
        "enter without CMD (dev's login shell reading stdin) printed {:?}",
        shell.stdout
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
/// must be in the same user, mount and network namespaces, and not in dev's; `child_pid` is
/// there only where enter is to read it (`pid_file`).
fn which_pid(cx: &mut Ctx<'_>, run: &str, pid_file: &str) -> Result<()> {
    let describe = |file: &str| {
        format!(
            "if [ -e {run}/{file} ]; then p=$(cat {run}/{file}); \
             echo \"$(ps -o comm= -p $p)\" $(readlink /proc/$p/ns/user /proc/$p/ns/mnt /proc/$p/ns/net); \
             else echo -; fi"
        )
    };
    let seen = dev_sh(
        cx,
        &format!(
            "{}; {}; p=$$; echo sh $(readlink /proc/$p/ns/user /proc/$p/ns/mnt /proc/$p/ns/net)",
            describe(CHILD_PID),
            describe(DOCKER_PID)
        ),
    )?;
    let lines: Vec<Vec<&str>> = seen
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let namespaces = |i: usize| lines.get(i).filter(|l| l.len() == 4).map(|l| &l[1..]);
    let (child, docker, own) = (namespaces(0), namespaces(1), namespaces(2));
    let own_namespaces =
        |ns: &[&str]| own.is_some_and(|own| ns.iter().zip(own).all(|(a, b)| a != b));
    ensure!(
        lines.get(1).and_then(|l| l.first()) == Some(&"dockerd")
            && docker.is_some_and(own_namespaces)
            && if pid_file == CHILD_PID {
                child == docker
            } else {
                lines.first() == Some(&vec!["-"])
            },
        "{CHILD_PID} and {DOCKER_PID} (command, user, mnt, net; `-` for no file; the last line \
         is dev's shell), with enter to read {pid_file}:\n{}",
        indent(&seen.stdout)
    );
    cx.note(if pid_file == CHILD_PID {
        "child_pid names rootlesskit's child, docker.pid dockerd: in the same namespaces"
    } else {
        "no child_pid (the script sets no --state-dir): docker.pid names dockerd"
    });
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

/// The command starts in the directory enter ran in; one the engine's mount namespace lacks (a
/// directory made in `/etc` after rootlesskit copied `/etc` up) falls back to home, with a
/// warning.
fn directories(cx: &mut Ctx<'_>) -> Result<()> {
    let pwd = enter(cx, &["pwd"], 0)?;
    ensure!(
        pwd.stdout.trim() == cx.dev.home,
        "pwd inside printed {:?}, want the directory enter ran in, {}",
        pwd.stdout,
        cx.dev.home
    );
    let late = "/etc/e2e-made-after-start";
    cx.bx
        .root(&["sh", "-c", &format!("mkdir {late} && chmod 0777 {late}")])
        .success()?;
    let moved = dev_sh(cx, &format!("cd {late} && {BINARY_IN_BOX} enter -- pwd"))?;
    ensure!(
        moved.stdout.trim() == cx.dev.home
            && moved.stderr.contains(&format!(
                "{late} does not exist in the engine's mount namespace; starting in {}",
                cx.dev.home
            )),
        "enter from {late}:\n{}{}",
        indent(&moved.stdout),
        indent(&moved.stderr)
    );
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
