//! v1 `device_state` values and the `vfio_device_migration_info` header.

use std::fmt;

/// `VFIO_DEVICE_STATE_RUNNING` (Linux 5.8 uAPI).
pub const RUNNING: u32 = 1 << 0;
/// `VFIO_DEVICE_STATE_SAVING`.
pub const SAVING: u32 = 1 << 1;
/// `VFIO_DEVICE_STATE_RESUMING`.
pub const RESUMING: u32 = 1 << 2;
/// `VFIO_DEVICE_STATE_STOP`: no bit set (the v10 patch wrongly had 1 << 0).
pub const STOP: u32 = 0;
/// `VFIO_DEVICE_STATE_MASK`.
pub const MASK: u32 = RUNNING | SAVING | RESUMING;

/// `VFIO_DEVICE_STATE_VALID()`: a value with RESUMING set is valid only when
/// its masked value is exactly RESUMING. The error value 110b has RESUMING
/// set, so it is not valid: a driver signals an error by reporting a value
/// the user could never have set, recognised by [`is_error`].
pub fn valid(raw: u32) -> bool {
    if raw & RESUMING != 0 {
        raw & MASK == RESUMING
    } else {
        true
    }
}

/// `VFIO_DEVICE_STATE_IS_ERROR()`.
pub fn is_error(raw: u32) -> bool {
    raw & MASK == SAVING | RESUMING
}

/// The meaning of each of the eight masked `device_state` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum V1State {
    /// 000b: stopped.
    Stop,
    /// 001b: running (the state at open).
    Running,
    /// 010b: stop-and-copy.
    StopCopy,
    /// 011b: pre-copy (running and saving).
    PreCopy,
    /// 100b: resuming.
    Resuming,
    /// 101b: invalid.
    Invalid101,
    /// 110b: the error state, left only by reset.
    Error,
    /// 111b: invalid.
    Invalid111,
}

impl V1State {
    /// All eight values in numeric order.
    pub const ALL: [V1State; 8] = [
        V1State::Stop,
        V1State::Running,
        V1State::StopCopy,
        V1State::PreCopy,
        V1State::Resuming,
        V1State::Invalid101,
        V1State::Error,
        V1State::Invalid111,
    ];

    /// The meaning of a raw register value (bits 3-31 ignored).
    pub fn from_raw(raw: u32) -> Self {
        Self::ALL[(raw & MASK) as usize]
    }

    /// The masked bits.
    pub fn bits(self) -> u32 {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0) as u32
    }

    /// A state the user may request (valid; this excludes the error state).
    pub fn is_requestable(self) -> bool {
        valid(self.bits())
    }

    /// A state the device can be in: a requestable one or the error state.
    pub fn is_reachable(self) -> bool {
        valid(self.bits()) || is_error(self.bits())
    }

    /// A saving state (stop-and-copy or pre-copy).
    pub fn is_saving(self) -> bool {
        matches!(self, V1State::StopCopy | V1State::PreCopy)
    }

    /// The name used in tables.
    pub fn name(self) -> &'static str {
        match self {
            V1State::Stop => "STOP",
            V1State::Running => "RUNNING",
            V1State::StopCopy => "STOP_COPY",
            V1State::PreCopy => "PRE_COPY",
            V1State::Resuming => "RESUMING",
            V1State::Invalid101 => "INVALID_101",
            V1State::Error => "ERROR",
            V1State::Invalid111 => "INVALID_111",
        }
    }
}

impl fmt::Display for V1State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:03b}b)", self.name(), self.bits())
    }
}

/// How the user may access a header field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Read and write.
    ReadWrite,
    /// Read only: a write fails.
    ReadOnly,
    /// Reads as zero, writes are ignored.
    Reserved,
}

/// A field of `struct vfio_device_migration_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `__u32 device_state`.
    DeviceState,
    /// `__u32 reserved`.
    Reserved,
    /// `__u64 pending_bytes`.
    PendingBytes,
    /// `__u64 data_offset`.
    DataOffset,
    /// `__u64 data_size`.
    DataSize,
}

/// Size of the header in bytes.
pub const HEADER_SIZE: u64 = 32;

impl Field {
    /// All fields in layout order.
    pub const ALL: [Field; 5] = [
        Field::DeviceState,
        Field::Reserved,
        Field::PendingBytes,
        Field::DataOffset,
        Field::DataSize,
    ];

    /// Byte offset in the region.
    pub fn offset(self) -> u64 {
        match self {
            Field::DeviceState => 0,
            Field::Reserved => 4,
            Field::PendingBytes => 8,
            Field::DataOffset => 16,
            Field::DataSize => 24,
        }
    }

    /// Width in bytes (the only width at which it may be accessed).
    pub fn width(self) -> u8 {
        match self {
            Field::DeviceState | Field::Reserved => 4,
            _ => 8,
        }
    }

    /// Access mode.
    pub fn access(self) -> Access {
        match self {
            Field::DeviceState | Field::DataSize => Access::ReadWrite,
            Field::Reserved => Access::Reserved,
            Field::PendingBytes | Field::DataOffset => Access::ReadOnly,
        }
    }

    /// The field at exactly this offset and width, if any.
    pub fn at(offset: u64, width: u8) -> Option<Field> {
        Self::ALL
            .into_iter()
            .find(|f| f.offset() == offset && f.width() == width)
    }

    /// The C field name.
    pub fn name(self) -> &'static str {
        match self {
            Field::DeviceState => "device_state",
            Field::Reserved => "reserved",
            Field::PendingBytes => "pending_bytes",
            Field::DataOffset => "data_offset",
            Field::DataSize => "data_size",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
