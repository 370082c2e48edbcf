//! Adapters for real implementations, each behind its cargo feature.
//!
//! Each reads its configuration from the environment (the runner's options
//! set the same variables). Unconfigured, it reports `NotConfigured` so every
//! test shows as ignored with the reason.

#[cfg(feature = "adapter-vfio")]
pub mod vfio;
#[cfg(feature = "adapter-vfio-user")]
pub mod vfio_user;

use crate::device::DeviceError;

/// Reads a configuration variable; unset or empty is `NotConfigured` with
/// `what` as the reason.
pub fn env_var(name: &str, what: &str) -> Result<String, DeviceError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(DeviceError::NotConfigured(format!("set {name} to {what}"))),
    }
}
