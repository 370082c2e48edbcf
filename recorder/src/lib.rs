//! `libvfio_mig_recorder.so`: preload it into any program (a VMM doing a real
//! migration, a test tool) and it records the VFIO migration calls the
//! program makes, one `vfio-mig-trace/2` trace (JSON Lines, appended step by
//! step) per device and process, for `vfio-mig check-trace`:
//!
//! ```sh
//! LD_PRELOAD=libvfio_mig_recorder.so VFIO_MIG_TRACE_DIR=/tmp/traces qemu-system-x86_64 ...
//! ```
//!
//! It wraps the C library's `ioctl`, `read`, `write` and `close`, decodes
//! `VFIO_DEVICE_FEATURE` (MIGRATION, MIG_DEVICE_STATE, MIG_DATA_SIZE),
//! `VFIO_DEVICE_RESET`, `VFIO_MIG_GET_PRECOPY_INFO` and reads and writes on
//! the data fds the device returned, and passes every call through
//! unchanged. (strace cannot do this: it prints only the pointer of
//! `VFIO_DEVICE_FEATURE`, so the requested state is lost.) It must never
//! harm the host: what keeps it out of the way is listed in the `shim`
//! module, where all unsafe code is; the decoding and the files are in
//! [`record`].

pub mod record;
#[allow(unsafe_code)]
mod shim;
