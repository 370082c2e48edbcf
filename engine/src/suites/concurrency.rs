//! Suite 6: calls from several threads at once. Each check brings a device
//! into a state one call at a time, then races calls on it from several
//! threads through its shared handle, and judges the history they leave:
//! some order of the calls that keeps every call that returned before
//! another began ahead of it must be one the model allows (V2-CONC-001).
//! Every call has the run's deadline; one that does not return is a
//! deadlock that stops the run (V2-CONC-003).
//!
//! The scenarios are the races drivers have got wrong: writes on the
//! resuming fd at once, a read racing the SET that ends its session, a
//! reset racing a SET, a read and PRECOPY_INFO, two SETs at once, GETs
//! during a SET whose path has several arcs. Each is run a few rounds (a
//! race may go either way).

use super::common::restore;
use super::data::{load_v2, same_state, save_v2, state_compared};
use crate::check::{Checker, Failure};
use crate::concurrent::{History, Racer, Record, Stall, StallCause, Step, Until};
use crate::handle::{Handle, Stuck};
use crate::linearize::{self, Bound, Linearity, Relax};
use crate::target::Target;
use crate::verdict::{Observed, SuiteId, Verdict, Witness};
use std::sync::Arc;
use std::time::Duration;
use vfio_mig_device::{SharedDevice, Transport};
use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::{DataTag, DevState, FdRef, Fsm, MigState, Op, Outcome};
use vfio_mig_model::{Belief, Req};

/// What the suite does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Rounds of each scenario: a race may go either way, and each round is
    /// one more chance for a wrong interleaving to show.
    pub rounds: u32,
    /// How far each linearizability search may go.
    pub bound: Bound,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rounds: 2,
            bound: Bound::default(),
        }
    }
}

/// The scenarios, in the order they run.
pub const SCENARIOS: [&str; 5] = [
    "resume-writes",
    "read-vs-stop",
    "reset-races",
    "two-sets",
    "gets-during-set",
];

/// The name of a scenario's check.
pub fn name(model: &Fsm, scenario: &str) -> String {
    format!("{}/concurrency/{scenario}", model.label())
}

/// The checks of the suite, by name.
pub fn plan(model: &Fsm) -> Vec<String> {
    SCENARIOS.iter().map(|s| name(model, s)).collect()
}

/// The requirements a scenario asserts besides those of its calls.
fn asserts(scenario: &str) -> &'static [Req] {
    match scenario {
        "resume-writes" => &[V2_CONC_001, V2_CONC_003, V2_CONC_004, V2_STREAM_004],
        "read-vs-stop" => &[V2_CONC_001, V2_CONC_003, V2_FD_004, V2_STREAM_001, V2_STREAM_005],
        "reset-races" => &[V2_CONC_001, V2_CONC_002, V2_CONC_003, V2_ERR_002, V2_FD_004],
        "two-sets" => &[V2_CONC_001, V2_CONC_003, V2_CONC_005],
        _ => &[V2_CONC_001, V2_CONC_003, V2_CONC_005, V2_PATH_005],
    }
}

/// Why a device's calls cannot be raced.
fn not_concurrent(transport: Transport) -> &'static str {
    match transport {
        Transport::VfioUser => "vfio-user carries one request at a time on its socket and the server handles them in the order they arrive: calls made at once would reach the device one after another",
        _ => "the device does not take calls from several threads at once (its adapter offers no shared handle)",
    }
}

/// Runs `scenario` (one of [`SCENARIOS`]) for up to `settings.rounds`
/// rounds, stopping at the first round that does not pass.
pub fn run(
    model: &Fsm,
    src: &mut Handle<Fsm>,
    dst: &mut Handle<Fsm>,
    scenario: &str,
    settings: &Settings,
) -> Vec<Verdict> {
    let name = name(model, scenario);
    let reqs = asserts(scenario);
    let desc = src.describe();
    if !desc.concurrent {
        return vec![Verdict::skip(
            SuiteId::Concurrency,
            name,
            reqs,
            not_concurrent(desc.transport),
        )];
    }
    let rounds = settings.rounds.max(1);
    let mut last = None;
    for round in 1..=rounds {
        for device in [&mut *src, &mut *dst] {
            if let Err(v) = restore(SuiteId::Concurrency, &name, device) {
                return vec![*v];
            }
        }
        let mut v = match scenario {
            "resume-writes" => resume_writes(model, src, dst, &name, settings),
            "read-vs-stop" => read_vs_stop(model, src, dst, &name, settings),
            "reset-races" => reset_races(model, src, &name, settings),
            "two-sets" => two_sets(model, src, &name, settings),
            _ => gets_during_set(model, src, &name, settings),
        };
        if v.status != crate::check::Status::Pass {
            if rounds > 1 && !v.detail.is_empty() {
                v.detail = format!("round {round} of {rounds}: {}", v.detail);
            }
            return vec![v];
        }
        last = Some(v);
    }
    last.into_iter().collect()
}

/// Calls that may take effect after they return: a reset, which the
/// kernel's drivers put off while their state lock is held (V2-CONC-002).
fn deferrable(op: &Op) -> bool {
    *op == Op::Reset
}

/// Calls that hold a driver's state lock while they run.
fn holds_lock(op: &Op) -> bool {
    matches!(
        op,
        Op::Set(_)
            | Op::SetRaw(_)
            | Op::Get
            | Op::DataSize
            | Op::PrecopyInfo { .. }
            | Op::Feature(_)
            | Op::Reset
    )
}

fn relax() -> Relax<'static, Fsm> {
    Relax {
        deferrable: &deferrable,
        holds_lock: &holds_lock,
    }
}

fn read_ended(o: &Outcome) -> bool {
    matches!(o, Outcome::Err(_) | Outcome::Bytes(0))
}

fn failed(o: &Outcome) -> bool {
    matches!(o, Outcome::Err(_))
}

/// A call repeated until `until`.
fn repeat(op: Op, max: u32, until: Until<Fsm>) -> Step<Fsm> {
    Step::Repeat {
        op,
        bytes: Vec::new(),
        max,
        until,
        pause: Duration::ZERO,
    }
}

/// The shared handle of `device`, or the verdict of a check that cannot
/// race it.
fn shared(
    device: &mut Handle<Fsm>,
    name: &str,
    reqs: &[Req],
) -> Result<Arc<dyn SharedDevice<Fsm>>, Box<Verdict>> {
    let why = not_concurrent(device.describe().transport);
    match device.shared() {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(Box::new(Verdict::skip(SuiteId::Concurrency, name, reqs, why))),
        Err(stuck) => Err(Box::new(Verdict::halted(
            SuiteId::Concurrency,
            name,
            &[V2_TIME_001],
            stuck.to_string(),
        ))),
    }
}

/// What judging a race gave: the check's result, what the report shows,
/// and a verdict that overrides the usual one (a search that reached its
/// bound).
struct Judged {
    result: Result<(), Failure>,
    observed: Observed,
    undecided: Option<String>,
    stuck: Option<Stuck>,
}

/// Calls whose dropping changes nothing the model tracks but the rule
/// named for the state (GET, MIG_DATA_SIZE), unless a PRECOPY_INFO
/// answered 0 and 0 (which binds the call after it, whatever it is).
fn observer(h: &History<Fsm>) -> impl Fn(&Record<Fsm>) -> bool + '_ {
    let binds = h.records.iter().any(|r| {
        matches!(
            r.outcome,
            Outcome::Precopy {
                initial_bytes: 0,
                dirty_bytes: 0,
                ..
            }
        )
    });
    move |r| !binds && matches!(r.op, Op::Get | Op::DataSize)
}

/// A person's line for one call of a history.
fn line(r: &Record<Fsm>) -> String {
    format!("thread {}: {} -> {}", r.thread, r.op, r.outcome)
}

/// The rules the history breaks beyond the model's own: a reset that only a
/// later effect explains (V2-CONC-002), a GET that saw a state inside the
/// path of a SET in progress (V2-CONC-005).
fn attribute(
    model: &Fsm,
    start: &Belief<DevState>,
    h: &History<Fsm>,
    found: &Linearity,
    bound: &Bound,
) -> Vec<Req> {
    let mut out = Vec::new();
    // A reset allowed to land at any time after it was made, however late,
    // apart from the calls its thread made after it: if that explains the
    // history, the reset was lost or applied late.
    let end = h.end() + Duration::from_nanos(1);
    for (i, r) in h.records.iter().enumerate() {
        if r.op != Op::Reset {
            continue;
        }
        let mut late = h.clone();
        late.records[i].returned = end;
        late.records[i].thread = usize::MAX;
        let relaxed = linearize::check(model, start, &late, &relax(), bound);
        if matches!(relaxed, Linearity::Linearizable { .. }) {
            out.push(V2_CONC_002);
            break;
        }
    }
    if let Linearity::Not { blocked, .. } = found {
        let inside = |seen: MigState, to: MigState| {
            MigState::ALL.iter().any(|&from| {
                model.table().path(from, to).is_some_and(|p| {
                    let states = p.states();
                    states.len() > 2 && states[1..states.len() - 1].contains(&seen)
                })
            })
        };
        for b in blocked {
            let g = &h.records[b.index];
            let (Op::Get, Outcome::State(n)) = (g.op, g.outcome) else {
                continue;
            };
            let Some(seen) = MigState::from_number(n) else {
                continue;
            };
            let during = h.records.iter().any(|s| {
                let overlaps = s.invoked < g.returned && g.invoked < s.returned;
                matches!(s.op, Op::Set(to) if overlaps && inside(seen, to))
            });
            if during && !out.contains(&V2_CONC_005) {
                out.push(V2_CONC_005);
            }
        }
    }
    out
}

/// Judges `h`, made on a device the model believed in `start`; `extra`
/// adds the scenario's own rules to a failure.
fn judge(
    model: &Fsm,
    start: &Belief<DevState>,
    h: History<Fsm>,
    bound: &Bound,
    extra: &dyn Fn(&History<Fsm>) -> Vec<Req>,
) -> Judged {
    let found = linearize::check(model, start, &h, &relax(), bound);
    let threads = h.threads().len();
    let calls = h.records.len();
    let mut result = Ok(());
    let mut undecided = None;
    let mut witness = None;
    match &found {
        Linearity::Linearizable { warned, .. } if warned.is_empty() => {}
        Linearity::Linearizable { warned, .. } => {
            result = Err(Failure::new(
                warned,
                format!(
                    "the {calls} calls of {threads} threads have an order the model allows only with SHOULDs missed"
                ),
            ));
        }
        Linearity::Undecided { explored } => {
            undecided = Some(format!(
                "undecided: the search for an order of the {calls} calls of {threads} threads reached its bound of {explored} configurations without an answer"
            ));
        }
        Linearity::Not { placed, blocked } => {
            let mut reqs = found.reqs();
            for r in [V2_CONC_001]
                .into_iter()
                .chain(attribute(model, start, &h, &found, bound))
                .chain(extra(&h))
            {
                if !reqs.contains(&r) {
                    reqs.push(r);
                }
            }
            let next: Vec<String> = blocked
                .iter()
                .map(|b| format!("{} (allowed: {})", line(&h.records[b.index]), b.violation.allowed))
                .collect();
            let message = format!(
                "the {calls} calls of {threads} threads are not linearizable: {} of them can be put in an order the model allows, and then none of these can come next: {}",
                placed.len(),
                next.join("; ")
            );
            let (small, shrunk) = linearize::shrink(model, start, &h, &relax(), bound, &observer(&h), &found);
            if let Linearity::Not { placed, blocked } = shrunk {
                witness = Some(Witness {
                    history: small,
                    placed,
                    blocked,
                });
            }
            result = Err(Failure::new(&reqs, message));
        }
    }
    Judged {
        result,
        observed: Observed {
            history: h,
            witness,
            stall: None,
        },
        undecided,
        stuck: None,
    }
}

/// The judgement of a race that stalled: the deadlock that stops the run.
fn stalled(h: History<Fsm>, stall: Stall<Fsm>) -> Judged {
    let threads: Vec<String> = stall
        .threads
        .iter()
        .map(|t| {
            let doing = match (&t.in_call, &t.last) {
                (Some((op, since)), _) => format!("still in {op} (made at {} us)", since.as_micros()),
                (None, Some((op, o))) if t.ended => format!("done, last {op} -> {o}"),
                (None, Some((op, o))) => format!("waiting, last {op} -> {o}"),
                (None, None) => "no call made".to_owned(),
            };
            format!("thread {}: {doing}", t.thread)
        })
        .collect();
    let (message, stuck) = match &stall.cause {
        StallCause::Timeout { thread, after } => {
            let op = stall
                .threads
                .iter()
                .find(|t| t.thread == *thread)
                .and_then(|t| t.in_call.as_ref())
                .map(|(op, _)| op.to_string())
                .unwrap_or_default();
            (
                format!(
                    "a call made while others were in progress did not return within {} ms (a deadlock); the device is unusable and the run stops. {}",
                    after.as_millis(),
                    threads.join("; ")
                ),
                Stuck::Timeout {
                    call: format!("{op} (thread {thread}, made at once with others)"),
                    after: *after,
                },
            )
        }
        StallCause::Panicked { thread, message } => (
            format!(
                "the device panicked in a call of thread {thread}: {message}; the run stops. {}",
                threads.join("; ")
            ),
            Stuck::Panicked {
                call: format!("a call of thread {thread}"),
                message: message.clone(),
            },
        ),
        StallCause::NoProgress { after } => (
            format!(
                "the threads waited on each other for {} ms without a call in progress: {}",
                after.as_millis(),
                threads.join("; ")
            ),
            Stuck::Timeout {
                call: "the racing threads".into(),
                after: *after,
            },
        ),
        StallCause::Spawn(e) => (
            format!("a racing thread could not be started: {e}"),
            Stuck::Panicked {
                call: "starting the racing threads".into(),
                message: e.clone(),
            },
        ),
    };
    let reqs: &[Req] = match stall.cause {
        StallCause::Timeout { .. } => &[V2_CONC_003, V2_TIME_001],
        _ => &[],
    };
    Judged {
        result: Err(Failure {
            reqs: reqs.to_vec(),
            message,
            halts: true,
        }),
        observed: Observed {
            history: h,
            witness: None,
            stall: Some(stall),
        },
        undecided: None,
        stuck: Some(stuck),
    }
}

/// The verdict of a round whose one-thread part ran on `c`.
fn conclude(name: &str, c: &Checker<'_, Fsm>, reqs: &[Req], judged: Judged) -> (Verdict, Option<Stuck>) {
    let Judged {
        result,
        observed,
        undecided,
        stuck,
    } = judged;
    let mut v = match undecided {
        Some(why) => {
            let mut v = Verdict::skip(SuiteId::Concurrency, name, &[], why.clone());
            v.uncovered = reqs.iter().map(|r| (*r, why.clone())).collect();
            v.trace = c.trace();
            v
        }
        None => Verdict::of(SuiteId::Concurrency, name, c, reqs, result),
    };
    v.concurrency = Some(Box::new(observed));
    (v, stuck)
}

/// Ends a round: a device left with a call that never returned is not
/// asked again.
fn finish(device: &mut Handle<Fsm>, (v, stuck): (Verdict, Option<Stuck>)) -> Verdict {
    if let Some(s) = stuck {
        device.abandon(s);
    }
    v
}

/// Runs the race `programs` and then the calls `tail` from one thread, on
/// the device behind `shared`; judges the history from `start`.
fn race(
    model: &Fsm,
    shared: Arc<dyn SharedDevice<Fsm>>,
    timeout: Duration,
    start: &Belief<DevState>,
    programs: Vec<Vec<Step<Fsm>>>,
    tail: &[Op],
    settings: &Settings,
) -> Judged {
    let mut racer = Racer::new(shared, timeout);
    if let Err(stall) = racer.race(programs) {
        return stalled(racer.into_history(), stall);
    }
    for op in tail {
        if let Err(stall) = racer.call(*op, Vec::new()) {
            return stalled(racer.into_history(), stall);
        }
    }
    judge(model, start, racer.into_history(), &settings.bound, &|_| {
        Vec::new()
    })
}

/// Writes at once on the resuming fd: two threads write the first half of
/// a saved stream at the same time, then the rest follows and RESUMING is
/// left. A device that takes the writes one after another holds the first
/// half twice and must refuse the load; one that puts both at the same
/// place lost bytes it reported taken (V2-CONC-004).
fn resume_writes(
    model: &Fsm,
    src: &mut Handle<Fsm>,
    dst: &mut Handle<Fsm>,
    name: &str,
    settings: &Settings,
) -> Verdict {
    let reqs = asserts("resume-writes");
    let stream = {
        let mut c = Checker::new(model, src);
        match save_v2(&mut c, 1 << 20, false) {
            Ok(saved) if saved.complete && saved.bytes.len() >= 2 => saved.bytes,
            Ok(saved) => {
                return Verdict::skip(
                    SuiteId::Concurrency,
                    name,
                    reqs,
                    format!(
                        "the saved stream ({} bytes, read to its end: {}) cannot be split in two halves",
                        saved.bytes.len(),
                        saved.complete
                    ),
                )
            }
            Err(f) => return Verdict::of(SuiteId::Concurrency, name, &c, &[], Err(f)),
        }
    };
    let shared = match shared(dst, name, reqs) {
        Ok(s) => s,
        Err(v) => return *v,
    };
    let timeout = dst.timeout();
    let total = Some(stream.len() as u64);
    let half = stream.len() / 2;
    let judged = {
        let mut c = Checker::new(model, dst);
        if let Err(f) = c.step(Op::Set(MigState::Resuming)) {
            return Verdict::of(SuiteId::Concurrency, name, &c, &[], Err(f));
        }
        let fd = FdRef(0);
        let first = Op::Write {
            fd,
            len: half as u32,
            data: DataTag::Stream { offset: 0, total },
        };
        let programs = vec![
            vec![Step::Call(first, stream[..half].to_vec())],
            vec![Step::Call(first, stream[..half].to_vec())],
        ];
        let mut racer = Racer::new(shared, timeout);
        let judged = match racer.race(programs) {
            Err(stall) => stalled(racer.into_history(), stall),
            Ok(()) => {
                let rest = Op::Write {
                    fd,
                    len: (stream.len() - half) as u32,
                    data: DataTag::Stream {
                        offset: half as u64,
                        total,
                    },
                };
                let tail = racer
                    .call(rest, stream[half..].to_vec())
                    .and_then(|_| racer.call(Op::Set(MigState::Stop), Vec::new()))
                    .and_then(|_| racer.call(Op::Get, Vec::new()));
                match tail {
                    Err(stall) => stalled(racer.into_history(), stall),
                    Ok(_) => {
                        let h = racer.into_history();
                        // Every write took all its bytes, yet the load went
                        // through: bytes reported taken were lost.
                        let lost = |h: &History<Fsm>| {
                            let writes = h.records.iter().filter(|r| matches!(r.op, Op::Write { .. }));
                            let all_taken = writes
                                .clone()
                                .all(|r| matches!((r.op, r.outcome), (Op::Write { len, .. }, Outcome::Bytes(n)) if n == len));
                            let loaded = h.records.iter().any(|r| {
                                r.op == Op::Set(MigState::Stop) && matches!(r.outcome, Outcome::SetOk { .. })
                            });
                            if all_taken && loaded {
                                vec![V2_CONC_004]
                            } else {
                                Vec::new()
                            }
                        };
                        let offered: u64 = h
                            .records
                            .iter()
                            .filter_map(|r| match r.op {
                                Op::Write { len, .. } => Some(u64::from(len)),
                                _ => None,
                            })
                            .sum();
                        let taken: u64 = h
                            .records
                            .iter()
                            .filter_map(|r| match (r.op, r.outcome) {
                                (Op::Write { .. }, Outcome::Bytes(n)) => Some(u64::from(n)),
                                _ => None,
                            })
                            .sum();
                        let mut judged = judge(model, c.belief(), h, &settings.bound, &lost);
                        if taken > offered && judged.result.is_ok() {
                            judged.result = Err(Failure::new(
                                &[V2_CONC_004],
                                format!("the writes took {taken} bytes in all, of {offered} offered"),
                            ));
                        }
                        judged
                    }
                }
            }
        };
        conclude(name, &c, reqs, judged)
    };
    finish(dst, judged)
}

/// A read on the saving fd racing SET STOP_COPY -> STOP: one thread reads
/// the stream in small pieces while another ends the session, opens a new
/// one (STOP -> STOP_COPY) and reads it to its end once the first thread's
/// read in progress is over. The new session's stream must then resume into
/// the other instance and reproduce the source: a read that outlived its
/// session must not have taken bytes of the next one.
fn read_vs_stop(
    model: &Fsm,
    src: &mut Handle<Fsm>,
    dst: &mut Handle<Fsm>,
    name: &str,
    settings: &Settings,
) -> Verdict {
    let reqs = asserts("read-vs-stop");
    let shared = match shared(src, name, reqs) {
        Ok(s) => s,
        Err(v) => return *v,
    };
    let timeout = src.timeout();
    let (old, new) = (FdRef(0), FdRef(1));
    let drain = Op::Read {
        fd: new,
        len: 1 << 20,
    };
    let (concluded, fingerprint, stream) = {
        let mut c = Checker::new(model, src);
        if let Err(f) = c.step(Op::Set(MigState::StopCopy)) {
            return Verdict::of(SuiteId::Concurrency, name, &c, &[], Err(f));
        }
        let programs = vec![
            vec![repeat(
                Op::Read { fd: old, len: 16 },
                64,
                Until::Outcome(read_ended),
            )],
            vec![
                Step::AwaitDone { thread: 1, calls: 1 },
                Step::call(Op::Set(MigState::Stop)),
                Step::call(Op::Set(MigState::StopCopy)),
                Step::AwaitDone { thread: 1, calls: 2 },
                repeat(drain, 1 << 12, Until::Outcome(read_ended)),
            ],
        ];
        let mut judged = race(model, shared, timeout, c.belief(), programs, &[Op::Get], settings);
        // The new session's stream, when thread 2 read it to its end.
        let reads: Vec<&Record<Fsm>> = judged
            .observed
            .history
            .records
            .iter()
            .filter(|r| r.thread == 2 && r.op == drain)
            .collect();
        let complete = reads.last().is_some_and(|r| r.outcome == Outcome::Bytes(0));
        let stream: Option<Vec<u8>> =
            complete.then(|| reads.iter().flat_map(|r| r.data.iter().copied()).collect());
        let mut fingerprint = None;
        if judged.result.is_ok() && judged.stuck.is_none() && judged.undecided.is_none() {
            match c.fingerprint() {
                Ok(f) => fingerprint = f,
                Err(f) => judged.result = Err(f),
            }
        }
        let source = (c.last_snapshot(&[]), c.events().to_vec());
        (conclude(name, &c, reqs, judged), (fingerprint, source), stream)
    };
    let (fingerprint, (snapshot, source_events)) = fingerprint;
    let (mut verdict, stuck) = concluded;
    let Some(stream) = stream.filter(|_| verdict.status == crate::check::Status::Pass && stuck.is_none())
    else {
        // A failure, or a new session that did not reach its end (the
        // history judged why): nothing to resume.
        return finish(src, (verdict, stuck));
    };
    // The new session's stream into the other instance.
    let total = Some(stream.len() as u64);
    let mut d = Checker::new(model, dst);
    let mut compared = false;
    let result = (|| -> Result<(), Failure> {
        d.step(Op::Set(MigState::Resuming))?;
        load_v2(&mut d, FdRef(0), &stream, total, 1 << 20)?;
        d.step(Op::Set(MigState::Stop))?;
        let resumed = d.fingerprint()?;
        compared = same_state(&mut d, (&fingerprint, snapshot), &resumed, V2_STREAM_008)?;
        Ok(())
    })();
    let observed = verdict.concurrency.take();
    match result {
        Ok(()) => {
            state_compared(&mut verdict, compared, V2_STREAM_008);
            verdict.concurrency = observed;
            verdict
        }
        Err(f) => {
            let f = Failure {
                message: format!(
                    "the stream of the session opened while a read of the one before was in progress does not resume: {}",
                    f.message
                ),
                ..f
            };
            let mut v = Verdict::of(SuiteId::Concurrency, name, &d, reqs, Err(f)).preceded_by(&source_events);
            v.concurrency = observed;
            v
        }
    }
}

/// A reset racing a SET, reads and PRECOPY_INFO: in a saving session, one
/// thread SETs the state the device is in (which no reset can explain: it
/// returns no new fd), one reads, one asks PRECOPY_INFO, one resets once
/// the SET is under way and then GETs. The reset may land when the SET
/// ends, not later (V2-CONC-002).
fn reset_races(model: &Fsm, src: &mut Handle<Fsm>, name: &str, settings: &Settings) -> Verdict {
    let reqs = asserts("reset-races");
    let shared = match shared(src, name, reqs) {
        Ok(s) => s,
        Err(v) => return *v,
    };
    let timeout = src.timeout();
    let state = if model.flags().pre_copy() {
        MigState::PreCopy
    } else {
        MigState::StopCopy
    };
    let judged = {
        let mut c = Checker::new(model, src);
        if let Err(f) = c.step(Op::Set(state)) {
            return Verdict::of(SuiteId::Concurrency, name, &c, &[], Err(f));
        }
        let fd = FdRef(0);
        // In pre-copy a few bytes only, so that the reads never reach the
        // end of what the device has for now.
        let reader = match state {
            MigState::PreCopy => repeat(Op::Read { fd, len: 1 }, 8, Until::Outcome(failed)),
            _ => repeat(Op::Read { fd, len: 16 }, 32, Until::Outcome(read_ended)),
        };
        let programs = vec![
            vec![Step::call(Op::Set(state)), Step::call(Op::Get)],
            vec![reader],
            vec![repeat(
                Op::PrecopyInfo { fd, flags: 0 },
                8,
                Until::Outcome(failed),
            )],
            vec![
                Step::AwaitBegun { thread: 1, calls: 1 },
                Step::AwaitBegun { thread: 2, calls: 2 },
                Step::call(Op::Reset),
                Step::call(Op::Get),
            ],
        ];
        let tail = [Op::Get, Op::Read { fd, len: 16 }];
        let judged = race(model, shared, timeout, c.belief(), programs, &tail, settings);
        conclude(name, &c, reqs, judged)
    };
    finish(src, judged)
}

/// Two SETs at once from STOP (to STOP_COPY and to RESUMING), each followed
/// by a GET, with a third thread GETting meanwhile.
fn two_sets(model: &Fsm, src: &mut Handle<Fsm>, name: &str, settings: &Settings) -> Verdict {
    let reqs = asserts("two-sets");
    let shared = match shared(src, name, reqs) {
        Ok(s) => s,
        Err(v) => return *v,
    };
    let timeout = src.timeout();
    let judged = {
        let mut c = Checker::new(model, src);
        if let Err(f) = c.step(Op::Set(MigState::Stop)) {
            return Verdict::of(SuiteId::Concurrency, name, &c, &[], Err(f));
        }
        let programs = vec![
            vec![Step::call(Op::Set(MigState::StopCopy)), Step::call(Op::Get)],
            vec![Step::call(Op::Set(MigState::Resuming)), Step::call(Op::Get)],
            vec![repeat(Op::Get, 8, Until::Ended(1))],
        ];
        let judged = race(model, shared, timeout, c.belief(), programs, &[Op::Get], settings);
        conclude(name, &c, reqs, judged)
    };
    finish(src, judged)
}

/// GETs during SETs whose paths have several arcs (RUNNING -> STOP_COPY and
/// back): every GET sees a state before or after a SET, never one inside
/// its path.
fn gets_during_set(model: &Fsm, src: &mut Handle<Fsm>, name: &str, settings: &Settings) -> Verdict {
    let reqs = asserts("gets-during-set");
    let shared = match shared(src, name, reqs) {
        Ok(s) => s,
        Err(v) => return *v,
    };
    let timeout = src.timeout();
    let judged = {
        let c = Checker::new(model, src);
        let programs = vec![
            vec![
                Step::call(Op::Set(MigState::StopCopy)),
                Step::call(Op::Set(MigState::Running)),
            ],
            vec![Step::Repeat {
                op: Op::Get,
                bytes: Vec::new(),
                max: 64,
                until: Until::Ended(1),
                pause: Duration::from_micros(100),
            }],
        ];
        let judged = race(model, shared, timeout, c.belief(), programs, &[Op::Get], settings);
        conclude(name, &c, reqs, judged)
    };
    finish(src, judged)
}
