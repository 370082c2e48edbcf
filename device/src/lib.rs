//! The interface a device under test implements.
//!
//! A device answers [`Device::exec`] for the calls of its protocol: the calls
//! a user program makes on a real device ([`v2::Call`]: a SET or GET of the
//! migration state, a read or write of the data fd, PRECOPY_INFO, ...; or
//! [`v1::Call`]: accesses of the migration region), each reported in the
//! model's terms ([`vfio_mig_model::v2::Outcome`]) with its real errno. The
//! bytes of a data transfer travel beside the call in an [`Io`].
//!
//! This crate is the whole of what a vendor's adapter needs besides the
//! engine's `conformance_main!`: the model's bookkeeping (where written bytes
//! came from, which requests are well formed) stays on the engine's side.
#![forbid(unsafe_code)]

use std::fmt;
use vfio_mig_model::v2::MigrationFlags;
use vfio_mig_model::{Protocol, ProtocolName};

pub use vfio_mig_model::{Errno, Uapi};

/// The calls of the v2 protocol (`VFIO_DEVICE_FEATURE` and the data fd).
pub mod v2 {
    use vfio_mig_model::v2::Op;
    pub use vfio_mig_model::v2::{Access, FdRef, FeatureReq, Outcome};

    /// One call a user program makes on a v2 device.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum Call {
        /// SET `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE` with this state number
        /// (numbers outside `enum vfio_device_mig_state` included).
        SetState(u32),
        /// GET `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE`.
        GetState,
        /// `read(2)` on a data fd; the bytes go to [`crate::Io::read`].
        Read {
            /// Which fd, numbered in the order the device returned them.
            fd: FdRef,
            /// Bytes asked for.
            len: u32,
        },
        /// `write(2)` on a data fd of the bytes in [`crate::Io::write`].
        Write {
            /// Which fd.
            fd: FdRef,
            /// Bytes offered (the length of `Io::write`).
            len: u32,
        },
        /// `VFIO_MIG_GET_PRECOPY_INFO` on a data fd.
        PrecopyInfo {
            /// Which fd.
            fd: FdRef,
            /// The `flags` passed in `struct vfio_precopy_info`; the
            /// answer's [`Outcome::Precopy`] carries them as the call left
            /// them.
            flags: u32,
        },
        /// GET `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`.
        DataSize,
        /// Any other `VFIO_DEVICE_FEATURE` request: `flags` is the feature
        /// number and access bits, `argsz` as given (the buffer passed is
        /// always as large as the feature's payload). A GET of MIGRATION
        /// answers [`Outcome::Flags`]; other successes answer
        /// [`Outcome::Done`].
        Feature(FeatureReq),
        /// `close(2)` of a data fd.
        Close {
            /// Which fd.
            fd: FdRef,
        },
        /// `VFIO_DEVICE_RESET`.
        Reset,
    }

    impl Call {
        /// The call that carries out the model's operation `op`.
        pub fn of(op: &Op) -> Call {
            match *op {
                Op::Set(s) => Call::SetState(s.number()),
                Op::SetRaw(n) => Call::SetState(n),
                Op::Get => Call::GetState,
                Op::Read { fd, len } => Call::Read { fd, len },
                Op::Write { fd, len, .. } => Call::Write { fd, len },
                Op::PrecopyInfo { fd, flags } => Call::PrecopyInfo { fd, flags },
                Op::DataSize => Call::DataSize,
                Op::Feature(req) => Call::Feature(req),
                Op::Close { fd } => Call::Close { fd },
                Op::Reset => Call::Reset,
            }
        }
    }
}

/// The calls of the v1 protocol (the migration region).
pub mod v1 {
    use vfio_mig_model::v1::Op;
    pub use vfio_mig_model::v1::{Field, Outcome};

    /// One access a user program makes to a v1 migration region.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum Call {
        /// Read a header field at its natural width.
        Read(Field),
        /// Write a header field at its natural width (`device_state` takes
        /// the low 32 bits).
        Write(Field, u64),
        /// A header access at an offset or width that is no field's.
        Misaligned {
            /// Byte offset in the region.
            offset: u64,
            /// Access width in bytes.
            width: u8,
            /// Write (true) or read.
            write: bool,
        },
        /// Read bytes of the region into [`crate::Io::read`].
        ReadData {
            /// Offset in the region.
            offset: u64,
            /// Bytes.
            len: u32,
        },
        /// Write the bytes of [`crate::Io::write`] into the region.
        WriteData {
            /// Offset in the region.
            offset: u64,
            /// Bytes.
            len: u32,
        },
        /// `VFIO_DEVICE_RESET`.
        Reset,
    }

    impl Call {
        /// The call that carries out the model's operation `op`.
        pub fn of(op: &Op) -> Call {
            match *op {
                Op::Read(f) => Call::Read(f),
                Op::Write(f, v) => Call::Write(f, v),
                Op::Misaligned { offset, width, write } => Call::Misaligned { offset, width, write },
                Op::ReadData { offset, len } => Call::ReadData { offset, len },
                Op::WriteData { offset, len, .. } => Call::WriteData { offset, len },
                Op::Reset => Call::Reset,
            }
        }
    }
}

/// A protocol a device can speak: the model's protocol with the calls that
/// carry out its operations.
pub trait Speaks: Protocol + 'static {
    /// One call on the device.
    type Call: Clone + Copy + fmt::Debug + PartialEq + Send + Sync + 'static;

    /// The call that carries out the model's operation `op`.
    fn call(op: &Self::Op) -> Self::Call;

    /// The outcome of a call that failed with `errno` (used where a failure
    /// is made at the adapter's boundary instead of by the device).
    fn failed(errno: Errno) -> Self::Outcome;
}

impl Speaks for vfio_mig_model::v2::Fsm {
    type Call = v2::Call;

    fn call(op: &vfio_mig_model::v2::Op) -> v2::Call {
        v2::Call::of(op)
    }

    fn failed(errno: Errno) -> v2::Outcome {
        v2::Outcome::Err(errno)
    }
}

impl Speaks for vfio_mig_model::v1::Region {
    type Call = v1::Call;

    fn call(op: &vfio_mig_model::v1::Op) -> v1::Call {
        v1::Call::of(op)
    }

    fn failed(errno: Errno) -> v1::Outcome {
        v1::Outcome::Err(errno)
    }
}

/// How a device is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
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
}

/// What a device says about itself.
///
/// Built with [`Description::v2`] or [`Description::v1`] and the `with_`
/// methods, so that later fields do not break existing adapters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Description {
    /// A name for reports (`mock#0`, `mtty 83b8f4f2-...`, `/run/x.sock`).
    pub name: String,
    /// Which protocol it speaks.
    pub protocol: ProtocolName,
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
    /// Whether the device accepts calls from several threads at once
    /// (through [`Device::shared`]).
    pub concurrent: bool,
    /// v2: the revision of the kernel's migration uAPI the device speaks,
    /// whose rules judge it (Linux 6.12 unless said otherwise).
    pub uapi: Uapi,
}

impl Description {
    /// A v2 device called `name` with migration flags `flags`; no
    /// MIG_DATA_SIZE, no fault injection, a kernel fd, one thread.
    pub fn v2(name: impl Into<String>, flags: MigrationFlags) -> Self {
        Description {
            name: name.into(),
            protocol: ProtocolName::V2,
            flags: Some(flags),
            data_size: false,
            region_size: None,
            max_transfer: u32::MAX,
            fault_injection: false,
            transport: Transport::KernelFd,
            concurrent: false,
            uapi: Uapi::default(),
        }
    }

    /// A v1 device called `name` whose migration region has `region_size`
    /// bytes.
    pub fn v1(name: impl Into<String>, region_size: u64) -> Self {
        Description {
            protocol: ProtocolName::V1,
            flags: None,
            region_size: Some(region_size),
            ..Description::v2(name, MigrationFlags::STOP_COPY)
        }
    }

    /// Another name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Whether MIG_DATA_SIZE is offered.
    pub fn with_data_size(mut self, offered: bool) -> Self {
        self.data_size = offered;
        self
    }

    /// The largest single transfer.
    pub fn with_max_transfer(mut self, bytes: u32) -> Self {
        self.max_transfer = bytes;
        self
    }

    /// Whether faults can be injected.
    pub fn with_fault_injection(mut self, works: bool) -> Self {
        self.fault_injection = works;
        self
    }

    /// How the device is reached.
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The uAPI revision the device speaks.
    pub fn with_uapi(mut self, uapi: Uapi) -> Self {
        self.uapi = uapi;
        self
    }

    /// Whether calls may come from several threads at once.
    pub fn with_concurrency(mut self, concurrent: bool) -> Self {
        self.concurrent = concurrent;
        self
    }
}

/// The bytes of one call.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Io {
    /// Bytes to write (for a data write: exactly the call's length).
    pub write: Vec<u8>,
    /// Bytes a data read returned (filled by the device).
    pub read: Vec<u8>,
}

/// A failure the engine asks the device to cause (a device that cannot
/// cause it answers false from [`Device::inject`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The n-th device call of any kind from now fails (fail-nth sweeps).
    FailNthOp(u32),
    /// Every data read returns at most this many bytes.
    ShortReads(u32),
    /// The device falls into ERROR now.
    FallIntoError,
}

/// Why a device could not do what the engine asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The adapter is selected but no device was named; the tests SKIP.
    #[error("not configured: {0}")]
    NotConfigured(String),
    /// While being restored the device broke a rule of the catalogue (a
    /// reset that is refused or does not reach RUNNING); the run stops
    /// with that rule failed.
    #[error("while being restored the device broke {rule}: {what}")]
    Broke {
        /// The rule broken.
        rule: vfio_mig_model::Req,
        /// What happened, for a person.
        what: String,
    },
    /// The device could not be opened or restored; the run stops.
    #[error("device unusable: {what}")]
    Unusable {
        /// What failed, for a person.
        what: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
}

impl DeviceError {
    /// An unusable device, for the reason `what`.
    pub fn unusable(what: impl Into<String>) -> Self {
        DeviceError::Unusable {
            what: what.into(),
            source: None,
        }
    }

    /// An unusable device, for the reason `what` caused by `source`.
    pub fn unusable_because(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        DeviceError::Unusable {
            what: what.into(),
            source: Some(Box::new(source)),
        }
    }

    /// Whether the device was simply not named (the run is skipped, not failed).
    pub fn is_not_configured(&self) -> bool {
        matches!(self, DeviceError::NotConfigured(_))
    }
}

/// One device under test, speaking protocol `P`.
///
/// The engine calls a device from one thread at a time, but not always the
/// same thread (every call runs under a deadline on a worker), hence `Send`.
pub trait Device<P: Speaks>: Send {
    /// Name, protocol, flags, limits.
    fn describe(&self) -> Description;

    /// Executes one call. Never panics on device misbehaviour: whatever the
    /// device does is reported as an outcome.
    fn exec(&mut self, call: &P::Call, io: &mut Io) -> P::Outcome;

    /// Brings the device back to the state of a fresh open: every data fd
    /// closed, reset, RUNNING, fd numbering restarted. An error stops the run.
    fn restore(&mut self) -> Result<(), DeviceError>;

    /// The device-internal state a resume must reproduce, when the adapter
    /// can observe it (the mock's registers, mtty's UART registers).
    fn fingerprint(&mut self) -> Option<Vec<u8>>;

    /// Arms a fault; returns false when the adapter cannot inject it.
    fn inject(&mut self, fault: Fault) -> bool;

    /// A handle that accepts calls from several threads at once, when the
    /// device does ([`Description::concurrent`]). Calls through it and
    /// through `exec` address the same device.
    fn shared(&mut self) -> Option<std::sync::Arc<dyn SharedDevice<P>>> {
        None
    }
}

/// A device that accepts calls from several threads at once.
pub trait SharedDevice<P: Speaks>: Send + Sync {
    /// Executes one call; may run while other calls are in progress.
    fn exec(&self, call: &P::Call, io: &mut Io) -> P::Outcome;
}

/// Opens instances of one device type (a round trip needs two).
pub trait DeviceFactory<P: Speaks> {
    /// Opens instance `index` (0 = source, 1 = destination).
    fn open(&self, index: usize) -> Result<Box<dyn Device<P>>, DeviceError>;
}

impl fmt::Display for v2::Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            v2::Call::SetState(n) => write!(f, "SET state {n}"),
            v2::Call::GetState => f.write_str("GET state"),
            v2::Call::Read { fd, len } => write!(f, "read({fd}, {len})"),
            v2::Call::Write { fd, len } => write!(f, "write({fd}, {len})"),
            v2::Call::PrecopyInfo { fd, flags: 0 } => write!(f, "PRECOPY_INFO({fd})"),
            v2::Call::PrecopyInfo { fd, flags } => write!(f, "PRECOPY_INFO({fd}, flags {flags:#x})"),
            v2::Call::DataSize => f.write_str("GET MIG_DATA_SIZE"),
            v2::Call::Feature(req) => write!(f, "{req}"),
            v2::Call::Close { fd } => write!(f, "close({fd})"),
            v2::Call::Reset => f.write_str("RESET"),
        }
    }
}
