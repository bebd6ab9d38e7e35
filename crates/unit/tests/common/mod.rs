//! Shared by the integration tests: the configurations of the snapshot and verify matrix, and
//! hosts (what the checker would have found) with binaries at chosen places.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rootless_setup_core::model::Binary;
use rootless_setup_unit::{Discovered, Overrides, Plan, RenderedFile, Settings};

/// Debian 12's `dockerd-rootless.sh` (Docker 20.10) reads these variables only.
pub const DEBIAN_SCRIPT: &str = "DOCKERD_ROOTLESS_ROOTLESSKIT_NET DOCKERD_ROOTLESS_ROOTLESSKIT_MTU \
    DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER --disable-host-loopback";
/// A current `dockerd-rootless.sh` reads all of them.
pub const MODERN_SCRIPT: &str = "DOCKERD_ROOTLESS_ROOTLESSKIT_NET DOCKERD_ROOTLESS_ROOTLESSKIT_MTU \
    DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK \
    DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS";

/// Which engine generation the host has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Debian 12: docker.io 20.10, rootlesskit 1.1, slirp4netns 1.2, script in contrib/.
    Debian,
    /// A current static install in ~/bin: Docker 27, rootlesskit 2.3, pasta and slirp4netns.
    Modern,
}

/// One configuration of the matrix: a name, the config file and the host.
pub struct Case {
    pub name: &'static str,
    pub file: &'static str,
    pub flavour: Flavour,
}

/// The matrix: the five (default, pasta, custom MTU, custom data-root, extra daemon
/// flags) and the other options.
pub const CASES: &[Case] = &[
    Case {
        name: "default",
        file: "",
        flavour: Flavour::Debian,
    },
    Case {
        name: "pasta",
        file: "[network]\ndriver = \"pasta\"\n",
        flavour: Flavour::Modern,
    },
    Case {
        name: "mtu",
        file: "[network]\nmtu = 1500\n",
        flavour: Flavour::Debian,
    },
    Case {
        name: "data-root",
        file: "data-root = \"/srv/docker data/100%\"\n",
        flavour: Flavour::Debian,
    },
    Case {
        name: "daemon-flags",
        file: "daemon-flags = [\"--log-level=warn\", \"--default-ulimit=nofile=1024:2048\", \"--label=note=$HOME is %h; \\\"quoted\\\" \\\\ back\"]\n",
        flavour: Flavour::Debian,
    },
    Case {
        name: "environment",
        file: "[environment]\nHTTPS_PROXY = \"http://proxy.example:3128\"\nNO_PROXY = \"localhost,127.0.0.1\"\nODD = \"50% of $x \\\"y\\\"\\tz\"\n",
        flavour: Flavour::Debian,
    },
    Case {
        name: "modern-options",
        file: "start-timeout = 300\n[network]\ndriver = \"slirp4netns\"\nport-driver = \"slirp4netns\"\nmtu = 65520\nhost-loopback = true\ndetach-netns = true\n",
        flavour: Flavour::Modern,
    },
    Case {
        name: "limits",
        file: "[limits]\nmemory-max = \"2G\"\ncpu-quota = \"150%\"\ntasks-max = 4096\nio-weight = 50\n",
        flavour: Flavour::Debian,
    },
    Case {
        name: "remote-tls",
        file: "[remote]\nexpose = \"tcp://0.0.0.0:2376\"\ntls-dir = \"~/.docker/tls 100%\"\n",
        flavour: Flavour::Debian,
    },
    Case {
        name: "remote-detached-insecure-loopback",
        file: "[remote]\nexpose = \"tcp://[::1]:2375\"\ninsecure-loopback = true\n",
        flavour: Flavour::Modern,
    },
];

fn bin(name: &str, path: PathBuf, version: Option<&str>) -> (String, Binary) {
    (
        name.to_owned(),
        Binary {
            name: name.to_owned(),
            path,
            version: version.map(str::to_owned),
        },
    )
}

/// What the checker would find: the script in `script_dir`, everything else in `bin_dir`.
pub fn host(flavour: Flavour, script_dir: &Path, bin_dir: &Path) -> Discovered {
    let mut binaries = vec![
        bin(
            "dockerd-rootless.sh",
            script_dir.join("dockerd-rootless.sh"),
            None,
        ),
        bin("slirp4netns", bin_dir.join("slirp4netns"), Some("1.2.0")),
    ];
    match flavour {
        Flavour::Debian => binaries.extend([
            bin("dockerd", bin_dir.join("dockerd"), Some("20.10.24+dfsg1")),
            bin("rootlesskit", bin_dir.join("rootlesskit"), Some("1.1.0")),
        ]),
        Flavour::Modern => binaries.extend([
            bin("dockerd", bin_dir.join("dockerd"), Some("27.3.1")),
            bin("rootlesskit", bin_dir.join("rootlesskit"), Some("2.3.1")),
            bin("pasta", bin_dir.join("pasta"), Some("2024_05_23.765eb0b")),
        ]),
    }
    Discovered {
        binaries: binaries.into_iter().collect(),
        newuidmap: Some(bin_dir.join("newuidmap")),
        newgidmap: Some(bin_dir.join("newgidmap")),
        network: None,
        script: Some(
            match flavour {
                Flavour::Debian => DEBIAN_SCRIPT,
                Flavour::Modern => MODERN_SCRIPT,
            }
            .to_owned(),
        ),
        delegated_controllers: Some(["cpu", "io", "memory", "pids"].map(str::to_owned).to_vec()),
    }
}

/// The host as the snapshots show it: Debian's or a ~/bin install's real paths.
pub fn snapshot_host(flavour: Flavour) -> Discovered {
    match flavour {
        Flavour::Debian => host(
            flavour,
            Path::new("/usr/share/docker.io/contrib"),
            Path::new("/usr/bin"),
        ),
        Flavour::Modern => host(flavour, Path::new("/home/u/bin"), Path::new("/home/u/bin")),
    }
}

/// Settings from a config file text (no flags).
pub fn settings(file: &str) -> Settings {
    let mut s = Settings::default();
    s.apply_file(
        Path::new("/home/u/.config/rootless-setup/config.toml"),
        file,
        Path::new("/home/u"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    s.apply_flags(&Overrides::default(), Path::new("/home/u"))
        .unwrap();
    s
}

/// The plan for a case on a host.
pub fn plan(file: &str, found: &Discovered) -> Plan {
    rootless_setup_unit::plan(&settings(file), found).unwrap_or_else(|e| panic!("{e}"))
}

/// The files, as `render` prints them.
pub fn show(files: &[RenderedFile]) -> String {
    files
        .iter()
        .map(|f| format!("==> {} <==\n{}", f.path.display(), f.contents))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A fake program at `path` (an executable shell script doing nothing).
pub fn fake_exe(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Writes `files` (their paths are absolute, inside a temporary tree).
pub fn write(files: &[RenderedFile]) {
    for f in files {
        std::fs::create_dir_all(f.path.parent().unwrap()).unwrap();
        std::fs::write(&f.path, &f.contents).unwrap();
    }
}

/// Debian 13's containerd packages in `bin_dir` (no nerdctl, no `containerd-rootless.sh`).
pub fn containerd_host(bin_dir: &Path) -> Discovered {
    let binaries = [
        bin("containerd", bin_dir.join("containerd"), Some("1.7.24~ds1")),
        bin("ctr", bin_dir.join("ctr"), Some("1.7.24~ds1")),
        bin("runc", bin_dir.join("runc"), Some("1.1.15+ds1")),
        bin("crun", bin_dir.join("crun"), Some("1.21")),
        bin("rootlesskit", bin_dir.join("rootlesskit"), Some("2.3.4")),
        bin("slirp4netns", bin_dir.join("slirp4netns"), Some("1.2.1")),
    ];
    Discovered {
        binaries: binaries.into_iter().collect(),
        newuidmap: Some(bin_dir.join("newuidmap")),
        newgidmap: Some(bin_dir.join("newgidmap")),
        network: None,
        script: None,
        delegated_controllers: Some(vec!["memory".to_owned(), "pids".to_owned()]),
    }
}

/// The containerd configurations of the snapshots: the defaults, and every option that
/// changes the unit.
pub const CONTAINERD_CASES: &[(&str, &str)] = &[
    ("containerd-default", "engine = \"containerd\"\n"),
    (
        "containerd-options",
        "engine = \"containerd\"\ndata-root = \"/srv/containerd data/100%\"\ndaemon-flags = [\"--log-level=debug\"]\nstart-timeout = 120\n[network]\nmtu = 1500\nhost-loopback = true\ndetach-netns = false\n[environment]\nHTTPS_PROXY = \"http://proxy.example:3128\"\n[limits]\nmemory-max = \"80%\"\ntasks-max = \"infinity\"\n",
    ),
];
