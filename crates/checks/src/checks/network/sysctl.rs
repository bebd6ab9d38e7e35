//! `network.ports` and `network.ping`: the two sysctls that decide whether published ports below
//! 1024 and `ping` inside containers work. Both are warnings: the engine runs without them.

use std::path::Path;

use crate::caps::{self, CAP_NET_BIND_SERVICE, FileCaps};
use crate::context::Context;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::model::Facts;
use rootless_setup_core::network::{NetDriver, PortDriver};
use rootless_setup_core::remedy::{Remedy, Sysctl};

const PORT_START: &str = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
const PING_RANGE: &str = "/proc/sys/net/ipv4/ping_group_range";

/// Checks `net.ipv4.ip_unprivileged_port_start` and, when ports below it are privileged,
/// `cap_net_bind_service` on the program that listens for published ports.
pub(crate) fn ports(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    const ID: CheckId = CheckId::NetworkPorts;
    let start = match port_start(cx) {
        Ok(start) => start,
        Err(f) => return *f,
    };
    let value = start.map_or_else(
        || "absent (kernel before 4.11)".to_owned(),
        |n| n.to_string(),
    );
    let start = start.unwrap_or(1024);
    if start == 0 {
        return Finding::pass(
            ID,
            "every port can be published (ip_unprivileged_port_start = 0)",
        )
        .observe("path", PORT_START)
        .observe("ip_unprivileged_port_start", value);
    }

    let (listener, driver_known) = listener(facts);
    let binary = facts.binary(listener).map(|b| {
        cx.host
            .canonicalize(&b.path)
            .unwrap_or_else(|| b.path.clone())
    });
    let caps = binary
        .as_ref()
        .and_then(|p| cx.host.xattr(p, caps::XATTR))
        .map(|bytes| (caps::decode(&bytes), bytes));
    let caps_text = caps
        .as_ref()
        .map_or_else(|| "none".to_owned(), describe_caps);
    let observe = |f: Finding| {
        let f = f
            .observe("path", PORT_START)
            .observe("ip_unprivileged_port_start", &value)
            .observe("listener", listener)
            .observe(
                "listener_known_from",
                if driver_known {
                    "network.driver"
                } else {
                    "default (builtin port driver)"
                },
            );
        match &binary {
            Some(p) => f
                .observe("listener_path", p.display())
                .observe("security_capability", &caps_text),
            None => f.observe("listener_path", "not found"),
        }
    };
    if caps
        .as_ref()
        .is_some_and(|(c, _)| c.is_some_and(|c| c.raises(CAP_NET_BIND_SERVICE)))
    {
        return observe(Finding::pass(
            ID,
            format!("ports below {start} are privileged, but {listener} has cap_net_bind_service"),
        ));
    }

    observe(low_ports_privileged(start, listener, binary.as_deref()))
}

/// `net.ipv4.ip_unprivileged_port_start`, `None` on kernels before 4.11; the warning when it
/// cannot be read.
fn port_start(cx: &Context<'_>) -> Result<Option<u32>, Box<Finding>> {
    const ID: CheckId = CheckId::NetworkPorts;
    match cx.host.read_value(PORT_START) {
        Err(e) => Err(Box::new(
            Finding::warn(ID, format!("could not read {PORT_START}: {}", e.source))
                .observe("path", PORT_START)
                .why("without the value it is unknown whether ports below 1024 can be published"),
        )),
        // The sysctl exists since Linux 4.11; before, ports below 1024 were always privileged.
        Ok(None) => Ok(None),
        Ok(Some(text)) => match text.parse::<u32>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => Err(Box::new(
                Finding::warn(ID, format!("unexpected value in {PORT_START}: {text:?}"))
                    .observe("path", PORT_START)
                    .observe("value", text)
                    .why(
                        "without the value it is unknown whether ports below 1024 can be published",
                    ),
            )),
        },
    }
}

/// The program that listens on the host for published ports, and whether the network plan
/// named it (else the builtin port driver's `rootlesskit`).
fn listener(facts: &Facts) -> (&'static str, bool) {
    match facts.network.as_ref().and_then(|n| {
        let driver = NetDriver::parse(&n.driver)?;
        PortDriver::parse(&n.port_driver)?.listener(driver)
    }) {
        Some(name) => (name, true),
        None => ("rootlesskit", false),
    }
}

/// A `security.capability` attribute as decoded, for the observation.
fn describe_caps(caps: &(Option<FileCaps>, Vec<u8>)) -> String {
    match caps {
        (Some(c), _) => format!(
            "revision {} permitted {:#x}{}",
            c.revision,
            c.permitted,
            if c.effective { " effective" } else { "" }
        ),
        (None, bytes) => format!("unparsable ({} bytes)", bytes.len()),
    }
}

/// The warning when ports below `start` are privileged and `listener` (at `binary`, when found)
/// lacks `cap_net_bind_service`.
fn low_ports_privileged(start: u32, listener: &str, binary: Option<&Path>) -> Finding {
    const ID: CheckId = CheckId::NetworkPorts;
    let setcap = binary.map(|p| {
        format!(
            "; or, for {listener} alone: sudo setcap cap_net_bind_service=ep {} (lost when a package upgrade replaces it)",
            p.display()
        )
    });
    let summary = match binary {
        Some(_) => format!(
            "ports below {start} cannot be published: ip_unprivileged_port_start = {start} and {listener} lacks cap_net_bind_service"
        ),
        None => format!(
            "ports below {start} cannot be published: ip_unprivileged_port_start = {start} ({listener} not found to check its capabilities)"
        ),
    };
    Finding::warn(ID, summary)
        .why(format!("`docker run -p 80:80` and any other published port below {start} fail with \"permission denied\"; higher ports work"))
        .fix(
            Fix::root(
                ID,
                format!(
                    "let unprivileged users bind every port{}",
                    setcap.unwrap_or_default()
                ),
            )
            .remedy(Remedy::SetSysctl(Sysctl::UnprivilegedPortStart)),
        )
}

/// Checks `net.ipv4.ping_group_range` against the user's group: the network driver relays a
/// container's ICMP echo through an unprivileged ping socket opened as the user on the host.
pub(crate) fn ping(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    const ID: CheckId = CheckId::NetworkPing;
    let gid = facts.account.as_ref().map_or(cx.caller.gid, |a| a.gid);
    let driver = facts
        .network
        .as_ref()
        .and_then(|n| NetDriver::parse(&n.driver));
    match driver {
        Some(d @ (NetDriver::LxcUserNic | NetDriver::GvisorTapVsock)) => {
            return Finding::pass(
                ID,
                format!("network driver {d} answers ping without ping_group_range"),
            )
            .observe("driver", d);
        }
        Some(NetDriver::Vpnkit) => {
            return Finding::warn(
                ID,
                "network driver vpnkit cannot relay ping: ping inside containers fails",
            )
            .observe("driver", "vpnkit")
            .why("vpnkit forwards only TCP and UDP, so `ping` inside containers gets no answer")
            .fix(Fix::user(
                ID,
                "use slirp4netns or pasta as the network driver if containers need ping",
            ));
        }
        _ => {}
    }
    let text = match cx.host.read_value(PING_RANGE) {
        Ok(Some(text)) => text,
        Ok(None) => {
            return Finding::skip(ID, format!("{PING_RANGE} does not exist on this kernel"))
                .observe("path", PING_RANGE);
        }
        Err(e) => {
            return Finding::warn(ID, format!("could not read {PING_RANGE}: {}", e.source))
                .observe("path", PING_RANGE)
                .why("without the value it is unknown whether ping works inside containers");
        }
    };
    let fix = Fix::root(ID, "allow ping sockets for every group")
        .remedy(Remedy::SetSysctl(Sysctl::PingGroupRange));
    let why = "the network driver answers a container's ping through an unprivileged ICMP socket opened as you on the host; outside the range, `ping` inside containers fails";
    let base = |f: Finding| {
        f.observe("path", PING_RANGE)
            .observe("ping_group_range", &text)
            .observe("gid", gid)
    };
    let mut words = text.split_whitespace().map(str::parse::<u64>);
    let (Some(Ok(low)), Some(Ok(high)), None) = (words.next(), words.next(), words.next()) else {
        return base(Finding::warn(
            ID,
            format!("unexpected ping_group_range {text:?}"),
        ))
        .why(why)
        .fix(fix);
    };
    if low > high {
        return base(Finding::warn(
            ID,
            format!("ping sockets are disabled for every group (ping_group_range = {low} {high}): ping inside containers fails"),
        ))
        .why(why)
        .fix(fix);
    }
    if (low..=high).contains(&u64::from(gid)) {
        return base(Finding::pass(
            ID,
            format!("ping_group_range {low}..{high} includes gid {gid}"),
        ));
    }
    base(Finding::warn(
        ID,
        format!("ping_group_range {low}..{high} does not include gid {gid}: ping inside containers fails"),
    ))
    .why(why)
    .fix(fix)
}

/// For tests: the attribute `setcap cap_net_bind_service=ep` writes, as `/.fixture-meta` hex.
#[cfg(test)]
pub(crate) const NET_BIND_EP_HEX: &str = "0100000200040000000000000000000000000000";

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testutil::{binary, debian, harness};
    use super::*;
    use crate::testing::ScriptedSystem;
    use rootless_setup_core::finding::Status;
    use rootless_setup_core::model::NetworkPlan;
    use rootless_setup_core::testing::Fixture;

    fn ports_with(fx: &Fixture, facts: &mut Facts) -> Finding {
        let h = harness(fx, ScriptedSystem::new());
        ports(&h.context(), facts)
    }

    fn ping_with(fx: &Fixture, facts: &mut Facts) -> Finding {
        let h = harness(fx, ScriptedSystem::new());
        ping(&h.context(), facts)
    }

    fn plan(driver: &str, port_driver: &str) -> Option<NetworkPlan> {
        Some(NetworkPlan {
            driver: driver.into(),
            port_driver: port_driver.into(),
            binary: None,
            mtu: 65520,
        })
    }

    #[test]
    fn the_fixture_attribute_is_what_setcap_writes() {
        let bytes: Vec<u8> = (0..NET_BIND_EP_HEX.len() / 2)
            .map(|i| u8::from_str_radix(&NET_BIND_EP_HEX[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let caps = caps::decode(&bytes).unwrap();
        assert_eq!(
            (caps.revision, caps.effective, caps.permitted),
            (2, true, 1 << CAP_NET_BIND_SERVICE)
        );
        assert!(caps.raises(CAP_NET_BIND_SERVICE));
    }

    #[test]
    fn permitted_but_not_effective_warns() {
        let fx = debian();
        fx.file(PORT_START, "1024\n")
            .exe("/usr/bin/rootlesskit")
            .meta(
                "/usr/bin/rootlesskit",
                &format!("xattr.security.capability=00{}", &NET_BIND_EP_HEX[2..]),
            );
        let mut facts = Facts::default();
        binary(&mut facts, "rootlesskit", "/usr/bin/rootlesskit", None);
        let f = ports_with(&fx, &mut facts);
        assert_eq!(f.status, Status::Warn, "=p alone is not raised at exec");
        assert_eq!(
            f.observed("security_capability"),
            Some("revision 2 permitted 0x400")
        );
    }

    #[test]
    fn port_start_zero_passes() {
        let fx = debian();
        fx.file(PORT_START, "0\n");
        let f = ports_with(&fx, &mut Facts::default());
        assert_eq!(f.status, Status::Pass);
        assert_eq!(f.observed("ip_unprivileged_port_start"), Some("0"));
    }

    #[test]
    fn privileged_ports_without_the_capability_warn() {
        let fx = debian();
        fx.file(PORT_START, "1024\n").exe("/usr/bin/rootlesskit");
        let mut facts = Facts::default();
        binary(
            &mut facts,
            "rootlesskit",
            "/usr/bin/rootlesskit",
            Some("1.1.0"),
        );
        let f = ports_with(&fx, &mut facts);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("ports below 1024 cannot be published"));
        assert!(f.summary.contains("rootlesskit lacks cap_net_bind_service"));
        assert_eq!(f.observed("listener_path"), Some("/usr/bin/rootlesskit"));
        assert_eq!(f.observed("security_capability"), Some("none"));
        let fix = f.fix.unwrap();
        assert!(fix.root);
        assert_eq!(
            fix.commands,
            vec![
                "echo 'net.ipv4.ip_unprivileged_port_start=0' | sudo tee -a /etc/sysctl.d/99-rootless.conf",
                "sudo sysctl --system"
            ]
        );
        assert!(
            fix.summary
                .contains("sudo setcap cap_net_bind_service=ep /usr/bin/rootlesskit")
        );
    }

    #[test]
    fn the_capability_on_the_real_file_passes() {
        let fx = debian();
        fx.file(PORT_START, "1024\n")
            .exe("/usr/libexec/docker/rootlesskit")
            .symlink("/usr/bin/rootlesskit", "../libexec/docker/rootlesskit")
            .meta(
                "/usr/libexec/docker/rootlesskit",
                &format!("xattr.security.capability={NET_BIND_EP_HEX}"),
            );
        let mut facts = Facts::default();
        binary(&mut facts, "rootlesskit", "/usr/bin/rootlesskit", None);
        let f = ports_with(&fx, &mut facts);
        assert_eq!(f.status, Status::Pass, "{f:?}");
        assert_eq!(
            f.observed("listener_path"),
            Some("/usr/libexec/docker/rootlesskit")
        );
        assert_eq!(
            f.observed("security_capability"),
            Some("revision 2 permitted 0x400 effective")
        );
    }

    #[test]
    fn the_listener_follows_the_port_driver() {
        let fx = debian();
        fx.file(PORT_START, "80\n")
            .exe("/usr/bin/rootlesskit")
            .exe("/usr/bin/pasta")
            .meta(
                "/usr/bin/rootlesskit",
                &format!("xattr.security.capability={NET_BIND_EP_HEX}"),
            );
        let mut facts = Facts::default();
        binary(
            &mut facts,
            "rootlesskit",
            "/usr/bin/rootlesskit",
            Some("2.0.0"),
        );
        binary(&mut facts, "pasta", "/usr/bin/pasta", None);
        facts.network = plan("pasta", "implicit");
        let f = ports_with(&fx, &mut facts);
        assert_eq!(f.status, Status::Warn, "pasta binds, not rootlesskit");
        assert_eq!(f.observed("listener"), Some("pasta"));
        assert!(f.summary.contains("ports below 80"));
        facts.network = plan("slirp4netns", "builtin");
        assert_eq!(ports_with(&fx, &mut facts).status, Status::Pass);
    }

    #[test]
    fn ports_warn_without_rootlesskit_or_a_readable_value() {
        let fx = debian();
        let f = ports_with(&fx, &mut Facts::default());
        assert_eq!(f.status, Status::Warn);
        assert_eq!(
            f.observed("ip_unprivileged_port_start"),
            Some("absent (kernel before 4.11)")
        );
        assert_eq!(f.observed("listener_path"), Some("not found"));
        assert!(!f.fix.unwrap().summary.contains("setcap"));

        fx.file(PORT_START, "lots\n");
        let f = ports_with(&fx, &mut Facts::default());
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("unexpected value"));
    }

    #[test]
    fn ping_range_covering_the_gid_passes() {
        let fx = debian();
        fx.file(PING_RANGE, "0\t2147483647\n");
        let f = ping_with(&fx, &mut Facts::default());
        assert_eq!(f.status, Status::Pass);
        assert_eq!(f.observed("gid"), Some("1000"));
        assert_eq!(f.observed("ping_group_range"), Some("0\t2147483647"));
    }

    #[test]
    fn disabled_ping_warns_with_the_sysctl() {
        let fx = debian();
        fx.file(PING_RANGE, "1\t0\n");
        let f = ping_with(&fx, &mut Facts::default());
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("disabled for every group"));
        let fix = f.fix.unwrap();
        assert!(fix.root);
        assert_eq!(
            fix.commands[0],
            "echo 'net.ipv4.ping_group_range = 0 2147483647' | sudo tee -a /etc/sysctl.d/99-rootless.conf"
        );
    }

    #[test]
    fn a_range_without_the_users_group_warns() {
        let fx = debian();
        fx.file(PING_RANGE, "0 999\n");
        let mut facts = Facts {
            account: Some(rootless_setup_core::testing::account(
                "alice",
                1001,
                "/home/alice",
            )),
            ..Facts::default()
        };
        let f = ping_with(&fx, &mut facts);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("does not include gid 1001"));
        fx.file(PING_RANGE, "garbage\n");
        let f = ping_with(&fx, &mut facts);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("unexpected"));
    }

    #[test]
    fn ping_depends_on_the_driver() {
        let fx = debian();
        fx.file(PING_RANGE, "1\t0\n");
        let mut facts = Facts {
            network: plan("lxc-user-nic", "builtin"),
            ..Facts::default()
        };
        assert_eq!(ping_with(&fx, &mut facts).status, Status::Pass);
        facts.network = plan("vpnkit", "builtin");
        let f = ping_with(&fx, &mut facts);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("vpnkit cannot relay ping"));
        assert!(!f.fix.unwrap().root);
    }

    #[test]
    fn a_missing_ping_sysctl_skips() {
        let fx = debian();
        let f = ping_with(&fx, &mut Facts::default());
        assert_eq!(f.status, Status::Skip);
        assert_eq!(f.observed("path"), Some(PING_RANGE));
    }
}
