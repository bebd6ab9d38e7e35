//! D-Bus addresses: which bus to use (the user bus from `DBUS_SESSION_BUS_ADDRESS` or
//! `XDG_RUNTIME_DIR`, the system bus from `DBUS_SYSTEM_BUS_ADDRESS`), and the socket path of a
//! `unix:path=…` address. The checker and the commands that connect both ask here, so they agree
//! on the bus.
//!
//! One rule for every variable: its value is trimmed of surrounding white space, and a value
//! that is then empty counts as unset. `XDG_RUNTIME_DIR` also counts only when absolute, as the
//! XDG base directory specification says (and as `core::paths` reads the other XDG variables).

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Where the system bus listens when `DBUS_SYSTEM_BUS_ADDRESS` is unset.
const DEFAULT_SYSTEM_BUS: &str = "unix:path=/var/run/dbus/system_bus_socket";

/// The variable naming the user bus.
pub const SESSION_BUS_VARIABLE: &str = "DBUS_SESSION_BUS_ADDRESS";
/// The variable naming the user's runtime directory, which holds the user bus socket `bus`.
pub const RUNTIME_DIR_VARIABLE: &str = "XDG_RUNTIME_DIR";

/// The user bus and where its address came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserBus {
    pub address: String,
    /// The variable it came from: [`SESSION_BUS_VARIABLE`] or [`RUNTIME_DIR_VARIABLE`].
    pub from: &'static str,
}

/// A variable's value under this module's rule: trimmed, and `None` when empty.
fn configured(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// The user bus: `DBUS_SESSION_BUS_ADDRESS` when set, else `unix:path=$XDG_RUNTIME_DIR/bus`
/// (an absolute one); `None` when neither is set.
pub fn user_bus_address(
    dbus_session_bus_address: Option<&str>,
    xdg_runtime_dir: Option<&str>,
) -> Option<UserBus> {
    if let Some(address) = configured(dbus_session_bus_address) {
        return Some(UserBus {
            address: address.to_owned(),
            from: SESSION_BUS_VARIABLE,
        });
    }
    configured(xdg_runtime_dir)
        .filter(|dir| dir.starts_with('/'))
        .map(|dir| UserBus {
            address: unix_address(&Path::new(dir).join("bus")),
            from: RUNTIME_DIR_VARIABLE,
        })
}

/// The system bus address: `DBUS_SYSTEM_BUS_ADDRESS` when set, else [`DEFAULT_SYSTEM_BUS`].
fn system_bus_address(dbus_system_bus_address: Option<&str>) -> String {
    configured(dbus_system_bus_address)
        .unwrap_or(DEFAULT_SYSTEM_BUS)
        .to_owned()
}

/// [`system_bus_address`] of this process's environment.
pub(crate) fn system_bus_of_this_process() -> String {
    system_bus_address(std::env::var("DBUS_SYSTEM_BUS_ADDRESS").ok().as_deref())
}

/// The socket path of the first `unix:path=…` entry of a D-Bus address (entries are separated
/// by `;`, values are percent-escaped). `None` when there is none (`unix:abstract=…`, `tcp:…`)
/// or the address is malformed.
pub fn unix_socket_path(address: &str) -> Option<PathBuf> {
    address.split(';').find_map(|entry| {
        let (transport, params) = entry.trim().split_once(':')?;
        if transport != "unix" {
            return None;
        }
        params.split(',').find_map(|param| {
            let (key, value) = param.split_once('=')?;
            if key != "path" || value.is_empty() {
                return None;
            }
            Some(PathBuf::from(OsString::from_vec(unescape(value)?)))
        })
    })
}

/// The D-Bus address of a socket path, escaping what the address syntax requires.
pub fn unix_address(path: &Path) -> String {
    let mut out = String::from("unix:path=");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_/.*".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; `None` on a broken escape.
fn unescape(value: &str) -> Option<Vec<u8>> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_bus(address: &str, from: &'static str) -> Option<UserBus> {
        Some(UserBus {
            address: address.to_owned(),
            from,
        })
    }

    #[test]
    fn the_user_bus_address_prefers_the_session_variable() {
        assert_eq!(
            user_bus_address(Some("unix:path=/run/user/1000/bus"), Some("/other")),
            user_bus("unix:path=/run/user/1000/bus", SESSION_BUS_VARIABLE)
        );
        assert_eq!(
            user_bus_address(None, Some("/run/user/a b")),
            user_bus("unix:path=/run/user/a%20b/bus", RUNTIME_DIR_VARIABLE)
        );
        assert_eq!(user_bus_address(None, None), None);
    }

    #[test]
    fn values_are_trimmed_and_blank_ones_are_unset() {
        assert_eq!(
            user_bus_address(Some(" unix:path=/run/user/1000/bus\n"), None),
            user_bus("unix:path=/run/user/1000/bus", SESSION_BUS_VARIABLE)
        );
        assert_eq!(
            user_bus_address(Some("  "), Some(" /run/user/1000 ")),
            user_bus("unix:path=/run/user/1000/bus", RUNTIME_DIR_VARIABLE)
        );
        assert_eq!(user_bus_address(Some(""), Some("\t")), None);
        assert_eq!(system_bus_address(None), DEFAULT_SYSTEM_BUS);
        assert_eq!(system_bus_address(Some(" ")), DEFAULT_SYSTEM_BUS);
        assert_eq!(
            system_bus_address(Some(" unix:path=/run/dbus/other ")),
            "unix:path=/run/dbus/other"
        );
    }

    #[test]
    fn a_relative_runtime_dir_names_no_bus() {
        // A relative path would be looked up from wherever the tool runs.
        assert_eq!(user_bus_address(None, Some("run/user/1000")), None);
        assert_eq!(
            user_bus_address(None, Some(" /run/user/1000 ")),
            Some(UserBus {
                address: "unix:path=/run/user/1000/bus".to_owned(),
                from: RUNTIME_DIR_VARIABLE
            })
        );
    }

    #[test]
    fn unix_paths_are_found_and_unescaped() {
        assert_eq!(
            unix_socket_path("unix:path=/run/user/1000/bus"),
            Some(PathBuf::from("/run/user/1000/bus"))
        );
        assert_eq!(
            unix_socket_path("unix:guid=0123,path=/tmp/a%20b%2cc"),
            Some(PathBuf::from("/tmp/a b,c"))
        );
        assert_eq!(
            unix_socket_path("tcp:host=localhost,port=1;unix:path=/run/bus"),
            Some(PathBuf::from("/run/bus"))
        );
    }

    #[test]
    fn malformed_addresses_have_no_socket_path() {
        for address in [
            "unix:abstract=/tmp/dbus-x",
            "unix:path=",
            "unix:path=/bad%zz",
            "unix:path=/cut%2",
            "garbage",
            "",
            "%",
            "unix:",
            "unix:path",
            "unix:path=%",
            ";;;",
            "unix:,,,=",
            "é:path=é%c3",
        ] {
            assert_eq!(unix_socket_path(address), None, "{address:?}");
        }
    }

    #[test]
    fn addresses_round_trip_through_escaping() {
        for path in ["/run/user/1000/bus", "/tmp/a b,c;d=e%f", "/x/ü"] {
            let address = unix_address(Path::new(path));
            assert!(!address[5..].contains([',', ';', ' ']), "{address}");
            assert_eq!(unix_socket_path(&address), Some(PathBuf::from(path)));
        }
        assert_eq!(
            unix_address(Path::new("/run/user/1000/bus")),
            "unix:path=/run/user/1000/bus"
        );
    }
}
