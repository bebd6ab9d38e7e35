//! `rootless-setup check` on fixture trees of hosts without systemd as PID 1 (WSL2 with systemd
//! off or not restarted, WSL1, OpenRC, runit, a container) and on a systemd host, which is
//! unchanged: what `host.init` says, that the session checks step aside, and that no advice
//! names `machinectl`, `loginctl` or `systemctl`.

use std::os::unix::fs::MetadataExt;

use assert_cmd::Command;
use rootless_setup_core::testing::Fixture;

/// A host with an os-release and whatever PID 1 `comm` names (none: unreadable).
fn host(comm: Option<&str>) -> Fixture {
    let f = Fixture::new();
    f.file(
        "/etc/os-release",
        "ID=alpine\nVERSION_ID=3.20.0\nPRETTY_NAME=\"Alpine Linux v3.20\"\n",
    );
    if let Some(comm) = comm {
        f.file("/proc/1/comm", &format!("{comm}\n"));
    }
    f
}

fn openrc() -> Fixture {
    let f = host(Some("openrc-init"));
    f.dir("/run/openrc");
    f
}

fn wsl2(conf: Option<&str>) -> Fixture {
    let f = host(Some("init"));
    f.file(
        "/proc/sys/kernel/osrelease",
        "5.15.153.1-microsoft-standard-WSL2\n",
    );
    if let Some(conf) = conf {
        f.file("/etc/wsl.conf", conf);
    }
    f
}

/// `check --root` with a clean environment (only `HOME` and `PATH`).
fn check(f: &Fixture, args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("rootless-setup")
        .unwrap()
        .arg("check")
        .arg("--root")
        .arg(f.root())
        .args(args)
        .env_clear()
        .env("HOME", "/home/alice")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    (out.status.code().unwrap(), text)
}

/// The report with the caller's uid written as `UID`, so the snapshot is the same for anyone.
fn human(f: &Fixture, only: &str) -> String {
    let uid = std::fs::metadata(f.root()).unwrap().uid();
    let (code, text) = check(f, &["--only", only]);
    assert_eq!(code, 1, "{text}");
    text.replace(&format!("uid {uid} "), "uid UID ")
        .replace(&format!("/run/user/{uid}"), "/run/user/UID")
}

fn finding<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report}"))
}

fn json(f: &Fixture, only: &str) -> serde_json::Value {
    let (_, text) = check(f, &["--format", "json", "--only", only]);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn openrc_gets_the_by_hand_start_and_the_session_checks_step_aside() {
    insta::assert_snapshot!(human(&openrc(), "host.init,session"));
}

#[test]
fn wsl2_with_systemd_off_is_told_to_turn_it_on() {
    insta::assert_snapshot!(human(&wsl2(None), "host.init"));
}

#[test]
fn each_kind_of_host_is_named_with_its_own_advice() {
    let container = host(Some("tini"));
    container.file("/.dockerenv", "");
    let runit = host(Some("runit"));
    let wsl1 = host(Some("init"));
    wsl1.file("/proc/sys/kernel/osrelease", "4.4.0-19041-Microsoft\n");
    let cases = [
        (
            wsl2(Some("[boot]\nsystemd=true\n")),
            "WSL2 with systemd=true in /etc/wsl.conf, but systemd is not PID 1 yet (PID 1 is \
             init): WSL has not restarted since",
            "wsl.exe --shutdown",
        ),
        (
            wsl1,
            "WSL1: no user namespaces, so no rootless engine can run here",
            "wsl.exe --set-version DISTRIBUTION 2",
        ),
        (
            runit,
            "systemd is not PID 1 here: PID 1 is runit (runit)",
            "PATH=/usr/bin:/sbin:/usr/sbin:$PATH dockerd-rootless.sh",
        ),
        (
            container,
            "a container (/.dockerenv) whose PID 1 is tini, not systemd",
            "PATH=/usr/bin:/sbin:/usr/sbin:$PATH dockerd-rootless.sh",
        ),
    ];
    for (f, summary, command) in &cases {
        let report = json(f, "host.init,session");
        let init = finding(&report, "host.init");
        assert_eq!(init["status"], "fail", "{init}");
        assert_eq!(init["summary"], *summary);
        let commands = init["fix"]["commands"].as_array().unwrap();
        assert!(commands.iter().any(|c| c == command), "{init}");
        assert_eq!(finding(&report, "session.bus")["status"], "skip");
        let text = report.to_string();
        for word in ["machinectl", "loginctl", "systemctl"] {
            assert!(!text.contains(word), "`{word}` in {text}");
        }
    }
}

#[test]
fn a_systemd_host_is_unchanged() {
    let f = host(Some("systemd"));
    f.dir("/run/systemd/system");
    let report = json(&f, "host.init,session.bus");
    let init = finding(&report, "host.init");
    assert_eq!(init["status"], "pass");
    assert_eq!(init["summary"], "systemd is PID 1");
    // The session checks judge as before: no user bus in a fixture, with the login advice.
    let bus = finding(&report, "session.bus");
    assert_eq!(bus["status"], "fail");
    assert!(
        bus["fix"]["commands"]
            .to_string()
            .contains("machinectl shell"),
        "{bus}"
    );
}
