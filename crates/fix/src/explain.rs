//! `rootless-setup explain ID`: the root fix of a check on each distribution family, made by the
//! same code as the script from a typical finding of that check (user alice, uid 1000, with
//! bob already holding 100000-165535), so the documentation cannot drift from the script.

use std::path::PathBuf;

use rootless_setup_core::distro::{Family, Package};
use rootless_setup_core::model::Account;
use rootless_setup_core::remedy::{HelperFile, IdmapHelper, Modules, Remedy, Sysctl};
use rootless_setup_core::{CheckId, Distro, Finding, Fix};

use crate::error::FixError;
use crate::script::fragment;
use crate::steps::build;
use crate::target::{HostFiles, Target};

/// The families, as `explain` names them, with an os-release that selects each.
pub const FAMILIES: [(&str, &str); 4] = [
    (
        "Debian/Ubuntu",
        "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\nPRETTY_NAME=\"Ubuntu 24.04\"",
    ),
    (
        "Fedora/RHEL",
        "ID=fedora\nVERSION_ID=41\nPRETTY_NAME=\"Fedora Linux 41\"",
    ),
    (
        "openSUSE",
        "ID=opensuse-tumbleweed\nID_LIKE=\"opensuse suse\"\nPRETTY_NAME=\"openSUSE Tumbleweed\"",
    ),
    ("Arch", "ID=arch\nPRETTY_NAME=\"Arch Linux\""),
];

/// The example host: alice (uid 1000) and bob, who holds the first block.
fn target(distro: Distro) -> Result<Target, FixError> {
    Target::new(
        distro,
        Account {
            name: "alice".to_owned(),
            uid: 1000,
            gid: 1000,
            home: PathBuf::from("/home/alice"),
            shell: "/bin/bash".to_owned(),
        },
        HostFiles {
            subuid: Some("bob:100000:65536\n".to_owned()),
            subgid: Some("bob:100000:65536\n".to_owned()),
            passwd: "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n\
                     bob:x:1001:1001::/home/bob:/bin/bash\n"
                .to_owned(),
            group: "root:x:0:\nalice:x:1000:\nbob:x:1001:\n".to_owned(),
            usermod: true,
            apparmor_abi4: true,
            ..HostFiles::default()
        },
    )
}

/// A typical failing finding of `id` on `distro`, with the remedies the script is built from;
/// `None` when the check has no root fix there.
fn example(id: CheckId, distro: &Distro) -> Option<Finding> {
    let root = |summary: &str| Fix::root(id, summary);
    let family = distro.family;
    let install = |package: Package| Remedy::install(family, &[package]);
    let helper = |name, cap, privileged| IdmapHelper {
        name,
        cap,
        found: Some(HelperFile {
            path: format!("/usr/bin/{name}"),
            owner: 0,
            privileged,
            nosuid: false,
        }),
    };
    let f = match id {
        CheckId::User => Finding::fail(id, "home directory /home/alice does not exist").fix(
            root("create the home directory, owned by the user").remedy(Remedy::CreateHome {
                home: PathBuf::from("/home/alice"),
                uid: 1000,
                gid: 1000,
            }),
        ),
        CheckId::SessionLinger => Finding::warn(id, "linger is off for alice").fix(
            root("enable linger").remedy(Remedy::EnableLinger {
                user: "alice".to_owned(),
            }),
        ),
        CheckId::SessionBus if family == Family::Debian => {
            Finding::fail(id, "no user bus socket at /run/user/1000/bus")
                .fix(root("install dbus-user-session").remedy(install(Package::DbusUserSession)))
        }
        CheckId::SubidUid | CheckId::SubidGid => {
            let (noun, path) = if id == CheckId::SubidUid {
                ("uid", "/etc/subuid")
            } else {
                ("gid", "/etc/subgid")
            };
            Finding::fail(
                id,
                format!("alice (uid 1000) has no subordinate {noun}s in {path}"),
            )
            .fix(root("give alice a free block").remedy(Remedy::RepairSubids))
        }
        CheckId::Uidmap => Finding::fail(id, "/usr/bin/newuidmap is neither setuid root nor carries cap_setuid (mode 0755)")
            .fix(root("restore the helper's privilege").remedy(Remedy::IdmapHelpers(vec![
                helper("newuidmap", "cap_setuid", false),
                helper("newgidmap", "cap_setgid", true),
            ]))),
        CheckId::UsernsSysctl => Finding::fail(id, "user.max_user_namespaces is 0")
            .fix(root("allow user namespaces").remedy(Remedy::SetSysctl(Sysctl::MaxUserNamespaces))),
        CheckId::UsernsApparmor if family == Family::Debian => Finding::fail(
            id,
            "AppArmor restricts unprivileged user namespaces and no profile in /etc/apparmor.d grants `userns` to /usr/local/bin/rootlesskit",
        )
        .fix(root("write a profile").remedy(Remedy::AllowUserns {
            rootlesskit: "/usr/local/bin/rootlesskit".to_owned(),
            file: "/etc/apparmor.d/usr.local.bin.rootlesskit".to_owned(),
            profile: String::new(),
        })),
        CheckId::Cgroup => Finding::warn(id, "cgroup v2, but cpu not delegated to user@1000.service")
            .fix(root("delegate the controllers").remedy(Remedy::DelegateControllers)),
        CheckId::NetworkPorts => Finding::warn(id, "ports below 1024 cannot be published: ip_unprivileged_port_start = 1024 and rootlesskit lacks cap_net_bind_service")
            .fix(root("let unprivileged users bind every port").remedy(Remedy::SetSysctl(Sysctl::UnprivilegedPortStart))),
        CheckId::NetworkPing => Finding::warn(id, "ping sockets are disabled for every group (ping_group_range = 1 0): ping inside containers fails")
            .fix(root("allow ping sockets for every group").remedy(Remedy::SetSysctl(Sysctl::PingGroupRange))),
        CheckId::NetworkIptables => Finding::fail(id, "iptables 1.8.10 (nf_tables) fails in a user namespace at the nat table: iptables-restore v1.8.10 (nf_tables): Table does not exist (exit 1)")
            .fix(root("load the modules").remedy(Remedy::LoadModules(Modules::Iptables(
                "nf_tables nft_chain_nat nft_compat nf_nat xt_conntrack xt_addrtype xt_MASQUERADE"
                    .split(' ')
                    .map(str::to_owned)
                    .collect(),
            )))),
        CheckId::NetworkDriver => Finding::fail(id, "no network driver installed: none of slirp4netns, vpnkit found")
            .fix(root("install slirp4netns").remedy(install(Package::Slirp4netns))),
        CheckId::Storage => Finding::warn(id, "storage driver vfs: Linux 5.4 cannot mount overlayfs in a user namespace, and fuse-overlayfs is not usable (binary missing, /dev/fuse present)")
            .fix(root("install fuse-overlayfs").remedy(install(Package::FuseOverlayfs))),
        CheckId::EngineBinaries => Finding::fail(id, "rootlesskit not found")
            .fix(root("install the engine's rootless programs").remedy(install(Package::Rootlesskit))),
        CheckId::EngineSmoke => Finding::fail(id, "rootlesskit exited with 1: failed to open /dev/net/tun")
            .fix(root("load the tun module").remedy(Remedy::LoadModules(Modules::Tun))),
        _ => return None,
    };
    Some(f)
}

/// For each family, the block `rootless-setup fix` writes for a typical failure of `id`
/// (`None` where the check has no root fix on that family). Empty when the check never has one.
pub fn per_family(id: CheckId) -> Result<Vec<(&'static str, Option<String>)>, FixError> {
    let mut out = Vec::new();
    for (label, os_release) in FAMILIES {
        let distro = Distro::parse(os_release);
        let Some(finding) = example(id, &distro) else {
            out.push((label, None));
            continue;
        };
        let target = target(distro)?;
        let collected = build(std::slice::from_ref(&finding), &target)?;
        let mut text = String::new();
        for step in &collected.steps {
            text.push_str(&fragment(step, target.distro.family)?);
        }
        for line in &collected.after {
            crate::script::comment(&mut text, "", "after running it: ", line);
        }
        out.push((label, Some(text)));
    }
    if out.iter().all(|(_, t)| t.is_none()) {
        out.clear();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subid_on_every_family_hands_out_the_first_free_block() {
        let all = per_family(CheckId::SubidUid).unwrap();
        assert_eq!(all.len(), 4);
        for (label, text) in all {
            let text = text.unwrap_or_else(|| panic!("{label}"));
            assert!(
                text.contains("usermod --add-subuids 165536-231071 alice"),
                "{label}: {text}"
            );
            assert!(text.contains("expect_free 165536 65536"), "{text}");
        }
    }

    #[test]
    fn package_names_differ_per_family() {
        let all = per_family(CheckId::NetworkDriver).unwrap();
        let texts: Vec<String> = all
            .into_iter()
            .map(|(_, t)| t.unwrap_or_default())
            .collect();
        assert!(texts[0].contains("apt-get install -y slirp4netns"));
        assert!(texts[1].contains("dnf install -y slirp4netns"));
        assert!(texts[2].contains("zypper --non-interactive install slirp4netns"));
        assert!(texts[3].contains("pacman -S --needed --noconfirm slirp4netns"));
        let uidmap = per_family(CheckId::Uidmap).unwrap();
        assert!(
            uidmap[0]
                .1
                .as_deref()
                .unwrap_or_default()
                .contains("chmod u+s /usr/bin/newuidmap")
        );
        assert!(
            uidmap[1]
                .1
                .as_deref()
                .unwrap_or_default()
                .contains("setcap cap_setuid=ep /usr/bin/newuidmap")
        );
    }

    #[test]
    fn checks_without_root_fixes_have_no_section() {
        assert!(per_family(CheckId::EnvClient).unwrap().is_empty());
        let apparmor = per_family(CheckId::UsernsApparmor).unwrap();
        assert!(apparmor[0].1.is_some() && apparmor[1].1.is_none());
    }
}
