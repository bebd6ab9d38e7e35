//! `userns.apparmor`: an AppArmor profile for the real path of rootlesskit that allows `userns`,
//! written from `crates/fix/templates/apparmor-rootlesskit.j2` and loaded with `apparmor_parser -r`,
//! only when the restriction is on and this AppArmor has `abi/4.0` (which knows `userns`).

use rootless_setup_core::Finding;
use rootless_setup_core::remedy::{APPARMOR_DIR, Remedy};

use super::{base, manual, remedies};
use crate::error::FixError;
use crate::model::{Command, Step};
use crate::target::Target;
use crate::templates;

/// Whether `path` can be an AppArmor attachment as it is: absolute, and none of the characters
/// AppArmor reads as a pattern (`*?[]{}^@`), a variable or a quote.
fn plain_attachment(path: &str) -> bool {
    path.starts_with('/')
        && path.len() > 1
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._+-".contains(c))
        && !path.split('/').any(|part| part == "..")
}

/// The block.
pub(crate) fn apparmor(finding: &Finding, target: &Target) -> Result<Step, FixError> {
    // The check asks for a profile only while the restriction is on.
    let Some(path) = remedies(finding).iter().find_map(|r| match r {
        Remedy::AllowUserns { rootlesskit, .. } => Some(rootlesskit.as_str()),
        _ => None,
    }) else {
        return Ok(manual(
            finding,
            "the restriction is not reported as on, so the script writes no profile",
        ));
    };
    if !target.files.apparmor_abi4 {
        return Ok(manual(
            finding,
            format!(
                "{APPARMOR_DIR}/abi/4.0 does not exist: this AppArmor predates the `userns` rule, \
                 so a profile granting it would not load"
            ),
        ));
    }
    if !plain_attachment(path) {
        return Ok(manual(
            finding,
            format!(
                "rootlesskit's path {path:?} holds characters AppArmor reads as a pattern or \
                 quote; write the profile by hand so it attaches to that file only"
            ),
        ));
    }
    let name = path.trim_start_matches('/').replace('/', ".");
    let file = format!("{APPARMOR_DIR}/{name}");
    if target.files.apparmor_files.contains(&name) {
        return Ok(manual(
            finding,
            format!(
                "{file} exists but grants no `userns`: add `userns,` to its profile by hand \
                 rather than have the script replace it"
            ),
        ));
    }
    let mut step = base(finding).note(
        "does",
        format!(
            "writes the profile {name} for {path} with `userns` to {file} and loads it; \
             kernel.apparmor_restrict_unprivileged_userns stays on for every other program"
        ),
    );
    let home = target.account.home.to_string_lossy();
    if home.len() > 1 && path.starts_with(&format!("{}/", home.trim_end_matches('/'))) {
        step = step.note(
            "note",
            format!(
                "{path} is under {}'s home: whatever program {} puts there may create user \
                 namespaces; a rootlesskit from the distribution (in /usr/bin) avoids that",
                target.account.name, target.account.name
            ),
        );
    }
    Ok(step
        .command(Command::Write {
            path: file.clone(),
            text: templates::apparmor_profile(&name, path)?,
        })
        .command(Command::run(["apparmor_parser", "-r", file.as_str()])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_become_attachments() {
        assert!(plain_attachment("/usr/local/bin/rootlesskit"));
        assert!(plain_attachment("/home/a_b/bin/rootlesskit-2.0+x"));
        for bad in [
            "rootlesskit",
            "/",
            "/a b",
            "/a*",
            "/a/{b}",
            "/@{HOME}/x",
            "/a\"b",
            "/a/../b",
        ] {
            assert!(!plain_attachment(bad), "{bad}");
        }
    }
}
