//! Where a user's files are, by the XDG base directory rules: the systemd user unit directory
//! and the engine's default data directory. The checker looks there and the commands write
//! there, so both follow these rules.
//!
//! An XDG variable counts only when it holds an absolute path: the specification says to ignore
//! a relative one, and an unset or empty one falls back to the default under the home directory.

use std::path::{Path, PathBuf};

use crate::model::Engine;

/// The value of an XDG base directory variable, when it counts: an absolute path.
pub fn xdg_dir(value: Option<&str>) -> Option<PathBuf> {
    value.filter(|v| v.starts_with('/')).map(PathBuf::from)
}

/// `$XDG_CONFIG_HOME`, or `~/.config`.
pub fn config_home(xdg_config_home: Option<&str>, home: &Path) -> PathBuf {
    xdg_dir(xdg_config_home).unwrap_or_else(|| home.join(".config"))
}

/// Where the system keeps user units for every user (systemd.unit(5)'s user unit search path
/// without the user's own directories; `/lib/systemd/user` for systems without merged `/usr`).
pub const SYSTEM_USER_UNIT_DIRS: &[&str] = &[
    "/etc/systemd/user",
    "/run/systemd/user",
    "/usr/local/lib/systemd/user",
    "/usr/lib/systemd/user",
    "/lib/systemd/user",
];

/// `$XDG_DATA_HOME`, or `~/.local/share`.
pub fn data_home(xdg_data_home: Option<&str>, home: &Path) -> PathBuf {
    xdg_dir(xdg_data_home).unwrap_or_else(|| home.join(".local/share"))
}

/// `$XDG_CACHE_HOME`, or `~/.cache`.
pub fn cache_home(xdg_cache_home: Option<&str>, home: &Path) -> PathBuf {
    xdg_dir(xdg_cache_home).unwrap_or_else(|| home.join(".cache"))
}

/// `$XDG_STATE_HOME`, or `~/.local/state`.
pub fn state_home(xdg_state_home: Option<&str>, home: &Path) -> PathBuf {
    xdg_dir(xdg_state_home).unwrap_or_else(|| home.join(".local/state"))
}

/// The systemd user unit directory: `systemd/user` under [`config_home`].
pub fn unit_dir(xdg_config_home: Option<&str>, home: &Path) -> PathBuf {
    config_home(xdg_config_home, home).join("systemd/user")
}

/// Where `engine` keeps its data in rootless mode without `--data-root`: its directory under
/// `data_home` ([`data_home`]).
pub fn default_data_root(engine: Engine, data_home: &Path) -> PathBuf {
    data_home.join(engine.spec().data_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_under_home() {
        let home = Path::new("/home/dev");
        assert_eq!(
            unit_dir(None, home),
            PathBuf::from("/home/dev/.config/systemd/user")
        );
        assert_eq!(
            data_home(None, home),
            PathBuf::from("/home/dev/.local/share")
        );
        assert_eq!(
            state_home(None, home),
            PathBuf::from("/home/dev/.local/state")
        );
        assert_eq!(
            default_data_root(Engine::Docker, &data_home(None, home)),
            PathBuf::from("/home/dev/.local/share/docker")
        );
        assert_eq!(
            default_data_root(Engine::Containerd, &data_home(None, home)),
            PathBuf::from("/home/dev/.local/share/containerd")
        );
    }

    #[test]
    fn only_absolute_variables_count() {
        let home = Path::new("/h");
        assert_eq!(unit_dir(Some("/c"), home), PathBuf::from("/c/systemd/user"));
        assert_eq!(
            unit_dir(Some("rel"), home),
            PathBuf::from("/h/.config/systemd/user")
        );
        assert_eq!(config_home(Some(""), home), PathBuf::from("/h/.config"));
        assert_eq!(data_home(Some("/d"), home), PathBuf::from("/d"));
        assert_eq!(data_home(Some("d"), home), PathBuf::from("/h/.local/share"));
        assert_eq!(state_home(Some("/s"), home), PathBuf::from("/s"));
        assert_eq!(xdg_dir(None), None);
        assert_eq!(xdg_dir(Some("x/y")), None);
        assert_eq!(xdg_dir(Some("/x/y")), Some(PathBuf::from("/x/y")));
    }
}
