//! The C library entry points the recorder wraps, and the project's only
//! other unsafe code: looking up the real functions, reading at most a few
//! bytes of the caller's ioctl argument after the call, a lock of our own,
//! and keeping `errno` as the real call left it.
//!
//! What keeps the host safe:
//! - every call is passed through first, unchanged; the recorder looks at
//!   it only afterwards;
//! - the argument of an ioctl is read only after the kernel confirmed, by a
//!   probe that cannot fault, that the bytes are readable (or, where the
//!   probe does not work, only after the call succeeded); `read` and
//!   `write` buffers are never touched;
//! - `read`, `write` and `close` of an fd the recorder does not follow
//!   (stderr, a pipe in a signal handler) check one atomic bit and take no
//!   lock; a call made by a signal handler while its thread is inside the
//!   recorder is not recorded but counted, and the trace says so;
//! - the lock names the process that holds it: a child made by `fork` while
//!   another thread held it takes it over with fresh state instead of
//!   waiting forever; a child that runs in the parent's memory (`vfork`)
//!   records nothing;
//! - a panic in the recorder stops recording, never the host.

use crate::record::{FdSet, Recorder};
use libc::{c_int, c_ulong, c_void, size_t, ssize_t};
use std::cell::{Cell, UnsafeCell};
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
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
    if p.is_null() {
        // Without the C library's own function nothing can be passed on.
        std::process::abort();
    }
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

/// The recorder behind a lock that names the process holding it (0: free).
struct Shared {
    owner: AtomicU32,
    /// The process whose state `rec` is.
    home: AtomicU32,
    dir: PathBuf,
    followed: Arc<FdSet>,
    rec: UnsafeCell<Recorder>,
}

// SAFETY: `rec` is reached only through `Shared::enter`, which holds the
// lock (one thread at a time); the other fields are immutable or atomic.
unsafe impl Sync for Shared {}

/// Set when a panic left the recorder's state unknown: nothing more is
/// recorded.
static BROKEN: AtomicBool = AtomicBool::new(false);

impl Shared {
    /// Runs `f` on the recorder with the lock held by process `pid`.
    fn enter(&self, pid: u32, f: impl FnOnce(&mut Recorder)) {
        let stale = loop {
            match self
                .owner
                .compare_exchange(0, pid, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break false,
                Err(p) if p == pid => std::thread::yield_now(),
                // Held by the process this one was forked from, by a thread
                // that does not exist here: the state may be half-changed.
                // (Only in a child made by fork: a child that shares our
                // memory never gets this far, see `with_recorder`.)
                Err(_) if FORKED.load(Ordering::Relaxed) != pid => std::thread::yield_now(),
                Err(p) => {
                    if self
                        .owner
                        .compare_exchange(p, pid, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                    {
                        break true;
                    }
                }
            }
        };
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: this thread holds the lock, so it alone reaches `rec`.
            let rec = unsafe { &mut *self.rec.get() };
            if stale || rec.pid() != pid {
                // The counts of lost calls were the parent's.
                for slot in &LOST {
                    slot.store(0, Ordering::Relaxed);
                }
                LOST_ELSEWHERE.store(0, Ordering::Relaxed);
            }
            if stale {
                self.followed.clear();
                let fresh = Recorder::with_fds(Some(self.dir.clone()), pid, self.followed.clone());
                // The old state is not dropped: it may be inconsistent.
                std::mem::forget(std::mem::replace(rec, fresh));
            }
            rec.process(pid);
            self.home.store(pid, Ordering::Release);
            drain_lost(rec);
            f(rec);
        }));
        if done.is_err() {
            BROKEN.store(true, Ordering::Relaxed);
        }
        self.owner.store(0, Ordering::Release);
    }
}

/// The recorder, when `VFIO_MIG_TRACE_DIR` names a directory.
fn shared() -> Option<&'static Shared> {
    static SHARED: OnceLock<Option<Shared>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let dir = PathBuf::from(std::env::var_os("VFIO_MIG_TRACE_DIR")?);
            // The program may change its working directory later.
            let dir = std::path::absolute(&dir).unwrap_or(dir);
            let followed = Arc::new(FdSet::new());
            let rec = Recorder::with_fds(Some(dir.clone()), std::process::id(), followed.clone());
            Some(Shared {
                owner: AtomicU32::new(0),
                home: AtomicU32::new(std::process::id()),
                dir,
                followed,
                rec: UnsafeCell::new(rec),
            })
        })
        .as_ref()
}

/// Everything looked up at load time, so that no wrapper initialises
/// anything in a signal handler.
extern "C" fn init() {
    real();
    shared();
    probe_works();
    // SAFETY: registers a plain function for the child side of fork(); no
    // pointers are passed.
    unsafe { libc::pthread_atfork(None, None, Some(forked_child)) };
}

/// The pid of this process when it was made by `fork` (the C library runs
/// this in the child): such a child has memory of its own, so it may take
/// over the recorder's state. A child that shares our memory (`vfork`,
/// `clone`) is not marked, and records nothing.
static FORKED: AtomicU32 = AtomicU32::new(0);

extern "C" fn forked_child() {
    FORKED.store(std::process::id(), Ordering::Relaxed);
}

// SAFETY: a function pointer in .init_array is called once by the loader
// when the library is loaded; `init` takes no arguments and only
// initialises statics.
#[used]
#[link_section = ".init_array"]
static INIT: extern "C" fn() = init;

thread_local! {
    /// Set while this thread is inside the recorder.
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// Calls that could not be recorded, per fd: `(fd + 1) << 32 | count`.
static LOST: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
/// Lost calls that found no free slot.
static LOST_ELSEWHERE: AtomicU64 = AtomicU64::new(0);

/// Counts a call on `fd` the recorder could not take (lock-free).
fn note_lost(fd: c_int) {
    let key = u64::from(fd as u32) + 1;
    for slot in &LOST {
        let mut v = slot.load(Ordering::Relaxed);
        loop {
            let next = match v {
                0 => key << 32 | 1,
                v if v >> 32 == key => v + 1,
                _ => break,
            };
            match slot.compare_exchange(v, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => v = now,
            }
        }
    }
    LOST_ELSEWHERE.fetch_add(1, Ordering::Relaxed);
}

fn drain_lost(rec: &mut Recorder) {
    for slot in &LOST {
        let v = slot.swap(0, Ordering::Relaxed);
        if v != 0 {
            rec.lost(((v >> 32) - 1) as u32 as i32, v & 0xffff_ffff);
        }
    }
    let n = LOST_ELSEWHERE.swap(0, Ordering::Relaxed);
    if n > 0 {
        rec.lost_everywhere(n);
    }
}

/// Runs `f` on the recorder, for a call on `fd`: unless this thread is
/// already inside it (a signal handler), then the call is counted as lost.
fn with_recorder(fd: c_int, f: impl FnOnce(&mut Recorder)) {
    let Some(shared) = shared() else {
        return;
    };
    if BROKEN.load(Ordering::Relaxed) {
        return;
    }
    let pid = std::process::id();
    if pid != shared.home.load(Ordering::Acquire) && pid != FORKED.load(Ordering::Relaxed) {
        return; // a child running in our memory: the state is the parent's
    }
    if BUSY.with(|b| b.replace(true)) {
        note_lost(fd);
        return;
    }
    shared.enter(pid, f);
    BUSY.with(|b| b.set(false));
}

/// Whether `fd` may be one the recorder follows: atomic loads only.
fn followed(fd: c_int) -> bool {
    shared().is_some_and(|s| s.followed.contains(fd))
}

fn errno() -> c_int {
    // SAFETY: __errno_location returns this thread's errno, always valid.
    unsafe { *libc::__errno_location() }
}

/// Puts `errno` back as the real call left it when dropped.
struct KeepErrno(c_int);

impl KeepErrno {
    fn now() -> Self {
        KeepErrno(errno())
    }
}

impl Drop for KeepErrno {
    fn drop(&mut self) {
        // SAFETY: as in `errno`.
        unsafe { *libc::__errno_location() = self.0 };
    }
}

fn result(ret: i64, errno: c_int) -> Result<u64, i32> {
    u64::try_from(ret).map_err(|_| errno)
}

/// Whether the 8 bytes at `p` are readable, asked of the kernel:
/// `rt_sigprocmask` copies the new set in before it looks at `how`, so an
/// invalid `how` fails with EFAULT when the bytes are not readable and
/// with EINVAL when they are, and changes nothing either way.
fn readable(p: *const u8) -> bool {
    // SAFETY: a syscall with plain numbers and a pointer the kernel only
    // reads through copy_from_user, which cannot fault the process.
    let r = unsafe { libc::syscall(libc::SYS_rt_sigprocmask, -1 as c_int, p, 0usize, 8usize) };
    r == -1 && errno() == libc::EINVAL
}

/// Whether [`readable`] tells readable from unreadable memory here (it
/// might not under an emulator or a filter): checked on memory of each
/// kind once.
fn probe_works() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        let _keep = KeepErrno::now();
        let local = 0u64;
        // An address above the user half of the address space.
        let kernel = usize::MAX - 4095;
        readable((&raw const local).cast()) && !readable(kernel as *const u8)
    })
}

/// The 8 bytes at `arg + at`, when the kernel says they are readable (or,
/// when that cannot be asked, when the call succeeded and so the kernel
/// accepted them).
fn arg_bytes(arg: *const c_void, at: usize, call_ok: bool) -> Option<[u8; 8]> {
    let p = arg.cast::<u8>().wrapping_add(at);
    if arg.is_null() || !(if probe_works() { readable(p) } else { call_ok }) {
        return None;
    }
    // SAFETY: the kernel has just read these 8 bytes (the probe) or
    // accepted them in the call; read_unaligned needs no alignment.
    Some(unsafe { p.cast::<[u8; 8]>().read_unaligned() })
}

/// `ioctl(2)`, recorded when it is a VFIO migration call.
///
/// # Safety
/// As the C library's `ioctl`.
#[no_mangle]
pub unsafe extern "C" fn ioctl(fd: c_int, request: c_ulong, arg: *mut c_void) -> c_int {
    // SAFETY: passed through unchanged.
    let ret = unsafe { (real().ioctl)(fd, request, arg) };
    let keep = KeepErrno::now();
    if !matches!(request, DEVICE_FEATURE | DEVICE_RESET | PRECOPY_INFO) || shared().is_none() {
        return ret;
    }
    let res = result(ret.into(), keep.0).map(drop);
    match request {
        DEVICE_FEATURE => {
            let Some(head) = arg_bytes(arg, 0, res.is_ok()) else {
                if res.is_err() && !probe_works() {
                    // A failed call whose request cannot be read safely.
                    with_recorder(fd, |rec| rec.lost(fd, 1));
                }
                return ret;
            };
            let argsz = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
            let flags = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
            // Only bytes inside argsz belong to the argument.
            let n = (argsz.saturating_sub(8) as usize).min(8);
            let payload = match n {
                0 => None,
                _ => arg_bytes(arg, 8, res.is_ok()),
            };
            let payload = payload.as_ref().map_or(&[][..], |p| &p[..n]);
            with_recorder(fd, |rec| rec.feature(fd, flags, payload, res));
        }
        DEVICE_RESET => with_recorder(fd, |rec| rec.reset(fd, res)),
        _ => {
            if !followed(fd) {
                return ret;
            }
            // struct vfio_precopy_info: u32 argsz, u32 flags, u64 initial, u64 dirty.
            let answer = match res {
                Err(e) => Some(Err(e)),
                Ok(()) => arg_bytes(arg, 8, true)
                    .zip(arg_bytes(arg, 16, true))
                    .map(|(i, d)| Ok((u64::from_le_bytes(i), u64::from_le_bytes(d)))),
            };
            match answer {
                Some(answer) => with_recorder(fd, |rec| rec.precopy_info(fd, answer)),
                None => with_recorder(fd, |rec| rec.lost(fd, 1)),
            }
        }
    }
    drop(keep);
    ret
}

/// `read(2)`, recorded on a data fd (its length and result, never the
/// bytes).
///
/// # Safety
/// As the C library's `read`.
#[no_mangle]
pub unsafe extern "C" fn read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t {
    // SAFETY: passed through unchanged.
    let ret = unsafe { (real().read)(fd, buf, count) };
    let keep = KeepErrno::now();
    if followed(fd) {
        let res = result(ret as i64, keep.0);
        with_recorder(fd, |rec| rec.read(fd, count as u64, res));
    }
    drop(keep);
    ret
}

/// `write(2)`, recorded on a data fd (its length and result, never the
/// bytes).
///
/// # Safety
/// As the C library's `write`.
#[no_mangle]
pub unsafe extern "C" fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t {
    // SAFETY: passed through unchanged.
    let ret = unsafe { (real().write)(fd, buf, count) };
    let keep = KeepErrno::now();
    if followed(fd) {
        let res = result(ret as i64, keep.0);
        with_recorder(fd, |rec| rec.write(fd, count as u64, res));
    }
    drop(keep);
    ret
}

/// `close(2)`, recorded on a data fd; a device fd's close ends its trace.
///
/// # Safety
/// As the C library's `close`.
#[no_mangle]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    let follow = followed(fd);
    // SAFETY: passed through unchanged.
    let ret = unsafe { (real().close)(fd) };
    if follow {
        let keep = KeepErrno::now();
        let res = result(ret.into(), keep.0).map(drop);
        with_recorder(fd, |rec| rec.close(fd, res));
    }
    ret
}

/// For tests of the recorder in a real process, where no VFIO device is at
/// hand: records a successful SET of `state` on device fd `dev` that
/// returned `data_fd` (-1 for none), exactly as after the real ioctl, so
/// that `data_fd` is followed from then on. Returns 0, or -1 when nothing is
/// recorded (no `VFIO_MIG_TRACE_DIR`). A host program never calls it.
#[no_mangle]
pub extern "C" fn vfio_mig_recorder_test_set(dev: c_int, state: u32, data_fd: c_int) -> c_int {
    if shared().is_none() {
        return -1;
    }
    let _keep = KeepErrno::now();
    let mut payload = [0u8; 8];
    payload[..4].copy_from_slice(&state.to_le_bytes());
    payload[4..].copy_from_slice(&data_fd.to_le_bytes());
    let flags = uapi::FEATURE_SET | uapi::FEATURE_MIG_DEVICE_STATE;
    with_recorder(dev, |rec| rec.feature(dev, flags, &payload, Ok(())));
    0
}
