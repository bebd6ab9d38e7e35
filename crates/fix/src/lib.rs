//! `rootless-setup fix`: one reviewed, distribution-aware root script that repairs what the
//! checks found, and nothing else.
//!
//! The script is built from the findings of the checker (`rootless_setup_checks`, which this
//! crate does not depend on), not from their fix text: [`plan`] turns each failing or warning
//! finding whose fix needs root into a typed [`Step`] (the check id, what was seen, why it
//! matters, what the block does, and its commands), from the typed remedies of the check's fix
//! ([`Remedy`](rootless_setup_core::remedy::Remedy); never from a finding's text) and the host
//! files in the [`Target`]: a free block of subordinate ids, the sysctls that failed, the real
//! path of rootlesskit, the distribution's package names. [`script::render`] writes it as a
//! POSIX `sh` script with every value quoted;
//! [`explain::per_family`] renders the same blocks for each distribution family for `explain`.
//!
//! Nothing here runs the script or `sudo`: the CLI does that, only with `fix --apply`.

pub mod error;
pub mod explain;
pub mod model;
pub mod script;
mod steps;
pub mod target;
mod templates;

use rootless_setup_core::{CheckId, Report, Status};

pub use error::FixError;
pub use model::{AfterNote, Command, Helper, Note, Plan, Step};
pub use target::{HostFiles, Target};

/// The plan for `report` on `target`. `not_covered` names the checks that were not run and why
/// (for `fix --user`, the checker's `admin::NOT_COVERED`).
pub fn plan(
    report: &Report,
    target: &Target,
    not_covered: &[(CheckId, &str)],
) -> Result<Plan, FixError> {
    let collected = steps::build(&report.findings, target)?;
    let status = |id: CheckId| {
        report
            .findings
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.status)
    };
    let skipped = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Skip)
        .filter(|f| {
            f.id.depends_on()
                .iter()
                .any(|d| matches!(status(*d), Some(Status::Fail | Status::Skip)))
        })
        .map(|f| f.id)
        .collect();
    let mut after: Vec<AfterNote> = Vec::new();
    for text in collected.after {
        if !after.iter().any(|n| n.text == text) {
            after.push(AfterNote {
                checks: Vec::new(),
                text,
            });
        }
    }
    // The same advice for several checks (log in properly) is one note naming them all.
    for (id, text) in collected.user_fixes {
        match after
            .iter_mut()
            .find(|n| n.text == text && !n.checks.is_empty())
        {
            Some(note) => note.checks.push(id),
            None => after.push(AfterNote {
                checks: vec![id],
                text,
            }),
        }
    }
    Ok(Plan {
        user: target.account.name.clone(),
        uid: target.account.uid,
        distro: target.distro.clone(),
        steps: collected.steps,
        not_covered: not_covered
            .iter()
            .map(|(id, why)| (*id, (*why).to_owned()))
            .collect(),
        skipped,
        after,
    })
}

impl Plan {
    /// The script.
    pub fn render(&self) -> Result<String, FixError> {
        script::render(self)
    }
}
