//! An open VFIO device and its migration data fds, every call bounded by the
//! device's deadline.

use crate::deadline::Worker;
use crate::open::{self, OpenError};
use crate::uapi::{self, PrecopyInfo, RegionInfo};
use crate::{ioctl, Error};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The largest single data read this layer issues (a larger request is
/// shortened, which read(2) allows).
pub const MAX_READ: usize = 16 << 20;

/// The running kernel's release (`uname -r`), e.g. `6.12.117+deb12-amd64`.
pub fn kernel_release() -> String {
    rustix::system::uname().release().to_string_lossy().into_owned()
}

/// An open VFIO device.
#[derive(Debug)]
pub struct VfioDevice {
    worker: Worker,
    /// The device fd; `None` only after a reopen failed.
    fd: Option<Arc<OwnedFd>>,
    _keep: Vec<OwnedFd>,
    name: String,
    route: String,
    roots: (PathBuf, PathBuf),
}

/// A migration data fd returned by a `MIG_DEVICE_STATE` SET. Closing it is
/// dropping it and every clone (a call in progress holds a clone, as the
/// kernel holds the file during a system call).
#[derive(Debug, Clone)]
pub struct DataFd(Arc<OwnedFd>);

/// The device fd for calls from several threads at once. Each call runs on
/// the calling thread, so calls of different threads reach the driver
/// together and the driver's own locks order them. Its calls carry no
/// deadline of their own: the caller bounds them (the engine runs each
/// racing thread's calls under its deadline and gives up on a device whose
/// call does not return).
#[derive(Debug, Clone)]
pub struct SharedFd {
    fd: Arc<OwnedFd>,
    limit: Duration,
}

fn os(what: &'static str) -> impl Fn(rustix::io::Errno) -> Error {
    move |e| Error::Os {
        what,
        errno: e.raw_os_error(),
    }
}

impl SharedFd {
    /// SET `MIG_DEVICE_STATE` to the raw number `state`: the data fd the
    /// arc returned, if any.
    pub fn set_state(&self, state: u32) -> Result<Option<DataFd>, Error> {
        let fd = ioctl::set_mig_state(self.fd.as_fd(), state).map_err(os("SET MIG_DEVICE_STATE"))?;
        Ok(fd.map(|f| DataFd(Arc::new(f))))
    }

    /// GET `MIG_DEVICE_STATE`.
    pub fn get_state(&self) -> Result<u32, Error> {
        ioctl::get_mig_state(self.fd.as_fd()).map_err(os("GET MIG_DEVICE_STATE"))
    }

    /// `VFIO_DEVICE_RESET`.
    pub fn reset(&self) -> Result<(), Error> {
        ioctl::reset(self.fd.as_fd()).map_err(os("VFIO_DEVICE_RESET"))
    }

    /// GET `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`.
    pub fn data_size(&self) -> Result<u64, Error> {
        ioctl::feature_u64(self.fd.as_fd(), uapi::FEATURE_GET | uapi::FEATURE_MIG_DATA_SIZE)
            .map_err(os("GET MIG_DATA_SIZE"))
    }

    /// `VFIO_DEVICE_FEATURE` with any `flags` and `argsz` (up to 64).
    pub fn feature(&self, flags: u32, argsz: u32) -> Result<u64, Error> {
        ioctl::feature_any(self.fd.as_fd(), flags, argsz).map_err(os("VFIO_DEVICE_FEATURE"))
    }

    /// `read(2)` of at most `len` bytes from `data`, after waiting with poll
    /// for at most the device's deadline.
    pub fn read_data(&self, data: &DataFd, len: usize) -> Result<Vec<u8>, Error> {
        let what = "data fd read";
        ready(&data.0, PollFlags::IN, self.limit).map_err(os(what))?;
        let mut buf = vec![0u8; len.min(MAX_READ)];
        let n = rustix::io::read(&*data.0, &mut buf).map_err(os(what))?;
        buf.truncate(n);
        Ok(buf)
    }

    /// `write(2)` of `bytes` to `data`: how many were taken.
    pub fn write_data(&self, data: &DataFd, bytes: &[u8]) -> Result<usize, Error> {
        let what = "data fd write";
        ready(&data.0, PollFlags::OUT, self.limit).map_err(os(what))?;
        rustix::io::write(&*data.0, bytes).map_err(os(what))
    }

    /// `VFIO_MIG_GET_PRECOPY_INFO` on `data`, passing `flags`.
    pub fn precopy_info(&self, data: &DataFd, flags: u32) -> Result<PrecopyInfo, Error> {
        ioctl::precopy_info(data.0.as_fd(), flags).map_err(os("VFIO_MIG_GET_PRECOPY_INFO"))
    }
}

fn timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: d.as_secs() as _,
        tv_nsec: d.subsec_nanos() as _,
    }
}

/// Waits until `fd` is ready for `events`, at most `limit`.
fn ready(fd: &OwnedFd, events: PollFlags, limit: Duration) -> rustix::io::Result<()> {
    let mut fds = [PollFd::new(fd, events)];
    match poll(&mut fds, Some(&timespec(limit)))? {
        0 => Err(rustix::io::Errno::TIMEDOUT),
        _ => Ok(()),
    }
}

impl VfioDevice {
    /// Opens the device `name` (see [`open::DeviceName`]); every later call
    /// on it gets `limit`.
    pub fn open(name: &str, limit: Duration) -> Result<Self, OpenError> {
        Self::open_in(name, limit, Path::new("/sys"), Path::new("/dev"))
    }

    /// [`VfioDevice::open`] with other sysfs and /dev roots.
    pub fn open_in(name: &str, limit: Duration, sys: &Path, dev: &Path) -> Result<Self, OpenError> {
        let mut worker = Worker::new(limit);
        let opened = open::open(&mut worker, name, sys, dev)?;
        Ok(VfioDevice {
            worker,
            fd: Some(Arc::new(opened.device)),
            _keep: opened.keep,
            name: name.to_owned(),
            route: opened.route,
            roots: (sys.to_owned(), dev.to_owned()),
        })
    }

    /// Closes the device and opens it again, as a program that exits and
    /// starts over would: the kernel's last-close work runs in between
    /// (`close_device`, and from Linux 7.3 the PRECOPY_INFOv2 opt-in is
    /// forgotten). Data fds still held keep the old open alive, so drop
    /// them first. After a failure the device answers nothing more.
    pub fn reopen(&mut self) -> Result<(), OpenError> {
        // The device fd first, then the group or iommufd holding it: a
        // group's device opens again only once every file of the old open
        // is gone.
        self.fd = None;
        self._keep.clear();
        let (sys, dev) = self.roots.clone();
        let opened = open::open(&mut self.worker, &self.name, &sys, &dev)?;
        self.fd = Some(Arc::new(opened.device));
        self._keep = opened.keep;
        self.route = opened.route;
        Ok(())
    }

    /// The name the device was opened by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How it was opened (group and container, or cdev and iommufd).
    pub fn route(&self) -> &str {
        &self.route
    }

    /// Whether an earlier call hung (the device is not asked again).
    pub fn is_hung(&self) -> bool {
        self.worker.is_hung()
    }

    /// The device fd for calls from several threads at once (see
    /// [`SharedFd`]); none once an earlier call hung or a reopen failed.
    pub fn shared(&self) -> Option<SharedFd> {
        if self.worker.is_hung() {
            return None;
        }
        self.fd.as_ref().map(|fd| SharedFd {
            fd: Arc::clone(fd),
            limit: self.worker.limit(),
        })
    }

    fn call<T: Send + 'static>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(&OwnedFd) -> rustix::io::Result<T> + Send + 'static,
    ) -> Result<T, Error> {
        let Some(fd) = self.fd.as_ref().map(Arc::clone) else {
            return Err(Error::Os {
                what,
                errno: rustix::io::Errno::NODEV.raw_os_error(),
            });
        };
        self.worker.call(what, move || f(&fd))
    }

    /// GET `VFIO_DEVICE_FEATURE_MIGRATION`: the `VFIO_MIGRATION_*` flags.
    pub fn migration_flags(&mut self) -> Result<u64, Error> {
        self.call("GET MIGRATION", |fd| {
            ioctl::feature_u64(fd.as_fd(), uapi::FEATURE_GET | uapi::FEATURE_MIGRATION)
        })
    }

    /// PROBE of `feature` with the `access` bits (GET and/or SET).
    pub fn probe(&mut self, feature: u32, access: u32) -> Result<bool, Error> {
        match self.call("PROBE feature", move |fd| {
            ioctl::feature_u64(fd.as_fd(), uapi::FEATURE_PROBE | access | feature)
        }) {
            Ok(_) => Ok(true),
            Err(Error::Os { errno, .. })
                if [
                    rustix::io::Errno::NOTTY,
                    rustix::io::Errno::INVAL,
                    rustix::io::Errno::OPNOTSUPP,
                ]
                .iter()
                .any(|e| e.raw_os_error() == errno) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// GET `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`.
    pub fn data_size(&mut self) -> Result<u64, Error> {
        self.call("GET MIG_DATA_SIZE", |fd| {
            ioctl::feature_u64(fd.as_fd(), uapi::FEATURE_GET | uapi::FEATURE_MIG_DATA_SIZE)
        })
    }

    /// GET `MIG_DEVICE_STATE`: the raw state number.
    pub fn get_state(&mut self) -> Result<u32, Error> {
        self.call("GET MIG_DEVICE_STATE", |fd| ioctl::get_mig_state(fd.as_fd()))
    }

    /// SET `MIG_DEVICE_STATE` to the raw number `state`: the data fd the arc
    /// returned, if any.
    pub fn set_state(&mut self, state: u32) -> Result<Option<DataFd>, Error> {
        let fd = self.call("SET MIG_DEVICE_STATE", move |fd| {
            ioctl::set_mig_state(fd.as_fd(), state)
        })?;
        Ok(fd.map(|f| DataFd(Arc::new(f))))
    }

    /// `VFIO_DEVICE_RESET`.
    pub fn reset(&mut self) -> Result<(), Error> {
        self.call("VFIO_DEVICE_RESET", |fd| ioctl::reset(fd.as_fd()))
    }

    /// `VFIO_DEVICE_GET_REGION_INFO` for region `index`.
    pub fn region(&mut self, index: u32) -> Result<RegionInfo, Error> {
        self.call("VFIO_DEVICE_GET_REGION_INFO", move |fd| {
            ioctl::region_info(fd.as_fd(), index)
        })
    }

    /// Reads `len` bytes at `offset` of the device fd (a region access).
    pub fn read_at(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, Error> {
        self.call("region read", move |fd| {
            let mut buf = vec![0u8; len];
            let n = rustix::io::pread(fd, &mut buf, offset)?;
            buf.truncate(n);
            Ok(buf)
        })
    }

    /// Writes `bytes` at `offset` of the device fd (a region access).
    pub fn write_at(&mut self, offset: u64, bytes: &[u8]) -> Result<usize, Error> {
        let bytes = bytes.to_vec();
        self.call("region write", move |fd| rustix::io::pwrite(fd, &bytes, offset))
    }

    /// `read(2)` of at most `len` bytes from `data` (waiting with poll for at
    /// most the deadline).
    pub fn read_data(&mut self, data: &DataFd, len: usize) -> Result<Vec<u8>, Error> {
        let (fd, limit) = (Arc::clone(&data.0), self.worker.limit());
        self.worker.call("data fd read", move || {
            ready(&fd, PollFlags::IN, limit)?;
            let mut buf = vec![0u8; len.min(MAX_READ)];
            let n = rustix::io::read(&*fd, &mut buf)?;
            buf.truncate(n);
            Ok(buf)
        })
    }

    /// `write(2)` of `bytes` to `data`: how many were taken.
    pub fn write_data(&mut self, data: &DataFd, bytes: &[u8]) -> Result<usize, Error> {
        let (fd, limit, bytes) = (Arc::clone(&data.0), self.worker.limit(), bytes.to_vec());
        self.worker.call("data fd write", move || {
            ready(&fd, PollFlags::OUT, limit)?;
            rustix::io::write(&*fd, &bytes)
        })
    }

    /// `VFIO_MIG_GET_PRECOPY_INFO` on `data`, passing `flags`.
    pub fn precopy_info(&mut self, data: &DataFd, flags: u32) -> Result<PrecopyInfo, Error> {
        let fd = Arc::clone(&data.0);
        self.worker.call("VFIO_MIG_GET_PRECOPY_INFO", move || {
            ioctl::precopy_info(fd.as_fd(), flags)
        })
    }

    /// `VFIO_DEVICE_FEATURE` with any `flags` and `argsz` (up to 64): the
    /// first payload word.
    pub fn feature(&mut self, flags: u32, argsz: u32) -> Result<u64, Error> {
        self.call("VFIO_DEVICE_FEATURE", move |fd| {
            ioctl::feature_any(fd.as_fd(), flags, argsz)
        })
    }
}
