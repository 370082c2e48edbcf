//! Messages over a byte stream: one header, then `size - 16` payload bytes
//! (*Header*: "Message size contains the size of the entire message,
//! including the header").
//!
//! A [`Deadline`] bounds a whole message, not each `read()`: a peer that
//! trickles one byte at a time cannot keep a request alive past it.

use crate::codec::{Header, HEADER_LEN};
use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Why a message could not be read or written.
#[derive(Debug)]
pub enum FrameError {
    /// The peer closed the connection between messages.
    Closed,
    /// The peer closed the connection inside a message.
    Cut {
        /// Bytes of the message that arrived.
        got: usize,
        /// Bytes the header announced (16 while the header itself was cut).
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
    /// The deadline passed while reading: `got` bytes of the message had
    /// arrived (0: nothing at all).
    ReadTimedOut {
        /// Bytes of the message received before the deadline.
        got: usize,
    },
    /// The deadline passed while writing: the peer stopped taking bytes.
    WriteTimedOut {
        /// Bytes of the message that went out.
        sent: usize,
        /// Bytes of the whole message.
        size: usize,
    },
    /// Any other I/O error.
    Io(io::Error),
}

impl FrameError {
    /// Whether the deadline passed (reading or writing).
    pub fn timed_out(&self) -> bool {
        matches!(
            self,
            FrameError::ReadTimedOut { .. } | FrameError::WriteTimedOut { .. }
        )
    }

    /// Whether the peer closed or reset the connection.
    pub fn closed(&self) -> bool {
        match self {
            FrameError::Closed | FrameError::Cut { .. } => true,
            FrameError::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            ),
            _ => false,
        }
    }
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
            FrameError::ReadTimedOut { got: 0 } => f.write_str("no message arrived before the deadline"),
            FrameError::ReadTimedOut { got } => write!(
                f,
                "the message stopped arriving before the deadline, after {got} of its bytes"
            ),
            FrameError::WriteTimedOut { sent, size } => write!(
                f,
                "the peer stopped taking bytes: {sent} of the message's {size} went out before the deadline"
            ),
            FrameError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FrameError {}

fn would_time_out(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// A socket whose reads and writes all end by one instant: each `read()` and
/// `write()` waits at most the time left (the socket's timeouts are set to
/// it before every call), and none starts once it has passed.
pub struct Deadline<'a> {
    stream: &'a UnixStream,
    until: Instant,
}

impl<'a> Deadline<'a> {
    /// Operations on `stream` that end within `within` from now.
    pub fn new(stream: &'a UnixStream, within: Duration) -> Self {
        Deadline {
            stream,
            until: Instant::now() + within,
        }
    }

    /// Time left, or a `TimedOut` error when none is.
    fn left(&self) -> io::Result<Duration> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "the deadline passed"));
        }
        // A zero timeout means "none" to the socket: never pass one.
        Ok(left.max(Duration::from_millis(1)))
    }
}

/// How long a read looks for bytes before it sleeps.
const SPIN: Duration = Duration::from_micros(50);

/// Tries `read_now` (a receive that does not wait) for [`SPIN`], yielding
/// the core between tries: a reply often comes within microseconds, and
/// waking a thread that sleeps in the kernel costs tens of them on a virtual
/// machine. `None` when nothing came: the caller then waits in the kernel.
pub(crate) fn before_sleeping<T>(
    mut read_now: impl FnMut() -> rustix::io::Result<T>,
) -> Option<io::Result<T>> {
    let spin = Instant::now();
    while spin.elapsed() < SPIN {
        match read_now() {
            Err(rustix::io::Errno::AGAIN) => std::thread::yield_now(),
            r => return Some(r.map_err(io::Error::from)),
        }
    }
    None
}

impl Read for Deadline<'_> {
    /// What has come already, if anything comes within a few microseconds;
    /// else waits for the whole of `buf` (MSG_WAITALL) within the time left:
    /// one call per part of a message, however the peer's writes split it.
    /// The socket's receive timeout bounds the whole call, so it returns
    /// what came by the deadline.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use rustix::net::{recv, RecvFlags};
        if let Some(r) = before_sleeping(|| recv(self.stream, &mut *buf, RecvFlags::DONTWAIT)) {
            return r.map(|(n, _)| n);
        }
        self.stream.set_read_timeout(Some(self.left()?))?;
        recv(self.stream, buf, RecvFlags::WAITALL)
            .map(|(n, _)| n)
            .map_err(io::Error::from)
    }
}

impl Write for Deadline<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        (&mut &*self.stream).write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        (&mut &*self.stream).write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Fills `buf`, telling a clean close before the first byte (`Ok(false)`)
/// from one in the middle; `done_before` bytes of the message came earlier.
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
            Err(e) if would_time_out(&e) => {
                return Err(FrameError::ReadTimedOut {
                    got: done_before + got,
                })
            }
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    Ok(true)
}

/// Reads one header and checks its size against `max`.
pub fn read_header(r: &mut impl Read, max: u32) -> Result<Header, FrameError> {
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
    Ok(header)
}

/// Reads one message whose size is at most `max` bytes: the header and the
/// payload. The payload is allocated only after the size was checked.
pub fn read_frame(r: &mut impl Read, max: u32) -> Result<(Header, Vec<u8>), FrameError> {
    let mut payload = Vec::new();
    let header = read_frame_into(r, max, &mut payload)?;
    Ok((header, payload))
}

/// [`read_frame`] into a buffer the caller keeps: `payload` ends up holding
/// exactly the payload. Its storage is reused (a buffer already as long as
/// the payload is not cleared first).
pub fn read_frame_into(r: &mut impl Read, max: u32, payload: &mut Vec<u8>) -> Result<Header, FrameError> {
    let (header, _) = read_frame_parts(r, max, &mut [], payload)?;
    Ok(header)
}

/// Reads one message of at most `max` bytes, its payload split in two: the
/// first bytes into `head` (as many as fit, returned as the second value)
/// and the rest into `rest`, reusing its storage. A caller that knows a
/// reply's fixed words reads the data behind them straight into its own
/// buffer this way, without another copy.
pub fn read_frame_parts(
    r: &mut impl Read,
    max: u32,
    head: &mut [u8],
    rest: &mut Vec<u8>,
) -> Result<(Header, usize), FrameError> {
    let header = read_header(r, max)?;
    let size = header.size as usize;
    let len = size - HEADER_LEN;
    let in_head = len.min(head.len());
    fill(r, &mut head[..in_head], HEADER_LEN, size)?;
    let tail = len - in_head;
    if rest.len() > tail {
        rest.truncate(tail);
    } else {
        rest.resize(tail, 0);
    }
    fill(r, rest, HEADER_LEN + in_head, size)?;
    Ok((header, in_head))
}

/// Writes every byte of `parts` in order, with as few calls as the stream
/// allows; on failure, how many bytes went out.
fn write_all_parts(w: &mut impl Write, parts: &mut [IoSlice<'_>]) -> Result<(), (usize, io::Error)> {
    let mut sent = 0;
    let mut parts = parts;
    // Skip empty slices so that a write of nothing is never mistaken for a
    // peer that takes nothing.
    IoSlice::advance_slices(&mut parts, 0);
    while !parts.is_empty() {
        match w.write_vectored(parts) {
            Ok(0) => return Err((sent, io::Error::from(io::ErrorKind::WriteZero))),
            Ok(n) => {
                sent += n;
                IoSlice::advance_slices(&mut parts, n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((sent, e)),
        }
    }
    Ok(())
}

/// Writes one message: `header` (its `size` is set from the payload) and
/// `payload`.
pub fn write_frame(w: &mut impl Write, header: Header, payload: &[u8]) -> Result<(), FrameError> {
    write_frame_parts(w, header, &[payload])
}

/// Writes one message whose payload is `parts` one after the other (its
/// fixed words and its data, say), without copying them together. The
/// header's `size` is set from their lengths; a payload that would not fit
/// a 32-bit size is refused before anything is written.
pub fn write_frame_parts(w: &mut impl Write, mut header: Header, parts: &[&[u8]]) -> Result<(), FrameError> {
    let len: usize = HEADER_LEN + parts.iter().map(|p| p.len()).sum::<usize>();
    header.size = u32::try_from(len).map_err(|_| {
        FrameError::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a message of {len} bytes does not fit the 32-bit message size"),
        ))
    })?;
    let h = header.encode();
    let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(parts.len() + 1);
    slices.push(IoSlice::new(&h));
    slices.extend(parts.iter().map(|p| IoSlice::new(p)));
    write_all_parts(w, &mut slices).map_err(|(sent, e)| {
        if would_time_out(&e) {
            FrameError::WriteTimedOut { sent, size: len }
        } else {
            FrameError::Io(e)
        }
    })?;
    w.flush().map_err(FrameError::Io)
}
