//! [`Login`]: logind on the system bus — turn linger on or off for a uid, and read it back.
//!
//! `SetUserLinger` is authorised by polkit: root always may; a user changing their own flag
//! needs `org.freedesktop.login1.set-self-linger`, which most distributions grant only after
//! authentication, and without a running polkit the call is refused outright. A refusal is
//! reported as [`Error::LingerDenied`] naming the user.

use std::time::Duration;

use zbus::proxy::CacheProperties;

use crate::address::system_bus_of_this_process;
use crate::call::{self, CALL_TIMEOUT};
use crate::error::{BusKind, CallContext, Error, names, remote_error};
use crate::proxies::{LoginManagerProxy, LoginUserProxy};

/// How long `SetUserLinger` may take when `interactive` is set: a person may be typing a
/// password into a polkit agent.
pub const INTERACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

/// A connection to logind on the system bus.
#[derive(Debug)]
pub struct Login {
    conn: zbus::Connection,
    address: String,
}

impl Login {
    /// Connects to the system bus (`DBUS_SYSTEM_BUS_ADDRESS`, else the well-known socket).
    pub fn connect_system() -> Result<Login, Error> {
        Login::connect(&system_bus_of_this_process())
    }

    /// Connects to the bus at `address`, where logind is expected.
    pub fn connect(address: &str) -> Result<Login, Error> {
        Ok(Login {
            conn: call::connect(BusKind::System, address)?,
            address: address.to_owned(),
        })
    }

    /// The bus address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Turns linger on (`enable`) or off for `uid`. With `interactive`, polkit may ask for a
    /// password through an agent (the call then waits up to [`INTERACTIVE_TIMEOUT`]).
    ///
    /// A refusal (`org.freedesktop.DBus.Error.AccessDenied`, any
    /// `org.freedesktop.PolicyKit1.Error.*`, `…InteractiveAuthorizationRequired`) is
    /// [`Error::LingerDenied`]. logind asks polkit before it looks at the current flag, so an
    /// unprivileged caller is refused even when the flag already has the wanted value: read
    /// [`Login::linger`] first and skip the call then.
    pub fn set_linger(&self, uid: u32, enable: bool, interactive: bool) -> Result<(), Error> {
        let target = format!("uid {uid}");
        let timeout = if interactive {
            INTERACTIVE_TIMEOUT
        } else {
            CALL_TIMEOUT
        };
        let cx = self.cx(&target, "SetUserLinger", timeout);
        call::block(&cx, async {
            let manager = LoginManagerProxy::new(&self.conn)
                .await
                .map_err(|e| Error::from_zbus(&cx, e))?;
            manager
                .set_user_linger(uid, enable, interactive)
                .await
                .map_err(|e| linger_error(&cx, uid, enable, e, user_name))
        })
    }

    /// Whether `uid` lingers, as logind sees it now (`read_linger`).
    pub fn linger(&self, uid: u32) -> Result<bool, Error> {
        let target = format!("uid {uid}");
        let cx = self.cx(&target, "GetUser", CALL_TIMEOUT);
        let get = self.cx(&target, "Properties.Get Linger", CALL_TIMEOUT);
        call::block(&cx, async {
            read_linger(&self.conn, uid)
                .await
                .map_err(|(step, e)| match step {
                    LingerStep::GetUser => Error::from_zbus(&cx, e),
                    LingerStep::GetLinger => Error::from_zbus(&get, e),
                })
        })
    }

    fn cx<'a>(
        &'a self,
        target: &'a str,
        operation: &'static str,
        timeout: Duration,
    ) -> CallContext<'a> {
        CallContext {
            bus: BusKind::System,
            address: &self.address,
            target,
            operation,
            timeout,
        }
    }
}

/// The call of [`read_linger`] that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LingerStep {
    /// `Manager.GetUser(uid)`.
    GetUser,
    /// `Properties.Get Linger` of the user object.
    GetLinger,
}

/// logind's `Linger` flag of `uid`, over `conn` (the system bus). The one reading of linger,
/// for [`Login::linger`] and the checker's probe: a uid logind does not track
/// ([`known_user`]) does not linger, `Ok(false)`.
pub(crate) async fn read_linger(
    conn: &zbus::Connection,
    uid: u32,
) -> Result<bool, (LingerStep, zbus::Error)> {
    let get_user = |e| (LingerStep::GetUser, e);
    let get_linger = |e| (LingerStep::GetLinger, e);
    let manager = LoginManagerProxy::builder(conn)
        .cache_properties(CacheProperties::No)
        .build()
        .await
        .map_err(get_user)?;
    let Some(path) = known_user(manager.get_user(uid).await).map_err(get_user)? else {
        return Ok(false);
    };
    let user = LoginUserProxy::builder(conn)
        .path(path)
        .cache_properties(CacheProperties::No)
        .build()
        .await
        .map_err(get_linger)?;
    user.linger().await.map_err(get_linger)
}

/// `GetUser`'s answer, with logind's `NoSuchUser` (no session and no linger) as `None`.
fn known_user<T>(answer: zbus::Result<T>) -> zbus::Result<Option<T>> {
    match answer {
        Ok(user) => Ok(Some(user)),
        Err(e) if remote_error(&e).is_some_and(|(name, _)| name == names::NO_SUCH_USER) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether a D-Bus error name is a refusal by logind or polkit.
fn is_denial(name: &str) -> bool {
    name == names::ACCESS_DENIED
        || name == names::INTERACTIVE_AUTHORIZATION_REQUIRED
        || name.starts_with(names::POLKIT_PREFIX)
}

/// Maps a failed `SetUserLinger`; `user_name` looks the uid up for the message (only on a
/// refusal).
fn linger_error(
    cx: &CallContext<'_>,
    uid: u32,
    enable: bool,
    err: zbus::Error,
    user_name: impl FnOnce(u32) -> Option<String>,
) -> Error {
    match remote_error(&err) {
        Some((name, message)) if is_denial(&name) => Error::LingerDenied {
            action: if enable { "enable" } else { "disable" },
            user: user_name(uid).unwrap_or_else(|| format!("uid {uid}")),
            uid,
            name,
            message,
        },
        _ => Error::from_zbus(cx, err),
    }
}

/// The passwd name of `uid`, through NSS.
fn user_name(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::test_support::reply;

    fn cx() -> CallContext<'static> {
        CallContext {
            bus: BusKind::System,
            address: "unix:path=/run/dbus/system_bus_socket",
            target: "uid 1000",
            operation: "SetUserLinger",
            timeout: CALL_TIMEOUT,
        }
    }

    fn dev(_: u32) -> Option<String> {
        Some("dev".to_owned())
    }

    #[test]
    fn access_denied_is_a_linger_refusal_naming_the_user() {
        let e = linger_error(
            &cx(),
            1000,
            true,
            reply(names::ACCESS_DENIED, "Access denied"),
            dev,
        );
        assert_eq!(
            e.to_string(),
            "not permitted to enable linger for dev (polkit): Access denied"
        );
        assert_eq!(e.dbus_name(), Some(names::ACCESS_DENIED));
        assert!(
            e.hint()
                .is_some_and(|h| h.contains("sudo loginctl enable-linger"))
        );
    }

    #[test]
    fn polkit_errors_are_refusals_too() {
        for name in [
            "org.freedesktop.PolicyKit1.Error.NotAuthorized",
            "org.freedesktop.PolicyKit1.Error.Cancelled",
            names::INTERACTIVE_AUTHORIZATION_REQUIRED,
        ] {
            let e = linger_error(&cx(), 1000, false, reply(name, "no"), |_| None);
            assert!(
                matches!(&e, Error::LingerDenied { action: "disable", user, .. } if user == "uid 1000"),
                "{name}: {e:?}"
            );
        }
    }

    #[test]
    fn other_failures_are_not_refusals() {
        let e = linger_error(
            &cx(),
            1000,
            true,
            reply("org.freedesktop.login1.NoSuchUser", "No user 1000 known"),
            dev,
        );
        assert!(matches!(e, Error::Call { .. }), "{e:?}");
        let e = linger_error(&cx(), 1000, true, reply(names::SERVICE_UNKNOWN, "x"), dev);
        assert!(matches!(e, Error::NoLogind { .. }), "{e:?}");
    }

    #[test]
    fn a_user_logind_does_not_know_is_none_and_other_errors_stay() {
        assert_eq!(known_user(Ok(7)).ok(), Some(Some(7)));
        let unknown = reply(names::NO_SUCH_USER, "No user 1000 known");
        assert_eq!(known_user::<u8>(Err(unknown)).ok(), Some(None));
        let denied = known_user::<u8>(Err(reply(names::ACCESS_DENIED, "no")));
        assert!(
            denied
                .as_ref()
                .is_err_and(|e| remote_error(e).is_some_and(|(n, _)| n == names::ACCESS_DENIED)),
            "{denied:?}"
        );
    }

    #[test]
    fn root_has_a_name() {
        assert_eq!(user_name(0).as_deref(), Some("root"));
    }
}
