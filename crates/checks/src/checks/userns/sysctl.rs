//! The `userns.sysctl` check: `kernel.unprivileged_userns_clone` (only on kernels that carry
//! Debian's and Arch's patch) and `user.max_user_namespaces`.

use crate::context::Context;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::remedy::{Remedy, Sysctl, USERNS_SYSCTL_DROPIN as DROP_IN};

const ID: CheckId = CheckId::UsernsSysctl;
const CLONE: &str = "/proc/sys/kernel/unprivileged_userns_clone";
const MAX: &str = "/proc/sys/user/max_user_namespaces";
use rootless_setup_core::{
    MAX_USER_NAMESPACES_FIX as MAX_FIX, MAX_USER_NAMESPACES_WARN_BELOW as MAX_WARN_BELOW,
};

/// A sysctl as read: absent, a number, or something else.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Absent,
    Number(u64),
    Other(String),
}

impl Value {
    fn read(cx: &Context<'_>, path: &str) -> Value {
        match cx.host.read_value(path) {
            Ok(None) => Value::Absent,
            Ok(Some(v)) => v.parse().map_or(Value::Other(v), Value::Number),
            Err(e) => Value::Other(format!("unreadable: {}", e.source)),
        }
    }

    fn shown(&self) -> String {
        match self {
            Value::Absent => "absent".to_owned(),
            Value::Number(n) => n.to_string(),
            Value::Other(s) => s.clone(),
        }
    }
}

/// Runs the check.
pub(crate) fn sysctl(cx: &Context<'_>) -> Finding {
    let clone = Value::read(cx, CLONE);
    let max = Value::read(cx, MAX);
    let has_userns = cx.host.exists("/proc/self/ns/user");
    let observe = |f: Finding| {
        let f = f
            .observe("kernel.unprivileged_userns_clone", clone.shown())
            .observe("user.max_user_namespaces", max.shown());
        if max == Value::Absent {
            f.observe(
                "/proc/self/ns/user",
                if has_userns { "present" } else { "absent" },
            )
        } else {
            f
        }
    };
    if clone == Value::Number(0) {
        return observe(clone_off(&max));
    }
    if let Some(f) = too_few(&max, has_userns).or_else(|| unreadable(&clone, &max)) {
        return observe(f);
    }
    let summary = match (&clone, &max) {
        (Value::Number(c), Value::Number(m)) => format!(
            "unprivileged user namespaces allowed (unprivileged_userns_clone = {c}, \
             max_user_namespaces = {m})"
        ),
        (_, Value::Number(m)) => {
            format!("unprivileged user namespaces allowed (max_user_namespaces = {m})")
        }
        _ => "unprivileged user namespaces allowed".to_owned(),
    };
    observe(Finding::pass(ID, summary))
}

/// `kernel.unprivileged_userns_clone` is 0: one fix that allows unprivileged user namespaces,
/// and enough of them when `max` is low too.
fn clone_off(max: &Value) -> Finding {
    // Too few namespaces as well: both in one fix, so one round of fixing is enough.
    let few = matches!(max, Value::Number(n) if *n < MAX_WARN_BELOW);
    let summary = if few {
        format!("allow unprivileged user namespaces, and {MAX_FIX} of them, now and in {DROP_IN}")
    } else {
        format!("allow unprivileged user namespaces now and in {DROP_IN}")
    };
    let mut fix = Fix::root(ID, summary).remedy(Remedy::SetSysctl(Sysctl::UnprivilegedUsernsClone));
    if few {
        fix = fix.remedy(Remedy::SetSysctl(Sysctl::MaxUserNamespaces));
    }
    Finding::fail(ID, "kernel.unprivileged_userns_clone is 0")
        .why(
            "this kernel lets only root create user namespaces, so rootlesskit cannot \
             create the engine's namespace",
        )
        .fix(fix)
}

/// `user.max_user_namespaces` allows none or too few, or the kernel has no user namespaces at
/// all.
fn too_few(max: &Value, has_userns: bool) -> Option<Finding> {
    match max {
        Value::Number(0) => Some(
            Finding::fail(ID, "user.max_user_namespaces is 0")
                .why("the kernel refuses every new user namespace, root's included")
                .fix(
                    Fix::root(
                        ID,
                        format!("allow {MAX_FIX} user namespaces now and in {DROP_IN}"),
                    )
                    .remedy(Remedy::SetSysctl(Sysctl::MaxUserNamespaces)),
                ),
        ),
        Value::Absent if !has_userns => Some(
            Finding::fail(
                ID,
                "this kernel has no user namespaces (no /proc/sys/user/max_user_namespaces, no \
                 /proc/self/ns/user)",
            )
            .why("rootless engines run entirely inside a user namespace")
            .fix(Fix::root(
                ID,
                "boot a kernel built with CONFIG_USER_NS=y (every distribution kernel has it)",
            )),
        ),
        Value::Number(n) if *n < MAX_WARN_BELOW => Some(
            Finding::warn(
                ID,
                format!("user.max_user_namespaces is {n}, below {MAX_WARN_BELOW}"),
            )
            .why(
                "every container and every nested build takes a user namespace; with so few the \
                 engine starts but containers fail with \"no space left on device\" once they run out",
            )
            .fix(
                Fix::root(ID, format!("allow {MAX_FIX} user namespaces now and in {DROP_IN}"))
                    .remedy(Remedy::SetSysctl(Sysctl::MaxUserNamespaces)),
            ),
        ),
        _ => None,
    }
}

/// The first of the two values that is not a number.
fn unreadable(clone: &Value, max: &Value) -> Option<Finding> {
    let (key, v) = [
        ("kernel.unprivileged_userns_clone", clone),
        ("user.max_user_namespaces", max),
    ]
    .into_iter()
    .find_map(|(key, v)| match v {
        Value::Other(v) => Some((key, v)),
        _ => None,
    })?;
    Some(
        Finding::warn(ID, format!("{key} could not be read as a number: {v}"))
            .why("the checker cannot tell whether unprivileged user namespaces are allowed")
            .fix(Fix::user(
                ID,
                format!("run `sysctl {key}` and check that it is at least 1"),
            )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::Caller;
    use crate::checks::common::test_support::commands;
    use crate::testing::{Harness, ScriptedSystem};
    use rootless_setup_core::finding::Status;
    use rootless_setup_core::testing::Fixture;

    fn check(files: &[(&str, &str)]) -> Finding {
        let fx = Fixture::new();
        fx.file("/etc/os-release", "ID=debian\n")
            .file("/proc/self/ns/user", "");
        for (path, value) in files {
            fx.file(path, value);
        }
        let h = Harness::new(&fx, Caller::new(1000, 1000), ScriptedSystem::new());
        sysctl(&h.context())
    }

    #[test]
    fn both_allowed_pass_and_are_observed() {
        let f = check(&[(CLONE, "1\n"), (MAX, "63432\n")]);
        assert_eq!(f.status, Status::Pass);
        assert_eq!(f.observed("kernel.unprivileged_userns_clone"), Some("1"));
        assert_eq!(f.observed("user.max_user_namespaces"), Some("63432"));
    }

    #[test]
    fn clone_sysctl_absent_is_fine() {
        let f = check(&[(MAX, "63432\n")]);
        assert_eq!(f.status, Status::Pass);
        assert_eq!(
            f.observed("kernel.unprivileged_userns_clone"),
            Some("absent")
        );
    }

    #[test]
    fn clone_disabled_fails_with_sysctl_and_drop_in() {
        let f = check(&[(CLONE, "0\n"), (MAX, "63432\n")]);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(
            commands(&f),
            [
                "sudo sysctl -w kernel.unprivileged_userns_clone=1",
                "echo 'kernel.unprivileged_userns_clone = 1' | sudo tee -a \
                 /etc/sysctl.d/99-rootless-setup-userns.conf >/dev/null"
            ]
        );
        assert!(f.fix.as_ref().is_some_and(|x| x.root));
    }

    #[test]
    fn clone_disabled_with_few_namespaces_fixes_both() {
        let f = check(&[(CLONE, "0\n"), (MAX, "100\n")]);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(
            f.fix.as_ref().map(|x| x.summary.as_str()),
            Some(
                "allow unprivileged user namespaces, and 15000 of them, now and in \
                 /etc/sysctl.d/99-rootless-setup-userns.conf"
            )
        );
        assert_eq!(
            commands(&f)[2..],
            [
                "sudo sysctl -w user.max_user_namespaces=15000",
                "echo 'user.max_user_namespaces = 15000' | sudo tee -a \
                 /etc/sysctl.d/99-rootless-setup-userns.conf >/dev/null"
            ]
        );
    }

    #[test]
    fn zero_namespaces_fail() {
        let f = check(&[(MAX, "0\n")]);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.observed("user.max_user_namespaces"), Some("0"));
        assert_eq!(
            commands(&f)[0],
            "sudo sysctl -w user.max_user_namespaces=15000"
        );
    }

    #[test]
    fn few_namespaces_warn() {
        let f = check(&[(MAX, "100\n")]);
        assert_eq!(f.status, Status::Warn);
        assert_eq!(f.summary, "user.max_user_namespaces is 100, below 1000");
        assert_eq!(commands(&f).len(), 2);
    }

    #[test]
    fn garbage_values_warn() {
        let f = check(&[(MAX, "lots\n")]);
        assert_eq!(f.status, Status::Warn);
        assert_eq!(f.observed("user.max_user_namespaces"), Some("lots"));
    }

    #[test]
    fn no_user_namespaces_in_the_kernel_fail() {
        let fx = Fixture::new();
        fx.file("/etc/os-release", "ID=debian\n");
        let h = Harness::new(&fx, Caller::new(1000, 1000), ScriptedSystem::new());
        let f = sysctl(&h.context());
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.observed("/proc/self/ns/user"), Some("absent"));
        // With the namespace file present but the sysctl missing, it passes.
        let f = check(&[]);
        assert_eq!(f.status, Status::Pass, "{f:#?}");
    }
}
