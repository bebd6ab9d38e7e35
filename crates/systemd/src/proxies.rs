//! zbus proxies for the parts of systemd's and logind's D-Bus APIs that install, uninstall and
//! status use, with the signatures of org.freedesktop.systemd1(5) and org.freedesktop.login1(5).
//!
//! Every property is declared `emits_changed_signal = "false"`: the proxies never cache, so each
//! read asks the service and sees the state of that moment (systemd does emit changes for most
//! of them, but a cache would need the connection driven between reads, and a status read once
//! gains nothing from it).
//!
//! These are the raw async proxies; [`crate::UserManager`] and [`crate::Login`] wrap them in
//! blocking calls with deadlines and typed errors.

use zbus::OwnedObjectPath;

/// One change `EnableUnitFiles`/`DisableUnitFiles` made: `(type, symlink, destination)`, where
/// `type` is `symlink` or `unlink` (`destination` is empty for `unlink`).
pub type RawUnitFileChange = (String, String, String);

/// `org.freedesktop.systemd1.Manager` at `/org/freedesktop/systemd1`: on the user bus, the
/// user's own service manager (`systemd --user`).
#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
pub trait SystemdManager {
    /// Asks the manager to send job and unit signals (`JobRemoved`, …) to this connection until
    /// it closes.
    fn subscribe(&self) -> zbus::Result<()>;

    /// `daemon-reload`: re-reads every unit file. Replies once the reload is complete.
    fn reload(&self) -> zbus::Result<()>;

    /// `EnableUnitFiles(as files, b runtime, b force) -> (b carries_install_info, a(sss) changes)`.
    fn enable_unit_files(
        &self,
        files: &[&str],
        runtime: bool,
        force: bool,
    ) -> zbus::Result<(bool, Vec<RawUnitFileChange>)>;

    /// `DisableUnitFiles(as files, b runtime) -> a(sss) changes`.
    fn disable_unit_files(
        &self,
        files: &[&str],
        runtime: bool,
    ) -> zbus::Result<Vec<RawUnitFileChange>>;

    /// `StartUnit(s name, s mode) -> o job`.
    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;

    /// `RestartUnit(s name, s mode) -> o job`.
    fn restart_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;

    /// `StopUnit(s name, s mode) -> o job`.
    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;

    /// `ResetFailedUnit(s name)`: forgets the failed state and the restart counter.
    fn reset_failed_unit(&self, name: &str) -> zbus::Result<()>;

    /// `LoadUnit(s name) -> o unit`: the unit's object, loading it from disk when needed (a unit
    /// without a file loads as `not-found`).
    fn load_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;

    /// `GetUnit(s name) -> o unit`: the unit's object if it is loaded, else `NoSuchUnit`.
    fn get_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;

    /// `JobRemoved(u id, o job, s unit, s result)`: a job finished with `result`.
    #[zbus(signal)]
    fn job_removed(
        &self,
        id: u32,
        job: OwnedObjectPath,
        unit: String,
        result: String,
    ) -> zbus::Result<()>;
}

/// `org.freedesktop.systemd1.Unit`, at the path `LoadUnit`/`GetUnit` return.
#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Unit",
    default_service = "org.freedesktop.systemd1"
)]
pub trait SystemdUnit {
    /// `stub`, `loaded`, `not-found`, `bad-setting`, `error`, `merged` or `masked`.
    #[zbus(property(emits_changed_signal = "false"))]
    fn load_state(&self) -> zbus::Result<String>;

    /// `active`, `reloading`, `inactive`, `failed`, `activating`, `deactivating`, …
    #[zbus(property(emits_changed_signal = "false"))]
    fn active_state(&self) -> zbus::Result<String>;

    /// The type-specific state, such as `running`, `dead`, `start-pre` or `auto-restart`.
    #[zbus(property(emits_changed_signal = "false"))]
    fn sub_state(&self) -> zbus::Result<String>;

    /// `enabled`, `disabled`, `static`, `linked`, `masked`, … or empty without a unit file.
    #[zbus(property(emits_changed_signal = "false"))]
    fn unit_file_state(&self) -> zbus::Result<String>;

    /// The unit file the unit was loaded from, empty if none.
    #[zbus(property(emits_changed_signal = "false"))]
    fn fragment_path(&self) -> zbus::Result<String>;

    /// The drop-in files applied to the unit.
    #[zbus(property(emits_changed_signal = "false"))]
    fn drop_in_paths(&self) -> zbus::Result<Vec<String>>;

    /// Whether a unit file or drop-in changed on disk since the last reload.
    #[zbus(property(emits_changed_signal = "false"))]
    fn need_daemon_reload(&self) -> zbus::Result<bool>;
}

/// `org.freedesktop.systemd1.Service`, at the same path as the unit of a `.service`.
#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Service",
    default_service = "org.freedesktop.systemd1"
)]
pub trait SystemdService {
    /// The main process, 0 when there is none.
    #[zbus(property(emits_changed_signal = "false"), name = "MainPID")]
    fn main_pid(&self) -> zbus::Result<u32>;

    /// The exit status (or signal) of the last main process.
    #[zbus(property(emits_changed_signal = "false"))]
    fn exec_main_status(&self) -> zbus::Result<i32>;

    /// Why the service last stopped: `success`, `exit-code`, `signal`, `timeout`, …
    #[zbus(property(emits_changed_signal = "false"))]
    fn result(&self) -> zbus::Result<String>;
}

/// `org.freedesktop.login1.Manager` at `/org/freedesktop/login1`, on the system bus.
#[zbus::proxy(
    interface = "org.freedesktop.login1.Manager",
    default_service = "org.freedesktop.login1",
    default_path = "/org/freedesktop/login1"
)]
pub trait LoginManager {
    /// `SetUserLinger(u uid, b enable, b interactive)`: authorised by polkit
    /// (`org.freedesktop.login1.set-self-linger` for one's own uid,
    /// `…set-user-linger` otherwise); root may always.
    fn set_user_linger(&self, uid: u32, enable: bool, interactive: bool) -> zbus::Result<()>;

    /// `GetUser(u uid) -> o user`: fails with `org.freedesktop.login1.NoSuchUser` when logind
    /// does not track the uid (no session and no linger).
    fn get_user(&self, uid: u32) -> zbus::Result<OwnedObjectPath>;
}

/// `org.freedesktop.login1.User`, at the path `GetUser` returns.
#[zbus::proxy(
    interface = "org.freedesktop.login1.User",
    default_service = "org.freedesktop.login1"
)]
pub trait LoginUser {
    /// Whether the user's manager keeps running without a session.
    #[zbus(property(emits_changed_signal = "false"))]
    fn linger(&self) -> zbus::Result<bool>;
}
