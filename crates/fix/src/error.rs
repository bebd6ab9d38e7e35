//! Why no script could be made. A check that fails is not an error here (that is what the
//! script is for); these are the cases where writing a correct script is impossible.

use rootless_setup_core::accounts::Refusal;
use rootless_setup_core::shell::UnsafeValue;
use rootless_setup_core::template::TemplateError;

/// Why `rootless-setup fix` could not produce a script.
#[derive(Debug, thiserror::Error)]
pub enum FixError {
    /// A value that would go into the script contains a newline or another control character.
    #[error(transparent)]
    Unsafe(#[from] UnsafeValue),
    /// A file's text holds the here-document delimiter on a line of its own.
    #[error("the text for {path} contains a line `{delimiter}`, which would end its here-document")]
    Delimiter {
        /// The file.
        path: String,
        delimiter: &'static str,
    },
    /// A template failed to render (a bug).
    #[error("could not render {0}")]
    Template(#[from] TemplateError),
    /// An account root must not prepare: a system account, one that cannot log in, or a name
    /// that is not portable.
    #[error(transparent)]
    Refused(#[from] Refusal),
}
