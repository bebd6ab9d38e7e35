//! The result document of `--format json` from the binary itself: `uninstall` with nothing
//! installed (a temporary home, no bus reachable: the user and system bus addresses point at
//! nothing, so no real bus is asked), and `fix --apply` refusals against fixture trees. Standard
//! output is exactly one document, standard error empty.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Output};

use rootless_setup_core::testing::Fixture;
use serde_json::Value;

/// The uid the binary runs as when the tests run as root (who is refused): `nobody`.
const NOBODY: u32 = 65534;

/// `rootless-setup ARGS` with a clean environment whose home is `home` and whose buses do not
/// exist; as `nobody` when the tests run as root.
fn isolated(home: &Path, args: &[&str]) -> Output {
    let nowhere = format!("unix:path={}", home.join("no-bus").display());
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("rootless-setup"));
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/nonexistent")
        .env("XDG_RUNTIME_DIR", home.join("run"))
        .env("DBUS_SESSION_BUS_ADDRESS", &nowhere)
        .env("DBUS_SYSTEM_BUS_ADDRESS", &nowhere)
        .env("DOCKER_CONFIG", home.join(".docker"));
    if nix::unistd::getuid().is_root() {
        std::os::unix::fs::chown(home, Some(NOBODY), Some(NOBODY)).unwrap();
        cmd.uid(NOBODY).gid(NOBODY);
    }
    cmd.output().unwrap()
}

/// The one document on standard output; standard error is empty.
fn document(out: &Output) -> Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr, "", "standard error is not empty");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "standard output is not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn uninstall_with_nothing_installed_is_ok_and_changed_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Open to nobody on the way in; the home itself becomes theirs.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let out = isolated(&home, &["uninstall", "--yes", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc = document(&out);
    let uid = if nix::unistd::getuid().is_root() {
        NOBODY
    } else {
        nix::unistd::getuid().as_raw()
    };
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["command"], "uninstall");
    assert_eq!(doc["engine"], "docker");
    assert_eq!(doc["uid"], uid);
    assert!(doc["user"].as_str().is_some_and(|u| !u.is_empty()), "{doc}");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["changed"], false);
    assert_eq!(doc["dry_run"], false);
    assert_eq!(doc["steps"], serde_json::json!([]));
    assert_eq!(doc["error"], Value::Null);
    // Nothing left behind: the lock and its directories went with the run.
    let left: Vec<_> = std::fs::read_dir(&home).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn root_is_refused_inside_the_document() {
    if !nix::unistd::getuid().is_root() {
        return; // only root is refused for being root
    }
    let out = Command::new(assert_cmd::cargo::cargo_bin("rootless-setup"))
        .args(["uninstall", "--dry-run", "--format", "json"])
        .env("HOME", "/root")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc = document(&out);
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["uid"], 0);
    assert_eq!(doc["error"]["id"], "root-refused");
    assert_eq!(
        doc["error"]["help"][0],
        "run it as the user who installed the engine (ssh or `machinectl shell USER@`)"
    );
}

/// A Debian tree with alice (no subordinate ids) and a system account.
fn host() -> Fixture {
    let fx = Fixture::new();
    fx.file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        .file(
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\n\
             daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
             alice:x:1000:1000::/home/alice:/bin/bash\n",
        )
        .file("/etc/group", "alice:x:1000:\n")
        .file("/etc/subuid", "")
        .file("/etc/subgid", "")
        .exe("/usr/sbin/usermod")
        .dir("/home/alice")
        .meta("/home/alice", "uid=1000 gid=1000 mode=0700");
    fx
}

/// `fix --user NAME --apply --yes --format json --root TREE`.
fn apply(fx: &Fixture, user: &str) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin("rootless-setup"))
        .args([
            "fix", "--user", user, "--apply", "--yes", "--format", "json",
        ])
        .arg("--root")
        .arg(fx.root())
        .output()
        .unwrap()
}

#[test]
fn fix_apply_refusals_are_documents_with_their_ids() {
    let fx = host();
    for (user, id, uid) in [
        ("alice", "usage", Value::from(1000)),
        ("daemon", "account-refused", Value::from(1)),
        ("mallory", "unknown-user", Value::Null),
    ] {
        let out = apply(&fx, user);
        assert_eq!(out.status.code(), Some(2), "{user}: {out:?}");
        let doc = document(&out);
        assert_eq!(doc["command"], "fix", "{user}");
        assert_eq!(doc["user"], user, "{user}");
        assert_eq!(doc["uid"], uid, "{user}");
        assert_eq!(doc["engine"], "docker", "{user}");
        assert_eq!(doc["ok"], false, "{user}");
        assert_eq!(doc["changed"], false, "{user}");
        assert_eq!(doc["error"]["id"], id, "{user}: {doc}");
    }
}

#[test]
fn format_json_without_apply_is_a_usage_error() {
    let fx = host();
    let out = Command::new(assert_cmd::cargo::cargo_bin("rootless-setup"))
        .args(["fix", "--format", "json", "--root"])
        .arg(fx.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--apply"));
}
