//! Two probes at once: most of a probe is waiting for a child process, so two that do not
//! depend on each other overlap instead of adding up.

use std::sync::Mutex;

/// Runs `here` on this thread and `there` on another at the same time, and returns both
/// results. Where no thread can be had, `there` runs here afterwards. A panic in `there` is
/// the same panic here.
pub(crate) fn both<H, T, RH, RT>(here: H, there: T) -> (RH, RT)
where
    H: FnOnce() -> RH,
    T: FnOnce() -> RT + Send,
    RT: Send,
{
    let there = Mutex::new(Some(there));
    let take = || there.lock().ok().and_then(|mut t| t.take());
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new().spawn_scoped(scope, || take().map(|t| t()));
        let rh = here();
        let rt = match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => None,
        };
        // Not run on the thread (none could be started): run it now.
        let rt = rt.or_else(|| take().map(|t| t()));
        (
            rh,
            rt.expect("`there` runs exactly once: on the thread or here"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    #[test]
    fn both_run_at_the_same_time_and_both_results_come_back() {
        // Each waits for the other: this only returns if they truly overlap.
        let barrier = Barrier::new(2);
        let (a, b) = both(
            || {
                barrier.wait();
                std::thread::current().id()
            },
            || {
                barrier.wait();
                std::thread::current().id()
            },
        );
        assert_eq!(a, std::thread::current().id(), "the first runs here");
        assert_ne!(a, b, "the second on its own thread");
    }

    #[test]
    #[should_panic(expected = "probe broke")]
    fn a_panic_on_the_thread_is_a_panic_here() {
        both(|| 1, || -> u8 { panic!("probe broke") });
    }
}
