//! Tests of `enter` that need no namespace: the command line, the default shell, the
//! environment, the exit status of a command that could not be run, and the messages when no
//! engine runs or its pid file is refused.

use clap::Parser;

use super::*;
use crate::cli::{Cli, Command};
use crate::style::exit_status;
use rootless_setup_core::Engine;

fn parse(argv: &[&str]) -> Args {
    let cli = Cli::try_parse_from(["rootless-setup", "enter"].iter().chain(argv)).unwrap();
    match cli.command {
        Command::Enter(args) => args,
        other => panic!("parsed as {other:?}"),
    }
}

fn words(args: &Args) -> Vec<&str> {
    args.command.iter().map(|w| w.to_str().unwrap()).collect()
}

#[test]
fn the_command_is_everything_after_the_options() {
    let args = parse(&[]);
    assert_eq!(args.engine, None);
    assert!(args.command.is_empty());
    assert_eq!(words(&parse(&["--", "id", "-u"])), ["id", "-u"]);
    assert_eq!(words(&parse(&["id", "-u"])), ["id", "-u"]);
    let args = parse(&[
        "--engine",
        "containerd",
        "ctr",
        "--namespace",
        "x",
        "images",
        "ls",
    ]);
    assert_eq!(args.engine, Some(EngineArg::Containerd));
    assert_eq!(words(&args), ["ctr", "--namespace", "x", "images", "ls"]);
    // After the command starts, an option of enter's is the command's.
    let args = parse(&["ls", "--engine", "containerd"]);
    assert_eq!(args.engine, None);
    assert_eq!(words(&args), ["ls", "--engine", "containerd"]);
    assert_eq!(words(&parse(&["--", "--engine"])), ["--engine"]);
}

#[test]
fn the_default_shell_is_the_login_shell_then_shell_then_sh() {
    let bash = Some(PathBuf::from("/bin/bash"));
    assert_eq!(
        default_shell(bash.clone(), Some("/bin/zsh")),
        PathBuf::from("/bin/bash")
    );
    assert_eq!(
        default_shell(None, Some("/bin/zsh")),
        PathBuf::from("/bin/zsh")
    );
    assert_eq!(
        default_shell(Some(PathBuf::new()), Some("/bin/zsh")),
        PathBuf::from("/bin/zsh")
    );
    assert_eq!(default_shell(None, Some("zsh")), PathBuf::from("/bin/sh"));
    assert_eq!(default_shell(None, None), PathBuf::from("/bin/sh"));
}

#[test]
fn the_engines_variables_replace_the_callers() {
    let current = [
        ("HOME", "/home/dev"),
        ("CONTAINERD_ADDRESS", "/elsewhere.sock"),
        ("PATH", "/usr/bin:/bin"),
    ]
    .map(|(k, v)| (OsString::from(k), OsString::from(v)));
    let env = environment(
        current.clone().into_iter(),
        Engine::Containerd.spec().enter.env,
    );
    let env: Vec<&str> = env.iter().map(|c| c.to_str().unwrap()).collect();
    assert_eq!(
        env,
        [
            "HOME=/home/dev",
            "PATH=/usr/bin:/bin",
            "CONTAINERD_ADDRESS=/run/containerd/containerd.sock"
        ]
    );
    let docker = environment(current.into_iter(), Engine::Docker.spec().enter.env);
    assert_eq!(docker.len(), 3);
    assert_eq!(
        docker[1].to_str().unwrap(),
        "CONTAINERD_ADDRESS=/elsewhere.sock"
    );
}

#[test]
fn a_nul_byte_cuts_an_argument() {
    assert_eq!(c_string(OsString::from("ab\0cd")).to_bytes(), b"ab");
    assert_eq!(c_string(OsString::from("ip")).to_bytes(), b"ip");
}

#[test]
fn a_command_not_run_exits_like_a_shell() {
    assert_eq!(exec_status(Errno::ENOENT), 127);
    assert_eq!(exec_status(Errno::ENOTDIR), 127);
    assert_eq!(exec_status(Errno::EACCES), 126);
    assert_eq!(exec_status(Errno::ENOEXEC), 126);
    assert_eq!(exec_status(Errno::E2BIG), 126);
}

#[test]
fn a_command_that_is_nowhere_is_127_and_named() {
    // execvpe fails before replacing anything: this process goes on.
    let argv = [CString::new("/nonexistent/rootless-setup-test").unwrap()];
    let err = exec(&argv, &[]);
    assert_eq!(exit_status(&err), 127);
    assert_eq!(
        err.to_string(),
        "could not run /nonexistent/rootless-setup-test in the engine's namespaces: No such file or directory"
    );
    let dir = tempfile::tempdir().unwrap();
    let err = exec(
        &[CString::new(dir.path().as_os_str().as_bytes()).unwrap()],
        &[],
    );
    assert_eq!(exit_status(&err), 126, "{err}");
}

#[test]
fn the_start_command_is_the_units_unless_the_engine_names_one() {
    assert_eq!(
        engine_command(Engine::Docker.spec(), "start"),
        "systemctl --user start docker"
    );
    assert_eq!(
        engine_command(Engine::Containerd.spec(), "restart"),
        "systemctl --user restart containerd"
    );
    let mut spec = *Engine::Docker.spec();
    spec.enter.start = Some("podman info");
    assert_eq!(engine_command(&spec, "start"), "podman info");
    assert_eq!(engine_command(&spec, "restart"), "podman info");
}

/// What `find` says for `engine` when `files` (under a fresh runtime directory) hold what they
/// are paired with, as `main` would print it: the runtime directory, the exit status, the
/// message and the help lines.
fn found(engine: Engine, files: &[(&str, &str)]) -> (String, u8, String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    for (file, content) in files {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
    }
    let err = find(engine.spec(), dir.path(), nix::unistd::getuid().as_raw()).unwrap_err();
    let hinted = err.downcast_ref::<Hinted>().expect("a hinted error");
    (
        dir.path().display().to_string(),
        exit_status(&err),
        hinted.message.clone(),
        hinted.help.clone(),
    )
}

#[test]
fn no_pid_file_says_no_engine_runs() {
    let (run, exit, message, help) = found(Engine::Docker, &[]);
    assert_eq!(exit, 1);
    assert_eq!(
        message,
        format!(
            "no rootless docker is running for you (neither {run}/dockerd-rootless/child_pid nor {run}/docker.pid exists)"
        )
    );
    assert_eq!(
        help,
        [
            "`rootless-setup status` shows the installed engine and why it is not running",
            "start it: systemctl --user start docker"
        ]
    );
    let (run, exit, message, _) = found(Engine::Containerd, &[]);
    assert_eq!(exit, 1);
    assert_eq!(
        message,
        format!(
            "no rootless containerd is running for you ({run}/containerd-rootless/child_pid does not exist)"
        )
    );
}

#[test]
fn the_message_names_every_file_looked_for() {
    let files = |names: &[&str]| -> Vec<PathBuf> { names.iter().map(PathBuf::from).collect() };
    assert_eq!(none_exists(&files(&["/a"])), "/a does not exist");
    assert_eq!(
        none_exists(&files(&["/a", "/b"])),
        "neither /a nor /b exists"
    );
    assert_eq!(
        none_exists(&files(&["/a", "/b", "/c"])),
        "none of /a, /b or /c exists"
    );
}

#[test]
fn a_stale_pid_says_no_engine_runs() {
    // Above any pid_max (at most 2^22).
    let (run, exit, message, help) = found(
        Engine::Containerd,
        &[("containerd-rootless/child_pid", "2147483647")],
    );
    assert_eq!(exit, 1);
    assert_eq!(
        message,
        format!(
            "no rootless containerd is running for you (process 2147483647, named by {run}/containerd-rootless/child_pid, is not running)"
        )
    );
    assert_eq!(help[1], "start it: systemctl --user start containerd");
}

#[test]
fn the_first_pid_file_there_is_read() {
    // Docker's older scripts leave only dockerd's own docker.pid.
    let (run, _, message, _) = found(Engine::Docker, &[("docker.pid", "2147483647")]);
    assert!(
        message.contains(&format!("named by {run}/docker.pid,")),
        "{message}"
    );
    // rootlesskit's child_pid first; a refused one is not passed over for the next.
    let (run, _, message, _) = found(
        Engine::Docker,
        &[
            ("dockerd-rootless/child_pid", "x"),
            ("docker.pid", "2147483647"),
        ],
    );
    assert_eq!(
        message,
        format!("refusing {run}/dockerd-rootless/child_pid: it holds \"x\", not a process id")
    );
}

#[test]
fn a_pid_file_not_the_engines_is_refused_with_a_restart() {
    let child = "dockerd-rootless/child_pid";
    let (run, exit, message, help) = found(Engine::Docker, &[(child, "init")]);
    assert_eq!(exit, 1);
    assert_eq!(
        message,
        format!("refusing {run}/{child}: it holds \"init\", not a process id")
    );
    assert_eq!(help[1], "restart it: systemctl --user restart docker");

    // This very process: the caller's, but in the caller's own user namespace.
    let me = std::process::id().to_string();
    let (run, exit, message, _) = found(Engine::Docker, &[(child, &me)]);
    assert_eq!(exit, 1);
    assert_eq!(
        message,
        format!(
            "refusing to enter process {me}, named by {run}/{child}: it is in your own user namespace, not in a rootless engine's"
        )
    );
}
