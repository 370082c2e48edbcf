//! Whether a history of calls made at once is linearizable against the
//! model: whether some order of the calls that keeps every call that
//! returned before another began ahead of it is a sequence of outcomes the
//! model allows, the model being the sequential specification.
//!
//! The search is the one of Wing and Gong, with the memoisation of Lowe
//! (and of the Porcupine checker): a configuration is the set of calls
//! already placed and the model's belief after them; one that was explored
//! and led nowhere is not explored again. The calls of one thread are
//! placed in their order, so the set of placed calls is a prefix of each
//! thread's calls and is kept as one count per thread. The search is
//! bounded: one that reaches its bound says so instead of answering.
//!
//! A call may be allowed to take effect later than its return: the
//! kernel's drivers carry out a reset that arrives while their state lock
//! is held when the holder releases it (see V2-CONC-002). Such a call's
//! interval is stretched to the end of the calls it overlapped that hold
//! the lock ([`Relax`]).

use crate::concurrent::{History, Record};
use std::collections::HashSet;
use std::time::Duration;
use vfio_mig_model::{Belief, Judgement, Protocol, Req, Violation};

/// How far the search may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// Configurations one search may explore.
    pub configurations: usize,
    /// Searches one shrink may run.
    pub shrink_searches: usize,
}

impl Default for Bound {
    fn default() -> Self {
        Bound {
            configurations: 200_000,
            shrink_searches: 64,
        }
    }
}

/// Which calls may take effect after they return, and over which calls.
pub struct Relax<'a, P: Protocol> {
    /// A call that may take effect as late as the end of the calls in
    /// progress when it was made that [`Relax::holds_lock`] names.
    pub deferrable: &'a dyn Fn(&P::Op) -> bool,
    /// A call that holds the device's state lock while it runs.
    pub holds_lock: &'a dyn Fn(&P::Op) -> bool,
}

impl<P: Protocol> Relax<'_, P> {
    /// No call takes effect after it returns.
    pub fn none() -> Relax<'static, P> {
        Relax {
            deferrable: &|_| false,
            holds_lock: &|_| false,
        }
    }
}

/// A call the search could not place next: the model's verdict on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// The call, as an index into the history's records.
    pub index: usize,
    /// Why the model does not allow its outcome there.
    pub violation: Violation,
}

/// What the search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linearity {
    /// An order the model allows (indices into the history's records);
    /// `warned` lists the SHOULDs it misses (empty when an order misses
    /// none).
    Linearizable {
        /// The order.
        order: Vec<usize>,
        /// SHOULDs the order misses.
        warned: Vec<Req>,
    },
    /// No order is allowed. `placed` is the longest allowed beginning of an
    /// order the search built (indices), `blocked` the calls it tried to
    /// place after it, each with the model's verdict.
    Not {
        /// The longest allowed beginning.
        placed: Vec<usize>,
        /// The calls that could not come next.
        blocked: Vec<Blocked>,
    },
    /// The search reached its bound without an answer.
    Undecided {
        /// Configurations explored.
        explored: usize,
    },
}

impl Linearity {
    /// The rules the blocked calls break (for [`Linearity::Not`]).
    pub fn reqs(&self) -> Vec<Req> {
        let mut out = Vec::new();
        if let Linearity::Not { blocked, .. } = self {
            for b in blocked {
                for r in &b.violation.reqs {
                    if !out.contains(r) {
                        out.push(*r);
                    }
                }
            }
        }
        out
    }
}

/// The interval in which each call may take effect.
fn windows<P: Protocol>(h: &History<P>, relax: &Relax<'_, P>) -> Vec<(Duration, Duration)> {
    h.records
        .iter()
        .map(|r| {
            let mut end = r.returned;
            if (relax.deferrable)(&r.op) {
                for o in &h.records {
                    let in_progress = o.thread != r.thread && o.invoked < r.invoked && r.invoked < o.returned;
                    if in_progress && (relax.holds_lock)(&o.op) {
                        end = end.max(o.returned);
                    }
                }
            }
            (r.invoked, end)
        })
        .collect()
}

struct Search<'a, P: Protocol> {
    model: &'a P,
    records: &'a [Record<P>],
    /// Each thread's calls, in order (indices into `records`).
    threads: Vec<Vec<usize>>,
    /// For each thread and position, the earliest end of a window among
    /// the thread's calls from that position on.
    earliest_end: Vec<Vec<Duration>>,
    windows: Vec<(Duration, Duration)>,
    warn_ok: bool,
    seen: HashSet<(Vec<u16>, Belief<P::State>)>,
    explored: usize,
    limit: usize,
    order: Vec<usize>,
    warned: Vec<Req>,
    deepest: Option<(Vec<usize>, Vec<Blocked>)>,
}

enum Found {
    Yes,
    No,
    Bound,
}

/// One configuration on the search's path.
struct Frame<S> {
    /// Calls placed per thread, and the belief after them.
    key: (Vec<u16>, Belief<S>),
    /// The thread whose call led here (none for the first).
    via: Option<usize>,
    /// The next thread whose call is to be tried from here.
    next: usize,
    /// Calls tried from here that the model did not allow.
    blocked: Vec<Blocked>,
    /// How many SHOULDs the path had missed before this configuration.
    warned: usize,
}

impl<P: Protocol> Search<'_, P> {
    /// The search, depth first, with an explicit stack (a history may be
    /// longer than a thread's stack is deep).
    fn run(&mut self, start: &Belief<P::State>) -> Found {
        let n = self.threads.len();
        if self.records.is_empty() {
            return Found::Yes;
        }
        let mut stack = vec![Frame {
            key: (vec![0u16; n], start.clone()),
            via: None,
            next: 0,
            blocked: Vec::new(),
            warned: 0,
        }];
        self.explored = 1;
        while let Some(top) = stack.last_mut() {
            let placed = &top.key.0;
            // The earliest end among the calls not placed yet: a call made
            // after it cannot come next.
            let horizon = (0..n)
                .filter_map(|t| self.earliest_end[t].get(placed[t] as usize).copied())
                .min()
                .unwrap_or(Duration::MAX);
            let mut child = None;
            while top.next < n && child.is_none() {
                let t = top.next;
                top.next += 1;
                let Some(&i) = self.threads[t].get(placed[t] as usize) else {
                    continue;
                };
                if self.windows[i].0 > horizon {
                    continue;
                }
                let r = &self.records[i];
                let judged = self.model.judge(&top.key.1, &r.op, &r.outcome).1;
                match judged {
                    Ok((next, Judgement::Pass)) => child = Some((t, i, next, Vec::new())),
                    Ok((next, Judgement::Warn(reqs))) if self.warn_ok => child = Some((t, i, next, reqs)),
                    Ok((_, Judgement::Warn(reqs) | Judgement::Fault(reqs))) => top.blocked.push(Blocked {
                        index: i,
                        violation: Violation {
                            reqs,
                            op: r.op.to_string(),
                            allowed: String::from("an outcome that misses no rule"),
                            observed: r.outcome.to_string(),
                        },
                    }),
                    Err(violation) => top.blocked.push(Blocked { index: i, violation }),
                }
            }
            match child {
                Some((t, i, next, warned)) => {
                    let mut placed = top.key.0.clone();
                    placed[t] += 1;
                    let key = (placed, next);
                    self.order.push(i);
                    let before = self.warned.len();
                    self.warned.extend(warned);
                    if self.order.len() == self.records.len() {
                        return Found::Yes;
                    }
                    if self.seen.contains(&key) {
                        self.order.pop();
                        self.warned.truncate(before);
                        continue;
                    }
                    if self.explored >= self.limit {
                        return Found::Bound;
                    }
                    self.explored += 1;
                    stack.push(Frame {
                        key,
                        via: Some(t),
                        next: 0,
                        blocked: Vec::new(),
                        warned: before,
                    });
                }
                None => {
                    let Some(done) = stack.pop() else { break };
                    let deeper = self
                        .deepest
                        .as_ref()
                        .is_none_or(|(o, _)| self.order.len() > o.len());
                    if deeper && !done.blocked.is_empty() {
                        self.deepest = Some((self.order.clone(), done.blocked));
                    }
                    if done.via.is_some() {
                        self.order.pop();
                        self.warned.truncate(done.warned);
                    }
                    self.seen.insert(done.key);
                }
            }
        }
        Found::No
    }
}

fn search<P: Protocol>(
    model: &P,
    start: &Belief<P::State>,
    h: &History<P>,
    relax: &Relax<'_, P>,
    warn_ok: bool,
    limit: usize,
) -> Linearity {
    let windows = windows(h, relax);
    let mut ids: Vec<usize> = h.records.iter().map(|r| r.thread).collect();
    ids.sort_unstable();
    ids.dedup();
    let threads: Vec<Vec<usize>> = ids
        .iter()
        .map(|t| {
            (0..h.records.len())
                .filter(|i| h.records[*i].thread == *t)
                .collect()
        })
        .collect();
    let earliest_end = threads
        .iter()
        .map(|calls| {
            let mut out = vec![Duration::MAX; calls.len()];
            let mut min = Duration::MAX;
            for (k, &i) in calls.iter().enumerate().rev() {
                min = min.min(windows[i].1);
                out[k] = min;
            }
            out
        })
        .collect();
    let mut s = Search {
        model,
        records: &h.records,
        threads,
        earliest_end,
        windows,
        warn_ok,
        seen: HashSet::new(),
        explored: 0,
        limit,
        order: Vec::new(),
        warned: Vec::new(),
        deepest: None,
    };
    match s.run(start) {
        Found::Yes => {
            let mut warned = Vec::new();
            for r in s.warned {
                if !warned.contains(&r) {
                    warned.push(r);
                }
            }
            Linearity::Linearizable {
                order: s.order,
                warned,
            }
        }
        Found::Bound => Linearity::Undecided { explored: s.explored },
        Found::No => {
            let (placed, blocked) = s.deepest.unwrap_or_default();
            Linearity::Not { placed, blocked }
        }
    }
}

/// Whether `h`, made on a device the model believed in `start`, is
/// linearizable: first looking for an order that misses no rule, then for
/// one that misses only SHOULDs.
pub fn check<P: Protocol>(
    model: &P,
    start: &Belief<P::State>,
    h: &History<P>,
    relax: &Relax<'_, P>,
    bound: &Bound,
) -> Linearity {
    // Thread positions are counted in 16 bits.
    if h.records.len() > usize::from(u16::MAX) {
        return Linearity::Undecided { explored: 0 };
    }
    match search(model, start, h, relax, false, bound.configurations) {
        found @ Linearity::Linearizable { .. } => found,
        Linearity::Undecided { explored } => Linearity::Undecided { explored },
        Linearity::Not { .. } => search(model, start, h, relax, true, bound.configurations),
    }
}

/// The times at which no call was in progress: a history cut there keeps
/// every call before the cut ahead of every call after it.
fn quiescent_cuts<P: Protocol>(h: &History<P>, relax: &Relax<'_, P>) -> Vec<Duration> {
    let w = windows(h, relax);
    let mut spans: Vec<(Duration, Duration)> = w.clone();
    spans.sort();
    let mut cuts = Vec::new();
    let mut reach = Duration::ZERO;
    for (i, (start, end)) in spans.iter().enumerate() {
        if i > 0 && *start > reach {
            cuts.push(*start);
        }
        reach = reach.max(*end);
    }
    cuts
}

/// A smaller history that is not linearizable either, found by dropping
/// calls in ways that cannot turn a linearizable history into one that is
/// not: cutting it where no call was in progress (every call before the cut
/// comes first in any order), and dropping calls `observer` names, which
/// change nothing the model tracks. A candidate is kept only when it is
/// still not linearizable and still holds a call `found` (the search result
/// of `h`) could not place. Returns the smaller history and its search
/// result (`h` and `found` when nothing could be dropped).
pub fn shrink<P: Protocol>(
    model: &P,
    start: &Belief<P::State>,
    h: &History<P>,
    relax: &Relax<'_, P>,
    bound: &Bound,
    observer: &dyn Fn(&Record<P>) -> bool,
    found: &Linearity,
) -> (History<P>, Linearity) {
    let Linearity::Not { blocked, .. } = found else {
        return (h.clone(), found.clone());
    };
    let same = |a: &Record<P>, b: &Record<P>| a.thread == b.thread && a.invoked == b.invoked;
    let culprits: Vec<&Record<P>> = blocked.iter().map(|b| &h.records[b.index]).collect();
    let mut searches = 0usize;
    let mut try_one = |candidate: &History<P>| -> Option<Linearity> {
        let holds = candidate
            .records
            .iter()
            .any(|r| culprits.iter().any(|c| same(r, c)));
        if !holds || searches >= bound.shrink_searches {
            return None;
        }
        searches += 1;
        let result = check(model, start, candidate, relax, bound);
        matches!(result, Linearity::Not { .. }).then_some(result)
    };
    let mut best = h.clone();
    let mut result = found.clone();
    // The earliest cut that still fails.
    for cut in quiescent_cuts(&best, relax) {
        let prefix = best.subset(|_, r| r.invoked < cut);
        if let Some(r) = try_one(&prefix) {
            best = prefix;
            result = r;
            break;
        }
    }
    // Observers, the latest first.
    let mut i = best.records.len();
    while i > 0 {
        i -= 1;
        if !observer(&best.records[i]) {
            continue;
        }
        let smaller = best.subset(|k, _| k != i);
        if let Some(r) = try_one(&smaller) {
            best = smaller;
            result = r;
        }
    }
    (best, result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfio_mig_model::reqs::*;
    use vfio_mig_model::v2::{FdRef, Fsm, MigState, MigrationFlags, Op, Outcome};
    use vfio_mig_model::{Profile, ProtocolName};

    fn model() -> Fsm {
        Fsm::new(
            MigrationFlags::new(0b111).unwrap(),
            Profile::defaults(ProtocolName::V2),
            true,
        )
    }

    fn rec(thread: usize, op: Op, outcome: Outcome, from: u64, to: u64) -> Record<Fsm> {
        Record {
            thread,
            op,
            outcome,
            invoked: Duration::from_micros(from),
            returned: Duration::from_micros(to),
            data: Vec::new(),
        }
    }

    fn history(mut records: Vec<Record<Fsm>>) -> History<Fsm> {
        records.sort_by_key(|r| r.invoked);
        History { records }
    }

    fn get(state: MigState) -> Outcome {
        Outcome::State(state.number())
    }

    const OK: Outcome = Outcome::SetOk { fd: false };

    // V2-CONC-001: a GET that overlaps a SET may see either side of it.
    #[test]
    fn a_get_overlapping_a_set_may_see_either_state() {
        let m = model();
        for seen in [MigState::Running, MigState::Stop] {
            let h = history(vec![
                rec(1, Op::Set(MigState::Stop), OK, 0, 100),
                rec(2, Op::Get, get(seen), 10, 20),
            ]);
            let found = check(&m, &m.start(), &h, &Relax::none(), &Bound::default());
            assert!(
                matches!(found, Linearity::Linearizable { .. }),
                "{seen}: {found:?}"
            );
        }
    }

    // V2-CONC-001, V2-CONC-005: a GET that began after the SET returned
    // must see its result; an interior state of the path is never seen.
    #[test]
    fn real_time_order_and_interior_states_are_enforced() {
        let m = model();
        let late = history(vec![
            rec(1, Op::Set(MigState::Stop), OK, 0, 100),
            rec(2, Op::Get, get(MigState::Running), 150, 160),
        ]);
        let found = check(&m, &m.start(), &late, &Relax::none(), &Bound::default());
        let Linearity::Not { placed, blocked } = &found else {
            panic!("{found:?}")
        };
        assert_eq!(placed, &vec![0]);
        assert_eq!(blocked[0].index, 1);
        assert!(found.reqs().contains(&V2_ARC_006), "{:?}", found.reqs());
        // RUNNING -> STOP_COPY passes through RUNNING_P2P and STOP.
        let interior = history(vec![
            rec(
                1,
                Op::Set(MigState::StopCopy),
                Outcome::SetOk { fd: true },
                0,
                100,
            ),
            rec(2, Op::Get, get(MigState::Stop), 10, 20),
        ]);
        let found = check(&m, &m.start(), &interior, &Relax::none(), &Bound::default());
        assert!(matches!(found, Linearity::Not { .. }), "{found:?}");
    }

    // V2-CONC-002: a reset made while a SET held the state lock may take
    // effect when the SET ends, not later.
    #[test]
    fn a_deferred_reset_may_land_at_the_end_of_the_call_in_progress() {
        let m = model();
        let fd0 = FdRef(0);
        let start = {
            let b = m.start();
            m.advance(&b, &Op::Set(MigState::StopCopy), &Outcome::SetOk { fd: true })
                .unwrap()
                .0
        };
        // The read made after the reset returned still got data: only a
        // reset that waits for the SET explains it.
        let h = history(vec![
            rec(1, Op::Set(MigState::StopCopy), OK, 0, 100),
            rec(2, Op::Reset, Outcome::Done, 10, 20),
            rec(3, Op::Read { fd: fd0, len: 8 }, Outcome::Bytes(8), 30, 40),
            rec(2, Op::Get, get(MigState::Running), 120, 130),
        ]);
        let strict = check(&m, &start, &h, &Relax::none(), &Bound::default());
        assert!(matches!(strict, Linearity::Not { .. }), "{strict:?}");
        let relax = Relax::<Fsm> {
            deferrable: &|op| *op == Op::Reset,
            holds_lock: &|op| matches!(op, Op::Set(_) | Op::Get),
        };
        let relaxed = check(&m, &start, &h, &relax, &Bound::default());
        assert!(matches!(relaxed, Linearity::Linearizable { .. }), "{relaxed:?}");
        // A reset still not applied when the SET ended is lost.
        let lost = history(vec![
            rec(1, Op::Set(MigState::StopCopy), OK, 0, 100),
            rec(2, Op::Reset, Outcome::Done, 10, 20),
            rec(2, Op::Get, get(MigState::StopCopy), 120, 130),
        ]);
        let found = check(&m, &start, &lost, &relax, &Bound::default());
        assert!(matches!(found, Linearity::Not { .. }), "{found:?}");
        assert!(found.reqs().contains(&V2_ERR_002), "{:?}", found.reqs());
    }

    #[test]
    fn a_search_past_its_bound_says_so() {
        let m = model();
        // Many orders of the GETs are allowed; none places the last one.
        let mut records: Vec<Record<Fsm>> = (0..12)
            .map(|i| rec(1 + i % 4, Op::Get, get(MigState::Running), 0, 1000))
            .collect();
        records.push(rec(5, Op::Get, get(MigState::Stop), 0, 1000));
        let h = history(records);
        let tiny = Bound {
            configurations: 5,
            shrink_searches: 1,
        };
        assert_eq!(
            check(&m, &m.start(), &h, &Relax::none(), &tiny),
            Linearity::Undecided { explored: 5 }
        );
    }

    // V2-CONC-001: the witness keeps the failing call and drops the GETs
    // and the calls after the cut that do not matter.
    #[test]
    fn shrinking_drops_observers_and_cuts_at_a_quiet_moment() {
        let m = model();
        let h = history(vec![
            rec(1, Op::Set(MigState::Stop), OK, 0, 100),
            rec(2, Op::Get, get(MigState::Running), 5, 8),
            rec(2, Op::Get, get(MigState::Stop), 50, 60),
            rec(2, Op::Get, get(MigState::RunningP2p), 70, 80),
            rec(1, Op::Set(MigState::Running), OK, 200, 300),
            rec(2, Op::Get, get(MigState::Running), 400, 410),
        ]);
        let found = check(&m, &m.start(), &h, &Relax::none(), &Bound::default());
        assert!(!found.reqs().is_empty());
        let (small, result) = shrink(
            &m,
            &m.start(),
            &h,
            &Relax::none(),
            &Bound::default(),
            &|r| r.op == Op::Get,
            &found,
        );
        assert!(matches!(result, Linearity::Not { .. }));
        let ops: Vec<(Op, Outcome)> = small.records.iter().map(|r| (r.op, r.outcome)).collect();
        assert_eq!(
            ops,
            vec![
                (Op::Set(MigState::Stop), OK),
                (Op::Get, get(MigState::RunningP2p))
            ]
        );
    }
}
