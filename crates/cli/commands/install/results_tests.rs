//! The result document of `install --format json` from each way a run ends, against the same
//! fakes and temporary home as the flow's tests: installed, already installed, rolled back,
//! linger refused, refused to clobber, a dry run.

use super::super::plan::InstallPlan;
use super::super::{Shown, plan_steps, record_run};
use rootless_setup_systemd::JobResult;

use super::tests::Home;
use super::*;
use crate::cli::Format;
use crate::results::{CommandName, Outcome, ResultDocument, Results};

const STYLE: Style = Style {
    out: false,
    err: false,
};

fn results() -> Results {
    let mut r = Results::new(Format::Json);
    r.engine = Some(rootless_setup_core::Engine::Docker);
    r.user = "dev".into();
    r.uid = Some(1000);
    r
}

/// The document of one `install --yes --format json` run in `h`, as `install` builds it.
fn install(h: &Home) -> ResultDocument {
    let mut r = results();
    let applied = h.install_applied(false);
    record_run(&mut r, &applied);
    let result = applied.map(|_| 0).map_err(|f| f.into_error(&STYLE, false));
    r.document(CommandName::Install, &result)
}

fn outcomes(doc: &ResultDocument) -> Vec<Outcome> {
    doc.steps.iter().map(|s| s.outcome).collect()
}

#[test]
fn a_fresh_install_changed_the_host_and_a_second_one_did_not() {
    let h = Home::new();
    let first = install(&h);
    assert!(first.ok && first.changed);
    insta::assert_json_snapshot!(first);
    let second = install(&h);
    assert!(second.ok);
    assert!(!second.changed, "{:?}", second.steps);
    assert!(second.steps.is_empty());
}

#[test]
fn nothing_to_change_lists_what_was_checked_as_skipped() {
    let h = Home::new();
    h.install(false).unwrap();
    let plan = h.plan(false);
    assert!(plan.changes_nothing());
    let mut r = results();
    plan_steps(&mut r, &plan, &h.paths, Shown::Unchanged);
    let doc = r.document(CommandName::Install, &Ok(0));
    assert!(doc.ok && !doc.changed);
    let actions: Vec<&str> = doc.steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "keep ~/.config/systemd/user/docker.service (unchanged)",
            "keep ~/.config/systemd/user/docker.service.d/10-rootless-setup.conf (unchanged)",
            "keep docker.service enabled",
            "keep docker.service running (active/running), check that it answers GET /_ping",
            "keep docker context rootless (unix:///run/user/1000/docker.sock) (already current)",
            "linger for dev: already on",
        ]
    );
    assert!(outcomes(&doc).iter().all(|o| *o == Outcome::Skipped));
}

#[test]
fn a_rolled_back_install_is_not_ok_and_changed_nothing() {
    let h = Home::new();
    *h.fake.start_result.borrow_mut() = JobResult::Failed;
    let doc = install(&h);
    assert!(!doc.ok);
    assert!(!doc.changed);
    let error = doc.error.as_ref().unwrap();
    assert_eq!(error.id, ErrorId::EngineDidNotStart);
    assert_eq!(
        error.message,
        "docker.service did not start: the start job ended `failed` after 1 ms"
    );
    // The unit and the journal tail, not the rollback (that is in the steps).
    assert!(
        error.details.iter().any(|d| d.contains("unknown flag")),
        "{:?}",
        error.details
    );
    assert!(!error.details.iter().any(|d| d.contains("rollback")));
    let step = |action: &str| {
        doc.steps
            .iter()
            .find(|s| s.action == action)
            .unwrap_or_else(|| panic!("no step {action}: {:?}", doc.steps))
            .outcome
    };
    assert_eq!(
        step("wrote ~/.config/systemd/user/docker.service"),
        Outcome::Done
    );
    assert_eq!(step(&error.message), Outcome::Failed);
    assert_eq!(
        step("removed ~/.config/systemd/user/docker.service"),
        Outcome::RolledBack
    );
    assert_eq!(step("removed the install record"), Outcome::RolledBack);
}

#[test]
fn another_failing_step_has_its_own_id() {
    let h = Home::new();
    *h.fake.fail.borrow_mut() = Some("create");
    let doc = install(&h);
    assert_eq!(doc.error.unwrap().id, ErrorId::InstallStepFailed);
    assert!(!doc.changed);
}

#[test]
fn linger_refused_is_a_warning_of_a_successful_install() {
    let h = Home::new();
    *h.fake.fail.borrow_mut() = Some("linger-on");
    let doc = install(&h);
    assert!(doc.ok && doc.changed);
    assert_eq!(doc.warnings.len(), 1, "{:?}", doc.warnings);
    assert!(
        doc.warnings[0]
            .starts_with("linger is off, so the engine stops when your last session ends: ")
            && doc.warnings[0].ends_with("; run: sudo loginctl enable-linger dev"),
        "{}",
        doc.warnings[0]
    );
}

/// The plan with a foreign unit file on disk.
fn refused(h: &Home) -> InstallPlan {
    std::fs::create_dir_all(&h.paths.unit_dir).unwrap();
    std::fs::write(h.paths.unit_file(), "[Unit]\nDescription=mine\n").unwrap();
    h.plan(false)
}

#[test]
fn a_refusal_leaves_the_foreign_file_alone_and_skips_the_rest() {
    let h = Home::new();
    let plan = refused(&h);
    let mut r = results();
    plan_steps(&mut r, &plan, &h.paths, Shown::Refused);
    let doc = r.document(
        CommandName::Install,
        &Err(crate::style::stopped(
            ErrorId::WouldClobber,
            "install stopped",
            &[],
        )),
    );
    assert!(!doc.ok && !doc.changed);
    assert_eq!(doc.error.as_ref().unwrap().id, ErrorId::WouldClobber);
    assert_eq!(
        doc.steps[0].action,
        "refuse to replace ~/.config/systemd/user/docker.service: not written by rootless-setup (dockerd-rootless-setuptool.sh, a package or a person)"
    );
    let mut want = vec![Outcome::Skipped; doc.steps.len()];
    want[0] = Outcome::LeftAlone;
    assert_eq!(outcomes(&doc), want);
}

#[test]
fn a_dry_run_plans_every_line_and_changes_nothing() {
    let h = Home::new();
    let plan = h.plan(false);
    let mut r = results();
    r.dry_run = true;
    plan_steps(&mut r, &plan, &h.paths, Shown::DryRun);
    let doc = r.document(CommandName::Install, &Ok(0));
    assert!(doc.ok && doc.dry_run && !doc.changed);
    assert_eq!(doc.steps.len(), plan.lines(&h.paths).len());
    assert!(outcomes(&doc).iter().all(|o| *o == Outcome::Planned));
    assert_eq!(
        doc.steps[0].action,
        "create ~/.config/systemd/user/docker.service"
    );
    assert!(
        h.fake.calls.borrow().is_empty(),
        "a dry run acts on nothing"
    );
}
