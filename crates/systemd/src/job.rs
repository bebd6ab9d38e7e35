//! systemd jobs: the typed result of a finished job, and the race-free wait for one.
//!
//! `StartUnit` and friends only queue a job and reply with its object path; the job's outcome
//! arrives later as a `JobRemoved(id, job, unit, result)` signal. A job can finish before the
//! method reply has been read (an already active unit, a unit that fails at once), so the
//! signal stream must exist before the call is sent, and signals that arrive before the reply
//! must be kept until the reply says which job is ours. [`await_job`] does exactly that, and it
//! keeps reading signals while the call is in flight: zbus stops reading the socket when a
//! stream's queue is full, so a stream nobody drains would also hold back the method reply.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use futures_core::Stream;
use serde::Serialize;

/// How a systemd job ended: the `result` of `JobRemoved`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JobResult {
    /// The job succeeded.
    Done,
    /// The job was canceled before it finished (another job replaced it, or a stop).
    Canceled,
    /// The job's timeout (`JobTimeoutSec=`) passed. Not a unit's start timeout: a unit whose
    /// start times out ends with [`JobResult::Failed`] and `Result=timeout`.
    Timeout,
    /// The unit failed: for a start job, the service did not come up.
    Failed,
    /// A unit this one requires failed.
    Dependency,
    /// Nothing to do: for example, a reload of a unit that is not active.
    Skipped,
    /// The job type does not apply to the unit.
    Invalid,
    /// An `Assert…=` condition of the unit failed.
    Assert,
    /// The unit type is not supported on this system.
    Unsupported,
    /// The job was garbage-collected.
    Collected,
    /// The unit may only be started once (`RefuseManualStart`-like `once` units).
    Once,
    /// Any other result a newer systemd reports (`frozen`, `concurrency`, …), verbatim.
    Other(String),
}

impl JobResult {
    /// Parses the `result` string of `JobRemoved`. Never fails: unknown results are kept in
    /// [`JobResult::Other`].
    pub fn parse(result: &str) -> JobResult {
        match result {
            "done" => JobResult::Done,
            "canceled" => JobResult::Canceled,
            "timeout" => JobResult::Timeout,
            "failed" => JobResult::Failed,
            "dependency" => JobResult::Dependency,
            "skipped" => JobResult::Skipped,
            "invalid" => JobResult::Invalid,
            "assert" => JobResult::Assert,
            "unsupported" => JobResult::Unsupported,
            "collected" => JobResult::Collected,
            "once" => JobResult::Once,
            other => JobResult::Other(other.to_owned()),
        }
    }

    /// The string systemd uses.
    pub fn as_str(&self) -> &str {
        match self {
            JobResult::Done => "done",
            JobResult::Canceled => "canceled",
            JobResult::Timeout => "timeout",
            JobResult::Failed => "failed",
            JobResult::Dependency => "dependency",
            JobResult::Skipped => "skipped",
            JobResult::Invalid => "invalid",
            JobResult::Assert => "assert",
            JobResult::Unsupported => "unsupported",
            JobResult::Collected => "collected",
            JobResult::Once => "once",
            JobResult::Other(s) => s,
        }
    }

    /// Whether the job did what was asked (`done`).
    pub fn is_done(&self) -> bool {
        *self == JobResult::Done
    }
}

impl std::fmt::Display for JobResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JobResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A finished job: what `start`, `stop` and `restart` return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobOutcome {
    /// The unit the job was for, as the manager names it in `JobRemoved`.
    pub unit: String,
    /// The job's object path, such as `/org/freedesktop/systemd1/job/42`.
    pub job: String,
    /// How it ended.
    pub result: JobResult,
    /// From sending the call to receiving `JobRemoved`.
    #[serde(serialize_with = "millis")]
    pub elapsed: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(d.as_millis())
}

/// One `JobRemoved` signal, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobRemovedEvent {
    /// The job's object path.
    pub job: String,
    /// The unit's name.
    pub unit: String,
    /// The raw result string.
    pub result: String,
}

/// Why [`await_job`] ended without the job's signal.
#[derive(Debug)]
pub(crate) enum WaitError<E> {
    /// The method call failed; no job was queued.
    Call(E),
    /// The signal stream ended: the connection closed.
    Disconnected {
        /// The job, when the call had returned it.
        job: Option<String>,
    },
    /// `deadline` fired first.
    TimedOut {
        /// The job, when the call had returned it; the job may still be running.
        job: Option<String>,
    },
}

/// Sends `call` (a `StartUnit`-like method returning the job path) and waits for the
/// `JobRemoved` of that job on `signals`, which must already be subscribed, until `deadline`
/// completes.
///
/// Signals that arrive before the reply are kept and matched once the job path is known, so a
/// job that finishes before the reply is read is not missed. Signals of other jobs are dropped.
pub(crate) async fn await_job<C, S, D, E>(
    call: C,
    mut signals: S,
    deadline: D,
) -> Result<JobRemovedEvent, WaitError<E>>
where
    C: Future<Output = Result<String, E>>,
    S: Stream<Item = JobRemovedEvent> + Unpin,
    D: Future<Output = ()>,
{
    let mut call = pin!(call);
    let mut deadline = pin!(deadline);
    let mut job: Option<String> = None;
    // Signals seen while the call was in flight. Bounded by what the manager emits during one
    // method call: a handful of jobs.
    let mut early: Vec<JobRemovedEvent> = Vec::new();
    std::future::poll_fn(|cx| {
        loop {
            if job.is_none() {
                // Polled only until it completes: `job` is set (or we return) when it does.
                if let Poll::Ready(reply) = call.as_mut().poll(cx) {
                    match reply {
                        Ok(path) => {
                            if let Some(pos) = early.iter().position(|ev| ev.job == path) {
                                return Poll::Ready(Ok(early.swap_remove(pos)));
                            }
                            early.clear();
                            job = Some(path);
                        }
                        Err(e) => return Poll::Ready(Err(WaitError::Call(e))),
                    }
                }
            }
            match Pin::new(&mut signals).poll_next(cx) {
                Poll::Ready(Some(ev)) => match &job {
                    Some(ours) if ev.job == *ours => return Poll::Ready(Ok(ev)),
                    Some(_) => {}
                    None => early.push(ev),
                },
                Poll::Ready(None) => {
                    return Poll::Ready(Err(WaitError::Disconnected { job: job.clone() }));
                }
                Poll::Pending => break,
            }
        }
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(WaitError::TimedOut { job: job.clone() }));
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::task::Context;

    #[test]
    fn results_parse_and_print_back() {
        for s in [
            "done",
            "canceled",
            "timeout",
            "failed",
            "dependency",
            "skipped",
            "invalid",
            "assert",
            "unsupported",
            "collected",
            "once",
            "frozen",
            "",
        ] {
            assert_eq!(JobResult::parse(s).as_str(), s);
        }
        assert_eq!(JobResult::parse("done"), JobResult::Done);
        assert_eq!(JobResult::parse("failed"), JobResult::Failed);
        assert_eq!(JobResult::parse("dependency"), JobResult::Dependency);
        assert_eq!(
            JobResult::parse("frozen"),
            JobResult::Other("frozen".into())
        );
        assert!(JobResult::Done.is_done());
        assert!(!JobResult::Skipped.is_done());
        assert!(
            !JobResult::parse("Done").is_done(),
            "results are case-sensitive"
        );
    }

    #[test]
    fn outcomes_serialise_results_as_strings() {
        let o = JobOutcome {
            unit: "a.service".into(),
            job: "/org/freedesktop/systemd1/job/3".into(),
            result: JobResult::Failed,
            elapsed: Duration::from_millis(12),
        };
        let json = serde_json::to_value(&o).expect("serialise");
        assert_eq!(json["result"], "failed");
        assert_eq!(json["elapsed"], 12);
        assert_eq!(json["job"], "/org/freedesktop/systemd1/job/3");
    }

    fn ev(job: u32, result: &str) -> JobRemovedEvent {
        JobRemovedEvent {
            job: format!("/org/freedesktop/systemd1/job/{job}"),
            unit: "a.service".into(),
            result: result.into(),
        }
    }

    /// A stream that yields its items, then stays pending (or ends, if `ends`).
    struct Items {
        items: VecDeque<JobRemovedEvent>,
        ends: bool,
    }

    impl Stream for Items {
        type Item = JobRemovedEvent;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            match self.items.pop_front() {
                Some(item) => Poll::Ready(Some(item)),
                None if self.ends => Poll::Ready(None),
                None => Poll::Pending,
            }
        }
    }

    fn items(list: Vec<JobRemovedEvent>, ends: bool) -> Items {
        Items {
            items: list.into(),
            ends,
        }
    }

    /// A call whose reply is read only after `polls` polls: the signal of the job can come first.
    struct SlowReply {
        polls: u32,
        job: u32,
    }

    impl Future for SlowReply {
        type Output = Result<String, &'static str>;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            if self.polls == 0 {
                Poll::Ready(Ok(format!("/org/freedesktop/systemd1/job/{}", self.job)))
            } else {
                self.polls -= 1;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    fn run<T>(f: impl Future<Output = T>) -> T {
        zbus::block_on(f)
    }

    /// A deadline far enough away that only a broken wait reaches it (instead of hanging).
    fn never() -> crate::call::Timer {
        crate::call::Timer::start(Duration::from_secs(5)).expect("timer")
    }

    #[test]
    fn a_job_that_finishes_before_the_reply_is_found() {
        let signals = items(vec![ev(6, "done"), ev(7, "failed"), ev(8, "done")], false);
        let got = run(await_job(SlowReply { polls: 3, job: 7 }, signals, never()));
        assert_eq!(got.ok(), Some(ev(7, "failed")));
    }

    #[test]
    fn other_jobs_are_skipped_after_the_reply() {
        let signals = items(vec![ev(1, "done"), ev(2, "canceled"), ev(9, "done")], false);
        let got = run(await_job(SlowReply { polls: 0, job: 9 }, signals, never()));
        assert_eq!(got.ok(), Some(ev(9, "done")));
    }

    #[test]
    fn early_signals_of_other_jobs_do_not_match() {
        // Job 4's signal came before the reply for job 5; job 5's never comes.
        let signals = items(vec![ev(4, "done")], false);
        let deadline = crate::call::Timer::start(Duration::from_millis(50)).expect("timer");
        let got = run(await_job(SlowReply { polls: 2, job: 5 }, signals, deadline));
        assert!(
            matches!(&got, Err(WaitError::TimedOut { job: Some(j) }) if j.ends_with("/job/5")),
            "{got:?}"
        );
    }

    #[test]
    fn the_deadline_bounds_a_call_that_never_replies() {
        let started = std::time::Instant::now();
        let deadline = crate::call::Timer::start(Duration::from_millis(50)).expect("timer");
        let got = run(await_job(
            std::future::pending::<Result<String, &str>>(),
            items(vec![], false),
            deadline,
        ));
        assert!(
            matches!(got, Err(WaitError::TimedOut { job: None })),
            "{got:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_closed_connection_ends_the_wait() {
        let got = run(await_job(
            SlowReply { polls: 0, job: 1 },
            items(vec![ev(2, "done")], true),
            never(),
        ));
        assert!(
            matches!(&got, Err(WaitError::Disconnected { job: Some(j) }) if j.ends_with("/job/1")),
            "{got:?}"
        );
    }

    #[test]
    fn a_failed_call_is_reported_as_such() {
        let got = run(await_job(
            std::future::ready(Err::<String, _>("NoSuchUnit")),
            items(vec![], false),
            never(),
        ));
        assert!(matches!(got, Err(WaitError::Call("NoSuchUnit"))), "{got:?}");
    }

    #[test]
    fn a_signal_wins_over_a_deadline_that_fired_at_the_same_time() {
        let got = run(await_job(
            SlowReply { polls: 0, job: 3 },
            items(vec![ev(3, "done")], false),
            std::future::ready(()),
        ));
        assert_eq!(got.ok(), Some(ev(3, "done")));
    }
}
