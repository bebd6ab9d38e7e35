//! The `engine` family: the engine's programs and their versions (`engine.binaries`), a rootful
//! daemon next to the rootless one (`engine.rootful`), a real `rootlesskit` run with the chosen
//! network (`engine.smoke`) and the state of an existing rootless install (`engine.installed`).
//!
//! Each check lives in its own submodule with its fixture tests; the pure parsers of what the
//! programs print for `--version` are in `checks::version`.

mod binaries;
mod installed;
mod rootful;
mod rootlesskit_output;
mod smoke;

use std::path::PathBuf;

use crate::context::Context;

use super::common::home_dir;

pub(crate) use binaries::binaries;
pub(crate) use installed::installed;
pub(crate) use rootful::rootful;
pub(crate) use smoke::smoke;

/// `XDG_RUNTIME_DIR` when set to an absolute path.
fn runtime_dir(cx: &Context<'_>) -> Option<PathBuf> {
    cx.caller
        .var("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}
