//! From findings to blocks. Every failing or warning finding whose fix needs root gets one
//! block, built from the fix's typed [`Remedy`] data and from the host files in the [`Target`].
//! A finding's text (its summary, observations and the advice commands written for a person to
//! paste with `sudo`) is never read to recover data; the summary is only shown as a comment.
//! Besides:
//!
//! - the sysctls of `userns.sysctl`, `network.ports` and `network.ping` share one block, as they
//!   share one drop-in file;
//! - a fix's package installs become a typed install ([`generic`]), whatever check it came from;
//! - what cannot be done safely by a script (another user's lines, a system-wide daemon, the
//!   boot loader) becomes a block "by hand" that says why and what to run.
//!
//! Findings whose fix needs no root become notes for after the script.

mod cgroup;
mod generic;
mod modules;
mod subid;
mod sysctl;
mod uidmap;
mod user;
mod userns;

use rootless_setup_core::remedy::{Remedy, Sysctl};
use rootless_setup_core::{CheckId, Finding, Status};

use crate::error::FixError;
use crate::model::{Command, Helper, Step};
use crate::target::Target;

/// What building the blocks collects besides the blocks.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    /// The blocks, in catalogue order.
    pub(crate) steps: Vec<Step>,
    /// Notes for after the script that follow from its blocks.
    pub(crate) after: Vec<String>,
    /// Fixes without root of failing or warning checks, for after the script.
    pub(crate) user_fixes: Vec<(CheckId, String)>,
}

/// The block's comment for a finding: what was seen and why it matters.
pub(crate) fn base(finding: &Finding) -> Step {
    let mut step = Step::new(finding.id, finding.status).note("seen", &finding.summary);
    if let Some(why) = &finding.why {
        step = step.note("why", why);
    }
    step
}

/// The remedies of the finding's fix (none without a fix).
pub(crate) fn remedies(finding: &Finding) -> &[Remedy] {
    finding.fix.as_ref().map_or(&[], |f| f.remedies.as_slice())
}

/// A block the script does not carry out: what was seen, why it matters, why the script does
/// not do it, and the check's own advice to follow by hand (shown as the check shows it, never
/// read for data).
pub(crate) fn manual(finding: &Finding, reason: impl Into<String>) -> Step {
    let mut step = base(finding).note("by hand", reason);
    if let Some(fix) = &finding.fix {
        step = step.note("advice", &fix.summary);
        // From the remedies, not `fix.commands`: those are cut for the report, the script is not.
        step.by_hand = fix.remedies.iter().flat_map(Remedy::commands).collect();
    }
    step
}

/// The guard that the account still is what the script was made for.
pub(crate) fn expect_user(target: &Target) -> Command {
    Command::call(
        Helper::ExpectUser,
        [target.account.name.clone(), target.account.uid.to_string()],
    )
}

/// Builds the blocks for `findings` (any order; the result is in catalogue order).
pub(crate) fn build(findings: &[Finding], target: &Target) -> Result<Collected, FixError> {
    let mut out = Collected::default();
    let mut ordered: Vec<&Finding> = findings.iter().collect();
    ordered.sort_by_key(|f| f.id);
    let mut sysctls: Vec<(&Finding, Vec<Sysctl>)> = Vec::new();
    let mut sysctl_at: Option<usize> = None;
    for finding in ordered {
        if !matches!(finding.status, Status::Fail | Status::Warn) {
            continue;
        }
        let Some(fix) = &finding.fix else { continue };
        if !fix.root {
            out.user_fixes.push((
                finding.id,
                format!("as {}: {}", target.account.name, fix.summary),
            ));
            continue;
        }
        let step = match finding.id {
            CheckId::User => user::home(finding, target),
            CheckId::SessionLinger => Ok(linger(finding, target)),
            CheckId::SessionBus => {
                out.after.push(format!(
                    "{} logs out and back in, so the session starts the user bus",
                    target.account.name
                ));
                generic::packages(finding, target)
            }
            CheckId::SubidUid | CheckId::SubidGid => subid::subid(finding, target, &mut out.after),
            CheckId::Uidmap => uidmap::uidmap(finding, target),
            CheckId::UsernsSysctl | CheckId::NetworkPorts | CheckId::NetworkPing => {
                match sysctl::wanted(finding) {
                    Some(settings) => {
                        sysctl_at.get_or_insert(out.steps.len());
                        sysctls.push((finding, settings));
                        continue;
                    }
                    None => Ok(manual(
                        finding,
                        "the script only sets sysctls to values the check names; this one needs a look first",
                    )),
                }
            }
            CheckId::UsernsApparmor => userns::apparmor(finding, target),
            CheckId::Cgroup => cgroup::cgroup(finding, target, &mut out.after),
            CheckId::NetworkIptables => modules::iptables(finding, target),
            CheckId::EngineSmoke => modules::smoke(finding, target),
            CheckId::Storage => modules::storage(finding, target),
            CheckId::EngineRootful => Ok(manual(
                finding,
                "stopping the system-wide daemon affects every user of it; decide that yourself \
                 (or install with --force to run both)",
            )),
            _ => generic::packages(finding, target),
        }?;
        out.steps.push(step);
    }
    if let Some(at) = sysctl_at {
        let step = sysctl::step(&sysctls, target)?;
        out.steps.insert(at.min(out.steps.len()), step);
    }
    Ok(out)
}

/// `session.linger`: `loginctl enable-linger NAME`.
fn linger(finding: &Finding, target: &Target) -> Step {
    base(finding)
        .note(
            "does",
            format!(
                "turns linger on for {}, so their user manager (and the engine) runs from boot \
                 and outlives their last session, and waits until the manager runs",
                target.account.name
            ),
        )
        .command(Command::run([
            "loginctl".to_owned(),
            "enable-linger".to_owned(),
            target.account.name.clone(),
        ]))
        // logind starts the manager without waiting for it; this waits, so what runs after
        // the script (`fix --apply` checks again) finds the user's bus.
        .command(Command::run([
            "systemctl".to_owned(),
            "start".to_owned(),
            format!("user@{}.service", target.account.uid),
        ]))
}
