//! `rootless-setup uninstall`: replays the install record's journal in reverse through
//! [`crate::state::reversal`] — the routine a failed install's rollback uses — so it undoes
//! exactly what install did: switch the CLI context back and remove ours, stop the engine,
//! disable it if install enabled it, put back or remove the files, reload, turn off linger if
//! install turned it on; with `--purge` it removes the data directory (only one carrying
//! install's marker) from inside a user namespace. Never gated by the prerequisite checks: it
//! works on a broken host, each step's failure is reported and the next step still runs.
//! Without an install record (an install by the old setup tool) it reverses the standard unit,
//! enablement and context, and says what it found. A record that cannot be trusted (not the
//! caller's, not 0600, unparseable) is refused; entries outside the rules are left alone.

mod purge;

use std::path::PathBuf;
use std::process::ExitCode;

use rootless_setup_checks::Caller;
use rootless_setup_core::engine::Runs;
use rootless_setup_systemd::{Login, UserManager};
use rootless_setup_unit::{FileOrigin, classify, header::digest};

use super::as_user::Prepare;
use crate::atomic;
use crate::cli::Format;
use crate::docker_context::{self, DockerCli};
use crate::paths::Paths;
use crate::results::{self, CommandName, ErrorId, Outcome, Results};
use crate::state::guard;
use crate::state::lock;
use crate::state::ops::{Contexts, Linger, Manager, Socket, World};
use crate::state::reversal::{self, Goal, Line};
use crate::state::{Entry, State, Step};
use crate::style::{STOPPED, Style, hinted, paint, stopped};

/// Remove the rootless engine that `install` set up, exactly as recorded.
///
/// Replays the install record in reverse: makes the docker CLI context from before the install
/// current again and removes the `rootless` context install created, stops docker.service,
/// disables it only if install enabled it, removes the unit and drop-in install wrote
/// (restoring a file it had replaced with --force; a file edited since install is moved aside,
/// not deleted), reloads the user manager, and turns linger off only if install turned it on.
/// Only files below the user unit directory are touched, never through a symlink. Images,
/// containers and volumes stay unless --purge.
///
/// With several engines installed (Docker and Podman) say which with --engine; linger stays on
/// while another engine is installed. For Podman, --purge runs `podman system reset --force`.
///
/// Works without the prerequisites (a broken host can always uninstall). With no install record
/// — an install made by dockerd-rootless-setuptool.sh — it removes the standard unit
/// (~/.config/systemd/user/docker.service) and the `rootless` context, and says what it found.
/// Running it again is a no-op.
///
/// With --format json, standard output carries one JSON document (docs/json.md, "command
/// results"): whether anything changed, each step and its outcome, and the error with its id;
/// nothing is asked.
///
/// Exit status: 0 uninstalled (or nothing to uninstall), 1 a step failed (the others ran),
/// 2 usage or internal error, or an install record that cannot be trusted.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also remove the engine's data directory (images, containers, volumes), from inside a
    /// user namespace because its files belong to your subordinate ids. Only a directory
    /// carrying the marker install put there is removed.
    #[arg(long)]
    pub purge: bool,

    /// Show what would be removed and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation. Without a terminal nothing is asked anyway.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// As root: act for this user (an ordinary login user): the command runs as NAME, with
    /// NAME's environment, exactly as if NAME had run it (see docs/admin.md).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// The engine to remove (default: the one installed; asked for when several are).
    #[arg(long, value_enum)]
    pub engine: Option<crate::cli::EngineArg>,

    /// Output format: `json` prints one result document and asks nothing.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// What uninstall will do.
#[derive(Debug, Default)]
struct Plan {
    /// An install record exists (it is removed at the end).
    record: bool,
    /// What was found, for the user.
    found: Vec<String>,
    /// The journal to replay: the record's, or one made from the standard paths.
    journal: Vec<Entry>,
    /// `--purge`: the data directory, or why it is left alone.
    purge: Option<Result<PathBuf, (PathBuf, String)>>,
}

impl Plan {
    fn is_empty(&self) -> bool {
        !self.record
            && self.journal.is_empty()
            && self
                .purge
                .as_ref()
                .is_none_or(|p| matches!(p, Err((d, _)) if !d.exists()))
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

/// The plan from the record (already loaded and trusted as a file) or, without one, from the
/// standard paths.
fn gather(args: &Args, paths: &Paths, record: Option<State>, world: &World<'_>) -> Plan {
    let mut plan = Plan::default();
    match &record {
        Some(r) => {
            plan.found.push(format!(
                "install record {} (installed {} by rootless-setup {})",
                paths.short(&paths.state),
                r.installed_at,
                r.tool_version
            ));
            plan.record = true;
            plan.journal = r.journal.clone();
            keep_linger_for_others(paths, &mut plan);
        }
        None => {
            plan.found.push(format!(
                "no install record at {}: looking at the standard paths",
                paths.short(&paths.state)
            ));
            plan.journal = standard_journal(paths, world, &mut plan.found);
        }
    }
    if args.purge {
        let dir = record
            .as_ref()
            .map(|r| r.data_root.clone())
            .unwrap_or_else(|| paths.default_data_root());
        plan.purge = Some(match purge_refusal(&dir, paths) {
            None => Ok(dir),
            // Podman's storage is removed by Podman itself (`podman system reset`), never by
            // path: the directory named is only what the plan shows.
            Some(_) if engine_owns_storage(paths) => Ok(paths.default_data_root()),
            Some(why) => Err((dir, why)),
        });
    }
    plan
}

/// Linger is shared by every engine of the user: while another engine's record exists, its
/// engine still needs linger, so this uninstall leaves it on.
fn keep_linger_for_others(paths: &Paths, plan: &mut Plan) {
    let others: Vec<&str> = paths
        .installed_engines()
        .into_iter()
        .filter(|e| *e != paths.engine)
        .map(|e| e.as_str())
        .collect();
    if others.is_empty() || !plan.journal.iter().any(|e| e.step == Step::Linger) {
        return;
    }
    plan.journal.retain(|e| e.step != Step::Linger);
    plan.found.push(format!(
        "linger stays on: {} is installed too and needs it",
        others.join(" and ")
    ));
}

/// Without a record: the standard unit and drop-in, the unit's enablement and engine, and the
/// engine's context pointing at its socket (or described as ours). For an engine whose unit
/// the distribution ships (Podman's socket) only the context: the unit may be the user's own.
fn standard_journal(paths: &Paths, world: &World<'_>, found: &mut Vec<String>) -> Vec<Entry> {
    let mut steps = Vec::new();
    if let Runs::Rootlesskit(_) = paths.spec().runs {
        steps.extend(standard_unit_steps(paths, world, found));
    }
    if let (Some(docker), Some(name)) = (world.docker, paths.context()) {
        let endpoint = docker_context::endpoint(&paths.socket());
        if let Some(c) = docker.inspect(name).ok().flatten() {
            let ours = c.looks_ours() || c.endpoint == endpoint;
            found.push(format!(
                "docker context {name} ({}){}",
                c.endpoint,
                if ours {
                    ""
                } else {
                    ": not pointing at the rootless socket, left alone"
                }
            ));
            if ours {
                steps.push(Step::Context {
                    name: name.to_owned(),
                    endpoint: c.endpoint,
                });
                steps.push(Step::Switch {
                    from: docker_context::DEFAULT.to_owned(),
                    to: name.to_owned(),
                });
            }
        }
    }
    steps
        .into_iter()
        .map(|step| Entry { step, done: true })
        .collect()
}

/// The standard unit file and drop-in, the unit's enablement and the engine.
fn standard_unit_steps(paths: &Paths, world: &World<'_>, found: &mut Vec<String>) -> Vec<Step> {
    let unit = paths.started_unit();
    let mut steps = Vec::new();
    for path in [Some(paths.unit_file()), paths.drop_in()]
        .into_iter()
        .flatten()
    {
        if let Ok(Some(text)) = atomic::read_optional(&path) {
            found.push(format!("{}: {}", paths.short(&path), origin_note(&text)));
            steps.push(Step::File {
                sha256: digest(&text),
                path,
                previous: None,
            });
        }
    }
    let loaded = world
        .manager
        .and_then(|m| m.unit_state(unit).ok())
        .is_some_and(|s| {
            s.exists() || !matches!(s.active, rootless_setup_systemd::ActiveState::Inactive)
        });
    if loaded || !steps.is_empty() {
        steps.push(Step::Enable {
            unit: unit.to_owned(),
        });
        steps.push(Step::Start {
            unit: unit.to_owned(),
            was_active: false,
        });
    }
    steps
}

/// The plan as shown: one `  - …` line per action.
fn describe(plan: &Plan, paths: &Paths, bus_error: Option<&str>) -> String {
    plan_lines(plan, paths, bus_error)
        .iter()
        .map(|l| format!("  - {l}\n"))
        .collect()
}

/// What uninstall will do, one line per action (the user manager's absence among them).
fn plan_lines(plan: &Plan, paths: &Paths, bus_error: Option<&str>) -> Vec<String> {
    let mut lines = reversal::preview(&plan.journal, Goal::Uninstall, paths);
    if let Some(e) = bus_error {
        lines.push(unstoppable(e));
    }
    match &plan.purge {
        Some(Ok(d)) if engine_owns_storage(paths) => lines.push(format!(
            "remove every {} container, image and volume and its storage {} (`podman system reset --force`, --purge)",
            paths.engine.as_str(),
            paths.short(d)
        )),
        Some(Ok(d)) => lines.push(format!(
            "remove the data directory {} (--purge)",
            paths.short(d)
        )),
        Some(Err((d, why))) => lines.push(format!(
            "left alone: the data directory {} because {why}",
            paths.short(d)
        )),
        None => {}
    }
    if plan.record {
        lines.push(format!(
            "remove the install record {}",
            paths.short(&paths.state)
        ));
    }
    lines
}

/// The user manager cannot be reached (`e` says why): a running engine cannot be stopped.
fn unstoppable(e: &str) -> String {
    format!("the user manager cannot be reached, so a running engine CANNOT be stopped: {e}")
}

/// Runs the uninstall, for people or as a result document.
pub fn run(args: &Args, style: &Style) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.user {
        return super::as_user::act_with_result(
            name,
            CommandName::Uninstall,
            args.format,
            Prepare::Manager,
            style,
        );
    }
    results::run(
        CommandName::Uninstall,
        args.format,
        style,
        |style, results| uninstall(args, style, results),
    )
}

/// The uninstall: gather, show, ask, replay; its exit status.
fn uninstall(args: &Args, style: &Style, results: &mut Results) -> anyhow::Result<u8> {
    let caller = Caller::from_process();
    results.acting_for(&caller, args.dry_run);
    results.engine = args.engine.map(Into::into);
    super::refuse_root(
        &caller,
        "uninstall",
        "removes a rootless engine of an ordinary user",
        "the user who installed the engine",
    )?;
    let paths = Paths::of_installed(&caller, args.engine.map(Into::into), "uninstall")?;
    results.engine = Some(paths.engine);
    let lock = if args.dry_run {
        None
    } else {
        Some(lock::acquire(&paths.state, "uninstall", lock::WAIT)?)
    };
    if lock.is_some() {
        for dir in paths.written_dirs() {
            atomic::sweep(&dir);
        }
    }
    let record = State::load(&paths.state, paths.uid, paths.engine)
        .map_err(|e| hinted(ErrorId::RecordUntrusted, e.to_string(), &[&e.help()]))?;
    // Without systemd there is no user manager to ask: say so instead of asking a bus.
    let no_systemd = super::without_systemd(&rootless_setup_core::Host::real(), &caller)
        .map(|(_, message)| message);
    let manager = no_systemd.is_none().then(UserManager::connect_session);
    let login = Login::connect_system().ok();
    let docker = docker_context::find_docker(&caller, None).map(|path| DockerCli {
        path,
        config_dir: paths.docker_config.clone(),
    });
    let world = World {
        manager: manager
            .as_ref()
            .and_then(|m| m.as_ref().ok())
            .map(|m| m as &dyn Manager),
        login: login.as_ref().map(|l| l as &dyn Linger),
        docker: docker.as_ref().map(|d| d as &dyn Contexts),
        engine: &Socket,
    };
    let plan = gather(args, &paths, record, &world);
    for f in &plan.found {
        results.out(&format!("found: {f}\n"))?;
    }
    if plan.is_empty() {
        results.out(&format!(
            "nothing to uninstall: no install record, no {} unit, no {} context\n",
            paths.started_unit(),
            paths.context().unwrap_or("CLI")
        ))?;
        return Ok(0);
    }
    let header = if args.dry_run {
        "uninstall would (dry run, nothing changed):"
    } else {
        "plan:"
    };
    let bus_error = no_systemd.or_else(|| {
        manager.as_ref().and_then(|m| m.as_ref().err()).map(|e| {
            format!(
                "{e}{}",
                e.hint().map(|h| format!(" ({h})")).unwrap_or_default()
            )
        })
    });
    results
        .warnings
        .extend(bus_error.as_deref().map(unstoppable));
    results.out(&format!(
        "{}\n{}",
        paint(style.out, Style::BOLD, header),
        describe(&plan, &paths, bus_error.as_deref())
    ))?;
    if args.dry_run {
        results.steps(plan_lines(&plan, &paths, None), Outcome::Planned);
        return Ok(0);
    }
    if !results.answer(args.yes).confirm("uninstall?", true)? {
        results.note("nothing was changed");
        return Ok(STOPPED);
    }
    let lines = execute(&plan, &caller, &paths, &world);
    drop(lock);
    conclude(&lines, style, results)
}

/// What the uninstall did, shown and recorded (it changed the host if any step was done); its
/// exit status, or the error when a step failed.
fn conclude(lines: &[Line], style: &Style, results: &mut Results) -> anyhow::Result<u8> {
    results.replayed(lines, Outcome::Done);
    results.changed = lines.iter().any(|l| matches!(l, Line::Done(_)));
    results.out(&reversal::render(lines, style, "  "))?;
    let failures = lines
        .iter()
        .filter(|l| matches!(l, Line::Failed(_)))
        .count();
    if failures == 0 {
        results.out(&format!(
            "{}\n",
            paint(style.out, Style::SUCCESS, "uninstalled")
        ))?;
        Ok(0)
    } else {
        Err(stopped(
            ErrorId::ReversalFailed,
            format!(
                "{failures} step{} failed (see {}); the others were done",
                if failures == 1 { "" } else { "s" },
                if results.json() { "steps" } else { "above" }
            ),
            &[],
        ))
    }
}

/// Replays the journal, purges, removes the record; the lines say what happened.
fn execute(plan: &Plan, caller: &Caller, paths: &Paths, world: &World<'_>) -> Vec<Line> {
    let outcome = reversal::replay(&plan.journal, Goal::Uninstall, world, paths);
    let mut lines = outcome.lines;
    match &plan.purge {
        Some(Ok(dir)) => lines.push(match purge_dir(dir, caller, paths, outcome.stopped) {
            Ok(done) => Line::Done(done),
            Err(e) => Line::Failed(format!("purge {}: {e}", paths.short(dir))),
        }),
        Some(Err((dir, why))) if dir.exists() => lines.push(Line::LeftAlone(format!(
            "the data directory {} because {why}",
            paths.short(dir)
        ))),
        _ => {}
    }
    if plan.record {
        lines.push(match atomic::remove(&paths.state) {
            Ok(_) => Line::Done(format!(
                "removed the install record {}",
                paths.short(&paths.state)
            )),
            Err(e) => Line::Failed(format!("remove the install record: {e:#}")),
        });
    }
    lines
}

/// Whether the engine removes its own storage (`podman system reset`) rather than install's
/// marked data directory being removed.
fn engine_owns_storage(paths: &Paths) -> bool {
    matches!(paths.spec().runs, Runs::SocketActivated { .. })
}

/// Why `dir` may not be purged: a dangerous path, or no marker of install's in it.
fn purge_refusal(dir: &std::path::Path, paths: &Paths) -> Option<String> {
    purge::refuse_reason(dir, &paths.home).or_else(|| guard::data_root_refusal(dir, paths.uid))
}

/// Why the data directory was not purged.
#[derive(Debug, thiserror::Error)]
enum PurgeError {
    #[error("the engine may still be running; not removing its data under it")]
    StillRunning,
    #[error("{dir} is left alone: {why}")]
    Refused { dir: String, why: String },
    #[error(
        "rootlesskit not found; remove it with `rootlesskit rm -rf {}` once it is installed",
        .0.display()
    )]
    NoRootlesskit(std::path::PathBuf),
    #[error("podman not found; its storage is left as it is")]
    NoPodman,
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

fn purge_dir(
    dir: &std::path::Path,
    caller: &Caller,
    paths: &Paths,
    stopped: bool,
) -> Result<String, PurgeError> {
    if !stopped {
        return Err(PurgeError::StillRunning);
    }
    if engine_owns_storage(paths) {
        let Some(podman) = purge::find_podman(caller) else {
            return Err(PurgeError::NoPodman);
        };
        purge::reset_podman(&podman).map_err(PurgeError::Failed)?;
        return Ok(format!(
            "removed Podman's containers, images, volumes and storage ({})",
            paths.short(dir)
        ));
    }
    // Decided again at the moment of removal: the plan was made before the question.
    if let Some(why) = purge_refusal(dir, paths) {
        return Err(PurgeError::Refused {
            dir: paths.short(dir),
            why,
        });
    }
    let Some(rootlesskit) = purge::find_rootlesskit(caller) else {
        return Err(PurgeError::NoRootlesskit(dir.to_owned()));
    };
    let freed = purge::purge(&rootlesskit, dir).map_err(PurgeError::Failed)?;
    Ok(removed(&paths.short(dir), freed.bytes))
}

/// `removed DIR (freed 1.50 GiB)`: what a purge says it did.
fn removed(dir: &str, bytes: Option<u64>) -> String {
    let freed = bytes.map_or_else(
        || "an unknown amount".to_owned(),
        |b| indicatif::HumanBytes(b).to_string(),
    );
    format!("removed {dir} (freed {freed})")
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
