//! `fix --apply`: ask (on a terminal, unless `--yes`), run the shown script as root with
//! `sudo -- sh -s` (the script on standard input; plain `sh -s` when already root), check again
//! and print the checks whose status changed. The run holds the user's install lock
//! (`crate::state::lock`), so it never overlaps an install or uninstall.

use rootless_setup_core::process::{self, Attached, Invocation};
use rootless_setup_core::{CheckId, Host, Report, Status};
use rootless_setup_fix::{Plan, Step};

use super::Run;
use crate::prompt::Answer;
use crate::report::shown;
use crate::results::{ErrorId, ErrorReport, Outcome, Results, StepResult};
use crate::style::{Style, hinted, paint, status_label};

/// Asks whether to run the script; `--yes` answers yes, no terminal is an error.
fn confirm(answer: Answer) -> anyhow::Result<bool> {
    answer.require("Run this script as root (sudo -- sh -s)?", || {
        hinted(
            ErrorId::ConfirmationRequired,
            "fix --apply asks before running anything as root, and there is no terminal to ask on",
            &[
                "review the script, then pass --yes to run it without asking",
                "or save it (rootless-setup fix > fix.sh) and run it yourself: sudo sh fix.sh",
            ],
        )
    })
}

/// Runs `script` as root: `sudo -- sh -s`, or `sh -s` when this already is root; the program is
/// found by [`process::find`]. Its output goes to standard error when standard output is not
/// for people (`--format json`).
fn run_as_root(script: &str, output: Attached) -> anyhow::Result<std::process::ExitStatus> {
    let root = nix::unistd::geteuid().is_root();
    let (program, args): (&str, &[&str]) = if root {
        ("sh", &["-s"])
    } else {
        ("sudo", &["--", "sh", "-s"])
    };
    let cannot = |why: &dyn std::fmt::Display| {
        hinted(
            ErrorId::SudoUnavailable,
            format!("could not start {program}: {why}"),
            &[
                "save the script (rootless-setup fix > fix.sh) and run it as root: su -c 'sh fix.sh'",
            ],
        )
    };
    let on_path = rootless_setup_checks::Caller::from_process().path_dirs();
    let Some(path) = process::find(&Host::real(), program, on_path, None) else {
        return Err(cannot(&"not found"));
    };
    process::run_attached(&Invocation::new(path).args(args), script.as_bytes(), output)
        .map_err(|e| cannot(&e.source))
}

/// The checks whose status differs between the two runs, in catalogue order.
pub(super) fn changes(before: &Report, after: &Report) -> Vec<(CheckId, Status, Status)> {
    let status = |r: &Report, id: CheckId| r.findings.iter().find(|f| f.id == id).map(|f| f.status);
    CheckId::ALL
        .into_iter()
        .filter_map(|id| match (status(before, id), status(after, id)) {
            (Some(a), Some(b)) if a != b => Some((id, a, b)),
            _ => None,
        })
        .collect()
}

/// The before/after table and what still fails or warns.
pub(super) fn table(before: &Report, after: &Report, colour: bool) -> String {
    let changed = changes(before, after);
    let mut text = String::from("\nafter the script:\n");
    if changed.is_empty() {
        text.push_str("  no check changed its status\n");
    } else {
        text.push_str(&format!("  {:<20} {:<6} {}\n", "check", "before", "after"));
        for (id, a, b) in &changed {
            let pad = |s: Status| " ".repeat(6usize.saturating_sub(s.as_str().len()));
            text.push_str(&format!(
                "  {:<20} {}{} {}\n",
                id.as_str(),
                status_label(colour, *a),
                pad(*a),
                status_label(colour, *b)
            ));
        }
    }
    let open: Vec<String> = after
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        .map(|f| {
            format!(
                "  {} {}: {}\n",
                status_label(colour, f.status),
                f.id,
                shown(&f.summary)
            )
        })
        .collect();
    if open.is_empty() {
        text.push_str(&paint(colour, Style::PASS, "every check passes now\n"));
    } else {
        text.push_str("still open (`rootless-setup check` explains):\n");
        text.extend(open);
    }
    text
}

/// What a block does, in words: its checks and its `does` note.
pub(super) fn block_action(step: &Step) -> String {
    let ids: Vec<&str> = step.checks.iter().map(|(id, _)| id.as_str()).collect();
    let ids = ids.join(", ");
    match step.notes.iter().find(|n| n.label == "does") {
        Some(does) => format!("{ids}: {}", does.text),
        None => ids,
    }
}

/// What became of each block once the script ran and the checks ran again: a manual one was
/// skipped; one whose checks no longer fail was done, else it failed.
pub(super) fn block_outcomes(plan: &Plan, after: &Report) -> Vec<StepResult> {
    let fails = |id: CheckId| {
        after
            .findings
            .iter()
            .any(|f| f.id == id && f.status == Status::Fail)
    };
    plan.steps
        .iter()
        .map(|step| StepResult {
            action: block_action(step),
            outcome: if step.is_manual() {
                Outcome::Skipped
            } else if step.ids().into_iter().any(fails) {
                Outcome::Failed
            } else {
                Outcome::Done
            },
        })
        .collect()
}

/// The exit status for the checks of `report` (0: none fails), and with 1 why, for the result
/// document.
pub(super) fn verdict(report: &Report, results: &mut Results) -> u8 {
    if report.ready(false) {
        return 0;
    }
    let failing: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.id.as_str())
        .collect();
    results.failure = Some(ErrorReport::new(
        ErrorId::PrerequisitesFailed,
        format!(
            "after the script, {}",
            crate::commands::install::prereq::failing_phrase(&failing)
        ),
        &["`rootless-setup check` explains each and what to do as the user"],
    ));
    1
}

/// Applies the plan.
pub(super) fn apply(
    run: &Run,
    plan: &Plan,
    script: &str,
    before: &Report,
    yes: bool,
    style: &Style,
    results: &mut Results,
) -> anyhow::Result<u8> {
    let not_run = |results: &mut Results| {
        results.steps(plan.steps.iter().map(block_action), Outcome::Skipped);
    };
    if plan.steps.iter().all(Step::is_manual) {
        results.note("every block of the script is one to do by hand; nothing was run");
        not_run(results);
        return Ok(verdict(before, results));
    }
    if !confirm(results.answer(yes))? {
        results.note("not run; nothing was changed");
        not_run(results);
        return Ok(verdict(before, results));
    }
    // One install, uninstall or fix --apply of this user at a time. An admin's fix for another
    // user takes no lock: it is not theirs to take, and root would leave its file behind.
    let paths = (!run.admin)
        .then(|| {
            let caller = rootless_setup_checks::Caller::from_process();
            crate::paths::Paths::of(&caller, rootless_setup_core::Engine::default()).ok()
        })
        .flatten();
    let _lock = match paths {
        Some(paths) => Some(crate::state::lock::acquire(
            &paths.state,
            "fix --apply",
            crate::state::lock::WAIT,
        )?),
        None => None,
    };
    let output = if results.json() {
        Attached::StdoutToStderr
    } else {
        Attached::Terminal
    };
    let status = run_as_root(script, output)?;
    let (after, _) = run.check();
    results.steps.extend(block_outcomes(plan, &after));
    results.changed = status.success() || !changes(before, &after).is_empty();
    results.out(&table(before, &after, style.out))?;
    if !status.success() {
        let how = status
            .code()
            .map_or_else(|| "was killed".to_owned(), |c| format!("exited with {c}"));
        return Err(hinted(
            ErrorId::FixScriptFailed,
            format!("the fix script {how}"),
            &[
                "its message is above; the commands before the one that failed did run",
                "run rootless-setup fix again for a script that starts from the host as it is now",
            ],
        ));
    }
    // What still applies: what follows from the script, and the user's own fixes of checks
    // that still do not pass.
    let open = |id: &CheckId| {
        after
            .findings
            .iter()
            .any(|f| f.id == *id && matches!(f.status, Status::Fail | Status::Warn))
    };
    for note in plan
        .after
        .iter()
        .filter(|n| n.checks.is_empty() || n.checks.iter().any(open))
    {
        results.note(&format!("then: {}", note.line()));
        results.warnings.push(note.line());
    }
    Ok(verdict(&after, results))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rootless_setup_core::{Engine, Finding, SCHEMA_VERSION};

    fn report(statuses: &[(CheckId, Status)]) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            engine: Engine::Docker,
            uid: 1000,
            user: Some("alice".into()),
            distribution: "debian 12".into(),
            findings: statuses
                .iter()
                .map(|(id, s)| {
                    let mut f = Finding::pass(*id, format!("{id} summary"));
                    f.status = *s;
                    f
                })
                .collect(),
        }
    }

    #[test]
    fn the_table_lists_only_changed_checks_and_what_is_still_open() {
        let before = report(&[
            (CheckId::SubidUid, Status::Fail),
            (CheckId::SessionLinger, Status::Warn),
            (CheckId::Cgroup, Status::Warn),
            (CheckId::UsernsProbe, Status::Skip),
        ]);
        let after = report(&[
            (CheckId::SubidUid, Status::Pass),
            (CheckId::SessionLinger, Status::Pass),
            (CheckId::Cgroup, Status::Warn),
            (CheckId::UsernsProbe, Status::Pass),
        ]);
        assert_eq!(
            changes(&before, &after),
            [
                (CheckId::SessionLinger, Status::Warn, Status::Pass),
                (CheckId::SubidUid, Status::Fail, Status::Pass),
                (CheckId::UsernsProbe, Status::Skip, Status::Pass),
            ]
        );
        let text = table(&before, &after, false);
        assert_eq!(
            text,
            "\nafter the script:\n  check                before after\n  \
             session.linger       warn   pass\n  subid.uid            fail   pass\n  \
             userns.probe         skip   pass\nstill open (`rootless-setup check` explains):\n  \
             warn cgroup: cgroup summary\n"
        );
        assert!(table(&after, &after, false).contains("no check changed"));
    }
}
