//! The decisions of `spec/decisions.yaml` that change what the model allows.

use std::fmt;

/// DEC-001: what a v1 `device_state` read reports after a failed write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V1FailedWrite {
    /// Only the previous state.
    Previous,
    /// The previous state, or the error state after an internal error.
    PreviousOrError,
}

/// DEC-002: whether v1 has an error state and how it is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V1ErrorState {
    /// No error indication (the v10 patch): a failed write always leaves the previous state.
    None,
    /// The otherwise invalid value 110b, left only by reset (merged in 5.8).
    ErrorValue,
}

/// DEC-003: which v1 arcs a driver must accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V1Arcs {
    /// The driver chooses; any arc may be refused cleanly.
    DriverChooses,
    /// The arcs of the documented flows must work; others are done or refused cleanly.
    FlowsRequired,
    /// Every valid-to-valid arc must work.
    AllRequired,
}

/// DEC-004: which errnos mean "try again".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrnoPolicy {
    /// Every error ends the transfer.
    AnyErrorFatal,
    /// EAGAIN and EINTR mean try again; every other errno ends the transfer.
    EagainRetry,
}

/// DEC-005: may the resuming side split or merge the source's chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Segmentation {
    /// Every chunk is written back whole, with its source size.
    Indivisible,
    /// Only byte order matters.
    ByteStream,
}

/// DEC-008: how a v1 driver with no pre-copy data says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoPrecopyData {
    /// It reports `pending_bytes` 0 in pre-copy (merged).
    PendingZero,
    /// It may refuse the move to pre-copy.
    RefusePreCopy,
}

/// DEC-010: may the user write the v1 error value 110b.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V1ErrorWrite {
    /// The write is refused, state unchanged.
    Refuse,
    /// Undefined: the device may refuse it or enter the error state.
    Undefined,
}

/// DEC-011: which states a failed v2 SET may leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailedSet {
    /// The original state, an interior state of the path, or ERROR.
    InteriorOnly,
    /// Any state on the path including the target, or ERROR.
    AnyOnPath,
}

/// DEC-012: out-of-order v1 register accesses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutOfOrder {
    /// The access fails with an errno.
    Reject,
    /// Undefined: any answer is allowed.
    Undefined,
}

/// DEC-013: what a v2 pre-copy read returns at a temporary end of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrecopyEnd {
    /// Only ENOMSG.
    EnomsgOnly,
    /// ENOMSG, or a read of 0 bytes.
    EnomsgOrZero,
}

/// The chosen decisions. Fields are named for what they decide; each
/// documents its decision ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Profile {
    /// DEC-001.
    pub v1_failed_write: V1FailedWrite,
    /// DEC-002.
    pub v1_error_state: V1ErrorState,
    /// DEC-003.
    pub v1_arcs: V1Arcs,
    /// DEC-004.
    pub errno_policy: ErrnoPolicy,
    /// DEC-005.
    pub segmentation: Segmentation,
    /// DEC-008.
    pub no_precopy_data: NoPrecopyData,
    /// DEC-010.
    pub v1_error_write: V1ErrorWrite,
    /// DEC-011.
    pub failed_set: FailedSet,
    /// DEC-012.
    pub out_of_order: OutOfOrder,
    /// DEC-013.
    pub precopy_end: PrecopyEnd,
}

/// Which protocol a default profile is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolKind {
    /// The v1 migration region.
    V1,
    /// The v2 state machine.
    V2,
}

/// Why a decision choice was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileError {
    /// No decision has this ID.
    UnknownDecision(String),
    /// The decision exists but is not selectable: its alternatives are
    /// recorded history (for example a bug that was fixed before merge).
    Fixed {
        /// The decision.
        id: &'static str,
        /// The only option the model implements.
        only: &'static str,
    },
    /// The option key is not one of the decision's options.
    UnknownOption {
        /// The decision.
        id: &'static str,
        /// The key given.
        option: String,
        /// The keys accepted.
        expected: &'static [&'static str],
    },
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileError::UnknownDecision(id) => write!(f, "no decision {id}"),
            ProfileError::Fixed { id, only } => write!(
                f,
                "{id} is fixed: the model implements only {only:?}; the other options are recorded history"
            ),
            ProfileError::UnknownOption { id, option, expected } => {
                write!(
                    f,
                    "{id}: unknown option {option:?} (expected one of {expected:?})"
                )
            }
        }
    }
}

impl std::error::Error for ProfileError {}

/// A decision as the model knows it: its ID, option keys and whether it can
/// be chosen. `spec/decisions.yaml` must agree (a test checks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionInfo {
    /// Decision ID.
    pub id: &'static str,
    /// Option keys, as in `spec/decisions.yaml`.
    pub options: &'static [&'static str],
    /// `None` when selectable; otherwise the one option the model implements.
    pub fixed: Option<&'static str>,
}

/// Every decision the model knows of.
pub const DECISIONS: &[DecisionInfo] = &[
    DecisionInfo {
        id: "DEC-001",
        options: &["previous", "previous-or-error"],
        fixed: None,
    },
    DecisionInfo {
        id: "DEC-002",
        options: &["none", "error-bit", "error-value"],
        fixed: None,
    },
    DecisionInfo {
        id: "DEC-003",
        options: &["driver-chooses", "flows-required", "all-required"],
        fixed: None,
    },
    DecisionInfo {
        id: "DEC-004",
        options: &["any-error-fatal", "eagain-retry"],
        fixed: None,
    },
    DecisionInfo {
        id: "DEC-005",
        options: &["indivisible", "byte-stream"],
        fixed: None,
    },
    DecisionInfo {
        id: "DEC-006",
        options: &["zero", "equal-running"],
        fixed: Some("zero"),
    },
    DecisionInfo {
        id: "DEC-007",
        options: &["valid-macro", "invalid-case-list"],
        fixed: Some("valid-macro"),
    },
    DecisionInfo {
        id: "DEC-008",
        options: &["pending-zero", "refuse-pre-copy"],
        fixed: None,
    },
    DecisionInfo {
        id: "DEC-009",
        options: &["user-decides", "must-return-to-running"],
        fixed: Some("user-decides"),
    },
    DecisionInfo {
        id: "DEC-010",
        options: &["refuse", "undefined"],
        fixed: None,
    },
    DecisionInfo {
        id: "DEC-011",
        options: &["interior-only", "any-on-path"],
        fixed: None,
    },
    DecisionInfo {
        id: "DEC-012",
        options: &["reject", "undefined"],
        fixed: None,
    },
    DecisionInfo {
        id: "DEC-013",
        options: &["enomsg-only", "enomsg-or-zero"],
        fixed: None,
    },
];

impl Profile {
    /// Our default choices for a protocol (`spec/decisions.yaml` defaults,
    /// with per-protocol overrides).
    pub fn defaults(protocol: ProtocolKind) -> Self {
        Profile {
            v1_failed_write: V1FailedWrite::PreviousOrError,
            v1_error_state: V1ErrorState::ErrorValue,
            v1_arcs: V1Arcs::FlowsRequired,
            errno_policy: ErrnoPolicy::EagainRetry,
            segmentation: match protocol {
                ProtocolKind::V1 => Segmentation::Indivisible,
                ProtocolKind::V2 => Segmentation::ByteStream,
            },
            no_precopy_data: NoPrecopyData::PendingZero,
            v1_error_write: V1ErrorWrite::Refuse,
            failed_set: FailedSet::AnyOnPath,
            out_of_order: OutOfOrder::Reject,
            precopy_end: PrecopyEnd::EnomsgOnly,
        }
    }

    /// Sets one decision by its ID and option key, as written in
    /// `spec/decisions.yaml`.
    pub fn choose(&mut self, id: &str, option: &str) -> Result<(), ProfileError> {
        let info = DECISIONS
            .iter()
            .find(|d| d.id == id)
            .ok_or_else(|| ProfileError::UnknownDecision(id.to_owned()))?;
        if !info.options.contains(&option) {
            return Err(ProfileError::UnknownOption {
                id: info.id,
                option: option.to_owned(),
                expected: info.options,
            });
        }
        if let Some(only) = info.fixed {
            return if option == only {
                Ok(())
            } else {
                Err(ProfileError::Fixed { id: info.id, only })
            };
        }
        match (info.id, option) {
            ("DEC-001", "previous") => self.v1_failed_write = V1FailedWrite::Previous,
            ("DEC-001", _) => self.v1_failed_write = V1FailedWrite::PreviousOrError,
            // A separate error bit is not part of any merged layout; for the
            // model it behaves like the error value (an error is reported
            // and only reset leaves it).
            ("DEC-002", "none") => self.v1_error_state = V1ErrorState::None,
            ("DEC-002", _) => self.v1_error_state = V1ErrorState::ErrorValue,
            ("DEC-003", "driver-chooses") => self.v1_arcs = V1Arcs::DriverChooses,
            ("DEC-003", "flows-required") => self.v1_arcs = V1Arcs::FlowsRequired,
            ("DEC-003", _) => self.v1_arcs = V1Arcs::AllRequired,
            ("DEC-004", "any-error-fatal") => self.errno_policy = ErrnoPolicy::AnyErrorFatal,
            ("DEC-004", _) => self.errno_policy = ErrnoPolicy::EagainRetry,
            ("DEC-005", "indivisible") => self.segmentation = Segmentation::Indivisible,
            ("DEC-005", _) => self.segmentation = Segmentation::ByteStream,
            ("DEC-008", "pending-zero") => self.no_precopy_data = NoPrecopyData::PendingZero,
            ("DEC-008", _) => self.no_precopy_data = NoPrecopyData::RefusePreCopy,
            ("DEC-010", "refuse") => self.v1_error_write = V1ErrorWrite::Refuse,
            ("DEC-010", _) => self.v1_error_write = V1ErrorWrite::Undefined,
            ("DEC-011", "interior-only") => self.failed_set = FailedSet::InteriorOnly,
            ("DEC-011", _) => self.failed_set = FailedSet::AnyOnPath,
            ("DEC-012", "reject") => self.out_of_order = OutOfOrder::Reject,
            ("DEC-012", _) => self.out_of_order = OutOfOrder::Undefined,
            ("DEC-013", "enomsg-only") => self.precopy_end = PrecopyEnd::EnomsgOnly,
            _ => self.precopy_end = PrecopyEnd::EnomsgOrZero,
        }
        Ok(())
    }

    /// Whether an errno from a data transfer means "try again" under DEC-004.
    pub fn is_retryable(&self, e: crate::Errno) -> bool {
        self.errno_policy == ErrnoPolicy::EagainRetry
            && (e == crate::Errno::EAGAIN || e == crate::Errno::EINTR)
    }
}
