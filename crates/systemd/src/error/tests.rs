//! The mapping from zbus errors to [`Error`] variants.

use super::*;

fn cx(bus: BusKind) -> CallContext<'static> {
    CallContext {
        bus,
        address: "unix:path=/run/user/1000/bus",
        target: "docker.service",
        operation: "StartUnit",
        timeout: Duration::from_secs(5),
    }
}

use super::test_support::reply;

#[test]
fn replies_are_mapped_by_name() {
    let e = Error::from_zbus(
        &cx(BusKind::User),
        reply(names::NO_SUCH_UNIT, "Unit docker.service not loaded."),
    );
    assert!(
        matches!(&e, Error::NoSuchUnit { unit, .. } if unit == "docker.service"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "unit docker.service not found: Unit docker.service not loaded."
    );
    assert_eq!(e.dbus_name(), Some(names::NO_SUCH_UNIT));

    let e = Error::from_zbus(
        &cx(BusKind::User),
        reply(names::FILE_NOT_FOUND, "Unit file x does not exist."),
    );
    assert!(matches!(e, Error::NoSuchUnit { .. }), "{e:?}");

    let e = Error::from_zbus(&cx(BusKind::User), reply(names::UNIT_MASKED, "masked"));
    assert!(matches!(e, Error::UnitMasked { .. }), "{e:?}");

    let e = Error::from_zbus(&cx(BusKind::User), reply(names::LOAD_FAILED, "bad"));
    assert!(matches!(e, Error::BadUnit { .. }), "{e:?}");

    let e = Error::from_zbus(
        &cx(BusKind::User),
        reply("org.freedesktop.systemd1.TransactionIsDestructive", "nope"),
    );
    assert!(
        matches!(&e, Error::Call { name, message, .. }
            if name == "org.freedesktop.systemd1.TransactionIsDestructive" && message == "nope"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "StartUnit of docker.service on the bus at unix:path=/run/user/1000/bus failed: \
         nope (org.freedesktop.systemd1.TransactionIsDestructive)"
    );
}

#[test]
fn a_missing_service_depends_on_the_bus() {
    // zbus turns this name into its fdo::Error::ServiceUnknown: the mapping must see it.
    let user = Error::from_zbus(
        &cx(BusKind::User),
        reply(names::SERVICE_UNKNOWN, "The name is not activatable"),
    );
    assert!(
        matches!(&user, Error::NoUserManager { name, .. } if name == names::SERVICE_UNKNOWN),
        "{user:?}"
    );
    assert!(user.hint().is_some_and(|h| h.contains("systemd --user")));
    let system = Error::from_zbus(
        &cx(BusKind::System),
        reply(names::NAME_HAS_NO_OWNER, "no owner"),
    );
    assert!(matches!(system, Error::NoLogind { .. }), "{system:?}");
    // A dbus-daemon session bus "activates" systemd1 through a stub that exits 1.
    let stub = Error::from_zbus(
        &cx(BusKind::User),
        reply(
            "org.freedesktop.DBus.Error.Spawn.ChildExited",
            "Process org.freedesktop.systemd1 exited with status 1",
        ),
    );
    assert!(matches!(stub, Error::NoUserManager { .. }), "{stub:?}");
}

#[test]
fn fdo_errors_keep_their_name_and_message() {
    let e = zbus::Error::FDO(Box::new(zbus::fdo::Error::AccessDenied("denied".into())));
    assert_eq!(
        remote_error(&e),
        Some((names::ACCESS_DENIED.to_owned(), "denied".to_owned()))
    );
    assert_eq!(remote_error(&zbus::Error::InvalidReply), None);
}

#[test]
fn a_missing_socket_is_no_user_bus_with_the_su_hint() {
    let io = std::io::Error::from(std::io::ErrorKind::NotFound);
    let e = Error::from_zbus(&cx(BusKind::User), zbus::Error::InputOutput(io.into()));
    assert!(matches!(&e, Error::NoUserBus { reason, .. } if reason.contains("does not exist")));
    assert_eq!(
        e.to_string(),
        "no user bus at unix:path=/run/user/1000/bus: the socket does not exist"
    );
    let hint = e.hint().unwrap_or_default();
    assert!(
        hint.contains("sudo -iu") && hint.contains("machinectl shell"),
        "{hint}"
    );

    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    let e = Error::from_zbus(
        &cx(BusKind::System),
        zbus::Error::InputOutput(refused.into()),
    );
    assert!(matches!(e, Error::NoSystemBus { .. }), "{e:?}");

    let e = Error::from_zbus(
        &cx(BusKind::User),
        zbus::Error::Handshake("REJECTED EXTERNAL".into()),
    );
    assert!(matches!(e, Error::NoUserBus { .. }), "{e:?}");
}

#[test]
fn a_bus_that_hangs_up_while_connecting_refuses_this_user() {
    let connect = CallContext {
        operation: CONNECT,
        target: "the bus",
        ..cx(BusKind::User)
    };
    for kind in [
        std::io::ErrorKind::BrokenPipe,
        std::io::ErrorKind::ConnectionReset,
    ] {
        let io = std::io::Error::new(kind, "failed to read from socket");
        let e = Error::from_zbus(&connect, zbus::Error::InputOutput(io.into()));
        assert!(
            matches!(&e, Error::NoUserBus { reason, .. } if reason.contains("another user")),
            "{e:?}"
        );
    }
    // After connecting, a hang-up is an ordinary bus failure.
    let io = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
    let e = Error::from_zbus(&cx(BusKind::User), zbus::Error::InputOutput(io.into()));
    assert!(matches!(e, Error::Bus { .. }), "{e:?}");
    // Other connect failures name the address.
    let e = Error::from_zbus(&connect, zbus::Error::InvalidReply);
    assert_eq!(
        e.to_string(),
        "could not connect to the bus at unix:path=/run/user/1000/bus: Invalid D-Bus method reply"
    );
}

#[test]
fn timeouts_name_the_call_and_the_limit() {
    let io = std::io::Error::from(std::io::ErrorKind::TimedOut);
    let e = Error::from_zbus(&cx(BusKind::User), zbus::Error::InputOutput(io.into()));
    assert_eq!(
        e.to_string(),
        "StartUnit of docker.service did not finish within 5000 ms"
    );
    let e = Error::from_zbus(&cx(BusKind::User), reply(names::NO_REPLY, "no reply"));
    assert!(matches!(e, Error::TimedOut { .. }), "{e:?}");
    let with_job = Error::TimedOut {
        address: "a".into(),
        target: "docker.service".into(),
        operation: "StartUnit",
        timeout: Duration::from_millis(1500),
        job: Some("/org/freedesktop/systemd1/job/7".into()),
    };
    assert_eq!(
        with_job.to_string(),
        "StartUnit of docker.service did not finish within 1500 ms \
         (job /org/freedesktop/systemd1/job/7)"
    );
}

#[test]
fn other_failures_keep_the_zbus_error() {
    let e = Error::from_zbus(&cx(BusKind::User), zbus::Error::InvalidReply);
    assert!(matches!(e, Error::Bus { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("StartUnit of docker.service on the bus at")
    );
    assert_eq!(e.dbus_name(), None);
}
