//! Running one bounded D-Bus exchange from blocking code: connect with a deadline, and drive a
//! future on the calling thread with [`zbus::block_on`] until it finishes or its time is up.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};
use std::time::Duration;

use crate::error::{BusKind, CONNECT, CallContext, Error};

/// How long connecting (connect, authenticate, `Hello`) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a method call that does not wait for a job may take (`Reload`, `EnableUnitFiles`,
/// property reads). Also the per-message timeout of the connections built here; it matches the
/// 25 s default of `systemctl` and of the D-Bus reference implementation.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(25);

/// Connects to the bus at `address`, bounded by [`CONNECT_TIMEOUT`].
pub(crate) fn connect(bus: BusKind, address: &str) -> Result<zbus::Connection, Error> {
    let cx = CallContext {
        bus,
        address,
        target: "the bus",
        operation: CONNECT,
        timeout: CONNECT_TIMEOUT,
    };
    block(&cx, async {
        zbus::connection::Builder::address(address)
            .method_timeout(CALL_TIMEOUT)
            .build()
            .await
            .map_err(|e| Error::from_zbus(&cx, e))
    })
}

/// Runs `work` on this thread until it finishes or `cx.timeout` passes, which is reported as
/// [`Error::TimedOut`]. Must not be called from inside an async task (see [`zbus::block_on`]).
pub(crate) fn block<T>(
    cx: &CallContext<'_>,
    work: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let timer = start_timer(cx)?;
    zbus::block_on(until(work, timer)).unwrap_or_else(|| Err(cx.timed_out(None)))
}

/// A [`Timer`] of `cx.timeout`; failing to start it is [`Error::Timer`] naming the call.
pub(crate) fn start_timer(cx: &CallContext<'_>) -> Result<Timer, Error> {
    Timer::start(cx.timeout).map_err(|source| Error::Timer {
        target: cx.target.to_owned(),
        operation: cx.operation,
        source,
    })
}

/// Polls `work` until it finishes (`Some`) or `deadline` does first (`None`). The work goes
/// first, so an answer that arrives together with the deadline still counts.
pub(crate) async fn until<T>(
    work: impl Future<Output = T>,
    deadline: impl Future<Output = ()>,
) -> Option<T> {
    let mut work = pin!(work);
    let mut deadline = pin!(deadline);
    std::future::poll_fn(|task| {
        if let Poll::Ready(out) = work.as_mut().poll(task) {
            return Poll::Ready(Some(out));
        }
        deadline.as_mut().poll(task).map(|()| None)
    })
    .await
}

/// A runtime-independent timer: a thread sleeps and wakes whoever polled last. Dropping the
/// future does not stop the thread, which ends on its own after the duration.
#[derive(Debug)]
pub(crate) struct Timer {
    shared: Arc<Mutex<TimerState>>,
}

#[derive(Debug, Default)]
struct TimerState {
    fired: bool,
    waker: Option<Waker>,
}

impl Timer {
    pub(crate) fn start(duration: Duration) -> std::io::Result<Timer> {
        let shared = Arc::new(Mutex::new(TimerState::default()));
        let theirs = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("dbus-timer".to_owned())
            .spawn(move || {
                std::thread::sleep(duration);
                let waker = {
                    let mut state = theirs.lock().unwrap_or_else(PoisonError::into_inner);
                    state.fired = true;
                    state.waker.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            })?;
        Ok(Timer { shared })
    }
}

impl Future for Timer {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let mut state = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        if state.fired {
            Poll::Ready(())
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(timeout: Duration) -> CallContext<'static> {
        CallContext {
            bus: BusKind::User,
            address: "unix:path=/nowhere",
            target: "a.service",
            operation: "StartUnit",
            timeout,
        }
    }

    #[test]
    fn work_that_never_ends_times_out_naming_the_call() {
        let started = std::time::Instant::now();
        let out: Result<(), Error> = block(&cx(Duration::from_millis(50)), std::future::pending());
        let err = out.expect_err("pending work");
        assert!(matches!(err, Error::TimedOut { job: None, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "StartUnit of a.service did not finish within 50 ms"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn finished_work_is_returned() {
        let out = block(&cx(Duration::from_secs(5)), async { Ok(3) });
        assert_eq!(out.ok(), Some(3));
    }

    #[test]
    fn a_missing_socket_is_no_user_bus() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let address = crate::address::unix_address(&dir.path().join("bus"));
        let err = connect(BusKind::User, &address).expect_err("no bus there");
        assert!(
            matches!(&err, Error::NoUserBus { address: a, .. } if *a == address),
            "{err:?}"
        );
    }
}
