//! Fixture tests of `userns.apparmor` and its profile scanner.

use std::path::PathBuf;

use super::*;
use crate::caller::Caller;
use crate::testing::{Harness, ScriptedSystem};
use rootless_setup_core::finding::Status;
use rootless_setup_core::model::Binary;
use rootless_setup_core::testing::Fixture;

const DOCKER_DOCS_PROFILE: &str = r#"# written by hand
abi <abi/4.0>,
include <tunables/global>

"/home/alice/bin/rootlesskit" flags=(unconfined) {
  userns,

  include if exists <local/home.alice.bin.rootlesskit>
}
"#;

#[test]
fn scanner_finds_attachments_and_userns_rules() {
    let text = r#"
#include <tunables/global>
@{exec} = /usr/{,local/}bin/thing
profile rootlesskit /usr/bin/rootlesskit flags=(unconfined) {
  # userns, is only a comment here
  /usr/{bin,sbin}/* rix,
  @{PROC}/** r,
  if (defined @{x}) {
    userns,
  }
  profile child {
    userns,
  }
  audit allow userns create,
}
/usr/sbin/other {
  deny userns,
  include if exists <local/other>
}
profile bare flags=(complain){
  capability,
}
"#;
    let profiles = parse_profiles(text);
    assert_eq!(
        profiles,
        vec![
            Profile {
                name: "rootlesskit".into(),
                attachment: Some("/usr/bin/rootlesskit".into()),
                grants_userns: true
            },
            Profile {
                name: "/usr/sbin/other".into(),
                attachment: Some("/usr/sbin/other".into()),
                grants_userns: false
            },
            Profile {
                name: "bare".into(),
                attachment: None,
                grants_userns: false
            },
        ]
    );
    let quoted = parse_profiles(DOCKER_DOCS_PROFILE);
    assert_eq!(quoted.len(), 1);
    assert_eq!(
        quoted[0].attachment.as_deref(),
        Some("/home/alice/bin/rootlesskit")
    );
    assert!(quoted[0].grants_userns);
}

#[test]
fn globs_with_commas_stay_in_the_header() {
    let text = "profile rk /usr/{bin,sbin}/rootlesskit flags=(unconfined) {\n  userns,\n}\n";
    let p = parse_profiles(text);
    assert_eq!(p.len(), 1);
    assert_eq!(
        p[0].attachment.as_deref(),
        Some("/usr/{bin,sbin}/rootlesskit")
    );
    assert!(p[0].grants_userns);
}

#[test]
fn only_rules_in_the_profile_body_count() {
    let nested = "profile a /x {\n  profile b {\n    userns,\n  }\n}\n";
    assert!(!parse_profiles(nested)[0].grants_userns);
    let last_without_comma = "profile a /x {\n  file,\n  userns\n}\n";
    assert!(parse_profiles(last_without_comma)[0].grants_userns);
}

#[test]
fn scanner_survives_junk() {
    for text in [
        "}}}{{{",
        "\"unterminated {",
        "profile",
        "{",
        "#",
        "/x { userns, ",
        "@{",
    ] {
        assert_eq!(parse_profiles(text), vec![], "{text:?}");
    }
    assert_eq!(
        parse_profiles("/x {\n userns,\n"),
        vec![],
        "an unclosed profile is no profile"
    );
}

fn fixture(restrict: Option<&str>) -> Fixture {
    let fx = Fixture::new();
    fx.file(
        "/etc/os-release",
        "ID=ubuntu\nVERSION_ID=\"24.04\"\nPRETTY_NAME=\"Ubuntu 24.04 LTS\"\n",
    )
    .exe("/usr/bin/rootlesskit")
    .dir("/etc/apparmor.d/abstractions")
    .file(
        "/etc/apparmor.d/usr.bin.man",
        "/usr/bin/man {\n  userns,\n}\n",
    );
    if let Some(v) = restrict {
        fx.file(SYSCTL, &format!("{v}\n"));
    }
    fx
}

fn facts_with(path: &str) -> Facts {
    let mut facts = Facts::default();
    facts.binaries.insert(
        "rootlesskit".into(),
        Binary {
            name: "rootlesskit".into(),
            path: PathBuf::from(path),
            version: Some("2.0.2".into()),
        },
    );
    facts
}

fn check(fx: &Fixture, mut facts: Facts) -> Finding {
    let h = Harness::new(fx, Caller::new(1000, 1000), ScriptedSystem::new());
    apparmor(&h.context(), &mut facts)
}

#[test]
fn no_restriction_passes() {
    for value in [None, Some("0")] {
        let f = check(&fixture(value), Facts::default());
        assert_eq!(f.status, Status::Pass);
        assert_eq!(
            f.summary,
            "AppArmor does not restrict unprivileged user namespaces"
        );
        assert_eq!(
            f.observed("kernel.apparmor_restrict_unprivileged_userns"),
            Some(value.unwrap_or("absent"))
        );
    }
}

#[test]
fn restriction_with_a_granting_profile_passes() {
    let fx = fixture(Some("1"));
    fx.file(
        "/etc/apparmor.d/rootlesskit",
        "abi <abi/4.0>,\ninclude <tunables/global>\nprofile rootlesskit /usr/bin/rootlesskit flags=(unconfined) {\n  userns,\n}\n",
    );
    let f = check(&fx, facts_with("/usr/bin/rootlesskit"));
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(
        f.observed("profile_file"),
        Some("/etc/apparmor.d/rootlesskit")
    );
    assert_eq!(f.observed("profile"), Some("rootlesskit"));
}

#[test]
fn the_profile_must_attach_to_the_real_path() {
    let fx = fixture(Some("1"));
    fx.exe("/home/alice/bin/rootlesskit.real")
        .symlink("/home/alice/bin/rootlesskit", "rootlesskit.real")
        .file(
            "/etc/apparmor.d/home.alice.bin.rootlesskit",
            DOCKER_DOCS_PROFILE,
        );
    let f = check(&fx, facts_with("/home/alice/bin/rootlesskit"));
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert_eq!(
        f.observed("rootlesskit"),
        Some("/home/alice/bin/rootlesskit.real")
    );
    assert_eq!(
        f.observed("rootlesskit_found_as"),
        Some("/home/alice/bin/rootlesskit")
    );
}

#[test]
fn restriction_without_a_profile_fails_with_the_profile_to_write() {
    let fx = fixture(Some("1"));
    fx.exe("/usr/local/bin/rootlesskit");
    fx.file(
        "/etc/apparmor.d/usr.local.bin.rootlesskit",
        "/usr/local/bin/rootlesskit flags=(unconfined) {\n  capability,\n}\n",
    );
    let f = check(&fx, facts_with("/usr/local/bin/rootlesskit"));
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "AppArmor restricts unprivileged user namespaces and no profile in /etc/apparmor.d \
         grants `userns` to /usr/local/bin/rootlesskit"
    );
    assert_eq!(
        f.observed("profile_without_userns"),
        Some("`/usr/local/bin/rootlesskit` in /etc/apparmor.d/usr.local.bin.rootlesskit")
    );
    assert_eq!(f.observed("distribution"), Some("Ubuntu 24.04 LTS"));
    let fix = f.fix.as_ref().unwrap();
    assert!(fix.root);
    assert_eq!(
        fix.commands,
        [
            "sudo tee /etc/apparmor.d/usr.local.bin.rootlesskit >/dev/null <<'EOF'\n\
             abi <abi/4.0>,\n\
             include <tunables/global>\n\n\
             profile rootlesskit /usr/local/bin/rootlesskit flags=(unconfined) {\n  \
             userns,\n\n  \
             include if exists <local/rootlesskit>\n\
             }\n\
             EOF",
            "sudo apparmor_parser -r /etc/apparmor.d/usr.local.bin.rootlesskit"
        ]
    );
    assert!(f.why.as_ref().is_some_and(|w| w.contains("Ubuntu 23.10")));
}

#[test]
fn an_existing_profile_name_is_not_reused() {
    let fx = fixture(Some("1"));
    fx.file(
        "/etc/apparmor.d/rootlesskit",
        "profile rootlesskit /usr/bin/rootlesskit flags=(unconfined) {\n  userns,\n}\n",
    );
    fx.exe("/opt/rk/rootlesskit");
    let f = check(&fx, facts_with("/opt/rk/rootlesskit"));
    assert_eq!(f.status, Status::Fail);
    let cmd = &f.fix.as_ref().unwrap().commands[0];
    assert!(
        cmd.starts_with("sudo tee /etc/apparmor.d/opt.rk.rootlesskit "),
        "{cmd}"
    );
    assert!(cmd.contains("profile opt.rk.rootlesskit /opt/rk/rootlesskit flags=(unconfined)"));
    assert!(cmd.contains("<local/opt.rk.rootlesskit>"));
}

#[test]
fn restriction_without_rootlesskit_skips() {
    let f = check(&fixture(Some("1")), Facts::default());
    assert_eq!(f.status, Status::Skip);
    assert!(f.summary.contains("rootlesskit was not found"));
    assert_eq!(
        f.observed("kernel.apparmor_restrict_unprivileged_userns"),
        Some("1")
    );
}

#[test]
fn an_unknown_value_warns() {
    let f = check(&fixture(Some("2")), facts_with("/usr/bin/rootlesskit"));
    assert_eq!(f.status, Status::Warn);
}

#[test]
fn profile_text_quotes_paths_with_spaces() {
    assert!(
        profile_text("rootlesskit", "/opt/my tools/rootlesskit")
            .contains("profile rootlesskit \"/opt/my tools/rootlesskit\" flags=(unconfined) {")
    );
}
