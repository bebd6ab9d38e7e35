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

/// Quotes `word` for a POSIX shell when it holds anything but plain path characters.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_leaves_paths_alone_and_quotes_the_rest() {
        assert_eq!(shell_quote("/run/user/1000/x"), "/run/user/1000/x");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
