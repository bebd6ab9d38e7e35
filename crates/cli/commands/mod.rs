//! One module per subcommand, each with an `Args` (its `--help` is the `///` text) and one
//! `run`. [`run`] dispatches.

pub mod as_user;
pub mod check;
pub mod enter;
pub mod explain;
pub mod fix;
pub mod generate;
pub mod install;
pub mod render;
pub mod status;
pub mod uninstall;

use std::path::Path;
use std::process::ExitCode;

use rootless_setup_checks::system::Offline;
use rootless_setup_checks::{LiveSystem, System};
use rootless_setup_core::Host;

use crate::cli::{Cli, Command};
use crate::style::Style;

/// Refuses root for a command that acts on the caller's own rootless engine: `doing` says what
/// the command does, `who` which user should run it.
fn refuse_root(
    caller: &rootless_setup_checks::Caller,
    command: &str,
    doing: &str,
    who: &str,
) -> anyhow::Result<()> {
    if caller.uid != 0 {
        return Ok(());
    }
    Err(crate::style::hinted(
        crate::results::ErrorId::RootRefused,
        format!("{command} {doing} and must not run as root"),
        &[
            &format!("run it as {who} (ssh or `machinectl shell USER@`)"),
            &format!("or, as root, act for that user: rootless-setup {command} --user NAME"),
        ],
    ))
}

/// The host the checks read: `/`, or the directory tree given with the hidden `--root`.
fn host(root: Option<&Path>) -> Host {
    root.map_or_else(Host::real, Host::at)
}

/// The live probes for `host`: none for a directory tree (`--root`), where running programs
/// or asking buses would describe another machine than its files.
fn system_for(host: &Host) -> &'static dyn System {
    if host.is_real() {
        &LiveSystem
    } else {
        &Offline
    }
}

/// Runs the chosen subcommand.
pub fn run(cli: &Cli, style: &Style) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Check(args) => check::run(args, style),
        Command::Explain(args) => explain::run(args, style),
        Command::Fix(args) => fix::run(args, style),
        Command::Render(args) => render::run(args, style),
        Command::Install(args) => install::run(args, style),
        Command::Status(args) => status::run(args, style),
        Command::Uninstall(args) => uninstall::run(args, style),
        Command::Enter(args) => enter::run(args, style),
        Command::Generate(args) => generate::run(args),
    }
}

#[cfg(test)]
mod tests {
    use rootless_setup_checks::Caller;

    #[test]
    fn root_is_refused_with_who_should_run_it() {
        let say = |uid| super::refuse_root(&Caller::new(uid, uid), "enter", "joins x", "the user");
        assert!(say(1000).is_ok());
        let err = say(0).unwrap_err();
        assert_eq!(err.to_string(), "enter joins x and must not run as root");
        let hinted = err.downcast_ref::<crate::style::Hinted>().unwrap();
        assert_eq!(
            hinted.help,
            [
                "run it as the user (ssh or `machinectl shell USER@`)",
                "or, as root, act for that user: rootless-setup enter --user NAME"
            ]
        );
        assert_eq!(hinted.exit, 2);
    }
}
