//! The Podman scenarios: `rootless-setup install --engine podman` against the distribution's
//! `podman.socket` in a booted box, as the unprivileged `dev`, driven through the docker CLI
//! (and Compose v2 on Debian 13) by way of the `rootless-podman` context.
//!
//! - `podman-trixie` (Debian 13, Podman 5, cgroup v2 without delegated controllers) and
//!   `podman-bookworm` (Debian 12, Podman 4.3, cgroup v1): check → install → `docker run` (and
//!   `docker compose up` where Compose v2 is packaged) → status healthy → install again changes
//!   nothing → uninstall leaves nothing.
//! - `podman-unshipped`: a system without Podman's user units: install writes them.
//! - `engines-side-by-side`: Docker and Podman installed for the same user at once, each with its
//!   own context; uninstalling Podman leaves Docker running, and the other way round.

use std::time::Instant;

use anyhow::{Context as _, Result, ensure};

use super::r#box::Cgroup;
use super::cmd::indent;
use super::install::{IMAGE_TAR, PREVIOUS_CONTEXT, as_dev, current_context, make_previous_context};
use super::scenarios::{Ctx, Scenario};
use super::tree::Release;
use crate::util::fmt_duration;

/// Podman's context.
const CONTEXT: &str = "rootless-podman";

/// The Podman scenarios, for [`super::scenarios::all`].
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "podman-trixie",
            about: "Podman 5: check → install → docker run and compose through the context → status → no-op → uninstall",
            setup: Some(|bx| bx.write_busybox_image(IMAGE_TAR)),
            run: podman_cycle,
            cgroup: Some(Cgroup::V2),
            release: Some(Release::Trixie),
        },
        Scenario {
            name: "podman-bookworm",
            about: "Podman 4.3 on Debian 12, cgroup v1: the same without Compose v2",
            setup: Some(|bx| bx.write_busybox_image(IMAGE_TAR)),
            run: podman_cycle,
            cgroup: Some(Cgroup::V1),
            release: Some(Release::Bookworm),
        },
        Scenario {
            name: "podman-unshipped",
            about: "no podman.socket user unit on the system: install writes Podman's own units, uninstall removes them",
            setup: Some(|bx| {
                bx.write_busybox_image(IMAGE_TAR)?;
                for unit in ["podman.socket", "podman.service"] {
                    std::fs::remove_file(bx.path(&format!("/usr/lib/systemd/user/{unit}")))?;
                }
                Ok(())
            }),
            run: unshipped,
            cgroup: Some(Cgroup::V2),
            release: Some(Release::Trixie),
        },
        Scenario {
            name: "engines-side-by-side",
            about: "Docker and Podman for one user at once, own contexts; uninstalling one leaves the other",
            setup: Some(|bx| bx.write_busybox_image(IMAGE_TAR)),
            run: side_by_side,
            cgroup: Some(Cgroup::V2),
            release: Some(Release::Trixie),
        },
    ]
}

/// `docker ARGS` as dev; fails unless it succeeds.
fn docker(cx: &Ctx<'_>, args: &[&str]) -> Result<String> {
    Ok(cx.docker(args).success()?.stdout)
}

/// `status --engine podman --format json` as dev, requiring exit `want`.
fn status(cx: &Ctx<'_>, engine: &str, want: i32) -> Result<serde_json::Value> {
    let out = cx.dev_tool(&["status", "--engine", engine, "--format", "json"], want)?;
    serde_json::from_str(&out.stdout)
        .with_context(|| format!("status --format json printed no JSON:\n{}", out.stdout))
}

/// Imports the busybox tarball and runs it through `context`; the output must be the greeting.
fn run_container(cx: &Ctx<'_>, context: &str) -> Result<()> {
    docker(
        cx,
        &[
            "--context",
            context,
            "import",
            IMAGE_TAR,
            "e2e/busybox:latest",
        ],
    )?;
    let out = docker(
        cx,
        &[
            "--context",
            context,
            "run",
            "--rm",
            "e2e/busybox",
            "sh",
            "-c",
            "echo hello-from-$0",
            context,
        ],
    )?;
    ensure!(
        out.contains(&format!("hello-from-{context}")),
        "docker run through {context} printed {out:?}"
    );
    Ok(())
}

fn podman_cycle(cx: &mut Ctx<'_>) -> Result<()> {
    let check = cx.dev_tool(&["check", "--engine", "podman"], 0)?;
    ensure!(
        check.stdout.contains("does not apply to podman"),
        "check --engine podman skips nothing:\n{}",
        check.stdout
    );
    make_previous_context(cx)?;
    status(cx, "podman", 3)?;
    let started = Instant::now();
    let install = cx.dev_tool(&["install", "--engine", "podman", "--yes"], 0)?;
    cx.note(format!(
        "install --engine podman: {}",
        fmt_duration(started.elapsed())
    ));
    ensure!(
        install.stdout.contains("installed rootless Podman"),
        "install said:\n{}",
        install.stdout
    );
    ensure!(current_context(cx)? == CONTEXT, "{CONTEXT} is not current");
    run_container(cx, CONTEXT)?;
    compose(cx)?;
    // `enter` picks the one engine installed and joins Podman's pause process.
    let inside = cx.dev_tool(&["enter", "--", "id", "-u"], 0)?;
    ensure!(
        inside.stdout.trim() == "0",
        "enter -- id -u printed {:?}",
        inside.stdout
    );
    cx.note("enter -- id -u inside Podman's user namespace: 0");
    healthy(cx)?;
    install_changes_nothing(cx)?;
    let t = Instant::now();
    cx.dev_tool(&["uninstall", "--yes"], 0)?;
    cx.note(format!("uninstall: {}", fmt_duration(t.elapsed())));
    nothing_of_podman_left(cx)?;
    ensure!(
        current_context(cx)? == PREVIOUS_CONTEXT,
        "uninstall did not restore the context {PREVIOUS_CONTEXT}"
    );
    status(cx, "podman", 3)?;
    purge_cycle(cx)
}

/// Images survive an uninstall; `uninstall --purge` removes them with Podman's storage.
fn purge_cycle(cx: &mut Ctx<'_>) -> Result<()> {
    let storage = format!("{}/.local/share/containers/storage", cx.dev.home);
    let exists =
        |cx: &Ctx<'_>| -> Result<bool> { Ok(as_dev(cx, &["test", "-d", &storage])?.success()) };
    ensure!(exists(cx)?, "uninstall without --purge removed {storage}");
    cx.dev_tool(&["install", "--engine", "podman", "--yes"], 0)?;
    let images = docker(
        cx,
        &[
            "--context",
            CONTEXT,
            "images",
            "--format",
            "{{.Repository}}",
        ],
    )?;
    ensure!(
        images.contains("e2e/busybox"),
        "the image did not survive uninstall and install:\n{images}"
    );
    let purge = cx.dev_tool(&["uninstall", "--engine", "podman", "--purge", "--yes"], 0)?;
    ensure!(
        purge
            .stdout
            .contains("removed Podman's containers, images, volumes and storage"),
        "uninstall --purge said:\n{}",
        purge.stdout
    );
    nothing_of_podman_left(cx)?;
    // `podman system reset` may leave the storage directory itself; what matters is that no
    // image or container is left in it.
    let left = as_dev(cx, &["podman", "images", "--all", "--quiet"])?;
    ensure!(
        left.success() && left.stdout.trim().is_empty(),
        "images left after --purge:\n{}",
        left.stdout
    );
    cx.note("uninstall --purge: podman system reset removed the storage; images kept without it");
    Ok(())
}

/// A second `install --engine podman` says nothing changed.
fn install_changes_nothing(cx: &Ctx<'_>) -> Result<()> {
    let again = cx.dev_tool(&["install", "--engine", "podman", "--yes"], 0)?;
    ensure!(
        again.stdout.contains("nothing changed"),
        "the second install changed something:\n{}",
        again.stdout
    );
    Ok(())
}

/// `docker compose up` of a one-service project through the context (Compose v2 only).
pub(super) fn compose(cx: &mut Ctx<'_>) -> Result<()> {
    if !cx.docker(&["compose", "version"]).run()?.success() {
        cx.note("docker compose: not packaged in this release (Compose v1 only), skipped");
        return Ok(());
    }
    let project = format!("{}/compose-e2e", cx.dev.home);
    let file = "services:\n  hello:\n    image: e2e/busybox\n    command: [\"echo\", \"hello-from-compose\"]\n";
    as_dev(
        cx,
        &[
            "sh",
            "-c",
            &format!("mkdir -p {project} && printf '%s' \"$0\" > {project}/compose.yaml"),
            file,
        ],
    )?;
    let dir = format!("--project-directory={project}");
    let up = docker(cx, &["compose", &dir, "up", "--abort-on-container-exit"])?;
    ensure!(
        up.contains("hello-from-compose"),
        "docker compose up printed:\n{}",
        indent(&up)
    );
    docker(cx, &["compose", &dir, "down"])?;
    cx.note("docker compose up/down through the context: ok");
    Ok(())
}

/// Status says healthy and names Podman's version.
fn healthy(cx: &mut Ctx<'_>) -> Result<()> {
    let st = status(cx, "podman", 0)?;
    ensure!(st["health"] == "healthy", "status: {st:#}");
    ensure!(st["engine"] == "podman", "status: {st:#}");
    ensure!(st["unit"]["active"] == "active", "unit: {}", st["unit"]);
    cx.note(format!(
        "status: healthy — Podman {} ({} warnings)",
        st["server"]["version"].as_str().unwrap_or("?"),
        st["warnings"].as_array().map_or(0, Vec::len)
    ));
    Ok(())
}

/// Nothing of the Podman install is left: no record, no drop-in, the socket disabled and
/// stopped, no context.
fn nothing_of_podman_left(cx: &Ctx<'_>) -> Result<()> {
    let home = &cx.dev.home;
    let files = cx
        .bx
        .root(&[
            "sh",
            "-c",
            &format!(
                "ls {home}/.local/state/rootless-setup/podman.json \
                 {home}/.config/containers/containers.conf.d/50-rootless-setup.conf \
                 {home}/.config/systemd/user/sockets.target.wants/podman.socket 2>/dev/null; true"
            ),
        ])
        .run()?;
    ensure!(
        files.stdout.trim().is_empty(),
        "left after uninstall:\n{}",
        indent(&files.stdout)
    );
    let active = as_dev(
        cx,
        &[
            "systemctl",
            "--user",
            "is-active",
            "podman.socket",
            "podman.service",
        ],
    )?;
    ensure!(
        !active.stdout.lines().any(|l| l.trim() == "active"),
        "still active after uninstall:\n{}",
        active.stdout
    );
    let contexts = docker(cx, &["context", "ls", "--format", "{{.Name}}"])?;
    ensure!(
        !contexts.lines().any(|l| l.trim() == CONTEXT),
        "the {CONTEXT} context is still there"
    );
    Ok(())
}

fn unshipped(cx: &mut Ctx<'_>) -> Result<()> {
    let install = cx.dev_tool(&["install", "--engine", "podman", "--yes"], 0)?;
    for unit in ["podman.socket", "podman.service"] {
        ensure!(
            install
                .stdout
                .contains(&format!("wrote ~/.config/systemd/user/{unit}")),
            "install did not write {unit}:\n{}",
            install.stdout
        );
    }
    run_container(cx, CONTEXT)?;
    healthy(cx)?;
    install_changes_nothing(cx)?;
    cx.dev_tool(&["uninstall", "--yes"], 0)?;
    nothing_of_podman_left(cx)?;
    let units = as_dev(
        cx,
        &[
            "sh",
            "-c",
            &format!(
                "ls {}/.config/systemd/user/podman.* 2>/dev/null; true",
                cx.dev.home
            ),
        ],
    )?;
    ensure!(
        units.stdout.trim().is_empty(),
        "units left after uninstall:\n{}",
        units.stdout
    );
    cx.note("install wrote podman.socket and podman.service; a second install kept them; uninstall removed them");
    Ok(())
}

fn side_by_side(cx: &mut Ctx<'_>) -> Result<()> {
    cx.dev_tool(&["install", "--yes"], 0)?;
    cx.dev_tool(&["install", "--engine", "podman", "--yes"], 0)?;
    run_container(cx, "rootless")?;
    run_container(cx, CONTEXT)?;
    let ambiguous = cx.dev_tool(&["status"], 2)?;
    ensure!(
        ambiguous.stderr.contains("docker and podman are installed")
            && ambiguous.stderr.contains("--engine podman"),
        "status with two engines:\n{}",
        ambiguous.stderr
    );
    cx.note("both installed: each runs a container through its own context; `status` asks which");

    cx.dev_tool(&["uninstall", "--engine", "podman", "--yes"], 0)?;
    nothing_of_podman_left(cx)?;
    ensure!(
        cx.linger_file_exists(&cx.dev)?,
        "uninstalling Podman turned linger off under Docker"
    );
    let st = cx.dev_tool(&["status", "--format", "json"], 0)?;
    ensure!(
        st.stdout.contains("\"engine\": \"docker\""),
        "status after Podman's uninstall:\n{}",
        st.stdout
    );
    run_container(cx, "rootless")?;
    cx.note("uninstall --engine podman: Docker still healthy and running containers");

    cx.dev_tool(&["install", "--engine", "podman", "--yes"], 0)?;
    cx.dev_tool(&["uninstall", "--engine", "docker", "--yes"], 0)?;
    run_container(cx, CONTEXT)?;
    status(cx, "podman", 0)?;
    cx.dev_tool(&["uninstall", "--yes"], 0)?;
    nothing_of_podman_left(cx)?;
    cx.note("uninstall --engine docker: Podman still healthy; then both gone");
    Ok(())
}
