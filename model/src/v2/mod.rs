//! The v2 migration protocol: the `VFIO_DEVICE_FEATURE` state machine of
//! Linux 5.18 and later, with its data fds.

pub mod arcs;
mod feature;
mod fsm;
mod ops;
mod state;

pub use arcs::{DirectArc, Path, PathTable, DIRECT_ARCS};
pub use feature::{Access, Feature, FeatureReq, StateAccess};
pub use fsm::{DevState, Fsm, Session, SessionIo};
pub use ops::{DataTag, Expect, FdRef, FlagsOut, Op, Outcome};
pub use state::{uapi, FlagsError, MigState, MigrationFlags};
