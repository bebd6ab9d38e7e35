//! Carrying out an [`InstallPlan`]: write the files, mark the data directory, reload, reset,
//! enable, start or restart, wait for `/_ping`, set up the CLI context and linger. Every step
//! is appended to the install record's journal and saved *before* its effect becomes visible,
//! then marked done; a failure at any step replays this run's entries in reverse through
//! [`crate::state::reversal`] (the same routine uninstall uses) and puts the record back as it was.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use super::plan::{
    Author, ContextPlan, FileChange, FilePlan, InstallPlan, LingerPlan, ServiceAction,
};
use super::wait;
use crate::atomic;
use crate::docker_context::ContextAction;
use crate::paths::Paths;
use crate::results::ErrorId;
use crate::state::guard;
use crate::state::ops::{Contexts, Manager, World};
use crate::state::reversal::{self, Goal, Line};
use crate::state::{Previous, RemoteApi, State, Step};
use crate::style::{Prefix, Style, line, paint};

/// Everything one run needs.
pub struct Apply<'a> {
    /// What it acts on; the manager is required.
    pub world: World<'a>,
    /// The caller's paths.
    pub paths: &'a Paths,
    /// What to do.
    pub plan: &'a InstallPlan,
    /// The record of an earlier install.
    pub old_state: Option<&'a State>,
    /// The engine's data directory, marked as its own (none: the engine manages its own).
    pub data_root: Option<PathBuf>,
    /// The remote API the files serve, for the record.
    pub remote: Option<RemoteApi>,
    /// Deadline of the start job.
    pub job_timeout: Duration,
    /// Deadline for `/_ping` after the job.
    pub ping_timeout: Duration,
    /// Colours.
    pub style: &'a Style,
    /// Print progress as it happens.
    pub verbose: bool,
}

/// A failed install, already rolled back.
#[derive(Debug)]
pub struct Failure {
    /// The kind: the engine did not start, or another step failed.
    pub id: ErrorId,
    /// One line.
    pub message: String,
    /// The unit's state and the journal tail.
    pub details: Vec<String>,
    /// What the run did and how it was undone.
    pub undone: Box<Undone>,
}

/// What a failed run had done and how its rollback undid it.
#[derive(Debug, Default)]
pub struct Undone {
    /// What this run had done before it failed, one line each.
    pub done: Vec<String>,
    /// What the rollback did.
    pub rollback: Vec<Line>,
    /// What became of the install record (put back or removed).
    pub record: Option<Line>,
}

/// A step's error: its message and causes on one line.
impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::new(ErrorId::InstallStepFailed, format!("{e:#}"))
    }
}

impl Failure {
    /// A failure of kind `id` before anything is rolled back.
    pub fn new(id: ErrorId, message: String) -> Failure {
        Failure {
            id,
            message,
            details: Vec::new(),
            undone: Box::default(),
        }
    }

    /// Whether the rollback left something changed (a reversal or the record's restoration
    /// failed).
    pub fn rollback_incomplete(&self) -> bool {
        self.undone
            .rollback
            .iter()
            .chain(&self.undone.record)
            .any(|l| matches!(l, Line::Failed(_)))
    }

    /// What is printed under `error:`: the details, then what the rollback did.
    pub fn human_details(&self, style: &Style) -> Vec<String> {
        let mut details = self.details.clone();
        details.push(format!(
            "{} everything this run did was undone:",
            paint(style.err, Style::BOLD, "rollback:")
        ));
        details.push(reversal::render(&self.undone.rollback, style, "  "));
        details.extend(self.undone.record.iter().map(|l| match l {
            Line::Done(t) => format!("  done {t}"),
            Line::Failed(t) | Line::LeftAlone(t) => format!("  failed {t}"),
        }));
        details
    }

    /// The error install ends with: `error: MESSAGE`, the details (with `rollback`, what the
    /// rollback did), exit status 1.
    pub fn into_error(self, style: &Style, rollback: bool) -> anyhow::Error {
        let details = if rollback {
            self.human_details(style)
        } else {
            self.details
        };
        anyhow::Error::new(crate::style::Hinted {
            id: self.id,
            message: self.message,
            details,
            help: Vec::new(),
            exit: crate::style::STOPPED,
        })
    }
}

/// A successful run.
#[derive(Debug)]
pub struct Applied {
    /// The summary printed for people.
    pub summary: String,
    /// What changed, one line each (none: nothing did).
    pub done: Vec<String>,
    /// Linger is off although install asked for it: the warning, with what to run.
    pub linger_off: Option<String>,
}

/// The record being written and what this run did.
struct Run {
    record: State,
    done: Vec<String>,
}

impl Apply<'_> {
    /// Runs the plan; on failure rolls back and says what happened.
    pub fn run(self) -> Result<Applied, Failure> {
        let before = atomic::read_optional(&self.paths.state)?;
        let mut record = match self.old_state {
            Some(s) => s.clone(),
            None => State::new(
                self.paths.engine,
                self.data_root
                    .clone()
                    .unwrap_or_else(|| self.paths.default_data_root()),
                self.plan.socket.clone(),
            ),
        };
        record.tool_version = env!("CARGO_PKG_VERSION").to_owned();
        if let Some(data_root) = &self.data_root {
            record.data_root.clone_from(data_root);
        }
        record.socket.clone_from(&self.plan.socket);
        record.remote.clone_from(&self.remote);
        let start = record.journal.len();
        // The record's own missing directories, removed again if the run is undone.
        let state_dirs = crate::state::missing_dirs(&self.paths.state);
        let mut run = Run {
            record,
            done: Vec::new(),
        };
        match self.steps(&mut run) {
            Ok(timing) => {
                run.record.compact();
                self.save(&mut run.record)?;
                Ok(Applied {
                    summary: self.summary(&run.done, timing.0.as_ref(), timing.1.as_ref()),
                    linger_off: timing.1.map(|why| self.linger_warning(&why)),
                    done: run.done,
                })
            }
            Err(mut failure) => {
                let outcome = reversal::replay(
                    &run.record.journal[start..],
                    Goal::Rollback,
                    &self.world,
                    self.paths,
                );
                let record = match &before {
                    Some(text) => atomic::write_mode(&self.paths.state, text.as_bytes(), 0o600)
                        .map(|()| "put the install record back".to_owned()),
                    None => atomic::remove(&self.paths.state).map(|_| {
                        for dir in state_dirs.iter().rev() {
                            atomic::remove_empty_dir(dir);
                        }
                        "removed the install record".to_owned()
                    }),
                };
                *failure.undone = Undone {
                    done: run.done,
                    rollback: outcome.lines,
                    record: Some(match record {
                        Ok(line) => Line::Done(line),
                        Err(e) => Line::Failed(format!("{e:#}")),
                    }),
                };
                Err(failure)
            }
        }
    }

    fn note(&self, done: &mut Vec<String>, line: String) {
        // With --verbose, progress as it happens (stderr); the summary lists it anyway.
        if self.verbose {
            eprintln!("{} {line}", paint(self.style.err, Style::DIM, "-"));
        }
        done.push(line);
    }

    fn save(&self, record: &mut State) -> anyhow::Result<()> {
        record.save(&self.paths.state)
    }

    /// Journals `step` as pending and saves the record: call right before the effect.
    fn begin(&self, run: &mut Run, step: Step) -> Result<usize, Failure> {
        let index = run.record.begin(step);
        self.save(&mut run.record)?;
        Ok(index)
    }

    /// Marks `index` done and saves.
    fn finish(&self, run: &mut Run, index: usize) -> Result<(), Failure> {
        run.record.finish(index);
        Ok(self.save(&mut run.record)?)
    }

    /// Drops the pending last entry (the step turned out to change nothing) and saves.
    fn forget(&self, run: &mut Run) -> Result<(), Failure> {
        run.record.journal.pop();
        Ok(self.save(&mut run.record)?)
    }

    fn steps(&self, run: &mut Run) -> Result<(Option<wait::Started>, Option<LingerOff>), Failure> {
        let plan = self.plan;
        for f in &plan.files {
            self.file(run, f)?;
        }
        self.data_root(run)?;
        let m = self.world.manager.ok_or_else(|| {
            Failure::new(
                ErrorId::UserManagerUnreachable,
                "the systemd user manager cannot be reached".to_owned(),
            )
        })?;
        let action = self.service(run, m)?;
        let timing = if action == ServiceAction::Keep {
            None
        } else {
            Some(self.start(run, m, action)?)
        };
        if let (
            Some(docker),
            ContextPlan::Act {
                name,
                action,
                endpoint,
                current,
                ..
            },
        ) = (self.world.docker, &plan.context)
        {
            self.context(run, docker, name, action, endpoint, current)?;
        }
        let linger = self.linger(run)?;
        Ok((timing, linger))
    }

    /// One rendered file: its missing directories and the file, journaled first.
    fn file(&self, run: &mut Run, f: &FilePlan) -> Result<(), Failure> {
        let sha256 = rootless_setup_unit::header::digest(&f.new);
        if !f.change.writes() {
            // Ours already, but unrecorded (its record was lost): record it so uninstall
            // removes it, with its text so a rollback leaves it.
            if !run.record.files().any(|p| p == f.path) {
                let i = run.record.begin(Step::File {
                    path: f.path.clone(),
                    sha256: sha256.clone(),
                    previous: Some(Previous::Ours {
                        sha256,
                        text: Some(f.new.clone()),
                    }),
                });
                self.finish(run, i)?;
            }
            return Ok(());
        }
        let previous = match (&f.old, f.change) {
            // A foreign file (the old tool's unit) is put back by uninstall; an earlier or
            // edited copy of ours only by a rollback.
            (Some(text), FileChange::Overwrite(Author::Foreign)) => {
                Some(Previous::Content { text: text.clone() })
            }
            (Some(text), _) => Some(Previous::Ours {
                sha256: rootless_setup_unit::header::digest(text),
                text: Some(text.clone()),
            }),
            (None, _) => None,
        };
        let dirs = crate::state::missing_dirs(&f.path);
        let mut pending: Vec<usize> = dirs
            .into_iter()
            .map(|path| run.record.begin(Step::Dir { path }))
            .collect();
        pending.push(self.begin(
            run,
            Step::File {
                path: f.path.clone(),
                sha256,
                previous,
            },
        )?);
        atomic::write(&f.path, f.new.as_bytes())?;
        for i in pending {
            run.record.finish(i);
        }
        self.save(&mut run.record)?;
        self.note(
            &mut run.done,
            format!("wrote {}", self.paths.short(&f.path)),
        );
        Ok(())
    }

    /// The data directory: created if missing (its missing parents journaled like a file's),
    /// marked as the engine's unless it is already.
    fn data_root(&self, run: &mut Run) -> Result<(), Failure> {
        let Some(path) = self.data_root.clone() else {
            return Ok(());
        };
        if guard::data_root_refusal(&path, self.paths.uid).is_none() {
            return Ok(());
        }
        let created = std::fs::symlink_metadata(&path).is_err();
        let mut pending: Vec<usize> = crate::state::missing_dirs(&path)
            .into_iter()
            .map(|path| run.record.begin(Step::Dir { path }))
            .collect();
        pending.push(self.begin(
            run,
            Step::DataRoot {
                path: path.clone(),
                created,
            },
        )?);
        guard::mark_data_root(&path, self.paths.uid)?;
        for i in pending {
            run.record.finish(i);
        }
        Ok(self.save(&mut run.record)?)
    }

    /// Enable, reload, reset: the service action to take.
    fn service(&self, run: &mut Run, m: &dyn Manager) -> Result<ServiceAction, Failure> {
        let plan = self.plan;
        let unit = plan.service.unit.as_str();
        let dbus = |what: &str, e: rootless_setup_systemd::Error| {
            Failure::new(ErrorId::InstallStepFailed, format!("{what}: {e}"))
        };
        // Enable first (it works on the files on disk), then one reload: the manager then knows
        // the new files and the new `default.target.wants/` link. Enablement is journaled only
        // when it was off: a unit enabled before install stays enabled after uninstall.
        let journaled = if plan.service.enabled {
            None
        } else {
            Some(self.begin(
                run,
                Step::Enable {
                    unit: unit.to_owned(),
                },
            )?)
        };
        let enabled = m.enable(unit).map_err(|e| dbus("enable failed", e))?;
        match (journaled, enabled) {
            (Some(i), true) => {
                self.finish(run, i)?;
                self.note(&mut run.done, format!("enabled {unit}"));
            }
            (Some(_), false) => self.forget(run)?,
            _ => {}
        }
        let wrote = plan.files.iter().any(|f| f.change.writes());
        if plan.service.reload || wrote || enabled {
            m.reload().map_err(|e| dbus("reload failed", e))?;
            self.note(&mut run.done, "reloaded the systemd user manager".into());
        }
        if plan.service.reset_failed {
            m.reset_failed(unit)
                .map_err(|e| dbus("reset-failed failed", e))?;
        }
        let mut action = plan.service.action;
        if action == ServiceAction::Keep
            && self
                .world
                .engine
                .ping(&plan.socket, Duration::from_secs(5))
                .is_err()
        {
            // Running but not answering: restart it.
            action = ServiceAction::Restart;
        }
        Ok(action)
    }

    fn start(
        &self,
        run: &mut Run,
        m: &dyn Manager,
        action: ServiceAction,
    ) -> Result<wait::Started, Failure> {
        let plan = self.plan;
        let unit = plan.service.unit.as_str();
        let i = self.begin(
            run,
            Step::Start {
                unit: unit.to_owned(),
                was_active: plan.service.action != ServiceAction::Start,
            },
        )?;
        let started = wait::start_and_wait(
            m,
            self.world.engine,
            unit,
            action,
            self.job_timeout,
            self.ping_timeout,
            &plan.socket,
            self.style,
        )?;
        self.finish(run, i)?;
        self.note(
            &mut run.done,
            format!(
                "{} {unit}; {} answers",
                super::verb(action),
                plan.socket.display()
            ),
        );
        Ok(started)
    }

    fn context(
        &self,
        run: &mut Run,
        docker: &dyn Contexts,
        name: &str,
        action: &ContextAction,
        endpoint: &str,
        current: &str,
    ) -> Result<(), Failure> {
        let step = Step::Context {
            name: name.to_owned(),
            endpoint: endpoint.to_owned(),
        };
        match action {
            ContextAction::Create => {
                let i = self.begin(run, step)?;
                docker.create(name, endpoint)?;
                self.finish(run, i)?;
                self.note(
                    &mut run.done,
                    format!("created docker context {name} ({endpoint})"),
                );
            }
            ContextAction::Recreate | ContextAction::Replace => {
                let i = self.begin(run, step)?;
                docker.remove(name)?;
                docker.create(name, endpoint)?;
                self.finish(run, i)?;
                self.note(
                    &mut run.done,
                    format!("re-created docker context {name} ({endpoint})"),
                );
            }
            // Ours by its description but unrecorded (a killed run, a lost record): record it.
            ContextAction::Keep if !run.record.created_context(name) => {
                let i = run.record.begin(step);
                self.finish(run, i)?;
            }
            ContextAction::Keep | ContextAction::Adopt | ContextAction::Refuse { .. } => {}
        }
        if current != name {
            let i = self.begin(
                run,
                Step::Switch {
                    from: current.to_owned(),
                    to: name.to_owned(),
                },
            )?;
            docker.use_context(name)?;
            self.finish(run, i)?;
            self.note(
                &mut run.done,
                format!("made {name} the current docker context (was {current})"),
            );
        }
        Ok(())
    }

    /// Linger: not being allowed is not a failure; returns why it is off then.
    fn linger(&self, run: &mut Run) -> Result<Option<LingerOff>, Failure> {
        if !matches!(
            self.plan.linger,
            LingerPlan::Enable | LingerPlan::Unknown(_)
        ) {
            return Ok(None);
        }
        let i = self.begin(run, Step::Linger)?;
        match enable_linger(self.world.login, self.paths.uid) {
            Ok(()) => {
                self.finish(run, i)?;
                self.note(
                    &mut run.done,
                    format!("enabled linger for {}", self.paths.user),
                );
                Ok(None)
            }
            Err(e) => {
                self.forget(run)?;
                Ok(Some(e))
            }
        }
    }

    fn summary(
        &self,
        done: &[String],
        timing: Option<&wait::Started>,
        linger: Option<&LingerOff>,
    ) -> String {
        let c = self.style.out;
        let mut s = String::new();
        if done.is_empty() {
            let _ = writeln!(
                s,
                "{}",
                paint(
                    c,
                    Style::SUCCESS,
                    "nothing changed: the engine was already installed and answers"
                )
            );
        } else {
            let _ = writeln!(
                s,
                "{}",
                paint(
                    c,
                    Style::SUCCESS,
                    &format!("installed rootless {}", self.paths.spec().title)
                )
            );
            for line in done {
                let _ = writeln!(s, "  changed: {line}");
            }
        }
        if let Some(t) = timing
            && self.verbose
        {
            let _ = writeln!(
                s,
                "  timing: start job {:.1} ms, first /_ping answer {:.1} ms after readiness ({} attempts)",
                t.job.as_secs_f64() * 1000.0,
                t.ping.as_secs_f64() * 1000.0,
                t.attempts
            );
        }
        if let Some(why) = linger {
            let _ = writeln!(
                s,
                "  {}\n    run: sudo loginctl enable-linger {}",
                line(c, Prefix::Warning, &linger_off(why)),
                self.paths.user
            );
        }
        let spec = self.paths.spec();
        let address = format!(
            "export {}={}{}",
            spec.address_variable,
            spec.address_scheme,
            self.plan.socket.display()
        );
        if self.paths.context().is_some() {
            let _ = writeln!(s, "  for tools that ignore docker contexts: {address}");
        } else {
            let _ = writeln!(s, "  for its clients: {address}");
        }
        if self.paths.engine == rootless_setup_core::Engine::Containerd {
            let _ = writeln!(
                s,
                "  containers run inside its namespaces: rootless-setup enter --engine containerd -- ctr run …\n  ctr and nerdctl use the containerd namespace `default` (CONTAINERD_NAMESPACE chooses another)\n  nerdctl is not packaged in Debian; the nerdctl-full release bundle works with this engine"
            );
        }
        let flag = super::engine_flag(self.paths);
        let _ = writeln!(
            s,
            "  status: rootless-setup status{flag}    remove: rootless-setup uninstall{flag}"
        );
        s
    }

    /// The warning of the result document when linger stayed off.
    fn linger_warning(&self, why: &LingerOff) -> String {
        format!(
            "{}; run: sudo loginctl enable-linger {}",
            linger_off(why),
            self.paths.user
        )
    }
}

/// The warning that linger stayed off, and why.
fn linger_off(why: &LingerOff) -> String {
    format!("linger is off, so the engine stops when your last session ends: {why}")
}

/// Why linger is not on after install asked for it.
#[derive(Debug, thiserror::Error)]
enum LingerOff {
    #[error("logind could not be reached")]
    NoLogind,
    #[error("{0}")]
    Refused(rootless_setup_systemd::Error),
    #[error("logind accepted the request but linger is still off")]
    StillOff,
    #[error("could not read linger back: {0}")]
    Unread(rootless_setup_systemd::Error),
}

/// Turns linger on through logind and reads it back.
fn enable_linger(login: Option<&dyn crate::state::ops::Linger>, uid: u32) -> Result<(), LingerOff> {
    let login = login.ok_or(LingerOff::NoLogind)?;
    let interactive = crate::prompt::interactive();
    login
        .set_linger(uid, true, interactive)
        .map_err(LingerOff::Refused)?;
    match login.linger(uid) {
        Ok(true) => Ok(()),
        Ok(false) => Err(LingerOff::StillOff),
        Err(e) => Err(LingerOff::Unread(e)),
    }
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "results_tests.rs"]
mod results_tests;
