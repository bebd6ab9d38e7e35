//! `uidmap`: install the helpers when they are missing, give the distribution's own helper its
//! setuid bit (or, on Fedora and Arch, its file capability) back when it lost it, and reinstall
//! the package when the file is no longer root's. Never makes a file setuid that is not a
//! root-owned file in a system directory: a copy on the user's `PATH` (`~/bin/newuidmap`) would
//! hand root to whoever can write it.

use std::path::Path;

use rootless_setup_core::Finding;
use rootless_setup_core::distro::{Family, Package};
use rootless_setup_core::remedy::{HELPER_DIRS, IdmapHelper, Remedy};

use super::{base, manual, remedies};
use crate::error::FixError;
use crate::model::{Command, Step};
use crate::target::Target;

/// What one helper needs.
#[derive(Debug, PartialEq, Eq)]
enum Need {
    Nothing,
    Install,
    Bit(String),
    Reinstall(String),
    ByHand(String),
}

fn need(helper: &IdmapHelper) -> Need {
    let (name, cap) = (helper.name, helper.cap);
    let Some(found) = &helper.found else {
        return Need::Install;
    };
    let path = found.path.clone();
    let in_system_dir = Path::new(&path)
        .parent()
        .is_some_and(|d| HELPER_DIRS.iter().any(|s| Path::new(s) == d));
    if found.nosuid {
        return Need::ByHand(format!(
            "{path} is on a nosuid mount: remounting it with suid changes it for every program \
             on it, so decide that by hand (or use the helpers the package installs under /usr/bin)"
        ));
    }
    if found.owner == 0 && found.privileged {
        return Need::Nothing;
    }
    if !in_system_dir {
        return Need::ByHand(format!(
            "{path} is not the distribution's {name} (that lives in /usr/bin): remove it or put \
             /usr/bin first on PATH; making it {cap} would give root to whoever can write it"
        ));
    }
    if found.owner != 0 {
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
    let helpers = remedies(finding)
        .iter()
        .find_map(|r| match r {
            Remedy::IdmapHelpers(h) => Some(h.as_slice()),
            _ => None,
        })
        .unwrap_or_default();
    for helper in helpers {
        let cap = helper.cap;
        match need(helper) {
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
