//! The repair scenario: the box broken as root in four ways that stay inside the box (dev's
//! line removed from `/etc/subuid` and, in `/etc/subgid`, replaced by one overlapping another
//! user's range; `newuidmap` without its setuid bit, linger
//! off with dev's user manager stopped, `net.ipv4.ping_group_range` of the box's own network
//! namespace set to `1 0`), then, as dev with passwordless sudo: `rootless-setup fix` prints a
//! script with a block for each, `fix --apply --yes` runs it through `sudo -- sh -s` and checks
//! again, `check` passes, a second `fix` has nothing left to run, and `install --yes` runs a
//! container. On the way, root prints (without applying) the script for another user with
//! `fix --user nosub`, and is refused one for the system account `daemon` (exit 2, no script).

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};

use super::r#box::{Cgroup, NspawnBox, Session};
use super::cmd::indent;
use super::scenarios::{Ctx, Scenario};
use crate::util;

/// Where the busybox image tarball is put in the box.
const IMAGE_TAR: &str = "/opt/e2e/busybox.tar";
/// Where the printed script is kept in the box (on disk, so the host can read it too).
const SCRIPT: &str = "/var/tmp/rootless-setup-fix.sh";

/// The repair scenarios, for [`super::scenarios::all`].
pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "fix-repair",
        about: "no subids, newuidmap not setuid, linger off, ping_group_range 1 0: fix --apply --yes repairs; check passes; install runs a container",
        setup: Some(setup),
        run: repair,
        // On the v1 layout the box's systemd gets no cgroup-empty notification, so a stopped
        // user manager hangs in final-sigkill until its stop timeout; v2 notices at once.
        cgroup: Some(Cgroup::V2),
        release: None,
    }]
}

/// Before boot: dev loses its subordinate ids, newuidmap its setuid bit; dev may sudo without
/// a password; the test image is put in place.
fn setup(bx: &NspawnBox) -> Result<()> {
    bx.strip_subids("dev")?;
    // In /etc/subgid dev gets a range back, one that overlaps nosub's: fix must remove dev's
    // line (never nosub's) and hand out a block clear of both.
    let subgid = bx.path("/etc/subgid");
    let mut text = fs::read_to_string(&subgid).unwrap_or_default();
    text.push_str("nosub:150000:65536\ndev:100000:65536\n");
    fs::write(&subgid, text)?;
    bx.note("/etc/subgid: nosub:150000:65536, then dev:100000:65536 (overlapping it)");
    let newuidmap = bx.path("/usr/bin/newuidmap");
    fs::set_permissions(&newuidmap, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("chmod u-s {}", newuidmap.display()))?;
    bx.note("chmod 0755 /usr/bin/newuidmap (setuid bit removed)");
    bx.allow_sudo("dev")?;
    bx.write_busybox_image(IMAGE_TAR)
}

/// After boot: linger off (waiting until dev's manager is gone) and ping sockets off.
fn break_live(cx: &mut Ctx<'_>) -> Result<()> {
    let bx = cx.bx;
    bx.root(&["sysctl", "-w", "net.ipv4.ping_group_range=1 0"])
        .success()?;
    bx.root(&["loginctl", "disable-linger", "dev"]).success()?;
    let unit = format!("user@{}.service", cx.dev.uid);
    let start = Instant::now();
    loop {
        let state = bx.root(&["systemctl", "is-active", &unit]).quiet().run()?;
        if !matches!(state.stdout.trim(), "active" | "deactivating" | "reloading") {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            bail!(
                "{unit} still {} a minute after disable-linger",
                state.stdout.trim()
            );
        }
        thread::sleep(Duration::from_millis(200));
    }
    cx.note(format!(
        "broken: dev without subuids and with a subgid range overlapping nosub's, newuidmap 0755, linger off ({unit} stopped in {}), ping_group_range 1 0",
        util::fmt_duration(start.elapsed())
    ));
    Ok(())
}

fn repair(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    break_live(cx)?;
    let before = cx.check_json(&dev, Session::Login, 1)?;
    for (id, status) in [
        ("subid.uid", "fail"),
        ("subid.gid", "fail"),
        ("uidmap", "fail"),
        ("session.linger", "warn"),
        ("network.ping", "warn"),
    ] {
        before.require_status(id, status)?;
    }

    printed_script(cx)?;
    fix_as_root(cx)?;
    applied(cx)?;
    repaired(cx)
}

/// The script, printed for review: a block per broken check, and it parses.
fn printed_script(cx: &mut Ctx<'_>) -> Result<()> {
    let printed = cx.dev_tool(&["fix"], 0)?;
    let script = printed.stdout.clone();
    for block in [
        "# --- session.linger (warn)",
        "# --- subid.uid (fail)",
        "# --- subid.gid (fail)",
        "# --- uidmap (fail)",
        "network.ping (warn)",
    ] {
        ensure!(
            script.contains(block),
            "the script has no block `{block}`:\n{script}"
        );
    }
    ensure!(
        script.contains("chmod u+s /usr/bin/newuidmap")
            && script.contains("usermod --add-subuids 231072-296607 dev")
            && script.contains("expect_line /etc/subgid ")
            && script.contains("usermod --add-subgids 231072-296607 dev")
            && script.contains("loginctl enable-linger dev"),
        "the script lacks a repair:\n{script}"
    );
    fs::write(cx.bx.path(SCRIPT), &script)?;
    cx.bx.root(&["sh", "-n", SCRIPT]).success()?;
    if util::which("shellcheck").is_some() {
        let lint = std::process::Command::new("shellcheck")
            .args(["-s", "sh"])
            .arg(cx.bx.path(SCRIPT))
            .output()?;
        ensure!(
            lint.status.success(),
            "shellcheck rejects the script:\n{}",
            String::from_utf8_lossy(&lint.stdout)
        );
    }
    let blocks = script.matches("\n\t# --- ").count();
    cx.note(format!(
        "fix printed {} lines, {blocks} blocks",
        script.lines().count()
    ));
    Ok(())
}

/// As root for another user (not applied): the file-based blocks, and the session checks
/// listed as not covered.
fn fix_as_root(cx: &mut Ctx<'_>) -> Result<()> {
    let admin = cx
        .bx
        .root(&[super::r#box::BINARY_IN_BOX, "fix", "--user", "nosub"])
        .success()?;
    for needle in [
        "not covered, because these checks need nosub's own login session",
        "usermod --add-subuids",
        "loginctl enable-linger nosub",
    ] {
        ensure!(
            admin.stdout.contains(needle),
            "fix --user nosub (as root) lacks `{needle}`:\n{}",
            admin.stdout
        );
    }
    cx.note("fix --user nosub as root: subid and linger blocks, session checks not covered");

    // As root for a system account: refused with what to do instead, and no script.
    let daemon = cx
        .bx
        .root(&[super::r#box::BINARY_IN_BOX, "fix", "--user", "daemon"])
        .run()?;
    ensure!(
        daemon.code == Some(2)
            && daemon.stdout.is_empty()
            && daemon
                .stderr
                .starts_with("error: daemon (uid 1) is a system account: uids below 1000")
            && daemon
                .stderr
                .contains("help: create a dedicated login user"),
        "fix --user daemon (as root): want exit 2, no script and the refusal, got {}:\n{}{}",
        daemon.describe_exit(),
        indent(&daemon.stdout),
        indent(&daemon.stderr)
    );
    cx.note("fix --user daemon as root: exit 2, no script, refused as a system account");
    Ok(())
}

/// Applied as dev, through sudo: the checks that changed are shown and the host is ready.
fn applied(cx: &mut Ctx<'_>) -> Result<()> {
    let started = Instant::now();
    let applied = cx.dev_tool(&["fix", "--apply", "--yes"], 0)?;
    let table = applied
        .stdout
        .split_once("\nafter the script:\n")
        .map(|(_, t)| t.to_owned())
        .with_context(|| format!("fix --apply printed no table:\n{}", applied.stdout))?;
    for id in [
        "subid.uid",
        "subid.gid",
        "uidmap",
        "session.linger",
        "network.ping",
    ] {
        ensure!(
            table
                .lines()
                .any(|l| l.split_whitespace().next() == Some(id) && l.trim_end().ends_with("pass")),
            "the table does not show {id} passing now:\n{table}"
        );
    }
    cx.note(format!(
        "fix --apply --yes: {} — changed:\n{}",
        util::fmt_duration(started.elapsed()),
        indent(table.trim_end())
    ));

    // The host as the script left it.
    let subuid = cx.bx.root(&["grep", "^dev:", "/etc/subuid"]).success()?;
    let subgid = cx.bx.root(&["grep", "^dev:", "/etc/subgid"]).success()?;
    ensure!(
        subuid.stdout.trim() == subgid.stdout.trim(),
        "different blocks: {} / {}",
        subuid.stdout.trim(),
        subgid.stdout.trim()
    );
    let nosub = cx.bx.root(&["grep", "^nosub:", "/etc/subgid"]).success()?;
    ensure!(
        nosub.stdout.trim() == "nosub:150000:65536",
        "nosub's line changed: {}",
        nosub.stdout.trim()
    );
    let mode = cx
        .bx
        .root(&["stat", "-c", "%a %U", "/usr/bin/newuidmap"])
        .success()?;
    ensure!(
        mode.stdout.trim() == "4755 root",
        "newuidmap is {}",
        mode.stdout.trim()
    );
    cx.note(format!(
        "after: /etc/subuid {}, newuidmap {}",
        subuid.stdout.trim(),
        mode.stdout.trim()
    ));
    Ok(())
}

/// After the repair: check passes, another fix has nothing left to run, and the engine installs.
fn repaired(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let after = cx.check_json(&dev, Session::Login, 0)?;
    ensure!(after.ready, "check is not ready after the repair");
    for id in [
        "subid.uid",
        "subid.gid",
        "uidmap",
        "session.linger",
        "network.ping",
        "userns.probe",
        "engine.smoke",
    ] {
        after.require_status(id, "pass")?;
    }
    let again = cx.dev_tool(&["fix"], 0)?;
    for command in ["usermod", "chmod u+s", "loginctl", "check_sysctl"] {
        ensure!(
            !again.stdout.contains(&format!("\t{command}")),
            "a second fix still runs {command}:\n{}",
            again.stdout
        );
    }

    // The engine installs and runs a container.
    let install = cx.dev_tool(&["install", "--yes"], 0)?;
    cx.note(format!(
        "install --yes: {}",
        util::fmt_duration(install.elapsed)
    ));
    let docker = |args: &[&str]| cx.docker(args).success();
    docker(&["import", IMAGE_TAR, "e2e/busybox:latest"])?;
    let run = docker(&[
        "run",
        "--rm",
        "e2e/busybox",
        "sh",
        "-c",
        "echo repaired-by-rootless-setup-fix",
    ])?;
    ensure!(
        run.stdout.contains("repaired-by-rootless-setup-fix"),
        "docker run printed {:?}",
        run.stdout
    );
    cx.note("docker run after install: ok");
    Ok(())
}
