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
mod memo;
mod mountinfo;
mod namespace;
pub mod system;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod together;

use std::collections::{BTreeMap, BTreeSet};

use rootless_setup_core::{CheckId, Facts, Finding, Report, SCHEMA_VERSION, Status, finding};

pub use caller::Caller;
pub use context::{Context, Options};
pub use memo::RunMemo;
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
///
/// The checks that establish facts run in catalogue order, each after its dependencies. A check
/// that cannot change the facts (its signature says so) runs on its own thread from the moment
/// its dependencies have run or run on their own threads, beside the checks after it; its
/// finding still takes its place, and is the skip if a dependency it started beside failed. So
/// `userns.sysctl`, the iptables probe and the session's bus queries start at once, overlapping
/// nearly everything else; `userns.probe` (a user namespace made with the id ranges) starts once
/// the ids and helpers are known, and `engine.smoke` (a real rootlesskit start, the longest
/// probe) once `engine.binaries` and `network.driver` have run, beside `userns.probe`. When the
/// smoke is needed, the checks that establish its facts run first.
pub fn check_with_facts(cx: &Context<'_>, selection: &Selection) -> (Report, Facts) {
    let (facts, results) = std::thread::scope(|scope| {
        let mut run = Runner {
            scope,
            cx: *cx,
            facts: Facts::default(),
            results: BTreeMap::new(),
            running: BTreeMap::new(),
        };
        let needed = needed(cx, selection);
        // The facts the longest probe needs first, so it starts as early as it can and the
        // rest runs beside it.
        if needed.contains(&LONGEST) {
            for id in closure(cx, &[LONGEST]) {
                if matches!(checks::kind(id), checks::Kind::WritesFacts) {
                    run.ensure(id);
                }
            }
        }
        // The checks that write facts, in their turn; the others as soon as they are ready.
        for &id in &needed {
            run.start_ready(&needed);
            if matches!(checks::kind(id), checks::Kind::WritesFacts) {
                run.ensure(id);
            }
        }
        // Those not ready before the last fact was written, in catalogue order, each once its
        // dependencies have run.
        for &id in &needed {
            run.ensure(id);
        }
        let running: Vec<CheckId> = run.running.keys().copied().collect();
        for id in running {
            run.settle(id);
        }
        run.facts.fresh_versions.extend(cx.memo.take_learnt());
        (run.facts, run.results)
    });
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

/// The probe that takes longest by far (a real rootlesskit start, tens of milliseconds): when it
/// is needed, the facts it needs are established before any other check's.
const LONGEST: CheckId = CheckId::EngineSmoke;

/// The selected checks and those they depend on or run after, in catalogue order; not the
/// dependencies of a check that does not apply to the engine (it is skipped without them).
fn needed(cx: &Context<'_>, selection: &Selection) -> Vec<CheckId> {
    let selected: Vec<CheckId> = CheckId::ALL
        .into_iter()
        .filter(|id| selection.contains(*id))
        .collect();
    closure(cx, &selected)
}

/// `ids` and the checks they depend on or run after, directly or through others, in catalogue
/// order; not the dependencies of a check that does not apply to the engine.
fn closure(cx: &Context<'_>, ids: &[CheckId]) -> Vec<CheckId> {
    let mut needed = BTreeSet::new();
    let mut todo = ids.to_vec();
    while let Some(id) = todo.pop() {
        if needed.insert(id) && cx.engine.spec().not_applicable(id).is_none() {
            todo.extend(id.depends_on().iter().chain(id.runs_after()));
        }
    }
    CheckId::ALL
        .into_iter()
        .filter(|id| needed.contains(id))
        .collect()
}

/// One run of the checks: the facts and findings so far, and the checks running on their own
/// threads.
struct Runner<'scope, 'env> {
    scope: &'scope std::thread::Scope<'scope, 'env>,
    cx: Context<'scope>,
    facts: Facts,
    results: BTreeMap<CheckId, Finding>,
    running: BTreeMap<CheckId, std::thread::ScopedJoinHandle<'scope, Finding>>,
}

impl Runner<'_, '_> {
    /// Runs `id` after its dependencies, unless it has run or is running.
    fn ensure(&mut self, id: CheckId) {
        // A check that does not apply to the engine is skipped before its dependencies run:
        // they would only establish facts nobody reads.
        if !self.begun(id) && self.inapplicable(id).is_none() {
            for dep in id.depends_on().iter().chain(id.runs_after()) {
                self.ensure(*dep);
                self.settle(*dep);
            }
        }
        self.begin(id);
    }

    /// Whether `id` has run or is running.
    fn begun(&self, id: CheckId) -> bool {
        self.results.contains_key(&id) || self.running.contains_key(&id)
    }

    /// Starts `id`, whose dependencies have run or run on their own threads, unless it has run
    /// or is running, or is skipped: it does not apply, or a dependency failed.
    fn begin(&mut self, id: CheckId) {
        if self.begun(id) {
            return;
        }
        if let Some(finding) = self.inapplicable(id) {
            self.record(id, finding);
            return;
        }
        match self.facts.failed_dependency(id) {
            Some(dep) => {
                let finding = self.skipped(id, dep);
                self.record(id, finding);
            }
            None => self.start(id),
        }
    }

    /// Starts each of `selected` that cannot change the facts as soon as each of its
    /// dependencies has run or runs on its own thread, rather than in its turn, so it runs
    /// beside the checks between. A dependency on a thread writes no facts, so the copy the
    /// check gets is complete; only that dependency's verdict is pending, and [`settle`]
    /// replaces the check's finding with the skip should it fail. Such a check is read-only, so
    /// starting it early risks nothing but its own deadline.
    ///
    /// [`settle`]: Runner::settle
    fn start_ready(&mut self, selected: &[CheckId]) {
        let finished: Vec<CheckId> = self
            .running
            .iter()
            .filter(|(id, handle)| {
                handle.is_finished()
                    && !id.depends_on().iter().any(|d| self.running.contains_key(d))
            })
            .map(|(id, _)| *id)
            .collect();
        for id in finished {
            self.settle(id);
        }
        // The longest probe first, so nothing started in the same pass delays it.
        let longest_first = selected
            .iter()
            .filter(|id| **id == LONGEST)
            .chain(selected.iter().filter(|id| **id != LONGEST));
        for &id in longest_first {
            self.begin_if_ready(id);
        }
    }

    /// Begins `id` if it cannot change the facts and each of its dependencies has run or runs
    /// on its own thread, beginning first those of them that can (so a chain of such checks
    /// starts in one pass); returns whether `id` has begun.
    fn begin_if_ready(&mut self, id: CheckId) -> bool {
        if self.begun(id) {
            return true;
        }
        if matches!(checks::kind(id), checks::Kind::WritesFacts) {
            return false;
        }
        // One that does not apply is skipped without its dependencies.
        if let Some(finding) = self.inapplicable(id) {
            self.record(id, finding);
            return true;
        }
        // Every dependency is tried, not only up to the first that is not ready.
        let begun: Vec<bool> = id
            .depends_on()
            .iter()
            .chain(id.runs_after())
            .map(|d| self.begin_if_ready(*d))
            .collect();
        let ready = begun.into_iter().all(|b| b);
        if ready {
            self.begin(id);
        }
        self.begun(id)
    }

    /// Runs `id` now, or on its own thread when it cannot change the facts.
    fn start(&mut self, id: CheckId) {
        let cx = self.cx;
        let spawned = match checks::kind(id) {
            checks::Kind::FactFree(check) => {
                std::thread::Builder::new().spawn_scoped(self.scope, move || check(&cx))
            }
            checks::Kind::ReadsFacts(check) => {
                let facts = self.facts.clone();
                std::thread::Builder::new().spawn_scoped(self.scope, move || check(&cx, &facts))
            }
            checks::Kind::WritesFacts => {
                let finding = checks::run(id, &cx, &mut self.facts);
                self.record(id, finding);
                return;
            }
        };
        match spawned {
            Ok(handle) => {
                self.running.insert(id, handle);
            }
            // Without a thread (the system refused one) the check runs here instead.
            Err(_) => {
                let finding = checks::run(id, &cx, &mut self.facts);
                self.record(id, finding);
            }
        }
    }

    /// Waits for `id` if it runs on its own thread, and records its finding, or the skip when a
    /// dependency it started beside failed.
    fn settle(&mut self, id: CheckId) {
        let Some(handle) = self.running.remove(&id) else {
            return;
        };
        for dep in id.depends_on() {
            self.settle(*dep);
        }
        // A panic on the check's thread is the same panic it would have been here.
        let finding = handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let finding = match self.facts.failed_dependency(id) {
            Some(dep) => self.skipped(id, dep),
            None => finding,
        };
        self.record(id, finding);
    }

    /// The skip of `id` when it does not apply to the engine.
    fn inapplicable(&self, id: CheckId) -> Option<Finding> {
        let why = self.cx.engine.spec().not_applicable(id)?;
        let engine = self.cx.engine.as_str();
        Some(Finding::skip(
            id,
            format!("does not apply to {engine}: {why}"),
        ))
    }

    /// The finding of `id` when its dependency `dep` failed or did not run.
    fn skipped(&self, id: CheckId, dep: CheckId) -> Finding {
        match self.results.get(&dep) {
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
        }
    }

    fn record(&mut self, id: CheckId, finding: Finding) {
        debug_assert_eq!(
            finding.id, id,
            "check {id} returned a finding for {}",
            finding.id
        );
        self.facts.statuses.insert(id, finding.status);
        self.results.insert(id, Finding { id, ..finding }.bounded());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::BusAnswer;
    use crate::testing::{Harness, ScriptedSystem};
    use rootless_setup_core::testing::Fixture;

    /// A fact-free check started on its own thread (`network.iptables` after `userns.sysctl`)
    /// runs once, reports in catalogue order, and is not started when its dependency failed.
    #[test]
    fn a_check_started_early_runs_once_and_reports_in_its_place() {
        let fixture = Fixture::new();
        fixture
            .file("/etc/os-release", "ID=debian\nVERSION_ID=12\n")
            .file("/proc/sys/user/max_user_namespaces", "15000\n")
            .file("/proc/self/ns/user", "")
            .exe("/usr/sbin/iptables");
        let system = ScriptedSystem::new().on(
            "iptables",
            "--version",
            ScriptedSystem::ok("iptables v1.8.9 (nf_tables)\n"),
        );
        let harness = Harness::new(&fixture, Caller::new(4242, 4242), system);
        let only = [
            CheckId::UsernsSysctl,
            CheckId::NetworkIptables,
            CheckId::User,
        ];
        let report = check(&harness.context(), &Selection::new(&only, &[]));
        let ids: Vec<CheckId> = report.findings.iter().map(|f| f.id).collect();
        assert_eq!(
            ids,
            [
                CheckId::User,
                CheckId::UsernsSysctl,
                CheckId::NetworkIptables
            ]
        );
        let again = Harness::new(
            &fixture,
            Caller::new(4242, 4242),
            ScriptedSystem::new().on(
                "iptables",
                "--version",
                ScriptedSystem::ok("iptables v1.8.9 (nf_tables)\n"),
            ),
        );
        let only_iptables = check(
            &again.context(),
            &Selection::new(&[CheckId::NetworkIptables], &[]),
        );
        assert_eq!(
            only_iptables.findings,
            report.findings[2..],
            "started early or in its turn, the same finding"
        );
        let probes = |h: &Harness| -> Vec<String> {
            h.system
                .calls()
                .into_iter()
                .filter(|c| c.contains("iptables"))
                .collect()
        };
        assert_eq!(probes(&harness), probes(&again), "the probe ran once");
        assert!(!probes(&harness).is_empty());

        // Without user namespaces, userns.sysctl fails and network.iptables is skipped, though
        // it started beside it (a read-only probe: what it found gives way to the skip).
        let none = Fixture::new();
        none.file("/etc/os-release", "ID=debian\nVERSION_ID=12\n")
            .exe("/usr/sbin/iptables");
        let harness = Harness::new(&none, Caller::new(4242, 4242), ScriptedSystem::new());
        let report = check(
            &harness.context(),
            &Selection::new(&[CheckId::NetworkIptables], &[]),
        );
        assert_eq!(
            (
                report.findings[0].status,
                report.findings[0].summary.as_str()
            ),
            (
                Status::Skip,
                "skipped because `userns.sysctl` failed; fix that first"
            ),
        );
    }

    /// What a check on its own thread learnt by asking a program reaches the run's facts, to be
    /// remembered for the next run.
    #[test]
    fn answers_learnt_on_a_thread_are_handed_on_with_the_facts() {
        let fixture = Fixture::new();
        fixture
            .file("/etc/os-release", "ID=debian\nVERSION_ID=12\n")
            .file("/proc/sys/user/max_user_namespaces", "15000\n")
            .file("/proc/self/ns/user", "")
            .exe("/usr/sbin/iptables")
            .exe("/usr/sbin/iptables-restore");
        let system = ScriptedSystem::new()
            .on(
                "iptables",
                "-V",
                ScriptedSystem::ok("iptables v1.8.9 (legacy)\n"),
            )
            .on("iptables-restore", "", ScriptedSystem::ok(""));
        let harness = Harness::new(&fixture, Caller::new(4242, 4242), system);
        let (report, facts) = check_with_facts(
            &harness.context(),
            &Selection::new(&[CheckId::NetworkIptables], &[]),
        );
        assert_eq!(
            report.findings[0].status,
            Status::Pass,
            "{:?}",
            report.findings[0]
        );
        let learnt: Vec<(&str, Option<&str>, Option<&str>)> = facts
            .fresh_versions
            .iter()
            .map(|a| {
                (
                    a.path.to_str().unwrap_or_default(),
                    a.version.as_deref(),
                    a.variant.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            learnt,
            [("/usr/sbin/iptables", Some("1.8.9"), Some("legacy"))]
        );
    }

    #[test]
    fn the_smoke_needs_these_checks_and_a_podman_check_needs_none_of_what_it_skips() {
        let fixture = Fixture::new();
        fixture.file("/etc/os-release", "ID=debian\nVERSION_ID=12\n");
        let mut harness = Harness::new(&fixture, Caller::new(4242, 4242), ScriptedSystem::new());
        assert_eq!(
            closure(&harness.context(), &[LONGEST]),
            [
                CheckId::HostInit,
                CheckId::User,
                CheckId::SubidUid,
                CheckId::SubidGid,
                CheckId::Uidmap,
                CheckId::UsernsSysctl,
                CheckId::UsernsProbe,
                CheckId::Cgroup,
                CheckId::NetworkDriver,
                CheckId::EngineBinaries,
                CheckId::EngineSmoke,
            ]
        );
        harness.engine = rootless_setup_core::Engine::Podman;
        assert_eq!(
            needed(
                &harness.context(),
                &Selection::new(&[CheckId::EngineSmoke, CheckId::NetworkPing], &[])
            ),
            [
                CheckId::HostInit,
                CheckId::User,
                CheckId::Cgroup,
                CheckId::NetworkDriver,
                CheckId::NetworkPing,
                CheckId::EngineBinaries,
                CheckId::EngineSmoke,
            ],
            "the smoke does not apply to Podman: none of userns.probe's chain is needed"
        );
    }

    /// The engine's programs as Debian 12 ships them, answering their versions.
    fn with_engine(fixture: &Fixture) -> ScriptedSystem {
        fixture
            .exe("/usr/bin/containerd")
            .exe("/usr/bin/ctr")
            .exe("/usr/bin/rootlesskit")
            .exe("/usr/bin/runc")
            .exe("/usr/bin/slirp4netns");
        let version = |out: &str| ScriptedSystem::ok(out);
        ScriptedSystem::new()
            .on(
                "containerd",
                "--version",
                version("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1\n"),
            )
            .on(
                "ctr",
                "--version",
                version("ctr github.com/containerd/containerd 1.6.20~ds1\n"),
            )
            .on(
                "rootlesskit",
                "--version",
                version("rootlesskit version 1.1.0\n"),
            )
            .on("runc", "--version", version("runc version 1.1.5+ds1\n"))
            .on(
                "slirp4netns",
                "--version",
                version("slirp4netns version 1.2.0\n"),
            )
    }

    /// A check runs after its dependencies even when they come later in the catalogue
    /// (`network.driver` after `engine.binaries`), and a chain of skips names its root cause
    /// once (`engine.smoke` ← `userns.probe` ← `user`).
    #[test]
    fn dependencies_run_first_wherever_they_are_listed_and_skips_name_the_root_cause() {
        let fixture = Fixture::new();
        fixture.file("/etc/os-release", "ID=debian\nVERSION_ID=12\n");
        let system = with_engine(&fixture);
        let mut harness = Harness::new(&fixture, Caller::new(4242, 4242), system);
        harness.engine = rootless_setup_core::Engine::Containerd;
        let only = [CheckId::NetworkDriver, CheckId::EngineSmoke];
        let (report, facts) = check_with_facts(&harness.context(), &Selection::new(&only, &[]));
        let driver = &report.findings[0];
        assert_eq!(driver.status, Status::Pass, "{driver:?}");
        assert_eq!(
            facts.network.map(|n| n.driver),
            Some("slirp4netns".to_owned())
        );
        assert_eq!(
            (
                report.findings[1].status,
                report.findings[1].summary.as_str()
            ),
            (
                Status::Skip,
                "skipped because `user` failed; fix that first"
            ),
            "through userns.probe's skip, to its cause"
        );
    }

    /// A dependency that was skipped for its own reason is named with that reason.
    #[test]
    fn a_dependency_skipped_for_its_own_reason_is_named_with_it() {
        let fixture = Fixture::new();
        fixture
            .file("/etc/os-release", "ID=alpine\nVERSION_ID=3.20\n")
            .file("/etc/passwd", "dev:x:1000:1000::/home/dev:/bin/sh\n")
            .dir("/run/openrc")
            .file("/proc/1/comm", "openrc-init\n");
        let harness = Harness::new(&fixture, Caller::new(1000, 1000), ScriptedSystem::new());
        let report = check(
            &harness.context(),
            &Selection::new(&[CheckId::SessionBus, CheckId::SessionSystemd], &[]),
        );
        let bus = &report.findings[0];
        assert_eq!(bus.status, Status::Skip, "{bus:?}");
        assert_eq!(
            report.findings[1].summary,
            format!("skipped because `session.bus` did not run: {}", bus.summary)
        );
    }

    /// The checks that write facts go on while a check on its own thread waits: the bus ping
    /// can only answer once `engine.binaries`, after it in the catalogue, has asked a version;
    /// nor does `session.systemd`, finished beside it, make the main thread wait for it.
    #[test]
    fn a_check_on_its_thread_does_not_hold_up_the_checks_that_write_facts() {
        let fixture = Fixture::new();
        fixture
            .file("/etc/os-release", "ID=debian\nVERSION_ID=12\n")
            .dir("/run/systemd/system");
        let inner = with_engine(&fixture);
        let caller = Caller::new(4242, 4242)
            .with_var("DBUS_SESSION_BUS_ADDRESS", "tcp:host=127.0.0.1,port=1");
        let mut harness = Harness::new(&fixture, caller, ScriptedSystem::new());
        harness.engine = rootless_setup_core::Engine::Containerd;
        let manager = BusAnswer::Ok(system::ManagerInfo {
            version: "252".into(),
            state: "running".into(),
        });
        let gated = GatedPing::new(inner.manager(manager), Opens::Run);
        let cx = Context {
            system: &gated,
            ..harness.context()
        };
        let only = [
            CheckId::SessionBus,
            CheckId::SessionSystemd,
            CheckId::EngineBinaries,
        ];
        let report = check(&cx, &Selection::new(&only, &[]));
        assert!(
            GatedPing::opened_first(&report.findings[0]),
            "{:?}",
            report.findings[0]
        );
    }

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
        let only = [
            CheckId::NetworkIptables,
            CheckId::EngineSmoke,
            CheckId::EngineInstalled,
        ];
        let (report, facts) = check_with_facts(&harness.context(), &Selection::new(&only, &[]));
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
                (
                    Status::Skip,
                    "does not apply to podman: Podman has no older rootless set-up tool to take over"
                ),
            ]
        );
        assert!(
            harness.system.calls().is_empty(),
            "nothing was probed: {:?}",
            harness.system.calls()
        );
        assert_eq!(
            facts.statuses.keys().copied().collect::<Vec<_>>(),
            only,
            "none of their dependencies ran either"
        );
    }

    /// What opens [`GatedPing`]'s gate.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Opens {
        /// The user manager is asked (by `session.systemd`).
        Manager,
        /// A program is run (by `engine.binaries`, asking versions).
        Run,
    }

    /// A system whose bus ping answers (unreachable) only once its gate is open, or after ten
    /// seconds; the answer says which, so a test can prove what ran while the ping waited.
    #[derive(Debug)]
    struct GatedPing {
        inner: ScriptedSystem,
        opens: Opens,
        open: std::sync::Mutex<bool>,
        cond: std::sync::Condvar,
    }

    impl GatedPing {
        fn new(inner: ScriptedSystem, opens: Opens) -> Self {
            GatedPing {
                inner,
                opens,
                open: std::sync::Mutex::new(false),
                cond: std::sync::Condvar::new(),
            }
        }

        /// Whether the ping's finding says the gate opened before the ping answered.
        fn opened_first(ping: &Finding) -> bool {
            ping.observed
                .iter()
                .any(|o| o.value.contains("gate open first: true"))
        }

        fn saw(&self, what: Opens) {
            if what == self.opens {
                *self.open.lock().unwrap_or_else(|e| e.into_inner()) = true;
                self.cond.notify_all();
            }
        }
    }

    impl System for GatedPing {
        fn run(
            &self,
            invocation: &rootless_setup_core::process::Invocation,
        ) -> Result<rootless_setup_core::process::Output, rootless_setup_core::process::ProcessError>
        {
            self.saw(Opens::Run);
            self.inner.run(invocation)
        }
        fn map_userns(
            &self,
            request: &system::UsernsMapRequest,
        ) -> Result<system::UsernsMapOutcome, rootless_setup_core::process::ProcessError> {
            self.inner.map_userns(request)
        }
        fn ping_user_bus(&self, address: &str) -> BusAnswer<()> {
            let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            let (open, _) = self
                .cond
                .wait_timeout_while(open, std::time::Duration::from_secs(10), |o| !*o)
                .unwrap_or_else(|e| e.into_inner());
            BusAnswer::Unreachable(format!("{address}: refused (gate open first: {open})"))
        }
        fn user_manager(&self, address: &str) -> BusAnswer<system::ManagerInfo> {
            self.saw(Opens::Manager);
            System::user_manager(&self.inner, address)
        }
        fn linger(&self, uid: u32) -> BusAnswer<bool> {
            System::linger(&self.inner, uid)
        }
        fn engine_warnings(&self, socket: &std::path::Path) -> Result<Vec<String>, String> {
            System::engine_warnings(&self.inner, socket)
        }
    }

    /// A check that writes no facts starts beside a dependency still running on its own thread
    /// (`session.systemd` beside `session.bus`); when that dependency fails, the early finding
    /// gives way to the skip that names it.
    #[test]
    fn a_check_started_beside_a_failing_dependency_is_reported_as_skipped() {
        let fixture = Fixture::new();
        fixture
            .file("/etc/os-release", "ID=debian\nVERSION_ID=12\n")
            .file("/etc/passwd", "dev:x:1000:1000::/home/dev:/bin/sh\n")
            .dir("/run/systemd/system");
        let address = "tcp:host=127.0.0.1,port=1";
        let caller = Caller::new(1000, 1000).with_var("DBUS_SESSION_BUS_ADDRESS", address);
        let manager = BusAnswer::Ok(system::ManagerInfo {
            version: "257".into(),
            state: "running".into(),
        });
        let gated = GatedPing::new(ScriptedSystem::new().manager(manager), Opens::Manager);
        let harness = Harness::new(&fixture, caller, ScriptedSystem::new());
        let cx = Context {
            system: &gated,
            ..harness.context()
        };
        let only = [CheckId::SessionBus, CheckId::SessionSystemd];
        let report = check(&cx, &Selection::new(&only, &[]));
        let found: Vec<(CheckId, Status)> =
            report.findings.iter().map(|f| (f.id, f.status)).collect();
        assert_eq!(
            found,
            [
                (CheckId::SessionBus, Status::Fail),
                (CheckId::SessionSystemd, Status::Skip)
            ]
        );
        assert!(
            GatedPing::opened_first(&report.findings[0]),
            "{:?}",
            report.findings[0]
        );
        assert_eq!(
            report.findings[1].summary, "skipped because `session.bus` failed; fix that first",
            "the manager answered, but the bus's verdict decides"
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
