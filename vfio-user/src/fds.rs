//! File descriptors beside messages: `SCM_RIGHTS` ancillary data on a UNIX
//! socket (*VFIO_USER_DMA_MAP*: "the file descriptor must be passed as
//! SCM_RIGHTS type ancillary data"; *VFIO_USER_DEVICE_SET_IRQS* likewise for
//! eventfds). A plain `read()` drops whatever descriptors arrive (the kernel
//! closes them), so a side that must see them reads through
//! [`FdReader`]; [`write_frame_with_fds`] sends some with a message.

use crate::codec::{Header, HEADER_LEN};
use crate::frame::{self, FrameError};
use rustix::net::{
    recvmsg, sendmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// The most descriptors kept from one read; more are closed by the kernel.
pub const MAX_FDS: usize = 16;

/// Reads a socket with `recvmsg`, keeping the descriptors that come along,
/// every read ending by a deadline when there is one (like
/// [`frame::Deadline`]).
pub struct FdReader<'a> {
    stream: &'a UnixStream,
    until: Option<Instant>,
    /// Descriptors received so far, in order.
    pub fds: Vec<OwnedFd>,
}

impl<'a> FdReader<'a> {
    /// Reads of `stream` that end within `within` from now (`None`: wait as
    /// long as it takes).
    pub fn new(stream: &'a UnixStream, within: Option<Duration>) -> Self {
        FdReader {
            stream,
            until: within.and_then(|w| Instant::now().checked_add(w)),
            fds: Vec::new(),
        }
    }
}

impl Read for FdReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let timeout = match self.until {
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "the deadline passed"));
                }
                Some(left.max(Duration::from_millis(1)))
            }
            None => None,
        };
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let stream = self.stream;
        let mut receive =
            |flags: RecvFlags| recvmsg(stream, &mut [IoSliceMut::new(buf)], &mut control, flags);
        // As a client's read does (frame::Deadline): look for the next bytes
        // a little while before sleeping in the kernel.
        let got =
            match crate::frame::before_sleeping(|| receive(RecvFlags::CMSG_CLOEXEC | RecvFlags::DONTWAIT)) {
                Some(r) => r?,
                None => {
                    stream.set_read_timeout(timeout)?;
                    receive(RecvFlags::CMSG_CLOEXEC).map_err(io::Error::from)?
                }
            };
        for msg in control.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = msg {
                self.fds.extend(fds);
            }
        }
        Ok(got.bytes)
    }
}

/// Reads one message of at most `max` bytes within `within`, with the
/// descriptors that came with it; the payload goes into `payload` (its
/// storage reused).
pub fn read_frame_with_fds(
    stream: &UnixStream,
    max: u32,
    within: Duration,
    payload: &mut Vec<u8>,
) -> Result<(Header, Vec<OwnedFd>), FrameError> {
    let mut r = FdReader::new(stream, Some(within));
    let header = frame::read_frame_into(&mut r, max, payload)?;
    Ok((header, r.fds))
}

/// Writes one message with `fds` attached to its first byte, within
/// `within`. The header's `size` is set from the payload.
pub fn write_frame_with_fds(
    stream: &UnixStream,
    mut header: Header,
    payload: &[u8],
    fds: &[BorrowedFd<'_>],
    within: Duration,
) -> Result<(), FrameError> {
    let len = HEADER_LEN + payload.len();
    header.size = u32::try_from(len).map_err(|_| {
        FrameError::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a message of {len} bytes does not fit the 32-bit message size"),
        ))
    })?;
    let h = header.encode();
    let mut d = frame::Deadline::new(stream, within);
    if fds.is_empty() {
        return frame::write_frame(&mut d, header, payload);
    }
    stream
        .set_write_timeout(Some(within.max(Duration::from_millis(1))))
        .map_err(FrameError::Io)?;
    let mut space = vec![MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(fds.len()))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(fds)) {
        return Err(FrameError::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the descriptors do not fit the control buffer",
        )));
    }
    let sent = loop {
        match sendmsg(
            stream,
            &[IoSlice::new(&h), IoSlice::new(payload)],
            &mut control,
            SendFlags::NOSIGNAL,
        ) {
            Ok(n) => break n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) if e == rustix::io::Errno::AGAIN => {
                return Err(FrameError::WriteTimedOut { sent: 0, size: len })
            }
            Err(e) => return Err(FrameError::Io(e.into())),
        }
    };
    // The descriptors went with the first bytes; the rest is plain data.
    let mut rest = Vec::with_capacity(len - sent.min(len));
    rest.extend_from_slice(&h[sent.min(HEADER_LEN)..]);
    rest.extend_from_slice(&payload[sent.saturating_sub(HEADER_LEN).min(payload.len())..]);
    std::io::Write::write_all(&mut d, &rest).map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => FrameError::WriteTimedOut { sent, size: len },
        _ => FrameError::Io(e),
    })
}
