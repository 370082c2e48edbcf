//! Running operations on a device and on the model side by side.
//!
//! A [`Checker`] owns the model's belief about one device. Every operation
//! is executed on the device (through its deadline [`Handle`]), then judged
//! by the model; the operations, outcomes and injected faults are kept as
//! typed events so a failure can be rendered as a reproducer.

use crate::handle::Handle;
use crate::target::Target;
use crate::trace::{snapshots_of, Event, Fill, Snap, Trace, TraceStep};
use std::fmt;
use std::time::Instant;
use vfio_mig_device::{Fault, Io};
use vfio_mig_model::{Allowed, Belief, Expectation, Judgement, Kind, Req, Violation};

/// An error with its sources, `: `-joined.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
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

impl Status {
    /// The report spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

/// Why a check failed: the model's violation, a fault-only outcome without
/// an injected fault, a device that stopped answering, or a harness-level
/// expectation (a round trip whose states differ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The requirement IDs broken.
    pub reqs: Vec<Req>,
    /// What went wrong, for a person.
    pub message: String,
    /// The device is unusable after this: nothing more can be run on it.
    pub halts: bool,
}

impl Failure {
    /// A failure of the harness's own expectation.
    pub fn new(reqs: &[Req], message: impl Into<String>) -> Self {
        Failure {
            reqs: reqs.to_vec(),
            message: message.into(),
            halts: false,
        }
    }
}

impl From<Violation> for Failure {
    fn from(v: Violation) -> Self {
        Failure {
            message: format!("{}: observed {}, allowed {}", v.op, v.observed, v.allowed),
            reqs: v.reqs,
            halts: false,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}",
            vfio_mig_model::join_ids(&self.reqs, ", "),
            self.message
        )
    }
}

/// How a check's body ended early: failed, or could not go on for a reason
/// that is not the device's fault (a fault the adapter cannot inject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interrupt {
    /// The device broke a rule.
    Failed(Failure),
    /// The check cannot run on this adapter, for this reason.
    Unsupported(&'static str),
}

impl From<Failure> for Interrupt {
    fn from(f: Failure) -> Self {
        Interrupt::Failed(f)
    }
}

/// The model and one device, stepped together.
pub struct Checker<'a, P: Target> {
    model: &'a P,
    device: &'a mut Handle<P>,
    belief: Belief<P::State>,
    /// Reused buffers of each judgement.
    next: Belief<P::State>,
    allowed: Allowed<P::Expect>,
    events: Vec<Event<P>>,
    faults: bool,
    warnings: Vec<Req>,
    exercised: Vec<Req>,
}

impl<'a, P: Target> Checker<'a, P> {
    /// Starts checking a device that was just opened or restored.
    pub fn new(model: &'a P, device: &'a mut Handle<P>) -> Self {
        Checker {
            model,
            belief: model.start(),
            next: Belief::empty(),
            allowed: Allowed::governed_by(&[]),
            device,
            events: Vec::new(),
            faults: false,
            warnings: Vec::new(),
            exercised: Vec::new(),
        }
    }

    /// Arms `fault` on the device and widens the model's belief to match.
    /// `Ok(false)` (and nothing changed) when the adapter cannot inject it.
    pub fn inject(&mut self, fault: Fault) -> Result<bool, Failure> {
        match self.device.inject(fault) {
            Ok(false) => return Ok(false),
            Ok(true) => {}
            Err(stuck) => {
                return Err(Failure {
                    reqs: vec![P::DEADLINE],
                    message: stuck.to_string(),
                    halts: true,
                })
            }
        }
        // Short reads are ordinary behaviour, not a failure to excuse.
        if !matches!(fault, Fault::ShortReads(_)) {
            self.faults = true;
        }
        self.events.push(Event::Inject {
            instance: self.device.instance(),
            fault,
        });
        self.belief = self.model.after_fault(&self.belief, fault);
        Ok(true)
    }

    /// [`Checker::inject`] where a fault that cannot be injected makes the
    /// check unsupported on this adapter, with `why`.
    pub fn require(&mut self, fault: Fault, why: &'static str) -> Result<(), Interrupt> {
        if self.inject(fault)? {
            Ok(())
        } else {
            Err(Interrupt::Unsupported(why))
        }
    }

    /// The device's observable state, if it has one; the trace records
    /// that it was taken ([`Checker::last_snapshot`] names it).
    pub fn fingerprint(&mut self) -> Result<Option<Vec<u8>>, Failure> {
        let fp = self.device.fingerprint().map_err(|stuck| Failure {
            reqs: vec![P::DEADLINE],
            message: stuck.to_string(),
            halts: true,
        })?;
        self.events.push(Event::Snapshot {
            instance: self.device.instance(),
        });
        Ok(fp)
    }

    /// The snapshot [`Checker::fingerprint`] took last, counting those of
    /// the same instance in `earlier` events that precede this checker's in
    /// the check's trace.
    pub fn last_snapshot(&self, earlier: &[Event<P>]) -> Snap {
        let instance = self.device.instance();
        let n = snapshots_of(earlier, instance) + snapshots_of(&self.events, instance);
        Snap {
            instance,
            nth: n.saturating_sub(1),
        }
    }

    /// Records that the check compared snapshots `a` and `b` under `rule`.
    pub fn compared(&mut self, a: Snap, b: Snap, rule: Req) {
        self.events.push(Event::Same { a, b, rule });
    }

    /// Closes the device and opens it again in the middle of a check: the
    /// model starts over, as for a fresh open.
    pub fn reopen(&mut self) -> Result<(), Failure> {
        let instance = self.device.instance();
        self.device.restore().map_err(|e| {
            let rule = match &e {
                vfio_mig_device::DeviceError::Broke { rule, .. } => vec![*rule],
                _ => Vec::new(),
            };
            Failure {
                reqs: rule,
                message: format!("closing and opening the device again: {}", error_chain(&e)),
                halts: true,
            }
        })?;
        self.events.push(Event::Reopen { instance });
        self.belief = self.model.reopen(&self.belief);
        self.faults = false;
        Ok(())
    }

    /// The model.
    pub fn model(&self) -> &P {
        self.model
    }

    /// The model's current belief.
    pub fn belief(&self) -> &Belief<P::State> {
        &self.belief
    }

    /// The events so far.
    pub fn events(&self) -> &[Event<P>] {
        &self.events
    }

    /// The operations so far.
    pub fn steps(&self) -> impl Iterator<Item = &TraceStep<P>> {
        self.events.iter().filter_map(Event::step)
    }

    /// Number of operations so far.
    pub fn len(&self) -> usize {
        self.steps().count()
    }

    /// Whether no operation ran yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The events as a protocol-erased trace.
    pub fn trace(&self) -> Trace {
        P::wrap(self.events.clone())
    }

    /// SHOULD rules missed so far.
    pub fn warnings(&self) -> &[Req] {
        &self.warnings
    }

    /// Every requirement that governed an operation so far.
    pub fn exercised(&self) -> &[Req] {
        &self.exercised
    }

    /// Executes `op` with no data bytes (a write writes [`crate::trace::junk`]).
    pub fn step(&mut self, op: P::Op) -> Result<P::Outcome, Failure> {
        self.step_io(op, &mut Io::default())
    }

    /// Executes the write `op` of `bytes`, made as `fill` says (so that a
    /// replay makes the same).
    pub fn write(&mut self, op: P::Op, bytes: &[u8], fill: Fill) -> Result<P::Outcome, Failure> {
        let mut io = Io {
            write: bytes.to_vec(),
            read: Vec::new(),
        };
        self.run(op, &mut io, Some(fill))
    }

    /// Executes `op` with its bytes in `io`, judges the outcome and follows
    /// the device. A write whose `io.write` is empty writes junk of its
    /// length; one whose bytes the caller made is recorded as bytes a replay
    /// cannot remake (use [`Checker::write`] to say where they came from).
    pub fn step_io(&mut self, op: P::Op, io: &mut Io) -> Result<P::Outcome, Failure> {
        let fill = match P::written(&op) {
            Some(len) if io.write.is_empty() && len > 0 => {
                io.write = crate::trace::junk(len as usize);
                Some(Fill::Junk)
            }
            Some(0) => Some(Fill::Junk),
            _ => None,
        };
        self.run(op, io, fill)
    }

    fn run(&mut self, op: P::Op, io: &mut Io, fill: Option<Fill>) -> Result<P::Outcome, Failure> {
        let start = Instant::now();
        let answered = self.device.exec(P::call(&op), io);
        let took = start.elapsed();
        let outcome = match answered {
            Ok(o) => o,
            Err(stuck) => {
                // The rules of the operation, and the deadline.
                let allowed = self.model.allowed(&self.belief, &op);
                let mut reqs = vec![P::DEADLINE];
                for r in allowed.broken_by_mismatch() {
                    if !reqs.contains(&r) {
                        reqs.push(r);
                    }
                }
                return Err(Failure {
                    reqs,
                    message: format!("{op}: {stuck}; the device is unusable and the run stops"),
                    halts: true,
                });
            }
        };
        self.events.push(Event::Step(TraceStep {
            instance: self.device.instance(),
            op: op.clone(),
            outcome: outcome.clone(),
            took,
            fill,
        }));
        // The call returned within the deadline: that much is asserted.
        if !self.exercised.contains(&P::DEADLINE) {
            self.exercised.push(P::DEADLINE);
        }
        let judged = self
            .model
            .judge_into(&self.belief, &op, &outcome, &mut self.allowed, &mut self.next);
        for r in &self.allowed.governing {
            if !self.exercised.contains(r) {
                self.exercised.push(*r);
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
                        .any(|a| a.kind == Kind::Fault && a.expect.matches(&outcome)) => {}
            Judgement::Warn(reqs) => {
                for r in reqs {
                    if !self.warnings.contains(&r) {
                        self.warnings.push(r);
                    }
                }
            }
            Judgement::Fault(reqs) if !self.faults => {
                return Err(Failure::new(
                    &reqs,
                    format!(
                        "{op}: observed {outcome}, which is allowed only after an internal device failure, and none was injected"
                    ),
                ));
            }
            Judgement::Fault(_) => {}
        }
        self.belief.set_from(&self.next);
        Ok(outcome)
    }
}
