//! The admin scenario: root sets a rootless engine up for another user with `--user`.
//!
//! - `admin-user` (Debian 13, cgroup v2): as root, `install --user nosub --yes` for a user
//!   without subordinate ids and without linger — the fix script gives nosub its ids and turns
//!   linger on, nosub's user manager is started, and the install runs as nosub → nosub runs a
//!   container through the context → `status --user nosub --format json` is healthy, and the
//!   record and unit are nosub's → a second install changes nothing → `uninstall --user nosub
//!   --yes` leaves nothing of the install. Root without `--user`, and `--user` for root or a
//!   system account, are refused.

use anyhow::{Context as _, Result, ensure};

use super::r#box::{BINARY_IN_BOX, BoxUser, Cgroup, Session};
use super::cmd::{indent, require_exit};
use super::install::IMAGE_TAR;
use super::scenarios::{Ctx, Scenario};
use super::tree::Release;
use crate::util::{Captured, fmt_duration};

/// The admin scenarios, for [`super::scenarios::all`].
pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "admin-user",
        about: "root: install --user for a user without subids or linger → container → status → uninstall --user",
        setup: Some(|bx| bx.write_busybox_image(IMAGE_TAR)),
        run: admin_user,
        cgroup: Some(Cgroup::V2),
        release: Some(Release::Trixie),
    }]
}

/// `rootless-setup ARGS` as root in the box.
fn as_root(cx: &Ctx<'_>, args: &[&str]) -> Result<Captured> {
    let mut argv = vec![BINARY_IN_BOX];
    argv.extend_from_slice(args);
    cx.bx
        .root(&argv)
        .timeout(std::time::Duration::from_secs(180))
        .run()
}

fn admin_user(cx: &mut Ctx<'_>) -> Result<()> {
    refusals(cx)?;
    let user = cx.nosub.clone();
    ensure!(
        !cx.linger_file_exists(&user)?,
        "nosub lingers already; the scenario needs a user without linger"
    );
    let install = as_root(cx, &["install", "--user", &user.name, "--yes"])?;
    require_exit(&install, 0, "install --user nosub --yes as root")?;
    ensure!(
        install.stderr.contains("#!/bin/sh") && !install.stdout.contains("#!/bin/sh"),
        "root's fix script belongs on standard error, the install's summary on standard output"
    );
    ensure!(
        install.stdout.contains("installed rootless Docker"),
        "the install as nosub printed no summary:\n{}",
        indent(&install.stdout)
    );
    cx.note(format!(
        "install --user nosub --yes: {} (the fix script, the user manager, the install as nosub)",
        fmt_duration(install.elapsed)
    ));
    ensure!(
        cx.linger_file_exists(&user)?,
        "nosub does not linger after install --user"
    );
    owned_by(cx, &user)?;
    run_container(cx, &user)?;
    let status = as_root(cx, &["status", "--user", &user.name, "--format", "json"])?;
    require_exit(&status, 0, "status --user nosub --format json")?;
    let doc: serde_json::Value = serde_json::from_str(&status.stdout)
        .with_context(|| format!("status printed no JSON:\n{}", status.stdout))?;
    ensure!(
        doc["health"] == "healthy" && doc["user"] == user.name.as_str(),
        "status: {doc:#}"
    );
    let again = as_root(cx, &["install", "--user", &user.name, "--yes"])?;
    require_exit(&again, 0, "a second install --user")?;
    ensure!(
        again.stdout.contains("nothing changed"),
        "the second install --user changed something:\n{}",
        indent(&again.stdout)
    );
    let uninstall = as_root(cx, &["uninstall", "--user", &user.name, "--yes"])?;
    require_exit(&uninstall, 0, "uninstall --user nosub --yes")?;
    nothing_left(cx, &user)?;
    cx.note("as nosub: a container ran; status healthy; a second install changed nothing; uninstall --user left nothing");
    Ok(())
}

/// Root without `--user`, and `--user` for root or a system account, are refused (exit 2).
fn refusals(cx: &mut Ctx<'_>) -> Result<()> {
    let plain = as_root(cx, &["install", "--yes"])?;
    require_exit(&plain, 2, "install as root without --user")?;
    ensure!(
        plain.stderr.contains("--user NAME"),
        "the refusal does not name --user:\n{}",
        indent(&plain.stderr)
    );
    for name in ["root", "daemon"] {
        let out = as_root(cx, &["install", "--user", name, "--yes"])?;
        require_exit(&out, 2, &format!("install --user {name}"))?;
    }
    let json = as_root(
        cx,
        &["install", "--user", "daemon", "--yes", "--format", "json"],
    )?;
    require_exit(&json, 2, "install --user daemon --format json")?;
    let doc: serde_json::Value = serde_json::from_str(&json.stdout)
        .with_context(|| format!("no result document on standard output:\n{}", json.stdout))?;
    ensure!(
        doc["error"]["id"] == "account-refused" && doc["changed"] == false,
        "the refusal's document: {doc:#}"
    );
    cx.note("refused: root without --user (help names --user), --user root, --user daemon (with --format json: a document, error.id account-refused)");
    Ok(())
}

/// The record and the unit belong to the user, as if they had run install.
fn owned_by(cx: &Ctx<'_>, user: &BoxUser) -> Result<()> {
    let files = [
        format!("{}/.local/state/rootless-setup/state.json", user.home),
        format!("{}/.config/systemd/user/docker.service", user.home),
    ];
    for file in &files {
        let out = cx.bx.root(&["stat", "-c", "%u:%g %a", file]).run()?;
        ensure!(
            out.success()
                && out
                    .stdout
                    .trim()
                    .starts_with(&format!("{}:{} ", user.uid, user.gid)),
            "{file} is not {}'s: {}",
            user.name,
            out.stdout.trim()
        );
    }
    Ok(())
}

/// `docker run` as the user, through the context install made current.
fn run_container(cx: &Ctx<'_>, user: &BoxUser) -> Result<()> {
    let docker = |args: &[&str]| {
        let mut argv = vec!["docker"];
        argv.extend_from_slice(args);
        cx.bx
            .user(user, Session::Login, &argv)
            .timeout(std::time::Duration::from_secs(120))
            .success()
    };
    docker(&["import", IMAGE_TAR, "e2e/busybox:latest"])?;
    let out = docker(&["run", "--rm", "e2e/busybox", "echo", "hello-from-nosub"])?;
    ensure!(
        out.stdout.contains("hello-from-nosub"),
        "docker run as nosub printed {:?}",
        out.stdout
    );
    Ok(())
}

/// No record, no unit files, no rootless context, no daemon of the user's.
fn nothing_left(cx: &Ctx<'_>, user: &BoxUser) -> Result<()> {
    let home = &user.home;
    let paths = [
        format!("{home}/.local/state/rootless-setup/state.json"),
        format!("{home}/.config/systemd/user/docker.service"),
        format!("{home}/.config/systemd/user/docker.service.d"),
        format!("{home}/.docker/contexts/meta/*"),
    ];
    cx.require_gone(user, &paths, "dockerd|rootlesskit")
}
