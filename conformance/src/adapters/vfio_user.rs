//! A vfio-user device server over a UNIX socket.
//!
//! Configuration: `VFIO_MIG_SOCKET` is the source server's socket and
//! `VFIO_MIG_SOCKET2` the destination's. The protocol client is not in this
//! version yet: a named socket is reported unusable, so a run fails loudly
//! instead of passing.

use super::Named;
use crate::device::{Device, DeviceError, DeviceFactory};
use vfio_mig_model::v2::Fsm;

/// The environment variables naming the source and destination.
pub const VARS: [&str; 2] = ["VFIO_MIG_SOCKET", "VFIO_MIG_SOCKET2"];

/// Opens vfio-user servers: named by the runner's options or by [`VARS`].
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
            "the UNIX socket of a vfio-user server",
            "vfio-user",
        )
    }
}
