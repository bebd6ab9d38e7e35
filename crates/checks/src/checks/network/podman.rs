//! `network.driver` for an engine that chooses its own network program: Podman runs each
//! rootless container's network through `pasta` (Podman 5 and later, containers.conf's
//! `default_rootless_network_cmd`) or `slirp4netns` (before 5), and publishes ports itself. No
//! driver is configured and no rootlesskit is involved; what matters is that the program
//! Podman will use is installed. Containers on a bridge network (the Docker API's default
//! `bridge`, every Compose project's network) go through netavark, whose firewall program must
//! be there too: `nft` when `netavark version` says its `default_fw_driver` is nftables (1.12
//! and later, as Debian 13 builds it), else `iptables`.

use crate::context::Context;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::distro::Package;
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::model::{Facts, NetworkPlan};
use rootless_setup_core::network::NetDriver;
use rootless_setup_core::remedy::Remedy;
use rootless_setup_core::version::version_at_least;

const ID: CheckId = CheckId::NetworkDriver;

/// The first Podman release whose rootless default is pasta.
const PASTA_DEFAULT_FROM: [u64; 1] = [5];

/// The program Podman `version` uses by default (`None`: unknown version, assume the newer).
pub(crate) fn default_driver(version: Option<&str>) -> NetDriver {
    match version.and_then(|v| version_at_least(v, &PASTA_DEFAULT_FROM)) {
        Some(false) => NetDriver::Slirp4netns,
        _ => NetDriver::Pasta,
    }
}

/// Checks that the network program Podman uses by default is installed, and records it.
pub(crate) fn driver(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    let version = facts.binary("podman").and_then(|b| b.version.clone());
    let driver = default_driver(version.as_deref());
    let program = driver.program().unwrap_or(driver.as_str());
    let shown_version = version.as_deref().unwrap_or("unknown");
    let configured = cx
        .options
        .network_driver
        .as_deref()
        .filter(|d| *d != driver.as_str());
    let Some(binary) = facts.binary(program).cloned() else {
        let package = match driver {
            NetDriver::Pasta => Package::Passt,
            _ => Package::Slirp4netns,
        };
        return Finding::fail(
            ID,
            format!("podman {shown_version} uses {driver} for rootless networking, but {program} was not found"),
        )
        .observe("podman_version", shown_version)
        .observe("driver", driver)
        .why("without it no rootless container gets a network, and `podman run` fails")
        .fix(
            Fix::root(ID, format!("install {}", cx.distro.family.package(package)))
                .remedy(Remedy::install(cx.distro.family, &[package])),
        );
    };
    if let Some(missing) = missing_firewall(cx, facts) {
        return missing;
    }
    facts.network = Some(NetworkPlan {
        driver: driver.as_str().to_owned(),
        port_driver: "implicit".to_owned(),
        binary: Some(binary.path.clone()),
        mtu: driver.mtu(),
    });
    let finding = Finding::pass(
        ID,
        format!(
            "podman {shown_version} uses {driver} ({}) for rootless networking",
            binary.path.display()
        ),
    )
    .observe("podman_version", shown_version)
    .observe("driver", driver)
    .observe("driver_path", binary.path.display());
    match configured {
        Some(other) => Finding::warn(
            ID,
            format!("the configured network driver {other} does not apply to podman, which uses {driver}"),
        )
        .observe("driver", driver)
        .why("Podman picks its network program itself (containers.conf's default_rootless_network_cmd); rootless-setup does not change it")
        .fix(Fix::user(ID, "remove `network.driver` from the configuration, or set default_rootless_network_cmd in ~/.config/containers/containers.conf")),
        None => finding,
    }
}

/// How long `netavark version` may take.
const VERSION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// netavark's default firewall program, from `netavark version`'s JSON (`default_fw_driver`,
/// printed from 1.12 on; earlier releases only have iptables).
pub(crate) fn firewall_program(version_json: &str) -> &'static str {
    let driver = || -> Option<&str> {
        let after = version_json.split_once("\"default_fw_driver\"")?.1;
        let value = after.trim_start().strip_prefix(':')?.trim_start();
        value.strip_prefix('"')?.split('"').next()
    };
    match driver() {
        Some("nftables") => "nft",
        _ => "iptables",
    }
}

/// A failing finding when netavark is there but its firewall program is not.
fn missing_firewall(cx: &Context<'_>, facts: &Facts) -> Option<Finding> {
    let netavark = facts.binary("netavark")?;
    let invocation = rootless_setup_core::process::Invocation::new(&netavark.path)
        .args(["version"])
        .timeout(VERSION_TIMEOUT);
    let answer = cx.system.run(&invocation).ok().filter(|o| o.success())?;
    let program = firewall_program(&answer.stdout);
    if facts.binary(program).is_some() {
        return None;
    }
    let package = if program == "nft" {
        Package::Nftables
    } else {
        Package::Iptables
    };
    Some(
        Finding::fail(
            ID,
            format!(
                "netavark {} sets up bridge networks with {program}, which was not found",
                netavark.version.as_deref().unwrap_or("(version unknown)")
            ),
        )
        .observe("netavark_path", netavark.path.display())
        .observe("firewall", program)
        .why("containers on a bridge network (docker run's default, every docker compose project) do not start: netavark fails with `unable to execute nft`")
        .fix(
            Fix::root(ID, format!("install {}", cx.distro.family.package(package)))
                .remedy(Remedy::install(cx.distro.family, &[package])),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{binary, debian, harness};
    use super::*;
    use crate::testing::ScriptedSystem;
    use rootless_setup_core::finding::Status;

    #[test]
    fn podman_5_uses_pasta_and_4_slirp4netns() {
        assert_eq!(default_driver(Some("5.4.2")), NetDriver::Pasta);
        assert_eq!(default_driver(Some("5.0.0")), NetDriver::Pasta);
        assert_eq!(default_driver(Some("4.3.1")), NetDriver::Slirp4netns);
        assert_eq!(default_driver(None), NetDriver::Pasta);
    }

    fn run(podman: &str, programs: &[(&str, &str)]) -> (Finding, Facts) {
        run_configured(podman, programs, None)
    }

    fn run_configured(
        podman: &str,
        programs: &[(&str, &str)],
        configured: Option<&str>,
    ) -> (Finding, Facts) {
        let fx = debian();
        let mut h = harness(&fx, ScriptedSystem::new());
        h.engine = rootless_setup_core::model::Engine::Podman;
        h.options.network_driver = configured.map(str::to_owned);
        let mut facts = Facts::default();
        binary(&mut facts, "podman", "/usr/bin/podman", Some(podman));
        for (name, path) in programs {
            binary(&mut facts, name, path, Some("1"));
        }
        let f = driver(&h.context(), &mut facts);
        (f, facts)
    }

    #[test]
    fn netavark_says_which_firewall_program_it_runs() {
        let debian13 = r#"{"version": "1.14.0", "commit": "", "default_fw_driver": "nftables"}"#;
        assert_eq!(firewall_program(debian13), "nft");
        let iptables = r#"{"version": "1.12.0", "default_fw_driver": "iptables"}"#;
        assert_eq!(firewall_program(iptables), "iptables");
        assert_eq!(
            firewall_program(r#"{"version": "1.4.0", "commit": "x"}"#),
            "iptables"
        );
        assert_eq!(firewall_program("netavark 1.4.0"), "iptables");
        assert_eq!(firewall_program(""), "iptables");
    }

    #[test]
    fn a_missing_firewall_program_fails_with_its_package() {
        let fx = debian();
        let system = ScriptedSystem::new().on(
            "netavark",
            "version",
            ScriptedSystem::ok(r#"{"version": "1.14.0", "default_fw_driver": "nftables"}"#),
        );
        let mut h = harness(&fx, system);
        h.engine = rootless_setup_core::model::Engine::Podman;
        let mut facts = Facts::default();
        binary(&mut facts, "podman", "/usr/bin/podman", Some("5.4.2"));
        binary(&mut facts, "pasta", "/usr/bin/pasta", Some("1"));
        binary(
            &mut facts,
            "netavark",
            "/usr/lib/podman/netavark",
            Some("1.14.0"),
        );
        binary(&mut facts, "iptables", "/usr/sbin/iptables", None);
        let f = driver(&h.context(), &mut facts);
        assert_eq!(f.status, Status::Fail, "{f:?}");
        assert_eq!(
            f.summary,
            "netavark 1.14.0 sets up bridge networks with nft, which was not found"
        );
        assert_eq!(
            f.fix.unwrap().commands,
            ["sudo apt-get install -y nftables"]
        );
        binary(&mut facts, "nft", "/usr/sbin/nft", None);
        assert_eq!(driver(&h.context(), &mut facts).status, Status::Pass);
    }

    #[test]
    fn the_default_program_must_be_installed() {
        let (f, facts) = run("5.4.2", &[("slirp4netns", "/usr/bin/slirp4netns")]);
        assert_eq!(f.status, Status::Fail, "{f:?}");
        assert_eq!(
            f.summary,
            "podman 5.4.2 uses pasta for rootless networking, but pasta was not found"
        );
        assert_eq!(f.fix.unwrap().commands, ["sudo apt-get install -y passt"]);
        assert_eq!(facts.network, None);

        let (f, _) = run("4.3.1", &[("pasta", "/usr/bin/pasta")]);
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("uses slirp4netns"), "{}", f.summary);
    }

    #[test]
    fn a_configured_driver_other_than_podmans_warns_that_it_does_not_apply() {
        let pasta = [("pasta", "/usr/bin/pasta")];
        let (f, facts) = run_configured("5.4.2", &pasta, Some("slirp4netns"));
        assert_eq!(f.status, Status::Warn, "{f:?}");
        assert_eq!(
            f.summary,
            "the configured network driver slirp4netns does not apply to podman, which uses pasta"
        );
        assert_eq!(facts.network.map(|n| n.driver), Some("pasta".to_owned()));
        let (f, _) = run_configured("5.4.2", &pasta, Some("pasta"));
        assert_eq!(
            f.status,
            Status::Pass,
            "the driver Podman uses anyway: {f:?}"
        );
    }

    #[test]
    fn a_found_program_passes_and_is_the_plan() {
        let (f, facts) = run("4.3.1", &[("slirp4netns", "/usr/bin/slirp4netns")]);
        assert_eq!(f.status, Status::Pass, "{f:?}");
        assert_eq!(
            f.summary,
            "podman 4.3.1 uses slirp4netns (/usr/bin/slirp4netns) for rootless networking"
        );
        let plan = facts.network.unwrap();
        assert_eq!(plan.driver, "slirp4netns");
        assert_eq!(
            plan.binary.unwrap().display().to_string(),
            "/usr/bin/slirp4netns"
        );
    }
}
