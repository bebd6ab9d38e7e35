//! The distribution, from `/etc/os-release` (or `/usr/lib/os-release`), and the per-family
//! package names and commands that fixes print.

use crate::host::Host;

/// Families whose package names and tools differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Debian, Ubuntu and derivatives (apt).
    Debian,
    /// Fedora, RHEL, CentOS, Rocky, Alma (dnf).
    Fedora,
    /// openSUSE and SLES (zypper).
    Suse,
    /// Arch and derivatives (pacman).
    Arch,
    /// Anything else: fixes name the package generically.
    Unknown,
}

/// A package a fix may need, named per family by [`Distro::package`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Package {
    /// newuidmap/newgidmap.
    Uidmap,
    /// The user D-Bus session.
    DbusUserSession,
    /// slirp4netns network driver.
    Slirp4netns,
    /// pasta network driver.
    Passt,
    /// fuse-overlayfs storage.
    FuseOverlayfs,
    Iptables,
    Rootlesskit,
    /// The Docker engine with its rootless extras.
    DockerEngine,
    /// The docker command-line client.
    DockerCli,
    Containerd,
    /// LXC (for `lxc-user-nic`).
    Lxc,
    /// openSUSE's rootless scripts for Docker.
    DockerRootlessExtras,
    /// nerdctl, which ships `containerd-rootless.sh`.
    Nerdctl,
    /// `getsubids`, which asks the name service for subordinate ids.
    Getsubids,
    Podman,
    /// Podman's container monitor.
    Conmon,
    /// The OCI runtime that runs without delegated cgroup controllers.
    Crun,
    /// `nft`, netavark's firewall program from netavark 1.12 on.
    Nftables,
    /// `openssl`, which checks the remote API's certificates.
    Openssl,
}

/// One family's package manager: the words before the package names, as advice for a person
/// (with `sudo`) and inside the root script (as root, never asking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageManager {
    pub install: &'static str,
    pub reinstall: &'static str,
    pub script_install: &'static str,
    pub script_reinstall: &'static str,
}

impl Family {
    /// The package manager; `None` for a family rootless-setup does not know.
    pub fn package_manager(self) -> Option<PackageManager> {
        let (install, reinstall, script_install, script_reinstall) = match self {
            Family::Debian => (
                "sudo apt-get install -y",
                "sudo apt-get install --reinstall -y",
                "DEBIAN_FRONTEND=noninteractive apt-get install -y",
                "DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall",
            ),
            Family::Fedora => (
                "sudo dnf install -y",
                "sudo dnf reinstall -y",
                "dnf install -y",
                "dnf reinstall -y",
            ),
            Family::Suse => (
                "sudo zypper install -y",
                "sudo zypper install -f -y",
                "zypper --non-interactive install",
                "zypper --non-interactive install --force",
            ),
            Family::Arch => (
                "sudo pacman -S --needed",
                "sudo pacman -S",
                "pacman -S --needed --noconfirm",
                "pacman -S --noconfirm",
            ),
            Family::Unknown => return None,
        };
        Some(PackageManager {
            install,
            reinstall,
            script_install,
            script_reinstall,
        })
    }

    /// The package name for this family.
    pub fn package(self, package: Package) -> &'static str {
        use Family::*;
        use Package::*;
        match (package, self) {
            (Uidmap, Debian) => "uidmap",
            (Uidmap, Fedora | Unknown) => "shadow-utils",
            (Uidmap, Suse | Arch) => "shadow",
            (DbusUserSession, Debian) => "dbus-user-session",
            (DbusUserSession, Fedora) => "dbus-broker",
            (DbusUserSession, Suse) => "dbus-1",
            (DbusUserSession, Arch | Unknown) => "dbus",
            (Slirp4netns, _) => "slirp4netns",
            (Passt, _) => "passt",
            (FuseOverlayfs, _) => "fuse-overlayfs",
            (Iptables, _) => "iptables",
            (Rootlesskit, _) => "rootlesskit",
            (DockerEngine, Debian) => "docker.io",
            (DockerEngine, Fedora) => "moby-engine",
            (DockerEngine, Suse | Arch | Unknown) => "docker",
            (DockerCli, Debian | Fedora) => "docker-cli",
            (DockerCli, Suse | Arch | Unknown) => "docker",
            (Containerd, _) => "containerd",
            (Lxc, _) => "lxc",
            (DockerRootlessExtras, _) => "docker-rootless-extras",
            (Nerdctl, _) => "nerdctl",
            (Podman, _) => "podman",
            (Conmon, _) => "conmon",
            (Crun, _) => "crun",
            (Nftables, _) => "nftables",
            (Openssl, _) => "openssl",
            (Getsubids, Fedora) => "shadow-utils-subid",
            (Getsubids, _) => self.package(Uidmap),
        }
    }

    /// The advice that installs (or reinstalls) `packages`, for a person to run.
    pub fn install_command(self, packages: &[Package], reinstall: bool) -> String {
        let names: Vec<&str> = packages.iter().map(|p| self.package(*p)).collect();
        let names = names.join(" ");
        match (self.package_manager(), reinstall) {
            (Some(pm), false) => format!("{} {names}", pm.install).trim_end().to_owned(),
            (Some(pm), true) => format!("{} {names}", pm.reinstall).trim_end().to_owned(),
            (None, false) => format!("install with your package manager: {names}")
                .trim_end()
                .to_owned(),
            (None, true) => format!("reinstall {names} with your package manager"),
        }
    }
}

/// What `/etc/os-release` says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Distro {
    /// `ID`, such as `debian`.
    pub id: String,
    /// `ID_LIKE`, split on spaces.
    pub id_like: Vec<String>,
    /// `VERSION_ID`, such as `12`.
    pub version_id: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
    /// The family derived from `ID` and `ID_LIKE`.
    pub family: Family,
}

impl Distro {
    /// Reads os-release from the host; an unknown distribution when neither file exists.
    pub fn detect(host: &Host) -> Distro {
        let text = ["/etc/os-release", "/usr/lib/os-release"]
            .iter()
            .find_map(|p| host.read(p).ok().flatten())
            .unwrap_or_default();
        Distro::parse(&text)
    }

    /// Parses os-release text (shell-style `KEY=value`, optionally quoted).
    pub fn parse(text: &str) -> Distro {
        let mut id = String::from("linux");
        let mut id_like = Vec::new();
        let mut version_id = None;
        let mut pretty_name = None;
        for line in text.lines() {
            let Some((key, value)) = line.trim().split_once('=') else {
                continue;
            };
            let value = value
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .to_owned();
            match key {
                "ID" => id = value.to_lowercase(),
                "ID_LIKE" => id_like = value.split_whitespace().map(str::to_lowercase).collect(),
                "VERSION_ID" => version_id = Some(value),
                "PRETTY_NAME" => pretty_name = Some(value),
                _ => {}
            }
        }
        let family = std::iter::once(id.as_str())
            .chain(id_like.iter().map(String::as_str))
            .find_map(|name| match name {
                "debian" | "ubuntu" => Some(Family::Debian),
                "fedora" | "rhel" | "centos" | "rocky" | "almalinux" => Some(Family::Fedora),
                "opensuse" | "suse" | "sles" | "opensuse-tumbleweed" | "opensuse-leap" => {
                    Some(Family::Suse)
                }
                "arch" => Some(Family::Arch),
                _ => None,
            })
            .unwrap_or(Family::Unknown);
        Distro {
            id,
            id_like,
            version_id,
            pretty_name,
            family,
        }
    }

    /// Whether this is Ubuntu at `major.minor` or later.
    pub fn is_ubuntu_at_least(&self, major: u32, minor: u32) -> bool {
        let version = self.version_id.as_deref().and_then(|v| {
            let (a, b) = v.split_once('.').unwrap_or((v, "0"));
            Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?))
        });
        self.id == "ubuntu" && version.is_some_and(|v| v >= (major, minor))
    }

    /// The package name for this family.
    pub fn package(&self, package: Package) -> &'static str {
        self.family.package(package)
    }

    /// The command that installs `packages` as root.
    pub fn install_command(&self, packages: &[Package]) -> String {
        self.family.install_command(packages, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_from_id_and_id_like() {
        let d = Distro::parse("ID=debian\nVERSION_ID=\"12\"\n");
        assert_eq!(
            (d.family, d.version_id.as_deref()),
            (Family::Debian, Some("12"))
        );
        assert_eq!(
            Distro::parse("ID=linuxmint\nID_LIKE=\"ubuntu debian\"").family,
            Family::Debian
        );
        assert_eq!(
            Distro::parse("ID=rocky\nID_LIKE=\"rhel centos fedora\"").family,
            Family::Fedora
        );
        assert_eq!(
            Distro::parse("ID=\"opensuse-tumbleweed\"").family,
            Family::Suse
        );
        assert_eq!(Distro::parse("ID=arch").family, Family::Arch);
        assert_eq!(Distro::parse("").family, Family::Unknown);
    }

    #[test]
    fn ubuntu_versions_compare_numerically() {
        let d = Distro::parse("ID=ubuntu\nVERSION_ID=\"24.04\"");
        assert!(d.is_ubuntu_at_least(23, 10));
        assert!(!Distro::parse("ID=ubuntu\nVERSION_ID=\"22.04\"").is_ubuntu_at_least(23, 10));
        assert!(!Distro::parse("ID=debian\nVERSION_ID=\"24\"").is_ubuntu_at_least(23, 10));
    }

    #[test]
    fn install_commands_per_family() {
        let d = Distro::parse("ID=fedora");
        assert_eq!(
            d.install_command(&[Package::Uidmap]),
            "sudo dnf install -y shadow-utils"
        );
        let d = Distro::parse("ID=debian");
        assert_eq!(
            d.install_command(&[Package::Uidmap, Package::DbusUserSession]),
            "sudo apt-get install -y uidmap dbus-user-session"
        );
        assert_eq!(
            Family::Suse.install_command(&[Package::Uidmap], true),
            "sudo zypper install -f -y shadow"
        );
        assert_eq!(
            Family::Arch.install_command(&[Package::Uidmap], true),
            "sudo pacman -S shadow"
        );
        assert_eq!(
            Family::Unknown.install_command(&[Package::Nerdctl], false),
            "install with your package manager: nerdctl"
        );
        assert_eq!(
            Family::Unknown.install_command(&[Package::Uidmap], true),
            "reinstall shadow-utils with your package manager"
        );
        assert_eq!(
            Family::Debian
                .package_manager()
                .map(|pm| pm.script_reinstall),
            Some("DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall")
        );
        assert_eq!(Family::Unknown.package_manager(), None);
        assert_eq!(
            Family::Fedora.package(Package::Getsubids),
            "shadow-utils-subid"
        );
        assert_eq!(Family::Suse.package(Package::Getsubids), "shadow");
    }
}
