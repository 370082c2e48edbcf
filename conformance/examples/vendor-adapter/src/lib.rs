//! An example of a vendor's own adapter.
//!
//! A driver author implements [`Device`] for their device (here: a thin
//! wrapper that forwards to the project's mock, standing in for a real
//! driver's control path) and a [`DeviceFactory`] that opens it, and gets
//! every conformance test from one macro in `tests/conformance.rs`.
//!
//! The device is named by the `VENDOR_DEVICE` environment variable, the way a
//! real adapter would be pointed at a device node. Unset, every test reports
//! "ignored" with that reason instead of passing silently; `VENDOR_DEVICE=demo`
//! runs the suites.
#![forbid(unsafe_code)]

use vfio_mig_conformance::device::{Description, Device, DeviceError, DeviceFactory, Fault, Io};
use vfio_mig_conformance::mock::{MockConfig, MockFactory};
use vfio_mig_model::v2::{Fsm, MigrationFlags, Op, Outcome};

/// One opened device of the vendor.
pub struct VendorDevice {
    inner: Box<dyn Device<Fsm>>,
    name: String,
}

impl Device<Fsm> for VendorDevice {
    fn describe(&self) -> Description {
        Description {
            name: self.name.clone(),
            ..self.inner.describe()
        }
    }

    fn exec(&mut self, op: &Op, io: &mut Io) -> Outcome {
        // A real adapter issues the ioctl or the read/write here and maps
        // the result (and errno) to an `Outcome`.
        self.inner.exec(op, io)
    }

    fn restore(&mut self) -> Result<(), DeviceError> {
        self.inner.restore()
    }

    fn fingerprint(&mut self) -> Option<Vec<u8>> {
        self.inner.fingerprint()
    }

    fn inject(&mut self, fault: Fault) -> bool {
        self.inner.inject(fault)
    }
}

/// Opens the vendor's devices, named by `VENDOR_DEVICE`.
pub struct VendorFactory {
    device: Option<String>,
}

impl VendorFactory {
    /// Reads the configuration from the environment.
    pub fn from_env() -> Self {
        Self::named(std::env::var("VENDOR_DEVICE").ok().filter(|s| !s.is_empty()))
    }

    /// A factory for the named device (`None`: not configured).
    pub fn named(device: Option<String>) -> Self {
        VendorFactory { device }
    }
}

impl DeviceFactory<Fsm> for VendorFactory {
    fn open(&self, index: usize) -> Result<Box<dyn Device<Fsm>>, DeviceError> {
        let Some(name) = &self.device else {
            return Err(DeviceError::NotConfigured(
                "set VENDOR_DEVICE to name the device under test".into(),
            ));
        };
        let flags = MigrationFlags::new(0b111).expect("an accepted flag set");
        let mock = MockFactory {
            config: MockConfig::v2(flags),
        };
        Ok(Box::new(VendorDevice {
            inner: DeviceFactory::<Fsm>::open(&mock, index)?,
            name: format!("{name}#{index}"),
        }))
    }
}
