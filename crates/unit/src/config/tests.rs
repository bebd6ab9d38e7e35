//! Configuration tests: merging order, every key's checks, and snapshots of the messages a
//! person sees for a bad file or flag.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rootless_setup_core::Engine;
use rootless_setup_core::network::NetDriver;

use super::*;
use crate::drivers::PortDriver;

const FILE: &str = "/home/u/.config/rootless-setup/config.toml";
const HOME: &str = "/home/u";

fn from_file(text: &str) -> Result<Settings, ConfigErrors> {
    let mut s = Settings::default();
    s.apply_file(Path::new(FILE), text, Path::new(HOME))?;
    Ok(s)
}

fn errors(text: &str) -> String {
    match from_file(text) {
        Ok(s) => panic!("expected errors, got {s:?}"),
        Err(e) => e.to_string(),
    }
}

fn flag_errors(flags: &Overrides) -> String {
    match Settings::default().apply_flags(flags, Path::new(HOME)) {
        Ok(()) => panic!("expected errors"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults() {
    let s = Settings::default();
    assert_eq!(s.engine.value, Engine::Docker);
    assert_eq!(s.start_timeout.value, 90);
    assert!(!s.host_loopback.value);
    assert_eq!(s.network_driver, None);
    assert_eq!(s.engine.origin, Origin::Default);
}

#[test]
fn a_full_file_is_read_with_origins() {
    let s = from_file(
        r#"engine = "docker"
data-root = "~/docker data"
daemon-flags = ["--log-level=warn", "--experimental"]
start-timeout = 120

[network]
driver = "pasta"
port-driver = "implicit"
mtu = 1500
host-loopback = true
detach-netns = false

[environment]
HTTPS_PROXY = "http://proxy.example:3128"

[binaries]
dockerd-rootless = "/opt/docker/dockerd-rootless.sh"
"#,
    )
    .unwrap();
    assert_eq!(
        s.data_root.as_ref().map(|d| d.value.clone()),
        Some(PathBuf::from("/home/u/docker data"))
    );
    assert_eq!(
        s.daemon_flags
            .iter()
            .map(|f| f.value.as_str())
            .collect::<Vec<_>>(),
        ["--log-level=warn", "--experimental"]
    );
    assert_eq!(s.start_timeout.value, 120);
    assert_eq!(
        s.network_driver.as_ref().map(|d| d.value),
        Some(NetDriver::Pasta)
    );
    assert_eq!(
        s.port_driver.as_ref().map(|d| d.value),
        Some(PortDriver::Implicit)
    );
    assert_eq!(s.mtu.as_ref().map(|m| m.value), Some(1500));
    assert!(s.host_loopback.value);
    assert_eq!(s.detach_netns.as_ref().map(|d| d.value), Some(false));
    assert_eq!(
        s.environment["HTTPS_PROXY"].value,
        "http://proxy.example:3128"
    );
    assert_eq!(
        s.binaries["dockerd-rootless"].value,
        PathBuf::from("/opt/docker/dockerd-rootless.sh")
    );
    // Origins point at the value: `mtu = 1500` is line 9, the value at column 7.
    assert_eq!(
        s.mtu.map(|m| m.origin),
        Some(Origin::File {
            path: FILE.into(),
            line: 9,
            column: 7
        })
    );
    assert_eq!(
        s.daemon_flags[1].origin,
        Origin::File {
            path: FILE.into(),
            line: 3,
            column: 37
        }
    );
}

#[test]
fn flags_override_the_file() {
    let mut s = from_file("start-timeout = 30\ndaemon-flags = [\"--debug\"]\n[network]\nmtu = 1500\n[environment]\nA = \"file\"\nB = \"file\"\n").unwrap();
    s.apply_flags(
        &Overrides {
            mtu: Some("9000".into()),
            daemon_flags: vec!["--experimental".into()],
            environment: vec!["A=flag=with=equals".into()],
            host_loopback: Some("true".into()),
            ..Overrides::default()
        },
        Path::new(HOME),
    )
    .unwrap();
    assert_eq!(
        s.mtu.as_ref().map(|m| (m.value, m.origin.clone())),
        Some((9000, Origin::Flag("--mtu".into())))
    );
    assert_eq!(s.start_timeout.value, 30);
    assert_eq!(
        s.daemon_flags
            .iter()
            .map(|f| f.value.as_str())
            .collect::<Vec<_>>(),
        ["--experimental"]
    );
    assert_eq!(s.environment["A"].value, "flag=with=equals");
    assert_eq!(s.environment["B"].value, "file");
    assert!(s.host_loopback.value);
}

#[test]
fn load_reads_the_default_file_only_when_present() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("config.toml");
    let s = Settings::load(
        &ConfigSource::Default(missing.clone()),
        &Overrides::default(),
        dir.path(),
    )
    .unwrap();
    assert_eq!(s, Settings::default());
    let err = Settings::load(
        &ConfigSource::Explicit(missing.clone()),
        &Overrides::default(),
        dir.path(),
    )
    .unwrap_err();
    assert!(matches!(err, LoadError::Read(_)), "{err}");
    std::fs::write(&missing, "[network]\nmtu = 9000\n").unwrap();
    let s = Settings::load(
        &ConfigSource::Explicit(missing),
        &Overrides {
            mtu: Some("1500".into()),
            ..Overrides::default()
        },
        dir.path(),
    )
    .unwrap();
    assert_eq!(s.mtu.map(|m| m.value), Some(1500));
}

#[test]
fn default_path_follows_xdg() {
    let home = Path::new(HOME);
    assert_eq!(
        default_config_path(None, home),
        PathBuf::from("/home/u/.config/rootless-setup/config.toml")
    );
    assert_eq!(
        default_config_path(Some("/x/cfg"), home),
        PathBuf::from("/x/cfg/rootless-setup/config.toml")
    );
    // A relative XDG_CONFIG_HOME is invalid per the spec and ignored.
    assert_eq!(
        default_config_path(Some("cfg"), home),
        PathBuf::from("/home/u/.config/rootless-setup/config.toml")
    );
}

#[test]
fn typo_in_a_key() {
    insta::assert_snapshot!(errors("[network]\ndrvier = \"pasta\"\n"), @r"
    /home/u/.config/rootless-setup/config.toml:2:1: unknown key `network.drvier`
      did you mean `network.driver`?
      allowed: in [network]: `driver`, `port-driver`, `mtu`, `host-loopback` or `detach-netns`
    ");
}

#[test]
fn key_in_the_wrong_table() {
    insta::assert_snapshot!(errors("mtu = 1500\n"), @r"
    /home/u/.config/rootless-setup/config.toml:1:1: unknown key `mtu`
      did you mean `network.mtu`?
      allowed: `engine`, `data-root`, `daemon-flags` or `start-timeout`, and the tables `network`, `remote`, `limits`, `environment` or `binaries`
    ");
}

#[test]
fn unknown_key_without_a_near_miss() {
    insta::assert_snapshot!(errors("\n\nlinger = true\n"), @r"
    /home/u/.config/rootless-setup/config.toml:3:1: unknown key `linger`
      allowed: `engine`, `data-root`, `daemon-flags` or `start-timeout`, and the tables `network`, `remote`, `limits`, `environment` or `binaries`
    ");
}

#[test]
fn bad_values_all_reported_in_file_order() {
    insta::assert_snapshot!(errors(r#"engine = "lxd"
start-timeout = 0
[network]
driver = "slirp"
mtu = 70000
host-loopback = "yes"
port-driver = 3
"#), @r"
    /home/u/.config/rootless-setup/config.toml:1:10: `engine` cannot be `lxd`
      allowed: `docker`, `podman` or `containerd`
    /home/u/.config/rootless-setup/config.toml:2:17: `start-timeout` = 0 is out of range (0 would let a start hang forever)
      allowed: whole seconds from 5 to 3600
    /home/u/.config/rootless-setup/config.toml:4:10: `network.driver` cannot be `slirp`
      allowed: `slirp4netns`, `pasta`, `gvisor-tap-vsock`, `vpnkit` or `lxc-user-nic`
    /home/u/.config/rootless-setup/config.toml:5:7: `network.mtu` = 70000 is out of range
      allowed: a whole number from 1280 to 65520
    /home/u/.config/rootless-setup/config.toml:6:17: `network.host-loopback` must be `true` or `false`, not a string
      allowed: `true` or `false`
    /home/u/.config/rootless-setup/config.toml:7:15: `network.port-driver` must be a string, not an integer
      allowed: `builtin`, `slirp4netns`, `implicit` or `gvisor-tap-vsock`, fitting the network driver
    ");
}

#[test]
fn misspelt_value_gets_a_suggestion() {
    insta::assert_snapshot!(errors("[network]\ndriver = \"slirp4nets\"\n"), @r"
    /home/u/.config/rootless-setup/config.toml:2:10: `network.driver` cannot be `slirp4nets`
      did you mean `slirp4netns`?
      allowed: `slirp4netns`, `pasta`, `gvisor-tap-vsock`, `vpnkit` or `lxc-user-nic`
    ");
}

#[test]
fn not_toml_at_all() {
    insta::assert_snapshot!(
        errors("[network\nmtu = 1\n"),
        @"/home/u/.config/rootless-setup/config.toml:1:9: not valid TOML: unclosed table, expected `]`"
    );
}

#[test]
fn paths_environment_and_flags() {
    insta::assert_snapshot!(errors(r#"data-root = "relative/dir"
daemon-flags = ["--data-root=/x", ""]
[environment]
PATH = "/evil"
"1BAD" = "x"
NEWLINE = "a\nb"
COUNT = 3
[binaries]
dockerd-rootles = "/usr/bin/dockerd-rootless.sh"
rootlesskit = "/opt/it's/rootlesskit"
dockerd-rootless = "/opt/it's/dockerd-rootless.sh"
"#), @r#"
    /home/u/.config/rootless-setup/config.toml:1:13: `data-root` = `relative/dir` is not an absolute path
      allowed: an absolute path, or one starting with `~/`
    /home/u/.config/rootless-setup/config.toml:2:17: the data directory is not a daemon flag here
      allowed: set `data-root` (or `--data-root`) instead
    /home/u/.config/rootless-setup/config.toml:4:8: `PATH` is managed by rootless-setup
      allowed: any other variable; it is built from the directories of the discovered binaries
    /home/u/.config/rootless-setup/config.toml:5:10: `1BAD` is not a valid environment variable name (letters, digits and `_`, not starting with a digit)
      allowed: string values; names of letters, digits and `_`
    /home/u/.config/rootless-setup/config.toml:6:11: the value of `NEWLINE` contains the control character '\n', which a unit file cannot carry
      allowed: string values; names of letters, digits and `_`
    /home/u/.config/rootless-setup/config.toml:7:9: `environment.COUNT` must be a string, not an integer
      allowed: string values (quote numbers and booleans)
    /home/u/.config/rootless-setup/config.toml:9:1: unknown key `binaries.dockerd-rootles`
      did you mean `dockerd-rootless`?
      allowed: `dockerd-rootless`, `dockerd`, `containerd`, `rootlesskit`, `crun`, `slirp4netns`, `pasta`, `vpnkit` or `lxc-user-nic`
    /home/u/.config/rootless-setup/config.toml:11:20: `binaries.dockerd-rootless` = `/opt/it's/dockerd-rootless.sh` contains '\'', which systemd refuses in a program path
    "#);
}

#[test]
fn flag_messages_name_the_flag() {
    insta::assert_snapshot!(flag_errors(&Overrides {
        network_driver: Some("pastaa".into()),
        mtu: Some("big".into()),
        start_timeout: Some("infinity".into()),
        detach_netns: Some("yes".into()),
        environment: vec!["NOVALUE".into()],
        daemon_flags: vec!["--debug".into(), "a\u{1}".into()],
        ..Overrides::default()
    }), @r"
    --network-driver: `network.driver` cannot be `pastaa`
      did you mean `pasta`?
      allowed: `slirp4netns`, `pasta`, `gvisor-tap-vsock`, `vpnkit` or `lxc-user-nic`
    --mtu: `network.mtu` must be a whole number, not `big`
      allowed: a whole number from 1280 to 65520
    --detach-netns: `network.detach-netns` must be true or false, not `yes`
      allowed: `true` or `false`
    --start-timeout: `start-timeout` = infinity would let a start hang forever
      allowed: whole seconds from 5 to 3600
    --daemon-flag: daemon flag `a\u{1}` contains the control character '\u{1}', which a unit file cannot carry
      allowed: a list of non-empty strings, one dockerd argument each
    --env: `--env NOVALUE` has no `=`
      allowed: `--env NAME=VALUE`
    ");
}

#[test]
fn every_key_is_documented() {
    let doc = include_str!("../../../../docs/config.md");
    for key in KEYS {
        assert!(
            doc.contains(&format!("`{}`", key.name)),
            "docs/config.md does not mention `{}`",
            key.name
        );
    }
}

proptest! {
    /// The reader survives any text: it returns settings or errors, and every error carries a
    /// file position inside the text.
    #[test]
    fn any_text_is_an_answer(text in any::<String>()) {
        if let Err(errors) = from_file(&text) {
            for e in errors.0 {
                match e.origin {
                    Origin::File { line, .. } => prop_assert!(line <= text.lines().count() + 1),
                    other => prop_assert!(false, "origin {other:?}"),
                }
            }
        }
    }

    #[test]
    fn any_toml_shaped_text_is_an_answer(lines in proptest::collection::vec("(\\[[a-z]{0,8}\\]|[a-z-]{1,12} = (\"[^\"\\\\\n]{0,10}\"|-?[0-9]{1,6}|true|\\[\\]))", 0..8)) {
        let _ = from_file(&lines.join("\n"));
    }
}

fn check_errors(text: &str) -> String {
    let s = from_file(text).unwrap_or_else(|e| panic!("{e}"));
    match s.check() {
        Ok(()) => panic!("expected errors, got {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn remote_keys_are_read_with_origins() {
    let s = from_file(
        "[remote]\nexpose = \"tcp://localhost:2376\"\ntls-dir = \"~/.docker/tls\"\ninsecure-loopback = false\n",
    )
    .unwrap();
    let expose = s.expose.as_ref().unwrap();
    assert_eq!(expose.value.to_string(), "tcp://127.0.0.1:2376");
    assert_eq!(
        expose.origin,
        Origin::File {
            path: PathBuf::from(FILE),
            line: 2,
            column: 10
        }
    );
    assert_eq!(
        s.tls_dir.as_ref().unwrap().value,
        PathBuf::from("/home/u/.docker/tls")
    );
    assert!(!s.insecure_loopback.value);
    assert_eq!(s.check(), Ok(()));
    let mut s = Settings::default();
    s.apply_flags(
        &Overrides {
            expose: Some("tcp://127.0.0.1:2375".into()),
            insecure_loopback: Some("true".into()),
            ..Overrides::default()
        },
        Path::new(HOME),
    )
    .unwrap();
    assert_eq!(
        s.expose.as_ref().unwrap().origin,
        Origin::Flag("--expose".into())
    );
    assert_eq!(s.check(), Ok(()));
}

#[test]
fn hostile_remote_values_are_refused_where_they_stand() {
    insta::assert_snapshot!(errors(concat!(
        "[remote]\n",
        "expose = \"tcp://127.0.0.1:2376\\nExecStartPre=/bin/sh\"\n",
        "tls-dir = \"certs\"\n",
        "insecure-loopback = \"yes\"\n",
        "exposed = 1\n",
    )), @r"
    /home/u/.config/rootless-setup/config.toml:2:10: `remote.expose` = `tcp://127.0.0.1:2376\nExecStartPre=/bin/sh` needs a port of digits only, from 1 to 65535
      allowed: `tcp://ADDRESS:PORT`: an IPv4 address, `[IPv6]` or `localhost`, port 1 to 65535 (Docker only)
    /home/u/.config/rootless-setup/config.toml:3:11: `remote.tls-dir` = `certs` is not an absolute path
      allowed: an absolute path, or one starting with `~/`, holding `ca.pem`, `server-cert.pem` and `server-key.pem`
    /home/u/.config/rootless-setup/config.toml:4:21: `remote.insecure-loopback` must be `true` or `false`, not a string
      allowed: `true` or `false`; `true` allows `remote.expose` without TLS on a loopback address only
    /home/u/.config/rootless-setup/config.toml:5:1: unknown key `remote.exposed`
      did you mean `remote.expose`?
      allowed: in [remote]: `expose`, `tls-dir` or `insecure-loopback`
    ");
    for hostile in [
        "tcp://127.0.0.1 :2376",
        "tcp://$HOST:2376",
        "tcp://[fe80::1%eth0]:2376",
        "tcp://127.0.0.1:2376%",
    ] {
        let text = format!("[remote]\nexpose = \"{hostile}\"\n");
        assert!(
            errors(&text).starts_with(&format!("{FILE}:2:10: `remote.expose` = `")),
            "{hostile}"
        );
    }
}

#[test]
fn tcp_without_tls_is_refused_but_on_loopback_by_name() {
    insta::assert_snapshot!(check_errors("[remote]\nexpose = \"tcp://0.0.0.0:2375\"\ninsecure-loopback = true\n"), @r"
    /home/u/.config/rootless-setup/config.toml:3:21: `tcp://0.0.0.0:2375` without TLS would hand the engine, and everything this user can reach, to anyone on the network
      help: set `remote.tls-dir` (`--tls-dir DIR` with ca.pem, server-cert.pem and server-key.pem; docs/remote.md shows how to make them), or use ssh (`DOCKER_HOST=ssh://USER@HOST`)
    ");
    insta::assert_snapshot!(check_errors("[remote]\nexpose = \"tcp://[::]:2375\"\n"), @r"
    /home/u/.config/rootless-setup/config.toml:2:10: `tcp://[::]:2375` without TLS would hand the engine, and everything this user can reach, to anyone on the network
      help: set `remote.tls-dir` (`--tls-dir DIR` with ca.pem, server-cert.pem and server-key.pem; docs/remote.md shows how to make them), or use ssh (`DOCKER_HOST=ssh://USER@HOST`)
    ");
    insta::assert_snapshot!(check_errors("[remote]\nexpose = \"tcp://192.0.2.1:2375\"\n"), @r"
    /home/u/.config/rootless-setup/config.toml:2:10: `tcp://192.0.2.1:2375` without TLS would let anyone who reaches that address run containers as this user
      help: set `remote.tls-dir` (`--tls-dir DIR` with ca.pem, server-cert.pem and server-key.pem; docs/remote.md shows how to make them), or use ssh (`DOCKER_HOST=ssh://USER@HOST`)
    ");
    insta::assert_snapshot!(check_errors("[remote]\nexpose = \"tcp://127.0.0.1:2375\"\n"), @r"
    /home/u/.config/rootless-setup/config.toml:2:10: `tcp://127.0.0.1:2375` without TLS lets every local user (and every process) run containers as this user
      help: set `remote.tls-dir` (`--tls-dir DIR`, see docs/remote.md), or accept a plain loopback socket with `remote.insecure-loopback = true` (`--insecure-loopback`)
    ");
    insta::assert_snapshot!(check_errors("[remote]\ntls-dir = \"/certs\"\n"), @r"
    /home/u/.config/rootless-setup/config.toml:2:11: `remote.tls-dir` is set but `remote.expose` is not
      help: set `remote.expose` (`--expose tcp://ADDRESS:2376`), or remove `remote.tls-dir`
    ");
    insta::assert_snapshot!(check_errors("engine = \"podman\"\n[remote]\nexpose = \"tcp://127.0.0.1:2376\"\ntls-dir = \"/certs\"\n"), @r"
    /home/u/.config/rootless-setup/config.toml:3:10: `remote.expose` is for Docker only: podman is not exposed over TCP by rootless-setup
      help: Podman's API stays on its unix socket; reach it over ssh (`podman --url ssh://USER@HOST/run/user/UID/podman/podman.sock`, or `DOCKER_HOST=ssh://USER@HOST`), see docs/remote.md
    ");
}

#[test]
fn the_exposures_variable_and_flags_are_managed() {
    insta::assert_snapshot!(errors(concat!(
        "daemon-flags = [\"--log-level=warn\", \"-H\", \"tcp://0.0.0.0:2375\"]\n",
        "[environment]\n",
        "DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS = \"-p 0.0.0.0:2375:2375/tcp\"\n",
    )), @r"
    /home/u/.config/rootless-setup/config.toml:1:37: daemon flag `-H` is managed by rootless-setup
      allowed: set `remote.expose` and `remote.tls-dir` (`--expose`, `--tls-dir`) instead
    /home/u/.config/rootless-setup/config.toml:3:38: `DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS` is managed by rootless-setup
      allowed: any other variable; it carries the port forward of `remote.expose`
    ");
}

#[test]
fn limits_are_read_in_systemds_syntax_and_hostile_values_refused() {
    let s =
        from_file("[limits]\nmemory-max = \"2G\"\ntasks-max = 512\nio-weight = \"100\"\n").unwrap();
    let lines: Vec<String> = s.limits.values().map(|l| l.value.line()).collect();
    assert_eq!(lines, ["IOWeight=100", "MemoryMax=2G", "TasksMax=512"]);
    insta::assert_snapshot!(errors(concat!(
        "[limits]\n",
        "memory-max = \"2G\\nExecStartPre=/bin/sh\"\n",
        "cpu-quota = 50\n",
        "io-weight = true\n",
        "memory = \"1G\"\n",
    )), @r"
    /home/u/.config/rootless-setup/config.toml:2:14: `limits.memory-max` cannot be `2G\nExecStartPre=/bin/sh`
      allowed: bytes with an optional `K`, `M`, `G` or `T` (1024-based), a percentage of the host's memory (`1%` to `100%`), or `infinity`
    /home/u/.config/rootless-setup/config.toml:3:13: `limits.cpu-quota` cannot be `50`
      allowed: a whole percentage of one CPU, `1%` to `100000%` (`200%` is two CPUs)
    /home/u/.config/rootless-setup/config.toml:4:13: `limits.io-weight` must be a string or a whole number, not a boolean
      allowed: a whole number from 1 to 10000 (100 is the default weight)
    /home/u/.config/rootless-setup/config.toml:5:1: unknown key `limits.memory`
      allowed: in [limits]: `memory-max`, `cpu-quota`, `tasks-max` or `io-weight`
    ");
}
