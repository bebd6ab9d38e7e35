//! The `userns.probe` check, the decisive one: a child process creates a user namespace and the
//! caller's full subordinate ranges are mapped into it with `newuidmap`/`newgidmap`, exactly as
//! rootlesskit will do; the maps read back from inside must hold every id.

use std::path::Path;

use crate::context::Context;
use crate::namespace::mapped_count;
use crate::system::{UsernsMapOutcome, UsernsMapRequest};
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::model::{Facts, IdRange};
use rootless_setup_core::process::Output;

use super::uidmap::reinstall;

const ID: CheckId = CheckId::UsernsProbe;

/// A `uid_map` text as `0 1000 1; 1 100000 65536`.
fn compact(map: &str) -> String {
    map.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

fn pairs(ranges: &[IdRange]) -> Vec<(u64, u64)> {
    ranges.iter().map(|r| (r.start, r.count)).collect()
}

fn expected(ranges: &[IdRange]) -> u64 {
    ranges
        .iter()
        .map(|r| r.count)
        .fold(1u64, u64::saturating_add)
}

/// Runs the check.
pub(crate) fn probe(cx: &Context<'_>, facts: &Facts) -> Finding {
    let account = super::super::user::caller_account(cx, facts);
    let missing: Vec<&str> = [
        ("the account (`user`)", account.is_none()),
        ("subordinate uids (`subid.uid`)", facts.subuids.is_none()),
        ("subordinate gids (`subid.gid`)", facts.subgids.is_none()),
        ("newuidmap (`uidmap`)", facts.newuidmap.is_none()),
        ("newgidmap (`uidmap`)", facts.newgidmap.is_none()),
    ]
    .into_iter()
    .filter_map(|(what, absent)| absent.then_some(what))
    .collect();
    let (Some(subuids), Some(subgids), Some(newuidmap), Some(newgidmap), true) = (
        facts.subuids.clone(),
        facts.subgids.clone(),
        facts.newuidmap.clone(),
        facts.newgidmap.clone(),
        missing.is_empty(),
    ) else {
        return Finding::skip(
            ID,
            format!("not established by earlier checks: {}", missing.join(", ")),
        );
    };
    let request = UsernsMapRequest {
        newuidmap: newuidmap.clone(),
        newgidmap: newgidmap.clone(),
        uid: cx.caller.uid,
        gid: cx.caller.gid,
        subuids: pairs(&subuids),
        subgids: pairs(&subgids),
    };
    let want_uids = expected(&subuids);
    let want_gids = expected(&subgids);
    let base = |f: Finding| {
        f.observe("newuidmap", newuidmap.display())
            .observe("newgidmap", newgidmap.display())
            .observe("expected_uids", want_uids)
            .observe("expected_gids", want_gids)
    };
    match cx.system.map_userns(&request) {
        Err(e) => base(Finding::warn(ID, format!("could not run the probe: {e}")))
            .observe("error", &e)
            .why(
                "the probe that proves the engine's user namespace can be set up did not run, \
                 so problems would only show when the engine starts",
            )
            .fix(Fix::user(
                ID,
                "run `rootless-setup check --only userns.probe` again",
            )),
        Ok(UsernsMapOutcome::Mapped { uid_map, gid_map }) => mapped(
            cx,
            &base,
            &request,
            (want_uids, want_gids),
            &uid_map,
            &gid_map,
        ),
        Ok(UsernsMapOutcome::UnshareFailed(message)) => unshare_failed(cx, &base, &message),
        Ok(UsernsMapOutcome::HelperFailed { helper, output }) => {
            helper_failed(cx, &base, &helper, &output)
        }
    }
}

/// The maps read back from inside the namespace, against the ids the files give.
fn mapped(
    cx: &Context<'_>,
    base: &dyn Fn(Finding) -> Finding,
    request: &UsernsMapRequest,
    (want_uids, want_gids): (u64, u64),
    uid_map: &str,
    gid_map: &str,
) -> Finding {
    let (uids, gids) = (mapped_count(uid_map), mapped_count(gid_map));
    let f = |f: Finding| {
        base(f)
            .observe("uid_map", compact(uid_map))
            .observe("gid_map", compact(gid_map))
            .observe("mapped_uids", uids)
            .observe("mapped_gids", gids)
    };
    if uids == want_uids && gids == want_gids {
        f(Finding::pass(
            ID,
            format!(
                "a user namespace maps all {uids} uids and {gids} gids through {} and {}",
                request.newuidmap.display(),
                request.newgidmap.display()
            ),
        ))
    } else if uids < want_uids || gids < want_gids {
        f(Finding::fail(
            ID,
            format!(
                "the user namespace maps only {uids} of {want_uids} uids and {gids} of \
                     {want_gids} gids"
            ),
        ))
        .why(
            "files in container images owned by an unmapped id cannot be extracted, so \
                 pulls and builds fail with \"lchown: invalid argument\"",
        )
        .fix(
            Fix::root(
                ID,
                "the helpers mapped less than the files allow: compare the ranges in \
                 /etc/subuid and /etc/subgid with the maps observed here, then reinstall the \
                 helpers",
            )
            .remedy(reinstall(cx)),
        )
    } else {
        f(Finding::warn(
            ID,
            format!(
                "the user namespace maps {uids} uids and {gids} gids, more than the \
                     {want_uids} and {want_gids} asked for"
            ),
        ))
        .why("the helpers mapped ids the subordinate files do not give the user")
        .fix(Fix::root(ID, "reinstall the helpers from the distribution").remedy(reinstall(cx)))
    }
}

/// The kernel refused the user namespace itself.
fn unshare_failed(cx: &Context<'_>, base: &dyn Fn(Finding) -> Finding, message: &str) -> Finding {
    let container = ["/.dockerenv", "/run/.containerenv"]
        .into_iter()
        .find(|p| cx.host.exists(p));
    let mut finding = base(Finding::fail(
        ID,
        format!("creating a user namespace failed: {message}"),
    ))
    .observe("error", message);
    if let Some(marker) = container {
        finding = finding.observe("container_marker", marker);
    }
    finding
        .why(
            "rootlesskit starts the engine inside a new user namespace; when the kernel \
                 refuses one, the engine cannot start at all",
        )
        .fix(Fix::root(
            ID,
            "see `userns.sysctl` (kernel.unprivileged_userns_clone, \
                 user.max_user_namespaces) and `userns.apparmor`; inside a container, its \
                 seccomp profile or missing privileges block unshare(CLONE_NEWUSER): run it \
                 with `--security-opt seccomp=unconfined` (and `--security-opt \
                 apparmor=unconfined`) or use a VM",
        ))
}

/// A mapping helper failed: its message says why.
fn helper_failed(
    cx: &Context<'_>,
    base: &dyn Fn(Finding) -> Finding,
    helper: &Path,
    output: &Output,
) -> Finding {
    let line = output.last_line().to_owned();
    let shown = if line.is_empty() {
        format!(
            "exit code {}",
            output.code.map_or("none".into(), |c| c.to_string())
        )
    } else {
        line.clone()
    };
    let lower = line.to_lowercase();
    // The three messages seen from shadow's helpers, and what causes each.
    let (hint, reinstall_helps) = if lower.contains("operation not permitted") {
        (
            "the helper ran without privilege: its setuid bit or file capability was lost, \
             or it sits on a nosuid mount (see `uidmap`); reinstall the helpers",
            true,
        )
    } else if lower.contains("not allowed") {
        (
            "the helper does not find these ranges for the user: /etc/subuid and \
             /etc/subgid (or the `subid:` name service the helper asks) disagree with what \
             `subid.uid` and `subid.gid` read; compare them",
            false,
        )
    } else if lower.contains("invalid argument") {
        (
            "the kernel rejected the map: the ranges overlap each other or contain the \
             user's own id (see `subid.uid` and `subid.gid`)",
            false,
        )
    } else {
        (
            "read the helper's message: it names the range or file it rejected; \
             reinstalling the helpers restores their bits",
            true,
        )
    };
    let mut fix = Fix::root(ID, hint);
    if reinstall_helps {
        fix = fix.remedy(reinstall(cx));
    }
    base(Finding::fail(
        ID,
        format!("{} failed: {shown}", helper.display()),
    ))
    .observe("helper", helper.display())
    .observe("stderr", &line)
    .observe(
        "exit_code",
        output.code.map_or("none".into(), |c| c.to_string()),
    )
    .why(
        "rootlesskit maps the engine's ids with the same helper and would fail the \
             same way",
    )
    .fix(fix)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::caller::Caller;
    use crate::testing::{Harness, ScriptedSystem};
    use rootless_setup_core::finding::Status;
    use rootless_setup_core::process::Output;
    use rootless_setup_core::testing::Fixture;

    fn facts() -> Facts {
        Facts {
            subuids: Some(vec![IdRange {
                start: 100000,
                count: 65536,
            }]),
            subgids: Some(vec![
                IdRange {
                    start: 100000,
                    count: 65000,
                },
                IdRange {
                    start: 300000,
                    count: 536,
                },
            ]),
            newuidmap: Some(PathBuf::from("/usr/bin/newuidmap")),
            newgidmap: Some(PathBuf::from("/usr/bin/newgidmap")),
            ..Facts::default()
        }
    }

    fn fixture() -> Fixture {
        let fx = Fixture::new();
        fx.file("/etc/os-release", "ID=debian\n")
            .file("/etc/passwd", "alice:x:1000:1000::/home/alice:/bin/sh\n");
        fx
    }

    fn run(fx: &Fixture, system: ScriptedSystem, facts: Facts) -> (Finding, Vec<String>) {
        let h = Harness::new(fx, Caller::new(1000, 1000), system);
        let f = probe(&h.context(), &facts);
        (f, h.system.calls())
    }

    const UID_MAP: &str = "         0       1000          1\n         1     100000      65536\n";
    const GID_MAP: &str = "0 1000 1\n1 100000 65000\n65001 300000 536\n";

    #[test]
    fn full_maps_pass() {
        let system = ScriptedSystem::new().userns(UsernsMapOutcome::Mapped {
            uid_map: UID_MAP.into(),
            gid_map: GID_MAP.into(),
        });
        let (f, calls) = run(&fixture(), system, facts());
        assert_eq!(f.status, Status::Pass, "{f:#?}");
        assert_eq!(f.observed("uid_map"), Some("0 1000 1; 1 100000 65536"));
        assert_eq!(f.observed("mapped_gids"), Some("65537"));
        assert_eq!(f.observed("expected_gids"), Some("65537"));
        assert_eq!(calls, ["map_userns"]);
    }

    #[test]
    fn short_maps_fail() {
        let system = ScriptedSystem::new().userns(UsernsMapOutcome::Mapped {
            uid_map: "0 1000 1\n".into(),
            gid_map: GID_MAP.into(),
        });
        let (f, _) = run(&fixture(), system, facts());
        assert_eq!(f.status, Status::Fail);
        assert_eq!(
            f.summary,
            "the user namespace maps only 1 of 65537 uids and 65537 of 65537 gids"
        );
        assert_eq!(f.observed("mapped_uids"), Some("1"));
    }

    #[test]
    fn larger_maps_warn() {
        let system = ScriptedSystem::new().userns(UsernsMapOutcome::Mapped {
            uid_map: "0 1000 1\n1 100000 70000\n".into(),
            gid_map: GID_MAP.into(),
        });
        let (f, _) = run(&fixture(), system, facts());
        assert_eq!(f.status, Status::Warn);
    }

    #[test]
    fn unshare_failure_fails_and_explains() {
        let fx = fixture();
        fx.file("/.dockerenv", "");
        let system = ScriptedSystem::new().userns(UsernsMapOutcome::UnshareFailed(
            "Operation not permitted (os error 1)".into(),
        ));
        let (f, _) = run(&fx, system, facts());
        assert_eq!(f.status, Status::Fail);
        assert_eq!(
            f.summary,
            "creating a user namespace failed: Operation not permitted (os error 1)"
        );
        assert_eq!(f.observed("container_marker"), Some("/.dockerenv"));
        let fix = f.fix.as_ref().unwrap();
        assert!(fix.summary.contains("seccomp") && fix.summary.contains("userns.sysctl"));
    }

    #[test]
    fn helper_failure_reports_its_last_line() {
        let system = ScriptedSystem::new().userns(UsernsMapOutcome::HelperFailed {
            helper: PathBuf::from("/usr/bin/newuidmap"),
            output: Output {
                code: Some(1),
                stderr: "usage junk\nnewuidmap: write to uid_map failed: Operation not permitted\n"
                    .into(),
                ..Output::default()
            },
        });
        let (f, _) = run(&fixture(), system, facts());
        assert_eq!(f.status, Status::Fail);
        assert_eq!(
            f.summary,
            "/usr/bin/newuidmap failed: newuidmap: write to uid_map failed: Operation not permitted"
        );
        let fix = f.fix.as_ref().unwrap();
        assert!(fix.summary.contains("setuid"));
        assert_eq!(fix.commands, ["sudo apt-get install --reinstall -y uidmap"]);
    }

    #[test]
    fn helper_messages_get_their_own_hints() {
        let fail_with = |stderr: &str| {
            let system = ScriptedSystem::new().userns(UsernsMapOutcome::HelperFailed {
                helper: PathBuf::from("/usr/bin/newgidmap"),
                output: ScriptedSystem::failed(1, stderr),
            });
            run(&fixture(), system, facts()).0
        };
        // Both seen for real with shadow 4.13 (overlapping ranges; a range not in the file).
        let f = fail_with("newgidmap: write to gid_map failed: Invalid argument\n");
        assert_eq!(f.status, Status::Fail);
        let fix = f.fix.as_ref().unwrap();
        assert!(fix.summary.contains("overlap"), "{}", fix.summary);
        assert!(fix.commands.is_empty());
        let f = fail_with("newgidmap: gid range [1-65537) -> [200000-265536) not allowed\n");
        let fix = f.fix.as_ref().unwrap();
        assert!(fix.summary.contains("disagree"), "{}", fix.summary);
        assert!(fix.commands.is_empty());
        let f = fail_with("");
        assert_eq!(f.summary, "/usr/bin/newgidmap failed: exit code 1");
        assert_eq!(f.fix.as_ref().unwrap().commands.len(), 1);
    }

    #[test]
    fn a_probe_that_cannot_run_warns() {
        let (f, _) = run(&fixture(), ScriptedSystem::new(), facts());
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.starts_with("could not run the probe"));
    }

    #[test]
    fn missing_facts_skip_without_probing() {
        let mut partial = facts();
        partial.newgidmap = None;
        partial.subuids = None;
        let (f, calls) = run(&fixture(), ScriptedSystem::new(), partial);
        assert_eq!(f.status, Status::Skip);
        assert_eq!(
            f.summary,
            "not established by earlier checks: subordinate uids (`subid.uid`), newgidmap (`uidmap`)"
        );
        assert!(calls.is_empty());
    }

    #[test]
    fn the_runner_skips_the_probe_when_a_dependency_failed() {
        // No subid files and no helpers: subid.uid and uidmap fail, so the probe never runs.
        let fx = fixture();
        fx.file("/proc/sys/user/max_user_namespaces", "100\n")
            .file("/proc/self/ns/user", "");
        let h = Harness::new(&fx, Caller::new(1000, 1000), ScriptedSystem::new());
        let report = crate::check(
            &h.context(),
            &crate::Selection::new(&[CheckId::UsernsProbe], &[]),
        );
        let f = &report.findings[0];
        assert_eq!(f.status, Status::Skip, "{f:#?}");
        assert!(f.summary.contains("failed"), "{}", f.summary);
        assert!(!h.system.calls().contains(&"map_userns".to_owned()));
    }
}
