//! Every VFIO ioctl the adapter issues, and the only `unsafe` code of the
//! project. Each function pairs one ioctl number with the one argument type
//! the kernel expects for it, so callers cannot mismatch them.

use crate::uapi::{
    self, nr, BindIommufd, FeatureAny, FeatureMigState, FeatureU64, GroupStatus, PrecopyInfo, RegionInfo,
};
use rustix::ioctl::{opcode, Ioctl, IoctlOutput, Opcode};
use std::ffi::{c_void, CStr};
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};

/// One VFIO ioctl with its argument (an integer or a pointer).
struct Call {
    opcode: Opcode,
    arg: *mut c_void,
}

impl Call {
    fn new(nr: u32, arg: *mut c_void) -> Self {
        Call {
            opcode: opcode::none(uapi::VFIO_TYPE, (uapi::VFIO_BASE + nr) as u8),
            arg,
        }
    }
}

// SAFETY: `Call` passes its argument through unchanged and returns the
// ioctl's integer result; every constructor below pairs the opcode with the
// argument the kernel expects for it, and the kernel may write through the
// pointer (IS_MUTATING).
unsafe impl Ioctl for Call {
    type Output = IoctlOutput;
    const IS_MUTATING: bool = true;

    fn opcode(&self) -> Opcode {
        self.opcode
    }

    fn as_ptr(&mut self) -> *mut c_void {
        self.arg
    }

    unsafe fn output_from_ptr(out: IoctlOutput, _: *mut c_void) -> rustix::io::Result<IoctlOutput> {
        Ok(out)
    }
}

/// Issues an ioctl whose argument is `value` itself (no memory is shared).
fn with_integer(fd: BorrowedFd<'_>, nr: u32, value: usize) -> rustix::io::Result<i32> {
    // SAFETY: GET_API_VERSION, CHECK_EXTENSION, SET_IOMMU and DEVICE_RESET
    // (the only callers) take an integer or nothing; the kernel does not
    // dereference it.
    unsafe { rustix::ioctl::ioctl(fd, Call::new(nr, value as *mut c_void)) }
}

/// Issues an ioctl whose argument points at `arg`, a structure the kernel
/// reads and may write back.
fn with_struct<T>(fd: BorrowedFd<'_>, nr: u32, arg: &mut T) -> rustix::io::Result<i32> {
    // SAFETY: `arg` is a live, exclusively borrowed `#[repr(C)]` value whose
    // layout matches what ioctl `nr` expects (each caller below names the
    // pairing, and `uapi` asserts the sizes); it outlives the call, and the
    // kernel writes at most `argsz` bytes, the size of `T`.
    unsafe { rustix::ioctl::ioctl(fd, Call::new(nr, (arg as *mut T).cast())) }
}

/// Takes ownership of a descriptor the kernel just installed for us.
fn adopt(raw: i32) -> OwnedFd {
    // SAFETY: `raw` was returned by a successful VFIO ioctl that installs a
    // new descriptor in our table (GROUP_GET_DEVICE_FD, or the `data_fd` of a
    // MIG_DEVICE_STATE SET); nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(raw) }
}

/// `VFIO_GET_API_VERSION` on a container.
pub fn api_version(container: BorrowedFd<'_>) -> rustix::io::Result<i32> {
    with_integer(container, nr::GET_API_VERSION, 0)
}

/// `VFIO_CHECK_EXTENSION(ext)` on a container: whether the extension exists.
pub fn check_extension(container: BorrowedFd<'_>, ext: u32) -> rustix::io::Result<bool> {
    with_integer(container, nr::CHECK_EXTENSION, ext as usize).map(|n| n > 0)
}

/// `VFIO_SET_IOMMU(kind)` on a container.
pub fn set_iommu(container: BorrowedFd<'_>, kind: u32) -> rustix::io::Result<()> {
    with_integer(container, nr::SET_IOMMU, kind as usize).map(drop)
}

/// `VFIO_GROUP_GET_STATUS` on a group.
pub fn group_status(group: BorrowedFd<'_>) -> rustix::io::Result<GroupStatus> {
    let mut s = GroupStatus {
        argsz: uapi::argsz::<GroupStatus>(),
        flags: 0,
    };
    with_struct(group, nr::GROUP_GET_STATUS, &mut s)?;
    Ok(s)
}

/// `VFIO_GROUP_SET_CONTAINER`: attaches the group to the container.
pub fn group_set_container(group: BorrowedFd<'_>, container: BorrowedFd<'_>) -> rustix::io::Result<()> {
    use std::os::fd::AsRawFd;
    let mut fd: i32 = container.as_raw_fd();
    with_struct(group, nr::GROUP_SET_CONTAINER, &mut fd).map(drop)
}

/// `VFIO_GROUP_GET_DEVICE_FD(name)`: opens the group's device `name`.
pub fn group_device_fd(group: BorrowedFd<'_>, name: &CStr) -> rustix::io::Result<OwnedFd> {
    // SAFETY: the argument is a NUL-terminated string the kernel only reads,
    // borrowed for the duration of the call; a non-negative result is a new
    // descriptor that `adopt` takes over.
    let raw = unsafe {
        rustix::ioctl::ioctl(
            group,
            Call::new(nr::GROUP_GET_DEVICE_FD, name.as_ptr().cast_mut().cast()),
        )
    }?;
    Ok(adopt(raw))
}

/// `VFIO_DEVICE_BIND_IOMMUFD` on a device cdev.
pub fn bind_iommufd(device: BorrowedFd<'_>, iommufd: BorrowedFd<'_>) -> rustix::io::Result<u32> {
    use std::os::fd::AsRawFd;
    let mut b = BindIommufd {
        argsz: uapi::argsz::<BindIommufd>(),
        flags: 0,
        iommufd: iommufd.as_raw_fd(),
        out_devid: 0,
    };
    with_struct(device, nr::DEVICE_BIND_IOMMUFD, &mut b)?;
    Ok(b.out_devid)
}

/// `VFIO_DEVICE_GET_REGION_INFO` for region `index`.
pub fn region_info(device: BorrowedFd<'_>, index: u32) -> rustix::io::Result<RegionInfo> {
    let mut r = RegionInfo {
        argsz: uapi::argsz::<RegionInfo>(),
        index,
        ..RegionInfo::default()
    };
    with_struct(device, nr::DEVICE_GET_REGION_INFO, &mut r)?;
    Ok(r)
}

/// `VFIO_DEVICE_RESET`.
pub fn reset(device: BorrowedFd<'_>) -> rustix::io::Result<()> {
    with_integer(device, nr::DEVICE_RESET, 0).map(drop)
}

/// `VFIO_DEVICE_FEATURE` with a one-`u64` payload (MIGRATION, MIG_DATA_SIZE):
/// `flags` names the feature and the access; the payload comes back.
pub fn feature_u64(device: BorrowedFd<'_>, flags: u32) -> rustix::io::Result<u64> {
    let mut f = FeatureU64 {
        argsz: uapi::argsz::<FeatureU64>(),
        flags,
        value: 0,
    };
    with_struct(device, nr::DEVICE_FEATURE, &mut f)?;
    Ok(f.value)
}

/// `VFIO_DEVICE_FEATURE` GET of `MIG_DEVICE_STATE`: the raw state number.
pub fn get_mig_state(device: BorrowedFd<'_>) -> rustix::io::Result<u32> {
    let mut f = FeatureMigState {
        argsz: uapi::argsz::<FeatureMigState>(),
        flags: uapi::FEATURE_GET | uapi::FEATURE_MIG_DEVICE_STATE,
        device_state: 0,
        data_fd: -1,
    };
    with_struct(device, nr::DEVICE_FEATURE, &mut f)?;
    Ok(f.device_state)
}

/// `VFIO_DEVICE_FEATURE` SET of `MIG_DEVICE_STATE` to `state`: the data fd
/// the arc returned, if any.
pub fn set_mig_state(device: BorrowedFd<'_>, state: u32) -> rustix::io::Result<Option<OwnedFd>> {
    let mut f = FeatureMigState {
        argsz: uapi::argsz::<FeatureMigState>(),
        flags: uapi::FEATURE_SET | uapi::FEATURE_MIG_DEVICE_STATE,
        device_state: state,
        data_fd: -1,
    };
    with_struct(device, nr::DEVICE_FEATURE, &mut f)?;
    Ok((f.data_fd >= 0).then(|| adopt(f.data_fd)))
}

/// `VFIO_DEVICE_FEATURE` with the caller's `flags` and `argsz` (at most
/// the 64 bytes of [`FeatureAny`]; more is refused with EINVAL here, since
/// the kernel could write that far): the first payload word comes back.
pub fn feature_any(device: BorrowedFd<'_>, flags: u32, argsz: u32) -> rustix::io::Result<u64> {
    if argsz > uapi::argsz::<FeatureAny>() {
        return Err(rustix::io::Errno::INVAL);
    }
    let mut f = FeatureAny {
        argsz,
        flags,
        ..FeatureAny::default()
    };
    with_struct(device, nr::DEVICE_FEATURE, &mut f)?;
    Ok(f.payload[0])
}

/// `VFIO_MIG_GET_PRECOPY_INFO` on a data fd, passing `flags`.
pub fn precopy_info(data: BorrowedFd<'_>, flags: u32) -> rustix::io::Result<PrecopyInfo> {
    let mut p = PrecopyInfo {
        argsz: uapi::argsz::<PrecopyInfo>(),
        flags,
        ..PrecopyInfo::default()
    };
    with_struct(data, nr::MIG_GET_PRECOPY_INFO, &mut p)?;
    Ok(p)
}
