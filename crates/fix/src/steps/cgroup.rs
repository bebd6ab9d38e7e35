//! `cgroup`: on cgroup v2 with controllers missing from `user@UID.service`, the delegation
//! drop-in for `user@.service` from `templates/fix/delegate.conf.j2` and a daemon-reload, plus
//! the reminder that it takes effect at the user's next login. A v1 or hybrid boot (the kernel
//! command line and the boot loader) is left to the admin, with the check's commands to read.

use rootless_setup_core::Finding;

use super::{base, manual};
use crate::error::FixError;
use crate::model::{Command, Helper, Step};
use crate::target::{DELEGATE_CONF, Target};
use crate::templates;

/// Controllers the engine needs delegated (as `cgroup` requires them).
const REQUIRED: [&str; 3] = ["cpu", "memory", "pids"];
/// What the drop-in delegates.
pub(crate) const DELEGATED: [&str; 5] = ["cpu", "cpuset", "io", "memory", "pids"];

/// The block.
pub(crate) fn cgroup(
    finding: &Finding,
    target: &Target,
    after: &mut Vec<String>,
) -> Result<Step, FixError> {
    let words = |key: &str| -> Option<Vec<&str>> {
        finding
            .observed(key)
            .map(|v| v.split_whitespace().collect())
    };
    let (Some("v2"), Some(delegated), Some(kernel)) = (
        finding.observed("version"),
        words("delegated"),
        words("kernel_controllers"),
    ) else {
        return Ok(manual(
            finding,
            "this needs the boot configuration (the unified cgroup hierarchy) or a running user \
             manager, not a file the script can write; a reboot follows",
        ));
    };
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|c| !delegated.contains(c))
        .collect();
    let unknown_kernel = kernel == ["unknown"];
    let absent: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|c| !unknown_kernel && !kernel.contains(c))
        .collect();
    if missing.is_empty() || !absent.is_empty() {
        return Ok(manual(
            finding,
            "the kernel's cgroup v2 root does not offer these controllers, so delegating them \
             cannot help; the boot configuration has to change",
        ));
    }
    let uid = target.account.uid;
    let name = &target.account.name;
    after.push(format!(
        "{name} logs out and back in (every session), so user@{uid}.service starts again with the \
         delegated controllers; with linger on, `systemctl restart user@{uid}.service` as root \
         does it too, but stops {name}'s running services and containers"
    ));
    let text = templates::delegate_conf(&DELEGATED)?;
    let step = base(finding);
    if target.files.delegate_conf.as_deref() == Some(text.as_str()) {
        return Ok(manual(
            finding,
            format!(
                "{DELEGATE_CONF} already delegates {}: it takes effect when {name} logs in again",
                DELEGATED.join(" ")
            ),
        ));
    }
    let dir = DELEGATE_CONF
        .rsplit_once('/')
        .map_or(DELEGATE_CONF, |(d, _)| d);
    let mut does = format!(
        "delegates {} to every user's systemd manager in {DELEGATE_CONF} and reloads systemd",
        DELEGATED.join(" ")
    );
    if target.files.delegate_conf.is_some() {
        does.push_str(&format!(
            "; the present file is kept as {DELEGATE_CONF}.rootless-setup-orig"
        ));
    }
    Ok(step
        .note("does", does)
        .command(Command::run(["mkdir", "-p", dir]))
        .command(Command::call(Helper::KeepOriginal, [DELEGATE_CONF]))
        .command(Command::Write {
            path: DELEGATE_CONF.to_owned(),
            text,
        })
        .command(Command::run(["systemctl", "daemon-reload"])))
}
