//! Fixture tests of the `uidmap` check.

use std::path::PathBuf;

use super::*;
use crate::caller::Caller;
use crate::checks::common::test_support::commands;
use crate::testing::{Harness, ScriptedSystem};
use rootless_setup_core::finding::Status;
use rootless_setup_core::testing::Fixture;

const ROOT_ONLY: &str = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";

/// `security.capability` v2 with `cap` permitted and effective, as hex.
fn caps_hex(cap: u32) -> String {
    [0x0200_0001u32, 1 << cap, 0, 0, 0]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn fixture(distro: &str) -> Fixture {
    let fx = Fixture::new();
    fx.file("/etc/os-release", &format!("ID={distro}\n"))
        .file("/proc/self/mountinfo", ROOT_ONLY);
    fx
}

fn helper(fx: &Fixture, path: &str, attrs: &str) {
    fx.exe(path).meta(path, attrs);
}

fn setuid_helpers(fx: &Fixture) {
    helper(fx, "/usr/bin/newuidmap", "uid=0 gid=0 mode=4755");
    helper(fx, "/usr/bin/newgidmap", "uid=0 gid=0 mode=4755");
}

fn check_as(fx: &Fixture, caller: Caller) -> (Finding, Facts) {
    let h = Harness::new(fx, caller, ScriptedSystem::new());
    let mut facts = Facts::default();
    let f = uidmap(&h.context(), &mut facts);
    (f, facts)
}

fn check(fx: &Fixture) -> (Finding, Facts) {
    check_as(
        fx,
        Caller::new(1000, 1000).with_var("PATH", "/usr/bin:/bin"),
    )
}

#[test]
fn setuid_root_helpers_pass() {
    let fx = fixture("debian");
    setuid_helpers(&fx);
    let (f, facts) = check(&fx);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(f.observed("newuidmap"), Some("/usr/bin/newuidmap"));
    assert_eq!(f.observed("newuidmap_mode"), Some("4755"));
    assert_eq!(f.observed("newgidmap_privilege"), Some("setuid root"));
    assert_eq!(f.observed("newuidmap_mount"), Some("/ (rw,relatime)"));
    assert_eq!(facts.newuidmap, Some(PathBuf::from("/usr/bin/newuidmap")));
    assert_eq!(facts.newgidmap, Some(PathBuf::from("/usr/bin/newgidmap")));
}

#[test]
fn file_capabilities_pass() {
    let fx = fixture("fedora");
    let uid_caps = format!(
        "uid=0 gid=0 mode=0755 xattr.security.capability={}",
        caps_hex(7)
    );
    let gid_caps = format!(
        "uid=0 gid=0 mode=0755 xattr.security.capability={}",
        caps_hex(6)
    );
    helper(&fx, "/usr/bin/newuidmap", &uid_caps);
    helper(&fx, "/usr/bin/newgidmap", &gid_caps);
    let (f, _) = check(&fx);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(
        f.observed("newuidmap_privilege"),
        Some("file capabilities cap_setuid=ep (v2)")
    );
    assert_eq!(
        f.observed("newgidmap_privilege"),
        Some("file capabilities cap_setgid=ep (v2)")
    );
}

#[test]
fn the_wrong_capability_fails_with_setcap_on_fedora() {
    let fx = fixture("fedora");
    let uid_caps = format!(
        "uid=0 gid=0 mode=0755 xattr.security.capability={}",
        caps_hex(7)
    );
    helper(&fx, "/usr/bin/newuidmap", &uid_caps);
    helper(&fx, "/usr/bin/newgidmap", &uid_caps);
    let (f, facts) = check(&fx);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "/usr/bin/newgidmap is neither setuid root nor carries cap_setgid (mode 0755)"
    );
    assert_eq!(
        commands(&f),
        ["sudo setcap cap_setgid=ep /usr/bin/newgidmap"]
    );
    let fix = f.fix.as_ref().unwrap();
    assert!(fix.root && fix.summary.contains("sudo dnf reinstall -y shadow-utils"));
    assert!(facts.newuidmap.is_some() && facts.newgidmap.is_none());
}

#[test]
fn capabilities_for_another_namespace_root_do_not_count() {
    let fx = fixture("fedora");
    let v3: String = [0x0300_0001u32, 1 << 7, 0, 0, 0, 1000]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect();
    helper(
        &fx,
        "/usr/bin/newuidmap",
        &format!("uid=0 mode=0755 xattr.security.capability={v3}"),
    );
    helper(&fx, "/usr/bin/newgidmap", "uid=0 mode=4755");
    let (f, _) = check(&fx);
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.observed("newuidmap_privilege")
            .is_some_and(|p| p.starts_with("none") && p.contains("rootid 1000"))
    );
}

#[test]
fn missing_helpers_fail_with_the_install_command() {
    let fx = fixture("debian");
    helper(&fx, "/usr/bin/newgidmap", "uid=0 mode=4755");
    let (f, facts) = check(&fx);
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.summary.starts_with("newuidmap not found"),
        "{}",
        f.summary
    );
    assert_eq!(f.observed("newuidmap"), Some("not found"));
    assert!(
        f.observed("searched")
            .is_some_and(|s| s.starts_with("/usr/bin:/bin"))
    );
    assert_eq!(commands(&f), ["sudo apt-get install -y uidmap"]);
    assert_eq!(facts.newuidmap, None);
}

#[test]
fn missing_setuid_bit_fails_with_chmod_on_debian() {
    let fx = fixture("debian");
    helper(&fx, "/usr/bin/newuidmap", "uid=0 gid=0 mode=0755");
    helper(&fx, "/usr/bin/newgidmap", "uid=0 gid=0 mode=4755");
    let (f, _) = check(&fx);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("newuidmap_privilege"), Some("none"));
    assert_eq!(commands(&f), ["sudo chmod u+s /usr/bin/newuidmap"]);
    assert!(f.fix.as_ref().is_some_and(|x| {
        x.summary
            .contains("sudo apt-get install --reinstall -y uidmap")
    }));
    assert!(f.why.as_ref().is_some_and(|w| w.contains("uid_map")));
}

#[test]
fn a_helper_not_owned_by_root_is_chowned_then_made_setuid() {
    let fx = fixture("debian");
    helper(&fx, "/usr/bin/newuidmap", "uid=0 mode=4755");
    helper(&fx, "/usr/bin/newgidmap", "uid=1000 gid=1000 mode=4755");
    let (f, _) = check(&fx);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "/usr/bin/newgidmap is owned by uid 1000, not root"
    );
    assert_eq!(
        commands(&f),
        [
            "sudo chown root:root /usr/bin/newgidmap",
            "sudo chmod u+s /usr/bin/newgidmap"
        ]
    );
}

#[test]
fn a_helper_on_a_nosuid_mount_fails() {
    let fx = fixture("debian");
    fx.file(
        "/proc/self/mountinfo",
        &format!("{ROOT_ONLY}40 22 0:30 / /usr/local rw,nosuid,nodev - ext4 /dev/sdb1 rw\n"),
    );
    helper(&fx, "/usr/local/bin/newuidmap", "uid=0 mode=4755");
    helper(&fx, "/usr/bin/newgidmap", "uid=0 mode=4755");
    let (f, _) = check_as(
        &fx,
        Caller::new(1000, 1000).with_var("PATH", "/usr/local/bin:/usr/bin"),
    );
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(f.summary.contains("mounted nosuid"), "{}", f.summary);
    assert_eq!(
        f.observed("newuidmap_mount"),
        Some("/usr/local (rw,nosuid,nodev)")
    );
    assert_eq!(commands(&f), ["sudo mount -o remount,suid /usr/local"]);
    assert!(f.why.as_ref().is_some_and(|w| w.contains("nosuid")));
}

#[test]
fn a_broken_copy_shadowing_a_working_one_is_removed() {
    let fx = fixture("debian");
    setuid_helpers(&fx);
    helper(&fx, "/home/alice/bin/newuidmap", "uid=1000 mode=0755");
    let (f, facts) = check_as(
        &fx,
        Caller::new(1000, 1000).with_var("PATH", "/home/alice/bin:/usr/bin"),
    );
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.observed("newuidmap"), Some("/home/alice/bin/newuidmap"));
    let fix = f.fix.as_ref().unwrap();
    assert_eq!(fix.commands, ["rm /home/alice/bin/newuidmap"]);
    assert!(!fix.root);
    assert!(
        fix.summary
            .contains("shadows the working /usr/bin/newuidmap")
    );
    assert_eq!(facts.newuidmap, None);
}

#[test]
fn symlinked_dirs_are_resolved_to_the_real_file() {
    let fx = fixture("debian");
    setuid_helpers(&fx);
    fx.symlink("/bin", "usr/bin");
    let (f, facts) = check_as(&fx, Caller::new(1000, 1000).with_var("PATH", "/bin"));
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(f.observed("newuidmap"), Some("/bin/newuidmap"));
    assert_eq!(f.observed("newuidmap_real"), Some("/usr/bin/newuidmap"));
    assert_eq!(facts.newuidmap, Some(PathBuf::from("/bin/newuidmap")));
}

#[test]
fn missing_mountinfo_is_observed_not_fatal() {
    let fx = fixture("debian");
    fx.remove("/proc/self/mountinfo");
    setuid_helpers(&fx);
    let (f, _) = check(&fx);
    assert_eq!(f.status, Status::Pass);
    assert_eq!(f.observed("mountinfo"), Some("unavailable"));
}

#[test]
fn a_users_own_copy_without_a_working_one_is_never_made_setuid() {
    let fx = fixture("debian");
    helper(&fx, "/home/alice/bin/newuidmap", "uid=1000 mode=0755");
    helper(&fx, "/usr/bin/newgidmap", "uid=0 mode=4755");
    let (f, _) = check_as(
        &fx,
        Caller::new(1000, 1000).with_var("PATH", "/home/alice/bin:/usr/bin"),
    );
    assert_eq!(f.status, Status::Fail);
    let fix = f.fix.as_ref().unwrap();
    assert!(fix.root);
    assert!(
        !fix.commands
            .iter()
            .any(|c| c.contains("chmod") || c.contains("chown")),
        "{:?}",
        fix.commands
    );
    assert_eq!(
        fix.commands,
        [
            "sudo rm /home/alice/bin/newuidmap",
            "sudo apt-get install -y uidmap"
        ]
    );
    assert!(
        fix.summary.contains("must not be made setuid"),
        "{}",
        fix.summary
    );
}
