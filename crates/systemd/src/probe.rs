//! Read-only queries for the checker. Being written: see the helper brief.

/// Could not ask.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProbeError(pub String);

/// The user manager's self-description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerState {
    /// `Version`.
    pub version: String,
    /// `SystemState`.
    pub state: String,
}

/// Pings the bus at `address`.
pub fn ping(_address: &str) -> Result<(), ProbeError> {
    Err(ProbeError("not implemented yet".into()))
}

/// Reads the user manager's version and state over the bus at `address`.
pub fn manager_state(_address: &str) -> Result<ManagerState, ProbeError> {
    Err(ProbeError("not implemented yet".into()))
}

/// Reads logind's `Linger` property of `uid` from the system bus.
pub fn linger(_uid: u32) -> Result<bool, ProbeError> {
    Err(ProbeError("not implemented yet".into()))
}
