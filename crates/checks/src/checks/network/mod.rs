//! The `network` family: which network and port driver rootlesskit would use and whether they
//! fit together (`network.driver`), the sysctls that limit published ports and ping inside
//! containers (`network.ports`, `network.ping`), and whether iptables really works as mapped
//! root in a user namespace (`network.iptables`).
//!
//! The pure driver/port-driver validation lives in [`plan`], so the unit generator can reuse it.

mod driver;
mod iptables;
pub mod plan;
mod sysctl;

pub(crate) use driver::driver;
pub(crate) use iptables::iptables;
pub(crate) use sysctl::{ping, ports};

use crate::distro::{Distro, Family};

/// The leading dotted numbers of a version string: `v1.2.3-rc1` → `[1, 2, 3]`,
/// `20.10.24+dfsg1` → `[20, 10, 24]`, `2023_03_29.b10b983` → `[2023]`. Empty when the string does
/// not start with a number.
pub(super) fn version_numbers(version: &str) -> Vec<u64> {
    let v = version.trim().trim_start_matches(['v', 'V']);
    let mut out = Vec::new();
    for part in v.split('.') {
        let digits: &str = part
            .find(|c: char| !c.is_ascii_digit())
            .map_or(part, |end| part.get(..end).unwrap_or(""));
        let Ok(n) = digits.parse::<u64>() else { break };
        out.push(n);
        if digits.len() != part.len() {
            break;
        }
    }
    out
}

/// Whether `version` is at least `min` (missing components count as 0); `None` when `version`
/// has no leading number to compare.
pub(super) fn version_at_least(version: &str, min: &[u64]) -> Option<bool> {
    let have = version_numbers(version);
    if have.is_empty() {
        return None;
    }
    let len = have.len().max(min.len());
    let pad =
        |v: &[u64]| -> Vec<u64> { (0..len).map(|i| v.get(i).copied().unwrap_or(0)).collect() };
    Some(pad(&have) >= pad(min))
}

/// The install command for a package that [`crate::distro::Package`] does not name (its name is
/// the same on every family).
pub(super) fn install_named(distro: &Distro, name: &str) -> String {
    match distro.family {
        Family::Debian => format!("sudo apt-get install -y {name}"),
        Family::Fedora => format!("sudo dnf install -y {name}"),
        Family::Suse => format!("sudo zypper install -y {name}"),
        Family::Arch => format!("sudo pacman -S --needed {name}"),
        Family::Unknown => format!("install with your package manager: {name}"),
    }
}

/// The sysctl drop-in every network fix appends to (appends, so fixes of several checks combine).
pub(super) const SYSCTL_DROPIN: &str = "/etc/sysctl.d/99-rootless.conf";

/// The commands that set `line` (`key=value`) persistently and apply it now.
pub(super) fn sysctl_commands(line: &str) -> [String; 2] {
    [
        format!("echo '{line}' | sudo tee -a {SYSCTL_DROPIN}"),
        "sudo sysctl --system".to_owned(),
    ]
}

#[cfg(test)]
pub(super) mod testutil {
    //! Shared fixture helpers for the network tests.

    use std::path::PathBuf;

    use crate::caller::Caller;
    use crate::context::{Binary, Facts};
    use crate::testing::{Fixture, Harness, ScriptedSystem};

    /// A Debian 12 fixture tree.
    pub(crate) fn debian() -> Fixture {
        let fx = Fixture::new();
        fx.file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
        fx
    }

    /// A harness for uid/gid 1000 with a plain `PATH`.
    pub(crate) fn harness(fx: &Fixture, system: ScriptedSystem) -> Harness {
        let caller = Caller::new(1000, 1000).with_var("PATH", "/usr/local/bin:/usr/bin:/bin");
        Harness::new(fx, caller, system)
    }

    /// Records a discovered binary in `facts`.
    pub(crate) fn binary(facts: &mut Facts, name: &str, path: &str, version: Option<&str>) {
        facts.binaries.insert(
            name.to_owned(),
            Binary {
                name: name.to_owned(),
                path: PathBuf::from(path),
                version: version.map(str::to_owned),
            },
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_leading_dotted_numbers() {
        assert_eq!(version_numbers("1.1.0"), vec![1, 1, 0]);
        assert_eq!(version_numbers("v2.3.4-rc.1"), vec![2, 3, 4]);
        assert_eq!(version_numbers("20.10.24+dfsg1"), vec![20, 10, 24]);
        assert_eq!(version_numbers("2023_03_29.b10b983"), vec![2023]);
        assert_eq!(version_numbers("garbage"), Vec::<u64>::new());
        assert_eq!(version_numbers(""), Vec::<u64>::new());
        assert_eq!(
            version_numbers("99999999999999999999999.1"),
            Vec::<u64>::new()
        );
    }

    #[test]
    fn versions_compare_with_padding() {
        assert_eq!(version_at_least("2.0", &[2, 0]), Some(true));
        assert_eq!(version_at_least("2", &[2, 0, 0]), Some(true));
        assert_eq!(version_at_least("1.1.1", &[2, 0]), Some(false));
        assert_eq!(version_at_least("2.3.0", &[2, 3]), Some(true));
        assert_eq!(version_at_least("2.2.9", &[2, 3]), Some(false));
        assert_eq!(version_at_least("0.4.0", &[0, 4]), Some(true));
        assert_eq!(version_at_least("0.3.9", &[0, 4]), Some(false));
        assert_eq!(version_at_least("unknown", &[0, 4]), None);
    }

    #[test]
    fn sysctl_fixes_append_and_reload() {
        let [persist, apply] = sysctl_commands("net.ipv4.ip_unprivileged_port_start=0");
        assert_eq!(
            persist,
            "echo 'net.ipv4.ip_unprivileged_port_start=0' | sudo tee -a /etc/sysctl.d/99-rootless.conf"
        );
        assert_eq!(apply, "sudo sysctl --system");
    }
}
