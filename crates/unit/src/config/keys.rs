//! The configuration keys: their names, flags, allowed values and defaults ([`KEYS`], also the
//! source of docs/config.md's table), and turning one raw value into a typed setting, the same
//! way for the file and for flags.

// A `ConfigError` is built once per bad value, on the way to the user: its size does not matter.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

use rootless_setup_core::Engine;
use rootless_setup_core::network::NetDriver;

use super::Settings;
use super::error::{ConfigError, Origin, Sourced, one_of};
use crate::drivers::PortDriver;
use crate::escape;

/// One configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// Dotted name (`network.mtu`).
    pub name: &'static str,
    /// The command-line flag that sets it, if any.
    pub flag: Option<&'static str>,
    /// What is allowed.
    pub allowed: &'static str,
    /// The default.
    pub default: &'static str,
}

/// Smallest MTU accepted (the IPv6 minimum).
pub const MTU_MIN: u32 = 1280;
/// Largest MTU accepted (what slirp4netns and pasta can do).
pub const MTU_MAX: u32 = 65520;
/// Shortest start timeout accepted, in seconds.
pub const TIMEOUT_MIN: u32 = 5;
/// Longest start timeout accepted, in seconds.
pub const TIMEOUT_MAX: u32 = 3600;
/// Default start timeout, in seconds.
pub const TIMEOUT_DEFAULT: u32 = 90;

/// Docker's rootless script.
const DOCKER_SCRIPT: &str = match Engine::Docker.spec().script() {
    Some(script) => script.name,
    None => panic!("Docker runs under rootlesskit"),
};

/// The binaries that can be named in `[binaries]`: config key and the program's file name.
pub const BINARIES: [(&str, &str); 9] = [
    ("dockerd-rootless", DOCKER_SCRIPT),
    ("dockerd", "dockerd"),
    ("containerd", "containerd"),
    ("rootlesskit", "rootlesskit"),
    ("crun", "crun"),
    ("slirp4netns", "slirp4netns"),
    ("pasta", "pasta"),
    ("vpnkit", "vpnkit"),
    ("lxc-user-nic", "lxc-user-nic"),
];

/// Environment variables the drop-in sets from typed keys; `[environment]` may not set them.
pub const MANAGED_ENV: [(&str, &str); 7] = [
    (
        "PATH",
        "it is built from the directories of the discovered binaries",
    ),
    ("DOCKERD_ROOTLESS_ROOTLESSKIT_NET", "set `network.driver`"),
    ("DOCKERD_ROOTLESS_ROOTLESSKIT_MTU", "set `network.mtu`"),
    (
        "DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER",
        "set `network.port-driver`",
    ),
    (
        "DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK",
        "set `network.host-loopback`",
    ),
    (
        "DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS",
        "set `network.detach-netns`",
    ),
    (
        "DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS",
        "it carries the port forward of `remote.expose`",
    ),
];

/// Every key of the file, in documentation order. `environment.NAME` and `binaries.NAME`
/// stand for the tables.
pub const KEYS: [KeySpec; 18] = [
    KeySpec {
        name: "engine",
        flag: Some("--engine"),
        allowed: "`docker` or `containerd`",
        default: "`docker`",
    },
    KeySpec {
        name: "data-root",
        flag: Some("--data-root"),
        allowed: "an absolute path, or one starting with `~/`",
        default: "the engine's (`~/.local/share/docker`)",
    },
    KeySpec {
        name: "daemon-flags",
        flag: Some("--daemon-flag"),
        allowed: "a list of non-empty strings, one dockerd argument each",
        default: "`[]`",
    },
    KeySpec {
        name: "start-timeout",
        flag: Some("--start-timeout"),
        allowed: "whole seconds from 5 to 3600",
        default: "`90`",
    },
    KeySpec {
        name: "network.driver",
        flag: Some("--network-driver"),
        allowed: "`slirp4netns`, `pasta`, `gvisor-tap-vsock`, `vpnkit` or `lxc-user-nic`",
        default: "the best installed one",
    },
    KeySpec {
        name: "network.port-driver",
        flag: Some("--port-driver"),
        allowed: "`builtin`, `slirp4netns`, `implicit` or `gvisor-tap-vsock`, fitting the network driver",
        default: "`implicit` for pasta, `builtin` otherwise",
    },
    KeySpec {
        name: "network.mtu",
        flag: Some("--mtu"),
        allowed: "a whole number from 1280 to 65520",
        default: "65520 for slirp4netns, pasta and gvisor-tap-vsock, 1500 otherwise",
    },
    KeySpec {
        name: "network.host-loopback",
        flag: Some("--host-loopback"),
        allowed: "`true` or `false`",
        default: "`false`",
    },
    KeySpec {
        name: "network.detach-netns",
        flag: Some("--detach-netns"),
        allowed: "`true` or `false`",
        default: "the engine's",
    },
    KeySpec {
        name: "remote.expose",
        flag: Some("--expose"),
        allowed: "`tcp://ADDRESS:PORT`: an IPv4 address, `[IPv6]` or `localhost`, port 1 to 65535 (Docker only)",
        default: "none (the API stays on its unix socket)",
    },
    KeySpec {
        name: "remote.tls-dir",
        flag: Some("--tls-dir"),
        allowed: "an absolute path, or one starting with `~/`, holding `ca.pem`, `server-cert.pem` and `server-key.pem`",
        default: "none",
    },
    KeySpec {
        name: "remote.insecure-loopback",
        flag: Some("--insecure-loopback"),
        allowed: "`true` or `false`; `true` allows `remote.expose` without TLS on a loopback address only",
        default: "`false`",
    },
    KeySpec {
        name: "limits.memory-max",
        flag: None,
        allowed: crate::limits::LIMITS[0].allowed,
        default: "none (`MemoryMax=` unset)",
    },
    KeySpec {
        name: "limits.cpu-quota",
        flag: None,
        allowed: crate::limits::LIMITS[1].allowed,
        default: "none",
    },
    KeySpec {
        name: "limits.tasks-max",
        flag: None,
        allowed: crate::limits::LIMITS[2].allowed,
        default: "`infinity` (the unit's `TasksMax=infinity`)",
    },
    KeySpec {
        name: "limits.io-weight",
        flag: None,
        allowed: crate::limits::LIMITS[3].allowed,
        default: "none",
    },
    KeySpec {
        name: "environment.NAME",
        flag: Some("--env"),
        allowed: "string values; names of letters, digits and `_`",
        default: "none",
    },
    KeySpec {
        name: "binaries.NAME",
        flag: None,
        allowed: "absolute paths; NAME is `dockerd-rootless`, `dockerd`, `containerd`, `rootlesskit`, `crun`, `slirp4netns`, `pasta`, `vpnkit` or `lxc-user-nic`",
        default: "found on this host",
    },
];

/// The spec of `name`.
pub fn spec(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}

/// A value as given, before it is typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    /// A TOML string.
    Str(String),
    /// A TOML integer.
    Int(i64),
    /// A TOML boolean.
    Bool(bool),
    /// A TOML array of strings, each with its origin.
    List(Vec<(String, Origin)>),
    /// Text from a command-line flag, read as whatever the key needs.
    Text(String),
    /// Any other TOML type (its name), always wrong.
    Other(&'static str),
}

impl Raw {
    fn type_name(&self) -> &'static str {
        match self {
            Raw::Str(_) | Raw::Text(_) => "a string",
            Raw::Int(_) => "an integer",
            Raw::Bool(_) => "a boolean",
            Raw::List(_) => "an array",
            Raw::Other(t) => t,
        }
    }
}

fn wrong_type(key: &str, raw: &Raw, origin: &Origin, expected: &str) -> ConfigError {
    ConfigError::new(
        origin,
        key,
        format!("`{key}` must be {expected}, not {}", raw.type_name()),
    )
    .allowed(spec(key).map_or("", |s| s.allowed))
}

fn text<'a>(key: &str, raw: &'a Raw, origin: &Origin) -> Result<&'a str, ConfigError> {
    match raw {
        Raw::Str(s) | Raw::Text(s) => Ok(s),
        _ => Err(wrong_type(key, raw, origin, "a string")),
    }
}

fn integer(key: &str, raw: &Raw, origin: &Origin) -> Result<i64, ConfigError> {
    match raw {
        Raw::Int(i) => Ok(*i),
        Raw::Text(s) => s.trim().parse().map_err(|_| {
            ConfigError::new(
                origin,
                key,
                format!("`{key}` must be a whole number, not `{s}`"),
            )
            .allowed(spec(key).map_or("", |s| s.allowed))
        }),
        _ => Err(wrong_type(key, raw, origin, "a whole number")),
    }
}

fn boolean(key: &str, raw: &Raw, origin: &Origin) -> Result<bool, ConfigError> {
    match raw {
        Raw::Bool(b) => Ok(*b),
        Raw::Text(s) if s == "true" => Ok(true),
        Raw::Text(s) if s == "false" => Ok(false),
        Raw::Text(s) => Err(ConfigError::new(
            origin,
            key,
            format!("`{key}` must be true or false, not `{s}`"),
        )
        .allowed("`true` or `false`")
        .suggest(s, ["true", "false"])),
        _ => Err(wrong_type(key, raw, origin, "`true` or `false`")),
    }
}

fn choice<T: Copy>(
    key: &str,
    raw: &Raw,
    origin: &Origin,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, ConfigError> {
    let given = text(key, raw, origin)?;
    all.iter()
        .copied()
        .find(|v| name(*v) == given)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
            ConfigError::new(origin, key, format!("`{key}` cannot be `{given}`"))
                .allowed(one_of(names.iter().copied()))
                .suggest(given, names.iter().copied())
        })
}

fn range(
    key: &str,
    value: i64,
    origin: &Origin,
    min: u32,
    max: u32,
    extra: &str,
) -> Result<u32, ConfigError> {
    u32::try_from(value)
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| {
            ConfigError::new(
                origin,
                key,
                format!("`{key}` = {value} is out of range{extra}"),
            )
            .allowed(spec(key).map_or("", |s| s.allowed))
        })
}

/// An absolute path (`~/` expanded against `home`), normalized.
fn path(key: &str, raw: &Raw, origin: &Origin, home: &Path) -> Result<PathBuf, ConfigError> {
    let given = text(key, raw, origin)?;
    let expanded = match given.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None if given == "~" => home.to_path_buf(),
        None => PathBuf::from(given),
    };
    escape::check_path(&expanded).map_err(|e| {
        ConfigError::new(origin, key, format!("`{key}` = `{given}` {e}"))
            .allowed(spec(key).map_or("", |s| s.allowed))
    })?;
    Ok(expanded)
}

fn sourced<T>(origin: &Origin, value: T) -> Sourced<T> {
    Sourced::new(value, origin.clone())
}

/// Sets `key` from `raw`. `home` expands `~/`. Table keys (`environment.X`, `binaries.X`)
/// are handled by [`set_environment`] and [`set_binary`].
pub fn set(
    settings: &mut Settings,
    key: &str,
    raw: &Raw,
    origin: &Origin,
    home: &Path,
) -> Result<(), ConfigError> {
    match key {
        "engine" => {
            settings.engine = sourced(
                origin,
                choice(key, raw, origin, &Engine::ALL, Engine::as_str)?,
            );
        }
        "data-root" => {
            let p = path(key, raw, origin, home)?;
            escape::exec_arg(&format!("--data-root={}", p.display()))
                .map_err(|e| ConfigError::new(origin, key, format!("`{key}` {e}")))?;
            settings.data_root = Some(sourced(origin, p));
        }
        "daemon-flags" => settings.daemon_flags = daemon_flags(key, raw, origin)?,
        "start-timeout" => {
            settings.start_timeout = sourced(origin, start_timeout(key, raw, origin)?);
        }
        "network.driver" => {
            settings.network_driver = Some(sourced(
                origin,
                choice(key, raw, origin, &NetDriver::ALL, NetDriver::as_str)?,
            ));
        }
        "network.port-driver" => {
            settings.port_driver = Some(sourced(origin, port_driver(key, raw, origin)?));
        }
        "network.mtu" => {
            let v = integer(key, raw, origin)?;
            settings.mtu = Some(sourced(
                origin,
                range(key, v, origin, MTU_MIN, MTU_MAX, "")?,
            ));
        }
        "network.host-loopback" => {
            settings.host_loopback = sourced(origin, boolean(key, raw, origin)?)
        }
        "network.detach-netns" => {
            settings.detach_netns = Some(sourced(origin, boolean(key, raw, origin)?))
        }
        "remote.expose" => settings.expose = Some(sourced(origin, expose(key, raw, origin)?)),
        "remote.tls-dir" => {
            let p = path(key, raw, origin, home)?;
            escape::exec_arg(&format!("--tlscacert={}", p.display()))
                .map_err(|e| ConfigError::new(origin, key, format!("`{key}` {e}")))?;
            settings.tls_dir = Some(sourced(origin, p));
        }
        "remote.insecure-loopback" => {
            settings.insecure_loopback = sourced(origin, boolean(key, raw, origin)?)
        }
        _ => {
            if let Some(limit) = key.strip_prefix("limits.").and_then(crate::limits::key) {
                let value = limit_value(key, limit, raw, origin)?;
                settings.limits.insert(limit.name, sourced(origin, value));
                return Ok(());
            }
            return Err(ConfigError::new(
                origin,
                key,
                format!("unknown key `{key}`"),
            ));
        }
    }
    Ok(())
}

/// A `[limits]` value: a string (or a whole number) in systemd's syntax for the directive.
fn limit_value(
    key: &str,
    limit: &'static crate::limits::LimitKey,
    raw: &Raw,
    origin: &Origin,
) -> Result<crate::limits::ResourceLimit, ConfigError> {
    let given = match raw {
        Raw::Int(i) => i.to_string(),
        Raw::Str(s) | Raw::Text(s) => s.clone(),
        _ => return Err(wrong_type(key, raw, origin, "a string or a whole number")),
    };
    let value = limit.parse(&given).ok_or_else(|| {
        ConfigError::new(
            origin,
            key,
            format!("`{key}` cannot be `{}`", given.escape_debug()),
        )
        .allowed(limit.allowed)
    })?;
    Ok(crate::limits::ResourceLimit { key: limit, value })
}

/// Sets `[environment]` entry `name`.
/// `daemon-flags`: each one a single argument systemd passes through, and not the data
/// directory (which has its own key).
fn daemon_flags(
    key: &str,
    raw: &Raw,
    origin: &Origin,
) -> Result<Vec<Sourced<String>>, ConfigError> {
    let items = match raw {
        Raw::List(items) => items.clone(),
        Raw::Text(s) => vec![(s.clone(), origin.clone())],
        _ => return Err(wrong_type(key, raw, origin, "a list of strings")),
    };
    let mut flags = Vec::new();
    for (flag, at) in items {
        if let Err(e) = escape::exec_arg(&flag) {
            return Err(ConfigError::new(
                &at,
                key,
                format!("daemon flag `{}` {e}", flag.escape_debug()),
            )
            .allowed(spec(key).map_or("", |s| s.allowed)));
        }
        if crate::remote::is_managed_flag(&flag) {
            return Err(ConfigError::new(
                &at,
                key,
                format!(
                    "daemon flag `{}` is managed by rootless-setup",
                    flag.escape_debug()
                ),
            )
            .allowed(
                "set `remote.expose` and `remote.tls-dir` (`--expose`, `--tls-dir`) instead",
            ));
        }
        if flag == "--data-root" || flag.starts_with("--data-root=") {
            return Err(
                ConfigError::new(&at, key, "the data directory is not a daemon flag here")
                    .allowed("set `data-root` (or `--data-root`) instead"),
            );
        }
        flags.push(Sourced::new(flag, at));
    }
    Ok(flags)
}

/// `remote.expose`: `tcp://ADDRESS:PORT`, checked strictly; the value is shown escaped.
fn expose(key: &str, raw: &Raw, origin: &Origin) -> Result<crate::remote::Expose, ConfigError> {
    let given = text(key, raw, origin)?;
    crate::remote::Expose::parse(given).map_err(|why| {
        ConfigError::new(
            origin,
            key,
            format!("`{key}` = `{}` {why}", given.escape_debug()),
        )
        .allowed(spec(key).map_or("", |s| s.allowed))
    })
}

/// `start-timeout`: seconds in range; never infinity or 0, which would let a start hang.
fn start_timeout(key: &str, raw: &Raw, origin: &Origin) -> Result<u32, ConfigError> {
    if let Raw::Str(s) | Raw::Text(s) = raw
        && s.trim() == "infinity"
    {
        return Err(ConfigError::new(
            origin,
            key,
            "`start-timeout` = infinity would let a start hang forever",
        )
        .allowed(spec(key).map_or("", |s| s.allowed)));
    }
    let v = integer(key, raw, origin)?;
    let extra = if v == 0 {
        " (0 would let a start hang forever)"
    } else {
        ""
    };
    range(key, v, origin, TIMEOUT_MIN, TIMEOUT_MAX, extra)
}

/// `network.port-driver`: one the unit may use; `none` is refused with its reason.
fn port_driver(key: &str, raw: &Raw, origin: &Origin) -> Result<PortDriver, ConfigError> {
    if let Raw::Str(s) | Raw::Text(s) = raw
        && let Some(reason) = crate::drivers::port_driver_refusal(s.trim())
    {
        return Err(ConfigError::new(
            origin,
            key,
            format!("`{key}` cannot be `{}`: {reason}", s.trim()),
        )
        .allowed(spec(key).map_or("", |s| s.allowed)));
    }
    choice(key, raw, origin, &PortDriver::ALL, PortDriver::as_str)
}

pub fn set_environment(
    settings: &mut Settings,
    name: &str,
    raw: &Raw,
    origin: &Origin,
) -> Result<(), ConfigError> {
    let key = format!("environment.{name}");
    let value = text(&key, raw, origin).map_err(|_| {
        ConfigError::new(
            origin,
            &key,
            format!("`{key}` must be a string, not {}", raw.type_name()),
        )
        .allowed("string values (quote numbers and booleans)")
    })?;
    if let Some((_, instead)) = MANAGED_ENV.iter().find(|(n, _)| *n == name) {
        return Err(ConfigError::new(
            origin,
            &key,
            format!("`{name}` is managed by rootless-setup"),
        )
        .allowed(format!("any other variable; {instead}")));
    }
    escape::env_assignment(name, value).map_err(|e| {
        let what = if escape::is_env_name(name) {
            format!("the value of `{name}` {e}")
        } else {
            format!("`{name}` {e}")
        };
        ConfigError::new(origin, &key, what)
            .allowed(spec("environment.NAME").map_or("", |s| s.allowed))
    })?;
    settings.environment.insert(
        name.to_owned(),
        Sourced::new(value.to_owned(), origin.clone()),
    );
    Ok(())
}

/// Sets `[binaries]` entry `name`.
pub fn set_binary(
    settings: &mut Settings,
    name: &str,
    raw: &Raw,
    origin: &Origin,
    home: &Path,
) -> Result<(), ConfigError> {
    let key = format!("binaries.{name}");
    let Some((config_name, _)) = BINARIES.iter().find(|(n, _)| *n == name) else {
        let names = BINARIES.map(|(n, _)| n);
        return Err(
            ConfigError::new(origin, &key, format!("unknown key `{key}`"))
                .allowed(one_of(names))
                .suggest(name, names),
        );
    };
    let p = path(&key, raw, origin, home)?;
    let checked = if *config_name == "dockerd-rootless" {
        escape::exec_path(&p).map(drop)
    } else {
        p.parent()
            .map_or(Ok(()), |d| escape::path_entry(d).map(drop))
    };
    checked
        .map_err(|e| ConfigError::new(origin, &key, format!("`{key}` = `{}` {e}", p.display())))?;
    settings
        .binaries
        .insert(config_name, Sourced::new(p, origin.clone()));
    Ok(())
}
