//! Message header and payloads: encoding and checked decoding.

use std::fmt;

/// Bytes of the message header.
pub const HEADER_LEN: usize = 16;
/// `flags` type bits: a command.
pub const TYPE_COMMAND: u32 = 0;
/// `flags` type bits: a reply.
pub const TYPE_REPLY: u32 = 1;
/// `flags`: the sender wants no reply.
pub const FLAG_NO_REPLY: u32 = 1 << 4;
/// `flags`: the reply reports an error in `error`.
pub const FLAG_ERROR: u32 = 1 << 5;
/// Bytes of the fixed part (`argsz`, `size`) of MIG_DATA_READ and
/// MIG_DATA_WRITE payloads (spec, VFIO_USER_MIG_DATA_READ and
/// VFIO_USER_MIG_DATA_WRITE).
pub const MIG_DATA_HEADER_LEN: usize = 8;
/// The default `max_data_xfer_size` when the server names none (1 MiB).
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

/// The 16-byte header of every message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Matches a reply to its command.
    pub msg_id: u16,
    /// The raw command number (unknown numbers are kept for the error reply).
    pub command: u16,
    /// Bytes of the whole message, header included.
    pub size: u32,
    /// Type bits and flags.
    pub flags: u32,
    /// The errno of an error reply.
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Version and capabilities proposal.
    Version {
        /// Major version.
        major: u16,
        /// Minor version.
        minor: u16,
        /// The capabilities JSON (may be empty).
        caps: String,
    },
    /// Device information.
    DeviceGetInfo,
    /// Device reset.
    DeviceReset,
    /// `DEVICE_FEATURE`: `argsz` is the largest reply payload accepted,
    /// `flags` the feature index and access bits, `data` the feature data.
    Feature {
        /// Largest reply payload accepted.
        argsz: u32,
        /// Feature index and GET/SET/PROBE.
        flags: u32,
        /// Feature data.
        data: Vec<u8>,
    },
    /// `MIG_DATA_READ` of at most `size` bytes.
    MigDataRead {
        /// Bytes asked for.
        size: u32,
    },
    /// `MIG_DATA_WRITE` of `data`.
    MigDataWrite {
        /// The bytes.
        data: Vec<u8>,
    },
}

/// A successful reply's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Version and capabilities accepted.
    Version {
        /// Major version.
        major: u16,
        /// Minor version.
        minor: u16,
        /// The capabilities JSON.
        caps: String,
    },
    /// Device information.
    DeviceInfo {
        /// Bit 0 reset supported, bit 1 PCI.
        flags: u32,
        /// Regions.
        num_regions: u32,
        /// IRQ types.
        num_irqs: u32,
    },
    /// No payload (reset, data write).
    Empty,
    /// `DEVICE_FEATURE` answer.
    Feature {
        /// Payload size.
        argsz: u32,
        /// Echoed flags.
        flags: u32,
        /// Feature data (GET: the value).
        data: Vec<u8>,
    },
    /// `MIG_DATA_READ` answer.
    MigData {
        /// The bytes read (fewer than asked: no more for now).
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
