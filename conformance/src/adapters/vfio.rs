//! A real VFIO device fd, driven through the v2 migration ioctls.
//!
//! Configuration: `VFIO_MIG_DEVICE` names the source device and
//! `VFIO_MIG_DEVICE2` the destination of round trips (two instances of the
//! same device type). The ioctl layer is not in this version yet: a named
//! device is reported unusable, so a run fails loudly instead of passing.

use crate::device::{Device, DeviceError, DeviceFactory};
use vfio_mig_model::v2::Fsm;

/// Opens VFIO devices named by the environment.
#[derive(Debug, Default, Clone)]
pub struct Factory;

impl Factory {
    /// The factory; configuration is read when a device is opened.
    pub fn from_env() -> Self {
        Factory
    }
}

impl DeviceFactory<Fsm> for Factory {
    fn open(&self, index: usize) -> Result<Box<dyn Device<Fsm>>, DeviceError> {
        super::not_yet(
            index,
            ["VFIO_MIG_DEVICE", "VFIO_MIG_DEVICE2"],
            "a VFIO device (an mdev UUID or /dev/vfio/devices/vfioN)",
            "VFIO fd",
        )
    }
}
