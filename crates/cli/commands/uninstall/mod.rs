//! `rootless-setup uninstall`: reverses what `install` recorded — stop, disable, remove (or
//! restore) the files, reload, switch the CLI context back and remove ours, turn off linger if
//! install turned it on, and with `--purge` remove the data directory from inside a user
//! namespace. Never gated by the prerequisite checks: it works on a broken host, each step's
//! failure is reported and the next step still runs. Without an install record (an install by
//! the old setup tool) it removes the standard unit and context and says what it found.

mod purge;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use rootless_setup_checks::Caller;
use rootless_setup_systemd::{Error as BusError, Login, UserManager};
use rootless_setup_unit::{DOCKER_UNIT, FileOrigin, classify};

use crate::atomic;
use crate::docker_context::{self, DockerCli};
use crate::paths::Paths;
use crate::prompt::Answer;
use crate::state::{Previous, State};
use crate::style::{Style, out, paint};

/// Remove the rootless engine that `install` set up, exactly as recorded.
///
/// Stops and disables docker.service, removes the unit and drop-in install wrote (restoring a
/// file it had replaced with --force), reloads the user manager, makes the docker CLI context
/// from before the install current again and removes the `rootless` context install created,
/// and turns linger off only if install turned it on. Images, containers and volumes stay
/// unless --purge.
///
/// Works without the prerequisites (a broken host can always uninstall). With no install record
/// — an install made by dockerd-rootless-setuptool.sh — it removes the standard unit
/// (~/.config/systemd/user/docker.service) and the `rootless` context, and says what it found.
/// Running it again is a no-op.
///
/// Exit status: 0 uninstalled (or nothing to uninstall), 1 a step failed (the others ran),
/// 2 usage or internal error.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also remove the engine's data directory (images, containers, volumes), from inside a
    /// user namespace because its files belong to your subordinate ids.
    #[arg(long)]
    pub purge: bool,

    /// Show what would be removed and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation. Without a terminal nothing is asked anyway.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// One file to remove or restore.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    path: PathBuf,
    /// The text to put back instead of removing.
    restore: Option<String>,
    /// What we found, for the message.
    note: String,
}

/// What uninstall will do.
#[derive(Debug, Default)]
struct Plan {
    record: Option<State>,
    found: Vec<String>,
    files: Vec<Target>,
    unit_loaded: bool,
    context_remove: bool,
    context_current: String,
    context_restore: Option<String>,
    linger_off: bool,
    data_root: Option<PathBuf>,
}

impl Plan {
    fn is_empty(&self) -> bool {
        self.record.is_none()
            && self.files.is_empty()
            && !self.unit_loaded
            && !self.context_remove
            && self.context_restore.is_none()
            && self.data_root.as_ref().is_none_or(|d| !d.exists())
    }
}

fn origin_note(text: &str) -> &'static str {
    match classify(text) {
        FileOrigin::Ours { edited: false } => "written by rootless-setup",
        FileOrigin::Ours { edited: true } => "written by rootless-setup, edited since",
        FileOrigin::Foreign => {
            "not written by rootless-setup (probably dockerd-rootless-setuptool.sh)"
        }
    }
}

fn gather(
    args: &Args,
    caller: &Caller,
    paths: &Paths,
    manager: Option<&UserManager>,
    docker: Option<&DockerCli>,
) -> Plan {
    let mut plan = Plan::default();
    let record = match State::load(&paths.state) {
        Ok(r) => r,
        Err(e) => {
            plan.found
                .push(format!("{e:#}; falling back to the standard paths"));
            None
        }
    };
    match &record {
        Some(r) => {
            plan.found.push(format!(
                "install record {} (installed {} by rootless-setup {})",
                paths.short(&paths.state),
                r.installed_at,
                r.tool_version
            ));
            for f in &r.files {
                let Ok(Some(text)) = atomic::read_optional(&f.path) else {
                    continue;
                };
                let restore = match &f.previous {
                    Some(Previous::Content { text }) => Some(text.clone()),
                    _ => None,
                };
                let edited = rootless_setup_unit::header::digest(&text) != f.sha256;
                plan.files.push(Target {
                    path: f.path.clone(),
                    restore,
                    note: if edited {
                        "edited since install".into()
                    } else {
                        "as installed".into()
                    },
                });
            }
        }
        None => {
            if plan.found.is_empty() {
                plan.found.push(format!(
                    "no install record at {}: looking at the standard paths",
                    paths.short(&paths.state)
                ));
            }
            for path in [paths.unit_file(), paths.drop_in()] {
                if let Ok(Some(text)) = atomic::read_optional(&path) {
                    let note = origin_note(&text).to_owned();
                    plan.found.push(format!("{}: {note}", paths.short(&path)));
                    plan.files.push(Target {
                        path,
                        restore: None,
                        note,
                    });
                }
            }
        }
    }
    plan.unit_loaded = manager
        .and_then(|m| m.unit_state(DOCKER_UNIT).ok())
        .is_some_and(|s| {
            s.exists() || !matches!(s.active, rootless_setup_systemd::ActiveState::Inactive)
        });

    // The context.
    let endpoint = docker_context::endpoint(
        &record
            .as_ref()
            .map(|r| r.socket.clone())
            .unwrap_or_else(|| paths.socket()),
    );
    plan.context_current = docker_context::current_context(&paths.docker_config);
    if let Some(docker) = docker {
        let existing = docker.inspect(docker_context::NAME).ok().flatten();
        plan.context_remove = match (&record, &existing) {
            (_, None) => false,
            (Some(r), Some(_)) => r.context.as_ref().is_some_and(|c| c.created),
            (None, Some(c)) => {
                let ours = c.looks_ours() || c.endpoint == endpoint;
                plan.found.push(format!(
                    "docker context {} ({}){}",
                    docker_context::NAME,
                    c.endpoint,
                    if ours {
                        ""
                    } else {
                        ": not pointing at the rootless socket, left alone"
                    }
                ));
                ours
            }
        };
        if plan.context_current == docker_context::NAME {
            let previous = record.as_ref().and_then(|r| r.previous_context.clone());
            let exists = |n: &str| docker.inspect(n).ok().flatten().is_some();
            plan.context_restore =
                Some(docker_context::restore_target(previous.as_deref(), exists));
        }
    }
    plan.linger_off = record.as_ref().is_some_and(|r| r.linger_enabled_by_us);
    if args.purge {
        plan.data_root = Some(
            record
                .as_ref()
                .map(|r| r.data_root.clone())
                .unwrap_or_else(|| paths.default_data_root(caller)),
        );
    }
    plan.record = record;
    plan
}

fn describe(plan: &Plan, paths: &Paths, bus_error: Option<&BusError>) -> String {
    let mut s = String::new();
    let mut line = |t: String| {
        let _ = writeln!(s, "  - {t}");
    };
    match bus_error {
        None => line(format!("stop and disable {DOCKER_UNIT}")),
        Some(e) => line(format!(
            "remove the enablement link of {DOCKER_UNIT}; a running engine CANNOT be stopped: {e}"
        )),
    }
    for f in &plan.files {
        let verb = if f.restore.is_some() {
            "restore the earlier"
        } else {
            "remove"
        };
        line(format!("{verb} {} ({})", paths.short(&f.path), f.note));
    }
    line("reload the systemd user manager".into());
    if let Some(to) = &plan.context_restore {
        line(format!("make {to} the current docker context again"));
    }
    if plan.context_remove {
        line(format!("remove docker context {}", docker_context::NAME));
    }
    if plan.linger_off {
        line(format!(
            "turn linger off for {} (install turned it on)",
            paths.user
        ));
    }
    if let Some(d) = &plan.data_root {
        line(format!(
            "remove the data directory {} (--purge)",
            paths.short(d)
        ));
    }
    if plan.record.is_some() {
        line(format!(
            "remove the install record {}",
            paths.short(&paths.state)
        ));
    }
    s
}

/// Runs the uninstall.
pub fn run(args: &Args, style: &Style) -> anyhow::Result<ExitCode> {
    let caller = Caller::from_process();
    let paths = Paths::of(&caller)?;
    let manager = UserManager::connect_session();
    let docker = docker_context::find_docker(&caller, None).map(|path| DockerCli { path });
    let plan = gather(
        args,
        &caller,
        &paths,
        manager.as_ref().ok(),
        docker.as_ref(),
    );
    for f in &plan.found {
        out(&format!("found: {f}\n"))?;
    }
    if plan.is_empty() {
        out(
            "nothing to uninstall: no install record, no docker.service unit, no rootless context\n",
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let header = if args.dry_run {
        "uninstall would (dry run, nothing changed):"
    } else {
        "plan:"
    };
    out(&format!(
        "{}\n{}",
        paint(style.out, "1", header),
        describe(&plan, &paths, manager.as_ref().err())
    ))?;
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    if !Answer::detect(args.yes).confirm("uninstall?", true)? {
        eprintln!("nothing was changed");
        return Ok(ExitCode::from(1));
    }
    let failures = execute(&plan, &caller, &paths, manager, docker.as_ref(), style)?;
    if failures == 0 {
        out(&format!("{}\n", paint(style.out, "1;32", "uninstalled")))?;
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "{} {failures} step{} failed (see above); the others were done",
            paint(style.err, "1;31", "error:"),
            if failures == 1 { "" } else { "s" }
        );
        Ok(ExitCode::from(1))
    }
}

/// Deadline of the stop job: longer than the unit's `TimeoutStopSec=` (120 s).
const STOP_TIMEOUT: Duration = Duration::from_secs(135);

fn execute(
    plan: &Plan,
    caller: &Caller,
    paths: &Paths,
    manager: Result<UserManager, BusError>,
    docker: Option<&DockerCli>,
    style: &Style,
) -> anyhow::Result<usize> {
    let mut failures = 0;
    let mut report = |what: &str, r: Result<String, String>| -> anyhow::Result<bool> {
        match r {
            Ok(done) if done.is_empty() => Ok(true),
            Ok(done) => {
                out(&format!("  {} {done}\n", paint(style.out, "32", "done"))).map(|()| true)
            }
            Err(e) => {
                failures += 1;
                eprintln!("  {} {what}: {e}", paint(style.err, "1;31", "failed"));
                Ok(false)
            }
        }
    };
    let unit = DOCKER_UNIT;
    let stopped;
    match &manager {
        Ok(m) => {
            let stop = match m.stop(unit, STOP_TIMEOUT) {
                Ok(o) if o.result.is_done() => Ok(format!("stopped {unit}")),
                Ok(o) => Err(format!("the stop job ended `{}`", o.result.as_str())),
                Err(BusError::NoSuchUnit { .. }) => Ok(String::new()),
                Err(e) => Err(e.to_string()),
            };
            stopped = report("stop", stop)?;
            let _ = m.reset_failed(unit);
            let disable = match m.disable(&[unit]) {
                Ok(changes) if changes.is_empty() => Ok(String::new()),
                Ok(_) => Ok(format!("disabled {unit}")),
                Err(BusError::NoSuchUnit { .. }) => Ok(String::new()),
                Err(e) => Err(e.to_string()),
            };
            report("disable", disable)?;
        }
        Err(e) => {
            stopped = false;
            let hint = e.hint().unwrap_or("");
            report(
                "stop and disable",
                Err(format!(
                    "cannot reach the systemd user manager ({e}); a running engine was NOT stopped. {hint}"
                )),
            )?;
            // Disable by hand: the enablement symlink.
            let link = paths.unit_dir.join("default.target.wants").join(unit);
            if link.symlink_metadata().is_ok() {
                let r = atomic::remove(&link).map(|_| format!("removed {}", paths.short(&link)));
                report(
                    "remove the enablement symlink",
                    r.map_err(|e| format!("{e:#}")),
                )?;
            }
        }
    }
    for f in &plan.files {
        let shown = paths.short(&f.path);
        let r = match &f.restore {
            Some(text) => {
                atomic::write(&f.path, text.as_bytes()).map(|()| format!("restored {shown}"))
            }
            None => atomic::remove(&f.path).map(|_| format!("removed {shown}")),
        };
        report(&format!("remove {shown}"), r.map_err(|e| format!("{e:#}")))?;
        if let Some(dir) = f.path.parent().filter(|d| *d != paths.unit_dir) {
            atomic::remove_empty_dir(dir);
        }
    }
    if let Ok(m) = &manager {
        report(
            "reload",
            m.reload()
                .map(|()| "reloaded the systemd user manager".to_owned())
                .map_err(|e| e.to_string()),
        )?;
    }
    if let Some(docker) = docker {
        if let Some(to) = &plan.context_restore {
            let r = docker
                .use_context(to)
                .map(|()| format!("made {to} the current docker context"));
            report(
                "restore the docker context",
                r.map_err(|e| format!("{e:#}")),
            )?;
        }
        if plan.context_remove {
            let r = docker
                .remove(docker_context::NAME)
                .map(|()| format!("removed docker context {}", docker_context::NAME));
            report("remove the docker context", r.map_err(|e| format!("{e:#}")))?;
        }
    }
    if plan.linger_off {
        let r = Login::connect_system()
            .and_then(|l| l.set_linger(paths.uid, false, crate::prompt::interactive()))
            .map(|()| format!("turned linger off for {}", paths.user))
            .map_err(|e| format!("{e} (run `sudo loginctl disable-linger {}`)", paths.user));
        report("turn linger off", r)?;
    }
    if let Some(dir) = &plan.data_root {
        let r = purge_dir(dir, caller, paths, stopped);
        report("purge", r)?;
    }
    if plan.record.is_some() {
        let r = atomic::remove(&paths.state)
            .map(|_| format!("removed the install record {}", paths.short(&paths.state)));
        if let Some(dir) = paths.state.parent() {
            let _ = r.as_ref().map(|_| atomic::remove_empty_dir(dir));
        }
        report("remove the install record", r.map_err(|e| format!("{e:#}")))?;
    }
    if let Some(record) = &plan.record {
        crate::state::remove_empty_dirs(&record.dirs);
    }
    Ok(failures)
}

fn purge_dir(
    dir: &std::path::Path,
    caller: &Caller,
    paths: &Paths,
    stopped: bool,
) -> Result<String, String> {
    if !dir.exists() {
        return Ok(format!(
            "{} does not exist: nothing to purge",
            paths.short(dir)
        ));
    }
    if !stopped {
        return Err("the engine may still be running; not removing its data under it".into());
    }
    if let Some(why) = purge::refuse_reason(dir, &paths.home) {
        return Err(format!("refusing to purge: {why}"));
    }
    let Some(rootlesskit) = purge::find_rootlesskit(caller) else {
        return Err(format!(
            "rootlesskit not found; remove it with `rootlesskit rm -rf {}` once it is installed",
            dir.display()
        ));
    };
    match purge::purge(&rootlesskit, dir) {
        Ok(freed) => Ok(format!(
            "removed {} (freed {})",
            paths.short(dir),
            freed
                .bytes
                .map(purge::human_bytes)
                .unwrap_or_else(|| "an unknown amount".into())
        )),
        Err(e) => Err(format!("{e:#}")),
    }
}
