//! What every check gets: the [`Context`] (host, caller, live probes, options; read-only). What
//! earlier checks established for later ones is
//! [`Facts`](rootless_setup_core::model::Facts).

use std::path::PathBuf;

use rootless_setup_core::known_versions::KnownVersions;
use rootless_setup_core::model::Engine;
use rootless_setup_core::{Distro, Host};

use crate::caller::Caller;
use crate::memo::RunMemo;
use crate::system::System;

/// Options that change what the checks look for (the same ones install would use).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Network driver (`slirp4netns`, `pasta`, `vpnkit`, `lxc-user-nic`, `gvisor-tap-vsock`);
    /// `None` picks the best available, as `dockerd-rootless.sh` does.
    pub network_driver: Option<String>,
    /// Port driver (`builtin`, `slirp4netns`, `implicit`); `None` picks the default for the
    /// network driver.
    pub port_driver: Option<String>,
    /// The engine's data directory; `None` is `$XDG_DATA_HOME/docker` (or containerd's).
    pub data_root: Option<PathBuf>,
    /// Versions programs reported in earlier runs: a program that is still the same file is
    /// not asked again.
    pub known_versions: KnownVersions,
}

/// Read-only inputs of every check.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The host, through its (possibly fixture) root.
    pub host: &'a Host,
    /// Who runs the checker and their environment.
    pub caller: &'a Caller,
    /// Live probes.
    pub system: &'a dyn System,
    /// The distribution, for fix commands.
    pub distro: &'a Distro,
    /// The engine being prepared for.
    pub engine: Engine,
    /// Install options that matter to the checks.
    pub options: &'a Options,
    /// The host files several checks read, read once: a fresh [`RunMemo`] per run.
    pub memo: &'a RunMemo,
}
