//! One description per engine ([`EngineSpec`]): every fact about an engine that the checks, the
//! unit generator and the commands need, kept in one place so that a new engine is a new
//! [`Engine`] variant and one more description. [`Engine::spec`] hands it out.
//!
//! What is not a fact but behaviour that differs per engine (the advice for a missing package,
//! the warning about an overriding variable) still matches on the engine where it is written.

use crate::model::Engine;
use crate::network::auto::{WITH_GVISOR, WITH_PASTA, WITH_PASTA_AND_GVISOR};
use crate::network::{NetDriver, ScriptRelease};

/// What a program the engine needs is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The engine cannot start without it.
    Required,
    /// The command-line client.
    Client,
    /// A helper that only some setups need (`network.driver` and `storage` decide).
    Optional,
}

/// A program `engine.binaries` looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Program {
    /// The file name searched for.
    pub name: &'static str,
    /// What it is for.
    pub role: Role,
    /// Arguments that make it print its version; empty for scripts.
    pub version_args: &'static [&'static str],
}

impl Program {
    /// A program with its role and version arguments (for `const` tables).
    pub const fn new(
        name: &'static str,
        role: Role,
        version_args: &'static [&'static str],
    ) -> Self {
        Program {
            name,
            role,
            version_args,
        }
    }
}

/// How the generated unit starts the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// `ExecStart=` runs the engine's rootless script
    /// ([`rootless_script`](EngineSpec::rootless_script)), which must be installed; the unit's
    /// drop-in sets the variables the script reads.
    Script,
    /// The unit runs rootlesskit itself with the rootless script's steps written into it, so
    /// the script is not needed (nerdctl's `containerd-rootless.sh`, which no distribution
    /// packages apart from nerdctl).
    Steps {
        /// The release of the script whose steps the unit follows (its `x.y.z`).
        release: [u64; 3],
        /// The network drivers that release tries, in order, when none is configured.
        order: &'static [NetDriver],
        /// rootlesskit's `--state-dir` under `$XDG_RUNTIME_DIR`.
        state_dir: &'static str,
    },
}

/// Everything that differs between engines as plain data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineSpec {
    /// Lowercase name (`--engine`, the JSON, the rootful daemon's name in messages).
    pub name: &'static str,
    /// The script that starts the engine under rootlesskit.
    pub rootless_script: &'static str,
    /// Whether the unit runs that script or its steps.
    pub launch: Launch,
    /// The upstream tool that installed the rootless engine before rootless-setup.
    pub old_setuptool: &'static str,
    /// The systemd user unit the rootless engine runs as.
    pub unit: &'static str,
    /// The engine's own programs and scripts, in the order they are reported.
    pub programs: &'static [Program],
    /// The program whose version says which release of the rootless script is installed (and
    /// so the order the automatic network choice follows).
    pub script_version_program: &'static str,
    /// The script's releases that changed the order of network drivers it tries, newest first
    /// (by [`script_version_program`](Self::script_version_program)'s version).
    pub script_releases: &'static [ScriptRelease],
    /// The rootful daemon's sockets, in the order `engine.rootful` looks at them.
    pub rootful_sockets: &'static [&'static str],
    /// The rootful daemon's system units, as `systemctl disable --now` takes them.
    pub rootful_units: &'static [&'static str],
    /// The variable the client reads for the daemon's address.
    pub address_variable: &'static str,
    /// The variables that take precedence over what install sets up for the client.
    pub client_variables: &'static [&'static str],
    /// The rootless API socket under `$XDG_RUNTIME_DIR`, when the host can reach it there
    /// (containerd's `/run/containerd/containerd.sock` inside rootlesskit's mount namespace is
    /// `$XDG_RUNTIME_DIR/containerd/containerd.sock`, bind-mounted there).
    pub api_socket: Option<&'static str>,
    /// What goes before the socket's path in [`address_variable`](Self::address_variable):
    /// `unix://` for `DOCKER_HOST`, nothing for `CONTAINERD_ADDRESS` (a plain path).
    pub address_scheme: &'static str,
    /// The docker CLI context install creates and selects for the engine, when the docker CLI
    /// can talk to it.
    pub docker_context: Option<&'static str>,
    /// What exists under `$XDG_RUNTIME_DIR` while the rootless engine runs.
    pub running_marker: &'static str,
    /// The data directory's name under `$XDG_DATA_HOME` without `--data-root`.
    pub data_dir: &'static str,
    /// The storage driver (Docker) or snapshotter (containerd) on kernel overlayfs.
    pub overlay_driver: &'static str,
    /// The storage driver or snapshotter that copies (`vfs`, containerd's `native`).
    pub copy_driver: &'static str,
}

/// `--version`, for the programs that take it.
const V: &[&str] = &["--version"];

/// Rootless Docker as Debian's `docker.io` and Docker's `docker-ce-rootless-extras` ship it.
const DOCKER: EngineSpec = EngineSpec {
    name: "docker",
    rootless_script: "dockerd-rootless.sh",
    launch: Launch::Script,
    old_setuptool: "dockerd-rootless-setuptool.sh",
    unit: "docker.service",
    programs: &[
        Program::new("dockerd", Role::Required, V),
        Program::new("dockerd-rootless.sh", Role::Required, &[]),
        Program::new("rootlesskit", Role::Required, V),
        Program::new("containerd", Role::Required, V),
        Program::new("runc", Role::Required, V),
        Program::new("docker", Role::Client, V),
        Program::new("rootlesskit-docker-proxy", Role::Optional, &[]),
        Program::new("dockerd-rootless-setuptool.sh", Role::Optional, &[]),
    ],
    script_version_program: "dockerd",
    script_releases: &[
        ([29, 5, 0], WITH_PASTA_AND_GVISOR),
        ([28, 5, 2], WITH_PASTA),
    ],
    rootful_sockets: &["/run/docker.sock", "/var/run/docker.sock"],
    rootful_units: &["docker.service", "docker.socket"],
    address_variable: "DOCKER_HOST",
    client_variables: &["DOCKER_HOST", "DOCKER_CONTEXT"],
    api_socket: Some("docker.sock"),
    address_scheme: "unix://",
    docker_context: Some("rootless"),
    running_marker: "docker.sock",
    data_dir: "docker",
    overlay_driver: "overlay2",
    copy_driver: "vfs",
};

/// Rootless containerd as nerdctl's `containerd-rootless.sh` runs it, its steps written into the
/// unit: Debian packages containerd and its `ctr` client, not nerdctl or the script.
const CONTAINERD: EngineSpec = EngineSpec {
    name: "containerd",
    rootless_script: "containerd-rootless.sh",
    // nerdctl v2.3.0 and later (extras/rootless/containerd-rootless.sh as of commit 97dbdc7f,
    // "Update RootlessKit (3.1.0)"): docs/unit.md lists the steps.
    launch: Launch::Steps {
        release: [2, 3, 0],
        order: WITH_GVISOR,
        state_dir: "containerd-rootless",
    },
    old_setuptool: "containerd-rootless-setuptool.sh",
    unit: "containerd.service",
    programs: &[
        Program::new("containerd", Role::Required, V),
        Program::new("rootlesskit", Role::Required, V),
        Program::new("runc", Role::Required, V),
        Program::new("ctr", Role::Client, V),
        // Where the unit's cgroup has no controllers, the steps make it containerd's runc.
        Program::new("crun", Role::Optional, V),
        Program::new("nerdctl", Role::Optional, V),
        Program::new("containerd-rootless.sh", Role::Optional, &[]),
        Program::new("containerd-rootless-setuptool.sh", Role::Optional, &[]),
    ],
    script_version_program: "nerdctl",
    // The unit runs the steps of one release ([`Launch::Steps`]), so no installed release's
    // order matters.
    script_releases: &[],
    rootful_sockets: &[
        "/run/containerd/containerd.sock",
        "/var/run/containerd/containerd.sock",
    ],
    rootful_units: &["containerd.service"],
    address_variable: "CONTAINERD_ADDRESS",
    client_variables: &["CONTAINERD_ADDRESS"],
    api_socket: Some("containerd/containerd.sock"),
    address_scheme: "",
    docker_context: None,
    running_marker: "containerd-rootless/child_pid",
    data_dir: "containerd",
    overlay_driver: "overlayfs",
    copy_driver: "native",
};

impl Engine {
    /// Every engine, in the order `--engine` lists them.
    pub const ALL: [Engine; 2] = [Engine::Docker, Engine::Containerd];

    /// This engine's description.
    pub const fn spec(self) -> &'static EngineSpec {
        match self {
            Engine::Docker => &DOCKER,
            Engine::Containerd => &CONTAINERD,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn names_differ_between_engines() {
        let mut seen: Vec<(Engine, &str)> = Vec::new();
        for engine in Engine::ALL {
            let s = engine.spec();
            let own = [
                s.name,
                s.rootless_script,
                s.old_setuptool,
                s.unit,
                s.running_marker,
                s.data_dir,
            ];
            for name in own.into_iter().chain(s.rootful_sockets.iter().copied()) {
                if let Some((other, _)) = seen.iter().find(|(e, n)| *e != engine && *n == name) {
                    panic!("{name} is claimed by {other:?} and {engine:?}");
                }
                seen.push((engine, name));
            }
        }
    }

    #[test]
    fn each_description_is_consistent() {
        for engine in Engine::ALL {
            let s = engine.spec();
            let find = |name: &str| s.programs.iter().find(|p| p.name == name);
            assert_eq!(s.name, engine.as_str());
            let script_role = match s.launch {
                Launch::Script => Role::Required,
                Launch::Steps { .. } => Role::Optional,
            };
            assert_eq!(
                find(s.rootless_script).map(|p| p.role),
                Some(script_role),
                "{} needs its rootless script exactly when the unit runs it",
                s.name
            );
            if let Launch::Steps {
                order, state_dir, ..
            } = s.launch
            {
                assert!(!order.is_empty());
                assert!(!state_dir.contains('/'));
                assert!(s.running_marker.starts_with(&format!("{state_dir}/")));
            }
            assert!(find(s.rootless_script).is_some_and(|p| p.version_args.is_empty()));
            assert_eq!(find(s.old_setuptool).map(|p| p.role), Some(Role::Optional));
            assert_eq!(find("rootlesskit").map(|p| p.role), Some(Role::Required));
            assert_eq!(
                s.programs.iter().filter(|p| p.role == Role::Client).count(),
                1
            );
            assert!(s.client_variables.contains(&s.address_variable));
            assert!(
                s.rootful_units.contains(&s.unit),
                "the rootful unit shares the name"
            );
            assert!(s.rootful_sockets.iter().all(|p| p.starts_with('/')));
            assert!(!s.data_dir.contains('/') && !s.running_marker.starts_with('/'));
            assert!(s.api_socket.is_none_or(|a| !a.starts_with('/')));
            assert!(
                s.docker_context.is_none() || s.api_socket.is_some(),
                "a docker CLI context needs a socket on the host to point at"
            );
            assert!(s.address_scheme.is_empty() || s.address_scheme.ends_with("://"));
            let names: BTreeSet<_> = s.programs.iter().map(|p| p.name).collect();
            assert_eq!(names.len(), s.programs.len(), "a program listed twice");
        }
    }

    fn client(spec: &EngineSpec) -> Option<&'static str> {
        let mut clients = spec.programs.iter().filter(|p| p.role == Role::Client);
        let client = clients.next().map(|p| p.name);
        assert!(clients.next().is_none(), "one client");
        client
    }

    /// What Debian's docker.io ships: `/usr/share/docker.io/contrib/dockerd-rootless.sh`, the
    /// unit the setuptool writes, the API socket the docker CLI's rootless context points at.
    #[test]
    fn docker_is_what_debian_ships() {
        let s = Engine::Docker.spec();
        assert_eq!(s.rootless_script, "dockerd-rootless.sh");
        assert_eq!(s.old_setuptool, "dockerd-rootless-setuptool.sh");
        assert_eq!(s.unit, "docker.service");
        assert_eq!(s.api_socket, Some("docker.sock"));
        assert_eq!(s.docker_context, Some("rootless"));
        assert_eq!(client(s), Some("docker"));
        assert_eq!(s.script_version_program, "dockerd");
        assert_eq!(s.rootful_units, ["docker.service", "docker.socket"]);
        assert_eq!(s.launch, Launch::Script);
        assert_eq!(s.address_scheme, "unix://");
    }

    /// What Debian packages for containerd (containerd and its `ctr`, no nerdctl), and the
    /// steps of nerdctl's `containerd-rootless.sh` the unit runs instead of the script.
    #[test]
    fn containerd_runs_the_scripts_steps_with_the_packaged_client() {
        let s = Engine::Containerd.spec();
        assert_eq!(client(s), Some("ctr"));
        let role = |name: &str| s.programs.iter().find(|p| p.name == name).map(|p| p.role);
        assert_eq!(role("nerdctl"), Some(Role::Optional));
        assert_eq!(role("containerd-rootless.sh"), Some(Role::Optional));
        assert_eq!(role("containerd"), Some(Role::Required));
        assert_eq!(
            s.launch,
            Launch::Steps {
                release: [2, 3, 0],
                order: &[
                    NetDriver::Slirp4netns,
                    NetDriver::Vpnkit,
                    NetDriver::GvisorTapVsock
                ],
                state_dir: "containerd-rootless",
            }
        );
        assert_eq!(s.api_socket, Some("containerd/containerd.sock"));
        assert_eq!(s.address_scheme, "");
        assert_eq!(s.docker_context, None);
    }
}
