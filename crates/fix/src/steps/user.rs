//! `user`: the home directory. A missing one is created, owned by the user with mode 0700; one
//! owned by root is given to the user. Only when the one rule allows it
//! ([`accounts::home_root_may_prepare`]: a login user, a home directly below a home base, no
//! symbolic link on its path); otherwise the block is by hand and says what an admin does
//! instead. The script re-checks both before it runs: the account still has its uid, the home
//! still lies directly below its base and no directory on its path is a link. A home that
//! belongs to another account, is not a directory or is not absolute is left to the admin too:
//! fixing it means deciding whose it is.

use std::path::Path;

use rootless_setup_core::Finding;
use rootless_setup_core::accounts;
use rootless_setup_core::remedy::Remedy;

use super::{base, expect_user, manual, remedies};
use crate::error::FixError;
use crate::model::{Command, Helper, Step};
use crate::target::Target;

/// The home directory the fix's remedies name, if any.
fn named_home(remedies: &[Remedy]) -> Option<&Path> {
    remedies.iter().find_map(|r| match r {
        Remedy::InspectHome { home }
        | Remedy::CreateHome { home, .. }
        | Remedy::GiveHome { home, .. } => Some(home.as_path()),
        _ => None,
    })
}

/// The block.
pub(crate) fn home(finding: &Finding, target: &Target) -> Result<Step, FixError> {
    let account = &target.account;
    let files = &target.files;
    let remedies = remedies(finding);
    let may = accounts::home_root_may_prepare(&files.rules, account, files.home_symlink.as_deref());
    let Some(home) = named_home(remedies) else {
        return Ok(match may {
            Err(refusal) => refused(finding, &refusal),
            Ok(_) => manual(finding, "the check names no home directory"),
        });
    };
    if home != account.home {
        return Ok(manual(
            finding,
            "the check saw a different home than the account has: run rootless-setup fix again",
        ));
    }
    let home_base = match may {
        Ok(home_base) => home_base.to_string_lossy().into_owned(),
        Err(refusal) => return Ok(refused(finding, &refusal)),
    };
    let home = home.to_string_lossy();
    let home = home.as_ref();
    let (uid, gid) = (account.uid.to_string(), account.gid.to_string());
    let step = base(finding)
        .guard(expect_user(target))
        .guard(Command::call(
            Helper::ExpectHome,
            [home_base, home.to_owned()],
        ));
    match remedies {
        [Remedy::CreateHome { .. }] => Ok(step
            .note(
                "does",
                format!("creates {home}, owned by {} with mode 0700", account.name),
            )
            .command(Command::run([
                "install", "-d", "-o", &uid, "-g", &gid, "-m", "0700", home,
            ]))),
        [Remedy::GiveHome { owner: 0, .. }] => Ok(step
            .note(
                "does",
                format!("gives {home} (owned by root) to {}", account.name),
            )
            .command(Command::run(["chown", &format!("{uid}:{gid}"), home]))),
        [Remedy::GiveHome { owner, .. }] if *owner != account.uid => Ok(manual(
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

/// Root may not prepare this home: why, and what an admin does instead.
fn refused(finding: &Finding, refusal: &accounts::Refusal) -> Step {
    let mut step = base(finding).note("by hand", refusal.to_string());
    step.by_hand = refusal.help();
    step
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::HostFiles;
    use rootless_setup_core::finding::Fix;
    use rootless_setup_core::model::Account;
    use rootless_setup_core::{CheckId, Distro};

    fn target_with(home: &str, files: HostFiles) -> Target {
        Target::new(
            Distro::parse("ID=debian"),
            Account {
                name: "alice".into(),
                uid: 1000,
                gid: 1000,
                home: home.into(),
                shell: "/bin/sh".into(),
            },
            files,
        )
        .unwrap()
    }

    fn target() -> Target {
        target_with("/home/a b", HostFiles::default())
    }

    /// A `user` finding whose root fix is `remedies`.
    fn finding(summary: &str, remedies: Vec<Remedy>) -> Finding {
        let fix = remedies
            .into_iter()
            .fold(Fix::root(CheckId::User, "f"), Fix::remedy);
        Finding::fail(CheckId::User, summary).fix(fix)
    }

    fn give(home: &str, owner: u32) -> Remedy {
        Remedy::GiveHome {
            home: home.into(),
            owner,
            uid: 1000,
            gid: 1000,
        }
    }

    fn create(home: &str) -> Remedy {
        Remedy::CreateHome {
            home: home.into(),
            uid: 1000,
            gid: 1000,
        }
    }

    fn root_owned(home: &str) -> Finding {
        finding(
            &format!("home {home} is owned by uid 0"),
            vec![give(home, 0)],
        )
    }

    #[test]
    fn a_missing_home_is_created_and_a_foreign_one_left_alone() {
        let missing = finding(
            "home directory /home/a b does not exist",
            vec![create("/home/a b")],
        );
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
        assert_eq!(
            step.guards,
            [
                Command::call(Helper::ExpectUser, ["alice", "1000"]),
                Command::call(Helper::ExpectHome, ["/home", "/home/a b"])
            ]
        );
        let foreign = finding(
            "home /home/a b is owned by uid 1001",
            vec![give("/home/a b", 1001)],
        );
        assert!(home(&foreign, &target()).unwrap().is_manual());
        let step = home(&root_owned("/home/a b"), &target()).unwrap();
        assert_eq!(
            step.commands,
            [Command::run(["chown", "1000:1000", "/home/a b"])]
        );
        assert_eq!(step.guards.len(), 2);
    }

    #[test]
    fn a_remedy_naming_another_path_than_the_accounts_home_touches_nothing() {
        // The account's home comes from passwd (the target); a remedy that names any other
        // path (/etc, another user's home) gets no command, whatever its kind.
        for remedy in [
            create("/etc"),
            give("/home/bob", 0),
            create("/home/a b/../bob"),
        ] {
            let f = finding("home needs work", vec![remedy]);
            let step = home(&f, &target()).unwrap();
            assert!(step.is_manual(), "{step:?}");
            assert!(
                step.commands.is_empty() && step.guards.is_empty(),
                "{step:?}"
            );
        }
    }

    #[test]
    fn a_home_outside_the_bases_or_through_a_link_is_by_hand() {
        for h in [
            "/",
            "/usr/sbin",
            "/var/www",
            "/home",
            "/home/x/alice",
            "home/alice",
        ] {
            let step = home(&root_owned(h), &target_with(h, HostFiles::default())).unwrap();
            assert!(step.is_manual(), "{h}");
            assert!(step.guards.is_empty(), "{h}");
            assert_eq!(
                step.by_hand,
                [
                    "give the account a home of its own, then create it:",
                    "sudo usermod -d /home/alice alice",
                    "sudo install -d -o 1000 -g 1000 -m 0700 /home/alice"
                ],
                "{h}"
            );
            let by_hand = step.notes.iter().find(|n| n.label == "by hand").unwrap();
            assert!(
                by_hand.text.starts_with(&format!(
                    "root does not create or hand over {h} as alice's home: it is not a plain \
                     path directly below a home base (/home"
                )),
                "{}",
                by_hand.text
            );
        }
        let linked = HostFiles {
            home_symlink: Some("/home/alice".into()),
            ..HostFiles::default()
        };
        let step = home(
            &root_owned("/home/alice"),
            &target_with("/home/alice", linked),
        )
        .unwrap();
        assert!(step.is_manual());
        assert!(
            step.notes
                .iter()
                .any(|n| n.text.contains("/home/alice is a symbolic link")),
            "{step:#?}"
        );
        // A configured base is honoured.
        let export = HostFiles {
            rules: rootless_setup_core::accounts::Rules::parse("", "HOME=/export/home\n", None),
            ..HostFiles::default()
        };
        let t = target_with("/export/home/alice", export);
        let step = home(&root_owned("/export/home/alice"), &t).unwrap();
        assert_eq!(
            step.guards[1],
            Command::call(Helper::ExpectHome, ["/export/home", "/export/home/alice"])
        );
        assert!(
            home(
                &root_owned("/home/alice"),
                &target_with("/home/alice", t.files)
            )
            .unwrap()
            .is_manual()
        );
    }

    /// The text of the block's `by hand` note.
    fn by_hand(step: &Step) -> &str {
        assert!(step.is_manual(), "{step:#?}");
        &step
            .notes
            .iter()
            .find(|n| n.label == "by hand")
            .unwrap()
            .text
    }

    #[test]
    fn what_the_check_could_not_judge_is_by_hand() {
        let look = "the home directory needs a look (it is not a directory or cannot be read)";
        // Could not stat the home: not "missing", so nothing is created.
        let unreadable = finding(
            "could not look at home directory /home/a b",
            vec![Remedy::InspectHome {
                home: "/home/a b".into(),
            }],
        );
        assert_eq!(by_hand(&home(&unreadable, &target()).unwrap()), look);
        // A file in its place: moved aside by hand, never by the script.
        let file = finding(
            "home /home/a b is not a directory",
            vec![
                Remedy::manual("sudo mv '/home/a b' '/home/a b.bak'"),
                create("/home/a b"),
            ],
        );
        assert_eq!(by_hand(&home(&file, &target()).unwrap()), look);
        // Owned by the user already: nothing for root to hand over.
        let own = finding(
            "home /home/a b is owned by uid 1000",
            vec![give("/home/a b", 1000)],
        );
        assert_eq!(by_hand(&home(&own, &target()).unwrap()), look);
        let foreign = finding(
            "home /home/a b is owned by uid 1001",
            vec![give("/home/a b", 1001)],
        );
        assert_eq!(
            by_hand(&home(&foreign, &target()).unwrap()),
            "/home/a b belongs to uid 1001: giving it to alice would take it from that account"
        );
    }

    #[test]
    fn a_finding_about_another_home_is_by_hand() {
        let step = home(&root_owned("/home/bob"), &target()).unwrap();
        assert!(step.is_manual());
        let nameless = Finding::fail(CheckId::User, "x");
        assert!(home(&nameless, &target()).unwrap().is_manual());
    }
}
