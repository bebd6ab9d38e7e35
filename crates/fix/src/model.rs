//! The typed script: a [`Plan`] of [`Step`]s, each a commented block of [`Command`]s. Values
//! only ever enter the script as arguments of a command, the path or text of a file, or a
//! package name; the renderer ([`crate::script`]) quotes every one of them. Fixed shell text
//! (the helpers, the preflight) is `&'static str`, so nothing read from the host can become
//! shell syntax.

use rootless_setup_core::{CheckId, Distro, Status};

/// A shell function the script defines once, in its preamble, when a command calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Helper {
    /// `expect_user NAME UID`: the account still has that uid.
    ExpectUser,
    /// `expect_home BASE HOME`: HOME lies directly below BASE and no directory on its path is
    /// a symbolic link.
    ExpectHome,
    /// `expect_line FILE NUMBER TEXT`: a line the script removes is still the one it was
    /// generated for.
    ExpectLine,
    /// `expect_free START COUNT`: the block the script hands out is still free in
    /// `/etc/subuid` and `/etc/subgid`.
    ExpectFree,
    /// `keep_original FILE`: a copy of a file before the script replaces it, once.
    KeepOriginal,
    /// `check_sysctl KEY VALUE DROPIN`: after `sysctl --system`, the kernel has the value.
    CheckSysctl,
}

impl Helper {
    /// Every helper, in the order the preamble defines them.
    pub const ALL: [Helper; 6] = [
        Helper::ExpectUser,
        Helper::ExpectHome,
        Helper::ExpectLine,
        Helper::ExpectFree,
        Helper::KeepOriginal,
        Helper::CheckSysctl,
    ];

    /// The function's name in the script.
    pub fn name(self) -> &'static str {
        match self {
            Helper::ExpectUser => "expect_user",
            Helper::ExpectHome => "expect_home",
            Helper::ExpectLine => "expect_line",
            Helper::ExpectFree => "expect_free",
            Helper::KeepOriginal => "keep_original",
            Helper::CheckSysctl => "check_sysctl",
        }
    }
}

/// One line (or, for [`Command::Write`], one here-document) of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A program and its arguments, each quoted; optionally appending its output to a file.
    Run {
        /// Program and arguments.
        argv: Vec<String>,
        /// `>>FILE`.
        append_to: Option<String>,
    },
    /// A call of one of the script's [`Helper`] functions.
    Call {
        helper: Helper,
        /// Its arguments, each quoted.
        args: Vec<String>,
    },
    /// Replaces a file with `text` (a here-document with a quoted delimiter, so nothing in the
    /// text is expanded), then sets its mode to 0644.
    Write {
        /// The file.
        path: String,
        /// The whole contents, ending with a newline.
        text: String,
    },
    /// Fixed shell text, written as it is (no value can enter it).
    Fixed(&'static str),
    /// Installs (or reinstalls) packages with this distribution's package manager.
    Install {
        /// Package names.
        packages: Vec<String>,
        /// Reinstall packages that are already installed (restores files, owners and modes).
        reinstall: bool,
    },
}

impl Command {
    /// A program with arguments.
    pub fn run<I, S>(argv: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Command::Run {
            argv: argv.into_iter().map(Into::into).collect(),
            append_to: None,
        }
    }

    /// A helper call.
    pub fn call<I, S>(helper: Helper, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Command::Call {
            helper,
            args: args.into_iter().map(Into::into).collect(),
        }
    }
}

/// A labelled comment line of a block: `seen`, `why`, `does`, `note`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub label: &'static str,
    /// The text (any characters; the renderer keeps it inside the comment).
    pub text: String,
}

/// One block of the script: the checks it repairs, comments saying what was seen, why it
/// matters and what the block does, the preflight guards it needs and its commands. A block
/// without commands is a manual one: it says what to do by hand and why the script does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The checks this block is about, with the status each ended with.
    pub checks: Vec<(CheckId, Status)>,
    /// Comment lines.
    pub notes: Vec<Note>,
    /// Commands that run before anything changes and stop the script if the host no longer
    /// looks the way it did when the script was generated.
    pub guards: Vec<Command>,
    /// The repair.
    pub commands: Vec<Command>,
    /// Commands printed as comments only (manual blocks): what to run by hand.
    pub by_hand: Vec<String>,
}

impl Step {
    /// An empty block about one check.
    pub fn new(id: CheckId, status: Status) -> Step {
        Step {
            checks: vec![(id, status)],
            notes: Vec::new(),
            guards: Vec::new(),
            commands: Vec::new(),
            by_hand: Vec::new(),
        }
    }

    /// Adds a comment line.
    #[must_use]
    pub fn note(mut self, label: &'static str, text: impl Into<String>) -> Step {
        self.notes.push(Note {
            label,
            text: text.into(),
        });
        self
    }

    /// Adds a command.
    #[must_use]
    pub fn command(mut self, command: Command) -> Step {
        self.commands.push(command);
        self
    }

    /// Adds a guard.
    #[must_use]
    pub fn guard(mut self, command: Command) -> Step {
        self.guards.push(command);
        self
    }

    /// Whether the script does nothing for this block (it only says what to do by hand).
    pub fn is_manual(&self) -> bool {
        self.commands.is_empty()
    }

    /// The ids of the block's checks.
    pub fn ids(&self) -> Vec<CheckId> {
        self.checks.iter().map(|(id, _)| *id).collect()
    }
}

/// Something to do after the script ran: log in again, or a fix the user makes without root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterNote {
    /// The checks whose (non-root) fix this is; empty for what follows from the script itself.
    pub checks: Vec<CheckId>,
    /// What to do.
    pub text: String,
}

impl AfterNote {
    /// The note as one line, naming its checks.
    pub fn line(&self) -> String {
        if self.checks.is_empty() {
            return self.text.clone();
        }
        let ids: Vec<&str> = self.checks.iter().map(|id| id.as_str()).collect();
        format!("{} ({})", self.text, ids.join(", "))
    }
}

/// Everything `rootless-setup fix` prints: the blocks and what the script cannot do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The user the script prepares the host for.
    pub user: String,
    /// Their uid.
    pub uid: u32,
    /// The distribution the commands are for.
    pub distro: Distro,
    /// The blocks, in order.
    pub steps: Vec<Step>,
    /// Checks that could not run for this user (`--user`), with why.
    pub not_covered: Vec<(CheckId, String)>,
    /// Checks skipped because a check they depend on failed; they run once that is fixed.
    pub skipped: Vec<CheckId>,
    /// What to do after the script ran (log in again, …), as the user or the admin.
    pub after: Vec<AfterNote>,
}

impl Plan {
    /// Whether there is nothing to do as root.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The ids of every check a block is about.
    pub fn ids(&self) -> Vec<CheckId> {
        self.steps.iter().flat_map(Step::ids).collect()
    }
}
