//! Replaying a failing trace: the body of a pasted regression test.
//!
//! Every failing check carries a reproducer: a `#[test]` function that opens
//! a device from a factory and replays the same operations with
//! [`check_v2`] or [`check_v1`]. Data writes are replayed with filler bytes,
//! so a failure that needs a real saved stream reproduces its operation
//! sequence, not its data.

use crate::check::{Checker, Failure};
use crate::device::{DeviceFactory, Io};
use crate::target::{FaultBelief, Target};
use vfio_mig_model::v1::{self, Region};
use vfio_mig_model::v2::{self, Fsm};
use vfio_mig_model::Profile;

/// Filler bytes for a replayed write of `len` bytes.
fn filler(len: u32) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(7))
        .collect()
}

/// Replays `ops` on instance 0 of `factory` under the default profile and
/// returns the first outcome the model does not allow.
pub fn check<T: FaultBelief>(
    factory: &dyn DeviceFactory<T>,
    ops: &[T::Op],
    write_len: impl Fn(&T::Op) -> Option<u32>,
) -> Result<(), Failure> {
    let mut device = factory.open(0).map_err(|e| Failure::new(&[], e.to_string()))?;
    device.restore().map_err(|e| Failure::new(&[], e.to_string()))?;
    let model = T::model(&device.describe(), Profile::defaults(T::KIND));
    let mut c = Checker::new(&model, device.as_mut());
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

/// A `#[test]` function that replays `steps` (operation, observed outcome),
/// ready to paste into a test file next to a `factory()` that opens the
/// device.
pub fn reproducer<T: Target>(name: &str, steps: &[(T::Op, T::Outcome)]) -> String {
    let ident = ident(name, '_');
    let (uses, check) = match T::KIND {
        vfio_mig_model::ProtocolKind::V2 => (
            "vfio_mig_model::v2::{DataTag::*, FdRef, MigState::*, Op::*}",
            "check_v2",
        ),
        vfio_mig_model::ProtocolKind::V1 => {
            ("vfio_mig_model::v1::{ChunkTag::*, Field::*, Op::*}", "check_v1")
        }
    };
    let mut out = format!("#[test]\nfn regression_{ident}() {{\n    use {uses};\n    let ops = [\n");
    for (op, outcome) in steps {
        out.push_str(&format!("        {op:?}, // observed: {outcome}\n"));
    }
    out.push_str(&format!(
        "    ];\n    if let Err(failure) = vfio_mig_conformance::regression::{check}(&factory(), &ops) {{\n        panic!(\"{{failure}}\");\n    }}\n}}\n"
    ));
    out
}
