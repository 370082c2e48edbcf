//! The uAPI drift gate: reads a kernel's `include/uapi/linux/vfio.h` and
//! `drivers/vfio/vfio_main.c` and compares them with the model, so that a
//! kernel that changes the migration uAPI fails CI with a readable diff
//! naming the requirements affected.
//!
//! - [`header`] finds every definition of the header (with [`cexpr`] for
//!   their values and [`clex`] for comments); [`inventory`] compares them
//!   with the gate's table of known facts ([`known`]) and reports every
//!   definition of the migration part that the table lacks.
//! - [`tables`] reads the driver core's next-step and state-flags tables.
//! - [`cited`] keeps the kernel text the catalogue cites as hashes, so that
//!   a change of the prose names the requirements citing it.
//! - [`next_state`] reads what the kernel's own `vfio_mig_get_next_state()`
//!   did for every (flags, from, to) and compares it with the model.

pub mod cexpr;
pub mod cited;
pub mod clex;
pub mod drift;
pub mod header;
pub mod inventory;
pub mod known;
pub mod next_state;
pub mod tables;

pub use drift::{Comparison, Drift};
pub use tables::KernelTables;
