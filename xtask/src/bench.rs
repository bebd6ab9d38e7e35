//! `cargo xtask bench [install] [--runs N] [--release R] [--cgroup M]`: in one prepared box,
//! times `rootless-setup check` (with and without `--skip engine.smoke`, each with remembered
//! versions and with `--no-cache`) against the old
//! `dockerd-rootless-setuptool.sh check --skip-iptables`, N runs each after one uncounted
//! warm-up, interleaved so drift hits every command alike. With `install`, it times
//! `install --yes` and `uninstall --yes` of both tools instead (each round: ours, then the old
//! one, each install followed by its uninstall).
//!
//! Timing happens inside the box: a tiny `bash` wrapper reads `$EPOCHREALTIME` before and after
//! the command (output discarded; no program of its own runs in between), so `nsenter`/`setpriv` start-up is not counted; the host-side
//! wall time around the whole `nsenter` call is recorded in the JSON as well. The full `check`
//! runs with `--format json`, its report kept, so each run also gives `engine.smoke`'s own
//! rootlesskit time (`elapsed_ms`) and what the rest of `check` adds beyond it. Results: a table
//! on stdout and `target/e2e/bench.json`.
//!
//! After the timed rounds of `check`, each command runs [`RSS_RUNS`] more times under a python3
//! wrapper that reports the peak resident set of what it ran: the largest of the command and
//! every program it ran (with `--no-cache`, `dockerd --version`'s), so an upper bound of the
//! command's own.
//!
//! `cargo xtask bench inputs [--runs N]` needs no box: see [`inputs`].

mod inputs;

use std::fs;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use serde_json::json;

use crate::e2e::r#box::{BINARY_IN_BOX, BoxUser, NspawnBox, Session};
use crate::e2e::{self, tree};
use crate::util::{self, fmt_duration};

/// Run by bash: `$EPOCHREALTIME` (seconds, microseconds) is read without running a program,
/// so the wrapper adds no process of its own to what it times.
const TIMER: &str =
    r#"s=$EPOCHREALTIME; "$@" >/dev/null 2>&1; rc=$?; e=$EPOCHREALTIME; echo "$s $e $rc""#;
/// [`TIMER`] keeping the standard output in [`KEPT_OUTPUT`] (for the smoke's own time).
const TIMER_KEEPING: &str = r#"s=$EPOCHREALTIME; "$@" >"$HOME/bench-output.json" 2>/dev/null; rc=$?; e=$EPOCHREALTIME; echo "$s $e $rc""#;
/// Where [`TIMER_KEEPING`] keeps the output, in dev's home.
const KEPT_OUTPUT: &str = "bench-output.json";
const OLD_TOOL_PATH: &str = "/home/dev/bin:/usr/local/bin:/usr/bin:/bin";
/// Runs its arguments and prints the largest resident set of any process it waited for
/// (`getrusage(RUSAGE_CHILDREN).ru_maxrss`, KiB): python3 is in the box (ansible-core's).
const PEAK_RSS: &str = "import resource, subprocess, sys; \
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); \
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
/// How many runs the peak RSS is the median of.
const RSS_RUNS: usize = 5;

/// One benchmarked command.
#[derive(Debug)]
struct Subject {
    name: &'static str,
    argv: Vec<&'static str>,
    path: Option<&'static str>,
    inside_ms: Vec<f64>,
    host_ms: Vec<f64>,
    exit_codes: Vec<i32>,
    /// Peak resident set per run, KiB (check subjects only).
    peak_kib: Vec<f64>,
    /// For a full `check --format json`: how long `engine.smoke`'s own rootlesskit run took in
    /// each run (its `elapsed_ms`), ms.
    smoke_ms: Vec<f64>,
}

/// `cargo xtask bench ARGS`.
pub fn main(args: &[String]) -> Result<()> {
    if args.first().is_some_and(|a| a == "inputs") {
        return inputs::main(&args[1..]);
    }
    let (runs, install_mode, opts) = parse(args)?;
    if let Some(reason) = e2e::preflight() {
        bail!("cannot run the benchmark: {reason}");
    }
    let _lock = util::box_lock()?;
    let binary = e2e::build_binary()?;
    let tree = tree::ensure(opts.spec.release)?;
    let mut bx = NspawnBox::create("bench", opts.spec, &tree, false)?;
    bx.prepare(&binary)?;
    let dev = bx.lookup_user("dev")?;
    install_old_tool(&bx, &dev)?;
    let boot = bx.boot()?;
    println!(
        "bench: box up in {}; {runs} runs per command after one warm-up",
        fmt_duration(boot)
    );

    let mut subjects = if install_mode {
        install_subjects()
    } else {
        check_subjects()
    };
    for round in 0..=runs {
        for s in &mut subjects {
            let (inside, host, code) = time_once(&bx, &dev, s)?;
            if round > 0 {
                s.inside_ms.push(inside);
                s.host_ms.push(host);
                s.exit_codes.push(code);
                if runs_smoke(s) {
                    s.smoke_ms.push(smoke_ms(&bx, &dev)?);
                }
            }
        }
    }
    if !install_mode {
        for _ in 0..RSS_RUNS {
            for s in &mut subjects {
                s.peak_kib.push(peak_rss_once(&bx, &dev, s)?);
            }
        }
    }
    report(&subjects, runs, &opts)
}

/// `check` of both tools; ours with the versions it remembers (warm: the warm-up round filled
/// `~/.cache/rootless-setup/versions.json`) and with `--no-cache` (cold: every program asked).
fn check_subjects() -> Vec<Subject> {
    vec![
        subject(
            "rootless-setup check",
            &[BINARY_IN_BOX, "check", "--format", "json"],
            None,
        ),
        subject(
            "rootless-setup check --no-cache",
            &[BINARY_IN_BOX, "check", "--no-cache"],
            None,
        ),
        subject(
            "rootless-setup check --skip engine.smoke",
            &[BINARY_IN_BOX, "check", "--skip", "engine.smoke"],
            None,
        ),
        subject(
            "rootless-setup check --skip engine.smoke --no-cache",
            &[
                BINARY_IN_BOX,
                "check",
                "--skip",
                "engine.smoke",
                "--no-cache",
            ],
            None,
        ),
        subject(
            "dockerd-rootless-setuptool.sh check --skip-iptables",
            &[
                "/home/dev/bin/dockerd-rootless-setuptool.sh",
                "check",
                "--skip-iptables",
            ],
            Some(OLD_TOOL_PATH),
        ),
    ]
}

/// `install` then `uninstall` of each tool, in this order every round, so each install starts
/// from a clean user (the old tool's uninstall removes its unit and context too).
fn install_subjects() -> Vec<Subject> {
    let old = "/home/dev/bin/dockerd-rootless-setuptool.sh";
    vec![
        subject(
            "rootless-setup install --yes",
            &[BINARY_IN_BOX, "install", "--yes"],
            None,
        ),
        subject(
            "rootless-setup uninstall --yes",
            &[BINARY_IN_BOX, "uninstall", "--yes"],
            None,
        ),
        subject(
            "dockerd-rootless-setuptool.sh install --skip-iptables",
            &[old, "install", "--skip-iptables"],
            Some(OLD_TOOL_PATH),
        ),
        subject(
            "dockerd-rootless-setuptool.sh uninstall --skip-iptables",
            &[old, "uninstall", "--skip-iptables"],
            Some(OLD_TOOL_PATH),
        ),
    ]
}

fn parse(args: &[String]) -> Result<(usize, bool, e2e::Options)> {
    let mut runs = 10;
    let mut install_mode = false;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.split_once('=') {
            Some(("--runs", v)) => runs = v.parse().context("--runs takes a number")?,
            _ if arg == "--runs" => {
                runs = it
                    .next()
                    .context("--runs needs a value")?
                    .parse()
                    .context("--runs takes a number")?;
            }
            _ if arg == "install" => install_mode = true,
            _ => rest.push(arg.clone()),
        }
    }
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let opts = e2e::Options::parse(&rest)?;
    if opts.filter.is_some() || opts.keep || opts.list {
        bail!("usage: cargo xtask bench [install] [--runs N] [--release R] [--cgroup v1|v2]");
    }
    Ok((runs, install_mode, opts))
}

fn subject(name: &'static str, argv: &[&'static str], path: Option<&'static str>) -> Subject {
    Subject {
        name,
        argv: argv.to_vec(),
        path,
        inside_ms: vec![],
        host_ms: vec![],
        exit_codes: vec![],
        peak_kib: vec![],
        smoke_ms: vec![],
    }
}

/// The old tool as DESIGN.md describes: both scripts in `~dev/bin`, with `docker` linked next
/// to them (the setuptool looks for the client beside itself).
pub(crate) fn install_old_tool(bx: &NspawnBox, dev: &BoxUser) -> Result<()> {
    let bin = format!("{}/bin", dev.home);
    for script in ["dockerd-rootless-setuptool.sh", "dockerd-rootless.sh"] {
        let from = bx.path(&format!("/usr/share/docker.io/contrib/{script}"));
        bx.install_file(&from, &format!("{bin}/{script}"), 0o755)?;
    }
    let link = bx.path(&format!("{bin}/docker"));
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink("/usr/bin/docker", &link)?;
    util::run_quiet(
        Command::new("chown")
            .args(["-hR", &format!("{}:{}", dev.uid, dev.gid)])
            .arg(bx.path(&bin)),
    )?;
    Ok(())
}

/// Runs a subject as dev under `wrapper` (which runs its arguments), with the subject's `PATH`.
fn wrapped(
    bx: &NspawnBox,
    dev: &BoxUser,
    s: &Subject,
    wrapper: &[&str],
) -> Result<crate::util::Captured> {
    let mut argv = wrapper.to_vec();
    argv.extend_from_slice(&s.argv);
    let mut cmd = bx
        .user(dev, Session::Login, &argv)
        .timeout(Duration::from_secs(300));
    if let Some(path) = s.path {
        cmd = cmd.env("PATH", path);
    }
    cmd.run()
}

/// Whether `s` is a full `check` of ours whose JSON report gives the smoke's own time.
fn runs_smoke(s: &Subject) -> bool {
    s.argv.first() == Some(&BINARY_IN_BOX)
        && s.argv.contains(&"json")
        && !s.argv.contains(&"engine.smoke")
}

/// Runs a subject once; returns (ms measured inside the box, ms measured on the host, exit code).
fn time_once(bx: &NspawnBox, dev: &BoxUser, s: &Subject) -> Result<(f64, f64, i32)> {
    let timer = if runs_smoke(s) { TIMER_KEEPING } else { TIMER };
    let out = wrapped(bx, dev, s, &["bash", "-c", timer, "bench-timer"])?;
    let fields: Vec<&str> = out.stdout.split_whitespace().collect();
    let parsed = match fields[..] {
        [start, end, code] => start
            .parse::<f64>()
            .ok()
            .zip(end.parse::<f64>().ok())
            .zip(code.parse::<i32>().ok()),
        _ => None,
    };
    let Some(((start, end), code)) = parsed else {
        bail!(
            "timing wrapper printed {:?} ({})",
            out.stdout,
            out.describe_exit()
        );
    };
    Ok(((end - start) * 1e3, out.elapsed.as_secs_f64() * 1e3, code))
}

/// The `elapsed_ms` of `engine.smoke` in the report [`TIMER_KEEPING`] kept: the smoke's own
/// rootlesskit run, which the rest of `check` should hide under.
fn smoke_ms(bx: &NspawnBox, dev: &BoxUser) -> Result<f64> {
    let kept = format!("{}/{KEPT_OUTPUT}", dev.home);
    let out = bx.user(dev, Session::Login, &["cat", &kept]).run()?;
    let report: serde_json::Value = serde_json::from_str(&out.stdout)
        .with_context(|| format!("the kept report {kept} is not JSON: {}", out.stdout))?;
    let smoke = report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == "engine.smoke"))
        .with_context(|| format!("no engine.smoke finding in {kept}"))?;
    smoke["observed"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["key"] == "elapsed_ms"))
        .and_then(|o| o["value"].as_str()?.parse().ok())
        .with_context(|| format!("engine.smoke has no elapsed_ms in {kept}: {smoke}"))
}

/// Runs a subject once under [`PEAK_RSS`]; returns its peak resident set in KiB.
fn peak_rss_once(bx: &NspawnBox, dev: &BoxUser, s: &Subject) -> Result<f64> {
    let out = wrapped(bx, dev, s, &["python3", "-c", PEAK_RSS])?;
    out.stdout.trim().parse().with_context(|| {
        format!(
            "peak RSS wrapper printed {:?} ({})",
            out.stdout,
            out.describe_exit()
        )
    })
}

fn stats(samples: &[f64]) -> (f64, f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let min = sorted.first().copied().unwrap_or(0.0);
    let max = sorted.last().copied().unwrap_or(0.0);
    (min, util::median(&sorted), max)
}

fn report(subjects: &[Subject], runs: usize, opts: &e2e::Options) -> Result<()> {
    println!(
        "\n{:<52} {:>9} {:>9} {:>9}  exit codes  peak RSS (median of {RSS_RUNS})",
        format!("command ({runs} runs, ms inside the box)"),
        "min",
        "median",
        "max"
    );
    let mut entries = Vec::new();
    for s in subjects {
        let (min, median, max) = stats(&s.inside_ms);
        let (hmin, hmedian, hmax) = stats(&s.host_ms);
        let mut codes = s.exit_codes.clone();
        codes.sort_unstable();
        codes.dedup();
        let codes: Vec<String> = codes.iter().map(i32::to_string).collect();
        let peak = (!s.peak_kib.is_empty()).then(|| stats(&s.peak_kib));
        println!(
            "{:<52} {min:>9.1} {median:>9.1} {max:>9.1}  {:<10}  {}",
            s.name,
            codes.join(","),
            peak.map_or_else(String::new, |(_, m, _)| format!("{:.1} MiB", m / 1024.0))
        );
        let overhead: Vec<f64> = s
            .inside_ms
            .iter()
            .zip(&s.smoke_ms)
            .map(|(all, smoke)| all - smoke)
            .collect();
        if !overhead.is_empty() {
            let (omin, omedian, omax) = stats(&overhead);
            let (smin, smedian, smax) = stats(&s.smoke_ms);
            println!(
                "{:<52} {smin:>9.1} {smedian:>9.1} {smax:>9.1}",
                "  of which engine.smoke's own rootlesskit run"
            );
            println!(
                "{:<52} {omin:>9.1} {omedian:>9.1} {omax:>9.1}",
                "  the rest (check minus that run, per run)"
            );
        }
        entries.push(json!({
            "name": s.name,
            "argv": s.argv,
            "runs": s.inside_ms.len(),
            "inside_ms": {"min": min, "median": median, "max": max, "samples": s.inside_ms},
            "host_wall_ms": {"min": hmin, "median": hmedian, "max": hmax, "samples": s.host_ms},
            "exit_codes": s.exit_codes,
            "peak_rss_kib": s.peak_kib,
            "smoke_own_ms": s.smoke_ms,
            "beyond_smoke_ms": overhead,
        }));
    }
    let doc = json!({
        "release": opts.spec.release.name(),
        "cgroup": opts.spec.cgroup.name(),
        "timing": "inside_ms: bash's $EPOCHREALTIME around the command inside the box, output discarded; \
                   host_wall_ms: wall time of the whole nsenter+setpriv call on the host",
        "warmup_runs": 1,
        "commands": entries,
    });
    let file = if subjects.iter().any(|s| s.name.contains("install")) {
        "bench-install.json"
    } else {
        "bench.json"
    };
    let path = util::project_root().join("target/e2e").join(file);
    fs::write(&path, serde_json::to_string_pretty(&doc)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!("\nbench: wrote {}", path.display());
    Ok(())
}
