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

/// The devices an adapter is pointed at: instance 0 (the source) and 1 (the
/// destination of round trips), from the runner's options or the
/// environment.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Named {
    /// The names, by instance.
    pub devices: [Option<String>; 2],
}

impl Named {
    /// Names read from the environment variables `vars`; empty ones are unset.
    pub fn from_env(vars: [&str; 2]) -> Self {
        let get = |v: &str| std::env::var(v).ok().filter(|s| !s.trim().is_empty());
        Named {
            devices: [get(vars[0]), get(vars[1])],
        }
    }

    /// Names given in full, overriding nothing.
    pub fn new(source: Option<String>, destination: Option<String>) -> Self {
        Named {
            devices: [source, destination],
        }
    }

    /// The name of instance `index`, or `NotConfigured` saying how to set it.
    pub fn get(&self, index: usize, var: &str, what: &str) -> Result<&str, DeviceError> {
        self.devices[index.min(1)]
            .as_deref()
            .ok_or_else(|| DeviceError::NotConfigured(format!("set {var} to {what}")))
    }
}

/// Opens instance `index` for an adapter whose device code is not in this
/// version: unconfigured it is `NotConfigured`, named it is `Unusable`, so a
/// run never passes without a device.
#[cfg(any(feature = "adapter-vfio", feature = "adapter-vfio-user"))]
pub(crate) fn not_yet<P: vfio_mig_model::Protocol>(
    named: &Named,
    index: usize,
    vars: [&str; 2],
    what: &str,
    adapter: &str,
) -> Result<Box<dyn crate::device::Device<P>>, DeviceError> {
    let var = vars[index.min(1)];
    let device = named.get(index, var, what)?;
    Err(DeviceError::Unusable(format!(
        "{device}: the {adapter} adapter cannot drive devices in this version"
    )))
}
