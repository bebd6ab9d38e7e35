//! Fixture hosts for the script tests: a broken host per distribution family, the real checks
//! run against it (scripted probes), and the script `fix` makes from their findings.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use rootless_setup_checks::system::BusAnswer;
use rootless_setup_checks::testing::{Harness, ScriptedSystem};
use rootless_setup_checks::{Caller, Selection, check_with_facts};
use rootless_setup_core::testing::Fixture;
use rootless_setup_core::{CheckId, Report};
use rootless_setup_fix::{HostFiles, Plan, Target, plan};

pub const V2_MOUNTS: &str = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n\
    30 23 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

/// The checks the family snapshots look at (their dependencies run silently).
pub const ROOT_CHECKS: [CheckId; 11] = [
    CheckId::User,
    CheckId::SessionLinger,
    CheckId::SubidUid,
    CheckId::SubidGid,
    CheckId::Uidmap,
    CheckId::UsernsSysctl,
    CheckId::UsernsApparmor,
    CheckId::Cgroup,
    CheckId::NetworkPorts,
    CheckId::NetworkPing,
    CheckId::NetworkIptables,
];

/// A host tree for user `name` (uid 1000) with home `home`, root-owned setuid helpers, cgroup
/// v2 fully delegated, sysctls that pass, and the other users' lines in the subid files.
pub fn healthy(os_release: &str, name: &str, home: &str) -> Fixture {
    let fx = Fixture::new();
    fx.file("/etc/os-release", os_release)
        .file(
            "/etc/passwd",
            &format!(
                "root:x:0:0:root:/root:/bin/bash\n{name}:x:1000:1000::{home}:/bin/bash\n\
                 bob:x:1001:1001::/home/bob:/bin/bash\n"
            ),
        )
        .file(
            "/etc/group",
            &format!("root:x:0:\n{name}:x:1000:\nbob:x:1001:\n"),
        )
        .file(
            "/etc/subuid",
            &format!("bob:100000:65536\n{name}:165536:65536\n"),
        )
        .file(
            "/etc/subgid",
            &format!("bob:100000:65536\n{name}:165536:65536\n"),
        )
        .exe("/usr/sbin/usermod")
        .exe("/usr/sbin/iptables")
        .exe("/usr/sbin/iptables-restore")
        .dir(home)
        .meta(home, "uid=1000 gid=1000 mode=0750")
        .exe("/usr/bin/newuidmap")
        .exe("/usr/bin/newgidmap")
        .meta("/usr/bin/newuidmap", "uid=0 gid=0 mode=4755")
        .meta("/usr/bin/newgidmap", "uid=0 gid=0 mode=4755")
        .file("/proc/self/ns/user", "")
        .file("/proc/sys/user/max_user_namespaces", "63432\n")
        .file("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0\n")
        .file("/proc/sys/net/ipv4/ping_group_range", "0 2147483647\n")
        .file("/proc/self/mountinfo", V2_MOUNTS)
        .file(
            "/proc/self/cgroup",
            "0::/user.slice/user-1000.slice/session-2.scope\n",
        )
        .file(
            "/sys/fs/cgroup/cgroup.controllers",
            "cpuset cpu io memory pids\n",
        )
        .file(
            "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers",
            "cpuset cpu io memory pids\n",
        )
        .dir("/run/systemd/system")
        .dir("/var/lib/systemd/linger");
    fx
}

/// Probes answering like a healthy host: linger on, rootlesskit 2.0.2 and slirp4netns 1.2.0.
pub fn system(linger: bool) -> ScriptedSystem {
    ScriptedSystem::new()
        .linger(BusAnswer::Ok(linger))
        .on(
            "rootlesskit",
            "--version",
            ScriptedSystem::ok("rootlesskit version 2.0.2\n"),
        )
        .on(
            "slirp4netns",
            "--version",
            ScriptedSystem::ok("slirp4netns version 1.2.0\n"),
        )
        .on(
            "iptables",
            "",
            ScriptedSystem::ok("iptables v1.8.9 (nf_tables)\n"),
        )
        .on("iptables-restore", "", ScriptedSystem::ok(""))
}

/// The caller (uid 1000) with a plain `PATH`.
pub fn caller() -> Caller {
    Caller::new(1000, 1000)
        .with_var("PATH", "/usr/local/bin:/usr/bin:/bin")
        .with_var("XDG_RUNTIME_DIR", "/run/user/1000")
}

/// Runs `only` (all checks when empty) on the fixture and makes the plan.
pub fn plan_for(fx: &Fixture, system: ScriptedSystem, only: &[CheckId]) -> (Report, Plan) {
    let h = Harness::new(fx, caller(), system);
    let (report, facts) = check_with_facts(&h.context(), &Selection::new(only, &[]));
    let account = facts.account.clone().expect("the fixture has the user");
    let files = HostFiles::read(&h.host, &account.home);
    let target = Target::new(h.distro.clone(), account, files).unwrap();
    let plan = plan(&report, &target, &[]).unwrap();
    (report, plan)
}

/// `sh -n` and `shellcheck -s sh` on the script; panics with their output.
pub fn lint(script: &str) {
    let run = |program: &str, args: &[&str]| {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {program} (install it: apt-get install shellcheck): {e}")
            });
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?} rejects the script:\n{}{}\n{script}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run("sh", &["-n"]);
    run("shellcheck", &["-s", "sh", "-"]);
}
