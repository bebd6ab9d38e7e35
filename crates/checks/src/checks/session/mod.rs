//! The `session.*` checks: a real login session for the caller. `session.runtime-dir` looks at
//! `XDG_RUNTIME_DIR`, `session.bus` pings the user D-Bus, `session.systemd` asks the systemd user
//! manager for its state over that bus and `session.linger` asks logind (or the linger file)
//! whether the user manager outlives the last session.
//!
//! The usual way to fail all of them is `su USER` or `sudo -iu USER`: both switch the user id
//! without opening a logind session, so there is no runtime directory, no user bus and no user
//! manager. The fixes explain that and name the ways that do open one.
//!
//! On a host known to run without systemd (`host.init`) there is no session to open: the bus,
//! manager and linger checks are skipped saying so, and the runtime directory's fix is the one
//! Docker's guide gives there (a directory the user makes).

use std::path::{Path, PathBuf};

use rootless_setup_systemd::address::{unix_socket_path, user_bus_address};

use super::user::caller_account;
use crate::context::Context;
use crate::system::BusAnswer;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::distro::{Family, Package};
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::host::FileInfo;
use rootless_setup_core::init::{self, HostInit, SYSTEMD_BOOTED};
use rootless_setup_core::model::Facts;
use rootless_setup_core::remedy::Remedy;
use rootless_setup_core::shell;

/// Installed by Debian's `dbus-user-session`: the user manager's D-Bus socket unit.
const DBUS_USER_SOCKET_UNIT: &str = "/usr/lib/systemd/user/dbus.socket";
/// logind's linger flag files.
const LINGER_DIR: &str = "/var/lib/systemd/linger";

const SU_STORY: &str = "`su` and `sudo -iu` switch the user id but open no logind session, so \
    there is no XDG_RUNTIME_DIR, no user D-Bus and no systemd user manager to run the engine";

const NO_LOGIND_STORY: &str = "the engine keeps its API socket, pid files and network \
    namespace under XDG_RUNTIME_DIR; without systemd no login manager makes that directory, so \
    the user makes it (and removes it at logout)";

/// The caller's login name for fix commands, shell-quoted: the account `user` found, else a
/// passwd lookup, else `$USER` for the shell to expand.
fn name_for_commands(cx: &Context<'_>, facts: &Facts) -> String {
    account_name(cx, facts).map_or_else(|| "\"$USER\"".to_owned(), |n| shell::quote(&n))
}

fn account_name(cx: &Context<'_>, facts: &Facts) -> Option<String> {
    caller_account(cx, facts).map(|a| a.name)
}

/// Whether systemd booted the host, as `host.init` found it (read afresh only when it did not
/// run).
fn systemd_booted(cx: &Context<'_>, facts: &Facts) -> bool {
    facts
        .host
        .as_ref()
        .map_or_else(|| cx.host.exists(SYSTEMD_BOOTED), |h| h.systemd_booted)
}

/// The fix for "this shell is not in a login session".
fn login_fix(id: CheckId, name: &str) -> Fix {
    Fix::user(
        id,
        format!(
            "open a real login session as {name} and run rootless-setup there: ssh, a console or \
             graphical login, or from an administrator's shell `machinectl shell {name}@`; \
             with linger on (`loginctl enable-linger`) the user manager also runs without any \
             session"
        ),
    )
    .cmds([
        format!("ssh {name}@localhost"),
        format!("sudo loginctl enable-linger {name}"),
        format!("sudo machinectl shell {name}@"),
    ])
}

/// The fix for a missing or unusable `XDG_RUNTIME_DIR`: a real login session, or on a host
/// without systemd (where no login manager makes one) a directory the user makes, as Docker's
/// guide does; `unset_first` when the variable's value must go.
fn runtime_fix(facts: &Facts, name: &str, unset_first: bool) -> Fix {
    const ID: CheckId = CheckId::SessionRuntimeDir;
    let Some(host) = facts.without_systemd() else {
        let fix = login_fix(ID, name);
        return if unset_first {
            fix.cmd("unset XDG_RUNTIME_DIR")
        } else {
            fix
        };
    };
    let unset = unset_first.then(|| "unset XDG_RUNTIME_DIR".to_owned());
    Fix::user(
        ID,
        format!(
            "no login manager makes XDG_RUNTIME_DIR without systemd (PID 1 is {}): make a \
             directory you own, mode 0700, not under /tmp, export it in your shell start-up file \
             and remove it at logout, as Docker's rootless guide does",
            host.pid1_label()
        ),
    )
    .cmds(unset.into_iter().chain(init::runtime_dir_commands()))
}

/// The skip of a check that needs systemd, on a host known to run without it.
fn no_systemd(id: CheckId, host: &HostInit, what: &str) -> Finding {
    Finding::skip(
        id,
        format!(
            "no systemd on this host (PID 1 is {}): {what}; see `host.init` for what works here",
            host.pid1_label()
        ),
    )
}

/// `session.runtime-dir`: `XDG_RUNTIME_DIR` is set, a directory owned by the caller with mode
/// 0700, not under `/tmp`, and `/run/user/$UID` on systemd hosts.
pub(crate) fn runtime_dir(cx: &Context<'_>, facts: &Facts) -> Finding {
    const ID: CheckId = CheckId::SessionRuntimeDir;
    let name = name_for_commands(cx, facts);
    let login = runtime_fix(facts, &name, false);
    let systemd = systemd_booted(cx, facts);
    let expected = PathBuf::from(format!("/run/user/{}", cx.caller.uid));
    let Some(dir) = cx.caller.var("XDG_RUNTIME_DIR") else {
        let unset = Finding::fail(ID, "XDG_RUNTIME_DIR is not set")
            .observe("xdg_runtime_dir", "unset")
            .observe("systemd_booted", systemd);
        if facts.without_systemd().is_some() {
            return unset.why(NO_LOGIND_STORY).fix(login);
        }
        return unset
            .observe("expected", expected.display())
            .observe("expected_exists", cx.host.exists(&expected))
            .why(format!(
                "the engine keeps its API socket, pid files and network namespace under \
                 XDG_RUNTIME_DIR, which logind creates at login; {SU_STORY}"
            ))
            .fix(login);
    };
    let path = Path::new(dir);
    let observed = |f: Finding| {
        f.observe("xdg_runtime_dir", dir)
            .observe("systemd_booted", systemd)
    };
    if !path.is_absolute() {
        return observed(Finding::fail(
            ID,
            format!("XDG_RUNTIME_DIR is not an absolute path: {dir}"),
        ))
        .why("the XDG base directory specification requires an absolute path; tools resolve a relative one against their own working directory")
        .fix(
            Fix::user(ID, "unset it where your shell start-up files set it, then log in again")
                .cmd("unset XDG_RUNTIME_DIR"),
        );
    }
    let info = match cx.host.stat(path) {
        Ok(Some(info)) => info,
        Ok(None) if facts.without_systemd().is_some() => {
            return observed(Finding::fail(
                ID,
                format!("XDG_RUNTIME_DIR {dir} does not exist"),
            ))
            .why(NO_LOGIND_STORY)
            .fix(login);
        }
        Ok(None) => {
            return observed(Finding::fail(
                ID,
                format!("XDG_RUNTIME_DIR {dir} does not exist"),
            ))
            .why(format!(
                "logind creates the directory at login and removes it at the last logout; a \
                 variable pointing nowhere was inherited from a session that ended or from \
                 another user; {SU_STORY}"
            ))
            .fix(login.clone());
        }
        Err(e) => {
            return observed(Finding::fail(ID, format!("could not look at {dir}")))
                .observe("error", &e)
                .why("the engine keeps its API socket and state under XDG_RUNTIME_DIR")
                .fix(login.clone());
        }
    };
    let observed = |f: Finding| {
        observed(f)
            .observe("owner", info.uid)
            .observe("mode", format!("{:04o}", info.perms()))
    };
    if let Some(f) = runtime_dir_access(cx, dir, &info, &login) {
        return observed(f);
    }
    runtime_dir_place(cx, dir, &expected, systemd, facts, &name, observed)
}

/// The runtime directory's kind, owner and mode: the failure when the caller's engine could not
/// keep its socket there safely, else `None`.
fn runtime_dir_access(
    cx: &Context<'_>,
    dir: &str,
    info: &FileInfo,
    login: &Fix,
) -> Option<Finding> {
    const ID: CheckId = CheckId::SessionRuntimeDir;
    let uid = cx.caller.uid;
    if !info.is_dir {
        return Some(
            Finding::fail(ID, format!("XDG_RUNTIME_DIR {dir} is not a directory"))
                .why("the engine keeps its API socket, pid files and network namespace in this directory")
                .fix(login.clone()),
        );
    }
    if info.uid != uid {
        return Some(
            Finding::fail(
                ID,
                format!(
                    "XDG_RUNTIME_DIR {dir} is owned by uid {}, not by the caller (uid {uid})",
                    info.uid
                ),
            )
            .why(format!(
                "the variable was inherited from another user's session and the engine cannot \
                 create its socket there; {SU_STORY}"
            ))
            .fix(login.clone()),
        );
    }
    if info.perms() != 0o700 {
        return Some(
            Finding::fail(
                ID,
                format!(
                    "XDG_RUNTIME_DIR {dir} has mode {:04o}, not 0700",
                    info.perms()
                ),
            )
            .why(
                "the directory holds the engine's API socket, which grants control of every \
                 container; other users must not reach it, and the XDG specification requires \
                 0700",
            )
            .fix(
                Fix::user(ID, "restrict the directory to its owner")
                    .cmd(format!("chmod 0700 {}", shell::quote(dir))),
            ),
        );
    }
    None
}

/// Where the runtime directory lies: not under a temporary directory, and where logind puts it
/// on systemd hosts.
fn runtime_dir_place(
    cx: &Context<'_>,
    dir: &str,
    expected: &Path,
    systemd: bool,
    facts: &Facts,
    name: &str,
    observed: impl Fn(Finding) -> Finding,
) -> Finding {
    const ID: CheckId = CheckId::SessionRuntimeDir;
    let path = Path::new(dir);
    let canonical = cx.host.canonicalize(path);
    let in_tmp = |p: &Path| p.starts_with("/tmp") || p.starts_with("/var/tmp");
    if in_tmp(path) || canonical.as_deref().is_some_and(in_tmp) {
        let mut f = observed(Finding::fail(
            ID,
            format!("XDG_RUNTIME_DIR {dir} is under a temporary directory"),
        ));
        if let Some(c) = &canonical {
            f = f.observe("canonical", c.display());
        }
        return f
            .why(
                "systemd-tmpfiles and tmp cleaners delete old files there, taking the engine's \
                 socket and pid files with them; the runtime directory belongs to logind \
                 (/run/user/UID)",
            )
            .fix(runtime_fix(facts, name, true));
    }
    if systemd && path != expected {
        return observed(Finding::warn(
            ID,
            format!(
                "XDG_RUNTIME_DIR is {dir}, not {} as logind sets it",
                expected.display()
            ),
        ))
        .observe("expected", expected.display())
        .why(
            "the systemd user manager and the engine's unit use /run/user/UID; a different \
             directory in this shell means the client looks for the engine's socket where the \
             daemon does not put it",
        )
        .fix(
            Fix::user(
                ID,
                "remove the setting from your shell start-up files and log in again",
            )
            .cmd(format!(
                "export XDG_RUNTIME_DIR={}",
                shell::quote_path(expected)
            )),
        );
    }
    observed(Finding::pass(
        ID,
        format!(
            "XDG_RUNTIME_DIR {dir} (mode 0700, owned by uid {})",
            cx.caller.uid
        ),
    ))
}

/// The user bus address install will connect to, with the variable it came from.
fn bus_address(cx: &Context<'_>) -> Option<(String, &'static str)> {
    user_bus_address(
        cx.caller.var("DBUS_SESSION_BUS_ADDRESS"),
        cx.caller.var("XDG_RUNTIME_DIR"),
    )
    .map(|bus| (bus.address, bus.from))
}

/// The fix for an unreachable user bus: on Debian-family hosts without `dbus-user-session`,
/// install it; otherwise log in properly.
fn bus_fix(cx: &Context<'_>, id: CheckId, name: &str) -> Fix {
    if needs_dbus_user_session(cx) {
        Fix::root(
            id,
            "install dbus-user-session, which makes the systemd user manager start the user bus, \
             then log out and back in",
        )
        .remedy(Remedy::install(
            cx.distro.family,
            &[Package::DbusUserSession],
        ))
    } else {
        login_fix(id, name)
    }
}

fn needs_dbus_user_session(cx: &Context<'_>) -> bool {
    cx.distro.family == Family::Debian && !cx.host.exists(DBUS_USER_SOCKET_UNIT)
}

/// `session.bus`: the user D-Bus answers a ping.
pub(crate) fn bus(cx: &Context<'_>, facts: &Facts) -> Finding {
    const ID: CheckId = CheckId::SessionBus;
    if let Some(host) = facts.without_systemd() {
        return no_systemd(ID, host, "no user bus to reach a user manager through");
    }
    let name = name_for_commands(cx, facts);
    let debian_unit = |f: Finding| {
        if cx.distro.family == Family::Debian {
            f.observe(
                "dbus_user_session",
                if needs_dbus_user_session(cx) {
                    "missing"
                } else {
                    "installed"
                },
            )
        } else {
            f
        }
    };
    let Some((address, source)) = bus_address(cx) else {
        return debian_unit(Finding::fail(
            ID,
            "no user bus: neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set",
        ))
        .why(format!(
            "install talks to the systemd user manager over the user bus to install, start and \
             enable the engine; {SU_STORY}"
        ))
        .fix(bus_fix(cx, ID, &name));
    };
    let observed = |f: Finding| {
        debian_unit(f)
            .observe("address", &address)
            .observe("address_from", source)
    };
    match unix_socket_path(&address) {
        Some(socket) => bus_socket(cx, &address, &socket, &name, observed),
        None => ping(cx, ID, &address, &name, observed),
    }
}

/// The user bus's unix socket: there, a socket, and the caller's; then the bus answers a ping.
fn bus_socket(
    cx: &Context<'_>,
    address: &str,
    socket: &Path,
    name: &str,
    observed: impl Fn(Finding) -> Finding,
) -> Finding {
    const ID: CheckId = CheckId::SessionBus;
    let observed = |f: Finding| observed(f).observe("socket", socket.display());
    match cx.host.stat(socket) {
        Ok(None) => observed(Finding::fail(
            ID,
            format!("no user bus socket at {}", socket.display()),
        ))
        .why(format!(
            "the user manager creates the socket when dbus-user-session (or dbus-broker) \
             is installed and the user has a session; {SU_STORY}"
        ))
        .fix(bus_fix(cx, ID, name)),
        Err(e) if e.source.kind() == std::io::ErrorKind::PermissionDenied => {
            observed(Finding::fail(
                ID,
                format!(
                    "the user bus {} is out of reach of uid {} (permission denied)",
                    socket.display(),
                    cx.caller.uid
                ),
            ))
            .observe("error", &e)
            .why(format!(
                "the address was inherited from another user's session, whose runtime \
                 directory this user cannot enter; {SU_STORY}"
            ))
            .fix(login_fix(ID, name))
        }
        Err(e) => observed(Finding::fail(
            ID,
            format!("could not look at {}", socket.display()),
        ))
        .observe("error", &e)
        .why(format!(
            "without the user bus install cannot reach the user manager; {SU_STORY}"
        ))
        .fix(login_fix(ID, name)),
        Ok(Some(info)) => {
            let observed = |f: Finding| observed(f).observe("socket_owner", info.uid);
            if info.mode & 0o170_000 != 0o140_000 {
                return observed(Finding::fail(
                    ID,
                    format!("{} is not a socket", socket.display()),
                ))
                .why(
                    "the user bus listens on a unix socket; something else sits where it should be",
                )
                .fix(login_fix(ID, name));
            }
            if info.uid != cx.caller.uid {
                return observed(Finding::fail(
                    ID,
                    format!(
                        "the user bus {} belongs to uid {}, not to the caller (uid {})",
                        socket.display(),
                        info.uid,
                        cx.caller.uid
                    ),
                ))
                .why(format!(
                    "the address was inherited from another user's session, whose bus refuses \
                     this user; {SU_STORY}"
                ))
                .fix(login_fix(ID, name));
            }
            ping(cx, ID, address, name, observed)
        }
    }
}

fn ping(
    cx: &Context<'_>,
    id: CheckId,
    address: &str,
    name: &str,
    observed: impl Fn(Finding) -> Finding,
) -> Finding {
    match cx.system.ping_user_bus(address) {
        BusAnswer::Ok(()) => observed(Finding::pass(
            id,
            format!("the user bus at {address} answers"),
        )),
        BusAnswer::Unreachable(error) => observed(Finding::fail(
            id,
            format!("the user bus at {address} does not answer"),
        ))
        .observe("error", error)
        .why(format!(
            "install talks to the systemd user manager over the user bus to install, start and \
             enable the engine; {SU_STORY}"
        ))
        .fix(bus_fix(cx, id, name)),
    }
}

/// `session.systemd`: the systemd user manager answers on the user bus and is running.
pub(crate) fn systemd(cx: &Context<'_>, facts: &Facts) -> Finding {
    const ID: CheckId = CheckId::SessionSystemd;
    let name = name_for_commands(cx, facts);
    let Some((address, source)) = bus_address(cx) else {
        return Finding::skip(ID, "no user bus address (see `session.bus`)");
    };
    let systemd = systemd_booted(cx, facts);
    let observed = |f: Finding| {
        f.observe("address", &address)
            .observe("address_from", source)
            .observe("systemd_booted", systemd)
    };
    let info = match cx.system.user_manager(&address) {
        BusAnswer::Ok(info) => info,
        BusAnswer::Unreachable(error) => {
            let f = observed(Finding::fail(
                ID,
                format!("no systemd user manager answers on the user bus at {address}"),
            ))
            .observe("error", error);
            return no_user_manager(cx, f, &address, source, systemd, &name);
        }
    };
    let observed = |f: Finding| {
        observed(f)
            .observe("version", &info.version)
            .observe("state", &info.state)
    };
    match info.state.as_str() {
        "running" => observed(Finding::pass(
            ID,
            format!("systemd {} user manager is running", info.version),
        )),
        "degraded" => observed(Finding::warn(
            ID,
            format!(
                "systemd {} user manager is degraded: some user units failed",
                info.version
            ),
        ))
        .why("the engine can be installed, but a failed unit may be an earlier engine that did not start, and `systemctl --user is-system-running` will keep reporting it")
        .fix(
            Fix::user(ID, "look at the failed user units, fix or reset them")
                .cmds(["systemctl --user --failed", "systemctl --user reset-failed"]),
        ),
        "starting" | "initializing" => observed(Finding::warn(
            ID,
            format!("systemd {} user manager is still {}", info.version, info.state),
        ))
        .why("the user manager has not finished starting its units; install waits for its jobs, but a check now may see a half-started session")
        .fix(
            Fix::user(ID, "wait for the user manager to finish starting, then check again")
                .cmd("systemctl --user is-system-running --wait"),
        ),
        other => observed(Finding::fail(
            ID,
            format!("systemd {} user manager is {other}", info.version),
        ))
        .why(format!(
            "a user manager in state `{other}` does not start new units (it is shutting down, \
             offline or in maintenance), so the engine would not run"
        ))
        .fix(login_fix(ID, &name).cmd("systemctl --user status")),
    }
}

/// Why no user manager answers on the bus: a host without systemd, a bus the manager is not on,
/// or no login session.
fn no_user_manager(
    cx: &Context<'_>,
    f: Finding,
    address: &str,
    source: &str,
    systemd: bool,
    name: &str,
) -> Finding {
    const ID: CheckId = CheckId::SessionSystemd;
    if !systemd {
        return f
            .why(
                "this host was not booted with systemd (no /run/systemd/system); the \
                 engine runs as a systemd user service, which needs systemd and logind",
            )
            .fix(Fix::user(
                ID,
                "use a host booted with systemd, or start the engine by hand with \
                 dockerd-rootless.sh",
            ));
    }
    let runtime_bus =
        user_bus_address(None, cx.caller.var("XDG_RUNTIME_DIR")).map(|bus| bus.address);
    if source == "DBUS_SESSION_BUS_ADDRESS" && runtime_bus.as_deref() != Some(address) {
        return f
            .why(
                "DBUS_SESSION_BUS_ADDRESS points at a bus the systemd user manager is not \
                 on (one started by dbus-launch or an X session); install needs the user \
                 manager to run the engine",
            )
            .fix(
                Fix::user(
                    ID,
                    "use the user manager's bus: unset the variable (and remove it from \
                     your shell start-up files), then check again",
                )
                .cmds(["unset DBUS_SESSION_BUS_ADDRESS", "systemctl --user status"]),
            );
    }
    f.why(format!(
        "install creates, enables and starts the engine's unit through the user \
         manager; without it nothing runs or restarts the engine; {SU_STORY}"
    ))
    .fix(login_fix(ID, name).cmd("systemctl --user status"))
}

/// `session.linger`: logind keeps the user manager running without a session.
pub(crate) fn linger(cx: &Context<'_>, facts: &Facts) -> Finding {
    const ID: CheckId = CheckId::SessionLinger;
    if let Some(host) = facts.without_systemd() {
        return no_systemd(ID, host, "linger is logind's, which does not run here");
    }
    let uid = cx.caller.uid;
    let Some(name) = account_name(cx, facts) else {
        return Finding::skip(ID, format!("no passwd entry for uid {uid} (see `user`)"));
    };
    let file = Path::new(LINGER_DIR).join(&name);
    let (on, source, logind_error) = match cx.system.linger(uid) {
        BusAnswer::Ok(on) => (on, "logind", None),
        BusAnswer::Unreachable(error) => {
            if !systemd_booted(cx, facts) && !cx.host.exists(LINGER_DIR) {
                return Finding::skip(
                    ID,
                    "not a systemd host (no /run/systemd/system, no logind): linger does not apply",
                )
                .observe("user", &name)
                .observe("logind_error", error);
            }
            (cx.host.exists(&file), "linger file", Some(error))
        }
    };
    let observed = |f: Finding| {
        let f = f
            .observe("user", &name)
            .observe("linger", if on { "on" } else { "off" })
            .observe("source", source)
            .observe("linger_file", file.display());
        match &logind_error {
            Some(e) => f.observe("logind_error", e),
            None => f,
        }
    };
    if on {
        return observed(Finding::pass(ID, format!("linger is on for {name}")));
    }
    observed(Finding::warn(ID, format!("linger is off for {name}")))
        .why(
            "without linger systemd stops the user manager, and with it the engine and every \
             container, when the user's last session ends, and does not start it at boot",
        )
        .fix(
            Fix::root(
                ID,
                "enable linger: `rootless-setup install` does it through logind, or run the command \
                 yourself",
            )
            .remedy(Remedy::EnableLinger { user: name }),
        )
}

#[cfg(test)]
mod tests;
