//! On-demand scenarios that repeat one thing hundreds of times in one box, to measure a rare
//! failure's rate (issue 8: `engine.smoke` failed once with a reset `.bp.sock`). They take
//! minutes, so the suite leaves them out: they run only when FILTER contains [`ON_DEMAND`]
//! (`cargo xtask e2e smoke-soak`).
//!
//! - `smoke-soak-v1` / `smoke-soak-v2`: `rootless-setup check --only engine.smoke --strict` as
//!   dev, [`SMOKE_RUNS`] times in a row with [`HOGS`] busy loops competing for the CPU; every run
//!   must pass (a warning counts as a failure).
//! - `smoke-soak-race`: the race itself, with rootlesskit run directly the way the smoke runs it
//!   and three children: one that exits at once, the smoke's script from before the fix (both
//!   race rootlesskit's port-driver start-up), and one that waits for rootlesskit's readiness
//!   (`child_pid` in the state directory), which must never fail.

use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};

use super::r#box::{BINARY_IN_BOX, Cgroup, Session};
use super::cmd::indent;
use super::report::CheckReport;
use super::scenarios::{Ctx, Scenario};
use crate::util::fmt_duration;

/// The word a FILTER must contain to select these scenarios.
pub const ON_DEMAND: &str = "soak";
/// Smoke runs per soak scenario.
pub const SMOKE_RUNS: usize = 500;
/// rootlesskit runs per child in the race scenario.
const RACE_RUNS: usize = 300;
/// Busy loops started in the box for the length of a soak (the box machine has 2 cores).
const HOGS: usize = 2;
/// The deadline of one whole loop.
const LOOP_DEADLINE: Duration = Duration::from_secs(1800);

/// The on-demand scenarios, for [`super::select`].
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "smoke-soak-v1",
            about: "on demand: 500 `check --only engine.smoke` in a row under CPU load, cgroup v1: 0 failures",
            setup: None,
            run: smoke_soak,
            cgroup: Some(Cgroup::V1),
            release: None,
        },
        Scenario {
            name: "smoke-soak-v2",
            about: "on demand: the same on cgroup v2",
            setup: None,
            run: smoke_soak,
            cgroup: Some(Cgroup::V2),
            release: None,
        },
        Scenario {
            name: "smoke-soak-race",
            about: "on demand: rootlesskit's .bp.sock race, children that exit at once vs one that waits for child_pid",
            setup: None,
            run: smoke_race,
            cgroup: None,
            release: None,
        },
    ]
}

/// Runs `argv` `runs` times in a row with `hogs` busy loops in the background, keeping the
/// output of every failed run as `DIR/N.out` and `DIR/N.err`; prints `runs=N failures=M`.
/// Arguments: RUNS HOGS DIR ARGV...
const LOOP: &str = r#"set -u
runs=$1 hogs=$2 dir=$3
shift 3
rm -rf "$dir" && mkdir -p "$dir" || exit 2
pids=
while [ "$hogs" -gt 0 ]; do
    (while :; do :; done) &
    pids="$pids $!"
    hogs=$((hogs - 1))
done
trap 'test -z "$pids" || kill $pids' EXIT
i=0 failures=0
while [ "$i" -lt "$runs" ]; do
    i=$((i + 1))
    if ! "$@" >"$dir/out" 2>"$dir/err"; then
        failures=$((failures + 1))
        mv "$dir/out" "$dir/$i.out" && mv "$dir/err" "$dir/$i.err"
    fi
done
echo "runs=$i failures=$failures"
"#;

/// What a loop found.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tally {
    runs: usize,
    /// (run number, stdout, stderr) of every failed run, in run order.
    failures: Vec<(usize, String, String)>,
}

/// `runs=500 failures=3` from the loop's output.
fn parse_totals(stdout: &str) -> Option<(usize, usize)> {
    let line = stdout.lines().rev().find(|l| l.starts_with("runs="))?;
    let (runs, failures) = line.split_once(' ')?;
    Some((
        runs.strip_prefix("runs=")?.parse().ok()?,
        failures.strip_prefix("failures=")?.parse().ok()?,
    ))
}

/// Runs [`LOOP`] as dev and collects the failed runs' output from the box's tree.
fn run_loop(cx: &Ctx<'_>, label: &str, runs: usize, argv: &[&str]) -> Result<(Tally, Duration)> {
    let dir = format!("{}/soak-{label}", cx.dev.home);
    let (runs_arg, hogs_arg) = (runs.to_string(), HOGS.to_string());
    let mut words = vec!["sh", "-c", LOOP, "soak", &runs_arg, &hogs_arg, &dir];
    words.extend_from_slice(argv);
    let out = cx
        .bx
        .user(&cx.dev, Session::Login, &words)
        .timeout(LOOP_DEADLINE)
        .run()?;
    let (done, failed) = parse_totals(&out.stdout).with_context(|| {
        format!(
            "the {label} loop ended without totals ({})\n{}{}",
            out.describe_exit(),
            indent(&out.stdout),
            indent(&out.stderr)
        )
    })?;
    ensure!(done == runs, "the {label} loop ran {done} of {runs} times");
    let host_dir = cx.bx.path(&dir);
    let mut failures = Vec::new();
    for n in 1..=runs {
        let out = host_dir.join(format!("{n}.out"));
        if out.exists() {
            let read =
                |p: &std::path::Path| fs::read(p).map(|b| String::from_utf8_lossy(&b).into_owned());
            failures.push((n, read(&out)?, read(&host_dir.join(format!("{n}.err")))?));
        }
    }
    ensure!(
        failures.len() == failed,
        "the {label} loop counted {failed} failures, {} kept their output",
        failures.len()
    );
    Ok((Tally { runs, failures }, out.elapsed))
}

/// rootlesskit's own error line (the parent's, else the child's), else the last line.
fn rootlesskit_reason(stderr: &str) -> String {
    let errors: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("[rootlesskit:") && l.contains("] error: "))
        .collect();
    errors
        .iter()
        .rev()
        .find(|l| l.starts_with("[rootlesskit:parent]"))
        .or(errors.last())
        .copied()
        .or_else(|| stderr.lines().rev().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("no output")
        .to_owned()
}

/// engine.smoke's status and summary from a `check --format json` run.
fn smoke_reason(stdout: &str, stderr: &str) -> String {
    match CheckReport::parse(stdout)
        .ok()
        .and_then(|r| r.get("engine.smoke").ok().cloned())
    {
        Some(f) => format!("{}: {}", f.status, f.summary),
        None => format!("no report: {}", rootlesskit_reason(stderr)),
    }
}

/// The reasons, digits replaced by `N` so that pids and run numbers group, counted.
fn histogram(reasons: impl IntoIterator<Item = String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for reason in reasons {
        let mut key = String::with_capacity(reason.len());
        for c in reason.chars() {
            if !c.is_ascii_digit() {
                key.push(c);
            } else if !key.ends_with('N') {
                key.push('N');
            }
        }
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// Notes the tally and its failure reasons; returns the number of failures.
fn report(
    cx: &mut Ctx<'_>,
    what: &str,
    tally: &Tally,
    elapsed: Duration,
    reason: fn(&str, &str) -> String,
) -> usize {
    let each = elapsed / u32::try_from(tally.runs.max(1)).unwrap_or(u32::MAX);
    cx.note(format!(
        "{what}: {} failures in {} runs ({} load loops; {}, {} each)",
        tally.failures.len(),
        tally.runs,
        HOGS,
        fmt_duration(elapsed),
        fmt_duration(each)
    ));
    let reasons = tally.failures.iter().map(|(_, out, err)| reason(out, err));
    for (text, count) in histogram(reasons) {
        cx.note(format!("  {count}× {text}"));
    }
    tally.failures.len()
}

/// `smoke-soak-v1` / `-v2`: every one of [`SMOKE_RUNS`] smoke runs passes.
fn smoke_soak(cx: &mut Ctx<'_>) -> Result<()> {
    let argv = [
        BINARY_IN_BOX,
        "check",
        "--only",
        "engine.smoke",
        "--strict",
        "--format",
        "json",
    ];
    let (tally, elapsed) = run_loop(cx, "smoke", SMOKE_RUNS, &argv)?;
    let failed = report(cx, "engine.smoke", &tally, elapsed, |out, err| {
        smoke_reason(out, err)
    });
    if let Some((n, out, err)) = tally.failures.first() {
        anyhow::bail!(
            "{failed} of {} smoke runs failed; the first, run {n}: {}\nstdout:\n{}stderr:\n{}",
            tally.runs,
            smoke_reason(out, err),
            indent(out),
            indent(err)
        );
    }
    Ok(())
}

/// The children of the race scenario: (label, script, whether it may fail).
const RACE_CHILDREN: [(&str, &str, bool); 3] = [
    ("exits-at-once", "true", true),
    (
        "pre-fix-script",
        "cat /proc/self/uid_map && { ip -o link show 2>/dev/null || cat /proc/net/dev; }",
        true,
    ),
    (
        "waits-for-child-pid",
        r#"until [ -s "$ROOTLESSKIT_STATE_DIR/child_pid" ]; do sleep 0.01; done"#,
        false,
    ),
];

/// `smoke-soak-race`: rootlesskit with the smoke's flags (slirp4netns, builtin port driver) and
/// each of [`RACE_CHILDREN`]; the child that waits for `child_pid` must never fail.
fn smoke_race(cx: &mut Ctx<'_>) -> Result<()> {
    let state_dir = format!("--state-dir=/run/user/{}/smoke-race", cx.dev.uid);
    let mut unexpected = Vec::new();
    for (label, script, may_fail) in RACE_CHILDREN {
        let argv = [
            "rootlesskit",
            "--net=slirp4netns",
            "--mtu=65520",
            "--port-driver=builtin",
            "--disable-host-loopback",
            "--copy-up=/etc",
            "--copy-up=/run",
            &state_dir,
            "/bin/sh",
            "-c",
            script,
        ];
        let started = Instant::now();
        let (tally, _) = run_loop(cx, label, RACE_RUNS, &argv)?;
        let failed = report(
            cx,
            &format!("rootlesskit, child {label}"),
            &tally,
            started.elapsed(),
            |_, err| rootlesskit_reason(err),
        );
        if failed > 0 && !may_fail {
            unexpected.push(format!("{label}: {failed} of {}", tally.runs));
        }
    }
    ensure!(
        unexpected.is_empty(),
        "a child that waits for rootlesskit's readiness failed: {}",
        unexpected.join(", ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_read_from_the_last_line() {
        assert_eq!(parse_totals("x\nruns=500 failures=3\n"), Some((500, 3)));
        assert_eq!(parse_totals("runs=5 failures=x\n"), None);
        assert_eq!(parse_totals("runs=5\n"), None);
        assert_eq!(parse_totals(""), None);
    }

    #[test]
    fn the_parents_error_is_the_reason() {
        let err = "time=x level=debug\n[rootlesskit:parent] error: read unix @->/run/user/1000/rootless-setup-smoke-1415/.bp.sock: read: connection reset by peer\n[rootlesskit:child ] error: x\n";
        assert_eq!(
            rootlesskit_reason(err),
            "[rootlesskit:parent] error: read unix @->/run/user/1000/rootless-setup-smoke-1415/.bp.sock: read: connection reset by peer"
        );
        assert_eq!(
            rootlesskit_reason("[rootlesskit:child ] error: y\nlast\n"),
            "[rootlesskit:child ] error: y"
        );
        assert_eq!(rootlesskit_reason("a\nb\n\n"), "b");
        assert_eq!(rootlesskit_reason(""), "no output");
    }

    #[test]
    fn reasons_group_across_pids() {
        let counts = histogram([
            "smoke-1415/.bp.sock: reset".to_owned(),
            "smoke-77/.bp.sock: reset".to_owned(),
            "EOF".to_owned(),
        ]);
        assert_eq!(
            counts.into_iter().collect::<Vec<_>>(),
            vec![
                ("EOF".to_owned(), 1),
                ("smoke-N/.bp.sock: reset".to_owned(), 2)
            ]
        );
    }

    #[test]
    fn a_report_that_is_not_json_falls_back_to_stderr() {
        assert_eq!(smoke_reason("{", "error: boom\n"), "no report: error: boom");
    }
}
