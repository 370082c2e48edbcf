//! The vfio-user adapter: a device server on a UNIX socket, driven with the
//! migration commands of the vfio-user 0.9.2 specification (protocol 0.1).
//!
//! vfio-user carries the data stream in messages instead of a descriptor, so
//! the adapter maps it onto the model's operations: a SET whose path opens a
//! data session (by the model's own path table) yields a new session number
//! where the kernel would return a data fd; `read` and `write` on the current
//! session become `MIG_DATA_READ` and `MIG_DATA_WRITE` of at most
//! `max_data_xfer_size` bytes; an operation on an earlier or closed session
//! is refused by the adapter with EBADF, since the server has no way to see
//! it. In PRE_COPY an empty `MIG_DATA_READ` reply (no more data for now)
//! becomes ENOMSG, the kernel's word for the same thing. There is no
//! PRECOPY_INFO and no MIG_DATA_SIZE: those calls fail with ENOTTY, and the
//! report shows their requirements as not applicable.
//!
//! Each device instance has one connection for the whole run
//! ([`VfioUserFactory`]); servers can be started per instance
//! ([`Servers::Command`]). Every request waits for its whole reply at most
//! the deadline (`VFIO_MIG_TIMEOUT_MS`, 10 s by default), however the bytes
//! trickle in. A reply that is late, malformed, out of order or missing
//! breaks the connection: the operation reports EIO (ETIMEDOUT when late),
//! the next restore stops the run, and the report says what was sent and
//! how the server stopped answering. After the suites the wire checks and
//! the malformed-message suite run on the same connection.

mod adapter;
mod conn;
mod factory;
mod malformed;
mod server;
mod wire;

pub use adapter::{lock, Link, Shared, VfioUserAdapter};
pub use conn::{Answer, Conn, Fail, CLIENT_MAX_XFER};
pub use factory::{Servers, VfioUserFactory};
pub use malformed::malformed_suite;
pub use server::{remove_stale_socket, ServerProcess};
pub use wire::{observed, wire_checks, Peer};
