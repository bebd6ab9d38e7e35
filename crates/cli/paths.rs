//! Where things are for the calling user: the unit directory, the install record, the engine's
//! socket and data directory, the docker client's configuration. Shared by `install`,
//! `uninstall` and `status`, so all three look in the same places.

use std::path::PathBuf;

use rootless_setup_checks::Caller;
use rootless_setup_core::model::Engine;
use rootless_setup_core::paths::{self, unit_dir};
use rootless_setup_unit::{DOCKER_DROPIN, DOCKER_UNIT};

use crate::style::hinted;
use crate::{docker_context, state};

/// Docker's API socket under `$XDG_RUNTIME_DIR`.
const DOCKER_SOCKET: &str = match Engine::Docker.spec().api_socket {
    Some(socket) => socket,
    None => panic!("Docker's description names its API socket"),
};

/// The caller's paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
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
}

impl Paths {
    /// From the caller's environment; fails only without an absolute `HOME`.
    pub fn of(caller: &Caller) -> anyhow::Result<Paths> {
        let home = match caller.var("HOME") {
            Some(h) if h.starts_with('/') => PathBuf::from(h),
            _ => {
                return Err(hinted(
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
        let user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(caller.uid))
            .ok()
            .flatten()
            .map(|u| u.name)
            .or_else(|| caller.var("USER").map(str::to_owned))
            .unwrap_or_else(|| caller.uid.to_string());
        Ok(Paths {
            uid: caller.uid,
            user,
            unit_dir: unit_dir(caller.var("XDG_CONFIG_HOME"), &home),
            state: state::path(caller.var("XDG_STATE_HOME"), &home),
            docker_config: docker_context::config_dir(caller, &home),
            data_home: paths::data_home(caller.var("XDG_DATA_HOME"), &home),
            runtime_dir,
            home,
        })
    }

    /// The engine's API socket, `$XDG_RUNTIME_DIR/docker.sock`.
    pub fn socket(&self) -> PathBuf {
        self.runtime_dir.join(DOCKER_SOCKET)
    }

    /// The standard unit file.
    pub fn unit_file(&self) -> PathBuf {
        self.unit_dir.join(DOCKER_UNIT)
    }

    /// Our standard drop-in.
    pub fn drop_in(&self) -> PathBuf {
        self.unit_dir.join(DOCKER_DROPIN)
    }

    /// The engine's default data directory, `$XDG_DATA_HOME/docker` or
    /// `~/.local/share/docker` (what dockerd uses in rootless mode without `--data-root`).
    pub fn default_data_root(&self) -> PathBuf {
        paths::default_data_root(Engine::Docker, &self.data_home)
    }

    /// The directories install writes files into: the unit directory, our drop-in's and the
    /// record's (swept of temporary files a killed run left, see [`crate::atomic::sweep`]).
    pub fn written_dirs(&self) -> Vec<PathBuf> {
        [self.unit_file(), self.drop_in(), self.state.clone()]
            .iter()
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
            uid: nix::unistd::getuid().as_raw(),
            user: "dev".into(),
            home: home.to_path_buf(),
            runtime_dir: "/run/user/1000".into(),
            unit_dir: unit_dir(None, home),
            state: state::path(None, home),
            docker_config: home.join(".docker"),
            data_home: paths::data_home(None, home),
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
        let p = Paths::of(&caller).unwrap();
        assert_eq!(p.runtime_dir, PathBuf::from("/run/user/4242"));
        assert_eq!(p.socket(), PathBuf::from("/run/user/4242/docker.sock"));
        assert_eq!(
            p.unit_file(),
            PathBuf::from("/home/dev/.config/systemd/user/docker.service")
        );
        assert_eq!(
            p.drop_in(),
            PathBuf::from("/home/dev/.config/systemd/user/docker.service.d/10-rootless-setup.conf")
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
        let p = Paths::of(&xdg).unwrap();
        assert_eq!(p.socket(), PathBuf::from("/run/user/9/docker.sock"));
        assert_eq!(
            p.unit_file(),
            PathBuf::from("/c/systemd/user/docker.service")
        );
        assert_eq!(p.state, PathBuf::from("/s/rootless-setup/state.json"));
        assert_eq!(p.default_data_root(), PathBuf::from("/d/docker"));
    }

    #[test]
    fn no_home_is_a_hinted_error() {
        let err = Paths::of(&Caller::new(1, 1)).unwrap_err();
        assert!(err.to_string().starts_with("HOME is not set"), "{err}");
    }
}
