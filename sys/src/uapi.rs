//! Numbers and structure layouts of the VFIO uAPI used by the migration
//! adapter, from `include/uapi/linux/vfio.h` of Linux 6.12. Plain data: no
//! code here touches a file descriptor.
//!
//! Every number is the model's own ([`vfio_mig_model::v2::uapi`]), which the
//! uAPI drift gate checks against each new kernel's `vfio.h`.

use vfio_mig_model::v2::uapi::open;
pub use vfio_mig_model::v2::uapi::{
    FEATURE_GET, FEATURE_MASK, FEATURE_MIGRATION, FEATURE_MIG_DATA_SIZE, FEATURE_MIG_DEVICE_STATE,
    FEATURE_MIG_PRECOPY_INFO_V2, FEATURE_PROBE, FEATURE_SET, PRECOPY_INFO_REINIT, VFIO_BASE, VFIO_TYPE,
};

/// The API version `VFIO_GET_API_VERSION` returns (`VFIO_API_VERSION`).
pub const VFIO_API_VERSION: i32 = open::API_VERSION as i32;
/// The type1 v2 IOMMU backend (`VFIO_TYPE1v2_IOMMU`).
pub const VFIO_TYPE1V2_IOMMU: u32 = open::TYPE1V2_IOMMU;
/// `vfio_group_status.flags`: every device of the group is bound to VFIO.
pub const VFIO_GROUP_FLAGS_VIABLE: u32 = open::GROUP_FLAGS_VIABLE;

/// ioctl numbers, as offsets from `VFIO_BASE`; every one is `_IO(';', n)`.
pub mod nr {
    use vfio_mig_model::v2::uapi::{self as model, open};

    /// `VFIO_GET_API_VERSION` (container).
    pub const GET_API_VERSION: u32 = open::GET_API_VERSION_NR;
    /// `VFIO_CHECK_EXTENSION` (container).
    pub const CHECK_EXTENSION: u32 = open::CHECK_EXTENSION_NR;
    /// `VFIO_SET_IOMMU` (container).
    pub const SET_IOMMU: u32 = open::SET_IOMMU_NR;
    /// `VFIO_GROUP_GET_STATUS` (group).
    pub const GROUP_GET_STATUS: u32 = open::GROUP_GET_STATUS_NR;
    /// `VFIO_GROUP_SET_CONTAINER` (group).
    pub const GROUP_SET_CONTAINER: u32 = open::GROUP_SET_CONTAINER_NR;
    /// `VFIO_GROUP_GET_DEVICE_FD` (group).
    pub const GROUP_GET_DEVICE_FD: u32 = open::GROUP_GET_DEVICE_FD_NR;
    /// `VFIO_DEVICE_GET_REGION_INFO` (device).
    pub const DEVICE_GET_REGION_INFO: u32 = open::DEVICE_GET_REGION_INFO_NR;
    /// `VFIO_DEVICE_RESET` (device).
    pub const DEVICE_RESET: u32 = model::DEVICE_RESET_NR;
    /// `VFIO_DEVICE_FEATURE` (device).
    pub const DEVICE_FEATURE: u32 = model::DEVICE_FEATURE_NR;
    /// `VFIO_DEVICE_BIND_IOMMUFD` (device cdev).
    pub const DEVICE_BIND_IOMMUFD: u32 = open::DEVICE_BIND_IOMMUFD_NR;
    /// `VFIO_MIG_GET_PRECOPY_INFO` (data fd).
    pub const MIG_GET_PRECOPY_INFO: u32 = model::MIG_GET_PRECOPY_INFO_NR;
}

/// `struct vfio_group_status`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct GroupStatus {
    /// Size of the structure.
    pub argsz: u32,
    /// `VFIO_GROUP_FLAGS_*`.
    pub flags: u32,
}

/// `struct vfio_region_info` without capabilities.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct RegionInfo {
    /// Size of the structure.
    pub argsz: u32,
    /// `VFIO_REGION_INFO_FLAG_*`.
    pub flags: u32,
    /// Region index.
    pub index: u32,
    /// Offset of the first capability, 0 if none.
    pub cap_offset: u32,
    /// Region size in bytes.
    pub size: u64,
    /// Offset of the region in the device fd.
    pub offset: u64,
}

/// `struct vfio_device_feature` followed by a one-`u64` payload
/// (`vfio_device_feature_migration`, `vfio_device_feature_mig_data_size`).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct FeatureU64 {
    /// Size of the header and payload.
    pub argsz: u32,
    /// Feature index and GET/SET/PROBE bits.
    pub flags: u32,
    /// The payload.
    pub value: u64,
}

/// `struct vfio_device_feature` with room for any payload of the migration
/// features (at most 8 bytes today), for requests whose `argsz` is chosen
/// by the caller.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct FeatureAny {
    /// What the request claims: header and payload bytes.
    pub argsz: u32,
    /// Feature index and GET/SET/PROBE bits.
    pub flags: u32,
    /// Room for the payload.
    pub payload: [u64; 7],
}

/// `struct vfio_device_feature` followed by
/// `struct vfio_device_feature_mig_state`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct FeatureMigState {
    /// Size of the header and payload.
    pub argsz: u32,
    /// Feature index and GET/SET bits.
    pub flags: u32,
    /// `enum vfio_device_mig_state`.
    pub device_state: u32,
    /// The returned data fd, or -1.
    pub data_fd: i32,
}

/// `struct vfio_precopy_info`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct PrecopyInfo {
    /// Size of the structure.
    pub argsz: u32,
    /// Reserved (handed back as passed) unless the user opted in to
    /// `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2` (Linux 7.3); then an output:
    /// `VFIO_PRECOPY_INFO_REINIT` (bit 0).
    pub flags: u32,
    /// Bytes of the initial pre-copy data still to read.
    pub initial_bytes: u64,
    /// Bytes of data that changed since and are still to read.
    pub dirty_bytes: u64,
}

/// `struct vfio_device_bind_iommufd`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct BindIommufd {
    /// Size of the structure.
    pub argsz: u32,
    /// Must be 0.
    pub flags: u32,
    /// The iommufd to bind to.
    pub iommufd: i32,
    /// The device id iommufd assigned (output).
    pub out_devid: u32,
}

/// The argument size of `T`, as the kernel's `argsz` fields want it.
pub const fn argsz<T>() -> u32 {
    std::mem::size_of::<T>() as u32
}

// The layouts above must match the kernel's byte for byte.
const _: () = {
    assert!(argsz::<GroupStatus>() == 8);
    assert!(argsz::<RegionInfo>() == 32);
    assert!(argsz::<FeatureU64>() == 16);
    assert!(argsz::<FeatureMigState>() == 16);
    assert!(argsz::<PrecopyInfo>() == 24);
    assert!(argsz::<FeatureAny>() == 64);
    assert!(argsz::<BindIommufd>() == 16);
};
