//! The one routine that reverses the install journal ([`crate::state`]): a failed install
//! rolls back its own entries, `uninstall` all of them. Entries are replayed last first; each
//! reversal checks what is there now and tolerates a step that never happened (a pending entry
//! left by a killed run), so replaying twice is harmless.
//!
//! - linger: turned off (only ever recorded when install turned it on);
//! - the context switch: the recorded previous context made current again if ours still is;
//! - the context: removed if it still is the one install made;
//! - the engine: stopped; started again at the end if it ran before;
//! - the enablement: undone (only ever recorded when install enabled it);
//! - a file: within [`crate::state::guard`]'s rules only; put back or removed when it still is what
//!   install wrote (or our rendering), moved aside when edited since;
//! - a directory: removed when empty and within the rules;
//! - the data directory's marker: removed by a rollback (uninstall keeps the data; `--purge`
//!   is uninstall's own step).
//!
//! Every step runs even when an earlier one failed; each says what happened as a [`Line`].

use std::path::Path;
use std::time::Duration;

use rootless_setup_systemd::Error as BusError;
use rootless_setup_unit::{FileOrigin, classify, header::digest};

use crate::atomic;
use crate::docker_context;
use crate::paths::Paths;
use crate::state::guard;
use crate::state::ops::World;
use crate::state::{Entry, Previous, Step, now_secs};

/// Deadline of a stop job: longer than the unit's `TimeoutStopSec=` (120 s).
pub const STOP_TIMEOUT: Duration = Duration::from_secs(135);
/// Deadline for starting again an engine that ran before: longer than systemd's default
/// `TimeoutStartSec=` (90 s), as that unit is not ours.
pub const RESTART_PREVIOUS_TIMEOUT: Duration = Duration::from_secs(105);

/// Why the journal is replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// A failed install: back to exactly the state before the run.
    Rollback,
    /// Back to before the first install; our own earlier renderings are removed, not put back.
    Uninstall,
}

/// What one reversal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Done(String),
    /// Tried and failed (what, why).
    Failed(String),
    /// Not touched (what, because).
    LeftAlone(String),
}

/// What a replay did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// One per action, in order.
    pub lines: Vec<Line>,
    /// Whether an engine the journal started is known stopped (nothing to stop counts).
    pub stopped: bool,
}

/// Replays `entries` (last first) towards `goal`.
pub fn replay(entries: &[Entry], goal: Goal, world: &World<'_>, paths: &Paths) -> Outcome {
    let mut r = Replayer {
        world,
        paths,
        goal,
        out: Outcome {
            lines: Vec::new(),
            stopped: true,
        },
        reload: false,
        start_again: false,
    };
    for entry in entries.iter().rev() {
        r.step(&entry.step);
    }
    r.finish();
    r.out
}

struct Replayer<'a, 'w> {
    world: &'a World<'w>,
    paths: &'a Paths,
    goal: Goal,
    out: Outcome,
    /// Files or links changed: the manager must reload.
    reload: bool,
    /// The engine ran before install: start it again at the end.
    start_again: bool,
}

impl Replayer<'_, '_> {
    fn push(&mut self, line: Line) {
        self.out.lines.push(line);
    }

    /// `done …` or `failed …: the error and its causes`.
    fn result(&mut self, done: String, r: anyhow::Result<()>) {
        self.push(match r {
            Ok(()) => Line::Done(done),
            Err(e) => Line::Failed(format!("{done}: {e:#}")),
        });
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Linger => self.linger(),
            Step::Switch { from, to } => self.switch(from, to),
            Step::Context { name, endpoint } => self.context(name, endpoint),
            Step::Start { unit, was_active } => {
                if self.our_unit(unit) {
                    self.stop(*was_active);
                }
            }
            Step::Enable { unit } => {
                if self.our_unit(unit) {
                    self.disable();
                }
            }
            Step::File {
                path,
                sha256,
                previous,
            } => self.file(path, sha256, previous.as_ref()),
            Step::Dir { path } => match guard::dir_refusal(path, self.paths) {
                None => {
                    atomic::remove_empty_dir(path);
                }
                Some(why) => self.push(Line::LeftAlone(format!(
                    "{} because {why}",
                    self.paths.short(path)
                ))),
            },
            Step::DataRoot { path, created } => {
                if self.goal == Goal::Rollback {
                    let r = guard::unmark_data_root(path, *created, self.paths.uid);
                    if r.is_err() {
                        self.result(format!("unmark {}", self.paths.short(path)), r);
                    }
                }
            }
        }
    }

    fn our_unit(&mut self, unit: &str) -> bool {
        let managed = self.paths.started_unit();
        let ours = unit == managed;
        if !ours {
            self.push(Line::LeftAlone(format!(
                "unit {unit} because install only manages {managed}"
            )));
        }
        ours
    }

    fn linger(&mut self) {
        let user = &self.paths.user;
        let r = match self.world.login {
            Some(l) => l
                .set_linger(self.paths.uid, false, crate::prompt::interactive())
                .map_err(|e| anyhow::anyhow!("{e} (run `sudo loginctl disable-linger {user}`)")),
            None => Err(anyhow::anyhow!(
                "logind could not be reached (run `sudo loginctl disable-linger {user}`)"
            )),
        };
        self.result(format!("turned linger off for {user}"), r);
    }

    fn switch(&mut self, from: &str, to: &str) {
        if Some(to) != self.paths.context() {
            self.push(Line::LeftAlone(format!(
                "docker context switch to {to} because install only makes {} current",
                self.paths.context().unwrap_or("no context")
            )));
            return;
        }
        let Some(docker) = self.world.docker else {
            return;
        };
        if docker.current() != to {
            return;
        }
        let exists = |n: &str| docker.inspect(n).ok().flatten().is_some();
        let target = docker_context::restore_target(Some(from), exists);
        let r = docker.use_context(&target);
        self.result(format!("made {target} the current docker context again"), r);
    }

    fn context(&mut self, name: &str, endpoint: &str) {
        if Some(name) != self.paths.context() {
            self.push(Line::LeftAlone(format!(
                "docker context {name} because install only creates {}",
                self.paths.context().unwrap_or("no context")
            )));
            return;
        }
        let Some(docker) = self.world.docker else {
            self.push(Line::Failed(format!(
                "remove docker context {name}: no docker client found (run `docker context rm {name}`)"
            )));
            return;
        };
        match docker.inspect(name) {
            Ok(None) => {}
            Ok(Some(c)) if c.looks_ours() || c.endpoint == endpoint => {
                let r = docker.remove(name);
                self.result(format!("removed docker context {name}"), r);
            }
            Ok(Some(c)) => self.push(Line::LeftAlone(format!(
                "docker context {name} because it now points at {}, not where install made it point",
                c.endpoint
            ))),
            Err(e) => self.push(Line::Failed(format!(
                "remove docker context {name}: {e:#}"
            ))),
        }
    }

    /// Stops the unit install started and, for a socket-activated engine, the service the
    /// socket started (it would otherwise serve until its idle timeout).
    fn stop(&mut self, was_active: bool) {
        let spec = self.paths.spec();
        self.stop_unit(spec.started_unit());
        if spec.unit != spec.started_unit() {
            self.stop_unit(spec.unit);
        }
        self.start_again |= was_active;
    }

    fn stop_unit(&mut self, unit: &str) {
        let Some(m) = self.world.manager else {
            self.out.stopped = false;
            self.push(Line::Failed(format!(
                "stop {unit}: the user manager cannot be reached; a running engine was NOT stopped (log in through ssh or `machinectl shell USER@` and run this again)"
            )));
            return;
        };
        let r = match m.stop(unit, STOP_TIMEOUT) {
            Ok(o) if o.result.is_done() => Ok(true),
            Ok(o) => Err(format!("the stop job ended `{}`", o.result.as_str())),
            Err(BusError::NoSuchUnit { .. }) => Ok(false),
            Err(e) => Err(e.to_string()),
        };
        let _ = m.reset_failed(unit);
        match r {
            Ok(true) => self.push(Line::Done(format!("stopped {unit}"))),
            Ok(false) => {}
            Err(e) => {
                self.out.stopped = false;
                self.push(Line::Failed(format!("stop {unit}: {e}")));
            }
        }
    }

    fn disable(&mut self) {
        let unit = self.paths.started_unit();
        self.reload = true;
        let r = match self.world.manager {
            Some(m) => match m.disable(unit) {
                Ok(true) => Ok(true),
                Ok(false) | Err(BusError::NoSuchUnit { .. }) => Ok(false),
                Err(e) => Err(anyhow::Error::msg(e)),
            },
            // Without the manager: the link itself.
            None => {
                let link = self.paths.unit_dir.join("default.target.wants").join(unit);
                match std::fs::symlink_metadata(&link) {
                    Ok(m) if m.file_type().is_symlink() => atomic::remove(&link),
                    _ => Ok(false),
                }
            }
        };
        match r {
            Ok(true) => self.push(Line::Done(format!("disabled {unit}"))),
            Ok(false) => {}
            Err(e) => self.push(Line::Failed(format!("disable {unit}: {e:#}"))),
        }
    }

    fn file(&mut self, path: &Path, sha256: &str, previous: Option<&Previous>) {
        let shown = self.paths.short(path);
        let (aside, restore) = match decide_file(path, sha256, previous, self.goal, self.paths) {
            FileAction::Nothing => return,
            FileAction::LeftAlone(why) => {
                self.push(Line::LeftAlone(format!("{shown} because {why}")));
                return;
            }
            FileAction::Unreadable(e) => {
                self.push(Line::Failed(format!("restore {shown}: {e:#}")));
                return;
            }
            FileAction::Restore { aside, text } => (aside, Some(text)),
            FileAction::Remove => (false, None),
            FileAction::MoveAside => (true, None),
        };
        self.reload = true;
        if aside {
            let to = edited_name(path, now_secs());
            if let Err(e) = std::fs::rename(path, &to) {
                self.push(Line::Failed(format!(
                    "move {shown} (edited since install) aside: {e}"
                )));
                return;
            }
            self.push(Line::Done(format!(
                "moved {shown} aside to {} (edited since install)",
                self.paths.short(&to)
            )));
        }
        match restore {
            Some(text) => {
                let r = atomic::write(path, text.as_bytes());
                self.result(format!("restored the earlier {shown}"), r);
            }
            None if !aside => {
                let r = atomic::remove(path).map(|_| ());
                self.result(format!("removed {shown}"), r);
            }
            None => {}
        }
    }

    fn finish(&mut self) {
        let Some(m) = self.world.manager else {
            return;
        };
        if self.reload {
            // A bus error's text already carries its cause.
            let r = m.reload().map_err(anyhow::Error::msg);
            self.result("reloaded the systemd user manager".into(), r);
        }
        if self.start_again {
            let r = m
                .start(self.paths.started_unit(), RESTART_PREVIOUS_TIMEOUT)
                .map_err(anyhow::Error::msg)
                .and_then(|o| {
                    if o.result.is_done() {
                        Ok(())
                    } else {
                        Err(anyhow::anyhow!(
                            "the start job ended `{}`",
                            o.result.as_str()
                        ))
                    }
                });
            let unit = self.paths.started_unit();
            self.result(format!("started the previous {unit} again"), r);
        }
    }
}

/// What replaying `entries` towards `goal` would do, one line each (for `--dry-run` and the
/// plan shown before asking); `left alone: …` lines say what will not be touched and why.
pub fn preview(entries: &[Entry], goal: Goal, paths: &Paths) -> Vec<String> {
    let mut lines = Vec::new();
    let mut start_again = false;
    let context = paths.context().unwrap_or("no context");
    let unit_managed = paths.started_unit();
    for e in entries.iter().rev() {
        let line = match &e.step {
            Step::Linger => format!("turn linger off for {} (install turned it on)", paths.user),
            Step::Switch { from, to } if to == context => format!(
                "make {from} the current docker context again (if {to} still is; default if {from} is gone)"
            ),
            Step::Switch { to, .. } => format!(
                "left alone: docker context switch to {to} because install only makes {context} current"
            ),
            Step::Context { name, .. } if name == context => {
                format!("remove docker context {name} (if it still is the one install made)")
            }
            Step::Context { name, .. } => {
                format!("left alone: docker context {name} because install only creates {context}")
            }
            Step::Start { unit, was_active } if unit == unit_managed => {
                start_again |= *was_active;
                match paths.spec().unit {
                    service if service != unit => format!("stop {unit} and {service}"),
                    _ => format!("stop {unit}"),
                }
            }
            Step::Enable { unit } if unit == unit_managed => format!("disable {unit}"),
            Step::Start { unit, .. } | Step::Enable { unit } => {
                format!("left alone: unit {unit} because install only manages {unit_managed}")
            }
            Step::File {
                path,
                sha256,
                previous,
            } => {
                let shown = paths.short(path);
                match decide_file(path, sha256, previous.as_ref(), goal, paths) {
                    FileAction::Nothing => continue,
                    FileAction::LeftAlone(why) => format!("left alone: {shown} because {why}"),
                    FileAction::Unreadable(e) => format!("cannot read {shown}: {e:#}"),
                    FileAction::Restore { aside: false, .. } => {
                        format!("restore the earlier {shown}")
                    }
                    FileAction::Restore { aside: true, .. } => format!(
                        "move {shown} aside (edited since install), then restore the earlier one"
                    ),
                    FileAction::Remove => format!("remove {shown}"),
                    FileAction::MoveAside => {
                        format!("move {shown} aside (edited since install; it is not deleted)")
                    }
                }
            }
            Step::Dir { .. } | Step::DataRoot { .. } => continue,
        };
        lines.push(line);
    }
    lines.push("reload the systemd user manager".into());
    if start_again {
        lines.push(format!(
            "start the previous {unit_managed} again (it ran before install)"
        ));
    }
    lines
}

/// What reversing one file entry does, decided from what is there now.
#[derive(Debug)]
pub enum FileAction {
    /// It already is as before (absent, or the earlier text).
    Nothing,
    /// Outside [`guard`]'s rules: untouched, because of this.
    LeftAlone(String),
    /// It could not be read.
    Unreadable(anyhow::Error),
    /// Put the earlier text back, first moving the current file aside when edited since.
    Restore {
        /// Edited since install: moved aside first.
        aside: bool,
        /// The earlier text.
        text: String,
    },
    /// Ours (as written, or our rendering): removed.
    Remove,
    /// Edited since install with nothing to put back: moved aside, not deleted.
    MoveAside,
}

/// Decides [`FileAction`] for a file entry.
pub fn decide_file(
    path: &Path,
    sha256: &str,
    previous: Option<&Previous>,
    goal: Goal,
    paths: &Paths,
) -> FileAction {
    if let Some(why) = guard::file_refusal(path, paths) {
        return FileAction::LeftAlone(why);
    }
    let current = match atomic::read_optional(path) {
        Ok(c) => c,
        Err(e) => return FileAction::Unreadable(e),
    };
    let restore: Option<&str> = match previous {
        None => None,
        Some(Previous::Content { text }) => Some(text),
        Some(Previous::Ours { text, .. }) => match goal {
            Goal::Rollback => text.as_deref(),
            Goal::Uninstall => None,
        },
    };
    let Some(current) = current else {
        return match restore {
            Some(text) => FileAction::Restore {
                aside: false,
                text: text.to_owned(),
            },
            None => FileAction::Nothing,
        };
    };
    if restore == Some(current.as_str()) {
        return FileAction::Nothing;
    }
    let now = digest(&current);
    let ours = now == sha256
        || matches!(previous, Some(Previous::Ours { sha256: s, .. }) if *s == now)
        || classify(&current) == FileOrigin::Ours { edited: false };
    match (restore, ours) {
        (Some(text), _) => FileAction::Restore {
            aside: !ours,
            text: text.to_owned(),
        },
        (None, true) => FileAction::Remove,
        (None, false) => FileAction::MoveAside,
    }
}

/// Where an edited file is moved: `NAME.rootless-setup-edited-SECONDS` beside it (a name
/// systemd ignores).
pub fn edited_name(path: &Path, secs: u64) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{name}.rootless-setup-edited-{secs}"))
}

/// Renders lines for a summary: `done …`, `failed …`, `left alone: …`.
pub fn render(lines: &[Line], style: &crate::style::Style, indent: &str) -> String {
    use crate::style::{Style, paint};
    let mut s = String::new();
    for l in lines {
        let (label, look, text) = match l {
            Line::Done(t) => ("done", Style::PASS, t),
            Line::Failed(t) => ("failed", Style::FAIL, t),
            Line::LeftAlone(t) => ("left alone:", Style::WARNING, t),
        };
        s.push_str(&format!(
            "{indent}{} {text}\n",
            paint(style.out, look, label)
        ));
    }
    s
}

#[cfg(test)]
#[path = "reversal_tests.rs"]
mod tests;
