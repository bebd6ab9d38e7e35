//! Driver table tests: fits, minimum versions, what the script reads, automatic choice.

#![allow(clippy::inconsistent_digit_grouping)] // pasta dates, YYYY_MM_DD

use super::*;

fn found(v: &str) -> Tool {
    Tool::Found(Some(v.to_owned()))
}

#[test]
fn versions_are_found_in_free_text() {
    assert_eq!(
        Version::find("rootlesskit version 1.1.0"),
        Some(Version(1, 1, 0))
    );
    assert_eq!(
        Version::find("slirp4netns version 1.2.0\ncommit: 656041d"),
        Some(Version(1, 2, 0))
    );
    assert_eq!(Version::find("v2.3"), Some(Version(2, 3, 0)));
    assert_eq!(
        Version::find("Docker version 20.10.24+dfsg1, build 297e128"),
        Some(Version(20, 10, 24))
    );
    assert_eq!(Version::find("no digits"), None);
    assert_eq!(Version::find("7"), None);
    assert_eq!(Version::find("x9.9.9999999999999999999999"), None);
}

#[test]
fn pasta_dates_in_both_spellings() {
    assert_eq!(pasta_date("pasta 2023_12_04.b86afe3"), Some(2023_12_04));
    assert_eq!(
        pasta_date("pasta 0.0~git20230309.7c7625d"),
        Some(2023_03_09)
    );
    assert_eq!(pasta_date("pasta unknown"), None);
}

#[test]
fn port_drivers_must_fit_the_network_driver() {
    let installed = Installed {
        rootlesskit: found("2.3.1"),
        slirp4netns: found("1.2.0"),
        pasta: found("pasta 2024_05_23.765eb0b"),
        ..Installed::default()
    };
    assert!(check_combination(NetworkDriver::Pasta, PortDriver::Implicit, &installed).is_empty());
    assert!(
        check_combination(
            NetworkDriver::Slirp4netns,
            PortDriver::Slirp4netns,
            &installed
        )
        .is_empty()
    );
    // rootlesskit refuses builtin with pasta.
    let pasta_builtin = check_combination(NetworkDriver::Pasta, PortDriver::Builtin, &installed);
    assert_eq!(pasta_builtin.len(), 1);
    assert_eq!(pasta_builtin[0].fix, "use port driver implicit");
    let problems = check_combination(NetworkDriver::Slirp4netns, PortDriver::Implicit, &installed);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].subject, Subject::Port);
    assert_eq!(
        problems[0].message,
        "port driver `implicit` does not work with network driver `slirp4netns`"
    );
    assert_eq!(problems[0].fix, "use port driver builtin or slirp4netns");
}

#[test]
fn minimum_versions_are_enforced() {
    let old = Installed {
        rootlesskit: found("rootlesskit version 1.1.0"),
        slirp4netns: found("slirp4netns version 0.3.0"),
        pasta: found("pasta 0.0~git20230309.7c7625d"),
        ..Installed::default()
    };
    let slirp = check_combination(NetworkDriver::Slirp4netns, PortDriver::Builtin, &old);
    assert_eq!(slirp.len(), 1);
    assert!(
        slirp[0]
            .message
            .contains("slirp4netns 0.3.0 is older than 0.4.0")
    );
    let pasta = check_combination(NetworkDriver::Pasta, PortDriver::Implicit, &old);
    let messages: Vec<&str> = pasta.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "rootlesskit 1.1.0 has no pasta driver (it needs 2.0.0 or newer)",
            "pasta from 2023_03_09 is older than 2023_12_04, which the engine needs",
        ]
    );
    let gvisor = check_combination(NetworkDriver::GvisorTapVsock, PortDriver::Builtin, &old);
    assert!(gvisor[0].message.contains("needs 2.3.0"));
}

#[test]
fn missing_binaries_and_unknown_versions() {
    let none = Installed::default();
    let p = check_combination(NetworkDriver::Slirp4netns, PortDriver::Builtin, &none);
    assert_eq!(
        p[0].message,
        "network driver `slirp4netns` needs `slirp4netns`, which was not found"
    );
    // Found without a readable version: not held against it.
    let unknown = Installed {
        slirp4netns: Tool::Found(None),
        ..Installed::default()
    };
    assert!(
        check_combination(NetworkDriver::Slirp4netns, PortDriver::Builtin, &unknown).is_empty()
    );
}

#[test]
fn the_script_decides_what_the_engine_understands() {
    // Very old scripts hard-code `--port-driver=builtin`.
    let ancient = Installed {
        slirp4netns: found("1.0.1"),
        script: Some("--port-driver=builtin".to_owned()),
        ..Installed::default()
    };
    let p = check_combination(
        NetworkDriver::Slirp4netns,
        PortDriver::Slirp4netns,
        &ancient,
    );
    assert_eq!(p.len(), 1);
    assert!(p[0].message.contains("always uses the builtin port driver"));
    assert!(
        check_combination(NetworkDriver::Slirp4netns, PortDriver::Builtin, &ancient).is_empty()
    );
    assert_eq!(
        ancient.script_reads("DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS"),
        Some(false)
    );
    assert_eq!(Installed::default().script_reads("X"), None);
}

#[test]
fn best_available_prefers_slirp4netns_then_pasta() {
    let mut installed = Installed {
        rootlesskit: found("2.3.1"),
        pasta: found("pasta 2024_05_23.765eb0b"),
        ..Installed::default()
    };
    assert_eq!(best_available(&installed), Some(NetworkDriver::Pasta));
    installed.slirp4netns = found("1.2.0");
    assert_eq!(best_available(&installed), Some(NetworkDriver::Slirp4netns));
    assert_eq!(best_available(&Installed::default()), None);
    let only_new_kit = Installed {
        rootlesskit: found("2.3.0"),
        ..Installed::default()
    };
    assert_eq!(
        best_available(&only_new_kit),
        Some(NetworkDriver::GvisorTapVsock)
    );
}

#[test]
fn names_round_trip() {
    for n in NetworkDriver::ALL {
        assert_eq!(n.as_str().parse::<NetworkDriver>(), Ok(n));
        assert_eq!(n.port_drivers()[0], n.default_port_driver());
    }
    for p in PortDriver::ALL {
        assert_eq!(p.as_str().parse::<PortDriver>(), Ok(p));
    }
    assert!("slirp".parse::<NetworkDriver>().is_err());
}
