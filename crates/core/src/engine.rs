//! One description per engine ([`EngineSpec`]): every fact about an engine that the checks, the
//! unit generator and the commands need, kept in one place so that a new engine is a new
//! [`Engine`] variant and one more description. [`Engine::spec`] hands it out.
//!
//! What is not a fact but behaviour that differs per engine (the advice for a missing package,
//! the warning about an overriding variable) still matches on the engine where it is written.

use crate::catalogue::CheckId;
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
    /// An OCI runtime: one of the engine's runtimes is needed.
    Runtime,
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

/// How the engine is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// A unit rootless-setup renders starts the engine under rootlesskit, the way the engine's
    /// own rootless script does.
    Rootlesskit(&'static RootlessScript),
    /// The distribution ships a user socket unit; enabling and starting it is the install, and
    /// the first request on the socket starts the engine ([`EngineSpec::unit`]).
    SocketActivated {
        /// The socket unit, such as `podman.socket`.
        socket: &'static str,
    },
}

/// The engine's rootless script and the facts read from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootlessScript {
    /// The script that starts the engine under rootlesskit.
    pub name: &'static str,
    /// The upstream tool that installed the rootless engine before rootless-setup.
    pub old_setuptool: &'static str,
    /// The program whose version says which release of the script is installed (and so the
    /// order the automatic network choice follows).
    pub version_program: &'static str,
    /// The script's releases that changed the order of network drivers it tries, newest first
    /// (by [`version_program`](Self::version_program)'s version).
    pub releases: &'static [ScriptRelease],
    /// Whether the unit runs that script or its steps.
    pub launch: Launch,
}

/// Why the rootlesskit checks do not apply to an engine that runs without it.
const NO_ROOTLESSKIT: &str = "the engine does not run under rootlesskit";

/// How the generated unit starts the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// `ExecStart=` runs the engine's rootless script
    /// ([`RootlessScript::name`]), which must be installed; the unit's
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

/// How to ask an engine whether it is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// `GET /_ping` answers `OK` on the API socket (the Docker API: Docker, Podman).
    Ping,
    /// `ctr --address SOCKET version` prints the server's version (containerd speaks gRPC).
    CtrVersion,
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
    /// The name as its project writes it, for sentences (`Docker`, `Podman`, `containerd`).
    pub title: &'static str,
    /// How the engine runs: under rootlesskit in a unit rootless-setup writes, or activated by
    /// the distribution's socket unit.
    pub runs: Runs,
    /// The systemd user unit the rootless engine runs as.
    pub unit: &'static str,
    /// The install record's file name under `$XDG_STATE_HOME/rootless-setup/` (one per engine,
    /// so two engines can be installed side by side).
    pub record: &'static str,
    /// The engine's own programs and scripts, in the order they are reported.
    pub programs: &'static [Program],
    /// The checks that do not apply to this engine, with why (reported as skipped).
    pub not_applicable: &'static [(CheckId, &'static str)],
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
    /// How install and status ask the engine on that socket whether it is ready.
    pub readiness: Readiness,
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
    title: "Docker",
    runs: Runs::Rootlesskit(&RootlessScript {
        name: "dockerd-rootless.sh",
        old_setuptool: "dockerd-rootless-setuptool.sh",
        version_program: "dockerd",
        releases: &[
            ([29, 5, 0], WITH_PASTA_AND_GVISOR),
            ([28, 5, 2], WITH_PASTA),
        ],
        launch: Launch::Script,
    }),
    unit: "docker.service",
    record: "state.json",
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
    not_applicable: &[],
    rootful_sockets: &["/run/docker.sock", "/var/run/docker.sock"],
    rootful_units: &["docker.service", "docker.socket"],
    address_variable: "DOCKER_HOST",
    client_variables: &["DOCKER_HOST", "DOCKER_CONTEXT"],
    api_socket: Some("docker.sock"),
    readiness: Readiness::Ping,
    address_scheme: "unix://",
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

/// Rootless containerd as nerdctl's `containerd-rootless.sh` runs it, its steps written into the
/// unit: Debian packages containerd and its `ctr` client, not nerdctl or the script.
const CONTAINERD: EngineSpec = EngineSpec {
    name: "containerd",
    title: "containerd",
    runs: Runs::Rootlesskit(&RootlessScript {
        name: "containerd-rootless.sh",
        old_setuptool: "containerd-rootless-setuptool.sh",
        version_program: "nerdctl",
        // The unit runs the steps of one release ([`Launch::Steps`]), so no installed
        // release's order matters.
        releases: &[],
        // nerdctl v2.3.0 and later (extras/rootless/containerd-rootless.sh as of commit
        // 97dbdc7f, "Update RootlessKit (3.1.0)"): docs/unit.md lists the steps.
        launch: Launch::Steps {
            release: [2, 3, 0],
            order: WITH_GVISOR,
            state_dir: "containerd-rootless",
        },
    }),
    unit: "containerd.service",
    record: "containerd.json",
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
    not_applicable: &[],
    rootful_sockets: &[
        "/run/containerd/containerd.sock",
        "/var/run/containerd/containerd.sock",
    ],
    rootful_units: &["containerd.service"],
    address_variable: "CONTAINERD_ADDRESS",
    client_variables: &["CONTAINERD_ADDRESS"],
    api_socket: Some("containerd/containerd.sock"),
    readiness: Readiness::CtrVersion,
    address_scheme: "",
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

/// Rootless Podman as Debian ships it: the user's `podman.socket` serves the Docker API (and
/// Podman's own) on `$XDG_RUNTIME_DIR/podman/podman.sock`; each request that needs the engine
/// runs `podman system service` through `podman.service`.
const PODMAN: EngineSpec = EngineSpec {
    name: "podman",
    title: "Podman",
    runs: Runs::SocketActivated {
        socket: "podman.socket",
    },
    unit: "podman.service",
    record: "podman.json",
    programs: &[
        Program::new("podman", Role::Required, V),
        Program::new("conmon", Role::Required, V),
        Program::new("crun", Role::Runtime, V),
        Program::new("runc", Role::Runtime, V),
        Program::new("docker", Role::Client, V),
        Program::new("catatonit", Role::Optional, V),
        Program::new("netavark", Role::Optional, V),
        Program::new("nft", Role::Optional, &[]),
        Program::new("iptables", Role::Optional, &[]),
    ],
    not_applicable: &[
        (CheckId::EngineSmoke, NO_ROOTLESSKIT),
        (
            CheckId::EngineInstalled,
            "Podman has no older rootless set-up tool to take over",
        ),
        (
            CheckId::NetworkIptables,
            "Podman's default network needs no iptables in the user namespace",
        ),
    ],
    rootful_sockets: &["/run/podman/podman.sock"],
    rootful_units: &["podman.service", "podman.socket"],
    address_variable: "DOCKER_HOST",
    client_variables: &["DOCKER_HOST", "DOCKER_CONTEXT", "CONTAINER_HOST"],
    api_socket: Some("podman/podman.sock"),
    readiness: Readiness::Ping,
    address_scheme: "unix://",
    docker_context: Some("rootless-podman"),
    running_marker: "podman/podman.sock",
    data_dir: "containers",
    overlay_driver: "overlay",
    copy_driver: "vfs",
    // Podman's pause process holds the user and mount namespaces every rootless podman command
    // joins (`podman unshare`); containers each have their own network namespace. Any podman
    // command starts it again (the socket does not).
    enter: Enter {
        pid_files: &["libpod/tmp/pause.pid"],
        namespaces: &[Namespace::User, Namespace::Mount],
        env: &[],
        start: Some("podman info"),
    },
};

impl Engine {
    /// Every engine, in the order `--engine` lists them.
    pub const ALL: [Engine; 3] = [Engine::Docker, Engine::Podman, Engine::Containerd];

    /// This engine's description.
    pub const fn spec(self) -> &'static EngineSpec {
        match self {
            Engine::Docker => &DOCKER,
            Engine::Containerd => &CONTAINERD,
            Engine::Podman => &PODMAN,
        }
    }
}

impl EngineSpec {
    /// The rootless script, for an engine that runs under rootlesskit.
    pub const fn script(&self) -> Option<&'static RootlessScript> {
        match self.runs {
            Runs::Rootlesskit(script) => Some(script),
            Runs::SocketActivated { .. } => None,
        }
    }

    /// Whether the generated unit runs the rootless script or its steps (none: the engine runs
    /// without a generated unit).
    pub const fn launch(&self) -> Option<Launch> {
        match self.runs {
            Runs::Rootlesskit(script) => Some(script.launch),
            Runs::SocketActivated { .. } => None,
        }
    }

    /// The unit install enables and starts: the engine's own, or its socket.
    pub fn started_unit(&self) -> &'static str {
        match self.runs {
            Runs::Rootlesskit(_) => self.unit,
            Runs::SocketActivated { socket } => socket,
        }
    }

    /// Why `id` does not apply to this engine, if it does not.
    pub fn not_applicable(&self, id: CheckId) -> Option<&'static str> {
        self.not_applicable
            .iter()
            .find(|(c, _)| *c == id)
            .map(|(_, why)| *why)
    }

    /// The client program, if the engine has one.
    pub fn client(&self) -> Option<&'static str> {
        self.programs
            .iter()
            .find(|p| p.role == Role::Client)
            .map(|p| p.name)
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
            let script = s
                .script()
                .map_or([None, None], |r| [Some(r.name), Some(r.old_setuptool)]);
            let own = [
                Some(s.name),
                Some(s.unit),
                Some(s.started_unit()),
                Some(s.record),
                Some(s.running_marker),
                Some(s.data_dir),
                s.docker_context,
                s.api_socket,
            ];
            let rootful = s
                .rootful_sockets
                .iter()
                .chain(s.enter.pid_files)
                .copied()
                .map(Some);
            let mut mine = BTreeSet::new();
            for name in own.into_iter().chain(script).chain(rootful).flatten() {
                if !mine.insert(name) {
                    continue;
                }
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
            assert_eq!(s.title.to_lowercase(), s.name);
            if let Some(script) = s.script() {
                let script_role = match script.launch {
                    Launch::Script => Role::Required,
                    Launch::Steps { .. } => Role::Optional,
                };
                assert_eq!(
                    find(script.name).map(|p| p.role),
                    Some(script_role),
                    "{} needs its rootless script exactly when the unit runs it",
                    s.name
                );
                if let Launch::Steps {
                    order, state_dir, ..
                } = script.launch
                {
                    assert!(!order.is_empty());
                    assert!(!state_dir.contains('/'));
                    assert!(s.running_marker.starts_with(&format!("{state_dir}/")));
                }
                assert!(find(script.name).is_some_and(|p| p.version_args.is_empty()));
                assert_eq!(
                    find(script.old_setuptool).map(|p| p.role),
                    Some(Role::Optional)
                );
                assert_eq!(find("rootlesskit").map(|p| p.role), Some(Role::Required));
                assert!(find(script.version_program).is_some());
                assert!(
                    s.not_applicable.is_empty(),
                    "every check applies under rootlesskit"
                );
            } else {
                assert!(find("rootlesskit").is_none());
                assert!(s.not_applicable(CheckId::EngineSmoke).is_some());
            }
            assert!(
                s.programs.iter().filter(|p| p.role == Role::Client).count() <= 1,
                "one client at most"
            );
            assert!(s.client_variables.contains(&s.address_variable));
            assert!(
                s.rootful_units.contains(&s.unit),
                "the rootful unit shares the name"
            );
            assert!(s.rootful_sockets.iter().all(|p| p.starts_with('/')));
            assert!(!s.data_dir.contains('/') && !s.running_marker.starts_with('/'));
            assert!(s.api_socket.is_none_or(|a| !a.starts_with('/')));
            assert!(s.record.ends_with(".json") && !s.record.contains('/'));
            assert!(
                s.docker_context.is_none() || s.api_socket.is_some(),
                "a docker CLI context needs a socket on the host to point at"
            );
            assert!(s.address_scheme.is_empty() || s.address_scheme.ends_with("://"));
            let names: BTreeSet<_> = s.programs.iter().map(|p| p.name).collect();
            assert_eq!(names.len(), s.programs.len(), "a program listed twice");
            let skipped: BTreeSet<_> = s.not_applicable.iter().map(|(c, _)| c).collect();
            assert_eq!(
                skipped.len(),
                s.not_applicable.len(),
                "a check listed twice"
            );
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

    /// What Debian's docker.io ships: `/usr/share/docker.io/contrib/dockerd-rootless.sh`, the
    /// unit the setuptool writes, the API socket the docker CLI's rootless context points at.
    #[test]
    fn docker_is_what_debian_ships() {
        let s = Engine::Docker.spec();
        let script = s.script().unwrap();
        assert_eq!(script.name, "dockerd-rootless.sh");
        assert_eq!(script.old_setuptool, "dockerd-rootless-setuptool.sh");
        assert_eq!(script.version_program, "dockerd");
        assert_eq!(s.unit, "docker.service");
        assert_eq!(s.started_unit(), "docker.service");
        assert_eq!(s.record, "state.json");
        assert_eq!(s.api_socket, Some("docker.sock"));
        assert_eq!(s.docker_context, Some("rootless"));
        assert_eq!(s.client(), Some("docker"));
        assert_eq!(s.rootful_units, ["docker.service", "docker.socket"]);
        assert_eq!(s.not_applicable(CheckId::EngineSmoke), None);
        assert_eq!(script.launch, Launch::Script);
        assert_eq!(s.address_scheme, "unix://");
    }

    /// What Debian packages for containerd (containerd and its `ctr`, no nerdctl), and the
    /// steps of nerdctl's `containerd-rootless.sh` the unit runs instead of the script.
    #[test]
    fn containerd_runs_the_scripts_steps_with_the_packaged_client() {
        let s = Engine::Containerd.spec();
        assert_eq!(s.client(), Some("ctr"));
        let role = |name: &str| s.programs.iter().find(|p| p.name == name).map(|p| p.role);
        assert_eq!(role("nerdctl"), Some(Role::Optional));
        assert_eq!(role("containerd-rootless.sh"), Some(Role::Optional));
        assert_eq!(role("containerd"), Some(Role::Required));
        assert_eq!(
            s.script().map(|r| r.launch),
            Some(Launch::Steps {
                release: [2, 3, 0],
                order: &[
                    NetDriver::Slirp4netns,
                    NetDriver::Vpnkit,
                    NetDriver::GvisorTapVsock
                ],
                state_dir: "containerd-rootless",
            })
        );
        assert_eq!(s.api_socket, Some("containerd/containerd.sock"));
        assert_eq!(s.readiness, Readiness::CtrVersion);
        assert_eq!(s.address_scheme, "");
        assert_eq!(s.docker_context, None);
    }

    /// What Debian's podman ships: `/usr/lib/systemd/user/podman.socket` listening on
    /// `%t/podman/podman.sock`, activating `podman.service`; its own context name so that it
    /// can sit beside Docker's `rootless`.
    #[test]
    fn podman_is_socket_activated_beside_docker() {
        let s = Engine::Podman.spec();
        assert_eq!(s.script(), None);
        assert_eq!(s.unit, "podman.service");
        assert_eq!(s.started_unit(), "podman.socket");
        assert_eq!(s.api_socket, Some("podman/podman.sock"));
        assert_eq!(s.docker_context, Some("rootless-podman"));
        assert_ne!(s.docker_context, Engine::Docker.spec().docker_context);
        assert_ne!(s.record, Engine::Docker.spec().record);
        assert_eq!(s.client(), Some("docker"));
        assert!(s.not_applicable(CheckId::EngineSmoke).is_some());
        assert_eq!(s.not_applicable(CheckId::Cgroup), None);
        let runtimes: Vec<_> = s
            .programs
            .iter()
            .filter(|p| p.role == Role::Runtime)
            .map(|p| p.name)
            .collect();
        assert_eq!(
            runtimes,
            ["crun", "runc"],
            "crun first: it runs without delegation"
        );
    }
}
