//! The fault scenario: `install` and `uninstall` killed with SIGKILL at ten moments each, spread
//! over their measured run time, must leave a state from which the next `install --yes`
//! succeeds and the following `uninstall --yes` leaves no file, context, record or engine
//! process behind (and the docker context from before the first install current again).
//!
//! How a kill is placed: inside the box, as dev, the tool starts in a session of its own
//! (`setsid`), a `sleep` of the chosen delay runs beside it, then `kill -KILL` hits the tool
//! alone — exactly what an OOM kill or `kill -9` does: programs the tool started (the docker CLI,
//! a smoke run of rootlesskit) live on as orphans. The next run starts once they have exited
//! (polled with `pgrep -s`, bounded), as it would when a person re-runs the command. The delay
//! is the injected fault, not a wait for a state. The exit status tells whether the kill landed
//! (137) or the run had already finished.

use std::time::Duration;

use anyhow::{Context as _, Result, ensure};

use super::r#box::{Cgroup, Session};
use super::cmd::indent;
use super::install::{PREVIOUS_CONTEXT, make_previous_context, require_nothing_left};
use super::scenarios::{Ctx, Scenario};
use super::tree::Release;
use crate::e2e::r#box::BINARY_IN_BOX;
use crate::util::fmt_duration;

/// Moments per command.
const MOMENTS: u32 = 10;

/// Runs `rootless-setup ARGS` as its own session leader, SIGKILLs it after `$1` seconds, waits
/// (bounded) for its orphans, and prints `exit=N` and `settled`.
const KILL_SCRIPT: &str = r#"d=$1; shift
setsid "$@" >/dev/null 2>&1 &
pid=$!
sleep "$d"
kill -KILL "$pid" 2>/dev/null
wait "$pid"
echo "exit=$?"
i=0
while pgrep -s "$pid" >/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt 3000 ]; then echo "orphans of $pid still running after 30 s:"; pgrep -a -s "$pid"; exit 1; fi
    sleep 0.01
done
echo settled"#;

/// The fault scenarios, for [`super::scenarios::all`].
pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "faults-sigkill",
        about: "SIGKILL install and uninstall at 10 moments each: the next install and uninstall converge",
        setup: None,
        run: faults,
        cgroup: Some(Cgroup::V2),
        release: Some(Release::Bookworm),
    }]
}

/// How one killed run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// SIGKILL landed while it ran.
    Killed,
    /// It had finished before the kill.
    Finished,
}

/// Starts `rootless-setup ARGS` as dev and kills it after `delay`.
fn kill_after(cx: &Ctx<'_>, delay: Duration, args: &[&str]) -> Result<Outcome> {
    let secs = format!("{:.3}", delay.as_secs_f64());
    let mut argv = vec!["sh", "-c", KILL_SCRIPT, "sh", &secs, BINARY_IN_BOX];
    argv.extend_from_slice(args);
    let out = cx
        .bx
        .user(&cx.dev, Session::Login, &argv)
        .timeout(Duration::from_secs(180))
        .run()?;
    ensure!(
        out.success() && out.stdout.contains("settled"),
        "the killed run did not settle ({}):\n{}{}",
        out.describe_exit(),
        indent(&out.stdout),
        indent(&out.stderr)
    );
    Ok(if out.stdout.contains("exit=137") {
        Outcome::Killed
    } else {
        Outcome::Finished
    })
}

/// `install --yes` then `uninstall --yes` succeed and leave nothing.
fn converge(cx: &Ctx<'_>, what: &str) -> Result<()> {
    cx.dev_tool(&["install", "--yes"], 0)
        .with_context(|| format!("install after {what}"))?;
    cx.dev_tool(&["status", "--format", "json"], 0)
        .with_context(|| format!("status after the install that followed {what}"))?;
    cx.dev_tool(&["uninstall", "--yes"], 0)
        .with_context(|| format!("uninstall after {what}"))?;
    let dev = cx.dev.clone();
    require_nothing_left(cx, &dev, PREVIOUS_CONTEXT)
        .with_context(|| format!("after {what}, install and uninstall"))
}

/// The delays: `MOMENTS` points spread evenly inside `took`, none at its very start or end.
fn moments(took: Duration) -> Vec<Duration> {
    (1..=MOMENTS).map(|i| took * i / (MOMENTS + 1)).collect()
}

fn faults(cx: &mut Ctx<'_>) -> Result<()> {
    make_previous_context(cx)?;
    // The run times to spread the kills over, measured on this box: the shorter of two cycles,
    // so one slow first run (a cold cache) does not push most moments past the end.
    let mut took = [Duration::MAX; 2];
    for _ in 0..2 {
        let install = cx.dev_tool(&["install", "--yes"], 0)?;
        let uninstall = cx.dev_tool(&["uninstall", "--yes"], 0)?;
        took[0] = took[0].min(install.elapsed);
        took[1] = took[1].min(uninstall.elapsed);
        let dev = cx.dev.clone();
        require_nothing_left(cx, &dev, PREVIOUS_CONTEXT)?;
    }
    let [install, uninstall] = took;
    cx.note(format!(
        "measured: install {}, uninstall {} (the shorter of two)",
        fmt_duration(install),
        fmt_duration(uninstall)
    ));

    let mut killed = [0u32; 2];
    let mut failures: Vec<String> = Vec::new();
    for (i, delay) in moments(install).into_iter().enumerate() {
        let what = format!("install killed at {}", fmt_duration(delay));
        cx.bx.note(&what);
        if kill_after(cx, delay, &["install", "--yes"])? == Outcome::Killed {
            killed[0] += 1;
        }
        if let Err(e) = converge(cx, &what) {
            failures.push(format!("moment {} of install: {e:#}", i + 1));
            clean_up(cx);
        }
    }
    for (i, delay) in moments(uninstall).into_iter().enumerate() {
        let what = format!("uninstall killed at {}", fmt_duration(delay));
        cx.bx.note(&what);
        cx.dev_tool(&["install", "--yes"], 0)
            .with_context(|| format!("install before {what}"))?;
        if kill_after(cx, delay, &["uninstall", "--yes"])? == Outcome::Killed {
            killed[1] += 1;
        }
        if let Err(e) = converge(cx, &what) {
            failures.push(format!("moment {} of uninstall: {e:#}", i + 1));
            clean_up(cx);
        }
    }
    let runs = 2 * MOMENTS;
    cx.note(format!(
        "install killed {}/{MOMENTS} times, uninstall {}/{MOMENTS} (the rest had finished); \
         {} of {runs} moments converged (the next install and uninstall left nothing)",
        killed[0],
        killed[1],
        runs - u32::try_from(failures.len()).unwrap_or(runs)
    ));
    ensure!(
        failures.is_empty(),
        "{} of {runs} moments did not converge:\n{}",
        failures.len(),
        failures.join("\n")
    );
    ensure!(
        killed[0] >= MOMENTS / 2 && killed[1] >= MOMENTS / 2,
        "too few kills landed while the command ran ({killed:?}): the moments do not cover the run"
    );
    Ok(())
}

/// After a moment that did not converge, gets the box back to "nothing installed" as well as it
/// can, so the next moment starts clean: the tool's own uninstall, then by hand what it left.
fn clean_up(cx: &Ctx<'_>) {
    let _ = cx.dev_tool(&["uninstall", "--yes"], 0);
    let home = cx.dev.home.clone();
    let script = format!(
        "systemctl --user stop docker.service; systemctl --user disable docker.service; \
         rm -rf {home}/.config/systemd/user/docker.service {home}/.config/systemd/user/docker.service.d \
         {home}/.local/state/rootless-setup; systemctl --user daemon-reload; \
         docker context use {PREVIOUS_CONTEXT}; docker context rm -f rootless; true"
    );
    let _ = cx
        .bx
        .user(&cx.dev, Session::Login, &["sh", "-c", &script])
        .run();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_lie_strictly_inside_the_run() {
        let m = moments(Duration::from_millis(1100));
        assert_eq!(m.len(), 10);
        assert_eq!(m[0], Duration::from_millis(100));
        assert_eq!(m[9], Duration::from_millis(1000));
        assert!(m.windows(2).all(|w| w[0] < w[1]));
    }
}
