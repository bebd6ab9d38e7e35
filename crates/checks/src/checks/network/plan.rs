//! Which rootlesskit network drivers and port drivers exist, what each needs, and which
//! combinations rootlesskit accepts. Pure functions, no host access: `network.driver` uses them
//! to judge the host, and the unit generator can use [`validate`] to refuse a configuration
//! rootlesskit would reject at start-up.
//!
//! The rules follow rootlesskit itself: `--net=pasta` accepts only `--port-driver=implicit` or
//! `none` (it rejects `builtin`), `--port-driver=implicit` exists only with pasta, the
//! `slirp4netns` and `gvisor-tap-vsock` port drivers only with the network driver of the same
//! name; `builtin` and `none` fit every other driver.

use std::fmt;

use super::version_at_least;

/// A rootlesskit network driver (`--net=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum NetDriver {
    /// `slirp4netns` (≥ 0.4), the default when installed.
    Slirp4netns,
    /// `vpnkit`.
    Vpnkit,
    /// `lxc-user-nic` (setuid helper from lxc, kernel NAT).
    LxcUserNic,
    /// `pasta` from passt (rootlesskit ≥ 2.0).
    Pasta,
    /// gvisor-tap-vsock, built into rootlesskit ≥ 2.3.
    GvisorTapVsock,
}

impl NetDriver {
    /// Every driver, in the order `dockerd-rootless.sh` would consider them.
    pub(crate) const ALL: [NetDriver; 5] = [
        NetDriver::Slirp4netns,
        NetDriver::Vpnkit,
        NetDriver::LxcUserNic,
        NetDriver::Pasta,
        NetDriver::GvisorTapVsock,
    ];

    /// The drivers picked automatically when none is configured, in order of preference.
    /// pasta and gvisor-tap-vsock are used only when asked for, as in `dockerd-rootless.sh`.
    pub(crate) const AUTO: [NetDriver; 3] = [
        NetDriver::Slirp4netns,
        NetDriver::Vpnkit,
        NetDriver::LxcUserNic,
    ];

    /// Parses the `--net=` value.
    pub(crate) fn parse(name: &str) -> Option<NetDriver> {
        NetDriver::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// The `--net=` value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            NetDriver::Slirp4netns => "slirp4netns",
            NetDriver::Vpnkit => "vpnkit",
            NetDriver::LxcUserNic => "lxc-user-nic",
            NetDriver::Pasta => "pasta",
            NetDriver::GvisorTapVsock => "gvisor-tap-vsock",
        }
    }

    /// The program the driver runs (a key of `Facts::binaries`); `None` when rootlesskit has it
    /// built in.
    pub(crate) fn program(self) -> Option<&'static str> {
        match self {
            NetDriver::Slirp4netns => Some("slirp4netns"),
            NetDriver::Vpnkit => Some("vpnkit"),
            NetDriver::LxcUserNic => Some("lxc-user-nic"),
            NetDriver::Pasta => Some("pasta"),
            NetDriver::GvisorTapVsock => None,
        }
    }

    /// The MTU install uses: 65520 for the user-mode stacks that support it, 1500 otherwise.
    pub(crate) fn mtu(self) -> u32 {
        match self {
            NetDriver::Slirp4netns | NetDriver::Pasta | NetDriver::GvisorTapVsock => 65520,
            NetDriver::Vpnkit | NetDriver::LxcUserNic => 1500,
        }
    }

    /// The port driver used when none is configured.
    pub(crate) fn default_port_driver(self) -> PortDriver {
        match self {
            NetDriver::Pasta => PortDriver::Implicit,
            _ => PortDriver::Builtin,
        }
    }

    /// The oldest rootlesskit (`[major, minor]`) that has this driver.
    pub(crate) fn min_rootlesskit(self) -> Option<[u64; 2]> {
        match self {
            NetDriver::Pasta => Some([2, 0]),
            NetDriver::GvisorTapVsock => Some([2, 3]),
            _ => None,
        }
    }
}

impl fmt::Display for NetDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rootlesskit port driver (`--port-driver=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PortDriver {
    /// rootlesskit forwards ports itself (fast; the default).
    Builtin,
    /// slirp4netns forwards ports (propagates the source address).
    Slirp4netns,
    /// pasta forwards ports on its own (`--net=pasta` only).
    Implicit,
    /// gvisor-tap-vsock forwards ports (experimental).
    GvisorTapVsock,
    /// No port forwarding: `docker run -p` publishes nothing.
    None,
}

impl PortDriver {
    /// Every port driver.
    pub(crate) const ALL: [PortDriver; 5] = [
        PortDriver::Builtin,
        PortDriver::Slirp4netns,
        PortDriver::Implicit,
        PortDriver::GvisorTapVsock,
        PortDriver::None,
    ];

    /// Parses the `--port-driver=` value.
    pub(crate) fn parse(name: &str) -> Option<PortDriver> {
        PortDriver::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// The `--port-driver=` value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PortDriver::Builtin => "builtin",
            PortDriver::Slirp4netns => "slirp4netns",
            PortDriver::Implicit => "implicit",
            PortDriver::GvisorTapVsock => "gvisor-tap-vsock",
            PortDriver::None => "none",
        }
    }

    /// Whether rootlesskit accepts this port driver with `driver`.
    pub(crate) fn fits(self, driver: NetDriver) -> bool {
        match (self, driver) {
            (PortDriver::None, _) => true,
            (PortDriver::Implicit, NetDriver::Pasta) => true,
            (PortDriver::Slirp4netns, NetDriver::Slirp4netns) => true,
            (PortDriver::GvisorTapVsock, NetDriver::GvisorTapVsock) => true,
            (PortDriver::Builtin, d) => d != NetDriver::Pasta,
            _ => false,
        }
    }

    /// The port drivers that fit `driver`.
    pub(crate) fn fitting(driver: NetDriver) -> Vec<PortDriver> {
        PortDriver::ALL
            .into_iter()
            .filter(|p| p.fits(driver))
            .collect()
    }

    /// The program that listens on the host for published ports, given the network driver:
    /// it is the one that needs `cap_net_bind_service` for ports below the unprivileged start.
    pub(crate) fn listener(self, driver: NetDriver) -> Option<&'static str> {
        match self {
            PortDriver::Builtin | PortDriver::GvisorTapVsock => Some("rootlesskit"),
            PortDriver::Slirp4netns => Some("slirp4netns"),
            PortDriver::Implicit => driver.program(),
            PortDriver::None => None,
        }
    }
}

impl fmt::Display for PortDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every combination rootlesskit accepts, for messages.
pub(crate) const ALLOWED_COMBINATIONS: &str = "builtin with slirp4netns, vpnkit, lxc-user-nic or \
     gvisor-tap-vsock; slirp4netns only with slirp4netns; implicit only with pasta (pasta accepts \
     only implicit or none); gvisor-tap-vsock only with gvisor-tap-vsock; none with any";

/// A network configuration rootlesskit would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PlanError {
    /// Not a rootlesskit network driver.
    #[error(
        "unknown network driver `{0}` (known: slirp4netns, vpnkit, lxc-user-nic, pasta, gvisor-tap-vsock)"
    )]
    UnknownDriver(String),
    /// Not a rootlesskit port driver.
    #[error(
        "unknown port driver `{0}` (known: builtin, slirp4netns, implicit, gvisor-tap-vsock, none)"
    )]
    UnknownPortDriver(String),
    /// The two do not fit together.
    #[error(
        "port driver `{port_driver}` does not work with network driver `{driver}` (allowed: {ALLOWED_COMBINATIONS})"
    )]
    Mismatch {
        /// The network driver.
        driver: NetDriver,
        /// The port driver.
        port_driver: PortDriver,
    },
    /// rootlesskit is too old for the driver.
    #[error("network driver `{driver}` needs rootlesskit {}.{} or later, found {found}", .need[0], .need[1])]
    RootlesskitTooOld {
        /// The network driver.
        driver: NetDriver,
        /// The oldest rootlesskit that has it.
        need: [u64; 2],
        /// The version found.
        found: String,
    },
}

/// A combination rootlesskit accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Combination {
    /// `--net=`.
    pub(crate) driver: NetDriver,
    /// `--port-driver=`.
    pub(crate) port_driver: PortDriver,
    /// `--mtu=`.
    pub(crate) mtu: u32,
}

/// Validates a network configuration the way rootlesskit would: `driver` and `port_driver` (the
/// driver's default when `None`) must exist and fit together, and `rootlesskit_version`, when
/// known, must be recent enough for the driver. An unknown version is not held against it.
pub(crate) fn validate(
    driver: &str,
    port_driver: Option<&str>,
    rootlesskit_version: Option<&str>,
) -> Result<Combination, PlanError> {
    let driver = NetDriver::parse(driver).ok_or_else(|| PlanError::UnknownDriver(driver.into()))?;
    let port_driver = match port_driver {
        Some(name) => {
            PortDriver::parse(name).ok_or_else(|| PlanError::UnknownPortDriver(name.into()))?
        }
        None => driver.default_port_driver(),
    };
    if !port_driver.fits(driver) {
        return Err(PlanError::Mismatch {
            driver,
            port_driver,
        });
    }
    if let (Some(need), Some(found)) = (driver.min_rootlesskit(), rootlesskit_version) {
        if version_at_least(found, &need) == Some(false) {
            return Err(PlanError::RootlesskitTooOld {
                driver,
                need,
                found: found.to_owned(),
            });
        }
    }
    Ok(Combination {
        driver,
        port_driver,
        mtu: driver.mtu(),
    })
}

/// The date of a passt/pasta build (`2023_12_04.b86afe3`, Fedora's `0^20231204.b86afe3-1`,
/// Debian's `0.0~git20231204.b86afe3-1`) as `[year, month, day]`.
pub(crate) fn pasta_date(version: &str) -> Option<[u64; 3]> {
    let v = version.trim();
    // Fedora spells it `0^20231204.b86afe3-1`, Debian `0.0~git20231204.b86afe3-1`.
    let v = v.split_once('^').map_or(v, |(_, rest)| rest);
    let v = v.split_once("~git").map_or(v, |(_, rest)| rest);
    let head: String = v
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '_')
        .collect();
    let digits: String = head.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 8 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|s| s.parse::<u64>().ok());
    let date = [num(0..4)?, num(4..6)?, num(6..8)?];
    (1..=12)
        .contains(&date[1])
        .then_some(date)
        .filter(|d| (1..=31).contains(&d[2]))
}

/// The oldest pasta rootlesskit works with.
pub(crate) const PASTA_MIN_DATE: [u64; 3] = [2023, 6, 25];
/// The pasta rootlesskit recommends (older ones lose connections under load).
pub(crate) const PASTA_RECOMMENDED_DATE: [u64; 3] = [2023, 12, 4];

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
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
            validate("gvisor-tap-vsock", None, Some("2.3.1"))
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
        assert!(validate("gvisor-tap-vsock", Some("builtin"), Some("2.3")).is_ok());
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
        assert!(matches!(
            validate("gvisor-tap-vsock", None, Some("2.2.0")),
            Err(PlanError::RootlesskitTooOld { need: [2, 3], .. })
        ));
        // Unknown versions are not held against the driver.
        assert!(validate("pasta", None, Some("unknown")).is_ok());
        assert!(validate("pasta", None, None).is_ok());
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
    fn pasta_dates_parse_both_spellings() {
        assert_eq!(pasta_date("2023_03_29.b10b983"), Some([2023, 3, 29]));
        assert_eq!(pasta_date("0.0~git20231204.b86afe3-1"), Some([2023, 12, 4]));
        assert_eq!(pasta_date("0^20230329.b10b983-1"), Some([2023, 3, 29]));
        assert_eq!(pasta_date("2024_13_01.x"), None);
        assert_eq!(pasta_date("1.2.3"), None);
        assert_eq!(pasta_date(""), None);
        assert!(pasta_date("2023_03_29.b10b983").unwrap() < PASTA_MIN_DATE);
    }
}
