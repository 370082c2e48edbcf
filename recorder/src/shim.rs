//! The C library entry points the recorder wraps, and the project's only
//! other unsafe code: looking up the real functions, reading the caller's
//! argument memory, and keeping `errno` as the real call left it.

use crate::record::Recorder;
use libc::{c_int, c_ulong, c_void, size_t, ssize_t};
use std::cell::Cell;
use std::ffi::CStr;
use std::sync::{Mutex, OnceLock};
use vfio_mig_model::v2::uapi;

const fn io(nr: u32) -> c_ulong {
    ((uapi::VFIO_TYPE as c_ulong) << 8) | (uapi::VFIO_BASE + nr) as c_ulong
}
const DEVICE_FEATURE: c_ulong = io(uapi::DEVICE_FEATURE_NR);
const DEVICE_RESET: c_ulong = io(uapi::DEVICE_RESET_NR);
const PRECOPY_INFO: c_ulong = io(uapi::MIG_GET_PRECOPY_INFO_NR);

type IoctlFn = unsafe extern "C" fn(c_int, c_ulong, *mut c_void) -> c_int;
type ReadFn = unsafe extern "C" fn(c_int, *mut c_void, size_t) -> ssize_t;
type WriteFn = unsafe extern "C" fn(c_int, *const c_void, size_t) -> ssize_t;
type CloseFn = unsafe extern "C" fn(c_int) -> c_int;

struct Real {
    ioctl: IoctlFn,
    read: ReadFn,
    write: WriteFn,
    close: CloseFn,
}

fn lookup(name: &CStr) -> *mut c_void {
    // SAFETY: dlsym with RTLD_NEXT and a NUL-terminated name only reads the
    // loader's tables.
    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    assert!(!p.is_null(), "vfio-mig recorder: the C library has no {name:?}");
    p
}

fn real() -> &'static Real {
    static REAL: OnceLock<Real> = OnceLock::new();
    REAL.get_or_init(|| {
        // SAFETY: each symbol is the C library's function of that name, whose
        // signature the matching type spells (glibc, x86-64).
        unsafe {
            Real {
                ioctl: std::mem::transmute::<*mut c_void, IoctlFn>(lookup(c"ioctl")),
                read: std::mem::transmute::<*mut c_void, ReadFn>(lookup(c"read")),
                write: std::mem::transmute::<*mut c_void, WriteFn>(lookup(c"write")),
                close: std::mem::transmute::<*mut c_void, CloseFn>(lookup(c"close")),
            }
        }
    })
}

fn recorder() -> &'static Mutex<Recorder> {
    static R: OnceLock<Mutex<Recorder>> = OnceLock::new();
    R.get_or_init(|| {
        Mutex::new(Recorder::new(
            std::env::var_os("VFIO_MIG_TRACE_DIR").map(Into::into),
        ))
    })
}

thread_local! {
    /// Set while the recorder itself runs: its own file writes pass through.
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on the recorder unless this thread is already inside it, and
/// leaves `errno` as the real call set it.
fn with_recorder(f: impl FnOnce(&mut Recorder)) {
    if BUSY.with(|b| b.replace(true)) {
        return;
    }
    // SAFETY: __errno_location returns this thread's errno, always valid.
    let saved = unsafe { *libc::__errno_location() };
    if let Ok(mut r) = recorder().lock() {
        f(&mut r);
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved };
    BUSY.with(|b| b.set(false));
}

fn result(ret: i64) -> Result<i64, i32> {
    if ret < 0 {
        // SAFETY: read right after the failed call, before anything else.
        Err(unsafe { *libc::__errno_location() })
    } else {
        Ok(ret)
    }
}

/// The feature payload after the 8-byte header, at most 64 bytes.
///
/// # Safety
/// `arg` points at a `struct vfio_device_feature` of `argsz` bytes.
unsafe fn payload(arg: *const u8, argsz: u32) -> Vec<u8> {
    let n = (argsz as usize).saturating_sub(8).min(64);
    // SAFETY: the caller passed argsz bytes at arg to the kernel.
    unsafe { std::slice::from_raw_parts(arg.add(8), n) }.to_vec()
}

/// `ioctl(2)`, recorded when it is a VFIO migration call.
///
/// # Safety
/// As the C library's `ioctl`.
#[no_mangle]
pub unsafe extern "C" fn ioctl(fd: c_int, request: c_ulong, arg: *mut c_void) -> c_int {
    let r = real();
    if !matches!(request, DEVICE_FEATURE | DEVICE_RESET | PRECOPY_INFO)
        || arg.is_null() && request != DEVICE_RESET
    {
        // SAFETY: passed through unchanged.
        return unsafe { (r.ioctl)(fd, request, arg) };
    }
    match request {
        DEVICE_FEATURE => {
            let p = arg as *const u8;
            // SAFETY: a VFIO_DEVICE_FEATURE argument starts with u32 argsz, u32 flags.
            let (argsz, flags) = unsafe {
                (
                    p.cast::<u32>().read_unaligned(),
                    p.add(4).cast::<u32>().read_unaligned(),
                )
            };
            // SAFETY: argsz bytes belong to the argument (the kernel reads them too).
            let before = unsafe { payload(p, argsz) };
            // SAFETY: passed through unchanged.
            let ret = unsafe { (r.ioctl)(fd, request, arg) };
            let res = result(ret.into()).map(drop);
            // SAFETY: as above; the kernel has written its answer.
            let after = unsafe { payload(p, argsz) };
            with_recorder(|rec| rec.feature(fd, flags, &before, &after, res));
            ret
        }
        DEVICE_RESET => {
            // SAFETY: passed through unchanged.
            let ret = unsafe { (r.ioctl)(fd, request, arg) };
            let res = result(ret.into()).map(drop);
            with_recorder(|rec| rec.reset(fd, res));
            ret
        }
        _ => {
            // SAFETY: passed through unchanged.
            let ret = unsafe { (r.ioctl)(fd, request, arg) };
            let res = result(ret.into()).map(|_| {
                let p = arg as *const u8;
                // SAFETY: struct vfio_precopy_info: u32, u32, u64 initial, u64 dirty.
                unsafe {
                    (
                        p.add(8).cast::<u64>().read_unaligned(),
                        p.add(16).cast::<u64>().read_unaligned(),
                    )
                }
            });
            with_recorder(|rec| rec.precopy_info(fd, res));
            ret
        }
    }
}

fn tracked(fd: c_int) -> bool {
    !BUSY.with(Cell::get) && recorder().lock().is_ok_and(|r| r.is_data_fd(fd))
}

/// `read(2)`, recorded on a data fd.
///
/// # Safety
/// As the C library's `read`.
#[no_mangle]
pub unsafe extern "C" fn read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t {
    // SAFETY: passed through unchanged.
    let ret = unsafe { (real().read)(fd, buf, count) };
    if tracked(fd) {
        let res = result(ret as i64);
        // SAFETY: the kernel wrote `ret` bytes at buf.
        let bytes = res.map(|n| unsafe { std::slice::from_raw_parts(buf as *const u8, n as usize) });
        with_recorder(|rec| rec.read(fd, count, bytes));
    }
    ret
}

/// `write(2)`, recorded on a data fd.
///
/// # Safety
/// As the C library's `write`.
#[no_mangle]
pub unsafe extern "C" fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t {
    // SAFETY: passed through unchanged.
    let ret = unsafe { (real().write)(fd, buf, count) };
    if tracked(fd) {
        let res = result(ret as i64).map(|n| n as usize);
        // SAFETY: the caller offered `count` bytes at buf.
        let bytes = unsafe { std::slice::from_raw_parts(buf as *const u8, count) };
        with_recorder(|rec| rec.write(fd, bytes, res));
    }
    ret
}

/// `close(2)`, recorded on a data fd.
///
/// # Safety
/// As the C library's `close`.
#[no_mangle]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    let follow = tracked(fd);
    // SAFETY: passed through unchanged.
    let ret = unsafe { (real().close)(fd) };
    if follow {
        let res = result(ret.into()).map(drop);
        with_recorder(|rec| rec.close(fd, res));
    }
    ret
}
