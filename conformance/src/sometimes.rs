//! "Sometimes" properties: behaviours a run must have exercised at least
//! once for its passing checks to mean something. A suite that never
//! reached ERROR cannot have checked how ERROR is left; one that never moved
//! from PRE_COPY to STOP_COPY cannot have checked that the stream continues.
//! Each is read off the operations the checks performed.

use crate::verdict::Verdict;

/// One property and whether the run exercised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sometimes {
    /// What had to happen at least once.
    pub what: &'static str,
    /// Whether it happened.
    pub seen: bool,
}

/// A property: a description and the test on one check's trace lines.
type Property = (&'static str, fn(&[String]) -> bool);

fn after(trace: &[String], first: &str, then: &str) -> bool {
    trace
        .iter()
        .position(|l| l.starts_with(first))
        .is_some_and(|i| trace[i + 1..].iter().any(|l| l.starts_with(then)))
}

/// The v2 properties.
const V2: [Property; 4] = [
    ("the device was seen in ERROR", |t| {
        t.iter().any(|l| l.ends_with("-> state ERROR"))
    }),
    ("PRE_COPY was left for STOP_COPY with the session open", |t| {
        after(t, "SET PRE_COPY ->", "SET STOP_COPY -> ok")
    }),
    (
        "a resume was attempted with bytes that are not a saved stream",
        |t| {
            // In RESUMING, garbage written, then a SET to leave.
            t.iter()
                .position(|l| l.starts_with("SET RESUMING -> ok"))
                .is_some_and(|i| {
                    t[i..]
                        .iter()
                        .position(|l| l.contains("garbage bytes) ->"))
                        .is_some_and(|j| t[i + j..].iter().any(|l| l.starts_with("SET ")))
                })
        },
    ),
    ("a stream was read to its end", |t| {
        t.iter().any(|l| l.ends_with("-> 0 bytes"))
    }),
];

/// The properties of a v2 run, from every check's operations (including
/// those of passing checks, which reports do not keep).
pub fn v2(verdicts: &[Verdict]) -> Vec<Sometimes> {
    V2.iter()
        .map(|(what, test)| Sometimes {
            what,
            seen: verdicts.iter().any(|v| test(&v.trace)),
        })
        .collect()
}
