//! `cgroup`: on cgroup v2 with controllers missing from `user@UID.service`, the delegation
//! drop-in for `user@.service` from `crates/fix/templates/delegate.conf.j2` and a daemon-reload, plus
//! the reminder that it takes effect at the user's next login. A v1 or hybrid boot (the kernel
//! command line and the boot loader) is left to the admin, with the check's commands to read.

use rootless_setup_core::Finding;
use rootless_setup_core::remedy::{DELEGATE_CONF, DELEGATE_DIR, DELEGATED, Remedy};

use super::{base, manual, remedies};
use crate::error::FixError;
use crate::model::{Command, Helper, Step};
use crate::target::Target;
use crate::templates;

/// The block.
pub(crate) fn cgroup(
    finding: &Finding,
    target: &Target,
    after: &mut Vec<String>,
) -> Result<Step, FixError> {
    let absent = remedies(finding)
        .iter()
        .any(|r| matches!(r, Remedy::UnifiedCgroupBoot { absent, .. } if !absent.is_empty()));
    if absent {
        return Ok(manual(
            finding,
            "the kernel's cgroup v2 root does not offer these controllers, so delegating them \
             cannot help; the boot configuration has to change",
        ));
    }
    if !remedies(finding).contains(&Remedy::DelegateControllers) {
        return Ok(manual(
            finding,
            "this needs the boot configuration (the unified cgroup hierarchy) or a running user \
             manager, not a file the script can write; a reboot follows",
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
        .command(Command::run(["mkdir", "-p", DELEGATE_DIR]))
        .command(Command::call(Helper::KeepOriginal, [DELEGATE_CONF]))
        .command(Command::Write {
            path: DELEGATE_CONF.to_owned(),
            text,
        })
        .command(Command::run(["systemctl", "daemon-reload"])))
}
