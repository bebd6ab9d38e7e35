//! Read-only queries for the checker: ping a bus, read the systemd user manager's version and
//! state, read logind's linger flag for a uid.
//!
//! Every query is bounded by [`TIMEOUT`] as a whole (connect, authenticate, `Hello`, the calls),
//! so a socket nobody answers on cannot hang the checker. Nothing here calls a method that
//! changes anything: only the bus driver's `GetId`, `Properties.Get` and logind's `GetUser`
//! lookup.
//!
//! zbus is async-only; these functions drive it with [`zbus::block_on`] on the calling thread and
//! must therefore not be called from inside an async task.

use std::future::Future;
use std::time::Duration;

use zbus::proxy::CacheProperties;

use crate::address::system_bus_of_this_process;
use crate::call::{Timer, until};
use crate::login::{LingerStep, read_linger};

/// How long one query may take in total.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// logind's well-known name.
const LOGIN1: &str = "org.freedesktop.login1";
/// The systemd manager's well-known name.
const SYSTEMD1: &str = "org.freedesktop.systemd1";
/// The bus driver's name.
const BUS_DRIVER: &str = "org.freedesktop.DBus";
/// Why a query could not be answered. Every variant names the bus address or the service.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Connecting, authenticating or saying `Hello` to the bus failed.
    #[error("could not connect to the bus at {address}: {source}")]
    Connect {
        address: String,
        /// What zbus reported.
        #[source]
        source: Box<zbus::Error>,
    },
    /// A method call or property read was answered with an error.
    #[error("{service} on the bus at {address} could not answer {member}: {source}")]
    Call {
        /// The service asked (`org.freedesktop.systemd1`, …).
        service: &'static str,
        address: String,
        /// The method or property (`Properties.Get SystemState`, …).
        member: String,
        /// What zbus reported.
        #[source]
        source: Box<zbus::Error>,
    },
    /// The whole query did not finish in time.
    #[error("no answer from the bus at {address} within {} ms", timeout.as_millis())]
    TimedOut {
        address: String,
        /// The limit that passed.
        timeout: Duration,
    },
    /// The timer thread that bounds the query could not be started.
    #[error("could not start the timer for a query of the bus at {address}: {source}")]
    Timer {
        address: String,
        /// Why the thread could not start.
        #[source]
        source: std::io::Error,
    },
}

/// The user manager's self-description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerState {
    /// `Version`, such as `252.36-1~deb12u1`.
    pub version: String,
    /// `SystemState`: `initializing`, `starting`, `running`, `degraded`, `maintenance`,
    /// `stopping`, `offline` or `unknown`.
    pub state: String,
}

/// Pings the bus at `address` (`unix:path=…`): connects, authenticates, says `Hello` and asks
/// the bus driver for its id (`org.freedesktop.DBus.GetId`).
///
/// `GetId` rather than `org.freedesktop.DBus.Peer.Ping`: the system bus's default policy refuses
/// `Peer.Ping` sent to the bus driver, while every bus answers `GetId`.
pub fn ping(address: &str) -> Result<(), ProbeError> {
    bounded(address, TIMEOUT, async {
        let conn = connect(address).await?;
        conn.call_method(
            Some(BUS_DRIVER),
            "/org/freedesktop/DBus",
            Some(BUS_DRIVER),
            "GetId",
            &(),
        )
        .await
        .map_err(|source| ProbeError::Call {
            service: BUS_DRIVER,
            address: address.to_owned(),
            member: "GetId".to_owned(),
            source: Box::new(source),
        })?;
        Ok(())
    })
}

/// Reads the `Version` and `SystemState` of `org.freedesktop.systemd1` (the user manager, when
/// `address` is a user bus) over the bus at `address`.
pub fn manager_state(address: &str) -> Result<ManagerState, ProbeError> {
    bounded(address, TIMEOUT, async {
        let conn = connect(address).await?;
        let proxy = properties_of(
            &conn,
            address,
            SYSTEMD1,
            "/org/freedesktop/systemd1",
            "org.freedesktop.systemd1.Manager",
        )
        .await?;
        let version = read_property::<String>(&proxy, address, SYSTEMD1, "Version").await?;
        let state = read_property::<String>(&proxy, address, SYSTEMD1, "SystemState").await?;
        Ok(ManagerState { version, state })
    })
}

/// Reads logind's `Linger` property of `uid` from the system bus
/// (`DBUS_SYSTEM_BUS_ADDRESS`, else its default).
///
/// A uid logind does not track (no session and no linger) does not linger: `Ok(false)`, as
/// [`crate::Login::linger`] answers.
pub fn linger(uid: u32) -> Result<bool, ProbeError> {
    let address = &system_bus_of_this_process();
    bounded(address, TIMEOUT, async {
        let conn = connect(address).await?;
        read_linger(&conn, uid)
            .await
            .map_err(|(step, source)| ProbeError::Call {
                service: LOGIN1,
                address: address.to_owned(),
                member: match step {
                    LingerStep::GetUser => format!("Manager.GetUser({uid})"),
                    LingerStep::GetLinger => "Properties.Get Linger".to_owned(),
                },
                source: Box::new(source),
            })
    })
}

async fn connect(address: &str) -> Result<zbus::Connection, ProbeError> {
    zbus::connection::Builder::address(address)
        .method_timeout(TIMEOUT)
        .build()
        .await
        .map_err(|source| ProbeError::Connect {
            address: address.to_owned(),
            source: Box::new(source),
        })
}

async fn properties_of<'a>(
    conn: &zbus::Connection,
    address: &str,
    service: &'static str,
    path: &'a str,
    interface: &'a str,
) -> Result<zbus::Proxy<'a>, ProbeError> {
    zbus::proxy::Builder::<zbus::Proxy<'a>>::new(conn)
        .destination(service)
        .path(path)
        .interface(interface)
        .cache_properties(CacheProperties::No)
        .build()
        .await
        .map_err(|source| ProbeError::Call {
            service,
            address: address.to_owned(),
            member: format!("{interface} at {path}"),
            source: Box::new(source),
        })
}

async fn read_property<T>(
    proxy: &zbus::Proxy<'_>,
    address: &str,
    service: &'static str,
    name: &str,
) -> Result<T, ProbeError>
where
    T: serde::de::DeserializeOwned + zbus::Type,
{
    proxy
        .get_property::<T>(name)
        .await
        .map_err(|source| ProbeError::Call {
            service,
            address: address.to_owned(),
            member: format!("Properties.Get {name}"),
            source: Box::new(source),
        })
}

/// Runs `query` on this thread with zbus's runtime, giving up after `timeout`.
fn bounded<T>(
    address: &str,
    timeout: Duration,
    query: impl Future<Output = Result<T, ProbeError>>,
) -> Result<T, ProbeError> {
    let timer = Timer::start(timeout).map_err(|source| ProbeError::Timer {
        address: address.to_owned(),
        source,
    })?;
    zbus::block_on(until(query, timer)).unwrap_or_else(|| {
        Err(ProbeError::TimedOut {
            address: address.to_owned(),
            timeout,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::unix_address;

    #[test]
    fn errors_name_the_address_or_service() {
        let e = ProbeError::TimedOut {
            address: "unix:path=/run/user/1000/bus".into(),
            timeout: TIMEOUT,
        };
        assert_eq!(
            e.to_string(),
            "no answer from the bus at unix:path=/run/user/1000/bus within 2000 ms"
        );
    }

    #[test]
    fn a_missing_socket_is_a_connect_error_naming_the_address() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let address = unix_address(&dir.path().join("bus"));
        let err = ping(&address).expect_err("no bus there");
        assert!(matches!(err, ProbeError::Connect { .. }), "{err:?}");
        assert!(err.to_string().contains(&address), "{err}");
    }

    #[test]
    fn a_socket_that_never_answers_times_out() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("bus");
        // Accepts connections (the kernel does) but never speaks.
        let _listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let started = std::time::Instant::now();
        let err = ping(&unix_address(&path)).expect_err("silent socket");
        assert!(matches!(err, ProbeError::TimedOut { .. }), "{err:?}");
        assert!(started.elapsed() < TIMEOUT + Duration::from_secs(1));
    }

    #[test]
    fn a_timer_fires_and_a_bounded_query_gives_up() {
        let started = std::time::Instant::now();
        let out: Result<(), ProbeError> = bounded(
            "unix:path=/nowhere",
            Duration::from_millis(50),
            std::future::pending(),
        );
        assert!(matches!(out, Err(ProbeError::TimedOut { .. })), "{out:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
        let quick: Result<u8, ProbeError> =
            bounded("unix:path=/nowhere", Duration::from_secs(5), async {
                Ok(7)
            });
        assert_eq!(quick.ok(), Some(7));
    }
}
