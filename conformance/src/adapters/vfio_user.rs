//! A vfio-user device server over a UNIX socket.
//!
//! Configuration: `VFIO_MIG_SOCKET` is the source server's socket and
//! `VFIO_MIG_SOCKET2` the destination's. The protocol client is not in this
//! version yet: a named socket is reported unusable, so a run fails loudly
//! instead of passing.

use crate::device::{Device, DeviceError, DeviceFactory};
use vfio_mig_model::v2::Fsm;

/// Connects to vfio-user servers named by the environment.
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
            ["VFIO_MIG_SOCKET", "VFIO_MIG_SOCKET2"],
            "the UNIX socket of a vfio-user server",
            "vfio-user",
        )
    }
}
