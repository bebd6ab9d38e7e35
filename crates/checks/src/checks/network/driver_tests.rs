//! Fixture tests of `network.driver`.

use super::super::testutil::{binary, debian, harness};
use super::*;
use crate::checks::common::test_support::commands;
use crate::testing::{Harness, ScriptedSystem};
use rootless_setup_core::finding::Status;
use rootless_setup_core::model::Engine;

fn run(h: &Harness, facts: &mut Facts) -> Finding {
    driver(&h.context(), facts)
}

fn with(network: Option<&str>, port: Option<&str>) -> Harness {
    let fx = debian();
    let mut h = harness(&fx, ScriptedSystem::new());
    h.options.network_driver = network.map(str::to_owned);
    h.options.port_driver = port.map(str::to_owned);
    // The harness keeps the parsed host; the tree may go.
    h
}

#[test]
fn picks_slirp4netns_like_dockerd_rootless_sh() {
    let h = with(None, None);
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        Some("1.1.0"),
    );
    binary(
        &mut facts,
        "slirp4netns",
        "/usr/bin/slirp4netns",
        Some("1.2.0"),
    );
    binary(&mut facts, "vpnkit", "/usr/local/bin/vpnkit", None);
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("driver"), Some("slirp4netns"));
    assert_eq!(f.observed("chosen_by"), Some("automatic"));
    assert_eq!(f.observed("driver_path"), Some("/usr/bin/slirp4netns"));
    assert_eq!(f.observed("rootlesskit_version"), Some("1.1.0"));
    let plan = facts.network.expect("plan recorded");
    assert_eq!(
        (plan.driver.as_str(), plan.port_driver.as_str(), plan.mtu),
        ("slirp4netns", "builtin", 65520)
    );
    assert_eq!(
        plan.binary.as_deref(),
        Some(std::path::Path::new("/usr/bin/slirp4netns"))
    );
}

#[test]
fn passes_over_an_old_slirp4netns_to_vpnkit() {
    let h = with(None, None);
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "slirp4netns",
        "/usr/bin/slirp4netns",
        Some("0.3.0"),
    );
    binary(&mut facts, "vpnkit", "/usr/local/bin/vpnkit", Some("0.5.0"));
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("driver"), Some("vpnkit"));
    assert_eq!(
        f.observed("slirp4netns_skipped"),
        Some("0.3.0 is older than 0.4")
    );
    assert_eq!(facts.network.unwrap().mtu, 1500);
}

#[test]
fn lxc_user_nic_is_never_an_automatic_choice() {
    // It used to be the checker's last automatic choice; no engine script picks it (core's
    // `auto_choice`), so it must be configured.
    let h = with(None, None);
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "lxc-user-nic",
        "/usr/libexec/lxc/lxc-user-nic",
        None,
    );
    binary(&mut facts, "pasta", "/usr/bin/pasta", Some("2024_01_01.x"));
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "no network driver installed: none of slirp4netns, vpnkit found"
    );
    // Without rootlesskit's version pasta is not offered either.
    assert_eq!(f.fix.unwrap().summary, "install slirp4netns");
    assert!(facts.network.is_none());

    let h = with(Some("lxc-user-nic"), None);
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Pass);
    assert_eq!(f.observed("mtu"), Some("1500"));
}

/// A harness whose engine reports `docker`, with the engine's binaries in `facts`.
fn docker(version: &str, rootlesskit: &str, facts: &mut Facts) -> Harness {
    binary(facts, "dockerd", "/usr/bin/dockerd", Some(version));
    binary(
        facts,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        Some(rootlesskit),
    );
    with(None, None)
}

#[test]
fn pasta_only_follows_the_engines_script() {
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "pasta",
        "/usr/bin/pasta",
        Some("2024_05_23.765eb0b"),
    );
    // Docker 28.5.2 and later try pasta when there is no slirp4netns.
    let h = docker("29.1.3", "2.3.1", &mut facts);
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("driver"), Some("pasta"));
    assert_eq!(
        f.observed("order"),
        Some(
            "slirp4netns, pasta, vpnkit (the order of dockerd-rootless.sh as dockerd 29.1.3 ships it)"
        )
    );
    let plan = facts.network.take().unwrap();
    assert_eq!((plan.port_driver.as_str(), plan.mtu), ("implicit", 65520));
    // Docker 27's script never picks it: a failure that points at it.
    let h = docker("27.3.1", "2.3.1", &mut facts);
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "no network driver installed: none of slirp4netns, vpnkit found"
    );
    assert!(
        f.fix
            .unwrap()
            .summary
            .contains("choose network driver pasta"),
        "the hint names pasta"
    );
}

#[test]
fn gvisor_comes_from_rootlesskit_3_under_docker_29_5() {
    let mut facts = Facts::default();
    let h = docker("29.5.0", "3.0.0", &mut facts);
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("driver"), Some("gvisor-tap-vsock"));
    let plan = facts.network.take().unwrap();
    assert_eq!(
        (plan.port_driver.as_str(), plan.binary, plan.mtu),
        ("builtin", None, 65520)
    );
    // rootlesskit 2.3 has no such driver: nothing usable, with the reason.
    let h = docker("29.5.0", "2.3.6", &mut facts);
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "no usable network driver: gvisor-tap-vsock needs rootlesskit 3.0 or later, found 2.3.6; not installed: slirp4netns, pasta, vpnkit"
    );
}

#[test]
fn docker_29_5_passes_over_an_old_slirp4netns() {
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "slirp4netns",
        "/usr/bin/slirp4netns",
        Some("0.3.3"),
    );
    let h = docker("29.5.0", "3.0.1", &mut facts);
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("driver"), Some("gvisor-tap-vsock"));
    assert_eq!(
        f.observed("slirp4netns_skipped"),
        Some("0.3.3 is older than 0.4")
    );
}

#[test]
fn the_order_is_read_from_the_engines_script() {
    // Debian 12's docker.io: dockerd 20.10 and its script, which tries slirp4netns then vpnkit.
    let fx = debian();
    fx.file(
        "/usr/share/docker.io/contrib/dockerd-rootless.sh",
        "net=$DOCKERD_ROOTLESS_ROOTLESSKIT_NET\nif [ -z \"$net\" ]; then\n\t\tnet=slirp4netns\n\t\tnet=vpnkit\nfi\n",
    );
    let h = harness(&fx, ScriptedSystem::new());
    let mut facts = Facts::default();
    // A version that would say otherwise: the script read wins.
    binary(&mut facts, "dockerd", "/usr/bin/dockerd", Some("29.5.0"));
    binary(
        &mut facts,
        "dockerd-rootless.sh",
        "/usr/share/docker.io/contrib/dockerd-rootless.sh",
        None,
    );
    binary(
        &mut facts,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        Some("3.0.0"),
    );
    binary(&mut facts, "vpnkit", "/usr/bin/vpnkit", None);
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("driver"), Some("vpnkit"));
    assert_eq!(
        f.observed("order"),
        Some("slirp4netns, vpnkit (the order of the engine's dockerd-rootless.sh)")
    );
}

#[test]
fn no_driver_fails_with_the_install_command() {
    let h = with(None, None);
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        Some("2.0.1"),
    );
    binary(
        &mut facts,
        "pasta",
        "/usr/bin/pasta",
        Some("2023_12_04.b86afe3"),
    );
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "no network driver installed: none of slirp4netns, vpnkit found"
    );
    assert_eq!(
        f.observed("looked_for"),
        Some(
            "slirp4netns, vpnkit (the order every dockerd-rootless.sh starts with (its version is unknown))"
        )
    );
    let fix = f.fix.as_ref().unwrap();
    assert!(fix.root);
    assert_eq!(fix.commands, vec!["sudo apt-get install -y slirp4netns"]);
    assert!(
        fix.summary.contains("choose network driver pasta"),
        "{fix:?}"
    );
    assert!(f.why.is_some());
    assert!(facts.network.is_none());
}

#[test]
fn only_an_old_slirp4netns_fails() {
    let h = with(None, None);
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "slirp4netns",
        "/usr/bin/slirp4netns",
        Some("0.3.3"),
    );
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "no usable network driver: slirp4netns 0.3.3 is older than 0.4; not installed: vpnkit"
    );
    assert!(commands(&f)[0].contains("slirp4netns"));
    assert!(!f.fix.unwrap().summary.contains("pasta"));
}

#[test]
fn an_explicit_old_slirp4netns_fails() {
    let h = with(Some("slirp4netns"), None);
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "slirp4netns",
        "/usr/bin/slirp4netns",
        Some("0.3.0"),
    );
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "slirp4netns 0.3.0 is older than 0.4");
    assert_eq!(commands(&f), vec!["sudo apt-get install -y slirp4netns"]);
    assert!(facts.network.is_none());
}

#[test]
fn pasta_needs_rootlesskit_2() {
    let h = with(Some("pasta"), None);
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        Some("1.1.0"),
    );
    binary(
        &mut facts,
        "pasta",
        "/usr/bin/pasta",
        Some("2023_12_04.b86afe3"),
    );
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "network driver `pasta` needs rootlesskit 2.0 or later, found 1.1.0"
    );
    assert_eq!(commands(&f), vec!["sudo apt-get install -y rootlesskit"]);
    assert!(facts.network.is_none());
}

#[test]
fn pasta_with_rootlesskit_2_uses_the_implicit_port_driver() {
    let h = with(Some("pasta"), None);
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        Some("2.0.1"),
    );
    binary(
        &mut facts,
        "pasta",
        "/usr/bin/pasta",
        Some("2023_12_04.b86afe3"),
    );
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("chosen_by"), Some("option"));
    assert_eq!(f.observed("port_driver"), Some("implicit"));
    let plan = facts.network.unwrap();
    assert_eq!((plan.port_driver.as_str(), plan.mtu), ("implicit", 65520));
}

#[test]
fn a_too_old_pasta_fails_and_an_oldish_one_warns() {
    let h = with(Some("pasta"), None);
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        Some("2.3.1"),
    );
    binary(
        &mut facts,
        "pasta",
        "/usr/bin/pasta",
        Some("2023_03_29.b10b983"),
    );
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("older than 2023_06_25"));
    assert_eq!(commands(&f), vec!["sudo apt-get install -y passt"]);

    binary(
        &mut facts,
        "pasta",
        "/usr/bin/pasta",
        Some("2023_08_23.a7e4bfb"),
    );
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Warn);
    assert!(f.summary.contains("recommended 2023_12_04"));
    assert!(facts.network.is_some(), "a warning still records the plan");
}

#[test]
fn pasta_with_the_builtin_port_driver_is_refused() {
    let h = with(Some("pasta"), Some("builtin"));
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        Some("2.0.1"),
    );
    binary(&mut facts, "pasta", "/usr/bin/pasta", Some("2024_01_01.x"));
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("allowed:"), "{}", f.summary);
    assert_eq!(f.observed("port_driver"), Some("builtin"));
    let fix = f.fix.unwrap();
    assert!(!fix.root);
    assert!(fix.summary.contains("implicit, none"), "{}", fix.summary);
    assert!(facts.network.is_none());
}

#[test]
fn slirp4netns_port_driver_only_with_slirp4netns() {
    let h = with(Some("vpnkit"), Some("slirp4netns"));
    let mut facts = Facts::default();
    binary(&mut facts, "vpnkit", "/usr/bin/vpnkit", None);
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.summary
            .starts_with("port driver `slirp4netns` does not work with network driver `vpnkit`")
    );

    let h = with(Some("slirp4netns"), Some("slirp4netns"));
    binary(
        &mut facts,
        "slirp4netns",
        "/usr/bin/slirp4netns",
        Some("1.2.0"),
    );
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Pass);
    assert_eq!(facts.network.unwrap().port_driver, "slirp4netns");
}

#[test]
fn a_missing_configured_driver_fails_with_its_package() {
    let h = with(Some("lxc-user-nic"), None);
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "slirp4netns",
        "/usr/bin/slirp4netns",
        Some("1.2.0"),
    );
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("driver_path"), Some("not found"));
    assert_eq!(
        commands(&f),
        vec![
            "sudo apt-get install -y lxc".to_owned(),
            "echo \"$(id -un) veth lxcbr0 1\" | sudo tee -a /etc/lxc/lxc-usernet".to_owned()
        ]
    );
    facts.account = Some(rootless_setup_core::testing::account(
        "alice",
        1000,
        "/home/alice",
    ));
    assert_eq!(
        commands(&run(&h, &mut facts))[1],
        "echo \"alice veth lxcbr0 1\" | sudo tee -a /etc/lxc/lxc-usernet"
    );

    let h = with(Some("pasta"), None);
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(commands(&f), vec!["sudo apt-get install -y passt"]);

    let h = with(Some("vpnkit"), None);
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert!(f.fix.unwrap().summary.contains("moby/vpnkit"));
}

#[test]
fn gvisor_needs_rootlesskit_and_warns_on_an_unknown_version() {
    let h = with(Some("gvisor-tap-vsock"), None);
    let mut facts = Facts::default();
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.contains("rootlesskit was not found"));
    assert_eq!(commands(&f), vec!["sudo apt-get install -y rootlesskit"]);

    binary(&mut facts, "rootlesskit", "/usr/bin/rootlesskit", None);
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Warn, "{f:?}");
    assert!(f.summary.contains("could not tell rootlesskit's version"));
    let plan = facts.network.take().unwrap();
    assert_eq!((plan.binary, plan.mtu), (None, 65520));

    // rootlesskit 2.3.x has no gvisor-tap-vsock driver; it first shipped in 3.0.0.
    binary(
        &mut facts,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        Some("2.3.6"),
    );
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail, "{f:?}");
    assert_eq!(
        f.summary,
        "network driver `gvisor-tap-vsock` needs rootlesskit 3.0 or later, found 2.3.6"
    );
    assert_eq!(commands(&f), vec!["sudo apt-get install -y rootlesskit"]);

    binary(
        &mut facts,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        Some("3.0.0"),
    );
    assert_eq!(run(&h, &mut facts).status, Status::Pass);
}

#[test]
fn an_unknown_driver_fails() {
    let h = with(Some("tap0"), None);
    let mut facts = Facts::default();
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Fail);
    assert!(f.summary.starts_with("unknown network driver `tap0`"));
    assert_eq!(f.observed("driver"), Some("tap0"));
    assert!(f.fix.is_some() && f.why.is_some());
}

#[test]
fn port_driver_none_warns() {
    let h = with(None, Some("none"));
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "slirp4netns",
        "/usr/bin/slirp4netns",
        Some("1.2.0"),
    );
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Warn);
    assert!(f.summary.contains("publishes nothing"));
    assert!(f.fix.unwrap().summary.contains("builtin"));
    assert_eq!(facts.network.unwrap().port_driver, "none");
}

/// containerd's unit runs the steps of nerdctl 2.3's script: its order, with no nerdctl and no
/// script installed (Debian), and gvisor-tap-vsock only from rootlesskit 3.
#[test]
fn containerd_follows_the_steps_its_unit_runs() {
    let mut facts = Facts::default();
    binary(
        &mut facts,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        Some("2.3.4"),
    );
    binary(
        &mut facts,
        "slirp4netns",
        "/usr/bin/slirp4netns",
        Some("1.2.1"),
    );
    let mut h = with(None, None);
    h.engine = Engine::Containerd;
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("driver"), Some("slirp4netns"));
    assert_eq!(
        f.observed("order"),
        Some(
            "slirp4netns, vpnkit, gvisor-tap-vsock (the order of containerd-rootless.sh from nerdctl 2.3.0, whose steps the unit runs)"
        )
    );
    facts.binaries.remove("slirp4netns");
    facts.network = None;
    let f = run(&h, &mut facts);
    assert_eq!(
        f.status,
        Status::Fail,
        "rootlesskit 2 has no gvisor-tap-vsock"
    );
    binary(
        &mut facts,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        Some("3.0.0"),
    );
    let f = run(&h, &mut facts);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("driver"), Some("gvisor-tap-vsock"));
}
