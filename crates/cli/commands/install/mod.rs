//! `rootless-setup install`: checks the prerequisites, renders the unit and drop-in, shows the
//! plan, writes the files atomically, reloads, enables and starts the engine over D-Bus, waits
//! for its API socket to answer `GET /_ping`, creates and selects the `rootless` docker CLI
//! context and turns linger on — recording everything in the install record so `uninstall`
//! reverses exactly that. A failure after the first change rolls back what this run did.
//!
//! - [`prereq`]: the check gate and the facts for the unit generator;
//! - [`plan`]: what will be done (printed by `--dry-run`);
//! - [`apply`]: doing it, step by step, journaled in the record before each effect (a failed
//!   run is reversed by [`crate::state::reversal`], the routine uninstall uses);
//! - [`wait`]: the start job and the `/_ping` wait.
//!
//! The whole run holds the per-user lock ([`crate::state::lock`]).

mod apply;
pub mod plan;
pub(crate) mod prereq;
mod tls;
mod wait;

use std::process::ExitCode;
use std::time::Duration;

use rootless_setup_checks::Caller;
use rootless_setup_core::Engine;
use rootless_setup_core::engine::Runs;
use rootless_setup_systemd::{Login, UserManager};
use rootless_setup_unit::{RenderedFile, Settings, containers_conf, podman_units, render};

use super::as_user::Prepare;
use crate::cli::Format;
use crate::commands::render::ConfigArgs;
use crate::docker_context::{self, ContextAction, DockerCli};
use crate::paths::Paths;
use crate::prompt::Spinner;
use crate::results::{self, CommandName, ErrorId, Outcome, Results};
use crate::state::State;
use crate::state::lock;
use crate::state::ops::{self, Contexts, Linger, World};
use crate::style::{STOPPED, Style, hinted, paint, stopped};
use plan::{
    ContextPlan, FilePlan, InstallPlan, LingerPlan, ServiceAction, file_change, service_plan,
};

/// Install a rootless engine (Docker unless --engine or the configuration says podman or
/// containerd) as a systemd user service for the current user.
///
/// Runs every prerequisite check first and stops on failures (listing their ids; `rootless-setup
/// fix` prints the root commands) unless --force. For Docker it then renders the unit and its
/// drop-in (see `rootless-setup render`); for Podman it uses the distribution's podman.socket
/// and writes only a containers.conf drop-in where the user manager has no delegated cgroup
/// controllers. It shows the plan, writes the files atomically, reloads the user manager,
/// enables and starts the unit over D-Bus, and waits until the engine answers `GET /_ping` on
/// its socket ($XDG_RUNTIME_DIR/docker.sock, $XDG_RUNTIME_DIR/podman/podman.sock) — no fixed
/// sleeps. It creates the engine's docker CLI context (`rootless`, `rootless-podman`) and makes
/// it current (the previous one is recorded and restored by uninstall), and turns linger on so
/// the engine outlives your session.
///
/// Idempotent: identical files are not rewritten and a running engine is not restarted. A file
/// edited by hand, or not written by rootless-setup, is never replaced without --force (the
/// difference is shown). If the engine does not start, everything this run did is rolled back
/// and the end of its journal is shown.
///
/// Everything done is recorded in $XDG_STATE_HOME/rootless-setup/ (state.json for Docker,
/// podman.json for Podman): Docker and Podman can be installed side by side.
///
/// With --format json, standard output carries one JSON document (docs/json.md, "command
/// results"): whether anything changed, each step and its outcome, warnings, and the error with
/// its id; nothing is asked.
///
/// Exit status: 0 installed (or already installed), 1 a prerequisite fails, a file or context
/// would be clobbered, or the engine did not start (rolled back), 2 usage or internal error.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// As root: act for this user (an ordinary login user): the command runs as NAME, with
    /// NAME's environment, exactly as if NAME had run it (see docs/admin.md).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Show the plan (a diff of every file, every D-Bus call, context and linger) and change
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation (for automation). Without a terminal nothing is asked anyway.
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Install although prerequisites fail, replace hand-edited or foreign unit files and a
    /// `rootless` context rootless-setup did not create.
    #[arg(long)]
    pub force: bool,

    /// Do not create or select the `rootless` docker CLI context.
    #[arg(long)]
    pub no_context: bool,

    /// Do not turn linger on.
    #[arg(long)]
    pub no_linger: bool,

    /// Seconds to wait for the API socket to answer once systemd reports the engine started.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,

    /// Also print timings (start job, time from readiness to the first answer).
    #[arg(short, long)]
    pub verbose: bool,

    /// Output format: `json` prints one result document and asks nothing.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs the install, for people or as a result document.
pub fn run(args: &Args, style: &Style) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.user {
        // Acting for another user ends in starting their user manager: refuse before the
        // root fix changes anything on a host where there is none.
        let engine = args.config.engine.as_deref().and_then(Engine::named);
        super::refuse_without_systemd(
            &rootless_setup_core::Host::real(),
            &Caller::from_process(),
            engine.unwrap_or_default(),
        )?;
        let mut fix = vec!["fix", "--user", name, "--apply"];
        if args.yes {
            fix.push("--yes");
        }
        if let Some(engine) = &args.config.engine {
            fix.extend(["--engine", engine]);
        }
        if let Some(driver) = &args.config.network_driver {
            fix.extend(["--network-driver", driver]);
        }
        return super::as_user::act_with_result(
            name,
            CommandName::Install,
            args.format,
            Prepare::Prerequisites(&fix),
            style,
        );
    }
    results::run(
        CommandName::Install,
        args.format,
        style,
        |style, results| install(args, style, results),
    )
}

/// The install: gate, render, gather, show, ask, act; its exit status.
fn install(args: &Args, style: &Style, results: &mut Results) -> anyhow::Result<u8> {
    let caller = Caller::from_process();
    results.acting_for(&caller, args.dry_run);
    results.engine = args.config.engine.as_deref().and_then(Engine::named);
    super::refuse_root(
        &caller,
        "install",
        "sets up a rootless engine for an ordinary user",
        "the user who will use the engine",
    )?;
    let (settings, _home) = args.config.load(&caller)?;
    results.engine = Some(settings.engine.value);
    super::refuse_without_systemd(
        &rootless_setup_core::Host::real(),
        &caller,
        settings.engine.value,
    )?;
    // The certificates are checked before anything is written (or locked).
    if let Some(warning) = tls::gate(&caller, &settings)? {
        results.warning(style, warning);
    }
    let paths = Paths::of(&caller, settings.engine.value)?;
    let _lock = if args.dry_run {
        None
    } else {
        Some(lock::acquire(&paths.state, "install", lock::WAIT)?)
    };
    if _lock.is_some() {
        for dir in paths.written_dirs() {
            crate::atomic::sweep(&dir);
        }
    }
    let pre = gate(args, &caller, &settings, style, results)?;
    let files = engine_files(&settings, &pre, &paths)?;
    for warning in &files.warnings {
        results.warning(style, warning.clone());
    }
    let now = gather(args, &caller, &paths, &pre, &files.rendered, style, results)?;
    if args.dry_run {
        return show_dry_run(&now, &paths, style, results);
    }
    refuse_clobbering(&now.plan, &paths, style, results)?;
    let manager = now.manager.map_err(|e| {
        let hint = e
            .hint()
            .unwrap_or("log in as the user through ssh or `machinectl shell USER@`");
        hinted(
            ErrorId::UserManagerUnreachable,
            format!("cannot reach the systemd user manager: {e}"),
            &[hint],
        )
    })?;
    let plan = now.plan;
    let engine =
        ops::probe(paths.spec().readiness, pre.client.as_deref(), &caller).ok_or_else(|| {
            hinted(
                ErrorId::ClientNotFound,
                format!(
                    "{} is asked whether it is ready with ctr, which was not found",
                    paths.engine.as_str()
                ),
                &["install containerd's ctr client (Debian: the containerd package)"],
            )
        })?;
    // Nothing to do? Then only prove the engine answers.
    if plan.changes_nothing() && engine.ping(&plan.socket, Duration::from_secs(5)).is_ok() {
        plan_steps(results, &plan, &paths, Shown::Unchanged);
        results.out(&format!(
            "nothing changed: {} is running with the same files and answers on {}\n  status: rootless-setup status{}\n",
            paths.started_unit(),
            plan.socket.display(),
            engine_flag(&paths),
        ))?;
        return Ok(0);
    }
    results.out(&format!("plan:\n{}", plan.render(&paths, false, style.out)))?;
    if !results.answer(args.yes).confirm("install?", true)? {
        results.note("nothing was changed");
        return Ok(STOPPED);
    }
    let applied = act(
        args,
        &paths,
        &plan,
        &manager,
        engine.as_ref(),
        now.old_state.as_ref(),
        &files,
        style,
        // Progress lines go to standard error, which a result document leaves alone.
        args.verbose && !results.json(),
    );
    record_run(results, &applied);
    let applied = applied.map_err(|f| f.into_error(style, !results.json()))?;
    results.out(&applied.summary)?;
    Ok(0)
}

/// Why the plan becomes the result document's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// `--dry-run`: every line `planned`.
    DryRun,
    /// Nothing to change: every line (`keep …`) `skipped`.
    Unchanged,
    /// Install refused: what it refused `left-alone`, the rest `skipped`.
    Refused,
}

/// Records the plan's lines as steps.
fn plan_steps(results: &mut Results, plan: &InstallPlan, paths: &Paths, shown: Shown) {
    for line in plan.lines(paths) {
        let outcome = match shown {
            Shown::DryRun => Outcome::Planned,
            Shown::Refused if line.refused => Outcome::LeftAlone,
            Shown::Unchanged | Shown::Refused => Outcome::Skipped,
        };
        results.step(line.text, outcome);
    }
}

/// What a run did, for the result document: the steps done; on failure the one that failed
/// and what the rollback did (the host changed only if the rollback was incomplete).
fn record_run(results: &mut Results, applied: &Result<apply::Applied, apply::Failure>) {
    match applied {
        Ok(a) => {
            results.steps(a.done.iter().cloned(), Outcome::Done);
            results.changed = !a.done.is_empty();
            results.warnings.extend(a.linger_off.iter().cloned());
        }
        Err(f) => {
            results.steps(f.undone.done.iter().cloned(), Outcome::Done);
            results.step(f.message.clone(), Outcome::Failed);
            results.replayed(&f.undone.rollback, Outcome::RolledBack);
            results.replayed(f.undone.record.as_slice(), Outcome::RolledBack);
            results.changed = f.rollback_incomplete();
        }
    }
}

/// The prerequisite gate: runs the checks, prints the tally and the failing and warning ones;
/// failures stop the install unless `--force`.
fn gate(
    args: &Args,
    caller: &Caller,
    settings: &rootless_setup_unit::Settings,
    style: &Style,
    results: &mut Results,
) -> anyhow::Result<prereq::Prereqs> {
    let spinner = Spinner::start("checking prerequisites", style.err);
    let pre = prereq::run(caller, settings);
    spinner.finish();
    let counts = pre.report.counts();
    let (failing, problems) = prereq::describe(&pre.report, style.out);
    let (failed, warned) = prereq::summaries(&pre.report);
    results.warnings.extend(warned);
    results.out(&format!(
        "checked {} prerequisites: {} pass, {} warn, {} fail, {} skip\n{problems}",
        pre.report.findings.len(),
        counts.pass,
        counts.warn,
        counts.fail,
        counts.skip
    ))?;
    if failing.is_empty() {
        return Ok(pre);
    }
    if args.force {
        results.warning(
            style,
            format!("installing although {} fail (--force)", failing.join(", ")),
        );
        return Ok(pre);
    }
    results.steps(failed, Outcome::Failed);
    Err(stopped(
        ErrorId::PrerequisitesFailed,
        format!(
            "install stopped: {}",
            prereq::failing_phrase(&failing.iter().map(String::as_str).collect::<Vec<_>>())
        ),
        &[
            "`rootless-setup check` explains each; `rootless-setup fix` prints the root commands that fix them; --force installs anyway",
        ],
    ))
}

/// What is there now and what install would do about it.
struct Gathered {
    plan: InstallPlan,
    old_state: Option<State>,
    manager: Result<UserManager, rootless_setup_systemd::Error>,
}

/// Renders the files and reads the record, the files on disk, the unit, the context and
/// linger into the plan.
fn gather(
    args: &Args,
    caller: &Caller,
    paths: &Paths,
    pre: &prereq::Prereqs,
    rendered: &[RenderedFile],
    style: &Style,
    results: &mut Results,
) -> anyhow::Result<Gathered> {
    let old_state = match State::load(&paths.state, paths.uid, paths.engine) {
        Ok(s) => s,
        Err(e) if args.force => {
            results.warning(
                style,
                format!("{e}; it is replaced (--force; uninstall then only knows this install)"),
            );
            None
        }
        Err(e) => {
            return Err(hinted(
                ErrorId::RecordUntrusted,
                e.to_string(),
                &[&e.help()],
            ));
        }
    };
    let manager = UserManager::connect_session();
    let unit_state = match &manager {
        Ok(m) => m.unit_state(paths.started_unit()).ok(),
        Err(_) => None,
    };
    let mut files = Vec::new();
    for r in rendered {
        let old = crate::atomic::read_optional(&r.path)?;
        files.push(FilePlan {
            change: file_change(old.as_deref(), &r.contents, args.force),
            path: r.path.clone(),
            new: r.contents.clone(),
            old,
        });
    }
    let files_change = files.iter().any(|f| f.change.writes());
    let service = service_plan(paths.started_unit(), files_change, unit_state.as_ref());
    let socket = paths.socket();
    let context = context_plan(
        args,
        caller,
        paths,
        pre.client.as_deref(),
        old_state.as_ref(),
        &socket,
    )?;
    let linger = if args.no_linger {
        LingerPlan::Skipped
    } else {
        match Login::connect_system().and_then(|l| l.linger(paths.uid)) {
            Ok(true) => LingerPlan::AlreadyOn,
            Ok(false) => LingerPlan::Enable,
            Err(e) => LingerPlan::Unknown(e.to_string()),
        }
    };
    Ok(Gathered {
        plan: InstallPlan {
            files,
            service,
            context,
            linger,
            socket,
        },
        old_state,
        manager,
    })
}

/// `--dry-run`: the plan with every diff, and nothing changed.
fn show_dry_run(
    now: &Gathered,
    paths: &Paths,
    style: &Style,
    results: &mut Results,
) -> anyhow::Result<u8> {
    plan_steps(results, &now.plan, paths, Shown::DryRun);
    results.out(&format!(
        "{}\n{}",
        paint(
            style.out,
            Style::BOLD,
            "install would (dry run, nothing changed):"
        ),
        now.plan.render(paths, true, style.out)
    ))?;
    if let Err(e) = &now.manager {
        results
            .warnings
            .push(format!("the user manager could not be asked: {e}"));
        results.out(&format!(
            "  note: the user manager could not be asked: {e}\n"
        ))?;
    }
    Ok(0)
}

/// Stops (after showing the plan and the diffs) when a file or the context would be clobbered.
fn refuse_clobbering(
    plan: &InstallPlan,
    paths: &Paths,
    style: &Style,
    results: &mut Results,
) -> anyhow::Result<()> {
    let refused = plan.refused();
    let context_refused = match &plan.context {
        ContextPlan::Act {
            action: ContextAction::Refuse { .. },
            name,
            ..
        } => Some(*name),
        _ => None,
    };
    if refused.is_empty() && context_refused.is_none() {
        return Ok(());
    }
    plan_steps(results, plan, paths, Shown::Refused);
    results.out(&format!("plan:\n{}", plan.render(paths, false, style.out)))?;
    for (f, _) in &refused {
        results.out(&crate::diff::unified(
            &f.path.display().to_string(),
            f.old.as_deref(),
            &f.new,
            style.out,
        ))?;
    }
    let what = if let (true, Some(name)) = (refused.is_empty(), context_refused) {
        format!("a docker context named {name} that rootless-setup did not create exists")
    } else {
        format!(
            "{} not written by rootless-setup or edited by hand (the diff above shows what install would write)",
            refused
                .iter()
                .map(|(f, _)| paths.short(&f.path))
                .collect::<Vec<_>>()
                .join(" and ")
        )
    };
    Err(stopped(
        ErrorId::WouldClobber,
        format!("install stopped: {what}"),
        &[&format!(
            "keep your changes in an override (`systemctl --user edit {}`), remove the old install (`rootless-setup uninstall{}`), or pass --force to replace it (a file rootless-setup did not write is kept in the install record and put back by uninstall)",
            paths.spec().unit,
            engine_flag(paths)
        )],
    ))
}

/// Carries the plan out; on failure everything this run did is already rolled back.
#[allow(clippy::too_many_arguments)]
fn act(
    args: &Args,
    paths: &Paths,
    plan: &InstallPlan,
    manager: &UserManager,
    engine: &dyn ops::Engine,
    old_state: Option<&State>,
    files: &EngineFiles,
    style: &Style,
    verbose: bool,
) -> Result<apply::Applied, apply::Failure> {
    let docker = match &plan.context {
        ContextPlan::Act { docker, .. } => Some(DockerCli {
            path: docker.clone(),
            config_dir: paths.docker_config.clone(),
        }),
        _ => None,
    };
    let login = Login::connect_system().ok();
    apply::Apply {
        world: World {
            manager: Some(manager),
            login: login.as_ref().map(|l| l as &dyn Linger),
            docker: docker.as_ref().map(|d| d as &dyn Contexts),
            engine,
        },
        paths,
        plan,
        old_state,
        data_root: files.data_root.clone(),
        remote: files.remote.clone(),
        job_timeout: Duration::from_secs(u64::from(files.start_timeout) + 15),
        ping_timeout: Duration::from_secs(args.timeout.max(1)),
        style,
        verbose,
    }
    .run()
}

/// Decides the context part of the plan.
fn context_plan(
    args: &Args,
    caller: &Caller,
    paths: &Paths,
    found: Option<&std::path::Path>,
    old_state: Option<&State>,
    socket: &std::path::Path,
) -> anyhow::Result<ContextPlan> {
    if args.no_context {
        return Ok(ContextPlan::Skipped);
    }
    let Some(name) = paths.context() else {
        return Ok(ContextPlan::NoContext);
    };
    let Some(path) = docker_context::find_docker(caller, found) else {
        return Ok(ContextPlan::NoClient);
    };
    let docker = DockerCli {
        path: path.clone(),
        config_dir: paths.docker_config.clone(),
    };
    let existing = docker.inspect(name)?;
    let ours = old_state.is_some_and(|s| s.created_context(name));
    let endpoint = docker_context::endpoint(socket);
    Ok(ContextPlan::Act {
        docker: path,
        name,
        action: docker_context::decide(existing.as_ref(), &endpoint, ours, args.force),
        endpoint,
        current: docker_context::current_context(&paths.docker_config),
    })
}

/// The files install writes for the engine, and what they imply.
struct EngineFiles {
    rendered: Vec<RenderedFile>,
    /// The unit generator's warnings.
    warnings: Vec<String>,
    /// The data directory install marks (none: the engine manages its own, like Podman).
    data_root: Option<std::path::PathBuf>,
    /// Seconds systemd gives the engine to start.
    start_timeout: u32,
    /// The remote API the unit serves.
    remote: Option<crate::state::RemoteApi>,
}

/// Renders what install writes: the unit and drop-in of an engine that runs under rootlesskit;
/// for a socket-activated one (Podman) its containers.conf drop-in where the user manager has
/// no delegated controllers (`cgroup`), and its socket and service units where the system
/// ships none ([`ships_socket`]).
fn engine_files(
    settings: &Settings,
    pre: &prereq::Prereqs,
    paths: &Paths,
) -> anyhow::Result<EngineFiles> {
    match paths.spec().runs {
        Runs::Rootlesskit(_) => {
            let unit_plan = rootless_setup_unit::plan(settings, &pre.discovered)?;
            Ok(EngineFiles {
                rendered: render(&unit_plan, &paths.unit_dir)?,
                data_root: Some(
                    unit_plan
                        .data_root
                        .clone()
                        .unwrap_or_else(|| paths.default_data_root()),
                ),
                start_timeout: unit_plan.start_timeout,
                remote: unit_plan.remote.as_ref().map(|r| crate::state::RemoteApi {
                    address: r.expose.to_string(),
                    tls_dir: r.tls_dir.clone(),
                }),
                warnings: unit_plan.warnings,
            })
        }
        Runs::SocketActivated { socket } => Ok(EngineFiles {
            rendered: {
                let mut files = Vec::new();
                if pre.controllers_delegated != Some(true) {
                    files.push(containers_conf(&paths.config_home)?);
                }
                if let (false, Some(podman)) = (ships_socket(socket, paths), &pre.podman) {
                    files.extend(podman_units(podman, &paths.unit_dir)?);
                }
                files
            },
            warnings: Vec::new(),
            data_root: None,
            start_timeout: settings.start_timeout.value,
            remote: None,
        }),
    }
}

/// Whether the system ships the engine's socket unit: a file in one of systemd's system-wide
/// user unit directories, or a unit the user manager loads from outside the user's unit
/// directory. One only in the user's unit directory is ours from an earlier install (kept up
/// to date) or the user's own (which install refuses to replace without --force).
fn ships_socket(socket: &str, paths: &Paths) -> bool {
    let on_disk = || {
        rootless_setup_core::paths::SYSTEM_USER_UNIT_DIRS
            .iter()
            .any(|dir| {
                std::path::Path::new(dir)
                    .join(socket)
                    .symlink_metadata()
                    .is_ok()
            })
    };
    // The bus is asked only when no file says so.
    let loaded_elsewhere = || {
        UserManager::connect_session()
            .and_then(|m| m.unit_state(socket))
            .is_ok_and(|state| {
                state.exists()
                    && state
                        .fragment_path
                        .as_deref()
                        .is_some_and(|f| !f.starts_with(&paths.unit_dir))
            })
    };
    on_disk() || loaded_elsewhere()
}

/// ` --engine NAME` for commands shown to the user, when the engine is not the default.
pub(crate) fn engine_flag(paths: &Paths) -> String {
    match paths.engine {
        rootless_setup_core::Engine::Docker => String::new(),
        other => format!(" --engine {}", other.as_str()),
    }
}

/// Whether the plan restarts or starts the service (for messages).
pub(crate) fn verb(action: ServiceAction) -> &'static str {
    match action {
        ServiceAction::Start => "started",
        ServiceAction::Restart => "restarted",
        ServiceAction::Keep => "kept",
    }
}
