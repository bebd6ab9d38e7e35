//! Prerequisite checker for rootless container engines.
//!
//! [`check`] runs the selected checks of the
//! [`catalogue`](rootless_setup_core::catalogue) against a [`Host`](rootless_setup_core::Host) (the real one or a
//! fixture tree) for a [`Caller`], using a [`System`] for live probes, and returns a [`Report`]
//! of [`Finding`]s. A failed prerequisite is a finding with status `fail`, never an `Err`.
//!
//! Invariant: nothing in this crate changes the host. Probes run as the caller, in throwaway
//! namespaces; D-Bus is only read, through `rootless-setup-systemd`.

pub mod admin;
pub mod caller;
mod caps;
mod checks;
pub mod context;
pub mod engine_api;
mod mountinfo;
mod namespace;
pub mod system;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::collections::{BTreeMap, BTreeSet};

use rootless_setup_core::{CheckId, Facts, Finding, Report, SCHEMA_VERSION, Status, finding};

pub use caller::Caller;
pub use context::{Context, Options};
pub use namespace::mapped_count;
pub use system::{LiveSystem, System};

/// Which checks to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    selected: BTreeSet<CheckId>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            selected: CheckId::ALL.into_iter().collect(),
        }
    }
}

impl Selection {
    /// Every check.
    pub fn all() -> Self {
        Selection::default()
    }

    /// Only these checks (empty `only` means all), minus `skip`.
    pub fn new(only: &[CheckId], skip: &[CheckId]) -> Self {
        let mut selected: BTreeSet<CheckId> = if only.is_empty() {
            CheckId::ALL.into_iter().collect()
        } else {
            only.iter().copied().collect()
        };
        for id in skip {
            selected.remove(id);
        }
        Selection { selected }
    }

    /// Whether `id` is reported.
    pub fn contains(&self, id: CheckId) -> bool {
        self.selected.contains(&id)
    }

    /// Whether no check is selected (`--skip` removed every one `--only` named): a run would
    /// report nothing and so could never fail, which callers treat as a usage error.
    pub fn is_empty(&self) -> bool {
        self.selected.is_empty()
    }
}

/// Runs the selected checks, and the checks they depend on, in catalogue order.
///
/// A dependency that was not selected still runs, to establish its facts, but is not reported.
/// A check whose dependency failed is skipped and names it. Expensive probes (`userns.probe`,
/// `network.iptables`, `engine.smoke`) run only when selected or needed.
pub fn check(cx: &Context<'_>, selection: &Selection) -> Report {
    check_with_facts(cx, selection).0
}

/// Like [`check`], and also hands back the facts the checks established (binaries with
/// versions, newuidmap, the network plan), for commands that act on them (render, install).
pub fn check_with_facts(cx: &Context<'_>, selection: &Selection) -> (Report, Facts) {
    let mut facts = Facts::default();
    let mut results = BTreeMap::new();
    for id in CheckId::ALL {
        if selection.contains(id) {
            ensure(id, cx, &mut facts, &mut results);
        }
    }
    let report = Report {
        schema_version: SCHEMA_VERSION,
        engine: cx.engine,
        uid: cx.caller.uid,
        user: facts
            .account
            .as_ref()
            .map(|a| finding::cut(a.name.as_str(), finding::MAX_VALUE)),
        distribution: finding::cut(
            match &cx.distro.version_id {
                Some(v) => format!("{} {v}", cx.distro.id),
                None => cx.distro.id.clone(),
            },
            finding::MAX_VALUE,
        ),
        findings: results
            .into_values()
            .filter(|f| selection.contains(f.id))
            .collect(),
    };
    (report, facts)
}

fn ensure(
    id: CheckId,
    cx: &Context<'_>,
    facts: &mut Facts,
    results: &mut BTreeMap<CheckId, Finding>,
) {
    if results.contains_key(&id) {
        return;
    }
    // A check that does not apply to the engine is skipped before its dependencies run: they
    // would only establish facts nobody reads.
    if let Some(why) = cx.engine.spec().not_applicable(id) {
        let finding = Finding::skip(
            id,
            format!("does not apply to {}: {why}", cx.engine.as_str()),
        );
        facts.statuses.insert(id, finding.status);
        results.insert(id, finding.bounded());
        return;
    }
    for dep in id.depends_on().iter().chain(id.runs_after()) {
        ensure(*dep, cx, facts, results);
    }
    let finding = match facts.failed_dependency(id) {
        Some(dep) => match results.get(&dep) {
            // A chain of skips names its root cause once.
            Some(d) if d.status == Status::Skip && d.summary.starts_with("skipped because ") => {
                Finding::skip(id, d.summary.clone())
            }
            Some(d) if d.status == Status::Skip => Finding::skip(
                id,
                format!("skipped because `{dep}` did not run: {}", d.summary),
            ),
            _ => Finding::skip(
                id,
                format!("skipped because `{dep}` failed; fix that first"),
            ),
        },
        None => checks::run(id, cx, facts),
    };
    debug_assert_eq!(
        finding.id, id,
        "check {id} returned a finding for {}",
        finding.id
    );
    facts.statuses.insert(id, finding.status);
    results.insert(id, Finding { id, ..finding }.bounded());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Harness, ScriptedSystem};
    use rootless_setup_core::testing::Fixture;

    #[test]
    fn a_selection_is_empty_only_when_skip_removes_everything() {
        assert!(!Selection::all().is_empty());
        assert!(!Selection::new(&[], &[CheckId::User]).is_empty());
        assert!(Selection::new(&[CheckId::SubidUid], &[CheckId::SubidUid]).is_empty());
        assert!(!Selection::new(&[CheckId::SubidUid, CheckId::User], &[CheckId::User]).is_empty());
        assert!(Selection::new(&[], &CheckId::ALL).is_empty());
    }

    #[test]
    fn a_check_that_does_not_apply_to_the_engine_is_skipped_saying_why() {
        let fixture = Fixture::new();
        fixture.file("/etc/os-release", "ID=debian\nVERSION_ID=13\n");
        let mut harness = Harness::new(&fixture, Caller::new(4242, 4242), ScriptedSystem::new());
        harness.engine = rootless_setup_core::Engine::Podman;
        let only = [CheckId::EngineSmoke, CheckId::NetworkIptables];
        let report = check(&harness.context(), &Selection::new(&only, &[]));
        let summaries: Vec<(Status, &str)> = report
            .findings
            .iter()
            .map(|f| (f.status, f.summary.as_str()))
            .collect();
        assert_eq!(
            summaries,
            [
                (
                    Status::Skip,
                    "does not apply to podman: Podman's default network needs no iptables in the user namespace"
                ),
                (
                    Status::Skip,
                    "does not apply to podman: the engine does not run under rootlesskit"
                ),
            ]
        );
        assert!(
            harness.system.calls().is_empty(),
            "nothing was probed: {:?}",
            harness.system.calls()
        );
    }

    #[test]
    fn skips_name_the_root_cause_through_a_chain_and_only_selected_ids_are_reported() {
        // No passwd entry: `user` fails, so everything that needs the account is skipped,
        // and checks further down the chain name `user`, not the intermediate skip.
        let fixture = Fixture::new();
        fixture.file("/etc/os-release", "ID=debian\nVERSION_ID=12\n");
        let harness = Harness::new(&fixture, Caller::new(4242, 4242), ScriptedSystem::new());
        let only = [
            CheckId::SubidUid,
            CheckId::UsernsProbe,
            CheckId::EngineSmoke,
        ];
        let report = check(&harness.context(), &Selection::new(&only, &[]));
        let ids: Vec<CheckId> = report.findings.iter().map(|f| f.id).collect();
        assert_eq!(ids, only);
        for f in &report.findings {
            assert_eq!(f.status, Status::Skip, "{}: {}", f.id, f.summary);
        }
        assert_eq!(
            report.findings[0].summary,
            "skipped because `user` failed; fix that first"
        );
        assert_eq!(report.findings[1].summary, report.findings[0].summary);
        assert!(
            report.findings[2].summary.starts_with("skipped because `"),
            "{}",
            report.findings[2].summary
        );
        assert!(!report.findings[2].summary.contains("did not run: skipped"));
    }
}
