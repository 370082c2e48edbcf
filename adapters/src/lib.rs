//! Adapters for real implementations, each behind its cargo feature:
//! `vfio` (a kernel VFIO device fd) and `vfio-user` (a vfio-user server).
//!
//! Each is pointed at its devices by the runner's `--device`/`--device2` or
//! by environment variables. Unconfigured, it reports `NotConfigured` so every
//! test shows as ignored with the reason.
#![forbid(unsafe_code)]

pub mod probe;
#[cfg(feature = "vfio")]
pub mod vfio;
#[cfg(feature = "vfio-user")]
pub mod vfio_user;

use vfio_mig_device::{Device, DeviceError, DeviceFactory};
use vfio_mig_model::v2::Fsm;

/// Opens the device named `name` as instance `index`.
pub type OpenFn = fn(name: &str, index: usize) -> Result<Box<dyn Device<Fsm>>, DeviceError>;

/// A real VFIO device fd, driven through the v2 migration ioctls: instance 0
/// and 1 are named by `VFIO_MIG_DEVICE` and `VFIO_MIG_DEVICE2` (two instances
/// of the same device type, for round trips).
#[cfg(feature = "vfio")]
pub const VFIO: Kind = Kind {
    name: "VFIO fd",
    vars: ["VFIO_MIG_DEVICE", "VFIO_MIG_DEVICE2"],
    what: "a VFIO device (an mdev UUID, a PCI address or /dev/vfio/devices/vfioN)",
    open: |name, index| Ok(Box::new(vfio::VfioAdapter::open(name, index)?)),
};

/// A vfio-user device server: the source and destination servers' sockets are
/// named by `VFIO_MIG_SOCKET` and `VFIO_MIG_SOCKET2`.
#[cfg(feature = "vfio-user")]
pub const VFIO_USER: Kind = Kind {
    name: "vfio-user",
    vars: ["VFIO_MIG_SOCKET", "VFIO_MIG_SOCKET2"],
    what: "the UNIX socket of a vfio-user server",
    open: |name, index| Ok(Box::new(vfio_user::VfioUserAdapter::open(name, index)?)),
};

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

/// What an adapter is called and how its devices are named.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The adapter's name in messages.
    pub name: &'static str,
    /// The environment variables naming the source and the destination.
    pub vars: [&'static str; 2],
    /// What a name designates, for the "set VAR to ..." message.
    pub what: &'static str,
    /// Opens one named device.
    pub open: OpenFn,
}

/// Opens the devices of one adapter, named by the runner's options or the
/// environment; unconfigured it answers `NotConfigured`, so a run never
/// passes without a device.
#[derive(Debug, Clone)]
pub struct Factory {
    kind: Kind,
    named: Named,
}

impl Factory {
    /// Names from the environment.
    pub fn from_env(kind: Kind) -> Self {
        Factory {
            kind,
            named: Named::from_env(kind.vars),
        }
    }

    /// Names given explicitly (the runner's `--device` and `--device2`),
    /// falling back to the environment for the ones not given.
    pub fn with_devices(kind: Kind, source: Option<String>, destination: Option<String>) -> Self {
        let [a, b] = Named::from_env(kind.vars).devices;
        Factory {
            kind,
            named: Named::new(source.or(a), destination.or(b)),
        }
    }
}

impl Factory {
    /// The name of instance `index`, if one was given.
    pub fn device(&self, index: usize) -> Option<&str> {
        self.named.devices[index.min(1)].as_deref()
    }
}

impl DeviceFactory<Fsm> for Factory {
    fn open(&self, index: usize) -> Result<Box<dyn Device<Fsm>>, DeviceError> {
        let var = self.kind.vars[index.min(1)];
        let device = self.named.get(index, var, self.kind.what)?;
        (self.kind.open)(device, index)
    }
}
