//! The typed configuration: [`Settings`], merged from defaults ← the configuration file
//! (`$XDG_CONFIG_HOME/rootless-setup/config.toml`, or `--config FILE`) ← command-line flags
//! ([`Overrides`]). Every value remembers where it came from, so a problem found later (a driver
//! that does not fit) still points at the line or flag that chose it.

mod error;
mod file;
pub mod keys;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rootless_setup_core::Engine;
use rootless_setup_core::network::NetDriver;
use rootless_setup_core::paths;
use rootless_setup_core::read::{self, Limit};

pub use error::{ConfigError, ConfigErrors, Origin, Positions, Sourced, closest, one_of};
pub use keys::{KEYS, KeySpec};

use crate::drivers::PortDriver;
use crate::limits::ResourceLimit;
use crate::remote::Expose;

/// The merged configuration, before it is checked against the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The engine.
    pub engine: Sourced<Engine>,
    /// Network driver; `None` picks the best installed one.
    pub network_driver: Option<Sourced<NetDriver>>,
    /// Port driver; `None` picks the one that fits the network driver.
    pub port_driver: Option<Sourced<PortDriver>>,
    /// MTU; `None` uses the network driver's default.
    pub mtu: Option<Sourced<u32>>,
    /// Whether containers may reach the host's loopback addresses (off by default).
    pub host_loopback: Sourced<bool>,
    /// rootlesskit's `--detach-netns`; `None` leaves it to the engine.
    pub detach_netns: Option<Sourced<bool>>,
    /// The engine's data directory; `None` leaves it to the engine.
    pub data_root: Option<Sourced<PathBuf>>,
    /// Extra dockerd arguments, one per element.
    pub daemon_flags: Vec<Sourced<String>>,
    /// Extra environment for the engine.
    pub environment: BTreeMap<String, Sourced<String>>,
    /// How long a start may take before systemd gives up, in seconds.
    pub start_timeout: Sourced<u32>,
    /// Binary paths given explicitly, by `[binaries]` key (`dockerd-rootless`, `rootlesskit`…).
    pub binaries: BTreeMap<&'static str, Sourced<PathBuf>>,
    /// `remote.expose`: where the API also listens on TCP.
    pub expose: Option<Sourced<Expose>>,
    /// `remote.tls-dir`: the directory with `ca.pem`, `server-cert.pem`, `server-key.pem`.
    pub tls_dir: Option<Sourced<PathBuf>>,
    /// `remote.insecure-loopback`: TCP without TLS, on a loopback address only.
    pub insecure_loopback: Sourced<bool>,
    /// `[limits]`, by key name (`memory-max`).
    pub limits: BTreeMap<&'static str, Sourced<ResourceLimit>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            engine: Sourced::default_value(Engine::Docker),
            network_driver: None,
            port_driver: None,
            mtu: None,
            host_loopback: Sourced::default_value(false),
            detach_netns: None,
            data_root: None,
            daemon_flags: Vec::new(),
            environment: BTreeMap::new(),
            start_timeout: Sourced::default_value(keys::TIMEOUT_DEFAULT),
            binaries: BTreeMap::new(),
            expose: None,
            tls_dir: None,
            insecure_loopback: Sourced::default_value(false),
            limits: BTreeMap::new(),
        }
    }
}

/// Values given on the command line, as text; they are checked exactly like the file's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--engine`.
    pub engine: Option<String>,
    /// `--network-driver`.
    pub network_driver: Option<String>,
    /// `--port-driver`.
    pub port_driver: Option<String>,
    /// `--mtu`.
    pub mtu: Option<String>,
    /// `--host-loopback` (`true`/`false`).
    pub host_loopback: Option<String>,
    /// `--detach-netns` (`true`/`false`).
    pub detach_netns: Option<String>,
    /// `--data-root`.
    pub data_root: Option<String>,
    /// `--daemon-flag`, repeated; when any is given they replace the file's list.
    pub daemon_flags: Vec<String>,
    /// `--env NAME=VALUE`, repeated; each replaces the file's value of that name.
    pub environment: Vec<String>,
    /// `--start-timeout`.
    pub start_timeout: Option<String>,
    /// `--expose`.
    pub expose: Option<String>,
    /// `--tls-dir`.
    pub tls_dir: Option<String>,
    /// `--insecure-loopback` (`true`/`false`).
    pub insecure_loopback: Option<String>,
}

/// Where the configuration file is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// The default location; a missing file is fine.
    Default(PathBuf),
    /// Given with `--config`; it must exist.
    Explicit(PathBuf),
}

/// `$XDG_CONFIG_HOME/rootless-setup/config.toml`, or `~/.config/rootless-setup/config.toml`
/// when `XDG_CONFIG_HOME` is unset, empty or relative (as the XDG spec says).
pub fn default_config_path(xdg_config_home: Option<&str>, home: &Path) -> PathBuf {
    paths::config_home(xdg_config_home, home).join("rootless-setup/config.toml")
}

/// A configuration file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("could not read the configuration file {path}: {source}")]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Why no [`Settings`] could be made.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The file or a flag has bad values.
    #[error(transparent)]
    Invalid(#[from] ConfigErrors),
}

impl Settings {
    /// Applies a configuration file's text (`path` is for messages; `home` expands `~/`).
    pub fn apply_file(&mut self, path: &Path, text: &str, home: &Path) -> Result<(), ConfigErrors> {
        file::apply(self, path, text, home)
    }

    /// Applies command-line flags on top.
    pub fn apply_flags(&mut self, flags: &Overrides, home: &Path) -> Result<(), ConfigErrors> {
        let mut errors = Vec::new();
        let texts = [
            ("engine", "--engine", &flags.engine),
            ("network.driver", "--network-driver", &flags.network_driver),
            ("network.port-driver", "--port-driver", &flags.port_driver),
            ("network.mtu", "--mtu", &flags.mtu),
            (
                "network.host-loopback",
                "--host-loopback",
                &flags.host_loopback,
            ),
            (
                "network.detach-netns",
                "--detach-netns",
                &flags.detach_netns,
            ),
            ("data-root", "--data-root", &flags.data_root),
            ("start-timeout", "--start-timeout", &flags.start_timeout),
            ("remote.expose", "--expose", &flags.expose),
            ("remote.tls-dir", "--tls-dir", &flags.tls_dir),
            (
                "remote.insecure-loopback",
                "--insecure-loopback",
                &flags.insecure_loopback,
            ),
        ];
        for (key, flag, value) in texts {
            if let Some(v) = value
                && let Err(e) = keys::set(
                    self,
                    key,
                    &keys::Raw::Text(v.clone()),
                    &Origin::Flag(flag.to_owned()),
                    home,
                )
            {
                errors.push(e);
            }
        }
        if !flags.daemon_flags.is_empty() {
            let origin = Origin::Flag("--daemon-flag".to_owned());
            let list = flags
                .daemon_flags
                .iter()
                .map(|f| (f.clone(), origin.clone()))
                .collect();
            if let Err(e) = keys::set(self, "daemon-flags", &keys::Raw::List(list), &origin, home) {
                errors.push(e);
            }
        }
        for assignment in &flags.environment {
            let origin = Origin::Flag("--env".to_owned());
            let result = match assignment.split_once('=') {
                Some((name, value)) => {
                    keys::set_environment(self, name, &keys::Raw::Text(value.to_owned()), &origin)
                }
                None => Err(ConfigError::new(
                    &origin,
                    "environment",
                    format!("`--env {assignment}` has no `=`"),
                )
                .allowed("`--env NAME=VALUE`")),
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// The checks of keys that depend on each other (the remote API's: [`crate::remote::check`]),
    /// once the file and the flags are applied.
    pub fn check(&self) -> Result<(), ConfigErrors> {
        let errors = crate::remote::check(self);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// Defaults ← the file from `source` (if any) ← `flags`.
    pub fn load(
        source: &ConfigSource,
        flags: &Overrides,
        home: &Path,
    ) -> Result<Settings, LoadError> {
        let mut settings = Settings::default();
        let (path, required) = match source {
            ConfigSource::Default(p) => (p, false),
            ConfigSource::Explicit(p) => (p, true),
        };
        match read_config(path) {
            Ok(Some(text)) => settings.apply_file(path, &text, home)?,
            Ok(None) if !required => {}
            Ok(None) => {
                return Err(ReadError {
                    path: path.clone(),
                    source: std::io::ErrorKind::NotFound.into(),
                }
                .into());
            }
            Err(source) => {
                return Err(ReadError {
                    path: path.clone(),
                    source,
                }
                .into());
            }
        }
        settings.apply_flags(flags, home)?;
        settings.check()?;
        Ok(settings)
    }
}

/// The configuration file's text: a regular file of at most [`Limit::CONFIG`] bytes, in UTF-8.
fn read_config(path: &Path) -> std::io::Result<Option<String>> {
    let Some(bytes) = read::bytes(path, Limit::CONFIG)? else {
        return Ok(None);
    };
    String::from_utf8(bytes).map(Some).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

#[cfg(test)]
mod tests;
