//! Which rootlesskit network drivers and port drivers exist, what each needs, and which
//! combinations rootlesskit accepts: the single source of these rules, minimum versions and MTU
//! defaults. Pure functions, no host access: `network.driver` uses them to judge the host, and
//! the unit generator (`rootless_setup_unit::drivers`) uses [`violations`] and the version helpers to refuse a
//! configuration rootlesskit would reject at start-up, keeping only what is its own (what the
//! engine's `dockerd-rootless.sh` reads).
//!
//! The rules follow rootlesskit itself: `--net=pasta` accepts only `--port-driver=implicit` or
//! `none` (it rejects `builtin`), `--port-driver=implicit` exists only with pasta, the
//! `slirp4netns` and `gvisor-tap-vsock` port drivers only with the network driver of the same
//! name; `builtin` and `none` fit every other driver.
//!
//! Versions, with their sources:
//! - slirp4netns ≥ 0.4 ([`SLIRP4NETNS_MIN`]): rootlesskit's docs/network.md ("you need to
//!   install slirp4netns v0.4.0 or later"), and `dockerd-rootless.sh` passes an older one over.
//! - pasta: rootlesskit's docs/network.md says `--net=pasta` needs pasta `2023_06_25.32660ce` or
//!   later ([`PASTA_MIN_DATE`], below it the driver fails) and that `2023_12_04.b86afe3` or later
//!   is highly recommended ([`PASTA_RECOMMENDED_DATE`]; Docker's rootless documentation lists
//!   2023_12_04 as what pasta needs). Below the first is a failure, between the two a warning.
//! - rootlesskit ≥ 2.0 for `--net=pasta` (docs/network.md: "since RootlessKit v2.0"; the v2.0.0
//!   release notes), ≥ 3.0 for `--net=gvisor-tap-vsock`: the driver (rootlesskit PR #515) first
//!   shipped in v3.0.0, whose release notes say gvisor-tap-vsock is now embedded; rootlesskit
//!   2.3.6 answers `unknown network mode: gvisor-tap-vsock` (moby/buildkit PR #6677).

use std::fmt;

use crate::version::version_at_least;

pub(crate) mod auto;

pub use auto::{
    AutoChoice, AutoOrder, Installed, OrderSource, PassedOver, ScriptRelease, Tool, auto_choice,
    passed_over, version_program,
};

/// A rootlesskit network driver (`--net=`, `DOCKERD_ROOTLESS_ROOTLESSKIT_NET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NetDriver {
    /// `slirp4netns` (≥ 0.4), every engine script's first choice.
    Slirp4netns,
    /// `vpnkit`.
    Vpnkit,
    /// `lxc-user-nic` (setuid helper from lxc, kernel NAT).
    LxcUserNic,
    /// `pasta` from passt (rootlesskit ≥ 2.0, pasta ≥ 2023_06_25).
    Pasta,
    /// gvisor-tap-vsock, built into rootlesskit ≥ 3.0.
    GvisorTapVsock,
}

impl NetDriver {
    /// Every driver, in the order they are listed to people: the user-mode stacks first
    /// (slirp4netns, pasta, gvisor-tap-vsock), then vpnkit, then the setuid lxc-user-nic. The
    /// automatic choice has its own order, the engine script's ([`auto_choice`]).
    pub const ALL: [NetDriver; 5] = [
        NetDriver::Slirp4netns,
        NetDriver::Pasta,
        NetDriver::GvisorTapVsock,
        NetDriver::Vpnkit,
        NetDriver::LxcUserNic,
    ];

    /// Parses the `--net=` value.
    pub fn parse(name: &str) -> Option<NetDriver> {
        NetDriver::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// The `--net=` value.
    pub fn as_str(self) -> &'static str {
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
    pub fn program(self) -> Option<&'static str> {
        match self {
            NetDriver::Slirp4netns => Some("slirp4netns"),
            NetDriver::Vpnkit => Some("vpnkit"),
            NetDriver::LxcUserNic => Some("lxc-user-nic"),
            NetDriver::Pasta => Some("pasta"),
            NetDriver::GvisorTapVsock => None,
        }
    }

    /// The MTU install uses: 65520 for the user-mode stacks that support it, 1500 otherwise.
    pub fn mtu(self) -> u32 {
        match self {
            NetDriver::Slirp4netns | NetDriver::Pasta | NetDriver::GvisorTapVsock => 65520,
            NetDriver::Vpnkit | NetDriver::LxcUserNic => 1500,
        }
    }

    /// The port driver used when none is configured.
    pub fn default_port_driver(self) -> PortDriver {
        match self {
            NetDriver::Pasta => PortDriver::Implicit,
            _ => PortDriver::Builtin,
        }
    }

    /// The oldest rootlesskit (`[major, minor]`) that has this driver; `None` when every
    /// rootlesskit has it.
    pub const fn min_rootlesskit(self) -> Option<[u64; 2]> {
        match self {
            NetDriver::Pasta => Some([2, 0]),
            NetDriver::GvisorTapVsock => Some([3, 0]),
            NetDriver::Slirp4netns | NetDriver::Vpnkit | NetDriver::LxcUserNic => None,
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
pub enum PortDriver {
    /// rootlesskit forwards ports itself (fast; the default).
    Builtin,
    /// slirp4netns forwards ports (propagates the source address).
    Slirp4netns,
    /// pasta forwards ports on its own (`--net=pasta` only).
    Implicit,
    /// gvisor-tap-vsock forwards ports (experimental).
    GvisorTapVsock,
    /// No port forwarding: `docker run -p` publishes nothing. rootlesskit accepts it with every
    /// network driver, so `network.driver` only warns about it; the unit generator refuses it
    /// (a unit it writes always publishes ports).
    None,
}

impl PortDriver {
    /// Every port driver.
    pub const ALL: [PortDriver; 5] = [
        PortDriver::Builtin,
        PortDriver::Slirp4netns,
        PortDriver::Implicit,
        PortDriver::GvisorTapVsock,
        PortDriver::None,
    ];

    /// Parses the `--port-driver=` value.
    pub fn parse(name: &str) -> Option<PortDriver> {
        PortDriver::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// The `--port-driver=` value.
    pub fn as_str(self) -> &'static str {
        match self {
            PortDriver::Builtin => "builtin",
            PortDriver::Slirp4netns => "slirp4netns",
            PortDriver::Implicit => "implicit",
            PortDriver::GvisorTapVsock => "gvisor-tap-vsock",
            PortDriver::None => "none",
        }
    }

    /// Whether rootlesskit accepts this port driver with `driver`.
    pub fn fits(self, driver: NetDriver) -> bool {
        match (self, driver) {
            (PortDriver::None, _) => true,
            (PortDriver::Implicit, NetDriver::Pasta) => true,
            (PortDriver::Slirp4netns, NetDriver::Slirp4netns) => true,
            (PortDriver::GvisorTapVsock, NetDriver::GvisorTapVsock) => true,
            (PortDriver::Builtin, d) => d != NetDriver::Pasta,
            _ => false,
        }
    }

    /// The port drivers that fit `driver`, in [`PortDriver::ALL`] order (so the driver's
    /// default comes first and `none` last).
    pub fn fitting(driver: NetDriver) -> Vec<PortDriver> {
        PortDriver::ALL
            .into_iter()
            .filter(|p| p.fits(driver))
            .collect()
    }

    /// The program that listens on the host for published ports, given the network driver:
    /// it is the one that needs `cap_net_bind_service` for ports below the unprivileged start.
    pub fn listener(self, driver: NetDriver) -> Option<&'static str> {
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
pub const ALLOWED_COMBINATIONS: &str = "builtin with slirp4netns, vpnkit, lxc-user-nic or \
     gvisor-tap-vsock; slirp4netns only with slirp4netns; implicit only with pasta (pasta accepts \
     only implicit or none); gvisor-tap-vsock only with gvisor-tap-vsock; none with any";

/// A network configuration rootlesskit would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
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
pub struct Combination {
    /// `--net=`.
    pub driver: NetDriver,
    /// `--port-driver=`.
    pub port_driver: PortDriver,
    /// `--mtu=`.
    pub mtu: u32,
}

/// Every reason rootlesskit would reject `driver` with `port_driver`: the port driver does not
/// fit ([`PlanError::Mismatch`]) and `rootlesskit_version`, when known, is too old for the
/// driver ([`PlanError::RootlesskitTooOld`]), in that order; empty when it would start. An
/// unreadable version is not held against the driver.
pub fn violations(
    driver: NetDriver,
    port_driver: PortDriver,
    rootlesskit_version: Option<&str>,
) -> Vec<PlanError> {
    let mut out = Vec::new();
    if !port_driver.fits(driver) {
        out.push(PlanError::Mismatch {
            driver,
            port_driver,
        });
    }
    if let (Some(need), Some(found)) = (driver.min_rootlesskit(), rootlesskit_version)
        && version_at_least(found, &need) == Some(false)
    {
        out.push(PlanError::RootlesskitTooOld {
            driver,
            need,
            found: found.to_owned(),
        });
    }
    out
}

/// Validates a network configuration the way rootlesskit would: `driver` and `port_driver` (the
/// driver's default when `None`) must exist and fit together, and `rootlesskit_version`, when
/// known, must be recent enough for the driver (see [`violations`]; the first one is returned).
/// An unknown version is not held against it.
pub fn validate(
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
    match violations(driver, port_driver, rootlesskit_version)
        .into_iter()
        .next()
    {
        Some(err) => Err(err),
        None => Ok(Combination {
            driver,
            port_driver,
            mtu: driver.mtu(),
        }),
    }
}

/// The oldest slirp4netns rootlesskit and `dockerd-rootless.sh` work with (`--netns-type`,
/// sandboxing), as `[major, minor]`.
pub const SLIRP4NETNS_MIN: [u64; 2] = [0, 4];

/// A `[major, minor]` minimum as people write it: `[0, 4]` → `0.4`.
pub fn show_version(version: [u64; 2]) -> String {
    let [major, minor] = version;
    format!("{major}.{minor}")
}

/// Whether a slirp4netns `version` (such as `1.2.0`) is at least [`SLIRP4NETNS_MIN`]; `None`
/// when it does not start with a number.
pub fn slirp4netns_supported(version: &str) -> Option<bool> {
    version_at_least(version, &SLIRP4NETNS_MIN)
}

/// The oldest pasta rootlesskit's pasta driver works with (`2023_06_25.32660ce`).
pub const PASTA_MIN_DATE: [u64; 3] = [2023, 6, 25];
/// The pasta rootlesskit highly recommends (`2023_12_04.b86afe3`), and Docker's rootless
/// documentation names.
pub const PASTA_RECOMMENDED_DATE: [u64; 3] = [2023, 12, 4];

/// How a pasta build compares with what rootlesskit needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PastaAge {
    /// [`PASTA_RECOMMENDED_DATE`] or later.
    Recommended,
    /// At least [`PASTA_MIN_DATE`] but older than [`PASTA_RECOMMENDED_DATE`]: it works, a
    /// warning.
    BelowRecommended,
    /// Older than [`PASTA_MIN_DATE`]: the pasta driver fails.
    TooOld,
}

/// How the pasta build named in `version` compares with rootlesskit's needs; `None` when no
/// build date can be read from it (see [`pasta_date`]).
pub fn pasta_age(version: &str) -> Option<PastaAge> {
    let date = pasta_date(version)?;
    Some(if date < PASTA_MIN_DATE {
        PastaAge::TooOld
    } else if date < PASTA_RECOMMENDED_DATE {
        PastaAge::BelowRecommended
    } else {
        PastaAge::Recommended
    })
}

/// A date the way pasta spells its versions: `[2023, 6, 25]` → `2023_06_25`.
pub fn show_date(date: [u64; 3]) -> String {
    let [y, m, d] = date;
    format!("{y:04}_{m:02}_{d:02}")
}

/// The date of a passt/pasta build as `[year, month, day]`, from the bare version
/// (`2023_12_04.b86afe3`, Fedora's `0^20231204.b86afe3-1`, Debian's
/// `0.0~git20231204.b86afe3-1`) or from a line that holds one (`pasta 2023_12_04.b86afe3`): the
/// first whitespace-separated word that reads as a date.
pub fn pasta_date(version: &str) -> Option<[u64; 3]> {
    version.split_whitespace().find_map(pasta_word_date)
}

/// [`pasta_date`] of one word.
fn pasta_word_date(word: &str) -> Option<[u64; 3]> {
    // Fedora spells it `0^20231204.b86afe3-1`, Debian `0.0~git20231204.b86afe3-1`.
    let v = word.split_once('^').map_or(word, |(_, rest)| rest);
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

#[cfg(test)]
#[path = "network_tests.rs"]
mod tests;
