//! Plan tests: resolution from the checker's facts, driver validation against what is
//! installed, and where each problem points.

use std::path::{Path, PathBuf};

use rootless_setup_core::model::{Binary, NetworkPlan};

use super::*;
use crate::config::Overrides;

/// Debian 12's `dockerd-rootless.sh` (Docker 20.10) reads these, and not the host-loopback or
/// detach-netns variables.
const DEBIAN_SCRIPT: &str = "DOCKERD_ROOTLESS_ROOTLESSKIT_NET DOCKERD_ROOTLESS_ROOTLESSKIT_MTU \
    DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER --disable-host-loopback";
/// A current script reads all of them.
const MODERN_SCRIPT: &str = "DOCKERD_ROOTLESS_ROOTLESSKIT_NET DOCKERD_ROOTLESS_ROOTLESSKIT_MTU \
    DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK \
    DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS pasta";

fn bin(name: &str, path: &str, version: Option<&str>) -> (String, Binary) {
    (
        name.to_owned(),
        Binary {
            name: name.to_owned(),
            path: path.into(),
            version: version.map(str::to_owned),
        },
    )
}

fn debian() -> Discovered {
    Discovered {
        binaries: [
            bin(
                "dockerd-rootless.sh",
                "/usr/share/docker.io/contrib/dockerd-rootless.sh",
                None,
            ),
            bin("dockerd", "/usr/bin/dockerd", Some("20.10.24+dfsg1")),
            bin("rootlesskit", "/usr/bin/rootlesskit", Some("1.1.0")),
            bin("slirp4netns", "/usr/bin/slirp4netns", Some("1.2.0")),
        ]
        .into_iter()
        .collect(),
        newuidmap: Some("/usr/bin/newuidmap".into()),
        newgidmap: Some("/usr/bin/newgidmap".into()),
        network: None,
        script: Some(DEBIAN_SCRIPT.to_owned()),
        delegated_controllers: None,
    }
}

/// Docker 29.1 from Docker's tarball in ~/bin, with pasta and no slirp4netns: its script tries
/// pasta when slirp4netns is missing (moby 28.5.2 and later).
fn modern() -> Discovered {
    Discovered {
        binaries: [
            bin(
                "dockerd-rootless.sh",
                "/home/u/bin/dockerd-rootless.sh",
                None,
            ),
            bin("dockerd", "/home/u/bin/dockerd", Some("29.1.3")),
            bin("rootlesskit", "/home/u/bin/rootlesskit", Some("2.3.1")),
            bin("pasta", "/usr/bin/pasta", Some("2024_05_23.765eb0b")),
        ]
        .into_iter()
        .collect(),
        newuidmap: Some("/usr/bin/newuidmap".into()),
        newgidmap: Some("/usr/bin/newgidmap".into()),
        network: None,
        script: Some(MODERN_SCRIPT.to_owned()),
        delegated_controllers: None,
    }
}

fn with(file: &str, flags: Overrides) -> Settings {
    let mut s = Settings::default();
    s.apply_file(Path::new("/c.toml"), file, Path::new("/home/u"))
        .unwrap();
    s.apply_flags(&flags, Path::new("/home/u")).unwrap();
    s
}

fn problems(settings: &Settings, found: &Discovered) -> String {
    match plan(settings, found) {
        Ok(p) => panic!("expected problems, got {p:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn debian_defaults() {
    let p = plan(&Settings::default(), &debian()).unwrap();
    assert_eq!(
        p.program,
        PathBuf::from("/usr/share/docker.io/contrib/dockerd-rootless.sh")
    );
    assert_eq!(
        (p.network_driver, p.port_driver, p.mtu),
        (NetDriver::Slirp4netns, PortDriver::Builtin, 65520)
    );
    // The script does not read the variable and always disables host loopback.
    assert_eq!(p.disable_host_loopback, None);
    assert_eq!(p.detach_netns, None);
    assert_eq!(p.start_timeout, 90);
    assert_eq!(
        p.path,
        [
            "/usr/share/docker.io/contrib",
            "/usr/bin",
            "/usr/local/sbin",
            "/usr/local/bin",
            "/usr/sbin",
            "/sbin",
            "/bin"
        ]
        .map(PathBuf::from)
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn modern_host_prefers_its_own_binaries_then_the_system() {
    let p = plan(&Settings::default(), &modern()).unwrap();
    // No slirp4netns installed: pasta, with its own port forwarding.
    assert_eq!(
        (p.network_driver, p.port_driver, p.mtu),
        (NetDriver::Pasta, PortDriver::Implicit, 65520)
    );
    assert_eq!(p.disable_host_loopback, Some(true));
    assert_eq!(p.path[0], PathBuf::from("/home/u/bin"));
    assert_eq!(p.path[1], PathBuf::from("/usr/bin"));
    assert_eq!(p.path.len(), 1 + SYSTEM_PATH.len());
}

#[test]
fn the_checkers_choice_is_used_when_nothing_is_configured() {
    let mut found = modern();
    found
        .binaries
        .extend([bin("slirp4netns", "/usr/bin/slirp4netns", Some("1.2.0"))]);
    found.network = Some(NetworkPlan {
        driver: "slirp4netns".into(),
        port_driver: "slirp4netns".into(),
        binary: Some("/usr/bin/slirp4netns".into()),
        mtu: 65520,
    });
    let p = plan(&Settings::default(), &found).unwrap();
    assert_eq!(
        (p.network_driver, p.port_driver),
        (NetDriver::Slirp4netns, PortDriver::Slirp4netns)
    );
    // A configured network driver wins, and the checker's port driver is not carried over to it.
    let p = plan(
        &with("[network]\ndriver = \"pasta\"\n", Overrides::default()),
        &found,
    )
    .unwrap();
    assert_eq!(
        (p.network_driver, p.port_driver),
        (NetDriver::Pasta, PortDriver::Implicit)
    );
}

#[test]
fn the_automatic_choice_follows_the_engines_script() {
    // Docker 27's script never tries pasta: the unit used to pick it anyway, the checker did
    // not; now neither does.
    let mut old = modern();
    old.binaries
        .extend([bin("dockerd", "/home/u/bin/dockerd", Some("27.3.1"))]);
    let err = problems(&Settings::default(), &old);
    assert!(
        err.contains("this host: no usable network driver is installed"),
        "{err}"
    );
    // Configured, it is used.
    let p = plan(
        &with("[network]\ndriver = \"pasta\"\n", Overrides::default()),
        &old,
    )
    .unwrap();
    assert_eq!(p.network_driver, NetDriver::Pasta);
    // Docker 29.5 with rootlesskit 3 and no driver program: the built-in gvisor-tap-vsock.
    let mut gvisor = modern();
    gvisor.binaries.remove("pasta");
    gvisor.binaries.extend([
        bin("dockerd", "/home/u/bin/dockerd", Some("29.5.0")),
        bin("rootlesskit", "/home/u/bin/rootlesskit", Some("3.0.0")),
    ]);
    let p = plan(&Settings::default(), &gvisor).unwrap();
    assert_eq!(
        (p.network_driver, p.port_driver, p.mtu),
        (NetDriver::GvisorTapVsock, PortDriver::Builtin, 65520)
    );
    // The script read decides over the version: Debian's 20.10 script with Docker 29.5's version.
    gvisor.script = Some("\t\t\tnet=slirp4netns\n\t\t\tnet=vpnkit\n".to_owned());
    assert!(problems(&Settings::default(), &gvisor).contains("no usable network driver"));
}

#[test]
fn explicit_values_are_carried_through() {
    let s = with(
        "data-root = \"/srv/docker\"\ndaemon-flags = [\"--debug\"]\nstart-timeout = 30\n[network]\nmtu = 1500\nhost-loopback = true\ndetach-netns = true\n[environment]\nX = \"1\"\n",
        Overrides::default(),
    );
    let p = plan(&s, &modern()).unwrap();
    assert_eq!(p.mtu, 1500);
    assert_eq!(p.disable_host_loopback, Some(false));
    assert_eq!(p.detach_netns, Some(true));
    assert_eq!(p.data_root, Some(PathBuf::from("/srv/docker")));
    assert_eq!(p.daemon_flags, ["--debug"]);
    assert_eq!(p.environment.get("X").map(String::as_str), Some("1"));
    assert_eq!(p.start_timeout, 30);
}

#[test]
fn pasta_on_debian_12_is_refused_with_reasons() {
    let s = with("[network]\ndriver = \"pasta\"\n", Overrides::default());
    insta::assert_snapshot!(problems(&s, &debian()), @r"
    /c.toml:2:10: network driver `pasta` needs `pasta`, which was not found
      help: install pasta or choose another network driver
    /c.toml:2:10: rootlesskit 1.1.0 has no pasta driver (it needs 2.0.0 or newer)
      help: install rootlesskit 2.0.0 or newer, or use slirp4netns
    ");
}

#[test]
fn a_port_driver_that_does_not_fit_points_at_its_flag() {
    let s = with(
        "",
        Overrides {
            port_driver: Some("implicit".into()),
            ..Overrides::default()
        },
    );
    insta::assert_snapshot!(problems(&s, &debian()), @r"
    --port-driver: port driver `implicit` does not work with network driver `slirp4netns`
      allowed: `builtin` or `slirp4netns`
      help: use port driver builtin or slirp4netns
    ");
}

#[test]
fn options_the_engine_cannot_take_are_refused() {
    let s = with(
        "[network]\nhost-loopback = true\ndetach-netns = true\n",
        Overrides::default(),
    );
    insta::assert_snapshot!(problems(&s, &debian()), @r"
    /c.toml:2:17: the engine's dockerd-rootless.sh always disables host loopback
      allowed: `false`
      help: upgrade the engine to one whose dockerd-rootless.sh reads DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK
    /c.toml:3:16: rootlesskit 1.1.0 has no --detach-netns (it needs 2.0.0 or newer)
      allowed: `false`, or leave it unset
    /c.toml:3:16: the engine's dockerd-rootless.sh does not read DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS
      allowed: `false`, or leave it unset
      help: upgrade the engine to use --detach-netns
    ");
    // What such an engine does anyway is accepted, and not written.
    let s = with(
        "[network]\nhost-loopback = false\ndetach-netns = false\n",
        Overrides::default(),
    );
    let p = plan(&s, &debian()).unwrap();
    assert_eq!((p.disable_host_loopback, p.detach_netns), (None, None));
}

#[test]
fn nothing_installed() {
    insta::assert_snapshot!(problems(&Settings::default(), &Discovered::default()), @r"
    this host: dockerd-rootless.sh was not found
      help: install the engine's rootless extras (Debian ships the script in /usr/share/docker.io/contrib/), or set `binaries.dockerd-rootless`
    this host: no usable network driver is installed
      allowed: `slirp4netns`, `pasta`, `gvisor-tap-vsock`, `vpnkit` or `lxc-user-nic`
      help: install slirp4netns (0.4 or newer) or passt (pasta), or set `network.driver`
    ");
}

/// Debian 13 with containerd: its packages (containerd, ctr, runc, rootlesskit, slirp4netns), no
/// nerdctl and no `containerd-rootless.sh`.
fn trixie_containerd() -> Discovered {
    Discovered {
        binaries: [
            bin("containerd", "/usr/bin/containerd", Some("1.7.24~ds1")),
            bin("ctr", "/usr/bin/ctr", Some("1.7.24~ds1")),
            bin("runc", "/usr/sbin/runc", Some("1.1.15+ds1")),
            bin("crun", "/usr/bin/crun", Some("1.21")),
            bin("rootlesskit", "/usr/bin/rootlesskit", Some("2.3.4")),
            bin("slirp4netns", "/usr/bin/slirp4netns", Some("1.2.1")),
        ]
        .into_iter()
        .collect(),
        newuidmap: Some("/usr/bin/newuidmap".into()),
        newgidmap: Some("/usr/bin/newgidmap".into()),
        network: None,
        script: None,
        delegated_controllers: Some(vec!["memory".to_owned(), "pids".to_owned()]),
    }
}

#[test]
fn containerd_runs_under_rootlesskit_without_its_script() {
    let s = with("engine = \"containerd\"\n", Overrides::default());
    let plan = plan(&s, &trixie_containerd()).unwrap();
    assert_eq!(plan.engine, Engine::Containerd);
    assert_eq!(plan.program, PathBuf::from("/usr/bin/rootlesskit"));
    assert_eq!(plan.daemon, Some(PathBuf::from("/usr/bin/containerd")));
    assert_eq!(
        plan.crun_without_cgroups,
        Some(PathBuf::from("/usr/bin/crun"))
    );
    assert_eq!(plan.network_driver, NetDriver::Slirp4netns);
    assert_eq!(plan.port_driver, PortDriver::Builtin);
    assert_eq!(plan.mtu, 65520);
    assert_eq!(plan.disable_host_loopback, Some(true));
    // The script's `auto`: rootlesskit 2.3 has --detach-netns.
    assert_eq!(plan.detach_netns, Some(true));
    assert_eq!(
        plan.path.first().map(PathBuf::as_path),
        Some(Path::new("/usr/bin"))
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);

    // Debian 12's rootlesskit 1.1 has no --detach-netns; host loopback and data root as chosen.
    let mut bookworm = trixie_containerd();
    bookworm.binaries.insert(
        "rootlesskit".into(),
        bin("rootlesskit", "/usr/bin/rootlesskit", Some("1.1.0")).1,
    );
    let s = with(
        "engine = \"containerd\"\ndata-root = \"/srv/ctrd\"\n[network]\nhost-loopback = true\n",
        Overrides::default(),
    );
    let plan = super::plan(&s, &bookworm).unwrap();
    assert_eq!(plan.detach_netns, Some(false));
    assert_eq!(plan.disable_host_loopback, Some(false));
    assert_eq!(plan.data_root, Some(PathBuf::from("/srv/ctrd")));
}

#[test]
fn containerd_follows_the_order_of_the_steps_it_runs() {
    // Only rootlesskit 3 (gvisor-tap-vsock built in): the third driver of nerdctl 2.3's order.
    let mut found = trixie_containerd();
    found.binaries.remove("slirp4netns");
    found.binaries.insert(
        "rootlesskit".into(),
        bin("rootlesskit", "/usr/bin/rootlesskit", Some("3.0.0")).1,
    );
    let s = with("engine = \"containerd\"\n", Overrides::default());
    assert_eq!(
        plan(&s, &found).unwrap().network_driver,
        NetDriver::GvisorTapVsock
    );
    // Pasta alone is not in that order: nothing usable, as the script would say.
    found.binaries.insert(
        "rootlesskit".into(),
        bin("rootlesskit", "/usr/bin/rootlesskit", Some("2.3.4")).1,
    );
    found.binaries.insert(
        "pasta".into(),
        bin("pasta", "/usr/bin/pasta", Some("2025_01_21.4f2c8e7")).1,
    );
    assert!(problems(&s, &found).contains("no usable network driver is installed"));
    // Unless chosen.
    let s = with(
        "engine = \"containerd\"\n[network]\ndriver = \"pasta\"\n",
        Overrides::default(),
    );
    assert_eq!(plan(&s, &found).unwrap().network_driver, NetDriver::Pasta);
}

#[test]
fn containerd_without_crun_warns_that_containers_need_delegation() {
    let s = with("engine = \"containerd\"\n", Overrides::default());
    let mut found = trixie_containerd();
    found.binaries.remove("crun");
    let plan = plan(&s, &found).unwrap();
    assert_eq!(plan.crun_without_cgroups, None);
    assert_eq!(
        plan.warnings,
        [
            "crun was not found (or its path cannot be written into a unit): where no cgroup controllers are delegated to the user (and on cgroup v1) containers will not start, as runc cannot create their cgroups; install crun"
        ]
    );
    // Docker's unit never gets it.
    assert_eq!(
        super::plan(&Settings::default(), &debian())
            .unwrap()
            .crun_without_cgroups,
        None
    );
}

#[test]
fn containerd_without_its_programs() {
    let s = with("engine = \"containerd\"\n", Overrides::default());
    let mut found = trixie_containerd();
    found.binaries.remove("containerd");
    found.binaries.remove("rootlesskit");
    insta::assert_snapshot!(problems(&s, &found), @r"
    this host: rootlesskit was not found
      help: install rootlesskit (Debian: the rootlesskit package), or set `binaries.rootlesskit`
    this host: containerd was not found
      help: install containerd (Debian: the containerd package), or set `binaries.containerd`
    ");
}

#[test]
fn configured_binaries_for_another_machine_render_with_a_warning() {
    // An image build: nothing installed here, everything named in the file.
    let s = with(
        "[network]\ndriver = \"slirp4netns\"\n[binaries]\ndockerd-rootless = \"/usr/bin/dockerd-rootless.sh\"\nslirp4netns = \"/usr/bin/slirp4netns\"\n",
        Overrides::default(),
    );
    let p = plan(&s, &Discovered::default()).unwrap();
    assert_eq!(p.program, PathBuf::from("/usr/bin/dockerd-rootless.sh"));
    assert_eq!(
        p.warnings,
        [
            "`binaries.dockerd-rootless` = /usr/bin/dockerd-rootless.sh was not probed on this host; its version is not checked",
            "`binaries.slirp4netns` = /usr/bin/slirp4netns was not probed on this host; its version is not checked",
        ]
    );
    // The same path as the probe: its version counts, no warning.
    let mut found = debian();
    found.binaries.remove("dockerd-rootless.sh");
    let s = with(
        "[binaries]\ndockerd-rootless = \"/opt/d/dockerd-rootless.sh\"\nslirp4netns = \"/usr/bin/slirp4netns\"\n",
        Overrides::default(),
    );
    let p = plan(&s, &found).unwrap();
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert_eq!(p.path[0], PathBuf::from("/opt/d"));
}

#[test]
fn a_discovered_path_systemd_cannot_run_is_an_error() {
    let mut found = debian();
    found.binaries.extend([bin(
        "dockerd-rootless.sh",
        "/opt/it's/dockerd-rootless.sh",
        None,
    )]);
    found
        .binaries
        .extend([bin("dockerd", "/opt/a:b/dockerd", None)]);
    insta::assert_snapshot!(problems(&Settings::default(), &found), @r"
    this host: `/opt/it's/dockerd-rootless.sh` contains '\'', which systemd refuses in a program path
      help: move the engine to a plain path, or set `binaries.dockerd-rootless`
    this host: the directory of /opt/a:b/dockerd contains `:`, which cannot appear in a PATH entry
      help: install the program in a directory whose name has no `:` or control characters
    ");
}

const EXPOSE_TLS: &str = "[remote]\nexpose = \"tcp://0.0.0.0:2376\"\ntls-dir = \"/t\"\n";

#[test]
fn the_exposure_follows_where_dockerd_runs() {
    // Debian's script never detaches: rootlesskit forwards into the namespace.
    let p = plan(&with(EXPOSE_TLS, Overrides::default()), &debian()).unwrap();
    let r = p.remote.unwrap();
    assert!(!r.detached);
    assert_eq!(p.detach_netns, None);
    assert_eq!(r.tls_dir, Some(PathBuf::from("/t")));
    // A modern script detaches by default: dockerd listens on the host itself, whatever the
    // port driver (pasta's implicit here).
    let p = plan(&with(EXPOSE_TLS, Overrides::default()), &modern()).unwrap();
    assert_eq!(p.port_driver, PortDriver::Implicit);
    assert!(p.remote.unwrap().detached);
    // A script that could not be read: detaching is written down as off.
    let mut unknown = debian();
    unknown.script = None;
    let p = plan(&with(EXPOSE_TLS, Overrides::default()), &unknown).unwrap();
    assert_eq!(p.detach_netns, Some(false));
    assert!(!p.remote.unwrap().detached);
}

#[test]
fn in_the_namespace_only_the_builtin_port_driver_forwards() {
    let s = with(
        &format!("{EXPOSE_TLS}[network]\ndetach-netns = false\n"),
        Overrides::default(),
    );
    insta::assert_snapshot!(problems(&s, &modern()), @r#"
    /c.toml:2:10: `remote.expose` = tcp://0.0.0.0:2376 is forwarded into the engine's network namespace by the `builtin` port driver, not `implicit`
      allowed: `builtin`
      help: set `network.port-driver = "builtin"` (with pasta, which has no builtin port driver, `network.driver = "slirp4netns"`), or `network.detach-netns = true` (rootlesskit 2.0 or newer), where dockerd listens on the host itself
    "#);
}

#[test]
fn the_plan_refuses_what_the_remote_check_refuses() {
    let s = with(
        "engine = \"containerd\"\n[remote]\nexpose = \"tcp://0.0.0.0:2375\"\n",
        Overrides::default(),
    );
    assert!(
        problems(&s, &trixie_containerd()).contains("`remote.expose` is for Docker only"),
        "{}",
        problems(&s, &trixie_containerd())
    );
}

#[test]
fn a_limit_whose_controller_is_not_delegated_is_refused() {
    let s = with(
        "engine = \"containerd\"\n[limits]\nmemory-max = \"1G\"\ncpu-quota = \"50%\"\n",
        Overrides::default(),
    );
    insta::assert_snapshot!(problems(&s, &trixie_containerd()), @"
    /c.toml:4:13: `limits.cpu-quota` needs the cpu controller, which is not delegated to your systemd user manager (delegated: memory pids)
      help: `rootless-setup fix` prints the root commands of its `cgroup` block, which delegates it (docs/fix.md); then log in again
    ");
    let mut v1 = trixie_containerd();
    v1.delegated_controllers = Some(Vec::new());
    assert!(problems(&s, &v1).contains(
        "needs the cpu controller, and no controller is delegated to your systemd user manager"
    ));
    let mut unknown = trixie_containerd();
    unknown.delegated_controllers = None;
    let p = plan(&s, &unknown).unwrap();
    assert_eq!(p.limits, ["MemoryMax=1G", "CPUQuota=50%"]);
    assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
}
