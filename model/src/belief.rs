//! A small set of candidate states.

use smallvec::SmallVec;
use std::fmt;

/// The states the device may be in, as far as the model knows.
///
/// Usually one state; after a failed transition, every state the uAPI lets
/// the device stop in, until an observation (a GET, a read) tells them apart.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Belief<S> {
    states: SmallVec<[S; 4]>,
}

impl<S: Copy + Eq> Belief<S> {
    /// No candidate (only used while building a belief).
    pub fn empty() -> Self {
        Belief {
            states: SmallVec::new(),
        }
    }

    /// Removes every candidate, keeping the storage.
    pub fn clear(&mut self) {
        self.states.clear();
    }

    /// Becomes a copy of `other`, copying only its candidates (cheaper than
    /// swapping or moving the inline storage).
    pub fn set_from(&mut self, other: &Self) {
        self.states.clear();
        self.states.extend_from_slice(&other.states);
    }

    /// Exactly one candidate.
    pub fn one(s: S) -> Self {
        Belief {
            states: smallvec::smallvec![s],
        }
    }

    /// Adds a candidate unless already present.
    pub fn insert(&mut self, s: S) {
        if !self.states.contains(&s) {
            self.states.push(s);
        }
    }

    /// The candidates.
    pub fn iter(&self) -> impl Iterator<Item = &S> {
        self.states.iter()
    }

    /// Number of candidates.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether there is no candidate.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The single candidate, when the state is known exactly.
    pub fn known(&self) -> Option<&S> {
        match self.states.as_slice() {
            [s] => Some(s),
            _ => None,
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for Belief<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(&self.states).finish()
    }
}
