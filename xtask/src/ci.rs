//! `cargo xtask ci`: everything CI runs, in order, each step named and timed: fmt, clippy, doc,
//! test, the Debian package with lintian, then the e2e suite. Every step runs
//! even when an earlier one failed (a formatting slip should not hide a test failure); the
//! command fails at the end if any step did.
//!
//! The e2e suite needs root, `systemd-nspawn` and `debootstrap`. Without them it is skipped with
//! a loud banner, and when `CI` is set that skip is a failure: CI must never pass without
//! having booted the boxes.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::util::{self, fmt_duration};
use crate::{dist, e2e};

/// How a step ended.
#[derive(Debug)]
enum Outcome {
    Ok,
    Failed(String),
    Skipped(String),
}

/// `cargo xtask ci`.
pub fn main(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        bail!("ci takes no arguments (got {arg:?})");
    }
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let start = Instant::now();
    let mut results = cargo_steps();
    results.push(package_step(in_ci));
    let (e2e, e2e_line) = e2e_step(in_ci);
    results.push(e2e);
    summary(start.elapsed(), &results, e2e_line)
}

/// One step's name, how long it took, and how it ended.
type StepResult = (&'static str, Duration, Outcome);

/// fmt, clippy, doc and test, each run whatever the one before it did.
fn cargo_steps() -> Vec<StepResult> {
    // Each step: its name, cargo's arguments, and RUSTDOCFLAGS (doc links are checked like lints).
    let steps: [(&str, &[&str], &str); 4] = [
        ("cargo fmt --check", &["fmt", "--all", "--check"], ""),
        (
            "cargo clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            "",
        ),
        (
            "cargo doc",
            &[
                "doc",
                "--workspace",
                "--no-deps",
                "--document-private-items",
            ],
            "-D warnings",
        ),
        ("cargo test", &["test", "--workspace"], ""),
    ];
    let mut results = Vec::new();
    for (name, args, rustdocflags) in steps {
        banner_start(name);
        let step = Instant::now();
        let mut cargo = util::cargo();
        cargo.args(args);
        if !rustdocflags.is_empty() {
            cargo.env("RUSTDOCFLAGS", rustdocflags);
        }
        let outcome = match util::run(&mut cargo) {
            Ok(()) => Outcome::Ok,
            Err(err) => Outcome::Failed(format!("{err:#}")),
        };
        banner_end(name, step.elapsed(), &outcome);
        results.push((name, step.elapsed(), outcome));
    }
    results
}

/// The Debian package built and linted (`cargo xtask dist` without refreshing docs/),
/// `cargo install --locked --path .`, and each crate built from its `cargo package` archive; a
/// failure in CI when dpkg-deb is missing. The e2e suite then installs the package in its boxes.
fn package_step(in_ci: bool) -> StepResult {
    let name = "package";
    banner_start(name);
    let step = Instant::now();
    let outcome = if util::which("dpkg-deb").is_none() {
        let why = "dpkg-deb is not installed (not a Debian machine?)".to_owned();
        if in_ci {
            Outcome::Failed(format!("skipped in CI: {why}"))
        } else {
            Outcome::Skipped(why)
        }
    } else {
        let built = e2e::build_binary().and_then(|binary| dist::release(&binary));
        match built {
            Ok(()) => Outcome::Ok,
            Err(err) => Outcome::Failed(format!("{err:#}")),
        }
    };
    banner_end(name, step.elapsed(), &outcome);
    (name, step.elapsed(), outcome)
}

/// The e2e suite (a failure in CI when it cannot run), and its count line.
fn e2e_step(in_ci: bool) -> (StepResult, Option<String>) {
    let name = "e2e";
    banner_start(name);
    let step = Instant::now();
    let mut e2e_line = None;
    let outcome = match e2e::preflight() {
        Some(reason) => {
            skip_banner(&reason, in_ci);
            if in_ci {
                Outcome::Failed(format!("skipped in CI: {reason}"))
            } else {
                Outcome::Skipped(reason)
            }
        }
        None => match e2e::run(&e2e::Options::default()) {
            Ok(summary) => {
                e2e_line = Some(format!(
                    "e2e: {} passed, {} failed",
                    summary.passed, summary.failed
                ));
                if summary.failed == 0 {
                    Outcome::Ok
                } else {
                    Outcome::Failed(format!("{} scenario(s) failed", summary.failed))
                }
            }
            Err(err) => Outcome::Failed(format!("{err:#}")),
        },
    };
    banner_end(name, step.elapsed(), &outcome);
    ((name, step.elapsed(), outcome), e2e_line)
}

/// The summary table, then the suite's own count as the last line; fails when a step failed.
fn summary(took: Duration, results: &[StepResult], e2e_line: Option<String>) -> Result<()> {
    println!("\n==== ci summary ({} in all)", fmt_duration(took));
    for (name, took, outcome) in results {
        let status = match outcome {
            Outcome::Ok => "ok".to_owned(),
            Outcome::Failed(why) => format!("FAILED: {}", first_line(why)),
            Outcome::Skipped(why) => format!("SKIPPED: {why}"),
        };
        println!("  {name:<18} {:>8}  {status}", fmt_duration(*took));
    }
    // The last line is the suite's own count, for tools that read closing lines.
    if let Some(line) = e2e_line {
        println!("{line}");
    }
    let failed = results
        .iter()
        .filter(|(_, _, o)| matches!(o, Outcome::Failed(_)))
        .count();
    if failed > 0 {
        bail!("{failed} step(s) failed");
    }
    Ok(())
}

fn banner_start(name: &str) {
    println!("\n==== {name}");
}

fn banner_end(name: &str, took: Duration, outcome: &Outcome) {
    let status = match outcome {
        Outcome::Ok => "ok",
        Outcome::Failed(_) => "FAILED",
        Outcome::Skipped(_) => "SKIPPED",
    };
    println!("==== {name}: {status} in {}", fmt_duration(took));
    if let Outcome::Failed(why) = outcome {
        for line in why.lines() {
            println!("     {line}");
        }
    }
}

fn skip_banner(reason: &str, in_ci: bool) {
    let rule = "#".repeat(72);
    println!("{rule}");
    println!("##");
    println!("##  THE END-TO-END SUITE DID NOT RUN: {reason}");
    println!("##  It needs root, systemd-nspawn and debootstrap; run .ci/run as root.");
    if in_ci {
        println!("##  CI is set: this skip is a FAILURE.");
    } else {
        println!("##  Nothing was tested against a real systemd/logind/rootless dockerd.");
    }
    println!("##");
    println!("{rule}");
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
