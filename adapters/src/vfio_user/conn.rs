//! One client connection to a vfio-user server: the handshake, requests
//! with a deadline per request, and messages that say what was sent when
//! the server stops answering.

use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;
use vfio_mig_model::Errno;
use vfio_mig_vfio_user::codec::{DEFAULT_MAX_DATA_XFER, FLAG_NO_REPLY, HEADER_LEN, MIG_DATA_HEADER_LEN};
use vfio_mig_vfio_user::frame::{self, Deadline};
use vfio_mig_vfio_user::{fds, Command, FrameError, Header, Reply, Request};

/// The largest transfer this client makes or accepts in one message,
/// whatever the server announces: a server announcing 2 GiB or more must
/// not make the client allocate that much.
pub const CLIENT_MAX_XFER: u32 = 16 << 20;

/// Room for a reply's header, fixed words and data of [`CLIENT_MAX_XFER`]
/// bytes, and a page to spare for padding.
const REPLY_MAX: u32 = CLIENT_MAX_XFER + 4096 + 64;

/// What went wrong with a request.
#[derive(Debug)]
pub enum Fail {
    /// The server answered with an error and this errno.
    Server(u32),
    /// No usable answer; the connection is broken.
    Transport {
        /// The errno the operation reports (ETIMEDOUT for a stall).
        errno: Errno,
        /// What happened, for a person.
        why: String,
        /// Whether the server stopped answering (as opposed to closing the
        /// connection or answering nonsense).
        stalled: bool,
    },
}

impl Fail {
    /// The message, for a person.
    pub fn why(&self) -> String {
        match self {
            Fail::Server(e) => format!("refused with {}", errno(*e)),
            Fail::Transport { why, .. } => why.clone(),
        }
    }
}

/// An errno from the wire, which may be any u32.
pub fn errno(e: u32) -> Errno {
    Errno(i32::try_from(e).unwrap_or(i32::MAX))
}

/// What was read in answer to a raw message.
#[derive(Debug)]
pub enum Answer {
    /// A message came: its header and payload.
    Message(Header, Vec<u8>),
    /// The server closed the connection (cleanly or not, as the error says).
    Closed(FrameError),
    /// Nothing complete came within the deadline.
    Silent(FrameError),
}

/// One connection, after its VERSION handshake.
pub struct Conn {
    stream: UnixStream,
    /// The socket's path, for messages.
    pub path: String,
    /// The deadline of every request.
    pub timeout: Duration,
    next_id: u16,
    /// `max_data_xfer_size` as the server announced it (1 MiB when absent).
    pub announced_xfer: u64,
    /// The largest transfer this client makes: the announced size, at most
    /// [`CLIENT_MAX_XFER`].
    pub max_xfer: u32,
    /// The protocol minor version the server answered.
    pub minor: u16,
    /// Why the connection is unusable, once it is.
    pub broken: Option<String>,
    /// Every stall, in order: what was sent and how the server stopped
    /// answering.
    pub stalls: Vec<String>,
    /// The payload of the last reply (reused storage).
    buf: Vec<u8>,
}

/// A request as a person reads it.
fn describe(req: &Request) -> String {
    use vfio_mig_vfio_user::codec::{FEATURE_GET, FEATURE_MASK, FEATURE_PROBE, FEATURE_SET};
    match req {
        Request::Feature { flags, data, .. } => {
            let op = match (
                flags & FEATURE_GET != 0,
                flags & FEATURE_SET != 0,
                flags & FEATURE_PROBE != 0,
            ) {
                (_, _, true) => "PROBE",
                (true, false, _) => "GET",
                (false, true, _) => "SET",
                _ => "?",
            };
            let feature = match flags & FEATURE_MASK {
                1 => "MIGRATION".to_owned(),
                2 => "MIG_DEVICE_STATE".to_owned(),
                n => format!("feature {n}"),
            };
            match data.get(..4) {
                Some(b) if op == "SET" => {
                    format!(
                        "DEVICE_FEATURE {op} {feature} = {}",
                        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
                    )
                }
                _ => format!("DEVICE_FEATURE {op} {feature}"),
            }
        }
        Request::MigDataRead { size } => format!("MIG_DATA_READ of {size} bytes"),
        Request::MigDataWrite { data } => format!("MIG_DATA_WRITE of {} bytes", data.len()),
        other => other.command().name().to_owned(),
    }
}

/// Connects to the socket at `path`, waiting at most `within` for the
/// server to take the connection (a server that serves one client at a time
/// leaves a second one waiting for ever otherwise).
pub fn connect_within(path: &str, within: Duration) -> std::io::Result<UnixStream> {
    use rustix::net::{connect, socket_with, AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let addr = SocketAddrUnix::new(path)?;
    let fd = socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )?;
    let until = std::time::Instant::now() + within;
    loop {
        match connect(&fd, &addr) {
            Ok(()) => break,
            Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) if std::time::Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(rustix::io::Errno::AGAIN) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "the server took no new connection within {} ms",
                        within.as_millis()
                    ),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let stream = UnixStream::from(fd);
    stream.set_nonblocking(false)?;
    Ok(stream)
}

impl Conn {
    /// Connects to `path` and negotiates: VERSION 0.1 without
    /// capabilities; `max_data_xfer_size` read from the reply.
    pub fn connect(path: &str, timeout: Duration) -> Result<Self, String> {
        let stream = connect_within(path, timeout).map_err(|e| format!("cannot connect: {e}"))?;
        let mut c = Conn {
            stream,
            path: path.to_owned(),
            timeout,
            next_id: 0,
            announced_xfer: u64::from(DEFAULT_MAX_DATA_XFER),
            max_xfer: DEFAULT_MAX_DATA_XFER,
            minor: 0,
            broken: None,
            stalls: Vec::new(),
            buf: Vec::new(),
        };
        let hello = Request::Version {
            major: 0,
            minor: 1,
            caps: String::new(),
        };
        match c.call(&hello).map_err(|f| format!("VERSION: {}", f.why()))? {
            Reply::Version {
                major: 0,
                minor,
                caps,
            } if minor <= 1 => {
                c.minor = minor;
                c.announced_xfer = max_xfer_of(&caps)?;
                c.max_xfer = u32::try_from(c.announced_xfer.min(u64::from(CLIENT_MAX_XFER)))
                    .unwrap_or(CLIENT_MAX_XFER);
            }
            other => return Err(format!("VERSION: the server answered {other:?}, not 0.0 or 0.1")),
        }
        Ok(c)
    }

    fn next_header(&mut self, command: u16, flags: u32) -> Header {
        self.next_id = self.next_id.wrapping_add(1);
        Header {
            msg_id: self.next_id,
            command,
            size: 0,
            flags,
            error: 0,
        }
    }

    /// Marks the connection broken and returns the failure.
    fn transport(&mut self, why: String, stalled: bool) -> Fail {
        if stalled {
            self.stalls.push(why.clone());
        }
        self.broken = Some(why.clone());
        Fail::Transport {
            errno: if stalled { Errno::ETIMEDOUT } else { Errno::EIO },
            why,
            stalled,
        }
    }

    /// The failure for frame error `e` after `what` (id, length) was sent.
    fn lost(&mut self, what: &str, h: &Header, len: usize, e: FrameError, sending: bool) -> Fail {
        let ms = self.timeout.as_millis();
        let sent = format!("{what} (message id {}, {} bytes) was sent", h.msg_id, len);
        let (why, stalled) = match &e {
            FrameError::WriteTimedOut { sent: n, size } => (
                format!(
                    "{what} (message id {}) could not be sent: the server stopped reading after {n} of its {size} bytes and took no more within {ms} ms",
                    h.msg_id
                ),
                true,
            ),
            FrameError::ReadTimedOut { got: 0 } => (
                format!("{sent}; the server stopped answering after it: no reply within {ms} ms"),
                true,
            ),
            FrameError::ReadTimedOut { got } => (
                format!(
                    "{sent}; the server stopped answering after it: its reply stopped after {got} bytes and was not complete within {ms} ms"
                ),
                true,
            ),
            _ if sending => (format!("{what} (message id {}) could not be sent: {e}", h.msg_id), false),
            _ => (format!("{sent}; then: {e}"), false),
        };
        self.transport(why, stalled)
    }

    fn check_broken(&self) -> Result<(), Fail> {
        match &self.broken {
            Some(why) => Err(Fail::Transport {
                errno: Errno::EIO,
                why: why.clone(),
                stalled: false,
            }),
            None => Ok(()),
        }
    }

    /// Reads the reply to `h` into `self.buf` (`head` first): its header.
    fn reply_to(
        &mut self,
        what: &str,
        h: &Header,
        len: usize,
        head: &mut [u8],
        rest: &mut Vec<u8>,
    ) -> Result<(Header, usize), Fail> {
        let mut d = Deadline::new(&self.stream, self.timeout);
        let (r, in_head) = match frame::read_frame_parts(&mut d, REPLY_MAX, head, rest) {
            Ok(x) => x,
            Err(e) => return Err(self.lost(what, h, len, e, false)),
        };
        if !r.is_reply() || r.msg_id != h.msg_id || r.command != h.command {
            return Err(self.transport(
                format!(
                    "{what}: the answer (id {}, command {}, flags {:#x}) is not the reply to message {}",
                    r.msg_id, r.command, r.flags, h.msg_id
                ),
                false,
            ));
        }
        Ok((r, in_head))
    }

    /// Sends `req` and waits for its reply, at most the deadline.
    pub fn call(&mut self, req: &Request) -> Result<Reply, Fail> {
        self.check_broken()?;
        let cmd = req.command();
        let what = describe(req);
        let h = self.next_header(cmd.number(), 0);
        let payload = req.payload();
        let len = HEADER_LEN + payload.len();
        if let Err(e) = frame::write_frame(&mut Deadline::new(&self.stream, self.timeout), h, &payload) {
            return Err(self.lost(&what, &h, len, e, true));
        }
        let mut buf = std::mem::take(&mut self.buf);
        let r = self.reply_to(&what, &h, len, &mut [], &mut buf);
        let out = match r {
            Err(f) => Err(f),
            // The error flag decides; any payload that came with it is ignored.
            Ok((r, _)) if r.is_error() => Err(Fail::Server(r.error)),
            Ok(_) => Reply::decode(cmd, &buf).map_err(|e| self.transport(format!("{what}: {e}"), false)),
        };
        self.buf = buf;
        out
    }

    /// MIG_DATA_READ of `size` bytes (at most [`Conn::max_xfer`]): the
    /// data goes straight into `out`, without another copy. Bytes past the
    /// reply's `size` (padding) are dropped.
    pub fn read_data(&mut self, size: u32, out: &mut Vec<u8>) -> Result<(), Fail> {
        self.check_broken()?;
        let req = Request::MigDataRead { size };
        let what = describe(&req);
        let h = self.next_header(Command::MigDataRead.number(), 0);
        let payload = req.payload();
        let len = HEADER_LEN + payload.len();
        if let Err(e) = frame::write_frame(&mut Deadline::new(&self.stream, self.timeout), h, &payload) {
            return Err(self.lost(&what, &h, len, e, true));
        }
        let mut words = [0u8; MIG_DATA_HEADER_LEN];
        let (r, in_head) = self.reply_to(&what, &h, len, &mut words, out)?;
        if r.is_error() {
            out.clear();
            return Err(Fail::Server(r.error));
        }
        if in_head < MIG_DATA_HEADER_LEN {
            return Err(self.transport(
                format!("{what}: the reply has {in_head} bytes, at least 8 needed"),
                false,
            ));
        }
        let got = u32::from_le_bytes([words[4], words[5], words[6], words[7]]) as usize;
        if got > out.len() {
            return Err(self.transport(
                format!(
                    "{what}: the reply's size says {got} bytes, only {} follow",
                    out.len()
                ),
                false,
            ));
        }
        out.truncate(got);
        Ok(())
    }

    /// MIG_DATA_WRITE of `data`, sent from where it lies.
    pub fn write_data(&mut self, data: &[u8]) -> Result<(), Fail> {
        self.check_broken()?;
        let what = format!("MIG_DATA_WRITE of {} bytes", data.len());
        let h = self.next_header(Command::MigDataWrite.number(), 0);
        let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let mut words = [0u8; MIG_DATA_HEADER_LEN];
        words[..4].copy_from_slice(&size.saturating_add(MIG_DATA_HEADER_LEN as u32).to_le_bytes());
        words[4..].copy_from_slice(&size.to_le_bytes());
        let len = HEADER_LEN + MIG_DATA_HEADER_LEN + data.len();
        if let Err(e) =
            frame::write_frame_parts(&mut Deadline::new(&self.stream, self.timeout), h, &[&words, data])
        {
            return Err(self.lost(&what, &h, len, e, true));
        }
        let mut buf = std::mem::take(&mut self.buf);
        let r = self.reply_to(&what, &h, len, &mut [], &mut buf);
        self.buf = buf;
        match r? {
            (r, _) if r.is_error() => Err(Fail::Server(r.error)),
            _ => Ok(()),
        }
    }

    /// A region command (DEVICE_GET_REGION_INFO, REGION_READ, REGION_WRITE)
    /// with `payload`: the reply's payload.
    pub fn region(&mut self, command: u16, payload: &[u8]) -> Result<Vec<u8>, Fail> {
        self.check_broken()?;
        let what = match command {
            vfio_mig_vfio_user::region::REGION_READ => "REGION_READ",
            vfio_mig_vfio_user::region::REGION_WRITE => "REGION_WRITE",
            _ => "DEVICE_GET_REGION_INFO",
        };
        let h = self.next_header(command, 0);
        let len = HEADER_LEN + payload.len();
        if let Err(e) = frame::write_frame(&mut Deadline::new(&self.stream, self.timeout), h, payload) {
            return Err(self.lost(what, &h, len, e, true));
        }
        let mut out = Vec::new();
        match self.reply_to(what, &h, len, &mut [], &mut out)? {
            (r, _) if r.is_error() => Err(Fail::Server(r.error)),
            _ => Ok(out),
        }
    }

    /// Sends a message as it is (any command number, flags and payload,
    /// with `fds` beside it) and reads what comes back within the deadline,
    /// unless the message asks for no reply and `expect_reply` is false.
    /// Nothing is checked: the malformed-message suite judges the answer.
    /// A send that fails because the server closed the connection is an
    /// [`Answer::Closed`].
    pub fn raw(
        &mut self,
        command: u16,
        flags: u32,
        payload: &[u8],
        fds_out: &[BorrowedFd<'_>],
    ) -> Result<(Header, Option<Answer>), String> {
        if let Some(why) = &self.broken {
            return Err(why.clone());
        }
        let h = self.next_header(command, flags);
        let sent = fds::write_frame_with_fds(&self.stream, h, payload, fds_out, self.timeout);
        if let Err(e) = sent {
            let answer = if e.closed() {
                Answer::Closed(e)
            } else {
                Answer::Silent(e)
            };
            self.broken = Some("the connection closed".into());
            return Ok((h, Some(answer)));
        }
        if flags & FLAG_NO_REPLY != 0 {
            return Ok((h, None));
        }
        Ok((h, Some(self.read_any())))
    }

    /// Reads the next message, whatever it is, within the deadline.
    pub fn read_any(&mut self) -> Answer {
        let mut payload = Vec::new();
        match frame::read_frame_into(
            &mut Deadline::new(&self.stream, self.timeout),
            REPLY_MAX,
            &mut payload,
        ) {
            Ok(h) => Answer::Message(h, payload),
            Err(e) if e.closed() => {
                self.broken = Some(format!("the server closed the connection: {e}"));
                Answer::Closed(e)
            }
            Err(e) => {
                self.broken = Some(format!("the connection is out of step: {e}"));
                Answer::Silent(e)
            }
        }
    }

    /// Writes raw bytes (a truncated header, say), within the deadline.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        std::io::Write::write_all(&mut Deadline::new(&self.stream, self.timeout), bytes)
    }

    /// Message IDs used so far (the next one is this plus one).
    pub fn last_id(&self) -> u16 {
        self.next_id
    }

    /// Closes the connection (both directions); it is unusable afterwards.
    pub fn close(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        self.broken = Some("the connection was closed".into());
    }

    /// Marks the connection unusable for `why` (after a raw exchange left it
    /// out of step).
    pub fn poison(&mut self, why: impl Into<String>) {
        self.broken = Some(why.into());
    }
}

/// `max_data_xfer_size` from a VERSION reply's capabilities (1 MiB when
/// absent), as announced: any positive value up to u32::MAX.
fn max_xfer_of(caps: &str) -> Result<u64, String> {
    if caps.is_empty() {
        return Ok(u64::from(DEFAULT_MAX_DATA_XFER));
    }
    let v: serde_json::Value =
        serde_json::from_str(caps).map_err(|e| format!("VERSION capabilities: {e}"))?;
    match &v["capabilities"]["max_data_xfer_size"] {
        serde_json::Value::Null => Ok(u64::from(DEFAULT_MAX_DATA_XFER)),
        n => n
            .as_u64()
            .filter(|n| *n > 0 && *n <= u64::from(u32::MAX))
            .ok_or_else(|| {
                format!("VERSION capabilities: max_data_xfer_size {n} is not a positive 32-bit size")
            }),
    }
}
