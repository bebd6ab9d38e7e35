//! The `network` family: which network and port driver rootlesskit would use and whether they
//! fit together (`network.driver`), the sysctls that limit published ports and ping inside
//! containers (`network.ports`, `network.ping`), and whether iptables really works as mapped
//! root in a user namespace (`network.iptables`).
//!
//! The pure driver/port-driver rules and the automatic choice live in
//! [`rootless_setup_core::network`], so the unit generator uses the same ones.

mod driver;
mod iptables;
mod podman;

pub(crate) use driver::driver;
mod sysctl;

pub(crate) use iptables::iptables;
pub(crate) use sysctl::{ping, ports};

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
