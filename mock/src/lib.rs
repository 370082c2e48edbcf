//! The in-process mock device: v1 and v2, deterministic from a seed, with
//! fault injection and a table of deliberately wrong variants (mutants).
//! With the `vfio-user-server` feature, the same device behind a vfio-user
//! socket.
#![forbid(unsafe_code)]

mod faults;
mod kernel_fsm;
mod mutants;
mod stream;
mod v1;
mod v2;
#[cfg(feature = "vfio-user-server")]
pub mod vfio_user_server;

pub use mutants::{Mutant, MutantInfo, MUTANTS};
pub use v1::MockV1;
pub use v2::MockV2;

use vfio_mig_device::{Device, DeviceError, DeviceFactory};
use vfio_mig_model::v1::Region;
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::Uapi;

/// How a mock device behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockConfig {
    /// Seed of the device's registers and of its changes while running.
    pub seed: u64,
    /// v2: the migration flags it offers.
    pub flags: MigrationFlags,
    /// v2: whether it offers `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`.
    pub data_size: bool,
    /// Bytes of device-internal registers (the state a migration carries).
    pub state_len: usize,
    /// Bytes of initial pre-copy data.
    pub precopy_initial: usize,
    /// The most bytes one data read returns.
    pub max_read: u32,
    /// v1: size of the migration region.
    pub region_size: u64,
    /// A deliberate bug, or none.
    pub mutant: Option<Mutant>,
    /// A refused resume ends in ERROR instead of staying in RESUMING.
    pub resume_error_into_error: bool,
    /// v2: the kernel uAPI revision it speaks (Linux 7.3 by default, so
    /// that both PRECOPY_INFO behaviours are there to check).
    pub uapi: Uapi,
    /// v2, after the PRECOPY_INFOv2 opt-in: once the initial data of a
    /// pre-copy session has been read, new initial data appears and the
    /// next PRECOPY_INFO reports REINIT (as a device reconfigured during
    /// migration would).
    pub reinit: bool,
    /// v2, calls through the shared handle: how long a SET works with the
    /// state lock held before each of its arcs (at least once), as a
    /// driver saving or loading device state does. Calls made from one
    /// thread do not wait.
    pub arc_time: std::time::Duration,
}

impl MockConfig {
    /// A v2 device with `flags` and the default sizes.
    pub fn v2(flags: MigrationFlags) -> Self {
        MockConfig {
            seed: 1,
            flags,
            data_size: true,
            state_len: 256,
            precopy_initial: 64,
            max_read: 4096,
            region_size: 4096,
            mutant: None,
            resume_error_into_error: false,
            uapi: Uapi::Linux7_3,
            reinit: true,
            arc_time: std::time::Duration::from_millis(1),
        }
    }

    /// A v1 device with the default sizes.
    pub fn v1() -> Self {
        MockConfig::v2(MigrationFlags::STOP_COPY)
    }
}

/// Opens mock devices; instance `i` has its own seed.
#[derive(Debug, Clone)]
pub struct MockFactory {
    /// The configuration every instance shares.
    pub config: MockConfig,
}

impl DeviceFactory<Fsm> for MockFactory {
    fn open(&self, index: usize) -> Result<Box<dyn Device<Fsm>>, DeviceError> {
        Ok(Box::new(MockV2::new(self.config.clone(), index as u64)))
    }
}

impl DeviceFactory<Region> for MockFactory {
    fn open(&self, index: usize) -> Result<Box<dyn Device<Region>>, DeviceError> {
        Ok(Box::new(MockV1::new(self.config.clone(), index as u64)))
    }
}

/// A small deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// The device-internal registers every mock carries: the state a migration
/// moves, reset to the same power-on values each time, changed while the
/// device runs.
#[derive(Debug, Clone)]
pub(crate) struct Registers {
    /// Current values.
    pub regs: Vec<u8>,
    /// Values at power-on (computed once: restores are frequent).
    power_on: Vec<u8>,
    /// The generator behind the device's own activity.
    pub rng: Rng,
    seed: u64,
}

impl Registers {
    /// The registers of instance `instance` of a device configured by `cfg`.
    pub fn new(cfg: &MockConfig, instance: u64) -> Self {
        let seed = cfg.seed ^ instance.wrapping_mul(0x1000_0000_01b3);
        let power_on = Rng::new(seed).bytes(cfg.state_len);
        Registers {
            regs: power_on.clone(),
            power_on,
            rng: Rng::new(seed ^ 0x5eed),
            seed,
        }
    }

    /// Back to the power-on values and a fresh generator.
    pub fn power_on(&mut self) {
        self.regs.clone_from(&self.power_on);
        self.rng = Rng::new(self.seed ^ 0x5eed);
    }

    /// The running device changes one register; returns which.
    pub fn tick(&mut self) -> Option<usize> {
        if self.regs.is_empty() {
            return None;
        }
        let i = (self.rng.next() % self.regs.len() as u64) as usize;
        self.regs[i] = self.regs[i].wrapping_add(1);
        Some(i)
    }
}
