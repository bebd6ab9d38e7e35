//! What a check's fix does, as data: a [`Remedy`] names the packages, sysctls, modules, files
//! and accounts involved. `check` shows a fix as the commands [`Remedy::commands`] renders for a
//! person (with `sudo`); `fix` builds its script from the same remedies and never reads a
//! finding's text. The files the remedies write are named here and only here.

use std::path::PathBuf;

use crate::MAX_USER_NAMESPACES_FIX;
use crate::distro::{Family, Package};
use crate::shell::{quote, quote_path};

/// The sysctl drop-in `fix` writes, and `check` names for the network sysctls.
pub const SYSCTL_DROPIN: &str = "/etc/sysctl.d/99-rootless.conf";

/// The sysctl drop-in `check` names for the user-namespace sysctls (`fix` puts every sysctl it
/// sets in [`SYSCTL_DROPIN`]).
pub const USERNS_SYSCTL_DROPIN: &str = "/etc/sysctl.d/99-rootless-setup-userns.conf";

/// The directory of drop-ins for every user manager (`user@.service`).
pub const DELEGATE_DIR: &str = "/etc/systemd/system/user@.service.d";

/// The drop-in that delegates cgroup controllers to every user manager.
pub const DELEGATE_CONF: &str = "/etc/systemd/system/user@.service.d/delegate.conf";

/// The controllers [`DELEGATE_CONF`] delegates.
pub const DELEGATED: [&str; 5] = ["cpu", "cpuset", "io", "memory", "pids"];

/// AppArmor's profile directory.
pub const APPARMOR_DIR: &str = "/etc/apparmor.d";

/// Where distributions install the id-mapping helpers: only a helper there is ever given its
/// privilege back.
pub const HELPER_DIRS: [&str; 4] = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"];

/// Where `modules-load.d` files live.
pub const MODULES_LOAD_DIR: &str = "/etc/modules-load.d";

/// A sysctl a fix sets, always to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sysctl {
    /// `kernel.unprivileged_userns_clone = 1` (Debian's and Arch's patch).
    UnprivilegedUsernsClone,
    /// `user.max_user_namespaces =` [`MAX_USER_NAMESPACES_FIX`].
    MaxUserNamespaces,
    /// `net.ipv4.ip_unprivileged_port_start = 0`.
    UnprivilegedPortStart,
    /// `net.ipv4.ping_group_range = 0 2147483647`.
    PingGroupRange,
}

impl Sysctl {
    pub fn key(self) -> &'static str {
        match self {
            Sysctl::UnprivilegedUsernsClone => "kernel.unprivileged_userns_clone",
            Sysctl::MaxUserNamespaces => "user.max_user_namespaces",
            Sysctl::UnprivilegedPortStart => "net.ipv4.ip_unprivileged_port_start",
            Sysctl::PingGroupRange => "net.ipv4.ping_group_range",
        }
    }

    /// The value a fix sets.
    pub fn value(self) -> &'static str {
        match self {
            Sysctl::UnprivilegedUsernsClone => "1",
            Sysctl::MaxUserNamespaces => MAX_USER_NAMESPACES_FIX,
            Sysctl::UnprivilegedPortStart => "0",
            Sysctl::PingGroupRange => "0 2147483647",
        }
    }

    /// The advice: set it now and in a drop-in for every boot.
    fn commands(self) -> Vec<String> {
        let (key, value) = (self.key(), self.value());
        match self {
            Sysctl::UnprivilegedUsernsClone | Sysctl::MaxUserNamespaces => vec![
                format!("sudo sysctl -w {key}={value}"),
                format!("echo '{key} = {value}' | sudo tee -a {USERNS_SYSCTL_DROPIN} >/dev/null"),
            ],
            Sysctl::UnprivilegedPortStart | Sysctl::PingGroupRange => {
                let line = if self == Sysctl::PingGroupRange {
                    format!("{key} = {value}")
                } else {
                    format!("{key}={value}")
                };
                vec![
                    format!("echo '{line}' | sudo tee -a {SYSCTL_DROPIN}"),
                    "sudo sysctl --system".to_owned(),
                ]
            }
        }
    }
}

/// Kernel modules a fix loads now and lists for every boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modules {
    /// The netfilter modules of the iptables backend in use.
    Iptables(Vec<String>),
    /// `tun`, for slirp4netns and pasta.
    Tun,
    /// `fuse`, for fuse-overlayfs.
    Fuse,
}

impl Modules {
    /// Short name: `iptables`, `tun`, `fuse`.
    pub fn name(&self) -> &'static str {
        match self {
            Modules::Iptables(_) => "iptables",
            Modules::Tun => "tun",
            Modules::Fuse => "fuse",
        }
    }

    pub fn modules(&self) -> Vec<String> {
        match self {
            Modules::Iptables(m) => m.clone(),
            Modules::Tun | Modules::Fuse => vec![self.name().to_owned()],
        }
    }

    /// The `modules-load.d` file both the advice and `fix` write.
    pub fn load_file(&self) -> String {
        format!("{MODULES_LOAD_DIR}/rootless-{}.conf", self.name())
    }

    /// Why the modules are needed, for the file's comment.
    pub fn purpose(&self) -> &'static str {
        match self {
            Modules::Iptables(_) => {
                "netfilter modules the rootless engine's iptables needs inside its user \
                 namespace, where they cannot be loaded on demand"
            }
            Modules::Tun => "tun, for slirp4netns and pasta (/dev/net/tun)",
            Modules::Fuse => "fuse, for fuse-overlayfs (/dev/fuse)",
        }
    }

    fn commands(&self) -> Vec<String> {
        match self {
            Modules::Iptables(m) => {
                let list = m.join(" ");
                vec![
                    format!("sudo modprobe -a {list}"),
                    format!("printf '%s\\n' {list} | sudo tee {}", self.load_file()),
                ]
            }
            Modules::Tun | Modules::Fuse => {
                let name = self.name();
                vec![
                    format!("sudo modprobe {name}"),
                    format!("echo {name} | sudo tee {}", self.load_file()),
                ]
            }
        }
    }
}

/// One of the id-mapping helpers as the check found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdmapHelper {
    /// `newuidmap` or `newgidmap`.
    pub name: &'static str,
    /// The capability it needs: `cap_setuid` or `cap_setgid`.
    pub cap: &'static str,
    /// `None` when it was not found.
    pub found: Option<HelperFile>,
}

/// A found helper file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperFile {
    /// The file itself (symbolic links resolved).
    pub path: String,
    pub owner: u32,
    /// Setuid root or carrying the capability.
    pub privileged: bool,
    /// On a `nosuid` mount.
    pub nosuid: bool,
}

/// One thing a fix does. [`Remedy::commands`] is its advice for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// A command for a person to run as written; `fix` shows it in a block by hand.
    Manual {
        command: String,
    },
    /// Install (or reinstall) packages with the family's package manager.
    InstallPackages {
        family: Family,
        packages: Vec<Package>,
        reinstall: bool,
    },
    SetSysctl(Sysctl),
    LoadModules(Modules),
    /// Make `/dev/net/tun` (now of mode `mode`) usable by everyone.
    OpenTun {
        mode: u32,
    },
    /// Turn linger on for the user.
    EnableLinger {
        user: String,
    },
    /// Delegate [`DELEGATED`] to every user manager in [`DELEGATE_CONF`].
    DelegateControllers,
    /// Boot with every controller on the unified cgroup hierarchy (the boot loader's kernel
    /// command line), then reboot.
    UnifiedCgroupBoot {
        family: Family,
        /// Controllers the cgroup v2 root does not offer; empty on a cgroup v1 boot.
        absent: Vec<String>,
    },
    /// Write an AppArmor profile that allows `userns` to rootlesskit, and reload AppArmor.
    AllowUserns {
        /// rootlesskit's real path.
        rootlesskit: String,
        /// The profile file the advice writes.
        file: String,
        /// The profile text the advice writes.
        profile: String,
    },
    /// Look at a home directory the check could not examine.
    InspectHome {
        home: PathBuf,
    },
    /// Create the missing home directory, owned by the user, mode 0700.
    CreateHome {
        home: PathBuf,
        uid: u32,
        gid: u32,
    },
    /// Give the home directory, now owned by `owner`, to the user.
    GiveHome {
        home: PathBuf,
        owner: u32,
        uid: u32,
        gid: u32,
    },
    /// Remove the user's own bad lines from the finding's subordinate-id file and add a free
    /// block when too few ids are left. The advice is in [`Remedy::Manual`] commands beside it;
    /// `fix` works the lines and the block out again from the files it reads (no commands).
    RepairSubids,
    /// The lines at fault in the subordinate-id file are other users' (no commands).
    OthersSubidLines,
    /// Both id-mapping helpers as found, so `fix` can install, restore or reinstall them (no
    /// commands: the advice is beside it).
    IdmapHelpers(Vec<IdmapHelper>),
}

impl Remedy {
    /// A command for a person.
    pub fn manual(command: impl Into<String>) -> Remedy {
        Remedy::Manual {
            command: command.into(),
        }
    }

    /// Install `packages` on `family`.
    pub fn install(family: Family, packages: &[Package]) -> Remedy {
        Remedy::InstallPackages {
            family,
            packages: packages.to_vec(),
            reinstall: false,
        }
    }

    /// The advice: the shell commands a person runs, in order.
    pub fn commands(&self) -> Vec<String> {
        match self {
            Remedy::Manual { command } => vec![command.clone()],
            Remedy::InstallPackages {
                family,
                packages,
                reinstall,
            } => vec![family.install_command(packages, *reinstall)],
            Remedy::SetSysctl(sysctl) => sysctl.commands(),
            Remedy::LoadModules(modules) => modules.commands(),
            Remedy::OpenTun { .. } => vec!["sudo chmod 0666 /dev/net/tun".to_owned()],
            Remedy::EnableLinger { user } => {
                vec![format!("sudo loginctl enable-linger {}", quote(user))]
            }
            Remedy::DelegateControllers => {
                vec![
                    format!("sudo mkdir -p {DELEGATE_DIR}"),
                    format!(
                        "printf '[Service]\\nDelegate={}\\n' | sudo tee {DELEGATE_CONF}",
                        DELEGATED.join(" ")
                    ),
                    "sudo systemctl daemon-reload".to_owned(),
                ]
            }
            Remedy::UnifiedCgroupBoot { family, .. } => {
                let arg = "systemd.unified_cgroup_hierarchy=1";
                let sed =
                    format!("sudo sed -i 's/^GRUB_CMDLINE_LINUX=\"/&{arg} /' /etc/default/grub");
                match family {
                    Family::Debian => vec![sed, "sudo update-grub".to_owned()],
                    Family::Fedora => {
                        vec![format!("sudo grubby --update-kernel=ALL --args={arg}")]
                    }
                    Family::Suse => vec![
                        sed,
                        "sudo grub2-mkconfig -o /boot/grub2/grub.cfg".to_owned(),
                    ],
                    Family::Arch | Family::Unknown => {
                        vec![sed, "sudo grub-mkconfig -o /boot/grub/grub.cfg".to_owned()]
                    }
                }
            }
            // Loads the one profile, with or without systemd, as the fix script does.
            Remedy::AllowUserns { file, profile, .. } => vec![
                format!("sudo tee {} >/dev/null <<'EOF'\n{profile}EOF", quote(file)),
                format!("sudo apparmor_parser -r {}", quote(file)),
            ],
            Remedy::InspectHome { home } => vec![format!("sudo ls -ld {}", quote_path(home))],
            Remedy::CreateHome { home, uid, gid } => vec![format!(
                "sudo install -d -o {uid} -g {gid} -m 0700 {}",
                quote_path(home)
            )],
            Remedy::GiveHome { home, uid, gid, .. } => {
                vec![format!("sudo chown {uid}:{gid} {}", quote_path(home))]
            }
            Remedy::RepairSubids | Remedy::OthersSubidLines | Remedy::IdmapHelpers(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delegation_drop_in_lies_in_the_user_manager_drop_in_directory() {
        assert_eq!(
            std::path::Path::new(DELEGATE_CONF).parent(),
            Some(std::path::Path::new(DELEGATE_DIR))
        );
    }

    #[test]
    fn each_module_set_says_what_it_is_for() {
        assert_eq!(
            Modules::Tun.purpose(),
            "tun, for slirp4netns and pasta (/dev/net/tun)"
        );
        assert_eq!(
            Modules::Fuse.purpose(),
            "fuse, for fuse-overlayfs (/dev/fuse)"
        );
        assert!(
            Modules::Iptables(vec!["ip_tables".into()])
                .purpose()
                .starts_with("netfilter modules the rootless engine's iptables needs")
        );
    }

    #[test]
    fn sysctls_render_their_drop_in_and_value() {
        assert_eq!(
            Remedy::SetSysctl(Sysctl::MaxUserNamespaces).commands(),
            [
                "sudo sysctl -w user.max_user_namespaces=15000",
                "echo 'user.max_user_namespaces = 15000' | sudo tee -a \
                 /etc/sysctl.d/99-rootless-setup-userns.conf >/dev/null"
            ]
        );
        assert_eq!(
            Remedy::SetSysctl(Sysctl::UnprivilegedPortStart).commands(),
            [
                "echo 'net.ipv4.ip_unprivileged_port_start=0' | sudo tee -a \
                 /etc/sysctl.d/99-rootless.conf",
                "sudo sysctl --system"
            ]
        );
        assert_eq!(
            Remedy::SetSysctl(Sysctl::PingGroupRange).commands()[0],
            "echo 'net.ipv4.ping_group_range = 0 2147483647' | sudo tee -a \
             /etc/sysctl.d/99-rootless.conf"
        );
    }

    #[test]
    fn modules_render_modprobe_and_a_load_file() {
        let iptables = Modules::Iptables(vec!["ip_tables".into(), "xt_nat".into()]);
        assert_eq!(
            iptables.load_file(),
            "/etc/modules-load.d/rootless-iptables.conf"
        );
        assert_eq!(
            Remedy::LoadModules(iptables).commands(),
            [
                "sudo modprobe -a ip_tables xt_nat",
                "printf '%s\\n' ip_tables xt_nat | sudo tee /etc/modules-load.d/rootless-iptables.conf"
            ]
        );
        assert_eq!(
            Remedy::LoadModules(Modules::Tun).commands(),
            [
                "sudo modprobe tun",
                "echo tun | sudo tee /etc/modules-load.d/rootless-tun.conf"
            ]
        );
        assert_eq!(Modules::Fuse.modules(), ["fuse"]);
        assert_eq!(
            Modules::Fuse.load_file(),
            "/etc/modules-load.d/rootless-fuse.conf"
        );
    }

    #[test]
    fn the_rest_render_as_a_person_runs_them() {
        assert_eq!(
            Remedy::install(Family::Fedora, &[Package::Uidmap, Package::Nerdctl]).commands(),
            ["sudo dnf install -y shadow-utils nerdctl"]
        );
        assert_eq!(
            Remedy::EnableLinger { user: "a b".into() }.commands(),
            ["sudo loginctl enable-linger 'a b'"]
        );
        assert_eq!(
            Remedy::DelegateControllers.commands(),
            [
                "sudo mkdir -p /etc/systemd/system/user@.service.d",
                "printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo tee \
                 /etc/systemd/system/user@.service.d/delegate.conf",
                "sudo systemctl daemon-reload"
            ]
        );
        assert_eq!(
            Remedy::CreateHome {
                home: "/home/a b".into(),
                uid: 1000,
                gid: 100
            }
            .commands(),
            ["sudo install -d -o 1000 -g 100 -m 0700 '/home/a b'"]
        );
        assert_eq!(
            Remedy::GiveHome {
                home: "/home/a".into(),
                owner: 0,
                uid: 1000,
                gid: 100
            }
            .commands(),
            ["sudo chown 1000:100 /home/a"]
        );
        assert_eq!(
            Remedy::AllowUserns {
                rootlesskit: "/usr/bin/rootlesskit".into(),
                file: "/etc/apparmor.d/usr.bin.rootlesskit".into(),
                profile: "p\n".into(),
            }
            .commands(),
            [
                "sudo tee /etc/apparmor.d/usr.bin.rootlesskit >/dev/null <<'EOF'\np\nEOF",
                "sudo apparmor_parser -r /etc/apparmor.d/usr.bin.rootlesskit"
            ]
        );
        assert_eq!(
            Remedy::InspectHome {
                home: "/home/it's".into()
            }
            .commands(),
            [r"sudo ls -ld '/home/it'\''s'"]
        );
        assert_eq!(
            Remedy::OpenTun { mode: 0o600 }.commands(),
            ["sudo chmod 0666 /dev/net/tun"]
        );
        assert_eq!(
            Remedy::UnifiedCgroupBoot {
                family: Family::Fedora,
                absent: Vec::new()
            }
            .commands(),
            ["sudo grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1"]
        );
        assert_eq!(
            Remedy::UnifiedCgroupBoot {
                family: Family::Suse,
                absent: vec!["cpu".into()]
            }
            .commands(),
            [
                "sudo sed -i 's/^GRUB_CMDLINE_LINUX=\"/&systemd.unified_cgroup_hierarchy=1 /' \
                 /etc/default/grub",
                "sudo grub2-mkconfig -o /boot/grub2/grub.cfg"
            ]
        );
        assert!(Remedy::IdmapHelpers(Vec::new()).commands().is_empty());
    }
}
