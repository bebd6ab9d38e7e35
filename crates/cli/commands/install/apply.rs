//! Carrying out an [`InstallPlan`]: write the files, reload, reset, enable, start or restart,
//! wait for `/_ping`, set up the CLI context, linger, and the install record. Every change is
//! noted in an [`Undo`] log first, so a failure at any step rolls back exactly what this run
//! did ([`super::rollback`]).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use rootless_setup_systemd::{Login, UserManager};

use super::plan::{Author, ContextPlan, FileChange, InstallPlan, LingerPlan, ServiceAction};
use super::rollback::{self, Undo};
use super::wait;
use crate::docker_context::{self, ContextAction, DockerCli};
use crate::paths::Paths;
use crate::state::{self, ContextRecord, FileRecord, Previous, STATE_VERSION, State};
use crate::style::{Style, paint};
use crate::{atomic, engine_api};

/// Everything one run needs.
#[derive(Debug)]
pub struct Apply<'a> {
    /// The user manager.
    pub manager: &'a UserManager,
    /// The caller's paths.
    pub paths: &'a Paths,
    /// What to do.
    pub plan: &'a InstallPlan,
    /// The record of an earlier install.
    pub old_state: Option<&'a State>,
    /// The docker client, when the plan touches the context.
    pub docker: Option<&'a DockerCli>,
    /// The engine's data directory.
    pub data_root: PathBuf,
    /// Deadline of the start job.
    pub job_timeout: Duration,
    /// Deadline for `/_ping` after the job.
    pub ping_timeout: Duration,
    /// Colours.
    pub style: &'a Style,
    /// Print timings.
    pub verbose: bool,
}

/// A failed install, already rolled back.
#[derive(Debug)]
pub struct Failure {
    /// One line.
    pub message: String,
    /// The unit's state, the journal tail and what the rollback did.
    pub details: Vec<String>,
}

impl Apply<'_> {
    /// Runs the plan; on failure rolls back and says what happened.
    pub fn run(self) -> Result<String, Failure> {
        let mut undo = Undo::default();
        let mut done: Vec<String> = Vec::new();
        match self.steps(&mut undo, &mut done) {
            Ok(summary) => Ok(summary),
            Err(mut failure) => {
                let login = Login::connect_system().ok();
                let lines = rollback::run(
                    &undo,
                    Some(self.manager),
                    self.docker,
                    login.as_ref(),
                    self.paths,
                );
                failure.details.push(format!(
                    "{} everything this run did was undone:",
                    paint(self.style.err, "1", "rollback:")
                ));
                failure
                    .details
                    .extend(lines.into_iter().map(|l| format!("  {l}")));
                Err(failure)
            }
        }
    }

    fn note(&self, done: &mut Vec<String>, line: String) {
        // With --verbose, progress as it happens (stderr); the summary lists it anyway.
        if self.verbose {
            eprintln!("{} {line}", paint(self.style.err, "2", "-"));
        }
        done.push(line);
    }

    fn steps(&self, undo: &mut Undo, done: &mut Vec<String>) -> Result<String, Failure> {
        let fail = |message: String| Failure {
            message,
            details: Vec::new(),
        };
        let plan = self.plan;
        let unit = plan.service.unit.as_str();
        undo.state_before =
            Some(atomic::read_optional(&self.paths.state).map_err(|e| fail(format!("{e:#}")))?);

        // Directories this run creates (for the files and the record), so undoing removes them.
        let mut dirs: Vec<PathBuf> = Vec::new();
        let targets = plan
            .files
            .iter()
            .filter(|f| f.change.writes())
            .map(|f| &f.path);
        for target in targets.chain(std::iter::once(&self.paths.state)) {
            for d in state::missing_dirs(target) {
                if !dirs.contains(&d) {
                    dirs.push(d);
                }
            }
        }
        undo.created_dirs.clone_from(&dirs);

        // Files.
        let mut records = Vec::new();
        for f in &plan.files {
            let previous = match (&f.old, f.change) {
                // A foreign file (the old tool's unit) is put back by uninstall; an edited
                // copy of ours is not: uninstall then removes it like any file of ours.
                (Some(text), FileChange::Overwrite(Author::Foreign)) => {
                    Some(Previous::Content { text: text.clone() })
                }
                (Some(text), FileChange::Update | FileChange::Overwrite(Author::Edited)) => {
                    Some(Previous::Ours {
                        sha256: rootless_setup_unit::header::digest(text),
                    })
                }
                _ => None,
            };
            records.push(FileRecord {
                path: f.path.clone(),
                sha256: rootless_setup_unit::header::digest(&f.new),
                previous,
            });
            if !f.change.writes() {
                continue;
            }
            undo.written.push((f.path.clone(), f.old.clone()));
            atomic::write(&f.path, f.new.as_bytes()).map_err(|e| fail(format!("{e:#}")))?;
            self.note(done, format!("wrote {}", self.paths.short(&f.path)));
        }
        let mut record = self.record(records, dirs);
        // Recorded before starting anything, so an interrupted install can still be undone.
        self.save(&record).map_err(fail)?;

        // The service.
        let m = self.manager;
        let dbus = |what: &str, e: rootless_setup_systemd::Error| fail(format!("{what}: {e}"));
        // Enable first (it works on the files on disk), then one reload: the manager then knows
        // the new files and the new `default.target.wants/` link, and reports no pending reload.
        let enabled = m.enable(&[unit]).map_err(|e| dbus("enable failed", e))?;
        if !enabled.changes.is_empty() {
            undo.enabled = true;
            record.enabled_by_us = true;
        }
        if plan.service.reload || !undo.written.is_empty() || undo.enabled {
            m.reload().map_err(|e| dbus("reload failed", e))?;
            undo.reloaded = true;
            self.note(done, "reloaded the systemd user manager".into());
        }
        if undo.enabled {
            self.note(done, format!("enabled {unit}"));
        }
        if plan.service.reset_failed {
            m.reset_failed(unit)
                .map_err(|e| dbus("reset-failed failed", e))?;
        }
        let mut action = plan.service.action;
        if action == ServiceAction::Keep
            && engine_api::ping(&plan.socket, Duration::from_secs(5)).is_err()
        {
            // Running but not answering: restart it.
            action = ServiceAction::Restart;
        }
        undo.was_active = plan.service.action != ServiceAction::Start;
        let timing = if action == ServiceAction::Keep {
            None
        } else {
            undo.started = true;
            let started = wait::start_and_wait(
                m,
                unit,
                action,
                self.job_timeout,
                self.ping_timeout,
                &plan.socket,
                self.style,
            )?;
            self.note(
                done,
                format!(
                    "{} {unit}; {} answers",
                    super::verb(action),
                    plan.socket.display()
                ),
            );
            Some(started)
        };

        // The CLI context.
        if let (
            Some(docker),
            ContextPlan::Act {
                action,
                endpoint,
                current,
                ..
            },
        ) = (self.docker, &plan.context)
        {
            self.context(docker, action, endpoint, current, undo, &mut record, done)?;
        }

        // Linger: not being allowed is not a failure.
        let mut linger_note = None;
        if matches!(plan.linger, LingerPlan::Enable | LingerPlan::Unknown(_)) {
            match enable_linger(self.paths.uid) {
                Ok(()) => {
                    undo.linger = true;
                    record.linger_enabled_by_us = true;
                    self.note(done, format!("enabled linger for {}", self.paths.user));
                }
                Err(e) => linger_note = Some(e),
            }
        }

        self.save(&record).map_err(fail)?;
        Ok(self.summary(done, timing.as_ref(), linger_note.as_deref()))
    }

    #[allow(clippy::too_many_arguments)]
    fn context(
        &self,
        docker: &DockerCli,
        action: &ContextAction,
        endpoint: &str,
        current: &str,
        undo: &mut Undo,
        record: &mut State,
        done: &mut Vec<String>,
    ) -> Result<(), Failure> {
        let name = docker_context::NAME;
        let fail = |e: anyhow::Error| Failure {
            message: format!("{e:#}"),
            details: Vec::new(),
        };
        let created = match action {
            ContextAction::Create => {
                docker.create(name, endpoint).map_err(fail)?;
                undo.context_created = Some(name.to_owned());
                self.note(done, format!("created docker context {name} ({endpoint})"));
                true
            }
            ContextAction::Recreate | ContextAction::Replace => {
                docker.remove(name).map_err(fail)?;
                docker.create(name, endpoint).map_err(fail)?;
                self.note(
                    done,
                    format!("re-created docker context {name} ({endpoint})"),
                );
                true
            }
            ContextAction::Keep => self
                .old_state
                .and_then(|s| s.context.as_ref())
                .is_some_and(|c| c.created),
            ContextAction::Adopt | ContextAction::Refuse { .. } => false,
        };
        let before = self.old_state.and_then(|s| s.context.as_ref());
        record.context = Some(ContextRecord {
            name: name.to_owned(),
            endpoint: endpoint.to_owned(),
            // Keep: ours by the record or by its description.
            created: created
                || matches!(action, ContextAction::Keep)
                || before.is_some_and(|c| c.name == name && c.created),
        });
        if current != name {
            docker.use_context(name).map_err(fail)?;
            undo.context_switched_from = Some(current.to_owned());
            self.note(
                done,
                format!("made {name} the current docker context (was {current})"),
            );
        }
        // The first install's previous context wins (merged from the earlier record).
        if record.previous_context.is_none() && current != name {
            record.previous_context = Some(current.to_owned());
        }
        Ok(())
    }

    fn record(&self, files: Vec<FileRecord>, dirs: Vec<PathBuf>) -> State {
        let now = state::now_rfc3339();
        let mut record = State {
            version: STATE_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            engine: "docker".to_owned(),
            unit: self.plan.service.unit.clone(),
            files,
            dirs,
            enabled_by_us: false,
            context: None,
            previous_context: None,
            linger_enabled_by_us: false,
            data_root: self.data_root.clone(),
            socket: self.plan.socket.clone(),
            installed_at: now.clone(),
            updated_at: now,
        };
        if let Some(earlier) = self.old_state {
            record.merge_earlier(earlier);
            // Keep the earlier context record until this run decides about the context.
            record.context.clone_from(&earlier.context);
        }
        record
    }

    fn save(&self, record: &State) -> Result<(), String> {
        record.save(&self.paths.state).map_err(|e| format!("{e:#}"))
    }

    fn summary(
        &self,
        done: &[String],
        timing: Option<&wait::Started>,
        linger: Option<&str>,
    ) -> String {
        let c = self.style.out;
        let mut s = String::new();
        if done.is_empty() {
            let _ = writeln!(
                s,
                "{}",
                paint(
                    c,
                    "1;32",
                    "nothing changed: the engine was already installed and answers"
                )
            );
        } else {
            let _ = writeln!(s, "{}", paint(c, "1;32", "installed rootless Docker"));
            for line in done {
                let _ = writeln!(s, "  changed: {line}");
            }
        }
        if let Some(t) = timing {
            if self.verbose {
                let _ = writeln!(
                    s,
                    "  timing: start job {:.1} ms, first /_ping answer {:.1} ms after readiness ({} attempts)",
                    t.job.as_secs_f64() * 1000.0,
                    t.ping.as_secs_f64() * 1000.0,
                    t.attempts
                );
            }
        }
        if let Some(why) = linger {
            let _ = writeln!(
                s,
                "  {} linger is off, so the engine stops when your last session ends: {why}\n    run: sudo loginctl enable-linger {}",
                paint(c, "1;33", "warning:"),
                self.paths.user
            );
        }
        let _ = writeln!(
            s,
            "  for tools that ignore docker contexts: export DOCKER_HOST={}",
            docker_context::endpoint(&self.plan.socket)
        );
        let _ = writeln!(
            s,
            "  status: rootless-setup status    remove: rootless-setup uninstall"
        );
        s
    }
}

/// Turns linger on through logind and reads it back; `Err` says why it is not on, with the
/// exact command to run instead.
fn enable_linger(uid: u32) -> Result<(), String> {
    let login = Login::connect_system().map_err(|e| e.to_string())?;
    let interactive = crate::prompt::interactive();
    match login.set_linger(uid, true, interactive) {
        Ok(()) => match login.linger(uid) {
            Ok(true) => Ok(()),
            Ok(false) => Err("logind accepted the request but linger is still off".into()),
            Err(e) => Err(format!("could not read linger back: {e}")),
        },
        Err(e) => Err(e.to_string()),
    }
}
