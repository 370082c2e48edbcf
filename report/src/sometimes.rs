//! "Sometimes" properties: behaviours a run must have exercised at least
//! once for its passing checks to mean something. A suite that never
//! reached ERROR cannot have checked how ERROR is left; one that never moved
//! from PRE_COPY to STOP_COPY cannot have checked that the stream continues.
//! Each is read off the typed operations and outcomes the checks performed.

use vfio_mig_engine::trace::TraceStep;
use vfio_mig_engine::verdict::Verdict;
use vfio_mig_model::v2::{DataTag, Fsm, MigState, Op, Outcome};

/// One property and whether the run exercised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sometimes {
    /// What had to happen at least once.
    pub what: &'static str,
    /// Whether it happened.
    pub seen: bool,
}

type Steps<'a> = [&'a TraceStep<Fsm>];

/// A property: a description and the test on one check's steps.
type Property = (&'static str, fn(&Steps<'_>) -> bool);

fn set_ok(s: &TraceStep<Fsm>, to: MigState) -> bool {
    s.op == Op::Set(to) && matches!(s.outcome, Outcome::SetOk { .. })
}

/// The v2 properties.
const V2: [Property; 4] = [
    ("the device was seen in ERROR", |t| {
        t.iter()
            .any(|s| s.op == Op::Get && s.outcome == Outcome::State(MigState::Error.number()))
    }),
    ("PRE_COPY was left for STOP_COPY with the session open", |t| {
        t.iter()
            .position(|s| set_ok(s, MigState::PreCopy))
            .is_some_and(|i| t[i + 1..].iter().any(|s| set_ok(s, MigState::StopCopy)))
    }),
    (
        "a resume was attempted with bytes that are not a saved stream",
        |t| {
            // In RESUMING, garbage written, then a SET to leave.
            t.iter()
                .position(|s| set_ok(s, MigState::Resuming))
                .is_some_and(|i| {
                    t[i..]
                        .iter()
                        .position(|s| {
                            matches!(
                                s.op,
                                Op::Write {
                                    data: DataTag::Garbage,
                                    ..
                                }
                            )
                        })
                        .is_some_and(|j| {
                            t[i + j..]
                                .iter()
                                .any(|s| matches!(s.op, Op::Set(_) | Op::SetRaw(_)))
                        })
                })
        },
    ),
    ("a stream was read to its end", |t| {
        t.iter()
            .any(|s| matches!(s.op, Op::Read { len, .. } if len > 0) && s.outcome == Outcome::Bytes(0))
    }),
];

/// The properties of a v2 run, from every check's operations (including
/// those of passing checks, which reports do not keep).
pub fn v2(verdicts: &[Verdict]) -> Vec<Sometimes> {
    let steps: Vec<Vec<&TraceStep<Fsm>>> = verdicts.iter().map(|v| v.trace.v2_steps().collect()).collect();
    V2.iter()
        .map(|(what, test)| Sometimes {
            what,
            seen: steps.iter().any(|t| test(t)),
        })
        .collect()
}
