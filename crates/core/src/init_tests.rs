//! Tests of [`HostInit`] on fixture trees and of the `wsl.conf` reader.

use super::*;
use crate::testing::Fixture;

fn detect(f: &Fixture) -> HostInit {
    HostInit::detect(&f.host(), None)
}

#[test]
fn a_systemd_host_is_systemd_and_needs_no_alternative() {
    let f = Fixture::new();
    f.dir(SYSTEMD_BOOTED).file(PID1_COMM, "systemd\n");
    let h = detect(&f);
    assert_eq!(h.init, Init::Systemd);
    assert!(h.systemd_booted);
    assert!(!h.without_systemd());
    assert_eq!(h.alternative(Engine::Docker, None), None);
}

#[test]
fn the_booted_directory_wins_over_pid1s_name() {
    // systemd in a container under a shell-named wrapper still answers sd_booted.
    let f = Fixture::new();
    f.dir(SYSTEMD_BOOTED)
        .file(PID1_COMM, "bash\n")
        .file("/.dockerenv", "");
    assert_eq!(detect(&f).init, Init::Systemd);
}

#[test]
fn nothing_to_tell_by_is_unknown_and_not_called_systemd_less() {
    let h = detect(&Fixture::new());
    assert_eq!(h.init, Init::Unknown);
    assert!(!h.without_systemd());
    assert_eq!(h.pid1_label(), "unknown");
    assert_eq!(h.alternative(Engine::Docker, None), None);
}

#[test]
fn openrc_by_name_and_by_marks() {
    let f = Fixture::new();
    f.file(PID1_COMM, "openrc-init\n");
    let h = detect(&f);
    assert_eq!(h.init, Init::OpenRc);
    assert_eq!(h.pid1_label(), "openrc-init");
    assert!(h.without_systemd());

    // sysvinit's `init` starting OpenRC (Alpine, Gentoo).
    let f = Fixture::new();
    f.file(PID1_COMM, "init\n")
        .file("/etc/inittab", "")
        .dir("/run/openrc");
    assert_eq!(detect(&f).init, Init::OpenRc);
}

#[test]
fn runit_s6_and_sysvinit() {
    let f = Fixture::new();
    f.file(PID1_COMM, "runit\n");
    assert_eq!(detect(&f).init, Init::Runit);
    let f = Fixture::new();
    f.file(PID1_COMM, "init\n").dir("/etc/runit");
    assert_eq!(detect(&f).init, Init::Runit);
    let f = Fixture::new();
    f.file(PID1_COMM, "s6-svscan\n");
    assert_eq!(detect(&f).init, Init::S6);
    let f = Fixture::new();
    f.file(PID1_COMM, "init\n")
        .file("/etc/inittab", "id:2:initdefault:\n");
    assert_eq!(detect(&f).init, Init::SysVinit);
    let f = Fixture::new();
    f.file(PID1_COMM, "init\n");
    assert_eq!(detect(&f).init, Init::Other("init".into()));
}

#[test]
fn a_container_by_pid1_by_marker_and_by_environ() {
    let f = Fixture::new();
    f.file(PID1_COMM, "tini\n");
    let h = detect(&f);
    assert_eq!((h.init, h.container), (Init::Container, None));

    let f = Fixture::new();
    f.file(PID1_COMM, "node\n").file("/.dockerenv", "");
    let h = detect(&f);
    assert_eq!(h.init, Init::Container);
    assert_eq!(h.container.as_deref(), Some("/.dockerenv"));

    let f = Fixture::new();
    f.file(PID1_ENVIRON, "PATH=/bin\0container=podman\0HOME=/\0");
    let h = detect(&f);
    assert_eq!(h.init, Init::Container);
    assert_eq!(h.container.as_deref(), Some("container=podman"));

    // An unknown program as PID 1 outside a container is named, not guessed.
    let f = Fixture::new();
    f.file(PID1_COMM, "myinit\n");
    assert_eq!(detect(&f).init, Init::Other("myinit".into()));
}

#[test]
fn pid1s_program_names_it_when_its_name_is_unreadable() {
    let f = Fixture::new();
    f.symlink(PID1_EXE, "/sbin/openrc-init");
    let h = detect(&f);
    assert_eq!(h.pid1_exe.as_deref(), Some(Path::new("/sbin/openrc-init")));
    assert_eq!(h.pid1_name(), Some("openrc-init"));
    assert_eq!(h.init, Init::OpenRc);
}

#[test]
fn wsl_from_the_kernel() {
    assert_eq!(
        wsl_from_kernel("5.15.153.1-microsoft-standard-WSL2"),
        Some(Wsl::Two)
    );
    assert_eq!(
        wsl_from_kernel("4.19.104-microsoft-standard"),
        Some(Wsl::Two)
    );
    assert_eq!(wsl_from_kernel("4.4.0-19041-Microsoft"), Some(Wsl::One));
    assert_eq!(
        wsl_from_kernel("Linux version 4.4.0-22621-Microsoft (Microsoft@Microsoft.com)"),
        Some(Wsl::One)
    );
    assert_eq!(wsl_from_kernel("6.1.0-13-amd64"), None);
    assert_eq!(wsl_from_kernel(""), None);
}

#[test]
fn wsl_from_the_environment_alone_is_unsure() {
    let f = Fixture::new();
    f.file(OSRELEASE, "6.1.0-13-amd64\n");
    assert_eq!(
        HostInit::detect(&f.host(), Some("Ubuntu")).wsl,
        Some(Wsl::Unsure)
    );
    assert_eq!(HostInit::detect(&f.host(), None).wsl, None);
}

fn wsl2(conf: Option<&str>) -> HostInit {
    let f = Fixture::new();
    f.file(OSRELEASE, "5.15.153.1-microsoft-standard-WSL2\n")
        .file(PID1_COMM, "init\n");
    if let Some(conf) = conf {
        f.file(WSL_CONF, conf);
    }
    detect(&f)
}

#[test]
fn wsl2_without_systemd_is_told_to_turn_it_on_and_restart() {
    let h = wsl2(None);
    assert_eq!((h.init.clone(), h.wsl), (Init::WslInit, Some(Wsl::Two)));
    assert_eq!(h.wsl_conf, WslConf::Absent);
    let alt = h.alternative(Engine::Docker, None).unwrap();
    assert_eq!(
        alt.commands,
        [
            "printf '[boot]\\nsystemd=true\\n' | sudo tee -a /etc/wsl.conf",
            "wsl.exe --shutdown"
        ]
    );
    assert!(
        alt.summary.contains("[boot] systemd=true"),
        "{}",
        alt.summary
    );

    let alt = wsl2(Some("[boot]\nsystemd = false\n"))
        .alternative(Engine::Docker, None)
        .unwrap();
    assert_eq!(
        alt.commands[0],
        "sudo sed -i 's/^[[:space:]]*systemd[[:space:]]*=.*/systemd=true/' /etc/wsl.conf"
    );
    let alt = wsl2(Some("[boot]\ncommand = echo hi\n"))
        .alternative(Engine::Docker, None)
        .unwrap();
    assert_eq!(
        alt.commands[0],
        "sudo sed -i '/^[[:space:]]*\\[boot\\]/a systemd=true' /etc/wsl.conf"
    );
}

#[test]
fn wsl2_with_systemd_set_but_not_booted_only_needs_a_restart() {
    let h = wsl2(Some("[boot]\nsystemd=true\n"));
    assert!(h.without_systemd());
    let alt = h.alternative(Engine::Docker, None).unwrap();
    assert_eq!(alt.commands, ["wsl.exe --shutdown"]);
    assert!(
        alt.summary
            .starts_with("systemd=true is set in /etc/wsl.conf")
    );
}

#[test]
fn wsl1_is_told_it_has_no_user_namespaces() {
    let f = Fixture::new();
    f.file(OSRELEASE, "4.4.0-19041-Microsoft\n")
        .file(PID1_COMM, "init\n");
    let alt = detect(&f).alternative(Engine::Docker, None).unwrap();
    assert!(alt.summary.starts_with("WSL1 has no user namespaces"));
    assert_eq!(alt.commands, ["wsl.exe --set-version DISTRIBUTION 2"]);
}

#[test]
fn without_systemd_the_engine_is_started_by_hand_as_dockers_guide_does() {
    let f = Fixture::new();
    f.file(PID1_COMM, "openrc-init\n");
    let h = detect(&f);
    let alt = h
        .alternative(Engine::Docker, Some(Path::new("/opt/docker bin")))
        .unwrap();
    assert_eq!(
        alt.commands,
        [
            "export XDG_RUNTIME_DIR=\"${XDG_RUNTIME_DIR:-$HOME/.docker/run}\"",
            "mkdir -p -m 0700 \"$XDG_RUNTIME_DIR\"",
            "PATH='/opt/docker bin':/sbin:/usr/sbin:$PATH dockerd-rootless.sh",
            "export DOCKER_HOST=unix://\"$XDG_RUNTIME_DIR/docker.sock\"",
        ]
    );
    assert!(alt.summary.contains("dockerd-rootless.sh"));
    assert_eq!(
        h.alternative(Engine::Podman, None).unwrap().commands[2],
        "podman system service --time=0"
    );
    assert_eq!(
        h.alternative(Engine::Containerd, None).unwrap().commands[2..],
        [
            "PATH=/usr/bin:/sbin:/usr/sbin:$PATH containerd-rootless.sh",
            "export CONTAINERD_ADDRESS=\"$XDG_RUNTIME_DIR/containerd/containerd.sock\""
        ]
    );
}

#[test]
fn wsl_conf_is_read_strictly_and_only_for_boot_systemd() {
    assert_eq!(
        parse_wsl_conf("# c\n[automount]\nsystemd=maybe\n[Boot]\n  systemd = TRUE ; on\n"),
        WslConf::Read {
            boot_section: true,
            systemd: Some(true)
        }
    );
    assert_eq!(
        parse_wsl_conf("[network]\nhostname=x\n"),
        WslConf::Read {
            boot_section: false,
            systemd: None
        }
    );
    assert_eq!(
        parse_wsl_conf("[boot\nsystemd=true\n"),
        WslConf::Malformed("line 1: a section without `]`".into())
    );
    assert_eq!(
        parse_wsl_conf("[boot]\nsystemd\n"),
        WslConf::Malformed("line 2: neither a section nor key=value".into())
    );
    assert_eq!(
        parse_wsl_conf("[boot]\nsystemd=yes\n"),
        WslConf::Malformed("line 2: systemd=yes is neither true nor false".into())
    );
    assert_eq!(WslConf::Malformed("x".into()).to_string(), "malformed: x");
}

#[test]
fn a_hostile_wsl_conf_is_reported_not_read() {
    let f = Fixture::new();
    f.file(OSRELEASE, "5.15.1-microsoft-standard-WSL2\n")
        .file(WSL_CONF, &"#".repeat(70 << 10));
    assert!(matches!(detect(&f).wsl_conf, WslConf::Malformed(why) if why.contains("KiB")));
    let f = Fixture::new();
    f.file(OSRELEASE, "5.15.1-microsoft-standard-WSL2\n")
        .dir(WSL_CONF);
    assert!(
        matches!(detect(&f).wsl_conf, WslConf::Malformed(why) if why.contains("not a regular file"))
    );
}

proptest::proptest! {
    #[test]
    fn wsl_conf_parsing_never_panics(text in "(?s).{0,400}") {
        let _ = parse_wsl_conf(&text);
    }
}

#[test]
fn a_rootful_service_is_stopped_with_the_inits_own_commands() {
    let units = ["docker.service", "docker.socket"];
    assert_eq!(
        Init::OpenRc.disable_service(&units),
        ["sudo rc-service docker stop", "sudo rc-update del docker"]
    );
    assert_eq!(Init::Runit.disable_service(&units), ["sudo sv down docker"]);
    assert_eq!(
        Init::S6.disable_service(&["containerd.service"]),
        ["sudo s6-rc -d change containerd"]
    );
    assert_eq!(
        Init::SysVinit.disable_service(&units),
        [
            "sudo service docker stop",
            "sudo update-rc.d docker disable"
        ]
    );
    assert!(Init::Container.disable_service(&units).is_empty());
    assert!(Init::Systemd.disable_service(&units).is_empty());
}

/// Makes a FIFO at host path `p` (its directory must exist).
fn fifo(f: &Fixture, p: &str) {
    nix::unistd::mkfifo(&f.path(p), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
}

#[test]
fn fifos_and_garbage_where_pid1_and_the_kernel_are_read_neither_hang_nor_count() {
    let f = Fixture::new();
    f.dir("/proc/1").dir("/proc/sys/kernel");
    for p in [PID1_COMM, PID1_ENVIRON, OSRELEASE] {
        fifo(&f, p);
    }
    let h = HostInit::detect(&f.host(), None);
    assert_eq!((h.pid1_comm, h.container, h.wsl), (None, None, None));
    assert_eq!(h.init, Init::Unknown);

    // A name longer than any command name (the kernel keeps 15 bytes) is not believed.
    let f = Fixture::new();
    f.file(PID1_COMM, &"x".repeat(100))
        .file(OSRELEASE, "microsoft-standard\n")
        .dir("/etc");
    fifo(&f, WSL_CONF);
    let h = HostInit::detect(&f.host(), None);
    assert_eq!(h.pid1_comm, None);
    assert!(matches!(h.wsl_conf, WslConf::Malformed(why) if why.contains("not a regular file")));
}

#[test]
fn wsl1_gets_its_advice_even_when_pid1_is_unreadable() {
    let f = Fixture::new();
    f.file(OSRELEASE, "4.4.0-19041-Microsoft\n");
    let h = detect(&f);
    assert_eq!(h.init, Init::WslInit);
    assert!(
        h.alternative(Engine::Docker, None)
            .unwrap()
            .summary
            .starts_with("WSL1")
    );
}
