//! Tests of remembered versions: identity, lookup, replacement, the bound, and what a file may
//! hold.

use super::*;

fn identity(n: u64) -> Identity {
    Identity {
        dev: 1,
        ino: n,
        size: 100,
        mtime_ns: 1_700_000_000_000_000_000,
        ctime_ns: 1_700_000_000_000_000_000,
    }
}

fn answer(path: &str, n: u64, version: Option<&str>) -> Answer {
    Answer {
        path: PathBuf::from(path),
        args: vec!["--version".to_owned()],
        identity: identity(n),
        version: version.map(str::to_owned),
        variant: None,
    }
}

#[test]
fn an_answer_is_found_only_for_the_same_file_path_and_arguments() {
    let mut known = KnownVersions::default();
    assert!(known.remember([answer("/usr/sbin/dockerd", 7, Some("26.1.5"))]));
    let dockerd = Path::new("/usr/sbin/dockerd");
    assert_eq!(
        known.lookup(dockerd, &["--version"], &identity(7)),
        Some(Some("26.1.5"))
    );
    assert_eq!(known.lookup(dockerd, &["--version"], &identity(8)), None);
    assert_eq!(known.lookup(dockerd, &["version"], &identity(7)), None);
    assert_eq!(
        known.lookup(Path::new("/usr/bin/dockerd"), &["--version"], &identity(7)),
        None
    );
    let mut touched = identity(7);
    touched.ctime_ns += 1;
    assert_eq!(known.lookup(dockerd, &["--version"], &touched), None);
}

#[test]
fn a_newer_answer_replaces_the_older_and_the_same_one_changes_nothing() {
    let mut known = KnownVersions::default();
    known.remember([answer("/usr/bin/rootlesskit", 1, Some("1.1.0"))]);
    assert!(!known.remember([answer("/usr/bin/rootlesskit", 1, Some("1.1.0"))]));
    assert!(known.remember([answer("/usr/bin/rootlesskit", 2, Some("2.3.4"))]));
    assert_eq!(known.len(), 1);
    let path = Path::new("/usr/bin/rootlesskit");
    assert_eq!(known.lookup(path, &["--version"], &identity(1)), None);
    assert_eq!(
        known.lookup(path, &["--version"], &identity(2)),
        Some(Some("2.3.4"))
    );
}

#[test]
fn the_oldest_answers_go_beyond_the_bound() {
    let mut known = KnownVersions::default();
    known.remember((0..MAX_ENTRIES as u64 + 5).map(|n| answer(&format!("/opt/p{n}"), n, None)));
    assert_eq!(known.len(), MAX_ENTRIES);
    assert_eq!(
        known.lookup(Path::new("/opt/p4"), &["--version"], &identity(4)),
        None
    );
    assert_eq!(
        known.lookup(Path::new("/opt/p5"), &["--version"], &identity(5)),
        Some(None)
    );
}

#[test]
fn answers_that_no_program_could_give_are_not_remembered() {
    let mut known = KnownVersions::default();
    let bad = [
        answer("relative/dockerd", 1, Some("1.0")),
        answer("/usr/bin/x", 1, Some("")),
        answer("/usr/bin/x", 1, Some("1.0\n[Service]")),
        answer("/usr/bin/x", 1, Some(&"9".repeat(65))),
        answer("/usr/bin/x", 1, Some("1.0; rm -rf ~")),
    ];
    assert!(!known.remember(bad));
    assert!(known.is_empty());
    let with_args = |args: Vec<String>| Answer {
        args,
        ..answer("/usr/bin/x", 1, Some("1.0"))
    };
    let bad_args = [
        with_args(vec![String::new()]),
        with_args(vec!["-".repeat(33)]),
        with_args(vec!["-v".to_owned(); 5]),
        answer(&format!("/{}", "p".repeat(4096)), 1, Some("1.0")),
    ];
    assert!(!known.remember(bad_args));
    assert!(known.is_empty());
    assert!(known.remember([with_args(vec!["-".repeat(32); 4])]));
    let with_variant = |variant: &str| Answer {
        variant: Some(variant.to_owned()),
        ..answer("/usr/sbin/iptables", 1, Some("1.8.9"))
    };
    assert!(!known.remember([
        with_variant(""),
        with_variant("nf tables"),
        with_variant(&"x".repeat(65))
    ]));
    assert!(known.remember([with_variant("nf_tables")]));
    let id = identity(1);
    let iptables = Path::new("/usr/sbin/iptables");
    assert_eq!(
        known
            .answer(iptables, &["--version"], &id)
            .and_then(|a| a.variant.as_deref()),
        Some("nf_tables")
    );
    assert_eq!(
        known.answer(iptables, &["-V"], &id),
        None,
        "other arguments"
    );
    assert!(!known.is_empty());
}

#[test]
fn a_file_is_taken_only_whole_and_in_this_format() {
    let mut known = KnownVersions::default();
    known.remember([answer("/usr/sbin/dockerd", 7, Some("26.1.5"))]);
    assert_eq!(known.clone().checked(), Some(known.clone()));
    assert_eq!(known.for_file(), known, "what is written is what is known");
    let mut other = known.for_file();
    other.format = FORMAT + 1;
    assert_eq!(other.checked(), None);
    let mut tampered = known.for_file();
    tampered
        .answers
        .push(answer("/usr/bin/x", 1, Some("$(id)")));
    assert_eq!(tampered.checked(), None);
    let mut long = known.for_file();
    long.answers = (0..=MAX_ENTRIES as u64)
        .map(|n| answer("/usr/bin/x", n, None))
        .collect();
    assert_eq!(long.checked(), None);
}

#[test]
fn the_identity_of_a_file_follows_its_content_and_refuses_the_rest() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("prog");
    std::fs::write(&path, "#!/bin/sh\necho 1.0\n").expect("written");
    let first = Identity::of(&path).expect("a regular file");
    assert_eq!(Identity::of(&path), Some(first));
    std::fs::write(&path, "#!/bin/sh\necho 2.0.0\n").expect("rewritten");
    assert_ne!(Identity::of(&path), Some(first));
    assert_eq!(Identity::of(dir.path()), None);
    assert_eq!(Identity::of(&dir.path().join("missing")), None);
}
