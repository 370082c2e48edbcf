//! The real VFIO adapter: a kernel device fd driven through the v2 migration
//! ioctls of [`vfio_mig_sys`], every call bounded by a deadline.
//!
//! Besides the migration calls, the adapter touches the device in two small,
//! declared ways: it reads a few *state bytes* from device regions as the
//! fingerprint a resume must reproduce, and it writes a few *scratch bytes*
//! after each restore so that the source and the destination of a round trip
//! hold different state (otherwise a resume that loads nothing would pass).
//! Both lists are known for mtty and can be given for any device by
//! environment variable (see [`Probe`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use vfio_mig_device::v2::Call;
use vfio_mig_device::{Description, Device, DeviceError, Fault, Io, SharedDevice};
use vfio_mig_model::v2::{FdRef, Fsm, MigState, MigrationFlags, Outcome};
use vfio_mig_model::{Errno, Uapi};
use vfio_mig_sys::{uapi, DataFd, SharedFd, VfioDevice};

pub use crate::probe::{Probe, ProbeError, RegionByte};

/// One opened VFIO device.
pub struct VfioAdapter {
    dev: VfioDevice,
    instance: usize,
    flags: MigrationFlags,
    data_size: bool,
    /// The data fds the device returned, in order; shared with the handle
    /// for calls at once, which numbers the fds it gets the same way.
    fds: Fds,
    /// Probe bytes resolved to device-fd offsets (regions that exist).
    state: Vec<u64>,
    scratch: Vec<u64>,
    generation: u8,
    /// The uAPI revision of the running kernel.
    uapi: Uapi,
    /// A SET of the PRECOPY_INFOv2 opt-in succeeded on this open: a
    /// restore must close the device and open it again.
    opted_in: Arc<AtomicBool>,
}

/// The data fds of one open device, numbered in the order they came back.
#[derive(Debug, Clone, Default)]
struct Fds(Arc<Mutex<Vec<Option<DataFd>>>>);

impl Fds {
    fn lock(&self) -> MutexGuard<'_, Vec<Option<DataFd>>> {
        // Pushing, taking and cloning entries cannot leave the table half
        // changed.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fd `fd`, when it is open (a clone: a call holds it while it runs).
    fn get(&self, fd: FdRef) -> Option<DataFd> {
        self.lock().get(fd.0 as usize).and_then(Clone::clone)
    }
}

/// The calls of one device both paths carry out the same way.
trait Calls {
    fn set_state(&mut self, raw: u32) -> Result<Option<DataFd>, vfio_mig_sys::Error>;
    fn get_state(&mut self) -> Result<u32, vfio_mig_sys::Error>;
    fn read_data(&mut self, data: &DataFd, len: usize) -> Result<Vec<u8>, vfio_mig_sys::Error>;
    fn write_data(&mut self, data: &DataFd, bytes: &[u8]) -> Result<usize, vfio_mig_sys::Error>;
    fn precopy_info(
        &mut self,
        data: &DataFd,
        flags: u32,
    ) -> Result<vfio_mig_sys::uapi::PrecopyInfo, vfio_mig_sys::Error>;
    fn feature(&mut self, flags: u32, argsz: u32) -> Result<u64, vfio_mig_sys::Error>;
    fn data_size(&mut self) -> Result<u64, vfio_mig_sys::Error>;
    fn reset(&mut self) -> Result<(), vfio_mig_sys::Error>;
}

impl Calls for VfioDevice {
    fn set_state(&mut self, raw: u32) -> Result<Option<DataFd>, vfio_mig_sys::Error> {
        VfioDevice::set_state(self, raw)
    }
    fn get_state(&mut self) -> Result<u32, vfio_mig_sys::Error> {
        VfioDevice::get_state(self)
    }
    fn read_data(&mut self, data: &DataFd, len: usize) -> Result<Vec<u8>, vfio_mig_sys::Error> {
        VfioDevice::read_data(self, data, len)
    }
    fn write_data(&mut self, data: &DataFd, bytes: &[u8]) -> Result<usize, vfio_mig_sys::Error> {
        VfioDevice::write_data(self, data, bytes)
    }
    fn precopy_info(
        &mut self,
        data: &DataFd,
        flags: u32,
    ) -> Result<vfio_mig_sys::uapi::PrecopyInfo, vfio_mig_sys::Error> {
        VfioDevice::precopy_info(self, data, flags)
    }
    fn feature(&mut self, flags: u32, argsz: u32) -> Result<u64, vfio_mig_sys::Error> {
        VfioDevice::feature(self, flags, argsz)
    }
    fn data_size(&mut self) -> Result<u64, vfio_mig_sys::Error> {
        VfioDevice::data_size(self)
    }
    fn reset(&mut self) -> Result<(), vfio_mig_sys::Error> {
        VfioDevice::reset(self)
    }
}

impl Calls for &SharedFd {
    fn set_state(&mut self, raw: u32) -> Result<Option<DataFd>, vfio_mig_sys::Error> {
        SharedFd::set_state(self, raw)
    }
    fn get_state(&mut self) -> Result<u32, vfio_mig_sys::Error> {
        SharedFd::get_state(self)
    }
    fn read_data(&mut self, data: &DataFd, len: usize) -> Result<Vec<u8>, vfio_mig_sys::Error> {
        SharedFd::read_data(self, data, len)
    }
    fn write_data(&mut self, data: &DataFd, bytes: &[u8]) -> Result<usize, vfio_mig_sys::Error> {
        SharedFd::write_data(self, data, bytes)
    }
    fn precopy_info(
        &mut self,
        data: &DataFd,
        flags: u32,
    ) -> Result<vfio_mig_sys::uapi::PrecopyInfo, vfio_mig_sys::Error> {
        SharedFd::precopy_info(self, data, flags)
    }
    fn feature(&mut self, flags: u32, argsz: u32) -> Result<u64, vfio_mig_sys::Error> {
        SharedFd::feature(self, flags, argsz)
    }
    fn data_size(&mut self) -> Result<u64, vfio_mig_sys::Error> {
        SharedFd::data_size(self)
    }
    fn reset(&mut self) -> Result<(), vfio_mig_sys::Error> {
        SharedFd::reset(self)
    }
}

/// Carries out `call` on `dev`, with the data fds in `fds`; a SET that
/// returns a fd adds it under the next number.
fn exec_on(dev: &mut impl Calls, fds: &Fds, opted_in: &AtomicBool, call: &Call, io: &mut Io) -> Outcome {
    io.read.clear();
    match *call {
        Call::SetState(n) => match dev.set_state(n) {
            Ok(Some(fd)) => {
                fds.lock().push(Some(fd));
                Outcome::SetOk { fd: true }
            }
            Ok(None) => Outcome::SetOk { fd: false },
            Err(e) => err(e),
        },
        Call::GetState => dev.get_state().map_or_else(err, Outcome::State),
        Call::Read { fd, len } => {
            let Some(data) = fds.get(fd) else {
                return Outcome::Err(Errno::EBADF);
            };
            match dev.read_data(&data, len as usize) {
                Ok(bytes) => {
                    let n = bytes.len() as u32;
                    io.read = bytes;
                    Outcome::Bytes(n)
                }
                Err(e) => err(e),
            }
        }
        Call::Write { fd, len } => {
            let Some(data) = fds.get(fd) else {
                return Outcome::Err(Errno::EBADF);
            };
            let n = (len as usize).min(io.write.len());
            let r = dev.write_data(&data, &io.write[..n]);
            r.map_or_else(err, |n| Outcome::Bytes(n as u32))
        }
        Call::PrecopyInfo { fd, flags } => {
            let Some(data) = fds.get(fd) else {
                return Outcome::Err(Errno::EBADF);
            };
            dev.precopy_info(&data, flags)
                .map_or_else(err, |p| Outcome::Precopy {
                    initial_bytes: p.initial_bytes,
                    dirty_bytes: p.dirty_bytes,
                    flags: p.flags,
                })
        }
        Call::Feature(req) => match dev.feature(req.flags(), req.argsz()) {
            Err(e) => err(e),
            Ok(value) => {
                let a = req.access();
                let number = req.flags() & uapi::FEATURE_MASK;
                if number == uapi::FEATURE_MIG_PRECOPY_INFO_V2 && a.set && !a.probe {
                    opted_in.store(true, Ordering::SeqCst);
                }
                if number == uapi::FEATURE_MIGRATION && a.get && !a.probe {
                    Outcome::Flags(value)
                } else {
                    Outcome::Done
                }
            }
        },
        Call::DataSize => dev.data_size().map_or_else(err, Outcome::Size),
        // The fd closes once no call in progress holds it any more.
        Call::Close { fd } => match fds.lock().get_mut(fd.0 as usize).and_then(Option::take) {
            Some(data) => {
                drop(data);
                Outcome::Done
            }
            None => Outcome::Err(Errno::EBADF),
        },
        Call::Reset => dev.reset().map_or_else(err, |()| Outcome::Done),
        _ => Outcome::Err(Errno::ENOTTY),
    }
}

/// The device for calls from several threads at once: the kernel orders
/// them by its own locks.
struct Shared {
    dev: SharedFd,
    fds: Fds,
    opted_in: Arc<AtomicBool>,
}

impl SharedDevice<Fsm> for Shared {
    fn exec(&self, call: &Call, io: &mut Io) -> Outcome {
        exec_on(&mut &self.dev, &self.fds, &self.opted_in, call, io)
    }
}

/// The uAPI revision of the running kernel (from its release; Linux 6.12's
/// rules when the release cannot be read).
fn running_uapi() -> Uapi {
    Uapi::of_release(&vfio_mig_sys::kernel_release()).unwrap_or_default()
}

fn unusable(name: &str, what: impl std::fmt::Display) -> DeviceError {
    DeviceError::unusable(format!("{name}: {what}"))
}

fn err(e: vfio_mig_sys::Error) -> Outcome {
    Outcome::Err(Errno(e.errno()))
}

impl VfioAdapter {
    /// Opens `name` as instance `index` (0 = source, 1 = destination).
    pub fn open(name: &str, index: usize) -> Result<Self, DeviceError> {
        let timeout = vfio_mig_engine::handle::timeout_from_env().map_err(|e| unusable(name, e))?;
        let probe = Probe::for_device(name).map_err(|e| unusable(name, e))?;
        let mut dev = VfioDevice::open(name, timeout).map_err(|e| DeviceError::unusable(e.to_string()))?;
        let bits = dev
            .migration_flags()
            .map_err(|e| unusable(name, format!("the device offers no v2 migration ({e})")))?;
        let flags = MigrationFlags::new(bits).map_err(|e| {
            unusable(
                name,
                format!("VFIO_DEVICE_FEATURE_MIGRATION reports {bits:#x}: {e}"),
            )
        })?;
        let data_size = dev
            .probe(uapi::FEATURE_MIG_DATA_SIZE, uapi::FEATURE_GET)
            .map_err(|e| unusable(name, e))?;
        let mut resolve = |bytes: &[RegionByte]| -> Result<Vec<u64>, DeviceError> {
            let mut out = Vec::new();
            for b in bytes {
                let info = dev.region(b.region).map_err(|e| unusable(name, e))?;
                if b.offset < info.size {
                    out.push(info.offset + b.offset);
                }
            }
            Ok(out)
        };
        let state = resolve(&probe.state)?;
        let scratch = resolve(&probe.scratch)?;
        Ok(VfioAdapter {
            dev,
            instance: index,
            flags,
            data_size,
            fds: Fds::default(),
            state,
            scratch,
            generation: 0,
            uapi: running_uapi(),
            opted_in: Arc::default(),
        })
    }
}

impl Device<Fsm> for VfioAdapter {
    fn describe(&self) -> Description {
        Description::v2(format!("{} ({})", self.dev.name(), self.dev.route()), self.flags)
            .with_data_size(self.data_size)
            .with_max_transfer(vfio_mig_sys::device::MAX_READ as u32)
            .with_uapi(self.uapi)
            .with_concurrency(true)
    }

    fn exec(&mut self, call: &Call, io: &mut Io) -> Outcome {
        exec_on(&mut self.dev, &self.fds, &self.opted_in, call, io)
    }

    fn restore(&mut self) -> Result<(), DeviceError> {
        let name = self.dev.name().to_owned();
        if self.dev.is_hung() {
            return Err(unusable(&name, "an earlier call never returned; the run stops"));
        }
        self.fds.lock().clear();
        if self.opted_in.swap(false, Ordering::SeqCst) {
            // The opt-in lasts as long as the open: only a close ends it.
            self.dev
                .reopen()
                .map_err(|e| unusable(&name, format!("cannot open the device again: {e}; the run stops")))?;
        }
        self.dev
            .reset()
            .map_err(|e| unusable(&name, format!("cannot restore the device: {e}; the run stops")))?;
        let now = self.dev.get_state().map_err(|e| {
            unusable(
                &name,
                format!("cannot read the state after reset: {e}; the run stops"),
            )
        })?;
        if now != MigState::Running.number() {
            let shown = MigState::from_number(now).map_or_else(|| now.to_string(), |s| s.to_string());
            return Err(unusable(
                &name,
                format!("after VFIO_DEVICE_RESET the device reports {shown}, not RUNNING; the run stops"),
            ));
        }
        self.generation = self.generation.wrapping_add(1);
        let value = self
            .generation
            .wrapping_mul(2)
            .wrapping_add(self.instance as u8 & 1);
        for &at in &self.scratch {
            self.dev
                .write_at(at, &[value])
                .map_err(|e| unusable(&name, format!("cannot write a scratch byte: {e}")))?;
        }
        Ok(())
    }

    fn fingerprint(&mut self) -> Option<Vec<u8>> {
        if self.state.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(self.state.len());
        for &at in &self.state {
            out.extend(self.dev.read_at(at, 1).ok()?);
        }
        Some(out)
    }

    fn inject(&mut self, _fault: Fault) -> bool {
        false
    }

    fn shared(&mut self) -> Option<Arc<dyn SharedDevice<Fsm>>> {
        let dev = self.dev.shared()?;
        Some(Arc::new(Shared {
            dev,
            fds: self.fds.clone(),
            opted_in: Arc::clone(&self.opted_in),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_bytes_parse_in_decimal_and_hex() {
        let b = Probe::parse_bytes("0:7, 1:0x7,").unwrap();
        assert_eq!(
            b,
            vec![
                RegionByte { region: 0, offset: 7 },
                RegionByte { region: 1, offset: 7 }
            ]
        );
        assert!(Probe::parse_bytes("7")
            .unwrap_err()
            .to_string()
            .contains("not region:offset"));
        assert!(Probe::parse_bytes("0:x")
            .unwrap_err()
            .to_string()
            .contains("offset"));
        assert!(Probe::parse_bytes("99999999999:0")
            .unwrap_err()
            .to_string()
            .contains("region"));
    }

    #[test]
    fn mtty_state_bytes_include_its_scratch_registers() {
        let p = Probe::mtty();
        assert_eq!(p.state.len(), 8);
        assert!(
            p.scratch.iter().all(|b| p.state.contains(b)),
            "what is written is compared"
        );
    }

    #[test]
    fn a_device_that_is_not_there_is_unusable_with_the_route_tried() {
        let e = match VfioAdapter::open("83b8f4f2-509f-382f-3c1e-0000deadbeef", 0) {
            Err(e) => e,
            Ok(_) => panic!("a made-up mdev opened"),
        };
        let DeviceError::Unusable { what: why, .. } = e else {
            panic!("not unusable: {e:?}")
        };
        assert!(why.contains("does not exist"), "{why}");
    }
}
