//! The `uidmap` and `userns.*` checks: the setuid mapping helpers, the kernel's user namespace
//! sysctls, Ubuntu's AppArmor restriction, and the decisive probe that maps the full
//! subordinate ranges into a fresh user namespace.

mod apparmor;
mod probe;
mod sysctl;
mod uidmap;

pub(crate) use apparmor::apparmor;
pub(crate) use probe::probe;
pub(crate) use sysctl::sysctl;
pub(crate) use uidmap::uidmap;
