//! The kernel settings of `userns.sysctl`, `network.ports` and `network.ping`, in one block:
//! only the settings whose checks failed or warned, written (with the lines an earlier run left
//! in the same file) to `/etc/sysctl.d/99-rootless.conf` from its template, applied with
//! `sysctl --system`, then read back, so a file that sorts later and overrides one of them is
//! reported instead of silently winning at every boot.

use rootless_setup_core::remedy::{Remedy, SYSCTL_DROPIN, Sysctl};
use rootless_setup_core::{CheckId, Finding};

use super::remedies;
use crate::error::FixError;
use crate::model::{Command, Helper, Step};
use crate::target::Target;
use crate::templates;

/// The sysctls the finding's fix sets; `None` when it sets none.
pub(crate) fn wanted(finding: &Finding) -> Option<Vec<Sysctl>> {
    let settings: Vec<Sysctl> = remedies(finding)
        .iter()
        .filter_map(|r| match r {
            Remedy::SetSysctl(s) => Some(*s),
            _ => None,
        })
        .collect();
    (!settings.is_empty()).then_some(settings)
}

/// `key = value` lines of an existing drop-in worth keeping: a sysctl-like key and a printable
/// value (words joined by one space). Comments and anything else are dropped.
fn existing(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(['#', ';']))
        .filter_map(|l| {
            let (key, value) = l.split_once('=')?;
            let key = key.trim();
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            let key_ok = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/*".contains(c));
            let value_ok = !value.is_empty() && !value.chars().any(char::is_control);
            (key_ok && value_ok).then(|| (key.to_owned(), value))
        })
        .collect()
}

/// The one block for every sysctl finding.
pub(crate) fn step(
    findings: &[(&Finding, Vec<Sysctl>)],
    target: &Target,
) -> Result<Step, FixError> {
    let mut step = Step {
        checks: findings.iter().map(|(f, _)| (f.id, f.status)).collect(),
        notes: Vec::new(),
        guards: Vec::new(),
        commands: Vec::new(),
        by_hand: Vec::new(),
    };
    let wanted: Vec<Sysctl> = findings
        .iter()
        .flat_map(|(_, s)| s.iter().copied())
        .collect();
    // With several checks in the block, each line says which one it is about.
    let label = |id: CheckId| {
        if findings.len() > 1 {
            format!("{id}: ")
        } else {
            String::new()
        }
    };
    for (finding, _) in findings {
        step = step.note("seen", format!("{}{}", label(finding.id), finding.summary));
        if let Some(why) = &finding.why {
            step = step.note("why", format!("{}{why}", label(finding.id)));
        }
    }
    let mut lines: Vec<(String, String)> =
        existing(target.files.sysctl_dropin.as_deref().unwrap_or(""))
            .into_iter()
            .filter(|(k, _)| !wanted.iter().any(|w| w.key() == k))
            .collect();
    let kept = lines.len();
    lines.extend(
        wanted
            .iter()
            .map(|w| (w.key().to_owned(), w.value().to_owned())),
    );
    let shown: Vec<String> = wanted
        .iter()
        .map(|w| format!("{} = {}", w.key(), w.value()))
        .collect();
    let mut does = format!(
        "sets {} in {SYSCTL_DROPIN} (for every boot) and now, then reads the values back",
        shown.join(", ")
    );
    if kept > 0 {
        does.push_str(&format!(
            "; keeps the {kept} other setting(s) already in that file"
        ));
    }
    step = step
        .note("does", does)
        .command(Command::Write {
            path: SYSCTL_DROPIN.to_owned(),
            text: templates::sysctl_dropin(&lines)?,
        })
        .command(Command::Fixed(
            "if ! sysctl --system >/dev/null; then\n\techo 'rootless-setup: sysctl --system reported errors (above); checking the values this script sets' >&2\nfi",
        ));
    for w in wanted {
        step = step.command(Command::call(
            Helper::CheckSysctl,
            [w.key(), w.value(), SYSCTL_DROPIN],
        ));
    }
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_lines_are_kept_only_when_they_look_like_settings() {
        let text =
            "# c\n; c\nnet.ipv4.ping_group_range = 0\t2147483647\nbad\n=x\nk = \u{1b}x\nvm.x=1\n";
        assert_eq!(
            existing(text),
            [
                (
                    "net.ipv4.ping_group_range".to_owned(),
                    "0 2147483647".to_owned()
                ),
                ("vm.x".to_owned(), "1".to_owned())
            ]
        );
    }
}
