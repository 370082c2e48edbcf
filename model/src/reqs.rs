//! Requirement IDs the model's allowances cite (see `spec/*.yaml`).
//!
//! One constant per ID keeps the spelling in one place; a test checks that
//! every ID here exists in the catalogue.

/// `V1-STATE-001`.
pub const V1_STATE_001: &str = "V1-STATE-001";
/// `V1-STATE-002`.
pub const V1_STATE_002: &str = "V1-STATE-002";
/// `V1-STATE-003`.
pub const V1_STATE_003: &str = "V1-STATE-003";
/// `V1-STATE-004`.
pub const V1_STATE_004: &str = "V1-STATE-004";
/// `V1-STATE-005`.
pub const V1_STATE_005: &str = "V1-STATE-005";
/// `V1-LAYOUT-001`.
pub const V1_LAYOUT_001: &str = "V1-LAYOUT-001";
/// `V1-LAYOUT-002`.
pub const V1_LAYOUT_002: &str = "V1-LAYOUT-002";
/// `V1-LAYOUT-003`.
pub const V1_LAYOUT_003: &str = "V1-LAYOUT-003";
/// `V1-LAYOUT-004`.
pub const V1_LAYOUT_004: &str = "V1-LAYOUT-004";
/// `V1-ARC-001`.
pub const V1_ARC_001: &str = "V1-ARC-001";
/// `V1-ARC-002`.
pub const V1_ARC_002: &str = "V1-ARC-002";
/// `V1-ARC-003`.
pub const V1_ARC_003: &str = "V1-ARC-003";
/// `V1-ARC-004`.
pub const V1_ARC_004: &str = "V1-ARC-004";
/// `V1-ARC-005`.
pub const V1_ARC_005: &str = "V1-ARC-005";
/// `V1-ARC-006`.
pub const V1_ARC_006: &str = "V1-ARC-006";
/// `V1-ARC-007`.
pub const V1_ARC_007: &str = "V1-ARC-007";
/// `V1-ARC-008`.
pub const V1_ARC_008: &str = "V1-ARC-008";
/// `V1-ARC-009`.
pub const V1_ARC_009: &str = "V1-ARC-009";
/// `V1-ARC-010`.
pub const V1_ARC_010: &str = "V1-ARC-010";
/// `V1-FAIL-001`.
pub const V1_FAIL_001: &str = "V1-FAIL-001";
/// `V1-FAIL-002`.
pub const V1_FAIL_002: &str = "V1-FAIL-002";
/// `V1-FAIL-003`.
pub const V1_FAIL_003: &str = "V1-FAIL-003";
/// `V1-FAIL-004`.
pub const V1_FAIL_004: &str = "V1-FAIL-004";
/// `V1-SAVE-001`.
pub const V1_SAVE_001: &str = "V1-SAVE-001";
/// `V1-SAVE-002`.
pub const V1_SAVE_002: &str = "V1-SAVE-002";
/// `V1-SAVE-003`.
pub const V1_SAVE_003: &str = "V1-SAVE-003";
/// `V1-SAVE-004`.
pub const V1_SAVE_004: &str = "V1-SAVE-004";
/// `V1-SAVE-005`.
pub const V1_SAVE_005: &str = "V1-SAVE-005";
/// `V1-SAVE-006`.
pub const V1_SAVE_006: &str = "V1-SAVE-006";
/// `V1-SAVE-007`.
pub const V1_SAVE_007: &str = "V1-SAVE-007";
/// `V1-SAVE-008`.
pub const V1_SAVE_008: &str = "V1-SAVE-008";
/// `V1-SAVE-009`.
pub const V1_SAVE_009: &str = "V1-SAVE-009";
/// `V1-SAVE-010`.
pub const V1_SAVE_010: &str = "V1-SAVE-010";
/// `V1-RES-001`.
pub const V1_RES_001: &str = "V1-RES-001";
/// `V1-RES-002`.
pub const V1_RES_002: &str = "V1-RES-002";
/// `V1-RES-003`.
pub const V1_RES_003: &str = "V1-RES-003";
/// `V1-RES-004`.
pub const V1_RES_004: &str = "V1-RES-004";
/// `V1-RES-005`.
pub const V1_RES_005: &str = "V1-RES-005";
/// `V1-ERR-001`.
pub const V1_ERR_001: &str = "V1-ERR-001";
/// `V1-ERR-002`.
pub const V1_ERR_002: &str = "V1-ERR-002";
/// `V1-DATA-001`.
pub const V1_DATA_001: &str = "V1-DATA-001";
/// `V2-STATE-001`.
pub const V2_STATE_001: &str = "V2-STATE-001";
/// `V2-STATE-002`.
pub const V2_STATE_002: &str = "V2-STATE-002";
/// `V2-STATE-003`.
pub const V2_STATE_003: &str = "V2-STATE-003";
/// `V2-STATE-004`.
pub const V2_STATE_004: &str = "V2-STATE-004";
/// `V2-FLAG-001`.
pub const V2_FLAG_001: &str = "V2-FLAG-001";
/// `V2-FLAG-002`.
pub const V2_FLAG_002: &str = "V2-FLAG-002";
/// `V2-FLAG-003`.
pub const V2_FLAG_003: &str = "V2-FLAG-003";
/// `V2-ARC-001`.
pub const V2_ARC_001: &str = "V2-ARC-001";
/// `V2-ARC-002`.
pub const V2_ARC_002: &str = "V2-ARC-002";
/// `V2-ARC-003`.
pub const V2_ARC_003: &str = "V2-ARC-003";
/// `V2-ARC-004`.
pub const V2_ARC_004: &str = "V2-ARC-004";
/// `V2-ARC-005`.
pub const V2_ARC_005: &str = "V2-ARC-005";
/// `V2-ARC-006`.
pub const V2_ARC_006: &str = "V2-ARC-006";
/// `V2-ARC-007`.
pub const V2_ARC_007: &str = "V2-ARC-007";
/// `V2-ARC-008`.
pub const V2_ARC_008: &str = "V2-ARC-008";
/// `V2-ARC-009`.
pub const V2_ARC_009: &str = "V2-ARC-009";
/// `V2-ARC-010`.
pub const V2_ARC_010: &str = "V2-ARC-010";
/// `V2-PATH-001`.
pub const V2_PATH_001: &str = "V2-PATH-001";
/// `V2-PATH-002`.
pub const V2_PATH_002: &str = "V2-PATH-002";
/// `V2-PATH-003`.
pub const V2_PATH_003: &str = "V2-PATH-003";
/// `V2-PATH-004`.
pub const V2_PATH_004: &str = "V2-PATH-004";
/// `V2-PATH-005`.
pub const V2_PATH_005: &str = "V2-PATH-005";
/// `V2-FD-001`.
pub const V2_FD_001: &str = "V2-FD-001";
/// `V2-FD-002`.
pub const V2_FD_002: &str = "V2-FD-002";
/// `V2-FD-003`.
pub const V2_FD_003: &str = "V2-FD-003";
/// `V2-FD-004`.
pub const V2_FD_004: &str = "V2-FD-004";
/// `V2-FD-005`.
pub const V2_FD_005: &str = "V2-FD-005";
/// `V2-FD-006`.
pub const V2_FD_006: &str = "V2-FD-006";
/// `V2-STREAM-001`.
pub const V2_STREAM_001: &str = "V2-STREAM-001";
/// `V2-STREAM-002`.
pub const V2_STREAM_002: &str = "V2-STREAM-002";
/// `V2-STREAM-003`.
pub const V2_STREAM_003: &str = "V2-STREAM-003";
/// `V2-STREAM-004`.
pub const V2_STREAM_004: &str = "V2-STREAM-004";
/// `V2-STREAM-005`.
pub const V2_STREAM_005: &str = "V2-STREAM-005";
/// `V2-STREAM-006`.
pub const V2_STREAM_006: &str = "V2-STREAM-006";
/// `V2-ERR-001`.
pub const V2_ERR_001: &str = "V2-ERR-001";
/// `V2-ERR-002`.
pub const V2_ERR_002: &str = "V2-ERR-002";
/// `V2-ERR-003`.
pub const V2_ERR_003: &str = "V2-ERR-003";
/// `V2-ERR-004`.
pub const V2_ERR_004: &str = "V2-ERR-004";
/// `V2-PRE-001`.
pub const V2_PRE_001: &str = "V2-PRE-001";
/// `V2-PRE-002`.
pub const V2_PRE_002: &str = "V2-PRE-002";
/// `V2-PRE-003`.
pub const V2_PRE_003: &str = "V2-PRE-003";
/// `V2-PRE-004`.
pub const V2_PRE_004: &str = "V2-PRE-004";
/// `V2-PRE-005`.
pub const V2_PRE_005: &str = "V2-PRE-005";
/// `V2-SIZE-001`.
pub const V2_SIZE_001: &str = "V2-SIZE-001";
/// `V2-FEAT-002`.
pub const V2_FEAT_002: &str = "V2-FEAT-002";

/// `V1-LAYOUT-005`.
pub const V1_LAYOUT_005: &str = "V1-LAYOUT-005";
/// `V1-LAYOUT-006`.
pub const V1_LAYOUT_006: &str = "V1-LAYOUT-006";
/// `V1-FAIL-005`.
pub const V1_FAIL_005: &str = "V1-FAIL-005";
/// `V1-DATA-002`.
pub const V1_DATA_002: &str = "V1-DATA-002";
/// `V2-FLAG-004`.
pub const V2_FLAG_004: &str = "V2-FLAG-004";
/// `V2-STREAM-007`.
pub const V2_STREAM_007: &str = "V2-STREAM-007";
/// `V2-STREAM-008`.
pub const V2_STREAM_008: &str = "V2-STREAM-008";
/// `V2-P2P-001`.
pub const V2_P2P_001: &str = "V2-P2P-001";
/// `V2-STOP-001`.
pub const V2_STOP_001: &str = "V2-STOP-001";
/// `V2-FEAT-001`.
pub const V2_FEAT_001: &str = "V2-FEAT-001";

/// vfio-user: data commands only in data states.
pub const V2_VU_001: &str = "V2-VU-001";
/// vfio-user: transfers over max_data_xfer_size fail.
pub const V2_VU_002: &str = "V2-VU-002";
/// vfio-user: a short read reply means no more data for now.
pub const V2_VU_003: &str = "V2-VU-003";
/// vfio-user: replies echo id and command; errors keep the connection.
pub const V2_VU_004: &str = "V2-VU-004";

/// Every ID above, for the traceability test.
pub const ALL: &[&str] = &[
    V1_STATE_001,
    V1_STATE_002,
    V1_STATE_003,
    V1_STATE_004,
    V1_STATE_005,
    V1_LAYOUT_001,
    V1_LAYOUT_002,
    V1_LAYOUT_003,
    V1_LAYOUT_004,
    V1_ARC_001,
    V1_ARC_002,
    V1_ARC_003,
    V1_ARC_004,
    V1_ARC_005,
    V1_ARC_006,
    V1_ARC_007,
    V1_ARC_008,
    V1_ARC_009,
    V1_ARC_010,
    V1_FAIL_001,
    V1_FAIL_002,
    V1_FAIL_003,
    V1_FAIL_004,
    V1_SAVE_001,
    V1_SAVE_002,
    V1_SAVE_003,
    V1_SAVE_004,
    V1_SAVE_005,
    V1_SAVE_006,
    V1_SAVE_007,
    V1_SAVE_008,
    V1_SAVE_009,
    V1_SAVE_010,
    V1_RES_001,
    V1_RES_002,
    V1_RES_003,
    V1_RES_004,
    V1_RES_005,
    V1_ERR_001,
    V1_ERR_002,
    V1_DATA_001,
    V2_STATE_001,
    V2_STATE_002,
    V2_STATE_003,
    V2_STATE_004,
    V2_FLAG_001,
    V2_FLAG_002,
    V2_FLAG_003,
    V2_ARC_001,
    V2_ARC_002,
    V2_ARC_003,
    V2_ARC_004,
    V2_ARC_005,
    V2_ARC_006,
    V2_ARC_007,
    V2_ARC_008,
    V2_ARC_009,
    V2_ARC_010,
    V2_PATH_001,
    V2_PATH_002,
    V2_PATH_003,
    V2_PATH_004,
    V2_PATH_005,
    V2_FD_001,
    V2_FD_002,
    V2_FD_003,
    V2_FD_004,
    V2_FD_005,
    V2_FD_006,
    V2_STREAM_001,
    V2_STREAM_002,
    V2_STREAM_003,
    V2_STREAM_004,
    V2_STREAM_005,
    V2_STREAM_006,
    V2_ERR_001,
    V2_ERR_002,
    V2_ERR_003,
    V2_ERR_004,
    V2_PRE_001,
    V2_PRE_002,
    V2_PRE_003,
    V2_PRE_004,
    V2_PRE_005,
    V2_SIZE_001,
    V2_FEAT_002,
    V1_LAYOUT_005,
    V1_LAYOUT_006,
    V1_FAIL_005,
    V1_DATA_002,
    V2_FLAG_004,
    V2_STREAM_007,
    V2_STREAM_008,
    V2_P2P_001,
    V2_STOP_001,
    V2_FEAT_001,
    V2_VU_001,
    V2_VU_002,
    V2_VU_003,
    V2_VU_004,
];
