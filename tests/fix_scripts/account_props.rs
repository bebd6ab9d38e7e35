//! Properties of the home block over arbitrary passwd entries (name, uid, home, shell) and home
//! bases, on a tree with system directories, a real home, links to `/etc` and a linked base:
//! nothing panics, a target is only ever made for a login user with a portable name, and every
//! `chown`, `mkdir` or `install` of the script, and every `chown` the `user` check advises, is
//! of a path directly below a home base on which no component is a symbolic link.

use std::path::Path;

use proptest::prelude::*;
use rootless_setup_checks::testing::{Harness, ScriptedSystem};
use rootless_setup_checks::{Caller, Selection, check_with_facts};
use rootless_setup_core::CheckId;
use rootless_setup_core::accounts::{self, Rules};
use rootless_setup_core::remedy::Remedy;
use rootless_setup_core::testing::Fixture;
use rootless_setup_fix::{Command, HostFiles, Target, plan};

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_][a-z0-9._-]{0,8}[$]?",
        1 => prop::sample::select(vec!["-rf", "a b", "root", "..", "x'y", "ws$x", "é"])
            .prop_map(str::to_owned),
        1 => "[ -~]{0,12}",
    ]
}

fn uid() -> impl Strategy<Value = u32> {
    prop_oneof![1 => 0u32..40, 1 => 990u32..1010, 3 => 1000u32..70_000]
}

fn home() -> impl Strategy<Value = String> {
    let part = prop::sample::select(vec![
        "home", "u", "link", "real", "..", ".", "etc", "usr", "sbin", "", "linkhome",
    ]);
    prop_oneof![
        3 => prop::sample::select(vec!["/home/u", "/home/real", "/linkhome/real"])
            .prop_map(str::to_owned),
        2 => prop::sample::select(vec![
            "/",
            "/home",
            "/home/",
            "/home/u",
            "/home/real",
            "/home/link",
            "/home/link/u",
            "/linkhome/u",
            "/usr/sbin",
            "/var/www",
            "/etc",
            "/home/../etc",
            "//home/u",
            "home/u",
            "",
        ])
        .prop_map(str::to_owned),
        2 => prop::collection::vec(part, 1..4).prop_map(|p| format!("/{}", p.join("/"))),
        1 => "/[!-~]{0,12}",
    ]
}

fn shell() -> impl Strategy<Value = &'static str> {
    let any = prop::sample::select(vec![
        "/bin/bash",
        "/bin/sh",
        "",
        "/usr/sbin/nologin",
        "/sbin/nologin",
        "/bin/false",
        "/usr/bin/false",
    ]);
    prop_oneof![2 => Just("/bin/bash"), 1 => any]
}

fn useradd() -> impl Strategy<Value = &'static str> {
    let odd = prop::sample::select(vec![
        "HOME=/linkhome\n",
        "HOME=/\n",
        "HOME=/usr\n",
        "HOME=/home/real\n",
        "HOME=\"/var/www\"\n",
        "HOME=/home/link\n",
    ]);
    prop_oneof![3 => Just(""), 1 => Just("HOME=/home\n"), 2 => odd]
}

/// A Debian tree: system directories and homes owned by root, `/home/real` a directory,
/// `/home/link` a link to `/etc`, `/linkhome` a link to `/home`.
fn tree(passwd_line: &str, useradd: &str) -> Fixture {
    let fx = Fixture::new();
    fx.file("/etc/os-release", "ID=debian\nVERSION_ID=12\n")
        .file(
            "/etc/passwd",
            &format!("root:x:0:0::/root:/bin/bash\n{passwd_line}\n"),
        )
        .file("/etc/default/useradd", useradd)
        .dir("/home/real")
        .dir("/usr/sbin")
        .dir("/var/www")
        .symlink("/home/link", "../etc")
        .symlink("/linkhome", "home");
    for dir in [
        "/",
        "/home",
        "/home/real",
        "/home/link",
        "/linkhome",
        "/etc",
        "/usr/sbin",
        "/var/www",
    ] {
        fx.meta(dir, "uid=0 gid=0 mode=0755");
    }
    fx
}

/// `path` lies directly below one of `rules`' bases and no component of it is a link.
fn proper_home(fx: &Fixture, rules: &Rules, path: &str) -> Result<(), TestCaseError> {
    let path = Path::new(path);
    prop_assert!(
        rules.home_bases.iter().any(|b| path.parent() == Some(b)),
        "{} is not directly below {:?}",
        path.display(),
        rules.home_bases
    );
    prop_assert_eq!(accounts::first_symlink(&fx.host(), path), None);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn root_only_ever_prepares_a_proper_home_of_a_login_user(
        name in name(),
        uid in uid(),
        home in home(),
        shell in shell(),
        useradd in useradd(),
    ) {
        let line = format!("{name}:x:{uid}:{uid}::{home}:{shell}");
        let fx = tree(&line, useradd);
        let h = Harness::new(&fx, Caller::new(uid, uid), ScriptedSystem::new());
        let (report, facts) =
            check_with_facts(&h.context(), &Selection::new(&[CheckId::User], &[]));
        let rules = Rules::read(&h.host);
        for finding in &report.findings {
            for remedy in finding.fix.iter().flat_map(|f| &f.remedies) {
                if let Remedy::GiveHome { home, .. } | Remedy::CreateHome { home, .. } = remedy {
                    proper_home(&fx, &rules, &home.to_string_lossy())?;
                }
            }
        }
        let Some(account) = facts.account else {
            return Ok(());
        };
        let files = HostFiles::read(&h.host, &account.home);
        let target = match Target::new(h.distro.clone(), account.clone(), files) {
            Ok(target) => target,
            Err(_) => {
                prop_assert!(accounts::login_user(&rules, &account).is_err());
                return Ok(());
            }
        };
        prop_assert_eq!(accounts::portable_name(&account.name), Ok(()));
        prop_assert!(account.uid >= rules.uid_min);
        prop_assert!(!accounts::refuses_login(&account.shell));
        let plan = plan(&report, &target, &[]).unwrap();
        prop_assert!(plan.render().is_ok(), "{:?}", plan.render().err());
        for step in &plan.steps {
            for command in step.guards.iter().chain(&step.commands) {
                let Command::Run { argv, .. } = command else { continue };
                if ["chown", "mkdir", "install"].contains(&argv[0].as_str()) {
                    proper_home(&fx, &rules, argv.last().unwrap())?;
                }
            }
        }
    }
}

#[test]
fn a_login_user_with_a_missing_home_below_the_base_gets_install_d() {
    // The property above is only worth something if such a case gets a home block at all.
    let fx = tree("alice:x:1000:1000::/home/alice:/bin/bash", "");
    let h = Harness::new(&fx, Caller::new(1000, 1000), ScriptedSystem::new());
    let (report, facts) = check_with_facts(&h.context(), &Selection::new(&[CheckId::User], &[]));
    let account = facts.account.unwrap();
    let files = HostFiles::read(&h.host, &account.home);
    let target = Target::new(h.distro.clone(), account, files).unwrap();
    let plan = plan(&report, &target, &[]).unwrap();
    assert_eq!(
        plan.steps[0].commands,
        [Command::run([
            "install",
            "-d",
            "-o",
            "1000",
            "-g",
            "1000",
            "-m",
            "0700",
            "/home/alice"
        ])]
    );
}
