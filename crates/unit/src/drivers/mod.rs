//! Which network and port drivers the unit may use, and every reason a choice cannot work with
//! the installed engine, rootlesskit and driver binaries.
//!
//! The rules themselves are not here: which port driver fits which network driver, the minimum
//! versions (slirp4netns, pasta, rootlesskit per driver) and the MTU defaults come from the
//! shared [`network`](rootless_setup_core::network) rules, the same code
//! `network.driver` judges the host with. What this module adds is the unit's own:
//!
//! - the unit never writes port driver `none`: rootlesskit accepts it (and `network.driver` only
//!   warns), but a unit whose `docker run -p` publishes nothing is a broken install, so
//!   [`PortDriver`] has no such value and the configuration refuses it
//!   ([`port_driver_refusal`]);
//! - what the engine's own `dockerd-rootless.sh` understands, decided by reading the script
//!   ([`Installed::script`]), not by guessing from a version;
//! - the order in which [`best_available`] picks a driver when nothing chose one.
//!
//! This is a pure table: it reads no file and runs nothing. The caller says what is installed
//! ([`Installed`], from the checker's `engine.binaries` facts) and gets every problem with the
//! combination back, errors and warnings ([`Severity`]).

use std::fmt;
use std::str::FromStr;

use rootless_setup_core::network::{self as rules, NetDriver, PastaAge, PlanError};

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
    /// gVisor's network stack, built into rootlesskit ≥ 3.0.
    GvisorTapVsock,
}

/// A port driver the unit may use (`--port-driver`, `DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER`):
/// rootlesskit's port drivers except `none`, which the unit refuses (see the module docs).
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

    /// The same driver in the checker's rules.
    pub const fn rules(self) -> NetDriver {
        match self {
            NetworkDriver::Slirp4netns => NetDriver::Slirp4netns,
            NetworkDriver::Pasta => NetDriver::Pasta,
            NetworkDriver::Vpnkit => NetDriver::Vpnkit,
            NetworkDriver::LxcUserNic => NetDriver::LxcUserNic,
            NetworkDriver::GvisorTapVsock => NetDriver::GvisorTapVsock,
        }
    }

    /// The checker's driver as the unit's (every one has a counterpart).
    pub const fn from_rules(driver: NetDriver) -> NetworkDriver {
        match driver {
            NetDriver::Slirp4netns => NetworkDriver::Slirp4netns,
            NetDriver::Pasta => NetworkDriver::Pasta,
            NetDriver::Vpnkit => NetworkDriver::Vpnkit,
            NetDriver::LxcUserNic => NetworkDriver::LxcUserNic,
            NetDriver::GvisorTapVsock => NetworkDriver::GvisorTapVsock,
        }
    }

    /// The name rootlesskit and `dockerd-rootless.sh` use.
    pub fn as_str(self) -> &'static str {
        self.rules().as_str()
    }

    /// The port drivers the unit may use with this network driver, the default first: those
    /// rootlesskit accepts, without `none`.
    pub fn port_drivers(self) -> Vec<PortDriver> {
        let mut fitting: Vec<PortDriver> = rules::PortDriver::fitting(self.rules())
            .into_iter()
            .filter_map(PortDriver::from_rules)
            .collect();
        let default = self.default_port_driver();
        fitting.sort_by_key(|p| *p != default);
        fitting
    }

    /// The port driver used when none is chosen: `implicit` for pasta (pasta forwards ports
    /// itself and keeps the source address), `builtin` (the fastest) otherwise.
    pub fn default_port_driver(self) -> PortDriver {
        // rootlesskit's default is never `none`; `builtin` only stands in for the impossible.
        PortDriver::from_rules(self.rules().default_port_driver()).unwrap_or(PortDriver::Builtin)
    }

    /// The MTU used when none is chosen: 65520 for the user-mode stacks that support it, 1500
    /// otherwise (the same as the checker's `network.driver`).
    pub fn default_mtu(self) -> u32 {
        self.rules().mtu()
    }

    /// The separate program this driver runs, if it has one.
    pub fn binary(self) -> Option<&'static str> {
        self.rules().program()
    }

    /// The oldest rootlesskit that has this driver; `None` when every one has it.
    pub const fn min_rootlesskit(self) -> Option<Version> {
        match self.rules().min_rootlesskit() {
            Some(need) => Some(Version::minimum(need)),
            None => None,
        }
    }
}

impl PortDriver {
    /// Every port driver the unit may use.
    pub const ALL: [PortDriver; 4] = [
        PortDriver::Builtin,
        PortDriver::Slirp4netns,
        PortDriver::Implicit,
        PortDriver::GvisorTapVsock,
    ];

    /// The same port driver in the checker's rules.
    pub const fn rules(self) -> rules::PortDriver {
        match self {
            PortDriver::Builtin => rules::PortDriver::Builtin,
            PortDriver::Slirp4netns => rules::PortDriver::Slirp4netns,
            PortDriver::Implicit => rules::PortDriver::Implicit,
            PortDriver::GvisorTapVsock => rules::PortDriver::GvisorTapVsock,
        }
    }

    /// The checker's port driver as the unit's; `None` for `none`, which the unit refuses.
    pub const fn from_rules(port: rules::PortDriver) -> Option<PortDriver> {
        match port {
            rules::PortDriver::Builtin => Some(PortDriver::Builtin),
            rules::PortDriver::Slirp4netns => Some(PortDriver::Slirp4netns),
            rules::PortDriver::Implicit => Some(PortDriver::Implicit),
            rules::PortDriver::GvisorTapVsock => Some(PortDriver::GvisorTapVsock),
            rules::PortDriver::None => None,
        }
    }

    /// The name rootlesskit and `dockerd-rootless.sh` use.
    pub fn as_str(self) -> &'static str {
        self.rules().as_str()
    }
}

/// Why the unit refuses `name` as a port driver although rootlesskit knows it (only `none`):
/// `network.driver` merely warns about it, the configuration turns it down with this reason and
/// the allowed values. `None` for every other name.
pub fn port_driver_refusal(name: &str) -> Option<&'static str> {
    let port = rules::PortDriver::parse(name)?;
    match PortDriver::from_rules(port) {
        Some(_) => None,
        None => Some(
            "port driver `none` publishes no ports, so `docker run -p` would silently do nothing; \
             the unit needs one that forwards ports",
        ),
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

/// A name that is not a driver the unit may use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown driver `{0}`")]
pub struct UnknownDriver(pub String);

impl FromStr for NetworkDriver {
    type Err = UnknownDriver;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NetDriver::parse(s)
            .map(NetworkDriver::from_rules)
            .ok_or_else(|| UnknownDriver(s.to_owned()))
    }
}

impl FromStr for PortDriver {
    type Err = UnknownDriver;

    /// `none` is not accepted (see [`port_driver_refusal`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        rules::PortDriver::parse(s)
            .and_then(PortDriver::from_rules)
            .ok_or_else(|| UnknownDriver(s.to_owned()))
    }
}

/// A `major.minor.patch` version, compared numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u64, pub u64, pub u64);

impl Version {
    /// A `[major, minor]` minimum from the checker's rules, as `major.minor.0`.
    pub const fn minimum(version: [u64; 2]) -> Version {
        let [major, minor] = version;
        Version(major, minor, 0)
    }

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

/// The oldest slirp4netns the engine works with (`--netns-type`, sandboxing).
pub const SLIRP4NETNS_MIN: Version = Version::minimum(rules::SLIRP4NETNS_MIN);
/// The first rootlesskit with the pasta network driver and `--detach-netns`.
pub const ROOTLESSKIT_PASTA_MIN: Version = match NetworkDriver::Pasta.min_rootlesskit() {
    Some(v) => v,
    None => Version(0, 0, 0),
};

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
    /// The version in the text it printed, if any.
    pub(crate) fn version(&self) -> Option<Version> {
        match self {
            Tool::Found(Some(text)) => Version::find(text),
            _ => None,
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Tool::Found(Some(text)) => Some(text),
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

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The engine would not start, or would not do what was asked: nothing may be written.
    Error,
    /// It works, but not as well as it should (pasta older than rootlesskit recommends): show
    /// it and go on.
    Warning,
}

/// One reason the combination cannot work here, or works only poorly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What it is about.
    pub subject: Subject,
    /// Whether it stops the unit.
    pub severity: Severity,
    /// What is wrong, with the concrete values (lowercase, no trailing period).
    pub message: String,
    /// What would make it work.
    pub fix: String,
}

impl Problem {
    fn error(subject: Subject, message: String, fix: String) -> Problem {
        Problem {
            subject,
            severity: Severity::Error,
            message,
            fix,
        }
    }
}

/// Every reason `network` with `port` cannot work (or works poorly) with what is installed;
/// empty when it is fine. The fit and version rules are the checker's
/// ([`rules::violations`], [`rules::slirp4netns_supported`], [`rules::pasta_age`]); what the
/// engine's script reads is the unit's own.
///
/// A version that could not be read is not held against the driver (the binary was found;
/// `engine.smoke` runs the real thing), and neither is a script that could not be read.
pub fn check_combination(
    network: NetworkDriver,
    port: PortDriver,
    installed: &Installed,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let net = |message: String, fix: String| Problem::error(Subject::Network, message, fix);
    if let Some(binary) = network.binary()
        && *installed.tool(network) == Tool::Missing
    {
        problems.push(net(
            format!("network driver `{network}` needs `{binary}`, which was not found"),
            format!("install {binary} or choose another network driver"),
        ));
    }
    if network == NetworkDriver::Slirp4netns
        && let Some(v) = installed.slirp4netns.version()
        && rules::slirp4netns_supported(&v.to_string()) == Some(false)
    {
        problems.push(net(
            format!("slirp4netns {v} is older than {SLIRP4NETNS_MIN}, which the engine needs"),
            format!("install slirp4netns {SLIRP4NETNS_MIN} or newer"),
        ));
    }
    let rootlesskit = installed.rootlesskit.version().map(|v| v.to_string());
    let mut mismatch = false;
    for violation in rules::violations(network.rules(), port.rules(), rootlesskit.as_deref()) {
        match violation {
            PlanError::Mismatch { .. } => mismatch = true,
            PlanError::RootlesskitTooOld { need, found, .. } => {
                let need = Version::minimum(need);
                problems.push(net(
                    format!(
                        "rootlesskit {found} has no {network} driver (it needs {need} or newer)"
                    ),
                    format!("install rootlesskit {need} or newer, or use slirp4netns"),
                ));
            }
            // Typed drivers are always known; reported as they are should that ever change.
            other => problems.push(net(
                other.to_string(),
                "choose another network driver".into(),
            )),
        }
    }
    if network == NetworkDriver::Pasta
        && let Some(text) = installed.pasta.text()
    {
        problems.extend(pasta_problem(text));
    }
    if mismatch {
        let fits: Vec<&str> = network.port_drivers().iter().map(|p| p.as_str()).collect();
        problems.push(Problem::error(
            Subject::Port,
            format!("port driver `{port}` does not work with network driver `{network}`"),
            format!("use port driver {}", fits.join(" or ")),
        ));
    }
    if port != PortDriver::Builtin
        && installed.script_reads("DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER") == Some(false)
    {
        problems.push(Problem::error(
            Subject::Port,
            format!(
                "the engine's dockerd-rootless.sh always uses the builtin port driver, not `{port}`"
            ),
            "upgrade the engine, or use port driver builtin".to_owned(),
        ));
    }
    problems
}

/// What the pasta build in `text` means for the engine: an error below rootlesskit's minimum, a
/// warning below its recommendation, nothing when new enough or undated.
fn pasta_problem(text: &str) -> Option<Problem> {
    let date = rules::pasta_date(text)?;
    let (found, min, recommended) = (
        rules::show_date(date),
        rules::show_date(rules::PASTA_MIN_DATE),
        rules::show_date(rules::PASTA_RECOMMENDED_DATE),
    );
    match rules::pasta_age(text)? {
        PastaAge::TooOld => Some(Problem::error(
            Subject::Network,
            format!(
                "pasta from {found} is older than {min}, which rootlesskit's pasta driver needs"
            ),
            format!("install passt {recommended} or newer, or use slirp4netns"),
        )),
        PastaAge::BelowRecommended => Some(Problem {
            subject: Subject::Network,
            severity: Severity::Warning,
            message: format!(
                "pasta from {found} is older than the recommended {recommended} (published ports may drop connections)"
            ),
            fix: format!("install passt {recommended} or newer"),
        }),
        PastaAge::Recommended => None,
    }
}

/// The network driver to use among the installed ones when nothing chose one: the first of
/// [`NetworkDriver::ALL`] that is there and has no error under its default port driver.
pub fn best_available(installed: &Installed) -> Option<NetworkDriver> {
    NetworkDriver::ALL.into_iter().find(|n| {
        let usable = match n.binary() {
            Some(_) => matches!(installed.tool(*n), Tool::Found(_)),
            // gvisor-tap-vsock lives inside rootlesskit: only when its version says so.
            None => installed
                .rootlesskit
                .version()
                .zip(n.min_rootlesskit())
                .is_some_and(|(have, need)| have >= need),
        };
        usable
            && check_combination(*n, n.default_port_driver(), installed)
                .iter()
                .all(|p| p.severity == Severity::Warning)
    })
}

#[cfg(test)]
mod tests;
