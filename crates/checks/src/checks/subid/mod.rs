//! The `subid.uid` and `subid.gid` checks. The files' parser, allocator and repair rules are
//! [`rootless_setup_core::subid`].

mod check;
mod nss;

use std::path::PathBuf;

use crate::caller::Caller;
use crate::context::Context;
use rootless_setup_core::finding::Finding;
use rootless_setup_core::model::Facts;

/// The `subid.uid` check.
pub(crate) fn subuid(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    check::run(cx, facts, check::Kind::Uid)
}

/// The `subid.gid` check.
pub(crate) fn subgid(cx: &Context<'_>, facts: &mut Facts) -> Finding {
    check::run(cx, facts, check::Kind::Gid)
}

/// Where programs are looked for: the caller's `PATH` (absolute entries only), then `/usr/bin`,
/// `/usr/sbin`, `/bin` and `/sbin`, without duplicates.
pub(crate) fn program_dirs(caller: &Caller) -> Vec<PathBuf> {
    super::common::path_then(caller, &rootless_setup_core::remedy::HELPER_DIRS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_dirs_put_path_first_without_duplicates() {
        let caller = Caller::new(1000, 1000).with_var("PATH", "/opt/bin:relative:/usr/bin:");
        let dirs: Vec<String> = program_dirs(&caller)
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        assert_eq!(dirs, ["/opt/bin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"]);
    }
}
