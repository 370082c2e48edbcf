//! Region messages: DEVICE_GET_REGION_INFO (5), REGION_READ (9) and
//! REGION_WRITE (10). Migration does not need them, but a server a VMM can
//! attach to does (config space and BARs go through them), and a test client
//! reads device memory with them.
//!
//! They are not [`crate::Request`] variants, so servers that match on
//! [`crate::Request`] keep compiling; a server that serves them dispatches on
//! the header's command number first.

use crate::codec::CodecError;
use crate::le::{u32_at, u64_at};

/// Command number of DEVICE_GET_REGION_INFO (*Commands*).
pub const DEVICE_GET_REGION_INFO: u16 = 5;
/// Command number of REGION_READ (*Commands*).
pub const REGION_READ: u16 = 9;
/// Command number of REGION_WRITE (*Commands*).
pub const REGION_WRITE: u16 = 10;

/// Region info flag bit 0: the client may read the region
/// (*VFIO_USER_DEVICE_GET_REGION_INFO*, Reply).
pub const REGION_FLAG_READ: u32 = 1 << 0;
/// Region info flag bit 1: the client may write the region.
pub const REGION_FLAG_WRITE: u32 = 1 << 1;
/// Region info flag bit 2: the client may mmap() the region; the reply
/// carries a file descriptor.
pub const REGION_FLAG_MMAP: u32 = 1 << 2;
/// Region info flag bit 3: region capabilities follow the fixed fields.
pub const REGION_FLAG_CAPS: u32 = 1 << 3;

fn truncated(what: &str, need: usize, got: usize) -> CodecError {
    CodecError::Truncated {
        what: what.to_owned(),
        need,
        got,
    }
}

/// The fixed fields of REGION_READ and REGION_WRITE, requests and replies
/// (*VFIO_USER_REGION_READ*, *VFIO_USER_REGION_WRITE*). A READ reply and a
/// WRITE request add `count` bytes of data at offset 16. `count` must not
/// exceed the peer's `max_data_xfer_size` (*Read and Write Operations*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionAccess {
    /// offset @0, 8 bytes: where in the region.
    pub offset: u64,
    /// region @8, 4 bytes: the region's index.
    pub region: u32,
    /// count @12, 4 bytes: bytes to transfer (in a reply: transferred).
    pub count: u32,
}

impl RegionAccess {
    /// Bytes of the fixed fields.
    pub const LEN: usize = 16;

    /// The payload: the fixed fields, then `data` (empty for a READ request
    /// and a WRITE reply). `count` is written as it is, not from `data`.
    pub fn payload(&self, data: &[u8]) -> Vec<u8> {
        let mut p = Vec::with_capacity(Self::LEN + data.len());
        p.extend_from_slice(&self.offset.to_le_bytes());
        p.extend_from_slice(&self.region.to_le_bytes());
        p.extend_from_slice(&self.count.to_le_bytes());
        p.extend_from_slice(data);
        p
    }

    /// Decodes a READ request or a WRITE reply: the fixed fields alone.
    pub fn decode(what: &str, payload: &[u8]) -> Result<Self, CodecError> {
        let (a, rest) = Self::split(what, payload)?;
        if !rest.is_empty() {
            return Err(CodecError::Invalid {
                what: what.to_owned(),
                why: format!("{} bytes after the 16 of the message", rest.len()),
            });
        }
        Ok(a)
    }

    /// Decodes a WRITE request or a READ reply: the fixed fields and exactly
    /// `count` bytes of data.
    pub fn decode_with_data<'a>(what: &str, payload: &'a [u8]) -> Result<(Self, &'a [u8]), CodecError> {
        let (a, rest) = Self::split(what, payload)?;
        if rest.len() != a.count as usize {
            return Err(CodecError::Invalid {
                what: what.to_owned(),
                why: format!("count says {} bytes, {} follow", a.count, rest.len()),
            });
        }
        Ok((a, rest))
    }

    fn split<'a>(what: &str, payload: &'a [u8]) -> Result<(Self, &'a [u8]), CodecError> {
        if payload.len() < Self::LEN {
            return Err(truncated(what, Self::LEN, payload.len()));
        }
        let a = RegionAccess {
            offset: u64_at(payload, 0),
            region: u32_at(payload, 8),
            count: u32_at(payload, 12),
        };
        Ok((a, &payload[Self::LEN..]))
    }
}

/// DEVICE_GET_REGION_INFO request and reply, `struct vfio_region_info`
/// (*VFIO_USER_DEVICE_GET_REGION_INFO*). In a request only `argsz` and
/// `index` are set, the rest zero. In a reply region capabilities may follow
/// the 32 bytes (flag [`REGION_FLAG_CAPS`]), as far as `argsz` allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionInfo {
    /// argsz @0: request, the largest reply payload (at least 32);
    /// reply, the full reply payload, 32 + capabilities (possibly more than
    /// the request allowed, then the capabilities are cut).
    pub argsz: u32,
    /// flags @4: [`REGION_FLAG_READ`], [`REGION_FLAG_WRITE`],
    /// [`REGION_FLAG_MMAP`], [`REGION_FLAG_CAPS`]; zero in a request.
    pub flags: u32,
    /// index @8: the region.
    pub index: u32,
    /// cap_offset @12: where the first capability starts, from the start of
    /// this structure; zero in a request.
    pub cap_offset: u32,
    /// size @16, 8 bytes: the region's size; zero in a request.
    pub size: u64,
    /// offset @24, 8 bytes: the mmap() offset for a mappable region (and the
    /// base of sparse areas); zero in a request.
    pub offset: u64,
}

impl RegionInfo {
    /// Bytes of the fixed fields.
    pub const LEN: usize = 32;

    /// The request for region `index`, offering `argsz` bytes of reply.
    pub fn request(index: u32, argsz: u32) -> Self {
        RegionInfo {
            argsz,
            flags: 0,
            index,
            cap_offset: 0,
            size: 0,
            offset: 0,
        }
    }

    /// The 32 bytes, then `caps` (empty for a request).
    pub fn payload(&self, caps: &[u8]) -> Vec<u8> {
        let mut p = Vec::with_capacity(Self::LEN + caps.len());
        p.extend_from_slice(&self.argsz.to_le_bytes());
        p.extend_from_slice(&self.flags.to_le_bytes());
        p.extend_from_slice(&self.index.to_le_bytes());
        p.extend_from_slice(&self.cap_offset.to_le_bytes());
        p.extend_from_slice(&self.size.to_le_bytes());
        p.extend_from_slice(&self.offset.to_le_bytes());
        p.extend_from_slice(caps);
        p
    }

    /// Decodes the 32 bytes; the bytes after them (capabilities in a reply)
    /// come back as they are.
    pub fn decode<'a>(what: &str, payload: &'a [u8]) -> Result<(Self, &'a [u8]), CodecError> {
        if payload.len() < Self::LEN {
            return Err(truncated(what, Self::LEN, payload.len()));
        }
        let info = RegionInfo {
            argsz: u32_at(payload, 0),
            flags: u32_at(payload, 4),
            index: u32_at(payload, 8),
            cap_offset: u32_at(payload, 12),
            size: u64_at(payload, 16),
            offset: u64_at(payload, 24),
        };
        Ok((info, &payload[Self::LEN..]))
    }
}
