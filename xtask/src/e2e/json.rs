//! The `json-results` scenario: the result documents of `install`, `uninstall` (and their
//! `changed`) as a provisioning tool sees them, in a booted Debian 13 box with cgroup v2.
//!
//! `install --yes --format json` as dev → `ok`, `changed: true`; again → `changed: false`;
//! `uninstall --yes --format json` → `changed: true`; as nosub (no subordinate ids) install
//! exits 1 with `error.id` `prerequisites-failed` and `changed: false`. Each time standard output
//! is exactly one JSON document and standard error is empty.

use anyhow::{Context as _, Result, ensure};
use serde_json::Value;

use super::r#box::{BoxUser, Cgroup, Session};
use super::cmd::indent;
use super::scenarios::{Ctx, Scenario};
use super::tree::Release;
use crate::util::fmt_duration;

/// The scenario, for [`super::scenarios::all`].
pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "json-results",
        about: "install/uninstall --format json: changed true, then false; uninstall changed; nosub's error id",
        setup: None,
        run: json_results,
        cgroup: Some(Cgroup::V2),
        release: Some(Release::Trixie),
    }]
}

/// Runs `rootless-setup ARGS` as `user`, requires exit `want`, nothing on standard error and
/// one result document of `command` on standard output.
fn document(
    cx: &mut Ctx<'_>,
    user: &BoxUser,
    command: &str,
    args: &[&str],
    want: i32,
) -> Result<Value> {
    let out = cx.tool(user, Session::Login, args)?;
    let shown = || {
        format!(
            "rootless-setup {} as {}: {}\nstdout:\n{}stderr:\n{}",
            args.join(" "),
            user.name,
            out.describe_exit(),
            indent(&out.stdout),
            indent(&out.stderr)
        )
    };
    ensure!(out.code == Some(want), "want exit {want}: {}", shown());
    ensure!(
        out.stderr.is_empty(),
        "standard error is not empty: {}",
        shown()
    );
    let doc: Value = serde_json::from_str(&out.stdout)
        .with_context(|| format!("not one JSON document: {}", shown()))?;
    ensure!(
        doc["schema_version"] == 1
            && doc["command"] == command
            && doc["engine"] == "docker"
            && doc["user"] == user.name.as_str()
            && doc["uid"] == u64::from(user.uid)
            && doc["ok"] == (want == 0),
        "the document's header is wrong: {}",
        shown()
    );
    cx.note(format!(
        "{} as {} in {}: ok {}, changed {}, {} steps{}",
        args.join(" "),
        user.name,
        fmt_duration(out.elapsed),
        doc["ok"],
        doc["changed"],
        doc["steps"].as_array().map_or(0, Vec::len),
        doc["error"]["id"]
            .as_str()
            .map(|id| format!(", error {id}"))
            .unwrap_or_default()
    ));
    Ok(doc)
}

fn json_results(cx: &mut Ctx<'_>) -> Result<()> {
    let dev = cx.dev.clone();
    let install = ["install", "--yes", "--format", "json"];
    let first = document(cx, &dev, "install", &install, 0)?;
    ensure!(
        first["changed"] == true,
        "first install: changed is not true"
    );
    ensure!(
        first["error"].is_null()
            && first["steps"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["outcome"] == "done")),
        "first install: no done step, or an error:\n{first:#}"
    );
    let second = document(cx, &dev, "install", &install, 0)?;
    ensure!(
        second["changed"] == false,
        "second install changed something:\n{second:#}"
    );
    ensure!(
        second["steps"]
            .as_array()
            .is_some_and(|s| !s.is_empty() && s.iter().all(|s| s["outcome"] == "skipped")),
        "second install: the steps it checked are not all skipped:\n{second:#}"
    );
    let removed = document(
        cx,
        &dev,
        "uninstall",
        &["uninstall", "--yes", "--format", "json"],
        0,
    )?;
    ensure!(removed["changed"] == true, "uninstall: changed is not true");
    let again = document(
        cx,
        &dev,
        "uninstall",
        &["uninstall", "--yes", "--format", "json"],
        0,
    )?;
    ensure!(
        again["changed"] == false,
        "a second uninstall changed something"
    );
    let nosub = cx.nosub.clone();
    let gated = document(cx, &nosub, "install", &install, 1)?;
    ensure!(
        gated["changed"] == false && gated["error"]["id"] == "prerequisites-failed",
        "install as nosub:\n{gated:#}"
    );
    ensure!(
        gated["steps"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["outcome"] == "failed"
                && s["action"]
                    .as_str()
                    .is_some_and(|a| a.contains("subid.uid")))),
        "install as nosub: no failed step names subid.uid:\n{gated:#}"
    );
    Ok(())
}
