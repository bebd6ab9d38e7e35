//! `--version`: the release and the build's commit, and the build script's rules for where the
//! commit comes from (a checkout of this project, a `cargo package` tarball, neither).

use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;

/// The build script itself, so its rules are tested on trees made here.
#[allow(dead_code)]
#[path = "../../build.rs"]
mod build_script;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Process::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A fresh repository at `dir` with one commit, dated 2026-12-06.
fn repository(dir: &Path) -> String {
    git(dir, &["init", "-q"]);
    std::fs::write(dir.join("Cargo.toml"), "[package]\n").unwrap();
    git(dir, &["add", "Cargo.toml"]);
    let date = "2026-12-06T10:00:00+00:00";
    let out = Process::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(["commit", "-q", "-m", "one"])
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_AUTHOR_DATE", date)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    git(dir, &["log", "-1", "--format=%h"])
}

#[test]
fn version_names_the_release_and_this_checkouts_commit() {
    let out = Command::cargo_bin("rootless-setup")
        .unwrap()
        .arg("--version")
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let release = env!("CARGO_PKG_VERSION");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Built from a checkout (every CI run is one): the commit and its date; from a tarball: none.
    let want = match build_script::from_git(manifest) {
        Some(build) => format!("rootless-setup {release} ({build})\n"),
        None => format!("rootless-setup {release}\n"),
    };
    assert_eq!(text, want);
    if manifest.join(".git").exists() {
        let head = git(manifest, &["log", "-1", "--format=%h %cs"]);
        assert_eq!(text, format!("rootless-setup {release} ({head})\n"));
    }
}

#[test]
fn a_checkout_of_this_tree_gives_its_commit_and_date() {
    let dir = tempfile::tempdir().unwrap();
    let hash = repository(dir.path());
    assert_eq!(
        build_script::from_git(dir.path()),
        Some(format!("{hash} 2026-12-06"))
    );
}

#[test]
fn a_tree_inside_another_projects_checkout_has_no_commit() {
    let dir = tempfile::tempdir().unwrap();
    repository(dir.path());
    let unpacked = dir.path().join("rootless-setup-0.1.0");
    std::fs::create_dir(&unpacked).unwrap();
    assert_eq!(build_script::from_git(&unpacked), None);
}

#[test]
fn a_tree_that_is_no_checkout_has_no_commit() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(build_script::from_git(dir.path()), None);
}

#[test]
fn a_packaged_crate_gives_the_commit_cargo_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let info =
        format!("{{\n  \"git\": {{\n    \"sha1\": \"{sha}\"\n  }},\n  \"path_in_vcs\": \"\"\n}}");
    std::fs::write(dir.path().join(".cargo_vcs_info.json"), info).unwrap();
    assert_eq!(
        build_script::from_vcs_info(dir.path()),
        Some("0123456".to_owned())
    );
    for bad in [
        "{\"git\": {\"sha1\": \"0123abc\"}}",
        "{\"git\": {}}",
        "not json",
        "{\"sha1\": \"zz23456789abcdef0123456789abcdef01234567\"}",
    ] {
        std::fs::write(dir.path().join(".cargo_vcs_info.json"), bad).unwrap();
        assert_eq!(build_script::from_vcs_info(dir.path()), None, "{bad}");
    }
    std::fs::remove_file(dir.path().join(".cargo_vcs_info.json")).unwrap();
    assert_eq!(build_script::from_vcs_info(dir.path()), None);
}
