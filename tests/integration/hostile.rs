//! `rootless-setup check` against hostile input and hostile plumbing: subid files that are not
//! regular files, huge and escape-laden lines, files of 100,000 lines, a closed output pipe and
//! selections that select nothing; and a `--config` that is no small regular file. Exit codes
//! are asserted exactly.
//!
//! The subid checks need a caller who is not root and has a passwd entry in the fixture. The
//! binary runs as the test's own uid, or as uid 1000 when the tests run as root (the fixture is
//! then made readable to it).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Stdio;

use assert_cmd::Command;
use rootless_setup_core::CheckId;
use rootless_setup_core::testing::Fixture;

/// The uid and gid the binary runs as: ours, or 1000 instead of root.
fn caller() -> (u32, u32) {
    let (uid, gid) = (
        nix::unistd::getuid().as_raw(),
        nix::unistd::getgid().as_raw(),
    );
    if uid == 0 { (1000, 1000) } else { (uid, gid) }
}

/// A host where `dev` (the caller) exists with a good home, and /etc/subuid is `subuid`.
fn host(subuid: &str) -> Fixture {
    let (uid, gid) = caller();
    let f = Fixture::new();
    f.file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        .file(
            "/etc/passwd",
            &format!("root:x:0:0::/root:/bin/sh\ndev:x:{uid}:{gid}::/home/dev:/bin/bash\n"),
        )
        .file("/etc/group", &format!("root:x:0:\ndev:x:{gid}:\n"))
        .file("/etc/subuid", subuid)
        .file("/etc/subgid", "dev:100000:65536\n")
        .dir("/home/dev")
        .meta("/home/dev", &format!("uid={uid} gid={gid} mode=0755"));
    std::fs::set_permissions(f.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    f
}

/// `rootless-setup check --root FIXTURE ARGS` as the caller, as a std command.
fn std_check(fixture: &Fixture, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("rootless-setup"));
    cmd.arg("check")
        .arg("--root")
        .arg(fixture.root())
        .args(args);
    cmd.env_remove("NO_COLOR");
    if nix::unistd::getuid().is_root() {
        let (uid, gid) = caller();
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn check(fixture: &Fixture, args: &[&str]) -> Command {
    Command::from_std(std_check(fixture, args))
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}

/// The one finding of a JSON report of one check.
fn finding(out: &std::process::Output) -> serde_json::Value {
    let v = json(out);
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(1), "{v}");
    v["findings"][0].clone()
}

#[test]
fn the_fixture_caller_passes_with_a_good_file() {
    let f = host("dev:100000:65536\n");
    let out = check(&f, &["--only", "subid", "--format", "json"])
        .assert()
        .code(0);
    let v = json(out.get_output());
    let statuses: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pass", "pass"], "{v}");
}

/// Turns a fixture's /etc/subuid into something else.
type Make<'a> = &'a dyn Fn(&Fixture);

#[test]
fn a_subuid_that_is_a_directory_a_symlink_loop_or_a_fifo_fails() {
    let directory = |f: &Fixture| {
        f.remove("/etc/subuid").dir("/etc/subuid");
    };
    let symlink_loop = |f: &Fixture| {
        f.remove("/etc/subuid").symlink("/etc/subuid", "subuid");
    };
    let fifo = |f: &Fixture| {
        f.remove("/etc/subuid");
        let mode = nix::sys::stat::Mode::from_bits_truncate(0o644);
        nix::unistd::mkfifo(&f.path("/etc/subuid"), mode).unwrap();
    };
    let cases: [(&str, Make<'_>); 3] = [
        ("a directory", &directory),
        ("a symbolic link loop", &symlink_loop),
        ("a FIFO", &fifo),
    ];
    for (what, make) in cases {
        let f = host("");
        make(&f);
        let out = check(&f, &["--only", "subid.uid", "--format", "json"])
            .timeout(std::time::Duration::from_secs(60))
            .assert()
            .code(1);
        let found = finding(out.get_output());
        assert_eq!(found["status"], "fail", "{what}: {found}");
        assert_eq!(
            found["summary"],
            format!("/etc/subuid is {what}, not a regular file"),
            "{found}"
        );
        let commands: Vec<&str> = found["fix"]["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(
            commands,
            [
                "sudo mv -T /etc/subuid /etc/subuid.not-a-file",
                "sudo install -m 0644 /dev/null /etc/subuid",
                "sudo usermod --add-subuids 165536-231071 dev",
            ],
            "{what}"
        );
    }
}

#[test]
fn a_10_mb_line_is_quoted_cut_not_echoed() {
    let f = host(&format!(
        "dev:100000:65536\nbob:{}:1\n",
        "9x".repeat(5_000_000)
    ));
    for format in ["human", "json"] {
        let out = check(&f, &["--only", "subid.uid", "--format", format])
            .assert()
            .code(0);
        let text = stdout(out.get_output());
        assert!(text.len() < 8_000, "{format}: {} bytes", text.len());
        assert!(text.contains("9x9x…"), "{format}: {text}");
    }
}

#[test]
fn a_100k_line_summary_is_cut_to_a_list() {
    let mut text = String::from("dev:100000:65536\n");
    text.push_str(&"bob:x:1\n".repeat(100_000));
    let f = host(&text);
    let out = check(&f, &["--only", "subid.uid", "--format", "json"])
        .assert()
        .code(0);
    let found = finding(out.get_output());
    assert_eq!(found["status"], "warn");
    assert_eq!(
        found["summary"],
        "dev has 65536 subordinate uids, but /etc/subuid has 100000 malformed line(s) of other \
         users (2, 3, 4, 5, 6, 7, 8, 9, 10, 11 … and 99990 more): /etc/subuid:2: the start `x` \
         is not a decimal number in `bob:x:1`"
    );
    // 8 facts, the first 10 malformed lines and their total.
    assert_eq!(found["observed"].as_array().map(Vec::len), Some(19));
    assert!(out.get_output().stdout.len() < 16_000);
}

#[test]
fn escapes_in_a_line_reach_the_terminal_as_text() {
    let f = host("dev:100000:65536\nevil\x1b]0;owned\x07:1:\x1b[2J\n");
    let out = check(&f, &["--only", "subid.uid"]).assert().code(0);
    let text = stdout(out.get_output());
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text}");
    assert!(
        text.contains(r"in `evil\x1b]0;owned\x07:1:\x1b[2J`"),
        "{text}"
    );
    // JSON keeps the characters, escaped by the JSON encoder.
    let out = check(&f, &["--only", "subid.uid", "--format", "json"])
        .assert()
        .code(0);
    let raw = stdout(out.get_output());
    assert!(raw.contains(r"\u001b]0;owned\u0007"), "{raw}");
    let summary = finding(out.get_output())["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        summary.contains("evil\u{1b}]0;owned\u{7}:1:\u{1b}[2J"),
        "{summary}"
    );
}

#[test]
fn twenty_thousand_copies_of_the_users_line_get_one_sed_range() {
    let f = host(&"dev:100000:65536\n".repeat(20_000));
    let out = check(&f, &["--only", "subid.uid", "--format", "json"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1);
    let found = finding(out.get_output());
    assert_eq!(found["status"], "fail");
    assert_eq!(
        found["fix"]["commands"],
        serde_json::json!(["sudo sed -i -e '2,20000d' /etc/subuid"])
    );
    assert_eq!(
        found["fix"]["summary"],
        "remove line(s) 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 … and 19989 more of /etc/subuid; then \
         remove data the engine created with the old ids (`rootless-setup uninstall --purge`), \
         because its files are owned by ids the user no longer has"
    );
}

/// Runs `check ARGS` with standard output a pipe whose reading end is already closed, so the
/// first write fails however small the output; returns the exit code.
fn exit_code_into_a_closed_pipe(fixture: &Fixture, args: &[&str]) -> Option<i32> {
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    let status = std_check(fixture, args)
        .stdout(Stdio::from(write))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    status.code()
}

#[test]
fn a_closed_pipe_keeps_the_verdict() {
    let f = host("");
    // Not ready: dev has no subordinate uids.
    check(&f, &["--only", "subid.uid"]).assert().code(1);
    for format in ["human", "json"] {
        assert_eq!(
            exit_code_into_a_closed_pipe(&f, &["--only", "subid.uid", "--format", format]),
            Some(1),
            "{format}"
        );
        // The whole report, not ready whoever runs it (no engine in the fixture).
        assert_eq!(
            exit_code_into_a_closed_pipe(&f, &["--format", format]),
            Some(1),
            "{format}"
        );
    }
    // Ready stays ready.
    assert_eq!(
        exit_code_into_a_closed_pipe(&f, &["--only", "subid.gid"]),
        Some(0)
    );
}

#[test]
fn an_empty_selection_is_a_usage_error() {
    let f = host("dev:100000:65536\n");
    let out = check(&f, &["--only", "subid.uid", "--skip", "subid.uid"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(
        err,
        "error: `--only subid.uid --skip subid.uid` selects no check, so there would be nothing \
         to report\n\
         help: skip fewer checks, or name more with `--only`\n\
         help: `rootless-setup explain --list` lists the ids and groups\n"
    );
    assert!(out.get_output().stdout.is_empty());

    let mut groups: Vec<&str> = CheckId::ALL.iter().map(|id| id.group()).collect();
    groups.dedup();
    let every_group = groups.join(",");
    let out = check(&f, &["--skip", &every_group]).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.starts_with("error: `--skip host.init,user,"),
        "names the option: {err}"
    );
    assert!(err.contains("` selects no check"), "{err}");
    assert!(err.contains("\nhelp: "), "{err}");
}

/// `--config` that is a FIFO, a link to `/dev/zero` or larger than 1 MiB: refused at once with
/// one `error:` line naming the file and the reason (it used to hang, or grow without bound).
#[test]
fn a_config_that_is_no_small_regular_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let zero = dir.path().join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let big = dir.path().join("big.toml");
    std::fs::write(&big, "#".repeat((1 << 20) + 1)).unwrap();
    for (path, why) in [
        (&fifo, "it is a FIFO, not a regular file"),
        (&zero, "it is a character device, not a regular file"),
        (
            &big,
            "it is larger than 1 MiB, the most this tool reads from such a file",
        ),
    ] {
        let out = Command::cargo_bin("rootless-setup")
            .unwrap()
            .args(["render", "--color", "never", "--config"])
            .arg(path)
            .env("HOME", dir.path())
            .timeout(std::time::Duration::from_secs(30))
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert_eq!(
            stderr,
            format!(
                "error: could not read the configuration file {}: {why}\n",
                path.display()
            )
        );
    }
}
