//! The model's operations over one vfio-user connection.

use super::conn::{errno, Conn, Fail};
use super::server::ServerProcess;
use crate::probe::{Probe, RegionByte};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use vfio_mig_device::v2::Call;
use vfio_mig_device::{Description, Device, DeviceError, Fault, Io, Transport};
use vfio_mig_model::v2::{uapi, FeatureReq, Fsm, MigState, MigrationFlags, Outcome, PathTable};
use vfio_mig_model::Errno;
use vfio_mig_vfio_user::region::{RegionAccess, REGION_READ, REGION_WRITE};
use vfio_mig_vfio_user::{Reply, Request};

pub(crate) fn unusable(path: &str, why: impl std::fmt::Display) -> DeviceError {
    DeviceError::unusable(format!("vfio-user server {path}: {why}"))
}

/// The state of one connection as the adapter sees it, shared between the
/// adapter the engine drives and the checks that run on the same
/// connection afterwards.
pub struct Link {
    /// The connection.
    pub conn: Conn,
    /// Which instance (0 source, 1 destination).
    pub instance: usize,
    /// The flags GET MIGRATION reported.
    pub flags: MigrationFlags,
    table: PathTable,
    /// The state as the last successful SET or reset left it.
    pub(crate) state: Option<MigState>,
    /// Sessions by number: still open (not closed by the user)?
    sessions: Vec<bool>,
    /// The number of the session the device's state carries now.
    live: Option<usize>,
    /// Bytes read as the fingerprint, and written as scratch after a
    /// restore.
    probe: Probe,
    generation: u8,
    /// Every refused or ineffective DEVICE_RESET during restores: what
    /// happened (V2-ERR-002), in order.
    pub refusals: Vec<String>,
    /// The server process, when the run started it: how it ended is part
    /// of the message when the connection breaks.
    pub server: Option<Arc<Mutex<ServerProcess>>>,
}

/// The shared handle of a [`Link`].
pub type Shared = Arc<Mutex<Link>>;

/// Locks `link`, also after a panic elsewhere (its state is then judged by
/// the `broken` flag, not by the lock).
pub fn lock(link: &Shared) -> MutexGuard<'_, Link> {
    link.lock().unwrap_or_else(|p| p.into_inner())
}

fn set_data(state: u32) -> Vec<u8> {
    // device_state @0, data_fd @4 (unused in vfio-user; *Device Features*).
    let mut d = state.to_le_bytes().to_vec();
    d.extend_from_slice(&0u32.to_le_bytes());
    d
}

impl Link {
    /// Connects to the server on `path` as instance `instance`: VERSION,
    /// DEVICE_GET_INFO (the device must support reset), GET MIGRATION.
    pub fn open(path: &str, instance: usize, timeout: Duration, probe: Probe) -> Result<Self, DeviceError> {
        let conn = Conn::connect(path, timeout).map_err(|e| unusable(path, e))?;
        let mut l = Link {
            conn,
            instance,
            flags: MigrationFlags::STOP_COPY,
            table: PathTable::derive(MigrationFlags::STOP_COPY),
            state: None,
            sessions: Vec::new(),
            live: None,
            probe,
            generation: 0,
            refusals: Vec::new(),
            server: None,
        };
        match l.conn.call(&Request::DeviceGetInfo) {
            Ok(Reply::DeviceInfo { flags, .. }) if flags & 1 != 0 => {}
            Ok(Reply::DeviceInfo { flags, .. }) => {
                return Err(unusable(
                    path,
                    format!("DEVICE_GET_INFO flags {flags:#x}: the device cannot be reset, so checks cannot start clean"),
                ))
            }
            Ok(other) => return Err(unusable(path, format!("DEVICE_GET_INFO answered {other:?}"))),
            Err(f) => return Err(unusable(path, format!("DEVICE_GET_INFO: {}", f.why()))),
        }
        let bits = match l.feature(uapi::FEATURE_GET | uapi::FEATURE_MIGRATION, Vec::new(), 16) {
            Ok(d) if d.len() >= 8 => u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]),
            Ok(d) => {
                return Err(unusable(
                    path,
                    format!("GET MIGRATION: {} bytes of data, 8 expected", d.len()),
                ))
            }
            Err(f) => {
                return Err(unusable(
                    path,
                    format!("the server offers no migration: {}", f.why()),
                ))
            }
        };
        l.flags = MigrationFlags::new(bits)
            .map_err(|e| unusable(path, format!("GET MIGRATION reports {bits:#x}: {e}")))?;
        l.table = PathTable::derive(l.flags);
        Ok(l)
    }

    /// DEVICE_FEATURE with `flags` and `data`, offering `argsz` bytes of
    /// reply (*VFIO_USER_DEVICE_FEATURE*: "the maximum size of the reply
    /// payload"; 16 for GET of MIGRATION and MIG_DEVICE_STATE, whose data
    /// is 8 bytes, and for SET of MIG_DEVICE_STATE, whose reply echoes the
    /// 16-byte request): the reply's feature data.
    pub(crate) fn feature(&mut self, flags: u32, data: Vec<u8>, argsz: u32) -> Result<Vec<u8>, Fail> {
        match self.conn.call(&Request::Feature { argsz, flags, data })? {
            Reply::Feature { data, .. } => Ok(data),
            other => Err(Fail::Transport {
                errno: Errno::EIO,
                why: format!("DEVICE_FEATURE answered {other:?}"),
                stalled: false,
            }),
        }
    }

    /// GET MIG_DEVICE_STATE.
    pub(crate) fn get(&mut self) -> Result<u32, Fail> {
        let d = self.feature(uapi::FEATURE_GET | uapi::FEATURE_MIG_DEVICE_STATE, Vec::new(), 16)?;
        match d.get(..4) {
            Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            None => Err(Fail::Transport {
                errno: Errno::EIO,
                why: format!("GET MIG_DEVICE_STATE: {} bytes of data", d.len()),
                stalled: false,
            }),
        }
    }

    /// The state, asked of the server when a failed SET left it unknown.
    pub(crate) fn state(&mut self) -> Option<MigState> {
        if self.state.is_none() {
            self.state = self.get().ok().and_then(MigState::from_number);
        }
        self.state
    }

    /// SET MIG_DEVICE_STATE to `raw`.
    pub(crate) fn set(&mut self, raw: u32) -> Outcome {
        let from = self.state();
        match self.feature(
            uapi::FEATURE_SET | uapi::FEATURE_MIG_DEVICE_STATE,
            set_data(raw),
            16,
        ) {
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

    /// A feature request other than the state machine's, as
    /// DEVICE_FEATURE with the same flags and argsz (*VFIO_USER_DEVICE_FEATURE*:
    /// argsz is the largest reply payload, the same number as the kernel's
    /// argsz: 8 bytes of header and the feature's data). A SET carries
    /// zeros as the feature's data, as many as argsz leaves room for (at
    /// most 8); a GET and a PROBE carry none.
    fn feature_request(&mut self, req: &FeatureReq) -> Outcome {
        let a = req.access();
        let number = req.flags() & uapi::FEATURE_MASK;
        let data = if a.set && !a.probe {
            vec![0u8; req.argsz().saturating_sub(8).min(8) as usize]
        } else {
            Vec::new()
        };
        match self.feature(req.flags(), data, req.argsz()) {
            Ok(data) if number == uapi::FEATURE_MIGRATION && a.get && !a.probe => match data.get(..8) {
                Some(b) => Outcome::Flags(u64::from_le_bytes([
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                ])),
                None => Outcome::Err(Errno::EIO),
            },
            Ok(_) => Outcome::Done,
            Err(f) => failed(f),
        }
    }

    /// Whether session `n` is the live one; otherwise the errno to answer.
    fn session(&self, n: u16) -> Result<(), Errno> {
        match self.sessions.get(n as usize) {
            Some(true) if self.live == Some(n as usize) => Ok(()),
            _ => Err(Errno::EBADF),
        }
    }

    fn exec(&mut self, call: &Call, io: &mut Io) -> Outcome {
        if !matches!(call, Call::Read { .. }) {
            io.read.clear();
        }
        match *call {
            Call::SetState(n) => self.set(n),
            Call::GetState => self.get().map_or_else(failed, Outcome::State),
            Call::Read { fd, len } => {
                if let Err(e) = self.session(fd.0) {
                    io.read.clear();
                    return Outcome::Err(e);
                }
                let size = len.min(self.conn.max_xfer);
                let precopy = self.state().is_some_and(MigState::is_precopy);
                match self.conn.read_data(size, &mut io.read) {
                    Ok(()) => {
                        let n = io.read.len() as u32;
                        if n == 0 && size > 0 && precopy {
                            return Outcome::Err(Errno::ENOMSG);
                        }
                        Outcome::Bytes(n)
                    }
                    Err(f) => {
                        io.read.clear();
                        failed(f)
                    }
                }
            }
            Call::Write { fd, len } => {
                if let Err(e) = self.session(fd.0) {
                    return Outcome::Err(e);
                }
                let n = (len.min(self.conn.max_xfer) as usize).min(io.write.len());
                match self.conn.write_data(&io.write[..n]) {
                    Ok(()) => Outcome::Bytes(n as u32),
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
            Call::Reset => match self.conn.call(&Request::DeviceReset) {
                Ok(_) => {
                    self.state = None;
                    self.live = None;
                    Outcome::Done
                }
                Err(f) => failed(f),
            },
            _ => Outcome::Err(Errno::ENOTTY),
        }
    }

    /// Back to RUNNING with no session: DEVICE_RESET, and when the server
    /// refuses it or it does not reach RUNNING (a V2-ERR-002 failure, kept
    /// in [`Link::refusals`]), SETs along the path back to RUNNING. The
    /// device is unusable only when that fails too.
    pub fn restore(&mut self) -> Result<(), DeviceError> {
        match self.restore_inner() {
            Err(DeviceError::Unusable { what, source }) => Err(DeviceError::Unusable {
                what: match self.server_note() {
                    Some(note) => format!("{what} ({note})"),
                    None => what,
                },
                source,
            }),
            r => r,
        }
    }

    /// How the server process ended, when the run started it and it did.
    pub fn server_note(&self) -> Option<String> {
        let server = self.server.as_ref()?;
        let mut s = server.lock().unwrap_or_else(|p| p.into_inner());
        s.ended_within(std::time::Duration::from_millis(200))
            .map(|(_, how)| format!("the server process ended: {how}"))
    }

    fn restore_inner(&mut self) -> Result<(), DeviceError> {
        let path = self.conn.path.clone();
        if let Some(why) = &self.conn.broken {
            return Err(unusable(
                &path,
                format!("the connection broke ({why}); the run stops"),
            ));
        }
        self.sessions.clear();
        self.live = None;
        let before = self.state;
        let refused = match self.conn.call(&Request::DeviceReset) {
            Ok(_) => match self.get() {
                Ok(n) if n == MigState::Running.number() => None,
                Ok(n) => Some(format!(
                    "after DEVICE_RESET the device reports state {n}, not RUNNING"
                )),
                Err(f) => {
                    return Err(unusable(
                        &path,
                        format!(
                            "cannot read the state after DEVICE_RESET: {}; the run stops",
                            f.why()
                        ),
                    ))
                }
            },
            Err(Fail::Server(e)) => Some(format!(
                "DEVICE_RESET was refused with {}{}",
                errno(e),
                before.map(|s| format!(" in {s}")).unwrap_or_default()
            )),
            Err(f) => {
                return Err(unusable(
                    &path,
                    format!("cannot restore the device: {}; the run stops", f.why()),
                ))
            }
        };
        self.state = None;
        if let Some(what) = refused {
            self.refusals.push(what.clone());
            self.walk_back(&what)
                .map_err(|e| unusable(&path, format!("{what}, and {e}; the run stops")))?;
        }
        self.state = Some(MigState::Running);
        self.write_scratch().map_err(|e| unusable(&path, e))
    }

    /// SETs along the model's path from the current state to RUNNING.
    fn walk_back(&mut self, _what: &str) -> Result<(), String> {
        let now = self
            .get()
            .map_err(|f| format!("the state cannot be read: {}", f.why()))?;
        let from = MigState::from_number(now).ok_or_else(|| format!("the device reports state {now}"))?;
        if from == MigState::Error {
            return Err("the device is in ERROR, which only a reset leaves".into());
        }
        let hops: Vec<MigState> = match self.table.path(from, MigState::Running) {
            Some(p) => p.states().iter().skip(1).copied().collect(),
            None if from == MigState::Running => Vec::new(),
            None => return Err(format!("no path leads from {from} back to RUNNING")),
        };
        let mut at = from;
        for hop in hops {
            self.feature(
                uapi::FEATURE_SET | uapi::FEATURE_MIG_DEVICE_STATE,
                set_data(hop.number()),
                16,
            )
            .map_err(|f| {
                format!(
                    "the SET from {at} to {hop} on the way back to RUNNING failed: {}",
                    f.why()
                )
            })?;
            at = hop;
        }
        Ok(())
    }

    /// Writes the scratch bytes with a value unique to this restore and
    /// instance, so that a resume that loads nothing shows.
    fn write_scratch(&mut self) -> Result<(), String> {
        if self.probe.scratch.is_empty() {
            return Ok(());
        }
        self.generation = self.generation.wrapping_add(1);
        let value = self
            .generation
            .wrapping_mul(2)
            .wrapping_add(self.instance as u8 & 1);
        for b in self.probe.scratch.clone() {
            self.region_write(b, &[value])
                .map_err(|f| format!("cannot write scratch byte {}:{}: {}", b.region, b.offset, f.why()))?;
        }
        Ok(())
    }

    fn region_write(&mut self, at: RegionByte, data: &[u8]) -> Result<(), Fail> {
        let a = RegionAccess {
            offset: at.offset,
            region: at.region,
            count: data.len() as u32,
        };
        self.conn.region(REGION_WRITE, &a.payload(data)).map(drop)
    }

    /// The state bytes, read with REGION_READ (runs of neighbouring bytes
    /// in one message each).
    pub(crate) fn fingerprint(&mut self) -> Option<Vec<u8>> {
        if self.probe.state.is_empty() {
            return None;
        }
        let bytes = self.probe.state.clone();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let mut j = i + 1;
            while j < bytes.len()
                && j - i < 4096
                && bytes[j].region == bytes[i].region
                && bytes[j].offset == bytes[i].offset + (j - i) as u64
            {
                j += 1;
            }
            let a = RegionAccess {
                offset: bytes[i].offset,
                region: bytes[i].region,
                count: (j - i) as u32,
            };
            let reply = self.conn.region(REGION_READ, &a.payload(&[])).ok()?;
            let (_, data) = RegionAccess::decode_with_data("REGION_READ reply", &reply).ok()?;
            out.extend_from_slice(data);
            i = j;
        }
        Some(out)
    }
}

fn failed(f: Fail) -> Outcome {
    match f {
        Fail::Server(e) => Outcome::Err(errno(e)),
        Fail::Transport { errno, .. } => Outcome::Err(errno),
    }
}

/// A vfio-user server driven as a v2 device: the engine's side of a
/// [`Link`].
pub struct VfioUserAdapter {
    link: Shared,
    desc: Description,
}

impl VfioUserAdapter {
    /// Connects to the server on socket `path` as instance `index` and
    /// negotiates; the deadline of every request is `VFIO_MIG_TIMEOUT_MS`
    /// (10 s by default), the state bytes those of `VFIO_MIG_STATE_BYTES`.
    pub fn open(path: &str, index: usize) -> Result<Self, DeviceError> {
        let timeout = vfio_mig_engine::handle::timeout_from_env().map_err(|e| unusable(path, e))?;
        let probe = Probe::from_env()
            .map_err(|e| unusable(path, e))?
            .unwrap_or_default();
        let link = Link::open(path, index, timeout, probe)?;
        Ok(Self::on(Arc::new(Mutex::new(link))))
    }

    /// The adapter for a connection already open.
    pub fn on(link: Shared) -> Self {
        let desc = {
            let l = lock(&link);
            Description::v2(format!("vfio-user {}", l.conn.path), l.flags)
                .with_max_transfer(l.conn.max_xfer)
                .with_transport(Transport::VfioUser)
        };
        VfioUserAdapter { link, desc }
    }

    /// The connection behind this adapter.
    pub fn link(&self) -> &Shared {
        &self.link
    }
}

impl Device<Fsm> for VfioUserAdapter {
    fn describe(&self) -> Description {
        self.desc.clone()
    }

    fn exec(&mut self, call: &Call, io: &mut Io) -> Outcome {
        lock(&self.link).exec(call, io)
    }

    fn restore(&mut self) -> Result<(), DeviceError> {
        lock(&self.link).restore()
    }

    fn fingerprint(&mut self) -> Option<Vec<u8>> {
        lock(&self.link).fingerprint()
    }

    fn inject(&mut self, _fault: Fault) -> bool {
        false
    }
}
