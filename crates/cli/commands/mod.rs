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
use rootless_setup_core::init::{HostInit, WSL_DISTRO_VAR, script_dir};
use rootless_setup_core::{Engine, Host};

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

/// The host's init facts when it is known to run without systemd as PID 1 (`host.init`'s
/// facts), with the one line that says so; `None` with systemd or when nothing tells.
fn without_systemd(
    host: &Host,
    caller: &rootless_setup_checks::Caller,
) -> Option<(HostInit, String)> {
    let init = HostInit::detect(host, caller.var(WSL_DISTRO_VAR));
    let message = init.summary()?;
    Some((init, message))
}

/// Refuses a command that needs the systemd user manager on a host known to run without
/// systemd as PID 1, before it touches anything or asks a bus that is not there: what PID 1
/// is, and what works there instead for `engine`.
fn refuse_without_systemd(
    host: &Host,
    caller: &rootless_setup_checks::Caller,
    engine: Engine,
) -> anyhow::Result<()> {
    let Some((init, message)) = without_systemd(host, caller) else {
        return Ok(());
    };
    let script_dir = script_dir(host, engine, caller.path_dirs());
    let Some(instead) = init.alternative(engine, script_dir.as_deref()) else {
        return Ok(());
    };
    let commands: Vec<String> = instead.commands.iter().map(|c| format!("  {c}")).collect();
    let mut help: Vec<&str> = vec![&instead.summary];
    help.extend(commands.iter().map(String::as_str));
    help.push("`rootless-setup check` says what else the engine needs");
    Err(crate::style::stopped(
        crate::results::ErrorId::NoSystemd,
        message,
        &help,
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
    use rootless_setup_core::Engine;
    use rootless_setup_core::testing::Fixture;

    /// The message and the refusal, when `f` is refused.
    fn refusal(f: &Fixture, engine: Engine) -> Option<(String, Refused)> {
        let caller = Caller::new(1000, 1000);
        let err = super::refuse_without_systemd(&f.host(), &caller, engine).err()?;
        let hinted = err.downcast_ref::<crate::style::Hinted>().unwrap();
        Some((
            err.to_string(),
            Refused {
                id: hinted.id,
                exit: hinted.exit,
                help: hinted.help.clone(),
            },
        ))
    }

    struct Refused {
        id: crate::results::ErrorId,
        exit: u8,
        help: Vec<String>,
    }

    #[test]
    fn a_host_without_systemd_is_refused_with_what_works_there() {
        let f = Fixture::new();
        f.file("/proc/1/comm", "openrc-init\n");
        let (message, hinted) = refusal(&f, Engine::Docker).unwrap();
        assert_eq!(
            message,
            "systemd is not PID 1 here: PID 1 is openrc-init (OpenRC)"
        );
        assert_eq!(hinted.id, crate::results::ErrorId::NoSystemd);
        assert_eq!(hinted.exit, 1);
        assert_eq!(
            hinted.help[1..],
            [
                "  export XDG_RUNTIME_DIR=\"${XDG_RUNTIME_DIR:-$HOME/.docker/run}\"",
                "  mkdir -p -m 0700 \"$XDG_RUNTIME_DIR\"",
                "  PATH=/usr/bin:/sbin:/usr/sbin:$PATH dockerd-rootless.sh",
                "  export DOCKER_HOST=unix://\"$XDG_RUNTIME_DIR/docker.sock\"",
                "`rootless-setup check` says what else the engine needs",
            ]
        );
        assert!(
            hinted.help[0].contains("dockerd-rootless.sh by hand"),
            "{}",
            hinted.help[0]
        );
        for line in &hinted.help {
            for word in ["machinectl", "loginctl", "systemctl"] {
                assert!(!line.contains(word), "{line}");
            }
        }
    }

    #[test]
    fn wsl_is_told_how_to_turn_systemd_on_and_wsl1_that_it_cannot() {
        let f = Fixture::new();
        f.file("/proc/1/comm", "init\n").file(
            "/proc/sys/kernel/osrelease",
            "5.15.153.1-microsoft-standard-WSL2\n",
        );
        let (message, hinted) = refusal(&f, Engine::Podman).unwrap();
        assert_eq!(message, "WSL2 without systemd: PID 1 is init");
        assert_eq!(hinted.help[2], "  wsl.exe --shutdown");
        f.file("/proc/sys/kernel/osrelease", "4.4.0-19041-Microsoft\n");
        let (message, _) = refusal(&f, Engine::Docker).unwrap();
        assert_eq!(
            message,
            "WSL1: no user namespaces, so no rootless engine can run here"
        );
    }

    #[test]
    fn a_systemd_host_and_one_nothing_tells_about_go_on() {
        let f = Fixture::new();
        assert!(refusal(&f, Engine::Docker).is_none());
        f.dir("/run/systemd/system")
            .file("/proc/1/comm", "systemd\n");
        assert!(refusal(&f, Engine::Docker).is_none());
    }

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
