//! Strict checks of a client's requests, for servers.
//!
//! [`Request::decode`] is lenient: it reads the fields a message needs and
//! ignores the rest (a MIG_DATA_READ's `argsz`, the zero fields of
//! DEVICE_GET_INFO, the access bits of DEVICE_FEATURE). A server that wants to
//! refuse what the specification forbids, the way libvfio-user does, runs
//! [`check_request`] instead: it applies every rule below and returns the same
//! [`Request`] when the message passes, or a [`RequestError`] naming the first
//! rule it broke. libvfio-user answers every one of these with EINVAL
//! ([`RequestError::errno`]).
//!
//! The rules, by section of the vfio-user specification 0.9.2:
//! - *Header*: a request's type bits are 0 (command).
//! - *Message sizes*: a request's `argsz` is the largest reply payload the
//!   client accepts, so it is at least the reply the server would send.
//! - *VFIO_USER_VERSION*: the capabilities are NUL-terminated UTF-8 JSON, an
//!   object whose `capabilities` member, if present, is an object with
//!   well-typed members.
//! - *VFIO_USER_DEVICE_GET_INFO*: a 16-byte payload, `argsz` ≥ 16, the other
//!   fields zero.
//! - *VFIO_USER_DEVICE_RESET*: no payload.
//! - *VFIO_USER_DEVICE_FEATURE* and *Device Features*: see [`check_feature`].
//! - *VFIO_USER_MIG_DATA_READ* and *VFIO_USER_MIG_DATA_WRITE*: see
//!   [`check_mig_data_read`] and [`check_mig_data_write`].
//! - Every payload has exactly its layout's length: DEVICE_GET_INFO 16
//!   bytes, DEVICE_RESET none, MIG_DATA_READ 8, MIG_DATA_WRITE 8 + size.
//!   libvfio-user tolerates bytes past the layout (and pads a MIG_DATA_READ
//!   reply by as many); these checks do not.
//!
//! Checking is bounded and never panics: it reads at most the payload it is
//! given and allocates nothing proportional to any field's value.

use crate::codec::{
    CodecError, Command, Header, Request, DEFAULT_MAX_DATA_XFER, FEATURE_DMA_LOGGING_REPORT,
    FEATURE_DMA_LOGGING_START, FEATURE_DMA_LOGGING_STOP, FEATURE_GET, FEATURE_MASK, FEATURE_MIGRATION,
    FEATURE_MIG_DEVICE_STATE, FEATURE_PROBE, FEATURE_SET, MIG_DATA_HEADER_LEN,
};
use crate::le::{u32_at, u64_at};
use thiserror::Error;

/// EINVAL, the errno libvfio-user answers a malformed request with.
pub const EINVAL: u32 = 22;

/// What a server accepts beyond the fixed rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest `size` of one MIG_DATA_READ or MIG_DATA_WRITE. The
    /// specification bounds data transfers by the peer's
    /// `max_data_xfer_size` (*Read and Write Operations*); libvfio-user
    /// compares with the client's value from VERSION (1 MiB when absent).
    pub max_data_xfer: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_data_xfer: DEFAULT_MAX_DATA_XFER,
        }
    }
}

/// Why a request breaks the specification.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The header's type bits are not 0 (*Header*).
    #[error("flags {flags:#x}: message type {} is not a command", flags & 0xf)]
    NotACommand {
        /// The header's flags.
        flags: u32,
    },
    /// A command number outside the codec's (*Commands*).
    #[error("unknown command {0}")]
    UnknownCommand(u16),
    /// The payload is shorter than the message's fixed fields.
    #[error("{command}: payload of {got} bytes, at least {need} needed")]
    Truncated {
        /// The command.
        command: Command,
        /// Bytes the fixed fields take.
        need: usize,
        /// Bytes present.
        got: usize,
    },
    /// The payload is longer than the message's layout.
    #[error("{command}: payload of {got} bytes, the message has {expected}")]
    TrailingBytes {
        /// The command.
        command: Command,
        /// Bytes the layout has.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// `argsz` leaves no room for the reply (*Message sizes*).
    #[error("{command}: argsz {argsz} is below the {need} bytes of the reply")]
    ArgszTooSmall {
        /// The command.
        command: Command,
        /// The request's `argsz`.
        argsz: u32,
        /// The reply payload's size.
        need: u64,
    },
    /// A field the specification says must be zero is not.
    #[error("{command}: {field} is {value:#x}, must be zero")]
    NotZero {
        /// The command.
        command: Command,
        /// The field.
        field: &'static str,
        /// Its value.
        value: u32,
    },
    /// A data transfer over the limit (*Read and Write Operations*).
    #[error("{command}: size {size} is over max_data_xfer_size {max}")]
    OverMaxXfer {
        /// The command.
        command: Command,
        /// The request's `size`.
        size: u32,
        /// The limit.
        max: u32,
    },
    /// MIG_DATA_WRITE: `size` and the bytes that follow disagree.
    #[error("{command}: size says {size} bytes, {follow} follow")]
    DataLength {
        /// The command.
        command: Command,
        /// The request's `size`.
        size: u32,
        /// Bytes after `argsz` and `size`.
        follow: usize,
    },
    /// DEVICE_FEATURE: bits above PROBE are set.
    #[error("DEVICE_FEATURE: flags {flags:#x} set bits no revision defines")]
    FeatureUnknownBits {
        /// The request's flags.
        flags: u32,
    },
    /// DEVICE_FEATURE: none of GET, SET and PROBE.
    #[error("DEVICE_FEATURE: flags {flags:#x} ask for none of GET, SET, PROBE")]
    FeatureNoAccess {
        /// The request's flags.
        flags: u32,
    },
    /// DEVICE_FEATURE: GET and SET together without PROBE.
    #[error("DEVICE_FEATURE: flags {flags:#x} ask for GET and SET without PROBE")]
    FeatureGetAndSet {
        /// The request's flags.
        flags: u32,
    },
    /// DEVICE_FEATURE: an index outside *Device Features*.
    #[error("DEVICE_FEATURE: no feature {index}")]
    FeatureUnknown {
        /// The feature index.
        index: u32,
    },
    /// DEVICE_FEATURE: the feature has no such access (SET of MIGRATION, GET
    /// of a DMA_LOGGING control).
    #[error("DEVICE_FEATURE: feature {index} has no {access}")]
    FeatureAccess {
        /// The feature index.
        index: u32,
        /// "GET" or "SET".
        access: &'static str,
    },
    /// DEVICE_FEATURE: the feature data has the wrong length.
    #[error("DEVICE_FEATURE {access} of feature {index}: {got} bytes of data, {expected} expected")]
    FeatureData {
        /// The feature index.
        index: u32,
        /// "GET" or "SET".
        access: &'static str,
        /// Bytes the feature's layout has.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// DEVICE_FEATURE: a field of the feature data is out of range.
    #[error("DEVICE_FEATURE {access} of feature {index}: {why}")]
    FeatureValue {
        /// The feature index.
        index: u32,
        /// "GET" or "SET".
        access: &'static str,
        /// The problem.
        why: String,
    },
    /// VERSION: the capabilities are not what *VFIO_USER_VERSION* describes.
    #[error("VERSION: {0}")]
    Capabilities(String),
    /// The payload passed the checks but not the decoder.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

impl RequestError {
    /// The errno a server answers with: EINVAL for every rule, as
    /// libvfio-user does.
    pub fn errno(&self) -> u32 {
        EINVAL
    }
}

fn need(command: Command, payload: &[u8], need: usize) -> Result<(), RequestError> {
    if payload.len() < need {
        return Err(RequestError::Truncated {
            command,
            need,
            got: payload.len(),
        });
    }
    Ok(())
}

fn exactly(command: Command, payload: &[u8], expected: usize) -> Result<(), RequestError> {
    need(command, payload, expected)?;
    if payload.len() > expected {
        return Err(RequestError::TrailingBytes {
            command,
            expected,
            got: payload.len(),
        });
    }
    Ok(())
}

/// Checks the request `payload` under `header` and decodes it: the
/// [`Request`] [`Request::decode`] would give, or the first rule the message
/// breaks.
pub fn check_request(header: &Header, payload: &[u8], limits: &Limits) -> Result<Request, RequestError> {
    if header.flags & 0xf != 0 {
        return Err(RequestError::NotACommand { flags: header.flags });
    }
    let command = Command::from_number(header.command).ok_or(RequestError::UnknownCommand(header.command))?;
    match command {
        Command::Version => check_version(payload)?,
        Command::DeviceGetInfo => check_device_get_info(payload)?,
        Command::DeviceReset => exactly(command, payload, 0)?,
        Command::DeviceFeature => {
            need(command, payload, 8)?;
            check_feature(u32_at(payload, 0), u32_at(payload, 4), &payload[8..])?;
        }
        Command::MigDataRead => {
            exactly(command, payload, MIG_DATA_HEADER_LEN)?;
            check_mig_data_read(u32_at(payload, 0), u32_at(payload, 4), limits)?;
        }
        Command::MigDataWrite => {
            need(command, payload, MIG_DATA_HEADER_LEN)?;
            check_mig_data_write(
                u32_at(payload, 0),
                u32_at(payload, 4),
                payload.len() - MIG_DATA_HEADER_LEN,
                limits,
            )?;
        }
    }
    Ok(Request::decode(header.command, payload)?)
}

/// *VFIO_USER_VERSION*, Request: major and minor, then optionally the JSON
/// with its terminating NUL. libvfio-user refuses JSON without the NUL, JSON
/// it cannot parse, and capabilities of the wrong type.
fn check_version(payload: &[u8]) -> Result<(), RequestError> {
    need(Command::Version, payload, 4)?;
    let data = &payload[4..];
    let Some((&last, text)) = data.split_last() else {
        return Ok(());
    };
    let bad = |why: &str| Err(RequestError::Capabilities(why.to_owned()));
    if last != 0 {
        return bad("the capabilities do not end with a NUL");
    }
    if text.contains(&0) {
        return bad("the capabilities hold a NUL before their end");
    }
    let Ok(text) = std::str::from_utf8(text) else {
        return bad("the capabilities are not UTF-8");
    };
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| RequestError::Capabilities(format!("the capabilities are not JSON: {e}")))?;
    let Some(top) = value.as_object() else {
        return bad("the capabilities are not a JSON object");
    };
    let Some(caps) = top.get("capabilities") else {
        return Ok(());
    };
    let Some(caps) = caps.as_object() else {
        return bad("\"capabilities\" is not an object");
    };
    for number in ["max_msg_fds", "max_data_xfer_size", "max_dma_maps", "pgsizes"] {
        if caps.get(number).is_some_and(|v| !v.is_u64()) {
            return Err(RequestError::Capabilities(format!(
                "\"{number}\" is not a non-negative integer"
            )));
        }
    }
    if caps.get("write_multiple").is_some_and(|v| !v.is_boolean()) {
        return bad("\"write_multiple\" is not a boolean");
    }
    if let Some(twin) = caps.get("twin_socket") {
        let Some(twin) = twin.as_object() else {
            return bad("\"twin_socket\" is not an object");
        };
        if twin.get("supported").is_some_and(|v| !v.is_boolean()) {
            return bad("\"twin_socket.supported\" is not a boolean");
        }
    }
    Ok(())
}

/// *VFIO_USER_DEVICE_GET_INFO*, Request: `argsz` is the largest reply payload
/// (the reply is 16 bytes; libvfio-user refuses less), "all other fields must
/// be zero".
fn check_device_get_info(payload: &[u8]) -> Result<(), RequestError> {
    let command = Command::DeviceGetInfo;
    exactly(command, payload, 16)?;
    let argsz = u32_at(payload, 0);
    if argsz < 16 {
        return Err(RequestError::ArgszTooSmall {
            command,
            argsz,
            need: 16,
        });
    }
    for (field, at) in [("flags", 4), ("num_regions", 8), ("num_irqs", 12)] {
        let value = u32_at(payload, at);
        if value != 0 {
            return Err(RequestError::NotZero {
                command,
                field,
                value,
            });
        }
    }
    Ok(())
}

/// Checks a DEVICE_FEATURE request's `argsz`, `flags` and feature `data`
/// (the payload after those two words), as *VFIO_USER_DEVICE_FEATURE* and
/// *Device Features* define them:
/// - only the feature index (bits 0-15), GET (16), SET (17) and PROBE (18)
///   may be set, and at least one of the three access bits;
/// - GET and SET are mutually exclusive except with PROBE;
/// - the index is one of MIGRATION (1, GET), MIG_DEVICE_STATE (2, GET and
///   SET), DMA_LOGGING_START and DMA_LOGGING_STOP (6 and 7, SET),
///   DMA_LOGGING_REPORT (8, GET), and the access asked for is one it has
///   (with PROBE too: a probe succeeds only if all named methods are
///   supported, so one naming a missing method fails);
/// - `argsz` is the largest reply payload: the echoed request for SET and
///   PROBE, the request plus the appended data for GET;
/// - the data: none for PROBE (ignored) and for GET of MIGRATION and
///   MIG_DEVICE_STATE; exactly `device_state` and `data_fd` (8 bytes) for SET
///   of MIG_DEVICE_STATE; `page_size`, `num_ranges`, `reserved` and
///   `num_ranges` ranges of 16 bytes for SET of DMA_LOGGING_START; `iova`,
///   `length` (at least one page) and a power-of-two `page_size` (24 bytes)
///   for GET of DMA_LOGGING_REPORT, whose reply appends one bit per page in
///   whole u64s. The data of DMA_LOGGING_STOP is not looked at.
///
/// libvfio-user makes the same checks except the data lengths: it reads a
/// SET's `device_state` and a REPORT's fields without checking they are
/// there (a read past the request), so its clients must not rely on it.
pub fn check_feature(argsz: u32, flags: u32, data: &[u8]) -> Result<(), RequestError> {
    let command = Command::DeviceFeature;
    let access = FEATURE_GET | FEATURE_SET | FEATURE_PROBE;
    if flags & !(FEATURE_MASK | access) != 0 {
        return Err(RequestError::FeatureUnknownBits { flags });
    }
    let (get, set, probe) = (
        flags & FEATURE_GET != 0,
        flags & FEATURE_SET != 0,
        flags & FEATURE_PROBE != 0,
    );
    if !(get || set || probe) {
        return Err(RequestError::FeatureNoAccess { flags });
    }
    if get && set && !probe {
        return Err(RequestError::FeatureGetAndSet { flags });
    }
    let index = flags & FEATURE_MASK;
    let (can_get, can_set) = match index {
        FEATURE_MIGRATION | FEATURE_DMA_LOGGING_REPORT => (true, false),
        FEATURE_MIG_DEVICE_STATE => (true, true),
        FEATURE_DMA_LOGGING_START | FEATURE_DMA_LOGGING_STOP => (false, true),
        _ => return Err(RequestError::FeatureUnknown { index }),
    };
    if get && !can_get {
        return Err(RequestError::FeatureAccess { index, access: "GET" });
    }
    if set && !can_set {
        return Err(RequestError::FeatureAccess { index, access: "SET" });
    }
    let request_len = 8 + data.len() as u64;
    let argsz_at_least = |need: u64| {
        if u64::from(argsz) < need {
            Err(RequestError::ArgszTooSmall { command, argsz, need })
        } else {
            Ok(())
        }
    };
    if probe {
        return argsz_at_least(request_len);
    }
    let data_is = |access: &'static str, expected: usize| {
        if data.len() == expected {
            Ok(())
        } else {
            Err(RequestError::FeatureData {
                index,
                access,
                expected,
                got: data.len(),
            })
        }
    };
    if set {
        match index {
            FEATURE_MIG_DEVICE_STATE => data_is("SET", 8)?,
            FEATURE_DMA_LOGGING_START => {
                if data.len() < 16 {
                    return data_is("SET", 16);
                }
                let ranges = u64::from(u32_at(data, 8));
                let expected = 16 + 16 * ranges;
                if data.len() as u64 != expected {
                    return Err(RequestError::FeatureValue {
                        index,
                        access: "SET",
                        why: format!(
                            "num_ranges {ranges} needs {expected} bytes of data, {} follow",
                            data.len()
                        ),
                    });
                }
            }
            _ => {}
        }
        return argsz_at_least(request_len);
    }
    // GET: the reply is the request's two words and the feature's data.
    let reply_data = match index {
        FEATURE_MIGRATION | FEATURE_MIG_DEVICE_STATE => {
            data_is("GET", 0)?;
            8
        }
        _ => {
            data_is("GET", 24)?;
            24 + report_bitmap_len(index, data)?
        }
    };
    argsz_at_least(8 + reply_data)
}

/// The bitmap bytes a DMA_LOGGING_REPORT of `iova`, `length`, `page_size`
/// (the 24 bytes of `data`) appends: one bit per page, in whole u64s.
fn report_bitmap_len(index: u32, data: &[u8]) -> Result<u64, RequestError> {
    let (length, page_size) = (u64_at(data, 8), u64_at(data, 16));
    let bad = |why: String| RequestError::FeatureValue {
        index,
        access: "GET",
        why,
    };
    if !page_size.is_power_of_two() {
        return Err(bad(format!("page_size {page_size:#x} is not a power of two")));
    }
    if length < page_size {
        return Err(bad(format!(
            "length {length:#x} is less than a page of {page_size:#x}"
        )));
    }
    let pages = length.div_ceil(page_size);
    Ok(pages.div_ceil(64) * 8)
}

/// Checks a MIG_DATA_READ request's two words (*VFIO_USER_MIG_DATA_READ*,
/// Request): `size` is at most `limits.max_data_xfer`, and `argsz`, the
/// largest reply payload, has room for the reply's `argsz` and `size` and
/// `size` bytes: `argsz ≥ 8 + size`. libvfio-user refuses both with EINVAL.
pub fn check_mig_data_read(argsz: u32, size: u32, limits: &Limits) -> Result<(), RequestError> {
    let command = Command::MigDataRead;
    if size > limits.max_data_xfer {
        return Err(RequestError::OverMaxXfer {
            command,
            size,
            max: limits.max_data_xfer,
        });
    }
    let need = MIG_DATA_HEADER_LEN as u64 + u64::from(size);
    if u64::from(argsz) < need {
        return Err(RequestError::ArgszTooSmall { command, argsz, need });
    }
    Ok(())
}

/// Checks a MIG_DATA_WRITE request (*VFIO_USER_MIG_DATA_WRITE*, Request):
/// `size` is at most `limits.max_data_xfer`, exactly `size` bytes follow the
/// two words (`follow`), and `argsz ≥ 8 + size`.
///
/// The last rule is libvfio-user's, not the specification's words: the
/// specification calls `argsz` "the maximum size of the reply payload" and
/// the message has no reply payload, but libvfio-user refuses an `argsz`
/// below 8 + size with EINVAL, so every client that works with it sends at
/// least that. (libvfio-user accepts bytes after the data; this check does
/// not, since the layout ends with `size` bytes.)
pub fn check_mig_data_write(
    argsz: u32,
    size: u32,
    follow: usize,
    limits: &Limits,
) -> Result<(), RequestError> {
    let command = Command::MigDataWrite;
    if size > limits.max_data_xfer {
        return Err(RequestError::OverMaxXfer {
            command,
            size,
            max: limits.max_data_xfer,
        });
    }
    if follow != size as usize {
        return Err(RequestError::DataLength {
            command,
            size,
            follow,
        });
    }
    let need = MIG_DATA_HEADER_LEN as u64 + u64::from(size);
    if u64::from(argsz) < need {
        return Err(RequestError::ArgszTooSmall { command, argsz, need });
    }
    Ok(())
}
