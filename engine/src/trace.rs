//! What a check did, as typed values: the device calls with their outcomes
//! and timings, and the faults armed between them. Renderers (reports,
//! reproducers, trace files) read these; nothing is kept as text.

use std::time::Duration;
use vfio_mig_device::Fault;
use vfio_mig_model::v1::{self, Region};
use vfio_mig_model::v2::{self, Fsm};
use vfio_mig_model::Protocol;

/// One executed operation.
#[derive(Debug, Clone)]
pub struct TraceStep<P: Protocol> {
    /// What the user did.
    pub op: P::Op,
    /// What the device answered.
    pub outcome: P::Outcome,
    /// How long the device took.
    pub took: Duration,
}

impl<P: Protocol> PartialEq for TraceStep<P> {
    fn eq(&self, other: &Self) -> bool {
        self.op == other.op && self.outcome == other.outcome && self.took == other.took
    }
}

/// One event of a check on one device instance.
#[derive(Debug, Clone)]
pub enum Event<P: Protocol> {
    /// An operation and its outcome.
    Step(TraceStep<P>),
    /// A fault armed on the device before the next operation.
    Inject(Fault),
}

impl<P: Protocol> PartialEq for Event<P> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Event::Step(a), Event::Step(b)) => a == b,
            (Event::Inject(a), Event::Inject(b)) => a == b,
            _ => false,
        }
    }
}

impl<P: Protocol> Event<P> {
    /// The step, when this is one.
    pub fn step(&self) -> Option<&TraceStep<P>> {
        match self {
            Event::Step(s) => Some(s),
            Event::Inject(_) => None,
        }
    }
}

/// The events of a check, for the protocol it spoke.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Trace {
    /// No device call was made.
    #[default]
    Empty,
    /// A v1 device's events.
    V1(Vec<Event<Region>>),
    /// A v2 device's events.
    V2(Vec<Event<Fsm>>),
}

impl Trace {
    /// Number of device calls.
    pub fn len(&self) -> usize {
        self.took().len()
    }

    /// Whether no device call was made.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The time of each device call, in order.
    pub fn took(&self) -> Vec<Duration> {
        fn times<P: Protocol>(events: &[Event<P>]) -> Vec<Duration> {
            events.iter().filter_map(|e| e.step()).map(|s| s.took).collect()
        }
        match self {
            Trace::Empty => Vec::new(),
            Trace::V1(e) => times(e),
            Trace::V2(e) => times(e),
        }
    }

    /// Time spent in device calls.
    pub fn device_time(&self) -> Duration {
        self.took().iter().sum()
    }

    /// Whether a fault was armed during the check.
    pub fn injects(&self) -> bool {
        match self {
            Trace::Empty => false,
            Trace::V1(e) => e.iter().any(|e| matches!(e, Event::Inject(_))),
            Trace::V2(e) => e.iter().any(|e| matches!(e, Event::Inject(_))),
        }
    }

    /// The v2 steps, when this is a v2 trace.
    pub fn v2_steps(&self) -> impl Iterator<Item = &TraceStep<Fsm>> {
        let events: &[Event<Fsm>] = match self {
            Trace::V2(e) => e,
            _ => &[],
        };
        events.iter().filter_map(Event::step)
    }

    /// The v1 steps, when this is a v1 trace.
    pub fn v1_steps(&self) -> impl Iterator<Item = &TraceStep<Region>> {
        let events: &[Event<Region>] = match self {
            Trace::V1(e) => e,
            _ => &[],
        };
        events.iter().filter_map(Event::step)
    }

    /// The v2 operations and outcomes.
    pub fn v2_pairs(&self) -> Vec<(v2::Op, v2::Outcome)> {
        self.v2_steps().map(|s| (s.op, s.outcome)).collect()
    }

    /// The v1 operations and outcomes.
    pub fn v1_pairs(&self) -> Vec<(v1::Op, v1::Outcome)> {
        self.v1_steps().map(|s| (s.op, s.outcome)).collect()
    }
}

/// A protocol whose events a [`Trace`] can hold.
pub trait Traced: Protocol + Sized {
    /// Wraps this protocol's events.
    fn wrap(events: Vec<Event<Self>>) -> Trace;
}

impl Traced for Fsm {
    fn wrap(events: Vec<Event<Fsm>>) -> Trace {
        Trace::V2(events)
    }
}

impl Traced for Region {
    fn wrap(events: Vec<Event<Region>>) -> Trace {
        Trace::V1(events)
    }
}
