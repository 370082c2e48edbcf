//! Conformance suites and adapters for VFIO device migration.
//!
//! Adapters implement [`device::Device`]; the suites ([`suites`]) run the
//! same operations on a device and on the reference model and report every
//! outcome the model does not allow, with the requirement it breaks; the
//! [`report`] module turns their verdicts into per-requirement results.
#![forbid(unsafe_code)]

pub use vfio_mig_model::ProtocolKind;

pub mod adapters;
pub mod check;
pub mod device;
pub mod differential;
pub mod harness;
#[cfg(feature = "adapter-mock")]
pub mod mock;
pub mod regression;
pub mod report;
pub mod reproducer_c;
pub mod runner;
pub mod sometimes;
pub mod suites;
pub mod target;
pub mod trace_json;
pub mod uapi_drift;
pub mod verdict;
#[cfg(feature = "adapter-mock")]
pub mod vfio_user_server;
