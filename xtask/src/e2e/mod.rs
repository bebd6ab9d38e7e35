//! `cargo xtask e2e`: the end-to-end suite. Each scenario gets a fresh box (a copy of the cached
//! Debian tree booted under `systemd-nspawn` with systemd as PID 1, see the `box` module) and drives
//! `rootless-setup` as an unprivileged user inside it ([`scenarios`]).

mod admin;
mod ansible;
pub mod r#box;
pub mod cmd;
mod containerd;
mod enter;
mod faults;
mod install;
mod json;
mod package;
mod podman;
mod prepare;
mod remote;
mod repair;
pub mod report;
pub mod scenarios;
mod soak;
pub mod tree;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::util::{self, fmt_duration};
use r#box::{BoxSpec, Cgroup, NspawnBox};
use scenarios::{Ctx, Scenario};
use tree::Release;

/// Usage of `cargo xtask e2e`.
pub const USAGE: &str = "\
usage: cargo xtask e2e [--release bookworm|trixie] [--cgroup v1|v2] [--repeat N] [--keep] [--list] [FILTER]

  --release R   Debian release of the box (default bookworm)
  --cgroup M    cgroup layout nspawn gives the box (default v1; v2 sets
                SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1)
  --repeat N    run the selected scenarios N times in a row (a fresh box each
                time) and count each one's failures (default 1)
  --keep        leave each box running and print how to enter it
  --list        list the scenarios and the tree cache path, run nothing
  FILTER        run only the scenarios whose name contains FILTER; the on-demand
                scenarios (the soaks) run only when FILTER contains `soak`";

/// Parsed `e2e` arguments.
#[derive(Debug, Clone)]
pub struct Options {
    /// Release and cgroup layout of every box.
    pub spec: BoxSpec,
    /// Keep boxes running after their scenario.
    pub keep: bool,
    /// Substring a scenario name must contain.
    pub filter: Option<String>,
    /// Only list.
    pub list: bool,
    /// How many times to run the selection.
    pub repeat: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            spec: BoxSpec {
                release: Release::Bookworm,
                cgroup: Cgroup::V1,
            },
            keep: false,
            filter: None,
            list: false,
            repeat: 1,
        }
    }
}

impl Options {
    /// Parses the arguments after `e2e`.
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut opts = Options::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next().cloned())
                    .with_context(|| format!("{flag} needs a value\n{USAGE}"))
            };
            match flag {
                "--release" => opts.spec.release = Release::parse(&value()?)?,
                "--cgroup" => opts.spec.cgroup = Cgroup::parse(&value()?)?,
                "--repeat" => opts.repeat = parse_repeat(&value()?)?,
                "--keep" => opts.keep = true,
                "--list" => opts.list = true,
                "-h" | "--help" => bail!("{USAGE}"),
                f if f.starts_with('-') => bail!("unknown option {f}\n{USAGE}"),
                _ if opts.filter.is_none() => opts.filter = Some(arg.clone()),
                _ => bail!("only one FILTER is allowed\n{USAGE}"),
            }
        }
        Ok(opts)
    }
}

/// `--repeat`'s value: 1 to [`MAX_REPEAT`].
fn parse_repeat(text: &str) -> Result<u32> {
    match text.parse::<u32>() {
        Ok(n) if (1..=MAX_REPEAT).contains(&n) => Ok(n),
        _ => bail!("--repeat takes a number from 1 to {MAX_REPEAT}, not {text:?}\n{USAGE}"),
    }
}

/// The most rounds `--repeat` accepts (each round boots a box per scenario).
const MAX_REPEAT: u32 = 1000;

/// The scenarios a FILTER selects, in run order: the suite's, and the on-demand ones when the
/// FILTER contains [`soak::ON_DEMAND`].
pub fn select(filter: Option<&str>) -> Vec<Scenario> {
    let on_demand = filter.is_some_and(|f| f.contains(soak::ON_DEMAND));
    scenarios::all()
        .into_iter()
        .chain(soak::scenarios().into_iter().filter(|_| on_demand))
        .filter(|s| filter.is_none_or(|f| s.name.contains(f)))
        .collect()
}

/// Totals of a suite run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that failed.
    pub failed: usize,
}

/// Why the suite cannot run here, if it cannot: it needs root, `systemd-nspawn`, `debootstrap`
/// and the util-linux/coreutils helpers.
pub fn preflight() -> Option<String> {
    match util::euid() {
        Some(0) => {}
        Some(uid) => return Some(format!("not running as root (euid {uid})")),
        None => return Some("cannot tell the effective uid".to_owned()),
    }
    let missing: Vec<&str> = [
        "systemd-nspawn",
        "debootstrap",
        "nsenter",
        "setpriv",
        "chroot",
    ]
    .into_iter()
    .filter(|tool| util::which(tool).is_none())
    .collect();
    if !missing.is_empty() {
        return Some(format!(
            "missing {} (apt-get install debootstrap systemd-container)",
            missing.join(", ")
        ));
    }
    None
}

/// `cargo xtask e2e ARGS`.
pub fn main(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let opts = Options::parse(args)?;
    if opts.list {
        println!(
            "tree cache: {}",
            tree::tree_path(opts.spec.release).display()
        );
        for s in scenarios::all().into_iter().chain(soak::scenarios()) {
            println!("{:<20} {}", s.name, s.about);
        }
        return Ok(());
    }
    if let Some(reason) = preflight() {
        bail!("cannot run the e2e suite: {reason}");
    }
    let summary = run(&opts)?;
    if summary.failed > 0 {
        bail!("{} e2e scenario(s) failed", summary.failed);
    }
    Ok(())
}

/// Builds the binary, ensures the tree and runs the selected scenarios, one fresh box each,
/// `opts.repeat` rounds in a row. Prints a line per scenario run and closes with
/// `e2e: N passed, M failed` (after several rounds, with each scenario's failure count).
pub fn run(opts: &Options) -> Result<Summary> {
    let selected = select(opts.filter.as_deref());
    if selected.is_empty() {
        bail!(
            "no scenario matches {:?} (see --list)",
            opts.filter.as_deref().unwrap_or("")
        );
    }
    // The build is this checkout's own: it need not hold up other checkouts' boxes.
    let binary = build_binary()?;
    if selected.iter().any(|s| s.name.starts_with(package::PREFIX)) {
        crate::dist::package(&binary)?;
    }
    let _lock = util::box_lock()?;
    // Trees a killed run left in the trash.
    let trash = util::project_root().join("target/e2e/trash");
    if let Ok(entries) = std::fs::read_dir(&trash) {
        for entry in entries.flatten() {
            util::remove_tree_later(&entry.path(), &trash)?;
        }
    }
    // One cached tree per release the selected scenarios need.
    let mut trees: Vec<(Release, PathBuf)> = Vec::new();
    for scenario in &selected {
        let release = scenario.spec(opts.spec).release;
        if !trees.iter().any(|(r, _)| *r == release) {
            trees.push((release, tree::ensure(release)?));
        }
    }
    println!(
        "e2e: {} scenario(s){}; default debian {} with cgroup {}",
        selected.len(),
        if opts.repeat > 1 {
            format!(" × {} rounds", opts.repeat)
        } else {
            String::new()
        },
        opts.spec.release,
        opts.spec.cgroup.name()
    );
    let mut summary = Summary::default();
    let mut failures = vec![0u32; selected.len()];
    for round in 1..=opts.repeat {
        if opts.repeat > 1 {
            println!("e2e: round {round} of {}", opts.repeat);
        }
        for (scenario, failed) in selected.iter().zip(&mut failures) {
            let spec = scenario.spec(opts.spec);
            let tree = trees
                .iter()
                .find(|(r, _)| *r == spec.release)
                .map(|(_, t)| t.as_path())
                .context("no tree for the scenario's release")?;
            if run_and_show(scenario, spec, opts.keep, tree, &binary) {
                summary.passed += 1;
            } else {
                summary.failed += 1;
                *failed += 1;
            }
        }
    }
    let cleanup = util::wait_for_removals();
    if cleanup > Duration::from_secs(1) {
        println!(
            "e2e: waited {} for box trees to be removed",
            fmt_duration(cleanup)
        );
    }
    if opts.repeat > 1 {
        for (scenario, failed) in selected.iter().zip(&failures) {
            println!(
                "e2e: {:<20} failed {failed} of {} runs",
                scenario.name, opts.repeat
            );
        }
    }
    println!("e2e: {} passed, {} failed", summary.passed, summary.failed);
    Ok(summary)
}

/// Runs one scenario in a fresh box and prints its PASS/FAIL line, notes and, on failure, the
/// error and where the logs are. Returns whether it passed.
fn run_and_show(
    scenario: &Scenario,
    spec: BoxSpec,
    keep: bool,
    tree: &std::path::Path,
    binary: &std::path::Path,
) -> bool {
    let start = Instant::now();
    let mut timings = Timings::default();
    let mut notes = Vec::new();
    let result = run_one(scenario, spec, keep, tree, binary, &mut timings, &mut notes);
    let where_ = format!("{}/cgroup {}", spec.release, spec.cgroup.name());
    let total = fmt_duration(start.elapsed());
    let phases = timings.describe();
    let verdict = if result.is_ok() { "PASS" } else { "FAIL" };
    println!(
        "{verdict} {:<20} {total:>7}  ({where_}; {phases})",
        scenario.name
    );
    for note in &notes {
        println!("     {note}");
    }
    if let Err(err) = &result {
        for line in format!("{err:#}").lines() {
            println!("     | {line}");
        }
        let dir = util::project_root()
            .join("target/e2e/run")
            .join(scenario.name);
        println!("     transcript: {}", dir.join("transcript.log").display());
        println!("     console:    {}", dir.join("console.log").display());
    }
    result.is_ok()
}

/// Where a scenario's time went.
#[derive(Debug, Default)]
struct Timings {
    copy: Option<Duration>,
    boot: Option<Duration>,
    test: Option<Duration>,
}

impl Timings {
    fn describe(&self) -> String {
        let parts: Vec<String> = [
            ("copy", self.copy),
            ("boot", self.boot),
            ("test", self.test),
        ]
        .into_iter()
        .filter_map(|(name, d)| d.map(|d| format!("{name} {}", fmt_duration(d))))
        .collect();
        parts.join(", ")
    }
}

fn run_one(
    scenario: &Scenario,
    spec: BoxSpec,
    keep: bool,
    tree: &std::path::Path,
    binary: &std::path::Path,
    timings: &mut Timings,
    notes: &mut Vec<String>,
) -> Result<()> {
    let start = Instant::now();
    let mut bx = NspawnBox::create(scenario.name, spec, tree, keep)?;
    bx.prepare(binary)?;
    if let Some(setup) = scenario.setup {
        setup(&bx).context("scenario setup")?;
    }
    timings.copy = Some(start.elapsed());
    timings.boot = Some(bx.boot()?);
    let start = Instant::now();
    let mut cx = Ctx::new(&bx)?;
    let result = (scenario.run)(&mut cx);
    timings.test = Some(start.elapsed());
    notes.append(&mut cx.notes);
    result
}

/// `cargo build --release --bin rootless-setup`; returns the binary's path. `E2E_BINARY=PATH`
/// uses a binary built elsewhere instead (no build).
pub fn build_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("E2E_BINARY") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("E2E_BINARY={} is not a file", path.display());
        }
        println!("e2e: using E2E_BINARY={} (not building)", path.display());
        return Ok(path);
    }
    let start = Instant::now();
    util::run(util::cargo().args(["build", "--release", "--bin", "rootless-setup"]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| util::project_root().join("target"), PathBuf::from);
    let binary = target.join("release/rootless-setup");
    if !binary.is_file() {
        bail!("cargo built no {}", binary.display());
    }
    println!(
        "e2e: built {} in {}",
        binary.display(),
        fmt_duration(start.elapsed())
    );
    Ok(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        Options::parse(&args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_flags_values_and_filter() {
        let o = parse(&["--release", "trixie", "--cgroup=v2", "--keep", "nosub"]).expect("valid");
        assert_eq!(o.spec.release, Release::Trixie);
        assert_eq!(o.spec.cgroup, Cgroup::V2);
        assert!(o.keep && !o.list);
        assert_eq!(o.filter.as_deref(), Some("nosub"));
        let d = parse(&[]).expect("valid");
        assert_eq!(
            (d.spec.release, d.spec.cgroup, d.filter),
            (Release::Bookworm, Cgroup::V1, None)
        );
    }

    #[test]
    fn repeat_takes_a_bounded_count() {
        assert_eq!(
            parse(&["--repeat", "20", "install"]).expect("valid").repeat,
            20
        );
        assert_eq!(parse(&["--repeat=1"]).expect("valid").repeat, 1);
        assert_eq!(parse(&[]).expect("valid").repeat, 1);
        for bad in ["0", "-1", "x", "1001", ""] {
            assert!(parse(&["--repeat", bad]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn soaks_run_only_when_the_filter_asks_for_them() {
        let names = |f: Option<&str>| -> Vec<&str> { select(f).iter().map(|s| s.name).collect() };
        assert_eq!(
            names(Some("smoke-soak")),
            vec!["smoke-soak-v1", "smoke-soak-v2", "smoke-soak-race"]
        );
        assert_eq!(names(Some("soak-race")), vec!["smoke-soak-race"]);
        assert!(!names(None).iter().any(|n| n.contains("soak")));
        assert!(names(Some("smoke")).is_empty());
        assert_eq!(names(Some("install-cycle-v2")), vec!["install-cycle-v2"]);
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(parse(&["--release"]).is_err());
        assert!(parse(&["--cgroup", "v3"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
        assert!(parse(&["a", "b"]).is_err());
    }
}
