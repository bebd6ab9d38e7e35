//! The result document: its fields from each way a command ends, the error ids' spelling and
//! their documentation, and what `--format json` does with human text and questions.

use super::*;
use crate::style::{hinted, stopped};

fn results() -> Results {
    let mut r = Results::new(Format::Json);
    r.engine = Some(Engine::Docker);
    r.user = "dev".into();
    r.uid = Some(1000);
    r
}

#[test]
fn success_is_ok_with_no_error() {
    let mut r = results();
    r.changed = true;
    r.step("wrote ~/.config/systemd/user/docker.service", Outcome::Done);
    let doc = r.document(CommandName::Install, &Ok(0));
    assert!(doc.ok);
    assert!(doc.changed);
    assert_eq!(doc.error, None);
    assert_eq!(doc.schema_version, 1);
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(json["command"], "install");
    assert_eq!(json["engine"], "docker");
    assert_eq!(json["user"], "dev");
    assert_eq!(json["uid"], 1000);
    assert_eq!(json["error"], serde_json::Value::Null);
    assert_eq!(
        json["steps"],
        serde_json::json!([{"action": "wrote ~/.config/systemd/user/docker.service", "outcome": "done"}])
    );
}

#[test]
fn a_hinted_error_brings_its_id_message_help_and_causes() {
    let err = stopped(
        ErrorId::PrerequisitesFailed,
        "install stopped: 1 prerequisite fails: subid.uid",
        &["`rootless-setup fix` prints the root commands"],
    )
    .context("while installing");
    let doc = results().document(CommandName::Install, &Err(err));
    assert!(!doc.ok);
    assert_eq!(
        doc.error,
        Some(ErrorReport {
            id: ErrorId::PrerequisitesFailed,
            message: "while installing".into(),
            help: vec!["`rootless-setup fix` prints the root commands".into()],
            details: vec!["install stopped: 1 prerequisite fails: subid.uid".into()],
        })
    );
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(json["error"]["id"], "prerequisites-failed");
}

#[test]
fn untyped_errors_are_internal_and_configuration_errors_are_config_invalid() {
    let io = anyhow::Error::new(std::io::Error::other("disk on fire")).context("could not write");
    assert_eq!(ErrorId::of(&io), ErrorId::Internal);
    let report = ErrorReport::of(&io);
    assert_eq!(report.message, "could not write");
    assert_eq!(report.details, ["disk on fire"]);
    let read =
        rootless_setup_unit::config::LoadError::Read(rootless_setup_unit::config::ReadError {
            path: "/home/dev/.config/rootless-setup/config.toml".into(),
            source: std::io::Error::other("permission denied"),
        });
    assert_eq!(
        ErrorId::of(&anyhow::Error::new(read)),
        ErrorId::ConfigInvalid
    );
    assert_eq!(
        ErrorId::of(&hinted(ErrorId::LockHeld, "held", &[])),
        ErrorId::LockHeld
    );
}

#[test]
fn a_non_zero_status_without_an_error_carries_the_commands_failure() {
    let mut r = results();
    r.failure = Some(ErrorReport::new(
        ErrorId::PrerequisitesFailed,
        "1 prerequisite still fails: subid.uid",
        &["`rootless-setup check` explains each"],
    ));
    let doc = r.document(CommandName::Fix, &Ok(1));
    assert!(!doc.ok);
    assert_eq!(doc.error.unwrap().id, ErrorId::PrerequisitesFailed);
    // None given: still an error, never `ok: false` with `error: null`.
    let doc = results().document(CommandName::Fix, &Ok(1));
    assert_eq!(doc.error.unwrap().id, ErrorId::Internal);
}

#[test]
fn replayed_lines_keep_their_outcome_and_done_counts_as_asked() {
    let lines = [
        Line::Done("removed ~/.config/systemd/user/docker.service".into()),
        Line::Failed("stop docker.service: timed out".into()),
        Line::LeftAlone("~/.bashrc because it is not below …".into()),
    ];
    let mut r = results();
    r.replayed(&lines, Outcome::RolledBack);
    r.replayed(&lines[..1], Outcome::Done);
    let outcomes: Vec<Outcome> = r.steps.iter().map(|s| s.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::RolledBack,
            Outcome::Failed,
            Outcome::LeftAlone,
            Outcome::Done
        ]
    );
    assert_eq!(r.steps[1].action, "stop docker.service: timed out");
    let json = serde_json::to_value(&r.steps).unwrap();
    assert_eq!(json[0]["outcome"], "rolled-back");
    assert_eq!(json[2]["outcome"], "left-alone");
}

#[test]
fn outcomes_and_commands_are_spelled_in_kebab_case() {
    let spelled = |v: serde_json::Value| v.as_str().unwrap().to_owned();
    let outcomes = [
        Outcome::Done,
        Outcome::Failed,
        Outcome::LeftAlone,
        Outcome::RolledBack,
        Outcome::Skipped,
        Outcome::Planned,
    ]
    .map(|o| spelled(serde_json::to_value(o).unwrap()));
    assert_eq!(
        outcomes,
        [
            "done",
            "failed",
            "left-alone",
            "rolled-back",
            "skipped",
            "planned"
        ]
    );
    let commands = [
        CommandName::Install,
        CommandName::Uninstall,
        CommandName::Fix,
    ]
    .map(|c| spelled(serde_json::to_value(c).unwrap()));
    assert_eq!(commands, ["install", "uninstall", "fix"]);
}

#[test]
fn error_ids_are_unique_kebab_case_and_documented() {
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json.md"),
    )
    .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for id in ErrorId::ALL {
        let s = id.as_str();
        assert!(seen.insert(s), "{s} twice");
        assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{s}");
        assert_eq!(serde_json::to_value(id).unwrap(), s);
        assert!(
            docs.contains(&format!("| `{s}` |")),
            "docs/json.md does not list {s}"
        );
    }
}

#[test]
fn json_drops_human_text_and_never_asks() {
    let mut r = results();
    assert!(r.json());
    r.out("plan:\n").unwrap();
    r.warning(
        &Style {
            out: false,
            err: false,
        },
        "installing although subid.uid fails (--force)",
    );
    assert_eq!(
        r.warnings,
        ["installing although subid.uid fails (--force)"]
    );
    assert_eq!(r.answer(false), Answer::NoTerminal);
    assert_eq!(r.answer(true), Answer::Yes);
    let human = Results::new(Format::Human);
    assert!(!human.json());
    assert_eq!(human.answer(true), Answer::Yes);
}
