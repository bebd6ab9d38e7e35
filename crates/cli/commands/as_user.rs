//! `--user NAME`: root acting for an ordinary user, for an admin who sets engines up for
//! others. The tool does not run the command as root: it refuses system accounts and root, for
//! `install` first repairs NAME's prerequisites as root (the `fix --user NAME --apply` script,
//! shown and asked for unless `--yes`), then makes sure NAME's user manager runs (starting
//! `user@UID.service` through the system manager and waiting for its job), and finally runs the
//! same command line again as NAME — uid, gid and supplementary groups dropped before `exec`,
//! a clean environment with NAME's `HOME`, `XDG_RUNTIME_DIR` and user bus, from NAME's home —
//! so that the record, the files and the context belong to NAME exactly as if NAME had run it.
//! No `su`, `sudo` or `machinectl` is involved.

use std::ffi::{CString, OsString};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use rootless_setup_core::accounts::{self, Rules};
use rootless_setup_core::model::Account;
use rootless_setup_core::process::{self, Credentials, Invocation};
use rootless_setup_core::{Host, SYSTEM_PATH, passwd};
use rootless_setup_systemd::UserManager;

use crate::results::ErrorId;
use crate::style::{Style, hinted, paint, stopped};

/// How long the user's manager may take to start.
const MANAGER_START: Duration = Duration::from_secs(60);

/// Variables passed through to the command run as the user: how output looks.
const PASSED_THROUGH: &[&str] = &["TERM", "NO_COLOR", "LANG", "LC_ALL", "COLORTERM"];

/// The user root acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub account: Account,
    /// Supplementary groups, from the group database.
    pub groups: Vec<u32>,
}

impl Target {
    /// `/run/user/UID`.
    fn runtime_dir(&self) -> PathBuf {
        PathBuf::from(format!("/run/user/{}", self.account.uid))
    }
}

/// What `--user` does before running the command as the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepare<'a> {
    /// Nothing: the command reads (`check`).
    Nothing,
    /// Start the user's manager, whose bus the command needs (`status`, `uninstall`, `enter`).
    Manager,
    /// Repair the prerequisites as root with this `fix` command line (after `rootless-setup`),
    /// then start the manager (`install`).
    Prerequisites(&'a [&'a str]),
}

/// [`act`] for a command with a result document: with `--format json` a failure before the
/// command ran as the user (the account refused, the fix failing, the manager not starting) is
/// a document too, so standard output always holds one; once the command ran as the user, its
/// own document is the one.
pub fn act_with_result(
    name: &str,
    result: crate::results::CommandName,
    format: crate::cli::Format,
    prepare: Prepare<'_>,
    style: &Style,
) -> anyhow::Result<ExitCode> {
    match act(name, result.as_str(), prepare, style) {
        Err(e) if format == crate::cli::Format::Json => {
            crate::results::run(result, format, style, |_, _| Err(e))
        }
        other => other,
    }
}

/// Runs `command` for `name` as root: [`target`], then what `prepare` says, then the same
/// command line as the user ([`run_as`]); its exit status is the command's.
pub fn act(
    name: &str,
    command: &str,
    prepare: Prepare<'_>,
    style: &Style,
) -> anyhow::Result<ExitCode> {
    let target = target(name, command)?;
    if let Prepare::Prerequisites(fix) = prepare {
        let fixed = run_fix(fix)?;
        // fix --apply: 0 the checks pass afterwards, 1 some still fail, else it did not run.
        match fixed.code() {
            Some(0) => {}
            Some(1) => {
                return Err(stopped(
                    ErrorId::PrerequisitesFailed,
                    format!(
                        "{name}'s prerequisites still fail after the fix; nothing was installed"
                    ),
                    &[&format!(
                        "`rootless-setup fix --user {name}` shows what is left; install again when it passes"
                    )],
                ));
            }
            _ => {
                return Err(hinted(
                    ErrorId::FixScriptFailed,
                    format!(
                        "the fix for {name} did not run or failed (its report is above); nothing was installed"
                    ),
                    &["without a terminal to ask on, pass --yes to let it run the script it shows"],
                ));
            }
        }
    }
    if prepare != Prepare::Nothing {
        start_manager(&target, style)?;
    }
    run_as(&target, &without_user(std::env::args_os().skip(1)))
}

/// Runs this program's `fix` as root, its report on standard error: standard output belongs
/// to the command run as the user (one JSON document with `--format json`).
fn run_fix(args: &[&str]) -> anyhow::Result<std::process::ExitStatus> {
    let exe = std::env::current_exe().map_err(|e| {
        hinted(
            ErrorId::Internal,
            format!("cannot find this program to run fix: {e}"),
            &[],
        )
    })?;
    let invocation = Invocation::new(exe).args(args).stdout_to_stderr();
    process::run_inherited(&invocation).map_err(|e| {
        hinted(
            ErrorId::Internal,
            format!("could not run fix: {}", e.source),
            &[],
        )
    })
}

/// Looks `name` up in `/etc/passwd` and refuses anyone but an ordinary login user, and any
/// caller but root.
pub fn target(name: &str, command: &str) -> anyhow::Result<Target> {
    if !nix::unistd::geteuid().is_root() {
        return Err(hinted(
            ErrorId::Usage,
            format!("{command} --user acts for another user and needs root"),
            &[&format!(
                "run it as root (sudo rootless-setup {command} --user {name}), or as {name} without --user"
            )],
        ));
    }
    let host = Host::real();
    let text = host.read("/etc/passwd").ok().flatten().unwrap_or_default();
    let account = passwd::by_name(&text, name).ok_or_else(|| {
        hinted(
            ErrorId::UnknownUser,
            format!("no user `{name}` in /etc/passwd"),
            &["pass a login name from /etc/passwd"],
        )
    })?;
    if let Err(refusal) = accounts::login_user(&Rules::read(&host), &account) {
        let help = refusal.help();
        let help: Vec<&str> = help.iter().map(String::as_str).collect();
        return Err(hinted(ErrorId::AccountRefused, refusal.to_string(), &help));
    }
    let groups = groups_of(&account);
    Ok(Target { account, groups })
}

/// The account's supplementary groups (its primary group among them).
fn groups_of(account: &Account) -> Vec<u32> {
    let Ok(name) = CString::new(account.name.as_str()) else {
        return vec![account.gid];
    };
    nix::unistd::getgrouplist(&name, nix::unistd::Gid::from_raw(account.gid))
        .map(|groups| groups.into_iter().map(|g| g.as_raw()).collect())
        .unwrap_or_else(|_| vec![account.gid])
}

/// Starts `user@UID.service` through the system manager, awaiting its job, and checks that the
/// user's bus is there: the user manager is `Type=notify`, ready once its sockets listen.
fn start_manager(target: &Target, style: &Style) -> anyhow::Result<()> {
    let unit = format!("user@{}.service", target.account.uid);
    let bus = target.runtime_dir().join("bus");
    let fail = |why: String| {
        stopped(
            ErrorId::UserManagerUnreachable,
            format!(
                "{}'s user manager ({unit}) did not start: {why}",
                target.account.name
            ),
            &[&format!(
                "look at `systemctl status {unit}` and `journalctl -u {unit}`"
            )],
        )
    };
    let manager = UserManager::connect_system().map_err(|e| fail(e.to_string()))?;
    let outcome = manager
        .start(&unit, MANAGER_START)
        .map_err(|e| fail(e.to_string()))?;
    if !outcome.result.is_done() {
        return Err(fail(format!(
            "the start job ended `{}`",
            outcome.result.as_str()
        )));
    }
    if bus.symlink_metadata().is_err() {
        return Err(fail(format!("{} does not exist", bus.display())));
    }
    eprintln!(
        "{}",
        paint(
            style.err,
            Style::DIM,
            &format!("{unit} runs; continuing as {}", target.account.name)
        )
    );
    Ok(())
}

/// Runs this program again with `args` as the user, in a clean environment from their home;
/// returns its exit status (a signal as 128 + N, like a shell).
pub fn run_as(target: &Target, args: &[OsString]) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().map_err(|e| {
        hinted(
            ErrorId::Internal,
            format!("cannot find this program to run it as the user: {e}"),
            &[],
        )
    })?;
    let invocation = invocation(target, exe, args);
    let status = process::run_inherited(&invocation).map_err(|e| {
        hinted(
            ErrorId::Internal,
            format!(
                "could not run {} as {}: {}",
                invocation.program.display(),
                target.account.name,
                e.source
            ),
            &["install rootless-setup where every user can run it (such as /usr/local/bin)"],
        )
    })?;
    Ok(ExitCode::from(shell_status(status)))
}

/// An exit status as a shell shows it: the code, or 128 + the signal that ended it.
fn shell_status(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code).unwrap_or(u8::MAX),
        (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(u8::MAX),
        (None, None) => u8::MAX,
    }
}

/// The command line run as the user, with their environment.
fn invocation(target: &Target, exe: PathBuf, args: &[OsString]) -> Invocation {
    let a = &target.account;
    let runtime = target.runtime_dir();
    let mut invocation = Invocation::new(exe)
        .args(args.iter().cloned())
        .as_user(
            Credentials {
                uid: a.uid,
                gid: a.gid,
                groups: target.groups.clone(),
            },
            &a.home,
        )
        .env("HOME", &a.home)
        .env("USER", &a.name)
        .env("LOGNAME", &a.name)
        .env("SHELL", &a.shell)
        .env("PATH", SYSTEM_PATH.join(":"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", runtime.join("bus").display()),
        );
    for name in PASSED_THROUGH {
        if let Some(value) = std::env::var_os(name) {
            invocation = invocation.env(name, value);
        }
    }
    invocation
}

/// The command line without `--user NAME` (or `--user=NAME`), which is root's; everything from
/// a `--` on (a command for `enter`) is kept as it is.
pub fn without_user(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut kept = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            kept.push(arg);
            kept.extend(args);
            break;
        }
        if arg == "--user" {
            args.next();
            continue;
        }
        if arg.to_str().is_some_and(|a| a.starts_with("--user=")) {
            continue;
        }
        kept.push(arg);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_user_option_is_roots_and_dropped_but_a_commands_arguments_stay() {
        let keep = |args: &[&str]| without_user(os(args));
        assert_eq!(
            keep(&["install", "--user", "alice", "--yes"]),
            os(&["install", "--yes"])
        );
        assert_eq!(
            keep(&["status", "--user=alice", "--format", "json"]),
            os(&["status", "--format", "json"])
        );
        assert_eq!(
            keep(&["enter", "--user", "alice", "--", "sh", "-c", "x --user bob"]),
            os(&["enter", "--", "sh", "-c", "x --user bob"])
        );
        assert_eq!(
            keep(&["enter", "--user", "alice", "--", "--user", "x"]),
            os(&["enter", "--", "--user", "x"])
        );
    }

    #[test]
    fn the_user_runs_with_their_own_clean_environment_from_home() {
        let target = Target {
            account: Account {
                name: "alice".into(),
                uid: 1001,
                gid: 1001,
                home: "/home/alice".into(),
                shell: "/bin/bash".into(),
            },
            groups: vec![1001, 27],
        };
        let inv = invocation(
            &target,
            "/usr/local/bin/rootless-setup".into(),
            &os(&["status"]),
        );
        assert_eq!(
            inv.user,
            Some(Credentials {
                uid: 1001,
                gid: 1001,
                groups: vec![1001, 27]
            })
        );
        assert!(inv.clear_env);
        assert_eq!(inv.current_dir, Some(PathBuf::from("/home/alice")));
        let env: Vec<(String, String)> = inv
            .env
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .filter(|(k, _)| !PASSED_THROUGH.contains(&k.as_str()))
            .collect();
        let want = [
            ("HOME", "/home/alice"),
            ("USER", "alice"),
            ("LOGNAME", "alice"),
            ("SHELL", "/bin/bash"),
            (
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ),
            ("XDG_RUNTIME_DIR", "/run/user/1001"),
            ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1001/bus"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(env, want);
    }
}
