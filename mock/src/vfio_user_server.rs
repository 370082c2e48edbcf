//! A vfio-user server around the mock device: what CI tests the vfio-user
//! adapter against, and a small reference for people writing servers.
//!
//! It speaks protocol 0.1 with the migration commands of the 0.9.2
//! specification (`DEVICE_FEATURE` 16, `MIG_DATA_READ` 17, `MIG_DATA_WRITE`
//! 18) and presents a minimal PCI device a VMM can attach to: a 256-byte
//! config space (region 7), BAR0 holding the device's registers (region 0,
//! read-only), no other regions, five interrupt types of which only ERR
//! and REQ have one interrupt each (never signalled),
//! and DMA_MAP/DMA_UNMAP bookkeeping (the descriptors that come with them
//! are closed at once: the mock does no DMA).
//!
//! Every request is checked as strictly as libvfio-user checks it, and
//! more ([`vfio_mig_vfio_user::check_request`] and the [`attach`]
//! checks): a request that breaks the specification gets an error reply
//! with EINVAL, so a client that regresses is caught. Descriptors sent with
//! a command that takes none are closed and the command refused.
//!
//! Clients are served concurrently, one message at a time, and the device
//! keeps its state across connections. A message must arrive whole within
//! the message deadline of its first byte, and a reply be taken within it,
//! or that connection is closed: an idle or trickling client never holds
//! the device or another client up. A frame that cannot be delimited (bad
//! size) ends that connection only.

use crate::{MockConfig, MockV2};
use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vfio_mig_device::v2::Call;
use vfio_mig_device::{Device, Io};
use vfio_mig_model::v2::{Access, FdRef, FeatureReq, MigState, Outcome};
use vfio_mig_model::Errno;
use vfio_mig_vfio_user::attach::{
    self, DmaMap, DmaUnmap, IrqInfo, IrqSet, DEVICE_GET_IRQ_INFO, DEVICE_SET_IRQS, DMA_MAP, DMA_UNMAP,
    IRQ_INFO_EVENTFD, IRQ_SET_DATA_EVENTFD,
};
use vfio_mig_vfio_user::check::{check_request, Limits};
use vfio_mig_vfio_user::codec::{
    FEATURE_GET, FEATURE_MASK, FEATURE_SET, FLAG_ERROR, FLAG_NO_REPLY, TYPE_REPLY,
};
use vfio_mig_vfio_user::fds::FdReader;
use vfio_mig_vfio_user::frame::{self, Deadline, FrameError};
use vfio_mig_vfio_user::region::{
    RegionAccess, RegionInfo, DEVICE_GET_REGION_INFO, REGION_FLAG_READ, REGION_FLAG_WRITE, REGION_READ,
    REGION_WRITE,
};
use vfio_mig_vfio_user::{Header, Reply, Request, RequestError};

/// Why a connection ended early.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The socket failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// A message could not be read or written.
    #[error("{0}")]
    Frame(FrameError),
}

/// The largest data payload of one MIG_DATA_READ or MIG_DATA_WRITE this
/// server accepts, announced as `max_data_xfer_size`.
pub const MAX_DATA_XFER: u32 = 1 << 20;

/// How long a message may take to arrive whole once its first byte came,
/// and a reply to be taken, by default.
pub const MESSAGE_DEADLINE: Duration = Duration::from_secs(10);

/// Clients served at once; more are closed as they come.
pub const MAX_CLIENTS: usize = 64;

/// DMA mappings one client may hold (the specification's default
/// `max_dma_maps`, 65535).
pub const MAX_DMA_MAPS: usize = 65535;

/// Region indexes of a PCI device (`VFIO_PCI_*_REGION_INDEX`, linux/vfio.h).
const BAR0: u32 = 0;
const CONFIG: u32 = 7;
const NUM_REGIONS: u32 = 9;
/// Interrupt types of a PCI device: INTx, MSI, MSI-X, ERR, REQ.
const NUM_IRQS: u32 = 5;
/// Interrupts of each type: none but one ERR and one REQ, which a VMM
/// wires to eventfds and the mock never signals.
const IRQ_COUNTS: [u32; NUM_IRQS as usize] = [0, 0, 0, 1, 1];
/// Bytes of config space.
const CONFIG_LEN: usize = 256;

/// One client's side: what the specification makes per connection.
#[derive(Debug, Default)]
pub struct Session {
    versioned: bool,
    /// DMA mappings, address -> size.
    dma: BTreeMap<u64, u64>,
}

/// A mock device behind a vfio-user socket.
pub struct MockServer {
    dev: MockV2,
    /// The mock's number for the current data session's fd.
    live: Option<FdRef>,
    /// The state, as the last successful SET or reset left it (`None` after a
    /// failed SET, until asked).
    state: Option<MigState>,
    max_xfer: u32,
    /// The read buffer, kept between MIG_DATA_READs.
    io: Io,
    config: [u8; CONFIG_LEN],
    bar0_len: u64,
    message_deadline: Duration,
    /// Refuse DEVICE_RESET in STOP and STOP_COPY, as libvfio-user does.
    reset_refused_when_stopped: bool,
    /// The session of [`MockServer::respond`] (a client in the same process).
    local: Session,
    /// Commands received, by number (the last slot counts numbers past it).
    counts: Arc<[AtomicU64; 32]>,
}

type Answer = Result<Reply, Errno>;

/// What to send back.
enum Response {
    /// A reply payload.
    Payload(Vec<u8>),
    /// A MIG_DATA_READ reply whose data is in the server's read buffer.
    ReadBuffer,
    /// An error reply with this errno.
    Error(Errno),
}

fn config_space() -> [u8; CONFIG_LEN] {
    let mut c = [0u8; CONFIG_LEN];
    // Vendor 0x1b36 and device 0x0011 are the IDs QEMU gives its own test
    // devices (pci-testdev is 0x0005); no guest driver binds to 0x0011.
    c[0..2].copy_from_slice(&0x1b36u16.to_le_bytes());
    c[2..4].copy_from_slice(&0x0011u16.to_le_bytes());
    // Class 0xff (device does not fit any class), header type 0, no
    // capability list, no interrupt pin; BAR0 a 32-bit memory BAR.
    c[0x0b] = 0xff;
    c
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}

impl MockServer {
    /// A server for instance `instance` of a mock configured by `config`
    /// (instances differ in their device state).
    pub fn new(mut config: MockConfig, instance: u64) -> Self {
        // vfio-user has no PRECOPY_INFO, so no PRECOPY_INFOv2 opt-in: the
        // device behind the socket speaks the older rules. Nor MIG_DATA_SIZE.
        config.uapi = vfio_mig_model::Uapi::Linux6_12;
        config.data_size = false;
        let bar0_len = (config.state_len as u64).max(4096).next_power_of_two();
        MockServer {
            dev: MockV2::new(config, instance),
            live: None,
            state: Some(MigState::Running),
            max_xfer: MAX_DATA_XFER,
            io: Io::default(),
            config: config_space(),
            bar0_len,
            message_deadline: MESSAGE_DEADLINE,
            reset_refused_when_stopped: false,
            local: Session::default(),
            counts: Arc::new(std::array::from_fn(|_| AtomicU64::new(0))),
        }
    }

    /// The same server with another message deadline.
    pub fn with_message_deadline(mut self, d: Duration) -> Self {
        self.message_deadline = d;
        self
    }

    /// The same server refusing DEVICE_RESET with EINVAL while the device
    /// is in STOP or STOP_COPY, as libvfio-user does (it runs no command
    /// but region access, DEVICE_FEATURE and MIG_DATA_READ in those states):
    /// a peer that breaks V2-ERR-002, for testing clients against it.
    pub fn refusing_reset_when_stopped(mut self) -> Self {
        self.reset_refused_when_stopped = true;
        self
    }

    /// How many messages of each command number the server received so far
    /// (index 31 counts every number from 31 up): a view that stays valid
    /// while [`MockServer::serve`] runs.
    pub fn counts(&self) -> Arc<[AtomicU64; 32]> {
        Arc::clone(&self.counts)
    }

    /// Serves clients on `listener` concurrently, forever (or until
    /// accepting fails), one message at a time on the device.
    pub fn serve(self, listener: &UnixListener) -> std::io::Result<()> {
        let deadline = self.message_deadline;
        let shared = Arc::new(Mutex::new(self));
        let clients = Arc::new(AtomicUsize::new(0));
        loop {
            let (stream, _) = listener.accept()?;
            if clients.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
                clients.fetch_sub(1, Ordering::SeqCst);
                eprintln!("vfio-user server: {MAX_CLIENTS} clients already; a new one is closed");
                continue;
            }
            let (shared, clients) = (Arc::clone(&shared), Arc::clone(&clients));
            let spawned = std::thread::Builder::new()
                .name("vfio-user-client".into())
                .spawn(move || {
                    if let Err(e) = serve_client(&shared, stream, deadline) {
                        eprintln!("vfio-user server: connection ended: {e}");
                    }
                    clients.fetch_sub(1, Ordering::SeqCst);
                });
            if spawned.is_err() {
                eprintln!("vfio-user server: cannot start a thread for a client");
            }
        }
    }

    /// Serves the one client on `stream` until it leaves, as a server that
    /// takes a single client does.
    pub fn serve_one(self, stream: UnixStream) -> Result<(), ServeError> {
        let deadline = self.message_deadline;
        serve_client(&Mutex::new(self), stream, deadline)
    }

    /// The reply to one message from the in-process client: its header and
    /// payload. Never panics, whatever the message holds.
    pub fn respond(&mut self, h: Header, payload: &[u8]) -> (Header, Vec<u8>) {
        let mut session = std::mem::take(&mut self.local);
        let r = self.response(&mut session, h, payload, Vec::new());
        self.local = session;
        let mut reply = reply_header(&h);
        let payload = match r {
            Response::Payload(p) => p,
            Response::ReadBuffer => Reply::MigData {
                data: self.io.read.clone(),
            }
            .payload(),
            Response::Error(e) => {
                reply.flags |= FLAG_ERROR;
                reply.error = e.0 as u32;
                Vec::new()
            }
        };
        (reply, payload)
    }

    /// The answer to message `h` with `payload` and the descriptors `fds`
    /// that came with it (closed here unless the command takes them).
    fn response(&mut self, session: &mut Session, h: Header, payload: &[u8], fds: Vec<OwnedFd>) -> Response {
        match self.dispatch(session, h, payload, fds) {
            Ok(Some(r)) => Response::Payload(r),
            Ok(None) => Response::ReadBuffer,
            Err(e) => Response::Error(e),
        }
    }

    fn dispatch(
        &mut self,
        session: &mut Session,
        h: Header,
        payload: &[u8],
        fds: Vec<OwnedFd>,
    ) -> Result<Option<Vec<u8>>, Errno> {
        self.counts[usize::from(h.command).min(31)].fetch_add(1, Ordering::Relaxed);
        if h.flags & 0xf != 0 {
            return Err(Errno::EINVAL);
        }
        let takes_fds = match h.command {
            DMA_MAP => 1,
            DEVICE_SET_IRQS => u32_at(payload, 16).min(64) as usize,
            _ => 0,
        };
        if fds.len() > takes_fds {
            // Closed as they drop; the command is refused.
            return Err(Errno::EINVAL);
        }
        if h.command != 1 && !session.versioned {
            return Err(Errno::EINVAL);
        }
        let bad = |_| Errno::EINVAL;
        match h.command {
            DMA_MAP => {
                let m = DmaMap::check(payload).map_err(bad)?;
                if session.dma.len() >= MAX_DMA_MAPS {
                    return Err(Errno(28)); // ENOSPC
                }
                let end = m.address + m.size;
                let overlaps = session
                    .dma
                    .range(..end)
                    .next_back()
                    .is_some_and(|(a, s)| a + s > m.address);
                if overlaps {
                    return Err(Errno(17)); // EEXIST
                }
                session.dma.insert(m.address, m.size);
                Ok(Some(Vec::new()))
            }
            DMA_UNMAP => {
                let u = DmaUnmap::check(payload).map_err(bad)?;
                if session.dma.get(&u.address) != Some(&u.size) {
                    return Err(Errno::EINVAL);
                }
                session.dma.remove(&u.address);
                Ok(Some(payload.to_vec()))
            }
            DEVICE_GET_REGION_INFO => {
                let r = attach::check_region_info(payload).map_err(bad)?;
                let (flags, size) = match r.index {
                    BAR0 => (REGION_FLAG_READ, self.bar0_len),
                    CONFIG => (REGION_FLAG_READ | REGION_FLAG_WRITE, CONFIG_LEN as u64),
                    i if i < NUM_REGIONS => (0, 0),
                    _ => return Err(Errno::EINVAL),
                };
                let info = RegionInfo {
                    argsz: RegionInfo::LEN as u32,
                    flags,
                    index: r.index,
                    cap_offset: 0,
                    size,
                    offset: 0,
                };
                Ok(Some(info.payload(&[])))
            }
            REGION_READ => {
                let a = attach::check_region_read(payload, self.max_xfer).map_err(bad)?;
                let data = self.region_bytes(a)?;
                Ok(Some(a.payload(&data)))
            }
            REGION_WRITE => {
                let (a, data) = attach::check_region_write(payload, self.max_xfer).map_err(bad)?;
                self.region_write(a, data)?;
                Ok(Some(a.payload(&[])))
            }
            DEVICE_GET_IRQ_INFO => {
                let i = IrqInfo::check(payload).map_err(bad)?;
                if i.index >= NUM_IRQS {
                    return Err(Errno::EINVAL);
                }
                let reply = IrqInfo {
                    argsz: IrqInfo::LEN as u32,
                    flags: IRQ_INFO_EVENTFD,
                    index: i.index,
                    count: IRQ_COUNTS[i.index as usize],
                };
                Ok(Some(reply.payload()))
            }
            DEVICE_SET_IRQS => {
                let s = IrqSet::check(payload).map_err(bad)?;
                // No type has interrupts: only "disable all" (count 0) or an
                // empty range is accepted.
                if s.index >= NUM_IRQS
                    || s.count != 0
                    || (s.flags & IRQ_SET_DATA_EVENTFD == 0 && !fds.is_empty())
                {
                    return Err(Errno::EINVAL);
                }
                Ok(Some(Vec::new()))
            }
            _ => {
                let limits = Limits {
                    max_data_xfer: self.max_xfer,
                };
                let req = match check_request(&h, payload, &limits) {
                    Ok(r) => r,
                    Err(e) => return self.refused_feature(&e, payload).map(Some),
                };
                if let Request::Version { .. } = req {
                    session.versioned = true;
                }
                match self.answer(req)? {
                    Reply::MigData { .. } => Ok(None),
                    r => Ok(Some(r.payload())),
                }
            }
        }
    }

    /// A request the strict checks refused: a DEVICE_FEATURE whose flags
    /// and argsz still make a request of the model (an unknown feature, an
    /// access the feature lacks, GET with SET, a short argsz) is the
    /// device's to answer, as the kernel's rules say; a message whose layout
    /// is broken (no flags, unknown flag bits, a SET of the state without
    /// its data) is EINVAL.
    fn refused_feature(&mut self, e: &RequestError, payload: &[u8]) -> Result<Vec<u8>, Errno> {
        use vfio_mig_vfio_user::RequestError as E;
        let delegated = matches!(
            e,
            E::FeatureUnknown { .. }
                | E::FeatureAccess { .. }
                | E::FeatureGetAndSet { .. }
                | E::FeatureNoAccess { .. }
                | E::ArgszTooSmall {
                    command: vfio_mig_vfio_user::Command::DeviceFeature,
                    ..
                }
                | E::FeatureData { .. }
                | E::FeatureValue { .. }
        );
        if !delegated || payload.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let (argsz, flags) = (u32_at(payload, 0), u32_at(payload, 4));
        let req = FeatureReq::new((flags & FEATURE_MASK) as u16, Access::of_bits(flags), argsz)
            .map_err(|_| Errno::EINVAL)?;
        // What the device answers goes back as it is, also a success (a
        // device that accepts what it should refuse is the thing tested).
        match self.exec(Call::Feature(req), &mut Io::default()) {
            Outcome::Done => Ok(payload.to_vec()),
            Outcome::Flags(bits) => {
                let mut p = (argsz.min(16)).to_le_bytes().to_vec();
                p.extend_from_slice(&flags.to_le_bytes());
                p.extend_from_slice(&bits.to_le_bytes());
                Ok(p)
            }
            Outcome::Err(e) => Err(e),
            _ => Err(Errno::EIO),
        }
    }

    /// Bytes of BAR0 (the registers, zeros past them) or of config space.
    fn region_bytes(&mut self, a: RegionAccess) -> Result<Vec<u8>, Errno> {
        let (len, source): (u64, Vec<u8>) = match a.region {
            BAR0 => (self.bar0_len, self.dev.fingerprint().unwrap_or_default()),
            CONFIG => (CONFIG_LEN as u64, self.config.to_vec()),
            _ => return Err(Errno::EINVAL),
        };
        let end = a.offset.checked_add(u64::from(a.count)).ok_or(Errno::EINVAL)?;
        if end > len {
            return Err(Errno::EINVAL);
        }
        Ok((a.offset..end)
            .map(|i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| source.get(i))
                    .copied()
                    .unwrap_or(0)
            })
            .collect())
    }

    /// Config space writes: the command register and the interrupt line
    /// keep what is written; other writes are taken and ignored, as a
    /// device ignores writes to read-only registers.
    fn region_write(&mut self, a: RegionAccess, data: &[u8]) -> Result<(), Errno> {
        if a.region != CONFIG {
            return Err(Errno::EINVAL);
        }
        let end = a.offset.checked_add(u64::from(a.count)).ok_or(Errno::EINVAL)?;
        if end > CONFIG_LEN as u64 {
            return Err(Errno::EINVAL);
        }
        for (i, b) in (a.offset as usize..end as usize).zip(data) {
            if matches!(i, 0x04 | 0x05 | 0x3c) {
                self.config[i] = *b;
            }
        }
        Ok(())
    }

    fn exec(&mut self, call: Call, io: &mut Io) -> Outcome {
        self.dev.exec(&call, io)
    }

    /// The device's state, asking it when a failed SET left it unknown.
    fn state(&mut self) -> Option<MigState> {
        if self.state.is_none() {
            if let Outcome::State(n) = self.exec(Call::GetState, &mut Io::default()) {
                self.state = MigState::from_number(n);
            }
        }
        self.state
    }

    fn answer(&mut self, req: Request) -> Answer {
        match req {
            Request::Version { major, minor, .. } => {
                if major != 0 {
                    return Err(Errno::EINVAL);
                }
                Ok(Reply::Version {
                    major: 0,
                    minor: minor.min(1),
                    caps: format!(
                        r#"{{"capabilities":{{"max_msg_fds":1,"max_data_xfer_size":{}}}}}"#,
                        self.max_xfer
                    ),
                })
            }
            Request::DeviceGetInfo => Ok(Reply::DeviceInfo {
                flags: 1 | 2,
                num_regions: NUM_REGIONS,
                num_irqs: NUM_IRQS,
            }),
            Request::DeviceReset => {
                if self.reset_refused_when_stopped
                    && matches!(self.state(), Some(MigState::Stop | MigState::StopCopy))
                {
                    return Err(Errno::EINVAL);
                }
                self.exec(Call::Reset, &mut Io::default());
                self.live = None;
                self.dev.renumber_fds();
                self.state = Some(MigState::Running);
                Ok(Reply::Empty)
            }
            Request::Feature { argsz, flags, data } => self.feature(argsz, flags, &data),
            Request::MigDataRead { size } => self.read(size),
            Request::MigDataWrite { data } => self.write(data),
        }
    }

    /// A DEVICE_FEATURE that passed the strict checks: MIGRATION and
    /// MIG_DEVICE_STATE are served here, the others (DMA logging) by the
    /// device, which answers as the kernel's rules say.
    fn feature(&mut self, argsz: u32, flags: u32, data: &[u8]) -> Answer {
        let index = flags & FEATURE_MASK;
        let (get, set) = (flags & FEATURE_GET != 0, flags & FEATURE_SET != 0);
        let probe = flags & vfio_mig_vfio_user::codec::FEATURE_PROBE != 0;
        let echo = || Reply::Feature {
            argsz,
            flags,
            data: data.to_vec(),
        };
        let reply = |value: Vec<u8>| Reply::Feature {
            argsz: 8 + value.len() as u32,
            flags,
            data: value,
        };
        match index {
            1 => {
                if probe {
                    return Ok(echo());
                }
                // The device itself answers: the flags are its own.
                let req = FeatureReq::full(1, Access::GET).map_err(|_| Errno::EINVAL)?;
                match self.exec(Call::Feature(req), &mut Io::default()) {
                    Outcome::Flags(bits) => Ok(reply(bits.to_le_bytes().to_vec())),
                    Outcome::Err(e) => Err(e),
                    _ => Err(Errno::EIO),
                }
            }
            2 if probe => Ok(echo()),
            2 if get => match self.exec(Call::GetState, &mut Io::default()) {
                Outcome::State(n) => {
                    let mut v = n.to_le_bytes().to_vec();
                    v.extend_from_slice(&0u32.to_le_bytes());
                    Ok(reply(v))
                }
                Outcome::Err(e) => Err(e),
                _ => Err(Errno::EIO),
            },
            2 if set => {
                let n = u32_at(data, 0);
                match self.exec(Call::SetState(n), &mut Io::default()) {
                    Outcome::SetOk { fd } => {
                        if fd {
                            self.live = self.dev.renumber_fds();
                        }
                        self.state = MigState::from_number(n);
                        if !self
                            .state
                            .is_some_and(|s| s.is_saving() || s == MigState::Resuming)
                        {
                            self.live = None;
                        }
                        Ok(echo())
                    }
                    Outcome::Err(e) => {
                        self.state = None;
                        Err(e)
                    }
                    _ => Err(Errno::EIO),
                }
            }
            // Anything else is the device's to answer.
            _ => {
                let req =
                    FeatureReq::full(index as u16, Access::of_bits(flags)).map_err(|_| Errno::EINVAL)?;
                match self.exec(Call::Feature(req), &mut Io::default()) {
                    Outcome::Done => Ok(echo()),
                    Outcome::Err(e) => Err(e),
                    _ => Err(Errno::EIO),
                }
            }
        }
    }

    fn read(&mut self, size: u32) -> Answer {
        let saving = self.state().is_some_and(|s| s.is_saving());
        let (true, Some(fd)) = (saving, self.live) else {
            return Err(Errno::EINVAL);
        };
        match self.dev.exec(&Call::Read { fd, len: size }, &mut self.io) {
            Outcome::Bytes(_) => Ok(Reply::MigData { data: Vec::new() }),
            // No more for now: a short (empty) reply says so over vfio-user.
            Outcome::Err(Errno::ENOMSG) => {
                self.io.read.clear();
                Ok(Reply::MigData { data: Vec::new() })
            }
            Outcome::Err(e) => Err(e),
            _ => Err(Errno::EIO),
        }
    }

    fn write(&mut self, data: Vec<u8>) -> Answer {
        let resuming = self.state() == Some(MigState::Resuming);
        let (true, Some(fd)) = (resuming, self.live) else {
            return Err(Errno::EINVAL);
        };
        let len = data.len() as u32;
        let mut io = Io {
            write: data,
            read: Vec::new(),
        };
        match self.exec(Call::Write { fd, len }, &mut io) {
            Outcome::Bytes(n) if n == len => Ok(Reply::Empty),
            Outcome::Bytes(_) => Err(Errno::EIO),
            Outcome::Err(e) => Err(e),
            _ => Err(Errno::EIO),
        }
    }
}

fn reply_header(h: &Header) -> Header {
    Header {
        msg_id: h.msg_id,
        command: h.command,
        size: 0,
        flags: TYPE_REPLY,
        error: 0,
    }
}

/// Reads one request: the first byte without a deadline (an idle client
/// waits as long as it likes, holding nothing), the rest within
/// `deadline`. The payload goes into `payload`.
fn read_request(
    stream: &UnixStream,
    max: u32,
    deadline: Duration,
    payload: &mut Vec<u8>,
) -> Result<(Header, Vec<OwnedFd>), FrameError> {
    let mut first = FdReader::new(stream, None);
    let mut b = [0u8; 1];
    loop {
        match first.read(&mut b) {
            Ok(0) => return Err(FrameError::Closed),
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    let mut rest = FdReader::new(stream, Some(deadline));
    let header = {
        let mut r = (&b[..]).chain(&mut rest);
        frame::read_frame_into(&mut r, max, payload)?
    };
    let mut fds = first.fds;
    fds.append(&mut rest.fds);
    Ok((header, fds))
}

/// Serves one client until it disconnects (`Ok`), sends a frame that cannot
/// be delimited, or misses the message deadline (`Err`, the connection is
/// dropped).
fn serve_client(
    server: &Mutex<MockServer>,
    stream: UnixStream,
    deadline: Duration,
) -> Result<(), ServeError> {
    let mut session = Session::default();
    let max_xfer = server.lock().unwrap_or_else(|p| p.into_inner()).max_xfer;
    // Room past the largest transfer, so that an over-long MIG_DATA_WRITE
    // is read whole and refused with EINVAL (V2-VU-002).
    let max = 16 + 8 + max_xfer + 4096;
    let mut payload = Vec::new();
    loop {
        let (h, fds) = match read_request(&stream, max, deadline, &mut payload) {
            Ok(f) => f,
            Err(FrameError::Closed) => return Ok(()),
            Err(e) => return Err(ServeError::Frame(e)),
        };
        let mut s = server.lock().unwrap_or_else(|p| p.into_inner());
        let r = s.response(&mut session, h, &payload, fds);
        if h.flags & FLAG_NO_REPLY != 0 {
            continue;
        }
        let mut reply = reply_header(&h);
        let mut out = Deadline::new(&stream, deadline);
        let sent = match r {
            Response::Payload(p) => frame::write_frame(&mut out, reply, &p),
            Response::ReadBuffer => {
                let data = &s.io.read;
                let n = data.len() as u32;
                let mut words = [0u8; 8];
                words[..4].copy_from_slice(&(8 + n).to_le_bytes());
                words[4..].copy_from_slice(&n.to_le_bytes());
                frame::write_frame_parts(&mut out, reply, &[&words, data])
            }
            Response::Error(e) => {
                reply.flags |= FLAG_ERROR;
                reply.error = e.0 as u32;
                frame::write_frame(&mut out, reply, &[])
            }
        };
        drop(s);
        sent.map_err(ServeError::Frame)?;
    }
}
