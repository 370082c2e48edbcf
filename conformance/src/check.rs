//! Running operations on a device and on the model side by side.
//!
//! A [`Checker`] owns the model's belief about one device. Every operation is
//! executed on the device, then judged by the model; the trace of operations
//! and outcomes is kept so a failure can be printed as a reproducer.

use crate::device::{Device, Io};
use std::fmt;
use std::time::{Duration, Instant};
use vfio_mig_model::{Belief, Expectation, Judgement, Protocol, Violation};

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

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Every outcome was allowed.
    Pass,
    /// Allowed by every MUST, but a SHOULD was missed.
    Warn,
    /// An outcome the model does not allow.
    Fail,
    /// Not run, with a reason.
    Skip,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        })
    }
}

/// Why a check failed: the model's violation, or a fault-only outcome
/// without an injected fault, or a harness-level expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The requirement IDs broken.
    pub reqs: Vec<&'static str>,
    /// What went wrong, for a person.
    pub message: String,
}

impl Failure {
    /// A failure of the harness's own expectation (for example a round trip
    /// whose fingerprints differ).
    pub fn new(reqs: &[&'static str], message: impl Into<String>) -> Self {
        Failure {
            reqs: reqs.to_vec(),
            message: message.into(),
        }
    }
}

impl From<Violation> for Failure {
    fn from(v: Violation) -> Self {
        Failure {
            message: format!("{}: observed {}, allowed {}", v.op, v.observed, v.allowed),
            reqs: v.reqs,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.reqs.join(", "), self.message)
    }
}

/// The model and one device, stepped together.
pub struct Checker<'a, P: Protocol> {
    model: &'a P,
    device: &'a mut dyn Device<P>,
    belief: Belief<P::State>,
    /// Reused buffers of each judgement.
    next: Belief<P::State>,
    allowed: vfio_mig_model::Allowed<P::Expect>,
    trace: Vec<TraceStep<P>>,
    faults: bool,
    warnings: Vec<&'static str>,
    exercised: Vec<&'static str>,
}

impl<'a, P: Protocol> Checker<'a, P> {
    /// Starts checking a device that was just opened or restored.
    pub fn new(model: &'a P, device: &'a mut dyn Device<P>) -> Self {
        Checker {
            model,
            belief: model.start(),
            next: Belief::empty(),
            allowed: vfio_mig_model::Allowed::governed_by(&[]),
            device,
            trace: Vec::new(),
            faults: false,
            warnings: Vec::new(),
            exercised: Vec::new(),
        }
    }

    /// Tells the checker a fault was injected: from now on, outcomes the
    /// model allows only under a fault are accepted.
    pub fn expect_faults(&mut self) {
        self.faults = true;
    }

    /// Arms `fault` on the device and widens the model's belief to match.
    /// Returns false (and changes nothing) when the adapter cannot inject it.
    pub fn inject(&mut self, fault: crate::device::Fault) -> bool
    where
        P: crate::target::FaultBelief,
    {
        if !self.device.inject(fault) {
            return false;
        }
        // Short reads are ordinary behaviour, not a failure to excuse.
        if !matches!(fault, crate::device::Fault::ShortReads(_)) {
            self.faults = true;
        }
        self.belief = self.model.after_fault(&self.belief, fault);
        true
    }

    /// The device, for fault injection and fingerprints.
    pub fn device(&mut self) -> &mut dyn Device<P> {
        self.device
    }

    /// The model.
    pub fn model(&self) -> &P {
        self.model
    }

    /// The model's current belief.
    pub fn belief(&self) -> &Belief<P::State> {
        &self.belief
    }

    /// The operations so far.
    pub fn trace(&self) -> &[TraceStep<P>] {
        &self.trace
    }

    /// SHOULD rules missed so far.
    pub fn warnings(&self) -> &[&'static str] {
        &self.warnings
    }

    /// Every requirement that governed an operation so far.
    pub fn exercised(&self) -> &[&'static str] {
        &self.exercised
    }

    /// Executes `op` with no data bytes.
    pub fn step(&mut self, op: P::Op) -> Result<P::Outcome, Failure> {
        self.step_io(op, &mut Io::default())
    }

    /// Executes `op` with its bytes in `io`, judges the outcome and follows
    /// the device.
    pub fn step_io(&mut self, op: P::Op, io: &mut Io) -> Result<P::Outcome, Failure> {
        let start = Instant::now();
        let outcome = self.device.exec(&op, io);
        let took = start.elapsed();
        self.trace.push(TraceStep {
            op: op.clone(),
            outcome: outcome.clone(),
            took,
        });
        let judged = self
            .model
            .judge_into(&self.belief, &op, &outcome, &mut self.allowed, &mut self.next);
        for r in &self.allowed.governing {
            if !self.exercised.contains(r) {
                self.exercised.push(r);
            }
        }
        let allowed = &self.allowed;
        let judgement = judged?;
        match judgement {
            Judgement::Pass => {}
            // After an injected fault, an outcome the fault explains is no
            // missed SHOULD.
            Judgement::Warn(_)
                if self.faults
                    && allowed
                        .items
                        .iter()
                        .any(|a| a.kind == vfio_mig_model::Kind::Fault && a.expect.matches(&outcome)) => {}
            Judgement::Warn(reqs) => {
                for r in reqs {
                    if !self.warnings.contains(&r) {
                        self.warnings.push(r);
                    }
                }
            }
            Judgement::Fault(reqs) if !self.faults => {
                return Err(Failure {
                    reqs,
                    message: format!(
                        "{op}: observed {outcome}, which is allowed only after an internal device failure, and none was injected"
                    ),
                });
            }
            Judgement::Fault(_) => {}
        }
        self.belief.set_from(&self.next);
        Ok(outcome)
    }

    /// The operations and outcomes so far.
    fn steps(&self) -> Vec<(P::Op, P::Outcome)> {
        self.trace
            .iter()
            .map(|s| (s.op.clone(), s.outcome.clone()))
            .collect()
    }

    /// The trace rendered one step per line.
    pub fn trace_lines(&self) -> Vec<String> {
        self.trace
            .iter()
            .map(|s| format!("{} -> {}", s.op, s.outcome))
            .collect()
    }

    /// The trace as a ready-to-paste regression test named after `check`.
    pub fn reproducer(&self, check: &str) -> String
    where
        P: crate::target::Target,
    {
        let steps = self.steps();
        crate::regression::reproducer::<P>(check, &steps)
    }

    /// The trace in the JSON trace format (v2 only).
    pub fn json_trace(&self) -> Option<String>
    where
        P: crate::target::Target,
    {
        let steps = self.steps();
        self.model.json_trace(&steps)
    }

    /// The trace as a C program issuing the same calls (v2 only).
    pub fn c_reproducer(&self, check: &str) -> Option<String>
    where
        P: crate::target::Target,
    {
        let steps = self.steps();
        P::c_reproducer(check, &steps)
    }
}
