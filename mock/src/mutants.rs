//! Deliberately wrong variants of the mock, each modelled on a real class of
//! driver bug and each breaking named requirements. The suites must catch
//! every one of them by one of those requirements (a test iterates this
//! table).

use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::MigrationFlags;
use vfio_mig_model::{ProtocolName, Req};

/// One deliberate bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// v2: STOP_COPY -> PRE_COPY succeeds (a driver that skips the kernel's
    /// next-state helper).
    AcceptsBlockedArc,
    /// v2: STOP -> RESUMING is refused.
    RefusesMandatoryArc,
    /// v2: a failed SET leaves the device in a state off its path.
    WrongStateAfterFailure,
    /// v2: a SET out of ERROR succeeds without a reset.
    LeavesErrorWithoutReset,
    /// v2: the saving fd still reads after STOP_COPY was left.
    DeadFdReadable,
    /// v2: the stream ends early (no trailer), so no resume can accept it.
    StreamTruncated,
    /// v2: the register snapshot is sent in the wrong order.
    StreamReordered,
    /// v2: RESUMING -> STOP accepts any bytes.
    ResumeAcceptsGarbage,
    /// v2: RESUMING -> STOP accepts a stream that lacks its end.
    ResumeAcceptsPartial,
    /// v2: RESUMING -> STOP applies what it could parse before refusing.
    ResumeAppliesPartial,
    /// v2: PRECOPY_INFO answers in STOP_COPY.
    PrecopyInfoOutsidePrecopy,
    /// v2: a STOP_COPY read at the end fails with ENOMSG instead of 0.
    EnomsgInStopCopy,
    /// v2: a pre-copy read with no data returns 0 instead of ENOMSG.
    ZeroReadInPrecopy,
    /// v2: initial_bytes grows between PRECOPY_INFO calls.
    InitialBytesGrow,
    /// v2: RUNNING -> PRE_COPY returns no data fd.
    NoFdOnPrecopy,
    /// v2: PRE_COPY -> STOP_COPY returns a new data fd.
    NewFdInsideSavingGroup,
    /// v2: SET ERROR is accepted.
    SetErrorAccepted,
    /// v2: a state number above 7 is accepted.
    StateNumberEightAccepted,
    /// v2: after a GET in RUNNING the device drifts to STOP by itself.
    DriftsByItself,
    /// v2: reset leaves the device in STOP instead of RUNNING.
    ResetToStop,
    /// v2: the saving fd accepts writes.
    SaveFdWritable,
    /// v2: a read returns more bytes than asked for.
    ReadsTooMuch,
    /// v2: a rejected resume write still counts its bytes (mtty's bug).
    RejectedWriteStillCounts,
    /// v2: RESUMING -> STOP takes a stream whose checksum does not match.
    ResumeAcceptsCorrupted,
    /// v2: leaving RESUMING takes an incomplete stream into STOP, then fails
    /// the rest of the path.
    TakesResumeThenFails,
    /// v2: the fd a SET returns answers EBADF.
    ReturnsDeadFd,
    /// v2: a SET of PRE_COPY from STOP_COPY never returns (the kernel's
    /// next-state loop of 6.2 to 6.12.116).
    HangsInSet,
    /// v2: PRECOPY_INFO hides the last 32 bytes of initial data.
    UnderReportsInitial,
    /// v2: PRECOPY_INFO always reports dirty_bytes 0.
    UnderReportsDirty,
    /// v2: a pre-copy read answers ENOMSG once, half way through the
    /// initial data.
    EnomsgWhileInitialRemains,
    /// v2: PRECOPY_INFO reports REINIT (with new initial data) without the
    /// PRECOPY_INFOv2 opt-in.
    ReinitWithoutOptIn,
    /// v2: the PRECOPY_INFOv2 opt-in outlives the close of the device.
    OptInSurvivesClose,
    /// v2: GET of VFIO_DEVICE_FEATURE_MIGRATION reports P2P flipped.
    ReportsWrongFlags,
    /// v2: a PROBE of a feature the device does not have succeeds.
    ProbesUnknownFeature,
    /// v2: a feature request whose argsz misses the payload is served.
    ShortArgszAccepted,
    /// v2: the registers keep changing in STOP and STOP_COPY.
    ChangesWhileStopped,
    /// v2: VFIO_DEVICE_RESET does not drop a resume in progress, which the
    /// next resume then appends to.
    ResetKeepsResumeData,
    /// v2: a refused SET ERROR drops the device into ERROR.
    RefusalFallsIntoError,
    /// v2, calls at once: a resume write reads the position before it
    /// takes the lock and writes there after, so two writes at once both
    /// land at the same place (the bytes reported taken exceed what the
    /// device holds).
    RacyResumePosition,
    /// v2, calls at once: a reset that finds the state lock taken is put
    /// off, and only the next SET carries it out.
    ResetAppliedLate,
    /// v2, calls at once: a reset takes the data lock and then the state
    /// lock, the opposite order of a SET: the two deadlock.
    ResetDeadlocks,
    /// v2, calls at once: a read checks its fd, copies without the lock
    /// and then serves the device's current saving session, which a SET may
    /// have replaced meanwhile.
    DeadSessionRead,
    /// v2, calls at once: a SET lets go of the state lock between the arcs
    /// of its path, so others see the states inside it.
    SetPathNotAtomic,
    /// v1: STOP is encoded as 1 (the v10 patch's bug): stopped reads back 1.
    V1StopIsOne,
    /// v1: re-reading pending_bytes is not idempotent.
    V1PendingNotIdempotent,
    /// v1: data_size before data_offset is answered instead of refused.
    V1DataSizeBeforeOffset,
    /// v1: after a failed write the device reports a third state.
    V1FailedWriteThirdState,
    /// v1: a device_state write leaves the error state.
    V1ErrorLeftByWrite,
    /// v1: the invalid value 101b is accepted.
    V1InvalidValueAccepted,
    /// v1: pending_bytes accepts writes.
    V1PendingWritable,
}

/// Every accepted v2 flag set (STOP_COPY, +P2P, +PRE_COPY, +both).
const ALL_FLAGS: &[u64] = &[0b001, 0b011, 0b101, 0b111];
/// The flag sets with PRE_COPY: where a pre-copy bug can show.
const PRE_COPY: &[u64] = &[0b101, 0b111];
/// Why a PRECOPY_INFO bug cannot show over vfio-user.
const NO_PRECOPY_INFO: &str = "vfio-user has no PRECOPY_INFO";
/// Why a race cannot show over vfio-user.
const ONE_AT_A_TIME: &str = "vfio-user carries one request at a time on its socket and the server handles them in order: the adapter cannot make calls at once";

/// What one mutant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MutantInfo {
    /// The mutant.
    pub mutant: Mutant,
    /// A kebab-case name for reports and `--mutant`.
    pub name: &'static str,
    /// Which protocol it lives in.
    pub protocol: ProtocolName,
    /// The requirements it breaks: a check that catches it names one.
    pub breaks: &'static [Req],
    /// The v2 flag sets (bits) under which the bug shows (empty for v1):
    /// the suites must catch it under each.
    pub flag_sets: &'static [u64],
    /// What the bug is.
    pub description: &'static str,
    /// Why the vfio-user transport cannot show the bug (`None`: it can,
    /// and the suites must catch it through a socket too).
    pub hidden_over_vfio_user: Option<&'static str>,
}

/// Every mutant, in the order of [`Mutant`]'s variants.
pub const MUTANTS: &[MutantInfo] = &[
    MutantInfo {
        mutant: Mutant::AcceptsBlockedArc,
        name: "accepts-blocked-arc",
        protocol: ProtocolName::V2,
        breaks: &[V2_ARC_007],
        flag_sets: PRE_COPY,
        description: "STOP_COPY -> PRE_COPY succeeds",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::RefusesMandatoryArc,
        name: "refuses-mandatory-arc",
        protocol: ProtocolName::V2,
        breaks: &[V2_ARC_001],
        flag_sets: ALL_FLAGS,
        description: "STOP -> RESUMING is refused",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::WrongStateAfterFailure,
        name: "wrong-state-after-failure",
        protocol: ProtocolName::V2,
        breaks: &[V2_ERR_001],
        flag_sets: ALL_FLAGS,
        description: "a failed SET ends in RESUMING, off its path",
        hidden_over_vfio_user: Some("needs an injected SET failure"),
    },
    MutantInfo {
        mutant: Mutant::LeavesErrorWithoutReset,
        name: "leaves-error-without-reset",
        protocol: ProtocolName::V2,
        breaks: &[V2_ERR_003],
        flag_sets: ALL_FLAGS,
        description: "a SET out of ERROR succeeds",
        hidden_over_vfio_user: Some("needs an injected fall into ERROR"),
    },
    MutantInfo {
        mutant: Mutant::DeadFdReadable,
        name: "dead-fd-readable",
        protocol: ProtocolName::V2,
        breaks: &[V2_FD_004],
        flag_sets: ALL_FLAGS,
        description: "the saving fd reads 0 after STOP_COPY was left",
        hidden_over_vfio_user: Some("no data fds: a read outside a saving state is refused by the server"),
    },
    MutantInfo {
        mutant: Mutant::StreamTruncated,
        name: "stream-truncated",
        protocol: ProtocolName::V2,
        breaks: &[V2_STREAM_005],
        flag_sets: ALL_FLAGS,
        description: "the stream ends before its trailer; no resume accepts it",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::StreamReordered,
        name: "stream-reordered",
        protocol: ProtocolName::V2,
        breaks: &[V2_STREAM_008],
        flag_sets: ALL_FLAGS,
        description: "the register snapshot is sent reversed",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::ResumeAcceptsGarbage,
        name: "resume-accepts-garbage",
        protocol: ProtocolName::V2,
        breaks: &[V2_STREAM_009, V2_STREAM_010],
        flag_sets: ALL_FLAGS,
        description: "RESUMING -> STOP accepts any bytes",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::ResumeAcceptsPartial,
        name: "resume-accepts-partial",
        protocol: ProtocolName::V2,
        breaks: &[V2_STREAM_009],
        flag_sets: ALL_FLAGS,
        description: "RESUMING -> STOP accepts a stream without its end",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::ResumeAppliesPartial,
        name: "resume-applies-partial",
        protocol: ProtocolName::V2,
        breaks: &[V2_STREAM_012],
        flag_sets: ALL_FLAGS,
        description: "a refused resume leaves part of the stream applied",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::PrecopyInfoOutsidePrecopy,
        name: "precopy-info-outside-precopy",
        protocol: ProtocolName::V2,
        breaks: &[V2_PRE_002],
        flag_sets: PRE_COPY,
        description: "PRECOPY_INFO answers in STOP_COPY",
        hidden_over_vfio_user: Some("vfio-user has no PRECOPY_INFO"),
    },
    MutantInfo {
        mutant: Mutant::EnomsgInStopCopy,
        name: "enomsg-in-stop-copy",
        protocol: ProtocolName::V2,
        breaks: &[V2_PRE_004],
        flag_sets: ALL_FLAGS,
        description: "STOP_COPY ends with ENOMSG instead of 0",
        hidden_over_vfio_user: Some("on the wire both ends of data are an empty MIG_DATA_READ reply"),
    },
    MutantInfo {
        mutant: Mutant::ZeroReadInPrecopy,
        name: "zero-read-in-precopy",
        protocol: ProtocolName::V2,
        breaks: &[V2_PRE_004],
        flag_sets: PRE_COPY,
        description: "pre-copy reads 0 instead of ENOMSG",
        hidden_over_vfio_user: Some("on the wire both ends of data are an empty MIG_DATA_READ reply"),
    },
    MutantInfo {
        mutant: Mutant::InitialBytesGrow,
        name: "initial-bytes-grow",
        protocol: ProtocolName::V2,
        breaks: &[V2_PRE_003],
        flag_sets: PRE_COPY,
        description: "initial_bytes grows between calls",
        hidden_over_vfio_user: Some("vfio-user has no PRECOPY_INFO"),
    },
    MutantInfo {
        mutant: Mutant::NoFdOnPrecopy,
        name: "no-fd-on-precopy",
        protocol: ProtocolName::V2,
        breaks: &[V2_FD_001],
        flag_sets: PRE_COPY,
        description: "RUNNING -> PRE_COPY returns no data fd",
        hidden_over_vfio_user: Some("no data fds: the adapter numbers sessions itself"),
    },
    MutantInfo {
        mutant: Mutant::NewFdInsideSavingGroup,
        name: "new-fd-inside-saving-group",
        protocol: ProtocolName::V2,
        breaks: &[V2_FD_002],
        flag_sets: PRE_COPY,
        description: "PRE_COPY -> STOP_COPY returns a new fd",
        hidden_over_vfio_user: Some("no data fds: the adapter numbers sessions itself"),
    },
    MutantInfo {
        mutant: Mutant::SetErrorAccepted,
        name: "set-error-accepted",
        protocol: ProtocolName::V2,
        breaks: &[V2_ARC_008],
        flag_sets: ALL_FLAGS,
        description: "SET ERROR succeeds",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::StateNumberEightAccepted,
        name: "state-eight-accepted",
        protocol: ProtocolName::V2,
        breaks: &[V2_ARC_010],
        flag_sets: ALL_FLAGS,
        description: "SET of state 8 succeeds",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::DriftsByItself,
        name: "drifts-by-itself",
        protocol: ProtocolName::V2,
        breaks: &[V2_STATE_004],
        flag_sets: ALL_FLAGS,
        description: "RUNNING drifts to STOP after a GET",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::ResetToStop,
        name: "reset-to-stop",
        protocol: ProtocolName::V2,
        breaks: &[V2_ERR_002],
        flag_sets: ALL_FLAGS,
        description: "reset ends in STOP",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::SaveFdWritable,
        name: "save-fd-writable",
        protocol: ProtocolName::V2,
        breaks: &[V2_FD_005],
        flag_sets: ALL_FLAGS,
        description: "the saving fd accepts writes",
        hidden_over_vfio_user: Some("no data fds: a write outside RESUMING is refused by the server"),
    },
    MutantInfo {
        mutant: Mutant::ReadsTooMuch,
        name: "reads-too-much",
        protocol: ProtocolName::V2,
        breaks: &[V2_STREAM_003],
        flag_sets: ALL_FLAGS,
        description: "a read returns one byte more than asked",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::RejectedWriteStillCounts,
        name: "rejected-write-still-counts",
        protocol: ProtocolName::V2,
        breaks: &[V2_STREAM_006],
        flag_sets: ALL_FLAGS,
        description: "a rejected resume write still counts its bytes",
        hidden_over_vfio_user: Some("needs an injected write failure"),
    },
    MutantInfo {
        mutant: Mutant::ResumeAcceptsCorrupted,
        name: "resume-accepts-corrupted",
        protocol: ProtocolName::V2,
        breaks: &[V2_STREAM_010, V2_STREAM_011],
        flag_sets: ALL_FLAGS,
        description: "RESUMING -> STOP takes a stream whose checksum does not match",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::TakesResumeThenFails,
        name: "takes-resume-then-fails",
        protocol: ProtocolName::V2,
        breaks: &[V2_STREAM_009],
        flag_sets: ALL_FLAGS,
        description: "an incomplete stream is taken into STOP, then the rest of the path fails",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::ReturnsDeadFd,
        name: "returns-dead-fd",
        protocol: ProtocolName::V2,
        breaks: &[V2_FD_001],
        flag_sets: ALL_FLAGS,
        description: "the fd a SET returns answers EBADF",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::HangsInSet,
        name: "hangs-in-set",
        protocol: ProtocolName::V2,
        breaks: &[V2_TIME_001],
        flag_sets: PRE_COPY,
        description: "STOP_COPY -> PRE_COPY does not return (the kernel loop of 6.2 to 6.12.116)",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::UnderReportsInitial,
        name: "under-reports-initial",
        protocol: ProtocolName::V2,
        breaks: &[V2_PRE_007],
        flag_sets: PRE_COPY,
        description: "PRECOPY_INFO hides the last 32 bytes of initial data",
        hidden_over_vfio_user: Some(NO_PRECOPY_INFO),
    },
    MutantInfo {
        mutant: Mutant::UnderReportsDirty,
        name: "under-reports-dirty",
        protocol: ProtocolName::V2,
        breaks: &[V2_PRE_007],
        flag_sets: PRE_COPY,
        description: "PRECOPY_INFO always reports dirty_bytes 0",
        hidden_over_vfio_user: Some(NO_PRECOPY_INFO),
    },
    MutantInfo {
        mutant: Mutant::EnomsgWhileInitialRemains,
        name: "enomsg-while-initial-remains",
        protocol: ProtocolName::V2,
        breaks: &[V2_PRE_006],
        flag_sets: PRE_COPY,
        description: "a pre-copy read answers ENOMSG half way through the initial data",
        hidden_over_vfio_user: Some(NO_PRECOPY_INFO),
    },
    MutantInfo {
        mutant: Mutant::ReinitWithoutOptIn,
        name: "reinit-without-opt-in",
        protocol: ProtocolName::V2,
        breaks: &[V2_PRE_009],
        flag_sets: PRE_COPY,
        description: "PRECOPY_INFO reports REINIT without the PRECOPY_INFOv2 opt-in",
        hidden_over_vfio_user: Some(NO_PRECOPY_INFO),
    },
    MutantInfo {
        mutant: Mutant::OptInSurvivesClose,
        name: "opt-in-survives-close",
        protocol: ProtocolName::V2,
        breaks: &[V2_PRE_011],
        flag_sets: PRE_COPY,
        description: "the PRECOPY_INFOv2 opt-in outlives the close of the device",
        hidden_over_vfio_user: Some(NO_PRECOPY_INFO),
    },
    MutantInfo {
        mutant: Mutant::ReportsWrongFlags,
        name: "reports-wrong-flags",
        protocol: ProtocolName::V2,
        breaks: &[V2_FLAG_001],
        flag_sets: ALL_FLAGS,
        description: "GET of VFIO_DEVICE_FEATURE_MIGRATION reports P2P flipped",
        hidden_over_vfio_user: Some(
            "the adapter learns the flags from this very GET, so the device is judged by the flags it reports",
        ),
    },
    MutantInfo {
        mutant: Mutant::ProbesUnknownFeature,
        name: "probes-unknown-feature",
        protocol: ProtocolName::V2,
        breaks: &[V2_FEAT_004],
        flag_sets: ALL_FLAGS,
        description: "a PROBE of a feature the device does not have succeeds",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::ShortArgszAccepted,
        name: "short-argsz-accepted",
        protocol: ProtocolName::V2,
        breaks: &[V2_FEAT_003],
        flag_sets: ALL_FLAGS,
        description: "a feature request whose argsz misses the payload is served",
        hidden_over_vfio_user: Some("over vfio-user argsz bounds the reply, not the request"),
    },
    MutantInfo {
        mutant: Mutant::ChangesWhileStopped,
        name: "changes-while-stopped",
        protocol: ProtocolName::V2,
        breaks: &[V2_STOP_001],
        flag_sets: ALL_FLAGS,
        description: "the registers keep changing in STOP and STOP_COPY",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::ResetKeepsResumeData,
        name: "reset-keeps-resume-data",
        protocol: ProtocolName::V2,
        breaks: &[V2_STREAM_005, V2_STREAM_007],
        flag_sets: ALL_FLAGS,
        description: "VFIO_DEVICE_RESET keeps a resume in progress, and the next resume appends to it",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::RefusalFallsIntoError,
        name: "refusal-falls-into-error",
        protocol: ProtocolName::V2,
        breaks: &[V2_ERR_004],
        flag_sets: ALL_FLAGS,
        description: "a refused SET ERROR drops the device into ERROR",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::RacyResumePosition,
        name: "racy-resume-position",
        protocol: ProtocolName::V2,
        breaks: &[V2_CONC_004, V2_CONC_001, V2_STREAM_009],
        flag_sets: ALL_FLAGS,
        description: "two resume writes at once land at the same position: the bytes reported taken exceed the stream the device holds",
        hidden_over_vfio_user: Some(ONE_AT_A_TIME),
    },
    MutantInfo {
        mutant: Mutant::ResetAppliedLate,
        name: "reset-applied-late",
        protocol: ProtocolName::V2,
        breaks: &[V2_CONC_002, V2_CONC_001],
        flag_sets: ALL_FLAGS,
        description: "a reset that finds a SET in progress is put off until the next SET",
        hidden_over_vfio_user: Some(ONE_AT_A_TIME),
    },
    MutantInfo {
        mutant: Mutant::ResetDeadlocks,
        name: "reset-deadlocks",
        protocol: ProtocolName::V2,
        breaks: &[V2_CONC_003, V2_TIME_001],
        flag_sets: ALL_FLAGS,
        description: "a reset racing a SET takes the two locks in the opposite order: both hang",
        hidden_over_vfio_user: Some(ONE_AT_A_TIME),
    },
    MutantInfo {
        mutant: Mutant::DeadSessionRead,
        name: "dead-session-read",
        protocol: ProtocolName::V2,
        breaks: &[V2_STREAM_005, V2_STREAM_001],
        flag_sets: ALL_FLAGS,
        description: "a read racing the SET that ends its session serves the next session's bytes",
        hidden_over_vfio_user: Some(ONE_AT_A_TIME),
    },
    MutantInfo {
        mutant: Mutant::SetPathNotAtomic,
        name: "set-path-not-atomic",
        protocol: ProtocolName::V2,
        breaks: &[V2_CONC_005, V2_CONC_001],
        flag_sets: ALL_FLAGS,
        description: "a SET lets go of the state lock between arcs: a GET sees a state inside its path",
        hidden_over_vfio_user: Some(ONE_AT_A_TIME),
    },
    MutantInfo {
        mutant: Mutant::V1StopIsOne,
        name: "v1-stop-is-one",
        protocol: ProtocolName::V1,
        breaks: &[V1_STATE_001],
        flag_sets: &[],
        description: "a stopped device reads back 001b",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::V1PendingNotIdempotent,
        name: "v1-pending-not-idempotent",
        protocol: ProtocolName::V1,
        breaks: &[V1_SAVE_002],
        flag_sets: &[],
        description: "each pending_bytes read returns one less",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::V1DataSizeBeforeOffset,
        name: "v1-data-size-before-offset",
        protocol: ProtocolName::V1,
        breaks: &[V1_SAVE_009],
        flag_sets: &[],
        description: "data_size is answered before data_offset",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::V1FailedWriteThirdState,
        name: "v1-failed-write-third-state",
        protocol: ProtocolName::V1,
        breaks: &[V1_FAIL_001],
        flag_sets: &[],
        description: "after a failed write the device reads STOP",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::V1ErrorLeftByWrite,
        name: "v1-error-left-by-write",
        protocol: ProtocolName::V1,
        breaks: &[V1_FAIL_002],
        flag_sets: &[],
        description: "a write leaves the error state",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::V1InvalidValueAccepted,
        name: "v1-invalid-value-accepted",
        protocol: ProtocolName::V1,
        breaks: &[V1_ARC_008],
        flag_sets: &[],
        description: "101b is accepted",
        hidden_over_vfio_user: None,
    },
    MutantInfo {
        mutant: Mutant::V1PendingWritable,
        name: "v1-pending-writable",
        protocol: ProtocolName::V1,
        breaks: &[V1_LAYOUT_002],
        flag_sets: &[],
        description: "pending_bytes accepts writes",
        hidden_over_vfio_user: None,
    },
];

impl Mutant {
    /// Every mutant.
    pub fn all() -> impl Iterator<Item = Mutant> {
        MUTANTS.iter().map(|m| m.mutant)
    }

    /// The mutant called `name`.
    pub fn named(name: &str) -> Option<Mutant> {
        MUTANTS.iter().find(|m| m.name == name).map(|m| m.mutant)
    }

    /// Its row of [`MUTANTS`].
    pub fn info(self) -> &'static MutantInfo {
        // The table follows the declaration order (a test checks it).
        &MUTANTS[self as usize]
    }

    /// A kebab-case name for reports.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The requirements it breaks.
    pub fn breaks(self) -> &'static [Req] {
        self.info().breaks
    }

    /// What the bug is, for reports.
    pub fn description(self) -> &'static str {
        self.info().description
    }

    /// Which protocol it lives in.
    pub fn protocol(self) -> ProtocolName {
        self.info().protocol
    }

    /// The v2 flag sets under which it shows.
    pub fn flag_sets(self) -> impl Iterator<Item = MigrationFlags> {
        self.info()
            .flag_sets
            .iter()
            .filter_map(|b| MigrationFlags::new(*b).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_follows_the_declaration_order() {
        for (i, m) in MUTANTS.iter().enumerate() {
            assert_eq!(m.mutant as usize, i, "{} is out of place", m.name);
        }
    }

    #[test]
    fn every_mutant_breaks_a_rule_of_its_own_protocol() {
        for m in MUTANTS {
            assert!(!m.breaks.is_empty(), "{}", m.name);
            assert!(m.breaks.iter().all(|r| r.protocol() == m.protocol), "{}", m.name);
            for bits in m.flag_sets {
                assert!(MigrationFlags::new(*bits).is_ok(), "{}", m.name);
            }
            assert_eq!(
                m.flag_sets.is_empty(),
                m.protocol == ProtocolName::V1,
                "{}",
                m.name
            );
        }
    }
}
