//! The one output style: colour decisions, the named looks (on `anstyle`, never raw escape
//! codes), the `error: …` / `warning: …` / `help: …` lines, and the one place errors are
//! reported. Colour only on a terminal, never when `NO_COLOR` is set (unless `--color always`),
//! never on a dumb terminal.

use std::io::IsTerminal;

use anstyle::{AnsiColor, Effects};
use rootless_setup_core::Status;

use crate::cli::ColorChoice;
use crate::results::ErrorId;

/// An error the program ends with: printed as `error: …`, then its `details` as they are,
/// then one `help: …` line per hint; the program exits with `exit`. Its `id` is the kind
/// `--format json` reports.
#[derive(Debug)]
pub struct Hinted {
    /// The kind of failure (stable, for programs).
    pub id: ErrorId,
    /// The error message (lowercase, no trailing period).
    pub message: String,
    /// Lines that say more (a unit's state, a journal tail, what a rollback did).
    pub details: Vec<String>,
    /// What to do about it.
    pub help: Vec<String>,
    /// The exit status.
    pub exit: u8,
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hinted {}

/// Exit status of a usage or internal error.
pub const INTERNAL: u8 = 2;

/// Exit status of a command that stopped for a reason that is not a usage or internal error
/// (a failing prerequisite, a file it will not clobber, a failed step).
pub const STOPPED: u8 = 1;

/// A usage or internal error of kind `id` with help lines (exit status 2).
pub fn hinted(id: ErrorId, message: impl Into<String>, help: &[&str]) -> anyhow::Error {
    with_help(id, message.into(), help, INTERNAL)
}

/// A command that stopped (exit status 1) for a reason of kind `id`, with help lines.
pub fn stopped(id: ErrorId, message: impl Into<String>, help: &[&str]) -> anyhow::Error {
    with_help(id, message.into(), help, STOPPED)
}

fn with_help(id: ErrorId, message: String, help: &[&str], exit: u8) -> anyhow::Error {
    anyhow::Error::new(Hinted {
        id,
        message,
        details: Vec::new(),
        help: help.iter().map(|h| (*h).to_owned()).collect(),
        exit,
    })
}

/// The exit status `err` ends the program with: its own when it has one, else 2.
pub fn exit_status(err: &anyhow::Error) -> u8 {
    err.downcast_ref::<Hinted>().map_or(INTERNAL, |h| h.exit)
}

/// Whether stdout and stderr get colour.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Colour on standard output.
    pub out: bool,
    /// Colour on standard error.
    pub err: bool,
}

const fn look(effects: Effects, colour: Option<AnsiColor>) -> anstyle::Style {
    let style = anstyle::Style::new().effects(effects);
    match colour {
        Some(c) => style.fg_color(Some(anstyle::Color::Ansi(c))),
        None => style,
    }
}

/// The named looks: one per meaning, so the same meaning always looks the same.
impl Style {
    /// The `error:` prefix.
    pub const ERROR: anstyle::Style = look(Effects::BOLD, Some(AnsiColor::Red));
    /// The `warning:` prefix and `left alone:`.
    pub const WARNING: anstyle::Style = look(Effects::BOLD, Some(AnsiColor::Yellow));
    /// The `help:` prefix.
    pub const HELP: anstyle::Style = look(Effects::BOLD, Some(AnsiColor::Cyan));
    /// A check that passes, a step done.
    pub const PASS: anstyle::Style = look(Effects::new(), Some(AnsiColor::Green));
    /// A check that warns.
    pub const WARN: anstyle::Style = look(Effects::new(), Some(AnsiColor::Yellow));
    /// A check that fails, a failed step, a bad verdict (`not ready`, `unhealthy`).
    pub const FAIL: anstyle::Style = look(Effects::BOLD, Some(AnsiColor::Red));
    /// A check that was skipped.
    pub const SKIP: anstyle::Style = look(Effects::DIMMED, None);
    /// Labels and bullets that step back.
    pub const DIM: anstyle::Style = look(Effects::DIMMED, None);
    /// Headings.
    pub const BOLD: anstyle::Style = look(Effects::BOLD, None);
    /// A good verdict (`ready`, `healthy`, `installed`, `uninstalled`).
    pub const SUCCESS: anstyle::Style = look(Effects::BOLD, Some(AnsiColor::Green));
    /// A command to run, a diff's hunk header.
    pub const COMMAND: anstyle::Style = look(Effects::new(), Some(AnsiColor::Cyan));
    /// A diff's removed line.
    pub const REMOVED: anstyle::Style = look(Effects::new(), Some(AnsiColor::Red));
    /// A diff's added line.
    pub const ADDED: anstyle::Style = look(Effects::new(), Some(AnsiColor::Green));

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

    /// Prints `error: TEXT` to standard error.
    pub fn error(&self, text: &str) {
        eprintln!("{}", line(self.err, Prefix::Error, text));
    }

    /// Prints `warning: TEXT` to standard error.
    pub fn warning(&self, text: &str) {
        eprintln!("{}", line(self.err, Prefix::Warning, text));
    }

    /// Prints `help: TEXT` to standard error.
    pub fn help(&self, text: &str) {
        eprintln!("{}", line(self.err, Prefix::Help, text));
    }
}

/// `text` in `look` when `on`.
pub fn paint(on: bool, look: anstyle::Style, text: &str) -> String {
    if on {
        format!("{}{text}{}", look.render(), look.render_reset())
    } else {
        text.to_owned()
    }
}

/// The prefix of a line that is an error, a warning or a hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// `error:`
    Error,
    /// `warning:`
    Warning,
    /// `help:`
    Help,
}

/// `error: TEXT`, `warning: TEXT` or `help: TEXT`, the prefix in its look when `on`.
pub fn line(on: bool, prefix: Prefix, text: &str) -> String {
    let (word, look) = match prefix {
        Prefix::Error => ("error:", Style::ERROR),
        Prefix::Warning => ("warning:", Style::WARNING),
        Prefix::Help => ("help:", Style::HELP),
    };
    format!("{} {text}", paint(on, look, word))
}

/// The coloured status label.
pub fn status_label(on: bool, status: Status) -> String {
    let look = match status {
        Status::Pass => Style::PASS,
        Status::Warn => Style::WARN,
        Status::Fail => Style::FAIL,
        Status::Skip => Style::SKIP,
    };
    paint(on, look, status.as_str())
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
pub(crate) fn causes(err: &anyhow::Error) -> Vec<String> {
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

/// Prints an error once to stderr: `error: …`, its causes, its details, its help lines.
pub fn report_error(style: &Style, err: &anyhow::Error) {
    style.error(&err.to_string());
    for line in causes(err) {
        eprintln!("  caused by: {line}");
    }
    if let Some(hinted) = err.downcast_ref::<Hinted>() {
        for line in &hinted.details {
            eprintln!("{line}");
        }
        for help in &hinted.help {
            style.help(help);
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
    fn looks_render_as_sgr_sequences_only_when_on() {
        assert_eq!(paint(false, Style::FAIL, "fail"), "fail");
        assert_eq!(
            paint(true, Style::FAIL, "fail"),
            "\u{1b}[1m\u{1b}[31mfail\u{1b}[0m"
        );
        assert_eq!(paint(true, Style::PASS, "pass"), "\u{1b}[32mpass\u{1b}[0m");
        assert_eq!(paint(true, Style::SKIP, "skip"), "\u{1b}[2mskip\u{1b}[0m");
        assert_eq!(
            status_label(true, Status::Warn),
            paint(true, Style::WARN, "warn")
        );
    }

    #[test]
    fn error_warning_and_help_lines() {
        assert_eq!(line(false, Prefix::Error, "no"), "error: no");
        assert_eq!(line(false, Prefix::Warning, "hm"), "warning: hm");
        assert_eq!(line(false, Prefix::Help, "do"), "help: do");
        assert_eq!(
            line(true, Prefix::Help, "do"),
            format!("{} do", paint(true, Style::HELP, "help:"))
        );
    }

    #[test]
    fn a_stopped_command_exits_1_and_anything_else_2() {
        assert_eq!(
            exit_status(&stopped(
                ErrorId::PrerequisitesFailed,
                "install stopped",
                &[]
            )),
            1
        );
        assert_eq!(exit_status(&hinted(ErrorId::Usage, "bad", &["help"])), 2);
        assert_eq!(exit_status(&anyhow::anyhow!("plain")), 2);
        let wrapped = stopped(ErrorId::WouldClobber, "x", &[]).context("outer");
        assert_eq!(exit_status(&wrapped), 1);
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
