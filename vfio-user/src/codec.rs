//! Message header and payloads: encoding and checked decoding.
//!
//! Each type and field below names the section of the vfio-user
//! specification 0.9.2 (QEMU `docs/interop/vfio-user.rst`) that defines it,
//! and the field's byte offset from the start of the payload (the header's
//! offsets are from the start of the message). Fields are written
//! little-endian; the specification says host endianness, which is the same
//! on the hosts vfio-user runs on today (x86-64, arm64).
//!
//! `argsz` (*Message sizes*): in a request it is the largest reply payload the
//! client accepts, at least the reply's fixed part; the request's own length
//! is the header's message size. In a reply it is the size of the full reply
//! payload, which may exceed what the client allowed.

use std::fmt;

/// Bytes of the message header (*Header*).
pub const HEADER_LEN: usize = 16;
/// `flags` type bits 0-3: a command (*Header*).
pub const TYPE_COMMAND: u32 = 0;
/// `flags` type bits 0-3: a reply acknowledging the command with the same
/// message ID (*Header*).
pub const TYPE_REPLY: u32 = 1;
/// `flags` bit 4, No_reply: the command needs no reply (*Header*).
pub const FLAG_NO_REPLY: u32 = 1 << 4;
/// `flags` bit 5, Error: the command failed; the reply is the header alone
/// and `error` may hold an errno (*Header*).
pub const FLAG_ERROR: u32 = 1 << 5;
/// Bytes of the fixed part (`argsz`, `size`) of MIG_DATA_READ and
/// MIG_DATA_WRITE payloads (spec, VFIO_USER_MIG_DATA_READ and
/// VFIO_USER_MIG_DATA_WRITE).
pub const MIG_DATA_HEADER_LEN: usize = 8;
/// The default `max_data_xfer_size` when the peer names none, 1048576 bytes
/// (*VFIO_USER_VERSION*, capabilities).
pub const DEFAULT_MAX_DATA_XFER: u32 = 1 << 20;

/// DEVICE_FEATURE `flags`: the feature index, bits 0 to 15 (spec,
/// VFIO_USER_DEVICE_FEATURE, Request).
pub const FEATURE_MASK: u32 = 0xffff;
/// DEVICE_FEATURE `flags`: get the feature's data (bit 16).
pub const FEATURE_GET: u32 = 1 << 16;
/// DEVICE_FEATURE `flags`: set the feature's data (bit 17).
pub const FEATURE_SET: u32 = 1 << 17;
/// DEVICE_FEATURE `flags`: probe for support of the named methods (bit 18).
pub const FEATURE_PROBE: u32 = 1 << 18;
/// Feature index VFIO_DEVICE_FEATURE_MIGRATION (spec, Device Features).
pub const FEATURE_MIGRATION: u32 = 1;
/// Feature index VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE.
pub const FEATURE_MIG_DEVICE_STATE: u32 = 2;
/// Feature index VFIO_DEVICE_FEATURE_DMA_LOGGING_START.
pub const FEATURE_DMA_LOGGING_START: u32 = 6;
/// Feature index VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP.
pub const FEATURE_DMA_LOGGING_STOP: u32 = 7;
/// Feature index VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT.
pub const FEATURE_DMA_LOGGING_REPORT: u32 = 8;

/// The commands this codec knows (the others are answered with an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// `VFIO_USER_VERSION`.
    Version,
    /// `VFIO_USER_DEVICE_GET_INFO`.
    DeviceGetInfo,
    /// `VFIO_USER_DEVICE_RESET`.
    DeviceReset,
    /// `VFIO_USER_DEVICE_FEATURE`.
    DeviceFeature,
    /// `VFIO_USER_MIG_DATA_READ`.
    MigDataRead,
    /// `VFIO_USER_MIG_DATA_WRITE`.
    MigDataWrite,
}

/// (command, wire number) pairs.
const COMMANDS: [(Command, u16); 6] = [
    (Command::Version, 1),
    (Command::DeviceGetInfo, 4),
    (Command::DeviceReset, 13),
    (Command::DeviceFeature, 16),
    (Command::MigDataRead, 17),
    (Command::MigDataWrite, 18),
];

impl Command {
    /// The wire number.
    pub fn number(self) -> u16 {
        COMMANDS.iter().find(|(c, _)| *c == self).map_or(0, |(_, n)| *n)
    }

    /// The command with wire number `n`, if this codec knows it.
    pub fn from_number(n: u16) -> Option<Self> {
        COMMANDS.iter().find(|(_, m)| *m == n).map(|(c, _)| *c)
    }

    /// The specification's name.
    pub fn name(self) -> &'static str {
        match self {
            Command::Version => "VERSION",
            Command::DeviceGetInfo => "DEVICE_GET_INFO",
            Command::DeviceReset => "DEVICE_RESET",
            Command::DeviceFeature => "DEVICE_FEATURE",
            Command::MigDataRead => "MIG_DATA_READ",
            Command::MigDataWrite => "MIG_DATA_WRITE",
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The 16-byte header of every message, command or reply (*Header*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Message ID @0, 2 bytes: chosen by the sender and echoed in the reply;
    /// IDs may be reused, so the receiver assumes nothing about uniqueness.
    pub msg_id: u16,
    /// Command @2, 2 bytes: the command number (*Commands*), also set in the
    /// reply. Kept raw so that an unknown number can be echoed in an error
    /// reply.
    pub command: u16,
    /// Message size @4, 4 bytes: the whole message, header included.
    pub size: u32,
    /// Flags @8, 4 bytes: type in bits 0-3 ([`TYPE_COMMAND`],
    /// [`TYPE_REPLY`]), [`FLAG_NO_REPLY`], [`FLAG_ERROR`].
    pub flags: u32,
    /// Error @12, 4 bytes: in a reply with the Error flag an optional errno
    /// (it may be 0 even then); reserved in a command.
    pub error: u32,
}

impl Header {
    /// Reads a header from its 16 bytes.
    pub fn decode(b: &[u8; HEADER_LEN]) -> Self {
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Header {
            msg_id: u16_at(0),
            command: u16_at(2),
            size: u32_at(4),
            flags: u32_at(8),
            error: u32_at(12),
        }
    }

    /// The 16 bytes of this header.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..2].copy_from_slice(&self.msg_id.to_le_bytes());
        b[2..4].copy_from_slice(&self.command.to_le_bytes());
        b[4..8].copy_from_slice(&self.size.to_le_bytes());
        b[8..12].copy_from_slice(&self.flags.to_le_bytes());
        b[12..16].copy_from_slice(&self.error.to_le_bytes());
        b
    }

    /// Whether this is a reply.
    pub fn is_reply(&self) -> bool {
        self.flags & 0xf == TYPE_REPLY
    }

    /// Whether this reply reports an error.
    pub fn is_error(&self) -> bool {
        self.flags & FLAG_ERROR != 0
    }
}

/// What was wrong with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The payload is shorter than the message's fixed fields.
    Truncated {
        /// The message.
        what: String,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        got: usize,
    },
    /// A field holds a value the message cannot have.
    Invalid {
        /// The message.
        what: String,
        /// The problem.
        why: String,
    },
    /// A command number this codec does not know.
    UnknownCommand(u16),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::Truncated { what, need, got } => {
                write!(f, "{what}: payload of {got} bytes, at least {need} needed")
            }
            CodecError::Invalid { what, why } => write!(f, "{what}: {why}"),
            CodecError::UnknownCommand(n) => write!(f, "unknown command {n}"),
        }
    }
}

impl std::error::Error for CodecError {}

/// A command from the client.
///
/// Decoding ([`Request::decode`]) is lenient about fields the codec does not
/// keep; [`crate::check::check_request`] applies every rule of the
/// specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// VERSION (1), the first message of a connection (*VFIO_USER_VERSION*,
    /// Request).
    Version {
        /// version major @0, 2 bytes.
        major: u16,
        /// version minor @2, 2 bytes.
        minor: u16,
        /// version data @4: optional UTF-8 JSON `{"capabilities": {...}}`,
        /// sent with its terminating NUL (empty: no data at all).
        caps: String,
    },
    /// DEVICE_GET_INFO (4) (*VFIO_USER_DEVICE_GET_INFO*, Request): encoded as
    /// argsz @0 = 16, the size of the reply payload, then flags @4,
    /// num_regions @8 and num_irqs @12, all zero as the specification asks.
    DeviceGetInfo,
    /// DEVICE_RESET (13): no payload (*VFIO_USER_DEVICE_RESET*).
    DeviceReset,
    /// DEVICE_FEATURE (16) (*VFIO_USER_DEVICE_FEATURE*, Request).
    Feature {
        /// argsz @0, 4 bytes: the largest reply payload accepted. For SET
        /// and PROBE the reply echoes the request, so at least 8 + data; for
        /// GET at least 8 + the feature's data (8 for MIGRATION and
        /// MIG_DEVICE_STATE).
        argsz: u32,
        /// flags @4, 4 bytes: feature index in bits 0-15 ([`FEATURE_MASK`]),
        /// [`FEATURE_GET`], [`FEATURE_SET`], [`FEATURE_PROBE`]; GET and SET
        /// only together with PROBE.
        flags: u32,
        /// data @8: the feature's data (*Device Features*): for SET of
        /// MIG_DEVICE_STATE `device_state` @0 and `data_fd` @4 (unused in
        /// vfio-user), 4 bytes each; none for GET and PROBE.
        data: Vec<u8>,
    },
    /// MIG_DATA_READ (17), only in PRE_COPY and STOP_COPY
    /// (*VFIO_USER_MIG_DATA_READ*, Request). Encoded as argsz @0 = 8 + `size`
    /// ([`mig_data_read_argsz`]: "the maximum size of the reply payload",
    /// which is the reply's argsz and size and up to `size` bytes), then
    /// size @4. Decoding does not keep argsz; see
    /// [`crate::check::check_mig_data_read`].
    MigDataRead {
        /// size @4, 4 bytes: bytes of migration data asked for, at most the
        /// peer's `max_data_xfer_size`.
        size: u32,
    },
    /// MIG_DATA_WRITE (18), only in RESUMING (*VFIO_USER_MIG_DATA_WRITE*,
    /// Request): argsz @0, size @4 = the data's length, data @8. argsz is
    /// encoded as 8 + size. The specification calls it "the maximum size of
    /// the reply payload" and the message has no reply payload, but
    /// libvfio-user refuses an argsz below 8 + size, and 8 + size satisfies
    /// both readings.
    MigDataWrite {
        /// data @8: the migration data.
        data: Vec<u8>,
    },
}

/// A successful reply's payload. (An error reply is the header alone, with
/// [`FLAG_ERROR`] and `error`; *Header*.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// VERSION reply, the request's format (*VFIO_USER_VERSION*, Reply):
    /// the same major, a minor no greater than proposed, capabilities a
    /// subset of those proposed.
    Version {
        /// version major @0, 2 bytes.
        major: u16,
        /// version minor @2, 2 bytes.
        minor: u16,
        /// version data @4: the capabilities JSON (its NUL is not kept).
        caps: String,
    },
    /// DEVICE_GET_INFO reply (*VFIO_USER_DEVICE_GET_INFO*, Reply): argsz @0
    /// (encoded 16, the full reply payload; ignored when decoding), then the
    /// fields below.
    DeviceInfo {
        /// flags @4: bit 0 VFIO_DEVICE_FLAGS_RESET (DEVICE_RESET supported),
        /// bit 1 VFIO_DEVICE_FLAGS_PCI.
        flags: u32,
        /// num_regions @8: regions the device exposes.
        num_regions: u32,
        /// num_irqs @12: interrupt types the device supports.
        num_irqs: u32,
    },
    /// No payload: the reply to DEVICE_RESET (*VFIO_USER_DEVICE_RESET*) and
    /// to MIG_DATA_WRITE (*VFIO_USER_MIG_DATA_WRITE*, Reply).
    Empty,
    /// DEVICE_FEATURE reply (*VFIO_USER_DEVICE_FEATURE*, Reply): the request
    /// payload again for SET and PROBE; for GET the feature's data appended
    /// and its length added to argsz.
    Feature {
        /// argsz @0: the full reply payload (8 + data for GET).
        argsz: u32,
        /// flags @4: the request's flags.
        flags: u32,
        /// data @8: for GET of MIGRATION a u64 of migration flags (bit 0
        /// STOP_COPY, 1 P2P, 2 PRE_COPY); for GET of MIG_DEVICE_STATE
        /// `device_state` @0 and `data_fd` @4 (*Device Features*).
        data: Vec<u8>,
    },
    /// MIG_DATA_READ reply (*VFIO_USER_MIG_DATA_READ*, Reply): argsz @0 =
    /// 8 + size (the structure including the data; not checked when
    /// decoding), size @4, data @8.
    MigData {
        /// data @8, `size` bytes: fewer than asked means no more migration
        /// data for now. `size` decides: bytes after them (libvfio-user pads
        /// the reply to the size asked) are ignored.
        data: Vec<u8>,
    },
}

struct Reader<'a> {
    what: String,
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(what: impl Into<String>, b: &'a [u8]) -> Self {
        Reader {
            what: what.into(),
            b,
            at: 0,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.b.len())
            .ok_or_else(|| CodecError::Truncated {
                what: self.what.clone(),
                need: self.at.saturating_add(n),
                got: self.b.len(),
            })?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u16(&mut self) -> Result<u16, CodecError> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }

    fn u32(&mut self) -> Result<u32, CodecError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }

    fn rest(&mut self) -> &'a [u8] {
        let s = &self.b[self.at..];
        self.at = self.b.len();
        s
    }

    fn invalid(&self, why: impl Into<String>) -> CodecError {
        CodecError::Invalid {
            what: self.what.clone(),
            why: why.into(),
        }
    }
}

/// The capabilities string of a VERSION payload: NUL-terminated UTF-8 JSON,
/// or nothing.
fn caps_of(r: &mut Reader<'_>) -> Result<String, CodecError> {
    let rest = r.rest();
    let text = match rest.iter().position(|b| *b == 0) {
        Some(i) => &rest[..i],
        None => rest,
    };
    let s = std::str::from_utf8(text).map_err(|_| r.invalid("capabilities are not UTF-8"))?;
    if !s.is_empty() {
        serde_json::from_str::<serde_json::Value>(s)
            .map_err(|e| r.invalid(format!("capabilities are not JSON: {e}")))?;
    }
    Ok(s.to_owned())
}

/// Two u32 fields, then bytes: `argsz` and `flags` then the feature data of
/// DEVICE_FEATURE, `argsz` and `size` of MIG_DATA_READ and MIG_DATA_WRITE.
fn words_then(argsz: u32, flags: u32, data: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(8 + data.len());
    p.extend_from_slice(&argsz.to_le_bytes());
    p.extend_from_slice(&flags.to_le_bytes());
    p.extend_from_slice(data);
    p
}

/// `argsz`, `size`, then the bytes (a MIG_DATA_WRITE command or a
/// MIG_DATA_READ reply).
fn data_payload(data: &[u8]) -> Vec<u8> {
    words_then(8 + data.len() as u32, data.len() as u32, data)
}

/// The `argsz` a MIG_DATA_READ request of `size` bytes carries: the largest
/// reply payload it accepts, `argsz` and `size` (8 bytes) plus `size` bytes of
/// data (spec, VFIO_USER_MIG_DATA_READ, Request). Saturates at `u32::MAX` for
/// sizes no server accepts anyway.
pub fn mig_data_read_argsz(size: u32) -> u32 {
    size.saturating_add(MIG_DATA_HEADER_LEN as u32)
}

fn version_payload(major: u16, minor: u16, caps: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(5 + caps.len());
    p.extend_from_slice(&major.to_le_bytes());
    p.extend_from_slice(&minor.to_le_bytes());
    if !caps.is_empty() {
        p.extend_from_slice(caps.as_bytes());
        p.push(0);
    }
    p
}

impl Request {
    /// The command.
    pub fn command(&self) -> Command {
        match self {
            Request::Version { .. } => Command::Version,
            Request::DeviceGetInfo => Command::DeviceGetInfo,
            Request::DeviceReset => Command::DeviceReset,
            Request::Feature { .. } => Command::DeviceFeature,
            Request::MigDataRead { .. } => Command::MigDataRead,
            Request::MigDataWrite { .. } => Command::MigDataWrite,
        }
    }

    /// The payload bytes.
    pub fn payload(&self) -> Vec<u8> {
        match self {
            Request::Version { major, minor, caps } => version_payload(*major, *minor, caps),
            Request::DeviceGetInfo => [16u32, 0, 0, 0].iter().flat_map(|v| v.to_le_bytes()).collect(),
            Request::DeviceReset => Vec::new(),
            Request::Feature { argsz, flags, data } => words_then(*argsz, *flags, data),
            // "argsz is the maximum size of the reply payload" (spec,
            // VFIO_USER_MIG_DATA_READ, Request): the reply's two words and up
            // to `size` bytes. libvfio-user refuses anything smaller.
            Request::MigDataRead { size } => words_then(mig_data_read_argsz(*size), *size, &[]),
            Request::MigDataWrite { data } => data_payload(data),
        }
    }

    /// Decodes the payload of command number `command`.
    pub fn decode(command: u16, payload: &[u8]) -> Result<Self, CodecError> {
        let cmd = Command::from_number(command).ok_or(CodecError::UnknownCommand(command))?;
        let mut r = Reader::new(format!("{cmd} command"), payload);
        Ok(match cmd {
            Command::Version => Request::Version {
                major: r.u16()?,
                minor: r.u16()?,
                caps: caps_of(&mut r)?,
            },
            Command::DeviceGetInfo => {
                r.take(16)?;
                Request::DeviceGetInfo
            }
            Command::DeviceReset => Request::DeviceReset,
            Command::DeviceFeature => Request::Feature {
                argsz: r.u32()?,
                flags: r.u32()?,
                data: r.rest().to_vec(),
            },
            Command::MigDataRead => {
                r.u32()?;
                Request::MigDataRead { size: r.u32()? }
            }
            Command::MigDataWrite => {
                r.u32()?;
                let size = r.u32()? as usize;
                let data = r.rest();
                if data.len() != size {
                    return Err(r.invalid(format!("size says {size} bytes, {} follow", data.len())));
                }
                Request::MigDataWrite { data: data.to_vec() }
            }
        })
    }
}

impl Reply {
    /// The payload bytes.
    pub fn payload(&self) -> Vec<u8> {
        match self {
            Reply::Version { major, minor, caps } => version_payload(*major, *minor, caps),
            Reply::DeviceInfo {
                flags,
                num_regions,
                num_irqs,
            } => [16u32, *flags, *num_regions, *num_irqs]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            Reply::Empty => Vec::new(),
            Reply::Feature { argsz, flags, data } => words_then(*argsz, *flags, data),
            Reply::MigData { data } => data_payload(data),
        }
    }

    /// Decodes the payload of a successful reply to `command`.
    pub fn decode(command: Command, payload: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(format!("{command} reply"), payload);
        Ok(match command {
            Command::Version => Reply::Version {
                major: r.u16()?,
                minor: r.u16()?,
                caps: caps_of(&mut r)?,
            },
            Command::DeviceGetInfo => {
                r.u32()?;
                Reply::DeviceInfo {
                    flags: r.u32()?,
                    num_regions: r.u32()?,
                    num_irqs: r.u32()?,
                }
            }
            Command::DeviceReset | Command::MigDataWrite => Reply::Empty,
            Command::DeviceFeature => Reply::Feature {
                argsz: r.u32()?,
                flags: r.u32()?,
                data: r.rest().to_vec(),
            },
            Command::MigDataRead => {
                r.u32()?;
                let size = r.u32()? as usize;
                let rest = r.rest();
                // `size` is authoritative; some servers pad the message.
                if rest.len() < size {
                    return Err(r.invalid(format!("size says {size} bytes, only {} follow", rest.len())));
                }
                Reply::MigData {
                    data: rest[..size].to_vec(),
                }
            }
        })
    }
}
