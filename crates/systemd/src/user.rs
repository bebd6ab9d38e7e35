//! [`UserManager`]: blocking calls to the user's systemd manager (`systemd --user`) on the user
//! bus — reload, enable, disable, start/restart/stop awaiting the job, reset-failed, unit state.
//!
//! One connection per [`UserManager`], subscribed (`Subscribe`) once so the manager sends it
//! `JobRemoved`. Every call is bounded: plain calls by [`CALL_TIMEOUT`], jobs by the timeout the
//! caller passes. Each call runs in its own [`zbus::block_on`]; in between, zbus's helper thread
//! keeps the connection alive.

use std::path::PathBuf;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;
use zbus::proxy::CacheProperties;

use crate::address::{RUNTIME_DIR_VARIABLE, SESSION_BUS_VARIABLE, user_bus_address};
use crate::call::{self, CALL_TIMEOUT};
use crate::error::{BusKind, CallContext, Error, NO_ADDRESS, names, remote_error};
use crate::job::{JobOutcome, JobRemovedEvent, JobResult, WaitError, await_job};
use crate::proxies::{
    JobRemovedStream, SystemdManagerProxy, SystemdServiceProxy, SystemdUnitProxy,
};
use crate::state::{ActiveState, Enabled, LoadState, UnitFileChange, UnitState, non_empty_path};

/// The job mode of every start, stop and restart: replace a conflicting queued job.
const JOB_MODE: &str = "replace";

/// Which job a unit call queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobKind {
    Start,
    Restart,
    Stop,
}

impl JobKind {
    fn method(self) -> &'static str {
        match self {
            JobKind::Start => "StartUnit",
            JobKind::Restart => "RestartUnit",
            JobKind::Stop => "StopUnit",
        }
    }
}

/// A connection to the user's systemd manager. See the module docs.
#[derive(Debug)]
pub struct UserManager {
    conn: zbus::Connection,
    address: String,
}

impl UserManager {
    /// Connects to the user bus at `address` (`unix:path=/run/user/1000/bus`) and subscribes to
    /// the manager's signals.
    ///
    /// Fails with [`Error::NoUserBus`] when there is no bus for this user at that address
    /// (see [`Error::hint`]), and [`Error::NoUserManager`] when the bus has no systemd on it.
    pub fn connect(address: &str) -> Result<UserManager, Error> {
        UserManager::connect_on(BusKind::User, address)
    }

    /// The system's manager (PID 1) on the system bus, with the same calls: how root starts a
    /// user's `user@UID.service` and waits for it, acting for that user (`--user NAME`).
    pub fn connect_system() -> Result<UserManager, Error> {
        UserManager::connect_on(
            BusKind::System,
            &crate::address::system_bus_of_this_process(),
        )
    }

    fn connect_on(kind: BusKind, address: &str) -> Result<UserManager, Error> {
        let conn = call::connect(kind, address)?;
        let me = UserManager {
            conn,
            address: address.to_owned(),
        };
        let cx = me.cx("the manager", "Subscribe", CALL_TIMEOUT);
        call::block(&cx, async {
            let manager = me.manager(&cx).await?;
            match manager.subscribe().await {
                Ok(()) => Ok(()),
                Err(e) => match remote_error(&e) {
                    Some((name, _)) if name == names::ALREADY_SUBSCRIBED => Ok(()),
                    _ => Err(Error::from_zbus(&cx, e)),
                },
            }
        })?;
        Ok(me)
    }

    /// [`UserManager::connect`] to the address [`user_bus_address`] finds in this process's
    /// `DBUS_SESSION_BUS_ADDRESS` and `XDG_RUNTIME_DIR`.
    pub fn connect_session() -> Result<UserManager, Error> {
        let env = |k| std::env::var(k).ok();
        let bus = user_bus_address(
            env(SESSION_BUS_VARIABLE).as_deref(),
            env(RUNTIME_DIR_VARIABLE).as_deref(),
        )
        .ok_or_else(|| Error::NoUserBus {
            address: "(none)".to_owned(),
            reason: NO_ADDRESS.to_owned(),
        })?;
        UserManager::connect(&bus.address)
    }

    /// The bus address this manager was reached at.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// `daemon-reload`: the manager re-reads every unit file. Returns once the reload is done.
    pub fn reload(&self) -> Result<(), Error> {
        let cx = self.cx("the manager", "Reload", CALL_TIMEOUT);
        call::block(&cx, async {
            let manager = self.manager(&cx).await?;
            manager.reload().await.map_err(|e| Error::from_zbus(&cx, e))
        })
    }

    /// Enables `units` (names such as `docker.service`, found in the user's unit path): creates
    /// the symlinks their `[Install]` sections ask for, like `systemctl --user enable`. Does not
    /// overwrite conflicting symlinks (`force = false`) and makes persistent links
    /// (`runtime = false`). The manager does not reload by itself: call [`UserManager::reload`]
    /// afterwards if the units' dependencies must take effect now.
    pub fn enable(&self, units: &[&str]) -> Result<Enabled, Error> {
        let target = units.join(" ");
        let cx = self.cx(&target, "EnableUnitFiles", CALL_TIMEOUT);
        call::block(&cx, async {
            let manager = self.manager(&cx).await?;
            let (carries_install_info, changes) = manager
                .enable_unit_files(units, false, false)
                .await
                .map_err(|e| Error::from_zbus(&cx, e))?;
            Ok(Enabled {
                carries_install_info,
                changes: changes.into_iter().map(UnitFileChange::from_raw).collect(),
            })
        })
    }

    /// Disables `units`: removes the symlinks that enabled them (persistent ones,
    /// `runtime = false`). Units that were not enabled yield no change, not an error.
    pub fn disable(&self, units: &[&str]) -> Result<Vec<UnitFileChange>, Error> {
        let target = units.join(" ");
        let cx = self.cx(&target, "DisableUnitFiles", CALL_TIMEOUT);
        call::block(&cx, async {
            let manager = self.manager(&cx).await?;
            let changes = manager
                .disable_unit_files(units, false)
                .await
                .map_err(|e| Error::from_zbus(&cx, e))?;
            Ok(changes.into_iter().map(UnitFileChange::from_raw).collect())
        })
    }

    /// Starts `unit` and waits until its start job finishes or `timeout` passes. A service that
    /// fails to start is `Ok` with [`JobResult::Failed`]; see [`UserManager::unit_state`] for why.
    pub fn start(&self, unit: &str, timeout: Duration) -> Result<JobOutcome, Error> {
        self.job(JobKind::Start, unit, timeout)
    }

    /// Restarts `unit` (starts it if it is not running) and waits for the job.
    pub fn restart(&self, unit: &str, timeout: Duration) -> Result<JobOutcome, Error> {
        self.job(JobKind::Restart, unit, timeout)
    }

    /// Stops `unit` and waits for the job. Fails with [`Error::NoSuchUnit`] when the unit is not
    /// loaded (nothing to stop).
    pub fn stop(&self, unit: &str, timeout: Duration) -> Result<JobOutcome, Error> {
        self.job(JobKind::Stop, unit, timeout)
    }

    /// Forgets `unit`'s failed state (and its restart counter). A unit that is not loaded has
    /// nothing to forget: that is `Ok`.
    pub fn reset_failed(&self, unit: &str) -> Result<(), Error> {
        let cx = self.cx(unit, "ResetFailedUnit", CALL_TIMEOUT);
        call::block(&cx, async {
            let manager = self.manager(&cx).await?;
            match manager.reset_failed_unit(unit).await {
                Ok(()) => Ok(()),
                Err(e) => match Error::from_zbus(&cx, e) {
                    Error::NoSuchUnit { .. } => Ok(()),
                    other => Err(other),
                },
            }
        })
    }

    /// Reads `unit`'s state (loading it from disk if needed; a unit without a file reads as
    /// `not-found`, not as an error). `main_pid`, `exec_main_status` and `result` are read for
    /// `.service` units only.
    pub fn unit_state(&self, unit: &str) -> Result<UnitState, Error> {
        let cx = self.cx(unit, "LoadUnit", CALL_TIMEOUT);
        let get = self.cx(unit, "Properties.Get", CALL_TIMEOUT);
        let fail = |e| Error::from_zbus(&get, e);
        call::block(&cx, async {
            let manager = self.manager(&cx).await?;
            let path = manager
                .load_unit(unit)
                .await
                .map_err(|e| Error::from_zbus(&cx, e))?;
            let props = SystemdUnitProxy::builder(&self.conn)
                .path(path.clone())
                .cache_properties(CacheProperties::No)
                .build()
                .await
                .map_err(fail)?;
            let mut state = UnitState {
                unit: unit.to_owned(),
                load: LoadState::parse(&props.load_state().await.map_err(fail)?),
                active: ActiveState::parse(&props.active_state().await.map_err(fail)?),
                sub: props.sub_state().await.map_err(fail)?,
                unit_file_state: props.unit_file_state().await.map_err(fail)?,
                fragment_path: non_empty_path(props.fragment_path().await.map_err(fail)?),
                drop_ins: (props.drop_in_paths().await.map_err(fail)?)
                    .into_iter()
                    .map(PathBuf::from)
                    .collect(),
                need_daemon_reload: props.need_daemon_reload().await.map_err(fail)?,
                main_pid: None,
                exec_main_status: None,
                result: None,
            };
            if unit.ends_with(".service") {
                let service = SystemdServiceProxy::builder(&self.conn)
                    .path(path)
                    .cache_properties(CacheProperties::No)
                    .build()
                    .await
                    .map_err(fail)?;
                let pid = service.main_pid().await.map_err(fail)?;
                state.main_pid = (pid != 0).then_some(pid);
                state.exec_main_status = Some(service.exec_main_status().await.map_err(fail)?);
                state.result = Some(service.result().await.map_err(fail)?);
            }
            Ok(state)
        })
    }

    /// Queues a job for `unit` and waits for its `JobRemoved`, race-free: the signal stream is
    /// set up before the method is sent (see [`crate::job`]), all under one deadline.
    fn job(&self, kind: JobKind, unit: &str, timeout: Duration) -> Result<JobOutcome, Error> {
        let cx = self.cx(unit, kind.method(), timeout);
        let timer = call::start_timer(&cx)?;
        let started = Instant::now();
        let event = zbus::block_on(async {
            let mut deadline = pin!(timer);
            let setup = async {
                let manager = self.manager(&cx).await?;
                // The match rule is registered with the bus when this returns: from here on
                // every JobRemoved is queued for us, including one sent before our reply.
                let signals = manager
                    .receive_job_removed()
                    .await
                    .map_err(|e| Error::from_zbus(&cx, e))?;
                Ok::<_, Error>((manager, signals))
            };
            let (manager, signals) = call::until(setup, deadline.as_mut())
                .await
                .ok_or_else(|| cx.timed_out(None))??;
            let call = async {
                let path = match kind {
                    JobKind::Start => manager.start_unit(unit, JOB_MODE).await,
                    JobKind::Restart => manager.restart_unit(unit, JOB_MODE).await,
                    JobKind::Stop => manager.stop_unit(unit, JOB_MODE).await,
                }?;
                Ok::<_, zbus::Error>(path.to_string())
            };
            await_job(call, Events(signals), deadline.as_mut())
                .await
                .map_err(|e| match e {
                    WaitError::Call(e) => Error::from_zbus(&cx, e),
                    WaitError::TimedOut { job } => cx.timed_out(job),
                    WaitError::Disconnected { job } => Error::Disconnected {
                        address: self.address.clone(),
                        unit: unit.to_owned(),
                        operation: kind.method(),
                        job,
                    },
                })
        })?;
        Ok(JobOutcome {
            unit: event.unit,
            job: event.job,
            result: JobResult::parse(&event.result),
            elapsed: started.elapsed(),
        })
    }

    async fn manager(&self, cx: &CallContext<'_>) -> Result<SystemdManagerProxy<'static>, Error> {
        SystemdManagerProxy::new(&self.conn)
            .await
            .map_err(|e| Error::from_zbus(cx, e))
    }

    fn cx<'a>(
        &'a self,
        target: &'a str,
        operation: &'static str,
        timeout: Duration,
    ) -> CallContext<'a> {
        CallContext {
            bus: BusKind::User,
            address: &self.address,
            target,
            operation,
            timeout,
        }
    }
}

/// `JobRemoved` signals, decoded; signals whose arguments do not decode are skipped.
struct Events(JobRemovedStream);

impl Stream for Events {
    type Item = JobRemovedEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match Pin::new(&mut self.0).poll_next(cx) {
                Poll::Ready(Some(signal)) => {
                    if let Ok(args) = signal.args() {
                        return Poll::Ready(Some(JobRemovedEvent {
                            job: args.job().to_string(),
                            unit: args.unit().clone(),
                            result: args.result().clone(),
                        }));
                    }
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::unix_address;

    #[test]
    fn job_methods_are_named_after_the_manager_calls() {
        assert_eq!(JobKind::Start.method(), "StartUnit");
        assert_eq!(JobKind::Restart.method(), "RestartUnit");
        assert_eq!(JobKind::Stop.method(), "StopUnit");
    }

    #[test]
    fn connecting_to_a_missing_bus_is_no_user_bus() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let address = unix_address(&dir.path().join("bus"));
        let err = UserManager::connect(&address).expect_err("no bus there");
        assert!(matches!(err, Error::NoUserBus { .. }), "{err:?}");
        assert!(err.to_string().contains(&address), "{err}");
    }
}
