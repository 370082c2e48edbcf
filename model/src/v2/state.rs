//! v2 states and migration capability flags.

use std::fmt;

/// `enum vfio_device_mig_state` (include/uapi/linux/vfio.h, Linux 6.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum MigState {
    /// The device failed and must be reset.
    Error = 0,
    /// Stopped: no DMA, no interrupts, no internal state change.
    Stop = 1,
    /// Running (the state at open).
    Running = 2,
    /// Stopped, with the saving stream open.
    StopCopy = 3,
    /// Stopped, loading a stream.
    Resuming = 4,
    /// Running, but no new peer-to-peer DMA.
    RunningP2p = 5,
    /// Running, with the saving stream open (pre-copy).
    PreCopy = 6,
    /// Pre-copy without new peer-to-peer DMA.
    PreCopyP2p = 7,
}

impl MigState {
    /// All eight states in numeric order.
    pub const ALL: [MigState; 8] = [
        MigState::Error,
        MigState::Stop,
        MigState::Running,
        MigState::StopCopy,
        MigState::Resuming,
        MigState::RunningP2p,
        MigState::PreCopy,
        MigState::PreCopyP2p,
    ];

    /// The uAPI number.
    pub fn number(self) -> u32 {
        self as u32
    }

    /// The state with this uAPI number.
    pub fn from_number(n: u32) -> Option<Self> {
        Self::ALL.get(n as usize).copied()
    }

    /// The uAPI name without prefix (`STOP_COPY`).
    pub fn name(self) -> &'static str {
        match self {
            MigState::Error => "ERROR",
            MigState::Stop => "STOP",
            MigState::Running => "RUNNING",
            MigState::StopCopy => "STOP_COPY",
            MigState::Resuming => "RESUMING",
            MigState::RunningP2p => "RUNNING_P2P",
            MigState::PreCopy => "PRE_COPY",
            MigState::PreCopyP2p => "PRE_COPY_P2P",
        }
    }

    /// A short name for tables (`SC`, `PP2P`).
    pub fn short(self) -> &'static str {
        match self {
            MigState::Error => "ERR",
            MigState::Stop => "STOP",
            MigState::Running => "RUN",
            MigState::StopCopy => "SC",
            MigState::Resuming => "RES",
            MigState::RunningP2p => "RP2P",
            MigState::PreCopy => "PRE",
            MigState::PreCopyP2p => "PP2P",
        }
    }

    /// Member of the saving group (PRE_COPY, PRE_COPY_P2P, STOP_COPY), whose
    /// states share one data session.
    pub fn is_saving(self) -> bool {
        matches!(
            self,
            MigState::PreCopy | MigState::PreCopyP2p | MigState::StopCopy
        )
    }

    /// A pre-copy state (PRE_COPY or PRE_COPY_P2P).
    pub fn is_precopy(self) -> bool {
        matches!(self, MigState::PreCopy | MigState::PreCopyP2p)
    }

    /// The flags a device needs to support this state (`state_flags_table`
    /// in drivers/vfio/vfio_main.c, Linux 6.12).
    pub fn required_flags(self) -> MigrationFlags {
        let sc = MigrationFlags::STOP_COPY;
        match self {
            MigState::Error => MigrationFlags(0),
            MigState::Running => sc,
            MigState::Stop | MigState::StopCopy | MigState::Resuming => sc,
            MigState::RunningP2p => sc.with(MigrationFlags::P2P),
            MigState::PreCopy => sc.with(MigrationFlags::PRE_COPY),
            MigState::PreCopyP2p => sc.with(MigrationFlags::P2P).with(MigrationFlags::PRE_COPY),
        }
    }
}

impl fmt::Display for MigState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `VFIO_DEVICE_FEATURE_MIGRATION` flags of a device: always an accepted
/// combination (construct with [`MigrationFlags::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MigrationFlags(u64);

/// Why a flag word was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagsError {
    /// STOP_COPY is mandatory.
    MissingStopCopy(u64),
    /// Bits the uAPI does not define.
    UnknownBits(u64),
}

impl fmt::Display for FlagsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlagsError::MissingStopCopy(b) => {
                write!(
                    f,
                    "migration flags {b:#x} lack STOP_COPY, which every device must offer"
                )
            }
            FlagsError::UnknownBits(b) => write!(f, "migration flags {b:#x} have undefined bits"),
        }
    }
}

impl std::error::Error for FlagsError {}

impl MigrationFlags {
    /// `VFIO_MIGRATION_STOP_COPY`.
    pub const STOP_COPY: MigrationFlags = MigrationFlags(1 << 0);
    /// `VFIO_MIGRATION_P2P`.
    pub const P2P: MigrationFlags = MigrationFlags(1 << 1);
    /// `VFIO_MIGRATION_PRE_COPY`.
    pub const PRE_COPY: MigrationFlags = MigrationFlags(1 << 2);
    /// Every defined bit.
    pub const DEFINED: u64 = 0b111;

    /// The four combinations the kernel accepts, in order of the bit value.
    pub fn accepted() -> [MigrationFlags; 4] {
        [0b001, 0b011, 0b101, 0b111].map(MigrationFlags)
    }

    /// Validates a raw flag word.
    pub fn new(bits: u64) -> Result<Self, FlagsError> {
        if bits & !Self::DEFINED != 0 {
            Err(FlagsError::UnknownBits(bits))
        } else if bits & Self::STOP_COPY.0 == 0 {
            Err(FlagsError::MissingStopCopy(bits))
        } else {
            Ok(MigrationFlags(bits))
        }
    }

    /// The raw bits.
    pub fn bits(self) -> u64 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: MigrationFlags) -> bool {
        self.0 & other.0 == other.0
    }

    const fn with(self, other: MigrationFlags) -> MigrationFlags {
        MigrationFlags(self.0 | other.0)
    }

    /// Whether P2P is offered.
    pub fn p2p(self) -> bool {
        self.contains(Self::P2P)
    }

    /// Whether PRE_COPY is offered.
    pub fn pre_copy(self) -> bool {
        self.contains(Self::PRE_COPY)
    }

    /// Whether the device supports `state` with these flags.
    pub fn supports(self, state: MigState) -> bool {
        self.contains(state.required_flags())
    }

    /// The supported states, in numeric order.
    pub fn states(self) -> impl Iterator<Item = MigState> {
        MigState::ALL.into_iter().filter(move |s| self.supports(*s))
    }
}

impl fmt::Display for MigrationFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = vec!["STOP_COPY"];
        if self.p2p() {
            parts.push("P2P");
        }
        if self.pre_copy() {
            parts.push("PRE_COPY");
        }
        f.write_str(&parts.join("+"))
    }
}

/// Numbers of the v2 uAPI beyond states and flags (include/uapi/linux/vfio.h,
/// Linux 6.12): feature indices, feature access bits, ioctl numbers.
pub mod uapi {
    /// `VFIO_TYPE`, the ioctl type of every VFIO ioctl.
    pub const VFIO_TYPE: u8 = b';';
    /// `VFIO_BASE`, the first VFIO ioctl number.
    pub const VFIO_BASE: u32 = 100;
    /// `VFIO_DEVICE_RESET` is `_IO(VFIO_TYPE, VFIO_BASE + 11)`.
    pub const DEVICE_RESET_NR: u32 = 11;
    /// `VFIO_DEVICE_FEATURE` is `_IO(VFIO_TYPE, VFIO_BASE + 17)`.
    pub const DEVICE_FEATURE_NR: u32 = 17;
    /// `VFIO_MIG_GET_PRECOPY_INFO` is `_IO(VFIO_TYPE, VFIO_BASE + 21)`.
    pub const MIG_GET_PRECOPY_INFO_NR: u32 = 21;
    /// `VFIO_DEVICE_FEATURE_GET`.
    pub const FEATURE_GET: u32 = 1 << 16;
    /// `VFIO_DEVICE_FEATURE_SET`.
    pub const FEATURE_SET: u32 = 1 << 17;
    /// `VFIO_DEVICE_FEATURE_PROBE`.
    pub const FEATURE_PROBE: u32 = 1 << 18;
    /// `VFIO_DEVICE_FEATURE_MIGRATION`.
    pub const FEATURE_MIGRATION: u32 = 1;
    /// `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE`.
    pub const FEATURE_MIG_DEVICE_STATE: u32 = 2;
    /// `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`.
    pub const FEATURE_MIG_DATA_SIZE: u32 = 9;
    /// `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2` (Linux 7.3).
    pub const FEATURE_MIG_PRECOPY_INFO_V2: u32 = 12;
    /// `VFIO_DEVICE_FEATURE_MASK`: the feature number's bits of `flags`.
    pub const FEATURE_MASK: u32 = 0xffff;
    /// `VFIO_PRECOPY_INFO_REINIT`, bit 0 of `struct vfio_precopy_info`'s
    /// `flags` (Linux 7.3, an output after the PRECOPY_INFOv2 opt-in).
    pub const PRECOPY_INFO_REINIT: u32 = 1 << 0;
    /// `sizeof(struct vfio_device_feature)` up to its payload: `argsz` and
    /// `flags`.
    pub const FEATURE_HEADER_LEN: u32 = 8;

    /// The numbers a VFIO adapter needs to open a device, all `_IO(VFIO_TYPE,
    /// VFIO_BASE + n)` offsets unless said otherwise.
    pub mod open {
        /// `VFIO_API_VERSION` (a value, not an ioctl).
        pub const API_VERSION: u32 = 0;
        /// `VFIO_TYPE1v2_IOMMU` (a value, not an ioctl).
        pub const TYPE1V2_IOMMU: u32 = 3;
        /// `VFIO_GROUP_FLAGS_VIABLE` (a flag bit, not an ioctl).
        pub const GROUP_FLAGS_VIABLE: u32 = 1 << 0;
        /// `VFIO_GET_API_VERSION` (container).
        pub const GET_API_VERSION_NR: u32 = 0;
        /// `VFIO_CHECK_EXTENSION` (container).
        pub const CHECK_EXTENSION_NR: u32 = 1;
        /// `VFIO_SET_IOMMU` (container).
        pub const SET_IOMMU_NR: u32 = 2;
        /// `VFIO_GROUP_GET_STATUS` (group).
        pub const GROUP_GET_STATUS_NR: u32 = 3;
        /// `VFIO_GROUP_SET_CONTAINER` (group).
        pub const GROUP_SET_CONTAINER_NR: u32 = 4;
        /// `VFIO_GROUP_GET_DEVICE_FD` (group).
        pub const GROUP_GET_DEVICE_FD_NR: u32 = 6;
        /// `VFIO_DEVICE_GET_REGION_INFO` (device).
        pub const DEVICE_GET_REGION_INFO_NR: u32 = 8;
        /// `VFIO_DEVICE_BIND_IOMMUFD` (device cdev).
        pub const DEVICE_BIND_IOMMUFD_NR: u32 = 18;
    }
}
