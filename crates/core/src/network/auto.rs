//! The automatic network-driver choice: which driver install uses when none is configured, the
//! one rule both `network.driver` (what `check` validates) and the unit generator (what
//! `install` writes) call, so that `check` validates exactly what `install` will use.
//!
//! The order is the one the engine's own rootless script follows when
//! `DOCKERD_ROOTLESS_ROOTLESSKIT_NET` (`CONTAINERD_ROOTLESS_ROOTLESSKIT_NET`) is unset: read from
//! the script itself when its text is at hand (its `net=<driver>` assignments, in order), else
//! from the engine's version, else the order every release starts with. In that order the first
//! driver that is installed and usable wins; one that would fail at start-up is passed over,
//! with the reason ([`PassedOver`]).
//!
//! What the scripts do, with their sources:
//! - moby `contrib/dockerd-rootless.sh` up to v28.5.1 (and Debian's docker.io 20.10 and 26.1,
//!   which ship that file): slirp4netns (≥ 0.4, tested by `--netns-type` in `--help`), else
//!   vpnkit, else it exits ("Either slirp4netns (>= v0.4.0) or vpnkit needs to be installed").
//!   lxc-user-nic is never picked automatically, by any release.
//! - moby v28.5.2 (backport moby/moby#51162) and v29.0.0 to v29.4.x (moby/moby#51149, commit
//!   7e63d2a81b "dockerd-rootless.sh: if no slirp4netns, try pasta"): slirp4netns, else pasta,
//!   else vpnkit, else it exits; the port driver defaults to `implicit` for pasta.
//! - moby v29.5.0 and later (commit 5249b1d165 "Update RootlessKit (3.0.0)": "slirp4netns/vpnkit
//!   is no longer needed as gvisor-tap-vsock is now embedded in RootlessKit"): slirp4netns, else
//!   pasta, else vpnkit, else gvisor-tap-vsock, which needs no program of its own, so Docker 29.5
//!   no longer needs slirp4netns. MTU 65520 for slirp4netns, pasta and gvisor-tap-vsock; the
//!   script also defaults `DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS` to true. Checked up to
//!   v29.7.2 and master of 2026-08-23 (same order).
//! - nerdctl `extras/rootless/containerd-rootless.sh` before v2.3.0: slirp4netns, else vpnkit,
//!   else it exits; from v2.3.0 (commit ae4a3395 "Update RootlessKit (3.0.0)"): slirp4netns, else
//!   vpnkit, else gvisor-tap-vsock. It never picks pasta.
//! - rootlesskit: gvisor-tap-vsock is built in from v3.0.0 (see the parent module). v3.1.0 adds
//!   the *port* driver `pesto` (rootless-containers/rootlesskit#616, "support
//!   --port-driver=pesto for IPv4"): `--net=pasta` only, driven through passt's `pesto` client
//!   (passt 2026_05_07.1afd4ed or later). It is not a network driver and no script picks it by
//!   default (moby master's script only lists it as a value of
//!   `DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER`), so it does not enter this choice.
//!
//! Install writes the chosen driver into the unit explicitly; passing over a driver the script
//! would take but that cannot work here (pasta older than rootlesskit needs, gvisor-tap-vsock
//! without rootlesskit 3) turns a failure at start-up into a finding now.

use std::collections::BTreeMap;

use super::{
    NetDriver, PASTA_MIN_DATE, PastaAge, SLIRP4NETNS_MIN, pasta_age, slirp4netns_supported,
};
use crate::engine::Launch;
use crate::model::{Binary, Engine};
use crate::version::version_at_least;

/// A program as far as the driver rules care: absent, or found with the bare version it
/// reported (`None` when none could be read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Tool {
    /// Not found.
    #[default]
    Missing,
    /// Found.
    Found(Option<String>),
}

impl Tool {
    /// From a discovered binary.
    pub fn of(binary: Option<&Binary>) -> Tool {
        binary.map_or(Tool::Missing, |b| Tool::Found(b.version.clone()))
    }

    /// The version it reported, if found and read.
    pub fn version(&self) -> Option<&str> {
        match self {
            Tool::Found(Some(v)) => Some(v),
            _ => None,
        }
    }

    /// Whether it was found.
    pub fn is_found(&self) -> bool {
        matches!(self, Tool::Found(_))
    }
}

/// What is installed, as far as choosing and judging a network driver goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    /// The engine whose rootless script runs rootlesskit.
    pub engine: Engine,
    /// The engine's version: `dockerd`'s for Docker, `nerdctl`'s for containerd (whose
    /// `containerd-rootless.sh` ships with nerdctl).
    pub engine_version: Option<String>,
    /// The text of the engine's rootless script, when it could be read.
    pub script: Option<String>,
    /// `rootlesskit`; also what gvisor-tap-vsock needs.
    pub rootlesskit: Tool,
    /// `slirp4netns`.
    pub slirp4netns: Tool,
    /// `pasta` (from passt).
    pub pasta: Tool,
    /// `vpnkit`.
    pub vpnkit: Tool,
    /// `lxc-user-nic`.
    pub lxc_user_nic: Tool,
}

impl Installed {
    /// From the programs `engine.binaries` found (by name) and the script's text.
    pub fn from_binaries(
        engine: Engine,
        binaries: &BTreeMap<String, Binary>,
        script: Option<String>,
    ) -> Installed {
        let tool = |name: &str| Tool::of(binaries.get(name));
        Installed {
            engine,
            engine_version: binaries
                .get(version_program(engine))
                .and_then(|b| b.version.clone()),
            script,
            rootlesskit: tool("rootlesskit"),
            slirp4netns: tool("slirp4netns"),
            pasta: tool("pasta"),
            vpnkit: tool("vpnkit"),
            lxc_user_nic: tool("lxc-user-nic"),
        }
    }

    /// What `driver` needs installed: its program, or rootlesskit for gvisor-tap-vsock.
    pub fn tool(&self, driver: NetDriver) -> &Tool {
        match driver {
            NetDriver::Slirp4netns => &self.slirp4netns,
            NetDriver::Pasta => &self.pasta,
            NetDriver::Vpnkit => &self.vpnkit,
            NetDriver::LxcUserNic => &self.lxc_user_nic,
            NetDriver::GvisorTapVsock => &self.rootlesskit,
        }
    }

    /// Whether the engine's script reads `variable` (`None` when the script is unknown).
    pub fn script_reads(&self, variable: &str) -> Option<bool> {
        self.script.as_deref().map(|s| s.contains(variable))
    }
}

/// The program whose version says which release of the rootless script is installed.
pub fn version_program(engine: Engine) -> &'static str {
    engine.spec().script().map_or("", |s| s.version_program)
}

/// What every release's script tries: slirp4netns, then vpnkit.
const FIRST: &[NetDriver] = &[NetDriver::Slirp4netns, NetDriver::Vpnkit];
/// moby v28.5.2 to v29.4.x.
pub(crate) const WITH_PASTA: &[NetDriver] =
    &[NetDriver::Slirp4netns, NetDriver::Pasta, NetDriver::Vpnkit];
/// moby v29.5.0 and later.
pub(crate) const WITH_PASTA_AND_GVISOR: &[NetDriver] = &[
    NetDriver::Slirp4netns,
    NetDriver::Pasta,
    NetDriver::Vpnkit,
    NetDriver::GvisorTapVsock,
];
/// nerdctl v2.3.0 and later.
pub(crate) const WITH_GVISOR: &[NetDriver] = &[
    NetDriver::Slirp4netns,
    NetDriver::Vpnkit,
    NetDriver::GvisorTapVsock,
];

/// A release of an engine's rootless script: the first version with the order it tries.
pub type ScriptRelease = ([u64; 3], &'static [NetDriver]);

/// Where the order came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderSource {
    /// The engine's script, read.
    Script,
    /// The engine's version (the script could not be read or names no driver).
    Version(String),
    /// Neither is known: the order every release starts with.
    Unknown,
    /// The unit runs the script's steps itself ([`Launch::Steps`]): the order of the release
    /// it follows, whatever script is installed.
    Steps([u64; 3]),
}

/// The drivers the engine's script would try, in its order, and where that came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoOrder {
    /// In order.
    pub drivers: Vec<NetDriver>,
    /// How it is known.
    pub source: OrderSource,
}

impl AutoOrder {
    /// The order `installed`'s script follows.
    pub fn of(installed: &Installed) -> AutoOrder {
        if let Some(Launch::Steps { release, order, .. }) = installed.engine.spec().launch() {
            return AutoOrder {
                drivers: order.to_vec(),
                source: OrderSource::Steps(release),
            };
        }
        if let Some(drivers) = installed.script.as_deref().map(script_order)
            && !drivers.is_empty()
        {
            return AutoOrder {
                drivers,
                source: OrderSource::Script,
            };
        }
        let releases = installed
            .engine
            .spec()
            .script()
            .map_or(&[][..], |s| s.releases);
        match installed.engine_version.as_deref() {
            Some(v) if version_at_least(v, &[0]).is_some() => {
                let drivers = releases
                    .iter()
                    .find(|(first, _)| version_at_least(v, first) == Some(true))
                    .map_or(FIRST, |(_, order)| *order);
                AutoOrder {
                    drivers: drivers.to_vec(),
                    source: OrderSource::Version(v.to_owned()),
                }
            }
            _ => AutoOrder {
                drivers: FIRST.to_vec(),
                source: OrderSource::Unknown,
            },
        }
    }

    /// The drivers as a list for people: `slirp4netns, pasta, vpnkit`.
    pub fn list(&self) -> String {
        let names: Vec<&str> = self.drivers.iter().map(|d| d.as_str()).collect();
        names.join(", ")
    }

    /// Where the order comes from, for people: `the order of the engine's
    /// dockerd-rootless.sh`.
    pub fn origin(&self, engine: Engine) -> String {
        let script = engine.rootless_script().unwrap_or("rootless script");
        match &self.source {
            OrderSource::Script => format!("the order of the engine's {script}"),
            OrderSource::Version(v) => {
                format!(
                    "the order of {script} as {} {v} ships it",
                    version_program(engine)
                )
            }
            OrderSource::Unknown => {
                format!("the order every {script} starts with (its version is unknown)")
            }
            OrderSource::Steps([major, minor, patch]) => format!(
                "the order of {script} from {} {major}.{minor}.{patch}, whose steps the unit runs",
                version_program(engine)
            ),
        }
    }
}

/// The drivers a script assigns in its automatic choice, in order: its lines that are exactly
/// `net=<driver>` (`net=$DOCKERD_ROOTLESS_ROOTLESSKIT_NET` names none), each once.
fn script_order(script: &str) -> Vec<NetDriver> {
    let mut out = Vec::new();
    for line in script.lines() {
        let Some(name) = line.trim().strip_prefix("net=") else {
            continue;
        };
        if let Some(driver) = NetDriver::parse(name)
            && !out.contains(&driver)
        {
            out.push(driver);
        }
    }
    out
}

/// Why a driver of the order was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassedOver {
    /// Its program (rootlesskit, for gvisor-tap-vsock) is not installed.
    Missing,
    /// slirp4netns older than [`SLIRP4NETNS_MIN`]; its version.
    SlirpTooOld(String),
    /// pasta older than [`PASTA_MIN_DATE`]; its version.
    PastaTooOld(String),
    /// rootlesskit is too old for the driver.
    RootlesskitTooOld {
        /// The oldest rootlesskit with the driver.
        need: [u64; 2],
        /// The version found.
        found: String,
    },
    /// Built into rootlesskit, whose version could not be read.
    RootlesskitUnknown,
}

impl PassedOver {
    /// For people, after the driver's name: `is older than 0.4 (0.3.3)`.
    pub fn describe(&self, driver: NetDriver) -> String {
        match self {
            PassedOver::Missing => match driver.program() {
                Some(program) => format!("{driver}: {program} not found"),
                None => format!("{driver}: rootlesskit not found"),
            },
            PassedOver::SlirpTooOld(v) => format!(
                "slirp4netns {v} is older than {}",
                super::show_version(SLIRP4NETNS_MIN)
            ),
            PassedOver::PastaTooOld(v) => format!(
                "pasta {v} is older than {}",
                super::show_date(PASTA_MIN_DATE)
            ),
            PassedOver::RootlesskitTooOld { need, found } => format!(
                "{driver} needs rootlesskit {} or later, found {found}",
                super::show_version(*need)
            ),
            PassedOver::RootlesskitUnknown => {
                format!("{driver}: could not tell rootlesskit's version")
            }
        }
    }
}

/// The automatic choice and how it came about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoChoice {
    /// The driver; `None` when no driver of the order is usable.
    pub driver: Option<NetDriver>,
    /// The order it was chosen in.
    pub order: AutoOrder,
    /// The drivers before it (all of them, when none was chosen), each with its reason.
    pub passed_over: Vec<(NetDriver, PassedOver)>,
}

impl AutoChoice {
    /// The version of a too old slirp4netns that was passed over, if any.
    pub fn skipped_slirp(&self) -> Option<&str> {
        self.passed_over.iter().find_map(|(_, p)| match p {
            PassedOver::SlirpTooOld(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// Whether every driver passed over is simply not installed.
    pub fn nothing_installed(&self) -> bool {
        self.passed_over
            .iter()
            .all(|(_, p)| *p == PassedOver::Missing)
    }
}

/// The network driver install uses when none is configured: the first of the engine script's
/// order ([`AutoOrder::of`]) that is installed and usable ([`passed_over`]).
pub fn auto_choice(installed: &Installed) -> AutoChoice {
    let order = AutoOrder::of(installed);
    let mut skipped = Vec::new();
    for &driver in &order.drivers {
        match passed_over(driver, installed) {
            Some(reason) => skipped.push((driver, reason)),
            None => {
                return AutoChoice {
                    driver: Some(driver),
                    order,
                    passed_over: skipped,
                };
            }
        }
    }
    AutoChoice {
        driver: None,
        order,
        passed_over: skipped,
    }
}

/// Why `driver` cannot be the automatic choice on `installed`; `None` when it can. A version
/// that could not be read is not held against a driver whose program was found; only
/// gvisor-tap-vsock, which has no program, needs rootlesskit to say it is 3.0 or later.
pub fn passed_over(driver: NetDriver, installed: &Installed) -> Option<PassedOver> {
    let tool = installed.tool(driver);
    if !tool.is_found() {
        return Some(PassedOver::Missing);
    }
    if let Some(need) = driver.min_rootlesskit() {
        match installed.rootlesskit.version() {
            Some(found) if version_at_least(found, &need) == Some(false) => {
                return Some(PassedOver::RootlesskitTooOld {
                    need,
                    found: found.to_owned(),
                });
            }
            Some(found) if version_at_least(found, &need).is_some() => {}
            _ if driver.program().is_none() => return Some(PassedOver::RootlesskitUnknown),
            _ => {}
        }
    }
    let version = tool.version()?;
    match driver {
        NetDriver::Slirp4netns if slirp4netns_supported(version) == Some(false) => {
            Some(PassedOver::SlirpTooOld(version.to_owned()))
        }
        NetDriver::Pasta if pasta_age(version) == Some(PastaAge::TooOld) => {
            Some(PassedOver::PastaTooOld(version.to_owned()))
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "auto_tests.rs"]
mod tests;
