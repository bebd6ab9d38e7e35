//! Fixture tests of `engine.smoke` and its parsers.

use std::io;
use std::path::PathBuf;

use super::*;
use crate::caller::Caller;
use crate::checks::common::test_support::commands;
use crate::testing::{Harness, ScriptedSystem};
use rootless_setup_core::model::{Binary, IdRange};
use rootless_setup_core::testing::Fixture;

use super::super::rootlesskit_output::READY;

const MAP: &str = "         0       1000          1\n         1     100000      65536\n";
const IP_LINKS: &str = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n2: tap0: <BROADCAST,UP,LOWER_UP> mtu 65520 qdisc fq_codel state UNKNOWN mode DEFAULT group default qlen 1000\\    link/ether c2:4b:7e:55:1a:90 brd ff:ff:ff:ff:ff:ff\n";
const PROC_NET_DEV: &str = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n  tap0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n";

fn state_dir() -> String {
    format!("/run/user/1000/rootless-setup-smoke-{}", std::process::id())
}

fn caller() -> Caller {
    Caller::new(1000, 1000)
        .with_var("XDG_RUNTIME_DIR", "/run/user/1000")
        .with_var("PATH", "/usr/local/bin:/usr/bin:/bin")
}

fn fixture() -> Fixture {
    let fx = Fixture::new();
    fx.file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        .dir("/run/user/1000");
    fx
}

fn facts(driver: &str, mtu: u32) -> Facts {
    let mut facts = Facts {
        subuids: Some(vec![IdRange {
            start: 100_000,
            count: 65_536,
        }]),
        newuidmap: Some(PathBuf::from("/usr/bin/newuidmap")),
        newgidmap: Some(PathBuf::from("/usr/bin/newgidmap")),
        network: Some(NetworkPlan {
            driver: driver.to_owned(),
            port_driver: "builtin".to_owned(),
            binary: Some(PathBuf::from(format!("/opt/net/bin/{driver}"))),
            mtu,
        }),
        ..Facts::default()
    };
    facts.binaries.insert(
        "rootlesskit".to_owned(),
        Binary {
            name: "rootlesskit".to_owned(),
            path: PathBuf::from("/usr/bin/rootlesskit"),
            version: Some("1.1.0".to_owned()),
        },
    );
    facts
}

/// What the script prints first, once rootlesskit wrote `child_pid`.
const READY_LINE: &str = "rootlesskit ready, child pid 4242\n";

/// A good run: the ready line, then `stdout`.
fn ok_run(stdout: &str) -> Output {
    Output {
        elapsed: Duration::from_millis(412),
        ..ScriptedSystem::ok(&format!("{READY_LINE}{stdout}"))
    }
}

fn run_with(
    fx: &Fixture,
    caller: Caller,
    system: ScriptedSystem,
    facts: &mut Facts,
) -> (Finding, Vec<String>) {
    let h = Harness::new(fx, caller, system);
    let finding = smoke(&h.context(), facts);
    (finding, h.system.calls())
}

fn run(fx: &Fixture, answer: Output) -> Finding {
    let system = ScriptedSystem::new().on("rootlesskit", "--net=", answer);
    run_with(fx, caller(), system, &mut facts("slirp4netns", 65520)).0
}

#[test]
fn a_good_run_passes_and_runs_rootlesskit_like_install() {
    let fx = fixture();
    let system =
        ScriptedSystem::new().on("rootlesskit", "--net=", ok_run(&format!("{MAP}{IP_LINKS}")));
    let (f, calls) = run_with(&fx, caller(), system, &mut facts("slirp4netns", 65520));
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(
        f.summary,
        "rootlesskit ran with slirp4netns in 412 ms: 65537 ids mapped, tap0 up with mtu 65520"
    );
    assert_eq!(calls.len(), 1, "{calls:?}");
    let expected = format!(
        "run /usr/bin/rootlesskit --net=slirp4netns --mtu=65520 --port-driver=builtin --disable-host-loopback --copy-up=/etc --copy-up=/run --state-dir={} /bin/sh -c {SCRIPT}",
        state_dir()
    );
    assert_eq!(calls[0], expected);
    assert_eq!(f.observed("elapsed_ms"), Some("412"));
    assert_eq!(f.observed("child_pid"), Some("4242"));
    assert_eq!(f.observed("mapped_ids"), Some("65537"));
    assert_eq!(f.observed("expected_ids"), Some("65537"));
    assert_eq!(f.observed("interface_mtu"), Some("65520"));
    assert_eq!(f.observed("links"), Some("lo, tap0"));
    assert_eq!(f.observed("state_dir_left_behind"), Some("no"));
    assert_eq!(
        f.observed("path"),
        Some("/opt/net/bin:/usr/bin:/usr/local/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin")
    );
}

#[test]
fn proc_net_dev_stands_in_for_a_missing_ip() {
    let f = run(&fixture(), ok_run(&format!("{MAP}{PROC_NET_DEV}")));
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(f.observed("links"), Some("lo, tap0"));
    assert!(f.summary.ends_with("tap0 up"), "{}", f.summary);
}

#[test]
fn skips_without_a_runtime_dir_rootlesskit_or_plan() {
    let fx = fixture();
    let h = |c: Caller, facts: &mut Facts| run_with(&fx, c, ScriptedSystem::new(), facts).0;
    let f = h(Caller::new(1000, 1000), &mut facts("slirp4netns", 65520));
    assert_eq!(f.status, Status::Skip);
    assert!(f.summary.contains("XDG_RUNTIME_DIR is not set"));
    let f = h(
        caller().with_var("XDG_RUNTIME_DIR", "/run/user/2000"),
        &mut facts("slirp4netns", 65520),
    );
    assert_eq!(f.status, Status::Skip);
    assert!(f.summary.contains("does not exist"));
    let mut no_kit = facts("slirp4netns", 65520);
    no_kit.binaries.clear();
    assert!(h(caller(), &mut no_kit).summary.contains("engine.binaries"));
    let mut no_plan = facts("slirp4netns", 65520);
    no_plan.network = None;
    let f = h(caller(), &mut no_plan);
    assert_eq!(f.status, Status::Skip);
    assert!(f.summary.contains("network.driver"));
}

#[test]
fn a_hang_fails_and_asks_to_remove_the_state_dir() {
    let fx = fixture();
    fx.dir(&state_dir());
    let f = run(&fx, ScriptedSystem::timed_out());
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "rootlesskit hung for 20 s and was killed");
    assert_eq!(f.observed("state_dir_left_behind"), Some("yes"));
    let cmds = commands(&f);
    assert!(cmds[0].contains("--debug --net=slirp4netns"), "{cmds:?}");
    assert_eq!(
        cmds.last().map(String::as_str),
        Some(format!("rm -rf -- {}", state_dir()).as_str())
    );
}

#[test]
fn an_id_map_failure_points_at_the_subordinate_ranges() {
    let stderr = "time=\"2026-01-01T00:00:00Z\" level=warning msg=\"x\"\n[rootlesskit:parent] error: failed to setup UID/GID map: newuidmap 4242 [0 1000 1 1 100000 65536] failed: newuidmap: write to uid_map failed: Operation not permitted\n: exit status 1\n";
    let f = run(&fixture(), ScriptedSystem::failed(1, stderr));
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "rootlesskit exited with 1: [rootlesskit:parent] error: failed to setup UID/GID map: newuidmap 4242 [0 1000 1 1 100000 65536] failed: newuidmap: write to uid_map failed: Operation not permitted"
    );
    assert_eq!(f.observed("stderr_last_line"), Some(": exit status 1"));
    let fix = f.fix.expect("fix");
    assert!(fix.root);
    assert!(fix.summary.contains("subid.uid"), "{}", fix.summary);
}

#[test]
fn a_tun_failure_names_the_device_fix() {
    let stderr = "open(\"/dev/net/tun\"): Permission denied\nWARNING: Support for sandboxing is experimental\n[rootlesskit:parent] error: failed to setup network &{...}: waiting for ready fd (*os.File): EOF\n";
    let fx = fixture();
    fx.file("/dev/net/tun", "")
        .meta("/dev/net/tun", "uid=0 gid=0 mode=0600");
    let f = run(&fx, ScriptedSystem::failed(1, stderr));
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("tun_mode"), Some("0600"));
    assert_eq!(commands(&f)[0], "sudo chmod 0666 /dev/net/tun");

    let f = run(&fixture(), ScriptedSystem::failed(1, stderr));
    assert_eq!(f.observed("tun_mode"), Some("absent"));
    assert_eq!(commands(&f)[0], "sudo modprobe tun");
    assert!(f.fix.map(|x| x.root).unwrap_or(false));
}

/// rootlesskit 1.1.0 (Debian 12) creates tap0 with `ip tuntap add`; seen in a box whose
/// `/dev/net/tun` was mode 0600.
#[test]
fn rootlesskit_one_tap_failure_is_a_tun_problem_and_the_parent_error_is_shown() {
    let stderr = "open: Permission denied\n[rootlesskit:parent] error: failed to setup network &{logWriter:0xc00017e9f0 binary:slirp4netns mtu:65520 ifname:tap0}: setting up tap tap0: executing [[nsenter -t 11 -n -m -U --preserve-credentials ip tuntap add name tap0 mode tap] [nsenter -t 11 -n -m -U --preserve-credentials ip link set tap0 up]]: exit status 1\n[rootlesskit:child ] error: parsing message from fd 3: EOF\n";
    let fx = fixture();
    fx.file("/dev/net/tun", "")
        .meta("/dev/net/tun", "uid=0 gid=0 mode=0600");
    let f = run(&fx, ScriptedSystem::failed(1, stderr));
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "rootlesskit exited with 1: [rootlesskit:parent] error: failed to setup network &{…}: setting up tap tap0: executing [[nsenter -t 11 -n -m -U --preserve-credentials ip tuntap add name tap0 mode tap] [nsenter -t 11 -n -m -U --preserve-credentials ip link set tap0 up]]: exit status 1"
    );
    assert_eq!(commands(&f)[0], "sudo chmod 0666 /dev/net/tun");
}

#[test]
fn a_helper_missing_from_path_is_named_and_the_leftover_dir_reported() {
    let fx = fixture();
    fx.dir(&state_dir());
    let stderr =
        "[rootlesskit:parent] error: exec: \"slirp4netns\": executable file not found in $PATH\n";
    let f = run(&fx, ScriptedSystem::failed(1, stderr));
    assert_eq!(f.status, Status::Fail);
    assert!(f.why.as_deref().unwrap_or_default().contains("slirp4netns"));
    assert_eq!(
        f.observed("stderr_last_line"),
        Some(
            "[rootlesskit:parent] error: exec: \"slirp4netns\": executable file not found in $PATH"
        )
    );
    assert!(
        commands(&f)
            .iter()
            .any(|c| c.starts_with("rm -rf -- /run/user/1000/rootless-setup-smoke-"))
    );
}

#[test]
fn a_denied_namespace_on_ubuntu_mentions_apparmor() {
    let fx = fixture();
    fx.file("/etc/os-release", "ID=ubuntu\nVERSION_ID=\"24.04\"\n");
    let stderr = "[rootlesskit:parent] error: failed to start the child: fork/exec /proc/self/exe: operation not permitted\n";
    let f = run(&fx, ScriptedSystem::failed(1, stderr));
    assert_eq!(f.status, Status::Fail);
    let fix = f.fix.expect("fix");
    assert!(fix.summary.contains("AppArmor"), "{}", fix.summary);
    assert!(fix.summary.contains("userns.apparmor"));
}

#[test]
fn an_unknown_failure_gives_the_command_to_rerun() {
    let f = run(
        &fixture(),
        ScriptedSystem::failed(2, "[rootlesskit:parent] error: something new\n"),
    );
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "rootlesskit exited with 2: [rootlesskit:parent] error: something new"
    );
    assert!(commands(&f)[0].starts_with("PATH="));
    assert!(!f.fix.map(|x| x.root).unwrap_or(true));
}

#[test]
fn a_program_that_cannot_start_fails() {
    let system = ScriptedSystem::new().on_error("rootlesskit", io::ErrorKind::PermissionDenied);
    let (f, _) = run_with(
        &fixture(),
        caller(),
        system,
        &mut facts("slirp4netns", 65520),
    );
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.summary.starts_with("could not run /usr/bin/rootlesskit"),
        "{}",
        f.summary
    );
}

#[test]
fn a_partial_map_fails() {
    let f = run(
        &fixture(),
        ok_run(&format!("         0       1000          1\n{IP_LINKS}")),
    );
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "rootlesskit mapped 1 ids, expected 65537 (subordinate ranges incomplete)"
    );
}

#[test]
fn a_missing_tap_device_fails() {
    let f = run(
        &fixture(),
        ok_run(&format!("{MAP}1: lo: <LOOPBACK> mtu 65536 qdisc noop\n")),
    );
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "no tap0 interface inside the namespace (saw lo)");
}

#[test]
fn an_mtu_other_than_planned_warns() {
    let system =
        ScriptedSystem::new().on("rootlesskit", "--net=", ok_run(&format!("{MAP}{IP_LINKS}")));
    let (f, _) = run_with(
        &fixture(),
        caller(),
        system,
        &mut facts("slirp4netns", 1500),
    );
    assert_eq!(f.status, Status::Warn);
    assert!(
        f.summary
            .ends_with("but the mtu is 65520, not the planned 1500"),
        "{}",
        f.summary
    );
}

#[test]
fn a_state_dir_left_after_a_good_run_warns() {
    let fx = fixture();
    fx.dir(&state_dir());
    let f = run(&fx, ok_run(&format!("{MAP}{IP_LINKS}")));
    assert_eq!(f.status, Status::Warn);
    assert!(f.summary.ends_with("its state directory was left behind"));
    assert_eq!(commands(&f), vec![format!("rm -rf -- {}", state_dir())]);
}

#[test]
fn lxc_user_nic_expects_eth0_and_gets_its_binary() {
    let system = ScriptedSystem::new().on(
        "rootlesskit",
        "--lxc-user-nic-binary=/opt/net/bin/lxc-user-nic",
        ok_run(&format!(
            "{MAP}2: eth0@if7: <BROADCAST,UP> mtu 1500 qdisc noqueue\n"
        )),
    );
    let (f, _) = run_with(
        &fixture(),
        caller(),
        system,
        &mut facts("lxc-user-nic", 1500),
    );
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert!(f.summary.contains("eth0 up with mtu 1500"));
}

/// Debian 12's rootlesskit 1.1.0 knows no pasta and was built without vpnkit; it fails before
/// taking its state directory, which stays behind (seen in a box).
#[test]
fn a_driver_this_rootlesskit_lacks_is_named() {
    let fx = fixture();
    fx.dir(&state_dir());
    let system = ScriptedSystem::new().on(
        "rootlesskit",
        "--net=",
        ScriptedSystem::failed(
            1,
            "[rootlesskit:parent] error: unknown network mode: pasta\n",
        ),
    );
    let (f, _) = run_with(&fx, caller(), system, &mut facts("pasta", 65520));
    assert_eq!(f.status, Status::Fail);
    let why = f.why.clone().unwrap_or_default();
    assert!(
        why.contains("version 1.1.0") && why.contains("--net=pasta"),
        "{why}"
    );
    assert!(commands(&f).iter().any(|c| c.starts_with("rm -rf -- ")));
}

/// The script, run by a real `/bin/sh` outside rootlesskit with `ROOTLESSKIT_STATE_DIR` set.
fn run_script(state_dir: &std::path::Path) -> std::process::Output {
    std::process::Command::new("/bin/sh")
        .args(["-c", SCRIPT])
        .env("ROOTLESSKIT_STATE_DIR", state_dir)
        .output()
        .expect("/bin/sh runs")
}

#[test]
fn the_script_reports_only_once_child_pid_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("child_pid");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        std::fs::write(&pid_file, "4242").expect("write child_pid");
    });
    let start = std::time::Instant::now();
    let out = run_script(dir.path());
    let waited = start.elapsed();
    writer.join().expect("writer");
    assert!(out.status.success(), "{out:?}");
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().next(),
        Some("rootlesskit ready, child pid 4242")
    );
    assert_eq!(parse_ready(&stdout), Some(4242));
    assert_eq!(
        parse_uid_map(&stdout).first().map(|l| l.inside),
        Some(0),
        "{stdout}"
    );
    assert!(!parse_links(&stdout).is_empty(), "{stdout}");
}

/// `child_pid` is created empty, then written: an empty file is not ready yet.
#[test]
fn an_empty_child_pid_is_not_ready() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("child_pid");
    std::fs::write(&pid_file, "").expect("create child_pid");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        std::fs::write(&pid_file, "77").expect("write child_pid");
    });
    let out = run_script(dir.path());
    writer.join().expect("writer");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some("rootlesskit ready, child pid 77")
    );
}

#[test]
fn a_run_without_the_ready_line_fails() {
    let output = Output {
        elapsed: Duration::from_millis(412),
        ..ScriptedSystem::ok(&format!("{MAP}{IP_LINKS}"))
    };
    let f = run(&fixture(), output);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "the shell inside rootlesskit exited without seeing rootlesskit ready"
    );
    assert_eq!(f.observed("child_pid"), None);
}

#[test]
fn a_rootlesskit_that_never_gets_ready_says_so() {
    let stderr = "rootless-setup: rootlesskit wrote no child_pid within 10 s\n[rootlesskit:child ] error: command [/bin/sh -c r=x] exited: exit status 1\n[rootlesskit:parent] error: child exited: exit status 1\n";
    let f = run(&fixture(), ScriptedSystem::failed(1, stderr));
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "rootlesskit exited with 1: rootlesskit wrote no child_pid within 10 s"
    );
    assert!(
        f.why
            .as_deref()
            .unwrap_or_default()
            .contains("writes child_pid once"),
        "{:?}",
        f.why
    );
    assert!(commands(&f)[0].starts_with("PATH="));
}

/// The failure of issue 8, as the smoke showed it before it waited for `child_pid`.
#[test]
fn the_port_driver_reset_is_shown_with_the_parents_words() {
    let stderr = "[rootlesskit:parent] error: read unix @->/run/user/1000/rootless-setup-smoke-1415/.bp.sock: read: connection reset by peer\n";
    let f = run(&fixture(), ScriptedSystem::failed(1, stderr));
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "rootlesskit exited with 1: [rootlesskit:parent] error: read unix @->/run/user/1000/rootless-setup-smoke-1415/.bp.sock: read: connection reset by peer"
    );
}

#[test]
fn the_script_prints_the_lines_the_parsers_expect() {
    assert!(SCRIPT.contains(&format!("echo \"{READY}$(cat")), "{SCRIPT}");
    assert!(
        SCRIPT.contains(&format!("echo 'rootless-setup: {NOT_READY}' >&2")),
        "{SCRIPT}"
    );
}
