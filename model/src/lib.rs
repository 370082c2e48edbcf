//! Pure reference model of VFIO device migration.
//!
//! The model answers two questions for every operation a user program can
//! issue: which outcomes are allowed ([`Protocol::allowed`]) and, given the
//! outcome the device chose, what the model believes the device's state is
//! now ([`Protocol::advance`]). Where the uAPI leaves a choice to the device
//! (a failed transition may stop anywhere on its path, or in ERROR), the model
//! keeps every candidate state in a [`Belief`] until an observation narrows it.
//!
//! Two protocols implement [`Protocol`]: [`v1::Region`], the migration region
//! of Linux 5.8, and [`v2::Fsm`], the `VFIO_DEVICE_FEATURE` state machine of
//! Linux 5.18 and later. Both take a [`Profile`]: the decisions of
//! `spec/decisions.yaml` that change what is allowed.
//!
//! No I/O, no clocks, no randomness.
#![forbid(unsafe_code)]

mod belief;
mod errno;
mod profile;
pub mod v1;
pub mod v2;

/// The catalogue's requirement IDs, each knowing its level (generated from
/// `spec/*.yaml` in `vfio-mig-spec`).
pub use vfio_mig_spec::ids as reqs;
pub use vfio_mig_spec::{join_ids, Level, ProtocolName, Req, Uapi};

pub use belief::Belief;
pub use errno::{Errno, ErrnoSet};
pub use profile::*;

use smallvec::SmallVec;
use std::fmt;

/// How an allowed outcome counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// What a healthy, conforming device does.
    Normal,
    /// Misses the rules named in the allowance. Its severity is theirs: it
    /// is a warning only when none of them is a MUST; an outcome that
    /// misses a MUST is a violation whatever the allowance says.
    Warn,
    /// Not allowed: an outcome the uAPI forbids, listed so that the
    /// violation names the rule it breaks (a fresh data fd that the kernel
    /// calls bad breaks the SET that returned it, not the read).
    Breaks,
    /// Allowed only when the device suffered an internal failure (or one was
    /// injected): without a fault it breaks the rules named in the allowance.
    Fault,
}

/// One outcome pattern, with the rules that govern it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance<E> {
    /// What the outcome must look like.
    pub expect: E,
    /// Normal, Warn or Fault.
    pub kind: Kind,
    /// Requirement IDs: for `Normal` the rules it satisfies, for `Warn` the
    /// SHOULD it misses, for `Fault` the rules it breaks when no fault was
    /// injected.
    pub reqs: &'static [Req],
}

impl<E> Allowance<E> {
    /// Whether an outcome fitting this pattern is allowed at all (without a
    /// fault for [`Kind::Fault`]): not a [`Kind::Breaks`] pattern, and not a
    /// warning that misses a MUST.
    pub fn permitted(&self) -> bool {
        match self.kind {
            Kind::Normal | Kind::Fault => true,
            Kind::Breaks => false,
            Kind::Warn => !self.reqs.iter().any(|r| r.level() == Level::Must),
        }
    }

    /// The rules an outcome fitting a pattern that is not
    /// [`permitted`](Self::permitted) breaks.
    fn forbidden_by(&self) -> Vec<Req> {
        match self.kind {
            Kind::Warn => self
                .reqs
                .iter()
                .copied()
                .filter(|r| r.level() == Level::Must)
                .collect(),
            _ => self.reqs.to_vec(),
        }
    }
}

/// An outcome pattern: matches observed outcomes.
pub trait Expectation<O>: Clone + fmt::Debug + fmt::Display + PartialEq {
    /// Whether `observed` fits this pattern.
    fn matches(&self, observed: &O) -> bool;

    /// An outcome that fits this pattern, varied by `seed`: used to drive
    /// the model on its own (property tests, exploration, a mock device).
    fn example(&self, seed: u64) -> O;
}

/// A value in `min..=max` picked by `seed`.
pub fn pick_in(min: u64, max: u64, seed: u64) -> u64 {
    if max < min {
        return min;
    }
    match (max - min).checked_add(1) {
        Some(span) => min + seed % span,
        None => seed,
    }
}

/// The set of outcomes the model allows for one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed<E> {
    /// The allowed patterns (never empty).
    pub items: SmallVec<[Allowance<E>; 6]>,
    /// The rules that define this operation's behaviour, named when the
    /// observed outcome fits none of the patterns. May hold a rule twice;
    /// readers deduplicate.
    pub governing: SmallVec<[Req; 20]>,
    /// The rules to blame, and only these, when the outcome fits none of
    /// the patterns: a GET that contradicts the model breaks the rule that
    /// set the state it should have reported, not the GET's own rules.
    pub blame: SmallVec<[Req; 4]>,
}

impl<E: PartialEq> Allowed<E> {
    /// An empty set governed by `reqs`.
    pub fn governed_by(reqs: &[Req]) -> Self {
        Allowed {
            items: SmallVec::new(),
            governing: SmallVec::from_slice(reqs),
            blame: SmallVec::new(),
        }
    }

    /// Adds a pattern (deduplicated).
    pub fn push(&mut self, expect: E, kind: Kind, reqs: &'static [Req]) {
        let same = |a: &Allowance<E>| {
            a.kind == kind && a.expect == expect && (std::ptr::eq(a.reqs, reqs) || a.reqs == reqs)
        };
        if !self.items.iter().any(same) {
            self.items.push(Allowance { expect, kind, reqs });
        }
    }

    /// The rules an outcome that fits none of the patterns breaks: those of
    /// the normal patterns (what the device should have done) and the
    /// governing rules no pattern names (the rule that set the state a GET
    /// reports, the rule that excludes an errno); failing that, the rules of
    /// every pattern; failing that, every governing rule.
    pub fn broken_by_mismatch(&self) -> Vec<Req> {
        fn add(out: &mut Vec<Req>, reqs: impl IntoIterator<Item = Req>) {
            for r in reqs {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        let named = |r: &Req| self.items.iter().any(|a| a.reqs.contains(r));
        let mut out = Vec::new();
        if !self.blame.is_empty() {
            add(&mut out, self.blame.iter().copied());
            return out;
        }
        let normal = self.items.iter().filter(|a| a.kind == Kind::Normal);
        add(&mut out, normal.flat_map(|a| a.reqs.iter().copied()));
        add(&mut out, self.governing.iter().filter(|r| !named(r)).copied());
        if out.is_empty() {
            add(&mut out, self.items.iter().flat_map(|a| a.reqs.iter().copied()));
        }
        if out.is_empty() {
            add(&mut out, self.governing.iter().copied());
        }
        out
    }

    /// Merges another set into this one (used across belief candidates).
    pub fn merge(&mut self, other: &Allowed<E>)
    where
        E: Clone,
    {
        for a in &other.items {
            self.push(a.expect.clone(), a.kind, a.reqs);
        }
        self.governing.extend_from_slice(&other.governing);
        for r in &other.blame {
            if !self.blame.contains(r) {
                self.blame.push(*r);
            }
        }
    }

    /// Empties the set, keeping its storage.
    pub fn clear(&mut self) {
        self.items.clear();
        self.governing.clear();
        self.blame.clear();
    }
}

impl<E: fmt::Display> fmt::Display for Allowed<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.items.iter().filter(|a| a.permitted()).enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            match a.kind {
                Kind::Normal => write!(f, "{}", a.expect)?,
                Kind::Warn => write!(f, "{} (warn)", a.expect)?,
                Kind::Fault => write!(f, "{} (on fault)", a.expect)?,
                Kind::Breaks => {}
            }
        }
        Ok(())
    }
}

/// How an observed outcome was judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// A normal outcome.
    Pass,
    /// Allowed, but misses the SHOULDs named.
    Warn(Vec<Req>),
    /// Allowed only under a fault; without one it breaks the rules named.
    Fault(Vec<Req>),
}

/// An observed outcome the model does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rules that define the operation's behaviour.
    pub reqs: Vec<Req>,
    /// The operation, rendered.
    pub op: String,
    /// What the model allowed, rendered.
    pub allowed: String,
    /// What the device did, rendered.
    pub observed: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}: observed {}, allowed {}",
            vfio_mig_spec::join_ids(&self.reqs, ", "),
            self.op,
            self.observed,
            self.allowed
        )
    }
}

impl std::error::Error for Violation {}

/// A migration protocol as a nondeterministic state machine.
///
/// Implementors describe one concrete device state at a time
/// ([`Protocol::expectations`], [`Protocol::successors`]); the provided methods
/// lift that to a [`Belief`], the set of states the device may be in.
pub trait Protocol {
    /// One concrete model state.
    type State: Copy + Eq + std::hash::Hash + fmt::Debug + Send + Sync + 'static;
    /// An action a user program performs.
    type Op: Clone + PartialEq + fmt::Debug + fmt::Display + Send + Sync + 'static;
    /// What the device answered.
    type Outcome: Clone + fmt::Debug + fmt::Display + PartialEq + Send + Sync + 'static;
    /// A pattern over outcomes.
    type Expect: Expectation<Self::Outcome> + Send + Sync + 'static;

    /// The state of a freshly opened device.
    fn initial(&self) -> Self::State;

    /// Adds to `out` the outcomes allowed for `op` in the concrete state
    /// `state`, and the rules that govern them.
    fn expectations(&self, state: &Self::State, op: &Self::Op, out: &mut Allowed<Self::Expect>);

    /// The concrete states after `op` was answered with `observed`, which
    /// matched `allowance`. Pushes one or more states into `out`.
    fn successors(
        &self,
        state: &Self::State,
        op: &Self::Op,
        allowance: &Allowance<Self::Expect>,
        observed: &Self::Outcome,
        out: &mut Belief<Self::State>,
    );

    /// The belief about a freshly opened device.
    fn start(&self) -> Belief<Self::State> {
        Belief::one(self.initial())
    }

    /// The belief about a device closed and opened again after `belief`:
    /// a fresh device, unless something of the last open must be
    /// remembered to judge the new one (by default nothing).
    fn reopen(&self, belief: &Belief<Self::State>) -> Belief<Self::State> {
        let _ = belief;
        self.start()
    }

    /// The outcomes allowed for `op` in any state of `belief`.
    fn allowed(&self, belief: &Belief<Self::State>, op: &Self::Op) -> Allowed<Self::Expect> {
        let mut all = Allowed::governed_by(&[]);
        for s in belief.iter() {
            self.expectations(s, op, &mut all);
        }
        all
    }

    /// Follows the device: the new belief after `op` was answered with
    /// `observed`, and how that outcome was judged, or the violation.
    fn advance(
        &self,
        belief: &Belief<Self::State>,
        op: &Self::Op,
        observed: &Self::Outcome,
    ) -> Result<(Belief<Self::State>, Judgement), Violation> {
        self.judge(belief, op, observed).1
    }

    /// [`Protocol::allowed`] and [`Protocol::advance`] in one pass: the
    /// outcomes allowed for `op` (with the rules that govern them), and the
    /// judgement of `observed`.
    #[allow(clippy::type_complexity)]
    fn judge(
        &self,
        belief: &Belief<Self::State>,
        op: &Self::Op,
        observed: &Self::Outcome,
    ) -> (
        Allowed<Self::Expect>,
        Result<(Belief<Self::State>, Judgement), Violation>,
    ) {
        let mut allowed = Allowed::governed_by(&[]);
        let mut next = Belief::empty();
        let r = self.judge_into(belief, op, observed, &mut allowed, &mut next);
        (allowed, r.map(|j| (next, j)))
    }

    /// [`Protocol::judge`] into buffers the caller keeps, which a checker
    /// judging millions of operations reuses: `allowed` and `next` are
    /// cleared first, then receive the allowed outcomes and the new belief.
    fn judge_into(
        &self,
        belief: &Belief<Self::State>,
        op: &Self::Op,
        observed: &Self::Outcome,
        allowed: &mut Allowed<Self::Expect>,
        next: &mut Belief<Self::State>,
    ) -> Result<Judgement, Violation> {
        allowed.clear();
        next.clear();
        let mut best: Option<(Kind, &'static [Req])> = None;
        // A pattern that is not permitted (a forbidden outcome, a warning
        // that misses a MUST) is not followed: remembered to name its rule
        // when no permitted pattern matches.
        let mut forbidden: Option<Vec<Req>> = None;
        let mut one = Allowed::governed_by(&[]);
        for (i, s) in belief.iter().enumerate() {
            let into = if i == 0 {
                &mut *allowed
            } else {
                one.clear();
                &mut one
            };
            self.expectations(s, op, into);
            // Every matching pattern is followed (the device may be in any
            // state they lead to); the judgement is the most favourable one.
            for a in into.items.iter().filter(|a| a.expect.matches(observed)) {
                if !a.permitted() {
                    forbidden.get_or_insert_with(|| a.forbidden_by());
                    continue;
                }
                self.successors(s, op, a, observed, next);
                if best.is_none_or(|(k, _)| a.kind < k) {
                    best = Some((a.kind, a.reqs));
                }
            }
            if i > 0 {
                allowed.merge(&one);
            }
        }
        let violation = |reqs: Vec<Req>| Violation {
            reqs,
            op: op.to_string(),
            allowed: allowed.to_string(),
            observed: observed.to_string(),
        };
        match (best, forbidden) {
            (Some((Kind::Normal, _)), _) => Ok(Judgement::Pass),
            (Some((Kind::Warn, reqs)), _) => Ok(Judgement::Warn(reqs.to_vec())),
            // A forbidden outcome the model names is blamed on its rule,
            // before an allowance that needs a fault.
            (_, Some(reqs)) => Err(violation(reqs)),
            (Some((Kind::Fault, reqs)), None) => Ok(Judgement::Fault(reqs.to_vec())),
            (Some((Kind::Breaks, reqs)), None) => Err(violation(reqs.to_vec())),
            (None, None) => Err(violation(allowed.broken_by_mismatch())),
        }
    }
}
