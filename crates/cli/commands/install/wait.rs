//! Starting the engine and knowing it works: the start (or restart) job awaited over D-Bus
//! (`Type=notify`: it ends when dockerd reports `READY=1`), then `GET /_ping` on the socket
//! polled every few milliseconds until it answers or the deadline passes. A spinner shows on a
//! terminal. On failure, the unit's result and the tail of its journal explain why.

use std::path::Path;
use std::time::{Duration, Instant};

use rootless_setup_systemd::JobResult;

use super::apply::Failure;
use super::plan::ServiceAction;
use crate::prompt::Spinner;
use crate::results::ErrorId;
use crate::state::ops::{Engine, Manager};
use crate::style::{Style, paint};

/// How long things took.
#[derive(Debug)]
pub struct Started {
    /// The start job, from the call to `JobRemoved`.
    pub job: Duration,
    /// From the job's end (the engine's readiness) to the first `200 OK` from `/_ping`.
    pub ping: Duration,
    /// Requests made until then.
    pub attempts: u32,
}

/// Starts or restarts `unit` and waits for its socket to answer.
#[allow(clippy::too_many_arguments)]
pub fn start_and_wait(
    manager: &dyn Manager,
    engine: &dyn Engine,
    unit: &str,
    action: ServiceAction,
    job_timeout: Duration,
    ping_timeout: Duration,
    socket: &Path,
    style: &Style,
) -> Result<Started, Failure> {
    let verb = if action == ServiceAction::Restart {
        "restarting"
    } else {
        "starting"
    };
    let spinner = Spinner::start(&format!("{verb} {unit}"), style.err);
    let begun = Instant::now();
    let outcome = if action == ServiceAction::Restart {
        manager.restart(unit, job_timeout)
    } else {
        manager.start(unit, job_timeout)
    };
    let job_end = Instant::now();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            spinner.finish();
            return Err(explain(
                manager,
                unit,
                format!("{verb} {unit} failed: {e}"),
                style,
            ));
        }
    };
    if outcome.result != JobResult::Done {
        spinner.finish();
        return Err(explain(
            manager,
            unit,
            format!(
                "{unit} did not start: the start job ended `{}` after {} ms",
                outcome.result.as_str(),
                outcome.elapsed.as_millis()
            ),
            style,
        ));
    }
    spinner.set(&format!("waiting for {} to answer", socket.display()));
    let ready = engine.wait_ready(socket, ping_timeout);
    spinner.finish();
    match ready {
        Ok(r) => Ok(Started {
            job: job_end.duration_since(begun),
            ping: r.elapsed,
            attempts: r.attempts,
        }),
        Err(e) => Err(explain(
            manager,
            unit,
            format!(
                "{unit} started but {} did not answer GET /_ping within {} s: {e}",
                socket.display(),
                ping_timeout.as_secs()
            ),
            style,
        )),
    }
}

/// A [`Failure`] with the unit's state and the tail of its journal.
fn explain(manager: &dyn Manager, unit: &str, message: String, style: &Style) -> Failure {
    let mut details = Vec::new();
    if let Ok(s) = manager.unit_state(unit) {
        let mut line = format!("  unit: {}/{} ({})", s.active, s.sub, s.load);
        if let Some(r) = &s.result {
            line.push_str(&format!(", result {r}"));
        }
        if let Some(code) = s.exec_main_status {
            line.push_str(&format!(", main process exit status {code}"));
        }
        details.push(line);
    }
    match manager.journal_tail(unit, 25) {
        Ok(text) => {
            details.push(format!(
                "{} (journalctl --user -u {unit}):",
                paint(style.err, Style::BOLD, "journal")
            ));
            details.extend(text.lines().map(|l| format!("  {l}")));
        }
        Err(why) => details.push(format!(
            "  journal: {why}; try `journalctl --user -u {unit}`"
        )),
    }
    let mut failure = Failure::new(ErrorId::EngineDidNotStart, message);
    failure.details = details;
    failure
}
