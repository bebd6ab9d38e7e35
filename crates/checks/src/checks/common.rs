//! Helpers more than one family needs: the directories a program is looked for in (the
//! caller's `PATH` plus the places distributions use) and the caller's home directory.

use std::path::PathBuf;

use crate::caller::Caller;
use crate::context::Context;
use rootless_setup_core::model::Facts;
pub(crate) use rootless_setup_core::process::search_dirs;

/// The caller's `PATH` followed by `standard`, as [`search_dirs`].
pub(crate) fn path_then(caller: &Caller, standard: &[&str]) -> Vec<PathBuf> {
    search_dirs(
        caller
            .path_dirs()
            .into_iter()
            .chain(standard.iter().map(PathBuf::from)),
    )
}

/// `dirs` as a `PATH`-style list, as observed under `searched`.
pub(crate) fn joined(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

/// The caller's home: the passwd entry `user` found, else `HOME`; only an absolute path.
pub(crate) fn home_dir(cx: &Context<'_>, facts: &Facts) -> Option<PathBuf> {
    facts
        .account
        .as_ref()
        .map(|a| a.home.clone())
        .or_else(|| cx.caller.var("HOME").map(PathBuf::from))
        .filter(|p| p.is_absolute())
}

/// Helpers the families' tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use rootless_setup_core::finding::Finding;

    /// The fix's commands; none without a fix.
    pub(crate) fn commands(f: &Finding) -> Vec<String> {
        f.fix
            .as_ref()
            .map(|x| x.commands.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::testing::{Harness, ScriptedSystem};
    use rootless_setup_core::testing::Fixture;

    #[test]
    fn path_comes_first_without_relative_entries_or_repeats() {
        let fx = Fixture::new();
        let caller = Caller::new(1000, 1000).with_var("PATH", "/opt/bin:bin:/usr/bin::/opt/bin");
        let h = Harness::new(&fx, caller, ScriptedSystem::new());
        let dirs = path_then(&h.caller, &["/usr/bin", "/sbin"]);
        assert_eq!(joined(&dirs), "/opt/bin:/usr/bin:/sbin");
    }

    #[test]
    fn home_is_the_accounts_then_home() {
        let fx = Fixture::new();
        let caller = Caller::new(1000, 1000).with_var("HOME", "/home/env");
        let h = Harness::new(&fx, caller, ScriptedSystem::new());
        let mut facts = Facts::default();
        assert_eq!(
            home_dir(&h.context(), &facts),
            Some(PathBuf::from("/home/env"))
        );
        facts.account = Some(rootless_setup_core::testing::account(
            "alice",
            1000,
            "/home/alice",
        ));
        assert_eq!(
            home_dir(&h.context(), &facts),
            Some(PathBuf::from("/home/alice"))
        );
        let h = Harness::new(
            &fx,
            Caller::new(1000, 1000).with_var("HOME", "relative"),
            ScriptedSystem::new(),
        );
        assert_eq!(home_dir(&h.context(), &Facts::default()), None);
    }
}
