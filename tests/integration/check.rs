//! `rootless-setup check` against fixture trees.

use assert_cmd::Command;
use rootless_setup_core::testing::Fixture;

fn check(fixture: &Fixture) -> Command {
    let mut cmd = Command::cargo_bin("rootless-setup").unwrap();
    cmd.arg("check")
        .arg("--root")
        .arg(fixture.root())
        .env_remove("NO_COLOR");
    cmd
}

fn sysctl_host(max_user_namespaces: &str) -> Fixture {
    let f = Fixture::new();
    f.file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        .file("/proc/sys/user/max_user_namespaces", max_user_namespaces);
    f
}

fn json(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(output)))
}

/// The ids of the findings of a JSON report, in order.
fn ids(report: &serde_json::Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect()
}

#[test]
fn a_passing_selection_exits_0_and_a_failing_one_exits_1() {
    check(&sysctl_host("63229\n"))
        .args(["--only", "userns.sysctl"])
        .assert()
        .code(0);
    let out = check(&sysctl_host("0\n"))
        .args(["--only", "userns.sysctl"])
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("fail  userns.sysctl"), "{text}");
    assert!(
        text.contains("user.max_user_namespaces"),
        "the fix names the sysctl: {text}"
    );
}

#[test]
fn json_has_the_schema_the_verdict_and_only_the_selected_ids() {
    let out = check(&sysctl_host("0\n"))
        .args(["--format", "json", "--only", "userns.sysctl,env.client"])
        .assert()
        .code(1);
    let v = json(&out.get_output().stdout);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["engine"], "docker");
    assert_eq!(v["distribution"], "debian 12");
    assert_eq!(v["ready"], false);
    assert_eq!(ids(&v), ["userns.sysctl", "env.client"]);
    let finding = &v["findings"][0];
    assert_eq!(finding["status"], "fail");
    assert_eq!(finding["fix"]["root"], true);
    assert_eq!(finding["fix"]["docs"], "docs/checks.md#userns-sysctl");
}

#[test]
fn every_check_appears_exactly_once_in_a_full_json_report() {
    // The fixture has no engine programs, so `engine.binaries` (among others) fails whoever
    // runs the test: the report is never ready.
    let f = sysctl_host("63229\n");
    let out = check(&f).args(["--format", "json"]).assert().code(1);
    let v = json(&out.get_output().stdout);
    assert_eq!(v["ready"], false);
    let all: Vec<&str> = rootless_setup_core::CheckId::ALL
        .iter()
        .map(|id| id.as_str())
        .collect();
    assert_eq!(ids(&v), all);
}

#[test]
fn groups_and_skips_select_checks() {
    let out = check(&sysctl_host("1\n"))
        .args([
            "--format",
            "json",
            "--only",
            "userns",
            "--skip",
            "userns.probe,userns.apparmor",
        ])
        .assert()
        .code(0);
    let v = json(&out.get_output().stdout);
    assert_eq!(ids(&v), ["userns.sysctl"]);
}

#[test]
fn strict_fails_on_warnings() {
    // env.client warns when DOCKER_CONTEXT is set.
    let f = sysctl_host("63229\n");
    check(&f)
        .args(["--only", "env.client"])
        .env("DOCKER_CONTEXT", "other")
        .assert()
        .code(0);
    check(&f)
        .args(["--only", "env.client", "--strict"])
        .env("DOCKER_CONTEXT", "other")
        .assert()
        .code(1);
}

#[test]
fn unknown_ids_are_usage_errors_with_a_suggestion() {
    let out = check(&sysctl_host("1\n"))
        .args(["--only", "subid.ui"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("did you mean `subid.uid`"), "{err}");
}

#[test]
fn colour_only_on_request_and_never_with_no_color_in_auto() {
    let f = sysctl_host("0\n");
    let piped = check(&f)
        .args(["--only", "userns.sysctl"])
        .output()
        .unwrap();
    assert!(!piped.stdout.contains(&0x1b), "no escape codes when piped");
    let forced = check(&f)
        .args(["--only", "userns.sysctl", "--color", "always"])
        .output()
        .unwrap();
    assert!(
        forced.stdout.contains(&0x1b),
        "escape codes with --color always"
    );
    let never = check(&f)
        .args(["--only", "userns.sysctl", "--color", "auto"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!never.stdout.contains(&0x1b));
}
