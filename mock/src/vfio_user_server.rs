//! A vfio-user server around the mock device: what CI tests the vfio-user
//! adapter against, and a small reference for people writing servers.
//!
//! It speaks protocol 0.1 with the migration commands of the 0.9.2
//! specification (`DEVICE_FEATURE` 16, `MIG_DATA_READ` 17, `MIG_DATA_WRITE`
//! 18). Clients are served one after another; the device keeps its state
//! across connections. A command it cannot decode gets an error reply; a
//! frame it cannot delimit (bad size) ends that connection, never the
//! server.

use crate::{MockConfig, MockV2};
use std::io::Write;
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;
use vfio_mig_device::v2::Call;
use vfio_mig_device::{Device, Io};
use vfio_mig_model::v2::{uapi, Access, FdRef, FeatureReq, MigState, Outcome};
use vfio_mig_model::Errno;
use vfio_mig_vfio_user::codec::{FLAG_ERROR, TYPE_REPLY};
use vfio_mig_vfio_user::{read_frame, write_frame, Header, Reply, Request};

/// Why a connection ended early.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The socket failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// A message could not be read or written.
    #[error("{0}")]
    Frame(vfio_mig_vfio_user::FrameError),
}

/// The largest data payload of one MIG_DATA_READ or MIG_DATA_WRITE this
/// server accepts, announced as `max_data_xfer_size`.
pub const MAX_DATA_XFER: u32 = 1 << 20;

/// A mock device behind a vfio-user socket.
pub struct MockServer {
    dev: MockV2,
    /// The mock's number for the current data session's fd.
    live: Option<FdRef>,
    fds_opened: u16,
    /// The state, as the last successful SET or reset left it (`None` after a
    /// failed SET, until asked).
    state: Option<MigState>,
    versioned: bool,
    max_xfer: u32,
    /// The read buffer, kept between MIG_DATA_READs.
    io: Io,
}

type Answer = Result<Reply, Errno>;

impl MockServer {
    /// A server for instance `instance` of a mock configured by `config`
    /// (instances differ in their device state).
    pub fn new(mut config: MockConfig, instance: u64) -> Self {
        // vfio-user has no PRECOPY_INFO, so no PRECOPY_INFOv2 opt-in: the
        // device behind the socket speaks the older rules.
        config.uapi = vfio_mig_model::Uapi::Linux6_12;
        // Nor MIG_DATA_SIZE.
        config.data_size = false;
        MockServer {
            dev: MockV2::new(config, instance),
            live: None,
            fds_opened: 0,
            state: Some(MigState::Running),
            versioned: false,
            max_xfer: MAX_DATA_XFER,
            io: Io::default(),
        }
    }

    /// Serves clients on `listener` one after another, forever (or until
    /// accepting fails).
    pub fn serve(&mut self, listener: &UnixListener) -> std::io::Result<()> {
        loop {
            let (stream, _) = listener.accept()?;
            if let Err(e) = self.serve_client(stream) {
                eprintln!("vfio-user server: connection ended: {e}");
            }
        }
    }

    /// Serves one client until it disconnects (`Ok`) or sends a frame that
    /// cannot be delimited (`Err`, the connection is dropped).
    pub fn serve_client(&mut self, mut stream: UnixStream) -> Result<(), ServeError> {
        self.versioned = false;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        // Room past the largest transfer, so that an over-long MIG_DATA_WRITE
        // is read whole and refused with EINVAL (V2-VU-002).
        let max = 16 + 8 + self.max_xfer + 4096;
        loop {
            let (h, payload) = match read_frame(&mut stream, max) {
                Ok(f) => f,
                Err(vfio_mig_vfio_user::FrameError::Closed) => return Ok(()),
                Err(e) => return Err(ServeError::Frame(e)),
            };
            let (reply, payload) = self.respond(h, &payload);
            write_frame(&mut stream, reply, &payload).map_err(ServeError::Frame)?;
            stream.flush()?;
        }
    }

    /// The reply to one message: its header and payload. Never panics,
    /// whatever the message holds.
    pub fn respond(&mut self, h: Header, payload: &[u8]) -> (Header, Vec<u8>) {
        let answer = if h.flags & 0xf != 0 {
            Err(Errno::EINVAL)
        } else {
            match Request::decode(h.command, payload) {
                Ok(req) => self.answer(req),
                Err(_) => Err(Errno::EINVAL),
            }
        };
        let mut reply = Header {
            msg_id: h.msg_id,
            command: h.command,
            size: 0,
            flags: TYPE_REPLY,
            error: 0,
        };
        let payload = match answer {
            Ok(r) => r.payload(),
            Err(e) => {
                reply.flags |= FLAG_ERROR;
                reply.error = e.0 as u32;
                Vec::new()
            }
        };
        (reply, payload)
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
                self.versioned = true;
                Ok(Reply::Version {
                    major: 0,
                    minor: minor.min(1),
                    caps: format!(
                        r#"{{"capabilities":{{"max_msg_fds":1,"max_data_xfer_size":{}}}}}"#,
                        self.max_xfer
                    ),
                })
            }
            _ if !self.versioned => Err(Errno::EINVAL),
            Request::DeviceGetInfo => Ok(Reply::DeviceInfo {
                flags: 1,
                num_regions: 0,
                num_irqs: 0,
            }),
            Request::DeviceReset => {
                self.exec(Call::Reset, &mut Io::default());
                self.live = None;
                self.state = Some(MigState::Running);
                Ok(Reply::Empty)
            }
            Request::Feature { argsz, flags, data } => self.feature(argsz, flags, &data),
            Request::MigDataRead { size } => self.read(size),
            Request::MigDataWrite { data } => self.write(data),
        }
    }

    fn feature(&mut self, argsz: u32, flags: u32, data: &[u8]) -> Answer {
        let index = flags & 0xffff;
        let access = flags & (uapi::FEATURE_GET | uapi::FEATURE_SET | uapi::FEATURE_PROBE);
        let (get, set, probe) = (
            access & uapi::FEATURE_GET != 0,
            access & uapi::FEATURE_SET != 0,
            access & uapi::FEATURE_PROBE != 0,
        );
        if get && set && !probe {
            return Err(Errno::EINVAL);
        }
        // Without PROBE one of GET or SET must be asked for.
        if !get && !set && !probe {
            return Err(Errno::EINVAL);
        }
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
            i if i == uapi::FEATURE_MIGRATION => {
                if set {
                    return Err(Errno::EINVAL);
                }
                if probe {
                    return Ok(echo());
                }
                if argsz < 16 {
                    return Err(Errno::EINVAL);
                }
                // The device itself answers: the flags are its own.
                let req = FeatureReq::full(index as u16, Access::GET).map_err(|_| Errno::EINVAL)?;
                match self.exec(Call::Feature(req), &mut Io::default()) {
                    Outcome::Flags(bits) => Ok(reply(bits.to_le_bytes().to_vec())),
                    Outcome::Err(e) => Err(e),
                    _ => Err(Errno::EIO),
                }
            }
            i if i == uapi::FEATURE_MIG_DEVICE_STATE => {
                if probe {
                    return Ok(echo());
                }
                if get {
                    if argsz < 16 {
                        return Err(Errno::EINVAL);
                    }
                    return match self.exec(Call::GetState, &mut Io::default()) {
                        Outcome::State(n) => {
                            let mut v = n.to_le_bytes().to_vec();
                            v.extend_from_slice(&u32::MAX.to_le_bytes());
                            Ok(reply(v))
                        }
                        Outcome::Err(e) => Err(e),
                        _ => Err(Errno::EIO),
                    };
                }
                let Some(raw) = data.get(..4) else {
                    return Err(Errno::EINVAL);
                };
                let n = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
                match self.exec(Call::SetState(n), &mut Io::default()) {
                    Outcome::SetOk { fd } => {
                        if fd {
                            self.live = Some(FdRef(self.fds_opened));
                            self.fds_opened += 1;
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
        if size > self.max_xfer {
            return Err(Errno::EINVAL);
        }
        let saving = self.state().is_some_and(|s| s.is_saving());
        let (true, Some(fd)) = (saving, self.live) else {
            return Err(Errno::EINVAL);
        };
        match self.dev.exec(&Call::Read { fd, len: size }, &mut self.io) {
            Outcome::Bytes(_) => Ok(Reply::MigData {
                data: self.io.read.clone(),
            }),
            // No more for now: a short (empty) reply says so over vfio-user.
            Outcome::Err(Errno::ENOMSG) => Ok(Reply::MigData { data: Vec::new() }),
            Outcome::Err(e) => Err(e),
            _ => Err(Errno::EIO),
        }
    }

    fn write(&mut self, data: Vec<u8>) -> Answer {
        if data.len() > self.max_xfer as usize {
            return Err(Errno::EINVAL);
        }
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
