//! The D-Bus layer: the only crate of rootless-setup that speaks D-Bus.
//!
//! [`probe`] holds the read-only queries the checker uses (ping the user bus, read the user
//! manager's state, read logind's linger flag). The mutating calls install needs come with it.

pub mod probe;
