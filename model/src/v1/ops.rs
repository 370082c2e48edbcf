//! What a user program does to a v1 migration region.

use super::state::{Field, V1State};
use crate::{Errno, ErrnoSet, Expectation};
use std::fmt;

/// Where the bytes of a resume chunk come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkTag {
    /// Bytes starting at `offset` of a saved stream.
    Stream {
        /// Offset in the source stream.
        offset: u64,
        /// Length of the complete source stream, when it was read to the end.
        total: Option<u64>,
        /// The bytes are exactly one chunk as the source produced it.
        whole: bool,
    },
    /// Bytes that are no saved stream.
    Garbage,
}

/// One user action on a v1 device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Read a header field at its natural width.
    Read(Field),
    /// Write a header field at its natural width (`device_state` takes the
    /// low 32 bits).
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
    /// Read bytes of the data section.
    ReadData {
        /// Offset in the region.
        offset: u64,
        /// Bytes.
        len: u32,
    },
    /// Write bytes into the data section.
    WriteData {
        /// Offset in the region.
        offset: u64,
        /// Bytes.
        len: u32,
        /// Where they come from.
        data: ChunkTag,
    },
    /// `VFIO_DEVICE_RESET`.
    Reset,
}

impl Op {
    /// A write of `device_state`.
    pub fn set(state: V1State) -> Op {
        Op::Write(Field::DeviceState, u64::from(state.bits()))
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Read(field) => write!(f, "read {field}"),
            Op::Write(Field::DeviceState, v) => {
                write!(f, "write device_state = {}", V1State::from_raw(*v as u32))
            }
            Op::Write(field, v) => write!(f, "write {field} = {v}"),
            Op::Misaligned { offset, width, write } => {
                let dir = if *write { "write" } else { "read" };
                write!(f, "{dir} {width} bytes at header offset {offset}")
            }
            Op::ReadData { offset, len } => write!(f, "read {len} data bytes at {offset}"),
            Op::WriteData { offset, len, data } => match data {
                ChunkTag::Stream { offset: o, .. } => {
                    write!(f, "write {len} stream bytes (@{o}) at {offset}")
                }
                ChunkTag::Garbage => write!(f, "write {len} garbage bytes at {offset}"),
            },
            Op::Reset => f.write_str("RESET"),
        }
    }
}

/// What the device answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A write succeeded.
    Ok,
    /// A field read returned this value.
    Value(u64),
    /// A data access moved this many bytes.
    Bytes(u32),
    /// The access failed.
    Err(Errno),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("ok"),
            Outcome::Value(v) => write!(f, "value {v}"),
            Outcome::Bytes(n) => write!(f, "{n} bytes"),
            Outcome::Err(e) => write!(f, "error {e}"),
        }
    }
}

/// A pattern over [`Outcome`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expect {
    /// Write success.
    Ok,
    /// A read of `device_state` whose masked bits are this state.
    State(V1State),
    /// A value in `min..=max`.
    Value {
        /// Smallest value.
        min: u64,
        /// Largest value.
        max: u64,
    },
    /// Exactly `n` bytes moved.
    Bytes(u32),
    /// Failure with an errno in the set.
    Err(ErrnoSet),
}

impl Expect {
    /// Exactly the value `v`.
    pub fn value(v: u64) -> Self {
        Expect::Value { min: v, max: v }
    }

    /// Any value.
    pub fn any_value() -> Self {
        Expect::Value {
            min: 0,
            max: u64::MAX,
        }
    }
}

impl Expectation<Outcome> for Expect {
    fn matches(&self, o: &Outcome) -> bool {
        match (self, o) {
            (Expect::Ok, Outcome::Ok) => true,
            (Expect::State(s), Outcome::Value(v)) => (*v as u32) & super::state::MASK == s.bits(),
            (Expect::Value { min, max }, Outcome::Value(v)) => (min..=max).contains(&v),
            (Expect::Bytes(n), Outcome::Bytes(m)) => n == m,
            (Expect::Err(set), Outcome::Err(e)) => set.contains(*e),
            _ => false,
        }
    }

    fn example(&self, seed: u64) -> Outcome {
        match *self {
            Expect::Ok => Outcome::Ok,
            Expect::State(s) => Outcome::Value(u64::from(s.bits())),
            Expect::Value { min, max } => Outcome::Value(crate::pick_in(min, max, seed)),
            Expect::Bytes(n) => Outcome::Bytes(n),
            Expect::Err(set) => Outcome::Err(set.example(seed)),
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Ok => f.write_str("ok"),
            Expect::State(s) => write!(f, "device_state {s}"),
            Expect::Value { min, max } if min == max => write!(f, "value {min}"),
            Expect::Value {
                min: 0,
                max: u64::MAX,
            } => f.write_str("any value"),
            Expect::Value { min, max } => write!(f, "a value in {min}..={max}"),
            Expect::Bytes(n) => write!(f, "{n} bytes"),
            Expect::Err(set) => write!(f, "error {set}"),
        }
    }
}
