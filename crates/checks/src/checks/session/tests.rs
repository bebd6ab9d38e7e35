//! Fixture tests of the `session.*` checks: every status of every check, with scripted bus
//! answers (nothing here touches a real D-Bus).

use std::os::unix::net::UnixListener;

use super::*;
use crate::caller::Caller;
use crate::system::ManagerInfo;
use crate::testing::{Harness, ScriptedSystem};
use rootless_setup_core::finding::Status;
use rootless_setup_core::testing::Fixture;

const RUN: &str = "/run/user/1000";
const BUS: &str = "unix:path=/run/user/1000/bus";

/// A systemd Debian host where alice (1000) has a proper session directory.
fn host() -> Fixture {
    let f = Fixture::new();
    f.file("/etc/os-release", "ID=debian\nVERSION_ID=12\n")
        .file(
            "/etc/passwd",
            "root:x:0:0::/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n",
        )
        .dir(SYSTEMD_BOOTED)
        .dir(RUN)
        .meta(RUN, "uid=1000 gid=1000 mode=0700")
        .file(DBUS_USER_SOCKET_UNIT, "[Socket]\n");
    f
}

/// Binds a real unix socket at `/run/user/1000/bus` in the fixture, owned (as the checker sees
/// it) by `owner`. The listener must live as long as the test needs the socket.
fn with_socket(f: &Fixture, owner: u32) -> UnixListener {
    let listener = UnixListener::bind(f.path("/run/user/1000/bus")).expect("bind fixture socket");
    f.meta(
        "/run/user/1000/bus",
        &format!("uid={owner} gid={owner} mode=0666"),
    );
    listener
}

fn alice() -> Caller {
    Caller::new(1000, 1000).with_var("XDG_RUNTIME_DIR", RUN)
}

fn running() -> BusAnswer<ManagerInfo> {
    manager("running")
}

fn manager(state: &str) -> BusAnswer<ManagerInfo> {
    BusAnswer::Ok(ManagerInfo {
        version: "252.36-1~deb12u1".into(),
        state: state.into(),
    })
}

type Check = fn(&Context<'_>, &Facts) -> Finding;

fn run(
    check: Check,
    f: &Fixture,
    caller: Caller,
    system: ScriptedSystem,
) -> (Finding, Vec<String>) {
    let h = Harness::new(f, caller, system);
    let finding = check(&h.context(), &Facts::default());
    (finding, h.system.calls())
}

fn fix_text(f: &Finding) -> String {
    let fix = f.fix.as_ref().expect("a fix");
    format!("{}\n{}", fix.summary, fix.commands.join("\n"))
}

// ---- session.runtime-dir ----------------------------------------------------------------

#[test]
fn runtime_dir_passes_for_a_logind_directory() {
    let (f, _) = run(runtime_dir, &host(), alice(), ScriptedSystem::new());
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("xdg_runtime_dir"), Some(RUN));
    assert_eq!(f.observed("mode"), Some("0700"));
    assert_eq!(f.observed("owner"), Some("1000"));
}

#[test]
fn runtime_dir_unset_fails_and_explains_su() {
    let (f, _) = run(
        runtime_dir,
        &host(),
        Caller::new(1000, 1000),
        ScriptedSystem::new(),
    );
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "XDG_RUNTIME_DIR is not set");
    assert_eq!(f.observed("expected"), Some(RUN));
    assert_eq!(f.observed("expected_exists"), Some("true"));
    assert!(f.why.as_deref().unwrap_or("").contains("sudo -iu"));
    let fix = fix_text(&f);
    assert!(fix.contains("sudo machinectl shell alice@"), "{fix}");
    assert!(fix.contains("sudo loginctl enable-linger alice"), "{fix}");
    assert!(fix.contains("ssh alice@localhost"), "{fix}");
}

#[test]
fn runtime_dir_of_another_user_fails() {
    let fx = host();
    fx.meta(RUN, "uid=1001 gid=1001 mode=0700");
    let (f, _) = run(runtime_dir, &fx, alice(), ScriptedSystem::new());
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("owner"), Some("1001"));
    assert!(f.summary.contains("owned by uid 1001"), "{}", f.summary);
    assert!(fix_text(&f).contains("machinectl shell alice@"));
}

#[test]
fn runtime_dir_with_a_loose_mode_fails() {
    let fx = host();
    fx.meta(RUN, "uid=1000 gid=1000 mode=0755");
    let (f, _) = run(runtime_dir, &fx, alice(), ScriptedSystem::new());
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("mode"), Some("0755"));
    assert!(fix_text(&f).contains("chmod 0700 /run/user/1000"));
}

#[test]
fn runtime_dir_missing_or_not_a_directory_fails() {
    let (f, _) = run(
        runtime_dir,
        &host(),
        Caller::new(1000, 1000).with_var("XDG_RUNTIME_DIR", "/run/user/1234"),
        ScriptedSystem::new(),
    );
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("does not exist"), "{}", f.summary);

    let fx = host();
    fx.remove(RUN)
        .file(RUN, "")
        .meta(RUN, "uid=1000 gid=1000 mode=0700");
    let (f, _) = run(runtime_dir, &fx, alice(), ScriptedSystem::new());
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("not a directory"), "{}", f.summary);
}

#[test]
fn runtime_dir_under_tmp_fails() {
    let fx = host();
    fx.dir("/tmp/xdg-1000")
        .meta("/tmp/xdg-1000", "uid=1000 gid=1000 mode=0700");
    let (f, _) = run(
        runtime_dir,
        &fx,
        Caller::new(1000, 1000).with_var("XDG_RUNTIME_DIR", "/tmp/xdg-1000"),
        ScriptedSystem::new(),
    );
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("temporary directory"), "{}", f.summary);
    assert!(fix_text(&f).contains("unset XDG_RUNTIME_DIR"));
}

#[test]
fn runtime_dir_elsewhere_warns_on_systemd_hosts_only() {
    let fx = host();
    fx.dir("/run/xdg/alice")
        .meta("/run/xdg/alice", "uid=1000 gid=1000 mode=0700");
    let caller = || Caller::new(1000, 1000).with_var("XDG_RUNTIME_DIR", "/run/xdg/alice");
    let (f, _) = run(runtime_dir, &fx, caller(), ScriptedSystem::new());
    assert_eq!(f.status, Status::Warn, "{f:?}");
    assert_eq!(f.observed("expected"), Some("/run/user/1000"));
    assert!(fix_text(&f).contains("export XDG_RUNTIME_DIR=/run/user/1000"));

    fx.remove(SYSTEMD_BOOTED);
    let (f, _) = run(runtime_dir, &fx, caller(), ScriptedSystem::new());
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("systemd_booted"), Some("false"));
}

#[test]
fn runtime_dir_relative_fails() {
    let (f, _) = run(
        runtime_dir,
        &host(),
        Caller::new(1000, 1000).with_var("XDG_RUNTIME_DIR", "run/user/1000"),
        ScriptedSystem::new(),
    );
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("not an absolute path"), "{}", f.summary);
}

// ---- session.bus ------------------------------------------------------------------------

#[test]
fn bus_passes_when_the_socket_exists_and_answers() {
    let fx = host();
    let _socket = with_socket(&fx, 1000);
    let system = ScriptedSystem::new().bus(BusAnswer::Ok(()));
    let (f, calls) = run(bus, &fx, alice(), system);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("address"), Some(BUS));
    assert_eq!(f.observed("address_from"), Some("XDG_RUNTIME_DIR"));
    assert_eq!(f.observed("socket"), Some("/run/user/1000/bus"));
    assert_eq!(f.observed("dbus_user_session"), Some("installed"));
    assert_eq!(calls, vec![format!("ping {BUS}")]);
}

#[test]
fn bus_prefers_dbus_session_bus_address() {
    let fx = host();
    let system = ScriptedSystem::new().bus(BusAnswer::Ok(()));
    let caller = alice().with_var("DBUS_SESSION_BUS_ADDRESS", "unix:abstract=/tmp/dbus-XYZ");
    let (f, calls) = run(bus, &fx, caller, system);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("address_from"), Some("DBUS_SESSION_BUS_ADDRESS"));
    assert_eq!(f.observed("socket"), None);
    assert_eq!(calls, vec!["ping unix:abstract=/tmp/dbus-XYZ".to_owned()]);
}

/// The check reads the variables as install does (`rootless_setup_systemd::address`): trimmed,
/// a blank one unset.
#[test]
fn bus_ignores_a_blank_dbus_session_bus_address_as_install_does() {
    let fx = host();
    let _socket = with_socket(&fx, 1000);
    let system = ScriptedSystem::new().bus(BusAnswer::Ok(()));
    let caller = alice().with_var("DBUS_SESSION_BUS_ADDRESS", " \n");
    let (f, calls) = run(bus, &fx, caller, system);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("address"), Some(BUS));
    assert_eq!(f.observed("address_from"), Some("XDG_RUNTIME_DIR"));
    assert_eq!(calls, vec![format!("ping {BUS}")]);
}

#[test]
fn bus_without_socket_fails_before_pinging_and_suggests_dbus_user_session() {
    let fx = host();
    fx.remove(DBUS_USER_SOCKET_UNIT);
    let (f, calls) = run(
        bus,
        &fx,
        alice(),
        ScriptedSystem::new().bus(BusAnswer::Ok(())),
    );
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "no user bus socket at /run/user/1000/bus");
    assert_eq!(f.observed("dbus_user_session"), Some("missing"));
    assert!(calls.is_empty(), "{calls:?}");
    let fix = f.fix.as_ref().expect("fix");
    assert!(fix.root);
    assert_eq!(
        fix.commands,
        vec!["sudo apt-get install -y dbus-user-session"]
    );
}

#[test]
fn bus_without_socket_on_fedora_explains_the_session() {
    let fx = host();
    fx.file("/etc/os-release", "ID=fedora\nVERSION_ID=40\n")
        .remove(DBUS_USER_SOCKET_UNIT);
    let (f, _) = run(bus, &fx, alice(), ScriptedSystem::new());
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("dbus_user_session"), None);
    let fix = fix_text(&f);
    assert!(fix.contains("machinectl shell alice@"), "{fix}");
    assert!(!fix.contains("dnf"), "{fix}");
}

#[test]
fn bus_with_neither_variable_fails() {
    let (f, calls) = run(bus, &host(), Caller::new(1000, 1000), ScriptedSystem::new());
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.summary
            .contains("neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR")
    );
    assert!(f.why.as_deref().unwrap_or("").contains("`su`"));
    assert!(calls.is_empty());
}

#[test]
fn bus_of_another_user_fails() {
    let fx = host();
    let _socket = with_socket(&fx, 1001);
    let (f, calls) = run(
        bus,
        &fx,
        alice(),
        ScriptedSystem::new().bus(BusAnswer::Ok(())),
    );
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("socket_owner"), Some("1001"));
    assert!(f.summary.contains("belongs to uid 1001"), "{}", f.summary);
    assert!(calls.is_empty());
}

#[test]
fn bus_that_is_not_a_socket_fails() {
    let fx = host();
    fx.file("/run/user/1000/bus", "")
        .meta("/run/user/1000/bus", "uid=1000");
    let (f, _) = run(
        bus,
        &fx,
        alice(),
        ScriptedSystem::new().bus(BusAnswer::Ok(())),
    );
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("is not a socket"), "{}", f.summary);
}

#[test]
fn bus_that_does_not_answer_fails_with_the_error() {
    let fx = host();
    let _socket = with_socket(&fx, 1000);
    let system = ScriptedSystem::new().bus(BusAnswer::Unreachable("connection refused".into()));
    let (f, calls) = run(bus, &fx, alice(), system);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("error"), Some("connection refused"));
    assert_eq!(calls.len(), 1);
    assert!(fix_text(&f).contains("machinectl shell alice@"));
}

// ---- session.systemd --------------------------------------------------------------------

#[test]
fn systemd_running_passes_with_version_and_state() {
    let system = ScriptedSystem::new().manager(running());
    let (f, calls) = run(systemd, &host(), alice(), system);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("version"), Some("252.36-1~deb12u1"));
    assert_eq!(f.observed("state"), Some("running"));
    assert_eq!(calls, vec![format!("manager {BUS}")]);
}

#[test]
fn systemd_degraded_warns_with_failed_units() {
    let (f, _) = run(
        systemd,
        &host(),
        alice(),
        ScriptedSystem::new().manager(manager("degraded")),
    );
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.observed("state"), Some("degraded"));
    assert!(fix_text(&f).contains("systemctl --user --failed"));
}

#[test]
fn systemd_starting_warns() {
    for state in ["starting", "initializing"] {
        let (f, _) = run(
            systemd,
            &host(),
            alice(),
            ScriptedSystem::new().manager(manager(state)),
        );
        assert_eq!(f.status, Status::Warn, "{state}");
        assert!(fix_text(&f).contains("is-system-running --wait"));
    }
}

#[test]
fn systemd_stopping_fails() {
    let (f, _) = run(
        systemd,
        &host(),
        alice(),
        ScriptedSystem::new().manager(manager("stopping")),
    );
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.ends_with("is stopping"), "{}", f.summary);
}

#[test]
fn systemd_unreachable_fails_and_explains() {
    let system = ScriptedSystem::new().manager(BusAnswer::Unreachable("ServiceUnknown".into()));
    let (f, _) = run(systemd, &host(), alice(), system);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("error"), Some("ServiceUnknown"));
    assert!(fix_text(&f).contains("machinectl shell alice@"));
}

#[test]
fn systemd_unreachable_on_a_foreign_bus_says_to_unset_it() {
    let caller = alice().with_var("DBUS_SESSION_BUS_ADDRESS", "unix:abstract=/tmp/dbus-XYZ");
    let (f, _) = run(systemd, &host(), caller, ScriptedSystem::new());
    assert_eq!(f.status, Status::Fail);
    assert!(fix_text(&f).contains("unset DBUS_SESSION_BUS_ADDRESS"));
}

#[test]
fn systemd_unreachable_without_systemd_says_so() {
    let fx = host();
    fx.remove(SYSTEMD_BOOTED);
    let (f, _) = run(systemd, &fx, alice(), ScriptedSystem::new());
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.why
            .as_deref()
            .unwrap_or("")
            .contains("not booted with systemd")
    );
}

#[test]
fn systemd_without_an_address_skips() {
    let (f, calls) = run(
        systemd,
        &host(),
        Caller::new(1000, 1000),
        ScriptedSystem::new(),
    );
    assert_eq!(f.status, Status::Skip);
    assert!(calls.is_empty());
}

// ---- session.linger ---------------------------------------------------------------------

#[test]
fn linger_on_from_logind_passes() {
    let (f, calls) = run(
        linger,
        &host(),
        alice(),
        ScriptedSystem::new().linger(BusAnswer::Ok(true)),
    );
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("source"), Some("logind"));
    assert_eq!(f.observed("linger"), Some("on"));
    assert_eq!(calls, vec!["linger 1000".to_owned()]);
}

#[test]
fn linger_off_warns_with_enable_linger() {
    let (f, _) = run(
        linger,
        &host(),
        alice(),
        ScriptedSystem::new().linger(BusAnswer::Ok(false)),
    );
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.summary, "linger is off for alice");
    let fix = f.fix.as_ref().expect("fix");
    assert!(fix.root);
    assert_eq!(fix.commands, vec!["sudo loginctl enable-linger alice"]);
}

#[test]
fn linger_falls_back_to_the_file_when_logind_is_unreachable() {
    let fx = host();
    fx.file("/var/lib/systemd/linger/alice", "");
    let (f, _) = run(linger, &fx, alice(), ScriptedSystem::new());
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("source"), Some("linger file"));
    assert_eq!(f.observed("logind_error"), Some("scripted: no bus"));

    fx.remove("/var/lib/systemd/linger/alice");
    let (f, _) = run(linger, &fx, alice(), ScriptedSystem::new());
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.observed("source"), Some("linger file"));
}

#[test]
fn linger_logind_wins_over_a_stale_file() {
    let fx = host();
    fx.file("/var/lib/systemd/linger/alice", "");
    let (f, _) = run(
        linger,
        &fx,
        alice(),
        ScriptedSystem::new().linger(BusAnswer::Ok(false)),
    );
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.observed("source"), Some("logind"));
}

#[test]
fn linger_skips_without_account_or_without_systemd() {
    let (f, calls) = run(
        linger,
        &host(),
        Caller::new(4242, 4242),
        ScriptedSystem::new(),
    );
    assert_eq!(f.status, Status::Skip);
    assert!(calls.is_empty());

    let fx = host();
    fx.remove(SYSTEMD_BOOTED);
    let (f, _) = run(linger, &fx, alice(), ScriptedSystem::new());
    assert_eq!(f.status, Status::Skip, "{f:?}");
    assert!(f.summary.contains("not a systemd host"));
}

#[test]
fn commands_quote_odd_names() {
    let fx = host();
    fx.file("/etc/passwd", "o'neil:x:1000:1000::/home/o:/bin/sh\n");
    let (f, _) = run(
        linger,
        &fx,
        alice(),
        ScriptedSystem::new().linger(BusAnswer::Ok(false)),
    );
    assert_eq!(
        f.fix.expect("fix").commands,
        vec![r"sudo loginctl enable-linger 'o'\''neil'"]
    );
}

/// Whether systemd booted the host is `host.init`'s answer when it ran, not a second look.
#[test]
fn systemd_booted_comes_from_host_init_when_it_ran() {
    let booted = Fixture::new();
    booted.dir("/run/systemd/system");
    let mut facts = Facts {
        host: Some(HostInit::detect(&booted.host(), None)),
        ..Facts::default()
    };
    let elsewhere = Fixture::new();
    let h = Harness::new(&elsewhere, alice(), ScriptedSystem::new());
    assert!(systemd_booted(&h.context(), &facts));
    facts.host = None;
    assert!(
        !systemd_booted(&h.context(), &facts),
        "read afresh: not here"
    );
}
