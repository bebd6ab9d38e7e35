//! `engine.smoke`: runs `rootlesskit` the way install will (the chosen network and port driver,
//! MTU, copy-up of `/etc` and `/run`) around a tiny shell that prints its uid map and network
//! links. It catches what no single file read can: a helper that is not on `PATH`, a missing
//! `/dev/net/tun`, a profile that denies rootlesskit its namespaces. The shell inside waits for
//! rootlesskit's readiness (`child_pid` in the state directory) before it exits, so the run is
//! deterministic and a pass shows that the port driver started.
//!
//! rootlesskit creates its `--state-dir` itself and removes it when it exits, except when it
//! fails before taking the directory's lock (a driver binary not found) or is killed at the
//! deadline; the check looks afterwards and reports a directory left behind.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::context::Context;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::finding::{Finding, Fix, Status};
use rootless_setup_core::model::{Facts, NetworkPlan};
use rootless_setup_core::process::{Invocation, Output};
use rootless_setup_core::remedy::{Modules, Remedy};
use rootless_setup_core::shell;

use super::super::common;
use super::rootlesskit_output::{
    Cause, Link, NOT_READY, classify, elide_go_structs, error_line, parse_links, parse_ready,
    parse_uid_map,
};

const ID: CheckId = CheckId::EngineSmoke;

/// How long the run may take.
const DEADLINE: Duration = Duration::from_secs(20);

/// What runs inside. First it waits until rootlesskit's parent is ready: the parent writes
/// `child_pid` into the state directory (documented, and `$ROOTLESSKIT_STATE_DIR` inside) only
/// after its port driver finished its start-up handshake with the child over `.bp.sock`. A child
/// that exits before then makes the child process close that socket under the parent, which then
/// fails with `read: connection reset by peer`, or `connect: no such file or directory` when the
/// socket is already gone (rootlesskit 1.1 to 3.0, see docs/checks.md). The
/// wait polls every 10 ms, for at most 1000 polls, then says so on stderr
/// ([`NOT_READY`]). Then it prints the
/// [`READY`](super::rootlesskit_output::READY) line, the uid map and the links (`/proc/net/dev`
/// where `ip` is missing).
const SCRIPT: &str = concat!(
    "r=\"$ROOTLESSKIT_STATE_DIR/child_pid\" n=0 && until [ -s \"$r\" ]; do ",
    "n=$((n + 1)); if [ \"$n\" -gt 1000 ]; then ",
    "echo 'rootless-setup: rootlesskit wrote no child_pid within 10 s' >&2; exit 1; fi; ",
    "sleep 0.01; done && echo \"rootlesskit ready, child pid $(cat \"$r\")\" && ",
    "cat /proc/self/uid_map && { ip -o link show 2>/dev/null || cat /proc/net/dev; }"
);

/// The interface the driver creates inside the namespace (rootlesskit's defaults).
fn expected_interface(driver: &str) -> Option<&'static str> {
    match driver {
        "slirp4netns" | "vpnkit" | "pasta" | "gvisor-tap-vsock" => Some("tap0"),
        "lxc-user-nic" => Some("eth0"),
        _ => None,
    }
}

/// The probe's `PATH`: the directories of the driver, the id-mapping helpers and rootlesskit
/// (rootlesskit runs them by name), then the caller's `PATH`, then the standard directories.
fn probe_path(cx: &Context<'_>, facts: &Facts, plan: &NetworkPlan, rootlesskit: &Path) -> String {
    let helpers = [
        plan.binary.as_deref(),
        facts.newuidmap.as_deref(),
        facts.newgidmap.as_deref(),
        Some(rootlesskit),
    ];
    let dirs = helpers
        .into_iter()
        .flatten()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .chain(common::path_then(
            cx.caller,
            &rootless_setup_core::SYSTEM_PATH,
        ));
    common::joined(&common::search_dirs(dirs))
}

/// What the run needs: an existing runtime directory, rootlesskit and a chosen network; else
/// the skip that says which is missing.
fn prerequisites(
    cx: &Context<'_>,
    facts: &Facts,
) -> Result<(PathBuf, PathBuf, NetworkPlan), Box<Finding>> {
    let Some(runtime) = super::runtime_dir(cx) else {
        return Err(Box::new(Finding::skip(
            ID,
            "XDG_RUNTIME_DIR is not set; rootlesskit keeps its state there (see session.runtime-dir)",
        )));
    };
    if !cx.host.exists(&runtime) {
        return Err(Box::new(Finding::skip(
            ID,
            format!(
                "XDG_RUNTIME_DIR {} does not exist (see session.runtime-dir)",
                runtime.display()
            ),
        )));
    }
    let Some(rootlesskit) = facts.binary("rootlesskit").map(|b| b.path.clone()) else {
        return Err(Box::new(Finding::skip(
            ID,
            "rootlesskit was not found (see engine.binaries)",
        )));
    };
    let Some(plan) = facts.network.clone() else {
        return Err(Box::new(Finding::skip(
            ID,
            "no network driver was chosen (see network.driver)",
        )));
    };
    Ok((runtime, rootlesskit, plan))
}

/// rootlesskit's options as install runs it, with its state in `state_dir`.
fn rootlesskit_args(plan: &NetworkPlan, state_dir: &Path) -> Vec<String> {
    let mut args = vec![
        format!("--net={}", plan.driver),
        format!("--mtu={}", plan.mtu),
        format!("--port-driver={}", plan.port_driver),
        "--disable-host-loopback".to_owned(),
        "--copy-up=/etc".to_owned(),
        "--copy-up=/run".to_owned(),
        format!("--state-dir={}", state_dir.display()),
    ];
    if plan.driver == "lxc-user-nic"
        && let Some(binary) = &plan.binary
    {
        args.push(format!("--lxc-user-nic-binary={}", binary.display()));
    }
    args
}

/// Runs rootlesskit with the planned network and checks what the shell inside saw.
pub(crate) fn smoke(cx: &Context<'_>, facts: &Facts) -> Finding {
    let (runtime, rootlesskit, plan) = match prerequisites(cx, facts) {
        Ok(ready) => ready,
        Err(skip) => return *skip,
    };
    let state_dir = runtime.join(format!("rootless-setup-smoke-{}", std::process::id()));
    let path_env = probe_path(cx, facts, &plan, &rootlesskit);
    let mut args = rootlesskit_args(&plan, &state_dir);
    let by_hand = format!(
        "PATH={} {} --debug {} /bin/sh -c {}",
        shell::quote(&path_env),
        shell::quote_path(&rootlesskit),
        args.iter()
            .map(|a| shell::quote(a))
            .collect::<Vec<_>>()
            .join(" "),
        shell::quote(SCRIPT)
    );
    args.extend(["/bin/sh".to_owned(), "-c".to_owned(), SCRIPT.to_owned()]);
    let invocation = Invocation::new(&rootlesskit)
        .args(args)
        .env("PATH", &path_env)
        .timeout(DEADLINE);
    let result = cx.system.run(&invocation);
    let left_behind = cx.host.exists(&state_dir);

    let finding = Finding::pass(ID, "")
        .observe("command", invocation.display())
        .observe("path", &path_env)
        .observe("network_driver", &plan.driver)
        .observe("port_driver", &plan.port_driver)
        .observe("mtu", plan.mtu)
        .observe("state_dir", state_dir.display())
        .observe(
            "state_dir_left_behind",
            if left_behind { "yes" } else { "no" },
        );
    let cleanup = format!("rm -rf -- {}", shell::quote_path(&state_dir));

    let out = match result {
        Ok(out) => out,
        Err(e) => {
            return fail(
                finding,
                format!("could not run {}: {}", rootlesskit.display(), e.source),
                "rootlesskit is installed but cannot be started, so the engine cannot start either",
                Fix::user(ID, "check that rootlesskit runs at all")
                    .cmd(format!("{} --version", shell::quote_path(&rootlesskit))),
            );
        }
    };
    let finding = finding
        .observe("elapsed_ms", out.elapsed.as_millis())
        .observe(
            "exit_code",
            out.code
                .map_or_else(|| "none".to_owned(), |c| c.to_string()),
        );

    if out.timed_out {
        return hung(finding, &by_hand, left_behind.then_some(cleanup.as_str()));
    }
    if !out.success() {
        return failed_run(
            cx,
            facts,
            &plan,
            finding,
            &out,
            &by_hand,
            left_behind.then_some(cleanup.as_str()),
        );
    }
    verify_output(
        facts,
        finding,
        &out,
        &plan,
        cx.caller.uid,
        left_behind.then_some(cleanup),
    )
}

fn fail(finding: Finding, summary: String, why: &str, fix: Fix) -> Finding {
    Finding {
        status: Status::Fail,
        summary,
        ..finding
    }
    .why(why)
    .fix(fix)
}

/// rootlesskit ran past the deadline and was killed.
fn hung(finding: Finding, by_hand: &str, cleanup: Option<&str>) -> Finding {
    let mut fix = Fix::user(
        ID,
        "run it by hand with --debug to see where it hangs, then remove the state directory it left",
    )
    .cmd(by_hand);
    if let Some(cleanup) = cleanup {
        fix = fix.cmd(cleanup);
    }
    fail(
        finding,
        format!(
            "rootlesskit hung for {} s and was killed",
            DEADLINE.as_secs()
        ),
        "the engine's unit would hang the same way at start",
        fix,
    )
}

fn failed_run(
    cx: &Context<'_>,
    facts: &Facts,
    plan: &NetworkPlan,
    finding: Finding,
    out: &Output,
    by_hand: &str,
    cleanup: Option<&str>,
) -> Finding {
    let last = out.last_line();
    let finding = finding.observe("stderr_last_line", last);
    let cause = classify(&out.stderr);
    let (finding, why, fix) = advice(cx, facts, plan, &cause, finding);
    let mut fix = fix.cmd(by_hand);
    if let Some(cleanup) = cleanup {
        fix = fix.cmd(cleanup);
    }
    let error = match cause {
        Cause::NotReady => NOT_READY.to_owned(),
        _ => elide_go_structs(error_line(&out.stderr).unwrap_or(last)),
    };
    let summary = match out.code {
        Some(code) => format!("rootlesskit exited with {code}: {error}"),
        None => format!("rootlesskit was killed: {error}"),
    };
    fail(finding, summary, &why, fix)
}

/// Why rootlesskit's failure of `cause` matters and what fixes it; a missing tun device also
/// observes the device's mode.
fn advice(
    cx: &Context<'_>,
    facts: &Facts,
    plan: &NetworkPlan,
    cause: &Cause,
    mut finding: Finding,
) -> (Finding, String, Fix) {
    let (why, fix) = match cause {
        Cause::IdMap => (
            "rootlesskit could not map the subordinate ids with newuidmap/newgidmap, so no rootless engine can start".to_owned(),
            Fix::root(ID, "fix the subordinate id ranges and the mapping helpers; `rootless-setup explain subid.uid` and `rootless-setup explain uidmap` show how"),
        ),
        Cause::Tun => {
            let tun = cx.host.stat("/dev/net/tun").ok().flatten();
            finding = finding.observe(
                "tun_mode",
                tun.map_or_else(|| "absent".to_owned(), |i| format!("{:04o}", i.perms())),
            );
            let fix = match tun {
                Some(info) if info.perms() & 0o006 != 0o006 => Fix::root(
                    ID,
                    "make /dev/net/tun usable by everyone, as udev normally does (in a container, pass the device through with that mode)",
                )
                .remedy(Remedy::OpenTun { mode: info.perms() }),
                None => Fix::root(ID, "load the tun module now and at every boot")
                    .remedy(Remedy::LoadModules(Modules::Tun)),
                // The device is there and usable: loading the module is only advice, for a
                // person to judge; the script leaves it by hand.
                Some(_) => Fix::root(ID, "load the tun module now and at every boot")
                    .cmds(Remedy::LoadModules(Modules::Tun).commands()),
            };
            (
                "slirp4netns needs /dev/net/tun to create the namespace's tap0 device; without it containers have no network".to_owned(),
                fix,
            )
        }
        Cause::NotOnPath(name) => (
            format!("rootlesskit runs {name} by name and did not find it on the PATH it was given"),
            Fix::root(ID, format!("install {name}, or put its directory on PATH (install writes the unit's PATH from what engine.binaries found)")),
        ),
        Cause::Unsupported => {
            let version = facts
                .binary("rootlesskit")
                .and_then(|b| b.version.as_deref())
                .unwrap_or("unknown");
            (
                format!(
                    "this rootlesskit (version {version}) cannot run --net={} with --port-driver={}, so the engine could not start with them",
                    plan.driver, plan.port_driver
                ),
                Fix::user(
                    ID,
                    "choose a network driver this rootlesskit supports (slirp4netns works with every version), or install rootlesskit 2.0 or later for pasta, 3.0 or later for gvisor-tap-vsock",
                ),
            )
        }
        Cause::Denied => {
            let mut note = String::from(
                "unprivileged user namespaces are restricted for rootlesskit; see `rootless-setup explain userns.sysctl` and `rootless-setup explain userns.apparmor`",
            );
            if cx.distro.is_ubuntu_at_least(23, 10) {
                note.push_str(" (on this Ubuntu an AppArmor profile must allow userns for rootlesskit's real path)");
            }
            (
                "the kernel or a security profile denied rootlesskit a namespace operation that the plain probe was allowed".to_owned(),
                Fix::root(ID, note),
            )
        }
        Cause::NotReady => (
            "rootlesskit writes child_pid once its network and port drivers are up; the engine's unit would hang or fail at start the same way".to_owned(),
            Fix::user(ID, "run it by hand with --debug to see where the port driver stops"),
        ),
        Cause::Other => (
            "the engine's unit would fail the same way at start".to_owned(),
            Fix::user(ID, "run it by hand with --debug to see the whole error"),
        ),
    };
    (finding, why, fix)
}

fn verify_output(
    facts: &Facts,
    mut finding: Finding,
    out: &Output,
    plan: &NetworkPlan,
    uid: u32,
    cleanup: Option<String>,
) -> Finding {
    let Some(child_pid) = parse_ready(&out.stdout) else {
        return fail(
            finding,
            "the shell inside rootlesskit exited without seeing rootlesskit ready".to_owned(),
            "rootlesskit writes child_pid once its network and port drivers are up; without it nothing shows that the port driver started",
            Fix::user(
                ID,
                "run rootlesskit by hand with --debug and read the port driver's messages",
            ),
        );
    };
    finding = finding.observe("child_pid", child_pid);
    let map = parse_uid_map(&out.stdout);
    let links = parse_links(&out.stdout);
    let mapped: u64 = map.iter().map(|l| l.count).fold(0, u64::saturating_add);
    let expected = facts
        .subuids
        .as_ref()
        .map(|r| r.iter().map(|r| r.count).fold(1u64, u64::saturating_add));
    finding = finding
        .observe(
            "uid_map",
            map.iter()
                .map(|l| format!("{} {} {}", l.inside, l.outside, l.count))
                .collect::<Vec<_>>()
                .join(", "),
        )
        .observe("mapped_ids", mapped)
        .observe(
            "links",
            links
                .iter()
                .map(|l| l.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        );
    if let Some(expected) = expected {
        finding = finding.observe("expected_ids", expected);
    }
    let own = map
        .iter()
        .any(|l| l.inside == 0 && l.outside == u64::from(uid) && l.count >= 1);
    let full = expected.map_or(mapped > 1, |e| mapped == e);
    if !own || !full {
        return fail(
            finding,
            format!(
                "rootlesskit mapped {mapped} ids{} ({})",
                expected
                    .map(|e| format!(", expected {e}"))
                    .unwrap_or_default(),
                if own {
                    "subordinate ranges incomplete"
                } else {
                    "your uid is not root inside"
                }
            ),
            "rootlesskit reads the subordinate ranges itself (getsubids or /etc/subuid); with fewer ids images whose files belong to other users fail to unpack",
            Fix::root(
                ID,
                "make the ranges rootlesskit sees match subid.uid's; `rootless-setup explain subid.uid` shows how",
            ),
        );
    }
    verify_network(finding, out, plan, &links, mapped, cleanup)
}

/// With the ids mapped: the driver's interface is up with the planned MTU, and rootlesskit
/// left no state directory behind.
fn verify_network(
    mut finding: Finding,
    out: &Output,
    plan: &NetworkPlan,
    links: &[Link],
    mapped: u64,
    cleanup: Option<String>,
) -> Finding {
    let interface = expected_interface(&plan.driver);
    let link = interface.and_then(|i| links.iter().find(|l| l.name == i));
    if let Some(i) = interface {
        let Some(link) = link else {
            let names: Vec<&str> = links.iter().map(|l| l.name.as_str()).collect();
            return fail(
                finding,
                format!(
                    "no {i} interface inside the namespace (saw {})",
                    names.join(", ")
                ),
                &format!(
                    "{} did not attach its interface, so containers would have no network",
                    plan.driver
                ),
                Fix::user(
                    ID,
                    "run rootlesskit by hand with --debug and read the driver's messages",
                ),
            );
        };
        if let Some(mtu) = link.mtu {
            finding = finding.observe("interface_mtu", mtu);
        }
    }
    let summary = format!(
        "rootlesskit ran with {} in {} ms: {mapped} ids mapped{}",
        plan.driver,
        out.elapsed.as_millis(),
        match (interface, link.and_then(|l| l.mtu)) {
            (Some(i), Some(mtu)) => format!(", {i} up with mtu {mtu}"),
            (Some(i), None) => format!(", {i} up"),
            _ => String::new(),
        }
    );
    if let Some(mtu) = link.and_then(|l| l.mtu).filter(|m| *m != plan.mtu) {
        return Finding {
            status: Status::Warn,
            summary: format!(
                "{summary}; but the mtu is {mtu}, not the planned {}",
                plan.mtu
            ),
            ..finding
        }
        .why("a smaller MTU than planned slows container traffic, a larger one can drop packets")
        .fix(Fix::user(
            ID,
            "choose an MTU the driver accepts with `rootless-setup install --mtu`",
        ));
    }
    if let Some(cleanup) = cleanup {
        return Finding {
            status: Status::Warn,
            summary: format!("{summary}; but its state directory was left behind"),
            ..finding
        }
        .why("rootlesskit normally removes its state directory on exit; a leftover one holds a stale lock and clutters XDG_RUNTIME_DIR")
        .fix(Fix::user(ID, "remove the leftover state directory").cmd(cleanup));
    }
    Finding { summary, ..finding }
}

#[cfg(test)]
#[path = "smoke_tests.rs"]
mod tests;
