//! Driver table tests: core's rules seen through the unit's port drivers, minimum versions,
//! pasta's minimum and recommendation, port driver `none`, what the script reads, the automatic
//! choice on the hosts the unit used to decide alone.

use std::path::Path;

use rootless_setup_core::network::{Tool, auto_choice};

use super::*;
use crate::config::Settings;

fn found(v: &str) -> Tool {
    Tool::Found(Some(v.to_owned()))
}

fn messages(problems: &[Problem]) -> Vec<&str> {
    problems.iter().map(|p| p.message.as_str()).collect()
}

#[test]
fn the_port_drivers_are_cores_but_none() {
    for p in rules::PortDriver::ALL {
        match PortDriver::from_rules(p) {
            Some(q) => {
                assert_eq!(q.rules(), p);
                assert!(PortDriver::ALL.contains(&q));
            }
            None => assert_eq!(p, rules::PortDriver::None),
        }
    }
    assert_eq!(PortDriver::ALL.len(), rules::PortDriver::ALL.len() - 1);
}

#[test]
fn port_drivers_are_the_fitting_ones_without_none() {
    assert_eq!(port_drivers(NetDriver::Pasta), vec![PortDriver::Implicit]);
    assert_eq!(
        port_drivers(NetDriver::Slirp4netns),
        vec![PortDriver::Builtin, PortDriver::Slirp4netns]
    );
    assert_eq!(
        port_drivers(NetDriver::GvisorTapVsock),
        vec![PortDriver::Builtin, PortDriver::GvisorTapVsock]
    );
    assert_eq!(port_drivers(NetDriver::Vpnkit), vec![PortDriver::Builtin]);
    for n in NetDriver::ALL {
        let fits = port_drivers(n);
        assert_eq!(fits[0], PortDriver::default_for(n), "{n}");
        for p in PortDriver::ALL {
            assert_eq!(fits.contains(&p), p.rules().fits(n), "{n} {p}");
        }
    }
}

#[test]
fn port_driver_none_is_refused_with_the_reason_and_the_allowed_values() {
    // rootlesskit accepts it (the checker warns) ...
    assert!(rules::PortDriver::None.fits(NetDriver::Slirp4netns));
    // ... the unit does not.
    assert!("none".parse::<PortDriver>().is_err());
    let reason = port_driver_refusal("none").unwrap();
    assert!(reason.contains("publishes no ports"), "{reason}");
    assert_eq!(port_driver_refusal("builtin"), None);
    assert_eq!(port_driver_refusal("socat"), None);
    // The configuration layer names the values it takes instead.
    let mut s = Settings::default();
    let err = s
        .apply_file(
            Path::new("/c.toml"),
            "[network]\nport-driver = \"none\"\n",
            Path::new("/home/u"),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`network.port-driver` cannot be `none`"),
        "{err}"
    );
    assert!(
        err.contains("allowed: `builtin`, `slirp4netns`, `implicit` or `gvisor-tap-vsock`"),
        "{err}"
    );
}

#[test]
fn port_drivers_must_fit_the_network_driver() {
    let installed = Installed {
        rootlesskit: found("2.3.1"),
        slirp4netns: found("1.2.0"),
        pasta: found("pasta 2024_05_23.765eb0b"),
        ..Installed::default()
    };
    assert!(check_combination(NetDriver::Pasta, PortDriver::Implicit, &installed).is_empty());
    assert!(
        check_combination(NetDriver::Slirp4netns, PortDriver::Slirp4netns, &installed).is_empty()
    );
    // rootlesskit refuses builtin with pasta.
    let pasta_builtin = check_combination(NetDriver::Pasta, PortDriver::Builtin, &installed);
    assert_eq!(pasta_builtin.len(), 1);
    assert_eq!(pasta_builtin[0].fix, "use port driver implicit");
    let problems = check_combination(NetDriver::Slirp4netns, PortDriver::Implicit, &installed);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].subject, Subject::Port);
    assert_eq!(problems[0].severity, Severity::Error);
    assert_eq!(
        problems[0].message,
        "port driver `implicit` does not work with network driver `slirp4netns`"
    );
    assert_eq!(problems[0].fix, "use port driver builtin or slirp4netns");
}

#[test]
fn minimum_versions_are_enforced() {
    let old = Installed {
        rootlesskit: found("1.1.0"),
        slirp4netns: found("0.3.0"),
        pasta: found("pasta 0.0~git20230309.7c7625d"),
        ..Installed::default()
    };
    let slirp = check_combination(NetDriver::Slirp4netns, PortDriver::Builtin, &old);
    assert_eq!(
        messages(&slirp),
        ["slirp4netns 0.3.0 is older than 0.4.0, which the engine needs"]
    );
    let pasta = check_combination(NetDriver::Pasta, PortDriver::Implicit, &old);
    assert_eq!(
        messages(&pasta),
        [
            "rootlesskit 1.1.0 has no pasta driver (it needs 2.0.0 or newer)",
            "pasta from 2023_03_09 is older than 2023_06_25, which rootlesskit's pasta driver needs",
        ]
    );
    assert!(pasta.iter().all(|p| p.severity == Severity::Error));
    assert_eq!(
        pasta[1].fix,
        "install passt 2023_12_04 or newer, or use slirp4netns"
    );
}

#[test]
fn gvisor_tap_vsock_needs_rootlesskit_3() {
    for kit in ["1.1.0", "2.3.6"] {
        let installed = Installed {
            rootlesskit: found(kit),
            ..Installed::default()
        };
        let p = check_combination(NetDriver::GvisorTapVsock, PortDriver::Builtin, &installed);
        assert_eq!(p.len(), 1, "{kit}");
        assert!(p[0].message.ends_with("(it needs 3.0.0 or newer)"), "{kit}");
    }
    let new = Installed {
        rootlesskit: found("3.0.0"),
        ..Installed::default()
    };
    assert!(
        check_combination(NetDriver::GvisorTapVsock, PortDriver::GvisorTapVsock, &new).is_empty()
    );
    assert_eq!(ROOTLESSKIT_DETACH_NETNS_MIN, [2, 0]);
    assert_eq!(
        rootlesskit_lacks("1.1.0", "--detach-netns", ROOTLESSKIT_DETACH_NETNS_MIN),
        "rootlesskit 1.1.0 has no --detach-netns (it needs 2.0.0 or newer)"
    );
}

#[test]
fn pasta_below_the_recommendation_is_a_warning() {
    // Ubuntu 23.10's passt: after rootlesskit's minimum, before its recommendation.
    let installed = Installed {
        rootlesskit: found("2.0.1"),
        pasta: found("pasta 0.0~git20230627.289301b-1"),
        ..Installed::default()
    };
    let p = check_combination(NetDriver::Pasta, PortDriver::Implicit, &installed);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].severity, Severity::Warning);
    assert_eq!(p[0].subject, Subject::Network);
    assert_eq!(
        p[0].message,
        "pasta from 2023_06_27 is older than the recommended 2023_12_04 (published ports may drop connections)"
    );
    assert_eq!(p[0].fix, "install passt 2023_12_04 or newer");
    // A warning does not stop the automatic choice of an engine whose script tries pasta.
    let docker_29 = Installed {
        engine_version: Some("29.1.3".to_owned()),
        ..installed.clone()
    };
    assert_eq!(auto_choice(&docker_29).driver, Some(NetDriver::Pasta));
    // An undated pasta is not held against it.
    let undated = Installed {
        pasta: found("pasta unknown version"),
        ..installed
    };
    assert!(check_combination(NetDriver::Pasta, PortDriver::Implicit, &undated).is_empty());
}

#[test]
fn missing_binaries_and_unknown_versions() {
    let none = Installed::default();
    let p = check_combination(NetDriver::Slirp4netns, PortDriver::Builtin, &none);
    assert_eq!(
        p[0].message,
        "network driver `slirp4netns` needs `slirp4netns`, which was not found"
    );
    // Found without a readable version: not held against it.
    let unknown = Installed {
        slirp4netns: Tool::Found(None),
        ..Installed::default()
    };
    assert!(check_combination(NetDriver::Slirp4netns, PortDriver::Builtin, &unknown).is_empty());
}

#[test]
fn the_script_decides_what_the_engine_understands() {
    // Very old scripts hard-code `--port-driver=builtin`.
    let ancient = Installed {
        slirp4netns: found("1.0.1"),
        script: Some("--port-driver=builtin".to_owned()),
        ..Installed::default()
    };
    let p = check_combination(NetDriver::Slirp4netns, PortDriver::Slirp4netns, &ancient);
    assert_eq!(p.len(), 1);
    assert!(p[0].message.contains("always uses the builtin port driver"));
    assert!(check_combination(NetDriver::Slirp4netns, PortDriver::Builtin, &ancient).is_empty());
    assert_eq!(
        ancient.script_reads("DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS"),
        Some(false)
    );
    assert_eq!(Installed::default().script_reads("X"), None);
}

#[test]
fn the_automatic_choice_follows_the_engines_script() {
    // What the unit used to pick by itself (slirp4netns, pasta, gvisor-tap-vsock, vpnkit,
    // lxc-user-nic), now core's single answer: the order of the engine's script.
    let docker = |version: &str| Installed {
        engine_version: Some(version.to_owned()),
        rootlesskit: found("2.3.1"),
        pasta: found("pasta 2024_05_23.765eb0b"),
        ..Installed::default()
    };
    let mut installed = docker("29.1.3");
    assert_eq!(auto_choice(&installed).driver, Some(NetDriver::Pasta));
    installed.slirp4netns = found("1.2.0");
    assert_eq!(auto_choice(&installed).driver, Some(NetDriver::Slirp4netns));
    assert_eq!(auto_choice(&Installed::default()).driver, None);
    // Docker 27's script never tries pasta.
    assert_eq!(auto_choice(&docker("27.3.1")).driver, None);
    // gvisor-tap-vsock only from rootlesskit 3.0 on, and only from Docker 29.5 on.
    let kit = |v: &str| Installed {
        engine_version: Some("29.5.0".to_owned()),
        rootlesskit: found(v),
        ..Installed::default()
    };
    assert_eq!(auto_choice(&kit("2.3.6")).driver, None);
    assert_eq!(
        auto_choice(&kit("3.0.0")).driver,
        Some(NetDriver::GvisorTapVsock)
    );
    // A pasta too old for rootlesskit is passed over.
    let old_pasta = Installed {
        pasta: found("pasta 0.0~git20230309.7c7625d"),
        ..kit("3.0.0")
    };
    assert_eq!(
        auto_choice(&old_pasta).driver,
        Some(NetDriver::GvisorTapVsock)
    );
}

#[test]
fn names_round_trip() {
    for p in PortDriver::ALL {
        assert_eq!(p.as_str().parse::<PortDriver>(), Ok(p));
    }
    assert_eq!(
        "none".parse::<PortDriver>(),
        Err(UnknownDriver("none".to_owned()))
    );
    assert!("socat".parse::<PortDriver>().is_err());
}
