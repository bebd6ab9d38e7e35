//! Which port drivers the unit may use, and every reason a network and port driver cannot
//! work with the installed engine, rootlesskit and driver binaries.
//!
//! The rules themselves are not here: the network drivers ([`NetDriver`]), which port driver
//! fits which, the minimum versions (slirp4netns, pasta, rootlesskit per driver), the MTU
//! defaults and the driver picked when none is configured
//! ([`auto_choice`](rootless_setup_core::network::auto_choice)) come from core's
//! [`network`](rootless_setup_core::network) rules, the same code `network.driver` judges the
//! host with. What this module adds is the unit's own:
//!
//! - the unit never writes port driver `none`: rootlesskit accepts it (and `network.driver` only
//!   warns), but a unit whose `docker run -p` publishes nothing is a broken install, so
//!   [`PortDriver`] has no such value and the configuration refuses it
//!   ([`port_driver_refusal`]);
//! - what the engine's own `dockerd-rootless.sh` understands, decided by reading the script
//!   ([`Installed::script`]), not by guessing from a version.
//!
//! This is a pure table: it reads no file and runs nothing. The caller says what is installed
//! ([`Installed`], from the checker's `engine.binaries` facts) and gets every problem with the
//! combination back, errors and warnings ([`Severity`]).

use std::fmt;
use std::str::FromStr;

use rootless_setup_core::network::{self as rules, Installed, NetDriver, PastaAge, PlanError};

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

/// The port drivers the unit may use with `network`, the default first: those rootlesskit
/// accepts, without `none`.
pub fn port_drivers(network: NetDriver) -> Vec<PortDriver> {
    let mut fitting: Vec<PortDriver> = rules::PortDriver::fitting(network)
        .into_iter()
        .filter_map(PortDriver::from_rules)
        .collect();
    let default = PortDriver::default_for(network);
    fitting.sort_by_key(|p| *p != default);
    fitting
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

    /// The port driver used with `network` when none is chosen: `implicit` for pasta (pasta
    /// forwards ports itself and keeps the source address), `builtin` (the fastest) otherwise.
    pub fn default_for(network: NetDriver) -> PortDriver {
        // rootlesskit's default is never `none`; `builtin` only stands in for the impossible.
        PortDriver::from_rules(network.default_port_driver()).unwrap_or(PortDriver::Builtin)
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

impl fmt::Display for PortDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a driver the unit may use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown driver `{0}`")]
pub struct UnknownDriver(pub String);

impl FromStr for PortDriver {
    type Err = UnknownDriver;

    /// `none` is not accepted (see [`port_driver_refusal`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        rules::PortDriver::parse(s)
            .and_then(PortDriver::from_rules)
            .ok_or_else(|| UnknownDriver(s.to_owned()))
    }
}

/// A `[major, minor]` minimum as the unit's messages spell it: `[2, 0]` → `2.0.0`.
fn show_minimum(version: [u64; 2]) -> String {
    format!("{}.0", rules::show_version(version))
}

/// The first rootlesskit with `--detach-netns`, which came with the pasta network driver.
pub const ROOTLESSKIT_DETACH_NETNS_MIN: [u64; 2] = match NetDriver::Pasta.min_rootlesskit() {
    Some(v) => v,
    None => [0, 0],
};

/// The message for a rootlesskit older than `need` for `what`: `rootlesskit 1.1.0 has no
/// --detach-netns (it needs 2.0.0 or newer)`.
pub fn rootlesskit_lacks(found: &str, what: &str, need: [u64; 2]) -> String {
    format!(
        "rootlesskit {found} has no {what} (it needs {} or newer)",
        show_minimum(need)
    )
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
/// empty when it is fine. The fit and version rules are core's
/// ([`rules::violations`], [`rules::slirp4netns_supported`], [`rules::pasta_age`]); what the
/// engine's script reads is the unit's own.
///
/// A version that could not be read is not held against the driver (the binary was found;
/// `engine.smoke` runs the real thing), and neither is a script that could not be read.
pub fn check_combination(
    network: NetDriver,
    port: PortDriver,
    installed: &Installed,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let net = |message: String, fix: String| Problem::error(Subject::Network, message, fix);
    if let Some(binary) = network.program()
        && !installed.tool(network).is_found()
    {
        problems.push(net(
            format!("network driver `{network}` needs `{binary}`, which was not found"),
            format!("install {binary} or choose another network driver"),
        ));
    }
    if network == NetDriver::Slirp4netns
        && let Some(v) = installed.slirp4netns.version()
        && rules::slirp4netns_supported(v) == Some(false)
    {
        let min = show_minimum(rules::SLIRP4NETNS_MIN);
        problems.push(net(
            format!("slirp4netns {v} is older than {min}, which the engine needs"),
            format!("install slirp4netns {min} or newer"),
        ));
    }
    let mut mismatch = false;
    for violation in rules::violations(network, port.rules(), installed.rootlesskit.version()) {
        match violation {
            PlanError::Mismatch { .. } => mismatch = true,
            PlanError::RootlesskitTooOld { need, found, .. } => problems.push(net(
                rootlesskit_lacks(&found, &format!("{network} driver"), need),
                format!(
                    "install rootlesskit {} or newer, or use slirp4netns",
                    show_minimum(need)
                ),
            )),
            // Typed drivers are always known; reported as they are should that ever change.
            other => problems.push(net(
                other.to_string(),
                "choose another network driver".into(),
            )),
        }
    }
    if network == NetDriver::Pasta
        && let Some(text) = installed.pasta.version()
    {
        problems.extend(pasta_problem(text));
    }
    if mismatch {
        let fits: Vec<&str> = port_drivers(network).iter().map(|p| p.as_str()).collect();
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

#[cfg(test)]
mod tests;
