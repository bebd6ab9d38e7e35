//! `network.iptables`: does iptables work where the engine runs it, as mapped root in a fresh user
//! and network namespace? The check PROBES: one `iptables-restore` there loads the `nat` and
//! `filter` tables with the kinds of rules dockerd adds (MASQUERADE, addrtype, conntrack), in a
//! namespace that disappears with it. It never decides from `/proc/modules`: a module built into the kernel is not listed
//! there, which is exactly how `dockerd-rootless-setuptool.sh check` gets it wrong. The module list
//! is only observed, to help read a failure.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::context::Context;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::distro::Package;
use rootless_setup_core::finding::{Finding, Fix};
use rootless_setup_core::known_versions::{Answer as Known, Identity};
use rootless_setup_core::process::{Invocation, Output, ProcessError};
use rootless_setup_core::remedy::{Modules, Remedy};

use super::super::common;
use rootless_setup_core::version;

const ID: CheckId = CheckId::NetworkIptables;

/// Directories searched after the caller's `PATH` (iptables lives in sbin, often not on a user's
/// `PATH`).
const EXTRA_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// Modules worth naming when the probe fails (observed only, never used to decide).
const INTERESTING_MODULES: [&str; 11] = [
    "ip_tables",
    "iptable_nat",
    "iptable_filter",
    "nf_tables",
    "nft_chain_nat",
    "nft_compat",
    "nf_nat",
    "nf_conntrack",
    "xt_conntrack",
    "xt_addrtype",
    "xt_MASQUERADE",
];

/// What `dockerd` needs, by backend, for `modprobe -a` and `/etc/modules-load.d/`.
const LEGACY_MODULES: [&str; 6] = [
    "ip_tables",
    "iptable_nat",
    "iptable_filter",
    "xt_conntrack",
    "xt_addrtype",
    "xt_MASQUERADE",
];
const NFT_MODULES: [&str; 7] = [
    "nf_tables",
    "nft_chain_nat",
    "nft_compat",
    "nf_nat",
    "xt_conntrack",
    "xt_addrtype",
    "xt_MASQUERADE",
];

/// The rules probe, restored in one `iptables-restore` run in a namespace that disappears with
/// it: both tables and the kinds of rule dockerd adds for its default bridge, each line with
/// what its failure means (`iptables-restore` names the line it stopped at).
const RULES: [(&str, &str); 7] = [
    ("*nat", "the nat table"),
    (
        "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
        "a MASQUERADE rule",
    ),
    (
        "-A PREROUTING -m addrtype --dst-type LOCAL -j RETURN",
        "an addrtype match",
    ),
    ("COMMIT", "committing the nat table"),
    ("*filter", "the filter table"),
    (
        "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "a conntrack match",
    ),
    ("COMMIT", "committing the filter table"),
];

/// What the probe tries, as observed.
const PROBE: &str =
    "iptables-restore: nat and filter tables, MASQUERADE, addrtype and conntrack rules";

/// The rules as `iptables-restore` reads them.
fn rules_input() -> String {
    RULES.iter().map(|(line, _)| format!("{line}\n")).collect()
}

/// The rule `iptables-restore` stopped at, from its `Error occurred at line: N`.
fn failed_rule(stderr: &str) -> Option<(usize, &'static str, &'static str)> {
    let n: usize = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Error occurred at line:"))?
        .trim()
        .parse()
        .ok()?;
    let (line, what) = RULES.get(n.checked_sub(1)?)?;
    Some((n, line, what))
}

/// The iptables backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Legacy,
    Nft,
    Unknown,
}

impl Backend {
    fn as_str(self) -> &'static str {
        match self {
            Backend::Legacy => "legacy",
            Backend::Nft => "nf_tables",
            Backend::Unknown => "unknown",
        }
    }

    /// The backend `as_str` names; unknown for any other word.
    fn named(word: &str) -> Backend {
        match word {
            "nf_tables" => Backend::Nft,
            "legacy" => Backend::Legacy,
            _ => Backend::Unknown,
        }
    }

    fn modules(self) -> &'static [&'static str] {
        match self {
            Backend::Legacy => &LEGACY_MODULES,
            Backend::Nft | Backend::Unknown => &NFT_MODULES,
        }
    }
}

/// Parses `iptables v1.8.9 (nf_tables)` into its version and backend (the same parsers
/// `engine.binaries` uses).
fn parse_version(text: &str) -> Option<(String, Backend)> {
    let version = version::parse_version("iptables", text)?;
    let backend = version::iptables_backend(text)
        .as_deref()
        .map_or(Backend::Unknown, Backend::named);
    Some((version, backend))
}

/// Guesses the backend from the resolved program name (`xtables-nft-multi`, `iptables-legacy`).
fn backend_from_path(path: &Path) -> Backend {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.contains("nft") {
        Backend::Nft
    } else if name.contains("legacy") {
        Backend::Legacy
    } else {
        Backend::Unknown
    }
}

/// Runs `invocation` as mapped root in a throwaway user+network namespace. The engine's
/// iptables runs under rootlesskit with a private `/run` (`--copy-up=/run`), so its lock file is
/// its own; without a mount namespace the host's root-owned `/run/xtables.lock` would refuse the
/// probe for a reason the engine never meets, hence the private lock.
fn in_namespace(invocation: Invocation) -> Invocation {
    invocation
        .in_userns()
        .env("XTABLES_LOCKFILE", "/dev/null")
        .timeout(Duration::from_secs(10))
}

/// The rules probe, when it did not succeed.
struct Failure {
    /// Where `iptables-restore` stopped: line number, line, what it tried.
    stopped_at: Option<(usize, &'static str, &'static str)>,
    /// How it ended.
    detail: String,
    output: Option<Output>,
}

impl Failure {
    /// For `failed_probe`: the line, when known.
    fn probe(&self) -> String {
        match self.stopped_at {
            Some((n, line, what)) => format!("iptables-restore: {what} (line {n}: `{line}`)"),
            None => "iptables-restore of the nat and filter rules".to_owned(),
        }
    }

    /// For the summary: what it was doing.
    fn doing(&self) -> String {
        match self.stopped_at {
            Some((_, _, what)) => format!("at {what}"),
            None => "restoring the nat and filter rules".to_owned(),
        }
    }
}

/// How the rules probe failed, if it did not succeed.
fn failure(result: Result<Output, ProcessError>) -> Option<Failure> {
    let out = match result {
        Ok(out) if out.success() => return None,
        Ok(out) => out,
        Err(e) => {
            return Some(Failure {
                stopped_at: None,
                detail: e.source.to_string(),
                output: None,
            });
        }
    };
    let detail = if out.timed_out {
        format!("timed out after {:.0?}", out.elapsed)
    } else {
        format!(
            "{} (exit {})",
            first_line(&out.stderr),
            out.code
                .map_or_else(|| "by signal".to_owned(), |c| c.to_string()),
        )
    };
    Some(Failure {
        stopped_at: failed_rule(&out.stderr),
        detail,
        output: Some(out),
    })
}

/// The first line that says something: `iptables-restore` ends with a usage hint, so its
/// first line is the reason.
fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// Probes iptables as mapped root in a fresh user and network namespace: the rules probe, and
/// at the same time `iptables -V` for the version.
pub(crate) fn iptables(cx: &Context<'_>) -> Finding {
    let dirs = common::path_then(cx.caller, &EXTRA_DIRS);
    let searched = common::joined(&dirs);
    let Some(path) = cx
        .host
        .find_executable("iptables", dirs.iter().map(PathBuf::as_path))
    else {
        return Finding::fail(ID, "iptables not found")
            .observe("searched", searched)
            .why("the engine sets up NAT and port forwarding for containers with iptables; without it the engine cannot start (or, with --iptables=false, containers lose outbound connectivity)")
            .fix(install_iptables(cx));
    };
    let real = cx.host.canonicalize(&path).unwrap_or_else(|| path.clone());
    let loaded = loaded_modules(cx);
    // Beside iptables, as the same package ships it (and the same alternative switches it).
    let restore = cx.host.find_executable("iptables-restore", path.parent());
    let ((version, backend), restored) = crate::together::both(
        || version_of(cx, &path, &real),
        || {
            let restore = restore.as_ref()?;
            Some(
                cx.system
                    .run(&in_namespace(Invocation::new(restore).input(rules_input()))),
            )
        },
    );
    let observe = |f: Finding| {
        f.observe("path", path.display())
            .observe("real_path", real.display())
            .observe("version", &version)
            .observe("backend", backend.as_str())
            .observe("modules_listed", &loaded)
    };
    let Some(restored) = restored else {
        return observe(no_restore(cx, &path));
    };
    if let Some(failed) = failure(restored) {
        return observe(failed_finding(backend, &version, failed));
    }
    observe(
        Finding::pass(
            ID,
            format!(
                "iptables {version} ({}) works as root in a user namespace: nat and filter tables, NAT and conntrack rules",
                backend.as_str()
            ),
        )
        .observe("probes", PROBE),
    )
}

/// How iptables is asked for its version and backend.
const VERSION_ARGS: [&str; 1] = ["-V"];

/// The version and backend `iptables -V` reports (`iptables v1.8.9 (nf_tables)`), remembered
/// from an earlier run while `path` is the same file; a fresh answer is kept for the next run.
/// A backend it does not name comes from the program's real name; "unknown" when it said
/// nothing that parses.
fn version_of(cx: &Context<'_>, path: &Path, real: &Path) -> (String, Backend) {
    let identity = Identity::of(&cx.host.path(path));
    let remembered = identity
        .as_ref()
        .and_then(|id| cx.options.known_versions.answer(path, &VERSION_ARGS, id));
    let said = match remembered {
        Some(known) => known.version.clone().map(|version| {
            let backend = known
                .variant
                .as_deref()
                .map_or(Backend::Unknown, Backend::named);
            (version, backend)
        }),
        None => {
            let said = cx
                .system
                .run(
                    &Invocation::new(path)
                        .args(VERSION_ARGS)
                        .timeout(Duration::from_secs(5)),
                )
                .ok()
                .and_then(|o| parse_version(&format!("{}\n{}", o.stdout, o.stderr)));
            if let (Some((version, backend)), Some(before)) = (&said, identity)
                && Identity::of(&cx.host.path(path)) == Some(before)
            {
                cx.memo.learnt(Known {
                    path: path.to_owned(),
                    args: VERSION_ARGS.map(str::to_owned).to_vec(),
                    identity: before,
                    version: Some(version.clone()),
                    variant: (*backend != Backend::Unknown).then(|| backend.as_str().to_owned()),
                });
            }
            said
        }
    };
    match said {
        Some((version, Backend::Unknown)) => (version, backend_from_path(real)),
        Some(known) => known,
        None => ("unknown".to_owned(), backend_from_path(real)),
    }
}

fn install_iptables(cx: &Context<'_>) -> Fix {
    Fix::root(ID, "install iptables")
        .remedy(Remedy::install(cx.distro.family, &[Package::Iptables]))
}

/// iptables without `iptables-restore` beside it: a partial install the probe cannot see
/// through (every distribution ships both in one package).
fn no_restore(cx: &Context<'_>, iptables: &Path) -> Finding {
    let dir = iptables.parent().unwrap_or(iptables);
    Finding::warn(
        ID,
        format!(
            "iptables-restore is missing beside {}, so iptables was not probed",
            iptables.display()
        ),
    )
    .observe("searched", dir.display())
    .why("the probe loads dockerd's kinds of rules with iptables-restore, which ships in the same package as iptables; without it this install of iptables is partial, and whether rules work in a user namespace is unknown")
    .fix(install_iptables(cx))
}

fn failed_finding(backend: Backend, version: &str, failed: Failure) -> Finding {
    let finding = Finding::fail(
        ID,
        format!(
            "iptables {version} ({}) fails in a user namespace {}: {}",
            backend.as_str(),
            failed.doing(),
            failed.detail
        ),
    )
    .observe("probes", PROBE)
    .observe("failed_probe", failed.probe());
    let Some(out) = &failed.output else {
        // The namespace itself could not be created: not an iptables problem.
        return finding
            .why("the probe could not create the user and network namespace dockerd's iptables runs in, so rootlesskit would fail the same way")
            .fix(Fix::user(ID, "fix what `rootless-setup check --only userns` reports, then run this check again"));
    };
    let module_list = backend.modules().join(" ");
    finding
        .observe("modules_needed", &module_list)
        .observe("stderr", clip(&out.stderr))
        .observe("stdout", clip(&out.stdout))
        .why("dockerd (and containerd's CNI plugins) run iptables as root of their user namespace, where no kernel module can be loaded; a module that is not already loaded (or built in) makes network setup fail, so containers get no NAT and published ports do not work")
        .fix(
            Fix::root(
                ID,
                format!(
                    "load the {} modules now and at every boot (if modprobe reports a module as not found, this kernel lacks it: use one that has it)",
                    backend.as_str()
                ),
            )
            .remedy(Remedy::LoadModules(Modules::Iptables(
                backend.modules().iter().map(|m| (*m).to_owned()).collect(),
            ))),
        )
}

/// The interesting modules listed in `/proc/modules`, for the observations only: built-in
/// modules are not listed, and a kernel without module support has no such file.
fn loaded_modules(cx: &Context<'_>) -> String {
    let Some(text) = cx.host.read("/proc/modules").ok().flatten() else {
        return "no /proc/modules (kernel without loadable modules)".to_owned();
    };
    let listed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|m| INTERESTING_MODULES.contains(m))
        .collect();
    if listed.is_empty() {
        "none of interest".to_owned()
    } else {
        listed.join(",")
    }
}

/// At most 400 characters of a probe's output, trimmed.
fn clip(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(400) {
        Some((i, _)) => format!("{}…", text.get(..i).unwrap_or(text)),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testutil::{debian, harness};
    use super::*;
    use crate::testing::{Harness, ScriptedSystem};
    use rootless_setup_core::finding::Status;
    use rootless_setup_core::testing::Fixture;

    const LEGACY_NAT_MISSING: &str = "iptables-restore v1.8.9 (legacy): iptables-restore: unable to initialize table 'nat'\n\nError occurred at line: 1\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n";
    const CONNTRACK_MISSING: &str = "iptables-restore v1.8.9 (nf_tables): Couldn't load match `conntrack':No such file or directory\n\nError occurred at line: 6\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n";

    fn fixture() -> Fixture {
        let fx = debian();
        fx.exe("/usr/sbin/xtables-nft-multi")
            .symlink("/usr/sbin/iptables", "xtables-nft-multi")
            .symlink("/usr/sbin/iptables-restore", "xtables-nft-multi");
        fx
    }

    fn working(version: &str) -> ScriptedSystem {
        ScriptedSystem::new()
            .on(
                "iptables",
                "-V",
                ScriptedSystem::ok(&format!("{version}\n")),
            )
            .on("iptables-restore", "", ScriptedSystem::ok(""))
    }

    fn run(h: &Harness) -> Finding {
        iptables(&h.context())
    }

    /// The calls, sorted: the version and the rules are asked at the same time.
    fn calls(h: &Harness) -> Vec<String> {
        let mut calls = h.system.calls();
        calls.sort();
        calls
    }

    #[test]
    fn missing_iptables_fails_with_the_install_command() {
        let fx = debian();
        let h = harness(&fx, ScriptedSystem::new());
        let f = run(&h);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.summary, "iptables not found");
        assert_eq!(
            f.observed("searched"),
            Some("/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"),
            "PATH first, then sbin, each directory once"
        );
        let fix = f.fix.unwrap();
        assert!(fix.root);
        assert_eq!(fix.commands, vec!["sudo apt-get install -y iptables"]);
        assert!(h.system.calls().is_empty());
    }

    #[test]
    fn a_working_iptables_in_sbin_passes_even_with_built_in_modules() {
        let fx = fixture();
        // Built-in modules are not listed: the old script's check would fail here.
        fx.file("/proc/modules", "ext4 1 0 - Live 0x0\n");
        let h = harness(&fx, working("iptables v1.8.9 (nf_tables)"));
        let f = run(&h);
        assert_eq!(f.status, Status::Pass, "{f:?}");
        assert_eq!(
            f.summary,
            "iptables 1.8.9 (nf_tables) works as root in a user namespace: nat and filter tables, NAT and conntrack rules"
        );
        assert_eq!(f.observed("path"), Some("/usr/sbin/iptables"));
        assert_eq!(f.observed("real_path"), Some("/usr/sbin/xtables-nft-multi"));
        assert_eq!(f.observed("version"), Some("1.8.9"));
        assert_eq!(f.observed("backend"), Some("nf_tables"));
        assert_eq!(f.observed("modules_listed"), Some("none of interest"));
        assert_eq!(f.observed("probes"), Some(PROBE));
        assert_eq!(
            calls(&h),
            [
                "run /usr/sbin/iptables -V".to_owned(),
                format!(
                    "run /usr/sbin/iptables-restore [userns] < {:?}",
                    "*nat\n\
                     -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\n\
                     -A PREROUTING -m addrtype --dst-type LOCAL -j RETURN\n\
                     COMMIT\n\
                     *filter\n\
                     -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
                     COMMIT\n"
                ),
            ],
            "the version outside, the rules as mapped root in one run"
        );
        fx.remove("/proc/modules");
        let f = run(&h);
        assert_eq!(f.status, Status::Pass);
        assert_eq!(
            f.observed("modules_listed"),
            Some("no /proc/modules (kernel without loadable modules)")
        );
    }

    #[test]
    fn the_version_is_asked_once_and_remembered_until_the_program_changes() {
        let fx = fixture();
        let h = harness(&fx, working("iptables v1.8.9 (nf_tables)"));
        assert_eq!(run(&h).status, Status::Pass);
        let learnt = h.memo.take_learnt();
        let identity = Identity::of(&h.host.path("/usr/sbin/iptables")).unwrap();
        assert_eq!(
            learnt,
            [Known {
                path: "/usr/sbin/iptables".into(),
                args: vec!["-V".to_owned()],
                identity,
                version: Some("1.8.9".to_owned()),
                variant: Some("nf_tables".to_owned()),
            }]
        );

        // The next run remembers it: only the rules are probed.
        let mut next = harness(&fx, working("iptables v1.8.9 (nf_tables)"));
        next.options.known_versions.remember(learnt.clone());
        let f = run(&next);
        assert_eq!(f.status, Status::Pass);
        assert_eq!(
            (f.observed("version"), f.observed("backend")),
            (Some("1.8.9"), Some("nf_tables"))
        );
        let asked = calls(&next);
        assert_eq!(asked.len(), 1, "{asked:?}");
        assert!(
            asked[0].starts_with("run /usr/sbin/iptables-restore"),
            "{asked:?}"
        );
        assert!(next.memo.take_learnt().is_empty(), "nothing new to keep");

        // An upgrade changes the file: asked again.
        fx.file("/usr/sbin/xtables-nft-multi", "a newer build");
        let mut upgraded = harness(&fx, working("iptables v1.8.10 (nf_tables)"));
        upgraded.options.known_versions.remember(learnt);
        assert_eq!(run(&upgraded).observed("version"), Some("1.8.10"));
        assert!(calls(&upgraded).contains(&"run /usr/sbin/iptables -V".to_owned()));
    }

    #[test]
    fn legacy_without_its_modules_fails_with_modprobe_and_modules_load() {
        let fx = debian();
        fx.exe("/usr/sbin/xtables-legacy-multi")
            .symlink("/usr/sbin/iptables", "xtables-legacy-multi")
            .symlink("/usr/sbin/iptables-restore", "xtables-legacy-multi")
            .file(
                "/proc/modules",
                "ip_tables 36864 0 - Live 0x0\nx_tables 53248 1 ip_tables, Live 0x0\n",
            );
        let system = working("iptables v1.8.9 (legacy)").on(
            "iptables-restore",
            "",
            ScriptedSystem::failed(1, LEGACY_NAT_MISSING),
        );
        let h = harness(&fx, system);
        let f = run(&h);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(
            f.summary,
            "iptables 1.8.9 (legacy) fails in a user namespace at the nat table: iptables-restore v1.8.9 (legacy): iptables-restore: unable to initialize table 'nat' (exit 1)"
        );
        assert_eq!(
            f.observed("failed_probe"),
            Some("iptables-restore: the nat table (line 1: `*nat`)")
        );
        assert_eq!(f.observed("modules_listed"), Some("ip_tables"));
        assert!(
            f.observed("stderr")
                .unwrap()
                .contains("unable to initialize table 'nat'")
        );
        let fix = f.fix.unwrap();
        assert!(fix.root);
        assert_eq!(
            fix.commands[0],
            "sudo modprobe -a ip_tables iptable_nat iptable_filter xt_conntrack xt_addrtype xt_MASQUERADE"
        );
        assert_eq!(
            fix.commands[1],
            "printf '%s\\n' ip_tables iptable_nat iptable_filter xt_conntrack xt_addrtype xt_MASQUERADE | sudo tee /etc/modules-load.d/rootless-iptables.conf"
        );
    }

    #[test]
    fn a_missing_match_module_names_its_rule_and_the_nft_modules() {
        let fx = fixture();
        let system = working("iptables v1.8.9 (nf_tables)").on(
            "iptables-restore",
            "",
            ScriptedSystem::failed(2, CONNTRACK_MISSING),
        );
        let h = harness(&fx, system);
        let f = run(&h);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(
            f.observed("failed_probe"),
            Some(
                "iptables-restore: a conntrack match (line 6: `-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`)"
            )
        );
        assert!(
            f.summary.ends_with(
                "at a conntrack match: iptables-restore v1.8.9 (nf_tables): Couldn't load match `conntrack':No such file or directory (exit 2)"
            ),
            "{}",
            f.summary
        );
        assert!(
            f.fix.unwrap().commands[0]
                .starts_with("sudo modprobe -a nf_tables nft_chain_nat nft_compat")
        );
    }

    #[test]
    fn the_stopping_line_is_read_from_iptables_restore() {
        assert_eq!(
            failed_rule(LEGACY_NAT_MISSING),
            Some((1, "*nat", "the nat table"))
        );
        assert_eq!(
            failed_rule("x\nError occurred at line: 4\n"),
            Some((4, "COMMIT", "committing the nat table"))
        );
        assert_eq!(
            failed_rule("Error occurred at line: 7"),
            Some((7, "COMMIT", "committing the filter table"))
        );
        for unknown in [
            "Error occurred at line: 0",
            "Error occurred at line: 8",
            "Error occurred at line: -1",
            "Error occurred at line: many",
            "no line at all",
            "",
        ] {
            assert_eq!(failed_rule(unknown), None, "{unknown:?}");
        }
        assert_eq!(first_line("\n  \n reason \nTry more"), "reason");
        assert_eq!(first_line(""), "");
    }

    #[test]
    fn a_namespace_that_cannot_be_created_points_at_userns() {
        let fx = fixture();
        let system = ScriptedSystem::new()
            .on(
                "iptables",
                "-V",
                ScriptedSystem::ok("iptables v1.8.9 (nf_tables)\n"),
            )
            .on_error("iptables-restore", std::io::ErrorKind::PermissionDenied);
        let h = harness(&fx, system);
        let f = run(&h);
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.summary
                .contains("restoring the nat and filter rules: permission denied"),
            "{}",
            f.summary
        );
        assert_eq!(
            f.observed("failed_probe"),
            Some("iptables-restore of the nat and filter rules")
        );
        let fix = f.fix.unwrap();
        assert!(!fix.root);
        assert!(fix.summary.contains("--only userns"));
    }

    #[test]
    fn a_hanging_probe_fails_and_an_unknown_version_uses_the_real_name() {
        let fx = debian();
        fx.exe("/usr/sbin/xtables-legacy-multi")
            .symlink("/usr/sbin/iptables", "xtables-legacy-multi")
            .symlink("/usr/sbin/iptables-restore", "xtables-legacy-multi");
        let system = ScriptedSystem::new().on("iptables-restore", "", ScriptedSystem::timed_out());
        let h = harness(&fx, system);
        let f = run(&h);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.observed("version"), Some("unknown"));
        assert_eq!(f.observed("backend"), Some("legacy"));
        assert!(
            f.summary
                .ends_with("restoring the nat and filter rules: timed out after 10s"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn iptables_without_iptables_restore_beside_it_warns_and_probes_nothing_in_a_namespace() {
        let fx = debian();
        fx.exe("/usr/sbin/xtables-nft-multi")
            .symlink("/usr/sbin/iptables", "xtables-nft-multi")
            // Elsewhere does not count: it must be the same install.
            .exe("/usr/bin/iptables-restore");
        let h = harness(&fx, working("iptables v1.8.9 (nf_tables)"));
        let f = run(&h);
        assert_eq!(f.status, Status::Warn);
        assert_eq!(
            f.summary,
            "iptables-restore is missing beside /usr/sbin/iptables, so iptables was not probed"
        );
        assert_eq!(f.observed("searched"), Some("/usr/sbin"));
        assert_eq!(f.observed("version"), Some("1.8.9"));
        assert_eq!(
            f.fix.unwrap().commands,
            vec!["sudo apt-get install -y iptables"]
        );
        assert_eq!(calls(&h), ["run /usr/sbin/iptables -V"]);
    }

    #[test]
    fn version_lines_parse() {
        assert_eq!(
            parse_version("iptables v1.8.9 (nf_tables)\n"),
            Some(("1.8.9".to_owned(), Backend::Nft))
        );
        assert_eq!(
            parse_version("iptables v1.6.1\n"),
            Some(("1.6.1".to_owned(), Backend::Unknown))
        );
        assert_eq!(parse_version("vault of nothing"), None);
        assert_eq!(parse_version(""), None);
        assert_eq!(clip(&"x".repeat(500)).chars().count(), 401);
    }
}
