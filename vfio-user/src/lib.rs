//! The vfio-user messages a migration test needs, as typed values.
//!
//! Numbers and layouts follow the vfio-user protocol specification 0.9.2
//! (QEMU `docs/interop/vfio-user.rst`), the revision whose migration
//! commands mirror the kernel's v2 interface: `DEVICE_FEATURE` (16),
//! `MIG_DATA_READ` (17), `MIG_DATA_WRITE` (18). Everything is little-endian.
//!
//! Decoding never panics and never allocates more than the frame limit the
//! caller passes: a malformed, truncated or oversized message is a
//! [`CodecError`] naming the message and what was wrong with it. Servers that
//! refuse what the specification forbids (as libvfio-user does) check
//! requests with [`check_request`], which names the broken rule in a
//! [`RequestError`]. Frames are read and written under a [`Deadline`] that
//! bounds the whole message; [`fds`] carries file descriptors beside them.

pub mod attach;
pub mod check;
pub mod codec;
pub mod fds;
pub mod frame;
mod le;
pub mod region;

pub use check::{check_request, Limits, RequestError};
pub use codec::{CodecError, Command, Header, Reply, Request};
pub use frame::{read_frame, read_frame_into, write_frame, write_frame_parts, Deadline, FrameError};
pub use region::{RegionAccess, RegionInfo};
