//! Terminal styling and the one place errors are reported. Colour only on a terminal, never
//! when `NO_COLOR` is set (unless `--color always`), never on a dumb terminal.

use std::io::IsTerminal;

use rootless_setup_core::Status;

use crate::cli::ColorChoice;

/// An error with remedies: printed as `error: …` followed by one `help: …` line per hint.
#[derive(Debug)]
pub struct Hinted {
    /// The error message (lowercase, no trailing period).
    pub message: String,
    /// What to do about it.
    pub help: Vec<String>,
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hinted {}

/// Builds an [`anyhow::Error`] with help lines.
pub fn hinted(message: impl Into<String>, help: &[&str]) -> anyhow::Error {
    anyhow::Error::new(Hinted {
        message: message.into(),
        help: help.iter().map(|h| (*h).to_owned()).collect(),
    })
}

/// Whether stdout and stderr get colour.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Colour on standard output.
    pub out: bool,
    /// Colour on standard error.
    pub err: bool,
}

impl Style {
    /// Decides from `--color`, `NO_COLOR`, `TERM` and whether each stream is a terminal.
    pub fn detect(choice: ColorChoice) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        let auto = |tty: bool| tty && !no_color && !dumb;
        match choice {
            ColorChoice::Always => Style {
                out: true,
                err: true,
            },
            ColorChoice::Never => Style {
                out: false,
                err: false,
            },
            ColorChoice::Auto => Style {
                out: auto(std::io::stdout().is_terminal()),
                err: auto(std::io::stderr().is_terminal()),
            },
        }
    }
}

/// Wraps `text` in an SGR sequence when `on`.
pub fn paint(on: bool, sgr: &str, text: &str) -> String {
    if on {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// The coloured status label, padded to four columns.
pub fn status_label(on: bool, status: Status) -> String {
    let sgr = match status {
        Status::Pass => "32",
        Status::Warn => "33",
        Status::Fail => "1;31",
        Status::Skip => "2",
    };
    paint(on, sgr, status.as_str())
}

/// Writes `text` to standard output. A closed pipe (`rootless-setup … | head`) is not an
/// error and does not end the program: the rest of the output is dropped and the command's
/// own exit status stands, so `check | head` still exits 1 when the host is not ready.
pub fn out(text: &str) -> anyhow::Result<()> {
    write_to(&mut std::io::stdout().lock(), text)
}

fn write_to(sink: &mut impl std::io::Write, text: &str) -> anyhow::Result<()> {
    match sink.write_all(text.as_bytes()).and_then(|()| sink.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context("could not write to standard output")),
    }
}

/// The causes worth a line of their own: one whose text the message above it already ends
/// with (`could not read FILE: it is a FIFO` over `it is a FIFO`) says nothing new.
fn causes(err: &anyhow::Error) -> Vec<String> {
    let mut shown = err.to_string();
    let mut lines = Vec::new();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !shown.ends_with(&text) {
            lines.push(text.clone());
        }
        shown = text;
    }
    lines
}

/// Prints an error once, with its causes and help lines, to stderr.
pub fn report_error(style: &Style, err: &anyhow::Error) {
    eprintln!("{} {err}", paint(style.err, "1;31", "error:"));
    for line in causes(err) {
        eprintln!("  caused by: {line}");
    }
    if let Some(hinted) = err.downcast_ref::<Hinted>() {
        for help in &hinted.help {
            eprintln!("{} {help}", paint(style.err, "1;36", "help:"));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    /// A sink that fails every write with `kind`.
    struct Failing(io::ErrorKind);

    impl io::Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_not_an_error_and_other_failures_are() {
        assert!(write_to(&mut Failing(io::ErrorKind::BrokenPipe), "x").is_ok());
        let err = write_to(&mut Failing(io::ErrorKind::StorageFull), "x").unwrap_err();
        assert_eq!(err.to_string(), "could not write to standard output");
        let mut buf = Vec::new();
        write_to(&mut buf, "text").unwrap();
        assert_eq!(buf, b"text");
    }

    #[test]
    fn a_cause_the_message_already_ends_with_is_not_repeated() {
        let inner = io::Error::other("it is a FIFO, not a regular file");
        let err =
            anyhow::Error::new(inner).context("could not read x: it is a FIFO, not a regular file");
        assert!(causes(&err).is_empty());
        let err = anyhow::Error::new(io::Error::other("permission denied"))
            .context("could not read x")
            .context("install stopped");
        assert_eq!(causes(&err), ["could not read x", "permission denied"]);
    }
}
