//! Which cgroup layout the engine will find, and where the caller's user manager sits in it.
//!
//! The version is decided the way dockerd and containerd decide it (a `statfs` of
//! `/sys/fs/cgroup`): by the filesystem mounted there, read from `/proc/self/mountinfo`.
//! `cgroup2` is the unified hierarchy; anything else (a `tmpfs` holding v1 hierarchies) is v1,
//! or hybrid when `/sys/fs/cgroup/unified` is a `cgroup2` mount. `/proc/self/cgroup` alone can
//! mislead: a systemd-nspawn container booted on the unified hierarchy on a host with v1
//! hierarchies still lists the host's v1 lines next to its `0::` line. It is only the fallback
//! when mountinfo cannot be read. All parsers here survive any text.

use std::path::{Component, Path, PathBuf};

use crate::mountinfo::{Mount, mount_at};

/// The caller's cgroups, one line per hierarchy.
pub(super) const SELF_CGROUP: &str = "/proc/self/cgroup";
/// Where the engine looks for cgroups.
pub(super) const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// Where a hybrid boot mounts the unified hierarchy.
pub(super) const UNIFIED_DIR: &str = "/sys/fs/cgroup/unified";

/// The cgroup layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    /// The unified hierarchy (cgroup v2) at `/sys/fs/cgroup`.
    V2,
    /// v1 controllers, with the unified hierarchy at `/sys/fs/cgroup/unified` for systemd.
    Hybrid,
    /// v1 hierarchies only.
    V1,
}

impl Version {
    /// The name observed in findings.
    pub(super) fn name(self) -> &'static str {
        match self {
            Version::V2 => "v2",
            Version::Hybrid => "hybrid",
            Version::V1 => "v1",
        }
    }
}

/// The version by the filesystems mounted at `/sys/fs/cgroup` (as the engine decides it), with
/// the filesystem type there; `None` when nothing is mounted there.
pub(super) fn from_mounts(mounts: &[Mount]) -> Option<(Version, &str)> {
    let root = mount_at(mounts, Path::new(CGROUP_ROOT))?;
    let version = if root.fstype == "cgroup2" {
        Version::V2
    } else if mount_at(mounts, Path::new(UNIFIED_DIR)).is_some_and(|m| m.fstype == "cgroup2") {
        Version::Hybrid
    } else {
        Version::V1
    };
    Some((version, root.fstype.as_str()))
}

/// `(hierarchy id, controllers, path)` of each well-formed `/proc/self/cgroup` line.
fn lines(text: &str) -> impl Iterator<Item = (&str, &str, &str)> {
    text.lines().filter_map(|line| {
        let mut parts = line.trim().splitn(3, ':');
        Some((parts.next()?, parts.next()?, parts.next()?))
    })
}

/// The caller's path in the unified hierarchy: the `0::` line.
pub(super) fn unified_path(text: &str) -> Option<&str> {
    lines(text)
        .filter(|(id, controllers, _)| *id == "0" && controllers.is_empty())
        .map(|(_, _, path)| path)
        .last()
}

/// The controllers (or `name=` hierarchies) of the v1 lines.
pub(super) fn v1_hierarchies(text: &str) -> Vec<&str> {
    lines(text)
        .map(|(_, controllers, _)| controllers)
        .filter(|c| !c.is_empty())
        .collect()
}

/// The fallback when mountinfo is unreadable: v2 when `/proc/self/cgroup` has only the `0::`
/// line, otherwise v1 (hybrid when there is a `0::` line and `unified_dir_exists`); `None` when
/// it lists no hierarchy at all.
pub(super) fn from_self_cgroup(text: &str, unified_dir_exists: bool) -> Option<Version> {
    let unified = unified_path(text).is_some();
    let v1 = !v1_hierarchies(text).is_empty()
        || lines(text).any(|(id, controllers, _)| id != "0" && controllers.is_empty());
    match (v1, unified) {
        (false, true) => Some(Version::V2),
        (true, true) if unified_dir_exists => Some(Version::Hybrid),
        (true, _) => Some(Version::V1),
        (false, false) => None,
    }
}

/// Where the user manager's cgroup is, relative to the cgroup root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Manager {
    /// The caller runs inside it (a desktop terminal, `systemd-run --user`, …).
    Ancestor(PathBuf),
    /// The caller runs in a session scope next to it (ssh, a console login).
    Sibling(PathBuf),
    /// The caller's cgroup lies outside its cgroup namespace (`/..`): it entered the namespace
    /// from outside (`nsenter`), so its place in the hierarchy is not visible.
    Outside,
    /// Neither: not in the user's systemd session.
    NotFound,
}

/// Finds `user@UID.service` by walking up the caller's own cgroup `path`.
pub(super) fn find_manager(path: &str, uid: u32) -> Manager {
    let path = Path::new(path);
    if path
        .components()
        .any(|c| !matches!(c, Component::RootDir | Component::Normal(_)))
    {
        return Manager::Outside;
    }
    let service = format!("user@{uid}.service");
    let slice = format!("user-{uid}.slice");
    let mut prefix = PathBuf::from("/");
    // How many components the deepest `user-UID.slice` is down; counted, not copied, so a
    // deep path stays linear.
    let mut slice_depth = None;
    for (depth, component) in path.iter().filter(|c| *c != "/").enumerate() {
        prefix.push(component);
        if component == service.as_str() {
            return Manager::Ancestor(prefix);
        }
        if component == slice.as_str() {
            slice_depth = Some(depth + 1);
        }
    }
    match slice_depth {
        Some(depth) => {
            let mut sibling: PathBuf = prefix.components().take(depth + 1).collect();
            sibling.push(service);
            Manager::Sibling(sibling)
        }
        None => Manager::NotFound,
    }
}

/// The directory of `cgroup` (a path from the cgroup root) under `/sys/fs/cgroup`.
pub(super) fn sysfs(cgroup: &Path) -> PathBuf {
    Path::new(CGROUP_ROOT).join(cgroup.strip_prefix("/").unwrap_or(cgroup))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::mountinfo::parse;

    const V1_MOUNTS: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
";

    #[test]
    fn the_mount_at_sys_fs_cgroup_decides() {
        let v2 = parse("30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
        assert_eq!(from_mounts(&v2), Some((Version::V2, "cgroup2")));
        assert_eq!(from_mounts(&parse(V1_MOUNTS)), Some((Version::V1, "tmpfs")));
        let hybrid = parse(&format!(
            "{V1_MOUNTS}41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
        ));
        assert_eq!(from_mounts(&hybrid), Some((Version::Hybrid, "tmpfs")));
        assert_eq!(
            from_mounts(&parse("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n")),
            None
        );
    }

    #[test]
    fn self_cgroup_lines() {
        let nspawn = "9:name=systemd:/machine.slice/box\n1:cpu:/\n0::/init.scope\n";
        assert_eq!(unified_path(nspawn), Some("/init.scope"));
        assert_eq!(v1_hierarchies(nspawn), ["name=systemd", "cpu"]);
        assert_eq!(from_self_cgroup(nspawn, false), Some(Version::V1));
        assert_eq!(from_self_cgroup(nspawn, true), Some(Version::Hybrid));
        assert_eq!(from_self_cgroup("0::/x\n", false), Some(Version::V2));
        assert_eq!(from_self_cgroup("garbage\n", true), None);
        assert_eq!(unified_path("0:x:/a\n"), None);
    }

    #[test]
    fn the_manager_is_found_by_walking_up() {
        assert_eq!(
            find_manager(
                "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope",
                1000
            ),
            Manager::Ancestor("/user.slice/user-1000.slice/user@1000.service".into())
        );
        assert_eq!(
            find_manager("/user.slice/user-1000.slice/session-c1.scope", 1000),
            Manager::Sibling("/user.slice/user-1000.slice/user@1000.service".into())
        );
        assert_eq!(
            find_manager("/user.slice/user-1000.slice/user@1000.service", 1001),
            Manager::NotFound
        );
        assert_eq!(find_manager("/", 0), Manager::NotFound);
    }

    #[test]
    fn a_cgroup_outside_the_namespace_is_not_walked() {
        assert_eq!(find_manager("/..", 1000), Manager::Outside);
        assert_eq!(
            find_manager("/../../user.slice/user-1000.slice/session-1.scope", 1000),
            Manager::Outside,
            "never a path that climbs out of /sys/fs/cgroup"
        );
        assert_eq!(find_manager("/a/./b", 1000), Manager::NotFound);
    }

    /// Lines of `/proc/self/cgroup` on v1, hybrid and v2 hosts.
    const SAMPLES: &[&str] = &[
        "0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope",
        "0::/user.slice/user-1000.slice/session-3.scope",
        "9:name=systemd:/machine.slice/box",
        "1:cpu,cpuacct:/",
        "12:pids:/user.slice/user-1000.slice",
        "0::/../../init.scope",
    ];

    #[test]
    fn a_deep_path_of_slices_is_walked_in_linear_time() {
        // Found by `a_megabyte_is_read_in_bounded_time`: every `user-UID.slice` component used
        // to copy the whole path so far, quadratic in the depth (minutes for 1 MB).
        let path = "/user-1000.slice".repeat(60_000);
        let (manager, _) =
            rootless_setup_core::hostile::within_budget("find_manager", path.len(), || {
                find_manager(&path, 1000)
            });
        assert_eq!(
            manager,
            Manager::Sibling(PathBuf::from(format!("{path}/user@1000.service")))
        );
        let ancestor = format!("{path}/user@1000.service/x/user-1000.slice");
        assert_eq!(
            find_manager(&ancestor, 1000),
            Manager::Ancestor(PathBuf::from(format!("{path}/user@1000.service")))
        );
    }

    proptest::proptest! {
        #![proptest_config(rootless_setup_core::hostile::cases(64))]

        #[test]
        fn near_valid_self_cgroup_is_read(text in rootless_setup_core::hostile::small_text(SAMPLES)) {
            let _ = from_self_cgroup(&text, false);
            for hierarchy in v1_hierarchies(&text) {
                proptest::prop_assert!(!hierarchy.is_empty() && !hierarchy.contains('\n'));
            }
            if let Some(path) = unified_path(&text)
                && let Manager::Ancestor(p) | Manager::Sibling(p) = find_manager(path, 1000) {
                    proptest::prop_assert!(p.starts_with("/") && p.ends_with("user@1000.service"));
                    proptest::prop_assert!(sysfs(&p).starts_with(CGROUP_ROOT));
                }
        }

        #[test]
        fn the_manager_is_found_in_any_path(
            above in proptest::collection::vec("[a-z][a-z0-9@.-]{0,11}", 0..6),
            below in proptest::collection::vec("[a-z][a-z0-9.-]{0,11}", 0..6),
            inside in proptest::bool::ANY,
        ) {
            let above = above.join("/");
            let below = below.join("/");
            let manager = if inside { "user@1000.service" } else { "session-1.scope" };
            let path = format!("/{above}/user-1000.slice/{manager}/{below}");
            let home = PathBuf::from(format!("/{above}/user-1000.slice/user@1000.service"));
            let found = find_manager(&path, 1000);
            // The generated names never hold `user@1000.service` or `user-1000.slice`
            // themselves, except by chance above, where the first one wins.
            if !above.contains("user@1000.service") && !below.contains("user-1000.slice") {
                let home: PathBuf = home.components().collect();
                proptest::prop_assert_eq!(found, if inside {
                    Manager::Ancestor(home)
                } else {
                    Manager::Sibling(home)
                });
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(rootless_setup_core::hostile::cases(3))]

        #[test]
        fn a_megabyte_is_read_in_bounded_time(text in rootless_setup_core::hostile::large_text(SAMPLES)) {
            rootless_setup_core::hostile::within_budget("from_self_cgroup", text.len(), || {
                from_self_cgroup(&text, true)
            });
            if let Some(path) = unified_path(&text) {
                rootless_setup_core::hostile::within_budget("find_manager", path.len(), || find_manager(path, 1000));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn self_cgroup_parses_any_text(text in "\\PC*") {
            let _ = from_self_cgroup(&text, true);
            let _ = v1_hierarchies(&text);
            if let Some(path) = unified_path(&text)
                && let Manager::Ancestor(p) | Manager::Sibling(p) = find_manager(path, 1000) {
                    proptest::prop_assert!(sysfs(&p).starts_with(CGROUP_ROOT));
                }
        }
    }
}
