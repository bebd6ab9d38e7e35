//! Asking and showing progress, only on a terminal: a yes/no question (dialoguer) and a
//! spinner (indicatif) on standard error. Without a terminal nothing prompts and nothing
//! animates; `--yes` answers every question.

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

    /// Asks `question`; `Yes` answers yes, `NoTerminal` answers `unattended`.
    pub fn confirm(self, question: &str, unattended: bool) -> anyhow::Result<bool> {
        match self {
            Answer::Yes => Ok(true),
            Answer::NoTerminal => Ok(unattended),
            Answer::Ask => Ok(dialoguer::Confirm::new()
                .with_prompt(question)
                .default(true)
                .interact_opt()?
                .unwrap_or(false)),
        }
    }
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
