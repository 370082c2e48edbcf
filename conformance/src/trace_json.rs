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
//! stream.

use crate::check::{Checker, Failure};
use crate::device::{Description, Device, DeviceError, Fault, Io};
use serde::{Deserialize, Serialize};
use vfio_mig_model::v2::{DataTag, FdRef, Fsm, MigrationFlags, Op, Outcome};
use vfio_mig_model::{Errno, Profile, ProtocolKind};

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
                if let DataTag::Stream { offset, total } = data {
                    (s.stream_offset, s.stream_total) = (Some(offset), total);
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
    pub fn to_pair(&self, at: usize) -> Result<(Op, Outcome), String> {
        fn field<T>(v: Option<T>, at: usize, op: &str, name: &str) -> Result<T, String> {
            v.ok_or_else(|| format!("step {at} ({op}): no `{name}`"))
        }
        let op_name = self.op.as_str();
        let need32 = |v: Option<u32>, name: &str| field(v, at, op_name, name);
        let need64 = |v: Option<u64>, name: &str| field(v, at, op_name, name);
        let fd = || field(self.fd, at, op_name, "fd").map(FdRef);
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
                data: match self.stream_offset {
                    Some(offset) => DataTag::Stream {
                        offset,
                        total: self.stream_total,
                    },
                    None => DataTag::Garbage,
                },
            },
            "precopy_info" => Op::PrecopyInfo { fd: fd()? },
            "data_size" => Op::DataSize,
            "close" => Op::Close { fd: fd()? },
            "reset" => Op::Reset,
            other => return Err(format!("step {at}: unknown op `{other}`")),
        };
        let outcome = if let Some(e) = self.errno {
            Outcome::Err(Errno(e))
        } else {
            match op {
                Op::Set(_) | Op::SetRaw(_) => Outcome::SetOk {
                    fd: field(self.data_fd, at, op_name, "data_fd")?,
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

/// A device that answers what the trace recorded.
struct Replay {
    flags: MigrationFlags,
    data_size: bool,
    answers: std::vec::IntoIter<Outcome>,
}

impl Device<Fsm> for Replay {
    fn describe(&self) -> Description {
        Description {
            name: "trace".into(),
            protocol: ProtocolKind::V2,
            flags: Some(self.flags),
            data_size: self.data_size,
            region_size: None,
            max_transfer: u32::MAX,
            fault_injection: false,
            transport: Default::default(),
        }
    }
    fn exec(&mut self, _: &Op, io: &mut Io) -> Outcome {
        io.read.clear();
        let o = self.answers.next().unwrap_or(Outcome::Err(Errno::EIO));
        if let Outcome::Bytes(n) = o {
            io.read.resize(n as usize, 0);
        }
        o
    }
    fn restore(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
    fn fingerprint(&mut self) -> Option<Vec<u8>> {
        None
    }
    fn inject(&mut self, _: Fault) -> bool {
        false
    }
}

/// What the offline check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Steps judged.
    pub steps: usize,
    /// The first step the model does not allow, with the rules it breaks
    /// (a trace is judged up to its first violation: after it the model
    /// no longer knows the device's state).
    pub violation: Option<(usize, Failure)>,
    /// SHOULD rules missed.
    pub warnings: Vec<&'static str>,
}

/// Checks the JSON trace `text` against the model under `profile`.
pub fn check(text: &str, profile: Profile) -> Result<Checked, String> {
    let t: TraceFile = serde_json::from_str(text).map_err(|e| format!("not a trace: {e}"))?;
    if t.format != FORMAT {
        return Err(format!("format `{}`, this checker reads `{FORMAT}`", t.format));
    }
    let flags = MigrationFlags::new(t.flags).map_err(|e| format!("flags {:#x}: {e}", t.flags))?;
    let pairs = t
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| s.to_pair(i))
        .collect::<Result<Vec<_>, _>>()?;
    let model = Fsm::new(flags, profile, t.data_size);
    let mut device = Replay {
        flags,
        data_size: t.data_size,
        answers: pairs.iter().map(|(_, o)| *o).collect::<Vec<_>>().into_iter(),
    };
    let mut c = Checker::new(&model, &mut device);
    let mut violation = None;
    for (i, (op, _)) in pairs.iter().enumerate() {
        let mut io = Io::default();
        if let Op::Write { len, .. } = op {
            io.write = vec![0; *len as usize];
        }
        if let Err(f) = c.step_io(*op, &mut io) {
            violation = Some((i, f));
            break;
        }
    }
    Ok(Checked {
        steps: c.trace().len(),
        violation,
        warnings: c.warnings().to_vec(),
    })
}
