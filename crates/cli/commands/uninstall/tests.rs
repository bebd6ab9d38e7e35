//! Tests of uninstall's plan: the record's journal or the standard paths, and `--purge` only
//! of a data directory carrying install's marker.

use super::*;
use crate::state::guard::{DATA_ROOT_MARKER, mark_data_root};
use crate::state::ops_fake::Fake;

fn paths(home: &std::path::Path) -> Paths {
    Paths::under(home)
}

/// `uninstall --dry-run`, with `--purge` when asked.
const fn dry_run(purge: bool) -> Args {
    Args {
        engine: None,
        user: None,
        purge,
        dry_run: true,
        yes: false,
        format: crate::cli::Format::Human,
    }
}

const PURGE: Args = dry_run(true);
const NO_PURGE: Args = dry_run(false);

#[test]
fn a_hostile_record_plans_to_remove_nothing_of_the_users() {
    // The reproduction: files lists ~/.bashrc and /etc/passwd, data_root is ~/Documents.
    let dir = tempfile::tempdir().unwrap();
    let p = paths(dir.path());
    std::fs::create_dir_all(dir.path().join("Documents")).unwrap();
    std::fs::write(dir.path().join(".bashrc"), "x\n").unwrap();
    let mut record = State::new(
        rootless_setup_core::Engine::Docker,
        dir.path().join("Documents"),
        "/run/user/1000/docker.sock".into(),
    );
    for path in [dir.path().join(".bashrc"), "/etc/passwd".into()] {
        let i = record.begin(Step::File {
            path,
            sha256: digest("x\n"),
            previous: None,
        });
        record.finish(i);
    }
    let fake = Fake::new();
    let plan = gather(&PURGE, &p, Some(record), &fake.world());
    assert!(!plan.is_empty(), "a record is something to uninstall");
    let text = describe(&plan, &p, None);
    let outside = "because it is not below ~/.config/systemd/user, ~/.docker/contexts or ~/.config/containers/containers.conf.d, where install writes";
    assert_eq!(
        text,
        format!(
            "  - left alone: /etc/passwd {outside}\n  - left alone: ~/.bashrc {outside}\n  - reload the systemd user manager\n  - left alone: the data directory ~/Documents because it does not carry the marker {DATA_ROOT_MARKER} install puts in the data directory it uses\n  - remove the install record ~/.local/state/rootless-setup/state.json\n"
        )
    );
    let lines = execute(&plan, &Caller::new(1, 1), &p, &fake.world());
    assert!(dir.path().join(".bashrc").exists());
    assert!(dir.path().join("Documents").exists());
    assert!(
        lines.contains(&Line::LeftAlone(format!(
            "the data directory ~/Documents because it does not carry the marker {DATA_ROOT_MARKER} install puts in the data directory it uses"
        ))),
        "{lines:?}"
    );
}

#[test]
fn linger_stays_on_while_another_engine_is_installed() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = paths(dir.path());
    p.engine = rootless_setup_core::Engine::Podman;
    p.state = p.state.with_file_name("podman.json");
    let mut record = State::new(
        rootless_setup_core::Engine::Podman,
        "/d".into(),
        "/s".into(),
    );
    let i = record.begin(Step::Linger);
    record.finish(i);
    let fake = Fake::new();
    let only = gather(&NO_PURGE, &p, Some(record.clone()), &fake.world());
    assert!(
        only.journal.iter().any(|e| e.step == Step::Linger),
        "alone: linger is ours to undo"
    );

    std::fs::create_dir_all(p.state.parent().unwrap()).unwrap();
    std::fs::write(p.state.with_file_name("state.json"), "{}").unwrap();
    let both = gather(&NO_PURGE, &p, Some(record), &fake.world());
    assert!(!both.journal.iter().any(|e| e.step == Step::Linger));
    assert!(
        both.found
            .contains(&"linger stays on: docker is installed too and needs it".to_owned()),
        "{:?}",
        both.found
    );
}

#[test]
fn a_marked_data_directory_is_planned_for_purge() {
    let dir = tempfile::tempdir().unwrap();
    let p = paths(dir.path());
    let data = p.default_data_root();
    mark_data_root(&data, p.uid).unwrap();
    let record = State::new(
        rootless_setup_core::Engine::Docker,
        data,
        "/run/user/1000/docker.sock".into(),
    );
    let plan = gather(&PURGE, &p, Some(record), &Fake::new().world());
    assert_eq!(plan.purge, Some(Ok(p.default_data_root())));
    assert!(
        describe(&plan, &p, None)
            .contains("  - remove the data directory ~/.local/share/docker (--purge)\n")
    );
    // Never the home directory, even marked.
    mark_data_root(dir.path(), p.uid).unwrap();
    let record = State::new(
        rootless_setup_core::Engine::Docker,
        dir.path().to_path_buf(),
        "/s".into(),
    );
    let plan = gather(&PURGE, &p, Some(record), &Fake::new().world());
    assert!(
        matches!(plan.purge, Some(Err((_, ref why))) if why.contains("home directory or above")),
        "{:?}",
        plan.purge
    );
}

#[test]
fn without_a_record_the_standard_unit_and_context_are_reversed() {
    let dir = tempfile::tempdir().unwrap();
    let p = paths(dir.path());
    std::fs::create_dir_all(&p.unit_dir).unwrap();
    let old_tool = "[Unit]\nDescription=Docker Application Container Engine (Rootless)\n";
    std::fs::write(p.unit_file(), old_tool).unwrap();
    let fake = Fake::new();
    {
        let mut s = fake.seen.borrow_mut();
        s.enabled = true;
        s.active = true;
        s.current = "rootless".into();
        s.contexts.insert(
            "rootless".into(),
            crate::docker_context::ContextInfo {
                endpoint: docker_context::endpoint(&p.socket()),
                description: String::new(),
            },
        );
    }
    let plan = gather(
        &Args {
            engine: None,
            user: None,
            purge: false,
            dry_run: false,
            yes: true,
            format: crate::cli::Format::Human,
        },
        &p,
        None,
        &fake.world(),
    );
    assert!(!plan.is_empty());
    assert_eq!(
        plan.found,
        [
            "no install record at ~/.local/state/rootless-setup/state.json: looking at the standard paths".to_owned(),
            "~/.config/systemd/user/docker.service: not written by rootless-setup (probably dockerd-rootless-setuptool.sh)".into(),
            "docker context rootless (unix:///run/user/1000/docker.sock)".into(),
        ]
    );
    let lines = execute(&plan, &Caller::new(1, 1), &p, &fake.world());
    assert_eq!(
        lines,
        [
            Line::Done("made default the current docker context again".into()),
            Line::Done("removed docker context rootless".into()),
            Line::Done("stopped docker.service".into()),
            Line::Done("disabled docker.service".into()),
            Line::Done("removed ~/.config/systemd/user/docker.service".into()),
            Line::Done("reloaded the systemd user manager".into()),
        ]
    );
    assert!(!p.unit_file().exists());
    // A foreign context elsewhere is found and left alone; nothing else: nothing to do.
    fake.seen.borrow_mut().contexts.insert(
        "rootless".into(),
        crate::docker_context::ContextInfo {
            endpoint: "ssh://x".into(),
            description: String::new(),
        },
    );
    fake.seen.borrow_mut().active = false;
    let mut world = fake.world();
    world.manager = None;
    let plan = gather(&NO_PURGE, &p, None, &world);
    assert!(plan.is_empty(), "{:?}", plan.journal);
    // A marked data directory to purge is something to do even without a record.
    mark_data_root(&p.default_data_root(), p.uid).unwrap();
    let plan = gather(&PURGE, &p, None, &world);
    assert!(!plan.is_empty());
    assert_eq!(plan.purge, Some(Ok(p.default_data_root())));
    assert_eq!(
        plan.found[1],
        "docker context rootless (ssh://x): not pointing at the rootless socket, left alone"
    );
}

#[test]
fn the_engine_is_reversed_without_a_record_only_when_the_manager_knows_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = paths(dir.path());
    let fake = Fake::new();
    let args = NO_PURGE;
    fake.seen.borrow_mut().loaded = false;
    assert!(gather(&args, &p, None, &fake.world()).journal.is_empty());
    // Loaded but inactive, or not loaded but running: something to stop.
    for (loaded, active) in [(true, false), (false, true)] {
        fake.seen.borrow_mut().loaded = loaded;
        fake.seen.borrow_mut().active = active;
        let steps: Vec<Step> = gather(&args, &p, None, &fake.world())
            .journal
            .into_iter()
            .map(|e| e.step)
            .collect();
        assert_eq!(
            steps,
            [
                Step::Enable {
                    unit: "docker.service".into()
                },
                Step::Start {
                    unit: "docker.service".into(),
                    was_active: false
                }
            ],
            "loaded {loaded}, active {active}"
        );
    }
}

#[test]
fn purge_needs_a_stopped_engine_and_rootlesskit() {
    let dir = tempfile::tempdir().unwrap();
    let p = paths(dir.path());
    let data = p.default_data_root();
    mark_data_root(&data, p.uid).unwrap();
    let caller = Caller::new(1, 1).with_var("PATH", "/nonexistent");
    assert_eq!(
        purge_dir(&data, &caller, &p, false)
            .unwrap_err()
            .to_string(),
        "the engine may still be running; not removing its data under it"
    );
    if purge::find_rootlesskit(&caller).is_none() {
        let plan = Plan {
            purge: Some(Ok(data.clone())),
            ..Plan::default()
        };
        let lines = execute(&plan, &caller, &p, &Fake::new().world());
        assert_eq!(
            lines,
            [Line::Failed(format!(
                "purge ~/.local/share/docker: rootlesskit not found; remove it with `rootlesskit rm -rf {}` once it is installed",
                data.display()
            ))]
        );
    }
    assert!(data.join(DATA_ROOT_MARKER).exists());
    // A refused directory that does not exist says nothing; one that exists is left alone.
    let gone = Plan {
        purge: Some(Err((dir.path().join("gone"), "why".into()))),
        ..Plan::default()
    };
    assert!(execute(&gone, &caller, &p, &Fake::new().world()).is_empty());
    let there = Plan {
        purge: Some(Err((data, "why".into()))),
        ..Plan::default()
    };
    assert_eq!(
        execute(&there, &caller, &p, &Fake::new().world()),
        [Line::LeftAlone(
            "the data directory ~/.local/share/docker because why".into()
        )]
    );
}

/// The marker is checked again when the removal runs: a data directory that lost it (or was
/// swapped for another) after the plan is left alone, before rootlesskit is even looked for.
#[test]
fn purge_decides_again_at_the_moment_of_removal() {
    let dir = tempfile::tempdir().unwrap();
    let p = paths(dir.path());
    let data = dir.path().join(".local/share/docker");
    mark_data_root(&data, p.uid).unwrap();
    std::fs::write(data.join("keep"), "x").unwrap();
    assert_eq!(purge_refusal(&data, &p), None);
    std::fs::remove_file(data.join(DATA_ROOT_MARKER)).unwrap();
    let caller = Caller::new(p.uid, p.uid);
    let err = purge_dir(&data, &caller, &p, true).unwrap_err().to_string();
    assert!(
        err.starts_with("~/.local/share/docker is left alone: it does not carry the marker"),
        "{err}"
    );
    assert!(data.join("keep").exists());
}

#[test]
fn a_purge_says_how_much_it_freed() {
    assert_eq!(removed("~/d", Some(512)), "removed ~/d (freed 512 B)");
    assert_eq!(
        removed("~/d", Some(2_097_152)),
        "removed ~/d (freed 2.00 MiB)"
    );
    assert_eq!(
        removed("~/d", Some(3 * 1024 * 1024 * 1024 / 2)),
        "removed ~/d (freed 1.50 GiB)"
    );
    assert_eq!(
        removed("~/d", None),
        "removed ~/d (freed an unknown amount)"
    );
}

/// The result document of a run: `conclude` over `lines`, as `uninstall --format json` ends.
fn document(lines: &[Line]) -> crate::results::ResultDocument {
    let mut results = crate::results::Results::new(crate::cli::Format::Json);
    results.engine = Some(rootless_setup_core::Engine::Docker);
    results.user = "dev".into();
    results.uid = Some(1000);
    let style = Style {
        out: false,
        err: false,
    };
    let result = conclude(lines, &style, &mut results);
    results.document(crate::results::CommandName::Uninstall, &result)
}

#[test]
fn the_document_of_an_uninstall_lists_each_reversal_and_says_it_changed() {
    let dir = tempfile::tempdir().unwrap();
    let p = paths(dir.path());
    std::fs::create_dir_all(&p.unit_dir).unwrap();
    std::fs::write(p.unit_file(), "[Unit]\nDescription=old\n").unwrap();
    let fake = Fake::new();
    fake.seen.borrow_mut().enabled = true;
    fake.seen.borrow_mut().active = true;
    let plan = gather(&NO_PURGE, &p, None, &fake.world());
    let lines = execute(&plan, &Caller::new(1, 1), &p, &fake.world());
    let doc = document(&lines);
    assert!(doc.ok && doc.changed);
    insta::assert_json_snapshot!(doc);
}

#[test]
fn the_document_of_a_failed_step_is_not_ok_and_names_it() {
    let lines = [
        Line::Failed("stop docker.service: the stop job ended `timeout`".into()),
        Line::Done("removed the install record ~/.local/state/rootless-setup/state.json".into()),
    ];
    let doc = document(&lines);
    assert!(!doc.ok);
    assert!(doc.changed, "the record was removed");
    let error = doc.error.unwrap();
    assert_eq!(error.id, crate::results::ErrorId::ReversalFailed);
    assert_eq!(
        error.message,
        "1 step failed (see steps); the others were done"
    );
    assert_eq!(
        doc.steps[0].outcome,
        crate::results::Outcome::Failed,
        "{:?}",
        doc.steps
    );
}

#[test]
fn the_document_of_nothing_left_alone_changed_nothing() {
    let doc = document(&[Line::LeftAlone(
        "the data directory ~/Documents because it does not carry the marker".into(),
    )]);
    assert!(doc.ok);
    assert!(!doc.changed);
    assert_eq!(doc.steps[0].outcome, crate::results::Outcome::LeftAlone);
}
