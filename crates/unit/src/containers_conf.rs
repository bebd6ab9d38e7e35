//! Podman's `containers.conf` drop-in for a user manager without delegated cgroup controllers:
//! containers with cgroups disabled, run by crun (runc refuses that). The smallest override that
//! lets rootless Podman run containers there; written to the user's
//! `$XDG_CONFIG_HOME/containers/containers.conf.d/`, which Podman reads after the distribution's
//! `containers.conf` (Podman 4.3 and later), with the generated-file header like every file
//! install writes.

use std::path::Path;

use rootless_setup_core::template::{self, context};

use crate::header;
use crate::render::{FileKind, RenderError, RenderedFile};

/// The drop-in template.
pub const CONTAINERS_CONF_TEMPLATE: &str =
    include_str!("../../../templates/podman/containers.conf.j2");

/// Podman's user drop-in directory, relative to `$XDG_CONFIG_HOME`.
pub const CONTAINERS_CONF_DIR: &str = "containers/containers.conf.d";

/// Our drop-in's name: `50-` so that the user's own later files win.
pub const CONTAINERS_CONF_NAME: &str = "50-rootless-setup.conf";

/// The OCI runtime the drop-in selects: the one that runs containers with cgroups disabled.
pub const RUNTIME_WITHOUT_CGROUPS: &str = "crun";

/// The drop-in under `config_home`.
pub fn containers_conf(config_home: &Path) -> Result<RenderedFile, RenderError> {
    let body = template::render(
        "containers.conf",
        CONTAINERS_CONF_TEMPLATE,
        context! { runtime => RUNTIME_WITHOUT_CGROUPS },
    )?;
    Ok(RenderedFile {
        path: config_home
            .join(CONTAINERS_CONF_DIR)
            .join(CONTAINERS_CONF_NAME),
        kind: FileKind::Config,
        contents: header::with_header(&body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{FileOrigin, classify};

    #[test]
    fn the_drop_in_turns_cgroups_off_with_crun_and_is_ours() {
        let f = containers_conf(Path::new("/home/dev/.config")).unwrap();
        assert_eq!(
            f.path,
            Path::new("/home/dev/.config/containers/containers.conf.d/50-rootless-setup.conf")
        );
        assert_eq!(classify(&f.contents), FileOrigin::Ours { edited: false });
        let settings: Vec<&str> = f
            .contents
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect();
        assert_eq!(
            settings,
            [
                "[containers]",
                "cgroups = \"disabled\"",
                "[engine]",
                "runtime = \"crun\""
            ]
        );
        let parsed: toml::Table = toml::from_str(&f.contents).unwrap();
        assert_eq!(parsed["containers"]["cgroups"].as_str(), Some("disabled"));
        assert_eq!(parsed["engine"]["runtime"].as_str(), Some("crun"));
    }
}
