//! The result of a run: every selected [`Finding`] plus who, what and when, with a versioned
//! JSON schema (docs/json-schema.md) and the exit-code rule.

use serde::Serialize;

use crate::finding::{Finding, Status};
use crate::model::Engine;

/// Version of the JSON document. Bumped on any incompatible change; additions keep it.
pub const SCHEMA_VERSION: u32 = 1;

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Passed.
    pub pass: usize,
    /// Warned.
    pub warn: usize,
    /// Failed.
    pub fail: usize,
    /// Skipped.
    pub skip: usize,
}

/// All findings of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The engine checked for.
    pub engine: Engine,
    /// The caller's uid.
    pub uid: u32,
    /// The caller's login name, when it has a passwd entry.
    pub user: Option<String>,
    /// The distribution's `ID` and `VERSION_ID`.
    pub distribution: String,
    /// Findings in catalogue order.
    pub findings: Vec<Finding>,
}

impl Report {
    /// How many findings have each status.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for f in &self.findings {
            match f.status {
                Status::Pass => c.pass += 1,
                Status::Warn => c.warn += 1,
                Status::Fail => c.fail += 1,
                Status::Skip => c.skip += 1,
            }
        }
        c
    }

    /// Whether the host is ready: nothing failed (and, when `strict`, nothing warned).
    pub fn ready(&self, strict: bool) -> bool {
        let c = self.counts();
        c.fail == 0 && (!strict || c.warn == 0)
    }

    /// The findings that block (fail, and warn when `strict`).
    pub fn blocking(&self, strict: bool) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |f| f.status == Status::Fail || (strict && f.status == Status::Warn))
    }
}
