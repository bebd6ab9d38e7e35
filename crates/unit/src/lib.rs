//! The unit generator: a typed configuration turned into the engine's systemd user unit and
//! its drop-in.
//!
//! 1. [`config::Settings::load`] merges defaults ← `config.toml` ← command-line flags, checking
//!    every value (errors carry file, line, column, key, allowed values and a "did you mean").
//! 2. [`plan()`] resolves what is left open against what the checker found on the host
//!    ([`Discovered`]): program paths, network and port driver (checked with [`drivers`]),
//!    MTU, and a `PATH` of the binaries' directories plus the system directories — never the
//!    caller's `PATH`.
//! 3. [`render()`] fills the templates of `templates/` with values escaped for systemd
//!    ([`escape`]) and puts the [`header`] (with a content hash) on every file, so a later run
//!    can [`classify`] an existing file as ours and untouched, ours and edited, or foreign.
//!    The engine's `Launch` decides the shape: Docker's unit runs `dockerd-rootless.sh` with a
//!    drop-in of the variables it reads; containerd's runs rootlesskit with the steps of
//!    `containerd-rootless.sh` written into `ExecStart=`, and has no drop-in.
//!
//! Nothing here writes files or talks to systemd: `install` and `render` in the CLI do.
//!
//! [`drivers`] is a thin table over the shared rules (`rootless_setup_core::network`:
//! fits, minimum versions, MTU defaults); it adds only what is the unit's own (port driver `none`
//! refused, what the engine's script reads, the automatic choice).

pub mod config;
mod containers_conf;
pub mod drivers;
pub mod escape;
pub mod header;
pub mod limits;
mod plan;
pub mod remote;
mod render;

pub use config::{ConfigError, ConfigErrors, ConfigSource, LoadError, Origin, Overrides, Settings};
pub use containers_conf::{
    CONTAINERS_CONF_DIR, CONTAINERS_CONF_NAME, RUNTIME_WITHOUT_CGROUPS, containers_conf,
    podman_units,
};
pub use header::{FileOrigin, classify};
pub use plan::{Discovered, Plan, SYSTEM_PATH, plan};
pub use render::{
    DOCKER_UNIT, DROPIN_NAME, FileKind, RenderError, RenderedFile, drop_in_environment,
    drop_in_path, exec_start, render,
};
