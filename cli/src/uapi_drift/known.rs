//! What the gate knows about `vfio.h`: one line per definition. Every
//! definition of the migration part of the header must be here, or the gate
//! fails naming it as unknown; every entry here is compared with the
//! header, wherever in the header it is.
//!
//! Adding a fact is one line in [`table`]:
//!
//! ```text
//! model("VFIO_DEVICE_FEATURE_MIG_DATA_SIZE", num(uapi::FEATURE_MIG_DATA_SIZE), &[V2_SIZE_001]),
//! ```
//!
//! The expected value comes from the model wherever the model has it (a
//! constant of `vfio_mig_model`), so that the header is compared with what
//! the model judges by. Facts from Linux 6.12's `include/uapi/linux/vfio.h`
//! unless marked `.since("7.3")` (Linux 7.3's).

use vfio_mig_model::reqs::*;
use vfio_mig_model::v1::{self, Field as V1Field, V1State};
use vfio_mig_model::v2::{uapi, MigState, MigrationFlags};
use vfio_mig_model::Req;

/// The value a definition must have.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// An object-like define or an enumerator with this value.
    Num(u64),
    /// A define `_IO(VFIO_TYPE, VFIO_BASE + n)`.
    Io(u32),
    /// A struct field of this C type (array bounds included) at this byte
    /// offset.
    Field(&'static str, u64),
    /// A struct, union or enum: it exists (its members are facts of their
    /// own, so a member added or moved shows there).
    Present,
    /// A function-like define of one argument, computing this function on
    /// every argument the gate tries (0 to 15, and each with high bits set).
    Macro(fn(u64) -> u64),
}

/// Whose fact it is, which says what a difference means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The model's number or rule: the requirements listed rest on it.
    Model,
    /// A uAPI fact the model's rules assume but hold no constant for
    /// (pinned here); the requirements listed rest on it.
    Pinned,
    /// A number or layout the VFIO adapter uses (`vfio-mig-sys`); no
    /// requirement rests on it, but a change would break the adapter.
    Adapter,
    /// In the migration part of the header but outside what the suite
    /// models: pinned so that a change is still seen, with the reason.
    NotModelled(&'static str),
}

/// One known definition.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// The definition's name as [`super::header::Def`] names it.
    pub name: &'static str,
    /// Its expected value.
    pub expect: Expect,
    /// Whose fact it is.
    pub role: Role,
    /// The requirements resting on it.
    pub reqs: &'static [Req],
    /// The first kernel version the gate reads that has it (`None`: every
    /// one, from 6.12 on). A fact is required only in headers of kernels at
    /// or after this version.
    pub since: Option<&'static str>,
}

impl Known {
    /// Marks a fact as new in kernel `version`.
    pub const fn since(self, version: &'static str) -> Known {
        Known {
            since: Some(version),
            ..self
        }
    }
}

/// A fact compared with the model.
pub const fn model(name: &'static str, expect: Expect, reqs: &'static [Req]) -> Known {
    Known {
        name,
        expect,
        role: Role::Model,
        reqs,
        since: None,
    }
}

/// A uAPI fact the model's rules assume, pinned here.
pub const fn pinned(name: &'static str, expect: Expect, reqs: &'static [Req]) -> Known {
    Known {
        name,
        expect,
        role: Role::Pinned,
        reqs,
        since: None,
    }
}

/// A number or layout of the VFIO adapter.
pub const fn adapter(name: &'static str, expect: Expect) -> Known {
    Known {
        name,
        expect,
        role: Role::Adapter,
        reqs: &[],
        since: None,
    }
}

/// A definition the suite does not model, with the reason.
pub const fn outside(name: &'static str, expect: Expect, why: &'static str) -> Known {
    Known {
        name,
        expect,
        role: Role::NotModelled(why),
        reqs: &[],
        since: None,
    }
}

/// [`Expect::Num`] of a `u32` or `u64` constant.
pub fn num(v: impl Into<u64>) -> Expect {
    Expect::Num(v.into())
}

/// [`Expect::Field`].
pub const fn field(ty: &'static str, offset: u64) -> Expect {
    Expect::Field(ty, offset)
}

/// [`Expect::Io`].
pub const fn io(nr: u32) -> Expect {
    Expect::Io(nr)
}

/// [`Expect::Present`].
pub const PRESENT: Expect = Expect::Present;

fn state(s: MigState) -> Expect {
    num(s.number())
}

/// A field of the v1 migration region's header, as the model lays it out.
fn v1_field(f: V1Field) -> Expect {
    let ty = if f.width() == 8 { "__aligned_u64" } else { "__u32" };
    Expect::Field(ty, f.offset())
}

fn v1_valid(s: u64) -> u64 {
    u64::from(v1::state::valid(s as u32))
}

fn v1_is_error(s: u64) -> u64 {
    u64::from(v1::state::is_error(s as u32))
}

/// `SET_ERROR`: the model's error value in the masked bits, the rest kept.
fn v1_set_error(s: u64) -> u64 {
    (s & !u64::from(v1::state::MASK)) | u64::from(V1State::Error.bits())
}

const DMA_LOG: &str =
    "device DMA dirty-page logging, which a VMM may use beside migration; no requirement covers it";
const LOW_POWER: &str = "runtime power management of the device";
const BUS_MASTER: &str = "PCI bus-master control of the device";
const IOMMUFD_PT: &str = "attaching a device to an IOMMU page table; the adapter binds a cdev without attaching (migration needs no DMA)";
const DMA_BUF: &str = "exporting device memory as a dma-buf";
const TYPE1_DIRTY: &str =
    "the type1 IOMMU's dirty-page capability of the v1 era; the suite does not use the type1 dirty log";

/// Every definition the gate knows.
#[rustfmt::skip]
pub fn table() -> Vec<Known> {
    use MigState::*;
    vec![
        // --- ioctl numbering --------------------------------------------------
        model("VFIO_TYPE", num(uapi::VFIO_TYPE), &[V2_FEAT_001]),
        model("VFIO_BASE", num(uapi::VFIO_BASE), &[V2_FEAT_001]),
        model("VFIO_DEVICE_RESET", io(uapi::DEVICE_RESET_NR), &[V2_ERR_002]),
        // --- the numbers the VFIO adapter opens devices with ---------------------
        adapter("VFIO_API_VERSION", num(uapi::open::API_VERSION)),
        adapter("VFIO_TYPE1v2_IOMMU", num(uapi::open::TYPE1V2_IOMMU)),
        adapter("VFIO_GROUP_FLAGS_VIABLE", num(uapi::open::GROUP_FLAGS_VIABLE)),
        adapter("VFIO_GET_API_VERSION", io(uapi::open::GET_API_VERSION_NR)),
        adapter("VFIO_CHECK_EXTENSION", io(uapi::open::CHECK_EXTENSION_NR)),
        adapter("VFIO_SET_IOMMU", io(uapi::open::SET_IOMMU_NR)),
        adapter("VFIO_GROUP_GET_STATUS", io(uapi::open::GROUP_GET_STATUS_NR)),
        adapter("VFIO_GROUP_SET_CONTAINER", io(uapi::open::GROUP_SET_CONTAINER_NR)),
        adapter("VFIO_GROUP_GET_DEVICE_FD", io(uapi::open::GROUP_GET_DEVICE_FD_NR)),
        adapter("VFIO_DEVICE_GET_REGION_INFO", io(uapi::open::DEVICE_GET_REGION_INFO_NR)),
        // --- v1: the migration region (its definitions kept, renamed, in 6.12) ----
        pinned("VFIO_REGION_TYPE_MIGRATION_DEPRECATED", num(3u32), &[V1_LAYOUT_006]),
        pinned("VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED", num(1u32), &[V1_LAYOUT_006]),
        model("struct vfio_device_migration_info", PRESENT, &[V1_LAYOUT_001]),
        model("struct vfio_device_migration_info.device_state", v1_field(V1Field::DeviceState), &[V1_LAYOUT_001]),
        model("struct vfio_device_migration_info.reserved", v1_field(V1Field::Reserved), &[V1_LAYOUT_001]),
        model("struct vfio_device_migration_info.pending_bytes", v1_field(V1Field::PendingBytes), &[V1_LAYOUT_001]),
        model("struct vfio_device_migration_info.data_offset", v1_field(V1Field::DataOffset), &[V1_LAYOUT_001]),
        model("struct vfio_device_migration_info.data_size", v1_field(V1Field::DataSize), &[V1_LAYOUT_001]),
        model("VFIO_DEVICE_STATE_V1_STOP", num(v1::state::STOP), &[V1_STATE_001]),
        model("VFIO_DEVICE_STATE_V1_RUNNING", num(v1::state::RUNNING), &[V1_STATE_001]),
        model("VFIO_DEVICE_STATE_V1_SAVING", num(v1::state::SAVING), &[V1_STATE_001]),
        model("VFIO_DEVICE_STATE_V1_RESUMING", num(v1::state::RESUMING), &[V1_STATE_001]),
        model("VFIO_DEVICE_STATE_MASK", num(v1::state::MASK), &[V1_STATE_001, V1_STATE_005]),
        model("VFIO_DEVICE_STATE_VALID", Expect::Macro(v1_valid), &[V1_STATE_004, V1_ARC_008]),
        model("VFIO_DEVICE_STATE_IS_ERROR", Expect::Macro(v1_is_error), &[V1_STATE_004]),
        model("VFIO_DEVICE_STATE_SET_ERROR", Expect::Macro(v1_set_error), &[V1_STATE_004, V1_ARC_009]),
        // --- VFIO_DEVICE_FEATURE --------------------------------------------------
        model("VFIO_DEVICE_FEATURE", io(uapi::DEVICE_FEATURE_NR), &[V2_FEAT_001]),
        adapter("struct vfio_device_feature", PRESENT),
        adapter("struct vfio_device_feature.argsz", field("__u32", 0)),
        adapter("struct vfio_device_feature.flags", field("__u32", 4)),
        adapter("struct vfio_device_feature.data", field("__u8[]", 8)),
        pinned("VFIO_DEVICE_FEATURE_MASK", num(0xffffu32), &[V2_FEAT_001]),
        model("VFIO_DEVICE_FEATURE_GET", num(uapi::FEATURE_GET), &[V2_FEAT_001]),
        model("VFIO_DEVICE_FEATURE_SET", num(uapi::FEATURE_SET), &[V2_FEAT_001]),
        model("VFIO_DEVICE_FEATURE_PROBE", num(uapi::FEATURE_PROBE), &[V2_FEAT_001]),
        // --- the device ioctls between the feature ioctl and the features --------
        adapter("VFIO_DEVICE_BIND_IOMMUFD", io(uapi::open::DEVICE_BIND_IOMMUFD_NR)),
        adapter("struct vfio_device_bind_iommufd", PRESENT),
        adapter("struct vfio_device_bind_iommufd.argsz", field("__u32", 0)),
        adapter("struct vfio_device_bind_iommufd.flags", field("__u32", 4)),
        adapter("struct vfio_device_bind_iommufd.iommufd", field("__s32", 8)),
        adapter("struct vfio_device_bind_iommufd.out_devid", field("__u32", 12)),
        outside("VFIO_DEVICE_BIND_FLAG_TOKEN", num(1u32), "a VF token at bind time; the adapter binds without one (its 16-byte argsz stays accepted)").since("7.3"),
        outside("struct vfio_device_bind_iommufd.token_uuid_ptr", field("__aligned_u64", 16), "a VF token at bind time; the adapter binds without one (its 16-byte argsz stays accepted)").since("7.3"),
        outside("VFIO_DEVICE_ATTACH_IOMMUFD_PT", io(19), IOMMUFD_PT),
        outside("struct vfio_device_attach_iommufd_pt", PRESENT, IOMMUFD_PT),
        outside("struct vfio_device_attach_iommufd_pt.argsz", field("__u32", 0), IOMMUFD_PT),
        outside("struct vfio_device_attach_iommufd_pt.flags", field("__u32", 4), IOMMUFD_PT),
        outside("struct vfio_device_attach_iommufd_pt.pt_id", field("__u32", 8), IOMMUFD_PT),
        outside("VFIO_DEVICE_ATTACH_PASID", num(1u32), IOMMUFD_PT).since("7.3"),
        outside("struct vfio_device_attach_iommufd_pt.pasid", field("__u32", 12), IOMMUFD_PT).since("7.3"),
        outside("VFIO_DEVICE_DETACH_IOMMUFD_PT", io(20), IOMMUFD_PT),
        outside("struct vfio_device_detach_iommufd_pt", PRESENT, IOMMUFD_PT),
        outside("struct vfio_device_detach_iommufd_pt.argsz", field("__u32", 0), IOMMUFD_PT),
        outside("struct vfio_device_detach_iommufd_pt.flags", field("__u32", 4), IOMMUFD_PT),
        outside("VFIO_DEVICE_DETACH_PASID", num(1u32), IOMMUFD_PT).since("7.3"),
        outside("struct vfio_device_detach_iommufd_pt.pasid", field("__u32", 8), IOMMUFD_PT).since("7.3"),
        // --- device features --------------------------------------------------------
        outside("VFIO_DEVICE_FEATURE_PCI_VF_TOKEN", num(0u32), "the SR-IOV VF token shared between PF and VF drivers"),
        model("VFIO_DEVICE_FEATURE_MIGRATION", num(uapi::FEATURE_MIGRATION), &[V2_FLAG_001]),
        adapter("struct vfio_device_feature_migration", PRESENT),
        adapter("struct vfio_device_feature_migration.flags", field("__aligned_u64", 0)),
        model("VFIO_MIGRATION_STOP_COPY", num(MigrationFlags::STOP_COPY.bits()), &[V2_FLAG_001]),
        model("VFIO_MIGRATION_P2P", num(MigrationFlags::P2P.bits()), &[V2_FLAG_001]),
        model("VFIO_MIGRATION_PRE_COPY", num(MigrationFlags::PRE_COPY.bits()), &[V2_FLAG_001]),
        model("VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE", num(uapi::FEATURE_MIG_DEVICE_STATE), &[V2_FEAT_002]),
        adapter("struct vfio_device_feature_mig_state", PRESENT),
        adapter("struct vfio_device_feature_mig_state.device_state", field("__u32", 0)),
        adapter("struct vfio_device_feature_mig_state.data_fd", field("__s32", 4)),
        model("enum vfio_device_mig_state", PRESENT, &[V2_STATE_001]),
        model("VFIO_DEVICE_STATE_ERROR", state(Error), &[V2_STATE_001]),
        model("VFIO_DEVICE_STATE_STOP", state(Stop), &[V2_STATE_001]),
        model("VFIO_DEVICE_STATE_RUNNING", state(Running), &[V2_STATE_001]),
        model("VFIO_DEVICE_STATE_STOP_COPY", state(StopCopy), &[V2_STATE_001]),
        model("VFIO_DEVICE_STATE_RESUMING", state(Resuming), &[V2_STATE_001]),
        model("VFIO_DEVICE_STATE_RUNNING_P2P", state(RunningP2p), &[V2_STATE_001]),
        model("VFIO_DEVICE_STATE_PRE_COPY", state(PreCopy), &[V2_STATE_001]),
        model("VFIO_DEVICE_STATE_PRE_COPY_P2P", state(PreCopyP2p), &[V2_STATE_001]),
        model("VFIO_DEVICE_STATE_NR", num(MigState::ALL.len() as u64), &[V2_STATE_001, V2_ARC_010]),
        adapter("struct vfio_precopy_info", PRESENT),
        adapter("struct vfio_precopy_info.argsz", field("__u32", 0)),
        adapter("struct vfio_precopy_info.flags", field("__u32", 4)),
        adapter("struct vfio_precopy_info.initial_bytes", field("__aligned_u64", 8)),
        adapter("struct vfio_precopy_info.dirty_bytes", field("__aligned_u64", 16)),
        model("VFIO_MIG_GET_PRECOPY_INFO", io(uapi::MIG_GET_PRECOPY_INFO_NR), &[V2_PRE_001]),
        outside("VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY", num(3u32), LOW_POWER),
        outside("struct vfio_device_low_power_entry_with_wakeup", PRESENT, LOW_POWER),
        outside("struct vfio_device_low_power_entry_with_wakeup.wakeup_eventfd", field("__s32", 0), LOW_POWER),
        outside("struct vfio_device_low_power_entry_with_wakeup.reserved", field("__u32", 4), LOW_POWER),
        outside("VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP", num(4u32), LOW_POWER),
        outside("VFIO_DEVICE_FEATURE_LOW_POWER_EXIT", num(5u32), LOW_POWER),
        outside("struct vfio_device_feature_dma_logging_control", PRESENT, DMA_LOG),
        outside("struct vfio_device_feature_dma_logging_control.page_size", field("__aligned_u64", 0), DMA_LOG),
        outside("struct vfio_device_feature_dma_logging_control.num_ranges", field("__u32", 8), DMA_LOG),
        outside("struct vfio_device_feature_dma_logging_control.__reserved", field("__u32", 12), DMA_LOG),
        outside("struct vfio_device_feature_dma_logging_control.ranges", field("__aligned_u64", 16), DMA_LOG),
        outside("struct vfio_device_feature_dma_logging_range", PRESENT, DMA_LOG),
        outside("struct vfio_device_feature_dma_logging_range.iova", field("__aligned_u64", 0), DMA_LOG),
        outside("struct vfio_device_feature_dma_logging_range.length", field("__aligned_u64", 8), DMA_LOG),
        outside("VFIO_DEVICE_FEATURE_DMA_LOGGING_START", num(6u32), DMA_LOG),
        outside("VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP", num(7u32), DMA_LOG),
        outside("struct vfio_device_feature_dma_logging_report", PRESENT, DMA_LOG),
        outside("struct vfio_device_feature_dma_logging_report.iova", field("__aligned_u64", 0), DMA_LOG),
        outside("struct vfio_device_feature_dma_logging_report.length", field("__aligned_u64", 8), DMA_LOG),
        outside("struct vfio_device_feature_dma_logging_report.page_size", field("__aligned_u64", 16), DMA_LOG),
        outside("struct vfio_device_feature_dma_logging_report.bitmap", field("__aligned_u64", 24), DMA_LOG),
        outside("VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT", num(8u32), DMA_LOG),
        model("VFIO_DEVICE_FEATURE_MIG_DATA_SIZE", num(uapi::FEATURE_MIG_DATA_SIZE), &[V2_SIZE_001]),
        adapter("struct vfio_device_feature_mig_data_size", PRESENT),
        adapter("struct vfio_device_feature_mig_data_size.stop_copy_length", field("__aligned_u64", 0)),
        outside("struct vfio_device_feature_bus_master", PRESENT, BUS_MASTER),
        outside("struct vfio_device_feature_bus_master.op", field("__u32", 0), BUS_MASTER),
        outside("VFIO_DEVICE_FEATURE_CLEAR_MASTER", num(0u32), BUS_MASTER),
        outside("VFIO_DEVICE_FEATURE_SET_MASTER", num(1u32), BUS_MASTER),
        outside("VFIO_DEVICE_FEATURE_BUS_MASTER", num(10u32), BUS_MASTER),
        outside("VFIO_DEVICE_FEATURE_DMA_BUF", num(11u32), DMA_BUF).since("7.3"),
        outside("struct vfio_region_dma_range", PRESENT, DMA_BUF).since("7.3"),
        outside("struct vfio_region_dma_range.offset", field("__u64", 0), DMA_BUF).since("7.3"),
        outside("struct vfio_region_dma_range.length", field("__u64", 8), DMA_BUF).since("7.3"),
        outside("struct vfio_device_feature_dma_buf", PRESENT, DMA_BUF).since("7.3"),
        outside("struct vfio_device_feature_dma_buf.region_index", field("__u32", 0), DMA_BUF).since("7.3"),
        outside("struct vfio_device_feature_dma_buf.open_flags", field("__u32", 4), DMA_BUF).since("7.3"),
        outside("struct vfio_device_feature_dma_buf.flags", field("__u32", 8), DMA_BUF).since("7.3"),
        outside("struct vfio_device_feature_dma_buf.nr_ranges", field("__u32", 12), DMA_BUF).since("7.3"),
        outside("struct vfio_device_feature_dma_buf.dma_ranges", field("struct vfio_region_dma_range[]", 16), DMA_BUF).since("7.3"),
        model("VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2", num(uapi::FEATURE_MIG_PRECOPY_INFO_V2), &[V2_PRE_008]).since("7.3"),
        model("VFIO_PRECOPY_INFO_REINIT", num(uapi::PRECOPY_INFO_REINIT), &[V2_PRE_010]).since("7.3"),
        outside("VFIO_DEVICE_FEATURE_ZPCI_ERROR", num(13u32), "s390 PCI error information").since("7.3"),
        outside("struct vfio_device_feature_zpci_err", PRESENT, "s390 PCI error information").since("7.3"),
        outside("struct vfio_device_feature_zpci_err.data", field("__aligned_u64", 0), "s390 PCI error information").since("7.3"),
        // --- the type1 IOMMU's migration capability --------------------------------
        outside("VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION", num(2u32), TYPE1_DIRTY),
        outside("struct vfio_iommu_type1_info_cap_migration", PRESENT, TYPE1_DIRTY),
        outside("struct vfio_iommu_type1_info_cap_migration.header", field("struct vfio_info_cap_header", 0), TYPE1_DIRTY),
        outside("struct vfio_iommu_type1_info_cap_migration.flags", field("__u32", 8), TYPE1_DIRTY),
        outside("struct vfio_iommu_type1_info_cap_migration.pgsize_bitmap", field("__u64", 16), TYPE1_DIRTY),
        outside("struct vfio_iommu_type1_info_cap_migration.max_dirty_bitmap_size", field("__u64", 24), TYPE1_DIRTY),
    ]
}
