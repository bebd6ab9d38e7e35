//! Tests of the automatic choice: the order read from each release's script and from the
//! engine's version, and the choice on the hosts where the checker and the unit used to
//! disagree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// The automatic part of moby's `contrib/dockerd-rootless.sh` at docker-v29.5.0.
const MOBY_29_5: &str = r#"net=$DOCKERD_ROOTLESS_ROOTLESSKIT_NET
if [ -z "$net" ]; then
	if command -v slirp4netns > /dev/null 2>&1; then
		if slirp4netns --help | grep -qw -- --netns-type; then
			net=slirp4netns
		else
			echo "slirp4netns found but seems older than v0.4.0. Checking for other network drivers."
		fi
	fi
	if [ -z "$net" ]; then
		if command -v pasta > /dev/null 2>&1; then
			net=pasta
		fi
	fi
	if [ -z "$net" ]; then
		if command -v vpnkit > /dev/null 2>&1; then
			net=vpnkit
		fi
	fi
	if [ -z "$net" ]; then
		net=gvisor-tap-vsock
	fi
fi
"#;

/// The same part at v20.10.24 (Debian 12's docker.io ships this file).
const MOBY_20_10: &str = r#"# Environment="DOCKERD_ROOTLESS_ROOTLESSKIT_NET=pasta"
net=$DOCKERD_ROOTLESS_ROOTLESSKIT_NET
if [ -z "$net" ]; then
	if command -v slirp4netns > /dev/null 2>&1; then
		if slirp4netns --help | grep -qw -- --netns-type; then
			net=slirp4netns
			if [ -z "$mtu" ]; then
				mtu=65520
			fi
		fi
	fi
	if [ -z "$net" ]; then
		if command -v vpnkit > /dev/null 2>&1; then
			net=vpnkit
		else
			echo "Either slirp4netns (>= v0.4.0) or vpnkit needs to be installed"
			exit 1
		fi
	fi
fi
"#;

/// nerdctl's `extras/rootless/containerd-rootless.sh` since v2.3.0.
const NERDCTL_2_3: &str = r#"	net=$CONTAINERD_ROOTLESS_ROOTLESSKIT_NET
	if [ -z "$net" ]; then
		if command -v slirp4netns >/dev/null 2>&1; then
			if slirp4netns --help | grep -qw -- --netns-type; then
				net=slirp4netns
			fi
		fi
		if [ -z "$net" ]; then
			if command -v vpnkit >/dev/null 2>&1; then
				net=vpnkit
			else
				net=gvisor-tap-vsock
			fi
		fi
	fi
"#;

use NetDriver::{GvisorTapVsock as Gvisor, LxcUserNic, Pasta, Slirp4netns as Slirp, Vpnkit};

fn found(v: &str) -> Tool {
    Tool::Found(Some(v.to_owned()))
}

fn docker(version: &str) -> Installed {
    Installed {
        engine_version: Some(version.to_owned()),
        rootlesskit: found("2.3.1"),
        ..Installed::default()
    }
}

fn order(installed: &Installed) -> Vec<NetDriver> {
    AutoOrder::of(installed).drivers
}

#[test]
fn the_order_is_read_from_the_script() {
    let read = |script: &str| Installed {
        script: Some(script.to_owned()),
        ..Installed::default()
    };
    assert_eq!(order(&read(MOBY_29_5)), [Slirp, Pasta, Vpnkit, Gvisor]);
    assert_eq!(order(&read(MOBY_20_10)), [Slirp, Vpnkit]);
    assert_eq!(order(&read(NERDCTL_2_3)), [Slirp, Vpnkit, Gvisor]);
    assert_eq!(AutoOrder::of(&read(MOBY_20_10)).source, OrderSource::Script);
    // The script wins over the version it came with.
    let both = Installed {
        script: Some(MOBY_20_10.to_owned()),
        ..docker("29.5.0")
    };
    assert_eq!(order(&both), [Slirp, Vpnkit]);
    // A script that names no driver (a wrapper, a test stub) falls back to the version.
    let stub = Installed {
        script: Some("#!/bin/sh\nexec rootlesskit \"$@\"\n".to_owned()),
        ..docker("29.5.0")
    };
    assert_eq!(order(&stub), [Slirp, Pasta, Vpnkit, Gvisor]);
    assert_eq!(
        AutoOrder::of(&stub).source,
        OrderSource::Version("29.5.0".to_owned())
    );
}

#[test]
fn the_order_follows_the_engine_version_without_a_script() {
    for (version, want) in [
        ("20.10.24+dfsg1", &[Slirp, Vpnkit][..]),
        ("26.1.5+dfsg1", &[Slirp, Vpnkit]),
        ("28.5.1", &[Slirp, Vpnkit]),
        ("28.5.2", &[Slirp, Pasta, Vpnkit]),
        ("29.4.3", &[Slirp, Pasta, Vpnkit]),
        ("29.5.0", &[Slirp, Pasta, Vpnkit, Gvisor]),
        ("29.7.2", &[Slirp, Pasta, Vpnkit, Gvisor]),
    ] {
        assert_eq!(order(&docker(version)), want, "{version}");
    }
    let nerdctl = |v: &str| Installed {
        engine: Engine::Containerd,
        ..docker(v)
    };
    // The containerd unit runs the steps of nerdctl 2.3's script, whatever nerdctl or script is
    // installed (or none).
    for containerd in [
        nerdctl("2.2.1"),
        nerdctl("2.3.0"),
        Installed {
            engine: Engine::Containerd,
            script: Some(NERDCTL_2_3.replace("net=gvisor-tap-vsock", "")),
            ..Installed::default()
        },
    ] {
        let o = AutoOrder::of(&containerd);
        assert_eq!(
            (o.drivers, o.source),
            (vec![Slirp, Vpnkit, Gvisor], OrderSource::Steps([2, 3, 0]))
        );
    }
    // Nothing known, or a version that is not one: the order every release starts with.
    for unknown in [Installed::default(), docker("dev")] {
        let o = AutoOrder::of(&unknown);
        assert_eq!(
            (o.drivers, o.source),
            (vec![Slirp, Vpnkit], OrderSource::Unknown)
        );
    }
}

#[test]
fn the_order_is_described_with_its_origin() {
    let o = AutoOrder::of(&docker("29.5.0"));
    assert_eq!(o.list(), "slirp4netns, pasta, vpnkit, gvisor-tap-vsock");
    assert_eq!(
        o.origin(Engine::Docker),
        "the order of dockerd-rootless.sh as dockerd 29.5.0 ships it"
    );
    let read = Installed {
        script: Some(NERDCTL_2_3.to_owned()),
        ..Installed::default()
    };
    assert_eq!(
        AutoOrder::of(&read).origin(Engine::Containerd),
        "the order of the engine's containerd-rootless.sh"
    );
    let steps = Installed {
        engine: Engine::Containerd,
        ..Installed::default()
    };
    assert_eq!(
        AutoOrder::of(&steps).origin(Engine::Containerd),
        "the order of containerd-rootless.sh from nerdctl 2.3.0, whose steps the unit runs"
    );
    assert_eq!(
        AutoOrder::of(&Installed::default()).origin(Engine::Docker),
        "the order every dockerd-rootless.sh starts with (its version is unknown)"
    );
}

#[test]
fn slirp4netns_is_chosen_wherever_it_is_installed() {
    // Debian 12 and 13, every e2e box and every snapshot: as before.
    for version in ["20.10.24+dfsg1", "26.1.5+dfsg1", "29.5.0"] {
        let installed = Installed {
            slirp4netns: found("1.2.0"),
            pasta: found("2025_01_01.abc"),
            vpnkit: Tool::Found(None),
            ..docker(version)
        };
        let c = auto_choice(&installed);
        assert_eq!(
            (c.driver, c.passed_over.len()),
            (Some(Slirp), 0),
            "{version}"
        );
    }
    // A slirp4netns whose version cannot be read is not held against it.
    let unknown = Installed {
        slirp4netns: Tool::Found(None),
        ..Installed::default()
    };
    assert_eq!(auto_choice(&unknown).driver, Some(Slirp));
}

#[test]
fn pasta_only_is_chosen_by_engines_whose_script_tries_it() {
    let pasta_only = |version: &str| Installed {
        pasta: found("2024_05_23.765eb0b"),
        ..docker(version)
    };
    // Docker 28.5.2 and later try pasta after slirp4netns.
    let c = auto_choice(&pasta_only("29.1.3"));
    assert_eq!(c.driver, Some(Pasta));
    assert_eq!(c.passed_over, [(Slirp, PassedOver::Missing)]);
    // Docker 27 never picks pasta by itself: nothing, and only missing drivers.
    let c = auto_choice(&pasta_only("27.3.1"));
    assert_eq!(c.driver, None);
    assert_eq!(
        c.passed_over,
        [(Slirp, PassedOver::Missing), (Vpnkit, PassedOver::Missing)]
    );
    assert!(c.nothing_installed());
    // rootlesskit 1.x has no pasta driver: passed over, then nothing.
    let old_kit = Installed {
        rootlesskit: found("1.1.0"),
        ..pasta_only("29.1.3")
    };
    let c = auto_choice(&old_kit);
    assert_eq!(c.driver, None);
    assert_eq!(
        c.passed_over[1],
        (
            Pasta,
            PassedOver::RootlesskitTooOld {
                need: [2, 0],
                found: "1.1.0".to_owned()
            }
        )
    );
    assert!(!c.nothing_installed());
    assert_eq!(
        c.passed_over[1].1.describe(Pasta),
        "pasta needs rootlesskit 2.0 or later, found 1.1.0"
    );
    // A pasta older than rootlesskit's minimum is passed over too.
    let old_pasta = Installed {
        pasta: found("0.0~git20230309.7c7625d"),
        vpnkit: Tool::Found(None),
        ..docker("29.1.3")
    };
    let c = auto_choice(&old_pasta);
    assert_eq!(c.driver, Some(Vpnkit));
    assert_eq!(
        c.passed_over[1].1.describe(Pasta),
        "pasta 0.0~git20230309.7c7625d is older than 2023_06_25"
    );
}

#[test]
fn gvisor_tap_vsock_comes_from_rootlesskit_3_under_docker_29_5() {
    let kit = |v: Option<&str>| Installed {
        rootlesskit: Tool::Found(v.map(str::to_owned)),
        ..docker("29.5.0")
    };
    let c = auto_choice(&kit(Some("3.0.0")));
    assert_eq!(c.driver, Some(Gvisor));
    assert_eq!(c.passed_over.len(), 3);
    assert!(c.nothing_installed());
    let c = auto_choice(&kit(Some("2.3.6")));
    assert_eq!(c.driver, None);
    assert_eq!(
        c.passed_over[3],
        (
            Gvisor,
            PassedOver::RootlesskitTooOld {
                need: [3, 0],
                found: "2.3.6".to_owned()
            }
        )
    );
    let c = auto_choice(&kit(None));
    assert_eq!(c.passed_over[3], (Gvisor, PassedOver::RootlesskitUnknown));
    assert_eq!(
        c.passed_over[3].1.describe(Gvisor),
        "gvisor-tap-vsock: could not tell rootlesskit's version"
    );
    let no_kit = Installed {
        rootlesskit: Tool::Missing,
        ..kit(None)
    };
    assert_eq!(
        auto_choice(&no_kit).passed_over[3],
        (Gvisor, PassedOver::Missing)
    );
    // Docker 29.4 and nerdctl before 2.3 never fall back to it.
    let c = auto_choice(&Installed {
        rootlesskit: found("3.0.0"),
        ..docker("29.4.3")
    });
    assert_eq!(c.driver, None);
}

#[test]
fn docker_29_5_without_slirp4netns() {
    // An old slirp4netns is passed over, as the script does, and recorded.
    let installed = Installed {
        slirp4netns: found("0.3.3"),
        rootlesskit: found("3.0.1"),
        ..docker("29.5.0")
    };
    let c = auto_choice(&installed);
    assert_eq!(c.driver, Some(Gvisor));
    assert_eq!(c.skipped_slirp(), Some("0.3.3"));
    assert_eq!(
        c.passed_over[0].1.describe(Slirp),
        "slirp4netns 0.3.3 is older than 0.4"
    );
    // vpnkit comes before the built-in stack.
    let with_vpnkit = Installed {
        vpnkit: Tool::Found(None),
        ..installed
    };
    assert_eq!(auto_choice(&with_vpnkit).driver, Some(Vpnkit));
}

#[test]
fn nothing_at_all() {
    let c = auto_choice(&Installed::default());
    assert_eq!(c.driver, None);
    assert_eq!(c.order.list(), "slirp4netns, vpnkit");
    assert!(c.nothing_installed());
    assert_eq!(c.skipped_slirp(), None);
    assert_eq!(
        c.passed_over[0].1.describe(Slirp),
        "slirp4netns: slirp4netns not found"
    );
}

#[test]
fn lxc_user_nic_is_never_chosen_automatically() {
    // No release of either script picks it; it must be configured.
    for version in ["20.10.24", "29.5.0"] {
        let installed = Installed {
            lxc_user_nic: Tool::Found(None),
            ..docker(version)
        };
        assert_eq!(auto_choice(&installed).driver, None, "{version}");
    }
    assert_eq!(
        passed_over(LxcUserNic, &Installed::default()),
        Some(PassedOver::Missing)
    );
}

#[test]
fn installed_is_read_from_the_binaries_found() {
    let bin = |name: &str, version: Option<&str>| {
        (
            name.to_owned(),
            Binary {
                name: name.to_owned(),
                path: format!("/usr/bin/{name}").into(),
                version: version.map(str::to_owned),
            },
        )
    };
    let binaries: BTreeMap<String, Binary> = [
        bin("dockerd", Some("29.5.0")),
        bin("nerdctl", Some("2.3.0")),
        bin("rootlesskit", Some("3.0.0")),
        bin("vpnkit", None),
    ]
    .into_iter()
    .collect();
    let i = Installed::from_binaries(Engine::Docker, &binaries, Some("x".into()));
    assert_eq!(i.engine_version.as_deref(), Some("29.5.0"));
    assert_eq!(i.rootlesskit, found("3.0.0"));
    assert_eq!(i.vpnkit, Tool::Found(None));
    assert_eq!(i.slirp4netns, Tool::Missing);
    assert_eq!(i.tool(Gvisor), &i.rootlesskit);
    assert_eq!(i.script_reads("x"), Some(true));
    let c = Installed::from_binaries(Engine::Containerd, &binaries, None);
    assert_eq!(c.engine_version.as_deref(), Some("2.3.0"));
    assert_eq!(c.script_reads("x"), None);
}

#[test]
fn an_unreadable_rootlesskit_version_is_held_only_against_gvisor() {
    let kit = |v: &str| Installed {
        rootlesskit: found(v),
        pasta: found("2024_05_10.abcdef0"),
        ..docker("29.5.0")
    };
    // A version that is no version is as unknown as none at all for gvisor-tap-vsock …
    assert_eq!(
        passed_over(Gvisor, &kit("unknown")),
        Some(PassedOver::RootlesskitUnknown)
    );
    // … but not for a driver with a program of its own that rootlesskit must be new enough
    // for (pasta needs rootlesskit 2.0): the program was found, so it stays a candidate.
    assert_eq!(Pasta.min_rootlesskit(), Some([2, 0]));
    assert_eq!(passed_over(Pasta, &kit("unknown")), None);
    assert_eq!(
        passed_over(
            Pasta,
            &Installed {
                rootlesskit: Tool::Found(None),
                ..kit("unknown")
            }
        ),
        None
    );
    assert_eq!(passed_over(Pasta, &kit("2.3.1")), None);
}
