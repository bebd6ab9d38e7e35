//! The prerequisite gate of `install`: every check runs once (the same as `rootless-setup
//! check`), its facts feed the unit generator, and failures stop the install with their ids
//! unless `--force`.

use std::fmt::Write as _;

use rootless_setup_checks::{Caller, LiveSystem, Selection};

use rootless_setup_core::{Host, Report, Status};
use rootless_setup_unit::Discovered;
use rootless_setup_unit::config::Settings;

use crate::commands::render;
use crate::report::shown;
use crate::style::status_label;

/// What the checks found.
#[derive(Debug)]
pub struct Prereqs {
    pub report: Report,
    /// The facts, for the unit generator.
    pub discovered: Discovered,
    /// Where the checker found the engine's client (`docker`, `ctr`), if it did.
    pub client: Option<std::path::PathBuf>,
    /// Whether the user manager has delegated controllers (`cgroup`).
    pub controllers_delegated: Option<bool>,
    /// Where the checker found `podman`, if it did.
    pub podman: Option<std::path::PathBuf>,
}

/// Runs every check on the live host with the configured drivers and data-root.
pub fn run(caller: &Caller, settings: &Settings) -> Prereqs {
    let host = Host::real();
    let (report, facts) =
        render::check_configured(&host, caller, &LiveSystem, settings, &Selection::all());
    Prereqs {
        client: settings
            .engine
            .value
            .spec()
            .client()
            .and_then(|c| facts.binary(c))
            .map(|b| b.path.clone()),
        controllers_delegated: facts.controllers_delegated,
        podman: facts.binary("podman").map(|b| b.path.clone()),
        discovered: render::discovered(&host, settings, &facts),
        report,
    }
}

/// The failing checks, one line each (`  fail ID: summary`), and the warnings.
pub fn describe(report: &Report, colour: bool) -> (Vec<String>, String) {
    let mut failing = Vec::new();
    let mut text = String::new();
    for f in &report.findings {
        match f.status {
            Status::Fail => failing.push(f.id.to_string()),
            Status::Warn => {}
            _ => continue,
        }
        let label = status_label(colour, f.status);
        let _ = writeln!(text, "  {label} {}: {}", f.id, shown(&f.summary));
    }
    (failing, text)
}

/// `1 prerequisite fails: ID` or `N prerequisites fail: ID, ID`.
pub fn failing_phrase(ids: &[&str]) -> String {
    let one = ids.len() == 1;
    format!(
        "{} prerequisite{} fail{}: {}",
        ids.len(),
        if one { "" } else { "s" },
        if one { "s" } else { "" },
        ids.join(", ")
    )
}

/// For the result document: the failing checks (`prerequisite ID: summary`) and the warning
/// ones (`ID: summary`), their summaries as the checks wrote them.
pub fn summaries(report: &Report) -> (Vec<String>, Vec<String>) {
    let mut failed = Vec::new();
    let mut warned = Vec::new();
    for f in &report.findings {
        match f.status {
            Status::Fail => failed.push(format!("prerequisite {}: {}", f.id, f.summary)),
            Status::Warn => warned.push(format!("{}: {}", f.id, f.summary)),
            Status::Pass | Status::Skip => {}
        }
    }
    (failed, warned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phrase_counts_in_words() {
        assert_eq!(
            failing_phrase(&["subid.uid"]),
            "1 prerequisite fails: subid.uid"
        );
        assert_eq!(
            failing_phrase(&["subid.uid", "uidmap"]),
            "2 prerequisites fail: subid.uid, uidmap"
        );
    }
}
