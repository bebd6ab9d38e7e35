//! `storage`: the engine's data-root, the filesystem it lives on (from `/proc/self/mountinfo`,
//! longest mount point above the nearest existing ancestor) and the storage driver that will work
//! there: overlay2 in a user namespace needs Linux 5.11 (or an Ubuntu kernel), otherwise
//! fuse-overlayfs, otherwise the slow and large vfs. Network filesystems cannot hold a rootless
//! data-root at all.

use std::path::{Component, Path, PathBuf};

use crate::context::Context;
use crate::mountinfo::{self, mount_of};
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::distro::Package;
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::init::{OSRELEASE, PROC_VERSION};
use rootless_setup_core::model::{Engine, Facts};
use rootless_setup_core::paths;
use rootless_setup_core::remedy::{Modules, Remedy};

use super::common;
use rootless_setup_core::version::version_numbers;

const ID: CheckId = CheckId::Storage;
const MOUNTINFO: &str = mountinfo::PATH;

/// Filesystems that cannot hold a rootless data-root: subordinate ids cannot own files there
/// and the extended attributes overlay needs are missing.
const NETWORK_FS: [&str; 5] = ["nfs", "nfs4", "cifs", "smb3", "smbfs"];

/// `major.minor` of a kernel release such as `6.1.0-18-amd64`.
fn kernel_version(release: &str) -> Option<(u64, u64)> {
    match version_numbers(release)[..] {
        [major, minor, ..] => Some((major, minor)),
        _ => None,
    }
}

/// The storage driver that will work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driver {
    Overlay2,
    FuseOverlayfs,
    Vfs,
}

impl Driver {
    /// The name the engine uses: Docker's storage driver or containerd's snapshotter.
    fn name(self, engine: Engine) -> &'static str {
        match self {
            Driver::Overlay2 => engine.spec().overlay_driver,
            Driver::FuseOverlayfs => "fuse-overlayfs",
            Driver::Vfs => engine.spec().copy_driver,
        }
    }
}

/// Where the data-root is, and where that came from.
fn data_root(cx: &Context<'_>, facts: &Facts) -> Option<(PathBuf, &'static str)> {
    if let Some(p) = &cx.options.data_root {
        return Some((p.clone(), "option"));
    }
    let (data_home, from) = match paths::xdg_dir(cx.caller.var("XDG_DATA_HOME")) {
        Some(xdg) => (xdg, "XDG_DATA_HOME"),
        None => (
            paths::data_home(None, &common::home_dir(cx, facts)?),
            "home",
        ),
    };
    Some((paths::default_data_root(cx.engine, &data_home), from))
}

/// Checks the data-root's filesystem and picks the storage driver.
pub(crate) fn storage(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    let Some((root, from)) = data_root(cx, facts) else {
        return Finding::skip(
            ID,
            "no home directory known (the user check found no account and HOME is unset), so the data-root is unknown",
        );
    };
    if !root.is_absolute() || root.components().any(|c| c == Component::ParentDir) {
        return Finding::fail(
            ID,
            format!("data-root {} is not an absolute path", root.display()),
        )
        .observe("data_root", root.display())
        .observe("data_root_from", from)
        .why(
            "the engine resolves a relative data-root against its own working directory, not yours",
        )
        .fix(Fix::user(ID, "give the data-root as an absolute path"));
    }
    let ancestor = root
        .ancestors()
        .find(|a| cx.host.exists(a))
        .unwrap_or_else(|| Path::new("/"))
        .to_path_buf();
    let resolved = cx
        .host
        .canonicalize(&ancestor)
        .unwrap_or_else(|| ancestor.clone());
    let mut seen: Vec<(&'static str, String)> = vec![
        ("data_root", root.display().to_string()),
        ("data_root_from", from.to_owned()),
        ("existing_ancestor", resolved.display().to_string()),
    ];
    let observe = |f: Finding, seen: &[(&'static str, String)]| {
        seen.iter().fold(f, |f, (k, v)| f.observe(*k, v))
    };

    let mounts = match cx.memo.mounts(cx.host) {
        Ok(Some(mounts)) => mounts,
        Ok(None) => &[],
        Err(e) => {
            return observe(Finding::warn(ID, format!("could not read {MOUNTINFO}: {}", e.source)), &seen)
                .why("without it the data-root's filesystem is unknown; NFS and tmpfs cannot be ruled out");
        }
    };
    let Some(mount) = mount_of(mounts, &resolved) else {
        return observe(
            Finding::warn(
                ID,
                format!("no mount in {MOUNTINFO} holds {}", resolved.display()),
            ),
            &seen,
        )
        .why(
            "without it the data-root's filesystem is unknown; NFS and tmpfs cannot be ruled out",
        );
    };
    seen.push(("filesystem", mount.fstype.clone()));
    seen.push(("mount_point", mount.mount_point.display().to_string()));
    seen.push(("mount_source", mount.source.clone()));
    let fstype = mount.fstype.as_str();

    if NETWORK_FS.contains(&fstype) {
        let user = facts
            .account
            .as_ref()
            .map_or_else(|| "$(id -un)".to_owned(), |a| a.name.clone());
        let local = format!("/var/lib/rootless-containers/{user}");
        return observe(
            Finding::fail(ID, format!("data-root {} is on {fstype} ({}), which a rootless engine cannot use", root.display(), mount.mount_point.display())),
            &seen,
        )
        .why(format!("files of containers belong to your subordinate ids and carry extended attributes; {fstype} can store neither for an unprivileged user, so pulling images fails"))
        .fix(
            Fix::root(ID, format!("create a directory on a local filesystem for the user and install with --data-root {local}/{}", cx.engine.as_str()))
                .cmd(format!("sudo mkdir -p {local}"))
                .cmd(format!("sudo chown {user}: {local}")),
        );
    }

    let support = Support::gather(cx, facts);
    seen.extend(support.observations());
    verdict(cx, &root, fstype, &support, &seen)
}

/// What the kernel and the host offer besides the data-root's filesystem.
struct Support {
    /// `uname -r`, empty when unknown.
    release: String,
    kernel: Option<(u64, u64)>,
    /// Ubuntu's kernel mounts overlayfs in a user namespace before 5.11.
    ubuntu_kernel: bool,
    dev_fuse: bool,
    fuse_binary: Option<PathBuf>,
}

impl Support {
    fn gather(cx: &Context<'_>, facts: &Facts) -> Support {
        let release = cx
            .host
            .read_value(OSRELEASE)
            .ok()
            .flatten()
            .unwrap_or_default();
        let ubuntu_kernel = cx.distro.id == "ubuntu"
            || cx
                .host
                .read(PROC_VERSION)
                .ok()
                .flatten()
                .is_some_and(|v| v.contains("Ubuntu"));
        let fuse_binary = facts
            .binary("fuse-overlayfs")
            .map(|b| b.path.clone())
            .or_else(|| {
                let dirs = common::path_then(cx.caller, &["/usr/local/bin", "/usr/bin", "/bin"]);
                cx.host
                    .find_executable("fuse-overlayfs", dirs.iter().map(PathBuf::as_path))
            });
        Support {
            kernel: kernel_version(&release),
            release,
            ubuntu_kernel,
            dev_fuse: cx.host.exists("/dev/fuse"),
            fuse_binary,
        }
    }

    fn observations(&self) -> [(&'static str, String); 3] {
        [
            (
                "kernel",
                if self.release.is_empty() {
                    "unknown".to_owned()
                } else {
                    self.release.clone()
                },
            ),
            (
                "dev_fuse",
                if self.dev_fuse { "present" } else { "missing" }.to_owned(),
            ),
            (
                "fuse_overlayfs",
                self.fuse_binary
                    .as_ref()
                    .map_or_else(|| "not found".to_owned(), |p| p.display().to_string()),
            ),
        ]
    }

    /// FUSE works in a user namespace (4.18).
    fn fuse_in_userns(&self) -> bool {
        self.kernel.is_some_and(|k| k >= (4, 18))
    }

    /// The driver the engine would use on a data-root of `fstype`.
    fn driver(&self, fstype: &str) -> Driver {
        let overlay_in_userns = self.kernel.is_some_and(|k| k >= (5, 11)) || self.ubuntu_kernel;
        if fstype != "overlay" && overlay_in_userns {
            Driver::Overlay2
        } else if self.fuse_binary.is_some() && self.dev_fuse && self.fuse_in_userns() {
            Driver::FuseOverlayfs
        } else {
            Driver::Vfs
        }
    }
}

/// The storage driver on a local data-root `root` of `fstype`, and what it costs.
fn verdict(
    cx: &Context<'_>,
    root: &Path,
    fstype: &str,
    support: &Support,
    seen: &[(&'static str, String)],
) -> Finding {
    let mut seen = seen.to_vec();
    let observe = |f: Finding, seen: &[(&'static str, String)]| {
        seen.iter().fold(f, |f, (k, v)| f.observe(*k, v))
    };
    let Support {
        kernel,
        dev_fuse,
        fuse_binary,
        ..
    } = support;
    let (kernel, dev_fuse) = (*kernel, *dev_fuse);
    let fuse_in_userns = support.fuse_in_userns();
    let driver = support.driver(fstype);
    let name = driver.name(cx.engine);
    seen.push(("driver", name.to_owned()));
    let kernel_text = kernel.map_or_else(
        || "an unknown kernel".to_owned(),
        |(a, b)| format!("Linux {a}.{b}"),
    );
    let why_overlay = if fstype == "overlay" {
        "the data-root is itself on overlayfs, which cannot be the upper layer of another overlay"
            .to_owned()
    } else {
        format!(
            "{kernel_text} cannot mount overlayfs in a user namespace (needs 5.11, or an Ubuntu kernel)"
        )
    };

    if driver == Driver::Vfs {
        let mut fix = Fix::root(
            ID,
            "install fuse-overlayfs so the engine can use it instead of vfs",
        );
        if !fuse_in_userns {
            fix = Fix::root(
                ID,
                format!(
                    "upgrade the kernel: {kernel_text} has neither overlayfs nor FUSE in user namespaces (4.18 for fuse-overlayfs, 5.11 for overlay2)"
                ),
            );
        } else {
            if fuse_binary.is_none() {
                fix = fix.remedy(Remedy::install(cx.distro.family, &[Package::FuseOverlayfs]));
            }
            if !dev_fuse {
                fix = fix.remedy(Remedy::LoadModules(Modules::Fuse));
            }
        }
        return observe(
            Finding::warn(ID, format!("storage driver {name}: {why_overlay}, and fuse-overlayfs is not usable (binary {}, /dev/fuse {})",
                if fuse_binary.is_some() { "found" } else { "missing" },
                if dev_fuse { "present" } else { "missing" })),
            &seen,
        )
        .why(format!("{name} copies every image layer in full: pulls and container starts are slow and images take several times the disk space"))
        .fix(fix);
    }
    if fstype == "tmpfs" {
        return observe(
            Finding::warn(ID, format!("data-root {} is on tmpfs: images and containers are lost at reboot (driver {name})", root.display())),
            &seen,
        )
        .why("tmpfs lives in memory: everything the engine stores disappears at reboot and competes with programs for RAM")
        .fix(Fix::user(ID, "choose a data-root on a persistent filesystem (install --data-root DIR)"));
    }
    let how = match driver {
        Driver::Overlay2 if kernel.is_some_and(|k| k >= (5, 11)) => {
            format!("{kernel_text} mounts overlayfs in a user namespace")
        }
        Driver::Overlay2 => format!(
            "{kernel_text} is an Ubuntu kernel, which mounts overlayfs in a user namespace before 5.11"
        ),
        _ => format!("{why_overlay}; fuse-overlayfs works instead"),
    };
    observe(
        Finding::pass(ID, format!("storage driver {name} on {fstype} ({how})")),
        &seen,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::caller::Caller;
    use crate::testing::{Harness, ScriptedSystem};
    use rootless_setup_core::finding::Status;
    use rootless_setup_core::model::Binary;
    use rootless_setup_core::testing::Fixture;

    const ROOT_EXT4: &str =
        "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n";

    fn fixture(kernel: &str, mounts: &str) -> Fixture {
        let fx = Fixture::new();
        fx.file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
            .file(OSRELEASE, &format!("{kernel}\n"))
            .file(MOUNTINFO, mounts)
            .dir("/home/alice");
        fx
    }

    fn facts() -> Facts {
        Facts {
            account: Some(rootless_setup_core::testing::account(
                "alice",
                1000,
                "/home/alice",
            )),
            ..Facts::default()
        }
    }

    fn run_with(fx: &Fixture, facts: &mut Facts, setup: impl FnOnce(&mut Harness)) -> Finding {
        let mut h = Harness::new(fx, Caller::new(1000, 1000), ScriptedSystem::new());
        setup(&mut h);
        storage(&h.context(), facts)
    }

    fn run(fx: &Fixture) -> Finding {
        run_with(fx, &mut facts(), |_| {})
    }

    #[test]
    fn a_new_kernel_on_ext4_uses_overlay2() {
        let fx = fixture("6.1.0-18-amd64", ROOT_EXT4);
        let f = run(&fx);
        assert_eq!(f.status, Status::Pass, "{f:?}");
        assert_eq!(
            f.observed("data_root"),
            Some("/home/alice/.local/share/docker")
        );
        assert_eq!(f.observed("data_root_from"), Some("home"));
        assert_eq!(f.observed("existing_ancestor"), Some("/home/alice"));
        assert_eq!(f.observed("filesystem"), Some("ext4"));
        assert_eq!(f.observed("mount_point"), Some("/"));
        assert_eq!(f.observed("kernel"), Some("6.1.0-18-amd64"));
        assert_eq!(f.observed("driver"), Some("overlay2"));
    }

    #[test]
    fn the_longest_mount_point_wins_and_xdg_data_home_counts() {
        let fx = fixture(
            "5.15.0-1-generic",
            &format!(
                "{ROOT_EXT4}30 22 0:40 / /home rw,relatime shared:2 - btrfs /dev/vda2 rw\n31 22 0:41 / /home/al rw - nfs4 srv:/al rw\n"
            ),
        );
        let f = run_with(&fx, &mut facts(), |h| {
            h.caller = Caller::new(1000, 1000).with_var("XDG_DATA_HOME", "/home/alice/xdg");
        });
        assert_eq!(f.status, Status::Pass);
        assert_eq!(f.observed("data_root"), Some("/home/alice/xdg/docker"));
        assert_eq!(f.observed("data_root_from"), Some("XDG_DATA_HOME"));
        assert_eq!(
            f.observed("mount_point"),
            Some("/home"),
            "/home/al is not a prefix of /home/alice"
        );
        assert_eq!(f.observed("filesystem"), Some("btrfs"));
    }

    #[test]
    fn nfs_fails() {
        let fx = fixture(
            "6.1.0-18-amd64",
            &format!(
                "{ROOT_EXT4}40 22 0:50 / /home rw,relatime shared:5 - nfs4 fileserver:/export/home rw,vers=4.2\n"
            ),
        );
        let f = run(&fx);
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("is on nfs4 (/home)"), "{}", f.summary);
        assert_eq!(f.observed("mount_source"), Some("fileserver:/export/home"));
        let fix = f.fix.unwrap();
        assert!(fix.root);
        assert_eq!(
            fix.commands,
            vec![
                "sudo mkdir -p /var/lib/rootless-containers/alice",
                "sudo chown alice: /var/lib/rootless-containers/alice"
            ]
        );
        assert!(
            fix.summary
                .contains("--data-root /var/lib/rootless-containers/alice/docker")
        );
    }

    #[test]
    fn an_old_kernel_uses_fuse_overlayfs_when_it_can() {
        let fx = fixture("5.10.0-28-amd64", ROOT_EXT4);
        fx.file("/dev/fuse", "");
        let mut facts = facts();
        facts.binaries.insert(
            "fuse-overlayfs".into(),
            Binary {
                name: "fuse-overlayfs".into(),
                path: "/usr/bin/fuse-overlayfs".into(),
                version: Some("1.10".into()),
            },
        );
        let f = run_with(&fx, &mut facts, |_| {});
        assert_eq!(f.status, Status::Pass);
        assert_eq!(f.observed("driver"), Some("fuse-overlayfs"));
        assert!(f.summary.contains("Linux 5.10 cannot mount overlayfs"));
    }

    #[test]
    fn an_old_kernel_without_fuse_overlayfs_warns_about_vfs() {
        let fx = fixture("5.10.0-28-amd64", ROOT_EXT4);
        let f = run(&fx);
        assert_eq!(f.status, Status::Warn);
        assert_eq!(f.observed("driver"), Some("vfs"));
        assert_eq!(f.observed("dev_fuse"), Some("missing"));
        let fix = f.fix.unwrap();
        assert!(fix.root);
        assert_eq!(
            fix.commands,
            vec![
                "sudo apt-get install -y fuse-overlayfs",
                "sudo modprobe fuse",
                "echo fuse | sudo tee /etc/modules-load.d/rootless-fuse.conf"
            ]
        );
        // Found on PATH without engine.binaries having run.
        fx.exe("/usr/bin/fuse-overlayfs").file("/dev/fuse", "");
        let f = run(&fx);
        assert_eq!(f.status, Status::Pass);
        assert_eq!(
            f.observed("fuse_overlayfs"),
            Some("/usr/bin/fuse-overlayfs")
        );
    }

    #[test]
    fn ubuntu_kernels_mount_overlay_before_5_11() {
        let fx = fixture("5.4.0-150-generic", ROOT_EXT4);
        fx.file("/proc/version", "Linux version 5.4.0-150-generic (buildd@lcy02-amd64-001) (gcc version 9.4.0 (Ubuntu 9.4.0-1ubuntu1~20.04.1))\n");
        let f = run(&fx);
        assert_eq!(f.status, Status::Pass);
        assert_eq!(f.observed("driver"), Some("overlay2"));
        assert!(f.summary.contains("Ubuntu kernel"));
    }

    #[test]
    fn a_very_old_kernel_needs_an_upgrade() {
        let fx = fixture("4.9.0-19-amd64", ROOT_EXT4);
        fx.exe("/usr/bin/fuse-overlayfs").file("/dev/fuse", "");
        let f = run(&fx);
        assert_eq!(f.status, Status::Warn);
        let fix = f.fix.unwrap();
        assert!(fix.summary.starts_with("upgrade the kernel"));
        assert!(fix.commands.is_empty());
    }

    #[test]
    fn tmpfs_warns_and_overlay_cannot_stack() {
        let fx = fixture("6.6.0-1-amd64", "22 1 0:30 / / rw - tmpfs tmpfs rw\n");
        let f = run(&fx);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("lost at reboot"));
        assert!(!f.fix.unwrap().root);

        let fx = fixture(
            "6.6.0-1-amd64",
            "22 1 0:30 / / rw - overlay overlay rw,lowerdir=/a\n",
        );
        let f = run(&fx);
        assert_eq!(f.status, Status::Warn);
        assert_eq!(f.observed("driver"), Some("vfs"));
        assert!(f.summary.contains("itself on overlayfs"), "{}", f.summary);
    }

    #[test]
    fn containerd_and_an_explicit_data_root() {
        let fx = fixture(
            "6.1.0-18-amd64",
            &format!("{ROOT_EXT4}50 22 8:17 / /srv/my\\040data rw - xfs /dev/sdb1 rw\n"),
        );
        fx.dir("/srv/my data");
        let f = run_with(&fx, &mut facts(), |h| {
            h.engine = Engine::Containerd;
            h.options.data_root = Some("/srv/my data/ctr".into());
        });
        assert_eq!(f.status, Status::Pass);
        assert_eq!(f.observed("data_root_from"), Some("option"));
        assert_eq!(f.observed("mount_point"), Some("/srv/my data"));
        assert_eq!(f.observed("driver"), Some("overlayfs"));

        let f = run_with(&fx, &mut facts(), |h| {
            h.options.data_root = Some("relative/dir".into());
        });
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("not an absolute path"));
    }

    #[test]
    fn no_home_skips_and_no_mountinfo_warns() {
        let fx = fixture("6.1.0", ROOT_EXT4);
        let f = run_with(&fx, &mut Facts::default(), |_| {});
        assert_eq!(f.status, Status::Skip);

        let fx = fixture("6.1.0", "");
        let f = run(&fx);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("no mount"));
    }

    #[test]
    fn kernel_versions_parse() {
        assert_eq!(kernel_version("6.1.0-18-amd64"), Some((6, 1)));
        assert_eq!(kernel_version("5.11"), Some((5, 11)));
        assert_eq!(kernel_version("6"), None);
        assert_eq!(kernel_version("x"), None);
    }
}
