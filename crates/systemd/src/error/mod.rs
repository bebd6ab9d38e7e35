//! The error type of the mutating D-Bus layer, and the mapping from what zbus reports (an I/O
//! failure, or a D-Bus error reply with its name and message) to a variant the CLI can explain.
//!
//! The mapping is pure: [`Error::from_zbus`] looks only at the zbus error and the context it is
//! given, so every branch is tested without a bus.

use std::time::Duration;

/// The names of the D-Bus errors the mapping recognises.
pub mod names {
    /// The bus or a service refused the caller.
    pub const ACCESS_DENIED: &str = "org.freedesktop.DBus.Error.AccessDenied";
    /// The call needs interactive authorisation, which the caller did not allow.
    pub const INTERACTIVE_AUTHORIZATION_REQUIRED: &str =
        "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired";
    /// Every polkit error (`…NotAuthorized`, `…Cancelled`, …) starts with this.
    pub const POLKIT_PREFIX: &str = "org.freedesktop.PolicyKit1.Error.";
    /// Nobody owns the destination name and the bus cannot start it.
    pub const SERVICE_UNKNOWN: &str = "org.freedesktop.DBus.Error.ServiceUnknown";
    /// Nobody owns the destination name.
    pub const NAME_HAS_NO_OWNER: &str = "org.freedesktop.DBus.Error.NameHasNoOwner";
    /// The bus tried to start the destination through D-Bus activation and failed. On a user
    /// bus not run by systemd, `org.freedesktop.systemd1` is "activatable" through a stub that
    /// exits 1 (`Spawn.ChildExited`).
    pub const SPAWN_PREFIX: &str = "org.freedesktop.DBus.Error.Spawn.";
    /// The destination did not answer in time (the bus's own reply timeout).
    pub const NO_REPLY: &str = "org.freedesktop.DBus.Error.NoReply";
    /// A file argument does not exist.
    pub const FILE_NOT_FOUND: &str = "org.freedesktop.DBus.Error.FileNotFound";
    /// systemd: the unit is not loaded, or has no unit file.
    pub const NO_SUCH_UNIT: &str = "org.freedesktop.systemd1.NoSuchUnit";
    /// systemd: the unit is masked.
    pub const UNIT_MASKED: &str = "org.freedesktop.systemd1.UnitMasked";
    /// systemd: the unit failed to load (a syntax or setting error).
    pub const LOAD_FAILED: &str = "org.freedesktop.systemd1.LoadFailed";
    /// systemd: the unit has a bad setting.
    pub const BAD_UNIT_SETTING: &str = "org.freedesktop.systemd1.BadUnitSetting";
    /// systemd: this connection already subscribed.
    pub const ALREADY_SUBSCRIBED: &str = "org.freedesktop.systemd1.AlreadySubscribed";
    /// logind: no such user is tracked.
    pub const NO_SUCH_USER: &str = "org.freedesktop.login1.NoSuchUser";
}

/// Why a call of the D-Bus layer failed. Every variant names the unit, the uid or the bus
/// address it was about; variants for D-Bus error replies carry the error's name and message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user bus is not there: its socket is missing, nobody listens on it, it belongs to
    /// another user, or no address is known at all. Typical after `su USER` or `sudo -iu USER`,
    /// which do not start a login session; see [`Error::hint`].
    #[error("no user bus at {address}: {reason}")]
    NoUserBus {
        /// The address tried (`unix:path=/run/user/1000/bus`), or `(none)`.
        address: String,
        /// What was wrong, such as `the socket /run/user/1000/bus does not exist`.
        reason: String,
    },
    /// The system bus is not there (no `dbus-daemon`/`dbus-broker` running).
    #[error("no system bus at {address}: {reason}")]
    NoSystemBus {
        address: String,
        /// What was wrong.
        reason: String,
    },
    /// The bus answers but no systemd user manager (`org.freedesktop.systemd1`) is on it: the bus
    /// was started by `dbus-launch` or a desktop session, not by `systemd --user`.
    #[error("no systemd user manager on the bus at {address} ({name}: {message})")]
    NoUserManager {
        address: String,
        /// The D-Bus error name (`org.freedesktop.DBus.Error.ServiceUnknown`).
        name: String,
        message: String,
    },
    /// logind (`org.freedesktop.login1`) is not on the system bus.
    #[error("no systemd-logind on the bus at {address} ({name}: {message})")]
    NoLogind {
        address: String,
        /// The D-Bus error name.
        name: String,
        message: String,
    },
    /// The unit is not loaded, or no unit file of that name exists.
    #[error("unit {unit} not found: {message}")]
    NoSuchUnit {
        unit: String,
        /// The D-Bus error name (`org.freedesktop.systemd1.NoSuchUnit`, …).
        name: String,
        message: String,
    },
    /// The unit is masked (linked to `/dev/null`).
    #[error("unit {unit} is masked: {message}")]
    UnitMasked { unit: String, message: String },
    /// The unit file could not be loaded (a syntax error or a bad setting).
    #[error("unit {unit} failed to load: {message}")]
    BadUnit {
        unit: String,
        /// The D-Bus error name.
        name: String,
        message: String,
    },
    /// logind (through polkit) refused to change the linger flag.
    #[error("not permitted to {action} linger for {user} (polkit): {message}")]
    LingerDenied {
        /// `enable` or `disable`.
        action: &'static str,
        /// The user's name, or `uid N` when the uid has no passwd entry.
        user: String,
        uid: u32,
        /// The D-Bus error name (`org.freedesktop.DBus.Error.AccessDenied`,
        /// `org.freedesktop.PolicyKit1.Error.NotAuthorized`, …).
        name: String,
        message: String,
    },
    /// A call (or the job it started) did not finish before its deadline.
    #[error("{operation} of {target} did not finish within {} ms{}", timeout.as_millis(), job_note(job.as_deref()))]
    TimedOut {
        address: String,
        /// What the call was about: a unit, `uid N`, or `the manager`.
        target: String,
        /// The call, such as `StartUnit`.
        operation: &'static str,
        /// The limit that passed.
        timeout: Duration,
        /// The job's path when the call returned one; the job may still be running.
        job: Option<String>,
    },
    /// The connection closed while a job was awaited.
    #[error("the bus at {address} closed while waiting for {operation} of {unit}{}", job_note(job.as_deref()))]
    Disconnected {
        address: String,
        unit: String,
        /// The call, such as `StartUnit`.
        operation: &'static str,
        /// The job's path when the call returned one.
        job: Option<String>,
    },
    /// Connecting failed for another reason than a missing bus (see [`Error::NoUserBus`]).
    #[error("could not connect to the bus at {address}: {source}")]
    Connect {
        address: String,
        /// What zbus reported.
        #[source]
        source: Box<zbus::Error>,
    },
    /// Any other D-Bus error reply.
    #[error("{operation} of {target} on the bus at {address} failed: {message} ({name})")]
    Call {
        address: String,
        /// What the call was about: a unit, `uid N`, or `the manager`.
        target: String,
        /// The call, such as `EnableUnitFiles`.
        operation: &'static str,
        /// The D-Bus error name.
        name: String,
        message: String,
    },
    /// A call failed below D-Bus (I/O, a malformed reply).
    #[error("{operation} of {target} on the bus at {address} failed: {source}")]
    Bus {
        address: String,
        /// What the call was about.
        target: String,
        /// The call, or `connect`.
        operation: &'static str,
        /// What zbus reported.
        #[source]
        source: Box<zbus::Error>,
    },
    /// The timer thread that bounds a call could not be started.
    #[error("could not start the timer for {operation} of {target}: {source}")]
    Timer {
        /// What the call was about.
        target: String,
        /// The call.
        operation: &'static str,
        /// Why the thread could not start.
        #[source]
        source: std::io::Error,
    },
}

fn job_note(job: Option<&str>) -> String {
    job.map(|j| format!(" (job {j})")).unwrap_or_default()
}

/// Which bus a call went to; decides how a missing bus or a missing service is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BusKind {
    /// The user bus, where `systemd --user` is `org.freedesktop.systemd1`.
    User,
    /// The system bus, where logind is `org.freedesktop.login1`.
    System,
}

/// What a failing call was about, for the error message.
#[derive(Debug, Clone)]
pub(crate) struct CallContext<'a> {
    pub bus: BusKind,
    /// The bus address.
    pub address: &'a str,
    /// A unit, `uid N` or `the manager`.
    pub target: &'a str,
    /// The call.
    pub operation: &'static str,
    /// How long the call was allowed to take (for a zbus method timeout).
    pub timeout: Duration,
}

impl CallContext<'_> {
    /// [`Error::TimedOut`] for this call; `job` is the job's path when the call returned one.
    pub(crate) fn timed_out(&self, job: Option<String>) -> Error {
        Error::TimedOut {
            address: self.address.to_owned(),
            target: self.target.to_owned(),
            operation: self.operation,
            timeout: self.timeout,
            job,
        }
    }
}

impl Error {
    /// Maps a zbus error to a variant, by the D-Bus error name when it is a reply and by the I/O
    /// error kind when the connection failed.
    pub(crate) fn from_zbus(cx: &CallContext<'_>, err: zbus::Error) -> Error {
        if let Some((name, message)) = remote_error(&err) {
            return Error::from_reply(cx, &name, &message);
        }
        let reason = missing_bus_reason(&err).or_else(|| {
            (cx.operation == CONNECT)
                .then(|| closed_while_connecting(&err))
                .flatten()
        });
        if let Some(reason) = reason {
            return match cx.bus {
                BusKind::User => Error::NoUserBus {
                    address: cx.address.to_owned(),
                    reason,
                },
                BusKind::System => Error::NoSystemBus {
                    address: cx.address.to_owned(),
                    reason,
                },
            };
        }
        if cx.operation == CONNECT && io_kind(&err) != Some(std::io::ErrorKind::TimedOut) {
            return Error::Connect {
                address: cx.address.to_owned(),
                source: Box::new(err),
            };
        }
        if io_kind(&err) == Some(std::io::ErrorKind::TimedOut) {
            return cx.timed_out(None);
        }
        Error::Bus {
            address: cx.address.to_owned(),
            target: cx.target.to_owned(),
            operation: cx.operation,
            source: Box::new(err),
        }
    }

    /// Maps a D-Bus error reply, by name.
    pub(crate) fn from_reply(cx: &CallContext<'_>, name: &str, message: &str) -> Error {
        let address = cx.address.to_owned();
        let target = cx.target.to_owned();
        let (name_s, message_s) = (name.to_owned(), message.to_owned());
        match name {
            _ if is_missing_service(name) => match cx.bus {
                BusKind::User => Error::NoUserManager {
                    address,
                    name: name_s,
                    message: message_s,
                },
                BusKind::System => Error::NoLogind {
                    address,
                    name: name_s,
                    message: message_s,
                },
            },
            names::NO_SUCH_UNIT | names::FILE_NOT_FOUND => Error::NoSuchUnit {
                unit: target,
                name: name_s,
                message: message_s,
            },
            names::UNIT_MASKED => Error::UnitMasked {
                unit: target,
                message: message_s,
            },
            names::LOAD_FAILED | names::BAD_UNIT_SETTING => Error::BadUnit {
                unit: target,
                name: name_s,
                message: message_s,
            },
            names::NO_REPLY => cx.timed_out(None),
            _ => Error::Call {
                address,
                target,
                operation: cx.operation,
                name: name_s,
                message: message_s,
            },
        }
    }

    /// The D-Bus error name when this error is a reply from a service.
    #[cfg(test)]
    pub fn dbus_name(&self) -> Option<&str> {
        match self {
            Error::NoUserManager { name, .. }
            | Error::NoLogind { name, .. }
            | Error::NoSuchUnit { name, .. }
            | Error::BadUnit { name, .. }
            | Error::LingerDenied { name, .. }
            | Error::Call { name, .. } => Some(name),
            Error::UnitMasked { .. } => Some(names::UNIT_MASKED),
            _ => None,
        }
    }

    /// A longer explanation for the user, where one helps: why the user bus is missing (a
    /// session started by `su`/`sudo`), why no user manager answers, why linger was refused.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::NoUserBus { .. } => Some(
                "the user bus and the systemd user manager belong to a login session; `su USER` \
                 and `sudo -iu USER` do not start one (and keep no XDG_RUNTIME_DIR). log in as \
                 the user through ssh, a console or `machinectl shell USER@`, or enable linger \
                 (`sudo loginctl enable-linger USER`) so the manager runs without a session",
            ),
            Error::NoUserManager { .. } => Some(
                "this bus was not started by `systemd --user` (dbus-launch, a desktop session or \
                 a container without systemd); log in through ssh or `machinectl shell USER@` \
                 so that pam_systemd starts the user manager",
            ),
            Error::LingerDenied { .. } => Some(
                "changing one's own linger flag needs polkit's \
                 org.freedesktop.login1.set-self-linger, which most distributions grant only \
                 after authentication (and never without a running polkit); run \
                 `sudo loginctl enable-linger USER` (or `disable-linger`) instead",
            ),
            _ => None,
        }
    }
}

/// Whether the error name says the destination service is not on the bus and cannot be started.
fn is_missing_service(name: &str) -> bool {
    name == names::SERVICE_UNKNOWN
        || name == names::NAME_HAS_NO_OWNER
        || name.starts_with(names::SPAWN_PREFIX)
}

/// The name and message of a D-Bus error reply, if `err` is one.
pub(crate) fn remote_error(err: &zbus::Error) -> Option<(String, String)> {
    use zbus::DBusError;
    match err {
        zbus::Error::MethodError(name, message, _) => {
            Some((name.to_string(), message.clone().unwrap_or_default()))
        }
        zbus::Error::FDO(fdo) => match fdo.as_ref() {
            zbus::fdo::Error::ZBus(inner) => remote_error(inner),
            other => Some((
                other.name().to_string(),
                other.description().unwrap_or_default().to_owned(),
            )),
        },
        _ => None,
    }
}

fn io_kind(err: &zbus::Error) -> Option<std::io::ErrorKind> {
    match err {
        zbus::Error::InputOutput(io) => Some(io.kind()),
        zbus::Error::Connection(io, _) => Some(io.kind()),
        _ => None,
    }
}

/// Why the bus counts as missing, when connecting failed in a way that means "no bus for this
/// user here": no socket, nobody listening, a socket of another user, or an address that
/// cannot work.
fn missing_bus_reason(err: &zbus::Error) -> Option<String> {
    use std::io::ErrorKind;
    match err {
        zbus::Error::Connection(io, _) | zbus::Error::InputOutput(io) => match io.kind() {
            ErrorKind::NotFound => Some("the socket does not exist".to_owned()),
            ErrorKind::ConnectionRefused => {
                Some("nothing listens on the socket (a stale socket)".to_owned())
            }
            ErrorKind::PermissionDenied => Some(
                "permission denied (the socket or its directory belongs to another user)"
                    .to_owned(),
            ),
            _ => None,
        },
        zbus::Error::Handshake(msg) => Some(format!(
            "the bus refused to authenticate this user (it belongs to another user?): {msg}"
        )),
        zbus::Error::Address(msg) => Some(format!("the address is not usable: {msg}")),
        _ => None,
    }
}

/// When connecting, a bus that hangs up during authentication refuses this user: dbus-daemon
/// closes the socket when a uid other than the bus owner's (root included) authenticates on a
/// user bus. A socket torn down at logout does the same.
fn closed_while_connecting(err: &zbus::Error) -> Option<String> {
    use std::io::ErrorKind;
    matches!(
        io_kind(err),
        Some(ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof)
    )
    .then(|| {
        format!(
            "the bus closed the connection while authenticating (it belongs to another user, or \
             is shutting down): {err}"
        )
    })
}

/// The operation name of connecting, authenticating and saying `Hello`.
pub(crate) const CONNECT: &str = "connect";

/// The message of a missing-bus error when no address could be determined at all.
pub(crate) const NO_ADDRESS: &str =
    "DBUS_SESSION_BUS_ADDRESS is unset and XDG_RUNTIME_DIR is unset or has no `bus` socket";

/// Error replies for tests, built without a bus.
#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests;
