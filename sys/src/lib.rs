//! A thin, safe layer over the VFIO interfaces a migration test needs: open a
//! device (IOMMU group and type1 container, or cdev and iommufd), drive the
//! v2 migration feature, move bytes through data fds, read device regions.
//!
//! Every call into the kernel runs on a [`deadline::Worker`], so a driver that
//! never answers turns into [`Error::TimedOut`] instead of a hung run; the
//! one exception is [`SharedFd`], whose calls run on the caller's thread so
//! that several threads reach the driver at once, and whose caller bounds
//! them. All `unsafe` code of the project is in the [`ioctl`] module.
//!
//! Numbers and layouts come from Linux 6.12's `include/uapi/linux/vfio.h`
//! ([`uapi`]).

pub mod deadline;
pub mod device;
#[allow(unsafe_code)]
pub mod ioctl;
pub mod open;
pub mod uapi;

pub use device::{kernel_release, DataFd, SharedFd, VfioDevice};
pub use open::{DeviceName, OpenError};

use std::time::Duration;

/// A device call that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The kernel answered with an errno.
    Os {
        /// The call.
        what: &'static str,
        /// The positive errno value.
        errno: i32,
    },
    /// The call did not return within the deadline.
    TimedOut {
        /// The call.
        what: &'static str,
        /// The deadline it missed.
        after: Duration,
    },
    /// An earlier call hung; the device is not asked again.
    Hung {
        /// The call refused.
        what: &'static str,
        /// The call that hung.
        first: &'static str,
    },
}

impl Error {
    /// The errno a caller should report: the kernel's, or `ETIMEDOUT` for a
    /// call that did not answer.
    pub fn errno(&self) -> i32 {
        match self {
            Error::Os { errno, .. } => *errno,
            Error::TimedOut { .. } | Error::Hung { .. } => rustix::io::Errno::TIMEDOUT.raw_os_error(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Os { what, errno } => {
                write!(f, "{what}: {}", std::io::Error::from_raw_os_error(*errno))
            }
            Error::TimedOut { what, after } => write!(f, "{what}: no answer within {after:?}"),
            Error::Hung { what, first } => {
                write!(
                    f,
                    "{what}: not attempted, the device stopped answering during {first}"
                )
            }
        }
    }
}

impl std::error::Error for Error {}
