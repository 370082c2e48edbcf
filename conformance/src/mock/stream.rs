//! The mock's self-checking stream format.
//!
//! A stream is a sequence of records `[kind u8][len u32 LE][payload]`:
//! a header (magic, version, register count), initial pre-copy data, dirty
//! records (offset u32, value u8), the final register snapshot, and a trailer
//! holding the stream length and a checksum of everything before it.

/// Record kinds.
pub const HEADER: u8 = 1;
/// Initial pre-copy data (opaque filler).
pub const INITIAL: u8 = 2;
/// One register that changed during pre-copy.
pub const DIRTY: u8 = 3;
/// The complete register file.
pub const FINAL: u8 = 4;
/// Length and checksum of everything before it.
pub const TRAILER: u8 = 5;

const MAGIC: &[u8; 4] = b"VMIG";

/// Appends one record.
pub fn record(out: &mut Vec<u8>, kind: u8, payload: &[u8]) {
    out.push(kind);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
}

/// The header record for a device of `regs` registers.
pub fn header(out: &mut Vec<u8>, regs: usize) {
    let mut p = MAGIC.to_vec();
    p.push(1);
    p.extend_from_slice(&(regs as u32).to_le_bytes());
    record(out, HEADER, &p);
}

/// FNV-1a over `bytes`.
pub fn checksum(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// The trailer for a stream whose bytes so far are `before`.
pub fn trailer(before: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    let mut p = (before.len() as u64).to_le_bytes().to_vec();
    p.extend_from_slice(&checksum(before).to_le_bytes());
    record(&mut t, TRAILER, &p);
    t
}

/// Size of the stop-copy part for `regs` registers (final record and trailer).
pub fn stop_copy_len(regs: usize) -> usize {
    5 + regs + 5 + 12
}

/// Why a stream was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// It ends inside a record or before the trailer.
    Truncated,
    /// The header is missing or wrong.
    BadHeader,
    /// A record kind or length makes no sense.
    BadRecord,
    /// The checksum or length in the trailer does not match.
    BadTrailer,
    /// Bytes after the trailer.
    TrailingBytes,
}

/// What a parse found: the register file (when a complete final record was
/// read, even if the stream is bad later) and whether the stream is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The register snapshot, if one was read.
    pub snapshot: Option<Vec<u8>>,
    /// `Ok` for a complete, valid stream.
    pub verdict: Result<(), Invalid>,
}

/// Checks a whole stream.
pub fn parse(bytes: &[u8], regs: usize) -> Parsed {
    let mut snapshot = None;
    let verdict = walk(bytes, regs, &mut snapshot);
    Parsed { snapshot, verdict }
}

fn walk(bytes: &[u8], regs: usize, snapshot: &mut Option<Vec<u8>>) -> Result<(), Invalid> {
    let mut at = 0usize;
    let mut seen_header = false;
    loop {
        if at + 5 > bytes.len() {
            return Err(Invalid::Truncated);
        }
        let kind = bytes[at];
        let len = u32::from_le_bytes([bytes[at + 1], bytes[at + 2], bytes[at + 3], bytes[at + 4]]) as usize;
        let start = at + 5;
        let end = start.checked_add(len).ok_or(Invalid::BadRecord)?;
        if end > bytes.len() {
            return Err(Invalid::Truncated);
        }
        let payload = &bytes[start..end];
        match kind {
            HEADER if !seen_header && at == 0 => {
                if payload.len() != 9 || &payload[..4] != MAGIC || payload[4] != 1 {
                    return Err(Invalid::BadHeader);
                }
                let n = u32::from_le_bytes([payload[5], payload[6], payload[7], payload[8]]) as usize;
                if n != regs {
                    return Err(Invalid::BadHeader);
                }
                seen_header = true;
            }
            _ if !seen_header => return Err(Invalid::BadHeader),
            INITIAL => {}
            DIRTY if len == 5 => {}
            FINAL if len == regs && snapshot.is_none() => *snapshot = Some(payload.to_vec()),
            TRAILER if len == 12 => {
                let mut total = [0u8; 8];
                total.copy_from_slice(&payload[..8]);
                let mut sum = [0u8; 4];
                sum.copy_from_slice(&payload[8..12]);
                if u64::from_le_bytes(total) != at as u64 || u32::from_le_bytes(sum) != checksum(&bytes[..at])
                {
                    return Err(Invalid::BadTrailer);
                }
                if end != bytes.len() {
                    return Err(Invalid::TrailingBytes);
                }
                return if snapshot.is_some() {
                    Ok(())
                } else {
                    Err(Invalid::BadRecord)
                };
            }
            _ => return Err(Invalid::BadRecord),
        }
        at = end;
    }
}
