//! From [`Settings`] and what was found on the host ([`Discovered`], the checker's facts) to a
//! [`Plan`]: every choice made explicit (driver, port driver, MTU, program paths, `PATH`) and
//! checked, so that rendering cannot fail on a value and the unit does exactly what was
//! validated. Problems point at the file line or flag that made the choice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rootless_setup_core::Engine;
use rootless_setup_core::engine::Launch;
use rootless_setup_core::model::{Binary, Facts, NetworkPlan};
use rootless_setup_core::network::{Installed, NetDriver, Tool, auto_choice, version_program};
use rootless_setup_core::version::version_at_least;

use crate::config::keys::BINARIES;
use crate::config::{ConfigError, ConfigErrors, Origin, Settings, Sourced, one_of};
use crate::drivers::{self, PortDriver, Severity, Subject};
use crate::escape;
use crate::limits::{self, LIMITS, ResourceLimit};
use crate::remote::{self, Remote};

/// The directories every unit's `PATH` ends with, after those of the discovered binaries.
pub use rootless_setup_core::SYSTEM_PATH;

/// What the checker found on this host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovered {
    /// Programs by name (`dockerd-rootless.sh`, `dockerd`, `rootlesskit`, `slirp4netns`…),
    /// with the versions they reported (`engine.binaries`).
    pub binaries: BTreeMap<String, Binary>,
    /// `newuidmap` (`uidmap`).
    pub newuidmap: Option<PathBuf>,
    /// `newgidmap` (`uidmap`).
    pub newgidmap: Option<PathBuf>,
    /// The network setup `network.driver` settled on, if it ran.
    pub network: Option<NetworkPlan>,
    /// The text of the engine's `dockerd-rootless.sh`, when it could be read.
    pub script: Option<String>,
    /// The controllers delegated to the user manager (`cgroup`), when known.
    pub delegated_controllers: Option<Vec<String>>,
}

impl Discovered {
    /// From the checker's facts; `script` is the text of `dockerd-rootless.sh` if the caller
    /// read it.
    pub fn from_facts(facts: &Facts, script: Option<String>) -> Self {
        Discovered {
            binaries: facts.binaries.clone(),
            newuidmap: facts.newuidmap.clone(),
            newgidmap: facts.newgidmap.clone(),
            network: facts.network.clone(),
            script,
            delegated_controllers: facts.delegated_controllers.clone(),
        }
    }
}

/// Every choice, explicit and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The engine.
    pub engine: Engine,
    /// The program `ExecStart=` runs: the engine's rootless script ([`Launch::Script`]) or
    /// rootlesskit ([`Launch::Steps`]).
    pub program: PathBuf,
    /// The daemon the script's steps end in (`containerd`), for [`Launch::Steps`].
    pub daemon: Option<PathBuf>,
    /// crun, which the steps make containerd's `runc` (as `crun --cgroup-manager=disabled`)
    /// when the unit's cgroup has no memory controller at start: nothing delegated, or cgroup
    /// v1, where neither runc nor crun can create a container's cgroup. For [`Launch::Steps`].
    pub crun_without_cgroups: Option<PathBuf>,
    /// `PATH` for the engine, in order.
    pub path: Vec<PathBuf>,
    /// Network driver.
    pub network_driver: NetDriver,
    /// Port driver.
    pub port_driver: PortDriver,
    /// MTU.
    pub mtu: u32,
    /// `DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK`, when the engine reads it;
    /// rootlesskit's `--disable-host-loopback` for [`Launch::Steps`].
    pub disable_host_loopback: Option<bool>,
    /// `DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS`, when chosen; rootlesskit's
    /// `--detach-netns` for [`Launch::Steps`], always decided.
    pub detach_netns: Option<bool>,
    /// dockerd's `--data-root`, or what is bind-mounted over containerd's `/var/lib/containerd`,
    /// when chosen.
    pub data_root: Option<PathBuf>,
    /// Extra daemon arguments.
    pub daemon_flags: Vec<String>,
    /// Extra environment.
    pub environment: BTreeMap<String, String>,
    /// `TimeoutStartSec=`, in seconds.
    pub start_timeout: u32,
    /// The remote API (`remote.expose`), when exposed.
    pub remote: Option<Remote>,
    /// The resource limits' unit lines (`MemoryMax=2G`), in [`LIMITS`] order.
    pub limits: Vec<String>,
    /// Things the user should know that do not stop rendering (lowercase, no period).
    pub warnings: Vec<String>,
}

/// A binary: its path, where that came from, and its version text when it was probed.
struct Located {
    path: PathBuf,
    origin: Origin,
    version: Option<String>,
    /// Whether the checker probed this very file.
    probed: bool,
}

fn locate(
    settings: &Settings,
    found: &Discovered,
    config_key: &str,
    program: &str,
) -> Option<Located> {
    let probed = found.binaries.get(program);
    match settings.binaries.get(config_key) {
        Some(Sourced { value, origin }) => Some(Located {
            path: value.clone(),
            origin: origin.clone(),
            // The probe's version only counts for the same file.
            version: probed
                .filter(|b| &b.path == value)
                .and_then(|b| b.version.clone()),
            probed: probed.is_some_and(|b| &b.path == value),
        }),
        None => probed.map(|b| Located {
            path: b.path.clone(),
            origin: Origin::Discovered,
            version: b.version.clone(),
            probed: true,
        }),
    }
}

/// Problems found along the way: errors stop the unit, warnings are shown.
#[derive(Default)]
struct Problems {
    errors: Vec<ConfigError>,
    warnings: Vec<String>,
}

/// Resolves and checks everything; all problems at once.
pub fn plan(settings: &Settings, found: &Discovered) -> Result<Plan, ConfigErrors> {
    let mut p = Problems::default();
    let Some(launch) = settings.engine.value.spec().launch() else {
        return Err(ConfigErrors(vec![
            ConfigError::new(
                &settings.engine.origin,
                "engine",
                format!(
                    "{} runs from the distribution's socket unit: no unit is generated for it (`rootless-setup install --engine {0}` sets it up)",
                    settings.engine.value.as_str()
                ),
            )
            .allowed("`docker` or `containerd`"),
        ]));
    };
    let located = locate_all(settings, found, &mut p);
    let installed = installed(settings, found, &located);
    let program = needed(&located, starter(launch), &mut p);
    let (daemon, crun_without_cgroups) = match launch {
        Launch::Script => (None, None),
        Launch::Steps { .. } => (
            needed(&located, &CONTAINERD, &mut p),
            crun(&located, &mut p),
        ),
    };
    let Some(network) = network_driver(settings, found, &installed) else {
        p.errors.push(
            ConfigError::new(
                &Origin::Discovered,
                "network.driver",
                "no usable network driver is installed",
            )
            .allowed(one_of(NetDriver::ALL.map(NetDriver::as_str)))
            .help("install slirp4netns (0.4 or newer) or passt (pasta), or set `network.driver`"),
        );
        return Err(ConfigErrors(p.errors));
    };
    let port = port_driver(settings, found, network.value);
    check_drivers(&network, &port, &installed, &mut p);
    let disable_host_loopback = disable_host_loopback(settings, &installed, &mut p);
    p.errors.extend(remote::check(settings));
    let detach_netns = match launch {
        Launch::Script => detach_netns(settings, &installed, &mut p),
        Launch::Steps { .. } => Some(
            detach_netns(settings, &installed, &mut p)
                .unwrap_or_else(|| rootlesskit_detaches(&installed)),
        ),
    };
    let (remote, detach_netns) = exposure(settings, &installed, &port, detach_netns, &mut p);
    let limits: Vec<Sourced<ResourceLimit>> = LIMITS
        .iter()
        .filter_map(|k| settings.limits.get(k.name).cloned())
        .collect();
    limits::check(
        &limits,
        found.delegated_controllers.as_deref(),
        &mut p.errors,
        &mut p.warnings,
    );
    let path = build_path(&located, launch, network.value, found, &mut p.errors);
    if !p.errors.is_empty() {
        return Err(ConfigErrors(p.errors));
    }
    Ok(Plan {
        engine: settings.engine.value,
        // An error was pushed when it is missing.
        program: program.unwrap_or_default(),
        daemon,
        crun_without_cgroups,
        path,
        network_driver: network.value,
        port_driver: port.value,
        mtu: settings
            .mtu
            .as_ref()
            .map_or(network.value.mtu(), |m| m.value),
        disable_host_loopback,
        detach_netns,
        data_root: settings.data_root.as_ref().map(|d| d.value.clone()),
        daemon_flags: settings
            .daemon_flags
            .iter()
            .map(|f| f.value.clone())
            .collect(),
        environment: settings
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect(),
        start_timeout: settings.start_timeout.value,
        remote,
        limits: limits.iter().map(|l| l.value.line()).collect(),
        warnings: p.warnings,
    })
}

/// Every program of [`BINARIES`] that is configured or was discovered, by configuration key;
/// a warning for each configured one the checker did not probe.
fn locate_all<'a>(
    settings: &Settings,
    found: &Discovered,
    p: &mut Problems,
) -> BTreeMap<&'a str, Located> {
    let located: BTreeMap<&str, Located> = BINARIES
        .iter()
        .filter_map(|(key, program)| locate(settings, found, key, program).map(|l| (*key, l)))
        .collect();
    for (key, l) in &located {
        if !l.probed {
            p.warnings.push(format!(
                "`binaries.{key}` = {} was not probed on this host; its version is not checked",
                l.path.display()
            ));
        }
    }
    located
}

/// What is installed, for the driver rules: the located programs with their versions and the
/// engine's script.
fn installed(
    settings: &Settings,
    found: &Discovered,
    located: &BTreeMap<&str, Located>,
) -> Installed {
    let tool = |key: &str| match located.get(key) {
        Some(l) => Tool::Found(l.version.clone()),
        None => Tool::Missing,
    };
    let engine = settings.engine.value;
    Installed {
        engine,
        engine_version: tool(version_program(engine)).version().map(str::to_owned),
        script: found.script.clone(),
        rootlesskit: tool("rootlesskit"),
        slirp4netns: tool("slirp4netns"),
        pasta: tool("pasta"),
        vpnkit: tool("vpnkit"),
        lxc_user_nic: tool("lxc-user-nic"),
    }
}

/// A program the unit names by path: its `[binaries]` key and what to say when it is missing.
struct Needed {
    key: &'static str,
    missing: &'static str,
    help: &'static str,
}

const DOCKERD_ROOTLESS: Needed = Needed {
    key: "dockerd-rootless",
    missing: "dockerd-rootless.sh was not found",
    help: "install the engine's rootless extras (Debian ships the script in /usr/share/docker.io/contrib/), or set `binaries.dockerd-rootless`",
};

const ROOTLESSKIT: Needed = Needed {
    key: "rootlesskit",
    missing: "rootlesskit was not found",
    help: "install rootlesskit (Debian: the rootlesskit package), or set `binaries.rootlesskit`",
};

const CONTAINERD: Needed = Needed {
    key: "containerd",
    missing: "containerd was not found",
    help: "install containerd (Debian: the containerd package), or set `binaries.containerd`",
};

/// The program `ExecStart=` runs.
fn starter(launch: Launch) -> &'static Needed {
    match launch {
        Launch::Script => &DOCKERD_ROOTLESS,
        Launch::Steps { .. } => &ROOTLESSKIT,
    }
}

/// The path of `what`, if found and usable as a systemd program path.
fn needed(located: &BTreeMap<&str, Located>, what: &Needed, p: &mut Problems) -> Option<PathBuf> {
    let key = format!("binaries.{}", what.key);
    let Some(l) = located.get(what.key) else {
        p.errors
            .push(ConfigError::new(&Origin::Discovered, &key, what.missing).help(what.help));
        return None;
    };
    match escape::exec_path(&l.path) {
        Ok(_) => Some(l.path.clone()),
        Err(e) => {
            p.errors.push(
                ConfigError::new(&l.origin, &key, format!("`{}` {e}", l.path.display()))
                    .help(format!("move the engine to a plain path, or set `{key}`")),
            );
            None
        }
    }
}

/// crun for containers without cgroups, if found and usable; a warning when it is not.
fn crun(located: &BTreeMap<&str, Located>, p: &mut Problems) -> Option<PathBuf> {
    let usable = located
        .get("crun")
        .filter(|l| escape::exec_path(&l.path).is_ok());
    if usable.is_none() {
        p.warnings.push(
            "crun was not found (or its path cannot be written into a unit): where no cgroup controllers are delegated to the user (and on cgroup v1) containers will not start, as runc cannot create their cgroups; install crun".to_owned(),
        );
    }
    usable.map(|l| l.path.clone())
}

/// What the script does when `--detach-netns` is not chosen: use it when rootlesskit has it
/// (its `--help` lists it; here, by its version).
fn rootlesskit_detaches(installed: &Installed) -> bool {
    installed
        .rootlesskit
        .version()
        .and_then(|v| version_at_least(v, &drivers::ROOTLESSKIT_DETACH_NETNS_MIN))
        == Some(true)
}

/// The network driver: configured, or the one `network.driver` settled on, or core's
/// automatic choice on what is installed here (the rule `network.driver` follows too).
fn network_driver(
    settings: &Settings,
    found: &Discovered,
    installed: &Installed,
) -> Option<Sourced<NetDriver>> {
    let discovered = |d| Sourced::new(d, Origin::Discovered);
    settings
        .network_driver
        .clone()
        .or_else(|| {
            found
                .network
                .as_ref()
                .and_then(|n| NetDriver::parse(&n.driver))
                .map(discovered)
        })
        .or_else(|| auto_choice(installed).driver.map(discovered))
}

/// The port driver: configured, or the checker's when it judged the same network driver, or the
/// network driver's default.
fn port_driver(settings: &Settings, found: &Discovered, network: NetDriver) -> Sourced<PortDriver> {
    settings.port_driver.clone().unwrap_or_else(|| {
        let from_checker = found
            .network
            .as_ref()
            .filter(|n| n.driver == network.as_str())
            .and_then(|n| n.port_driver.parse().ok())
            .filter(|p| drivers::port_drivers(network).contains(p));
        Sourced::new(
            from_checker.unwrap_or(PortDriver::default_for(network)),
            Origin::Default,
        )
    })
}

/// The problems of the combination, each pointing at what chose the driver it is about.
fn check_drivers(
    network: &Sourced<NetDriver>,
    port: &Sourced<PortDriver>,
    installed: &Installed,
    p: &mut Problems,
) {
    for problem in drivers::check_combination(network.value, port.value, installed) {
        if problem.severity == Severity::Warning {
            p.warnings
                .push(format!("{}: {}", problem.message, problem.fix));
            continue;
        }
        let (origin, key, allowed) = match problem.subject {
            Subject::Network => (&network.origin, "network.driver", None),
            Subject::Port => (
                &port.origin,
                "network.port-driver",
                Some(one_of(
                    drivers::port_drivers(network.value)
                        .iter()
                        .map(|p| p.as_str()),
                )),
            ),
        };
        let mut e = ConfigError::new(origin, key, problem.message).help(problem.fix);
        e.allowed = allowed;
        p.errors.push(e);
    }
}

/// `DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK`, when the engine's script reads it.
fn disable_host_loopback(
    settings: &Settings,
    installed: &Installed,
    p: &mut Problems,
) -> Option<bool> {
    let host_loopback = &settings.host_loopback;
    match installed.script_reads("DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK") {
        Some(false) if host_loopback.value => {
            p.errors.push(
                ConfigError::new(&host_loopback.origin, "network.host-loopback", "the engine's dockerd-rootless.sh always disables host loopback")
                    .allowed("`false`")
                    .help("upgrade the engine to one whose dockerd-rootless.sh reads DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK"),
            );
            None
        }
        Some(false) => None,
        _ => Some(!host_loopback.value),
    }
}

/// `DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS`, when chosen and the engine can take it.
fn detach_netns(settings: &Settings, installed: &Installed, p: &mut Problems) -> Option<bool> {
    let d = settings.detach_netns.as_ref()?;
    if d.value
        && let Some(v) = installed.rootlesskit.version()
        && version_at_least(v, &drivers::ROOTLESSKIT_DETACH_NETNS_MIN) == Some(false)
    {
        p.errors.push(
            ConfigError::new(
                &d.origin,
                "network.detach-netns",
                drivers::rootlesskit_lacks(
                    v,
                    "--detach-netns",
                    drivers::ROOTLESSKIT_DETACH_NETNS_MIN,
                ),
            )
            .allowed("`false`, or leave it unset"),
        );
    }
    if installed.script_reads("DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS") == Some(false) {
        // Such a script never detaches: `false` is what it does anyway.
        if d.value {
            p.errors.push(
                ConfigError::new(&d.origin, "network.detach-netns", "the engine's dockerd-rootless.sh does not read DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS")
                    .allowed("`false`, or leave it unset")
                    .help("upgrade the engine to use --detach-netns"),
            );
        }
        return None;
    }
    Some(d.value)
}

/// The exposure of `remote.expose`, with the detach-netns setting it relies on: a script that
/// reads `DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS` detaches unless told not to; when the
/// script could not be read the choice is written down (`false`, which older scripts ignore
/// and which matches what they do), so that where dockerd listens is known. In the namespace,
/// only the `builtin` port driver forwards to its loopback.
fn exposure(
    settings: &Settings,
    installed: &Installed,
    port: &Sourced<PortDriver>,
    detach_netns: Option<bool>,
    p: &mut Problems,
) -> (Option<Remote>, Option<bool>) {
    let Some(expose) = &settings.expose else {
        return (None, detach_netns);
    };
    let (detached, detach_netns) = match detach_netns {
        Some(d) => (d, Some(d)),
        None => match installed.script_reads("DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS") {
            Some(reads) => (reads, None),
            None => (false, Some(false)),
        },
    };
    if !detached && port.value != PortDriver::Builtin {
        let origin = match port.origin {
            Origin::Default => remote::origin(settings),
            ref chosen => chosen.clone(),
        };
        p.errors.push(
            ConfigError::new(
                &origin,
                "network.port-driver",
                format!(
                    "`remote.expose` = {} is forwarded into the engine's network namespace by the `builtin` port driver, not `{}`",
                    expose.value, port.value
                ),
            )
            .allowed("`builtin`")
            .help("set `network.port-driver = \"builtin\"` (with pasta, which has no builtin port driver, `network.driver = \"slirp4netns\"`), or `network.detach-netns = true` (rootlesskit 2.0 or newer), where dockerd listens on the host itself"),
        );
    }
    (remote::remote(settings, detached), detach_netns)
}

/// The directories of the programs the engine runs by name, then [`SYSTEM_PATH`]; never the
/// caller's `PATH`.
fn build_path(
    located: &BTreeMap<&str, Located>,
    launch: Launch,
    network: NetDriver,
    found: &Discovered,
    errors: &mut Vec<ConfigError>,
) -> Vec<PathBuf> {
    let mut wanted: Vec<(&Path, &Origin)> = Vec::new();
    let network_key = network.program().unwrap_or("rootlesskit");
    let programs: &[&str] = match launch {
        Launch::Script => &["dockerd-rootless", "dockerd", "rootlesskit"],
        Launch::Steps { .. } => &["rootlesskit", "containerd"],
    };
    for &key in programs.iter().chain([&network_key]) {
        if let Some(l) = located.get(key) {
            wanted.push((&l.path, &l.origin));
        }
    }
    for helper in [&found.newuidmap, &found.newgidmap].into_iter().flatten() {
        wanted.push((helper, &Origin::Discovered));
    }
    let mut path: Vec<PathBuf> = Vec::new();
    for (binary, origin) in wanted {
        let Some(dir) = binary.parent() else { continue };
        match escape::path_entry(dir) {
            Ok(_) => {
                if !path.iter().any(|p| p == dir) {
                    path.push(dir.to_path_buf());
                }
            }
            Err(e) => errors.push(
                ConfigError::new(origin, "binaries", format!("the directory of {} {e}", binary.display()))
                    .help("install the program in a directory whose name has no `:` or control characters"),
            ),
        }
    }
    for dir in SYSTEM_PATH {
        if !path.iter().any(|p| p == Path::new(dir)) {
            path.push(PathBuf::from(dir));
        }
    }
    path
}

#[cfg(test)]
mod tests;
