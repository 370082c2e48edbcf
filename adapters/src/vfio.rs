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

use std::path::Path;
use vfio_mig_device::v2::Call;
use vfio_mig_device::{Description, Device, DeviceError, Fault, Io};
use vfio_mig_model::v2::{Fsm, MigState, MigrationFlags, Outcome};
use vfio_mig_model::{Errno, Uapi};
use vfio_mig_sys::{uapi, DataFd, VfioDevice};

/// A byte of a device region: region index and offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionByte {
    /// The region (BAR) index.
    pub region: u32,
    /// The offset inside the region.
    pub offset: u64,
}

/// Which region bytes the adapter reads as the device's state and which it
/// may freely write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probe {
    /// Read as the fingerprint (side-effect-free registers).
    pub state: Vec<RegionByte>,
    /// Written after each restore with an instance-specific value.
    pub scratch: Vec<RegionByte>,
}

impl Probe {
    /// mtty's UART registers without read side effects (IER, LCR, MCR, SCR
    /// of each port, one port per BAR) and its scratch registers (SCR).
    /// Offsets from `include/uapi/linux/serial_reg.h`.
    pub fn mtty() -> Self {
        let byte = |region, offset| RegionByte { region, offset };
        Probe {
            state: [0, 1]
                .into_iter()
                .flat_map(|r| [1, 3, 4, 7].map(|o| byte(r, o)))
                .collect(),
            scratch: vec![byte(0, 7), byte(1, 7)],
        }
    }

    /// Parses `"0:7,1:7"` (region:offset, offsets in decimal or 0x hex).
    pub fn parse_bytes(text: &str) -> Result<Vec<RegionByte>, ProbeError> {
        let num = |s: &str| match s.trim().strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16),
            None => s.trim().parse(),
        };
        text.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|item| {
                let bad = |problem: String| ProbeError::Byte {
                    item: item.trim().to_owned(),
                    problem,
                };
                let (r, o) = item
                    .trim()
                    .split_once(':')
                    .ok_or_else(|| bad("not region:offset".into()))?;
                let region = num(r).map_err(|e| bad(format!("region: {e}")))?;
                Ok(RegionByte {
                    region: u32::try_from(region).map_err(|e| bad(format!("region: {e}")))?,
                    offset: num(o).map_err(|e| bad(format!("offset: {e}")))?,
                })
            })
            .collect()
    }

    /// The probe for the device named `name`: `VFIO_MIG_STATE_BYTES` and
    /// `VFIO_MIG_SCRATCH_BYTES` when set, mtty's when the device is an mtty
    /// mdev, none otherwise.
    pub fn for_device(name: &str) -> Result<Self, ProbeError> {
        let var = |v: &str| std::env::var(v).ok().filter(|s| !s.trim().is_empty());
        let (state, scratch) = (var("VFIO_MIG_STATE_BYTES"), var("VFIO_MIG_SCRATCH_BYTES"));
        let parse = |var: &'static str, text: Option<String>| {
            Probe::parse_bytes(text.as_deref().unwrap_or("")).map_err(|e| ProbeError::Var {
                var,
                source: Box::new(e),
            })
        };
        if state.is_some() || scratch.is_some() {
            return Ok(Probe {
                state: parse("VFIO_MIG_STATE_BYTES", state)?,
                scratch: parse("VFIO_MIG_SCRATCH_BYTES", scratch)?,
            });
        }
        let mdev_type = Path::new("/sys/bus/mdev/devices").join(name).join("mdev_type");
        let is_mtty = std::fs::read_link(&mdev_type)
            .ok()
            .and_then(|t| t.file_name()?.to_str().map(|n| n.starts_with("mtty-")))
            .unwrap_or(false);
        Ok(if is_mtty { Probe::mtty() } else { Probe::default() })
    }
}

/// Why the bytes that show a device's state could not be named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// One `region:offset` item is wrong.
    #[error("`{item}`: {problem}")]
    Byte {
        /// The item.
        item: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An environment variable holds a wrong list.
    #[error("{var}: {source}")]
    Var {
        /// The variable.
        var: &'static str,
        /// What is wrong in it.
        #[source]
        source: Box<ProbeError>,
    },
}

/// One opened VFIO device.
pub struct VfioAdapter {
    dev: VfioDevice,
    instance: usize,
    flags: MigrationFlags,
    data_size: bool,
    fds: Vec<Option<DataFd>>,
    /// Probe bytes resolved to device-fd offsets (regions that exist).
    state: Vec<u64>,
    scratch: Vec<u64>,
    generation: u8,
    /// The uAPI revision of the running kernel.
    uapi: Uapi,
    /// A SET of the PRECOPY_INFOv2 opt-in succeeded on this open: a
    /// restore must close the device and open it again.
    opted_in: bool,
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
            fds: Vec::new(),
            state,
            scratch,
            generation: 0,
            uapi: running_uapi(),
            opted_in: false,
        })
    }

    fn set(&mut self, raw: u32) -> Outcome {
        match self.dev.set_state(raw) {
            Ok(Some(fd)) => {
                self.fds.push(Some(fd));
                Outcome::SetOk { fd: true }
            }
            Ok(None) => Outcome::SetOk { fd: false },
            Err(e) => err(e),
        }
    }
}

impl Device<Fsm> for VfioAdapter {
    fn describe(&self) -> Description {
        Description::v2(format!("{} ({})", self.dev.name(), self.dev.route()), self.flags)
            .with_data_size(self.data_size)
            .with_max_transfer(vfio_mig_sys::device::MAX_READ as u32)
            .with_uapi(self.uapi)
    }

    fn exec(&mut self, call: &Call, io: &mut Io) -> Outcome {
        io.read.clear();
        match *call {
            Call::SetState(n) => self.set(n),
            Call::GetState => self.dev.get_state().map_or_else(err, Outcome::State),
            Call::Read { fd, len } => {
                let Some(data) = self.fds.get(fd.0 as usize).and_then(Option::as_ref) else {
                    return Outcome::Err(Errno::EBADF);
                };
                match self.dev.read_data(data, len as usize) {
                    Ok(bytes) => {
                        let n = bytes.len() as u32;
                        io.read = bytes;
                        Outcome::Bytes(n)
                    }
                    Err(e) => err(e),
                }
            }
            Call::Write { fd, len } => {
                let Some(data) = self.fds.get(fd.0 as usize).and_then(Option::as_ref) else {
                    return Outcome::Err(Errno::EBADF);
                };
                let n = (len as usize).min(io.write.len());
                let r = self.dev.write_data(data, &io.write[..n]);
                r.map_or_else(err, |n| Outcome::Bytes(n as u32))
            }
            Call::PrecopyInfo { fd, flags } => {
                let Some(data) = self.fds.get(fd.0 as usize).and_then(Option::as_ref) else {
                    return Outcome::Err(Errno::EBADF);
                };
                self.dev
                    .precopy_info(data, flags)
                    .map_or_else(err, |p| Outcome::Precopy {
                        initial_bytes: p.initial_bytes,
                        dirty_bytes: p.dirty_bytes,
                        flags: p.flags,
                    })
            }
            Call::Feature(req) => match self.dev.feature(req.flags(), req.argsz()) {
                Err(e) => err(e),
                Ok(value) => {
                    let a = req.access();
                    let number = req.flags() & uapi::FEATURE_MASK;
                    if number == uapi::FEATURE_MIG_PRECOPY_INFO_V2 && a.set && !a.probe {
                        self.opted_in = true;
                    }
                    if number == uapi::FEATURE_MIGRATION && a.get && !a.probe {
                        Outcome::Flags(value)
                    } else {
                        Outcome::Done
                    }
                }
            },
            Call::DataSize => self.dev.data_size().map_or_else(err, Outcome::Size),
            Call::Close { fd } => match self.fds.get_mut(fd.0 as usize).and_then(Option::take) {
                Some(data) => {
                    drop(data);
                    Outcome::Done
                }
                None => Outcome::Err(Errno::EBADF),
            },
            Call::Reset => self.dev.reset().map_or_else(err, |()| Outcome::Done),
            _ => Outcome::Err(Errno::ENOTTY),
        }
    }

    fn restore(&mut self) -> Result<(), DeviceError> {
        let name = self.dev.name().to_owned();
        if self.dev.is_hung() {
            return Err(unusable(&name, "an earlier call never returned; the run stops"));
        }
        self.fds.clear();
        if std::mem::take(&mut self.opted_in) {
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
