//! `user`: the home directory. A missing one is created, owned by the user with mode 0700; one
//! owned by root is given to the user. A home that belongs to another account, is not a
//! directory or is not absolute is left to the admin: fixing it means deciding whose it is.

use std::path::Path;

use rootless_setup_checks::Finding;

use super::{base, expect_user, manual};
use crate::error::FixError;
use crate::model::{Command, Step};
use crate::target::Target;

/// The block.
pub(crate) fn home(finding: &Finding, target: &Target) -> Result<Step, FixError> {
    let account = &target.account;
    let Some(home) = finding.observed("home") else {
        return Ok(manual(finding, "the check names no home directory"));
    };
    if !Path::new(home).is_absolute() || home != account.home.to_string_lossy() {
        return Ok(manual(
            finding,
            "the account needs a (different) home directory: choosing it is the admin's call",
        ));
    }
    let (uid, gid) = (account.uid.to_string(), account.gid.to_string());
    let step = base(finding).guard(expect_user(target));
    match finding.observed("home_owner") {
        None if finding.observed("error").is_none() => Ok(step
            .note(
                "does",
                format!("creates {home}, owned by {} with mode 0700", account.name),
            )
            .command(Command::run([
                "install", "-d", "-o", &uid, "-g", &gid, "-m", "0700", home,
            ]))),
        Some("0")
            if finding.observed("home_mode").is_some()
                && !finding.summary.contains("not a directory") =>
        {
            Ok(step
                .note(
                    "does",
                    format!("gives {home} (owned by root) to {}", account.name),
                )
                .command(Command::run(["chown", &format!("{uid}:{gid}"), home])))
        }
        Some(owner) if owner != uid && owner != "0" => Ok(manual(
            finding,
            format!(
                "{home} belongs to uid {owner}: giving it to {} would take it from that account",
                account.name
            ),
        )),
        _ => Ok(manual(
            finding,
            "the home directory needs a look (it is not a directory or cannot be read)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::HostFiles;
    use rootless_setup_checks::context::Account;
    use rootless_setup_checks::{CheckId, Distro};

    fn target() -> Target {
        Target::new(
            Distro::parse("ID=debian"),
            Account {
                name: "alice".into(),
                uid: 1000,
                gid: 1000,
                home: "/home/a b".into(),
                shell: "/bin/sh".into(),
            },
            HostFiles::default(),
        )
        .unwrap()
    }

    #[test]
    fn a_missing_home_is_created_and_a_foreign_one_left_alone() {
        let missing = Finding::fail(CheckId::User, "home directory /home/a b does not exist")
            .observe("home", "/home/a b");
        let step = home(&missing, &target()).unwrap();
        assert_eq!(
            step.commands,
            [Command::run([
                "install",
                "-d",
                "-o",
                "1000",
                "-g",
                "1000",
                "-m",
                "0700",
                "/home/a b"
            ])]
        );
        let foreign = Finding::fail(CheckId::User, "home /home/a b is owned by uid 1001")
            .observe("home", "/home/a b")
            .observe("home_owner", "1001")
            .observe("home_mode", "0755");
        assert!(home(&foreign, &target()).unwrap().is_manual());
        let root = Finding::fail(CheckId::User, "home /home/a b is owned by uid 0")
            .observe("home", "/home/a b")
            .observe("home_owner", "0")
            .observe("home_mode", "0755");
        assert_eq!(
            home(&root, &target()).unwrap().commands,
            [Command::run(["chown", "1000:1000", "/home/a b"])]
        );
    }
}
