//! One check's result: a [`Finding`] with a stable id, a [`Status`], what was observed, why it
//! matters and how to [`Fix`] it. A failed prerequisite is data, never an `Err`.
//!
//! Findings quote hostile files, so their size is bounded here and only here: the builders cut
//! every text they are given ([`cut`]), and [`Finding::bounded`] (applied to every finding a
//! run reports) caps the number of observations and commands and cuts fields a check set
//! directly. Whatever the input, a finding's human and JSON forms stay a few tens of KiB.

use serde::Serialize;

use crate::catalogue::CheckId;
use crate::remedy::Remedy;

/// Longest summary, `why` or fix summary kept, in characters; the rest is cut with "…".
pub const MAX_TEXT: usize = 1_000;

/// Longest observed value (and key) kept, in characters.
pub const MAX_VALUE: usize = 300;

/// Most observations one finding keeps; the rest are counted in a last `omitted` observation.
pub const MAX_OBSERVATIONS: usize = 40;

/// Most commands one fix holds; the rest are replaced by one shell comment saying how many.
pub const MAX_COMMANDS: usize = 20;

/// Longest command kept, in characters. A longer one is replaced by a shell comment, never
/// cut: a cut command could still run, and do something else.
pub const MAX_COMMAND: usize = 4_096;

/// Most items a list inside a message names: "1, 2, 3 … and 97 more".
pub const MAX_LISTED: usize = 10;

/// `text` cut to at most `max` characters, the cut marked with a trailing "…".
pub fn cut(text: impl Into<String>, max: usize) -> String {
    let mut text = text.into();
    if let Some((at, _)) = text.char_indices().nth(max) {
        text.truncate(at);
        text.push('…');
    }
    text
}

/// The first [`MAX_LISTED`] items joined with ", ", then "… and K more" when there are more.
pub fn list<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    let mut items = items.into_iter();
    let shown: Vec<String> = items
        .by_ref()
        .take(MAX_LISTED)
        .map(|i| i.to_string())
        .collect();
    let more = items.count();
    let mut text = shown.join(", ");
    if more > 0 {
        text.push_str(&format!(" … and {more} more"));
    }
    text
}

/// A command that is kept only when it is not longer than [`MAX_COMMAND`].
fn bounded_command(command: String) -> String {
    if command.chars().nth(MAX_COMMAND).is_some() {
        format!(
            "# a command longer than {MAX_COMMAND} characters was left out; `rootless-setup fix` \
             writes the whole script"
        )
    } else {
        command
    }
}

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

/// How to fix a failing or warning check: what to do as [`Remedy`] data, and the shell
/// commands rendered from it for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// One sentence: what to do.
    pub summary: String,
    /// Shell commands for this distribution, in order, rendered from `remedies` (and bounded).
    /// Empty when the fix is not a command.
    pub commands: Vec<String>,
    /// What the fix does, as data: what `rootless-setup fix` builds its script from.
    #[serde(skip)]
    pub remedies: Vec<Remedy>,
    /// Whether the commands need root (`sudo`).
    pub root: bool,
    /// Anchor into the documentation, such as `docs/checks.md#subid-uid`.
    pub docs: String,
}

impl Fix {
    /// A fix that the user can apply without root.
    pub fn user(id: CheckId, summary: impl Into<String>) -> Self {
        Fix {
            summary: cut(summary, MAX_TEXT),
            commands: Vec::new(),
            remedies: Vec::new(),
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

    /// Appends a remedy and the commands it renders.
    #[must_use]
    pub fn remedy(mut self, remedy: Remedy) -> Self {
        self.commands
            .extend(remedy.commands().into_iter().map(bounded_command));
        self.remedies.push(remedy);
        self
    }

    /// Appends a command for a person to run as written ([`Remedy::Manual`]).
    #[must_use]
    pub fn cmd(self, command: impl Into<String>) -> Self {
        self.remedy(Remedy::manual(command))
    }

    /// Appends several commands for a person ([`Remedy::Manual`]).
    #[must_use]
    pub fn cmds<I, S>(self, commands: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        commands.into_iter().fold(self, |fix, c| fix.cmd(c))
    }

    /// This fix within the caps: summary cut, at most [`MAX_COMMANDS`] commands, none longer
    /// than [`MAX_COMMAND`].
    fn bounded(mut self) -> Self {
        self.summary = cut(self.summary, MAX_TEXT);
        if self.commands.len() > MAX_COMMANDS {
            let more = self.commands.len() - (MAX_COMMANDS - 1);
            self.commands.truncate(MAX_COMMANDS - 1);
            self.commands.push(format!(
                "# {more} more commands were left out; `rootless-setup fix` writes the whole script"
            ));
        }
        self.commands = self.commands.into_iter().map(bounded_command).collect();
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
            summary: cut(summary, MAX_TEXT),
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
            key: cut(key, MAX_VALUE),
            value: cut(value.to_string(), MAX_VALUE),
        });
        self
    }

    /// Says why the finding matters.
    #[must_use]
    pub fn why(mut self, why: impl Into<String>) -> Self {
        self.why = Some(cut(why, MAX_TEXT));
        self
    }

    /// This finding within the caps, however its fields were set: texts cut, at most
    /// [`MAX_OBSERVATIONS`] observations (the last one, `omitted`, counting the rest), and the
    /// fix bounded likewise. Every finding of a run passes through here.
    #[must_use]
    pub fn bounded(mut self) -> Self {
        self.summary = cut(self.summary, MAX_TEXT);
        self.why = self.why.map(|w| cut(w, MAX_TEXT));
        self.fix = self.fix.map(Fix::bounded);
        if self.observed.len() > MAX_OBSERVATIONS {
            let more = self.observed.len() - (MAX_OBSERVATIONS - 1);
            self.observed.truncate(MAX_OBSERVATIONS - 1);
            self.observed.push(Observation {
                key: "omitted".to_owned(),
                value: format!("{more} more observations"),
            });
        }
        for o in &mut self.observed {
            o.key = cut(std::mem::take(&mut o.key), MAX_VALUE);
            o.value = cut(std::mem::take(&mut o.value), MAX_VALUE);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_marks_the_cut_and_counts_characters() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "abc…");
        assert_eq!(cut("ééééé", 2), "éé…");
        assert_eq!(cut("", 0), "");
        assert_eq!(cut("a", 0), "…");
    }

    #[test]
    fn lists_name_the_first_items_and_count_the_rest() {
        assert_eq!(list(1..=3), "1, 2, 3");
        assert_eq!(list(1..=MAX_LISTED), "1, 2, 3, 4, 5, 6, 7, 8, 9, 10");
        assert_eq!(
            list(1..=100_000),
            "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 … and 99990 more"
        );
        assert_eq!(list(Vec::<u8>::new()), "");
    }

    #[test]
    fn builders_cut_every_text() {
        let huge = "x".repeat(10_000_000);
        let f = Finding::fail(CheckId::SubidUid, huge.as_str())
            .observe(huge.as_str(), huge.as_str())
            .why(huge.as_str())
            .fix(Fix::root(CheckId::SubidUid, huge.as_str()).cmd(huge.as_str()));
        let expect = |max: usize| format!("{}…", "x".repeat(max));
        assert_eq!(f.summary, expect(MAX_TEXT));
        assert_eq!(f.why.as_deref(), Some(expect(MAX_TEXT).as_str()));
        assert_eq!(f.observed[0].key, expect(MAX_VALUE));
        assert_eq!(f.observed[0].value, expect(MAX_VALUE));
        let fix = f.fix.as_ref().unwrap();
        assert_eq!(fix.summary, expect(MAX_TEXT));
        assert_eq!(
            fix.commands,
            [
                "# a command longer than 4096 characters was left out; `rootless-setup fix` writes \
              the whole script"
            ]
        );
        let exactly = "y".repeat(MAX_COMMAND);
        let kept = Fix::user(CheckId::SubidUid, "s").cmds([exactly.as_str()]);
        assert_eq!(kept.commands, std::slice::from_ref(&exactly));
        // The remedy keeps the whole command: the script writes it.
        assert_eq!(kept.remedies, [Remedy::manual(exactly)]);
    }

    #[test]
    fn commands_are_rendered_from_the_remedies() {
        use crate::distro::{Family, Package};
        let fix = Fix::root(CheckId::Uidmap, "s")
            .remedy(Remedy::install(Family::Debian, &[Package::Uidmap]))
            .cmd("echo done")
            .remedy(Remedy::IdmapHelpers(Vec::new()));
        assert_eq!(
            fix.commands,
            ["sudo apt-get install -y uidmap", "echo done"]
        );
        assert_eq!(fix.remedies.len(), 3);
    }

    #[test]
    fn bounded_caps_lists_and_fields_set_directly() {
        let mut f = Finding::warn(CheckId::SubidUid, "s");
        for i in 0..1000 {
            f = f.observe("line", i);
        }
        f.summary = "z".repeat(5_000);
        f.why = Some("w".repeat(5_000));
        f.observed[0].value = "v".repeat(5_000);
        let mut fix = Fix::root(CheckId::SubidUid, "f");
        fix.commands = (0..100).map(|i| format!("echo {i}")).collect();
        fix.commands[0] = "c".repeat(MAX_COMMAND + 1);
        fix.summary = "q".repeat(5_000);
        f.fix = Some(fix);

        let b = f.bounded();
        assert_eq!(b.summary.chars().count(), MAX_TEXT + 1);
        assert_eq!(
            b.why.as_ref().map(|w| w.chars().count()),
            Some(MAX_TEXT + 1)
        );
        assert_eq!(b.observed.len(), MAX_OBSERVATIONS);
        assert_eq!(b.observed[0].value.chars().count(), MAX_VALUE + 1);
        assert_eq!(b.observed[38].value, "38");
        let last = b.observed.last().unwrap();
        assert_eq!(
            (last.key.as_str(), last.value.as_str()),
            ("omitted", "961 more observations")
        );
        let fix = b.fix.unwrap();
        assert_eq!(fix.summary.chars().count(), MAX_TEXT + 1);
        assert_eq!(fix.commands.len(), MAX_COMMANDS);
        assert!(fix.commands[0].starts_with("# a command longer than"));
        assert_eq!(fix.commands[18], "echo 18");
        assert_eq!(
            fix.commands[19],
            "# 81 more commands were left out; `rootless-setup fix` writes the whole script"
        );
        // Within the caps nothing changes.
        let small = Finding::pass(CheckId::User, "ok").observe("k", "v");
        assert_eq!(small.clone().bounded(), small);
    }
}
