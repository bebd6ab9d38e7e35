//! Fixture tests of `host.init`, and of every check's advice on hosts without systemd: none may
//! name `machinectl`, `loginctl` or `systemctl` there.

use super::*;
use crate::caller::Caller;
use crate::testing::{Harness, ScriptedSystem};
use crate::{Selection, check};
use rootless_setup_core::finding::Status;
use rootless_setup_core::init::{OSRELEASE, PID1_COMM, WSL_CONF};
use rootless_setup_core::testing::Fixture;

const PASSWD: &str = "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";

/// An Alpine-like host with alice, whatever runs as PID 1 (set by the caller).
fn base() -> Fixture {
    let f = Fixture::new();
    f.file("/etc/os-release", "ID=alpine\nVERSION_ID=3.20.0\n")
        .file("/etc/passwd", PASSWD)
        .dir("/home/alice")
        .meta("/home/alice", "uid=1000 gid=1000 mode=0700");
    f
}

fn openrc() -> Fixture {
    let f = base();
    f.file(PID1_COMM, "openrc-init\n").dir("/run/openrc");
    f
}

fn runit() -> Fixture {
    let f = base();
    f.file(PID1_COMM, "runit\n").dir("/etc/runit");
    f
}

fn container() -> Fixture {
    let f = base();
    f.file(PID1_COMM, "tini\n").file("/.dockerenv", "");
    f
}

fn wsl2(conf: Option<&str>) -> Fixture {
    let f = base();
    f.file(OSRELEASE, "5.15.153.1-microsoft-standard-WSL2\n")
        .file(PID1_COMM, "init\n");
    if let Some(conf) = conf {
        f.file(WSL_CONF, conf);
    }
    f
}

fn wsl1() -> Fixture {
    let f = base();
    f.file(OSRELEASE, "4.4.0-19041-Microsoft\n")
        .file(PID1_COMM, "init\n");
    f
}

fn alice() -> Caller {
    Caller::new(1000, 1000).with_var("HOME", "/home/alice")
}

fn host_init(f: &Fixture, caller: Caller) -> (Finding, Facts) {
    let h = Harness::new(f, caller, ScriptedSystem::new());
    let mut facts = Facts::default();
    let finding = init(&h.context(), &mut facts);
    (finding, facts)
}

#[test]
fn a_systemd_host_passes_and_changes_nothing_for_the_others() {
    let f = base();
    f.dir(SYSTEMD_BOOTED).file(PID1_COMM, "systemd\n");
    let (finding, facts) = host_init(&f, alice());
    assert_eq!(finding.status, Status::Pass);
    assert_eq!(finding.summary, "systemd is PID 1");
    assert_eq!(finding.fix, None);
    assert!(facts.without_systemd().is_none());
}

#[test]
fn an_unreadable_pid1_warns_without_advice_and_the_others_judge_as_before() {
    let (finding, facts) = host_init(&base(), alice());
    assert_eq!(finding.status, Status::Warn);
    assert!(
        finding
            .summary
            .starts_with("could not tell what runs as PID 1"),
        "{}",
        finding.summary
    );
    assert_eq!(finding.observed("pid1"), Some("unreadable"));
    assert!(facts.without_systemd().is_none());
}

#[test]
fn openrc_fails_with_the_by_hand_start() {
    let (f, facts) = host_init(&openrc(), alice());
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "systemd is not PID 1 here: PID 1 is openrc-init (OpenRC)"
    );
    assert_eq!(f.observed("init"), Some("OpenRC"));
    assert_eq!(f.observed("systemd_booted"), Some("false"));
    let fix = f.fix.expect("a fix");
    assert!(!fix.root, "starting the engine by hand is the user's");
    assert_eq!(
        fix.commands,
        [
            "export XDG_RUNTIME_DIR=\"${XDG_RUNTIME_DIR:-$HOME/.docker/run}\"",
            "mkdir -p -m 0700 \"$XDG_RUNTIME_DIR\"",
            "PATH=/usr/bin:/sbin:/usr/sbin:$PATH dockerd-rootless.sh",
            "export DOCKER_HOST=unix://\"$XDG_RUNTIME_DIR/docker.sock\"",
        ]
    );
    assert!(facts.without_systemd().is_some());
}

#[test]
fn the_by_hand_start_names_the_directory_the_script_is_in() {
    let f = runit();
    f.exe("/opt/docker/bin/dockerd-rootless.sh");
    let (finding, _) = host_init(&f, alice().with_var("PATH", "/opt/docker/bin:/usr/bin"));
    assert_eq!(
        finding.summary,
        "systemd is not PID 1 here: PID 1 is runit (runit)"
    );
    assert_eq!(
        finding.fix.expect("a fix").commands[2],
        "PATH=/opt/docker/bin:/sbin:/usr/sbin:$PATH dockerd-rootless.sh"
    );
}

#[test]
fn a_container_says_what_gave_it_away() {
    let (f, _) = host_init(&container(), alice());
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "a container (/.dockerenv) whose PID 1 is tini, not systemd"
    );
    assert_eq!(f.observed("container"), Some("/.dockerenv"));
}

#[test]
fn wsl2_without_systemd_is_told_to_turn_it_on() {
    let (f, _) = host_init(&wsl2(None), alice().with_var("WSL_DISTRO_NAME", "Ubuntu"));
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "WSL2 without systemd: PID 1 is init");
    assert_eq!(f.observed("wsl"), Some("WSL2"));
    assert_eq!(f.observed("wsl_conf"), Some("absent"));
    let fix = f.fix.expect("a fix");
    assert!(fix.root);
    assert_eq!(
        fix.commands,
        [
            "printf '[boot]\\nsystemd=true\\n' | sudo tee -a /etc/wsl.conf",
            "wsl.exe --shutdown"
        ]
    );
}

#[test]
fn wsl2_with_systemd_set_but_not_booted_is_told_to_restart() {
    let (f, _) = host_init(&wsl2(Some("[boot]\nsystemd=true\n")), alice());
    assert_eq!(
        f.summary,
        "WSL2 with systemd=true in /etc/wsl.conf, but systemd is not PID 1 yet (PID 1 is init): \
         WSL has not restarted since"
    );
    assert_eq!(f.observed("wsl_conf"), Some("systemd=true"));
    assert_eq!(f.fix.expect("a fix").commands, ["wsl.exe --shutdown"]);
}

#[test]
fn a_malformed_wsl_conf_is_reported_not_a_panic() {
    let (f, _) = host_init(&wsl2(Some("[boot\n")), alice());
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.observed("wsl_conf"),
        Some("malformed: line 1: a section without `]`")
    );
    assert!(
        f.fix
            .expect("a fix")
            .summary
            .contains("cannot be read as WSL reads it")
    );
}

#[test]
fn wsl1_is_unsupported_and_says_why() {
    let (f, _) = host_init(&wsl1(), alice());
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "WSL1: no user namespaces, so no rootless engine can run here"
    );
    assert!(f.why.unwrap_or_default().contains("no user"));
}

/// Everything a host without systemd can get wrong at once: no runtime directory, a rootful
/// daemon the caller can use, AppArmor's restriction, cgroup v2. The listener must live as long
/// as the test needs the rootful socket.
fn broken(f: &Fixture) -> std::os::unix::net::UnixListener {
    f.dir("/run");
    let listener = std::os::unix::net::UnixListener::bind(f.path("/run/docker.sock"))
        .expect("bind fixture socket");
    f.meta("/run/docker.sock", "uid=0 gid=0 mode=0666")
        .file(
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
            "1\n",
        )
        .exe("/usr/bin/rootlesskit")
        .exe("/usr/bin/dockerd")
        .exe("/usr/bin/dockerd-rootless.sh")
        .file("/proc/self/cgroup", "0::/user/alice\n")
        .file(
            "/proc/self/mountinfo",
            "22 1 254:1 / / rw - ext4 /dev/vda1 rw\n\
             25 22 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
        );
    listener
}

/// Every text of a report a person reads: summaries, whys and fixes.
fn all_text(caller: Caller, f: &Fixture) -> String {
    let h = Harness::new(f, caller, ScriptedSystem::new());
    let report = check(&h.context(), &Selection::all());
    let mut text = String::new();
    for finding in &report.findings {
        text.push_str(&format!("{}: {}\n", finding.id, finding.summary));
        text.push_str(finding.why.as_deref().unwrap_or(""));
        if let Some(fix) = &finding.fix {
            text.push_str(&format!("\n{}\n{}\n", fix.summary, fix.commands.join("\n")));
        }
    }
    text
}

#[test]
fn no_advice_names_systemd_tools_on_a_host_without_systemd() {
    let hosts = [
        ("openrc", openrc()),
        ("runit", runit()),
        ("container", container()),
        ("wsl2", wsl2(None)),
        ("wsl2 set", wsl2(Some("[boot]\nsystemd=true\n"))),
        ("wsl1", wsl1()),
    ];
    for (name, f) in &hosts {
        let _socket = broken(f);
        for caller in [alice(), Caller::new(0, 0).with_var("SUDO_USER", "alice")] {
            let text = all_text(caller, f);
            for word in ["machinectl", "loginctl", "systemctl"] {
                assert!(!text.contains(word), "{name}: `{word}` in\n{text}");
            }
            assert!(text.contains("host.init: "), "{name}: {text}");
        }
    }
    // What they get instead, on OpenRC.
    let f = openrc();
    let _socket = broken(&f);
    let text = all_text(alice(), &f);
    for advice in [
        "sudo rc-service docker stop",
        "sudo rc-update del docker",
        "sudo apparmor_parser -r /etc/apparmor.d/usr.bin.rootlesskit",
        "no user manager to delegate cgroup controllers to",
        "PATH=/usr/bin:/sbin:/usr/sbin:$PATH dockerd-rootless.sh",
    ] {
        assert!(text.contains(advice), "`{advice}` not in\n{text}");
    }
    let text = all_text(Caller::new(0, 0).with_var("SUDO_USER", "alice"), &f);
    assert!(text.contains("su - alice"), "{text}");
}

#[test]
fn the_same_broken_host_with_systemd_still_gets_systemd_advice() {
    // The guard above is not vacuous: the same tree booted with systemd names them.
    let f = base();
    let _socket = broken(&f);
    f.dir(SYSTEMD_BOOTED).file(PID1_COMM, "systemd\n");
    let text = all_text(alice(), &f);
    assert!(
        text.contains("sudo systemctl disable --now docker.service docker.socket"),
        "{text}"
    );
    assert!(text.contains("machinectl shell alice@"), "{text}");
    let text = all_text(Caller::new(0, 0).with_var("SUDO_USER", "alice"), &f);
    assert!(text.contains("machinectl shell alice@"), "{text}");
}

#[test]
fn the_session_checks_say_why_they_do_not_apply() {
    let f = openrc();
    let h = Harness::new(&f, alice(), ScriptedSystem::new());
    let report = check(
        &h.context(),
        &Selection::new(&CheckId::matching("session"), &[]),
    );
    let seen: Vec<(CheckId, Status, &str)> = report
        .findings
        .iter()
        .map(|f| (f.id, f.status, f.summary.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                CheckId::SessionRuntimeDir,
                Status::Fail,
                "XDG_RUNTIME_DIR is not set"
            ),
            (
                CheckId::SessionBus,
                Status::Skip,
                "no systemd on this host (PID 1 is openrc-init): no user bus to reach a user \
                 manager through; see `host.init` for what works here"
            ),
            (
                CheckId::SessionSystemd,
                Status::Skip,
                "skipped because `session.bus` did not run: no systemd on this host (PID 1 is \
                 openrc-init): no user bus to reach a user manager through; see `host.init` for \
                 what works here"
            ),
            (
                CheckId::SessionLinger,
                Status::Skip,
                "no systemd on this host (PID 1 is openrc-init): linger is logind's, which does \
                 not run here; see `host.init` for what works here"
            ),
        ]
    );
    let runtime = report.findings[0].fix.as_ref().expect("a fix");
    assert_eq!(
        runtime.commands,
        [
            "export XDG_RUNTIME_DIR=\"${XDG_RUNTIME_DIR:-$HOME/.docker/run}\"",
            "mkdir -p -m 0700 \"$XDG_RUNTIME_DIR\""
        ]
    );
    assert!(
        h.system.calls().is_empty(),
        "no bus was asked: {:?}",
        h.system.calls()
    );
}
