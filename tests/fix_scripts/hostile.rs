//! Hostile values stay inert: home paths with spaces, quotes, `$()`, backticks and globs (as a
//! hand-edited `/etc/passwd` can hold) and portable names with a `$` reach every command as
//! exactly one word, verbatim, and nothing they spell runs; names that are not portable (spaces,
//! quotes, a leading `-`, control characters) and homes with a newline are refused before a line
//! is written, with an error naming them. Every command of the script is taken apart by a real
//! `sh`.

use std::process::Command as Process;

use crate::common::{ROOT_CHECKS, healthy, lint, plan_for, system};
use rootless_setup_core::distro::Family;
use rootless_setup_core::model::Account;
use rootless_setup_core::{CheckId, Distro, Finding, Fix, Remedy, Report, SCHEMA_VERSION};
use rootless_setup_fix::script::command_text;
use rootless_setup_fix::{Command, HostFiles, Target, plan};

/// Names a script never takes: the system would write them differently, or a command would
/// misread them.
const REFUSED_NAMES: [&str; 6] = [
    "e vil'$(touch MARK)`touch MARK`",
    "a\"b;touch${IFS}MARK|x&y*",
    "x'\\'y",
    "*",
    "-rf",
    "ws\r01",
];

/// Portable names, one with the `$` of a machine account.
const NAMES: [&str; 3] = ["alice", "svc.b_c-d", "ws01$"];

const HOMES: [&str; 3] = ["/home/a b$(touch MARK)", "/home/q'u\"o`te`", "/home/*"];

/// What `sh` makes of `text` as the arguments of a command: one word per argument.
fn words_of(text: &str, dir: &std::path::Path) -> Vec<String> {
    let out = Process::new("sh")
        .arg("-c")
        .arg(format!("printf '%s\\0' {text}"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{text}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut words: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .map(str::to_owned)
        .collect();
    words.pop();
    words
}

/// Every command of `plan`'s blocks, evaluated by `sh`, gives back exactly the typed arguments,
/// and nothing was created in the scratch directory it ran in.
fn assert_inert(plan: &rootless_setup_fix::Plan) {
    let dir = tempfile::tempdir().unwrap();
    for step in &plan.steps {
        for command in step.guards.iter().chain(&step.commands) {
            let text = command_text(command, Family::Debian).unwrap();
            match command {
                Command::Run { argv, append_to } => {
                    let line = text.trim_end();
                    let line = match append_to {
                        Some(_) => line.rsplit_once(" >>").unwrap().0,
                        None => line,
                    };
                    assert_eq!(&words_of(line, dir.path()), argv, "{text}");
                    if let Some(path) = append_to {
                        let quoted = text.trim_end().rsplit_once(" >>").unwrap().1;
                        assert_eq!(words_of(quoted, dir.path()), std::slice::from_ref(path));
                    }
                }
                Command::Call { helper, args } => {
                    let rest = text.trim_end().strip_prefix(helper.name()).unwrap();
                    assert_eq!(&words_of(rest, dir.path()), args, "{text}");
                }
                Command::Write { text: body, .. } => {
                    // The here-document as the shell reads it: exactly the text.
                    let heredoc = text.lines().skip(1).collect::<Vec<_>>();
                    let script = format!(
                        "cat <<'ROOTLESS_SETUP_EOF'\n{}\n",
                        heredoc[..heredoc.len() - 1].join("\n")
                    );
                    let out = Process::new("sh").arg("-c").arg(script).output().unwrap();
                    assert_eq!(String::from_utf8_lossy(&out.stdout), *body);
                }
                Command::Fixed(_) | Command::Install { .. } => {}
            }
        }
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "a value ran as a command: {left:?}");
}

#[test]
fn names_that_are_not_portable_are_refused_before_a_line_is_written() {
    for name in REFUSED_NAMES {
        let account = rootless_setup_core::testing::account(name, 1000, "/home/user");
        let err =
            Target::new(Distro::parse("ID=debian"), account, HostFiles::default()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("user name {name:?} ")),
            "{name:?}: {text}"
        );
        assert!(
            text.ends_with(
                "a root script takes only portable names (letters, digits, `.`, `_`, \
                            `-`, an optional final `$`, at most 32 bytes, not starting with `-`)"
            ),
            "{text}"
        );
    }
}

#[test]
fn hostile_homes_and_portable_names_stay_inert_in_every_command() {
    for name in NAMES {
        // No subids and linger off: blocks that take the name. (The fixture cannot fake the
        // owner of a home whose path has spaces, so the home is plain here.)
        let fx = healthy("ID=debian\nVERSION_ID=12\n", name, "/home/user");
        fx.file("/etc/subuid", "bob:100000:65536\n")
            .file("/etc/subgid", "bob:100000:65536\n");
        let (report, plan) = plan_for(&fx, system(false), &ROOT_CHECKS);
        let ids = plan.ids();
        for id in [CheckId::SessionLinger, CheckId::SubidUid, CheckId::SubidGid] {
            assert!(
                ids.contains(&id),
                "{name:?}: no {id} block: {:#?}",
                report.findings
            );
        }
        lint(&plan.render().unwrap());
        assert_inert(&plan);
        for home in HOMES {
            // A missing home: the block that takes the home path (and the name, in its guard).
            let fx = healthy("ID=debian\nVERSION_ID=12\n", name, home);
            fx.remove(home);
            let (_, plan) = plan_for(&fx, system(false), &ROOT_CHECKS);
            assert_eq!(plan.ids(), [CheckId::User], "{name:?} {home:?}");
            lint(&plan.render().unwrap());
            assert_inert(&plan);
        }
    }
}

#[test]
fn a_directory_user_gets_a_quoted_appended_line() {
    // Not in /etc/passwd (LDAP): the line is appended instead of usermod.
    let target = Target::new(
        Distro::parse("ID=debian"),
        Account {
            name: "ld.ap$".into(),
            uid: 5000,
            gid: 5000,
            home: "/home/ldap".into(),
            shell: "/bin/sh".into(),
        },
        HostFiles {
            subuid: Some("bob:100000:65536\n".into()),
            usermod: true,
            ..HostFiles::default()
        },
    )
    .unwrap();
    let finding = Finding::fail(CheckId::SubidUid, "no subordinate uids")
        .fix(Fix::root(CheckId::SubidUid, "add a block").remedy(Remedy::RepairSubids));
    let report = Report {
        schema_version: SCHEMA_VERSION,
        engine: rootless_setup_core::Engine::Docker,
        uid: 5000,
        user: Some("ld.ap$".into()),
        distribution: "debian".into(),
        findings: vec![finding],
    };
    let plan = plan(&report, &target, &[]).unwrap();
    let script = plan.render().unwrap();
    assert!(
        script.contains("printf '%s\\n' 'ld.ap$:165536:65536' >>/etc/subuid"),
        "{script}"
    );
    lint(&script);
    assert_inert(&plan);
}

#[test]
fn newlines_are_refused_with_an_error_naming_the_value() {
    let account = |name: &str, home: &str| Account {
        name: name.into(),
        uid: 1000,
        gid: 1000,
        home: home.into(),
        shell: "/bin/sh".into(),
    };
    let d = Distro::parse("ID=debian");
    let err = Target::new(
        d.clone(),
        account("ev\nil", "/home/x"),
        HostFiles::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("user name \"ev\\nil\" holds a character other than"),
        "{err}"
    );
    let err = Target::new(d, account("alice", "/home/a\nb"), HostFiles::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("home directory \"/home/a\\nb\" contains a newline")
    );
}

#[test]
fn a_hostile_line_in_the_users_subid_file_is_guarded_verbatim_or_left_by_hand() {
    let fx = healthy("ID=debian\n", "alice", "/home/alice");
    fx.file(
        "/etc/subuid",
        "bob:100000:65536\nalice:1000:$(touch MARK)`id`\nalice:0:65536\r\n",
    );
    let (_, plan) = plan_for(&fx, system(true), &ROOT_CHECKS);
    let step = plan
        .steps
        .iter()
        .find(|s| s.ids() == [CheckId::SubidUid])
        .unwrap();
    // Line 3 ends with a carriage return, which a reviewed script must not carry: by hand.
    assert!(step.is_manual(), "{step:#?}");
    lint(&plan.render().unwrap());

    fx.file(
        "/etc/subuid",
        "bob:100000:65536\nalice:1000:$(touch MARK)`id`\n",
    );
    let (_, plan) = plan_for(&fx, system(true), &ROOT_CHECKS);
    let script = plan.render().unwrap();
    assert!(
        script.contains("expect_line /etc/subuid 2 'alice:1000:$(touch MARK)`id`'"),
        "{script}"
    );
    lint(&script);
    assert_inert(&plan);
}

/// Whether any command or guard of the script creates or hands over `path` (`chown`, `mkdir`,
/// `install -d`), or any by-hand line does.
fn touches(plan: &rootless_setup_fix::Plan, path: &str) -> bool {
    plan.steps.iter().any(|step| {
        let run = step.commands.iter().any(|c| match c {
            Command::Run { argv, .. } => {
                ["chown", "mkdir", "install"].contains(&argv[0].as_str())
                    && argv[1..]
                        .iter()
                        .any(|a| a == path || a.ends_with(&format!(":{path}")))
            }
            _ => false,
        });
        let by_hand = step.by_hand.iter().any(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            words.contains(&path)
                && words
                    .iter()
                    .any(|w| ["chown", "mkdir", "install"].contains(w))
        });
        run || by_hand
    })
}

#[test]
fn system_accounts_are_refused_with_what_to_do_instead() {
    // The reproductions: daemon (/usr/sbin), bin (/bin), sys (/dev), www-data (/var/www).
    for (name, uid, home) in [
        ("daemon", 1, "/usr/sbin"),
        ("bin", 2, "/bin"),
        ("sys", 3, "/dev"),
        ("www-data", 33, "/var/www"),
    ] {
        let mut account = rootless_setup_core::testing::account(name, uid, home);
        account.shell = "/usr/sbin/nologin".into();
        let err =
            Target::new(Distro::parse("ID=debian"), account, HostFiles::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{name} (uid {uid}) is a system account: uids below 1000 (UID_MIN of \
                 /etc/login.defs) belong to the system, and preparing one would hand it what the \
                 system owns"
            )
        );
    }
}

#[test]
fn a_home_of_slash_or_through_a_symlink_is_never_chowned() {
    // Home `/`, owned by root: the check saw it, the block is by hand.
    let fx = healthy("ID=debian\nVERSION_ID=12\n", "dev", "/home/dev");
    fx.file(
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ndev:x:1000:1000::/:/bin/bash\n",
    )
    .meta("/", "uid=0 gid=0 mode=0755");
    let (report, plan) = plan_for(&fx, system(true), &ROOT_CHECKS);
    let user = report
        .findings
        .iter()
        .find(|f| f.id == CheckId::User)
        .unwrap();
    assert_eq!(
        user.summary,
        "home / is owned by uid 0, not by dev (uid 1000)"
    );
    let step = &plan.steps[0];
    assert_eq!(step.ids(), [CheckId::User]);
    assert!(step.is_manual());
    assert!(!touches(&plan, "/"), "{plan:#?}");
    let script = plan.render().unwrap();
    assert!(!script.contains("chown"), "{script}");
    lint(&script);

    // /home/dev -> ../etc: stat follows it to a root-owned /etc.
    let fx = healthy("ID=debian\nVERSION_ID=12\n", "dev", "/home/dev");
    fx.remove("/home/dev")
        .symlink("/home/dev", "../etc")
        .meta("/home/dev", "uid=0 gid=0 mode=0755");
    let (_, plan) = plan_for(&fx, system(true), &ROOT_CHECKS);
    let step = &plan.steps[0];
    assert!(step.is_manual(), "{step:#?}");
    assert!(
        step.notes
            .iter()
            .any(|n| n.text.contains("/home/dev is a symbolic link")),
        "{step:#?}"
    );
    assert_eq!(
        step.by_hand,
        [
            "give the account a home of its own, then create it:",
            "sudo mv /home/dev /home/dev.link",
            "sudo install -d -o 1000 -g 1000 -m 0700 /home/dev"
        ]
    );
    // The link itself is moved aside, never followed: nothing in the script runs on it.
    let script = plan.render().unwrap();
    assert!(!script.contains("chown"), "{script}");
    assert!(!script.contains("\tinstall -d"), "{script}");
}
