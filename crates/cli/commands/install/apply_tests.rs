//! The install flow against in-memory fakes ([`crate::state::ops_fake`]) and a temporary home:
//! what it journals, that every failing step rolls back to exactly the state before, that a
//! run killed at any effect converges (the next install succeeds, uninstall leaves nothing),
//! and that uninstall honours every record field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rootless_setup_systemd::JobResult;
use rootless_setup_unit::DOCKER_UNIT;
use rootless_setup_unit::header::{digest, with_header};

use super::super::plan::{
    ContextPlan, FilePlan, InstallPlan, LingerPlan, file_change, service_plan,
};
use super::*;
use crate::docker_context::{self as dc, ContextInfo};
use crate::state::guard::DATA_ROOT_MARKER;
use crate::state::ops_fake::{Fake, Seen};
use crate::state::reversal::{self, Goal, Line};
use crate::state::{Entry, State, Step};

const STYLE: Style = Style {
    out: false,
    err: false,
};

pub(crate) struct Home {
    _dir: tempfile::TempDir,
    pub paths: Paths,
    pub fake: Fake,
    /// What install renders now.
    pub unit: String,
    pub drop_in: String,
}

fn rendered(n: u32) -> (String, String) {
    (
        with_header(&format!(
            "[Unit]\nDescription=Docker (rootless) {n}\n[Service]\nExecStart=/usr/bin/dockerd-rootless.sh\n"
        )),
        with_header(&format!("[Service]\nEnvironment=N={n}\n")),
    )
}

impl Home {
    pub(crate) fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".config")).unwrap();
        std::fs::write(home.join(".bashrc"), "alias ll='ls -l'\n").unwrap();
        let paths = Paths::under(&home);
        let (unit, drop_in) = rendered(1);
        Home {
            _dir: dir,
            paths,
            fake: Fake::new(),
            unit,
            drop_in,
        }
    }

    fn endpoint(&self) -> String {
        dc::endpoint(&self.paths.socket())
    }

    fn data_root(&self) -> PathBuf {
        self.paths.home.join(".local/share/docker")
    }

    /// The plan install would make now (as `install --yes`, `--force` when asked).
    pub(crate) fn plan(&self, force: bool) -> InstallPlan {
        let files: Vec<FilePlan> = [
            (self.paths.unit_file(), &self.unit),
            (self.paths.drop_in().unwrap(), &self.drop_in),
        ]
        .into_iter()
        .map(|(path, new)| {
            let old = atomic::read_optional(&path).unwrap();
            FilePlan {
                change: file_change(old.as_deref(), new, force),
                path,
                new: new.clone(),
                old,
            }
        })
        .collect();
        let changes = files.iter().any(|f| f.change.writes());
        let seen = self.fake.state();
        let mut state = self.fake.unit_state(DOCKER_UNIT).unwrap();
        if !seen.active {
            state.active = rootless_setup_systemd::ActiveState::Inactive;
        }
        let record = State::load(&self.paths.state, self.paths.uid, self.paths.engine).unwrap();
        let ours = record.is_some_and(|r| r.created_context(dc::NAME));
        InstallPlan {
            files,
            service: service_plan(DOCKER_UNIT, changes, Some(&state)),
            context: ContextPlan::Act {
                name: "rootless",
                docker: "/usr/bin/docker".into(),
                action: dc::decide(seen.contexts.get(dc::NAME), &self.endpoint(), ours, force),
                endpoint: self.endpoint(),
                current: seen.current.clone(),
            },
            linger: if seen.linger {
                LingerPlan::AlreadyOn
            } else {
                LingerPlan::Enable
            },
            socket: self.paths.socket(),
        }
    }

    fn apply<'a>(&'a self, plan: &'a InstallPlan, old: Option<&'a State>) -> Apply<'a> {
        Apply {
            remote: None,
            world: self.fake.world(),
            paths: &self.paths,
            plan,
            old_state: old,
            data_root: Some(self.data_root()),
            job_timeout: Duration::from_secs(1),
            ping_timeout: Duration::from_secs(1),
            style: &STYLE,
            verbose: false,
        }
    }

    /// `install --yes` (`--force`).
    pub(crate) fn install(&self, force: bool) -> Result<String, Failure> {
        self.install_applied(force).map(|a| a.summary)
    }

    /// `install --yes` (`--force`), with what the run reports.
    pub(crate) fn install_applied(&self, force: bool) -> Result<Applied, Failure> {
        let plan = self.plan(force);
        let old = State::load(&self.paths.state, self.paths.uid, self.paths.engine).unwrap();
        self.apply(&plan, old.as_ref()).run()
    }

    /// Install killed right at the effect `op` of the fake: the record as saved then stays.
    fn killed_at(&self, op: &'static str) {
        let plan = self.plan(false);
        let old = State::load(&self.paths.state, self.paths.uid, self.paths.engine).unwrap();
        let apply = self.apply(&plan, old.as_ref());
        let mut run = Run {
            record: old.clone().unwrap_or_else(|| {
                State::new(
                    rootless_setup_core::Engine::Docker,
                    self.data_root(),
                    self.paths.socket(),
                )
            }),
            done: Vec::new(),
        };
        *self.fake.kill.borrow_mut() = Some(op);
        let killed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| apply.steps(&mut run)));
        assert!(killed.is_err(), "{op} was never reached");
        self.fake.kill.borrow_mut().take();
    }

    /// `uninstall --yes`: the record's journal replayed, the record removed.
    pub(crate) fn uninstall(&self) -> Vec<Line> {
        let record = State::load(&self.paths.state, self.paths.uid, self.paths.engine)
            .unwrap()
            .unwrap();
        let out = reversal::replay(
            &record.journal,
            Goal::Uninstall,
            &self.fake.world(),
            &self.paths,
        );
        std::fs::remove_file(&self.paths.state).unwrap();
        out.lines
    }

    /// Every file under the home directory (but the record and its lock) with its content,
    /// and the fake's state.
    pub(crate) fn snapshot(&self) -> (BTreeMap<PathBuf, String>, Seen) {
        let mut files = BTreeMap::new();
        walk(&self.paths.home, &mut files);
        files.retain(|p, _| !p.starts_with(self.paths.state.parent().unwrap()));
        (files, self.fake.state())
    }
}

fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            out.insert(p.clone(), "<dir>".into());
            walk(&p, out);
        } else if meta.file_type().is_symlink() {
            out.insert(
                p.clone(),
                format!("-> {}", std::fs::read_link(&p).unwrap().display()),
            );
        } else {
            out.insert(p.clone(), std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
}

fn steps(record: &State) -> Vec<Step> {
    record.journal.iter().map(|e| e.step.clone()).collect()
}

#[test]
fn a_fresh_install_journals_every_step_in_order() {
    let h = Home::new();
    let summary = h.install(false).unwrap();
    assert!(
        summary.contains("  changed: created docker context rootless"),
        "{summary}"
    );
    let record = State::load(
        &h.paths.state,
        h.paths.uid,
        rootless_setup_core::Engine::Docker,
    )
    .unwrap()
    .unwrap();
    assert!(record.journal.iter().all(|e| e.done));
    let want = vec![
        Step::Dir {
            path: h.paths.home.join(".config/systemd"),
        },
        Step::Dir {
            path: h.paths.unit_dir.clone(),
        },
        Step::File {
            path: h.paths.unit_file(),
            sha256: digest(&h.unit),
            previous: None,
        },
        Step::Dir {
            path: h.paths.unit_dir.join("docker.service.d"),
        },
        Step::File {
            path: h.paths.drop_in().unwrap(),
            sha256: digest(&h.drop_in),
            previous: None,
        },
        Step::Dir {
            path: h.paths.home.join(".local/share"),
        },
        Step::DataRoot {
            path: h.data_root(),
            created: true,
        },
        Step::Enable {
            unit: DOCKER_UNIT.into(),
        },
        Step::Start {
            unit: DOCKER_UNIT.into(),
            was_active: false,
        },
        Step::Context {
            name: "rootless".into(),
            endpoint: h.endpoint(),
        },
        Step::Switch {
            from: "default".into(),
            to: "rootless".into(),
        },
        Step::Linger,
    ];
    assert_eq!(steps(&record), want);
    // Nothing left to create now.
    assert!(crate::state::missing_dirs(&h.paths.drop_in().unwrap()).is_empty());
    let seen = h.fake.state();
    assert!(seen.enabled && seen.active && seen.linger);
    assert_eq!(seen.current, "rootless");
    assert_eq!(
        std::fs::read_to_string(h.data_root().join(DATA_ROOT_MARKER)).unwrap(),
        format!("{}\n", h.paths.uid)
    );
    assert_eq!(
        *h.fake.calls.borrow(),
        [
            "enable docker.service".to_owned(),
            "reload ".into(),
            "start docker.service".into(),
            "ping ".into(),
            "create rootless".into(),
            "use rootless".into(),
            format!("linger-on {}", h.paths.uid),
        ]
    );

    // Installing again changes nothing and journals nothing new.
    h.fake.calls.borrow_mut().clear();
    let again = h.install(false).unwrap();
    assert!(again.contains("nothing changed"), "{again}");
    let record2 = State::load(
        &h.paths.state,
        h.paths.uid,
        rootless_setup_core::Engine::Docker,
    )
    .unwrap()
    .unwrap();
    assert_eq!(steps(&record2), want);
}

#[test]
fn uninstall_after_install_leaves_exactly_the_state_before() {
    let h = Home::new();
    h.fake.seen.borrow_mut().contexts.insert(
        "work".into(),
        ContextInfo {
            endpoint: "ssh://w".into(),
            description: String::new(),
        },
    );
    h.fake.seen.borrow_mut().current = "work".into();
    let (mut files, seen) = h.snapshot();
    h.install(false).unwrap();
    let lines = h.uninstall();
    assert!(
        lines.iter().all(|l| matches!(l, Line::Done(_))),
        "{lines:?}"
    );
    // The data directory stays (without --purge), marked.
    let after = h.snapshot();
    files.insert(h.paths.home.join(".local"), "<dir>".into());
    files.insert(h.paths.home.join(".local/share"), "<dir>".into());
    files.insert(h.data_root(), "<dir>".into());
    files.insert(
        h.data_root().join(DATA_ROOT_MARKER),
        format!("{}\n", h.paths.uid),
    );
    files.insert(h.paths.home.join(".local/state"), "<dir>".into());
    assert_eq!(after, (files, seen));
}

/// Every effect install has, by the fake operation that carries it out.
const EFFECTS: [&str; 6] = ["enable", "reload", "start", "create", "use", "ping"];

#[test]
fn every_step_failing_once_rolls_back_to_exactly_the_state_before() {
    for op in EFFECTS {
        let h = Home::new();
        let before = h.snapshot();
        *h.fake.fail.borrow_mut() = Some(op);
        let failure = h.install(false).unwrap_err();
        assert!(
            failure
                .human_details(&STYLE)
                .iter()
                .any(|d| d.contains("rollback:")),
            "{op}: {failure:?}"
        );
        assert_eq!(h.snapshot(), before, "{op}");
        assert!(!h.paths.state.exists(), "{op}: the record stayed");
    }
}

#[test]
fn a_failed_start_job_rolls_back_and_shows_the_journal() {
    let h = Home::new();
    let before = h.snapshot();
    *h.fake.start_result.borrow_mut() = JobResult::Failed;
    let failure = h.install(false).unwrap_err();
    assert_eq!(
        failure.message,
        "docker.service did not start: the start job ended `failed` after 1 ms"
    );
    let details = failure.human_details(&STYLE).join("\n");
    assert!(
        details.contains("unknown flag: --no-such-flag"),
        "{details}"
    );
    assert!(
        details.contains("done removed ~/.config/systemd/user/docker.service"),
        "{details}"
    );
    assert!(
        details.contains("done disabled docker.service"),
        "{details}"
    );
    assert_eq!(h.snapshot(), before);
}

#[test]
fn a_failed_upgrade_restores_the_previous_files_record_and_engine() {
    let h = Home::new();
    h.install(false).unwrap();
    let record = std::fs::read_to_string(&h.paths.state).unwrap();
    let before = h.snapshot();
    let mut h2 = h;
    (h2.unit, h2.drop_in) = rendered(2);
    *h2.fake.fail.borrow_mut() = Some("restart");
    let failure = h2.install(false).unwrap_err();
    let details = failure.human_details(&STYLE).join("\n");
    assert!(
        details.contains("done started the previous docker.service again"),
        "{details}"
    );
    assert_eq!(h2.snapshot(), before, "{details}");
    assert_eq!(std::fs::read_to_string(&h2.paths.state).unwrap(), record);
}

#[test]
fn a_failing_record_write_stops_before_any_effect() {
    let h = Home::new();
    // The state directory is a file: the first journal save fails.
    let plan = h.plan(false);
    std::fs::create_dir_all(h.paths.home.join(".local/state")).unwrap();
    std::fs::write(h.paths.state.parent().unwrap(), "").unwrap();
    let before = h.snapshot();
    let failure = h.apply(&plan, None).run().unwrap_err();
    assert_eq!(
        failure.message,
        format!(
            "could not read {}: Not a directory (os error 20)",
            h.paths.state.display()
        )
    );
    assert_eq!(h.snapshot(), before);
    assert!(h.fake.calls.borrow().is_empty());
}

#[test]
fn an_own_enabled_unit_stays_enabled_and_is_restored_and_restarted() {
    // The reproduction: an own, enabled and running docker.service; install --force; uninstall.
    let h = Home::new();
    let own = "[Unit]\nDescription=my docker\n[Service]\nExecStart=/usr/bin/dockerd\n";
    std::fs::create_dir_all(&h.paths.unit_dir).unwrap();
    std::fs::write(h.paths.unit_file(), own).unwrap();
    {
        let mut s = h.fake.seen.borrow_mut();
        s.enabled = true;
        s.active = true;
    }
    let refused = h.plan(false);
    assert_eq!(refused.files[0].change, FileChange::Refuse(Author::Foreign));
    h.install(true).unwrap();
    let record = State::load(
        &h.paths.state,
        h.paths.uid,
        rootless_setup_core::Engine::Docker,
    )
    .unwrap()
    .unwrap();
    assert!(
        !steps(&record)
            .iter()
            .any(|s| matches!(s, Step::Enable { .. }))
    );
    assert!(steps(&record).contains(&Step::Start {
        unit: DOCKER_UNIT.into(),
        was_active: true
    }));
    h.fake.calls.borrow_mut().clear();
    let lines = h.uninstall();
    assert_eq!(std::fs::read_to_string(h.paths.unit_file()).unwrap(), own);
    let seen = h.fake.state();
    assert!(
        seen.enabled,
        "the unit was enabled before install: {lines:?}"
    );
    assert!(seen.active, "the engine ran before install: {lines:?}");
    assert!(
        !h.fake
            .calls
            .borrow()
            .iter()
            .any(|c| c.starts_with("disable"))
    );
    assert!(lines.contains(&Line::Done(format!(
        "started the previous {DOCKER_UNIT} again"
    ))));
}

#[test]
fn a_run_killed_at_any_effect_converges() {
    for op in [
        "enable",
        "reload",
        "start",
        "ping",
        "create",
        "use",
        "linger-on",
    ] {
        let h = Home::new();
        let before = h.snapshot();
        h.killed_at(op);
        // The record on disk names the interrupted step.
        let record = State::load(
            &h.paths.state,
            h.paths.uid,
            rootless_setup_core::Engine::Docker,
        )
        .unwrap()
        .unwrap();
        assert!(
            record.journal.iter().any(|e: &Entry| !e.done) == (op != "reload"),
            "{op}: {:?}",
            record.journal
        );
        let summary = h.install(false).unwrap_or_else(|f| panic!("{op}: {f:?}"));
        assert!(!summary.is_empty());
        let s = h.fake.state();
        assert!(
            s.active && s.enabled && s.current == "rootless",
            "{op}: {s:?}"
        );
        let lines = h.uninstall();
        assert!(
            !lines.iter().any(|l| matches!(l, Line::Failed(_))),
            "{op}: {lines:?}"
        );
        let mut after = h.snapshot();
        after
            .0
            .retain(|p, _| !p.starts_with(h.paths.home.join(".local")));
        let mut before = before.clone();
        before
            .0
            .retain(|p, _| !p.starts_with(h.paths.home.join(".local")));
        assert_eq!(after, before, "{op}");
    }
}

#[test]
fn a_context_left_by_a_killed_run_is_recorded_by_the_next() {
    // Killed after `docker context create` but before the record said done; even a record
    // lost entirely: the next install records the context it finds described as ours.
    let h = Home::new();
    h.fake.seen.borrow_mut().contexts.insert(
        "rootless".into(),
        crate::state::ops_fake::ours(&h.endpoint()),
    );
    h.install(false).unwrap();
    let record = State::load(
        &h.paths.state,
        h.paths.uid,
        rootless_setup_core::Engine::Docker,
    )
    .unwrap()
    .unwrap();
    assert!(record.created_context("rootless"));
    h.uninstall();
    assert!(h.fake.state().contexts.is_empty());
}

#[test]
fn linger_not_permitted_is_not_journaled() {
    let h = Home::new();
    *h.fake.fail.borrow_mut() = Some("linger-on");
    let summary = h.install(false).unwrap();
    assert!(summary.contains("linger is off"), "{summary}");
    let record = State::load(
        &h.paths.state,
        h.paths.uid,
        rootless_setup_core::Engine::Docker,
    )
    .unwrap()
    .unwrap();
    assert!(!steps(&record).contains(&Step::Linger));
    h.fake.seen.borrow_mut().linger = true;
    h.uninstall();
    assert!(h.fake.state().linger, "linger on by someone else stays on");
}

#[test]
fn files_of_ours_found_without_a_record_are_recorded_and_a_rollback_keeps_them() {
    let h = Home::new();
    h.install(false).unwrap();
    std::fs::remove_file(&h.paths.state).unwrap();
    let before = h.snapshot();
    // A failing run over them leaves them.
    *h.fake.fail.borrow_mut() = Some("create");
    h.fake.seen.borrow_mut().contexts.clear();
    h.install(false).unwrap_err();
    assert_eq!(h.snapshot().0, before.0);
    h.install(false).unwrap();
    let record = State::load(
        &h.paths.state,
        h.paths.uid,
        rootless_setup_core::Engine::Docker,
    )
    .unwrap()
    .unwrap();
    let recorded = |path: PathBuf, text: &str| Step::File {
        path,
        sha256: digest(text),
        previous: Some(Previous::Ours {
            sha256: digest(text),
            text: Some(text.to_owned()),
        }),
    };
    assert_eq!(
        steps(&record)[..2],
        [
            recorded(h.paths.unit_file(), &h.unit),
            recorded(h.paths.drop_in().unwrap(), &h.drop_in)
        ]
    );
    h.uninstall();
    assert!(!h.paths.unit_file().exists() && !h.paths.drop_in().unwrap().exists());
}

/// Podman: no unit written, the distribution's socket enabled and started, its own context,
/// the containers.conf drop-in journaled like any file, no data directory marked; uninstall
/// stops the socket and the service it started and leaves the home as it was.
#[test]
fn podman_journals_its_socket_drop_in_and_context_and_uninstall_undoes_them() {
    let mut h = Home::new();
    h.paths.engine = rootless_setup_core::Engine::Podman;
    h.paths.state = h.paths.state.with_file_name("podman.json");
    let before = h.snapshot();
    let conf = rootless_setup_unit::containers_conf(&h.paths.config_home).unwrap();
    let endpoint = dc::endpoint(&h.paths.socket());
    let plan = InstallPlan {
        files: vec![FilePlan {
            change: file_change(None, &conf.contents, false),
            path: conf.path.clone(),
            new: conf.contents.clone(),
            old: None,
        }],
        service: service_plan("podman.socket", true, None),
        context: ContextPlan::Act {
            name: "rootless-podman",
            docker: "/usr/bin/docker".into(),
            action: dc::decide(None, &endpoint, false, false),
            endpoint: endpoint.clone(),
            current: "default".into(),
        },
        linger: LingerPlan::AlreadyOn,
        socket: h.paths.socket(),
    };
    let mut apply = h.apply(&plan, None);
    apply.data_root = None;
    let summary = apply.run().unwrap().summary;
    assert!(
        summary.starts_with("installed rootless Podman"),
        "{summary}"
    );
    assert!(
        summary.contains("rootless-setup uninstall --engine podman"),
        "{summary}"
    );
    let record = State::load(
        &h.paths.state,
        h.paths.uid,
        rootless_setup_core::Engine::Podman,
    )
    .unwrap()
    .unwrap();
    assert_eq!(record.engine, "podman");
    let steps = steps(&record);
    assert!(!steps.iter().any(|s| matches!(s, Step::DataRoot { .. })));
    for want in [
        Step::Enable {
            unit: "podman.socket".into(),
        },
        Step::Context {
            name: "rootless-podman".into(),
            endpoint: endpoint.clone(),
        },
        Step::Switch {
            from: "default".into(),
            to: "rootless-podman".into(),
        },
    ] {
        assert!(steps.contains(&want), "{want:?} not in {steps:?}");
    }
    assert!(steps.contains(&Step::Start {
        unit: "podman.socket".into(),
        was_active: false
    }));
    assert!(conf.path.exists());

    h.fake.calls.borrow_mut().clear();
    let lines = h.uninstall();
    assert!(
        !lines
            .iter()
            .any(|l| matches!(l, Line::Failed(_) | Line::LeftAlone(_))),
        "{lines:?}"
    );
    let calls = h.fake.calls.borrow().clone();
    for want in [
        "stop podman.socket",
        "stop podman.service",
        "disable podman.socket",
    ] {
        assert!(calls.iter().any(|c| c == want), "{want} not in {calls:?}");
    }
    // The record's own directories are the lock's business (as for Docker).
    let mut after = h.snapshot().0;
    after.retain(|p, _| !h.paths.home.join(".local/state").starts_with(p) || p == &h.paths.home);
    assert_eq!(after, before.0, "the home is as before");
    assert_eq!(h.fake.state().current, "default");
    assert!(!h.fake.state().contexts.contains_key("rootless-podman"));
}
