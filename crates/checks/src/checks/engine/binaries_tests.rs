//! Fixture tests of `engine.binaries`.

use super::*;
use crate::caller::Caller;
use crate::system::System;
use crate::testing::{Harness, ScriptedSystem};
use rootless_setup_core::known_versions::KnownVersions;
use rootless_setup_core::process::{Output, ProcessError};
use rootless_setup_core::testing::Fixture;

const DEBIAN_12: &str = "ID=debian\nVERSION_ID=\"12\"\n";

fn caller() -> Caller {
    Caller::new(1000, 1000)
        .with_var("PATH", "/usr/local/bin:/usr/bin:/bin")
        .with_var("HOME", "/home/alice")
}

/// Version answers of Debian 12's packages.
fn debian_versions() -> ScriptedSystem {
    ScriptedSystem::new()
        .on(
            "dockerd",
            "--version",
            ScriptedSystem::ok("Docker version 20.10.24+dfsg1, build 5d6db84\n"),
        )
        .on(
            "docker",
            "--version",
            ScriptedSystem::ok("Docker version 20.10.24+dfsg1, build 297e128\n"),
        )
        .on(
            "rootlesskit",
            "--version",
            ScriptedSystem::ok("rootlesskit version 1.1.0\n"),
        )
        .on(
            "containerd",
            "--version",
            ScriptedSystem::ok(
                "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n",
            ),
        )
        .on(
            "runc",
            "--version",
            ScriptedSystem::ok("runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\n"),
        )
        .on(
            "slirp4netns",
            "--version",
            ScriptedSystem::ok("slirp4netns version 1.2.0\ncommit: 656041d4\n"),
        )
}

/// Debian 12 with docker.io, rootlesskit, slirp4netns and iptables installed.
fn debian_docker_io() -> Fixture {
    let fx = Fixture::new();
    fx.file("/etc/os-release", DEBIAN_12)
        .exe("/usr/sbin/dockerd")
        .exe("/usr/bin/docker")
        .exe("/usr/share/docker.io/contrib/dockerd-rootless.sh")
        .exe("/usr/share/docker.io/contrib/dockerd-rootless-setuptool.sh")
        .exe("/usr/bin/rootlesskit")
        .exe("/usr/bin/rootlesskit-docker-proxy")
        .exe("/usr/bin/containerd")
        .exe("/usr/sbin/runc")
        .exe("/usr/bin/slirp4netns")
        .exe("/usr/sbin/iptables");
    fx
}

fn run(h: &Harness) -> (Finding, Facts) {
    let mut facts = Facts::default();
    let finding = binaries(&h.context(), &mut facts);
    (finding, facts)
}

fn fix_commands(f: &Finding) -> String {
    f.fix
        .as_ref()
        .map(|x| x.commands.join("\n"))
        .unwrap_or_default()
}

#[test]
fn debian_docker_io_passes_with_versions_and_places() {
    let fx = debian_docker_io();
    let h = Harness::new(&fx, caller(), debian_versions());
    let (f, facts) = run(&h);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(f.observed("dockerd"), Some("/usr/sbin/dockerd"));
    assert_eq!(f.observed("dockerd_version"), Some("20.10.24+dfsg1"));
    assert_eq!(f.observed("rootlesskit_version"), Some("1.1.0"));
    assert_eq!(f.observed("containerd_version"), Some("1.6.20~ds1"));
    assert_eq!(f.observed("runc_version"), Some("1.1.5+ds1"));
    assert_eq!(f.observed("slirp4netns_version"), Some("1.2.0"));
    // iptables belongs to `network.iptables`, which finds and asks it once per run.
    assert_eq!(f.observed("iptables"), None);
    assert!(
        !h.system.calls().iter().any(|c| c.contains("iptables")),
        "{:?}",
        h.system.calls()
    );
    assert_eq!(
        f.observed("dockerd_rootless_sh"),
        Some("/usr/share/docker.io/contrib/dockerd-rootless.sh")
    );
    let outside = f.observed("outside_path").unwrap_or_default();
    assert!(
        outside.contains("dockerd-rootless.sh in /usr/share/docker.io/contrib")
            && outside.contains("dockerd in /usr/sbin")
            && outside.contains("runc in /usr/sbin"),
        "{outside}"
    );
    assert!(f.summary.contains("outside PATH"), "{}", f.summary);
    assert!(f.summary.contains("rootlesskit 1.1.0"), "{}", f.summary);
    let not_found = f.observed("not_found").unwrap_or_default();
    assert!(not_found.contains("pasta") && not_found.contains("vpnkit"));
    assert!(
        f.observed("searched")
            .unwrap_or_default()
            .starts_with("/usr/local/bin:/usr/bin:/bin:/usr/sbin")
    );
    // Facts: every found program, scripts without a version.
    let rk = facts.binary("rootlesskit").expect("rootlesskit recorded");
    assert_eq!(rk.path, PathBuf::from("/usr/bin/rootlesskit"));
    assert_eq!(rk.version.as_deref(), Some("1.1.0"));
    let script = facts
        .binary("dockerd-rootless.sh")
        .expect("script recorded");
    assert_eq!(script.version, None);
    assert!(facts.binary("pasta").is_none());
    // Scripts are never run.
    assert!(
        !h.system.calls().iter().any(|c| c.contains(".sh")),
        "{:?}",
        h.system.calls()
    );
}

#[test]
fn path_comes_first_then_the_home_directories() {
    let fx = debian_docker_io();
    fx.exe("/home/alice/bin/rootlesskit")
        .remove("/usr/bin/slirp4netns")
        .exe("/home/alice/.local/bin/slirp4netns");
    let c = caller().with_var(
        "PATH",
        "/home/alice/bin:/usr/local/bin:/usr/bin:/bin:relative",
    );
    let h = Harness::new(&fx, c, debian_versions());
    let (f, facts) = run(&h);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(
        facts.binary("rootlesskit").map(|b| b.path.clone()),
        Some(PathBuf::from("/home/alice/bin/rootlesskit"))
    );
    assert_eq!(
        facts.binary("slirp4netns").map(|b| b.path.clone()),
        Some(PathBuf::from("/home/alice/.local/bin/slirp4netns"))
    );
    assert!(
        !f.observed("searched")
            .unwrap_or_default()
            .contains("relative")
    );
}

#[test]
fn missing_rootless_pieces_fail_with_the_debian_install_command() {
    let fx = debian_docker_io();
    fx.remove("/usr/share/docker.io/contrib/dockerd-rootless.sh")
        .remove("/usr/bin/rootlesskit")
        .remove("/usr/bin/rootlesskit-docker-proxy");
    let h = Harness::new(&fx, caller(), debian_versions());
    let (f, facts) = run(&h);
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.summary
            .contains("missing dockerd-rootless.sh, rootlesskit"),
        "{}",
        f.summary
    );
    let fix = f.fix.as_ref().expect("a fix");
    assert!(fix.root);
    assert_eq!(
        fix_commands(&f),
        "sudo apt-get install -y docker.io rootlesskit"
    );
    assert!(fix.summary.contains("/usr/share/docker.io/contrib"));
    assert!(fix.summary.contains("docker-ce-rootless-extras"));
    assert!(f.why.is_some());
    assert!(
        f.observed("not_found")
            .unwrap_or_default()
            .contains("rootlesskit")
    );
    // What was found is still recorded.
    let dockerd = facts.binary("dockerd").expect("dockerd recorded");
    assert_eq!(
        (dockerd.path.as_path(), dockerd.version.as_deref()),
        (Path::new("/usr/sbin/dockerd"), Some("20.10.24+dfsg1"))
    );
}

#[test]
fn missing_rootlesskit_on_fedora_asks_for_rootlesskit_only() {
    let fx = Fixture::new();
    fx.file("/etc/os-release", "ID=fedora\nVERSION_ID=40\n")
        .exe("/usr/bin/dockerd")
        .exe("/usr/bin/dockerd-rootless.sh")
        .exe("/usr/bin/docker")
        .exe("/usr/bin/containerd")
        .exe("/usr/bin/runc");
    let system = debian_versions().on(
        "dockerd",
        "--version",
        ScriptedSystem::ok("Docker version 28.2.2, build e6534b4\n"),
    );
    let h = Harness::new(&fx, caller(), system);
    let (f, _) = run(&h);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "missing rootlesskit");
    assert_eq!(fix_commands(&f), "sudo dnf install -y rootlesskit");
}

#[test]
fn docker_before_28_needs_rootlesskit_docker_proxy() {
    let fx = debian_docker_io();
    fx.remove("/usr/bin/rootlesskit-docker-proxy");
    let h = Harness::new(&fx, caller(), debian_versions());
    let (f, _) = run(&h);
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.summary.contains("rootlesskit-docker-proxy"),
        "{}",
        f.summary
    );
    assert_eq!(fix_commands(&f), "sudo apt-get install -y rootlesskit");

    // Docker 28 does without it.
    let system = debian_versions().on(
        "dockerd",
        "--version",
        ScriptedSystem::ok("Docker version 28.2.2, build e6534b4\n"),
    );
    let h = Harness::new(&fx, caller(), system);
    let (f, _) = run(&h);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
}

#[test]
fn a_dockerd_that_does_not_run_fails() {
    let fx = debian_docker_io();
    let system = debian_versions().on(
        "dockerd",
        "--version",
        ScriptedSystem::failed(
            127,
            "/usr/sbin/dockerd: error while loading shared libraries: libdevmapper.so.1.02.1: cannot open shared object file\n",
        ),
    );
    let h = Harness::new(&fx, caller(), system);
    let (f, facts) = run(&h);
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.summary
            .starts_with("dockerd at /usr/sbin/dockerd does not run: /usr/sbin/dockerd: error while loading shared libraries"),
        "{}",
        f.summary
    );
    assert!(
        f.observed("dockerd_error")
            .is_some_and(|e| e.contains("libdevmapper.so.1.02.1")),
        "{:?}",
        f.observed("dockerd_error")
    );
    assert_eq!(fix_commands(&f), "sudo apt-get install -y docker.io");
    assert_eq!(
        facts.binary("dockerd").and_then(|b| b.version.clone()),
        None
    );
}

#[test]
fn a_missing_docker_client_warns_with_the_right_package() {
    let fx = debian_docker_io();
    fx.remove("/usr/bin/docker");
    let h = Harness::new(&fx, caller(), debian_versions());
    let (f, _) = run(&h);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.summary, "the docker client is not installed");
    assert!(f.why.as_deref().unwrap_or_default().contains("context"));
    assert_eq!(fix_commands(&f), "sudo apt-get install -y docker.io");

    fx.file("/etc/os-release", "ID=debian\nVERSION_ID=\"13\"\n");
    let h = Harness::new(&fx, caller(), debian_versions());
    let (f, _) = run(&h);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(fix_commands(&f), "sudo apt-get install -y docker-cli");
}

#[test]
fn a_version_query_that_hangs_warns() {
    let fx = debian_docker_io();
    let system = debian_versions().on("rootlesskit", "--version", ScriptedSystem::timed_out());
    let h = Harness::new(&fx, caller(), system);
    let (f, _) = run(&h);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.summary, "rootlesskit did not answer --version within 5 s");
    assert_eq!(f.observed("rootlesskit_version"), Some("timed out"));
}

#[test]
fn an_unreadable_version_is_unknown_not_a_problem() {
    let fx = debian_docker_io();
    fx.exe("/usr/bin/pasta");
    let system = debian_versions().on(
        "pasta",
        "--version",
        ScriptedSystem::ok("pasta unknown version\nCopyright Red Hat\n"),
    );
    let h = Harness::new(&fx, caller(), system);
    let (f, facts) = run(&h);
    assert_eq!(f.status, Status::Pass);
    assert_eq!(f.observed("pasta_version"), Some("unknown"));
    assert_eq!(facts.binary("pasta").map(|b| b.version.clone()), Some(None));
}

#[test]
fn opensuse_gets_the_rootless_extras_package() {
    let fx = Fixture::new();
    fx.file("/etc/os-release", "ID=\"opensuse-tumbleweed\"\n")
        .exe("/usr/bin/dockerd")
        .exe("/usr/bin/docker")
        .exe("/usr/sbin/rootlesskit")
        .exe("/usr/bin/containerd")
        .exe("/usr/sbin/runc");
    let system = debian_versions().on(
        "dockerd",
        "--version",
        ScriptedSystem::ok("Docker version 28.2.2, build e6534b4\n"),
    );
    let h = Harness::new(&fx, caller(), system);
    let (f, _) = run(&h);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "missing dockerd-rootless.sh");
    assert_eq!(
        fix_commands(&f),
        "sudo zypper install -y docker docker-rootless-extras"
    );
}

fn containerd_fixture() -> Fixture {
    let fx = Fixture::new();
    fx.file("/etc/os-release", "ID=arch\n")
        .exe("/usr/bin/containerd")
        .exe("/usr/bin/ctr")
        .exe("/usr/bin/containerd-rootless.sh")
        .exe("/usr/bin/containerd-rootless-setuptool.sh")
        .exe("/usr/bin/nerdctl")
        .exe("/usr/bin/rootlesskit")
        .exe("/usr/bin/runc");
    fx
}

fn containerd_harness(fx: &Fixture) -> Harness {
    let system = debian_versions()
        .on(
            "nerdctl",
            "--version",
            ScriptedSystem::ok("nerdctl version 1.7.6\n"),
        )
        .on(
            "ctr",
            "--version",
            ScriptedSystem::ok("ctr github.com/containerd/containerd 1.7.24~ds1\n"),
        );
    let mut h = Harness::new(fx, caller(), system);
    h.engine = Engine::Containerd;
    h
}

#[test]
fn containerd_engine_passes_with_nerdctl() {
    let fx = containerd_fixture();
    let h = containerd_harness(&fx);
    let (f, facts) = run(&h);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(f.observed("nerdctl_version"), Some("1.7.6"));
    let script = facts
        .binary("containerd-rootless.sh")
        .expect("the script is recorded");
    assert_eq!(
        (script.path.as_path(), script.version.as_deref()),
        (Path::new("/usr/bin/containerd-rootless.sh"), None),
        "scripts are recorded without a version"
    );
    assert!(facts.binary("dockerd").is_none());
    assert!(!f.summary.contains("outside PATH"));
}

/// Debian's containerd: no nerdctl and no containerd-rootless.sh (the unit runs the script's
/// steps), ctr as the client.
#[test]
fn containerd_engine_passes_without_its_script_or_nerdctl() {
    let fx = containerd_fixture();
    fx.remove("/usr/bin/containerd-rootless.sh");
    fx.remove("/usr/bin/containerd-rootless-setuptool.sh");
    fx.remove("/usr/bin/nerdctl");
    let h = containerd_harness(&fx);
    let (f, facts) = run(&h);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(
        f.summary,
        "containerd 1.6.20~ds1, rootlesskit 1.1.0, runc 1.1.5+ds1, ctr 1.7.24~ds1"
    );
    assert_eq!(
        f.observed("not_found"),
        Some(
            "crun, nerdctl, containerd-rootless.sh, containerd-rootless-setuptool.sh, slirp4netns, pasta, vpnkit, lxc-user-nic, fuse-overlayfs"
        )
    );
    assert_eq!(
        facts.binary("ctr").map(|b| b.path.as_path()),
        Some(Path::new("/usr/bin/ctr"))
    );
}

#[test]
fn containerd_engine_without_ctr_warns_and_names_the_containerd_package() {
    let fx = containerd_fixture();
    fx.remove("/usr/bin/ctr");
    let h = containerd_harness(&fx);
    let (f, _) = run(&h);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.summary, "the ctr client is not installed");
    assert_eq!(fix_commands(&f), "sudo pacman -S --needed containerd");
}

#[test]
fn containerd_engine_without_containerd_fails() {
    let fx = containerd_fixture();
    fx.remove("/usr/bin/containerd");
    let h = containerd_harness(&fx);
    let (f, _) = run(&h);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "missing containerd");
    assert_eq!(fix_commands(&f), "sudo pacman -S --needed containerd");
}

#[test]
fn fedora_is_told_that_moby_engine_lacks_the_scripts() {
    let fx = Fixture::new();
    fx.file("/etc/os-release", "ID=fedora\nVERSION_ID=40\n")
        .exe("/usr/bin/dockerd")
        .exe("/usr/bin/docker")
        .exe("/usr/bin/rootlesskit")
        .exe("/usr/bin/containerd")
        .exe("/usr/bin/runc");
    let system = debian_versions().on(
        "dockerd",
        "--version",
        ScriptedSystem::ok("Docker version 28.2.2, build e6534b4\n"),
    );
    let h = Harness::new(&fx, caller(), system);
    let (f, _) = run(&h);
    assert_eq!(f.status, Status::Fail);
    let fix = f.fix.expect("a fix");
    assert!(fix.summary.contains("moby-engine has no rootless scripts"));
    assert!(fix.summary.contains("docker-ce-rootless-extras"));
    // moby-engine would not bring the script, so no dnf command is offered.
    assert!(fix.commands.is_empty(), "{:?}", fix.commands);
}

/// Answers like `inner`, but each program only once all `expected` programs have been asked,
/// and `dockerd` only after every other one has answered; ten seconds without that
/// marks the run as not at once. Only asking them all at the same time gets through promptly.
#[derive(Debug)]
struct AllAtOnce {
    inner: ScriptedSystem,
    expected: usize,
    /// (asked, answered, whether a wait ran out).
    state: std::sync::Mutex<(usize, usize, bool)>,
    changed: std::sync::Condvar,
}

impl System for AllAtOnce {
    fn run(&self, invocation: &Invocation) -> Result<Output, ProcessError> {
        let last = invocation.program.ends_with("dockerd");
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.0 += 1;
        self.changed.notify_all();
        let (mut state, waited) = self
            .changed
            .wait_timeout_while(state, std::time::Duration::from_secs(10), |s| {
                s.0 < self.expected || (last && s.1 + 1 < self.expected)
            })
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.2 |= waited.timed_out();
        state.1 += 1;
        self.changed.notify_all();
        drop(state);
        System::run(&self.inner, invocation)
    }
    fn map_userns(
        &self,
        request: &crate::system::UsernsMapRequest,
    ) -> Result<crate::system::UsernsMapOutcome, ProcessError> {
        System::map_userns(&self.inner, request)
    }
    fn ping_user_bus(&self, address: &str) -> crate::system::BusAnswer<()> {
        System::ping_user_bus(&self.inner, address)
    }
    fn user_manager(&self, address: &str) -> crate::system::BusAnswer<crate::system::ManagerInfo> {
        System::user_manager(&self.inner, address)
    }
    fn linger(&self, uid: u32) -> crate::system::BusAnswer<bool> {
        System::linger(&self.inner, uid)
    }
    fn engine_warnings(&self, socket: &std::path::Path) -> Result<Vec<String>, String> {
        System::engine_warnings(&self.inner, socket)
    }
}

#[test]
fn versions_are_asked_at_once_and_reported_in_catalogue_order() {
    let fx = debian_docker_io();
    let h = Harness::new(&fx, caller(), debian_versions());
    let (expected, _) = run(&h);
    let asked = h.system.calls().len();
    assert_eq!(asked, 6, "{:?}", h.system.calls());
    let gated = AllAtOnce {
        inner: debian_versions(),
        expected: asked,
        state: std::sync::Mutex::new((0, 0, false)),
        changed: std::sync::Condvar::new(),
    };
    let cx = Context {
        system: &gated,
        ..h.context()
    };
    let f = binaries(&cx, &mut Facts::default());
    let (asked_now, answered, ran_out) = *gated
        .state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    assert_eq!((asked_now, answered), (6, 6));
    assert!(!ran_out, "every program was asked before any answered");
    // dockerd answered last: the report keeps the catalogue's order anyway.
    assert_eq!(
        f.observed, expected.observed,
        "same observations, same order"
    );
    assert_eq!(f.summary, expected.summary);
}

/// Debian 13's Podman: podman and conmon, crun and runc, netavark in Podman's helper directory.
fn debian_podman() -> Fixture {
    let fx = Fixture::new();
    fx.file("/etc/os-release", "ID=debian\nVERSION_ID=\"13\"\n")
        .exe("/usr/bin/podman")
        .exe("/usr/bin/conmon")
        .exe("/usr/bin/crun")
        .exe("/usr/sbin/runc")
        .exe("/usr/lib/podman/netavark")
        .exe("/usr/bin/pasta");
    fx
}

fn podman_versions() -> ScriptedSystem {
    ScriptedSystem::new()
        .on(
            "podman",
            "--version",
            ScriptedSystem::ok("podman version 5.4.2\n"),
        )
        .on(
            "conmon",
            "--version",
            ScriptedSystem::ok("conmon version 2.1.12\n"),
        )
        .on(
            "crun",
            "--version",
            ScriptedSystem::ok("crun version 1.21\n"),
        )
        .on(
            "runc",
            "--version",
            ScriptedSystem::ok("runc version 1.1.15+ds1\n"),
        )
        .on(
            "netavark",
            "--version",
            ScriptedSystem::ok("netavark 1.14.0\n"),
        )
        .on(
            "pasta",
            "--version",
            ScriptedSystem::ok("pasta 0.0~git20250503\n"),
        )
        .on(
            "docker",
            "--version",
            ScriptedSystem::ok("Docker version 26.1.5+dfsg1, build a72d7cd\n"),
        )
}

fn run_podman(fx: &Fixture, delegated: Option<bool>) -> (Finding, Facts) {
    let mut h = Harness::new(fx, caller(), podman_versions());
    h.engine = Engine::Podman;
    let mut facts = Facts {
        controllers_delegated: delegated,
        ..Facts::default()
    };
    let finding = binaries(&h.context(), &mut facts);
    (finding, facts)
}

#[test]
fn podman_needs_no_rootlesskit_and_finds_netavark_where_podman_keeps_it() {
    let (f, facts) = run_podman(&debian_podman(), Some(false));
    assert_eq!(f.status, Status::Warn, "{f:?}");
    assert_eq!(f.summary, "the docker client is not installed");
    assert!(facts.binary("rootlesskit").is_none());
    assert_eq!(
        facts.binary("netavark").map(|b| b.path.clone()),
        Some("/usr/lib/podman/netavark".into())
    );
    assert_eq!(fix_commands(&f), "sudo apt-get install -y docker-cli");
    let fx = debian_podman();
    fx.exe("/usr/bin/docker");
    let (f, _) = run_podman(&fx, Some(false));
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert!(
        f.summary
            .starts_with("podman 5.4.2, conmon 2.1.12, crun 1.21"),
        "{}",
        f.summary
    );
}

#[test]
fn podman_without_delegated_controllers_needs_crun() {
    let fx = Fixture::new();
    fx.file("/etc/os-release", DEBIAN_12)
        .exe("/usr/bin/podman")
        .exe("/usr/bin/conmon")
        .exe("/usr/bin/docker")
        .exe("/usr/sbin/runc");
    let (f, _) = run_podman(&fx, Some(false));
    assert_eq!(f.status, Status::Fail, "{f:?}");
    assert_eq!(
        f.summary,
        "runc found, but without delegated cgroup controllers podman needs crun"
    );
    assert_eq!(fix_commands(&f), "sudo apt-get install -y crun");
    // With the controllers delegated (or not known), runc is enough.
    assert_eq!(run_podman(&fx, Some(true)).0.status, Status::Pass);
    assert_eq!(run_podman(&fx, None).0.status, Status::Pass);
}

#[test]
fn podman_without_any_oci_runtime_fails_and_a_missing_podman_names_its_package() {
    let fx = Fixture::new();
    fx.file("/etc/os-release", DEBIAN_12)
        .exe("/usr/bin/podman")
        .exe("/usr/bin/conmon");
    let (f, _) = run_podman(&fx, Some(true));
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "no OCI runtime: none of crun, runc found");
    let fx = Fixture::new();
    fx.file("/etc/os-release", DEBIAN_12).exe("/usr/bin/crun");
    let (f, _) = run_podman(&fx, Some(true));
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "missing podman, conmon");
    assert_eq!(fix_commands(&f), "sudo apt-get install -y podman conmon");
}

#[test]
fn a_remembered_version_is_used_while_the_program_is_the_same_file() {
    let fx = debian_docker_io();
    let h = Harness::new(&fx, caller(), debian_versions());
    let (_, first) = run(&h);
    let asked: Vec<&str> = first
        .fresh_versions
        .iter()
        .map(|a| a.path.to_str().unwrap_or_default())
        .collect();
    assert_eq!(
        asked,
        [
            "/usr/sbin/dockerd",
            "/usr/bin/rootlesskit",
            "/usr/bin/containerd",
            "/usr/sbin/runc",
            "/usr/bin/docker",
            "/usr/bin/slirp4netns"
        ]
    );
    let mut known = KnownVersions::default();
    known.remember(first.fresh_versions.clone());

    // The next run asks no program it remembers, and finds the same versions.
    let mut h = Harness::new(&fx, caller(), debian_versions());
    h.options.known_versions = known.clone();
    let (finding, second) = run(&h);
    assert!(h.system.calls().is_empty(), "{:?}", h.system.calls());
    assert!(second.fresh_versions.is_empty());
    assert_eq!(
        second.binary("dockerd").and_then(|b| b.version.as_deref()),
        Some("20.10.24+dfsg1")
    );
    assert_eq!(
        finding,
        run(&Harness::new(&fx, caller(), debian_versions())).0
    );

    // An upgraded dockerd (another file) is asked again; the others are still remembered.
    fx.file("/usr/sbin/dockerd", "#!/bin/sh\necho upgraded\n");
    let mut h = Harness::new(&fx, caller(), debian_versions());
    h.options.known_versions = known;
    let (_, third) = run(&h);
    assert_eq!(h.system.calls().len(), 1, "{:?}", h.system.calls());
    assert_eq!(third.fresh_versions.len(), 1);
    assert_eq!(third.fresh_versions[0].path, Path::new("/usr/sbin/dockerd"));
}
