//! `network.driver`: the network driver and port driver install would hand to rootlesskit,
//! checked against the binaries `engine.binaries` found and against what rootlesskit accepts.
//! Records the result as `Facts::network`. When none is configured the driver is core's
//! automatic choice ([`auto_choice`]: the order of the engine's own rootless script, read from
//! the script, else from the engine's version), the same call the unit generator makes, so the
//! driver checked here is the one install writes.

use crate::context::Context;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::distro::Package;
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::model::{Binary, Facts, NetworkPlan};
use rootless_setup_core::remedy::Remedy;

use rootless_setup_core::network::{
    self as plan, AutoChoice, Installed, NetDriver, PASTA_MIN_DATE, PASTA_RECOMMENDED_DATE,
    PassedOver, PastaAge, PlanError, PortDriver, auto_choice, passed_over, show_date,
};
use rootless_setup_core::version::version_at_least;

const ID: CheckId = CheckId::NetworkDriver;

/// Observations collected along the way and attached to whatever finding comes out.
#[derive(Default)]
struct Seen(Vec<(&'static str, String)>);

impl Seen {
    fn add(&mut self, key: &'static str, value: impl ToString) {
        self.0.push((key, value.to_string()));
    }

    /// Records a program's path and version under the two keys.
    fn binary(&mut self, [path_key, version_key]: [&'static str; 2], binary: Option<&Binary>) {
        match binary {
            Some(b) => {
                self.add(path_key, b.path.display());
                self.add(version_key, b.version.as_deref().unwrap_or("unknown"));
            }
            None => self.add(path_key, "not found"),
        }
    }

    fn onto(self, mut finding: Finding) -> Finding {
        for (key, value) in self.0 {
            finding = finding.observe(key, value);
        }
        finding
    }
}

/// How the driver came to be chosen.
enum Choice {
    /// Configured with `network_driver`.
    Option(NetDriver),
    /// Picked automatically: the driver, and how ([`AutoChoice::driver`] is the same).
    Auto(NetDriver, AutoChoice),
}

/// A warning to report: summary, why it matters, and its fix.
type Warning = (String, String, Fix);

/// Checks the configured (or best available) network and port driver; an engine that runs
/// without rootlesskit picks its own ([`super::podman`]).
pub(crate) fn driver(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    if cx.engine.spec().script().is_none() {
        return super::podman::driver(cx, facts);
    }
    let mut seen = Seen::default();
    let rootlesskit = facts.binary("rootlesskit").cloned();
    seen.binary(
        ["rootlesskit_path", "rootlesskit_version"],
        rootlesskit.as_ref(),
    );
    let rootlesskit_version = rootlesskit.as_ref().and_then(|b| b.version.clone());
    let driver = match choose(cx, facts, &mut seen) {
        Ok(driver) => driver,
        Err(finding) => return seen.onto(*finding),
    };

    // The driver's own program.
    let program = driver.program().and_then(|p| facts.binary(p).cloned());
    if let Some(name) = driver.program() {
        seen.binary(["driver_path", "driver_version"], program.as_ref());
        if program.is_none() {
            return seen.onto(missing_program(cx, facts, driver, name));
        }
    }
    let program_version = program.as_ref().and_then(|b| b.version.clone());
    let mut warnings: Vec<Warning> = Vec::new();
    if let Err(finding) = judge_program(cx, driver, program_version.as_deref(), &mut warnings) {
        return seen.onto(*finding);
    }

    // The combination, as rootlesskit would judge it.
    let port_option = cx.options.port_driver.as_deref();
    let combination =
        match plan::validate(driver.as_str(), port_option, rootlesskit_version.as_deref()) {
            Ok(c) => c,
            Err(err) => {
                if let Some(p) = port_option {
                    seen.add("port_driver", p);
                }
                return seen.onto(invalid(cx, driver, &err));
            }
        };
    seen.add("port_driver", combination.port_driver);
    seen.add("mtu", combination.mtu);
    if let Err(finding) = judge_rootlesskit(
        cx,
        driver,
        rootlesskit.is_some(),
        rootlesskit_version.as_deref(),
        &mut warnings,
    ) {
        return seen.onto(*finding);
    }
    if combination.port_driver == PortDriver::None {
        warnings.push((
            format!("port driver none: `docker run -p` publishes nothing (network driver {driver})"),
            "with port driver none rootlesskit forwards no ports, so published container ports are unreachable from the host".to_owned(),
            Fix::user(ID, format!(
                "use port driver {} with {driver}",
                driver.default_port_driver()
            )),
        ));
    }

    facts.network = Some(NetworkPlan {
        driver: driver.as_str().to_owned(),
        port_driver: combination.port_driver.as_str().to_owned(),
        binary: program.map(|b| b.path),
        mtu: combination.mtu,
    });
    seen.onto(verdict(driver, &combination, warnings))
}

/// The driver: the configured one, else core's automatic choice; how it was chosen is observed.
fn choose(cx: &Context<'_>, facts: &Facts, seen: &mut Seen) -> Result<NetDriver, Box<Finding>> {
    let choice = match cx.options.network_driver.as_deref() {
        Some(name) => match NetDriver::parse(name) {
            Some(driver) => Choice::Option(driver),
            None => {
                seen.add("driver", name);
                let err = PlanError::UnknownDriver(name.to_owned());
                return Err(Box::new(
                    Finding::fail(ID, err.to_string())
                        .why("rootlesskit refuses to start with a network driver it does not know, so the engine would not start")
                        .fix(Fix::user(ID, "choose slirp4netns, vpnkit, lxc-user-nic, pasta or gvisor-tap-vsock as the network driver, or leave it unset to pick the best installed one")),
                ));
            }
        },
        None => auto_pick(cx, facts)?,
    };
    let (driver, chosen_by, auto) = match choice {
        Choice::Option(d) => (d, "option", None),
        Choice::Auto(d, auto) => (d, "automatic", Some(auto)),
    };
    seen.add("driver", driver);
    seen.add("chosen_by", chosen_by);
    if let Some(auto) = &auto {
        if let Some(version) = auto.skipped_slirp() {
            seen.add(
                "slirp4netns_skipped",
                format!("{version} is older than {}", slirp_min()),
            );
        }
        seen.add("order", order_seen(cx, auto));
    }
    Ok(driver)
}

/// The driver program's version: too old a slirp4netns or pasta fails, a pasta below the
/// recommended date warns.
fn judge_program(
    cx: &Context<'_>,
    driver: NetDriver,
    version: Option<&str>,
    warnings: &mut Vec<Warning>,
) -> Result<(), Box<Finding>> {
    if let (NetDriver::Slirp4netns, Some(version)) = (driver, version)
        && plan::slirp4netns_supported(version) == Some(false)
    {
        return Err(Box::new(
                Finding::fail(ID, format!("slirp4netns {version} is older than {}", slirp_min()))
                    .why(format!("rootlesskit needs slirp4netns {} or later (network namespace by path, sandboxing); with an older one the engine cannot start its network", slirp_min()))
                    .fix(Fix::root(ID, format!("upgrade slirp4netns to {} or later", slirp_min()))
                        .remedy(Remedy::install(cx.distro.family, &[Package::Slirp4netns]))),
            ));
    }
    if let (NetDriver::Pasta, Some(version)) = (driver, version) {
        let (min, recommended) = (show_date(PASTA_MIN_DATE), show_date(PASTA_RECOMMENDED_DATE));
        match plan::pasta_age(version) {
            Some(PastaAge::TooOld) => {
                return Err(Box::new(
                    Finding::fail(ID, format!("pasta {version} is older than {min}"))
                        .why(format!("rootlesskit's pasta driver needs pasta {min} or later; an older pasta makes the engine's network fail at start-up"))
                        .fix(Fix::root(ID, "upgrade passt (pasta) or use slirp4netns as the network driver")
                            .remedy(Remedy::install(cx.distro.family, &[Package::Passt]))),
                ));
            }
            Some(PastaAge::BelowRecommended) => warnings.push((
                format!("pasta {version} is older than the recommended {recommended}"),
                format!("rootlesskit recommends pasta {recommended} or later; older builds are known to drop connections of published ports"),
                Fix::root(ID, "upgrade passt (pasta)")
                    .remedy(Remedy::install(cx.distro.family, &[Package::Passt])),
            )),
            Some(PastaAge::Recommended) | None => {}
        }
    }
    Ok(())
}

/// The rootlesskit a driver built into it needs: none at all fails, an unknown version warns
/// (a known too old one was refused by `validate`).
fn judge_rootlesskit(
    cx: &Context<'_>,
    driver: NetDriver,
    found: bool,
    version: Option<&str>,
    warnings: &mut Vec<Warning>,
) -> Result<(), Box<Finding>> {
    let Some(need) = driver.min_rootlesskit() else {
        return Ok(());
    };
    let need_text = plan::show_version(need);
    match version.and_then(|v| version_at_least(v, &need)) {
        Some(_) => {} // validate() already refused a too old one.
        None if !found => {
            return Err(Box::new(
                Finding::fail(ID, format!("network driver {driver} needs rootlesskit {need_text} or later, and rootlesskit was not found"))
                    .why(format!("the {driver} driver is part of rootlesskit {need_text} and later; without rootlesskit the engine cannot start"))
                    .fix(Fix::root(ID, format!("install rootlesskit {need_text} or later"))
                        .remedy(Remedy::install(cx.distro.family, &[Package::Rootlesskit]))),
            ));
        }
        None => warnings.push((
            format!("could not tell rootlesskit's version; network driver {driver} needs rootlesskit {need_text} or later"),
            format!("rootlesskit older than {need_text} has no {driver} driver and the engine would fail at start-up"),
            Fix::user(ID, format!("make sure `rootlesskit --version` reports {need_text} or later, or use slirp4netns as the network driver")),
        )),
    }
    Ok(())
}

/// The first warning with the others as `also`, or a pass naming the plan.
fn verdict(driver: NetDriver, combination: &plan::Combination, warnings: Vec<Warning>) -> Finding {
    let mut warnings = warnings.into_iter();
    match warnings.next() {
        Some((summary, why, fix)) => {
            let mut f = Finding::warn(ID, summary).why(why).fix(fix);
            for (summary, _, _) in warnings {
                f = f.observe("also", summary);
            }
            f
        }
        None => Finding::pass(
            ID,
            format!(
                "network driver {driver} with port driver {}, mtu {}",
                combination.port_driver, combination.mtu
            ),
        ),
    }
}

/// [`plan::SLIRP4NETNS_MIN`] for messages: `0.4`.
fn slirp_min() -> String {
    plan::show_version(plan::SLIRP4NETNS_MIN)
}

/// The engine script's order and where it comes from, as observed.
fn order_seen(cx: &Context<'_>, auto: &AutoChoice) -> String {
    format!("{} ({})", auto.order.list(), auto.order.origin(cx.engine))
}

/// The automatic choice, on what `engine.binaries` found and the engine's rootless script
/// (read when it can be); a failing finding when no driver of the script's order is usable.
fn auto_pick(cx: &Context<'_>, facts: &Facts) -> Result<Choice, Box<Finding>> {
    let script = facts
        .binary(cx.engine.rootless_script().unwrap_or_default())
        .and_then(|b| cx.host.read(&b.path).ok().flatten());
    let installed = Installed::from_binaries(cx.engine, &facts.binaries, script);
    let auto = auto_choice(&installed);
    if let Some(driver) = auto.driver {
        return Ok(Choice::Auto(driver, auto));
    }
    let pasta_hint = if !auto.order.drivers.contains(&NetDriver::Pasta)
        && installed.rootlesskit.version().is_some()
        && passed_over(NetDriver::Pasta, &installed).is_none()
    {
        " (pasta is installed and works with this rootlesskit: choose network driver pasta to use it)"
    } else {
        ""
    };
    Err(Box::new(
        Finding::fail(ID, nothing_usable(&auto))
            .observe("looked_for", order_seen(cx, &auto))
            .why("rootless containers reach the network through a user-mode driver; without one the engine cannot start")
            .fix(
                Fix::root(ID, format!("install slirp4netns{pasta_hint}"))
                    .remedy(Remedy::install(cx.distro.family, &[Package::Slirp4netns])),
            ),
    ))
}

/// Why no driver of the order can be used: none is installed, or the reasons each found one
/// was passed over and the ones not installed.
fn nothing_usable(auto: &AutoChoice) -> String {
    if auto.nothing_installed() {
        return format!(
            "no network driver installed: none of {} found",
            auto.order.list()
        );
    }
    let (missing, unusable): (Vec<_>, Vec<_>) = auto
        .passed_over
        .iter()
        .partition(|(_, why)| *why == PassedOver::Missing);
    let reasons: Vec<String> = unusable.iter().map(|(d, why)| why.describe(*d)).collect();
    let mut summary = format!("no usable network driver: {}", reasons.join("; "));
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|(d, _)| d.as_str()).collect();
        summary.push_str(&format!("; not installed: {}", names.join(", ")));
    }
    summary
}

/// The configured driver's program is not installed.
fn missing_program(cx: &Context<'_>, facts: &Facts, driver: NetDriver, program: &str) -> Finding {
    let finding = Finding::fail(
        ID,
        format!("network driver {driver} is configured but {program} was not found"),
    )
    .why(format!(
        "rootlesskit runs {program} for the {driver} driver; without it the engine cannot start"
    ));
    let fix = match driver {
        NetDriver::Slirp4netns => Fix::root(ID, "install slirp4netns")
            .remedy(Remedy::install(cx.distro.family, &[Package::Slirp4netns])),
        NetDriver::Pasta => Fix::root(ID, "install passt, which provides pasta")
            .remedy(Remedy::install(cx.distro.family, &[Package::Passt])),
        NetDriver::LxcUserNic => {
            let user = facts
                .account
                .as_ref()
                .map(|a| a.name.clone())
                .or_else(|| cx.caller.var("USER").map(str::to_owned))
                .unwrap_or_else(|| "$(id -un)".to_owned());
            Fix::root(
                ID,
                "install lxc (which ships lxc-user-nic) and allow the user one veth on lxcbr0",
            )
            .remedy(Remedy::install(cx.distro.family, &[Package::Lxc]))
            .cmd(format!(
                "echo \"{user} veth lxcbr0 1\" | sudo tee -a /etc/lxc/lxc-usernet"
            ))
        }
        NetDriver::Vpnkit | NetDriver::GvisorTapVsock => Fix::user(
            ID,
            "install vpnkit from https://github.com/moby/vpnkit/releases into a directory on PATH, or use slirp4netns as the network driver",
        ),
    };
    finding.fix(fix)
}

/// rootlesskit would reject the configured combination.
fn invalid(cx: &Context<'_>, driver: NetDriver, err: &PlanError) -> Finding {
    let finding = Finding::fail(ID, err.to_string());
    match err {
        PlanError::RootlesskitTooOld { need, .. } => finding
            .why(format!("rootlesskit before {}.{} has no {driver} driver, so the engine would fail at start-up", need[0], need[1]))
            .fix(Fix::root(ID, format!("upgrade rootlesskit to {}.{} or later, or use slirp4netns as the network driver", need[0], need[1]))
                .remedy(Remedy::install(cx.distro.family, &[Package::Rootlesskit]))),
        _ => {
            let fitting: Vec<&str> = PortDriver::fitting(driver)
                .into_iter()
                .map(PortDriver::as_str)
                .collect();
            finding
                .why("rootlesskit refuses to start with this combination, so the engine would not start")
                .fix(Fix::user(ID, format!(
                    "use a port driver that fits {driver}: {} (or leave it unset for {})",
                    fitting.join(", "),
                    driver.default_port_driver()
                )))
        }
    }
}

#[cfg(test)]
#[path = "driver_tests.rs"]
mod tests;
