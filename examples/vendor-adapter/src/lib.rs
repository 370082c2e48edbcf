//! An example of a vendor's own adapter.
//!
//! A driver author implements [`Device`] for their device and a
//! [`DeviceFactory`] that opens it, and gets every conformance test from one
//! macro in `tests/conformance.rs`. Here the "device" is a small register
//! file with v2 migration (STOP_COPY only), written from the uAPI's rules in
//! a few lines, standing in for a real driver's control path: a real adapter
//! issues the ioctl, read or write in `exec` and maps its result to an
//! [`Outcome`].
//!
//! The device is named by the `VENDOR_DEVICE` environment variable, the way a
//! real adapter would be pointed at a device node. Unset, every test reports
//! "ignored" with that reason instead of passing silently; `VENDOR_DEVICE=demo`
//! runs the suites.
#![forbid(unsafe_code)]

use vfio_mig_device::v2::{Call, FdRef, FeatureReq};
use vfio_mig_device::{Description, Device, DeviceError, DeviceFactory, Errno, Fault, Io};
use vfio_mig_model::v2::{Fsm, MigState, MigrationFlags, Outcome};

/// The saved stream: a magic byte, the registers, and their byte sum.
const MAGIC: u8 = 0xd5;
const REGS: usize = 16;

/// What a data fd was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fd {
    /// Reads the saved stream from `pos`.
    Save { pos: usize },
    /// Collects the stream being resumed.
    Resume,
}

/// One opened device of the vendor.
pub struct VendorDevice {
    name: String,
    state: MigState,
    regs: [u8; REGS],
    power_on: [u8; REGS],
    /// Every fd returned since the last restore: what it is, whether it is
    /// closed, and whether its session is still live.
    fds: Vec<(Fd, bool, bool)>,
    saved: Vec<u8>,
    incoming: Vec<u8>,
}

fn err(e: Errno) -> Outcome {
    Outcome::Err(e)
}

impl VendorDevice {
    fn open(name: String, index: usize) -> Self {
        let mut power_on = [0u8; REGS];
        for (i, b) in power_on.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(7).wrapping_add(index as u8 * 31 + 1);
        }
        VendorDevice {
            name,
            state: MigState::Running,
            regs: power_on,
            power_on,
            fds: Vec::new(),
            saved: Vec::new(),
            incoming: Vec::new(),
        }
    }

    fn end_sessions(&mut self) {
        for f in &mut self.fds {
            f.2 = false;
        }
    }

    fn new_fd(&mut self, fd: Fd) {
        self.end_sessions();
        self.fds.push((fd, false, true));
    }

    /// One direct arc.
    fn arc(&mut self, to: MigState) -> Result<(), Errno> {
        match (self.state, to) {
            (MigState::Resuming, MigState::Stop) => {
                let s = &self.incoming;
                let sum = s[..s.len().saturating_sub(1)]
                    .iter()
                    .fold(0u8, |a, b| a.wrapping_add(*b));
                if s.len() != REGS + 2 || s[0] != MAGIC || s[REGS + 1] != sum {
                    return Err(Errno::EINVAL);
                }
                self.regs.copy_from_slice(&s[1..=REGS]);
                self.end_sessions();
            }
            (MigState::Stop, MigState::StopCopy) => {
                self.saved = std::iter::once(MAGIC).chain(self.regs).collect();
                let sum = self.saved.iter().fold(0u8, |a, b| a.wrapping_add(*b));
                self.saved.push(sum);
                self.new_fd(Fd::Save { pos: 0 });
            }
            (MigState::Stop, MigState::Resuming) => {
                self.incoming.clear();
                self.new_fd(Fd::Resume);
            }
            (MigState::StopCopy, MigState::Stop) => self.end_sessions(),
            _ => {}
        }
        self.state = to;
        Ok(())
    }

    /// The next arc toward `to` for a device with STOP_COPY only: every
    /// path goes through STOP.
    fn next(&self, to: MigState) -> Option<MigState> {
        use MigState::*;
        let offered = |s| matches!(s, Stop | Running | StopCopy | Resuming);
        if !offered(self.state) || !offered(to) {
            return None;
        }
        Some(if self.state == Stop { to } else { Stop })
    }

    fn set(&mut self, n: u32) -> Outcome {
        let Some(to) = MigState::from_number(n) else {
            return err(Errno::EINVAL);
        };
        let Some(_) = self.next(to) else {
            return err(Errno::EINVAL);
        };
        let before = self.fds.len();
        while self.state != to {
            let Some(step) = self.next(to) else {
                return err(Errno::EINVAL);
            };
            if let Err(e) = self.arc(step) {
                return err(e);
            }
        }
        Outcome::SetOk {
            fd: self.fds.len() > before,
        }
    }

    /// The live fd `fd`, or the error a closed, unknown or dead one gets.
    fn live(&mut self, fd: FdRef) -> Result<&mut Fd, Errno> {
        match self.fds.get_mut(fd.0 as usize) {
            None | Some((_, true, _)) => Err(Errno::EBADF),
            Some((_, false, false)) => Err(Errno::ENODEV),
            Some((f, false, true)) => Ok(f),
        }
    }

    fn read(&mut self, fd: FdRef, len: u32, io: &mut Io) -> Outcome {
        let saved_len = self.saved.len();
        match self.live(fd) {
            Err(e) => err(e),
            Ok(Fd::Save { pos }) => {
                let n = (saved_len - *pos).min(len as usize);
                let at = *pos;
                *pos += n;
                io.read.extend_from_slice(&self.saved[at..at + n]);
                Outcome::Bytes(n as u32)
            }
            Ok(Fd::Resume) => err(Errno::EBADF),
        }
    }

    fn write(&mut self, fd: FdRef, io: &Io) -> Outcome {
        let room = REGS + 2 - self.incoming.len().min(REGS + 2);
        match self.live(fd).copied() {
            Err(e) => err(e),
            Ok(Fd::Save { .. }) => err(Errno::EBADF),
            // More than a stream holds: EFBIG.
            Ok(Fd::Resume) if io.write.len() > room => err(Errno(27)),
            Ok(Fd::Resume) => {
                self.incoming.extend_from_slice(&io.write);
                Outcome::Bytes(io.write.len() as u32)
            }
        }
    }
}

/// `VFIO_DEVICE_FEATURE` requests other than GET and SET of the state, as
/// the kernel's core answers them for a STOP_COPY-only device: MIGRATION
/// (1) is read-only, MIG_DEVICE_STATE (2) is read-write, nothing else
/// exists. A real adapter passes the request to its driver instead.
fn feature(req: &FeatureReq) -> Outcome {
    let a = req.access();
    if req.argsz() < 8 || (a.get && a.set && !a.probe) {
        return err(Errno::EINVAL);
    }
    let (can_get, can_set) = match req.feature() {
        1 => (true, false),
        2 => (true, true),
        _ => return err(Errno::ENOTTY),
    };
    if (a.get && !can_get) || (a.set && !can_set) {
        return err(Errno::EINVAL);
    }
    if a.probe {
        return Outcome::Done;
    }
    if !(a.get || a.set) || req.argsz() < 16 {
        return err(Errno::EINVAL);
    }
    Outcome::Flags(MigrationFlags::STOP_COPY.bits())
}

impl Device<Fsm> for VendorDevice {
    fn describe(&self) -> Description {
        Description::v2(self.name.clone(), MigrationFlags::STOP_COPY)
    }

    fn exec(&mut self, call: &Call, io: &mut Io) -> Outcome {
        io.read.clear();
        match *call {
            Call::SetState(n) => self.set(n),
            Call::GetState => Outcome::State(self.state.number()),
            Call::Read { fd, len } => self.read(fd, len, io),
            Call::Write { fd, .. } => self.write(fd, io),
            Call::PrecopyInfo { fd, .. } => match self.live(fd) {
                Err(e) => err(e),
                Ok(_) => err(Errno::EINVAL),
            },
            Call::Feature(req) => feature(&req),
            Call::Close { fd } => match self.fds.get_mut(fd.0 as usize) {
                Some((_, closed @ false, _)) => {
                    *closed = true;
                    Outcome::Done
                }
                _ => err(Errno::EBADF),
            },
            Call::Reset => {
                self.state = MigState::Running;
                self.regs = self.power_on;
                self.end_sessions();
                Outcome::Done
            }
            // MIG_DATA_SIZE is not offered; calls this adapter does not know
            // are not supported either.
            _ => err(Errno::ENOTTY),
        }
    }

    fn restore(&mut self) -> Result<(), DeviceError> {
        self.fds.clear();
        self.exec(&Call::Reset, &mut Io::default());
        Ok(())
    }

    fn fingerprint(&mut self) -> Option<Vec<u8>> {
        Some(self.regs.to_vec())
    }

    fn inject(&mut self, _fault: Fault) -> bool {
        // A real device cannot be told to fail; the engine fails calls at
        // the adapter's boundary where it can, and skips what needs more.
        false
    }
}

/// Opens the vendor's devices, named by `VENDOR_DEVICE`.
pub struct VendorFactory {
    device: Option<String>,
}

impl VendorFactory {
    /// Reads the configuration from the environment.
    pub fn from_env() -> Self {
        Self::named(std::env::var("VENDOR_DEVICE").ok().filter(|s| !s.is_empty()))
    }

    /// A factory for the named device (`None`: not configured).
    pub fn named(device: Option<String>) -> Self {
        VendorFactory { device }
    }
}

impl DeviceFactory<Fsm> for VendorFactory {
    fn open(&self, index: usize) -> Result<Box<dyn Device<Fsm>>, DeviceError> {
        let Some(name) = &self.device else {
            return Err(DeviceError::NotConfigured(
                "set VENDOR_DEVICE to name the device under test".into(),
            ));
        };
        Ok(Box::new(VendorDevice::open(format!("{name}#{index}"), index)))
    }
}
