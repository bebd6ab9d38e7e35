//! The files install writes for Podman, each with the generated-file header like every file
//! install writes:
//! - the `containers.conf` drop-in for a user manager without delegated cgroup controllers:
//!   containers with cgroups disabled, run by crun (runc refuses that). The smallest override
//!   that lets rootless Podman run containers there; written to the user's
//!   `$XDG_CONFIG_HOME/containers/containers.conf.d/`, which Podman reads after the
//!   distribution's `containers.conf` (Podman 4.3 and later);
//! - `podman.socket` and `podman.service` in the user unit directory, only where the system
//!   ships no `podman.socket` user unit: Podman's own units, with the podman that was found.

use std::path::Path;

use rootless_setup_core::template::{self, context};

use crate::escape;
use crate::header;
use crate::render::{FileKind, RenderError, RenderedFile};

/// The drop-in template.
pub const CONTAINERS_CONF_TEMPLATE: &str = include_str!("../templates/podman/containers.conf.j2");

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

/// Podman's socket unit template.
pub const PODMAN_SOCKET_TEMPLATE: &str = include_str!("../templates/podman/podman.socket.j2");
/// Podman's service unit template.
pub const PODMAN_SERVICE_TEMPLATE: &str = include_str!("../templates/podman/podman.service.j2");

/// `podman.socket` and `podman.service` under `unit_dir`, running `podman`.
pub fn podman_units(podman: &Path, unit_dir: &Path) -> Result<Vec<RenderedFile>, RenderError> {
    let program = escape::exec_path(podman).map_err(|source| RenderError::Value {
        what: format!("program {}", podman.display()),
        source,
    })?;
    let socket = template::render("podman.socket", PODMAN_SOCKET_TEMPLATE, context! {})?;
    let service = template::render(
        "podman.service",
        PODMAN_SERVICE_TEMPLATE,
        context! { podman => program },
    )?;
    Ok(vec![
        RenderedFile {
            path: unit_dir.join("podman.socket"),
            kind: FileKind::Unit,
            contents: header::with_header(&socket),
        },
        RenderedFile {
            path: unit_dir.join("podman.service"),
            kind: FileKind::Unit,
            contents: header::with_header(&service),
        },
    ])
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

    #[test]
    fn podmans_own_units_run_the_podman_found() {
        let files = podman_units(
            Path::new("/opt/podman/bin/podman"),
            Path::new("/home/dev/.config/systemd/user"),
        )
        .unwrap();
        let names: Vec<_> = files.iter().map(|f| f.path.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "/home/dev/.config/systemd/user/podman.socket",
                "/home/dev/.config/systemd/user/podman.service"
            ]
        );
        assert!(
            files[0]
                .contents
                .contains("\nListenStream=%t/podman/podman.sock\n")
        );
        assert!(
            files[1]
                .contents
                .contains("\nExecStart=\"/opt/podman/bin/podman\" $LOGGING system service\n"),
            "{}",
            files[1].contents
        );
        assert!(
            files
                .iter()
                .all(|f| classify(&f.contents) == FileOrigin::Ours { edited: false })
        );
        let spaced = podman_units(Path::new("/opt/my podman/podman"), Path::new("/u")).unwrap();
        assert!(
            spaced[1]
                .contents
                .contains("ExecStart=\"/opt/my podman/podman\" $LOGGING")
        );
        let err = podman_units(Path::new("bin/podman"), Path::new("/u")).unwrap_err();
        assert!(err.to_string().starts_with("program bin/podman "), "{err}");
    }
}
