//! The result document of `install`, `uninstall` and `fix --apply` with `--format json`
//! (docs/json.md, "command results"): one versioned shape for the three, built from what the
//! command did as typed data, printed once on standard output — also when the command fails,
//! the error inside it with its stable [`ErrorId`].
//!
//! A command runs through [`run`] with a [`Results`]: for people it prints as it always did
//! (and its error reaches `main`); with `--format json` its human text is dropped, nothing is
//! written on standard error, and what it recorded (steps, warnings, whether anything changed)
//! becomes the one document. The document depends only on what the command did, not on who
//! started it.

use std::process::ExitCode;

use rootless_setup_core::Engine;
use serde::{Serialize, Serializer};

use crate::cli::Format;
use crate::prompt::Answer;
use crate::state::reversal::Line;
use crate::style::{Hinted, Style};

/// The version of the result document's shape.
pub const RESULT_SCHEMA_VERSION: u32 = 1;

/// The kind of a failure: stable, one per kind the commands tell apart, for programs to decide
/// on (the message is for people and may change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorId {
    /// A command line or value that makes no sense (exit 2).
    Usage,
    /// Anything unexpected: an I/O error, a bug (exit 2).
    Internal,
    /// The configuration file or a flag has a bad value, or the file cannot be read.
    ConfigInvalid,
    /// Run as root for what an ordinary user runs.
    RootRefused,
    /// `HOME` is not an absolute path.
    HomeUnset,
    /// Several engines are installed and none was named.
    EngineAmbiguous,
    /// Another run of install, uninstall or `fix --apply` holds the user's lock.
    LockHeld,
    /// The lock would land in a directory of another user.
    ForeignDirectory,
    /// The install record is not the caller's, not 0600, or does not parse.
    RecordUntrusted,
    /// The systemd user manager cannot be reached (no session bus).
    UserManagerUnreachable,
    /// systemd is not PID 1 on this host (OpenRC, runit, a container, WSL without systemd).
    NoSystemd,
    /// A program the command needs (containerd's `ctr`) was not found.
    ClientNotFound,
    /// A prerequisite check fails (install stopped; after `fix --apply`, still fails).
    PrerequisitesFailed,
    /// A file or the CLI context install would replace is not its own.
    WouldClobber,
    /// The engine did not start or answer; what the run did was rolled back.
    EngineDidNotStart,
    /// Another step of install failed; what the run did was rolled back.
    InstallStepFailed,
    /// A step of uninstall failed; the others ran.
    ReversalFailed,
    /// No engine is running to join (`enter`).
    EngineNotRunning,
    /// The engine's pid file is not one it wrote (`enter`).
    PidFileUntrusted,
    /// The user named does not exist, or the caller has no passwd entry.
    UnknownUser,
    /// The account may not be acted for (a system account, an unsafe home).
    AccountRefused,
    /// A question must be answered and there is no terminal (`--yes` answers it).
    ConfirmationRequired,
    /// `sudo` (or `sh`) could not be started for `fix --apply`.
    SudoUnavailable,
    /// The fix script ran and failed.
    FixScriptFailed,
    /// `remote.tls-dir` does not hold a usable CA, server certificate and key.
    TlsInvalid,
}

impl ErrorId {
    /// Every id, in the order docs/json.md lists them.
    #[cfg(test)]
    pub const ALL: [ErrorId; 25] = [
        ErrorId::Usage,
        ErrorId::Internal,
        ErrorId::ConfigInvalid,
        ErrorId::RootRefused,
        ErrorId::HomeUnset,
        ErrorId::EngineAmbiguous,
        ErrorId::LockHeld,
        ErrorId::ForeignDirectory,
        ErrorId::RecordUntrusted,
        ErrorId::UserManagerUnreachable,
        ErrorId::NoSystemd,
        ErrorId::ClientNotFound,
        ErrorId::PrerequisitesFailed,
        ErrorId::WouldClobber,
        ErrorId::EngineDidNotStart,
        ErrorId::InstallStepFailed,
        ErrorId::ReversalFailed,
        ErrorId::EngineNotRunning,
        ErrorId::PidFileUntrusted,
        ErrorId::UnknownUser,
        ErrorId::AccountRefused,
        ErrorId::ConfirmationRequired,
        ErrorId::SudoUnavailable,
        ErrorId::FixScriptFailed,
        ErrorId::TlsInvalid,
    ];

    /// The id as it appears in the document.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorId::Usage => "usage",
            ErrorId::Internal => "internal",
            ErrorId::ConfigInvalid => "config-invalid",
            ErrorId::RootRefused => "root-refused",
            ErrorId::HomeUnset => "home-unset",
            ErrorId::EngineAmbiguous => "engine-ambiguous",
            ErrorId::LockHeld => "lock-held",
            ErrorId::ForeignDirectory => "foreign-directory",
            ErrorId::RecordUntrusted => "record-untrusted",
            ErrorId::UserManagerUnreachable => "user-manager-unreachable",
            ErrorId::NoSystemd => "no-systemd",
            ErrorId::ClientNotFound => "client-not-found",
            ErrorId::PrerequisitesFailed => "prerequisites-failed",
            ErrorId::WouldClobber => "would-clobber",
            ErrorId::EngineDidNotStart => "engine-did-not-start",
            ErrorId::InstallStepFailed => "install-step-failed",
            ErrorId::ReversalFailed => "reversal-failed",
            ErrorId::EngineNotRunning => "engine-not-running",
            ErrorId::PidFileUntrusted => "pid-file-untrusted",
            ErrorId::UnknownUser => "unknown-user",
            ErrorId::AccountRefused => "account-refused",
            ErrorId::ConfirmationRequired => "confirmation-required",
            ErrorId::SudoUnavailable => "sudo-unavailable",
            ErrorId::FixScriptFailed => "fix-script-failed",
            ErrorId::TlsInvalid => "tls-invalid",
        }
    }

    /// The kind of `err`: a [`Hinted`] error's own, a configuration error's, else internal.
    pub fn of(err: &anyhow::Error) -> ErrorId {
        if let Some(h) = err.downcast_ref::<Hinted>() {
            return h.id;
        }
        let config = err.chain().any(|e| {
            e.is::<rootless_setup_unit::config::LoadError>()
                || e.is::<rootless_setup_unit::config::ConfigErrors>()
                || e.is::<rootless_setup_unit::config::ConfigError>()
        });
        if config {
            ErrorId::ConfigInvalid
        } else {
            ErrorId::Internal
        }
    }
}

impl Serialize for ErrorId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The command a document is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommandName {
    Install,
    Uninstall,
    /// `fix --apply`.
    Fix,
}

impl CommandName {
    /// The subcommand's name.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandName::Install => "install",
            CommandName::Uninstall => "uninstall",
            CommandName::Fix => "fix",
        }
    }
}

/// What became of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Done: the host changed this way.
    Done,
    /// Tried and failed.
    Failed,
    /// Not touched, because a rule says so (not its own, outside where it writes).
    LeftAlone,
    /// Undone by the rollback of a failed install.
    RolledBack,
    /// Nothing to do (already so), or not reached because the command stopped.
    Skipped,
    /// `--dry-run`: what would be done.
    Planned,
}

/// One step of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepResult {
    /// What, in words (`wrote ~/.config/systemd/user/docker.service`).
    pub action: String,
    pub outcome: Outcome,
}

/// Why the command failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    pub id: ErrorId,
    /// The `error:` line.
    pub message: String,
    /// The `help:` lines.
    pub help: Vec<String>,
    /// What else was printed under it: causes, the unit's state, the journal tail.
    pub details: Vec<String>,
}

impl ErrorReport {
    /// The report of `err`.
    pub fn of(err: &anyhow::Error) -> ErrorReport {
        let hinted = err.downcast_ref::<Hinted>();
        let mut details = crate::style::causes(err);
        details.extend(hinted.iter().flat_map(|h| h.details.iter().cloned()));
        ErrorReport {
            id: ErrorId::of(err),
            message: err.to_string(),
            help: hinted.map(|h| h.help.clone()).unwrap_or_default(),
            details,
        }
    }

    /// A report for a command that ends with a non-zero status without an error.
    pub fn new(id: ErrorId, message: impl Into<String>, help: &[&str]) -> ErrorReport {
        ErrorReport {
            id,
            message: message.into(),
            help: help.iter().map(|h| (*h).to_owned()).collect(),
            details: Vec::new(),
        }
    }
}

/// The document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultDocument {
    /// [`RESULT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub command: CommandName,
    /// The engine acted on (`fix`: checked for); null when it could not be known.
    pub engine: Option<Engine>,
    /// The user acted for.
    pub user: String,
    /// Their uid; null when the user named does not exist.
    pub uid: Option<u32>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// Exit status 0.
    pub ok: bool,
    /// Whether anything on the host changed.
    pub changed: bool,
    pub steps: Vec<StepResult>,
    pub warnings: Vec<String>,
    pub error: Option<ErrorReport>,
}

/// What a command did, recorded as it runs; with `--format json` also where its human text
/// goes (nowhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Results {
    json: bool,
    pub engine: Option<Engine>,
    pub user: String,
    pub uid: Option<u32>,
    pub dry_run: bool,
    /// Whether anything on the host changed.
    pub changed: bool,
    pub steps: Vec<StepResult>,
    pub warnings: Vec<String>,
    /// Why the command ends with a non-zero status when it returns no error (`fix --apply`
    /// after which checks still fail).
    pub failure: Option<ErrorReport>,
}

impl Results {
    /// Empty, for `format`.
    pub fn new(format: Format) -> Results {
        Results {
            json: format == Format::Json,
            engine: None,
            user: String::new(),
            uid: None,
            dry_run: false,
            changed: false,
            steps: Vec::new(),
            warnings: Vec::new(),
            failure: None,
        }
    }

    /// The caller is the user acted for; `dry_run`: `--dry-run`.
    pub fn acting_for(&mut self, caller: &rootless_setup_checks::Caller, dry_run: bool) {
        self.user = crate::paths::login_name(caller);
        self.uid = Some(caller.uid);
        self.dry_run = dry_run;
    }

    /// Whether the output is the JSON document.
    pub fn json(&self) -> bool {
        self.json
    }

    /// How a question gets its answer: with `--format json` nothing is asked (as without a
    /// terminal), `--yes` answers.
    pub fn answer(&self, yes: bool) -> Answer {
        if self.json && !yes {
            Answer::NoTerminal
        } else {
            Answer::detect(yes)
        }
    }

    /// Human text for standard output (dropped with `--format json`).
    pub fn out(&self, text: &str) -> anyhow::Result<()> {
        if self.json {
            Ok(())
        } else {
            crate::style::out(text)
        }
    }

    /// A human line for standard error (dropped with `--format json`).
    pub fn note(&self, text: &str) {
        if !self.json {
            eprintln!("{text}");
        }
    }

    /// A warning: `warning: …` on standard error, or one of the document's `warnings`.
    pub fn warning(&mut self, style: &Style, text: impl Into<String>) {
        let text = text.into();
        if self.json {
            self.warnings.push(text);
        } else {
            style.warning(&text);
        }
    }

    /// Records a step.
    pub fn step(&mut self, action: impl Into<String>, outcome: Outcome) {
        self.steps.push(StepResult {
            action: action.into(),
            outcome,
        });
    }

    /// Records every line of `actions` with `outcome`.
    pub fn steps<S: Into<String>>(
        &mut self,
        actions: impl IntoIterator<Item = S>,
        outcome: Outcome,
    ) {
        for action in actions {
            self.step(action, outcome);
        }
    }

    /// Records what a replay of the journal did; a reversal done counts as `done_as`
    /// (`done` for uninstall, `rolled-back` for a rollback).
    pub fn replayed(&mut self, lines: &[Line], done_as: Outcome) {
        for line in lines {
            let (text, outcome) = match line {
                Line::Done(t) => (t, done_as),
                Line::Failed(t) => (t, Outcome::Failed),
                Line::LeftAlone(t) => (t, Outcome::LeftAlone),
            };
            self.step(text.clone(), outcome);
        }
    }

    /// The document for `command` ending with `result` (its exit status, or its error).
    pub fn document(self, command: CommandName, result: &anyhow::Result<u8>) -> ResultDocument {
        let (ok, error) = match result {
            Ok(0) => (true, None),
            Ok(code) => (
                false,
                Some(self.failure.clone().unwrap_or_else(|| {
                    ErrorReport::new(
                        ErrorId::Internal,
                        format!("the command ended with exit status {code} and no error"),
                        &[],
                    )
                })),
            ),
            Err(e) => (false, Some(ErrorReport::of(e))),
        };
        ResultDocument {
            schema_version: RESULT_SCHEMA_VERSION,
            command,
            engine: self.engine,
            user: self.user,
            uid: self.uid,
            dry_run: self.dry_run,
            ok,
            changed: self.changed,
            steps: self.steps,
            warnings: self.warnings,
            error,
        }
    }
}

/// Runs a command's `body` in `format`. For people: as it always ran, its error returned for
/// `main` to print. With `--format json`: colourless and without spinners, its human text
/// dropped, then the one document on standard output and the command's exit status, with
/// nothing on standard error.
pub fn run(
    command: CommandName,
    format: Format,
    style: &Style,
    body: impl FnOnce(&Style, &mut Results) -> anyhow::Result<u8>,
) -> anyhow::Result<ExitCode> {
    let mut results = Results::new(format);
    if format == Format::Human {
        return body(style, &mut results).map(ExitCode::from);
    }
    let plain = Style {
        out: false,
        err: false,
    };
    let result = body(&plain, &mut results);
    let code = match &result {
        Ok(code) => *code,
        Err(e) => crate::style::exit_status(e),
    };
    let document = results.document(command, &result);
    crate::style::out(&format!("{}\n", serde_json::to_string_pretty(&document)?))?;
    Ok(ExitCode::from(code))
}

#[cfg(test)]
#[path = "results_tests.rs"]
mod tests;
