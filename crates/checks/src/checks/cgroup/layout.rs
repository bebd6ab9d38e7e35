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
    let mut slice_prefix = None;
    for component in path.iter().filter(|c| *c != "/") {
        prefix.push(component);
        if component == service.as_str() {
            return Manager::Ancestor(prefix);
        }
        if component == slice.as_str() {
            slice_prefix = Some(prefix.clone());
        }
    }
    match slice_prefix {
        Some(p) => Manager::Sibling(p.join(service)),
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

    proptest::proptest! {
        #[test]
        fn self_cgroup_parses_any_text(text in "\\PC*") {
            let _ = from_self_cgroup(&text, true);
            let _ = v1_hierarchies(&text);
            if let Some(path) = unified_path(&text) {
                if let Manager::Ancestor(p) | Manager::Sibling(p) = find_manager(path, 1000) {
                    proptest::prop_assert!(sysfs(&p).starts_with(CGROUP_ROOT));
                }
            }
        }
    }
}
