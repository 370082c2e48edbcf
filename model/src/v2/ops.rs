//! What a user program does to a v2 device, what it gets back, and the
//! patterns the model allows.

use super::feature::FeatureReq;
use super::state::uapi::PRECOPY_INFO_REINIT;
use super::state::MigState;
use crate::{Errno, ErrnoSet, Expectation};
use std::fmt;

/// A data fd, numbered in the order the device returned them (0 = first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FdRef(pub u16);

impl fmt::Display for FdRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fd#{}", self.0)
    }
}

/// What the bytes of a write are, as far as the user knows.
///
/// The stream is opaque, so the model cannot judge bytes; the user can say
/// where they came from, and the model judges the resume by that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataTag {
    /// Bytes starting at `offset` of one saved stream; `total` is the whole
    /// stream's length when the source was read to its end, `None` when the
    /// source stream was cut short.
    Stream {
        /// Offset of the first byte in the source stream.
        offset: u64,
        /// Length of the complete source stream, if known.
        total: Option<u64>,
    },
    /// Bytes at `offset` of a saved stream of `total` bytes, in its place
    /// and of its length, but altered (corrupted, or from another device):
    /// only a device that checks its data can tell.
    Corrupt {
        /// Offset of the first byte in the source stream.
        offset: u64,
        /// Length of the complete source stream, if known.
        total: Option<u64>,
    },
    /// Bytes that are not a saved stream and not in one's place (random,
    /// of another length).
    Garbage,
}

/// One user action on a v2 device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// SET `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE`.
    Set(MigState),
    /// SET with a raw state number (for numbers outside the enum).
    SetRaw(u32),
    /// GET `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE`.
    Get,
    /// `read(2)` on a data fd.
    Read {
        /// Which fd.
        fd: FdRef,
        /// Bytes asked for.
        len: u32,
    },
    /// `write(2)` on a data fd.
    Write {
        /// Which fd.
        fd: FdRef,
        /// Bytes offered.
        len: u32,
        /// Where the bytes come from.
        data: DataTag,
    },
    /// `VFIO_MIG_GET_PRECOPY_INFO` on a data fd.
    PrecopyInfo {
        /// Which fd.
        fd: FdRef,
        /// The `flags` the user passes in `struct vfio_precopy_info`
        /// (reserved without the PRECOPY_INFOv2 opt-in, then handed back).
        flags: u32,
    },
    /// GET `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`.
    DataSize,
    /// Any other `VFIO_DEVICE_FEATURE` request.
    Feature(FeatureReq),
    /// `close(2)` of a data fd.
    Close {
        /// Which fd.
        fd: FdRef,
    },
    /// `VFIO_DEVICE_RESET`.
    Reset,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Set(s) => write!(f, "SET {s}"),
            Op::SetRaw(n) => match MigState::from_number(*n) {
                Some(s) => write!(f, "SET {s}"),
                None => write!(f, "SET state {n}"),
            },
            Op::Get => f.write_str("GET state"),
            Op::Read { fd, len } => write!(f, "read({fd}, {len})"),
            Op::Write { fd, len, data } => match data {
                DataTag::Stream { offset, .. } => write!(f, "write({fd}, {len} stream bytes @{offset})"),
                DataTag::Corrupt { offset, .. } => {
                    write!(f, "write({fd}, {len} corrupted stream bytes @{offset})")
                }
                DataTag::Garbage => write!(f, "write({fd}, {len} garbage bytes)"),
            },
            Op::PrecopyInfo { fd, flags: 0 } => write!(f, "PRECOPY_INFO({fd})"),
            Op::PrecopyInfo { fd, flags } => write!(f, "PRECOPY_INFO({fd}, flags {flags:#x})"),
            Op::DataSize => f.write_str("GET MIG_DATA_SIZE"),
            Op::Feature(req) => write!(f, "{req}"),
            Op::Close { fd } => write!(f, "close({fd})"),
            Op::Reset => f.write_str("RESET"),
        }
    }
}

/// What the device answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// SET succeeded; `fd` tells whether a data fd came back.
    SetOk {
        /// Whether `data_fd` was a new descriptor.
        fd: bool,
    },
    /// GET reported this raw state number.
    State(u32),
    /// A read or write transferred this many bytes.
    Bytes(u32),
    /// PRECOPY_INFO answer.
    Precopy {
        /// `initial_bytes`.
        initial_bytes: u64,
        /// `dirty_bytes`.
        dirty_bytes: u64,
        /// `flags` as the call left it.
        flags: u32,
    },
    /// MIG_DATA_SIZE answer.
    Size(u64),
    /// GET of `VFIO_DEVICE_FEATURE_MIGRATION`: the migration flags.
    Flags(u64),
    /// A reset or close succeeded.
    Done,
    /// The call failed with this errno.
    Err(Errno),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::SetOk { fd: true } => f.write_str("ok with data fd"),
            Outcome::SetOk { fd: false } => f.write_str("ok, no data fd"),
            Outcome::State(n) => match MigState::from_number(*n) {
                Some(s) => write!(f, "state {s}"),
                None => write!(f, "state {n} (not a state)"),
            },
            Outcome::Bytes(n) => write!(f, "{n} bytes"),
            Outcome::Precopy {
                initial_bytes,
                dirty_bytes,
                flags,
            } => {
                write!(f, "initial_bytes {initial_bytes}, dirty_bytes {dirty_bytes}")?;
                match *flags {
                    0 => Ok(()),
                    PRECOPY_INFO_REINIT => f.write_str(", REINIT"),
                    n => write!(f, ", flags {n:#x}"),
                }
            }
            Outcome::Size(n) => write!(f, "stop_copy_length {n}"),
            Outcome::Flags(n) => write!(f, "migration flags {n:#x}"),
            Outcome::Done => f.write_str("ok"),
            Outcome::Err(e) => write!(f, "error {e}"),
        }
    }
}

/// What the `flags` of a PRECOPY_INFO answer must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagsOut {
    /// Any value (a uAPI revision without a rule for it).
    Any,
    /// Exactly this value.
    Exactly(u32),
}

impl FlagsOut {
    fn matches(self, flags: u32) -> bool {
        match self {
            FlagsOut::Any => true,
            FlagsOut::Exactly(v) => v == flags,
        }
    }
}

/// A pattern over [`Outcome`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expect {
    /// SET success, with or without a new fd.
    SetOk {
        /// Whether a data fd must come back.
        fd: bool,
    },
    /// GET reports this state.
    State(MigState),
    /// A transfer of `min..=max` bytes.
    Bytes {
        /// Fewest bytes.
        min: u32,
        /// Most bytes.
        max: u32,
    },
    /// A PRECOPY_INFO answer, with `initial_bytes` at most this when set.
    Precopy {
        /// Upper bound for `initial_bytes`.
        max_initial: Option<u64>,
        /// What `flags` must be.
        flags: FlagsOut,
    },
    /// A MIG_DATA_SIZE answer (any value).
    Size,
    /// The migration flags, exactly.
    Flags(u64),
    /// Plain success.
    Done,
    /// Failure with an errno in the set.
    Err(ErrnoSet),
}

impl Expectation<Outcome> for Expect {
    fn matches(&self, o: &Outcome) -> bool {
        match (self, o) {
            (Expect::SetOk { fd }, Outcome::SetOk { fd: got }) => fd == got,
            (Expect::State(s), Outcome::State(n)) => s.number() == *n,
            (Expect::Bytes { min, max }, Outcome::Bytes(n)) => (min..=max).contains(&n),
            (
                Expect::Precopy { max_initial, flags },
                Outcome::Precopy {
                    initial_bytes,
                    flags: got,
                    ..
                },
            ) => max_initial.is_none_or(|m| *initial_bytes <= m) && flags.matches(*got),
            (Expect::Size, Outcome::Size(_)) | (Expect::Done, Outcome::Done) => true,
            (Expect::Flags(want), Outcome::Flags(got)) => want == got,
            (Expect::Err(set), Outcome::Err(e)) => set.contains(*e),
            _ => false,
        }
    }

    fn example(&self, seed: u64) -> Outcome {
        match *self {
            Expect::SetOk { fd } => Outcome::SetOk { fd },
            Expect::State(s) => Outcome::State(s.number()),
            Expect::Bytes { min, max } => {
                Outcome::Bytes(crate::pick_in(u64::from(min), u64::from(max), seed) as u32)
            }
            Expect::Precopy { max_initial, flags } => Outcome::Precopy {
                initial_bytes: crate::pick_in(0, max_initial.unwrap_or(4096), seed),
                dirty_bytes: seed % 512,
                flags: match flags {
                    FlagsOut::Any => 0,
                    FlagsOut::Exactly(v) => v,
                },
            },
            Expect::Size => Outcome::Size(seed % (1 << 20)),
            Expect::Flags(v) => Outcome::Flags(v),
            Expect::Done => Outcome::Done,
            Expect::Err(set) => Outcome::Err(set.example(seed)),
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::SetOk { fd: true } => f.write_str("ok with data fd"),
            Expect::SetOk { fd: false } => f.write_str("ok, no data fd"),
            Expect::State(s) => write!(f, "state {s}"),
            Expect::Bytes { min, max } if min == max => write!(f, "{min} bytes"),
            Expect::Bytes { min, max } => write!(f, "{min}..={max} bytes"),
            Expect::Precopy { max_initial, flags } => {
                f.write_str("precopy info")?;
                if let Some(m) = max_initial {
                    write!(f, ", initial_bytes <= {m}")?;
                }
                match flags {
                    FlagsOut::Any => Ok(()),
                    FlagsOut::Exactly(0) => f.write_str(", flags 0"),
                    FlagsOut::Exactly(PRECOPY_INFO_REINIT) => f.write_str(", REINIT"),
                    FlagsOut::Exactly(v) => write!(f, ", flags {v:#x}"),
                }
            }
            Expect::Size => f.write_str("a size"),
            Expect::Flags(v) => write!(f, "migration flags {v:#x}"),
            Expect::Done => f.write_str("ok"),
            Expect::Err(set) => write!(f, "error {set}"),
        }
    }
}
