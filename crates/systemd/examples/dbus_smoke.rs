//! Drives the D-Bus layer against a live user manager and logind, for the throwaway-box proof
//! in docs/dbus.md. Writes no file itself; the units must already be in
//! `~/.config/systemd/user/`.
//!
//! ```text
//! dbus_smoke unit NAME              reload, enable, start (await job), state, stop, disable
//! dbus_smoke cycle NAME N           N × (start, stop), job latencies min/median/max
//! dbus_smoke start NAME TIMEOUT_MS  one start with a deadline
//! dbus_smoke stop NAME              one stop
//! dbus_smoke restart NAME           one restart
//! dbus_smoke enable|disable NAME    one enable or disable
//! dbus_smoke reset-failed NAME      one reset-failed
//! dbus_smoke state NAME             the unit's state
//! dbus_smoke naive NAME N          N × start/stop the wrong way (listen for JobRemoved only
//!                                   after the reply), counting the signals missed
//! dbus_smoke linger UID on|off      SetUserLinger (not interactive), then read Linger back
//! dbus_smoke linger-get UID         read Linger
//! ```
//!
//! Uses the user bus from `DBUS_SESSION_BUS_ADDRESS`/`XDG_RUNTIME_DIR`, the system bus from
//! `DBUS_SYSTEM_BUS_ADDRESS` or the well-known socket.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use rootless_setup_systemd::{Error, Login, UserManager};

const JOB_TIMEOUT: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = match args.as_slice() {
        ["unit", name] => unit(name),
        ["cycle", name, n] => n.parse().map_err(|_| usage()).and_then(|n| cycle(name, n)),
        ["start", name, ms] => ms
            .parse()
            .map_err(|_| usage())
            .and_then(|ms| start(name, Duration::from_millis(ms))),
        ["stop", name] => timed("connect", UserManager::connect_session).and_then(|m| {
            let o = timed("stop", || m.stop(name, JOB_TIMEOUT))?;
            println!("stop: {} ({})", o.result, o.job);
            Ok(())
        }),
        ["naive", name, n] => n.parse().map_err(|_| usage()).and_then(|n| naive(name, n)),
        ["restart", name] => timed("connect", UserManager::connect_session).and_then(|m| {
            let o = timed("restart", || m.restart(name, JOB_TIMEOUT))?;
            println!("restart: {} ({})", o.result, o.job);
            Ok(())
        }),
        ["enable", name] => timed("connect", UserManager::connect_session).and_then(|m| {
            println!("{:?}", timed("enable", || m.enable(&[name]))?);
            Ok(())
        }),
        ["disable", name] => timed("connect", UserManager::connect_session).and_then(|m| {
            println!("{:?}", timed("disable", || m.disable(&[name]))?);
            Ok(())
        }),
        ["reset-failed", name] => timed("connect", UserManager::connect_session)
            .and_then(|m| timed("reset_failed", || m.reset_failed(name))),
        ["state", name] => timed("connect", UserManager::connect_session).and_then(|m| {
            println!("{:#?}", timed("unit_state", || m.unit_state(name))?);
            Ok(())
        }),
        ["linger", uid, on_off @ ("on" | "off")] => uid
            .parse()
            .map_err(|_| usage())
            .and_then(|uid| linger(uid, *on_off == "on")),
        ["linger-get", uid] => uid.parse().map_err(|_| usage()).and_then(|uid| {
            let login = timed("connect system bus", Login::connect_system)?;
            println!("linger: {}", timed("linger", || login.linger(uid))?);
            Ok(())
        }),
        _ => Err(usage()),
    };
    match out {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("error: {e}");
            println!("error debug: {e:?}");
            if let Some(hint) = e.hint() {
                println!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

fn usage() -> Error {
    eprintln!("usage: dbus_smoke unit|cycle|start|stop|state|linger|linger-get … (see the source)");
    std::process::exit(2)
}

/// Runs `f`, printing how long it took.
fn timed<T>(what: &str, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    let started = Instant::now();
    let out = f();
    println!(
        "[{:>8.1} ms] {what}{}",
        started.elapsed().as_secs_f64() * 1000.0,
        if out.is_ok() { "" } else { " (failed)" }
    );
    out
}

fn unit(name: &str) -> Result<(), Error> {
    let m = timed("connect + Subscribe", UserManager::connect_session)?;
    timed("reload", || m.reload())?;
    let enabled = timed("enable", || m.enable(&[name]))?;
    println!(
        "enable: carries_install_info={} changes={:?}",
        enabled.carries_install_info, enabled.changes
    );
    let started = timed("start (until JobRemoved)", || m.start(name, JOB_TIMEOUT))?;
    println!(
        "start: result={} job={} unit={} job latency={:.1} ms",
        started.result,
        started.job,
        started.unit,
        started.elapsed.as_secs_f64() * 1000.0
    );
    let state = timed("unit_state", || m.unit_state(name))?;
    println!("state: {state:#?}");
    let stopped = timed("stop (until JobRemoved)", || m.stop(name, JOB_TIMEOUT))?;
    println!("stop: result={} job={}", stopped.result, stopped.job);
    timed("reset_failed", || m.reset_failed(name))?;
    let disabled = timed("disable", || m.disable(&[name]))?;
    println!("disable: changes={disabled:?}");
    let after = timed("unit_state", || m.unit_state(name))?;
    println!(
        "after: load={} active={} sub={} unit_file_state={} result={:?}",
        after.load, after.active, after.sub, after.unit_file_state, after.result
    );
    Ok(())
}

fn cycle(name: &str, n: usize) -> Result<(), Error> {
    let m = timed("connect + Subscribe", UserManager::connect_session)?;
    let (mut starts, mut stops) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let s = m.start(name, JOB_TIMEOUT)?;
        if !s.result.is_done() {
            println!("start ended {}", s.result);
        }
        starts.push(s.elapsed);
        let t = m.stop(name, JOB_TIMEOUT)?;
        if !t.result.is_done() {
            println!("stop ended {}", t.result);
        }
        stops.push(t.elapsed);
    }
    report("start", &mut starts);
    report("stop", &mut stops);
    Ok(())
}

fn report(what: &str, v: &mut [Duration]) {
    v.sort();
    let ms = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    println!(
        "{what}: n={} min={:.1} ms median={:.1} ms max={:.1} ms",
        v.len(),
        ms(v.first()),
        ms(v.get(v.len() / 2)),
        ms(v.last())
    );
}

fn start(name: &str, timeout: Duration) -> Result<(), Error> {
    let m = timed("connect + Subscribe", UserManager::connect_session)?;
    let o = timed("start", || m.start(name, timeout))?;
    println!(
        "start: result={} job={} latency={:.1} ms",
        o.result,
        o.job,
        o.elapsed.as_secs_f64() * 1000.0
    );
    let state = m.unit_state(name)?;
    println!(
        "state: active={} sub={} result={:?} status={:?}",
        state.active, state.sub, state.result, state.exec_main_status
    );
    Ok(())
}

fn linger(uid: u32, enable: bool) -> Result<(), Error> {
    let login = timed("connect system bus", Login::connect_system)?;
    println!("linger before: {}", login.linger(uid)?);
    timed("set_linger", || login.set_linger(uid, enable, false))?;
    println!("linger after: {}", login.linger(uid)?);
    Ok(())
}

/// The race [`UserManager::start`] avoids: subscribing to `JobRemoved` only once the reply
/// arrived. Counts the jobs whose signal never shows up within 1 s.
fn naive(name: &str, n: usize) -> Result<(), Error> {
    use rootless_setup_systemd::proxies::SystemdManagerProxy;
    let m = UserManager::connect_session()?; // only for stop and the address
    let missed = zbus::block_on(async {
        let conn = zbus::connection::Builder::address(m.address())
            .build()
            .await?;
        let proxy = SystemdManagerProxy::new(&conn).await?;
        proxy.subscribe().await?;
        let mut missed = 0;
        for _ in 0..n {
            let job = proxy.start_unit(name, "replace").await?;
            let mut stream = proxy.receive_job_removed().await?;
            if !saw_job(&mut stream, job.as_str(), Duration::from_secs(1)).await {
                missed += 1;
            }
            let job = proxy.stop_unit(name, "replace").await?;
            let mut stream = proxy.receive_job_removed().await?;
            if !saw_job(&mut stream, job.as_str(), Duration::from_secs(1)).await {
                missed += 1;
            }
        }
        Ok::<_, zbus::Error>(missed)
    });
    match missed {
        Ok(missed) => println!("naive: {missed} of {} job signals missed", 2 * n),
        Err(e) => println!("naive: bus error {e}"),
    }
    Ok(())
}

/// Whether `stream` yields the `JobRemoved` of `job` within `limit`.
async fn saw_job(
    stream: &mut rootless_setup_systemd::proxies::JobRemovedStream,
    job: &str,
    limit: Duration,
) -> bool {
    use futures_core::Stream;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::task::Poll;
    let fired = Arc::new(Mutex::new((false, None::<std::task::Waker>)));
    let theirs = Arc::clone(&fired);
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        let mut state = theirs.lock().unwrap_or_else(|p| p.into_inner());
        state.0 = true;
        if let Some(w) = state.1.take() {
            w.wake();
        }
    });
    std::future::poll_fn(|cx| {
        loop {
            match Pin::new(&mut *stream).poll_next(cx) {
                Poll::Ready(Some(sig)) => {
                    if sig.args().is_ok_and(|a| a.job().as_str() == job) {
                        return Poll::Ready(true);
                    }
                }
                Poll::Ready(None) => return Poll::Ready(false),
                Poll::Pending => break,
            }
        }
        let mut state = fired.lock().unwrap_or_else(|p| p.into_inner());
        if state.0 {
            Poll::Ready(false)
        } else {
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    })
    .await
}
