//! The `network` family: which network and port driver rootlesskit would use and whether they
//! fit together (`network.driver`), the sysctls that limit published ports and ping inside
//! containers (`network.ports`, `network.ping`), and whether iptables really works as mapped
//! root in a user namespace (`network.iptables`).
//!
//! The pure driver/port-driver validation lives in [`plan`], so the unit generator can reuse it.

mod driver;
mod iptables;
mod sysctl;

pub(crate) use driver::driver;
pub(crate) use iptables::iptables;
pub(crate) use sysctl::{ping, ports};

// For `driver` and `plan`.

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
    use crate::testing::{Harness, ScriptedSystem};
    use rootless_setup_core::model::{Binary, Facts};
    use rootless_setup_core::testing::Fixture;

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
    fn sysctl_fixes_append_and_reload() {
        let [persist, apply] = sysctl_commands("net.ipv4.ip_unprivileged_port_start=0");
        assert_eq!(
            persist,
            "echo 'net.ipv4.ip_unprivileged_port_start=0' | sudo tee -a /etc/sysctl.d/99-rootless.conf"
        );
        assert_eq!(apply, "sudo sysctl --system");
    }
}
