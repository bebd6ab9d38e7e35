//! Fixture tests of `engine.installed`.

use super::*;
use crate::caller::Caller;
use crate::testing::{Harness, ScriptedSystem};
use rootless_setup_core::testing::Fixture;

const UNIT: &str = "/home/alice/.config/systemd/user/docker.service";
const WANTS: &str = "/home/alice/.config/systemd/user/default.target.wants/docker.service";

/// What Debian 12's dockerd-rootless-setuptool.sh (20.10) writes with `--skip-iptables`, from
/// its heredoc, for a user who copied the scripts into `~/bin`.
const OLD_UNIT: &str = "[Unit]
Description=Docker Application Container Engine (Rootless)
Documentation=https://docs.docker.com/go/rootless/

[Service]
Environment=PATH=/home/alice/bin:/sbin:/usr/sbin:/usr/local/bin:/usr/bin:/bin
ExecStart=/home/alice/bin/dockerd-rootless.sh --iptables=false
ExecReload=/bin/kill -s HUP $MAINPID
TimeoutSec=0
RestartSec=2
Restart=always
StartLimitBurst=3
StartLimitInterval=60s
LimitNOFILE=infinity
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
Delegate=yes
Type=simple
KillMode=mixed

[Install]
WantedBy=default.target
";

const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn ours() -> String {
    format!(
        "{MARKER} 0.1.0; edits are overwritten\n# sha256: {HASH}\n[Unit]\nDescription=Docker (rootless)\n\n[Service]\nExecStart=/usr/share/docker.io/contrib/dockerd-rootless.sh\n"
    )
}

fn caller() -> Caller {
    Caller::new(1000, 1000)
        .with_var("HOME", "/home/alice")
        .with_var("XDG_RUNTIME_DIR", "/run/user/1000")
}

fn run_as(fx: &Fixture, caller: Caller, engine: Engine) -> Finding {
    let mut h = Harness::new(fx, caller, ScriptedSystem::new());
    h.engine = engine;
    installed(&h.context(), &mut Facts::default())
}

fn run(fx: &Fixture) -> Finding {
    run_as(fx, caller(), Engine::Docker)
}

fn fixture() -> Fixture {
    let fx = Fixture::new();
    fx.dir("/home/alice").dir("/run/user/1000");
    fx
}

#[test]
fn no_unit_passes_as_not_installed() {
    let f = run(&fixture());
    assert_eq!(f.status, Status::Pass);
    assert_eq!(f.summary, format!("not installed (no {UNIT})"));
    assert_eq!(f.observed("running"), Some("no"));
}

#[test]
fn a_daemon_without_a_unit_warns() {
    let fx = fixture();
    fx.file("/run/user/1000/docker.sock", "");
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert!(f.summary.contains("outside systemd"), "{}", f.summary);
    assert_eq!(
        f.observed("runtime_marker"),
        Some("/run/user/1000/docker.sock")
    );
}

#[test]
fn our_unit_passes_with_its_state() {
    let fx = fixture();
    fx.file(UNIT, &ours())
        .symlink(WANTS, UNIT)
        .file(
            "/home/alice/.config/systemd/user/docker.service.d/10-rootless-setup.conf",
            "[Service]\n",
        )
        .file(
            "/home/alice/.config/systemd/user/docker.service.d/README",
            "",
        )
        .file("/run/user/1000/docker.sock", "");
    let f = run(&fx);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(
        f.summary,
        "installed by rootless-setup (enabled, running, drop-ins: 10-rootless-setup.conf)"
    );
    assert_eq!(f.observed("origin"), Some("rootless-setup"));
    assert_eq!(f.observed("enabled"), Some("yes"));
    let hash = f.observed("body_hash").unwrap_or_default();
    assert!(
        hash.contains(HASH) && hash.contains("not verified"),
        "{hash}"
    );
    assert_eq!(
        f.observed("exec_start"),
        Some("/usr/share/docker.io/contrib/dockerd-rootless.sh")
    );
}

#[test]
fn a_dangling_enable_link_still_counts_as_enabled() {
    let fx = fixture();
    fx.file(UNIT, &ours())
        .symlink(WANTS, "/nowhere/docker.service");
    let f = run(&fx);
    assert_eq!(f.observed("enabled"), Some("yes"));
    assert!(f.summary.contains("enabled, not running"), "{}", f.summary);
}

#[test]
fn the_old_setuptools_unit_warns_and_install_takes_it_over() {
    let fx = fixture();
    fx.file(UNIT, OLD_UNIT).symlink(WANTS, UNIT);
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert!(
        f.summary.starts_with(
            "docker.service was installed by dockerd-rootless-setuptool.sh (enabled, not running)"
        ),
        "{}",
        f.summary
    );
    assert!(f.summary.contains("no outbound NAT"));
    assert_eq!(f.observed("origin"), Some("dockerd-rootless-setuptool.sh"));
    assert_eq!(
        f.observed("baked_path"),
        Some("/home/alice/bin:/sbin:/usr/sbin:/usr/local/bin:/usr/bin:/bin")
    );
    let why = f.why.unwrap_or_default();
    assert!(why.contains("rootless-setup install") && why.contains("rootless-setup uninstall"));
    assert_eq!(
        f.fix.map(|x| x.commands),
        Some(vec!["rootless-setup install".to_owned()])
    );
}

#[test]
fn anything_else_is_a_hand_written_unit() {
    let fx = fixture();
    fx.file(
        UNIT,
        "[Service]\nExecStart=/opt/docker/dockerd --rootless\n",
    );
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.summary,
        format!("{UNIT} is a hand-written unit (not enabled, not running)")
    );
    assert_eq!(f.observed("origin"), Some("hand-written"));
    let cmds = f.fix.map(|x| x.commands).unwrap_or_default();
    assert_eq!(cmds[0], format!("cp {UNIT} {UNIT}.bak"));
}

#[test]
fn the_marker_must_be_on_the_first_line() {
    let fx = fixture();
    fx.file(UNIT, &format!("[Unit]\n{}", ours()));
    let f = run(&fx);
    // It runs dockerd-rootless.sh, so it looks like the old tool's.
    assert_eq!(f.observed("origin"), Some("dockerd-rootless-setuptool.sh"));
}

#[test]
fn xdg_config_home_and_the_account_home_are_honoured() {
    let fx = fixture();
    fx.file("/srv/cfg/systemd/user/docker.service", &ours());
    let c = caller().with_var("XDG_CONFIG_HOME", "/srv/cfg");
    let f = run_as(&fx, c, Engine::Docker);
    assert_eq!(f.observed("origin"), Some("rootless-setup"));

    // No HOME: the passwd entry's home is used.
    let fx = fixture();
    fx.file("/home/bob/.config/systemd/user/docker.service", OLD_UNIT);
    let h = Harness::new(
        &fx,
        Caller::new(1001, 1001).with_var("XDG_RUNTIME_DIR", "/run/user/1001"),
        ScriptedSystem::new(),
    );
    let mut facts = Facts {
        account: Some(rootless_setup_core::testing::account(
            "bob",
            1001,
            "/home/bob",
        )),
        ..Facts::default()
    };
    let f = installed(&h.context(), &mut facts);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.observed("unit"),
        Some("/home/bob/.config/systemd/user/docker.service")
    );
}

#[test]
fn containerd_has_its_own_unit_and_running_marker() {
    let fx = fixture();
    fx.file(
        "/home/alice/.config/systemd/user/containerd.service",
        "[Service]\nExecStart=/usr/local/bin/containerd-rootless.sh\n",
    )
    .file("/run/user/1000/containerd-rootless/child_pid", "4242");
    let f = run_as(&fx, caller(), Engine::Containerd);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.observed("origin"),
        Some("containerd-rootless-setuptool.sh")
    );
    assert_eq!(f.observed("running"), Some("yes"));
}

#[test]
fn no_home_skips_and_no_runtime_dir_is_unknown() {
    let f = run_as(&fixture(), Caller::new(1000, 1000), Engine::Docker);
    assert_eq!(f.status, Status::Skip);
    let fx = fixture();
    fx.file(UNIT, &ours());
    let f = run_as(
        &fx,
        Caller::new(1000, 1000).with_var("HOME", "/home/alice"),
        Engine::Docker,
    );
    assert_eq!(f.status, Status::Pass);
    assert!(f.summary.contains("running state unknown"), "{}", f.summary);
}

#[test]
fn classification_survives_garbage() {
    assert_eq!(classify("", Engine::Docker), Origin::HandWritten);
    assert_eq!(
        classify(&format!("{MARKER}\n# sha256: xyz\n"), Engine::Docker),
        Origin::RootlessSetup {
            recorded_sha256: None
        }
    );
    assert_eq!(
        unit_value("ExecStartPre=/x\nExecStart = y", "ExecStart"),
        Some("y")
    );
    assert_eq!(unit_value("ExecStart=/x y", "ExecStart"), Some("/x y"));
}

proptest::proptest! {
    #[test]
    fn classification_never_panics(text in "(?s).{0,300}") {
        let _ = classify(&text, Engine::Docker);
        let _ = classify(&text, Engine::Containerd);
        let _ = unit_value(&text, "ExecStart");
    }
}

fn with_engine(
    fx: &Fixture,
    engine: Engine,
    answer: Result<Vec<String>, String>,
) -> (Finding, Vec<String>) {
    let mut h = Harness::new(fx, caller(), ScriptedSystem::new().engine_warnings(answer));
    h.engine = engine;
    let f = installed(&h.context(), &mut Facts::default());
    (f, h.system.calls())
}

fn running_ours() -> Fixture {
    let fx = fixture();
    fx.file(UNIT, &ours())
        .symlink(WANTS, UNIT)
        .file("/run/user/1000/docker.sock", "");
    fx
}

#[test]
fn the_running_engines_own_warnings_make_it_warn_with_each_shown() {
    let warnings = vec![
        "WARNING: No cpu cfs quota support".to_owned(),
        "WARNING: No io.weight support".to_owned(),
    ];
    let (f, calls) = with_engine(&running_ours(), Engine::Docker, Ok(warnings));
    assert_eq!(calls, ["info /run/user/1000/docker.sock"]);
    assert_eq!(f.status, Status::Warn, "{f:#?}");
    assert_eq!(
        f.summary,
        "installed by rootless-setup (enabled, running); the engine reports 2 warnings"
    );
    let seen: Vec<&str> = f
        .observed
        .iter()
        .filter(|o| o.key == "engine_warning")
        .map(|o| o.value.as_str())
        .collect();
    assert_eq!(
        seen,
        [
            "WARNING: No cpu cfs quota support",
            "WARNING: No io.weight support"
        ]
    );
    assert_eq!(
        f.fix.expect("a fix").commands,
        ["DOCKER_HOST=unix:///run/user/1000/docker.sock docker info"]
    );
}

#[test]
fn no_warnings_pass_and_an_engine_that_cannot_be_asked_says_why() {
    let (f, _) = with_engine(&running_ours(), Engine::Docker, Ok(Vec::new()));
    assert_eq!(f.status, Status::Pass);
    assert_eq!(f.observed("engine_warnings"), Some("none"));
    let (f, _) = with_engine(&running_ours(), Engine::Docker, Err("refused".into()));
    assert_eq!(f.status, Status::Pass);
    assert_eq!(f.observed("engine_warnings"), Some("not asked: refused"));
}

#[test]
fn a_stopped_or_socket_activated_engine_is_not_asked() {
    let fx = fixture();
    fx.file(UNIT, &ours());
    let (f, calls) = with_engine(&fx, Engine::Docker, Ok(vec!["w".into()]));
    assert!(calls.is_empty(), "{calls:?}");
    assert_eq!(f.status, Status::Pass);
    // Podman's socket would start the service: not asked even when the socket exists.
    let fx = fixture();
    fx.file("/home/alice/.config/systemd/user/podman.socket", &ours())
        .file("/run/user/1000/podman/podman.sock", "");
    let (_, calls) = with_engine(&fx, Engine::Podman, Ok(vec!["w".into()]));
    assert!(calls.is_empty(), "{calls:?}");
}

#[test]
fn warnings_add_to_an_old_units_warning_without_replacing_its_advice() {
    let fx = fixture();
    fx.file(UNIT, OLD_UNIT)
        .file("/run/user/1000/docker.sock", "");
    let (f, _) = with_engine(&fx, Engine::Docker, Ok(vec!["WARNING: x".into()]));
    assert_eq!(f.status, Status::Warn);
    assert!(
        f.summary.ends_with("; the engine reports 1 warning"),
        "{}",
        f.summary
    );
    assert_eq!(f.observed("engine_warning"), Some("WARNING: x"));
    assert_eq!(f.fix.expect("a fix").commands, ["rootless-setup install"]);
}
