//! The project's JSON trace format for v2 migration operations, and the
//! offline checker that judges a recorded trace against the model without
//! any device, so a trace taken on a customer machine can be checked later.
//!
//! ```json
//! { "format": "vfio-mig-trace/1", "flags": 7, "data_size": true,
//!   "steps": [
//!     { "op": "set", "state": 3, "data_fd": true },
//!     { "op": "read", "fd": 0, "len": 4096, "bytes": 96 },
//!     { "op": "write", "fd": 1, "len": 96, "bytes": 96, "stream_offset": 0, "stream_total": 96 },
//!     { "op": "set", "state": 1, "errno": 22 } ] }
//! ```
//!
//! `op` is one of `set`, `get`, `read`, `write`, `precopy_info`,
//! `data_size`, `close`, `reset`; `fd` numbers data fds in the order the
//! device returned them; a failed call has `errno` instead of its result
//! fields. A write without `stream_offset` wrote bytes that are not a saved
//! stream; one with `"corrupted": true` wrote bytes in their place in the
//! stream, but altered.

#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};
use vfio_mig_model::v2::{DataTag, FdRef, Fsm, MigrationFlags, Op, Outcome};
use vfio_mig_model::{Errno, Judgement, Profile, Protocol, Req};

/// Why a trace could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// The text is not JSON of the trace's shape.
    #[error("not a trace: {0}")]
    NotATrace(String),
    /// Another format, or another version of this one.
    #[error("format `{0}`, this checker reads `{FORMAT}`")]
    Format(String),
    /// The flags are not an accepted combination.
    #[error("flags {bits:#x}: {problem}")]
    Flags {
        /// The flags given.
        bits: u64,
        /// What is wrong with them.
        problem: String,
    },
    /// One step lacks a field its operation needs, or names no operation.
    #[error("step {at} ({op}): {problem}")]
    Step {
        /// The step's index.
        at: usize,
        /// Its `op`.
        op: String,
        /// What is wrong.
        problem: String,
    },
}

/// The format tag of this version.
pub const FORMAT: &str = "vfio-mig-trace/1";

/// A whole trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The device's `VFIO_DEVICE_FEATURE_MIGRATION` flags.
    pub flags: u64,
    /// Whether the device offers MIG_DATA_SIZE.
    #[serde(default)]
    pub data_size: bool,
    /// The operations, in order.
    pub steps: Vec<Step>,
}

/// One operation and its result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The operation.
    pub op: String,
    /// `set`: the state requested; `get`: the state reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<u32>,
    /// `set`: whether a data fd came back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_fd: Option<bool>,
    /// The data fd, by the order it was returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fd: Option<u16>,
    /// Bytes asked for or offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub len: Option<u32>,
    /// Bytes transferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u32>,
    /// `write`: offset of these bytes in the saved stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_offset: Option<u64>,
    /// `write`: the whole saved stream's length, when read to its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_total: Option<u64>,
    /// `write`: the bytes sit in their place in the stream but were altered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupted: Option<bool>,
    /// `precopy_info` results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_bytes: Option<u64>,
    /// `precopy_info` results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty_bytes: Option<u64>,
    /// `data_size` result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The errno of a failed call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<i32>,
}

impl Step {
    /// The step of `op` answered with `outcome`.
    pub fn of(op: &Op, outcome: &Outcome) -> Self {
        let mut s = Step::default();
        match *op {
            Op::Set(st) => (s.op, s.state) = ("set".into(), Some(st.number())),
            Op::SetRaw(n) => (s.op, s.state) = ("set".into(), Some(n)),
            Op::Get => s.op = "get".into(),
            Op::Read { fd, len } => (s.op, s.fd, s.len) = ("read".into(), Some(fd.0), Some(len)),
            Op::Write { fd, len, data } => {
                (s.op, s.fd, s.len) = ("write".into(), Some(fd.0), Some(len));
                match data {
                    DataTag::Stream { offset, total } => {
                        (s.stream_offset, s.stream_total) = (Some(offset), total)
                    }
                    DataTag::Corrupt { offset, total } => {
                        (s.stream_offset, s.stream_total, s.corrupted) = (Some(offset), total, Some(true))
                    }
                    DataTag::Garbage => {}
                }
            }
            Op::PrecopyInfo { fd } => (s.op, s.fd) = ("precopy_info".into(), Some(fd.0)),
            Op::DataSize => s.op = "data_size".into(),
            Op::Close { fd } => (s.op, s.fd) = ("close".into(), Some(fd.0)),
            Op::Reset => s.op = "reset".into(),
        }
        match *outcome {
            Outcome::SetOk { fd } => s.data_fd = Some(fd),
            Outcome::State(n) => s.state = Some(n),
            Outcome::Bytes(n) => s.bytes = Some(n),
            Outcome::Precopy {
                initial_bytes,
                dirty_bytes,
            } => (s.initial_bytes, s.dirty_bytes) = (Some(initial_bytes), Some(dirty_bytes)),
            Outcome::Size(n) => s.size = Some(n),
            Outcome::Done => {}
            Outcome::Err(e) => s.errno = Some(e.0),
        }
        s
    }

    /// The operation and outcome, or what is missing (`at` names the step).
    pub fn to_pair(&self, at: usize) -> Result<(Op, Outcome), TraceError> {
        let op_name = self.op.as_str();
        let missing = |name: &str| TraceError::Step {
            at,
            op: op_name.to_owned(),
            problem: format!("no `{name}`"),
        };
        let need32 = |v: Option<u32>, name: &str| v.ok_or_else(|| missing(name));
        let need64 = |v: Option<u64>, name: &str| v.ok_or_else(|| missing(name));
        let fd = || self.fd.map(FdRef).ok_or_else(|| missing("fd"));
        let op = match self.op.as_str() {
            "set" => Op::SetRaw(need32(self.state, "state")?),
            "get" => Op::Get,
            "read" => Op::Read {
                fd: fd()?,
                len: need32(self.len, "len")?,
            },
            "write" => Op::Write {
                fd: fd()?,
                len: need32(self.len, "len")?,
                data: match (self.stream_offset, self.corrupted) {
                    (Some(offset), Some(true)) => DataTag::Corrupt {
                        offset,
                        total: self.stream_total,
                    },
                    (Some(offset), _) => DataTag::Stream {
                        offset,
                        total: self.stream_total,
                    },
                    (None, _) => DataTag::Garbage,
                },
            },
            "precopy_info" => Op::PrecopyInfo { fd: fd()? },
            "data_size" => Op::DataSize,
            "close" => Op::Close { fd: fd()? },
            "reset" => Op::Reset,
            other => {
                return Err(TraceError::Step {
                    at,
                    op: other.to_owned(),
                    problem: "not an operation of this format".into(),
                })
            }
        };
        let outcome = if let Some(e) = self.errno {
            Outcome::Err(Errno(e))
        } else {
            match op {
                Op::Set(_) | Op::SetRaw(_) => Outcome::SetOk {
                    fd: self.data_fd.ok_or_else(|| missing("data_fd"))?,
                },
                Op::Get => Outcome::State(need32(self.state, "state")?),
                Op::Read { .. } | Op::Write { .. } => Outcome::Bytes(need32(self.bytes, "bytes")?),
                Op::PrecopyInfo { .. } => Outcome::Precopy {
                    initial_bytes: need64(self.initial_bytes, "initial_bytes")?,
                    dirty_bytes: need64(self.dirty_bytes, "dirty_bytes")?,
                },
                Op::DataSize => Outcome::Size(need64(self.size, "size")?),
                Op::Close { .. } | Op::Reset => Outcome::Done,
            }
        };
        Ok((op, outcome))
    }
}

/// The trace of `steps` as JSON in this format.
pub fn write(flags: MigrationFlags, data_size: bool, steps: &[(Op, Outcome)]) -> String {
    let t = TraceFile {
        format: FORMAT.into(),
        flags: flags.bits(),
        data_size,
        steps: steps.iter().map(|(o, r)| Step::of(o, r)).collect(),
    };
    serde_json::to_string_pretty(&t).unwrap_or_default()
}

/// What the offline check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Steps judged.
    pub steps: usize,
    /// The first step the model does not allow: its index, the rules it
    /// breaks and what happened (a trace is judged up to its first
    /// violation: after it the model no longer knows the device's state).
    pub violation: Option<(usize, Vec<Req>, String)>,
    /// SHOULD rules missed.
    pub warnings: Vec<Req>,
}

/// A trace as read: the device and its operations with their outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The device's flags.
    pub flags: MigrationFlags,
    /// Whether it offers MIG_DATA_SIZE.
    pub data_size: bool,
    /// The operations and outcomes, in order.
    pub steps: Vec<(Op, Outcome)>,
}

/// Reads the JSON trace `text`.
pub fn read(text: &str) -> Result<Recorded, TraceError> {
    let t: TraceFile = serde_json::from_str(text).map_err(|e| TraceError::NotATrace(e.to_string()))?;
    if t.format != FORMAT {
        return Err(TraceError::Format(t.format));
    }
    let flags = MigrationFlags::new(t.flags).map_err(|e| TraceError::Flags {
        bits: t.flags,
        problem: e.to_string(),
    })?;
    let pairs = t
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| s.to_pair(i))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Recorded {
        flags,
        data_size: t.data_size,
        steps: pairs,
    })
}

/// Checks the JSON trace `text` against the model under `profile`. Lengths
/// and sizes are judged as numbers: nothing the trace claims is allocated.
pub fn check(text: &str, profile: Profile) -> Result<Checked, TraceError> {
    let Recorded {
        flags,
        data_size,
        steps: pairs,
    } = read(text)?;
    let model = Fsm::new(flags, profile, data_size);
    let mut belief = model.start();
    let mut warnings: Vec<Req> = Vec::new();
    for (i, (op, outcome)) in pairs.iter().enumerate() {
        match model.advance(&belief, op, outcome) {
            Ok((next, judgement)) => {
                match judgement {
                    Judgement::Pass => {}
                    Judgement::Warn(reqs) => {
                        for r in reqs {
                            if !warnings.contains(&r) {
                                warnings.push(r);
                            }
                        }
                    }
                    // A recorded trace has no injected faults: an outcome
                    // allowed only after one breaks the rules it names.
                    Judgement::Fault(reqs) => {
                        let what = format!(
                            "{op}: observed {outcome}, which is allowed only after an internal device failure"
                        );
                        return Ok(Checked {
                            steps: i + 1,
                            violation: Some((i, reqs, what)),
                            warnings,
                        });
                    }
                }
                belief = next;
            }
            Err(v) => {
                let what = format!("{}: observed {}, allowed {}", v.op, v.observed, v.allowed);
                return Ok(Checked {
                    steps: i + 1,
                    violation: Some((i, v.reqs, what)),
                    warnings,
                });
            }
        }
    }
    Ok(Checked {
        steps: pairs.len(),
        violation: None,
        warnings,
    })
}
