//! Messages over a byte stream: one header, then `size - 16` payload bytes.

use crate::codec::{Header, HEADER_LEN};
use std::fmt;
use std::io::{self, Read, Write};

/// Why a message could not be read or written.
#[derive(Debug)]
pub enum FrameError {
    /// The peer closed the connection between messages.
    Closed,
    /// The peer closed the connection inside a message.
    Cut {
        /// Bytes of the message that arrived.
        got: usize,
        /// Bytes the header announced.
        size: usize,
    },
    /// The header announces fewer bytes than a header.
    TooSmall(u32),
    /// The header announces more bytes than this side accepts.
    TooLarge {
        /// Announced size.
        size: u32,
        /// The limit.
        max: u32,
    },
    /// No byte arrived within the socket's timeout.
    TimedOut,
    /// Any other I/O error.
    Io(io::Error),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Closed => f.write_str("the peer closed the connection"),
            FrameError::Cut { got, size } => {
                write!(
                    f,
                    "the connection closed after {got} of the message's {size} bytes"
                )
            }
            FrameError::TooSmall(n) => write!(f, "message size {n} is smaller than its 16-byte header"),
            FrameError::TooLarge { size, max } => {
                write!(f, "message size {size} is over the limit of {max} bytes")
            }
            FrameError::TimedOut => f.write_str("no answer within the timeout"),
            FrameError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FrameError {}

fn io_error(e: io::Error) -> FrameError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => FrameError::TimedOut,
        _ => FrameError::Io(e),
    }
}

/// Fills `buf`, telling a clean close before the first byte (`Ok(false)`)
/// from one in the middle.
fn fill(r: &mut impl Read, buf: &mut [u8], done_before: usize, size: usize) -> Result<bool, FrameError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 && done_before == 0 => return Ok(false),
            Ok(0) => {
                return Err(FrameError::Cut {
                    got: done_before + got,
                    size,
                })
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    Ok(true)
}

/// Reads one message whose size is at most `max` bytes: the header and the
/// payload. The payload is allocated only after the size was checked.
pub fn read_frame(r: &mut impl Read, max: u32) -> Result<(Header, Vec<u8>), FrameError> {
    let mut h = [0u8; HEADER_LEN];
    if !fill(r, &mut h, 0, HEADER_LEN)? {
        return Err(FrameError::Closed);
    }
    let header = Header::decode(&h);
    if (header.size as usize) < HEADER_LEN {
        return Err(FrameError::TooSmall(header.size));
    }
    if header.size > max {
        return Err(FrameError::TooLarge {
            size: header.size,
            max,
        });
    }
    let mut payload = vec![0u8; header.size as usize - HEADER_LEN];
    fill(r, &mut payload, HEADER_LEN, header.size as usize)?;
    Ok((header, payload))
}

/// Writes one message: `header` (its `size` is set from the payload) and
/// `payload`.
pub fn write_frame(w: &mut impl Write, mut header: Header, payload: &[u8]) -> Result<(), FrameError> {
    header.size = (HEADER_LEN + payload.len()) as u32;
    // Header and payload go out as they are, without being copied together.
    w.write_all(&header.encode()).map_err(io_error)?;
    w.write_all(payload).map_err(io_error)?;
    w.flush().map_err(io_error)
}
