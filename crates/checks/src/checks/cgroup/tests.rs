//! Fixture tests of the `cgroup` check: the version by the mount at `/sys/fs/cgroup` (pure v2,
//! pure v1, hybrid, and a systemd-nspawn box whose `/proc/self/cgroup` lists the host's v1
//! lines), the fallback to `/proc/self/cgroup`, and the delegated controllers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::caller::Caller;
use crate::testing::{Harness, ScriptedSystem};
use rootless_setup_core::finding::Status;
use rootless_setup_core::testing::Fixture;

const ROOT: &str = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n";
const V2_MOUNTS: &str = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n\
    30 23 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
const V1_MOUNTS: &str = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n\
    31 23 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n\
    32 31 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory\n\
    40 31 0:37 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd\n";
const UNIFIED_MOUNT: &str = "41 31 0:38 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate\n";
const HYBRID: &str = "12:pids:/user.slice/user-1000.slice/session-2.scope\n4:memory:/user.slice/user-1000.slice/session-2.scope\n1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n0::/user.slice/user-1000.slice/session-2.scope\n";

fn fixture(os: &str) -> Fixture {
    let fx = Fixture::new();
    fx.file("/etc/os-release", os);
    fx
}

fn run(fx: &Fixture) -> Finding {
    let h = Harness::new(fx, Caller::new(1000, 1000), ScriptedSystem::new());
    let mut facts = Facts::default();
    let finding = cgroup(&h.context(), &mut facts);
    // The fact install and engine.binaries act on follows the verdict: delegated only on a pass.
    assert_eq!(
        facts.controllers_delegated,
        Some(finding.status == Status::Pass),
        "{finding:?}"
    );
    finding
}

fn v2(fx: &Fixture, own: &str, root: &str, manager: Option<&str>) {
    fx.file(SELF_CGROUP, &format!("0::{own}\n"))
        .file(mountinfo::PATH, V2_MOUNTS)
        .file("/sys/fs/cgroup/cgroup.controllers", &format!("{root}\n"));
    if let Some(m) = manager {
        fx.file(
            "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers",
            &format!("{m}\n"),
        );
    }
}

#[test]
fn delegated_controllers_pass() {
    let fx = fixture("ID=debian\n");
    v2(
        &fx,
        "/user.slice/user-1000.slice/user@1000.service/app.slice/app-term.scope",
        "cpuset cpu io memory hugetlb pids rdma misc",
        Some("cpuset cpu io memory pids"),
    );
    let f = run(&fx);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.observed("version"), Some("v2"));
    assert_eq!(f.observed("cgroup_fs"), Some("cgroup2"));
    assert_eq!(f.observed("decided_by"), Some(mountinfo::PATH));
    assert_eq!(
        f.observed("manager_cgroup"),
        Some("/user.slice/user-1000.slice/user@1000.service")
    );
    assert_eq!(f.observed("delegated"), Some("cpuset cpu io memory pids"));
    assert_eq!(f.observed("missing_optional"), None);
}

#[test]
fn an_ssh_session_finds_the_manager_next_to_it_and_warns_on_missing_cpu() {
    let fx = fixture("ID=debian\n");
    v2(
        &fx,
        "/user.slice/user-1000.slice/session-3.scope",
        "cpuset cpu io memory pids",
        Some("memory pids"),
    );
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.summary,
        "cgroup v2, but cpu not delegated to user@1000.service"
    );
    assert!(f.why.as_ref().unwrap().contains("--cpus"));
    assert_eq!(f.observed("missing_optional"), Some("io cpuset"));
    let fix = f.fix.unwrap();
    assert!(fix.root);
    assert_eq!(
        fix.commands[1],
        "printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf"
    );
    assert_eq!(fix.commands[2], "sudo systemctl daemon-reload");
    assert!(fix.summary.contains("log out and back in"));
}

#[test]
fn optional_controllers_alone_do_not_warn() {
    let fx = fixture("ID=debian\n");
    v2(
        &fx,
        "/user.slice/user-1000.slice/user@1000.service/init.scope",
        "cpuset cpu io memory pids",
        Some("cpu memory pids"),
    );
    let f = run(&fx);
    assert_eq!(f.status, Status::Pass);
    assert_eq!(f.observed("missing_optional"), Some("io cpuset"));
}

#[test]
fn controllers_the_root_lacks_need_a_unified_boot() {
    let fx = fixture("ID=fedora\n");
    v2(
        &fx,
        "/user.slice/user-1000.slice/user@1000.service/init.scope",
        "",
        Some(""),
    );
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert!(f.summary.contains("cpu, memory, pids not delegated"));
    assert!(
        f.summary
            .contains("does not offer cpu, memory, pids at all")
    );
    assert_eq!(
        f.fix.unwrap().commands,
        vec!["sudo grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1"]
    );
}

#[test]
fn cgroup_v1_warns_with_the_grub_change() {
    let fx = fixture("ID=debian\n");
    fx.file(
        SELF_CGROUP,
        "4:memory:/user.slice\n1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n",
    );
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.observed("version"), Some("v1"));
    assert_eq!(f.observed("decided_by"), Some(SELF_CGROUP), "no mountinfo");
    assert_eq!(f.observed("v1_hierarchies"), Some("memory name=systemd"));
    assert!(f.summary.contains("no resource limits"));
    let fix = f.fix.unwrap();
    assert!(fix.root);
    assert_eq!(
        fix.commands,
        vec![
            "sudo sed -i 's/^GRUB_CMDLINE_LINUX=\"/&systemd.unified_cgroup_hierarchy=1 /' /etc/default/grub",
            "sudo update-grub"
        ]
    );
    assert!(fix.summary.ends_with("then reboot"));
}

#[test]
fn a_hybrid_host_is_named_as_such() {
    let fx = fixture("ID=opensuse-tumbleweed\n");
    fx.file(SELF_CGROUP, HYBRID).dir("/sys/fs/cgroup/unified");
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.observed("version"), Some("hybrid"));
    assert_eq!(f.observed("decided_by"), Some(SELF_CGROUP), "no mountinfo");
    assert!(f.fix.unwrap().commands[1].contains("grub2-mkconfig"));
}

#[test]
fn outside_a_user_session_warns() {
    let fx = fixture("ID=debian\n");
    v2(&fx, "/system.slice/cron.service", "cpu memory pids", None);
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert!(f.summary.contains("not in a systemd user session"));
    assert!(f.fix.unwrap().summary.contains("machinectl shell"));
}

#[test]
fn a_session_without_a_running_manager_warns() {
    let fx = fixture("ID=debian\n");
    v2(
        &fx,
        "/user.slice/user-1000.slice/session-4.scope",
        "cpu memory pids",
        None,
    );
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert!(f.summary.contains("user@1000.service is not running"));
    assert_eq!(
        f.fix.unwrap().commands,
        vec!["sudo loginctl enable-linger 1000"]
    );
}

#[test]
fn a_missing_proc_file_warns() {
    let fx = fixture("ID=debian\n");
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.observed("path"), Some(SELF_CGROUP));
    fx.file(SELF_CGROUP, "garbage\n");
    assert!(run(&fx).summary.contains("lists no cgroup hierarchy"));
}

#[test]
fn a_pure_v1_host_is_v1_by_its_mounts() {
    let fx = fixture("ID=debian\n");
    fx.file(mountinfo::PATH, V1_MOUNTS).file(
        SELF_CGROUP,
        "4:memory:/user.slice\n1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n",
    );
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.observed("version"), Some("v1"));
    assert_eq!(f.observed("cgroup_fs"), Some("tmpfs"));
    assert_eq!(f.observed("decided_by"), Some(mountinfo::PATH));
    assert!(f.summary.starts_with("cgroup v1:"), "{}", f.summary);
    assert_eq!(f.fix.unwrap().commands[1], "sudo update-grub");
}

#[test]
fn a_hybrid_host_is_hybrid_by_its_unified_mount() {
    let fx = fixture("ID=debian\n");
    fx.file(mountinfo::PATH, &format!("{V1_MOUNTS}{UNIFIED_MOUNT}"))
        .file(SELF_CGROUP, HYBRID);
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.observed("version"), Some("hybrid"));
    assert_eq!(f.observed("decided_by"), Some(mountinfo::PATH));
    assert!(
        f.summary
            .contains("hybrid (v1 controllers, v2 for systemd)")
    );
    // The same lines without the unified mount: v1, whatever /proc/self/cgroup says.
    fx.file(mountinfo::PATH, V1_MOUNTS);
    assert_eq!(run(&fx).observed("version"), Some("v1"));
}

/// A systemd-nspawn box booted on the unified hierarchy, on a host with v1 hierarchies:
/// `/proc/self/cgroup` still lists the host's v1 lines, but `/sys/fs/cgroup` is `cgroup2` and
/// the engine uses cgroup v2.
const NSPAWN: &str = "9:name=systemd:/machine.slice/box.scope\n\
    8:pids:/machine.slice/box.scope\n4:memory:/machine.slice/box.scope\n\
    1:cpu:/machine.slice/box.scope\n";

#[test]
fn an_nspawn_box_on_the_unified_hierarchy_is_v2() {
    let fx = fixture("ID=debian\n");
    fx.file(mountinfo::PATH, V2_MOUNTS)
        .file(
            SELF_CGROUP,
            &format!("{NSPAWN}0::/user.slice/user-1000.slice/session-c1.scope\n"),
        )
        .file("/sys/fs/cgroup/cgroup.controllers", "\n")
        .file(
            "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers",
            "\n",
        );
    let f = run(&fx);
    assert_eq!(f.observed("version"), Some("v2"), "{f:?}");
    assert_eq!(f.observed("cgroup_fs"), Some("cgroup2"));
    assert_eq!(
        f.observed("own_cgroup"),
        Some("/user.slice/user-1000.slice/session-c1.scope")
    );
    assert_eq!(
        f.observed("manager_cgroup"),
        Some("/user.slice/user-1000.slice/user@1000.service")
    );
    // No controllers on this host's v2 root: named, not mistaken for v1.
    assert_eq!(f.status, Status::Warn);
    assert!(
        f.summary
            .contains("does not offer cpu, memory, pids at all"),
        "{}",
        f.summary
    );
}

#[test]
fn a_process_entered_with_nsenter_is_outside_the_namespace() {
    let fx = fixture("ID=debian\n");
    fx.file(mountinfo::PATH, V2_MOUNTS)
        .file(SELF_CGROUP, &format!("{NSPAWN}0::/..\n"))
        .file("/sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n");
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.observed("version"), Some("v2"));
    assert_eq!(f.observed("own_cgroup"), Some("/.."));
    assert_eq!(f.observed("manager_cgroup"), None);
    assert!(
        f.summary
            .starts_with("not in a systemd user session: cgroup /.. lies outside"),
        "{}",
        f.summary
    );
    let fix = f.fix.unwrap();
    assert!(!fix.root);
    assert!(fix.summary.contains("machinectl shell"));
}

#[test]
fn nothing_at_sys_fs_cgroup_warns() {
    let fx = fixture("ID=debian\n");
    fx.file(mountinfo::PATH, ROOT).file(SELF_CGROUP, "0::/\n");
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.observed("cgroup_fs"), Some("not mounted"));
    assert!(f.summary.contains("nothing is mounted at /sys/fs/cgroup"));
    assert_eq!(
        f.fix.unwrap().commands,
        vec!["sudo mount -t cgroup2 none /sys/fs/cgroup"]
    );
}

#[test]
fn v2_without_a_unified_line_warns() {
    let fx = fixture("ID=debian\n");
    fx.file(mountinfo::PATH, V2_MOUNTS)
        .file(SELF_CGROUP, NSPAWN);
    let f = run(&fx);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.observed("version"), Some("v2"));
    assert!(f.summary.contains("has no 0:: line"), "{}", f.summary);
}

#[test]
fn unparsable_mountinfo_falls_back_to_proc_self_cgroup() {
    let fx = fixture("ID=debian\n");
    v2(
        &fx,
        "/user.slice/user-1000.slice/user@1000.service/init.scope",
        "cpu memory pids",
        Some("cpu memory pids"),
    );
    fx.file(mountinfo::PATH, "garbage\n");
    let f = run(&fx);
    assert_eq!(f.status, Status::Pass);
    assert_eq!(f.observed("decided_by"), Some(SELF_CGROUP));
    assert_eq!(
        f.observed("cgroup_fs"),
        Some("unknown (mountinfo unreadable)")
    );
}

/// The controllers themselves are a fact for install's resource limits: the manager's list on
/// cgroup v2, none on v1, unknown when the list cannot be read.
#[test]
fn the_delegated_controllers_are_a_fact() {
    let facts_of = |fx: &Fixture| {
        let h = Harness::new(fx, Caller::new(1000, 1000), ScriptedSystem::new());
        let mut facts = Facts::default();
        cgroup(&h.context(), &mut facts);
        facts.delegated_controllers
    };
    let fx = fixture("ID=debian\n");
    v2(
        &fx,
        "/user.slice/user-1000.slice/session-3.scope",
        "cpuset cpu io memory pids",
        Some("memory pids"),
    );
    assert_eq!(
        facts_of(&fx),
        Some(vec!["memory".to_owned(), "pids".to_owned()])
    );
    let fx = fixture("ID=debian\n");
    v2(
        &fx,
        "/user.slice/user-1000.slice/user@1000.service/init.scope",
        "cpu memory pids",
        None,
    );
    assert_eq!(facts_of(&fx), None);
    let fx = fixture("ID=debian\n");
    fx.file(SELF_CGROUP, HYBRID);
    assert_eq!(facts_of(&fx), Some(Vec::new()));
}
