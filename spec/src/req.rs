//! Typed requirement IDs and decision options, as the generated [`ids`](crate::ids)
//! module spells them.

use crate::{Level, ProtocolName};
use std::fmt;

/// A requirement of the catalogue: its ID and its level.
///
/// Values come only from the generated constants in [`crate::ids`], so an ID
/// that is not in the catalogue cannot be named, and every ID knows whether
/// it is a MUST, a SHOULD or a MAY.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Req {
    id: &'static str,
    level: Level,
}

impl Req {
    /// Used by the generated constants only.
    #[doc(hidden)]
    pub const fn new(id: &'static str, level: Level) -> Self {
        Req { id, level }
    }

    /// The ID text (`V2-ARC-007`).
    pub const fn id(self) -> &'static str {
        self.id
    }

    /// MUST, SHOULD or MAY.
    pub const fn level(self) -> Level {
        self.level
    }

    /// The name of its generated constant (`V2_ARC_007`).
    pub fn ident(self) -> String {
        self.id.replace('-', "_")
    }

    /// The protocol whose file holds the requirement.
    pub fn protocol(self) -> ProtocolName {
        if self.id.starts_with("V1-") {
            ProtocolName::V1
        } else {
            ProtocolName::V2
        }
    }
}

impl fmt::Display for Req {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

impl fmt::Debug for Req {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

impl PartialEq<&str> for Req {
    fn eq(&self, other: &&str) -> bool {
        self.id == *other
    }
}

/// The options of one decision, generated as an enum per decision.
pub trait OptionSet: Copy + Eq + fmt::Debug + 'static {
    /// The decision's ID (`DEC-013`).
    const ID: &'static str;
    /// Every option, ordered by key.
    const ALL: &'static [Self];
    /// The option's key as `decisions.yaml` spells it.
    fn key(self) -> &'static str;
    /// The options the reference model implements for `protocol`; empty
    /// when the decision does not apply to that protocol.
    fn model(protocol: ProtocolName) -> &'static [Self];
}

/// Why `ID=OPTION` names no option of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChoiceError {
    /// No decision has this ID.
    #[error("no decision {0:?} in the catalogue")]
    UnknownDecision(String),
    /// The decision has no option with this key.
    #[error("{id}: unknown option {option:?} (expected one of {expected:?})")]
    UnknownOption {
        /// The decision.
        id: &'static str,
        /// The key given.
        option: String,
        /// The keys it has.
        expected: Vec<&'static str>,
    },
}

/// The IDs of `reqs` joined by `sep` (`V2-ARC-001, V2-FD-001`).
pub fn join_ids(reqs: &[Req], sep: &str) -> String {
    reqs.iter().map(|r| r.id()).collect::<Vec<_>>().join(sep)
}
