//! `uidmap`: install the helpers when they are missing, give the distribution's own helper its
//! setuid bit (or, on Fedora and Arch, its file capability) back when it lost it, and reinstall
//! the package when the file is no longer root's. Never makes a file setuid that is not a
//! root-owned file in a system directory: a copy on the user's `PATH` (`~/bin/newuidmap`) would
//! hand root to whoever can write it.

use std::path::Path;

use rootless_setup_core::Finding;
use rootless_setup_core::distro::{Family, Package};

use super::{base, manual};
use crate::error::FixError;
use crate::model::{Command, Step};
use crate::target::Target;

/// Where distributions install the helpers.
const SYSTEM_DIRS: [&str; 4] = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"];

/// What one helper needs.
#[derive(Debug, PartialEq, Eq)]
enum Need {
    Nothing,
    Install,
    Bit(String),
    Reinstall(String),
    ByHand(String),
}

fn need(finding: &Finding, helper: &str, cap: &str) -> Need {
    let Some(found) = finding.observed(helper) else {
        return Need::Nothing;
    };
    if found == "not found" {
        return Need::Install;
    }
    let path = finding
        .observed(&format!("{helper}_real"))
        .unwrap_or(found)
        .to_owned();
    let owner = finding.observed(&format!("{helper}_owner"));
    let privileged = finding
        .observed(&format!("{helper}_privilege"))
        .is_some_and(|p| !p.starts_with("none"));
    let nosuid = finding
        .observed(&format!("{helper}_mount"))
        .and_then(|m| m.rsplit_once('('))
        .is_some_and(|(_, opts)| opts.trim_end_matches(')').split(',').any(|o| o == "nosuid"));
    let in_system_dir = Path::new(&path)
        .parent()
        .is_some_and(|d| SYSTEM_DIRS.iter().any(|s| Path::new(s) == d));
    if nosuid {
        return Need::ByHand(format!(
            "{path} is on a nosuid mount: remounting it with suid changes it for every program \
             on it, so decide that by hand (or use the helpers the package installs under /usr/bin)"
        ));
    }
    if owner == Some("0") && privileged {
        return Need::Nothing;
    }
    if !in_system_dir {
        return Need::ByHand(format!(
            "{path} is not the distribution's {helper} (that lives in /usr/bin): remove it or put \
             /usr/bin first on PATH; making it {cap} would give root to whoever can write it"
        ));
    }
    if owner != Some("0") {
        return Need::Reinstall(path);
    }
    Need::Bit(path)
}

/// The block.
pub(crate) fn uidmap(finding: &Finding, target: &Target) -> Result<Step, FixError> {
    let family = target.distro.family;
    if family == Family::Unknown {
        return Ok(manual(
            finding,
            "this distribution's package manager and helper privileges are not known to \
             rootless-setup",
        ));
    }
    let package = target.distro.package(Package::Uidmap).to_owned();
    let mut step = base(finding);
    let mut does = Vec::new();
    let mut install = false;
    let mut reinstall = false;
    for (helper, cap) in [("newuidmap", "cap_setuid"), ("newgidmap", "cap_setgid")] {
        match need(finding, helper, cap) {
            Need::Nothing => {}
            Need::Install => install = true,
            Need::Reinstall(path) => {
                reinstall = true;
                does.push(format!(
                    "reinstalls {package}: {path} is not owned by root any more, and only the \
                     package can tell what the file should be"
                ));
            }
            Need::ByHand(text) => {
                return Ok(manual(finding, text));
            }
            Need::Bit(path) => {
                // Fedora and Arch ship the helpers with file capabilities, the others setuid.
                let command = match family {
                    Family::Fedora | Family::Arch => {
                        does.push(format!("gives {path} its file capability {cap} back"));
                        Command::run(["setcap".to_owned(), format!("{cap}=ep"), path])
                    }
                    _ => {
                        does.push(format!("gives the root-owned {path} its setuid bit back"));
                        Command::run(["chmod".to_owned(), "u+s".to_owned(), path])
                    }
                };
                step = step.command(command);
            }
        }
    }
    if install {
        does.insert(
            0,
            format!("installs {package}, which ships newuidmap and newgidmap"),
        );
        step.commands.insert(
            0,
            Command::Install {
                packages: vec![package.clone()],
                reinstall: false,
            },
        );
    }
    if reinstall {
        step = step.command(Command::Install {
            packages: vec![package],
            reinstall: true,
        });
    }
    if step.is_manual() {
        return Ok(manual(
            finding,
            "the observations name nothing the script can repair",
        ));
    }
    Ok(step.note("does", does.join("; ")))
}
