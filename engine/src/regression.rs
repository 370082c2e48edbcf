//! A failing trace as a paste-ready test, and the functions such a test
//! calls to replay it.
//!
//! Every failing check carries its trace; [`reproducer`] renders it as a
//! `#[test]` function that opens a device from a factory and replays the
//! same operations with [`check_v2`] or [`check_v1`]. The renderer lives
//! here, beside the replay it calls, because the harness prints it to
//! vendors who compile only the engine. Data writes are replayed with filler
//! bytes, so a failure that needs a real saved stream reproduces its
//! operation sequence, not its data.

use crate::check::{Checker, Failure};
use crate::handle::{timeout_from_env, Handle};
use crate::suites::error_chain;
use crate::target::Target;
use crate::trace::{Event, Trace};
use vfio_mig_device::{DeviceFactory, Io};
use vfio_mig_model::v1::{self, Region};
use vfio_mig_model::v2::{self, Fsm};
use vfio_mig_model::{Profile, Protocol, ProtocolName};

/// Filler bytes for a replayed write of `len` bytes.
fn filler(len: u32) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(7))
        .collect()
}

/// Replays `ops` on instance 0 of `factory` under the default profile and
/// returns the first outcome the model does not allow.
pub fn check<T: Target>(
    factory: &dyn DeviceFactory<T>,
    ops: &[T::Op],
    write_len: impl Fn(&T::Op) -> Option<u32>,
) -> Result<(), Failure> {
    let setup = |e: &dyn std::error::Error| Failure::new(&[], error_chain(e));
    let timeout = timeout_from_env().map_err(|e| setup(&e))?;
    let device = factory.open(0).map_err(|e| setup(&e))?;
    let mut device = Handle::new(device, timeout).map_err(|e| setup(&e))?;
    device.restore().map_err(|e| setup(&e))?;
    let model = T::model(device.describe(), Profile::defaults(T::KIND));
    let mut c = Checker::new(&model, &mut device);
    for op in ops {
        let mut io = Io {
            write: write_len(op).map(filler).unwrap_or_default(),
            read: Vec::new(),
        };
        c.step_io(op.clone(), &mut io)?;
    }
    Ok(())
}

/// [`check`] for v2 devices.
pub fn check_v2(factory: &dyn DeviceFactory<Fsm>, ops: &[v2::Op]) -> Result<(), Failure> {
    check(factory, ops, |op| match op {
        v2::Op::Write { len, .. } => Some(*len),
        _ => None,
    })
}

/// [`check`] for v1 devices.
pub fn check_v1(factory: &dyn DeviceFactory<Region>, ops: &[v1::Op]) -> Result<(), Failure> {
    check(factory, ops, |op| match op {
        v1::Op::WriteData { len, .. } => Some(*len),
        _ => None,
    })
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

fn body<P: Protocol>(events: &[Event<P>], out: &mut String) {
    for e in events {
        match e {
            Event::Step(s) => out.push_str(&format!("        {:?}, // observed: {}\n", s.op, s.outcome)),
            Event::Inject(f) => out.push_str(&format!("        // the check armed {f:?} here\n")),
        }
    }
}

/// A `#[test]` function that replays `trace`, ready to paste into a test
/// file next to a `factory()` that opens the device. `None` for an empty
/// trace.
pub fn reproducer(name: &str, trace: &Trace) -> Option<String> {
    let (kind, mut ops) = match trace {
        Trace::Empty => return None,
        Trace::V1(e) => {
            let mut s = String::new();
            body(e, &mut s);
            (ProtocolName::V1, s)
        }
        Trace::V2(e) => {
            let mut s = String::new();
            body(e, &mut s);
            (ProtocolName::V2, s)
        }
    };
    let (uses, check) = match kind {
        ProtocolName::V2 => (
            "vfio_mig_model::v2::{DataTag::*, FdRef, MigState::*, Op::*}",
            "check_v2",
        ),
        ProtocolName::V1 => ("vfio_mig_model::v1::{ChunkTag::*, Field::*, Op::*}", "check_v1"),
    };
    let ident = ident(name, '_');
    let mut out = format!("#[test]\nfn regression_{ident}() {{\n    use {uses};\n    let ops = [\n");
    out.push_str(&std::mem::take(&mut ops));
    out.push_str(&format!(
        "    ];\n    if let Err(failure) = vfio_mig_engine::regression::{check}(&factory(), &ops) {{\n        panic!(\"{{failure}}\");\n    }}\n}}\n"
    ));
    Some(out)
}
