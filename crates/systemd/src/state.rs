//! Typed snapshots of what the user manager reports: a unit's state and the changes
//! `EnableUnitFiles`/`DisableUnitFiles` made.

use std::path::PathBuf;

use serde::Serialize;

/// Declares an enum of systemd's state strings with a catch-all `Other(String)`, parsing that
/// never fails and serialising as the string.
macro_rules! state_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $s:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// Any other value (a newer systemd), verbatim.
            Other(String),
        }

        impl $name {
            /// Parses systemd's string; unknown values are kept in `Other`.
            pub fn parse(s: &str) -> $name {
                match s {
                    $($s => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                }
            }

            /// The string systemd uses.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $s,)*
                    $name::Other(s) => s,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

state_enum! {
    /// A unit's `LoadState`.
    LoadState {
        /// Not loaded yet.
        Stub = "stub",
        /// Loaded from its unit file.
        Loaded = "loaded",
        /// No unit file of that name.
        NotFound = "not-found",
        /// The unit file has a setting systemd refuses.
        BadSetting = "bad-setting",
        /// Loading failed.
        Error = "error",
        /// Merged into another unit (an alias).
        Merged = "merged",
        /// Masked (linked to `/dev/null`).
        Masked = "masked",
    }
}

state_enum! {
    /// A unit's `ActiveState`.
    ActiveState {
        /// Running (or, for oneshot units with `RemainAfterExit=`, done).
        Active = "active",
        /// Reloading its configuration.
        Reloading = "reloading",
        /// Not running.
        Inactive = "inactive",
        /// Not running, and the last run failed.
        Failed = "failed",
        /// Starting.
        Activating = "activating",
        /// Stopping.
        Deactivating = "deactivating",
        /// Inactive while maintenance runs (cleaning, …).
        Maintenance = "maintenance",
        /// Refreshing extensions (systemd 256+).
        Refreshing = "refreshing",
    }
}

/// A unit's state as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitState {
    /// The unit asked about.
    pub unit: String,
    /// `LoadState`.
    pub load: LoadState,
    /// `ActiveState`.
    pub active: ActiveState,
    /// `SubState`, such as `running`, `dead`, `start` or `auto-restart`.
    pub sub: String,
    /// `UnitFileState`: `enabled`, `disabled`, `static`, `linked`, … (empty without a file).
    pub unit_file_state: String,
    /// `FragmentPath`: the unit file, if any.
    pub fragment_path: Option<PathBuf>,
    /// `DropInPaths`.
    pub drop_ins: Vec<PathBuf>,
    /// `NeedDaemonReload`: a file changed since the last reload.
    pub need_daemon_reload: bool,
    /// A service's `MainPID`, when it has a main process.
    pub main_pid: Option<u32>,
    /// A service's `ExecMainStatus`: the exit status (or signal number) of its last main process.
    pub exec_main_status: Option<i32>,
    /// A service's `Result`: `success`, `exit-code`, `signal`, `timeout`, `protocol`, …
    pub result: Option<String>,
}

impl UnitState {
    /// Whether a unit file of that name exists (the unit is not `not-found`).
    pub fn exists(&self) -> bool {
        self.load != LoadState::NotFound
    }

    /// Whether the unit is active.
    pub fn is_active(&self) -> bool {
        self.active == ActiveState::Active
    }

    /// Whether the unit's last run failed.
    pub fn is_failed(&self) -> bool {
        self.active == ActiveState::Failed
    }
}

/// One change `EnableUnitFiles`/`DisableUnitFiles` made to the file system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitFileChange {
    /// `symlink` or `unlink` (newer systemd reports a few more kinds, kept verbatim).
    pub kind: String,
    /// The symlink created or removed, such as
    /// `~/.config/systemd/user/default.target.wants/docker.service`.
    pub path: PathBuf,
    /// What a new symlink points to; `None` for `unlink`.
    pub destination: Option<PathBuf>,
}

impl UnitFileChange {
    pub(crate) fn from_raw((kind, path, destination): (String, String, String)) -> Self {
        UnitFileChange {
            kind,
            path: PathBuf::from(path),
            destination: non_empty_path(destination),
        }
    }
}

/// What `enable` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enabled {
    /// Whether the units have an `[Install]` section. `false` means enabling did nothing: the
    /// unit cannot be enabled, only started.
    pub carries_install_info: bool,
    /// The symlinks created (empty when the units were enabled already).
    pub changes: Vec<UnitFileChange>,
}

/// `Some(path)` unless `s` is empty.
pub(crate) fn non_empty_path(s: String) -> Option<PathBuf> {
    (!s.is_empty()).then(|| PathBuf::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_parse_and_print_back() {
        for s in ["loaded", "not-found", "bad-setting", "masked", "weird", ""] {
            assert_eq!(LoadState::parse(s).as_str(), s);
        }
        for s in ["active", "failed", "activating", "refreshing", "new-state"] {
            assert_eq!(ActiveState::parse(s).as_str(), s);
        }
        assert_eq!(LoadState::parse("not-found"), LoadState::NotFound);
        assert_eq!(
            ActiveState::parse("new-state"),
            ActiveState::Other("new-state".into())
        );
    }

    #[test]
    fn unit_state_helpers_and_json() {
        let state = UnitState {
            unit: "docker.service".into(),
            load: LoadState::Loaded,
            active: ActiveState::Failed,
            sub: "failed".into(),
            unit_file_state: "enabled".into(),
            fragment_path: Some("/home/dev/.config/systemd/user/docker.service".into()),
            drop_ins: vec![],
            need_daemon_reload: false,
            main_pid: None,
            exec_main_status: Some(1),
            result: Some("exit-code".into()),
        };
        assert!(state.exists() && state.is_failed() && !state.is_active());
        let json = serde_json::to_value(&state).expect("serialise");
        assert_eq!(json["load"], "loaded");
        assert_eq!(json["active"], "failed");
        assert_eq!(json["main_pid"], serde_json::Value::Null);
        let missing = UnitState {
            load: LoadState::NotFound,
            ..state
        };
        assert!(!missing.exists());
    }

    #[test]
    fn raw_changes_are_typed() {
        let c = UnitFileChange::from_raw((
            "symlink".into(),
            "/h/.config/systemd/user/default.target.wants/a.service".into(),
            "/h/.config/systemd/user/a.service".into(),
        ));
        assert_eq!(
            c.destination.as_deref(),
            Some(std::path::Path::new("/h/.config/systemd/user/a.service"))
        );
        let u = UnitFileChange::from_raw(("unlink".into(), "/x".into(), String::new()));
        assert_eq!(u.destination, None);
    }
}
