//! Linux errno values as the model speaks them.

use std::fmt;

/// A positive Linux errno value (x86-64 / asm-generic numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Errno(pub i32);

impl Errno {
    /// Interrupted system call.
    pub const EINTR: Errno = Errno(4);
    /// I/O error.
    pub const EIO: Errno = Errno(5);
    /// Bad file descriptor.
    pub const EBADF: Errno = Errno(9);
    /// Try again.
    pub const EAGAIN: Errno = Errno(11);
    /// Out of memory.
    pub const ENOMEM: Errno = Errno(12);
    /// Bad address.
    pub const EFAULT: Errno = Errno(14);
    /// Device or resource busy.
    pub const EBUSY: Errno = Errno(16);
    /// No such device.
    pub const ENODEV: Errno = Errno(19);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(22);
    /// Inappropriate ioctl for device.
    pub const ENOTTY: Errno = Errno(25);
    /// No message of desired type (pre-copy temporary end of stream).
    pub const ENOMSG: Errno = Errno(42);
    /// Operation timed out (used by adapters for a device that did not answer).
    pub const ETIMEDOUT: Errno = Errno(110);

    /// The symbolic name, when it is one the model knows.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Errno::EINTR => "EINTR",
            Errno::EIO => "EIO",
            Errno::EBADF => "EBADF",
            Errno::EAGAIN => "EAGAIN",
            Errno::ENOMEM => "ENOMEM",
            Errno::EFAULT => "EFAULT",
            Errno::EBUSY => "EBUSY",
            Errno::ENODEV => "ENODEV",
            Errno::EINVAL => "EINVAL",
            Errno::ENOTTY => "ENOTTY",
            Errno::ENOMSG => "ENOMSG",
            Errno::ETIMEDOUT => "ETIMEDOUT",
            _ => return None,
        })
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "errno {}", self.0),
        }
    }
}

/// Which errors a pattern accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrnoSet {
    /// Any errno.
    Any,
    /// Exactly this errno.
    Exactly(Errno),
    /// Any errno but this one.
    AnyBut(Errno),
}

impl ErrnoSet {
    /// Whether `e` is in the set.
    pub fn contains(self, e: Errno) -> bool {
        match self {
            ErrnoSet::Any => true,
            ErrnoSet::Exactly(x) => e == x,
            ErrnoSet::AnyBut(x) => e != x,
        }
    }
}

impl ErrnoSet {
    /// An errno in the set, varied by `seed`.
    pub fn example(self, seed: u64) -> Errno {
        const SOME: [Errno; 4] = [Errno::EINVAL, Errno::EIO, Errno::ENODEV, Errno::EBADF];
        match self {
            ErrnoSet::Exactly(e) => e,
            ErrnoSet::Any => SOME[(seed % 4) as usize],
            ErrnoSet::AnyBut(x) => {
                let e = SOME[(seed % 4) as usize];
                if e == x {
                    SOME[((seed % 4 + 1) % 4) as usize]
                } else {
                    e
                }
            }
        }
    }
}

impl fmt::Display for ErrnoSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrnoSet::Any => f.write_str("any errno"),
            ErrnoSet::Exactly(e) => write!(f, "{e}"),
            ErrnoSet::AnyBut(e) => write!(f, "any errno but {e}"),
        }
    }
}
