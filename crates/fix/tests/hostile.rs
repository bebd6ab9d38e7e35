//! Hostile values stay inert: user names and home paths with spaces, quotes, `$()`, backticks
//! and globs (as a hand-edited `/etc/passwd` can hold) reach every command as exactly one word,
//! verbatim, and nothing they spell runs; values with a newline are refused with an error naming
//! them. Every command of the script is taken apart by a real `sh`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command as Process;

use common::{ROOT_CHECKS, healthy, lint, plan_for, system};
use rootless_setup_checks::context::Account;
use rootless_setup_checks::distro::Family;
use rootless_setup_checks::{CheckId, Distro, Finding, Fix, Report, SCHEMA_VERSION};
use rootless_setup_fix::script::command_text;
use rootless_setup_fix::{Command, HostFiles, Target, plan};

const NAMES: [&str; 4] = [
    "e vil'$(touch MARK)`touch MARK`",
    "a\"b;touch${IFS}MARK|x&y*",
    "x'\\'y",
    "*",
];

const HOMES: [&str; 3] = ["/home/a b/$(touch MARK)", "/home/q'u\"o`te`", "/home/*"];

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
fn hostile_names_and_homes_stay_inert_in_every_command() {
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
            name: "l'dap $(x)".into(),
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
        .observe("source", "files")
        .fix(Fix::root(CheckId::SubidUid, "add a block"));
    let report = Report {
        schema_version: SCHEMA_VERSION,
        engine: rootless_setup_checks::Engine::Docker,
        uid: 5000,
        user: Some("l'dap $(x)".into()),
        distribution: "debian".into(),
        findings: vec![finding],
    };
    let plan = plan(&report, &target, &[]).unwrap();
    let script = plan.render().unwrap();
    assert!(
        script.contains("printf '%s\\n' 'l'\\''dap $(x):165536:65536' >>/etc/subuid"),
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
    assert_eq!(
        err.to_string(),
        "user name \"ev\\nil\" contains a newline, which a reviewed root script must not contain"
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
