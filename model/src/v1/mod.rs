//! The v1 migration protocol: the migration region of Linux 5.8 to 5.17
//! (`struct vfio_device_migration_info` and its data section).

mod ops;
mod region;
pub mod state;

pub use ops::{ChunkTag, Expect, Op, Outcome};
pub use region::{ArcClass, RegState, Region, ResumeCursor, SaveCursor};
pub use state::{Access, Field, V1State};
