//! Changes made to a box's tree before it boots (through the host path of the tree and
//! `chroot`): users, subordinate ids, masked units, installed files, a test image tarball.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use super::r#box::{BINARY_IN_BOX, BoxUser, NspawnBox};
use crate::util;

impl NspawnBox {
    /// The standard preparation every scenario starts from: user `dev` (with the subordinate ids
    /// Debian's useradd allocates, lingering so its manager starts at boot), user `nosub`
    /// (without subordinate ids), the system Docker units masked, and the binary installed.
    pub fn prepare(&self, binary: &Path) -> Result<()> {
        let dev = self.add_user("dev")?;
        if !self.subid_lines(&dev.name)?.0 {
            bail!("useradd gave dev no /etc/subuid entry; the tree's login.defs changed?");
        }
        self.add_user("nosub")?;
        self.strip_subids("nosub")?;
        self.enable_linger("dev")?;
        self.mask(&["docker.service", "docker.socket", "containerd.service"])?;
        self.install_file(binary, BINARY_IN_BOX, 0o755)
    }

    /// Creates a user with `useradd -m -s /bin/bash` in the tree (before boot).
    pub fn add_user(&self, name: &str) -> Result<BoxUser> {
        util::run_quiet(Command::new("chroot").arg(self.path("/")).args([
            "useradd",
            "-m",
            "-s",
            "/bin/bash",
            name,
        ]))?;
        self.note(&format!("useradd {name}"));
        self.lookup_user(name)
    }

    /// Finds a user in the tree's `/etc/passwd`.
    pub fn lookup_user(&self, name: &str) -> Result<BoxUser> {
        let passwd = fs::read_to_string(self.path("/etc/passwd"))?;
        passwd
            .lines()
            .map(|line| line.split(':').collect::<Vec<_>>())
            .find(|f| f.len() >= 7 && f[0] == name)
            .and_then(|f| {
                Some(BoxUser {
                    name: name.to_owned(),
                    uid: f[2].parse().ok()?,
                    gid: f[3].parse().ok()?,
                    home: f[5].to_owned(),
                })
            })
            .with_context(|| format!("no user {name} in the box's /etc/passwd"))
    }

    /// Whether `/etc/subuid` and `/etc/subgid` have a line for `name`.
    pub fn subid_lines(&self, name: &str) -> Result<(bool, bool)> {
        let has = |file: &str| -> Result<bool> {
            let text = fs::read_to_string(self.path(file)).unwrap_or_default();
            Ok(text.lines().any(|l| l.split(':').next() == Some(name)))
        };
        Ok((has("/etc/subuid")?, has("/etc/subgid")?))
    }

    /// Removes `name`'s lines from `/etc/subuid` and `/etc/subgid`.
    pub fn strip_subids(&self, name: &str) -> Result<()> {
        for file in ["/etc/subuid", "/etc/subgid"] {
            let path = self.path(file);
            let text = fs::read_to_string(&path).unwrap_or_default();
            let kept: String = text
                .lines()
                .filter(|l| l.split(':').next() != Some(name))
                .map(|l| format!("{l}\n"))
                .collect();
            fs::write(&path, kept).with_context(|| format!("writing {}", path.display()))?;
        }
        self.note(&format!("removed {name} from /etc/subuid and /etc/subgid"));
        Ok(())
    }

    /// Lets `name` run anything through sudo without a password (`/etc/sudoers.d/e2e-NAME`).
    pub fn allow_sudo(&self, name: &str) -> Result<()> {
        if !self.path("/usr/bin/sudo").is_file() {
            bail!("the box tree has no sudo (add it to the debootstrap package list in tree.rs)");
        }
        let sudoers = self.path(&format!("/etc/sudoers.d/e2e-{name}"));
        let rule = format!("{name} ALL=(ALL:ALL) NOPASSWD: ALL\n");
        fs::write(&sudoers, &rule).with_context(|| format!("writing {}", sudoers.display()))?;
        fs::set_permissions(&sudoers, fs::Permissions::from_mode(0o440))?;
        self.note(&format!("sudoers: {}", rule.trim_end()));
        Ok(())
    }

    /// Masks system units in the tree (a link to `/dev/null` in `/etc/systemd/system`).
    pub fn mask(&self, units: &[&str]) -> Result<()> {
        for unit in units {
            let link = self.path("/etc/systemd/system").join(unit);
            let _ = fs::remove_file(&link);
            std::os::unix::fs::symlink("/dev/null", &link)
                .with_context(|| format!("masking {unit}"))?;
        }
        self.note(&format!("masked {}", units.join(" ")));
        Ok(())
    }

    /// Copies a host file into the tree with the given mode (root-owned).
    pub fn install_file(&self, from: &Path, in_box: &str, mode: u32) -> Result<()> {
        let to = self.path(in_box);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(from, &to).with_context(|| format!("copying {} to {in_box}", from.display()))?;
        fs::set_permissions(&to, fs::Permissions::from_mode(mode))?;
        self.note(&format!("installed {} as {in_box}", from.display()));
        Ok(())
    }

    /// Writes a tarball holding the tree's static busybox and a few links to it at `in_box`
    /// (mode 0644), ready for `docker import`: an image without any registry.
    pub fn write_busybox_image(&self, in_box: &str) -> Result<()> {
        let staging = self.run_dir().join("image");
        util::remove_tree(&staging)?;
        fs::create_dir_all(staging.join("bin"))?;
        fs::create_dir_all(staging.join("tmp"))?;
        fs::copy(self.path("/usr/bin/busybox"), staging.join("bin/busybox"))
            .context("the tree has no /usr/bin/busybox (package busybox-static)")?;
        for applet in [
            "sh", "echo", "cat", "ls", "id", "sleep", "true", "wget", "ip",
        ] {
            std::os::unix::fs::symlink("busybox", staging.join("bin").join(applet))?;
        }
        self.write_tar(&staging, in_box)
    }

    /// Writes a tarball of everything under `staging` (owned by root) at `in_box`, mode 0644.
    pub fn write_tar(&self, staging: &Path, in_box: &str) -> Result<()> {
        let tarball = self.path(in_box);
        if let Some(parent) = tarball.parent() {
            fs::create_dir_all(parent)?;
        }
        util::run_quiet(
            Command::new("tar")
                .arg("-C")
                .arg(staging)
                .args(["--owner=0", "--group=0", "-cf"])
                .arg(&tarball)
                .arg("."),
        )?;
        fs::set_permissions(&tarball, fs::Permissions::from_mode(0o644))?;
        Ok(())
    }
}
