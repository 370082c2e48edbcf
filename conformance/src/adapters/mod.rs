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

/// Opens instance `index` of a device named by `vars[0]` (source) or
/// `vars[1]` (destination) for an adapter whose device code is not in this
/// version: unconfigured it is `NotConfigured`, named it is `Unusable`, so a
/// run never passes without a device.
#[cfg(any(feature = "adapter-vfio", feature = "adapter-vfio-user"))]
pub(crate) fn not_yet<P: vfio_mig_model::Protocol>(
    index: usize,
    vars: [&str; 2],
    what: &str,
    adapter: &str,
) -> Result<Box<dyn crate::device::Device<P>>, DeviceError> {
    let var = vars[index.min(1)];
    let named = env_var(var, what)?;
    Err(DeviceError::Unusable(format!(
        "{var}={named}: the {adapter} adapter cannot drive devices in this version"
    )))
}
