//! Which network and port drivers fit together, and what each needs from the installed engine,
//! rootlesskit and driver binaries (minimum versions included).
//!
//! This is a pure table: it reads no file and runs nothing. The caller says what is installed
//! ([`Installed`], from the checker's `engine.binaries` facts) and gets every problem with the
//! combination back. The fit rules and rootlesskit minimums are the same as the checker's
//! (`checks::network::plan`, crate-private for now; see the crate docs); it depends only on
//! `std`, so the two can be merged either way.

use std::fmt;
use std::str::FromStr;

/// A rootlesskit network driver (`--net`, `DOCKERD_ROOTLESS_ROOTLESSKIT_NET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NetworkDriver {
    /// User-mode networking with slirp4netns (≥ 0.4); the long-standing default.
    Slirp4netns,
    /// passt's `pasta`: faster, copies the host's addresses (rootlesskit ≥ 2.0); ports are
    /// forwarded by pasta itself (`implicit`).
    Pasta,
    /// Docker for Mac's VPNKit.
    Vpnkit,
    /// LXC's setuid `lxc-user-nic` (kernel networking through a veth pair).
    LxcUserNic,
    /// gVisor's network stack, built into rootlesskit ≥ 2.3.
    GvisorTapVsock,
}

/// A rootlesskit port driver (`--port-driver`, `DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortDriver {
    /// rootlesskit's own forwarder; works with every network driver but pasta.
    Builtin,
    /// slirp4netns's forwarder; only with the slirp4netns network driver.
    Slirp4netns,
    /// pasta forwards ports by itself; only with the pasta network driver.
    Implicit,
    /// gVisor's forwarder; only with the gvisor-tap-vsock network driver.
    GvisorTapVsock,
}

impl NetworkDriver {
    /// Every network driver, in order of preference when choosing automatically.
    pub const ALL: [NetworkDriver; 5] = [
        NetworkDriver::Slirp4netns,
        NetworkDriver::Pasta,
        NetworkDriver::GvisorTapVsock,
        NetworkDriver::Vpnkit,
        NetworkDriver::LxcUserNic,
    ];

    /// The name rootlesskit and `dockerd-rootless.sh` use.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkDriver::Slirp4netns => "slirp4netns",
            NetworkDriver::Pasta => "pasta",
            NetworkDriver::Vpnkit => "vpnkit",
            NetworkDriver::LxcUserNic => "lxc-user-nic",
            NetworkDriver::GvisorTapVsock => "gvisor-tap-vsock",
        }
    }

    /// The port drivers that work with this network driver, the default first.
    pub fn port_drivers(self) -> &'static [PortDriver] {
        match self {
            NetworkDriver::Slirp4netns => &[PortDriver::Builtin, PortDriver::Slirp4netns],
            // rootlesskit refuses `--port-driver=builtin` with `--net=pasta`.
            NetworkDriver::Pasta => &[PortDriver::Implicit],
            NetworkDriver::GvisorTapVsock => &[PortDriver::Builtin, PortDriver::GvisorTapVsock],
            NetworkDriver::Vpnkit | NetworkDriver::LxcUserNic => &[PortDriver::Builtin],
        }
    }

    /// The port driver used when none is chosen: `implicit` for pasta (pasta forwards ports
    /// itself and keeps the source address), `builtin` (the fastest) otherwise.
    pub fn default_port_driver(self) -> PortDriver {
        match self {
            NetworkDriver::Pasta => PortDriver::Implicit,
            _ => PortDriver::Builtin,
        }
    }

    /// The MTU used when none is chosen: 65520 for the user-mode stacks that support it, 1500
    /// otherwise (the same as the checker's `network.driver`).
    pub fn default_mtu(self) -> u32 {
        match self {
            NetworkDriver::Slirp4netns | NetworkDriver::Pasta | NetworkDriver::GvisorTapVsock => {
                65520
            }
            _ => 1500,
        }
    }

    /// The separate program this driver runs, if it has one.
    pub fn binary(self) -> Option<&'static str> {
        match self {
            NetworkDriver::Slirp4netns => Some("slirp4netns"),
            NetworkDriver::Pasta => Some("pasta"),
            NetworkDriver::Vpnkit => Some("vpnkit"),
            NetworkDriver::LxcUserNic => Some("lxc-user-nic"),
            NetworkDriver::GvisorTapVsock => None,
        }
    }
}

impl PortDriver {
    /// Every port driver.
    pub const ALL: [PortDriver; 4] = [
        PortDriver::Builtin,
        PortDriver::Slirp4netns,
        PortDriver::Implicit,
        PortDriver::GvisorTapVsock,
    ];

    /// The name rootlesskit and `dockerd-rootless.sh` use.
    pub fn as_str(self) -> &'static str {
        match self {
            PortDriver::Builtin => "builtin",
            PortDriver::Slirp4netns => "slirp4netns",
            PortDriver::Implicit => "implicit",
            PortDriver::GvisorTapVsock => "gvisor-tap-vsock",
        }
    }
}

impl fmt::Display for NetworkDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for PortDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a known driver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown driver `{0}`")]
pub struct UnknownDriver(pub String);

impl FromStr for NetworkDriver {
    type Err = UnknownDriver;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NetworkDriver::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| UnknownDriver(s.to_owned()))
    }
}

impl FromStr for PortDriver {
    type Err = UnknownDriver;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PortDriver::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| UnknownDriver(s.to_owned()))
    }
}

/// A `major.minor.patch` version, compared numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u64, pub u64, pub u64);

impl Version {
    /// The first `N.N` or `N.N.N` in `text` (`rootlesskit version 1.1.0`,
    /// `slirp4netns version 1.2.0\ncommit: …`, `v2.3.1`); `None` when there is none.
    pub fn find(text: &str) -> Option<Version> {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // A number starts after a non-alphanumeric (or a `v`, as in `v2.3.1`).
            let starts_number = bytes[i].is_ascii_digit()
                && (i == 0 || {
                    let prev = bytes[i - 1];
                    prev == b'v' || !(prev.is_ascii_alphanumeric() || prev == b'.')
                });
            if starts_number {
                let rest = &text[i..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .unwrap_or(rest.len());
                let parts: Vec<&str> = rest[..end].split('.').filter(|p| !p.is_empty()).collect();
                if parts.len() >= 2 {
                    let num = |k: usize| parts.get(k).and_then(|p| p.parse::<u64>().ok());
                    if let (Some(a), Some(b)) = (num(0), num(1)) {
                        return Some(Version(a, b, num(2).unwrap_or(0)));
                    }
                }
                i += end.max(1);
            } else {
                i += 1;
            }
        }
        None
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The release date in a pasta version string, as `YYYYMMDD`: upstream prints
/// `pasta 2023_12_04.b86afe3`, Debian's snapshots `pasta 0.0~git20230309.7c7625d`.
pub fn pasta_date(text: &str) -> Option<u32> {
    let digits = |s: &str| s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit());
    for word in text.split(|c: char| c.is_whitespace() || c == '.' || c == '-' || c == '+') {
        let underscored: String = word.chars().filter(|c| *c != '_').collect();
        if word.matches('_').count() == 2 && digits(&underscored) {
            return underscored.parse().ok();
        }
        if let Some(idx) = word.find("git") {
            let date = &word[idx + 3..];
            if digits(date) {
                return date.parse().ok();
            }
        }
    }
    None
}

/// The oldest pasta that works with the engine's rootlesskit integration (implicit port
/// forwarding fixed in 2023_12_04).
#[allow(clippy::inconsistent_digit_grouping)] // YYYY_MM_DD, as pasta spells it
pub const PASTA_MIN_DATE: u32 = 2023_12_04;
/// The oldest slirp4netns `dockerd-rootless.sh` accepts (`--netns-type`, sandboxing).
pub const SLIRP4NETNS_MIN: Version = Version(0, 4, 0);
/// The first rootlesskit with the pasta network driver and `--detach-netns`.
pub const ROOTLESSKIT_PASTA_MIN: Version = Version(2, 0, 0);
/// The first rootlesskit with gvisor-tap-vsock built in.
pub const ROOTLESSKIT_GVISOR_MIN: Version = Version(2, 3, 0);

/// A program as far as the table cares: absent, or present with the version it reported
/// (`None` when it could not be asked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Tool {
    /// Not found.
    #[default]
    Missing,
    /// Found; the raw version text it printed, if any.
    Found(Option<String>),
}

impl Tool {
    fn version(&self) -> Option<Version> {
        match self {
            Tool::Found(Some(text)) => Version::find(text),
            _ => None,
        }
    }
}

/// What is installed, as far as driver choice is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    /// `rootlesskit`.
    pub rootlesskit: Tool,
    /// `slirp4netns`.
    pub slirp4netns: Tool,
    /// `pasta` (from passt).
    pub pasta: Tool,
    /// `vpnkit`.
    pub vpnkit: Tool,
    /// `lxc-user-nic`.
    pub lxc_user_nic: Tool,
    /// The text of the engine's `dockerd-rootless.sh`, when it could be read: which variables
    /// and drivers it understands is decided by reading it, not by guessing from a version.
    pub script: Option<String>,
}

impl Installed {
    fn tool(&self, driver: NetworkDriver) -> &Tool {
        match driver {
            NetworkDriver::Slirp4netns => &self.slirp4netns,
            NetworkDriver::Pasta => &self.pasta,
            NetworkDriver::Vpnkit => &self.vpnkit,
            NetworkDriver::LxcUserNic => &self.lxc_user_nic,
            NetworkDriver::GvisorTapVsock => &self.rootlesskit,
        }
    }

    /// Whether the engine's script reads `variable` (`None` when the script is unknown).
    pub fn script_reads(&self, variable: &str) -> Option<bool> {
        self.script.as_deref().map(|s| s.contains(variable))
    }
}

/// Which part of the choice a [`Problem`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The network driver.
    Network,
    /// The port driver.
    Port,
}

/// One reason the combination cannot work here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What it is about.
    pub subject: Subject,
    /// What is wrong, with the concrete values (lowercase, no trailing period).
    pub message: String,
    /// What would make it work.
    pub fix: String,
}

/// Every reason `network` with `port` cannot work with what is installed; empty when it can.
///
/// A version that could not be read is not held against the driver (the binary was found;
/// `engine.smoke` runs the real thing), and neither is a script that could not be read.
pub fn check_combination(
    network: NetworkDriver,
    port: PortDriver,
    installed: &Installed,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let net = |message: String, fix: String| Problem {
        subject: Subject::Network,
        message,
        fix,
    };
    if let Some(binary) = network.binary() {
        match installed.tool(network) {
            Tool::Missing => problems.push(net(
                format!("network driver `{network}` needs `{binary}`, which was not found"),
                format!("install {binary} or choose another network driver"),
            )),
            Tool::Found(_) => {}
        }
    }
    let rootlesskit = installed.rootlesskit.version();
    match network {
        NetworkDriver::Slirp4netns => {
            if let Some(v) = installed.slirp4netns.version()
                && v < SLIRP4NETNS_MIN
            {
                problems.push(net(
                    format!(
                        "slirp4netns {v} is older than {SLIRP4NETNS_MIN}, which the engine needs"
                    ),
                    format!("install slirp4netns {SLIRP4NETNS_MIN} or newer"),
                ));
            }
        }
        NetworkDriver::Pasta => {
            if let Some(v) = rootlesskit
                && v < ROOTLESSKIT_PASTA_MIN
            {
                problems.push(net(
                    format!("rootlesskit {v} has no pasta driver (it needs {ROOTLESSKIT_PASTA_MIN} or newer)"),
                    format!("install rootlesskit {ROOTLESSKIT_PASTA_MIN} or newer, or use slirp4netns"),
                ));
            }
            if let Tool::Found(Some(text)) = &installed.pasta
                && let Some(date) = pasta_date(text)
                && date < PASTA_MIN_DATE
            {
                problems.push(net(
                    format!(
                        "pasta from {} is older than {}, which the engine needs",
                        show_date(date),
                        show_date(PASTA_MIN_DATE)
                    ),
                    format!(
                        "install passt {} or newer, or use slirp4netns",
                        show_date(PASTA_MIN_DATE)
                    ),
                ));
            }
        }
        NetworkDriver::GvisorTapVsock => {
            if let Some(v) = rootlesskit
                && v < ROOTLESSKIT_GVISOR_MIN
            {
                problems.push(net(
                    format!("rootlesskit {v} has no gvisor-tap-vsock driver (it needs {ROOTLESSKIT_GVISOR_MIN} or newer)"),
                    format!("install rootlesskit {ROOTLESSKIT_GVISOR_MIN} or newer, or use slirp4netns"),
                ));
            }
        }
        NetworkDriver::Vpnkit | NetworkDriver::LxcUserNic => {}
    }
    if !network.port_drivers().contains(&port) {
        let fits: Vec<&str> = network.port_drivers().iter().map(|p| p.as_str()).collect();
        problems.push(Problem {
            subject: Subject::Port,
            message: format!("port driver `{port}` does not work with network driver `{network}`"),
            fix: format!("use port driver {}", fits.join(" or ")),
        });
    }
    if port != PortDriver::Builtin
        && installed.script_reads("DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER") == Some(false)
    {
        problems.push(Problem {
            subject: Subject::Port,
            message: format!(
                "the engine's dockerd-rootless.sh always uses the builtin port driver, not `{port}`"
            ),
            fix: "upgrade the engine, or use port driver builtin".to_owned(),
        });
    }
    problems
}

fn show_date(date: u32) -> String {
    format!(
        "{:04}_{:02}_{:02}",
        date / 10000,
        date / 100 % 100,
        date % 100
    )
}

/// The network driver `dockerd-rootless.sh` would pick among the installed ones: the first of
/// [`NetworkDriver::ALL`] with no problem under its default port driver.
pub fn best_available(installed: &Installed) -> Option<NetworkDriver> {
    NetworkDriver::ALL.into_iter().find(|n| {
        let usable = match n.binary() {
            Some(_) => matches!(installed.tool(*n), Tool::Found(_)),
            // gvisor-tap-vsock lives inside rootlesskit: only when its version says so.
            None => installed
                .rootlesskit
                .version()
                .is_some_and(|v| v >= ROOTLESSKIT_GVISOR_MIN),
        };
        usable && check_combination(*n, n.default_port_driver(), installed).is_empty()
    })
}

#[cfg(test)]
mod tests;
