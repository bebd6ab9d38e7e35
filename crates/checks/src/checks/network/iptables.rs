//! `network.iptables`: does iptables work where the engine runs it, as mapped root in a fresh user
//! and network namespace? The check PROBES: it lists the `nat` and `filter` tables there, then
//! appends the kinds of rules dockerd adds (MASQUERADE, addrtype, conntrack) in a throwaway
//! namespace. It never decides from `/proc/modules`: a module built into the kernel is not listed
//! there, which is exactly how `dockerd-rootless-setuptool.sh check` gets it wrong. The module list
//! is only observed, to help read a failure.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::context::Context;
use rootless_setup_core::catalogue::CheckId;
use rootless_setup_core::distro::Package;
use rootless_setup_core::finding::{Finding, Fix};
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

/// The rules probe: the kinds of rule dockerd adds for its default bridge, in a namespace that
/// disappears with the probe. `$0` is the iptables binary.
const RULES_SCRIPT: &str = "set -e\n\
\"$0\" -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\n\
\"$0\" -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j RETURN\n\
\"$0\" -t filter -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n";

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
    let backend = match version::iptables_backend(text).as_deref() {
        Some("nf_tables") => Backend::Nft,
        Some("legacy") => Backend::Legacy,
        _ => Backend::Unknown,
    };
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

/// One probe that did not succeed.
struct Failure {
    what: String,
    detail: String,
    output: Option<Output>,
}

fn failure(what: String, result: Result<Output, ProcessError>) -> Option<Failure> {
    match result {
        Ok(out) if out.success() => None,
        Ok(out) if out.timed_out => Some(Failure {
            what,
            detail: format!("timed out after {:.0?}", out.elapsed),
            output: Some(out),
        }),
        Ok(out) => Some(Failure {
            what,
            detail: format!(
                "exit {}: {}",
                out.code
                    .map_or_else(|| "by signal".to_owned(), |c| c.to_string()),
                out.last_line()
            ),
            output: Some(out),
        }),
        Err(e) => Some(Failure {
            what,
            detail: e.source.to_string(),
            output: None,
        }),
    }
}

/// Probes iptables as mapped root in a fresh user and network namespace.
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
            .fix(Fix::root(ID, "install iptables").remedy(Remedy::install(cx.distro.family, &[Package::Iptables])));
    };
    let real = cx.host.canonicalize(&path).unwrap_or_else(|| path.clone());
    let loaded = loaded_modules(cx);

    let version_out = cx.system.run(
        &Invocation::new(&path)
            .args(["-V"])
            .timeout(Duration::from_secs(5)),
    );
    let (version, backend) = version_out
        .as_ref()
        .ok()
        .and_then(|o| parse_version(&format!("{}\n{}", o.stdout, o.stderr)))
        .map_or_else(
            || ("unknown".to_owned(), backend_from_path(&real)),
            |(v, b)| {
                let b = if b == Backend::Unknown {
                    backend_from_path(&real)
                } else {
                    b
                };
                (v, b)
            },
        );
    let observe = |f: Finding| {
        f.observe("path", path.display())
            .observe("real_path", real.display())
            .observe("version", &version)
            .observe("backend", backend.as_str())
            .observe("modules_listed", &loaded)
    };

    let mut probes = Vec::new();
    for table in ["nat", "filter"] {
        let inv = in_namespace(Invocation::new(&path).args(["-t", table, "-n", "-L"]));
        let what = format!("iptables -t {table} -n -L");
        let result = cx.system.run(&inv);
        probes.push(what.clone());
        if let Some(failed) = failure(what, result) {
            return observe(failed_finding(backend, &version, failed, &probes));
        }
    }
    let rules = in_namespace(Invocation::new("/bin/sh").args([
        "-c".into(),
        RULES_SCRIPT.to_owned(),
        path.display().to_string(),
    ]));
    let what = "adding MASQUERADE, addrtype and conntrack rules".to_owned();
    probes.push(what.clone());
    let result = cx.system.run(&rules);
    if let Some(failed) = failure(what, result) {
        return observe(failed_finding(backend, &version, failed, &probes));
    }
    observe(
        Finding::pass(
            ID,
            format!(
                "iptables {version} ({}) works as root in a user namespace: nat and filter tables, NAT and conntrack rules",
                backend.as_str()
            ),
        )
        .observe("probes", probes.join("; ")),
    )
}

fn failed_finding(backend: Backend, version: &str, failed: Failure, probes: &[String]) -> Finding {
    let finding = Finding::fail(
        ID,
        format!(
            "iptables {version} ({}) fails in a user namespace: {} ({})",
            backend.as_str(),
            failed.what,
            failed.detail
        ),
    )
    .observe("probes", probes.join("; "))
    .observe("failed_probe", &failed.what);
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

    const LEGACY_NAT_MISSING: &str = "iptables v1.8.9 (legacy): can't initialize iptables table `nat': Table does not exist (do you need to insmod?)\nPerhaps iptables or your kernel needs to be upgraded.\n";

    fn fixture() -> Fixture {
        let fx = debian();
        fx.exe("/usr/sbin/xtables-nft-multi")
            .symlink("/usr/sbin/iptables", "xtables-nft-multi");
        fx
    }

    fn working(version: &str) -> ScriptedSystem {
        ScriptedSystem::new()
            .on(
                "iptables",
                "-V",
                ScriptedSystem::ok(&format!("{version}\n")),
            )
            .on(
                "iptables",
                "-t nat -n -L",
                ScriptedSystem::ok("Chain PREROUTING (policy ACCEPT)\n"),
            )
            .on(
                "iptables",
                "-t filter -n -L",
                ScriptedSystem::ok("Chain INPUT (policy ACCEPT)\n"),
            )
            .on("sh", "-c", ScriptedSystem::ok(""))
    }

    fn run(h: &Harness) -> Finding {
        iptables(&h.context())
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
        assert_eq!(f.observed("path"), Some("/usr/sbin/iptables"));
        assert_eq!(f.observed("real_path"), Some("/usr/sbin/xtables-nft-multi"));
        assert_eq!(f.observed("version"), Some("1.8.9"));
        assert_eq!(f.observed("backend"), Some("nf_tables"));
        assert_eq!(f.observed("modules_listed"), Some("none of interest"));
        fx.remove("/proc/modules");
        let f = run(&h);
        assert_eq!(f.status, Status::Pass);
        assert_eq!(
            f.observed("modules_listed"),
            Some("no /proc/modules (kernel without loadable modules)")
        );
        let calls = h.system.calls();
        assert_eq!(
            calls[0], "run /usr/sbin/iptables -V",
            "version is asked outside"
        );
        assert_eq!(calls[1], "run /usr/sbin/iptables -t nat -n -L [userns]");
        assert_eq!(calls[2], "run /usr/sbin/iptables -t filter -n -L [userns]");
        assert!(
            calls[3].starts_with("run /bin/sh -c set -e"),
            "{}",
            calls[3]
        );
        assert!(
            calls[3].ends_with("/usr/sbin/iptables [userns]"),
            "{}",
            calls[3]
        );
    }

    #[test]
    fn legacy_without_its_modules_fails_with_modprobe_and_modules_load() {
        let fx = debian();
        fx.exe("/usr/sbin/iptables-legacy")
            .symlink("/usr/sbin/iptables", "iptables-legacy")
            .file(
                "/proc/modules",
                "ip_tables 36864 0 - Live 0x0\nx_tables 53248 1 ip_tables, Live 0x0\n",
            );
        let system = working("iptables v1.8.9 (legacy)").on(
            "iptables",
            "-t nat -n -L",
            ScriptedSystem::failed(3, LEGACY_NAT_MISSING),
        );
        let h = harness(&fx, system);
        let f = run(&h);
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("iptables 1.8.9 (legacy) fails in a user namespace: iptables -t nat -n -L (exit 3: Perhaps iptables or your kernel needs to be upgraded.)"), "{}", f.summary);
        assert_eq!(f.observed("modules_listed"), Some("ip_tables"));
        assert!(
            f.observed("stderr")
                .unwrap()
                .contains("Table does not exist")
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
        assert_eq!(
            h.system.calls().len(),
            2,
            "stops at the first failing probe"
        );
    }

    #[test]
    fn nf_tables_failure_names_the_nft_modules() {
        let fx = fixture();
        let system = working("iptables v1.8.9 (nf_tables)").on(
            "iptables",
            "-t filter -n -L",
            ScriptedSystem::failed(4, "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Invalid argument\n"),
        );
        let h = harness(&fx, system);
        let f = run(&h);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.observed("failed_probe"), Some("iptables -t filter -n -L"));
        assert!(
            f.fix.unwrap().commands[0]
                .starts_with("sudo modprobe -a nf_tables nft_chain_nat nft_compat")
        );
    }

    #[test]
    fn a_missing_match_module_fails_the_rules_probe() {
        let fx = fixture();
        let system = working("iptables v1.8.9 (nf_tables)").on(
            "sh",
            "-c",
            ScriptedSystem::failed(1, "iptables v1.8.9 (nf_tables): Couldn't load match `conntrack':No such file or directory\n"),
        );
        let h = harness(&fx, system);
        let f = run(&h);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(
            f.observed("failed_probe"),
            Some("adding MASQUERADE, addrtype and conntrack rules")
        );
        assert!(f.summary.contains("Couldn't load match `conntrack'"));
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
            .on_error("iptables", std::io::ErrorKind::PermissionDenied)
            .on(
                "iptables",
                "-V",
                ScriptedSystem::ok("iptables v1.8.9 (nf_tables)\n"),
            );
        let h = harness(&fx, system);
        let f = run(&h);
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("permission denied"), "{}", f.summary);
        let fix = f.fix.unwrap();
        assert!(!fix.root);
        assert!(fix.summary.contains("--only userns"));
    }

    #[test]
    fn a_hanging_probe_fails_and_an_unknown_version_uses_the_real_name() {
        let fx = debian();
        fx.exe("/usr/sbin/xtables-legacy-multi")
            .symlink("/usr/sbin/iptables", "xtables-legacy-multi");
        let system = ScriptedSystem::new().on("iptables", "-t nat", ScriptedSystem::timed_out());
        let h = harness(&fx, system);
        let f = run(&h);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.observed("version"), Some("unknown"));
        assert_eq!(f.observed("backend"), Some("legacy"));
        assert!(f.summary.contains("timed out after 10s"), "{}", f.summary);
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
