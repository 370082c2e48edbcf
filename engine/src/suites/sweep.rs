//! Fail-nth fault sweep: one live migration (RUNNING -> PRE_COPY -> STOP_COPY
//! -> read to the end -> STOP on the source, then RESUMING -> the stream ->
//! STOP on the destination) is run once to count its device operations, then
//! once per operation n with the n-th made to fail. After each failure the
//! device must be in a state the model allows (checked by a GET), a half
//! written stream must not be accepted as complete, and a reset must bring
//! the device back to RUNNING.
//!
//! The mock fails the operation itself ([`Fault::FailNthOp`]); an adapter
//! that cannot be told to fail gets the failure injected at its boundary:
//! the n-th operation answers EIO without reaching the device.

use super::common::{push, restore};
use crate::check::{Checker, Failure};
use crate::handle::Handle;
use crate::target::Target;
use crate::trace::{Event, Fill};
use crate::verdict::{SuiteId, Verdict};
use vfio_mig_device::{Fault, Io};
use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::{self, DataTag, FdRef, Fsm, MigState, Op, Outcome};
use vfio_mig_model::{Errno, Req};

/// One operation of the flow, and the bytes it writes with where they come
/// from.
type Step = (Op, Option<(Vec<u8>, Fill)>);

/// The migration's operations: the source's, then the destination's, with
/// the bytes of each write; and the fault-free save itself, which a
/// destination's check replays first to have the stream.
struct Flow {
    src: Vec<Op>,
    dst: Vec<Step>,
    save: Vec<Event<Fsm>>,
}

const CHUNK: u32 = 4096;

/// Runs the migration without faults and records its operations.
fn record(model: &Fsm, src: &mut Handle<Fsm>, dst: &mut Handle<Fsm>) -> Result<Flow, Failure> {
    let fd = FdRef(0);
    let mut c = Checker::new(model, src);
    let mut stream = Vec::new();
    let read = Op::Read { fd, len: CHUNK };
    let mut drain = |c: &mut Checker<'_, Fsm>, precopy: bool| -> Result<(), Failure> {
        for _ in 0..100_000 {
            let mut io = Io::default();
            match c.step_io(read, &mut io)? {
                Outcome::Bytes(n) if n > 0 => stream.extend_from_slice(&io.read),
                Outcome::Bytes(0) if !precopy => return Ok(()),
                Outcome::Err(Errno::ENOMSG) | Outcome::Bytes(0) if precopy => return Ok(()),
                other => return Err(Failure::new(&[V2_STREAM_001], format!("read: {other}"))),
            }
        }
        Err(Failure::new(&[V2_STREAM_001], "no end of the stream"))
    };
    if model.flags().pre_copy() {
        c.step(Op::Set(MigState::PreCopy))?;
        drain(&mut c, true)?;
    }
    c.step(Op::Set(MigState::StopCopy))?;
    drain(&mut c, false)?;
    c.step(Op::Set(MigState::Stop))?;
    let src_ops: Vec<Op> = c.steps().map(|s| s.op).collect();
    let total = Some(stream.len() as u64);
    let mut dst_ops: Vec<Step> = vec![(Op::Set(MigState::Resuming), None)];
    for (i, chunk) in stream.chunks(CHUNK as usize).enumerate() {
        let data = DataTag::Stream {
            offset: (i * CHUNK as usize) as u64,
            total,
        };
        let op = Op::Write {
            fd,
            len: chunk.len() as u32,
            data,
        };
        let fill = Fill::Saved {
            at: (i * CHUNK as usize) as u64,
        };
        dst_ops.push((op, Some((chunk.to_vec(), fill))));
    }
    dst_ops.push((Op::Set(MigState::Stop), None));
    // The fault-free resume must work, or the sweep would judge nothing.
    let save = c.events().to_vec();
    let mut d = Checker::new(model, dst);
    for step in &dst_ops {
        if let Outcome::Err(e) = run(&mut d, step)? {
            let op = step.0;
            return Err(Failure::new(
                &[V2_STREAM_004],
                format!("fault-free resume: {op}: {e}"),
            ));
        }
    }
    Ok(Flow {
        src: src_ops,
        dst: dst_ops,
        save,
    })
}

/// One step of the flow on `c`.
fn run(c: &mut Checker<'_, Fsm>, (op, bytes): &Step) -> Result<Outcome, Failure> {
    match bytes {
        Some((b, fill)) => c.write(*op, b, *fill),
        None => c.step(*op),
    }
}

/// Replays `ops` up to the k-th, which is made to fail, then checks what the
/// model allows after the failure.
fn replay_with_fault(
    c: &mut Checker<'_, Fsm>,
    ops: &[Step],
    k: usize,
    resuming: bool,
) -> Result<(), Failure> {
    for (i, step) in ops.iter().take(k).enumerate() {
        let op = step.0;
        let outcome = run(c, step)?;
        if i + 1 == k && !matches!(outcome, Outcome::Err(_)) {
            return Err(Failure::new(
                &[V2_ERR_001],
                format!("operation {k} ({op}) was made to fail but answered {outcome}"),
            ));
        }
    }
    // The state the failure left must be one the model allows.
    c.step(Op::Get)?;
    if resuming {
        // Try to leave RESUMING: after a failed write the stream is not
        // whole and the model requires a refusal (V2-STREAM-006); where
        // nothing is missing it allows success.
        c.step(Op::Set(MigState::Stop))?;
    }
    Ok(())
}

fn restore_both(name: &str, src: &mut Handle<Fsm>, dst: &mut Handle<Fsm>) -> Result<(), Box<Verdict>> {
    restore(SuiteId::Sweep, name, src)?;
    restore(SuiteId::Sweep, name, dst)
}

/// The sweep: one verdict per failing operation.
pub fn fail_nth_v2(model: &Fsm, src: &mut Handle<Fsm>, dst: &mut Handle<Fsm>) -> Vec<Verdict> {
    let label = model.label();
    let base = format!("{label}/sweep/live-migration");
    if let Err(v) = restore_both(&base, src, dst) {
        return vec![*v];
    }
    let flow = match record(model, src, dst) {
        Ok(f) => f,
        Err(f) => {
            let mut v = Verdict::halted(
                SuiteId::Sweep,
                base,
                &f.reqs,
                format!("the fault-free migration failed: {}", f.message),
            );
            v.halts = f.halts;
            return vec![v];
        }
    };
    let src_ops: Vec<Step> = flow.src.iter().map(|op| (*op, None)).collect();
    let total = src_ops.len() + flow.dst.len();
    let mut out = Vec::new();
    for n in 1..=total {
        let name = format!("{base}/fail-op-{n}-of-{total}");
        if let Err(v) = restore_both(&name, src, dst) {
            out.push(*v);
            return out;
        }
        let on_src = n <= src_ops.len();
        let (device, k, ops): (&mut Handle<Fsm>, usize, &[Step]) = if on_src {
            (&mut *src, n, &src_ops)
        } else {
            (&mut *dst, n - src_ops.len(), &flow.dst)
        };
        let mut c = Checker::new(model, device);
        let result = (|| {
            // Where the device cannot fail a call itself, the handle fails
            // it at the adapter's boundary.
            c.inject(Fault::FailNthOp(k as u32))?;
            replay_with_fault(&mut c, ops, k, !on_src)?;
            // A reset always brings the device back.
            c.step(Op::Reset)?;
            match c.step(Op::Get)? {
                Outcome::State(s) if s == v2::MigState::Running.number() => Ok(()),
                other => Err(Failure::new(&[V2_ERR_002], format!("after the reset: {other}"))),
            }
        })();
        let reqs: &[Req] = if on_src {
            &[V2_ERR_001, V2_ERR_002]
        } else {
            &[V2_ERR_001, V2_ERR_002, V2_STREAM_006]
        };
        let mut v = Verdict::of(SuiteId::Sweep, name, &c, reqs, result);
        if !on_src {
            // The destination's writes come from the fault-free save.
            v = v.preceded_by(&flow.save);
        }
        if !push(&mut out, v) {
            return out;
        }
    }
    out
}
