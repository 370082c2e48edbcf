//! What a VMM sends to attach a device besides region access: DMA_MAP (2),
//! DMA_UNMAP (3), DEVICE_GET_IRQ_INFO (7) and DEVICE_SET_IRQS (8), and the
//! strict checks of those and of the region messages (5, 9, 10) a server
//! runs before serving them. Layouts by section of the vfio-user
//! specification 0.9.2; offsets from the start of the payload.
//!
//! Like [`crate::region`], these are not [`crate::Request`] variants: a
//! server dispatches on the header's command number first.

use crate::le::{u32_at, u64_at};
use crate::region::{RegionAccess, RegionInfo};

/// Command number of DMA_MAP (*Commands*).
pub const DMA_MAP: u16 = 2;
/// Command number of DMA_UNMAP (*Commands*).
pub const DMA_UNMAP: u16 = 3;
/// Command number of DEVICE_GET_IRQ_INFO (*Commands*).
pub const DEVICE_GET_IRQ_INFO: u16 = 7;
/// Command number of DEVICE_SET_IRQS (*Commands*).
pub const DEVICE_SET_IRQS: u16 = 8;

/// IRQ info flag bit 0, VFIO_IRQ_INFO_EVENTFD (*VFIO_USER_DEVICE_GET_IRQ_INFO*).
pub const IRQ_INFO_EVENTFD: u32 = 1 << 0;
/// IRQ info flag bit 3, VFIO_IRQ_INFO_NORESIZE.
pub const IRQ_INFO_NORESIZE: u32 = 1 << 3;
/// SET_IRQS flag bit 0, VFIO_IRQ_SET_DATA_NONE (*VFIO_USER_DEVICE_SET_IRQS*).
pub const IRQ_SET_DATA_NONE: u32 = 1 << 0;
/// SET_IRQS flag bit 1, VFIO_IRQ_SET_DATA_BOOL.
pub const IRQ_SET_DATA_BOOL: u32 = 1 << 1;
/// SET_IRQS flag bit 2, VFIO_IRQ_SET_DATA_EVENTFD.
pub const IRQ_SET_DATA_EVENTFD: u32 = 1 << 2;
/// SET_IRQS flag bits 3-5: the actions MASK, UNMASK, TRIGGER.
pub const IRQ_SET_ACTIONS: u32 = 0b111 << 3;

/// Why one of these requests breaks the specification (a server answers
/// EINVAL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{command}: {why}")]
pub struct AttachError {
    /// The command's name.
    pub command: &'static str,
    /// The rule it breaks.
    pub why: String,
}

fn bad(command: &'static str, why: impl Into<String>) -> AttachError {
    AttachError {
        command,
        why: why.into(),
    }
}

fn exactly(command: &'static str, payload: &[u8], len: usize) -> Result<(), AttachError> {
    if payload.len() != len {
        return Err(bad(
            command,
            format!("payload of {} bytes, the message has {len}", payload.len()),
        ));
    }
    Ok(())
}

/// DMA_MAP request (*VFIO_USER_DMA_MAP*, Request): 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmaMap {
    /// flags @4: bit 0 readable, bit 1 writeable.
    pub flags: u32,
    /// offset @8, 8 bytes: the file offset in the descriptor sent with the
    /// message, or 0 when none is.
    pub offset: u64,
    /// address @16, 8 bytes: the base DMA address.
    pub address: u64,
    /// size @24, 8 bytes.
    pub size: u64,
}

impl DmaMap {
    /// Checks and decodes a DMA_MAP payload: 32 bytes; argsz @0 "is the
    /// size of the above structure" (32, there is no reply payload); only
    /// the two defined flags; a non-empty range that does not wrap.
    pub fn check(payload: &[u8]) -> Result<Self, AttachError> {
        const C: &str = "DMA_MAP";
        exactly(C, payload, 32)?;
        let argsz = u32_at(payload, 0);
        if argsz != 32 {
            return Err(bad(C, format!("argsz {argsz}, the structure has 32 bytes")));
        }
        let m = DmaMap {
            flags: u32_at(payload, 4),
            offset: u64_at(payload, 8),
            address: u64_at(payload, 16),
            size: u64_at(payload, 24),
        };
        if m.flags & !0b11 != 0 {
            return Err(bad(C, format!("flags {:#x} set undefined bits", m.flags)));
        }
        if m.size == 0 || m.address.checked_add(m.size).is_none() {
            return Err(bad(
                C,
                format!("the range {:#x}+{:#x} is empty or wraps", m.address, m.size),
            ));
        }
        Ok(m)
    }

    /// The payload of this request.
    pub fn payload(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(32);
        p.extend_from_slice(&32u32.to_le_bytes());
        p.extend_from_slice(&self.flags.to_le_bytes());
        p.extend_from_slice(&self.offset.to_le_bytes());
        p.extend_from_slice(&self.address.to_le_bytes());
        p.extend_from_slice(&self.size.to_le_bytes());
        p
    }
}

/// DMA_UNMAP request (*VFIO_USER_DMA_UNMAP*, Request): 24 bytes, answered
/// with the same entry ("The server responds with the original DMA entry in
/// the request").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmaUnmap {
    /// argsz @0: the largest reply payload (the 24 bytes echoed).
    pub argsz: u32,
    /// flags @4: unused in this version.
    pub flags: u32,
    /// address @8, 8 bytes.
    pub address: u64,
    /// size @16, 8 bytes.
    pub size: u64,
}

impl DmaUnmap {
    /// Checks and decodes a DMA_UNMAP payload: 24 bytes, argsz room for the
    /// echoed entry.
    pub fn check(payload: &[u8]) -> Result<Self, AttachError> {
        const C: &str = "DMA_UNMAP";
        exactly(C, payload, 24)?;
        let u = DmaUnmap {
            argsz: u32_at(payload, 0),
            flags: u32_at(payload, 4),
            address: u64_at(payload, 8),
            size: u64_at(payload, 16),
        };
        if u.argsz < 24 {
            return Err(bad(
                C,
                format!("argsz {} is below the 24 bytes of the reply", u.argsz),
            ));
        }
        Ok(u)
    }
}

/// DEVICE_GET_IRQ_INFO request and reply, `struct vfio_irq_info`
/// (*VFIO_USER_DEVICE_GET_IRQ_INFO*): argsz @0, flags @4, index @8, count @12.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IrqInfo {
    /// argsz @0: request, the largest reply payload (16); reply, 16.
    pub argsz: u32,
    /// flags @4: [`IRQ_INFO_EVENTFD`], MASKABLE, AUTOMASKED,
    /// [`IRQ_INFO_NORESIZE`]; zero in a request.
    pub flags: u32,
    /// index @8: the interrupt type (INTx 0, MSI 1, MSI-X 2, ERR 3, REQ 4 for PCI).
    pub index: u32,
    /// count @12: interrupts of the type; zero in a request.
    pub count: u32,
}

impl IrqInfo {
    /// Bytes of the structure.
    pub const LEN: usize = 16;

    /// Checks and decodes a request: 16 bytes, argsz ≥ 16, "all other
    /// fields must be zero" but the index.
    pub fn check(payload: &[u8]) -> Result<Self, AttachError> {
        const C: &str = "DEVICE_GET_IRQ_INFO";
        exactly(C, payload, Self::LEN)?;
        let i = Self::decode(payload);
        if i.argsz < 16 {
            return Err(bad(
                C,
                format!("argsz {} is below the 16 bytes of the reply", i.argsz),
            ));
        }
        if i.flags != 0 || i.count != 0 {
            return Err(bad(C, "flags and count must be zero in a request"));
        }
        Ok(i)
    }

    /// Decodes the 16 bytes (the caller checked the length).
    pub fn decode(payload: &[u8]) -> Self {
        IrqInfo {
            argsz: u32_at(payload, 0),
            flags: u32_at(payload, 4),
            index: u32_at(payload, 8),
            count: u32_at(payload, 12),
        }
    }

    /// The 16 bytes.
    pub fn payload(&self) -> Vec<u8> {
        [self.argsz, self.flags, self.index, self.count]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }
}

/// DEVICE_SET_IRQS request, `struct vfio_irq_set` (*VFIO_USER_DEVICE_SET_IRQS*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IrqSet {
    /// flags @4: one DATA flag and one ACTION flag.
    pub flags: u32,
    /// index @8: the interrupt type.
    pub index: u32,
    /// start @12: the first sub-index.
    pub start: u32,
    /// count @16: sub-indexes set.
    pub count: u32,
}

impl IrqSet {
    /// Checks and decodes a request: argsz @0 "is the size of the VFIO IRQ
    /// set request payload, including any data field" (so it equals the
    /// payload's length); exactly one DATA flag and one ACTION flag ("The
    /// flags are mutually exclusive for both sets"); with DATA_BOOL one byte
    /// per sub-index follows the 20 fixed bytes, otherwise nothing.
    pub fn check(payload: &[u8]) -> Result<Self, AttachError> {
        const C: &str = "DEVICE_SET_IRQS";
        if payload.len() < 20 {
            return Err(bad(
                C,
                format!("payload of {} bytes, at least 20 needed", payload.len()),
            ));
        }
        let argsz = u32_at(payload, 0);
        if argsz as usize != payload.len() {
            return Err(bad(
                C,
                format!("argsz {argsz}, the payload has {} bytes", payload.len()),
            ));
        }
        let s = IrqSet {
            flags: u32_at(payload, 4),
            index: u32_at(payload, 8),
            start: u32_at(payload, 12),
            count: u32_at(payload, 16),
        };
        let data = s.flags & 0b111;
        let action = s.flags & IRQ_SET_ACTIONS;
        if s.flags & !(0b111 | IRQ_SET_ACTIONS) != 0 || data.count_ones() != 1 || action.count_ones() != 1 {
            return Err(bad(
                C,
                format!("flags {:#x} do not name one DATA and one ACTION", s.flags),
            ));
        }
        let data_len = if data == IRQ_SET_DATA_BOOL {
            s.count as usize
        } else {
            0
        };
        if payload.len() != 20 + data_len {
            return Err(bad(
                C,
                format!(
                    "{} bytes of data after the fixed fields, {data_len} expected",
                    payload.len() - 20
                ),
            ));
        }
        Ok(s)
    }
}

/// Checks a DEVICE_GET_REGION_INFO request (*VFIO_USER_DEVICE_GET_REGION_INFO*,
/// Request): 32 bytes, argsz ≥ 32, and "all other fields must be zero"
/// besides the index.
pub fn check_region_info(payload: &[u8]) -> Result<RegionInfo, AttachError> {
    const C: &str = "DEVICE_GET_REGION_INFO";
    exactly(C, payload, RegionInfo::LEN)?;
    let (info, _) = RegionInfo::decode(C, payload).map_err(|e| bad(C, e.to_string()))?;
    if info.argsz < RegionInfo::LEN as u32 {
        return Err(bad(
            C,
            format!("argsz {} is below the 32 bytes of the reply", info.argsz),
        ));
    }
    if info.flags != 0 || info.cap_offset != 0 || info.size != 0 || info.offset != 0 {
        return Err(bad(
            C,
            "flags, cap_offset, size and offset must be zero in a request",
        ));
    }
    Ok(info)
}

/// Checks a REGION_READ request (*VFIO_USER_REGION_READ*): exactly the 16
/// fixed bytes, and `count` no more than `max_data_xfer` (*Read and Write
/// Operations*: "The count field must not exceed the value of
/// max_data_xfer_size of the peer").
pub fn check_region_read(payload: &[u8], max_data_xfer: u32) -> Result<RegionAccess, AttachError> {
    const C: &str = "REGION_READ";
    let a = RegionAccess::decode(C, payload).map_err(|e| bad(C, e.to_string()))?;
    if a.count > max_data_xfer {
        return Err(bad(
            C,
            format!("count {} is over max_data_xfer_size {max_data_xfer}", a.count),
        ));
    }
    Ok(a)
}

/// Checks a REGION_WRITE request (*VFIO_USER_REGION_WRITE*): the 16 fixed
/// bytes, then exactly `count` bytes, `count` within `max_data_xfer`.
pub fn check_region_write(payload: &[u8], max_data_xfer: u32) -> Result<(RegionAccess, &[u8]), AttachError> {
    const C: &str = "REGION_WRITE";
    let (a, data) = RegionAccess::decode_with_data(C, payload).map_err(|e| bad(C, e.to_string()))?;
    if a.count > max_data_xfer {
        return Err(bad(
            C,
            format!("count {} is over max_data_xfer_size {max_data_xfer}", a.count),
        ));
    }
    Ok((a, data))
}
