//! Rendered files for a matrix of configurations: snapshots of exactly what `install` would
//! write, and every rendered unit (with its drop-in) run through the real validator,
//! `systemd-analyze verify --user`, which must print nothing at all.
//!
//! `systemd-analyze verify` exits 0 even for directives it could not parse and ignores, so any
//! line of output is a failure. It runs offline: `XDG_RUNTIME_DIR` and `HOME` point into a
//! temporary tree, no bus is contacted (it loads units from the search path only), and the
//! program `ExecStart=` names is a fake executable in that tree, because verify checks it
//! exists.

// Test set-up failures end the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::{
    CASES, CONTAINERD_CASES, Flavour, containerd_host, fake_exe, host, plan, show, snapshot_host,
    write,
};
use rootless_setup_core::paths::unit_dir;
use rootless_setup_unit::{FileKind, FileOrigin, classify, render};

#[test]
fn snapshots_of_the_matrix() {
    let dir = unit_dir(None, Path::new("/home/u"));
    for case in CASES {
        let files = render(&plan(case.file, &snapshot_host(case.flavour)), &dir).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            (files[0].kind, files[1].kind),
            (FileKind::Unit, FileKind::DropIn)
        );
        for f in &files {
            assert_eq!(
                classify(&f.contents),
                FileOrigin::Ours { edited: false },
                "{}",
                f.path.display()
            );
        }
        insta::assert_snapshot!(case.name, show(&files));
    }
}

#[test]
fn containerd_snapshots_one_unit_without_a_drop_in() {
    let dir = unit_dir(None, Path::new("/home/u"));
    for (name, file) in CONTAINERD_CASES {
        let files = render(&plan(file, &containerd_host(Path::new("/usr/bin"))), &dir).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].kind, FileKind::Unit);
        assert_eq!(files[0].path, dir.join("containerd.service"));
        assert_eq!(
            classify(&files[0].contents),
            FileOrigin::Ours { edited: false }
        );
        insta::assert_snapshot!(*name, show(&files));
    }
}

#[test]
fn every_containerd_unit_passes_systemd_analyze_verify_silently() {
    for (name, file) in CONTAINERD_CASES {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let found = containerd_host(&root.join("opt/engine bin"));
        for b in found.binaries.values() {
            fake_exe(&b.path);
        }
        let files = render(&plan(file, &found), &unit_dir(None, &root.join("home"))).unwrap();
        write(&files);
        let (ok, output) = verify(root, &files[0].path);
        assert!(
            ok && output.is_empty(),
            "case {name}: systemd-analyze verify said:\n{output}\nfor:\n{}",
            show(&files)
        );
    }
}

#[test]
fn the_unit_never_carries_the_callers_path() {
    // Whatever PATH the test runs with (cargo's directories in it), the unit's PATH is exactly
    // the binaries' directories and the system directories.
    let files = render(&plan("", &snapshot_host(Flavour::Debian)), Path::new("/u")).unwrap();
    let path_line = files[0]
        .contents
        .lines()
        .find(|l| l.starts_with("Environment=\"PATH="))
        .unwrap();
    assert_eq!(
        path_line,
        "Environment=\"PATH=/usr/share/docker.io/contrib:/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/bin\""
    );
}

/// Runs `systemd-analyze verify --user` on `unit` with a private runtime dir and home.
fn verify(root: &Path, unit: &Path) -> (bool, String) {
    let runtime = root.join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--user"])
        .arg(unit)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", root.join("home"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .expect("systemd-analyze must be installed (Debian: the systemd package); CI installs it");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn every_rendered_unit_passes_systemd_analyze_verify_silently() {
    for case in CASES {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let bin = root.join("opt/engine bin");
        let found = host(case.flavour, &bin, &bin);
        for b in found.binaries.values() {
            fake_exe(&b.path);
        }
        let files = render(
            &plan(case.file, &found),
            &unit_dir(None, &root.join("home")),
        )
        .unwrap();
        write(&files);
        let (ok, output) = verify(root, &files[0].path);
        assert!(
            ok && output.is_empty(),
            "case {}: systemd-analyze verify said:\n{output}\nfor:\n{}",
            case.name,
            show(&files)
        );
    }
}

#[test]
fn verify_is_not_blind() {
    // The same harness reports a directive systemd ignores, in the drop-in too: so silence above
    // means something.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let bin = root.join("bin");
    let found = host(Flavour::Debian, &bin, &bin);
    for b in found.binaries.values() {
        fake_exe(&b.path);
    }
    let mut files = render(&plan("", &found), &unit_dir(None, &root.join("home"))).unwrap();
    files[1].contents.push_str("NotADirective=1\n");
    write(&files);
    let (_, output) = verify(root, &files[0].path);
    assert!(output.contains("Unknown key 'NotADirective'"), "{output}");
    // And a missing program.
    std::fs::remove_file(bin.join("dockerd-rootless.sh")).unwrap();
    files[1].contents = files[1].contents.replace("NotADirective=1\n", "");
    write(&files);
    let (ok, output) = verify(root, &files[0].path);
    assert!(!ok && output.contains("is not executable"), "{output}");
}
