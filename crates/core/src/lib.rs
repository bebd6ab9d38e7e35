//! The facts every rootless-setup crate shares, and nothing that talks to the system beyond
//! reading a file and running a program: check ids ([`catalogue`]) and their results
//! ([`finding`], [`report`]); the data the crates hand each other ([`model`]) and one
//! description per engine ([`engine`]); the rules that both judge a host and shape a unit
//! ([`network`], [`version`]); what runs as PID 1 and what kind of host this is ([`init`]);
//! distributions and their packages ([`distro`]); what a fix does,
//! as data, and the files it writes ([`remedy`]); accounts and the rule for whom a root script
//! may act ([`passwd`], [`accounts`], [`subid`]); shell quoting
//! ([`shell`]); the user's XDG directories ([`paths`]); template rendering ([`template`]); the one
//! bounded reader of files ([`read`], [`host`]); and the one way to find and run a program
//! ([`process`]).
//!
//! The checker (`rootless-setup-checks`) adds the probes; the unit generator and the fix script
//! depend on this crate only, never on the checker or D-Bus.

pub mod accounts;
pub mod catalogue;
pub mod distro;
pub mod engine;
pub mod finding;
pub mod host;
#[cfg(any(test, feature = "testing"))]
pub mod hostile;
pub mod init;
pub mod known_versions;
pub mod model;
pub mod network;
pub mod passwd;
pub mod paths;
pub mod process;
pub mod read;
pub mod remedy;
pub mod report;
pub mod shell;
pub mod subid;
pub mod template;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod version;

pub use catalogue::CheckId;
pub use distro::Distro;
pub use finding::{Finding, Fix, Observation, Status};
pub use host::Host;
pub use model::{Account, Binary, Engine, Facts, IdRange, NetworkPlan};
pub use remedy::Remedy;
pub use report::{Report, SCHEMA_VERSION};

/// The directories every `PATH` the tool builds ends with: the unit's (after the discovered
/// binaries' directories) and the smoke run's (after the caller's).
pub const SYSTEM_PATH: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Below this many user namespaces `userns.sysctl` warns (nested builds run out).
pub const MAX_USER_NAMESPACES_WARN_BELOW: u64 = 1000;

/// What fixes set `user.max_user_namespaces` to (the value RHEL documents for rootless
/// containers).
pub const MAX_USER_NAMESPACES_FIX: &str = "15000";
