//! `cargo xtask bench inputs [--runs N]`: how the release binary copes with large hostile
//! inputs, without a box. It writes fixture host trees under `target/bench-inputs/` and runs
//! `rootless-setup check --root TREE` (and `render --root TREE --config FILE`) N times each after
//! one uncounted warm-up, timing the whole process (start-up included) on the wall clock.
//!
//! Each case has a budget (issue 8): 100,000 lines in each of /etc/subuid and /etc/subgid
//! within 50 ms for both subid checks, 20,000 copies of the user's line within 100 ms, a
//! configuration of 100,000 daemon flags rendered within 1 s. These are benchmarks, not tests:
//! the table says which medians are over budget and the command fails only if one is, or if a
//! run exits with an unexpected code. Results: a table on stdout and
//! `target/e2e/bench-inputs.json`.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use serde_json::json;

use crate::e2e;
use crate::util;

/// The uid and gid the binary runs as: the caller's, or 1000 when run as root (the subid
/// checks skip root, who needs no subordinate ids).
fn runner() -> (u32, u32) {
    // `/proc/self` belongs to the process's effective uid and gid.
    match fs::metadata("/proc/self").map(|m| (m.uid(), m.gid())) {
        Ok((uid, gid)) if uid != 0 => (uid, gid),
        _ => (1000, 1000),
    }
}

/// One benchmarked input.
struct Case {
    name: &'static str,
    budget_ms: f64,
    expect_code: i32,
    /// Arguments after the binary; `{root}` is replaced by the tree.
    args: Vec<String>,
    tree: PathBuf,
    samples: Vec<f64>,
    codes: Vec<i32>,
}

/// `cargo xtask bench inputs ARGS`.
pub fn main(args: &[String]) -> Result<()> {
    let runs = parse(args)?;
    let binary = e2e::build_binary()?;
    let base = util::project_root().join("target/bench-inputs");
    let _ = fs::remove_dir_all(&base);
    let mut cases = vec![
        subid_case(
            &base.join("spread"),
            "subid.uid + subid.gid, 100,000 lines each",
            50.0,
            0,
            &spread(),
        )?,
        subid_case(
            &base.join("copies"),
            "subid.uid + subid.gid, 20,000 copies of the user's line",
            100.0,
            1,
            &"dev:100000:65536\n".repeat(20_000),
        )?,
        render_case(&base)?,
    ];
    let (uid, gid) = runner();
    let load = || fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load_before = load();
    println!(
        "bench inputs: {runs} runs per case after one warm-up, as uid {uid}; load average {}",
        load_before.trim()
    );
    for case in &mut cases {
        for round in 0..=runs {
            let (ms, code) = time_once(&binary, case, uid, gid)?;
            if round > 0 {
                case.samples.push(ms);
                case.codes.push(code);
            }
        }
    }
    report(&cases, runs, [load_before.trim(), load().trim()])
}

fn parse(args: &[String]) -> Result<usize> {
    let usage = "usage: cargo xtask bench inputs [--runs N]";
    let runs = match args {
        [] => 20,
        [flag, n] if flag == "--runs" => n.parse().context(usage)?,
        [arg] if arg.starts_with("--runs=") => arg["--runs=".len()..].parse().context(usage)?,
        _ => bail!(usage),
    };
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    Ok(runs)
}

/// 100,000 users laid out without overlaps (40,000 ids each so they fit below 2^32), then the
/// caller's full block above them: both checks pass.
fn spread() -> String {
    let mut text = String::with_capacity(3_000_000);
    for i in 0..100_000u64 {
        let _ = writeln!(text, "user{i}:{}:40000", 100_000 + i * 40_000);
    }
    let _ = writeln!(text, "dev:{}:65536", 100_000 + 100_000 * 40_000u64);
    text
}

/// A tree where `dev` (the runner) has a good home, with `subid` as both subid files.
fn subid_case(
    tree: &Path,
    name: &'static str,
    budget_ms: f64,
    expect_code: i32,
    subid: &str,
) -> Result<Case> {
    let tree = tree.to_path_buf();
    host_tree(&tree)?;
    write(&tree, "etc/subuid", subid)?;
    write(&tree, "etc/subgid", subid)?;
    Ok(Case {
        name,
        budget_ms,
        expect_code,
        args: [
            "check", "--root", "{root}", "--only", "subid", "--format", "json",
        ]
        .map(str::to_owned)
        .to_vec(),
        tree,
        samples: vec![],
        codes: vec![],
    })
}

/// A tree with the engine's programs, and a configuration of 100,000 daemon flags (600 KB,
/// within the 1 MiB a configuration may have).
fn render_case(base: &Path) -> Result<Case> {
    let tree = base.join("render");
    host_tree(&tree)?;
    for program in [
        "dockerd",
        "dockerd-rootless.sh",
        "rootlesskit",
        "slirp4netns",
        "containerd",
        "docker",
        "newuidmap",
        "newgidmap",
    ] {
        write(&tree, &format!("usr/bin/{program}"), "#!/bin/sh\n")?;
        fs::set_permissions(
            tree.join("usr/bin").join(program),
            fs::Permissions::from_mode(0o755),
        )?;
    }
    let flags = vec!["\"-D\""; 100_000].join(", ");
    write(&tree, "config.toml", &format!("daemon-flags = [{flags}]\n"))?;
    Ok(Case {
        name: "render, 100,000 daemon flags",
        budget_ms: 1000.0,
        expect_code: 0,
        args: [
            "render",
            "--root",
            "{root}",
            "--config",
            "{root}/config.toml",
        ]
        .map(str::to_owned)
        .to_vec(),
        tree,
        samples: vec![],
        codes: vec![],
    })
}

/// os-release, passwd and group naming the runner `dev`, its home faked as its own through
/// `/.fixture-meta`.
fn host_tree(tree: &Path) -> Result<()> {
    let (uid, gid) = runner();
    write(tree, "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")?;
    write(
        tree,
        "etc/passwd",
        &format!("root:x:0:0::/root:/bin/sh\ndev:x:{uid}:{gid}::/home/dev:/bin/bash\n"),
    )?;
    write(tree, "etc/group", &format!("root:x:0:\ndev:x:{gid}:\n"))?;
    fs::create_dir_all(tree.join("home/dev"))?;
    write(
        tree,
        ".fixture-meta",
        &format!("/home/dev uid={uid} gid={gid} mode=0755\n"),
    )?;
    Ok(())
}

fn write(tree: &Path, path: &str, text: &str) -> Result<()> {
    let path = tree.join(path);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// Runs a case once as `uid`; returns the wall-clock milliseconds and the exit code.
fn time_once(binary: &Path, case: &Case, uid: u32, gid: u32) -> Result<(f64, i32)> {
    let root = case.tree.display().to_string();
    let mut cmd = Command::new(binary);
    cmd.args(case.args.iter().map(|a| a.replace("{root}", &root)))
        .env("HOME", case.tree.join("home/dev"))
        .env("PATH", "/usr/bin:/bin")
        .env_remove("XDG_CONFIG_HOME")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .uid(uid)
        .gid(gid);
    let start = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let code = out.status.code().unwrap_or(-1);
    if code != case.expect_code {
        bail!(
            "{}: exit code {code}, expected {}: {}",
            case.name,
            case.expect_code,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok((ms, code))
}

/// Prints the table and writes the JSON; `load` is /proc/loadavg before and after, since wall
/// clock times on a shared machine mean little without it.
fn report(cases: &[Case], runs: usize, load: [&str; 2]) -> Result<()> {
    println!(
        "\n{:<58} {:>8} {:>8} {:>8} {:>8}",
        format!("case ({runs} runs, ms wall clock)"),
        "min",
        "median",
        "max",
        "budget"
    );
    let mut entries = Vec::new();
    let mut over = Vec::new();
    for c in cases {
        let (min, median, max) = super::stats(&c.samples);
        let mark = if median <= c.budget_ms { "" } else { "  OVER" };
        println!(
            "{:<58} {min:>8.1} {median:>8.1} {max:>8.1} {:>8.0}{mark}",
            c.name, c.budget_ms
        );
        if median > c.budget_ms {
            over.push(c.name);
        }
        entries.push(json!({
            "name": c.name,
            "args": c.args,
            "budget_ms": c.budget_ms,
            "wall_ms": {"min": min, "median": median, "max": max, "samples": c.samples},
            "exit_codes": c.codes,
        }));
    }
    let path = util::project_root().join("target/e2e/bench-inputs.json");
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let doc = json!({
        "timing": "wall clock around the whole process (start-up included), output discarded",
        "warmup_runs": 1,
        "loadavg_before_after": load,
        "cases": entries,
    });
    fs::write(&path, serde_json::to_string_pretty(&doc)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!("\nbench inputs: wrote {}", path.display());
    if !over.is_empty() {
        bail!("median over budget: {}", over.join(", "));
    }
    Ok(())
}
