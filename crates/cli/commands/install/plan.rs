//! What `install` is going to do, decided before anything changes: one [`FileChange`] per
//! rendered file, the service actions over D-Bus, the CLI context and linger. `--dry-run`
//! prints it (with diffs) and stops; a refusal (a hand-edited or foreign file, a foreign
//! context) stops here too, before anything was written.

use std::fmt::Write as _;
use std::path::PathBuf;

use rootless_setup_systemd::{ActiveState, UnitState};
use rootless_setup_unit::{FileOrigin, classify};

use crate::diff;
use crate::docker_context::ContextAction;
use crate::paths::Paths;
use crate::style::{Style, paint};

/// Who wrote a file we would replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// Ours, changed by hand since.
    Edited,
    /// Not ours at all (the old setup tool, a package, a person).
    Foreign,
}

impl Author {
    fn describe(self) -> &'static str {
        match self {
            Author::Edited => "written by rootless-setup and edited by hand since",
            Author::Foreign => {
                "not written by rootless-setup (dockerd-rootless-setuptool.sh, a package or a person)"
            }
        }
    }
}

/// What happens to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChange {
    /// It does not exist: create it.
    Create,
    /// Same content: no write.
    Unchanged,
    /// Our untouched file with other content: replace it.
    Update,
    /// Not ours or edited, and `--force`: replace it, keeping the old text in the record.
    Overwrite(Author),
    /// Not ours or edited, without `--force`: refuse.
    Refuse(Author),
}

impl FileChange {
    /// Whether the file is written.
    pub fn writes(self) -> bool {
        matches!(
            self,
            FileChange::Create | FileChange::Update | FileChange::Overwrite(_)
        )
    }
}

/// Decides what to do with a file whose current text is `old`.
pub fn file_change(old: Option<&str>, new: &str, force: bool) -> FileChange {
    let Some(old) = old else {
        return FileChange::Create;
    };
    if old == new {
        return FileChange::Unchanged;
    }
    let author = match classify(old) {
        FileOrigin::Ours { edited: false } => return FileChange::Update,
        FileOrigin::Ours { edited: true } => Author::Edited,
        FileOrigin::Foreign => Author::Foreign,
    };
    if force {
        FileChange::Overwrite(author)
    } else {
        FileChange::Refuse(author)
    }
}

/// One file of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePlan {
    /// Where.
    pub path: PathBuf,
    /// The new text.
    pub new: String,
    /// The current text, if the file exists.
    pub old: Option<String>,
    /// What happens.
    pub change: FileChange,
}

/// What is done to the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAction {
    Start,
    /// Restart it (it runs with older files, or is stuck restarting).
    Restart,
    /// It runs with these very files: leave it.
    Keep,
}

/// The D-Bus side of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePlan {
    pub unit: String,
    /// `Reload` the manager (files changed, or it says it needs one).
    pub reload: bool,
    /// `ResetFailedUnit` first (the unit is `failed`).
    pub reset_failed: bool,
    /// Whether the unit is enabled already.
    pub enabled: bool,
    /// Start, restart or leave it.
    pub action: ServiceAction,
    /// The state read, as `active/sub`, or why it could not be read.
    pub observed: String,
}

/// Decides the service actions from whether files change and the unit's current state
/// (`None`: the user manager could not be asked).
pub fn service_plan(unit: &str, files_change: bool, state: Option<&UnitState>) -> ServicePlan {
    let active = state.map(|s| &s.active);
    let action = match active {
        Some(ActiveState::Active | ActiveState::Reloading) if !files_change => ServiceAction::Keep,
        Some(
            ActiveState::Active
            | ActiveState::Reloading
            | ActiveState::Activating
            | ActiveState::Deactivating,
        ) => ServiceAction::Restart,
        _ => ServiceAction::Start,
    };
    ServicePlan {
        unit: unit.to_owned(),
        reload: files_change || state.is_some_and(|s| s.need_daemon_reload || !s.exists()),
        reset_failed: state.is_some_and(UnitState::is_failed),
        enabled: state.is_some_and(|s| s.unit_file_state == "enabled"),
        action,
        observed: state
            .map(|s| format!("{}/{}", s.active, s.sub))
            .unwrap_or_else(|| "unknown".to_owned()),
    }
}

/// The CLI context part of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextPlan {
    /// `--no-context`.
    Skipped,
    /// No `docker` client found.
    NoClient,
    /// The engine has no docker CLI context (the docker CLI cannot talk to it).
    NoContext,
    /// Act on the context.
    Act {
        /// The client.
        docker: PathBuf,
        /// The engine's context (`rootless`, `rootless-podman`).
        name: &'static str,
        /// What to do with the context.
        action: ContextAction,
        /// Where it points.
        endpoint: String,
        /// The current context now.
        current: String,
    },
}

/// The linger part of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LingerPlan {
    /// `--no-linger`.
    Skipped,
    AlreadyOn,
    /// Turn it on through logind.
    Enable,
    /// logind could not be asked; try anyway.
    Unknown(String),
}

/// One action of the plan, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    pub text: String,
    /// Install refuses this one (a file or context it would clobber).
    pub refused: bool,
}

/// Everything install will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallPlan {
    pub files: Vec<FilePlan>,
    pub service: ServicePlan,
    /// The CLI context.
    pub context: ContextPlan,
    pub linger: LingerPlan,
    /// The engine's API socket.
    pub socket: PathBuf,
}

impl InstallPlan {
    /// Whether any file is written.
    pub fn files_change(&self) -> bool {
        self.files.iter().any(|f| f.change.writes())
    }

    /// The files refused, with who wrote them.
    pub fn refused(&self) -> Vec<(&FilePlan, Author)> {
        self.files
            .iter()
            .filter_map(|f| match f.change {
                FileChange::Refuse(a) => Some((f, a)),
                _ => None,
            })
            .collect()
    }

    /// Whether a run would change nothing at all.
    pub fn changes_nothing(&self) -> bool {
        !self.files_change()
            && !self.service.reload
            && !self.service.reset_failed
            && self.service.enabled
            && self.service.action == ServiceAction::Keep
            && match &self.context {
                ContextPlan::Act {
                    action,
                    current,
                    name,
                    ..
                } => {
                    matches!(action, ContextAction::Keep | ContextAction::Adopt) && current == name
                }
                _ => true,
            }
            && matches!(self.linger, LingerPlan::Skipped | LingerPlan::AlreadyOn)
    }

    /// The plan as text: one line per action; with `diffs`, each file's diff under its line.
    pub fn render(&self, paths: &Paths, diffs: bool, colour: bool) -> String {
        let mut s = String::new();
        // The files' lines come first, one per file.
        for (i, line) in self.lines(paths).iter().enumerate() {
            let _ = writeln!(s, "  {} {}", paint(colour, Style::DIM, "-"), line.text);
            let Some(f) = self.files.get(i) else {
                continue;
            };
            if diffs && f.change != FileChange::Unchanged {
                let d = diff::unified(
                    &f.path.display().to_string(),
                    f.old.as_deref(),
                    &f.new,
                    colour,
                );
                for l in d.lines() {
                    let _ = writeln!(s, "      {l}");
                }
            }
        }
        s
    }

    /// One line per action: each file's (in order, first), the service's, the context's and
    /// linger's.
    pub fn lines(&self, paths: &Paths) -> Vec<PlanLine> {
        let mut lines: Vec<PlanLine> = self
            .files
            .iter()
            .map(|f| PlanLine {
                text: file_line(f, paths),
                refused: matches!(f.change, FileChange::Refuse(_)),
            })
            .collect();
        let line = |text: String| PlanLine {
            text,
            refused: false,
        };
        lines.extend(self.service_lines().into_iter().map(line));
        lines.push(PlanLine {
            text: self.context_line(),
            refused: matches!(
                self.context,
                ContextPlan::Act {
                    action: ContextAction::Refuse { .. },
                    ..
                }
            ),
        });
        lines.push(line(self.linger_line(paths)));
        lines
    }

    /// Enable, reload, reset, start or restart or keep the unit.
    fn service_lines(&self) -> Vec<String> {
        let sv = &self.service;
        let mut lines = Vec::new();
        if sv.enabled {
            lines.push(format!("keep {} enabled", sv.unit));
        } else {
            lines.push(format!("enable {} (EnableUnitFiles)", sv.unit));
        }
        if sv.reload {
            lines.push("reload the systemd user manager (Reload)".to_owned());
        }
        if sv.reset_failed {
            lines.push(format!(
                "reset the failed state of {} (ResetFailedUnit)",
                sv.unit
            ));
        }
        let wait = format!("wait for {} to answer GET /_ping", self.socket.display());
        lines.push(match sv.action {
            ServiceAction::Start => format!("start {} (StartUnit), {wait}", sv.unit),
            ServiceAction::Restart => format!(
                "restart {} (RestartUnit; now {}), {wait}",
                sv.unit, sv.observed
            ),
            ServiceAction::Keep => format!(
                "keep {} running ({}), check that it answers GET /_ping",
                sv.unit, sv.observed
            ),
        });
        lines
    }

    /// What happens to the engine's docker CLI context.
    fn context_line(&self) -> String {
        let (name, action, endpoint, current) = match &self.context {
            ContextPlan::Skipped => {
                return "leave the docker CLI contexts alone (--no-context)".to_owned();
            }
            ContextPlan::NoClient => {
                return "no docker client on PATH: no CLI context (use DOCKER_HOST, printed at the end)"
                    .to_owned();
            }
            ContextPlan::NoContext => {
                return "the docker CLI cannot talk to this engine: no CLI context".to_owned();
            }
            ContextPlan::Act {
                name,
                action,
                endpoint,
                current,
                ..
            } => (name, action, endpoint, current),
        };
        let what = match action {
            ContextAction::Create => format!("create docker context {name} ({endpoint})"),
            ContextAction::Keep => format!("keep docker context {name} ({endpoint})"),
            ContextAction::Recreate => {
                format!("re-create docker context {name} to point at {endpoint}")
            }
            ContextAction::Adopt => format!(
                "use the existing docker context {name} (already {endpoint}; not ours, never removed)"
            ),
            ContextAction::Replace => format!(
                "replace the docker context {name} that rootless-setup did not create (--force) with {endpoint}"
            ),
            ContextAction::Refuse { endpoint: theirs } => {
                return format!(
                    "refuse: a docker context {name} that rootless-setup did not create points at {theirs}"
                );
            }
        };
        if current == name {
            format!("{what} (already current)")
        } else {
            format!("{what} and make it current (now {current}, restored by uninstall)")
        }
    }

    /// What happens to linger.
    fn linger_line(&self, paths: &Paths) -> String {
        match &self.linger {
            LingerPlan::Skipped => "leave linger alone (--no-linger)".to_owned(),
            LingerPlan::AlreadyOn => format!("linger for {}: already on", paths.user),
            LingerPlan::Enable => format!(
                "enable linger for {} (login1 SetUserLinger), so the engine outlives the session",
                paths.user
            ),
            LingerPlan::Unknown(why) => format!(
                "enable linger for {} (could not read it: {why})",
                paths.user
            ),
        }
    }
}

/// `create F`, `keep F (unchanged)`, `update F`, `overwrite F (…; --force)`, `refuse to replace F: …`.
fn file_line(f: &FilePlan, paths: &Paths) -> String {
    let shown = paths.short(&f.path);
    match f.change {
        FileChange::Create => format!("create {shown}"),
        FileChange::Unchanged => format!("keep {shown} (unchanged)"),
        FileChange::Update => format!("update {shown}"),
        FileChange::Overwrite(a) => format!("overwrite {shown} ({}; --force)", a.describe()),
        FileChange::Refuse(a) => format!("refuse to replace {shown}: {}", a.describe()),
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
