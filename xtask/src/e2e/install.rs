//! The install scenarios: `rootless-setup install`, `status` and `uninstall` against a real
//! systemd user manager, logind and rootless dockerd in a booted box, as the unprivileged `dev`.
//!
//! - `install-cycle` (and `-v2` on the unified hierarchy, `-trixie` on Debian 13): check →
//!   install → `docker run` of an imported busybox (and `docker compose up` where Compose v2 is
//!   packaged) → status healthy → install again changes
//!   nothing → uninstall leaves nothing → uninstall again is a no-op → five install/uninstall
//!   cycles back to back.
//! - `install-rollback`: a configuration that makes dockerd fail is rolled back completely.
//! - `install-old-tool`: over an install made by `dockerd-rootless-setuptool.sh`, install
//!   refuses to clobber its unit, and uninstall (with no record) removes it and its context.
//! - `install-hostile-record`: a record listing `~/.bashrc` and `/etc/passwd` with `~/Documents`
//!   as data root: `uninstall --purge --yes` leaves all of them; a record others may write is
//!   refused and `status` reports it.
//! - `install-own-unit`: an own, enabled `docker.service`; `install --force`, `uninstall`: the
//!   file is back and still enabled.
//! - `install-concurrent`: two installs started together: one healthy engine, the second
//!   waited for the first (lock) or names it.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};

use super::r#box::{BoxUser, Cgroup, Session};
use super::cmd::indent;
use super::scenarios::{Ctx, Scenario};
use super::tree::Release;
use crate::util::{Captured, fmt_duration};

/// Where the busybox image tarball is put in the box.
pub(super) const IMAGE_TAR: &str = "/opt/e2e/busybox.tar";
/// The context made current before install, which uninstall must restore.
pub(super) const PREVIOUS_CONTEXT: &str = "work";

/// The install scenarios, for [`super::scenarios::all`].
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "install-cycle",
            about: "install → docker run → status → reinstall no-op → uninstall leaves nothing → 5 cycles",
            setup: Some(|bx| bx.write_busybox_image(IMAGE_TAR)),
            run: install_cycle,
            cgroup: Some(Cgroup::V1),
            release: Some(Release::Bookworm),
        },
        Scenario {
            name: "install-cycle-v2",
            about: "the same on cgroup v2 (SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1)",
            setup: Some(|bx| bx.write_busybox_image(IMAGE_TAR)),
            run: install_cycle,
            cgroup: Some(Cgroup::V2),
            release: Some(Release::Bookworm),
        },
        Scenario {
            name: "install-rollback",
            about: "a daemon flag dockerd refuses: install exits 1 and leaves nothing behind",
            setup: None,
            run: install_rollback,
            cgroup: None,
            release: None,
        },
        Scenario {
            name: "install-old-tool",
            about: "over dockerd-rootless-setuptool.sh: install refuses, uninstall without a record cleans up",
            setup: Some(|bx| crate::bench::install_old_tool(bx, &bx.lookup_user("dev")?)),
            run: install_old_tool,
            cgroup: None,
            release: None,
        },
        Scenario {
            name: "install-linger-denied",
            about: "linger off, no polkit: install in a su -l session works and prints the sudo loginctl line",
            setup: Some(|bx| bx.add_user("solo").map(|_| ())),
            run: install_linger_denied,
            cgroup: None,
            release: None,
        },
        Scenario {
            name: "install-hostile-record",
            about: "a record naming ~/.bashrc, /etc/passwd and ~/Documents: uninstall --purge leaves them",
            setup: None,
            run: install_hostile_record,
            cgroup: None,
            release: None,
        },
        Scenario {
            name: "install-own-unit",
            about: "an own enabled docker.service: install --force, uninstall: restored and still enabled",
            setup: None,
            run: install_own_unit,
            cgroup: None,
            release: None,
        },
        Scenario {
            name: "install-concurrent",
            about: "two installs started together: one healthy engine; uninstall leaves nothing",
            setup: None,
            run: install_concurrent,
            cgroup: None,
            release: None,
        },
        Scenario {
            name: "install-cycle-trixie",
            about: "install-cycle on Debian 13 (docker-cli), cgroup v2",
            setup: Some(|bx| bx.write_busybox_image(IMAGE_TAR)),
            run: install_cycle,
            cgroup: Some(Cgroup::V2),
            release: Some(Release::Trixie),
        },
    ]
}

/// Runs a command as dev in a login environment.
pub(super) fn as_dev(cx: &Ctx<'_>, argv: &[&str]) -> Result<Captured> {
    let dev = cx.dev.clone();
    cx.bx
        .user(&dev, Session::Login, argv)
        .timeout(Duration::from_secs(120))
        .run()
}

/// Runs `docker ARGS` as dev (through the current context: no DOCKER_HOST); fails unless it
/// succeeds.
fn docker(cx: &Ctx<'_>, args: &[&str]) -> Result<Captured> {
    cx.docker(args).success()
}

/// The docker client's current context, from `~/.docker/config.json`.
pub(super) fn current_context(cx: &Ctx<'_>) -> Result<String> {
    let out = as_dev(
        cx,
        &["cat", &format!("{}/.docker/config.json", cx.dev.home)],
    )?;
    if !out.success() {
        return Ok("default".into());
    }
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_default();
    Ok(v.get("currentContext")
        .and_then(|c| c.as_str())
        .filter(|c| !c.is_empty())
        .unwrap_or("default")
        .to_owned())
}

/// A context of our own, made current, so uninstall has something to restore.
pub(super) fn make_previous_context(cx: &Ctx<'_>) -> Result<()> {
    docker(
        cx,
        &[
            "context",
            "create",
            PREVIOUS_CONTEXT,
            "--docker",
            &format!("host=unix:///run/user/{}/elsewhere.sock", cx.dev.uid),
        ],
    )?;
    docker(cx, &["context", "use", PREVIOUS_CONTEXT])?;
    Ok(())
}

/// `status --format json` as dev: exit code and the document.
fn status(cx: &Ctx<'_>, want: i32) -> Result<serde_json::Value> {
    let out = cx.dev_tool(&["status", "--format", "json"], want)?;
    serde_json::from_str(&out.stdout)
        .with_context(|| format!("status --format json printed no JSON:\n{}", out.stdout))
}

/// Nothing of the install is left: no unit files or links, no record, context restored,
/// linger as it was, no daemon processes.
pub(super) fn require_nothing_left(cx: &Ctx<'_>, dev: &BoxUser, context: &str) -> Result<()> {
    let home = &dev.home;
    let leftovers = cx
        .bx
        .root(&[
            "sh",
            "-c",
            &format!(
                "find {home}/.config/systemd {home}/.local/state/rootless-setup \
                 \\( -name 'docker*' -o -path '*rootless-setup*' -o -type l \\) 2>/dev/null; true"
            ),
        ])
        .run()?;
    ensure!(
        leftovers.stdout.trim().is_empty(),
        "files left after uninstall:\n{}",
        indent(&leftovers.stdout)
    );
    let procs = cx
        .bx
        .root(&[
            "sh",
            "-c",
            &format!(
                "pgrep -a -u {} 'dockerd|rootlesskit|containerd|slirp4netns'; true",
                dev.uid
            ),
        ])
        .run()?;
    ensure!(
        procs.stdout.trim().is_empty(),
        "processes left after uninstall:\n{}",
        indent(&procs.stdout)
    );
    let contexts = docker(cx, &["context", "ls", "--format", "{{.Name}}"])?;
    ensure!(
        !contexts.stdout.lines().any(|l| l.trim() == "rootless"),
        "the rootless context is still there:\n{}",
        indent(&contexts.stdout)
    );
    let current = current_context(cx)?;
    ensure!(
        current == context,
        "current context after uninstall is {current:?}, want {context:?}"
    );
    ensure!(
        cx.linger_file_exists(dev)?,
        "linger for dev was turned off (it was on before)"
    );
    Ok(())
}

/// `check`'s `engine.installed` sees the running install, and notes what the engine itself
/// warns about (`/info`'s `Warnings`).
fn check_sees_the_install(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let out = cx.dev_tool(
        &["check", "--only", "engine.installed", "--format", "json"],
        0,
    )?;
    let report: serde_json::Value =
        serde_json::from_str(&out.stdout).context("check --format json is not JSON")?;
    let finding = &report["findings"][0];
    let summary = finding["summary"].as_str().unwrap_or_default();
    ensure!(
        summary.starts_with("installed by rootless-setup (enabled, running"),
        "engine.installed as {}: {summary}",
        dev.name
    );
    let said: Vec<&str> = finding["observed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["key"] == "engine_warning" || o["key"] == "engine_warnings")
        .filter_map(|o| o["value"].as_str())
        .collect();
    ensure!(
        !said.iter().any(|w| w.starts_with("not asked")),
        "engine.installed did not reach the engine: {said:?}"
    );
    cx.note(format!(
        "check engine.installed: {} {summary}; the engine says: {}",
        finding["status"].as_str().unwrap_or_default(),
        said.join(" | ")
    ));
    Ok(())
}

/// The first `/_ping` answer after readiness, from `install --verbose`, in milliseconds.
fn ping_after_ready(stdout: &str) -> Option<f64> {
    let rest = stdout.split("first /_ping answer ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

fn install_cycle(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    cx.check_json(&dev, Session::Login, 0)?;
    make_previous_context(cx)?;
    first_install(cx)?;
    let pid = healthy(cx)?;
    check_sees_the_install(cx)?;
    install_again(cx, &pid)?;
    uninstall_twice(cx)?;
    five_cycles(cx)
}

/// A dry run shows a plan and writes nothing; install makes a working engine, current through
/// the context.
fn first_install(cx: &mut Ctx<'_>) -> Result<()> {
    let dry = cx.dev_tool(&["install", "--dry-run"], 0)?;
    ensure!(
        dry.stdout.contains("+[Service]"),
        "dry run shows no diff:\n{}",
        dry.stdout
    );
    status(cx, 3)?;

    // Install.
    let started = Instant::now();
    let install = cx.dev_tool(&["install", "--yes", "--verbose"], 0)?;
    let took = started.elapsed();
    let ping = ping_after_ready(&install.stdout)
        .with_context(|| format!("install --verbose printed no timing:\n{}", install.stdout))?;
    cx.note(format!(
        "install --yes: {} (engine answered /_ping {ping:.1} ms after its readiness)",
        fmt_duration(took)
    ));
    ensure!(
        ping < 300.0,
        "the socket answered {ping} ms after readiness, want < 300 ms"
    );
    ensure!(
        current_context(cx)? == "rootless",
        "install did not make rootless current"
    );

    // The engine works, through the context.
    docker(cx, &["import", IMAGE_TAR, "e2e/busybox:latest"])?;
    let run = docker(
        cx,
        &[
            "run",
            "--rm",
            "e2e/busybox",
            "sh",
            "-c",
            "echo hello-from-rootless-setup",
        ],
    )?;
    ensure!(
        run.stdout.contains("hello-from-rootless-setup"),
        "docker run printed {:?}",
        run.stdout
    );
    super::podman::compose(cx)
}

/// Status says healthy: the engine's main pid.
fn healthy(cx: &mut Ctx<'_>) -> Result<serde_json::Value> {
    let st = status(cx, 0)?;
    ensure!(st["health"] == "healthy", "status: {st:#}");
    ensure!(st["server"]["rootless"] == true, "not rootless: {st:#}");
    ensure!(st["unit"]["active"] == "active", "unit: {}", st["unit"]);
    ensure!(
        st["unit"]["need_daemon_reload"] == false,
        "unit needs a reload: {}",
        st["unit"]
    );
    let pid = st["unit"]["main_pid"].clone();
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    cx.note(format!(
        "status: {} — Docker {}, cgroup driver {} (cgroup v{})",
        text(&st["health"]),
        text(&st["server"]["version"]),
        text(&st["server"]["cgroup_driver"]),
        text(&st["server"]["cgroup_version"])
    ));
    Ok(pid)
}

/// Install again: nothing changes, no restart (the engine keeps `pid`).
fn install_again(cx: &mut Ctx<'_>, pid: &serde_json::Value) -> Result<()> {
    let dev = cx.dev.clone();
    let mtime = |cx: &Ctx<'_>| -> Result<String> {
        let unit = format!("{}/.config/systemd/user/docker.service", dev.home);
        Ok(as_dev(cx, &["stat", "-c", "%Y.%N", &unit])?.stdout)
    };
    let before = mtime(cx)?;
    let again = cx.dev_tool(&["install", "--yes"], 0)?;
    ensure!(
        again.stdout.contains("nothing changed"),
        "the second install did not say nothing changed:\n{}",
        again.stdout
    );
    ensure!(mtime(cx)? == before, "the second install rewrote the unit");
    let st = status(cx, 0)?;
    ensure!(
        st["unit"]["main_pid"] == *pid,
        "the second install restarted the engine"
    );
    Ok(())
}

/// Uninstall leaves nothing; twice is a no-op.
fn uninstall_twice(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    cx.dev_tool(&["uninstall", "--yes"], 0)?;
    require_nothing_left(cx, &dev, PREVIOUS_CONTEXT)?;
    let twice = cx.dev_tool(&["uninstall", "--yes"], 0)?;
    ensure!(
        twice.stdout.contains("nothing to uninstall"),
        "second uninstall:\n{}",
        twice.stdout
    );
    status(cx, 3)?;
    Ok(())
}

/// Five install/uninstall cycles back to back, the last with `--purge`.
fn five_cycles(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let mut installs = Vec::new();
    let mut uninstalls = Vec::new();
    for round in 1..=5 {
        let t = Instant::now();
        cx.dev_tool(&["install", "--yes"], 0)
            .with_context(|| format!("cycle {round}"))?;
        installs.push(t.elapsed());
        status(cx, 0).with_context(|| format!("cycle {round}"))?;
        let t = Instant::now();
        let purge: &[&str] = if round == 5 {
            &["uninstall", "--yes", "--purge"]
        } else {
            &["uninstall", "--yes"]
        };
        let out = cx
            .dev_tool(purge, 0)
            .with_context(|| format!("cycle {round}"))?;
        uninstalls.push(t.elapsed());
        if round == 5 {
            ensure!(
                out.stdout.contains("freed"),
                "purge did not report what it freed:\n{}",
                out.stdout
            );
            let gone = as_dev(
                cx,
                &["test", "-e", &format!("{}/.local/share/docker", dev.home)],
            )?;
            ensure!(!gone.success(), "--purge left the data directory");
        }
        require_nothing_left(cx, &dev, PREVIOUS_CONTEXT)
            .with_context(|| format!("cycle {round}"))?;
    }
    installs.sort();
    uninstalls.sort();
    cx.note(format!(
        "5 cycles: install median {}, uninstall median {} (last with --purge)",
        fmt_duration(installs[2]),
        fmt_duration(uninstalls[2])
    ));
    Ok(())
}

fn install_rollback(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    // The prerequisite gate: a user without subordinate ids is stopped before anything changes.
    let nosub = cx.nosub.clone();
    let gated = cx.tool(&nosub, Session::Login, &["install", "--yes"])?;
    ensure!(
        gated.code == Some(1)
            && gated.stderr.contains("subid.uid")
            && gated.stderr.contains("rootless-setup fix"),
        "install as nosub: {}, want exit 1 naming subid.uid and `rootless-setup fix`:\n{}",
        gated.describe_exit(),
        indent(&gated.stderr)
    );
    cx.note("failing prerequisites: install exits 1 before changing anything, naming the ids");
    make_previous_context(cx)?;
    let out = cx.dev_tool(&["install", "--yes", "--daemon-flag=--no-such-flag"], 1)?;
    for want in ["did not start", "rollback", "unknown flag: --no-such-flag"] {
        ensure!(
            out.stderr.contains(want),
            "install's error output lacks {want:?}:\n{}",
            indent(&out.stderr)
        );
    }
    require_nothing_left(cx, &dev, PREVIOUS_CONTEXT)?;
    status(cx, 3)?;
    cx.note("a failing daemon flag: exit 1, journal shown, everything undone");

    // A working install, then a failing change: the previous engine is restored and runs.
    cx.dev_tool(&["install", "--yes"], 0)?;
    let out = cx.dev_tool(&["install", "--yes", "--daemon-flag=--no-such-flag"], 1)?;
    ensure!(
        out.stderr
            .contains("started the previous docker.service again"),
        "{}",
        out.stderr
    );
    let st = status(cx, 0)?;
    ensure!(st["health"] == "healthy", "after a failed upgrade: {st:#}");
    cx.dev_tool(&["uninstall", "--yes"], 0)?;
    require_nothing_left(cx, &dev, PREVIOUS_CONTEXT)?;
    cx.note("a failing upgrade: the previous files are put back and the engine runs again");
    Ok(())
}

fn install_old_tool(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let old = cx
        .bx
        .user(
            &dev,
            Session::Login,
            &[
                "/home/dev/bin/dockerd-rootless-setuptool.sh",
                "install",
                "--skip-iptables",
            ],
        )
        .env("PATH", "/home/dev/bin:/usr/local/bin:/usr/bin:/bin")
        .timeout(Duration::from_secs(120))
        .run()?;
    if !old.success() {
        bail!(
            "the old setup tool failed: {}\n{}",
            old.describe_exit(),
            indent(&old.stdout)
        );
    }
    let refused = cx.dev_tool(&["install", "--yes"], 1)?;
    ensure!(
        refused.stderr.contains("not written by rootless-setup"),
        "install over the old tool's unit:\n{}",
        indent(&refused.stderr)
    );
    let st = status(cx, 0)?;
    ensure!(
        st["files"][0]["origin"] == "foreign",
        "status files: {}",
        st["files"]
    );
    let un = cx.dev_tool(&["uninstall", "--yes"], 0)?;
    ensure!(
        un.stdout.contains("no install record")
            && un.stdout.contains("dockerd-rootless-setuptool.sh"),
        "uninstall did not say what it found:\n{}",
        un.stdout
    );
    require_nothing_left(cx, &dev, "default")?;
    cx.note("old tool's install: install refused (exit 1), uninstall without a record removed it");
    Ok(())
}

fn install_linger_denied(cx: &mut Ctx<'_>) -> Result<()> {
    // A user made before boot without linger: no manager runs until the session below.
    // (Turning dev's linger off instead leaves user@UID.service `deactivating` for minutes.)
    let dev = cx.bx.lookup_user("solo")?;
    // Everything in one real login session (su -l): without linger the user's manager, and the
    // engine with it, stop when the session ends.
    // su from root does not export XDG_RUNTIME_DIR (pam_systemd only does for the session's
    // own user); the session's manager and bus are there all the same.
    let script = "export XDG_RUNTIME_DIR=/run/user/$(id -u) \
                  DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$(id -u)/bus; \
                  rootless-setup install --yes; echo install-exit=$?; \
                  rootless-setup status --format json; echo status-exit=$?; \
                  rootless-setup uninstall --yes; echo uninstall-exit=$?";
    let out = cx
        .bx
        .user(&dev, Session::Pam, &["sh", "-c", script])
        .timeout(Duration::from_secs(240))
        .run()?;
    let all = format!("{}{}", out.stdout, out.stderr);
    for want in [
        "install-exit=0",
        "sudo loginctl enable-linger solo",
        "status-exit=0",
        "\"linger\": false",
        "uninstall-exit=0",
    ] {
        ensure!(
            all.contains(want),
            "the su -l session's output lacks {want:?}:\n{}",
            indent(&all)
        );
    }
    ensure!(!cx.linger_file_exists(&dev)?, "linger was turned on");
    cx.note("linger not permitted (no polkit): install succeeds, prints `sudo loginctl enable-linger solo`");
    Ok(())
}

/// Writes `text` as dev's file `path` (relative to the home directory) with `mode`.
fn write_as_dev(cx: &Ctx<'_>, path: &str, text: &str, mode: &str) -> Result<()> {
    let full = format!("{}/{path}", cx.dev.home);
    let script =
        "mkdir -p \"$(dirname \"$1\")\" && printf '%s' \"$2\" > \"$1\" && chmod \"$3\" \"$1\"";
    let out = as_dev(cx, &["sh", "-c", script, "sh", &full, text, mode])?;
    ensure!(out.success(), "writing {full}: {}", out.stderr);
    Ok(())
}

fn install_hostile_record(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let home = &dev.home;
    let bashrc = as_dev(cx, &["cat", &format!("{home}/.bashrc")])?.stdout;
    write_as_dev(cx, "Documents/thesis.txt", "years of work\n", "644")?;
    // Layout 1, as the issue's reproduction: files and data_root name the user's own things.
    let record = format!(
        r#"{{"version": 1, "tool_version": "0.1.0", "engine": "docker", "unit": "docker.service",
  "files": [{{"path": "{home}/.bashrc", "sha256": "x", "previous": null}},
            {{"path": "/etc/passwd", "sha256": "x", "previous": null}}],
  "dirs": ["{home}/Documents"], "enabled_by_us": false, "context": null, "previous_context": null,
  "linger_enabled_by_us": false, "data_root": "{home}/Documents", "socket": "/run/user/{uid}/docker.sock",
  "installed_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}}"#,
        uid = dev.uid
    );
    let state = ".local/state/rootless-setup/state.json";
    write_as_dev(cx, state, &record, "600")?;
    let dry = cx.dev_tool(&["uninstall", "--dry-run", "--purge"], 0)?;
    for want in [
        "left alone: ~/.bashrc because it is not below ~/.config/systemd/user",
        "left alone: /etc/passwd because",
        "left alone: the data directory ~/Documents because it does not carry the marker",
    ] {
        ensure!(
            dry.stdout.contains(want),
            "dry run lacks {want:?}:\n{}",
            dry.stdout
        );
    }
    cx.dev_tool(&["uninstall", "--purge", "--yes"], 0)?;
    ensure!(
        as_dev(cx, &["cat", &format!("{home}/.bashrc")])?.stdout == bashrc,
        "~/.bashrc changed"
    );
    ensure!(
        as_dev(cx, &["test", "-f", &format!("{home}/Documents/thesis.txt")])?.success(),
        "~/Documents was purged"
    );
    ensure!(
        cx.bx
            .root(&["grep", "-q", "^root:", "/etc/passwd"])
            .run()?
            .success(),
        "/etc/passwd lost root"
    );
    cx.note("hostile record: ~/.bashrc, /etc/passwd and ~/Documents left alone by uninstall --purge --yes");

    // A record others may write is refused, and status reports it.
    write_as_dev(cx, state, &record, "666")?;
    let refused = cx.dev_tool(&["uninstall", "--yes"], 2)?;
    ensure!(
        refused.stderr.contains("has mode 0666") && refused.stderr.contains("help: move it away"),
        "uninstall over a 0666 record:\n{}",
        refused.stderr
    );
    let st = status(cx, 1)?;
    ensure!(
        st["record_error"]
            .as_str()
            .is_some_and(|e| e.contains("has mode 0666")),
        "status: {st:#}"
    );
    as_dev(
        cx,
        &["rm", "-r", &format!("{home}/.local/state/rootless-setup")],
    )?;
    cx.note("a 0666 record: uninstall exits 2 with error/help lines, status reports it (exit 1)");
    Ok(())
}

fn install_own_unit(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let own = "[Unit]\nDescription=my own docker\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=default.target\n";
    write_as_dev(cx, ".config/systemd/user/docker.service", own, "644")?;
    let enabled = |cx: &Ctx<'_>| -> Result<String> {
        Ok(
            as_dev(cx, &["systemctl", "--user", "is-enabled", "docker"])?
                .stdout
                .trim()
                .to_owned(),
        )
    };
    ensure!(
        as_dev(cx, &["systemctl", "--user", "enable", "docker"])?.success(),
        "could not enable the own unit"
    );
    ensure!(enabled(cx)? == "enabled", "the own unit is not enabled");
    cx.dev_tool(&["install", "--force", "--yes"], 0)?;
    let st = status(cx, 0)?;
    ensure!(st["health"] == "healthy", "after install --force: {st:#}");
    cx.dev_tool(&["uninstall", "--yes"], 0)?;
    let text = as_dev(
        cx,
        &[
            "cat",
            &format!("{}/.config/systemd/user/docker.service", dev.home),
        ],
    )?
    .stdout;
    ensure!(text == own, "the own unit was not restored:\n{text}");
    let now = enabled(cx)?;
    ensure!(
        now == "enabled",
        "systemctl --user is-enabled docker says {now:?}"
    );
    cx.note(
        "own enabled docker.service: install --force, uninstall: restored, is-enabled says enabled",
    );
    Ok(())
}

fn install_concurrent(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let script = "rootless-setup install --yes >/tmp/a.out 2>&1 & a=$!; \
                  rootless-setup install --yes >/tmp/b.out 2>&1 & b=$!; \
                  wait $a; echo a=$?; wait $b; echo b=$?; cat /tmp/a.out /tmp/b.out";
    let out = cx
        .bx
        .user(&dev, Session::Login, &["sh", "-c", script])
        .timeout(Duration::from_secs(240))
        .run()?;
    let codes = (out.stdout.contains("a=0"), out.stdout.contains("b=0"));
    let holder = out.stdout.contains("still holds");
    ensure!(
        codes == (true, true) || (holder && (codes.0 || codes.1)),
        "two installs together: want both 0, or one 1 naming the holder:\n{}",
        indent(&out.stdout)
    );
    let st = status(cx, 0)?;
    ensure!(st["health"] == "healthy", "after two installs: {st:#}");
    let engines = cx
        .bx
        .root(&[
            "sh",
            "-c",
            &format!("pgrep -c -u {} -x dockerd; true", dev.uid),
        ])
        .run()?;
    ensure!(
        engines.stdout.trim() == "1",
        "{} dockerd processes after two installs",
        engines.stdout.trim()
    );
    cx.dev_tool(&["uninstall", "--yes"], 0)?;
    require_nothing_left(cx, &dev, "default")?;
    cx.note(format!(
        "two installs together: exits {}, one healthy engine, uninstall leaves nothing",
        if codes == (true, true) {
            "0 and 0"
        } else {
            "0 and 1 (holder named)"
        }
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_is_read_from_the_summary() {
        let out = "  timing: start job 1303.2 ms, first /_ping answer 0.6 ms after readiness (1 attempts)\n";
        assert_eq!(ping_after_ready(out), Some(0.6));
        assert_eq!(ping_after_ready("no timing"), None);
    }
}
