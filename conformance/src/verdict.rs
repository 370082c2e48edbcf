//! The result of one check.

use crate::check::{Checker, Failure, Status};
use std::time::Duration;

/// One check's result: what it exercised, how it ended, and how to reproduce
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The suite (`arcs`, `sequences`, `explore`, `data`, `faults`).
    pub suite: &'static str,
    /// A path-like name: `v2/STOP_COPY+P2P+PRE_COPY/arc/STOP_COPY->PRE_COPY`.
    pub name: String,
    /// The requirements the check exercised.
    pub reqs: Vec<&'static str>,
    /// On FAIL, the requirements broken; on WARN, the SHOULDs missed.
    pub broken: Vec<&'static str>,
    /// PASS, WARN, FAIL or SKIP.
    pub status: Status,
    /// What went wrong (failure message, missed SHOULDs, skip reason).
    pub detail: String,
    /// The operations and outcomes, one per line.
    pub trace: Vec<String>,
    /// A `#[test]` function that replays the trace, to paste into a test file.
    pub reproducer: Option<String>,
    /// The same trace as a C program issuing the same calls (v2).
    pub c_reproducer: Option<String>,
    /// The trace in the JSON trace format (v2).
    pub json_trace: Option<String>,
    /// Time spent in device calls.
    pub device_time: Duration,
    /// Time of each step of the trace, in order.
    pub step_times: Vec<Duration>,
    /// For a save: the stream length and the time from entering STOP_COPY
    /// to leaving it (the device's downtime).
    pub transfer: Option<Transfer>,
    /// The device could not be restored after this check: nothing after it
    /// was run.
    pub halts: bool,
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
    /// A skipped check.
    pub fn skip(
        suite: &'static str,
        name: impl Into<String>,
        reqs: &[&'static str],
        why: impl Into<String>,
    ) -> Self {
        Verdict {
            suite,
            name: name.into(),
            reqs: reqs.to_vec(),
            broken: Vec::new(),
            status: Status::Skip,
            detail: why.into(),
            trace: Vec::new(),
            reproducer: None,
            c_reproducer: None,
            json_trace: None,
            device_time: Duration::ZERO,
            step_times: Vec::new(),
            transfer: None,
            halts: false,
        }
    }

    /// The verdict of a finished check: `result` is the check's own outcome;
    /// `extra` names requirements the check verified itself (beyond those
    /// that governed its operations).
    pub fn of<P: crate::target::Target>(
        suite: &'static str,
        name: impl Into<String>,
        checker: &Checker<'_, P>,
        extra: &[&'static str],
        result: Result<(), Failure>,
    ) -> Self {
        let name = name.into();
        let device_time = checker.trace().iter().map(|s| s.took).sum();
        let (status, broken, detail, reproducer) = match result {
            Err(f) => (Status::Fail, f.reqs, f.message, Some(checker.reproducer(&name))),
            Ok(()) if !checker.warnings().is_empty() => {
                let missed = checker.warnings().to_vec();
                let detail = format!("SHOULD not met: {}", missed.join(", "));
                (Status::Warn, missed, detail, Some(checker.reproducer(&name)))
            }
            Ok(()) => (Status::Pass, Vec::new(), String::new(), None),
        };
        let mut reqs = broken.clone();
        for r in extra.iter().chain(checker.exercised()) {
            if !reqs.contains(r) {
                reqs.push(r);
            }
        }
        let c_reproducer = reproducer.as_ref().and_then(|_| checker.c_reproducer(&name));
        Verdict {
            suite,
            name,
            reqs,
            broken,
            status,
            detail,
            trace: checker.trace_lines(),
            reproducer,
            c_reproducer,
            json_trace: checker.json_trace(),
            device_time,
            step_times: checker.trace().iter().map(|s| s.took).collect(),
            transfer: None,
            halts: false,
        }
    }

    /// Whether this verdict failed or warned on requirement `id`.
    pub fn breaks(&self, id: &str) -> bool {
        self.broken.contains(&id)
    }
}
