//! The script per distribution family, from a broken fixture host through the real checks:
//! snapshots (reviewed in `snapshots/`), `sh -n` and `shellcheck -s sh` on each, and that
//! the blocks agree with what the checks themselves advise.

use crate::common::{ROOT_CHECKS, healthy, lint, plan_for, system};
use rootless_setup_core::{CheckId, Status};

const DEBIAN: &str =
    "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
const UBUNTU: &str =
    "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n";
const FEDORA: &str = "ID=fedora\nVERSION_ID=41\nPRETTY_NAME=\"Fedora Linux 41 (Server Edition)\"\n";
const ROCKY: &str = "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"Rocky Linux 9.4\"\n";
const SUSE: &str =
    "ID=\"opensuse-tumbleweed\"\nID_LIKE=\"opensuse suse\"\nPRETTY_NAME=\"openSUSE Tumbleweed\"\n";
const ARCH: &str = "ID=arch\nPRETTY_NAME=\"Arch Linux\"\n";

fn script(plan: &rootless_setup_fix::Plan) -> String {
    let text = plan.render().unwrap();
    lint(&text);
    text
}

#[test]
fn debian_no_subids_lost_setuid_sysctls_linger_and_delegation() {
    let fx = healthy(DEBIAN, "alice", "/home/alice");
    fx.file("/etc/subuid", "bob:100000:65536\n")
        .file("/etc/subgid", "bob:100000:65536\n")
        .meta("/usr/bin/newuidmap", "uid=0 gid=0 mode=0755")
        .file("/proc/sys/net/ipv4/ip_unprivileged_port_start", "1024\n")
        .file("/proc/sys/net/ipv4/ping_group_range", "1\t0\n")
        .file(
            "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers",
            "memory pids\n",
        );
    let (report, plan) = plan_for(&fx, system(false), &ROOT_CHECKS);
    for id in [CheckId::SubidUid, CheckId::SubidGid, CheckId::Uidmap] {
        assert!(plan.ids().contains(&id), "{id} has no block");
    }
    assert!(plan.ids().contains(&CheckId::SessionLinger));
    // Nothing for what passed.
    for f in report.findings.iter().filter(|f| f.status == Status::Pass) {
        assert!(
            !plan.ids().contains(&f.id),
            "{} passed but has a block",
            f.id
        );
    }
    insta::assert_snapshot!(script(&plan));
}

#[test]
fn ubuntu_apparmor_profile_for_the_real_rootlesskit() {
    let fx = healthy(UBUNTU, "alice", "/home/alice");
    fx.file(
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
        "1\n",
    )
    .exe("/usr/local/bin/rootlesskit.real")
    .symlink("/usr/local/bin/rootlesskit", "rootlesskit.real")
    .file("/etc/apparmor.d/abi/4.0", "")
    .file(
        "/etc/apparmor.d/rootlesskit",
        "profile rootlesskit /usr/bin/rootlesskit flags=(unconfined) {\n  userns,\n}\n",
    );
    let (_, plan) = plan_for(&fx, system(true), &ROOT_CHECKS);
    assert_eq!(plan.ids(), [CheckId::UsernsApparmor]);
    let text = script(&plan);
    assert!(
        text.contains("cat >/etc/apparmor.d/usr.local.bin.rootlesskit.real <<'ROOTLESS_SETUP_EOF'")
    );
    assert!(text.contains(
        "profile usr.local.bin.rootlesskit.real /usr/local/bin/rootlesskit.real flags=(unconfined)"
    ));
    insta::assert_snapshot!(text);
}

#[test]
fn ubuntu_without_abi_4_gets_no_profile() {
    let fx = healthy(UBUNTU, "alice", "/home/alice");
    fx.file(
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
        "1\n",
    )
    .exe("/usr/bin/rootlesskit");
    let (_, plan) = plan_for(&fx, system(true), &ROOT_CHECKS);
    let step = &plan.steps[0];
    assert!(step.is_manual(), "{step:?}");
    assert!(script(&plan).contains("abi/4.0 does not exist"));
}

#[test]
fn fedora_overlapping_range_and_lost_file_capability() {
    let fx = healthy(FEDORA, "alice", "/home/alice");
    // alice's range overlaps bob's: her line goes, bob's stays, she gets the next free block.
    fx.file("/etc/subuid", "bob:100000:65536\nalice:150000:65536\n")
        .meta("/usr/bin/newgidmap", "uid=0 gid=0 mode=0755")
        .file("/proc/sys/user/max_user_namespaces", "0\n");
    let (_, plan) = plan_for(&fx, system(true), &ROOT_CHECKS);
    let text = script(&plan);
    assert!(text.contains("expect_line /etc/subuid 2 alice:150000:65536"));
    assert!(text.contains("sed -i -e 2d /etc/subuid"));
    assert!(text.contains("usermod --add-subuids 231072-296607 alice"));
    assert!(text.contains("setcap cap_setgid=ep /usr/bin/newgidmap"));
    assert!(
        !text.contains("bob:100000"),
        "bob's line must not be touched"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn rocky_is_the_fedora_family() {
    let fx = healthy(ROCKY, "alice", "/home/alice");
    fx.remove("/usr/bin/newuidmap").remove("/usr/bin/newgidmap");
    let (_, plan) = plan_for(&fx, system(true), &ROOT_CHECKS);
    let text = script(&plan);
    assert!(text.contains("dnf install -y shadow-utils"), "{text}");
}

#[test]
fn opensuse_missing_helpers_and_ping() {
    let fx = healthy(SUSE, "alice", "/home/alice");
    fx.remove("/usr/bin/newuidmap")
        .remove("/usr/bin/newgidmap")
        .file("/proc/sys/net/ipv4/ping_group_range", "1 0\n");
    let (_, plan) = plan_for(&fx, system(true), &ROOT_CHECKS);
    let text = script(&plan);
    assert!(text.contains("zypper --non-interactive install shadow"));
    insta::assert_snapshot!(text);
}

#[test]
fn arch_userns_clone_and_an_earlier_drop_in() {
    let fx = healthy(ARCH, "alice", "/home/alice");
    fx.file("/proc/sys/kernel/unprivileged_userns_clone", "0\n")
        .file("/proc/sys/user/max_user_namespaces", "100\n")
        .file(
            "/etc/sysctl.d/99-rootless.conf",
            "# by hand\nnet.ipv4.ping_group_range = 0 2147483647\nuser.max_user_namespaces = 50\n",
        );
    let (_, plan) = plan_for(&fx, system(true), &ROOT_CHECKS);
    let text = script(&plan);
    // The earlier ping line stays; the namespace count is replaced, not duplicated.
    assert!(text.contains("net.ipv4.ping_group_range = 0 2147483647\nkernel.unprivileged_userns_clone = 1\nuser.max_user_namespaces = 15000\n"));
    assert!(!text.contains("= 50"));
    insta::assert_snapshot!(text);
}

#[test]
fn a_debian_host_with_nothing_installed_gets_a_complete_script() {
    let fx = healthy(DEBIAN, "alice", "/home/alice");
    fx.remove("/usr/bin/newuidmap")
        .remove("/usr/bin/newgidmap")
        .file("/etc/subuid", "")
        .file("/proc/sys/net/ipv4/ip_unprivileged_port_start", "1024\n");
    let (report, plan) = plan_for(&fx, system(false), &[]);
    assert_eq!(report.findings.len(), CheckId::ALL.len());
    let text = script(&plan);
    assert!(text.contains("apt-get update\n"));
    assert_eq!(text.matches("apt-get update").count(), 1, "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn a_healthy_host_has_nothing_to_fix() {
    let fx = healthy(DEBIAN, "alice", "/home/alice");
    let (report, plan) = plan_for(&fx, system(true), &ROOT_CHECKS);
    assert!(plan.is_empty(), "{report:#?}");
}

/// The script and the checks' own advice agree on the values: the sysctl each check tells a
/// person to set, and the block each subid check tells a person to add.
#[test]
fn blocks_agree_with_what_the_checks_advise() {
    let fx = healthy(DEBIAN, "alice", "/home/alice");
    fx.file("/etc/subuid", "bob:100000:65536\n")
        .file("/etc/subgid", "bob:100000:65536\n")
        .file("/proc/sys/kernel/unprivileged_userns_clone", "0\n")
        .file("/proc/sys/user/max_user_namespaces", "10\n")
        .file("/proc/sys/net/ipv4/ip_unprivileged_port_start", "1024\n")
        .file("/proc/sys/net/ipv4/ping_group_range", "1 0\n");
    let (report, plan) = plan_for(&fx, system(true), &ROOT_CHECKS);
    let script = script(&plan);
    let advice: Vec<&String> = report
        .findings
        .iter()
        .filter_map(|f| f.fix.as_ref())
        .flat_map(|fix| &fix.commands)
        .collect();
    let mut compared = 0;
    for command in &advice {
        // `sudo sysctl -w KEY=VALUE` and `echo 'KEY = VALUE' | sudo tee -a …`.
        let setting = command
            .strip_prefix("sudo sysctl -w ")
            .map(str::to_owned)
            .or_else(|| {
                command
                    .strip_prefix("echo '")
                    .and_then(|r| r.split_once('\''))
                    .map(|(s, _)| s.to_owned())
            });
        if let Some(setting) = setting {
            let (key, value) = setting.split_once('=').unwrap();
            let line = format!("{} = {}", key.trim(), value.trim());
            assert!(
                script.contains(&format!("\n{line}\n")),
                "{line} is not in the script"
            );
            compared += 1;
        }
        if let Some(rest) = command.strip_prefix("sudo usermod ") {
            assert!(script.contains(&format!("\tusermod {rest}\n")), "{command}");
            compared += 1;
        }
    }
    assert!(compared >= 6, "compared only {compared} of {advice:?}");
}
