//! The D-Bus layer: the only crate of rootless-setup that speaks D-Bus.
//!
//! - [`address`]: which bus to use, and the socket path of a D-Bus address.
//! - [`probe`]: the read-only queries the checker uses (ping a bus, the user manager's state,
//!   logind's linger flag).
//! - [`UserManager`]: the calls `install`, `uninstall` and `status` make to the user's systemd
//!   manager — reload, enable, disable, start/restart/stop awaiting the job race-free, reset
//!   failed units, read a unit's state.
//! - [`Login`]: logind's linger flag, on the system bus.
//! - [`proxies`]: the raw zbus proxies underneath.
//!
//! Everything is blocking and bounded by a deadline: zbus is async-only, and these functions
//! drive it with [`zbus::block_on`] on the calling thread, so they must not be called from inside
//! an async task. Failures are [`Error`]s naming the unit, uid or bus address, with the D-Bus
//! error name and message; `docs/dbus.md` describes the calls and the mapping.

pub mod address;
mod call;
mod error;
mod job;
mod login;
pub mod probe;
pub mod proxies;
mod state;
mod user;

pub use call::{CALL_TIMEOUT, CONNECT_TIMEOUT};
pub use error::{Error, names as error_names};
pub use job::{JobOutcome, JobResult};
pub use login::{INTERACTIVE_TIMEOUT, Login};
pub use state::{ActiveState, Enabled, LoadState, UnitFileChange, UnitState};
pub use user::UserManager;
