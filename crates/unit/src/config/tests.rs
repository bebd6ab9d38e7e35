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
      allowed: `engine`, `data-root`, `daemon-flags` or `start-timeout`, and the tables `network`, `environment` or `binaries`
    ");
}

#[test]
fn unknown_key_without_a_near_miss() {
    insta::assert_snapshot!(errors("\n\nlinger = true\n"), @r"
    /home/u/.config/rootless-setup/config.toml:3:1: unknown key `linger`
      allowed: `engine`, `data-root`, `daemon-flags` or `start-timeout`, and the tables `network`, `environment` or `binaries`
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
