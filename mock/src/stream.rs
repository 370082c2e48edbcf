//! The mock's self-checking stream format.
//!
//! A stream is a sequence of records `[kind u8][len u32 LE][payload]`:
//! a header (magic, version, register count), initial pre-copy data, dirty
//! records (offset u32, value u8), the final register snapshot, and a trailer
//! holding the stream length and a CRC-32 of everything before it.

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

/// CRC-32 (IEEE) of `bytes`.
pub fn checksum(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Bytes of a trailer record.
pub const TRAILER_LEN: usize = 5 + 12;

/// The CRC-32 of a growing stream, updated as bytes arrive so that the large
/// state is summed while it is still in the cache instead of in one more
/// pass at the end.
#[derive(Debug, Clone, Default)]
pub struct RunningSum {
    hasher: crc32fast::Hasher,
    upto: usize,
}

impl RunningSum {
    /// Sums `bytes` up to `lag` bytes before its end (the bytes a trailer
    /// may occupy are left for later).
    pub fn catch_up(&mut self, bytes: &[u8], lag: usize) {
        let end = bytes.len().saturating_sub(lag);
        if end > self.upto {
            self.hasher.update(&bytes[self.upto..end]);
            self.upto = end;
        }
    }

    /// Sums `bytes` that follow everything summed so far but are not kept
    /// in the same buffer.
    pub fn add(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.upto += bytes.len();
    }

    /// The CRC-32 of everything summed so far.
    pub fn value(&self) -> u32 {
        self.hasher.clone().finalize()
    }

    /// The CRC-32 of `bytes[..upto]`, from the running sum where it can.
    pub fn sum_of(&self, bytes: &[u8], upto: usize) -> u32 {
        if upto < self.upto {
            return checksum(&bytes[..upto]);
        }
        let mut h = self.hasher.clone();
        h.update(&bytes[self.upto..upto]);
        h.finalize()
    }
}

/// The trailer for a stream of `len` bytes so far, all summed by `sum`.
pub fn trailer_after(len: usize, sum: &RunningSum) -> Vec<u8> {
    let mut t = Vec::new();
    let mut p = (len as u64).to_le_bytes().to_vec();
    p.extend_from_slice(&sum.value().to_le_bytes());
    record(&mut t, TRAILER, &p);
    t
}

/// The trailer for a stream whose bytes so far are `before`.
pub fn trailer(before: &[u8]) -> Vec<u8> {
    trailer_after(before.len(), &{
        let mut s = RunningSum::default();
        s.add(before);
        s
    })
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

/// What a parse found: where the register file is (when a complete final
/// record was read, even if the stream is bad later) and whether the stream
/// is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The bytes of the register snapshot in the stream, if one was read.
    pub snapshot: Option<std::ops::Range<usize>>,
    /// `Ok` for a complete, valid stream.
    pub verdict: Result<(), Invalid>,
}

/// Checks a whole stream.
pub fn parse(bytes: &[u8], regs: usize) -> Parsed {
    parse_summed(bytes, regs, &RunningSum::default())
}

/// Checks a whole stream whose CRC-32 `sum` has followed as it was written.
pub fn parse_summed(bytes: &[u8], regs: usize, sum: &RunningSum) -> Parsed {
    let mut snapshot = None;
    let verdict = walk(bytes, regs, &mut snapshot, sum);
    Parsed { snapshot, verdict }
}

fn walk(
    bytes: &[u8],
    regs: usize,
    snapshot: &mut Option<std::ops::Range<usize>>,
    sum: &RunningSum,
) -> Result<(), Invalid> {
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
            FINAL if len == regs && snapshot.is_none() => *snapshot = Some(start..end),
            TRAILER if len == 12 => {
                let mut total = [0u8; 8];
                total.copy_from_slice(&payload[..8]);
                let mut crc = [0u8; 4];
                crc.copy_from_slice(&payload[8..12]);
                if u64::from_le_bytes(total) != at as u64 || u32::from_le_bytes(crc) != sum.sum_of(bytes, at)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The running sum gives the same CRC as summing from scratch, wherever
    /// the trailer turns out to be (behind, at or past the summed part).
    #[test]
    fn the_running_sum_agrees_with_a_full_sum() {
        let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 253) as u8).collect();
        let mut sum = RunningSum::default();
        let mut grown = Vec::new();
        for piece in bytes.chunks(333) {
            grown.extend_from_slice(piece);
            sum.catch_up(&grown, TRAILER_LEN);
        }
        for upto in [0, 17, 4000, 5000 - TRAILER_LEN, 4990, 5000] {
            assert_eq!(sum.sum_of(&grown, upto), checksum(&grown[..upto]), "upto {upto}");
        }
    }
}
