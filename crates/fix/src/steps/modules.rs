//! Kernel modules and devices: the netfilter modules `network.iptables` found missing inside a
//! user namespace (where nothing can load them on demand), `tun` for slirp4netns
//! (`engine.smoke`) and `fuse` for fuse-overlayfs (`storage`). Each is loaded now and listed in
//! an `/etc/modules-load.d/` file from `templates/fix/modules-load.conf.j2` for every boot.

use rootless_setup_core::Finding;

use super::generic::{packages, parse_install};
use super::{base, manual};
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

/// Commands that load `modules` now and list them in `/etc/modules-load.d/rootless-NAME.conf`.
fn load(step: Step, name: &str, why: &str, modules: &[String]) -> Result<Step, FixError> {
    let path = format!("/etc/modules-load.d/rootless-{name}.conf");
    let mut modprobe = vec!["modprobe".to_owned(), "-a".to_owned()];
    modprobe.extend(modules.iter().cloned());
    Ok(step
        .note(
            "does",
            format!(
                "loads {} now and lists them in {path} for every boot",
                modules.join(" ")
            ),
        )
        .command(Command::Write {
            path,
            text: templates::modules_load(why, modules)?,
        })
        .command(Command::run(modprobe)))
}

/// `network.iptables`: the modules the check names (`modules_needed`), or the package when
/// iptables is missing.
pub(crate) fn iptables(finding: &Finding, target: &Target) -> Result<Step, FixError> {
    let Some(needed) = finding.observed("modules_needed") else {
        return packages(finding, target);
    };
    let modules: Vec<String> = needed.split_whitespace().map(str::to_owned).collect();
    if modules.is_empty() || !modules.iter().all(|m| module_name(m)) {
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
    load(
        step,
        "iptables",
        "netfilter modules the rootless engine's iptables needs inside its user namespace, where \
         they cannot be loaded on demand",
        &modules,
    )
}

/// `engine.smoke`: `/dev/net/tun` missing (load `tun`) or not usable by everyone (mode 0666,
/// as udev sets it). Other failures are left to the admin.
pub(crate) fn smoke(finding: &Finding, target: &Target) -> Result<Step, FixError> {
    match finding.observed("tun_mode") {
        Some("absent") => load(
            base(finding),
            "tun",
            "tun, for slirp4netns and pasta (/dev/net/tun)",
            &["tun".to_owned()],
        ),
        Some(mode) if u32::from_str_radix(mode, 8).is_ok_and(|m| m & 0o006 != 0o006) => Ok(base(
            finding,
        )
        .note(
            "does",
            format!(
                "makes /dev/net/tun (mode {mode}) readable and writable by everyone, as udev \
                 normally sets it; a device node's mode is lost at reboot, when udev sets it again"
            ),
        )
        .command(Command::run(["chmod", "0666", "/dev/net/tun"]))),
        _ => packages(finding, target),
    }
}

/// `storage`: fuse-overlayfs (the package) and `/dev/fuse` (the `fuse` module).
pub(crate) fn storage(finding: &Finding, target: &Target) -> Result<Step, FixError> {
    let Some(fix) = &finding.fix else {
        return Ok(manual(finding, "the check names no command"));
    };
    let installs: Vec<Command> = fix
        .commands
        .iter()
        .filter_map(|c| parse_install(c))
        .map(|(packages, reinstall)| Command::Install {
            packages,
            reinstall,
        })
        .collect();
    let fuse_missing = finding.observed("dev_fuse") == Some("missing")
        && fix.commands.iter().any(|c| c.contains("modprobe fuse"));
    if installs.is_empty() && !fuse_missing {
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
    if fuse_missing {
        step = load(
            step,
            "fuse",
            "fuse, for fuse-overlayfs (/dev/fuse)",
            &["fuse".to_owned()],
        )?;
    }
    if target.distro.family == rootless_setup_core::distro::Family::Unknown {
        return Ok(manual(
            finding,
            "this distribution's package manager is not known to rootless-setup",
        ));
    }
    Ok(step)
}
