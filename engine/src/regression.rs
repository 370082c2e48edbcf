//! A failing check as a paste-ready test, and the replay such a test calls.
//!
//! Every failing check carries its trace; [`reproducer`] renders it as a
//! `#[test]` function that opens the devices from a factory and replays the
//! check with [`check_v2`] or [`check_v1`]: the calls on the source and on
//! the destination in their order, the bytes of every write made the way
//! the check made them (the stream the replay itself read from the source,
//! altered where the check altered it, or the same junk), the faults it
//! armed, the reopens, and the state comparisons it made. A write of stream
//! bytes claims the stream the replay read, so that a source that gives
//! another length than the failing one did is judged on its own stream. The
//! renderer lives
//! here, beside the replay it calls, because the harness prints it to
//! vendors who compile only the engine.

use crate::check::{Checker, Failure};
use crate::handle::{timeout_from_env, Handle};
use crate::suites::error_chain;
use crate::target::Target;
use crate::trace::{Event, Fill, Snap, Trace};
use std::fmt::Debug;
use vfio_mig_device::{DeviceFactory, Fault, Io};
use vfio_mig_model::v1::{self, Region};
use vfio_mig_model::v2::{self, Fsm};
use vfio_mig_model::{Profile, ProtocolName, Req};

/// One step of a replayed check.
#[derive(Debug, Clone, PartialEq)]
pub enum Step<Op> {
    /// A call on instance 0 (source) or 1 (destination); a write writes
    /// junk.
    On(u8, Op),
    /// A write on an instance, of bytes made as the [`Fill`] says.
    OnWith(u8, Op, Fill),
    /// A fault armed on an instance.
    Arm(u8, Fault),
    /// The instance closed and opened again.
    Reopen(u8),
    /// The instance's observable state taken.
    Snapshot(u8),
    /// Two snapshots must be equal, or the rule is broken.
    Same(Snap, Snap, Req),
}

/// The steps of `events`.
pub fn steps<P: Target>(events: &[Event<P>]) -> Vec<Step<P::Op>> {
    events
        .iter()
        .map(|e| match e {
            Event::Step(s) => match (s.fill, P::written(&s.op)) {
                (Some(fill), Some(_)) if fill != Fill::Junk => Step::OnWith(s.instance, s.op.clone(), fill),
                _ => Step::On(s.instance, s.op.clone()),
            },
            Event::Inject { instance, fault } => Step::Arm(*instance, *fault),
            Event::Reopen { instance } => Step::Reopen(*instance),
            Event::Snapshot { instance } => Step::Snapshot(*instance),
            Event::Same { a, b, rule } => Step::Same(*a, *b, *rule),
        })
        .collect()
}

/// Opens instance `index` of `factory` fresh, or the failure saying why not.
fn open<T: Target>(factory: &dyn DeviceFactory<T>, index: u8) -> Result<Handle<T>, Failure> {
    let setup =
        |e: &dyn std::error::Error| Failure::new(&[], format!("instance {index}: {}", error_chain(e)));
    let timeout = timeout_from_env().map_err(|e| setup(&e))?;
    let device = factory.open(usize::from(index)).map_err(|e| setup(&e))?;
    let mut device = Handle::new(device, timeout)
        .map_err(|e| setup(&e))?
        .numbered(index);
    device.restore().map_err(|e| setup(&e))?;
    Ok(device)
}

/// Replays `steps` on instances of `factory` (instance 1 is opened only
/// when a step names it) under the catalogue's default decisions, and
/// returns the first failure: an outcome the model does not allow, a
/// comparison of states that differ, or at the end the SHOULDs missed.
pub fn replay<T: Target>(factory: &dyn DeviceFactory<T>, steps: &[Step<T::Op>]) -> Result<(), Failure> {
    let uses_two = steps.iter().any(|s| match s {
        Step::On(i, _) | Step::OnWith(i, _, _) | Step::Arm(i, _) | Step::Reopen(i) | Step::Snapshot(i) => {
            *i == 1
        }
        Step::Same(a, b, _) => a.instance == 1 || b.instance == 1,
    });
    let mut first = open(factory, 0)?;
    let mut second = if uses_two { Some(open(factory, 1)?) } else { None };
    let profile = Profile::defaults(T::KIND);
    let model = T::model(first.describe(), profile);
    let mut src = Checker::new(&model, &mut first);
    let mut dst = second.as_mut().map(|h| Checker::new(&model, h));
    // The stream read from the source, which writes take their bytes from.
    let mut saved: Vec<u8> = Vec::new();
    let mut snapshots: [Vec<Option<Vec<u8>>>; 2] = [Vec::new(), Vec::new()];
    for step in steps {
        let instance = match step {
            Step::On(i, _)
            | Step::OnWith(i, _, _)
            | Step::Arm(i, _)
            | Step::Reopen(i)
            | Step::Snapshot(i) => *i,
            Step::Same(..) => 0,
        };
        let c = match (instance, dst.as_mut()) {
            (0, _) => &mut src,
            (1, Some(d)) => d,
            _ => return Err(Failure::new(&[], format!("no instance {instance} in a replay"))),
        };
        match step {
            Step::On(_, op) => {
                let mut io = Io::default();
                c.step_io(op.clone(), &mut io)?;
                if instance == 0 {
                    saved.extend_from_slice(&io.read);
                }
            }
            Step::OnWith(_, op, fill) => {
                let len = T::written(op).unwrap_or(0) as usize;
                let bytes = fill.bytes(&saved, len).ok_or_else(|| {
                    Failure::new(
                        &[],
                        format!(
                            "cannot replay {op:?}: the source gave {} bytes this time, fewer than the check wrote from",
                            saved.len()
                        ),
                    )
                })?;
                // Stream bytes claim the stream this replay read, whatever
                // length the check's source gave.
                let op = match fill {
                    Fill::Saved { .. } | Fill::Flipped { .. } => T::with_stream_total(op, saved.len() as u64),
                    Fill::Junk => op.clone(),
                };
                c.write(op, &bytes, *fill)?;
            }
            Step::Arm(_, fault) => {
                if !c.inject(*fault)? {
                    return Err(Failure::new(
                        &[],
                        format!("cannot replay: the adapter cannot arm {fault:?}"),
                    ));
                }
            }
            Step::Reopen(_) => c.reopen()?,
            Step::Snapshot(_) => {
                let fp = c.fingerprint()?;
                snapshots[usize::from(instance)].push(fp);
            }
            Step::Same(a, b, rule) => {
                let get = |s: &Snap| {
                    snapshots
                        .get(usize::from(s.instance))
                        .and_then(|v| v.get(usize::from(s.nth)))
                        .cloned()
                        .flatten()
                };
                if let (Some(x), Some(y)) = (get(a), get(b)) {
                    if x != y {
                        return Err(Failure::new(
                            &[*rule],
                            format!(
                                "the state of instance {} (snapshot {}) differs from that of instance {} (snapshot {})",
                                b.instance, b.nth, a.instance, a.nth
                            ),
                        ));
                    }
                }
            }
        }
    }
    // A missed SHOULD is what a warning's reproducer reproduces.
    let mut missed: Vec<Req> = src.warnings().to_vec();
    for r in dst.iter().flat_map(|d| d.warnings()) {
        if !missed.contains(r) {
            missed.push(*r);
        }
    }
    if !missed.is_empty() {
        return Err(Failure::new(
            &missed,
            format!("SHOULD not met: {}", vfio_mig_model::join_ids(&missed, ", ")),
        ));
    }
    Ok(())
}

/// [`replay`] for v2 devices.
pub fn check_v2(factory: &dyn DeviceFactory<Fsm>, steps: &[Step<v2::Op>]) -> Result<(), Failure> {
    replay(factory, steps)
}

/// [`replay`] for v1 devices.
pub fn check_v1(factory: &dyn DeviceFactory<Region>, steps: &[Step<v1::Op>]) -> Result<(), Failure> {
    replay(factory, steps)
}

/// `name` as lower-case letters and digits joined by `sep` (for function
/// and file names).
pub fn ident(name: &str, sep: char) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join(&sep.to_string())
}

/// A v2 operation as Rust source.
fn v2_op(op: &v2::Op) -> String {
    match op {
        v2::Op::Feature(req) => {
            let a = req.access();
            format!(
                "Feature(FeatureReq::new({}, Access {{ get: {}, set: {}, probe: {} }}, {}).unwrap())",
                req.feature(),
                a.get,
                a.set,
                a.probe,
                req.argsz()
            )
        }
        other => format!("{other:?}"),
    }
}

fn snap(s: &Snap) -> String {
    format!("Snap {{ instance: {}, nth: {} }}", s.instance, s.nth)
}

/// The steps as lines of Rust, each with what the checked device did.
fn body<P: Target>(events: &[Event<P>], op: impl Fn(&P::Op) -> String, out: &mut String) {
    let rendered = steps(events);
    for (e, s) in events.iter().zip(&rendered) {
        let observed = match e {
            Event::Step(t) => format!(" // observed: {}", t.outcome),
            _ => String::new(),
        };
        let line = match s {
            Step::On(i, o) => format!("On({i}, {})", op(o)),
            Step::OnWith(i, o, f) => format!("OnWith({i}, {}, {f:?})", op(o)),
            Step::Arm(i, f) => format!("Arm({i}, Fault::{f:?})"),
            Step::Reopen(i) => format!("Reopen({i})"),
            Step::Snapshot(i) => format!("Snapshot({i})"),
            Step::Same(a, b, r) => format!("Same({}, {}, {})", snap(a), snap(b), r.ident()),
        };
        out.push_str(&format!("        {line},{observed}\n"));
    }
}

fn render<P: Target>(name: &str, events: &[Event<P>], op: impl Fn(&P::Op) -> String) -> String
where
    P::Op: Debug,
{
    let (uses, check) = match P::KIND {
        ProtocolName::V2 => (
            "vfio_mig_model::v2::{Access, DataTag::*, FdRef, FeatureReq, MigState::*, Op::*}",
            "check_v2",
        ),
        ProtocolName::V1 => ("vfio_mig_model::v1::{ChunkTag::*, Field::*, Op::*}", "check_v1"),
    };
    let mut steps = String::new();
    body(events, op, &mut steps);
    format!(
        "#[test]\n#[allow(unused_imports)]\nfn regression_{}() {{\n    use vfio_mig_device::Fault;\n    use vfio_mig_engine::regression::Step::*;\n    use vfio_mig_engine::trace::{{Fill::*, Snap}};\n    use vfio_mig_model::reqs::*;\n    use {uses};\n    let steps = [\n{steps}    ];\n    if let Err(failure) = vfio_mig_engine::regression::{check}(&factory(), &steps) {{\n        panic!(\"{{failure}}\");\n    }}\n}}\n",
        ident(name, '_')
    )
}

/// A `#[test]` function that replays `trace`, ready to paste into a test
/// file next to a `factory()` that opens the device. `None` for an empty
/// trace.
pub fn reproducer(name: &str, trace: &Trace) -> Option<String> {
    match trace {
        Trace::Empty => None,
        Trace::V1(e) => Some(render::<Region>(name, e, |o| format!("{o:?}"))),
        Trace::V2(e) => Some(render::<Fsm>(name, e, v2_op)),
    }
}

/// The replay steps of `trace` for a v2 check (empty for another protocol).
pub fn v2_steps(trace: &Trace) -> Vec<Step<v2::Op>> {
    match trace {
        Trace::V2(e) => steps(e),
        _ => Vec::new(),
    }
}

/// The replay steps of `trace` for a v1 check (empty for another protocol).
pub fn v1_steps(trace: &Trace) -> Vec<Step<v1::Op>> {
    match trace {
        Trace::V1(e) => steps(e),
        _ => Vec::new(),
    }
}
