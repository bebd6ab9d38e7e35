//! Where things are for the calling user and one engine: the unit directory, the engine's
//! install record, its socket and data directory, the docker client's configuration. Shared by
//! `install`, `uninstall` and `status`, so all three look in the same places.

use std::path::PathBuf;

use rootless_setup_checks::Caller;
use rootless_setup_core::engine::EngineSpec;
use rootless_setup_core::engine::Launch;
use rootless_setup_core::model::Engine;
use rootless_setup_core::paths::{self, unit_dir};
use rootless_setup_unit::{CONTAINERS_CONF_DIR, drop_in_path};

use crate::results::ErrorId;
use crate::style::hinted;
use crate::{docker_context, state};

/// The caller's paths for one engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The engine these paths are for.
    pub engine: Engine,
    pub uid: u32,
    /// The login name (passwd, else `$USER`, else the uid).
    pub user: String,
    /// `$HOME`.
    pub home: PathBuf,
    /// `$XDG_RUNTIME_DIR` (or `/run/user/UID`).
    pub runtime_dir: PathBuf,
    /// `~/.config/systemd/user`.
    pub unit_dir: PathBuf,
    /// The install record.
    pub state: PathBuf,
    /// The docker client's configuration directory.
    pub docker_config: PathBuf,
    /// `$XDG_DATA_HOME` or `~/.local/share`, where the engine's default data directory is.
    pub data_home: PathBuf,
    /// `$XDG_CONFIG_HOME` or `~/.config`.
    pub config_home: PathBuf,
}

/// The caller's login name: passwd, else `$USER`, else the uid.
pub fn login_name(caller: &Caller) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(caller.uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| caller.var("USER").map(str::to_owned))
        .unwrap_or_else(|| caller.uid.to_string())
}

impl Paths {
    /// From the caller's environment, for `engine`; fails only without an absolute `HOME`.
    pub fn of(caller: &Caller, engine: Engine) -> anyhow::Result<Paths> {
        let home = match caller.var("HOME") {
            Some(h) if h.starts_with('/') => PathBuf::from(h),
            _ => {
                return Err(hinted(
                    ErrorId::HomeUnset,
                    "HOME is not set to an absolute path; it is needed to find the unit directory and the install record",
                    &[
                        "log in as the user (ssh, or `machinectl shell USER@`) rather than through `su`",
                    ],
                ));
            }
        };
        let runtime_dir = caller
            .var("XDG_RUNTIME_DIR")
            .filter(|d| d.starts_with('/'))
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(format!("/run/user/{}", caller.uid)));
        let user = login_name(caller);
        Ok(Paths {
            engine,
            uid: caller.uid,
            user,
            unit_dir: unit_dir(caller.var("XDG_CONFIG_HOME"), &home),
            config_home: paths::config_home(caller.var("XDG_CONFIG_HOME"), &home),
            state: state::path(caller.var("XDG_STATE_HOME"), &home, engine),
            docker_config: docker_context::config_dir(caller, &home),
            data_home: paths::data_home(caller.var("XDG_DATA_HOME"), &home),
            runtime_dir,
            home,
        })
    }

    /// The paths of the engine a command that acts on an install (`status`, `uninstall`)
    /// works on: `chosen` (`--engine`), else the one engine installed, else Docker. With
    /// several installed and none chosen it refuses, naming them.
    pub fn of_installed(
        caller: &Caller,
        chosen: Option<Engine>,
        command: &str,
    ) -> anyhow::Result<Paths> {
        let paths = Paths::of(caller, chosen.unwrap_or_default())?;
        if chosen.is_some() {
            return Ok(paths);
        }
        match paths.installed_engines().as_slice() {
            [] => Ok(paths),
            [one] => Paths::of(caller, *one),
            several => {
                let names: Vec<&str> = several.iter().map(|e| e.as_str()).collect();
                let choices: Vec<String> = names
                    .iter()
                    .map(|n| format!("rootless-setup {command} --engine {n}"))
                    .collect();
                let choices: Vec<&str> = choices.iter().map(String::as_str).collect();
                Err(hinted(
                    ErrorId::EngineAmbiguous,
                    format!(
                        "{} are installed; {command} acts on one engine at a time",
                        names.join(" and ")
                    ),
                    &choices,
                ))
            }
        }
    }

    /// The engine's description.
    pub fn spec(&self) -> &'static EngineSpec {
        self.engine.spec()
    }

    /// The engine's API socket (`$XDG_RUNTIME_DIR/docker.sock`, `…/podman/podman.sock`).
    pub fn socket(&self) -> PathBuf {
        let spec = self.spec();
        self.runtime_dir
            .join(spec.api_socket.unwrap_or(spec.running_marker))
    }

    /// The unit install enables and starts (the engine's, or its socket).
    pub fn started_unit(&self) -> &'static str {
        self.spec().started_unit()
    }

    /// The docker CLI context install creates for the engine (none: the docker CLI cannot
    /// talk to it).
    pub fn context(&self) -> Option<&'static str> {
        self.spec().docker_context
    }

    /// The records of every engine, this one's included, that exist.
    pub fn installed_engines(&self) -> Vec<Engine> {
        Engine::ALL
            .into_iter()
            .filter(|e| {
                self.state
                    .with_file_name(e.spec().record)
                    .symlink_metadata()
                    .is_ok()
            })
            .collect()
    }

    /// Podman's drop-in directory, `~/.config/containers/containers.conf.d`.
    pub fn containers_conf_dir(&self) -> PathBuf {
        self.config_home.join(CONTAINERS_CONF_DIR)
    }

    /// The engine's unit file in the user unit directory (install writes it for an engine it
    /// generates a unit for; for Podman only where the system ships none).
    pub fn unit_file(&self) -> PathBuf {
        self.unit_dir.join(self.spec().unit)
    }

    /// Our drop-in, for an engine whose unit runs its rootless script (the drop-in sets what
    /// the script reads); none otherwise.
    pub fn drop_in(&self) -> Option<PathBuf> {
        (self.spec().launch() == Some(Launch::Script))
            .then(|| drop_in_path(&self.unit_dir, self.spec().unit))
    }

    /// The engine's default data directory, `$XDG_DATA_HOME/docker` or
    /// `~/.local/share/docker` (what dockerd uses in rootless mode without `--data-root`).
    pub fn default_data_root(&self) -> PathBuf {
        paths::default_data_root(self.engine, &self.data_home)
    }

    /// The directories install writes files into: the unit directory, our drop-in's, Podman's
    /// drop-in directory and the record's (swept of temporary files a killed run left, see
    /// [`crate::atomic::sweep`]).
    pub fn written_dirs(&self) -> Vec<PathBuf> {
        [
            Some(self.unit_file()),
            self.drop_in(),
            Some(self.containers_conf_dir().join("x")),
            Some(self.state.clone()),
        ]
        .iter()
        .flatten()
        .filter_map(|p| p.parent().map(std::path::Path::to_path_buf))
        .collect()
    }

    /// `path` with the home directory shown as `~`, for messages.
    pub fn short(&self, path: &std::path::Path) -> String {
        match path.strip_prefix(&self.home) {
            Ok(rest)
                if !self.home.as_os_str().is_empty() && self.home != std::path::Path::new("/") =>
            {
                format!("~/{}", rest.display())
            }
            _ => path.display().to_string(),
        }
    }
}

#[cfg(test)]
impl Paths {
    /// The paths of `dev` (the running uid) whose home is `home`, with the default XDG layout.
    pub fn under(home: &std::path::Path) -> Paths {
        Paths {
            engine: Engine::Docker,
            uid: nix::unistd::getuid().as_raw(),
            user: "dev".into(),
            home: home.to_path_buf(),
            runtime_dir: "/run/user/1000".into(),
            unit_dir: unit_dir(None, home),
            state: state::path(None, home, Engine::Docker),
            docker_config: home.join(".docker"),
            data_home: paths::data_home(None, home),
            config_home: paths::config_home(None, home),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_xdg_variables() {
        let caller = Caller::new(4242, 4242)
            .with_var("HOME", "/home/dev")
            .with_var("USER", "dev");
        let p = Paths::of(&caller, Engine::Docker).unwrap();
        assert_eq!(p.runtime_dir, PathBuf::from("/run/user/4242"));
        assert_eq!(p.socket(), PathBuf::from("/run/user/4242/docker.sock"));
        assert_eq!(
            p.unit_file(),
            PathBuf::from("/home/dev/.config/systemd/user/docker.service")
        );
        assert_eq!(
            p.drop_in(),
            Some(PathBuf::from(
                "/home/dev/.config/systemd/user/docker.service.d/10-rootless-setup.conf"
            ))
        );
        assert_eq!(
            p.state,
            PathBuf::from("/home/dev/.local/state/rootless-setup/state.json")
        );
        assert_eq!(
            p.default_data_root(),
            PathBuf::from("/home/dev/.local/share/docker")
        );
        assert_eq!(
            p.short(&p.unit_file()),
            "~/.config/systemd/user/docker.service"
        );
        assert_eq!(p.short(std::path::Path::new("/etc/x")), "/etc/x");

        let xdg = caller
            .with_var("XDG_RUNTIME_DIR", "/run/user/9")
            .with_var("XDG_CONFIG_HOME", "/c")
            .with_var("XDG_STATE_HOME", "/s")
            .with_var("XDG_DATA_HOME", "/d");
        let p = Paths::of(&xdg, Engine::Docker).unwrap();
        assert_eq!(p.socket(), PathBuf::from("/run/user/9/docker.sock"));
        assert_eq!(
            p.unit_file(),
            PathBuf::from("/c/systemd/user/docker.service")
        );
        assert_eq!(p.state, PathBuf::from("/s/rootless-setup/state.json"));
        assert_eq!(p.default_data_root(), PathBuf::from("/d/docker"));
    }

    #[test]
    fn each_engine_has_its_record_socket_and_context() {
        let caller = Caller::new(4242, 4242).with_var("HOME", "/home/dev");
        let p = Paths::of(&caller, Engine::Podman).unwrap();
        assert_eq!(
            p.state,
            PathBuf::from("/home/dev/.local/state/rootless-setup/podman.json")
        );
        assert_eq!(
            p.socket(),
            PathBuf::from("/run/user/4242/podman/podman.sock")
        );
        assert_eq!(p.started_unit(), "podman.socket");
        assert_eq!(p.context(), Some("rootless-podman"));
        assert_eq!(
            p.containers_conf_dir(),
            PathBuf::from("/home/dev/.config/containers/containers.conf.d")
        );
        assert_eq!(
            p.default_data_root(),
            PathBuf::from("/home/dev/.local/share/containers")
        );
        let c = Paths::of(&caller, Engine::Containerd).unwrap();
        assert_eq!(
            c.socket(),
            PathBuf::from("/run/user/4242/containerd/containerd.sock"),
            "the bind-mounted socket under the runtime dir"
        );
        assert_eq!(c.context(), None);
        assert_eq!(
            (c.unit_file(), c.drop_in()),
            (
                PathBuf::from("/home/dev/.config/systemd/user/containerd.service"),
                None
            ),
            "containerd's unit runs the script's steps: no drop-in"
        );
        assert_eq!(p.drop_in(), None);
        let d = Paths::of(&caller, Engine::Docker).unwrap();
        assert_eq!(
            d.state.parent(),
            p.state.parent(),
            "one directory, one lock"
        );
        assert_eq!(d.context(), Some("rootless"));
    }

    #[test]
    fn commands_on_an_install_pick_the_one_installed_or_ask() {
        let home = tempfile::tempdir().unwrap();
        let caller = Caller::new(4242, 4242).with_var("HOME", home.path().to_str().unwrap());
        let of = |chosen| Paths::of_installed(&caller, chosen, "status").map(|p| p.engine);
        assert_eq!(
            of(None).unwrap(),
            Engine::Docker,
            "nothing installed: docker"
        );
        let state_dir = home.path().join(".local/state/rootless-setup");
        std::fs::create_dir_all(&state_dir).unwrap();
        std::fs::write(state_dir.join("podman.json"), "{}").unwrap();
        assert_eq!(of(None).unwrap(), Engine::Podman);
        assert_eq!(of(Some(Engine::Docker)).unwrap(), Engine::Docker);
        std::fs::write(state_dir.join("state.json"), "{}").unwrap();
        let err = of(None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "docker and podman are installed; status acts on one engine at a time"
        );
        let hinted = err.downcast_ref::<crate::style::Hinted>().unwrap();
        assert_eq!(
            hinted.help,
            [
                "rootless-setup status --engine docker",
                "rootless-setup status --engine podman"
            ]
        );
        assert_eq!(of(Some(Engine::Podman)).unwrap(), Engine::Podman);
    }

    #[test]
    fn installed_engines_are_the_records_that_exist() {
        let home = tempfile::tempdir().unwrap();
        let mut p = Paths::under(home.path());
        assert!(p.installed_engines().is_empty());
        std::fs::create_dir_all(p.state.parent().unwrap()).unwrap();
        p.engine = Engine::Podman;
        std::fs::write(p.state.with_file_name("podman.json"), "{}").unwrap();
        assert_eq!(p.installed_engines(), [Engine::Podman]);
        std::fs::write(p.state.with_file_name("state.json"), "{}").unwrap();
        assert_eq!(p.installed_engines(), [Engine::Docker, Engine::Podman]);
    }

    #[test]
    fn no_home_is_a_hinted_error() {
        let err = Paths::of(&Caller::new(1, 1), Engine::Docker).unwrap_err();
        assert!(err.to_string().starts_with("HOME is not set"), "{err}");
    }
}
