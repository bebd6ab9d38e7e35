//! One check's result: a [`Finding`] with a stable id, a [`Status`], what was observed, why it
//! matters and how to [`Fix`] it. A failed prerequisite is data, never an `Err`.

use serde::Serialize;

use crate::catalogue::CheckId;

/// Outcome of one check. Ordered by severity so the worst of a set is its `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The prerequisite holds.
    Pass,
    /// The check did not run; `summary` says why (a dependency failed, not applicable, …).
    Skip,
    /// Works, but something is degraded or will bite later.
    Warn,
    /// The install would fail or the engine would not work.
    Fail,
}

impl Status {
    /// Lowercase name used in human and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One observed fact, such as `path = /usr/bin/newuidmap` or `mode = 4755`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    /// Short stable key (`snake_case`).
    pub key: String,
    /// The value as seen, verbatim where possible.
    pub value: String,
}

/// How to fix a failing or warning check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// One sentence: what to do.
    pub summary: String,
    /// Shell commands for this distribution, in order. Empty when the fix is not a command.
    pub commands: Vec<String>,
    /// Whether the commands need root (`sudo`).
    pub root: bool,
    /// Anchor into the documentation, such as `docs/checks.md#subid-uid`.
    pub docs: String,
}

impl Fix {
    /// A fix that the user can apply without root.
    pub fn user(id: CheckId, summary: impl Into<String>) -> Self {
        Fix {
            summary: summary.into(),
            commands: Vec::new(),
            root: false,
            docs: id.docs_anchor(),
        }
    }

    /// A fix that needs root.
    pub fn root(id: CheckId, summary: impl Into<String>) -> Self {
        Fix {
            root: true,
            ..Fix::user(id, summary)
        }
    }

    /// Appends a shell command.
    #[must_use]
    pub fn cmd(mut self, command: impl Into<String>) -> Self {
        self.commands.push(command.into());
        self
    }

    /// Appends several shell commands.
    #[must_use]
    pub fn cmds<I, S>(mut self, commands: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.commands.extend(commands.into_iter().map(Into::into));
        self
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id, such as `subid.uid`.
    pub id: CheckId,
    /// Pass, skip, warn or fail.
    pub status: Status,
    /// One line: what was seen (or, for a skip, why the check did not run).
    pub summary: String,
    /// Details: values, paths, versions.
    pub observed: Vec<Observation>,
    /// Why it matters. Set for warn and fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// How to fix it. Set for warn and fail where a fix exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

impl Finding {
    fn new(id: CheckId, status: Status, summary: impl Into<String>) -> Self {
        Finding {
            id,
            status,
            summary: summary.into(),
            observed: Vec::new(),
            why: None,
            fix: None,
        }
    }

    /// The prerequisite holds.
    pub fn pass(id: CheckId, summary: impl Into<String>) -> Self {
        Finding::new(id, Status::Pass, summary)
    }

    /// Degraded, but install can go on.
    pub fn warn(id: CheckId, summary: impl Into<String>) -> Self {
        Finding::new(id, Status::Warn, summary)
    }

    /// The prerequisite does not hold.
    pub fn fail(id: CheckId, summary: impl Into<String>) -> Self {
        Finding::new(id, Status::Fail, summary)
    }

    /// The check did not run; `reason` says why.
    pub fn skip(id: CheckId, reason: impl Into<String>) -> Self {
        Finding::new(id, Status::Skip, reason)
    }

    /// Records an observed value.
    #[must_use]
    pub fn observe(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.observed.push(Observation {
            key: key.into(),
            value: value.to_string(),
        });
        self
    }

    /// Says why the finding matters.
    #[must_use]
    pub fn why(mut self, why: impl Into<String>) -> Self {
        self.why = Some(why.into());
        self
    }

    /// Attaches the fix.
    #[must_use]
    pub fn fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }

    /// The value observed under `key`, if any.
    pub fn observed(&self, key: &str) -> Option<&str> {
        self.observed
            .iter()
            .find(|o| o.key == key)
            .map(|o| o.value.as_str())
    }
}
