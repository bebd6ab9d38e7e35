//! Error replies for tests, built without a bus.

/// A real error reply, built the way a service sends it and converted the way zbus does.
pub(crate) fn reply(name: &str, message: &str) -> zbus::Error {
    let call = zbus::Message::method_call("/org/freedesktop/systemd1", "StartUnit")
        .build(&())
        .expect("method call");
    let err = zbus::Message::error(&call.header(), name)
        .build(&(message,))
        .expect("error message");
    zbus::Error::from(err)
}
