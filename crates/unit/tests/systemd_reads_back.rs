//! Property: whatever values a configuration carries (spaces, quotes, backslashes, `%`, `$`,
//! tabs, non-ASCII), systemd itself reads the rendered unit back as exactly those values.
//!
//! The oracle is the real systemd: `systemd --test --user --unit=docker.service` loads the
//! rendered unit and drop-in from a temporary home, offline (no bus, no manager; it only
//! determines the start-up transaction), and dumps the parsed `Environment=` entries and the
//! `ExecStart=` command line. It refuses to run as root, so as root it runs as `nobody`
//! through `setpriv`; it then fails to create a cgroup (no permission) and changes nothing.
//! The model-based property in `src/escape.rs` covers every character with many more cases.

// Test set-up failures end the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Flavour, fake_exe, host, write};
use proptest::prelude::*;
use rootless_setup_core::paths::unit_dir;
use rootless_setup_unit::{Overrides, Settings, drop_in_environment, plan, render};

fn systemd_binary() -> PathBuf {
    ["/usr/lib/systemd/systemd", "/lib/systemd/systemd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("systemd must be installed (Debian: the systemd package)")
}

fn make_readable(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let mode = if path.is_dir() { 0o755 } else { 0o644 };
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if !meta.file_type().is_symlink() {
            let keep_exec = meta.permissions().mode() & 0o111 != 0;
            std::fs::set_permissions(
                &path,
                std::fs::Permissions::from_mode(if keep_exec { 0o755 } else { mode }),
            )
            .unwrap();
        }
        if path.is_dir() {
            make_readable(&path);
        }
    }
}

/// What systemd parsed: the `Environment:` entries and the `ExecStart=` command line of
/// docker.service, from `systemd --test`.
fn systemd_reads(root: &Path) -> (Vec<String>, String) {
    let runtime = root.join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    make_readable(root);
    // Writable by `nobody`, whom the test runs systemd as when it runs as root.
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o777)).unwrap();
    let root_user = nix_is_root();
    let mut cmd = if root_user {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "timeout",
            "30",
        ]);
        c.arg(systemd_binary());
        c
    } else {
        let mut c = Command::new("timeout");
        c.arg("30").arg(systemd_binary());
        c
    };
    let out = cmd
        .args([
            "--test",
            "--user",
            "--unit=docker.service",
            "--log-level=err",
        ])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", root.join("home"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .output()
        .unwrap();
    let dump = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "systemd --test failed: {}\n{dump}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut in_unit = false;
    let mut env = Vec::new();
    let mut command = None;
    for line in dump.lines() {
        let trimmed = line.trim_start();
        if let Some(name) = trimmed.strip_prefix("-> Unit ") {
            in_unit = name == "docker.service:";
            continue;
        }
        if !in_unit {
            continue;
        }
        if let Some(e) = trimmed.strip_prefix("Environment: ") {
            env.push(e.to_owned());
        } else if let Some(c) = trimmed.strip_prefix("Command Line: ")
            && command.is_none()
        {
            command = Some(c.to_owned());
        }
    }
    (
        env,
        command.unwrap_or_else(|| panic!("no ExecStart in the dump:\n{dump}")),
    )
}

fn nix_is_root() -> bool {
    // SAFETY-free: read our own status.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Splits the dump's command line as systemd quotes it (`"…"` with `\"`, `\\`, `\$`, `` \` ``,
/// `\t`, `\n` escapes), then applies what systemd does at start-up: `$$` becomes `$`.
fn argv(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut word = String::new();
        if first == '"' {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('t') => word.push('\t'),
                        Some('n') => word.push('\n'),
                        Some(other) => word.push(other),
                        None => {}
                    },
                    c => word.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        words.push(expand(&word));
    }
    words
}

/// systemd's start-up expansion of one argument: `$$` is `$`; `$NAME` and `${NAME}` would be
/// replaced from the environment, which is never what a configured value meant, so they show
/// up as `<expanded NAME>` and fail the comparison.
fn expand(word: &str) -> String {
    let mut out = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('$') => {
                chars.next();
                out.push('$');
            }
            Some(n) if *n == '{' || n.is_ascii_alphabetic() || *n == '_' => {
                let name: String = std::iter::from_fn(|| {
                    chars.next_if(|c| {
                        c.is_ascii_alphanumeric() || *c == '_' || *c == '{' || *c == '}'
                    })
                })
                .collect();
                out.push_str(&format!("<expanded {name}>"));
            }
            _ => out.push('$'),
        }
    }
    out
}

/// Printable text with the characters that matter, no `/` (path segments) and no NUL.
fn text(min: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            3 => prop::sample::select(vec!['%', '$', '"', '\'', '\\', ' ', '\t', ';', '{', '}', 'h', '=', 'é', '字', '`', '!', '*']),
            2 => proptest::char::range(' ', '~').prop_filter("no slash", |c| *c != '/'),
        ],
        min..12,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn systemd_reads_back_exactly_what_was_configured(
        segment in text(1).prop_filter("a normal path segment", |s| s != "." && s != ".." && !s.starts_with(' ')),
        flags in proptest::collection::vec(text(1), 0..3),
        value in text(0),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let bin = root.join("engine bin");
        let found = host(Flavour::Modern, &bin, &bin);
        for b in found.binaries.values() {
            fake_exe(&b.path);
        }
        let data_root = format!("/srv/{segment}");
        let mut settings = Settings::default();
        settings.apply_flags(
            &Overrides {
                data_root: Some(data_root.clone()),
                daemon_flags: flags.clone(),
                environment: vec![format!("ODD_VALUE={value}")],
                ..Overrides::default()
            },
            Path::new("/home/u"),
        ).unwrap();
        let plan = plan(&settings, &found).unwrap();
        let files = render(&plan, &unit_dir(None, &root.join("home"))).unwrap();
        write(&files);

        let (env, command) = systemd_reads(root);
        let path: Vec<String> = plan.path.iter().map(|p| p.display().to_string()).collect();
        let mut expected_env = vec![format!("PATH={}", path.join(":"))];
        expected_env.extend(drop_in_environment(&plan).into_iter().map(|(k, v)| format!("{k}={v}")));
        prop_assert_eq!(env, expected_env);
        let mut expected_argv = vec![plan.program.display().to_string(), format!("--data-root={data_root}")];
        expected_argv.extend(flags);
        prop_assert_eq!(argv(&command), expected_argv);
    }
}
