//! Kernel modules and devices: the netfilter modules `network.iptables` found missing inside a
//! user namespace (where nothing can load them on demand), `tun` for slirp4netns
//! (`engine.smoke`) and `fuse` for fuse-overlayfs (`storage`), each a [`Remedy::LoadModules`].
//! Each is loaded now and listed in its `/etc/modules-load.d/` file ([`Modules::load_file`])
//! from `crates/fix/templates/modules-load.conf.j2` for every boot.

use rootless_setup_core::Finding;
use rootless_setup_core::distro::Family;
use rootless_setup_core::remedy::{Modules, Remedy};

use super::generic::{install, packages};
use super::{base, manual, remedies};
use crate::error::FixError;
use crate::model::{Command, Step};
use crate::target::Target;
use crate::templates;

/// A kernel module name.
fn module_name(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The modules the finding's fix loads, if any.
fn modules(finding: &Finding) -> Option<&Modules> {
    remedies(finding).iter().find_map(|r| match r {
        Remedy::LoadModules(m) => Some(m),
        _ => None,
    })
}

/// Writes the modules' `modules-load.d` file and loads them now.
fn load(step: Step, modules: &Modules) -> Result<Step, FixError> {
    let path = modules.load_file();
    let names = modules.modules();
    let mut modprobe = vec!["modprobe".to_owned(), "-a".to_owned()];
    modprobe.extend(names.iter().cloned());
    Ok(step
        .note(
            "does",
            format!(
                "loads {} now and lists them in {path} for every boot",
                names.join(" ")
            ),
        )
        .command(Command::Write {
            path,
            text: templates::modules_load(modules.purpose(), &names)?,
        })
        .command(Command::run(modprobe)))
}

/// `network.iptables`: the backend's modules, or (iptables missing) the package.
pub(crate) fn iptables(finding: &Finding, target: &Target) -> Result<Step, FixError> {
    let Some(modules) = modules(finding) else {
        return packages(finding, target);
    };
    let names = modules.modules();
    if names.is_empty() || !names.iter().all(|m| module_name(m)) {
        return Ok(manual(
            finding,
            "the check named no module list the script can use",
        ));
    }
    let step = base(finding).note(
        "note",
        "if modprobe says a module is not found, this kernel was built without it: use a kernel \
         that has it",
    );
    load(step, modules)
}

/// `engine.smoke`: a missing `/dev/net/tun` (load `tun`) or one not usable by everyone.
pub(crate) fn smoke(finding: &Finding, target: &Target) -> Result<Step, FixError> {
    if let Some(modules @ Modules::Tun) = modules(finding) {
        return load(base(finding), modules);
    }
    let tun_mode = remedies(finding).iter().find_map(|r| match r {
        Remedy::OpenTun { mode } => Some(*mode),
        _ => None,
    });
    match tun_mode {
        Some(mode) if mode & 0o006 != 0o006 => Ok(base(finding)
            .note(
                "does",
                format!(
                    "makes /dev/net/tun (mode {mode:04o}) readable and writable by everyone, as \
                     udev normally sets it; a device node's mode is lost at reboot, when udev \
                     sets it again"
                ),
            )
            .command(Command::run(["chmod", "0666", "/dev/net/tun"]))),
        _ => packages(finding, target),
    }
}

/// `storage`: fuse-overlayfs and the `fuse` module.
pub(crate) fn storage(finding: &Finding, target: &Target) -> Result<Step, FixError> {
    let Some(fix) = &finding.fix else {
        return Ok(manual(finding, "the check names no command"));
    };
    let installs: Vec<Command> = remedies(finding)
        .iter()
        .filter_map(|r| install(r, target.distro.family))
        .collect();
    let fuse = modules(finding).filter(|m| **m == Modules::Fuse);
    if installs.is_empty() && fuse.is_none() {
        return Ok(manual(
            finding,
            "the fix is not a package or a module (a data directory elsewhere, a newer kernel)",
        ));
    }
    let mut step = base(finding);
    if !installs.is_empty() {
        step = step.note("does", &fix.summary);
        step.commands = installs;
    }
    if let Some(fuse) = fuse {
        step = load(step, fuse)?;
    }
    if target.distro.family == Family::Unknown {
        return Ok(manual(
            finding,
            "this distribution's package manager is not known to rootless-setup",
        ));
    }
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rootless_setup_core::CheckId;
    use rootless_setup_core::finding::Fix;

    #[test]
    fn module_names_are_plain_words() {
        assert!(module_name("xt_MASQUERADE"));
        assert!(module_name("nf-nat"));
        for bad in ["", "a b", "a;b", "$(id)", "a/b"] {
            assert!(!module_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_modules_come_from_the_remedy() {
        let finding = Finding::warn(CheckId::EngineSmoke, "s").fix(
            Fix::root(CheckId::EngineSmoke, "f")
                .cmd("echo")
                .remedy(Remedy::LoadModules(Modules::Tun)),
        );
        assert_eq!(modules(&finding), Some(&Modules::Tun));
        assert_eq!(modules(&Finding::warn(CheckId::EngineSmoke, "s")), None);
    }

    #[test]
    fn tun_is_loaded_only_when_the_remedy_says_so() {
        let target = Target::new(
            rootless_setup_core::Distro::parse("ID=debian"),
            rootless_setup_core::model::Account {
                name: "alice".into(),
                uid: 1000,
                gid: 1000,
                home: "/home/alice".into(),
                shell: "/bin/sh".into(),
            },
            crate::target::HostFiles::default(),
        )
        .unwrap();
        let with = |fix: Fix| Finding::fail(CheckId::EngineSmoke, "s").fix(fix);
        let load =
            with(Fix::root(CheckId::EngineSmoke, "f").remedy(Remedy::LoadModules(Modules::Tun)));
        let step = smoke(&load, &target).unwrap();
        assert_eq!(
            step.commands.last(),
            Some(&Command::run(["modprobe", "-a", "tun"]))
        );
        // The same advice as text only: by hand.
        let advice = with(
            Fix::root(CheckId::EngineSmoke, "f").cmds(Remedy::LoadModules(Modules::Tun).commands()),
        );
        assert!(smoke(&advice, &target).unwrap().is_manual());
        let open =
            with(Fix::root(CheckId::EngineSmoke, "f").remedy(Remedy::OpenTun { mode: 0o600 }));
        assert_eq!(
            smoke(&open, &target).unwrap().commands,
            [Command::run(["chmod", "0666", "/dev/net/tun"])]
        );
    }
}
