//! The checking engine: a device and the reference model stepped together,
//! the conformance suites, typed verdicts, and the test harness behind
//! [`conformance_main!`].
//!
//! A vendor's adapter implements [`device::Device`] (re-exported from
//! `vfio-mig-device`) and calls `conformance_main!` from a test target; the
//! runner (`vfio-mig`) and the reports use the same suites and verdicts.
#![forbid(unsafe_code)]

pub mod check;
pub mod concurrent;
pub mod differential;
pub mod handle;
mod handoff;
pub mod harness;
pub mod linearize;
pub mod regression;
pub mod suites;
pub mod target;
pub mod trace;
pub mod verdict;

pub use vfio_mig_device as device;

/// The two protocols' models, as [`conformance_main!`] names them.
#[doc(hidden)]
pub mod models {
    pub use vfio_mig_model::v1::Region;
    pub use vfio_mig_model::v2::Fsm;
}
