//! The command line: global flags and the subcommands. The `///` comments here are the
//! `--help` text.

use clap::{Parser, Subcommand, ValueEnum};

/// Prepare, install, diagnose and remove a rootless container engine (rootless Docker) for the
/// current user.
///
/// Start with `rootless-setup check`, then `rootless-setup install`; `status` shows the
/// installed engine, `enter` runs a command in its namespaces, `uninstall` removes it. Exit
/// codes: 0 success/ready, 1 a prerequisite fails (or the setup is unhealthy, or install failed
/// and was rolled back), 2 usage or internal error, 3 (status) not installed; `enter` exits with
/// its command's status.
#[derive(Debug, Parser)]
#[command(
    name = "rootless-setup",
    version = env!("ROOTLESS_SETUP_VERSION"),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// When to use colour: `auto` uses it only on a terminal and when NO_COLOR is unset.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Output format of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Grouped, aligned text for people.
    Human,
    /// One JSON document (schema in docs/json.md).
    Json,
}

/// The container engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// Rootless Docker.
    Docker,
    /// Rootless Podman (its user socket serves the Docker API).
    Podman,
    /// Rootless containerd (nerdctl).
    Containerd,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    Check(crate::commands::check::Args),
    Install(crate::commands::install::Args),
    Status(crate::commands::status::Args),
    Uninstall(crate::commands::uninstall::Args),
    Enter(crate::commands::enter::Args),
    Fix(crate::commands::fix::Args),
    Explain(crate::commands::explain::Args),
    Render(crate::commands::render::Args),
    #[command(hide = true)]
    Generate(crate::commands::generate::Args),
}
