//! `network.driver` for an engine that chooses its own network program: Podman runs each
//! rootless container's network through `pasta` (Podman 5 and later, containers.conf's
//! `default_rootless_network_cmd`) or `slirp4netns` (before 5), and publishes ports itself. No
//! driver is configured and no rootlesskit is involved; what matters is that the program
//! Podman will use is installed.

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
        let fx = debian();
        let mut h = harness(&fx, ScriptedSystem::new());
        h.engine = rootless_setup_core::model::Engine::Podman;
        let mut facts = Facts::default();
        binary(&mut facts, "podman", "/usr/bin/podman", Some(podman));
        for (name, path) in programs {
            binary(&mut facts, name, path, Some("1"));
        }
        let f = driver(&h.context(), &mut facts);
        (f, facts)
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
    fn a_found_program_passes_and_is_the_plan() {
        let (f, facts) = run("4.3.1", &[("slirp4netns", "/usr/bin/slirp4netns")]);
        assert_eq!(f.status, Status::Pass, "{f:?}");
        assert_eq!(
            f.summary,
            "podman 4.3.1 uses slirp4netns (/usr/bin/slirp4netns) for rootless networking"
        );
        let plan = facts.network.unwrap();
        assert_eq!(plan.driver, "slirp4netns");
        assert_eq!(plan.binary.unwrap().display().to_string(), "/usr/bin/slirp4netns");
    }
}
