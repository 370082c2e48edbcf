//! Deliberately wrong variants of the mock, each modelled on a real class of
//! driver bug and each breaking one named requirement. The suites must catch
//! every one of them (a test iterates this catalogue).

use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::MigrationFlags;
use vfio_mig_model::ProtocolKind;

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

impl Mutant {
    /// Every mutant.
    pub const ALL: &'static [Mutant] = &[
        Mutant::AcceptsBlockedArc,
        Mutant::RefusesMandatoryArc,
        Mutant::WrongStateAfterFailure,
        Mutant::LeavesErrorWithoutReset,
        Mutant::DeadFdReadable,
        Mutant::StreamTruncated,
        Mutant::StreamReordered,
        Mutant::ResumeAcceptsGarbage,
        Mutant::ResumeAcceptsPartial,
        Mutant::ResumeAppliesPartial,
        Mutant::PrecopyInfoOutsidePrecopy,
        Mutant::EnomsgInStopCopy,
        Mutant::ZeroReadInPrecopy,
        Mutant::InitialBytesGrow,
        Mutant::NoFdOnPrecopy,
        Mutant::NewFdInsideSavingGroup,
        Mutant::SetErrorAccepted,
        Mutant::StateNumberEightAccepted,
        Mutant::DriftsByItself,
        Mutant::ResetToStop,
        Mutant::SaveFdWritable,
        Mutant::ReadsTooMuch,
        Mutant::V1StopIsOne,
        Mutant::V1PendingNotIdempotent,
        Mutant::V1DataSizeBeforeOffset,
        Mutant::V1FailedWriteThirdState,
        Mutant::V1ErrorLeftByWrite,
        Mutant::V1InvalidValueAccepted,
        Mutant::V1PendingWritable,
    ];

    /// A kebab-case name for reports.
    pub fn name(self) -> &'static str {
        self.info().0
    }

    /// The requirements it breaks (the check that catches it names one).
    pub fn breaks(self) -> &'static [&'static str] {
        self.info().1
    }

    /// What the bug is, for reports.
    pub fn description(self) -> &'static str {
        self.info().2
    }

    /// Which protocol it lives in.
    pub fn protocol(self) -> ProtocolKind {
        if self.name().starts_with("v1-") {
            ProtocolKind::V1
        } else {
            ProtocolKind::V2
        }
    }

    /// The v2 flags that expose it (`None`: any).
    pub fn flags(self) -> Option<MigrationFlags> {
        let pre = MigrationFlags::new(0b101).ok();
        match self {
            Mutant::PrecopyInfoOutsidePrecopy
            | Mutant::ZeroReadInPrecopy
            | Mutant::InitialBytesGrow
            | Mutant::NoFdOnPrecopy
            | Mutant::NewFdInsideSavingGroup
            | Mutant::AcceptsBlockedArc => pre,
            _ => None,
        }
    }

    fn info(self) -> (&'static str, &'static [&'static str], &'static str) {
        match self {
            Mutant::AcceptsBlockedArc => (
                "accepts-blocked-arc",
                &[V2_ARC_007],
                "STOP_COPY -> PRE_COPY succeeds",
            ),
            Mutant::RefusesMandatoryArc => (
                "refuses-mandatory-arc",
                &[V2_ARC_001],
                "STOP -> RESUMING is refused",
            ),
            Mutant::WrongStateAfterFailure => (
                "wrong-state-after-failure",
                &[V2_ERR_001],
                "a failed SET ends in RESUMING, off its path",
            ),
            Mutant::LeavesErrorWithoutReset => (
                "leaves-error-without-reset",
                &[V2_ERR_003],
                "a SET out of ERROR succeeds",
            ),
            Mutant::DeadFdReadable => (
                "dead-fd-readable",
                &[V2_FD_004],
                "the saving fd reads 0 after STOP_COPY was left",
            ),
            Mutant::StreamTruncated => (
                "stream-truncated",
                &[V2_STREAM_005],
                "the stream ends before its trailer; no resume accepts it",
            ),
            Mutant::StreamReordered => (
                "stream-reordered",
                &[V2_STREAM_008],
                "the register snapshot is sent reversed",
            ),
            Mutant::ResumeAcceptsGarbage => (
                "resume-accepts-garbage",
                &[V2_STREAM_006],
                "RESUMING -> STOP accepts any bytes",
            ),
            Mutant::ResumeAcceptsPartial => (
                "resume-accepts-partial",
                &[V2_STREAM_006],
                "RESUMING -> STOP accepts a stream without its end",
            ),
            Mutant::ResumeAppliesPartial => (
                "resume-applies-partial",
                &[V2_STREAM_006],
                "a refused resume leaves part of the stream applied",
            ),
            Mutant::PrecopyInfoOutsidePrecopy => (
                "precopy-info-outside-precopy",
                &[V2_PRE_002],
                "PRECOPY_INFO answers in STOP_COPY",
            ),
            Mutant::EnomsgInStopCopy => (
                "enomsg-in-stop-copy",
                &[V2_PRE_004],
                "STOP_COPY ends with ENOMSG instead of 0",
            ),
            Mutant::ZeroReadInPrecopy => (
                "zero-read-in-precopy",
                &[V2_PRE_004],
                "pre-copy reads 0 instead of ENOMSG",
            ),
            Mutant::InitialBytesGrow => (
                "initial-bytes-grow",
                &[V2_PRE_003],
                "initial_bytes grows between calls",
            ),
            Mutant::NoFdOnPrecopy => (
                "no-fd-on-precopy",
                &[V2_FD_001],
                "RUNNING -> PRE_COPY returns no data fd",
            ),
            Mutant::NewFdInsideSavingGroup => (
                "new-fd-inside-saving-group",
                &[V2_FD_002],
                "PRE_COPY -> STOP_COPY returns a new fd",
            ),
            Mutant::SetErrorAccepted => ("set-error-accepted", &[V2_ARC_008], "SET ERROR succeeds"),
            Mutant::StateNumberEightAccepted => {
                ("state-eight-accepted", &[V2_ARC_010], "SET of state 8 succeeds")
            }
            Mutant::DriftsByItself => (
                "drifts-by-itself",
                &[V2_STATE_004],
                "RUNNING drifts to STOP after a GET",
            ),
            Mutant::ResetToStop => ("reset-to-stop", &[V2_ERR_002], "reset ends in STOP"),
            Mutant::SaveFdWritable => ("save-fd-writable", &[V2_FD_005], "the saving fd accepts writes"),
            Mutant::ReadsTooMuch => (
                "reads-too-much",
                &[V2_STREAM_003],
                "a read returns one byte more than asked",
            ),
            Mutant::V1StopIsOne => (
                "v1-stop-is-one",
                &[V1_STATE_001],
                "a stopped device reads back 001b",
            ),
            Mutant::V1PendingNotIdempotent => (
                "v1-pending-not-idempotent",
                &[V1_SAVE_002],
                "each pending_bytes read returns one less",
            ),
            Mutant::V1DataSizeBeforeOffset => (
                "v1-data-size-before-offset",
                &[V1_SAVE_009],
                "data_size is answered before data_offset",
            ),
            Mutant::V1FailedWriteThirdState => (
                "v1-failed-write-third-state",
                &[V1_FAIL_001],
                "after a failed write the device reads STOP",
            ),
            Mutant::V1ErrorLeftByWrite => (
                "v1-error-left-by-write",
                &[V1_FAIL_002],
                "a write leaves the error state",
            ),
            Mutant::V1InvalidValueAccepted => {
                ("v1-invalid-value-accepted", &[V1_ARC_008], "101b is accepted")
            }
            Mutant::V1PendingWritable => (
                "v1-pending-writable",
                &[V1_LAYOUT_002],
                "pending_bytes accepts writes",
            ),
        }
    }
}
