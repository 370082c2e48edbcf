//! The decisions of `spec/decisions.yaml` that change what the model allows.
//!
//! Every decision, its options and the options the model implements are
//! generated from the YAML ([`vfio_mig_spec::ids`]); the model names the
//! ones it varies on below, and matches their options exhaustively, so a new
//! option in the YAML does not compile until the model says what it means.

use vfio_mig_spec::ids::{self, Choice, Decisions};
use vfio_mig_spec::{ChoiceError, ProtocolName};

/// DEC-001: what a v1 `device_state` read reports after a failed write.
pub type V1FailedWrite = ids::Dec001;
/// DEC-002: whether v1 has an error state and how it is left.
pub type V1ErrorState = ids::Dec002;
/// DEC-003: which v1 arcs a driver must accept.
pub type V1Arcs = ids::Dec003;
/// DEC-004: which errnos mean "try again".
pub type ErrnoPolicy = ids::Dec004;
/// DEC-005: may the resuming side split or merge the source's chunks.
pub type Segmentation = ids::Dec005;
/// DEC-008: how a v1 driver with no pre-copy data says so.
pub type NoPrecopyData = ids::Dec008;
/// DEC-010: may the user write the v1 error value 110b.
pub type V1ErrorWrite = ids::Dec010;
/// DEC-011: which states a failed v2 SET may leave.
pub type FailedSet = ids::Dec011;
/// DEC-012: out-of-order v1 register accesses.
pub type OutOfOrder = ids::Dec012;
/// DEC-013: what a v2 pre-copy read returns at a temporary end of data.
pub type PrecopyEnd = ids::Dec013;
/// DEC-018: whether a corrupted stream of the saved length must be refused.
pub type CorruptStream = ids::Dec018;

/// Why a decision choice was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The catalogue has no such decision or option.
    #[error(transparent)]
    Unknown(#[from] ChoiceError),
    /// The decision is about the other protocol.
    #[error("{id} does not apply to {protocol}")]
    OtherProtocol {
        /// The decision.
        id: &'static str,
        /// The protocol being judged.
        protocol: ProtocolName,
    },
    /// The model does not implement this option for this protocol.
    #[error("{id}={option}: the model implements only {implemented:?} for {protocol}")]
    NotImplemented {
        /// The decision.
        id: &'static str,
        /// The option asked for.
        option: &'static str,
        /// The protocol being judged.
        protocol: ProtocolName,
        /// The options it implements.
        implemented: Vec<&'static str>,
    },
    /// The same decision was chosen twice, differently.
    #[error("{id} chosen twice: {first} and {second}")]
    Contradiction {
        /// The decision.
        id: &'static str,
        /// The first option chosen.
        first: &'static str,
        /// The second option chosen.
        second: &'static str,
    },
}

/// The chosen decisions for one protocol.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Profile {
    protocol: ProtocolName,
    decisions: Decisions,
    chosen: Vec<Choice>,
}

impl Profile {
    /// The catalogue's defaults for a protocol.
    pub fn defaults(protocol: ProtocolName) -> Self {
        Profile {
            protocol,
            decisions: Decisions::defaults(protocol),
            chosen: Vec::new(),
        }
    }

    /// The protocol this profile judges.
    pub fn protocol(&self) -> ProtocolName {
        self.protocol
    }

    /// Takes one option of one decision. Refused when the decision is about
    /// the other protocol, when the model does not implement the option, or
    /// when the decision was already chosen otherwise.
    pub fn choose(&mut self, choice: Choice) -> Result<(), ProfileError> {
        let implemented = choice.model_keys(self.protocol);
        if implemented.is_empty() {
            return Err(ProfileError::OtherProtocol {
                id: choice.id(),
                protocol: self.protocol,
            });
        }
        if !implemented.contains(&choice.key()) {
            return Err(ProfileError::NotImplemented {
                id: choice.id(),
                option: choice.key(),
                protocol: self.protocol,
                implemented,
            });
        }
        if let Some(first) = self.chosen.iter().find(|c| c.id() == choice.id()) {
            if *first != choice {
                return Err(ProfileError::Contradiction {
                    id: choice.id(),
                    first: first.key(),
                    second: choice.key(),
                });
            }
            return Ok(());
        }
        self.chosen.push(choice);
        self.decisions.set(choice);
        Ok(())
    }

    /// [`Profile::choose`] with the decision and option as
    /// `spec/decisions.yaml` spells them (`DEC-013`, `enomsg-or-zero`).
    pub fn decide(&mut self, id: &str, option: &str) -> Result<(), ProfileError> {
        self.choose(Choice::parse(id, option)?)
    }

    /// The choices made with [`Profile::choose`], in order.
    pub fn chosen(&self) -> &[Choice] {
        &self.chosen
    }

    /// Every decision as it stands.
    pub fn decisions(&self) -> &Decisions {
        &self.decisions
    }

    /// DEC-001.
    pub fn v1_failed_write(&self) -> V1FailedWrite {
        self.decisions.dec001
    }

    /// DEC-002.
    pub fn v1_error_state(&self) -> V1ErrorState {
        self.decisions.dec002
    }

    /// DEC-003.
    pub fn v1_arcs(&self) -> V1Arcs {
        self.decisions.dec003
    }

    /// DEC-004.
    pub fn errno_policy(&self) -> ErrnoPolicy {
        self.decisions.dec004
    }

    /// DEC-005.
    pub fn segmentation(&self) -> Segmentation {
        self.decisions.dec005
    }

    /// DEC-008.
    pub fn no_precopy_data(&self) -> NoPrecopyData {
        self.decisions.dec008
    }

    /// DEC-010.
    pub fn v1_error_write(&self) -> V1ErrorWrite {
        self.decisions.dec010
    }

    /// DEC-011.
    pub fn failed_set(&self) -> FailedSet {
        self.decisions.dec011
    }

    /// DEC-012.
    pub fn out_of_order(&self) -> OutOfOrder {
        self.decisions.dec012
    }

    /// DEC-013.
    pub fn precopy_end(&self) -> PrecopyEnd {
        self.decisions.dec013
    }

    /// DEC-018.
    pub fn corrupt_stream(&self) -> CorruptStream {
        self.decisions.dec018
    }

    /// Whether an errno from a data transfer means "try again" under DEC-004.
    pub fn is_retryable(&self, e: crate::Errno) -> bool {
        match self.errno_policy() {
            ErrnoPolicy::EagainRetry => e == crate::Errno::EAGAIN || e == crate::Errno::EINTR,
            ErrnoPolicy::AnyErrorFatal => false,
        }
    }
}
