//! Rendering a [`Plan`] through the templates in `templates/` into the files `install` writes,
//! each with its target path and the generated-file header.
//!
//! Values reach the templates already escaped for systemd ([`crate::escape`]); the templates
//! only place lines.
//!
//! Docker's unit runs `dockerd-rootless.sh`, its drop-in sets what the script reads
//! ([`Launch::Script`]); containerd's unit runs rootlesskit with the steps of
//! `containerd-rootless.sh` as its child ([`Launch::Steps`], [`steps_script`]).

use std::path::{Path, PathBuf};

use rootless_setup_core::Engine;
use rootless_setup_core::engine::Launch;
use rootless_setup_core::shell;
use rootless_setup_core::template::{self, TemplateError, context};

use crate::escape::{self, EscapeError};
use crate::header;
use crate::plan::Plan;

/// The Docker engine's user unit template.
pub const DOCKER_UNIT_TEMPLATE: &str = include_str!("../templates/docker/docker.service.j2");
/// The drop-in template with the options `dockerd-rootless.sh` reads from its environment.
pub const DOCKER_DROPIN_TEMPLATE: &str = include_str!("../templates/docker/rootless-setup.conf.j2");

/// The containerd user unit template (rootlesskit and the script's steps in `ExecStart=`).
pub const CONTAINERD_UNIT_TEMPLATE: &str =
    include_str!("../templates/containerd/containerd.service.j2");

/// The shell that runs the rootless script's steps inside rootlesskit's namespaces.
pub const STEPS_SHELL: &str = "/bin/sh";

/// The unit's file name.
pub const DOCKER_UNIT: &str = Engine::Docker.spec().unit;
/// Our drop-in's file name in a unit's `UNIT.d/` directory ([`drop_in_path`]). `10-` so that a
/// hand-made `override.conf` (`systemctl --user edit`) sorts after it and wins.
pub const DROPIN_NAME: &str = "10-rootless-setup.conf";

/// Where our drop-in for `unit` is in `unit_dir`: the one rule install writes by and status and
/// uninstall look by.
pub fn drop_in_path(unit_dir: &Path, unit: &str) -> PathBuf {
    unit_dir.join(format!("{unit}.d")).join(DROPIN_NAME)
}

/// What kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A unit file.
    Unit,
    /// A drop-in for a unit.
    DropIn,
    /// An engine's own configuration (Podman's containers.conf drop-in).
    Config,
}

/// One file install would write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Where it goes.
    pub path: PathBuf,
    /// Unit or drop-in.
    pub kind: FileKind,
    /// Its full text, header included.
    pub contents: String,
}

/// Could not render; a plan from [`crate::plan()`] always renders, so this is a bug or a
/// hand-made plan with a value systemd cannot carry.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A value that cannot be written.
    #[error("{what} {source}")]
    Value {
        /// Which value.
        what: String,
        /// Why.
        #[source]
        source: EscapeError,
    },
    /// The template engine failed.
    #[error(transparent)]
    Template(#[from] TemplateError),
}

fn value<T>(what: impl Into<String>, r: Result<T, EscapeError>) -> Result<T, RenderError> {
    r.map_err(|source| RenderError::Value {
        what: what.into(),
        source,
    })
}

/// The unit's `ExecStart=` value: the script and dockerd's arguments, or rootlesskit, its
/// flags, the steps and containerd's arguments.
pub fn exec_start(plan: &Plan) -> Result<String, RenderError> {
    match plan.engine.spec().launch().unwrap_or(Launch::Script) {
        Launch::Script => script_exec_start(plan),
        Launch::Steps { state_dir, .. } => steps_exec_start(plan, state_dir),
    }
}

fn script_exec_start(plan: &Plan) -> Result<String, RenderError> {
    let mut words = vec![value(
        format!("program {}", plan.program.display()),
        escape::exec_path(&plan.program),
    )?];
    let data_root = plan
        .data_root
        .as_ref()
        .map(|d| format!("--data-root={}", d.display()));
    if let Some(arg) = &data_root {
        words.push(value(format!("argument {arg:?}"), escape::exec_arg(arg))?);
    }
    if let Some(remote) = &plan.remote {
        // The unix socket stays: install, status and the CLI context use it.
        let socket = plan.engine.spec().api_socket.unwrap_or("docker.sock");
        words.push(value("-H", escape::exec_arg("-H"))?);
        words.push(value(
            format!("socket {socket}"),
            escape::exec_arg_under_runtime_dir("unix://", socket),
        )?);
        for arg in remote.daemon_args() {
            words.push(value(format!("argument {arg:?}"), escape::exec_arg(&arg))?);
        }
    }
    for arg in &plan.daemon_flags {
        words.push(value(format!("argument {arg:?}"), escape::exec_arg(arg))?);
    }
    Ok(words.join(" "))
}

/// rootlesskit's flags as `containerd-rootless.sh` passes them, after `--state-dir`, with the
/// plan's driver, MTU, port driver, host loopback and detach-netns.
pub fn rootlesskit_flags(plan: &Plan) -> Vec<String> {
    let mut flags = vec![
        format!("--net={}", plan.network_driver),
        format!("--mtu={}", plan.mtu),
        "--slirp4netns-sandbox=auto".to_owned(),
        "--slirp4netns-seccomp=auto".to_owned(),
    ];
    if plan.disable_host_loopback != Some(false) {
        flags.push("--disable-host-loopback".to_owned());
    }
    flags.push(format!("--port-driver={}", plan.port_driver));
    for dir in ["/etc", "/run", "/var/lib"] {
        flags.push(format!("--copy-up={dir}"));
    }
    flags.push("--propagation=rslave".to_owned());
    if plan.detach_netns == Some(true) {
        flags.push("--detach-netns".to_owned());
    }
    flags
}

/// The child part of `containerd-rootless.sh` as one line for `sh -c`, run inside rootlesskit's
/// namespaces with the daemon's path as `$1` and its arguments after it: the copied-up
/// directories' entries the daemon needs are replaced by the user's own directories,
/// bind-mounted, then the daemon runs in place of the shell. The values in the text are a chosen
/// data directory and crun's path, quoted for the shell.
///
/// With crun at hand, one step of our own comes before the daemon: when the unit's cgroup offers
/// no memory controller (nothing delegated, or cgroup v1), neither runc nor crun can create a
/// container's cgroup, so a `runc` that runs `crun --cgroup-manager=disabled` is put first on
/// the daemon's `PATH`, in the namespace's own `/run`, where containerd's shim looks for `runc`.
pub fn steps_script(plan: &Plan) -> String {
    let data_root = plan.data_root.as_ref().map_or_else(
        || "\"$data/containerd\"".to_owned(),
        |d| shell::quote_path(d),
    );
    let steps = [
        "set -e".to_owned(),
        ": \"${XDG_RUNTIME_DIR:?is not set}\" \"${HOME:?is not set}\"".to_owned(),
        "daemon=$1".to_owned(),
        "shift".to_owned(),
        "data=${XDG_DATA_HOME:-$HOME/.local/share}".to_owned(),
        "config=${XDG_CONFIG_HOME:-$HOME/.config}".to_owned(),
        "rm -f /run/containerd /run/nri /run/xtables.lock /var/lib/containerd /var/lib/cni /etc/containerd".to_owned(),
        "if [ -e /etc/ssl ]; then ssl=$(realpath /etc/ssl); rm -f /etc/ssl; mkdir /etc/ssl; mount --rbind \"$ssl\" /etc/ssl; fi".to_owned(),
        bind("\"$XDG_RUNTIME_DIR/containerd\"", "/run/containerd"),
        bind(&data_root, "/var/lib/containerd"),
        bind("\"$data/cni\"", "/var/lib/cni"),
        bind("\"$config/containerd\"", "/etc/containerd"),
    ];
    let crun = plan.crun_without_cgroups.as_deref().map(without_cgroups);
    let exec = "exec \"$daemon\" \"$@\"".to_owned();
    steps
        .into_iter()
        .chain(crun)
        .chain([exec])
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where the steps put the `runc` that is crun without cgroups, inside the namespace.
pub const NO_CGROUPS_DIR: &str = "/run/rootless-setup";

/// The step that makes `crun --cgroup-manager=disabled` the daemon's `runc` when the unit's
/// cgroup has no memory controller, saying so in the journal.
fn without_cgroups(crun: &Path) -> String {
    // The wrapper's own line names crun quoted for its shell; that text is quoted again as
    // printf's argument here.
    let in_wrapper = shell::quote_path(crun);
    format!(
        "cg=$(sed -n 's/^0:://p' /proc/self/cgroup); \
         if ! grep -qw memory \"/sys/fs/cgroup$cg/cgroup.controllers\" 2>/dev/null; then \
         mkdir -p {NO_CGROUPS_DIR}; \
         printf '#!/bin/sh\\nexec %s --cgroup-manager=disabled \"$@\"\\n' {} > {NO_CGROUPS_DIR}/runc; \
         chmod 755 {NO_CGROUPS_DIR}/runc; \
         export PATH={NO_CGROUPS_DIR}:$PATH; \
         echo 'rootless-setup: no memory controller in this unit'\\''s cgroup: containers run with crun --cgroup-manager=disabled, without resource limits' >&2; \
         fi",
        shell::quote(&in_wrapper)
    )
}

/// Creates `source` and `target` and bind-mounts one over the other.
fn bind(source: &str, target: &str) -> String {
    format!("mkdir -p {source} {target}; mount --bind {source} {target}")
}

fn steps_exec_start(plan: &Plan, state_dir: &str) -> Result<String, RenderError> {
    let daemon = plan.daemon.as_deref().ok_or(RenderError::Value {
        what: "the daemon's path".to_owned(),
        source: EscapeError::Empty,
    })?;
    let mut words = vec![
        value(
            format!("program {}", plan.program.display()),
            escape::exec_path(&plan.program),
        )?,
        value(
            format!("state directory {state_dir}"),
            escape::exec_arg_under_runtime_dir("--state-dir=", state_dir),
        )?,
    ];
    let daemon_path = daemon.to_str().ok_or(RenderError::Value {
        what: format!("daemon {}", daemon.display()),
        source: EscapeError::NotUtf8,
    })?;
    value(format!("daemon {daemon_path}"), escape::check_path(daemon))?;
    let tail = [
        STEPS_SHELL.to_owned(),
        "-c".to_owned(),
        steps_script(plan),
        plan.engine.rootless_script().unwrap_or_default().to_owned(),
        daemon_path.to_owned(),
    ];
    for arg in rootlesskit_flags(plan)
        .iter()
        .chain(&tail)
        .chain(&plan.daemon_flags)
    {
        words.push(value(format!("argument {arg:?}"), escape::exec_arg(arg))?);
    }
    Ok(words.join(" "))
}

/// The drop-in's variables, in the order written.
pub fn drop_in_environment(plan: &Plan) -> Vec<(String, String)> {
    let mut vars = vec![
        (
            "DOCKERD_ROOTLESS_ROOTLESSKIT_NET".to_owned(),
            plan.network_driver.to_string(),
        ),
        (
            "DOCKERD_ROOTLESS_ROOTLESSKIT_MTU".to_owned(),
            plan.mtu.to_string(),
        ),
        (
            "DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER".to_owned(),
            plan.port_driver.to_string(),
        ),
    ];
    if let Some(disable) = plan.disable_host_loopback {
        vars.push((
            "DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK".to_owned(),
            disable.to_string(),
        ));
    }
    if let Some(detach) = plan.detach_netns {
        vars.push((
            "DOCKERD_ROOTLESS_ROOTLESSKIT_DETACH_NETNS".to_owned(),
            detach.to_string(),
        ));
    }
    if let Some(publish) = plan.remote.as_ref().and_then(|r| r.publish()) {
        vars.push((
            "DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS".to_owned(),
            format!("-p {publish}"),
        ));
    }
    vars.extend(plan.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
    vars
}

/// The unit's `PATH=` assignment.
fn path_assignment(plan: &Plan) -> Result<String, RenderError> {
    let path: Vec<&str> = plan
        .path
        .iter()
        .map(|d| value(format!("PATH entry {}", d.display()), escape::path_entry(d)))
        .collect::<Result<_, _>>()?;
    value("PATH", escape::env_assignment("PATH", &path.join(":")))
}

/// `vars` as `Environment=` values.
fn assignments(vars: &[(String, String)]) -> Result<Vec<String>, RenderError> {
    vars.iter()
        .map(|(k, v)| {
            value(
                format!("environment variable {k}"),
                escape::env_assignment(k, v),
            )
        })
        .collect()
}

/// The files for `plan`, with their paths under `unit_dir`: the unit, then its drop-in
/// (Docker); the unit alone (containerd, whose options are rootlesskit's flags).
pub fn render(plan: &Plan, unit_dir: &Path) -> Result<Vec<RenderedFile>, RenderError> {
    match plan.engine.spec().launch().unwrap_or(Launch::Script) {
        Launch::Script => render_script_unit(plan, unit_dir),
        Launch::Steps { .. } => render_steps_unit(plan, unit_dir),
    }
}

fn render_steps_unit(plan: &Plan, unit_dir: &Path) -> Result<Vec<RenderedFile>, RenderError> {
    let spec = plan.engine.spec();
    let environment: Vec<(String, String)> = plan
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let unit = template::render(
        spec.unit,
        CONTAINERD_UNIT_TEMPLATE,
        context! {
            path => path_assignment(plan)?,
            environment => assignments(&environment)?,
            exec_start => exec_start(plan)?,
            start_timeout => plan.start_timeout,
            limits => plan.limits.clone(),
        },
    )?;
    Ok(vec![RenderedFile {
        path: unit_dir.join(spec.unit),
        kind: FileKind::Unit,
        contents: header::with_header(&unit),
    }])
}

fn render_script_unit(plan: &Plan, unit_dir: &Path) -> Result<Vec<RenderedFile>, RenderError> {
    let unit = template::render(
        DOCKER_UNIT,
        DOCKER_UNIT_TEMPLATE,
        context! {
            path => path_assignment(plan)?,
            exec_start => exec_start(plan)?,
            start_timeout => plan.start_timeout,
        },
    )?;
    let drop_in = template::render(
        DROPIN_NAME,
        DOCKER_DROPIN_TEMPLATE,
        context! {
            environment => assignments(&drop_in_environment(plan))?,
            limits => plan.limits.clone(),
        },
    )?;
    Ok(vec![
        RenderedFile {
            path: unit_dir.join(DOCKER_UNIT),
            kind: FileKind::Unit,
            contents: header::with_header(&unit),
        },
        RenderedFile {
            path: drop_in_path(unit_dir, DOCKER_UNIT),
            kind: FileKind::DropIn,
            contents: header::with_header(&drop_in),
        },
    ])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use rootless_setup_core::network::NetDriver;

    use super::*;
    use crate::drivers::PortDriver;
    use crate::escape::model;

    fn containerd_plan(data_root: Option<&str>, flags: &[&str]) -> Plan {
        Plan {
            engine: Engine::Containerd,
            program: PathBuf::from("/usr/bin/rootlesskit"),
            daemon: Some(PathBuf::from("/opt/my bin/containerd")),
            crun_without_cgroups: None,
            path: vec![PathBuf::from("/usr/bin")],
            network_driver: NetDriver::Slirp4netns,
            port_driver: PortDriver::Builtin,
            mtu: 65520,
            disable_host_loopback: Some(true),
            detach_netns: Some(false),
            data_root: data_root.map(PathBuf::from),
            daemon_flags: flags.iter().map(|f| (*f).to_owned()).collect(),
            environment: BTreeMap::new(),
            start_timeout: 90,
            remote: None,
            limits: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// What systemd passes to rootlesskit, by the model of its parser, with `%t` standing for
    /// the runtime directory.
    fn read_back(line: &str) -> Vec<String> {
        model::words(line)
            .unwrap()
            .iter()
            .map(|w| {
                let w = w.replacen("%t", "/run/user/1000", 1);
                model::specifiers(&w)
                    .and_then(|w| model::dollars(&w))
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn systemd_hands_rootlesskit_the_steps_and_containerd_exactly() {
        let plan = containerd_plan(Some("/srv/it's $HOME 100%"), &["--log-level=debug"]);
        let argv = read_back(&exec_start(&plan).unwrap());
        let mut want = vec![
            "/usr/bin/rootlesskit".to_owned(),
            "--state-dir=/run/user/1000/containerd-rootless".to_owned(),
        ];
        want.extend(rootlesskit_flags(&plan));
        want.extend([
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            steps_script(&plan),
            "containerd-rootless.sh".to_owned(),
            "/opt/my bin/containerd".to_owned(),
            "--log-level=debug".to_owned(),
        ]);
        assert_eq!(argv, want);
        assert!(
            steps_script(&plan)
                .contains(r"mount --bind '/srv/it'\''s $HOME 100%' /var/lib/containerd"),
            "{}",
            steps_script(&plan)
        );
    }

    #[test]
    fn the_flags_follow_the_plan() {
        let mut plan = containerd_plan(None, &[]);
        assert_eq!(
            rootlesskit_flags(&plan),
            [
                "--net=slirp4netns",
                "--mtu=65520",
                "--slirp4netns-sandbox=auto",
                "--slirp4netns-seccomp=auto",
                "--disable-host-loopback",
                "--port-driver=builtin",
                "--copy-up=/etc",
                "--copy-up=/run",
                "--copy-up=/var/lib",
                "--propagation=rslave",
            ]
        );
        plan.disable_host_loopback = Some(false);
        plan.detach_netns = Some(true);
        plan.network_driver = NetDriver::GvisorTapVsock;
        plan.port_driver = PortDriver::GvisorTapVsock;
        let flags = rootlesskit_flags(&plan);
        assert!(!flags.iter().any(|f| f == "--disable-host-loopback"));
        assert_eq!(flags.last().map(String::as_str), Some("--detach-netns"));
        assert_eq!(flags[0], "--net=gvisor-tap-vsock");
        assert!(flags.contains(&"--port-driver=gvisor-tap-vsock".to_owned()));
    }

    /// The steps are valid `sh`, and do what the script's child does, in its order, when run
    /// with `mount` and `realpath` faked.
    #[test]
    fn the_steps_run_the_scripts_child_part() {
        for data_root in [None, Some("/srv/d d")] {
            let script = steps_script(&containerd_plan(data_root, &[]));
            let syntax = std::process::Command::new("/bin/sh")
                .args(["-n", "-c", &script])
                .output()
                .unwrap();
            assert!(syntax.status.success(), "{syntax:?}");
        }
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let log = tmp.path().join("log");
        for fake in ["mount", "rm", "mkdir", "realpath"] {
            let path = bin.join(fake);
            // realpath answers a made-up real path of /etc/ssl.
            let answer = if fake == "realpath" {
                "echo /real/ssl\n"
            } else {
                ""
            };
            std::fs::write(
                &path,
                format!(
                    "#!/bin/sh\necho \"{fake} $*\" >> '{}'\n{answer}",
                    log.display()
                ),
            )
            .unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        let daemon = bin.join("containerd");
        std::fs::write(
            &daemon,
            format!("#!/bin/sh\necho \"containerd $*\" >> '{}'\n", log.display()),
        )
        .unwrap();
        std::fs::set_permissions(&daemon, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", &steps_script(&containerd_plan(None, &[]))])
            .arg("containerd-rootless.sh")
            .arg(&daemon)
            .arg("--log-level=debug")
            .env_clear()
            .env("PATH", &bin)
            .env("HOME", "/home/u")
            .env("XDG_RUNTIME_DIR", "/run/user/1000")
            .env("XDG_CONFIG_HOME", "/cfg")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let ssl = if Path::new("/etc/ssl").exists() {
            "realpath /etc/ssl\nrm -f /etc/ssl\nmkdir /etc/ssl\nmount --rbind /real/ssl /etc/ssl\n"
        } else {
            ""
        };
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            format!(
                "rm -f /run/containerd /run/nri /run/xtables.lock /var/lib/containerd /var/lib/cni /etc/containerd\n\
                 {ssl}\
                 mkdir -p /run/user/1000/containerd /run/containerd\n\
                 mount --bind /run/user/1000/containerd /run/containerd\n\
                 mkdir -p /home/u/.local/share/containerd /var/lib/containerd\n\
                 mount --bind /home/u/.local/share/containerd /var/lib/containerd\n\
                 mkdir -p /home/u/.local/share/cni /var/lib/cni\n\
                 mount --bind /home/u/.local/share/cni /var/lib/cni\n\
                 mkdir -p /cfg/containerd /etc/containerd\n\
                 mount --bind /cfg/containerd /etc/containerd\n\
                 containerd --log-level=debug\n"
            )
        );
    }

    /// The crun step in a shell of its own: `/proc/self/cgroup` and the cgroup tree are what
    /// the host has, so the test sets up both cases with a fake `grep`.
    #[test]
    fn without_a_memory_controller_crun_becomes_runc() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let run = |controllers_found: bool| {
            let step = without_cgroups(Path::new("/opt/it's/crun"))
                .replace(NO_CGROUPS_DIR, &dir.join("nocg").display().to_string());
            let grep = if controllers_found { "true" } else { "false" };
            let script = format!("grep() {{ {grep}; }}; {step}; command -v runc || echo none");
            std::process::Command::new("/bin/sh")
                .args(["-c", &script])
                .env("PATH", "/usr/bin:/bin")
                .output()
                .unwrap()
        };
        let out = run(true);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "none\n");
        assert!(out.stderr.is_empty(), "{out:?}");
        let out = run(false);
        let wrapper = dir.join("nocg/runc");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{}\n", wrapper.display())
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "rootless-setup: no memory controller in this unit's cgroup: containers run with crun --cgroup-manager=disabled, without resource limits\n"
        );
        assert_eq!(
            std::fs::read_to_string(&wrapper).unwrap(),
            "#!/bin/sh\nexec '/opt/it'\\''s/crun' --cgroup-manager=disabled \"$@\"\n"
        );
        // The wrapper passes its arguments on, quoted path and all.
        let crun_dir = dir.join("opt/it's");
        std::fs::create_dir_all(&crun_dir).unwrap();
        let wrapper_text = std::fs::read_to_string(&wrapper).unwrap().replace(
            "'/opt/it'\\''s/crun'",
            &shell::quote_path(&crun_dir.join("crun")),
        );
        std::fs::write(&wrapper, wrapper_text).unwrap();
        std::fs::write(crun_dir.join("crun"), "#!/bin/sh\necho \"crun $*\"\n").unwrap();
        std::fs::set_permissions(
            crun_dir.join("crun"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let out = std::process::Command::new(&wrapper)
            .args(["--root", "/r", "create", "a b"])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "crun --cgroup-manager=disabled --root /r create a b\n"
        );
    }

    #[test]
    fn the_crun_step_comes_just_before_the_daemon() {
        let mut plan = containerd_plan(None, &[]);
        plan.crun_without_cgroups = Some(PathBuf::from("/usr/bin/crun"));
        let script = steps_script(&plan);
        let crun = script.find("--cgroup-manager=disabled").unwrap();
        let last_bind = script.rfind("mount --bind").unwrap();
        assert!(last_bind < crun && crun < script.rfind("exec \"$daemon\"").unwrap());
        let syntax = std::process::Command::new("/bin/sh")
            .args(["-n", "-c", &script])
            .output()
            .unwrap();
        assert!(syntax.status.success(), "{syntax:?}");
        assert!(!steps_script(&containerd_plan(None, &[])).contains("crun"));
    }

    #[test]
    fn the_steps_stop_without_a_runtime_directory() {
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", &steps_script(&containerd_plan(None, &[]))])
            .args(["containerd-rootless.sh", "/bin/true"])
            .env_clear()
            .env("HOME", "/home/u")
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("XDG_RUNTIME_DIR: is not set"),
            "{out:?}"
        );
    }
}
