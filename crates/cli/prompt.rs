//! Asking and showing progress, only on a terminal: a yes/no question (dialoguer) and a
//! spinner (indicatif) on standard error. Every command that asks (install, uninstall,
//! `fix --apply`) asks here. Without a terminal nothing prompts and nothing animates; `--yes`
//! answers every question, and what must not run unasked needs it.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Whether standard input and standard error are both terminals, so a question can be asked.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// How a question gets its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `--yes`: every question is answered yes.
    Yes,
    /// Ask on the terminal.
    Ask,
    /// No terminal: nothing is asked; the default applies.
    NoTerminal,
}

impl Answer {
    /// From `--yes` and whether there is a terminal.
    pub fn detect(yes: bool) -> Answer {
        if yes {
            Answer::Yes
        } else if interactive() {
            Answer::Ask
        } else {
            Answer::NoTerminal
        }
    }

    /// Asks `question` (enter means yes); `Yes` answers yes, `NoTerminal` answers
    /// `unattended`.
    pub fn confirm(self, question: &str, unattended: bool) -> anyhow::Result<bool> {
        match self {
            Answer::Yes => Ok(true),
            Answer::NoTerminal => Ok(unattended),
            Answer::Ask => ask(question, true),
        }
    }

    /// Asks `question` (enter means no) before something that must not happen unasked;
    /// `Yes` answers yes, `NoTerminal` is the error `no_terminal`.
    pub fn require(
        self,
        question: &str,
        no_terminal: impl FnOnce() -> anyhow::Error,
    ) -> anyhow::Result<bool> {
        match self {
            Answer::Yes => Ok(true),
            Answer::NoTerminal => Err(no_terminal()),
            Answer::Ask => ask(question, false),
        }
    }
}

/// Asks on the terminal; escape or `q` is no.
fn ask(question: &str, default: bool) -> anyhow::Result<bool> {
    Ok(dialoguer::Confirm::new()
        .with_prompt(question)
        .default(default)
        .interact_opt()?
        .unwrap_or(false))
}

/// A spinner with a message on standard error when it is a terminal; a no-op otherwise.
#[derive(Debug)]
pub struct Spinner {
    bar: Option<ProgressBar>,
}

impl Spinner {
    /// Starts one with `message`, when `show` (a terminal, colour rules permitting).
    pub fn start(message: &str, show: bool) -> Spinner {
        if !show || !std::io::stderr().is_terminal() {
            return Spinner { bar: None };
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
            bar.set_style(style);
        }
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(80));
        Spinner { bar: Some(bar) }
    }

    /// Changes the message.
    pub fn set(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_owned());
        }
    }

    /// Removes it from the screen.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_answers_and_no_terminal_falls_back_or_refuses() {
        assert!(Answer::Yes.confirm("q?", false).unwrap());
        assert!(Answer::Yes.require("q?", || anyhow::anyhow!("no")).unwrap());
        assert!(Answer::NoTerminal.confirm("q?", true).unwrap());
        assert!(!Answer::NoTerminal.confirm("q?", false).unwrap());
        let err = Answer::NoTerminal
            .require("q?", || anyhow::anyhow!("no terminal"))
            .unwrap_err();
        assert_eq!(err.to_string(), "no terminal");
    }

    #[test]
    fn detect_with_yes_never_asks() {
        assert_eq!(Answer::detect(true), Answer::Yes);
    }
}
