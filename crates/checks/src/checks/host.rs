//! `host.init`: what runs as PID 1 and what kind of host this is (core's
//! [`HostInit`]), and what works where systemd does not run the engine. The later checks read
//! it from [`Facts::host`] so that no advice on such a host names `machinectl`, `loginctl` or
//! `systemctl`.

use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::init::{self, HostInit, Init, SYSTEMD_BOOTED, WSL_DISTRO_VAR, Wsl};
use rootless_setup_core::model::Facts;

use crate::context::Context;

const ID: CheckId = CheckId::HostInit;

/// Why systemd as PID 1 matters, for every failure.
const WHY: &str = "install runs the engine as a systemd user service, which the user manager \
    starts, restarts and (with linger) keeps after logout; without systemd as PID 1 there is no \
    user manager, no user bus and no logind, so that cannot work and the engine has to be \
    started another way";

/// Detects the host's init and records it for the later checks.
pub(crate) fn init(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    let host = HostInit::detect(cx.host, cx.caller.var(WSL_DISTRO_VAR));
    let finding = judge(cx, &host);
    facts.host = Some(host);
    finding
}

fn judge(cx: &Context<'_>, host: &HostInit) -> Finding {
    let observed = |f: Finding| observe(f, host);
    if host.wsl == Some(Wsl::One) {
        return observed(Finding::fail(ID, host.summary().unwrap_or_default()))
            .why(
                "WSL1 translates Linux system calls on the Windows kernel and implements no user \
             namespaces, which every rootless engine is built on; WSL2 runs a real Linux kernel",
            )
            .fix(fix(cx, host));
    }
    match host.init {
        Init::Systemd => observed(Finding::pass(
            ID,
            match host.wsl {
                Some(wsl) => format!("systemd is PID 1 ({})", wsl.name()),
                None => "systemd is PID 1".to_owned(),
            },
        )),
        Init::Unknown => observed(Finding::warn(
            ID,
            format!(
                "could not tell what runs as PID 1: no {SYSTEMD_BOOTED}, and PID 1's name is \
                 not readable"
            ),
        ))
        .why(
            "install needs systemd as PID 1 to run the engine as a user service; the session \
             checks tell whether a user manager answers",
        ),
        _ => observed(Finding::fail(ID, host.summary().unwrap_or_default()))
            .why(WHY)
            .fix(fix(cx, host)),
    }
}

/// What works on this host, from core's one description of it.
fn fix(cx: &Context<'_>, host: &HostInit) -> Fix {
    let script_dir = init::script_dir(cx.host, cx.engine, cx.caller.path_dirs());
    match host.alternative(cx.engine, script_dir.as_deref()) {
        Some(alt) => {
            // Editing /etc/wsl.conf needs root; starting the engine by hand must not.
            let fix = if alt.commands.iter().any(|c| c.contains("sudo ")) {
                Fix::root(ID, alt.summary)
            } else {
                Fix::user(ID, alt.summary)
            };
            fix.cmds(alt.commands)
        }
        None => Fix::user(ID, "use a host booted with systemd"),
    }
}

fn observe(f: Finding, host: &HostInit) -> Finding {
    let mut f = f
        .observe("init", host.init.name())
        .observe("pid1", host.pid1_name().unwrap_or("unreadable"))
        .observe("systemd_booted", host.systemd_booted);
    if let Some(exe) = &host.pid1_exe {
        f = f.observe("pid1_exe", exe.display());
    }
    if let Some(sign) = &host.container {
        f = f.observe("container", sign);
    }
    if let Some(wsl) = host.wsl {
        f = f
            .observe("wsl", wsl.name())
            .observe("wsl_conf", &host.wsl_conf);
    }
    f
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;
