//! Resource limits for the engine's unit (`[limits]`): systemd's `MemoryMax=`, `CPUQuota=`,
//! `TasksMax=` and `IOWeight=` on the engine's service, which bound the engine and every
//! container it starts together. Each needs its cgroup v2 controller delegated to the user's
//! systemd manager; [`check`] holds them against the controllers the `cgroup` check found.

use crate::config::{ConfigError, Origin, Sourced};

/// One limit key: its name under `[limits]`, the systemd directive and the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitKey {
    /// `memory-max`.
    pub name: &'static str,
    /// `MemoryMax`.
    pub directive: &'static str,
    /// `memory`.
    pub controller: &'static str,
    /// What is allowed, for messages and docs/config.md.
    pub allowed: &'static str,
    /// How a value is read.
    syntax: Syntax,
}

/// The value syntaxes of the limit keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// Bytes with a unit, a percentage, or `infinity`.
    Memory,
    /// A percentage of one CPU.
    CpuQuota,
    /// A count, or `infinity`.
    Tasks,
    /// A weight from 1 to 10000.
    IoWeight,
}

/// The limit keys, in the order they are written.
pub const LIMITS: [LimitKey; 4] = [
    LimitKey {
        name: "memory-max",
        directive: "MemoryMax",
        controller: "memory",
        syntax: Syntax::Memory,
        allowed: "bytes with an optional `K`, `M`, `G` or `T` (1024-based), a percentage of the host's memory (`1%` to `100%`), or `infinity`",
    },
    LimitKey {
        name: "cpu-quota",
        directive: "CPUQuota",
        controller: "cpu",
        syntax: Syntax::CpuQuota,
        allowed: "a whole percentage of one CPU, `1%` to `100000%` (`200%` is two CPUs)",
    },
    LimitKey {
        name: "tasks-max",
        directive: "TasksMax",
        controller: "pids",
        syntax: Syntax::Tasks,
        allowed: "a whole number from 1, or `infinity`",
    },
    LimitKey {
        name: "io-weight",
        directive: "IOWeight",
        controller: "io",
        syntax: Syntax::IoWeight,
        allowed: "a whole number from 1 to 10000 (100 is the default weight)",
    },
];

/// The key `name` (without `limits.`).
pub fn key(name: &str) -> Option<&'static LimitKey> {
    LIMITS.iter().find(|k| k.name == name)
}

impl LimitKey {
    /// The value as systemd takes it, or `None` when it is not allowed.
    pub fn parse(&self, text: &str) -> Option<String> {
        match self.syntax {
            Syntax::Memory => memory(text),
            Syntax::CpuQuota => cpu_quota(text),
            Syntax::Tasks => tasks(text),
            Syntax::IoWeight => io_weight(text),
        }
    }
}

/// Digits only, not empty, no leading zero (but `0` itself), within u64.
fn number(text: &str) -> Option<u64> {
    let ok = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    ok.then(|| text.parse().ok()).flatten()
}

fn percent(text: &str, max: u64) -> Option<String> {
    let n = number(text.strip_suffix('%')?)?;
    (1..=max).contains(&n).then(|| format!("{n}%"))
}

fn memory(text: &str) -> Option<String> {
    if text == "infinity" {
        return Some(text.to_owned());
    }
    if text.ends_with('%') {
        return percent(text, 100);
    }
    let (digits, unit) = match text.strip_suffix(['K', 'M', 'G', 'T']) {
        Some(d) => (d, &text[d.len()..]),
        None => (text, ""),
    };
    let n = number(digits)?;
    let shift = match unit {
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => 0,
    };
    (n > 0 && n.checked_mul(1 << shift).is_some()).then(|| format!("{n}{unit}"))
}

fn cpu_quota(text: &str) -> Option<String> {
    percent(text, 100_000)
}

fn tasks(text: &str) -> Option<String> {
    if text == "infinity" {
        return Some(text.to_owned());
    }
    number(text).filter(|n| *n > 0).map(|n| n.to_string())
}

fn io_weight(text: &str) -> Option<String> {
    number(text)
        .filter(|n| (1..=10_000).contains(n))
        .map(|n| n.to_string())
}

/// A limit as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceLimit {
    /// Which.
    pub key: &'static LimitKey,
    /// The value as systemd takes it.
    pub value: String,
}

impl ResourceLimit {
    /// The unit line: `MemoryMax=2G`.
    pub fn line(&self) -> String {
        format!("{}={}", self.key.directive, self.value)
    }
}

/// The limits `limits` against the controllers delegated to the user manager (`None`:
/// unknown): an error for each whose controller is not delegated (all of them on cgroup v1,
/// where nothing is), naming the fix; a warning when it could not be told.
pub fn check(
    limits: &[Sourced<ResourceLimit>],
    delegated: Option<&[String]>,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<String>,
) {
    for Sourced { value, origin } in limits {
        let key = format!("limits.{}", value.key.name);
        let controller = value.key.controller;
        match delegated {
            None => warnings.push(format!(
                "`{key}` needs the {controller} controller delegated to your systemd user manager, and whether it is could not be told (`rootless-setup check --only cgroup`)"
            )),
            // cgroup v1 delegates nothing, and neither does a v2 manager without `Delegate=`.
            Some([]) => errors.push(not_delegated(origin, &key, format!(
                "`{key}` needs the {controller} controller, and no controller is delegated to your systemd user manager"
            ), "on cgroup v2, `rootless-setup fix` prints the root commands of its `cgroup` block, which delegates them (docs/fix.md), then log in again; on cgroup v1, boot with the unified cgroup v2 hierarchy (`rootless-setup check --only cgroup` says which you have and how); or remove the limit")),
            Some(list) if !list.iter().any(|c| c == controller) => errors.push(not_delegated(
                origin,
                &key,
                format!(
                    "`{key}` needs the {controller} controller, which is not delegated to your systemd user manager (delegated: {})",
                    list.join(" ")
                ),
                "`rootless-setup fix` prints the root commands of its `cgroup` block, which delegates it (docs/fix.md); then log in again",
            )),
            Some(_) => {}
        }
    }
}

fn not_delegated(origin: &Origin, key: &str, message: String, help: &str) -> ConfigError {
    ConfigError::new(origin, key, message).help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, text: &str) -> Option<String> {
        key(name).unwrap().parse(text)
    }

    #[test]
    fn values_follow_systemds_syntax_strictly() {
        for (name, ok, want) in [
            ("memory-max", "2G", "2G"),
            ("memory-max", "512M", "512M"),
            ("memory-max", "1073741824", "1073741824"),
            ("memory-max", "80%", "80%"),
            ("memory-max", "infinity", "infinity"),
            ("cpu-quota", "50%", "50%"),
            ("cpu-quota", "400%", "400%"),
            ("tasks-max", "4096", "4096"),
            ("tasks-max", "infinity", "infinity"),
            ("io-weight", "1", "1"),
            ("io-weight", "10000", "10000"),
        ] {
            assert_eq!(parse(name, ok).as_deref(), Some(want), "{name} = {ok}");
        }
        for (name, bad) in [
            ("memory-max", "0"),
            ("memory-max", "2g"),
            ("memory-max", "2 G"),
            ("memory-max", "2GB"),
            ("memory-max", "-1"),
            ("memory-max", "0%"),
            ("memory-max", "101%"),
            ("memory-max", "1.5G"),
            ("memory-max", "99999999999T"),
            ("memory-max", "2G\nExecStartPre=/bin/sh"),
            ("memory-max", "$MEM"),
            ("memory-max", ""),
            ("cpu-quota", "50"),
            ("cpu-quota", "0%"),
            ("cpu-quota", "100001%"),
            ("cpu-quota", "%"),
            ("cpu-quota", "050%"),
            ("tasks-max", "0"),
            ("tasks-max", "+5"),
            ("tasks-max", "10%"),
            ("io-weight", "0"),
            ("io-weight", "10001"),
            ("io-weight", "infinity"),
        ] {
            assert_eq!(parse(name, bad), None, "{name} = {bad:?} was accepted");
        }
    }

    fn limit(name: &str, value: &str) -> Sourced<ResourceLimit> {
        Sourced::new(
            ResourceLimit {
                key: key(name).unwrap(),
                value: value.to_owned(),
            },
            Origin::Flag("test".into()),
        )
    }

    #[test]
    fn a_limit_needs_its_controller_delegated() {
        let limits = [limit("memory-max", "1G"), limit("io-weight", "50")];
        assert_eq!(limits[0].value.line(), "MemoryMax=1G");
        let delegated = ["cpu".to_owned(), "memory".to_owned(), "pids".to_owned()];
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        check(&limits, Some(&delegated), &mut errors, &mut warnings);
        assert!(warnings.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "test: `limits.io-weight` needs the io controller, which is not delegated to your systemd user manager (delegated: cpu memory pids)\n  help: `rootless-setup fix` prints the root commands of its `cgroup` block, which delegates it (docs/fix.md); then log in again"
        );
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        check(&limits[..1], Some(&[]), &mut errors, &mut warnings);
        assert_eq!(
            errors[0].message,
            "`limits.memory-max` needs the memory controller, and no controller is delegated to your systemd user manager"
        );
        let help = errors[0].help.as_deref().unwrap_or_default();
        assert!(
            help.starts_with("on cgroup v2, `rootless-setup fix`")
                && help.contains("on cgroup v1, boot with"),
            "both cases are answered: {help}"
        );
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        check(&limits[..1], None, &mut errors, &mut warnings);
        assert!(errors.is_empty());
        assert_eq!(warnings.len(), 1);
    }
}
