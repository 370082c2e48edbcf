//! A real VFIO device fd, driven through the v2 migration ioctls.
//!
//! Configuration: `VFIO_MIG_DEVICE` names the source device and
//! `VFIO_MIG_DEVICE2` the destination of round trips (two instances of the
//! same device type). The ioctl layer is not in this version yet: a named
//! device is reported unusable, so a run fails loudly instead of passing.

use super::Named;
use crate::device::{Device, DeviceError, DeviceFactory};
use vfio_mig_model::v2::Fsm;

/// The environment variables naming the source and destination.
pub const VARS: [&str; 2] = ["VFIO_MIG_DEVICE", "VFIO_MIG_DEVICE2"];

/// Opens VFIO devices: named by the runner's options or by [`VARS`].
#[derive(Debug, Default, Clone)]
pub struct Factory {
    named: Named,
}

impl Factory {
    /// Names from the environment.
    pub fn from_env() -> Self {
        Factory {
            named: Named::from_env(VARS),
        }
    }

    /// Names given explicitly (the runner's `--device` and `--device2`),
    /// falling back to the environment for the ones not given.
    pub fn with_devices(source: Option<String>, destination: Option<String>) -> Self {
        let env = Named::from_env(VARS);
        let [a, b] = env.devices;
        Factory {
            named: Named::new(source.or(a), destination.or(b)),
        }
    }
}

impl DeviceFactory<Fsm> for Factory {
    fn open(&self, index: usize) -> Result<Box<dyn Device<Fsm>>, DeviceError> {
        super::not_yet(
            &self.named,
            index,
            VARS,
            "a VFIO device (an mdev UUID or /dev/vfio/devices/vfioN)",
            "VFIO fd",
        )
    }
}
