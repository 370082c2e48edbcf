//! The project's trace format for v2 migration operations, and the offline
//! checker that judges a recorded trace against the model without any
//! device, so a trace taken on a customer machine can be checked later.
//!
//! Two versions are read. `vfio-mig-trace/1` is one JSON document, written
//! whole (by `vfio-mig run --traces`):
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
//! `vfio-mig-trace/2` is JSON Lines, written by appending (by the
//! recorder): a header object on the first line, then one step object per
//! line, each line ending in `\n`; no blank lines.
//!
//! ```text
//! {"format":"vfio-mig-trace/2","flags":7,"data_size":null}
//! {"op":"set","state":4,"data_fd":true}
//! {"op":"write","fd":0,"len":64,"bytes":64,"stream_offset":0}
//! {"op":"write","fd":0,"len":32,"bytes":32,"stream_offset":64}
//! {"op":"set","state":1,"data_fd":false,"stream_total":96}
//! ```
//!
//! The header has `format`, `flags` (the device's
//! `VFIO_DEVICE_FEATURE_MIGRATION` flags), `data_size` (`true` or `false`
//! when known; `null` or absent when the writer did not know whether the
//! device offers MIG_DATA_SIZE when it began, and then it does when a
//! `data_size` step of the trace succeeded) and, when the trace was begun
//! by a process made by `fork` that inherited the device, `forked_from`
//! (that parent's pid; informational: such a trace starts with a copy of
//! the parent's steps up to the fork, so it is judged whole). A step is
//! the same object in both versions.
//!
//! `op` is one of `set`, `get`, `read`, `write`, `precopy_info`,
//! `data_size`, `close`, `reset`, or `lost`; `fd` numbers data fds in the
//! order the device returned them; a failed call has `errno` instead of its
//! result fields. A write without `stream_offset` wrote bytes that are not
//! a saved stream; one with `"corrupted": true` wrote bytes in their place
//! in the stream, but altered. A `set` may carry `stream_total`: the writes with a
//! `stream_offset` and no `stream_total` since the previous `set` were one
//! saved stream of that many bytes (a writer that appends learns the length
//! only when the program leaves RESUMING); the reader gives them that total.
//! `{"op":"lost","count":N}` says the writer missed N calls there (the
//! recorder writes it for calls a signal handler made while its thread was
//! inside the recorder, for a call whose argument it could not read safely,
//! and for parent steps a forked child could not copy); the device's state
//! is unknown after it, so a trace is judged up to its first `lost` step.
//!
//! `len` (bytes asked for or offered) and `bytes` (bytes moved) are
//! unsigned 64-bit numbers. The model's operations carry 32-bit lengths:
//! a `len` above `u32::MAX` is judged as `u32::MAX`, which changes no
//! judgement, because the model uses a length only as the most bytes a call
//! may move and no call moves more than `u32::MAX` bytes (Linux moves at
//! most 2 GiB − 4 KiB per `read` or `write`); a step claiming to move more
//! is refused as input the model cannot follow.

#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};
use vfio_mig_model::v2::{Access, DataTag, FdRef, FeatureReq, Fsm, MigrationFlags, Op, Outcome};
use vfio_mig_model::{Errno, Judgement, Profile, Protocol, Req, Uapi};

/// Why a trace could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// The text is not JSON of the trace's shape.
    #[error("not a trace: {0}")]
    NotATrace(String),
    /// Another format, or another version of this one.
    #[error("format `{0}`, this checker reads `{FORMAT}` and `{FORMAT_LINES}`")]
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
    /// The header names a uAPI revision this checker does not know.
    #[error("uapi {0:?}: not a known uAPI revision (6.12, 7.3)")]
    Uapi(String),
    /// A line of a `vfio-mig-trace/2` trace is not a header or step object.
    #[error("line {line}: {problem}")]
    Line {
        /// The line's number, from 1.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

/// The format tag of the single-document version.
pub const FORMAT: &str = "vfio-mig-trace/1";

/// The format tag of the JSON Lines version.
pub const FORMAT_LINES: &str = "vfio-mig-trace/2";

/// A whole `vfio-mig-trace/1` trace.
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
    /// The kernel uAPI revision the device speaks (`"6.12"`, `"7.3"`);
    /// absent: 6.12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uapi: Option<String>,
    /// The operations, in order.
    pub steps: Vec<Step>,
}

/// The first line of a `vfio-mig-trace/2` trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always [`FORMAT_LINES`].
    pub format: String,
    /// The device's `VFIO_DEVICE_FEATURE_MIGRATION` flags.
    pub flags: u64,
    /// Whether the device offers MIG_DATA_SIZE; `None` when the writer did
    /// not know (then a successful `data_size` step says it does).
    #[serde(default)]
    pub data_size: Option<bool>,
    /// The kernel uAPI revision the device speaks (`"6.12"`, `"7.3"`);
    /// absent: 6.12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uapi: Option<String>,
    /// The pid of the process this one was forked from, when the trace
    /// continues that process's trace of the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<u32>,
}

impl Header {
    /// A `vfio-mig-trace/2` header.
    pub fn new(flags: u64, data_size: Option<bool>) -> Self {
        Header {
            format: FORMAT_LINES.into(),
            flags,
            data_size,
            uapi: None,
            forked_from: None,
        }
    }
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
    pub len: Option<u64>,
    /// Bytes transferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// `write`: offset of these bytes in the saved stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_offset: Option<u64>,
    /// `write`: the whole saved stream's length, when read to its end;
    /// `set`: the length of the stream the session's writes made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_total: Option<u64>,
    /// `write`: the bytes sit in their place in the stream but were altered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupted: Option<bool>,
    /// `precopy_info`: the `flags` passed (absent: 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags_in: Option<u32>,
    /// `precopy_info`: the `flags` as the call left them (absent: 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags_out: Option<u32>,
    /// `feature`: the request's `flags` word (feature number and access
    /// bits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<u32>,
    /// `feature`: the request's `argsz`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argsz: Option<u32>,
    /// `feature`: the flags a GET of VFIO_DEVICE_FEATURE_MIGRATION returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_flags: Option<u64>,
    /// `precopy_info` results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_bytes: Option<u64>,
    /// `precopy_info` results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty_bytes: Option<u64>,
    /// `data_size` result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// `lost`: how many calls the writer missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The errno of a failed call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<i32>,
}

/// The op name of a step that stands for calls the writer missed.
pub const LOST: &str = "lost";

impl Step {
    /// The step of `op` answered with `outcome`.
    pub fn of(op: &Op, outcome: &Outcome) -> Self {
        let mut s = Step::default();
        match *op {
            Op::Set(st) => (s.op, s.state) = ("set".into(), Some(st.number())),
            Op::SetRaw(n) => (s.op, s.state) = ("set".into(), Some(n)),
            Op::Get => s.op = "get".into(),
            Op::Read { fd, len } => (s.op, s.fd, s.len) = ("read".into(), Some(fd.0), Some(len.into())),
            Op::Write { fd, len, data } => {
                (s.op, s.fd, s.len) = ("write".into(), Some(fd.0), Some(len.into()));
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
            Op::PrecopyInfo { fd, flags } => {
                (s.op, s.fd, s.flags_in) = ("precopy_info".into(), Some(fd.0), (flags != 0).then_some(flags))
            }
            Op::Feature(req) => {
                (s.op, s.request, s.argsz) = ("feature".into(), Some(req.flags()), Some(req.argsz()))
            }
            Op::DataSize => s.op = "data_size".into(),
            Op::Close { fd } => (s.op, s.fd) = ("close".into(), Some(fd.0)),
            Op::Reset => s.op = "reset".into(),
        }
        match *outcome {
            Outcome::SetOk { fd } => s.data_fd = Some(fd),
            Outcome::State(n) => s.state = Some(n),
            Outcome::Bytes(n) => s.bytes = Some(n.into()),
            Outcome::Precopy {
                initial_bytes,
                dirty_bytes,
                flags,
            } => {
                (s.initial_bytes, s.dirty_bytes, s.flags_out) = (
                    Some(initial_bytes),
                    Some(dirty_bytes),
                    (flags != 0).then_some(flags),
                )
            }
            Outcome::Flags(bits) => s.migration_flags = Some(bits),
            Outcome::Size(n) => s.size = Some(n),
            Outcome::Done => {}
            Outcome::Err(e) => s.errno = Some(e.0),
        }
        s
    }

    /// The operation and outcome, or what is missing (`at` names the step).
    /// A `lost` step has none: it is an error here (see [`read`]).
    pub fn to_pair(&self, at: usize) -> Result<(Op, Outcome), TraceError> {
        let op_name = self.op.as_str();
        let problem = |problem: String| TraceError::Step {
            at,
            op: op_name.to_owned(),
            problem,
        };
        let missing = |name: &str| problem(format!("no `{name}`"));
        let need32 = |v: Option<u32>, name: &str| v.ok_or_else(|| missing(name));
        let need64 = |v: Option<u64>, name: &str| v.ok_or_else(|| missing(name));
        // A length is only ever the most a call may move: above u32::MAX
        // it is judged as u32::MAX (see the crate documentation).
        let len = || need64(self.len, "len").map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        let fd = || self.fd.map(FdRef).ok_or_else(|| missing("fd"));
        let op = match self.op.as_str() {
            "set" => Op::SetRaw(need32(self.state, "state")?),
            "get" => Op::Get,
            "read" => Op::Read {
                fd: fd()?,
                len: len()?,
            },
            "write" => Op::Write {
                fd: fd()?,
                len: len()?,
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
            "precopy_info" => Op::PrecopyInfo {
                fd: fd()?,
                flags: self.flags_in.unwrap_or(0),
            },
            "feature" => {
                let request = need32(self.request, "request")?;
                let number = (request & vfio_mig_model::v2::uapi::FEATURE_MASK) as u16;
                let req = FeatureReq::new(number, Access::of_bits(request), need32(self.argsz, "argsz")?)
                    .map_err(|e| problem(format!("{e}: record it as `set`, `get` or `data_size`")))?;
                Op::Feature(req)
            }
            "data_size" => Op::DataSize,
            "close" => Op::Close { fd: fd()? },
            "reset" => Op::Reset,
            LOST => {
                return Err(problem(
                    "calls were lost here: the device's state is not known".into(),
                ))
            }
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
                Op::Read { .. } | Op::Write { .. } => {
                    let n = need64(self.bytes, "bytes")?;
                    Outcome::Bytes(u32::try_from(n).map_err(|_| {
                        problem(format!(
                            "`bytes` {n}: more than one call can move ({}), which the model cannot follow",
                            u32::MAX
                        ))
                    })?)
                }
                Op::PrecopyInfo { .. } => Outcome::Precopy {
                    initial_bytes: need64(self.initial_bytes, "initial_bytes")?,
                    dirty_bytes: need64(self.dirty_bytes, "dirty_bytes")?,
                    flags: self.flags_out.unwrap_or(0),
                },
                Op::Feature(_) => match self.migration_flags {
                    Some(bits) => Outcome::Flags(bits),
                    None => Outcome::Done,
                },
                Op::DataSize => Outcome::Size(need64(self.size, "size")?),
                Op::Close { .. } | Op::Reset => Outcome::Done,
            }
        };
        Ok((op, outcome))
    }
}

/// The trace of `steps` as a `vfio-mig-trace/1` JSON document, of a device
/// of uAPI revision `uapi`.
pub fn write(flags: MigrationFlags, data_size: bool, uapi: Uapi, steps: &[(Op, Outcome)]) -> String {
    let t = TraceFile {
        format: FORMAT.into(),
        flags: flags.bits(),
        data_size,
        uapi: (uapi != Uapi::default()).then(|| uapi.version().to_owned()),
        steps: steps.iter().map(|(o, r)| Step::of(o, r)).collect(),
    };
    serde_json::to_string_pretty(&t).unwrap_or_default()
}

/// The trace of `steps` as `vfio-mig-trace/2` JSON Lines.
pub fn write_lines(flags: MigrationFlags, data_size: bool, uapi: Uapi, steps: &[(Op, Outcome)]) -> String {
    let mut header = Header::new(flags.bits(), Some(data_size));
    header.uapi = (uapi != Uapi::default()).then(|| uapi.version().to_owned());
    let mut out = serde_json::to_string(&header).unwrap_or_default();
    out.push('\n');
    for (o, r) in steps {
        out.push_str(&serde_json::to_string(&Step::of(o, r)).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Where a trace stops being judged: a `lost` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lost {
    /// The `lost` step's index.
    pub at: usize,
    /// How many calls the writer missed there.
    pub count: u64,
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
    /// The `lost` step the judgement stopped at, when every step before it
    /// was allowed: the steps after it are not judged.
    pub lost: Option<Lost>,
}

/// A trace as read: the device and its operations with their outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The device's flags.
    pub flags: MigrationFlags,
    /// Whether it offers MIG_DATA_SIZE.
    pub data_size: bool,
    /// The uAPI revision it speaks.
    pub uapi: Uapi,
    /// The operations and outcomes, in order, up to the first `lost` step.
    pub steps: Vec<(Op, Outcome)>,
    /// The first `lost` step, where `steps` end.
    pub lost: Option<Lost>,
}

#[derive(Deserialize)]
struct Probe {
    format: String,
}

fn format_of(text: &str) -> Option<String> {
    serde_json::from_str::<Probe>(text).ok().map(|p| p.format)
}

/// Reads a trace in either version.
pub fn read(text: &str) -> Result<Recorded, TraceError> {
    let first_line = text.split('\n').next().unwrap_or_default();
    let first = format_of(first_line);
    if first.as_deref() == Some(FORMAT_LINES) {
        return read_lines(text);
    }
    let t: TraceFile = match serde_json::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            return Err(match first.or_else(|| format_of(text)) {
                Some(f) if f != FORMAT => TraceError::Format(f),
                _ => TraceError::NotATrace(e.to_string()),
            })
        }
    };
    if t.format != FORMAT {
        return Err(TraceError::Format(t.format));
    }
    recorded(t.flags, Some(t.data_size), t.uapi.as_deref(), t.steps)
}

/// Reads a `vfio-mig-trace/2` trace: one header line, then step lines.
fn read_lines(text: &str) -> Result<Recorded, TraceError> {
    let mut lines = text.split('\n').enumerate().map(|(i, l)| (i + 1, l)).peekable();
    let not_a = |line: usize, what: &str, e: serde_json::Error| TraceError::Line {
        line,
        problem: format!("not a {what}: {e}"),
    };
    let (_, head) = lines.next().unwrap_or_default();
    let header: Header = serde_json::from_str(head).map_err(|e| not_a(1, "trace header", e))?;
    let mut steps = Vec::new();
    while let Some((line, l)) = lines.next() {
        if l.trim().is_empty() {
            if lines.peek().is_none() && l.is_empty() {
                break; // the newline that ends the last line
            }
            return Err(TraceError::Line {
                line,
                problem: "empty".into(),
            });
        }
        steps.push(serde_json::from_str::<Step>(l).map_err(|e| not_a(line, "step", e))?);
    }
    recorded(header.flags, header.data_size, header.uapi.as_deref(), steps)
}

/// The model's view of a trace's steps: writes given the totals their
/// `set` declared, lengths as the model counts them, up to a `lost` step.
fn recorded(
    bits: u64,
    data_size: Option<bool>,
    uapi: Option<&str>,
    mut steps: Vec<Step>,
) -> Result<Recorded, TraceError> {
    let flags = MigrationFlags::new(bits).map_err(|e| TraceError::Flags {
        bits,
        problem: e.to_string(),
    })?;
    let uapi = match uapi {
        None => Uapi::default(),
        Some(v) => Uapi::parse(v).ok_or_else(|| TraceError::Uapi(v.to_owned()))?,
    };
    let mut open: Vec<usize> = Vec::new();
    for i in 0..steps.len() {
        match steps[i].op.as_str() {
            "write" if steps[i].stream_offset.is_some() && steps[i].stream_total.is_none() => open.push(i),
            "set" => {
                if let Some(total) = steps[i].stream_total {
                    for &w in &open {
                        steps[w].stream_total = Some(total);
                    }
                }
                open.clear();
            }
            _ => {}
        }
    }
    let data_size = data_size.unwrap_or_else(|| {
        steps
            .iter()
            .any(|s| s.op == "data_size" && s.errno.is_none() && s.size.is_some())
    });
    let mut pairs = Vec::with_capacity(steps.len());
    let mut lost = None;
    for (at, s) in steps.iter().enumerate() {
        if s.op == LOST {
            lost.get_or_insert(Lost {
                at,
                count: s.count.unwrap_or(0),
            });
        } else {
            let pair = s.to_pair(at)?;
            if lost.is_none() {
                pairs.push(pair);
            }
        }
    }
    Ok(Recorded {
        flags,
        data_size,
        uapi,
        steps: pairs,
        lost,
    })
}

/// Checks the trace `text` (either version) against the model under
/// `profile`. Lengths and sizes are judged as numbers: nothing the trace
/// claims is allocated.
pub fn check(text: &str, profile: Profile) -> Result<Checked, TraceError> {
    let Recorded {
        flags,
        data_size,
        uapi,
        steps: pairs,
        lost,
    } = read(text)?;
    let model = Fsm::new(flags, profile, data_size).with_uapi(uapi);
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
                            lost: None,
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
                    lost: None,
                });
            }
        }
    }
    Ok(Checked {
        steps: pairs.len(),
        violation: None,
        warnings,
        lost,
    })
}
