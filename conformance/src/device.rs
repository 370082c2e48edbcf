//! The adapter interface: what every implementation under test provides.
//!
//! An adapter executes the model's own operations ([`vfio_mig_model::v2::Op`],
//! [`vfio_mig_model::v1::Op`]) on a device and reports the outcome in the
//! model's terms, with real errno values. The bytes of a data transfer travel
//! beside the operation in an [`Io`]: the operation says how many bytes and
//! where they come from, the `Io` carries them.

use std::fmt;
use vfio_mig_model::v2::MigrationFlags;
use vfio_mig_model::{Protocol, ProtocolKind};

/// What a device says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// A name for reports (`mock`, `mtty 83b8f4f2-...`, `vfio-user:/run/x.sock`).
    pub name: String,
    /// Which protocol it speaks.
    pub protocol: ProtocolKind,
    /// v2: the flags `VFIO_DEVICE_FEATURE_MIGRATION` reports.
    pub flags: Option<MigrationFlags>,
    /// v2: whether `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE` is offered.
    pub data_size: bool,
    /// v1: the size of the migration region.
    pub region_size: Option<u64>,
    /// The largest single data read or write the transport carries.
    pub max_transfer: u32,
    /// Whether [`Device::inject`] works.
    pub fault_injection: bool,
    /// How the device is reached, which decides which calls exist.
    pub transport: Transport,
}

/// How a device is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Transport {
    /// A kernel VFIO device fd, or an in-process device with the same calls.
    #[default]
    KernelFd,
    /// A vfio-user server: the stream travels in messages, not through data
    /// fds, and there is no PRECOPY_INFO or MIG_DATA_SIZE.
    VfioUser,
}

impl Transport {
    /// Whether `VFIO_MIG_GET_PRECOPY_INFO` exists.
    pub fn precopy_info(self) -> bool {
        self == Transport::KernelFd
    }

    /// Requirements this transport cannot exercise, each with the reason the
    /// report gives for skipping it.
    pub fn not_applicable(self) -> &'static [(&'static str, &'static str)] {
        use vfio_mig_model::reqs::*;
        const NO_FDS: &str = "vfio-user has no data fds: the stream follows the device state and the adapter numbers the sessions itself";
        const NO_INFO: &str = "vfio-user has no PRECOPY_INFO";
        const VU_ONLY: &str = "a rule of the vfio-user transport only";
        match self {
            Transport::KernelFd => &[
                (V2_VU_001, VU_ONLY),
                (V2_VU_002, VU_ONLY),
                (V2_VU_003, VU_ONLY),
                (V2_VU_004, VU_ONLY),
            ],
            Transport::VfioUser => &[
                (V2_FD_001, NO_FDS),
                (V2_FD_002, NO_FDS),
                (V2_FD_003, NO_FDS),
                (V2_FD_004, NO_FDS),
                (V2_FD_005, NO_FDS),
                (V2_FD_006, NO_FDS),
                (V2_PRE_001, NO_INFO),
                (V2_PRE_002, NO_INFO),
                (V2_PRE_003, NO_INFO),
                (V2_SIZE_001, "vfio-user has no MIG_DATA_SIZE"),
            ],
        }
    }
}

/// The bytes of one operation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Io {
    /// Bytes to write (for a data write: exactly the operation's length).
    pub write: Vec<u8>,
    /// Bytes a data read returned (filled by the adapter).
    pub read: Vec<u8>,
}

/// A failure the harness asks the adapter to cause (an adapter that cannot
/// cause it answers false from [`Device::inject`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The next SET whose first step leaves `from` fails; the device stays
    /// where it is, or falls into ERROR when `into_error`.
    FailSet {
        /// Fail only SETs requested while in this state (v2 number or v1 bits).
        from: u32,
        /// Whether the device ends in ERROR.
        into_error: bool,
    },
    /// The n-th data read from now fails (1 = the next one).
    FailNthRead(u32),
    /// The n-th data write from now fails.
    FailNthWrite(u32),
    /// The n-th device operation of any kind from now fails (fail-nth sweeps).
    FailNthOp(u32),
    /// Every data read returns at most this many bytes.
    ShortReads(u32),
    /// The device falls into ERROR now.
    FallIntoError,
}

/// Why an adapter could not do what the harness asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceError {
    /// The adapter is selected but no device was named; the tests SKIP.
    NotConfigured(String),
    /// The device could not be opened or restored; the run stops.
    Unusable(String),
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::NotConfigured(why) => write!(f, "not configured: {why}"),
            DeviceError::Unusable(why) => write!(f, "device unusable: {why}"),
        }
    }
}

impl std::error::Error for DeviceError {}

/// One device under test, speaking protocol `P`.
pub trait Device<P: Protocol> {
    /// Name, protocol, flags, limits.
    fn describe(&self) -> Description;

    /// Executes one operation. Never panics on device misbehaviour: whatever
    /// the device does is reported as an outcome (an adapter that times out
    /// reports `ETIMEDOUT`).
    fn exec(&mut self, op: &P::Op, io: &mut Io) -> P::Outcome;

    /// Brings the device back to the state of a fresh open: every data fd
    /// closed, reset, RUNNING, fd numbering restarted. An error stops the run.
    fn restore(&mut self) -> Result<(), DeviceError>;

    /// The device-internal state a resume must reproduce, when the adapter
    /// can observe it (the mock's registers, mtty's UART registers).
    fn fingerprint(&mut self) -> Option<Vec<u8>>;

    /// Arms a fault; returns false when the adapter cannot inject it.
    fn inject(&mut self, fault: Fault) -> bool;
}

/// Opens instances of one device type (a round trip needs two).
pub trait DeviceFactory<P: Protocol> {
    /// Opens instance `index` (0 = source, 1 = destination).
    fn open(&self, index: usize) -> Result<Box<dyn Device<P>>, DeviceError>;
}
