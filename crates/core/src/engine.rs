//! One description per engine ([`EngineSpec`]): every fact about an engine that the checks, the
//! unit generator and the commands need, kept in one place so that a new engine is a new
//! [`Engine`] variant and one more description. [`Engine::spec`] hands it out.
//!
//! What is not a fact but behaviour that differs per engine (the advice for a missing package,
//! the warning about an overriding variable) still matches on the engine where it is written.

use crate::model::Engine;
use crate::network::ScriptRelease;
use crate::network::auto::{WITH_GVISOR, WITH_PASTA, WITH_PASTA_AND_GVISOR};

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

/// A namespace of the running engine that `rootless-setup enter` joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// The user namespace, where the caller's uid is mapped to 0 (joined first: it grants the
    /// rights to join the others).
    User,
    /// The mount namespace (rootlesskit's copied-up `/etc` and `/run`, the engine's bind mounts).
    Mount,
    /// The network namespace (rootlesskit's `tap0` behind slirp4netns or pasta).
    Net,
}

impl Namespace {
    /// Its file's name under `/proc/PID/ns/`.
    pub const fn proc_name(self) -> &'static str {
        match self {
            Namespace::User => "user",
            Namespace::Mount => "mnt",
            Namespace::Net => "net",
        }
    }
}

/// How `rootless-setup enter` finds the running engine and what it sets for a command run inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enter {
    /// Files under `$XDG_RUNTIME_DIR` holding the pid of a process in the engine's namespaces
    /// (rootlesskit's `child_pid` in its state directory), in order: the first that exists is
    /// read.
    pub pid_files: &'static [&'static str],
    /// The namespaces joined, in this order.
    pub namespaces: &'static [Namespace],
    /// Variables set for the command, so the engine's own client works unchanged inside.
    pub env: &'static [(&'static str, &'static str)],
    /// What to run to start (or start again) the process the pid file names, when starting the
    /// engine's [`unit`](EngineSpec::unit) does not (`None`: `systemctl --user start UNIT`, or
    /// `restart`).
    pub start: Option<&'static str>,
}

/// Everything that differs between engines as plain data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineSpec {
    /// Lowercase name (`--engine`, the JSON, the rootful daemon's name in messages).
    pub name: &'static str,
    /// The script that starts the engine under rootlesskit.
    pub rootless_script: &'static str,
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
    /// (containerd's stays inside rootlesskit's mount namespace).
    pub api_socket: Option<&'static str>,
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
    /// What `rootless-setup enter` joins.
    pub enter: Enter,
}

/// The namespaces rootlesskit creates for its child: user, mount and network.
const ROOTLESSKIT_NAMESPACES: &[Namespace] = &[Namespace::User, Namespace::Mount, Namespace::Net];

/// `--version`, for the programs that take it.
const V: &[&str] = &["--version"];

/// Rootless Docker as Debian's `docker.io` and Docker's `docker-ce-rootless-extras` ship it.
const DOCKER: EngineSpec = EngineSpec {
    name: "docker",
    rootless_script: "dockerd-rootless.sh",
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
    docker_context: Some("rootless"),
    running_marker: "docker.sock",
    data_dir: "docker",
    overlay_driver: "overlay2",
    copy_driver: "vfs",
    // The child holding the namespaces, in dockerd-rootless.sh's rootlesskit --state-dir (set
    // since 2024; older scripts, such as Debian 12's 20.10, leave rootlesskit's state in a random
    // directory under /tmp), else dockerd's own pid file: the script execs dockerd in the
    // child's namespaces.
    enter: Enter {
        pid_files: &["dockerd-rootless/child_pid", "docker.pid"],
        namespaces: ROOTLESSKIT_NAMESPACES,
        env: &[],
        start: None,
    },
};

/// Rootless containerd as nerdctl's `containerd-rootless.sh` runs it.
const CONTAINERD: EngineSpec = EngineSpec {
    name: "containerd",
    rootless_script: "containerd-rootless.sh",
    old_setuptool: "containerd-rootless-setuptool.sh",
    unit: "containerd.service",
    programs: &[
        Program::new("containerd", Role::Required, V),
        Program::new("containerd-rootless.sh", Role::Required, &[]),
        Program::new("rootlesskit", Role::Required, V),
        Program::new("runc", Role::Required, V),
        Program::new("nerdctl", Role::Client, V),
        Program::new("containerd-rootless-setuptool.sh", Role::Optional, &[]),
    ],
    script_version_program: "nerdctl",
    script_releases: &[([2, 3, 0], WITH_GVISOR)],
    rootful_sockets: &[
        "/run/containerd/containerd.sock",
        "/var/run/containerd/containerd.sock",
    ],
    rootful_units: &["containerd.service"],
    address_variable: "CONTAINERD_ADDRESS",
    client_variables: &["CONTAINERD_ADDRESS"],
    api_socket: None,
    docker_context: None,
    running_marker: "containerd-rootless/child_pid",
    data_dir: "containerd",
    overlay_driver: "overlayfs",
    copy_driver: "native",
    // containerd-rootless.sh's rootlesskit --state-dir; inside, its state directory is
    // bind-mounted over /run/containerd.
    enter: Enter {
        pid_files: &["containerd-rootless/child_pid"],
        namespaces: ROOTLESSKIT_NAMESPACES,
        env: &[("CONTAINERD_ADDRESS", "/run/containerd/containerd.sock")],
        start: None,
    },
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
            let shared = s.rootful_sockets.iter().chain(s.enter.pid_files);
            for name in own.into_iter().chain(shared.copied()) {
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
            assert_eq!(
                find(s.rootless_script).map(|p| p.role),
                Some(Role::Required),
                "{} must need its rootless script",
                s.name
            );
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
            assert_eq!(
                s.docker_context.is_some(),
                s.api_socket.is_some(),
                "a docker CLI context needs a socket on the host to point at"
            );
            let names: BTreeSet<_> = s.programs.iter().map(|p| p.name).collect();
            assert_eq!(names.len(), s.programs.len(), "a program listed twice");
            assert!(!s.enter.pid_files.is_empty());
            for file in s.enter.pid_files {
                assert!(!file.starts_with('/') && !file.contains(".."), "{file}");
            }
            assert_eq!(
                s.enter.namespaces.first(),
                Some(&Namespace::User),
                "{}: the user namespace grants the rights to join the others, so it comes first",
                s.name
            );
            let joined: BTreeSet<_> = s.enter.namespaces.iter().map(|n| n.proc_name()).collect();
            assert_eq!(joined.len(), s.enter.namespaces.len(), "a namespace twice");
        }
    }

    /// Both run under rootlesskit, whose child (holding the namespaces the engine runs in) has
    /// its pid in the script's `--state-dir` (for older Docker scripts, only dockerd's own
    /// pid file says it); containerd's client is pointed at the socket bind-mounted inside.
    #[test]
    fn enter_joins_rootlesskits_child() {
        let docker = Engine::Docker.spec().enter;
        assert_eq!(
            docker.pid_files,
            ["dockerd-rootless/child_pid", "docker.pid"]
        );
        assert_eq!(
            docker.namespaces,
            [Namespace::User, Namespace::Mount, Namespace::Net]
        );
        assert!(docker.env.is_empty());
        let containerd = Engine::Containerd.spec().enter;
        assert_eq!(containerd.pid_files, ["containerd-rootless/child_pid"]);
        assert_eq!(containerd.namespaces, docker.namespaces);
        assert_eq!(
            containerd.env,
            [("CONTAINERD_ADDRESS", "/run/containerd/containerd.sock")]
        );
        let names: Vec<_> = docker.namespaces.iter().map(|n| n.proc_name()).collect();
        assert_eq!(names, ["user", "mnt", "net"]);
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
        assert_eq!(client(Engine::Containerd.spec()), Some("nerdctl"));
        assert_eq!(Engine::Containerd.spec().api_socket, None);
        assert_eq!(Engine::Containerd.spec().docker_context, None);
    }
}
