//! The result of one check, kept as typed values until a renderer turns it
//! into text.

use crate::check::{Checker, Failure, Status};
use crate::concurrent::{History, Stall};
use crate::linearize::Blocked;
use crate::target::{Arc, Target};
use crate::trace::Trace;
use std::time::Duration;
use vfio_mig_model::v2::Fsm;
use vfio_mig_model::{Level, Req};

/// Where a verdict comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SuiteId {
    /// Opening the devices, before any suite.
    Setup,
    /// Every request from every reachable state.
    Arcs,
    /// Random sequences, shrunk on failure.
    Sequences,
    /// Every sequence up to a depth.
    Explore,
    /// Save, resume, compare.
    Data,
    /// Failures, ERROR, bad streams, dead descriptors.
    Faults,
    /// The fail-nth sweep of a live migration (run with the faults).
    Sweep,
    /// Rules of the vfio-user wire protocol, checked on the socket.
    Wire,
    /// Calls from several threads at once, judged by linearizability.
    Concurrency,
}

impl SuiteId {
    /// The suites a run executes, in order (the sweep runs inside the faults
    /// suite; setup and wire checks are not suites of their own).
    pub const RUN: [SuiteId; 6] = [
        SuiteId::Arcs,
        SuiteId::Sequences,
        SuiteId::Explore,
        SuiteId::Data,
        SuiteId::Faults,
        SuiteId::Concurrency,
    ];

    /// The name in check names and reports.
    pub fn name(self) -> &'static str {
        match self {
            SuiteId::Setup => "setup",
            SuiteId::Arcs => "arcs",
            SuiteId::Sequences => "sequences",
            SuiteId::Explore => "explore",
            SuiteId::Data => "data",
            SuiteId::Faults => "faults",
            SuiteId::Sweep => "sweep",
            SuiteId::Wire => "wire",
            SuiteId::Concurrency => "concurrency",
        }
    }
}

/// One check's result: what it exercised, how it ended, what it did.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The suite.
    pub suite: SuiteId,
    /// A path-like name: `v2/STOP_COPY+P2P+PRE_COPY/arc/STOP_COPY->PRE_COPY`.
    pub name: String,
    /// The requirements the check exercised.
    pub reqs: Vec<Req>,
    /// On FAIL, the requirements broken; on WARN, the SHOULDs missed.
    pub broken: Vec<Req>,
    /// PASS, WARN, FAIL or SKIP.
    pub status: Status,
    /// What went wrong (failure message, skip reason), or what was covered.
    pub detail: String,
    /// The device calls and injected faults, typed.
    pub trace: Trace,
    /// For a save: the stream length and the device's downtime.
    pub transfer: Option<Transfer>,
    /// For a request of the arc table: the arc and the index of the request
    /// among the trace's steps.
    pub arc: Option<(Arc, usize)>,
    /// The device could not be used after this check: nothing after it ran.
    pub halts: bool,
    /// Requirements the check meant to assert but could not, each with the
    /// reason (the device exposes no state to compare): they stay NOT
    /// COVERED unless another check asserts them.
    pub uncovered: Vec<(Req, String)>,
    /// For a check that made calls at once: what it saw, for the timeline
    /// of the report.
    pub concurrency: Option<Box<Observed>>,
}

/// What a check that made calls from several threads at once saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// The calls, with their threads and times.
    pub history: History<Fsm>,
    /// When no order of the calls is one the model allows: a smaller
    /// history for which none is either.
    pub witness: Option<Witness>,
    /// When a call did not return: why, and every thread's last call.
    pub stall: Option<Stall<Fsm>>,
}

/// A history no order of whose calls the model allows, with how far the
/// search got.
#[derive(Debug, Clone, PartialEq)]
pub struct Witness {
    /// The calls.
    pub history: History<Fsm>,
    /// The longest beginning of an order the model allows (indices into
    /// the witness's records).
    pub placed: Vec<usize>,
    /// The calls that could not come after it, each with the model's
    /// verdict.
    pub blocked: Vec<Blocked>,
}

/// What one save moved and how long the device was stopped for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// Bytes in the stream (pre-copy and stop-copy).
    pub bytes: u64,
    /// Bytes read in STOP_COPY.
    pub stop_copy_bytes: u64,
    /// Time from the SET into STOP_COPY to the SET out of it.
    pub stop_copy_time: Duration,
}

impl Verdict {
    fn bare(suite: SuiteId, name: String, reqs: &[Req], status: Status, detail: String) -> Self {
        Verdict {
            suite,
            name,
            reqs: reqs.to_vec(),
            broken: Vec::new(),
            status,
            detail,
            trace: Trace::Empty,
            transfer: None,
            arc: None,
            halts: false,
            uncovered: Vec::new(),
            concurrency: None,
        }
    }

    /// A skipped check.
    pub fn skip(suite: SuiteId, name: impl Into<String>, reqs: &[Req], why: impl Into<String>) -> Self {
        Verdict::bare(suite, name.into(), reqs, Status::Skip, why.into())
    }

    /// A check that passed without device calls of its own to show (a
    /// summary of many sequences): `reqs` are what it exercised.
    pub fn passed(suite: SuiteId, name: impl Into<String>, reqs: &[Req], what: impl Into<String>) -> Self {
        Verdict::bare(suite, name.into(), reqs, Status::Pass, what.into())
    }

    /// A failure that stops the run: the device could not be opened,
    /// restored or reached.
    pub fn halted(suite: SuiteId, name: impl Into<String>, reqs: &[Req], why: impl Into<String>) -> Self {
        let mut v = Verdict::bare(suite, name.into(), reqs, Status::Fail, why.into());
        v.broken = reqs.to_vec();
        v.halts = true;
        v
    }

    /// The verdict of a finished check: `result` is the check's own outcome;
    /// `extra` names requirements the check verified itself (beyond those
    /// that governed its operations).
    pub fn of<P: Target>(
        suite: SuiteId,
        name: impl Into<String>,
        checker: &Checker<'_, P>,
        extra: &[Req],
        result: Result<(), Failure>,
    ) -> Self {
        let (status, broken, detail, halts) = match result {
            Err(f) => {
                // Severity is the rules': only a broken MUST (or a failure
                // that names no rule) fails; SHOULDs and MAYs warn.
                let must = f.reqs.is_empty() || f.reqs.iter().any(|r| r.level() == Level::Must);
                let status = if must { Status::Fail } else { Status::Warn };
                (status, f.reqs, f.message, f.halts)
            }
            Ok(()) if !checker.warnings().is_empty() => {
                let missed = checker.warnings().to_vec();
                let detail = format!("SHOULD not met: {}", vfio_mig_model::join_ids(&missed, ", "));
                (Status::Warn, missed, detail, false)
            }
            Ok(()) => (Status::Pass, Vec::new(), String::new(), false),
        };
        let mut reqs = broken.clone();
        for r in extra.iter().chain(checker.exercised()) {
            if !reqs.contains(r) {
                reqs.push(*r);
            }
        }
        Verdict {
            suite,
            name: name.into(),
            reqs,
            broken,
            status,
            detail,
            trace: checker.trace(),
            transfer: None,
            arc: None,
            halts,
            uncovered: Vec::new(),
            concurrency: None,
        }
    }

    /// Whether replaying the trace from one thread re-runs the check: not
    /// for the concurrency suite, whose calls raced (its timeline shows
    /// them instead).
    pub fn replayable(&self) -> bool {
        self.suite != SuiteId::Concurrency
    }

    /// The same verdict with `earlier` events (another instance's part of
    /// the same check, such as the save a resume loads) before its own, so
    /// that its trace replays the whole check.
    pub fn preceded_by<P: Target>(mut self, earlier: &[crate::trace::Event<P>]) -> Self {
        let mut events = earlier.to_vec();
        events.extend_from_slice(P::events(&self.trace));
        self.trace = P::wrap(events);
        self
    }

    /// Whether this verdict failed or warned on requirement `id`.
    pub fn breaks(&self, id: Req) -> bool {
        self.broken.contains(&id)
    }

    /// Whether this verdict reports requirement `id` broken as its level
    /// says it must be: a FAIL for a MUST, a FAIL or a WARN for a SHOULD or
    /// a MAY.
    pub fn reports_broken(&self, id: Req) -> bool {
        self.breaks(id)
            && match id.level() {
                vfio_mig_model::Level::Must => self.status == Status::Fail,
                vfio_mig_model::Level::Should | vfio_mig_model::Level::May => {
                    matches!(self.status, Status::Fail | Status::Warn)
                }
            }
    }

    /// Time spent in device calls.
    pub fn device_time(&self) -> Duration {
        self.trace.device_time()
    }
}
