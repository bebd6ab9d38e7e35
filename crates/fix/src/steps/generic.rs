//! Package installs: the checks name packages through `Distro::install_command` (and the
//! `uidmap` check's reinstall command), whose few shapes are recognised here and turned into a
//! typed [`Command::Install`] that the script renders non-interactively for this family. Any
//! other command of such a fix is shown in the block to run by hand.

use rootless_setup_core::Finding;

use super::{base, manual};
use crate::error::FixError;
use crate::model::{Command, Step};
use crate::target::Target;

/// A package name as distributions spell them.
fn package_name(word: &str) -> bool {
    let mut chars = word.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-._".contains(c))
}

/// The packages of an install (or reinstall) command as the checks print them (`sudo apt-get
/// install -y uidmap`, `sudo dnf reinstall -y shadow-utils`, `sudo pacman -S --needed …`);
/// `None` for anything else.
pub(crate) fn parse_install(command: &str) -> Option<(Vec<String>, bool)> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let words = words.strip_prefix(&["sudo"]).unwrap_or(&words);
    const SHAPES: [(&[&str], bool); 8] = [
        (&["apt-get", "install", "-y"], false),
        (&["apt-get", "install", "--reinstall", "-y"], true),
        (&["dnf", "install", "-y"], false),
        (&["dnf", "reinstall", "-y"], true),
        (&["zypper", "install", "-y"], false),
        (&["zypper", "install", "-f", "-y"], true),
        (&["pacman", "-S", "--needed"], false),
        (&["pacman", "-S"], true),
    ];
    SHAPES.iter().find_map(|(shape, reinstall)| {
        let names = words.strip_prefix(*shape)?;
        (!names.is_empty() && names.iter().all(|n| package_name(n)))
            .then(|| (names.iter().map(|n| (*n).to_owned()).collect(), *reinstall))
    })
}

/// A block that runs the fix's package installs; its other commands are shown to run by hand.
/// Without a single install it is a block by hand.
pub(crate) fn packages(finding: &Finding, target: &Target) -> Result<Step, FixError> {
    let Some(fix) = &finding.fix else {
        return Ok(manual(finding, "the check names no command"));
    };
    if target.distro.family == rootless_setup_core::distro::Family::Unknown {
        return Ok(manual(
            finding,
            "this distribution's package manager is not known to rootless-setup",
        ));
    }
    let mut step = base(finding);
    let mut installs = Vec::new();
    for command in &fix.commands {
        match parse_install(command) {
            Some((packages, reinstall)) => installs.push(Command::Install {
                packages,
                reinstall,
            }),
            None => step.by_hand.push(command.clone()),
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
    use rootless_setup_core::Distro;
    use rootless_setup_core::distro::Package;

    #[test]
    fn every_familys_install_command_is_recognised() {
        for id in ["debian", "fedora", "opensuse-leap", "arch"] {
            let d = Distro::parse(&format!("ID={id}"));
            let cmd = d.install_command(&[Package::Uidmap, Package::Slirp4netns]);
            let (names, reinstall) = parse_install(&cmd).unwrap_or_else(|| panic!("{cmd}"));
            assert_eq!(names, [d.package(Package::Uidmap), "slirp4netns"]);
            assert!(!reinstall);
        }
        assert_eq!(
            parse_install("sudo apt-get install --reinstall -y uidmap"),
            Some((vec!["uidmap".to_owned()], true))
        );
        assert_eq!(
            parse_install("sudo zypper install -f -y shadow"),
            Some((vec!["shadow".to_owned()], true))
        );
    }

    #[test]
    fn anything_else_is_not_an_install() {
        for cmd in [
            "sudo apt-get install -y",
            "sudo apt-get install -y 'x; rm -rf /'",
            "sudo apt-get install -y docker.io; id",
            "sudo apt-get install -y $(id)",
            "install with your package manager: uidmap",
            "sudo systemctl disable --now docker.service",
            "sudo apt-get remove -y uidmap",
        ] {
            assert_eq!(parse_install(cmd), None, "{cmd}");
        }
    }
}
