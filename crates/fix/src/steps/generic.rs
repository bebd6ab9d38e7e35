//! Package installs: a fix's [`Remedy::InstallPackages`] become typed [`Command::Install`]s that
//! the script renders non-interactively for this family. The fix's other remedies are shown in
//! the block to run by hand.

use rootless_setup_core::Finding;
use rootless_setup_core::distro::Family;
use rootless_setup_core::remedy::Remedy;

use super::{base, manual, remedies};
use crate::error::FixError;
use crate::model::{Command, Step};
use crate::target::Target;

/// The install a remedy asks for, with this family's package names; `None` for any other
/// remedy.
pub(crate) fn install(remedy: &Remedy, family: Family) -> Option<Command> {
    match remedy {
        Remedy::InstallPackages {
            packages,
            reinstall,
            ..
        } => Some(Command::Install {
            packages: packages
                .iter()
                .map(|p| family.package(*p).to_owned())
                .collect(),
            reinstall: *reinstall,
        }),
        _ => None,
    }
}

/// A block that runs the fix's package installs; its other remedies are shown to run by hand.
/// Without a single install it is a block by hand.
pub(crate) fn packages(finding: &Finding, target: &Target) -> Result<Step, FixError> {
    let Some(fix) = &finding.fix else {
        return Ok(manual(finding, "the check names no command"));
    };
    let family = target.distro.family;
    if family == Family::Unknown {
        return Ok(manual(
            finding,
            "this distribution's package manager is not known to rootless-setup",
        ));
    }
    let mut step = base(finding);
    let mut installs = Vec::new();
    for remedy in remedies(finding) {
        match install(remedy, family) {
            Some(command) => installs.push(command),
            None => step.by_hand.extend(remedy.commands()),
        }
    }
    if installs.is_empty() {
        return Ok(manual(
            finding,
            "the fix is not a package install, and the script only runs what it can check",
        ));
    }
    step = step.note("does", &fix.summary);
    step.commands = installs;
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rootless_setup_core::distro::Package;

    #[test]
    fn installs_are_named_for_the_family_and_nothing_else_is_an_install() {
        let remedy = Remedy::InstallPackages {
            family: Family::Debian,
            packages: vec![Package::Uidmap, Package::Slirp4netns],
            reinstall: true,
        };
        assert_eq!(
            install(&remedy, Family::Suse),
            Some(Command::Install {
                packages: vec!["shadow".to_owned(), "slirp4netns".to_owned()],
                reinstall: true
            })
        );
        assert_eq!(
            install(
                &Remedy::manual("sudo apt-get install -y uidmap"),
                Family::Debian
            ),
            None
        );
        assert_eq!(install(&Remedy::OpenTun { mode: 0 }, Family::Debian), None);
    }
}
