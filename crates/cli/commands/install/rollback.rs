//! Undoing a failed install: only what this run did, in reverse — stop what it started,
//! disable what it enabled, put back or remove the files it wrote, reload, start again an
//! engine that was running before, switch the CLI context back, remove a context it created,
//! turn off linger it turned on, and restore the install record. Every step runs even when an
//! earlier one failed; the lines say what happened.

use std::path::PathBuf;
use std::time::Duration;

use rootless_setup_systemd::{Login, UserManager};

use crate::atomic;
use crate::docker_context::DockerCli;
use crate::paths::Paths;

/// What this run changed, in order.
#[derive(Debug, Default)]
pub struct Undo {
    /// Files written, with their text before (`None`: the file did not exist).
    pub written: Vec<(PathBuf, Option<String>)>,
    /// The manager was reloaded after writing.
    pub reloaded: bool,
    /// `enable` created the symlink.
    pub enabled: bool,
    /// A start or restart job was issued.
    pub started: bool,
    /// The engine was running before this run.
    pub was_active: bool,
    /// A context this run created.
    pub context_created: Option<String>,
    /// The current context before this run switched it.
    pub context_switched_from: Option<String>,
    /// Linger was turned on by this run.
    pub linger: bool,
    /// The install record before this run (`Some(None)`: there was none).
    pub state_before: Option<Option<String>>,
    /// Directories this run created.
    pub created_dirs: Vec<PathBuf>,
}

/// Deadline of the stop job: longer than the unit's `TimeoutStopSec=` (120 s).
const STOP_TIMEOUT: Duration = Duration::from_secs(135);

fn step(lines: &mut Vec<String>, what: String, result: Result<(), String>) {
    match result {
        Ok(()) => lines.push(what),
        Err(e) => lines.push(format!("could not {what}: {e}")),
    }
}

/// Undoes `undo`; returns one line per step.
pub fn run(
    undo: &Undo,
    manager: Option<&UserManager>,
    docker: Option<&DockerCli>,
    login: Option<&Login>,
    paths: &Paths,
) -> Vec<String> {
    let mut lines = Vec::new();
    let unit = rootless_setup_unit::DOCKER_UNIT;
    if let Some(m) = manager {
        if undo.started {
            let r = m
                .stop(unit, STOP_TIMEOUT)
                .map(|_| ())
                .and_then(|()| m.reset_failed(unit))
                .map_err(|e| e.to_string());
            step(&mut lines, format!("stop {unit}"), r);
        }
        if undo.enabled {
            let r = m.disable(&[unit]).map(|_| ()).map_err(|e| e.to_string());
            step(&mut lines, format!("disable {unit}"), r);
        }
    }
    for (path, before) in undo.written.iter().rev() {
        let shown = paths.short(path);
        match before {
            Some(text) => step(
                &mut lines,
                format!("restore {shown}"),
                atomic::write(path, text.as_bytes()).map_err(|e| format!("{e:#}")),
            ),
            None => {
                let r = atomic::remove(path)
                    .map(|_| ())
                    .map_err(|e| format!("{e:#}"));
                if let Some(dir) = path.parent() {
                    if dir != paths.unit_dir {
                        atomic::remove_empty_dir(dir);
                    }
                }
                step(&mut lines, format!("remove {shown}"), r);
            }
        }
    }
    if let Some(m) = manager {
        if undo.reloaded || !undo.written.is_empty() {
            step(
                &mut lines,
                "reload the user manager".into(),
                m.reload().map_err(|e| e.to_string()),
            );
        }
        if undo.started && undo.was_active {
            let r = m
                .start(unit, STOP_TIMEOUT)
                .map_err(|e| e.to_string())
                .and_then(|o| {
                    if o.result.is_done() {
                        Ok(())
                    } else {
                        Err(format!("the start job ended `{}`", o.result.as_str()))
                    }
                });
            step(&mut lines, format!("start the previous {unit} again"), r);
        }
    }
    if let Some(docker) = docker {
        if let Some(previous) = &undo.context_switched_from {
            step(
                &mut lines,
                format!("make {previous} the current docker context again"),
                docker.use_context(previous).map_err(|e| format!("{e:#}")),
            );
        }
        if let Some(name) = &undo.context_created {
            step(
                &mut lines,
                format!("remove docker context {name}"),
                docker.remove(name).map_err(|e| format!("{e:#}")),
            );
        }
    }
    if undo.linger {
        let r = match login {
            Some(l) => l
                .set_linger(paths.uid, false, false)
                .map_err(|e| e.to_string()),
            None => Err("logind could not be reached".to_owned()),
        };
        step(&mut lines, format!("turn linger off for {}", paths.user), r);
    }
    match &undo.state_before {
        Some(Some(text)) => step(
            &mut lines,
            "restore the install record".into(),
            atomic::write_mode(&paths.state, text.as_bytes(), 0o600).map_err(|e| format!("{e:#}")),
        ),
        Some(None) => {
            let r = atomic::remove(&paths.state)
                .map(|_| ())
                .map_err(|e| format!("{e:#}"));
            step(&mut lines, "remove the install record".into(), r);
        }
        None => {}
    }
    crate::state::remove_empty_dirs(&undo.created_dirs);
    lines
}
