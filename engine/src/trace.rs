//! What a check did, as typed values: the device calls with their outcomes
//! and timings, on which instance, where the bytes of each write came
//! from, the faults armed, the reopens, and the state snapshots the check
//! compared. Renderers (reports, reproducers, trace files) and the replay
//! of [`crate::regression`] read these; nothing is kept as text.

use std::time::Duration;
use vfio_mig_device::Fault;
use vfio_mig_model::v1::{self, Region};
use vfio_mig_model::v2::{self, Fsm};
use vfio_mig_model::{Protocol, Req};

/// The bytes of the junk generator: byte `i` is `(i * 37 + 11) mod 256`.
/// Every junk write of the suites uses it, so a replay writes the same.
pub fn junk(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(37).wrapping_add(11)) as u8)
        .collect()
}

/// The value a [`Fill::Flipped`] byte is xor-ed with.
pub const FLIP: u8 = 0x5a;

/// Where the bytes of a write came from, so that a replay can write the
/// same: the stream the check read from instance 0 (in a replay, the stream
/// the replay read), altered or not, or junk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fill {
    /// The bytes at `at` of the stream read from instance 0 in this check.
    Saved {
        /// Offset in that stream.
        at: u64,
    },
    /// The same bytes with the one at `flip` (counted from `at`) xor-ed
    /// with [`FLIP`].
    Flipped {
        /// Offset in that stream.
        at: u64,
        /// Which byte of the write is altered.
        flip: u32,
    },
    /// [`junk`] of the write's length.
    Junk,
}

impl Fill {
    /// The `len` bytes this fill makes from the `saved` stream; `None` when
    /// `saved` holds too few (a replay whose source gave less).
    pub fn bytes(&self, saved: &[u8], len: usize) -> Option<Vec<u8>> {
        let take = |at: u64| {
            let at = usize::try_from(at).ok()?;
            saved.get(at..at.checked_add(len)?).map(<[u8]>::to_vec)
        };
        match *self {
            Fill::Saved { at } => take(at),
            Fill::Flipped { at, flip } => {
                let mut b = take(at)?;
                if let Some(x) = b.get_mut(flip as usize) {
                    *x ^= FLIP;
                }
                Some(b)
            }
            Fill::Junk => Some(junk(len)),
        }
    }
}

/// One executed operation.
#[derive(Debug, Clone)]
pub struct TraceStep<P: Protocol> {
    /// The device instance (0 = source, 1 = destination).
    pub instance: u8,
    /// What the user did.
    pub op: P::Op,
    /// What the device answered.
    pub outcome: P::Outcome,
    /// How long the device took.
    pub took: Duration,
    /// For a write: where its bytes came from (`None`: bytes a replay
    /// cannot remake, such as a differential run's pattern).
    pub fill: Option<Fill>,
}

impl<P: Protocol> PartialEq for TraceStep<P> {
    fn eq(&self, other: &Self) -> bool {
        self.instance == other.instance
            && self.op == other.op
            && self.outcome == other.outcome
            && self.took == other.took
            && self.fill == other.fill
    }
}

/// A state snapshot: the `nth` (from 0) taken of `instance` in the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Snap {
    /// The instance.
    pub instance: u8,
    /// Which of its snapshots.
    pub nth: u16,
}

/// One event of a check.
#[derive(Debug, Clone)]
pub enum Event<P: Protocol> {
    /// An operation and its outcome.
    Step(TraceStep<P>),
    /// A fault armed on `instance` before its next operation.
    Inject {
        /// The instance.
        instance: u8,
        /// The fault.
        fault: Fault,
    },
    /// `instance` was closed and opened again (what every check starts
    /// with, here in the middle of one).
    Reopen {
        /// The instance.
        instance: u8,
    },
    /// The check read the observable state of `instance` (see
    /// `Device::fingerprint`).
    Snapshot {
        /// The instance.
        instance: u8,
    },
    /// The check required two snapshots to be equal; `rule` is broken when
    /// they are not.
    Same {
        /// The earlier snapshot.
        a: Snap,
        /// The later one.
        b: Snap,
        /// The rule the comparison asserts.
        rule: Req,
    },
}

impl<P: Protocol> PartialEq for Event<P> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Event::Step(a), Event::Step(b)) => a == b,
            (
                Event::Inject {
                    instance: i,
                    fault: f,
                },
                Event::Inject {
                    instance: j,
                    fault: g,
                },
            ) => i == j && f == g,
            (Event::Reopen { instance: i }, Event::Reopen { instance: j }) => i == j,
            (Event::Snapshot { instance: i }, Event::Snapshot { instance: j }) => i == j,
            (
                Event::Same { a, b, rule },
                Event::Same {
                    a: a2,
                    b: b2,
                    rule: r2,
                },
            ) => a == a2 && b == b2 && rule == r2,
            _ => false,
        }
    }
}

impl<P: Protocol> Event<P> {
    /// The step, when this is one.
    pub fn step(&self) -> Option<&TraceStep<P>> {
        match self {
            Event::Step(s) => Some(s),
            _ => None,
        }
    }
}

/// How many snapshots of `instance` `events` hold.
pub fn snapshots_of<P: Protocol>(events: &[Event<P>], instance: u8) -> u16 {
    events
        .iter()
        .filter(|e| matches!(e, Event::Snapshot { instance: i } if *i == instance))
        .count() as u16
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
            Trace::V1(e) => e.iter().any(|e| matches!(e, Event::Inject { .. })),
            Trace::V2(e) => e.iter().any(|e| matches!(e, Event::Inject { .. })),
        }
    }

    /// Whether the check used instance 1 (a round trip, a resume).
    pub fn two_instances(&self) -> bool {
        fn any<P: Protocol>(events: &[Event<P>]) -> bool {
            events.iter().any(|e| match e {
                Event::Step(s) => s.instance == 1,
                Event::Inject { instance, .. }
                | Event::Reopen { instance }
                | Event::Snapshot { instance } => *instance == 1,
                Event::Same { a, b, .. } => a.instance == 1 || b.instance == 1,
            })
        }
        match self {
            Trace::Empty => false,
            Trace::V1(e) => any(e),
            Trace::V2(e) => any(e),
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

    /// The v2 operations and outcomes, of every instance in their order.
    pub fn v2_pairs(&self) -> Vec<(v2::Op, v2::Outcome)> {
        self.v2_steps().map(|s| (s.op, s.outcome)).collect()
    }

    /// The v2 operations and outcomes on `instance`: what one device saw.
    pub fn v2_pairs_on(&self, instance: u8) -> Vec<(v2::Op, v2::Outcome)> {
        self.v2_steps()
            .filter(|s| s.instance == instance)
            .map(|s| (s.op, s.outcome))
            .collect()
    }

    /// Whether a device was closed and opened again during the check.
    pub fn reopens(&self) -> bool {
        match self {
            Trace::Empty => false,
            Trace::V1(e) => e.iter().any(|e| matches!(e, Event::Reopen { .. })),
            Trace::V2(e) => e.iter().any(|e| matches!(e, Event::Reopen { .. })),
        }
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

    /// This protocol's events in `trace` (none when it holds another's).
    fn events(trace: &Trace) -> &[Event<Self>];
}

impl Traced for Fsm {
    fn wrap(events: Vec<Event<Fsm>>) -> Trace {
        Trace::V2(events)
    }

    fn events(trace: &Trace) -> &[Event<Fsm>] {
        match trace {
            Trace::V2(e) => e,
            _ => &[],
        }
    }
}

impl Traced for Region {
    fn wrap(events: Vec<Event<Region>>) -> Trace {
        Trace::V1(events)
    }

    fn events(trace: &Trace) -> &[Event<Region>] {
        match trace {
            Trace::V1(e) => e,
            _ => &[],
        }
    }
}
