//! Rendering a [`Plan`] through the templates in `templates/` into the files `install` writes,
//! each with its target path and the generated-file header.
//!
//! Values reach the templates already escaped for systemd ([`crate::escape`]); the templates
//! only place lines.

use std::path::{Path, PathBuf};

use rootless_setup_core::Engine;
use rootless_setup_core::template::{self, TemplateError, context};

use crate::escape::{self, EscapeError};
use crate::header;
use crate::plan::Plan;

/// The Docker engine's user unit template.
pub const DOCKER_UNIT_TEMPLATE: &str = include_str!("../../../templates/docker/docker.service.j2");
/// The drop-in template with the options `dockerd-rootless.sh` reads from its environment.
pub const DOCKER_DROPIN_TEMPLATE: &str =
    include_str!("../../../templates/docker/rootless-setup.conf.j2");

/// The unit's file name.
pub const DOCKER_UNIT: &str = Engine::Docker.spec().unit;
/// The drop-in's path relative to the unit directory. `10-` so that a hand-made
/// `override.conf` (`systemctl --user edit`) sorts after it and wins.
pub const DOCKER_DROPIN: &str = "docker.service.d/10-rootless-setup.conf";

/// What kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A unit file.
    Unit,
    /// A drop-in for a unit.
    DropIn,
    /// An engine's own configuration (Podman's containers.conf drop-in).
    Config,
}

/// One file install would write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Where it goes.
    pub path: PathBuf,
    /// Unit or drop-in.
    pub kind: FileKind,
    /// Its full text, header included.
    pub contents: String,
}

/// Could not render; a plan from [`crate::plan()`] always renders, so this is a bug or a
/// hand-made plan with a value systemd cannot carry.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A value that cannot be written.
    #[error("{what} {source}")]
    Value {
        /// Which value.
        what: String,
        /// Why.
        #[source]
        source: EscapeError,
    },
    /// The template engine failed.
    #[error(transparent)]
    Template(#[from] TemplateError),
}

fn value<T>(what: impl Into<String>, r: Result<T, EscapeError>) -> Result<T, RenderError> {
    r.map_err(|source| RenderError::Value {
        what: what.into(),
        source,
    })
}

/// The unit's `ExecStart=` value: the program and dockerd's arguments.
pub fn exec_start(plan: &Plan) -> Result<String, RenderError> {
    let mut words = vec![value(
        format!("program {}", plan.program.display()),
        escape::exec_path(&plan.program),
    )?];
    let data_root = plan
        .data_root
        .as_ref()
        .map(|d| format!("--data-root={}", d.display()));
    for arg in data_root.iter().chain(&plan.daemon_flags) {
        words.push(value(format!("argument {arg:?}"), escape::exec_arg(arg))?);
    }
    Ok(words.join(" "))
}

/// The drop-in's variables, in the order written.
pub fn drop_in_environment(plan: &Plan) -> Vec<(String, String)> {
    let mut vars = vec![
        (
            "DOCKERD_ROOTLESS_ROOTLESSKIT_NET".to_owned(),
            plan.network_driver.to_string(),
        ),
        (
            "DOCKERD_ROOTLESS_ROOTLESSKIT_MTU".to_owned(),
            plan.mtu.to_string(),
        ),
        (
            "DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER".to_owned(),
            plan.port_driver.to_string(),
        ),
    ];
    if let Some(disable) = plan.disable_host_loopback {
        vars.push((
            "DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK".to_owned(),
            disable.to_string(),
        ));
    }
    if let Some(detach) = plan.detach_netns {
        vars.push((
            "DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS".to_owned(),
            detach.to_string(),
        ));
    }
    vars.extend(plan.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
    vars
}

/// The files for `plan`, with their paths under `unit_dir`: the unit, then its drop-in.
pub fn render(plan: &Plan, unit_dir: &Path) -> Result<Vec<RenderedFile>, RenderError> {
    let path: Vec<&str> = plan
        .path
        .iter()
        .map(|d| value(format!("PATH entry {}", d.display()), escape::path_entry(d)))
        .collect::<Result<_, _>>()?;
    let unit = template::render(
        DOCKER_UNIT,
        DOCKER_UNIT_TEMPLATE,
        context! {
            path => value("PATH", escape::env_assignment("PATH", &path.join(":")))?,
            exec_start => exec_start(plan)?,
            start_timeout => plan.start_timeout,
        },
    )?;
    let assignments: Vec<String> = drop_in_environment(plan)
        .iter()
        .map(|(k, v)| {
            value(
                format!("environment variable {k}"),
                escape::env_assignment(k, v),
            )
        })
        .collect::<Result<_, _>>()?;
    let drop_in = template::render(
        "10-rootless-setup.conf",
        DOCKER_DROPIN_TEMPLATE,
        context! { environment => assignments },
    )?;
    Ok(vec![
        RenderedFile {
            path: unit_dir.join(DOCKER_UNIT),
            kind: FileKind::Unit,
            contents: header::with_header(&unit),
        },
        RenderedFile {
            path: unit_dir.join(DOCKER_DROPIN),
            kind: FileKind::DropIn,
            contents: header::with_header(&drop_in),
        },
    ])
}
