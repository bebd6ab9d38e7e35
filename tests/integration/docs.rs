//! `explain`, and freshness of the generated man pages and completions in docs/.

use std::path::Path;

use assert_cmd::Command;

fn bin() -> Command {
    Command::cargo_bin("rootless-setup").unwrap()
}

#[test]
fn explain_prints_the_section_and_lists_ids() {
    let out = bin().args(["explain", "subid.uid"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.starts_with("subid.uid"), "{text}");
    assert!(
        text.to_lowercase().contains("usermod"),
        "the fix is explained: {text}"
    );
    let out = bin().args(["explain", "--list"]).assert().success();
    let lines = String::from_utf8_lossy(&out.get_output().stdout)
        .lines()
        .count();
    assert_eq!(lines, rootless_setup_core::CheckId::ALL.len());
}

#[test]
fn explain_rejects_unknown_ids_with_help() {
    let out = bin().args(["explain", "cgroups"]).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.starts_with("error: unknown check id `cgroups` (did you mean `cgroup`?)"),
        "{err}"
    );
    assert!(
        err.contains("help: `rootless-setup explain --list`"),
        "{err}"
    );
}

fn assert_fresh(what: &str, committed: &Path) {
    let dir = tempfile::tempdir().unwrap();
    bin()
        .args(["generate", what])
        .arg(dir.path())
        .assert()
        .success();
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    for name in names {
        let fresh = std::fs::read(dir.path().join(&name)).unwrap();
        let old = std::fs::read(committed.join(&name)).unwrap_or_default();
        assert!(
            fresh == old,
            "{}/{name} is stale: run `cargo xtask dist` and commit the result",
            committed.display()
        );
    }
}

#[test]
fn man_pages_are_fresh() {
    assert_fresh(
        "man",
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/man"),
    );
}

#[test]
fn completions_are_fresh() {
    assert_fresh(
        "completions",
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/completions"),
    );
}
