//! The vfio-user adapter: a device server on a UNIX socket, driven with the
//! migration commands of the vfio-user 0.9.2 specification (protocol 0.1).
//!
//! vfio-user carries the data stream in messages instead of a descriptor, so
//! the adapter maps it onto the model's operations: a SET whose path opens a
//! data session (by the model's own path table) yields a new session number
//! where the kernel would return a data fd; `read` and `write` on the current
//! session become `MIG_DATA_READ` and `MIG_DATA_WRITE` of at most
//! `max_data_xfer_size` bytes; an operation on an earlier or closed session
//! is refused by the adapter with EBADF, since the server has no way to see
//! it. In PRE_COPY an empty `MIG_DATA_READ` reply (no more data for now)
//! becomes ENOMSG, the kernel's word for the same thing. There is no
//! PRECOPY_INFO and no MIG_DATA_SIZE: those calls fail with ENOTTY, and the
//! report shows their requirements as not applicable ([`Transport`]).
//!
//! Every request waits for its reply at most the deadline
//! (`VFIO_MIG_TIMEOUT_MS`, 10 s by default). A reply that is late, malformed,
//! out of order or missing breaks the connection: the operation reports EIO
//! (ETIMEDOUT when late) and the next restore stops the run.

use std::os::unix::net::UnixStream;
use vfio_mig_device::v2::Call;
use vfio_mig_device::{Description, Device, DeviceError, Fault, Io, Transport};
use vfio_mig_engine::check::Status;
use vfio_mig_engine::verdict::{SuiteId, Verdict};
use vfio_mig_model::v2::{uapi, FeatureReq, Fsm, MigState, MigrationFlags, Outcome, PathTable};
use vfio_mig_model::Errno;
use vfio_mig_model::Req;
use vfio_mig_vfio_user::codec::DEFAULT_MAX_DATA_XFER;
use vfio_mig_vfio_user::{read_frame, write_frame, FrameError, Header, Reply, Request};

/// What went wrong with a request.
enum Fail {
    /// The server answered with an error and this errno.
    Server(u32),
    /// No usable answer; the connection is broken.
    Transport(Errno, String),
}

/// One connection to a vfio-user device server.
pub struct VfioUserAdapter {
    stream: UnixStream,
    path: String,
    next_id: u16,
    max_xfer: u32,
    flags: MigrationFlags,
    table: PathTable,
    /// The state as the last successful SET or reset left it.
    state: Option<MigState>,
    /// Sessions by number: still open (not closed by the user)?
    sessions: Vec<bool>,
    /// The number of the session the device's state carries now.
    live: Option<usize>,
    broken: Option<String>,
}

fn unusable(path: &str, why: impl std::fmt::Display) -> DeviceError {
    DeviceError::unusable(format!("vfio-user server {path}: {why}"))
}

impl VfioUserAdapter {
    /// Connects to the server on socket `path` and negotiates.
    pub fn open(path: &str, _index: usize) -> Result<Self, DeviceError> {
        let timeout = vfio_mig_engine::handle::timeout_from_env().map_err(|e| unusable(path, e))?;
        let stream = UnixStream::connect(path).map_err(|e| unusable(path, format!("cannot connect: {e}")))?;
        stream
            .set_read_timeout(Some(timeout))
            .and_then(|()| stream.set_write_timeout(Some(timeout)))
            .map_err(|e| unusable(path, e))?;
        let mut a = VfioUserAdapter {
            stream,
            path: path.to_owned(),
            next_id: 0,
            max_xfer: DEFAULT_MAX_DATA_XFER,
            flags: MigrationFlags::STOP_COPY,
            table: PathTable::derive(MigrationFlags::STOP_COPY),
            state: None,
            sessions: Vec::new(),
            live: None,
            broken: None,
        };
        let hello = Request::Version {
            major: 0,
            minor: 1,
            caps: String::new(),
        };
        let why = |f: Fail| match f {
            Fail::Server(e) => format!("refused with {}", Errno(e as i32)),
            Fail::Transport(_, m) => m,
        };
        match a
            .call(hello)
            .map_err(|f| unusable(path, format!("VERSION: {}", why(f))))?
        {
            Reply::Version {
                major: 0,
                minor,
                caps,
            } if minor <= 1 => {
                a.max_xfer = max_xfer_of(&caps).map_err(|e| unusable(path, e))?;
            }
            other => {
                return Err(unusable(
                    path,
                    format!("VERSION: the server answered {other:?}, not 0.0 or 0.1"),
                ))
            }
        }
        match a.call(Request::DeviceGetInfo) {
            Ok(Reply::DeviceInfo { flags, .. }) if flags & 1 != 0 => {}
            Ok(Reply::DeviceInfo { flags, .. }) => {
                return Err(unusable(
                    path,
                    format!("DEVICE_GET_INFO flags {flags:#x}: the device cannot be reset, so checks cannot start clean"),
                ))
            }
            Ok(other) => return Err(unusable(path, format!("DEVICE_GET_INFO answered {other:?}"))),
            Err(f) => return Err(unusable(path, format!("DEVICE_GET_INFO: {}", why(f)))),
        }
        let bits = match a.feature(uapi::FEATURE_GET | uapi::FEATURE_MIGRATION, Vec::new()) {
            Ok(d) if d.len() >= 8 => u64::from_le_bytes(d[..8].try_into().expect("8 bytes")),
            Ok(d) => {
                return Err(unusable(
                    path,
                    format!("GET MIGRATION: {} bytes of data, 8 expected", d.len()),
                ))
            }
            Err(f) => {
                return Err(unusable(
                    path,
                    format!("the server offers no migration: {}", why(f)),
                ))
            }
        };
        a.flags = MigrationFlags::new(bits)
            .map_err(|e| unusable(path, format!("GET MIGRATION reports {bits:#x}: {e}")))?;
        a.table = PathTable::derive(a.flags);
        Ok(a)
    }

    /// Sends `req` and waits for its reply.
    fn call(&mut self, req: Request) -> Result<Reply, Fail> {
        if let Some(why) = &self.broken {
            return Err(Fail::Transport(Errno::EIO, why.clone()));
        }
        let r = self.exchange(&req);
        if let Err(Fail::Transport(_, why)) = &r {
            self.broken = Some(why.clone());
        }
        r
    }

    fn exchange(&mut self, req: &Request) -> Result<Reply, Fail> {
        let cmd = req.command();
        self.next_id = self.next_id.wrapping_add(1);
        let h = Header {
            msg_id: self.next_id,
            command: cmd.number(),
            size: 0,
            flags: 0,
            error: 0,
        };
        let transport = |e: FrameError| {
            let errno = match e {
                FrameError::TimedOut => Errno::ETIMEDOUT,
                _ => Errno::EIO,
            };
            Fail::Transport(errno, format!("{cmd}: {e}"))
        };
        write_frame(&mut self.stream, h, &req.payload()).map_err(transport)?;
        let (r, payload) = read_frame(&mut self.stream, 16 + 8 + self.max_xfer).map_err(transport)?;
        if !r.is_reply() || r.msg_id != h.msg_id || r.command != h.command {
            return Err(Fail::Transport(
                Errno::EIO,
                format!(
                    "{cmd}: the answer (id {}, command {}, flags {:#x}) is not the reply to message {}",
                    r.msg_id, r.command, r.flags, h.msg_id
                ),
            ));
        }
        if r.is_error() {
            // The error flag decides; any payload that came with it is ignored.
            return Err(Fail::Server(r.error));
        }
        Reply::decode(cmd, &payload).map_err(|e| Fail::Transport(Errno::EIO, e.to_string()))
    }

    /// DEVICE_FEATURE with `flags` and `data`: the reply's feature data.
    fn feature(&mut self, flags: u32, data: Vec<u8>) -> Result<Vec<u8>, Fail> {
        match self.call(Request::Feature {
            argsz: 64,
            flags,
            data,
        })? {
            Reply::Feature { data, .. } => Ok(data),
            other => Err(Fail::Transport(
                Errno::EIO,
                format!("DEVICE_FEATURE answered {other:?}"),
            )),
        }
    }

    /// A feature request other than the state machine's: the same flags;
    /// a SET carries the feature's payload (zeros), a GET or PROBE none.
    fn feature_request(&mut self, req: &FeatureReq) -> Outcome {
        let a = req.access();
        let number = req.flags() & uapi::FEATURE_MASK;
        let payload = if a.set && !a.probe {
            vec![0u8; req.argsz().saturating_sub(8).min(8) as usize]
        } else {
            Vec::new()
        };
        match self.feature(req.flags(), payload) {
            Ok(data) if number == uapi::FEATURE_MIGRATION && a.get && !a.probe => match data.get(..8) {
                Some(b) => Outcome::Flags(u64::from_le_bytes(b.try_into().expect("8 bytes"))),
                None => Outcome::Err(Errno::EIO),
            },
            Ok(_) => Outcome::Done,
            Err(f) => failed(f),
        }
    }

    fn get(&mut self) -> Result<u32, Fail> {
        let d = self.feature(uapi::FEATURE_GET | uapi::FEATURE_MIG_DEVICE_STATE, Vec::new())?;
        d.get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
            .ok_or_else(|| {
                Fail::Transport(
                    Errno::EIO,
                    format!("GET MIG_DEVICE_STATE: {} bytes of data", d.len()),
                )
            })
    }

    /// The state, asked of the server when a failed SET left it unknown.
    fn state(&mut self) -> Option<MigState> {
        if self.state.is_none() {
            self.state = self.get().ok().and_then(MigState::from_number);
        }
        self.state
    }

    fn set(&mut self, raw: u32) -> Outcome {
        let from = self.state();
        let mut d = raw.to_le_bytes().to_vec();
        d.extend_from_slice(&u32::MAX.to_le_bytes());
        match self.feature(uapi::FEATURE_SET | uapi::FEATURE_MIG_DEVICE_STATE, d) {
            Ok(_) => {
                let to = MigState::from_number(raw);
                let opens = match (from, to) {
                    (Some(f), Some(t)) => self.table.path(f, t).and_then(|p| p.opens()).is_some(),
                    _ => false,
                };
                if opens {
                    self.sessions.push(true);
                    self.live = Some(self.sessions.len() - 1);
                }
                if !to.is_some_and(|t| t.is_saving() || t == MigState::Resuming) {
                    self.live = None;
                }
                self.state = to;
                Outcome::SetOk { fd: opens }
            }
            Err(f) => {
                self.state = None;
                failed(f)
            }
        }
    }

    /// Whether session `n` is the live one; otherwise the errno to answer.
    fn session(&self, n: u16) -> Result<(), Errno> {
        match self.sessions.get(n as usize) {
            Some(true) if self.live == Some(n as usize) => Ok(()),
            _ => Err(Errno::EBADF),
        }
    }
}

fn failed(f: Fail) -> Outcome {
    match f {
        Fail::Server(e) => Outcome::Err(Errno(i32::try_from(e).unwrap_or(i32::MAX))),
        Fail::Transport(e, _) => Outcome::Err(e),
    }
}

/// `max_data_xfer_size` from a VERSION reply's capabilities (1 MiB when
/// absent).
fn max_xfer_of(caps: &str) -> Result<u32, String> {
    if caps.is_empty() {
        return Ok(DEFAULT_MAX_DATA_XFER);
    }
    let v: serde_json::Value =
        serde_json::from_str(caps).map_err(|e| format!("VERSION capabilities: {e}"))?;
    match &v["capabilities"]["max_data_xfer_size"] {
        serde_json::Value::Null => Ok(DEFAULT_MAX_DATA_XFER),
        n => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                format!("VERSION capabilities: max_data_xfer_size {n} is not a positive 32-bit size")
            }),
    }
}

impl Device<Fsm> for VfioUserAdapter {
    fn describe(&self) -> Description {
        Description::v2(format!("vfio-user {}", self.path), self.flags)
            .with_max_transfer(self.max_xfer)
            .with_transport(Transport::VfioUser)
    }

    fn exec(&mut self, call: &Call, io: &mut Io) -> Outcome {
        io.read.clear();
        match *call {
            Call::SetState(n) => self.set(n),
            Call::GetState => self.get().map_or_else(failed, Outcome::State),
            Call::Read { fd, len } => {
                if let Err(e) = self.session(fd.0) {
                    return Outcome::Err(e);
                }
                let size = len.min(self.max_xfer);
                let precopy = self.state().is_some_and(MigState::is_precopy);
                match self.call(Request::MigDataRead { size }) {
                    Ok(Reply::MigData { data }) => {
                        let n = data.len() as u32;
                        if n == 0 && size > 0 && precopy {
                            return Outcome::Err(Errno::ENOMSG);
                        }
                        io.read = data;
                        Outcome::Bytes(n)
                    }
                    Ok(other) => failed(Fail::Transport(
                        Errno::EIO,
                        format!("MIG_DATA_READ answered {other:?}"),
                    )),
                    Err(f) => failed(f),
                }
            }
            Call::Write { fd, len } => {
                if let Err(e) = self.session(fd.0) {
                    return Outcome::Err(e);
                }
                let n = (len.min(self.max_xfer) as usize).min(io.write.len());
                match self.call(Request::MigDataWrite {
                    data: io.write[..n].to_vec(),
                }) {
                    Ok(_) => Outcome::Bytes(n as u32),
                    Err(f) => failed(f),
                }
            }
            // vfio-user has neither call.
            Call::PrecopyInfo { .. } | Call::DataSize => Outcome::Err(Errno::ENOTTY),
            Call::Feature(req) => self.feature_request(&req),
            Call::Close { fd } => match self.sessions.get_mut(fd.0 as usize) {
                Some(open @ true) => {
                    *open = false;
                    Outcome::Done
                }
                _ => Outcome::Err(Errno::EBADF),
            },
            Call::Reset => match self.call(Request::DeviceReset) {
                Ok(_) => {
                    self.state = Some(MigState::Running);
                    self.live = None;
                    Outcome::Done
                }
                Err(f) => failed(f),
            },
            _ => Outcome::Err(Errno::ENOTTY),
        }
    }

    fn restore(&mut self) -> Result<(), DeviceError> {
        if let Some(why) = &self.broken {
            return Err(unusable(
                &self.path,
                format!("the connection broke ({why}); the run stops"),
            ));
        }
        self.sessions.clear();
        self.live = None;
        match self.call(Request::DeviceReset) {
            Ok(_) => {}
            Err(Fail::Server(e)) => {
                return Err(DeviceError::Broke {
                    rule: vfio_mig_model::reqs::V2_ERR_002,
                    what: format!(
                        "vfio-user server {}: DEVICE_RESET failed with {}",
                        self.path,
                        Errno(e as i32)
                    ),
                })
            }
            Err(Fail::Transport(_, m)) => {
                return Err(unusable(
                    &self.path,
                    format!("cannot restore the device: {m}; the run stops"),
                ))
            }
        }
        match self.get() {
            Ok(n) if n == MigState::Running.number() => {
                self.state = Some(MigState::Running);
                Ok(())
            }
            Ok(n) => Err(DeviceError::Broke {
                rule: vfio_mig_model::reqs::V2_ERR_002,
                what: format!(
                    "vfio-user server {}: after DEVICE_RESET the device reports state {n}, not RUNNING",
                    self.path
                ),
            }),
            Err(_) => Err(unusable(
                &self.path,
                "cannot read the state after DEVICE_RESET; the run stops",
            )),
        }
    }

    fn fingerprint(&mut self) -> Option<Vec<u8>> {
        None
    }

    fn inject(&mut self, _fault: Fault) -> bool {
        false
    }
}

/// The checks of the rules only vfio-user has (V2-VU-*), which the generic
/// suites cannot reach because the adapter hides the messages behind the
/// model's operations. Each opens its own connection to the server on
/// `path`, so run them when no other client is connected.
pub fn wire_checks(path: &str) -> Vec<Verdict> {
    use vfio_mig_model::reqs::{V2_VU_001, V2_VU_002, V2_VU_003, V2_VU_004};
    type Check = fn(&mut VfioUserAdapter) -> Result<(), String>;
    let checks: [(&str, Req, Check); 4] = [
        ("data-outside-data-states", V2_VU_001, data_outside_data_states),
        ("over-max-data-xfer-size", V2_VU_002, over_max_xfer),
        ("read-replies-within-the-size-asked", V2_VU_003, read_reply_sizes),
        ("errors-keep-the-connection", V2_VU_004, errors_keep_connection),
    ];
    let mut out = Vec::new();
    for (name, req, check) in checks {
        let name = format!("v2/vfio-user/wire/{name}");
        let result = VfioUserAdapter::open(path, 0)
            .map_err(|e| e.to_string())
            .and_then(|mut a| {
                a.restore().map_err(|e| e.to_string())?;
                check(&mut a)
            });
        out.push(match result {
            Ok(()) => Verdict::passed(SuiteId::Wire, name, &[req], String::new()),
            Err(why) => {
                let mut v = Verdict::passed(SuiteId::Wire, name, &[req], why);
                v.status = Status::Fail;
                v.broken = vec![req];
                v
            }
        });
    }
    out
}

/// `req` must be refused with EINVAL.
fn refused(a: &mut VfioUserAdapter, what: &str, req: Request) -> Result<(), String> {
    match a.call(req) {
        Err(Fail::Server(22)) => Ok(()),
        Err(Fail::Server(e)) => Err(format!("{what}: refused with {}, not EINVAL", Errno(e as i32))),
        Err(Fail::Transport(_, m)) => Err(format!("{what}: {m}")),
        Ok(r) => Err(format!("{what}: served ({r:?}) instead of refused")),
    }
}

fn set_state(a: &mut VfioUserAdapter, s: MigState) -> Result<(), String> {
    match a.set(s.number()) {
        Outcome::SetOk { .. } => Ok(()),
        other => Err(format!("SET {s}: {other}")),
    }
}

fn data_outside_data_states(a: &mut VfioUserAdapter) -> Result<(), String> {
    let read = || Request::MigDataRead { size: 64 };
    let write = || Request::MigDataWrite { data: vec![0; 16] };
    refused(a, "MIG_DATA_READ in RUNNING", read())?;
    refused(a, "MIG_DATA_WRITE in RUNNING", write())?;
    set_state(a, MigState::Stop)?;
    refused(a, "MIG_DATA_READ in STOP", read())?;
    set_state(a, MigState::StopCopy)?;
    refused(a, "MIG_DATA_WRITE in STOP_COPY", write())?;
    set_state(a, MigState::Stop)?;
    set_state(a, MigState::Resuming)?;
    refused(a, "MIG_DATA_READ in RESUMING", read())
}

fn over_max_xfer(a: &mut VfioUserAdapter) -> Result<(), String> {
    let max = a.max_xfer;
    set_state(a, MigState::StopCopy)?;
    refused(
        a,
        "MIG_DATA_READ of max_data_xfer_size + 1",
        Request::MigDataRead { size: max + 1 },
    )?;
    a.call(Request::DeviceReset)
        .map_err(|_| "DEVICE_RESET failed".to_owned())?;
    a.state = Some(MigState::Running);
    set_state(a, MigState::Resuming)?;
    refused(
        a,
        "MIG_DATA_WRITE of max_data_xfer_size + 1 bytes",
        Request::MigDataWrite {
            data: vec![0; max as usize + 1],
        },
    )
}

fn read_reply_sizes(a: &mut VfioUserAdapter) -> Result<(), String> {
    set_state(a, MigState::StopCopy)?;
    let mut total = 0usize;
    for _ in 0..1_000_000 {
        match a.call(Request::MigDataRead { size: 7 }) {
            Ok(Reply::MigData { data }) if data.len() > 7 => {
                return Err(format!("MIG_DATA_READ of 7 bytes answered {} bytes", data.len()))
            }
            Ok(Reply::MigData { data }) if data.is_empty() => {
                return if total > 0 {
                    Ok(())
                } else {
                    Err("STOP_COPY: the first MIG_DATA_READ already answered no data".into())
                };
            }
            Ok(Reply::MigData { data }) => total += data.len(),
            Ok(other) => return Err(format!("MIG_DATA_READ answered {other:?}")),
            Err(Fail::Server(e)) => return Err(format!("MIG_DATA_READ failed with {}", Errno(e as i32))),
            Err(Fail::Transport(_, m)) => return Err(m),
        }
    }
    Err("no end of the stream after a million reads of 7 bytes".into())
}

fn errors_keep_connection(a: &mut VfioUserAdapter) -> Result<(), String> {
    // A command number no revision defines.
    let h = Header {
        msg_id: 0x7777,
        command: 99,
        size: 0,
        flags: 0,
        error: 0,
    };
    write_frame(&mut a.stream, h, &[1, 2, 3]).map_err(|e| e.to_string())?;
    let (r, _) = read_frame(&mut a.stream, 1 << 16).map_err(|e| format!("after an unknown command: {e}"))?;
    if !(r.is_reply() && r.msg_id == 0x7777 && r.command == 99) {
        return Err(format!(
            "the answer to command 99 (id {}, command {}) does not echo it",
            r.msg_id, r.command
        ));
    }
    if !r.is_error() {
        return Err("an unknown command was answered without the error flag".into());
    }
    match a.get() {
        Ok(n) if n == MigState::Running.number() => Ok(()),
        Ok(n) => Err(format!("after the error the state reads {n}, not RUNNING")),
        Err(_) => Err("the connection is unusable after an error reply".into()),
    }
}
