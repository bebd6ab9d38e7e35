//! Tests of the driver rules: defaults, MTUs, combinations, minimum versions, pasta dates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn defaults_and_mtus() {
    let c = validate("slirp4netns", None, None).unwrap();
    assert_eq!((c.port_driver, c.mtu), (PortDriver::Builtin, 65520));
    let c = validate("pasta", None, Some("2.0.0")).unwrap();
    assert_eq!((c.port_driver, c.mtu), (PortDriver::Implicit, 65520));
    assert_eq!(validate("vpnkit", None, None).unwrap().mtu, 1500);
    assert_eq!(validate("lxc-user-nic", None, None).unwrap().mtu, 1500);
    assert_eq!(
        validate("gvisor-tap-vsock", None, Some("3.0.0"))
            .unwrap()
            .mtu,
        65520
    );
}

#[test]
fn combinations_follow_rootlesskit() {
    assert!(validate("slirp4netns", Some("slirp4netns"), None).is_ok());
    assert!(validate("vpnkit", Some("builtin"), None).is_ok());
    assert!(validate("pasta", Some("none"), Some("2.1")).is_ok());
    assert!(validate("gvisor-tap-vsock", Some("builtin"), Some("3.0")).is_ok());
    assert!(validate("gvisor-tap-vsock", Some("gvisor-tap-vsock"), Some("3.3.0")).is_ok());
    for (driver, port) in [
        ("vpnkit", "slirp4netns"),
        ("slirp4netns", "implicit"),
        ("pasta", "builtin"),
        ("lxc-user-nic", "gvisor-tap-vsock"),
    ] {
        let err = validate(driver, Some(port), None).unwrap_err();
        assert!(
            matches!(err, PlanError::Mismatch { .. }),
            "{driver}+{port}: {err}"
        );
        assert!(err.to_string().contains("implicit only with pasta"));
    }
}

#[test]
fn unknown_names_and_old_rootlesskit_are_rejected() {
    assert_eq!(
        validate("tap", None, None).unwrap_err(),
        PlanError::UnknownDriver("tap".into())
    );
    assert_eq!(
        validate("slirp4netns", Some("socat"), None).unwrap_err(),
        PlanError::UnknownPortDriver("socat".into())
    );
    let err = validate("pasta", None, Some("1.1.0")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "network driver `pasta` needs rootlesskit 2.0 or later, found 1.1.0"
    );
    // gvisor-tap-vsock first shipped in rootlesskit 3.0.0; 2.3.x answers "unknown network mode".
    let err = validate("gvisor-tap-vsock", None, Some("2.3.6")).unwrap_err();
    assert!(matches!(
        err,
        PlanError::RootlesskitTooOld { need: [3, 0], .. }
    ));
    assert_eq!(
        err.to_string(),
        "network driver `gvisor-tap-vsock` needs rootlesskit 3.0 or later, found 2.3.6"
    );
    // Unknown versions are not held against the driver.
    assert!(validate("pasta", None, Some("unknown")).is_ok());
    assert!(validate("pasta", None, None).is_ok());
}

#[test]
fn violations_lists_every_reason_in_order() {
    assert_eq!(
        violations(NetDriver::Pasta, PortDriver::Builtin, Some("1.1.0")),
        vec![
            PlanError::Mismatch {
                driver: NetDriver::Pasta,
                port_driver: PortDriver::Builtin
            },
            PlanError::RootlesskitTooOld {
                driver: NetDriver::Pasta,
                need: [2, 0],
                found: "1.1.0".into()
            },
        ]
    );
    // validate() reports the first, the mismatch.
    assert!(matches!(
        validate("pasta", Some("builtin"), Some("1.1.0")),
        Err(PlanError::Mismatch { .. })
    ));
    assert!(violations(NetDriver::Slirp4netns, PortDriver::None, Some("0.1")).is_empty());
    for d in NetDriver::ALL {
        assert!(
            violations(d, d.default_port_driver(), Some("3.0.0")).is_empty(),
            "{d}"
        );
    }
}

#[test]
fn minimum_rootlesskit_per_driver() {
    assert_eq!(NetDriver::Pasta.min_rootlesskit(), Some([2, 0]));
    assert_eq!(NetDriver::GvisorTapVsock.min_rootlesskit(), Some([3, 0]));
    for d in [
        NetDriver::Slirp4netns,
        NetDriver::Vpnkit,
        NetDriver::LxcUserNic,
    ] {
        assert_eq!(d.min_rootlesskit(), None, "{d}");
    }
}

#[test]
fn fitting_port_drivers_are_listed() {
    assert_eq!(
        PortDriver::fitting(NetDriver::Pasta),
        vec![PortDriver::Implicit, PortDriver::None]
    );
    assert_eq!(
        PortDriver::fitting(NetDriver::Slirp4netns),
        vec![
            PortDriver::Builtin,
            PortDriver::Slirp4netns,
            PortDriver::None
        ]
    );
    for d in NetDriver::ALL {
        assert_eq!(PortDriver::fitting(d)[0], d.default_port_driver(), "{d}");
    }
    assert_eq!(
        PortDriver::Implicit.listener(NetDriver::Pasta),
        Some("pasta")
    );
    assert_eq!(
        PortDriver::Builtin.listener(NetDriver::Slirp4netns),
        Some("rootlesskit")
    );
}

#[test]
fn slirp4netns_minimum() {
    assert_eq!(slirp4netns_supported("0.3.0"), Some(false));
    assert_eq!(slirp4netns_supported("0.4.0"), Some(true));
    assert_eq!(slirp4netns_supported("1.2.0"), Some(true));
    assert_eq!(slirp4netns_supported("unknown"), None);
}

#[test]
fn pasta_dates_parse_every_spelling() {
    assert_eq!(pasta_date("2023_03_29.b10b983"), Some([2023, 3, 29]));
    assert_eq!(pasta_date("0.0~git20231204.b86afe3-1"), Some([2023, 12, 4]));
    assert_eq!(pasta_date("0^20230329.b10b983-1"), Some([2023, 3, 29]));
    // A whole version line, as some callers keep it.
    assert_eq!(pasta_date("pasta 2024_05_23.765eb0b"), Some([2024, 5, 23]));
    assert_eq!(
        pasta_date("pasta 0.0~git20230309.7c7625d\nCopyright Red Hat"),
        Some([2023, 3, 9])
    );
    assert_eq!(pasta_date("2024_13_01.x"), None);
    assert_eq!(pasta_date("1.2.3"), None);
    assert_eq!(pasta_date("pasta unknown version"), None);
    assert_eq!(pasta_date(""), None);
}

#[test]
fn pasta_ages_split_at_the_minimum_and_the_recommendation() {
    assert_eq!(pasta_age("2023_03_29.b10b983"), Some(PastaAge::TooOld));
    assert_eq!(pasta_age("2023_06_24.x"), Some(PastaAge::TooOld));
    assert_eq!(
        pasta_age("2023_06_25.32660ce"),
        Some(PastaAge::BelowRecommended)
    );
    assert_eq!(
        pasta_age("0.0~git20230627.289301b-1"),
        Some(PastaAge::BelowRecommended)
    );
    assert_eq!(pasta_age("2023_12_04.b86afe3"), Some(PastaAge::Recommended));
    assert_eq!(pasta_age("pasta unknown version"), None);
    assert_eq!(show_date(PASTA_MIN_DATE), "2023_06_25");
    assert_eq!(show_date(PASTA_RECOMMENDED_DATE), "2023_12_04");
}

#[test]
fn parsers_survive_arbitrary_text() {
    for s in [
        "\u{0}\u{ff}",
        "~git",
        "^",
        "0^",
        "99999999999999999999999",
        "2023_1",
        "__________",
    ] {
        let _ = pasta_date(s);
        let _ = pasta_age(s);
        let _ = slirp4netns_supported(s);
        let _ = validate(s, Some(s), Some(s));
    }
}
