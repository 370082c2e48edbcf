//! Cross-transport differential: the same operation sequences on two
//! adapters (the mock in-process and the mock behind a vfio-user socket, or
//! two versions of a driver), with every step's outcomes compared. A
//! difference is reported as a row of a table, classed by what the model
//! says of each side: both allowed (equivalent for the uAPI), or one side
//! outside what the model allows.

use crate::handle::{Handle, Stuck};
use crate::target::Target;
use vfio_mig_device::{DeviceError, Io, Speaks};
use vfio_mig_model::v2::{Fsm, Op, Outcome};
use vfio_mig_model::{Expectation, Protocol};

/// How two outcomes of one step compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Both outcomes are allowed by the model from the first side's belief.
    Equivalent,
    /// Only the first side's outcome is allowed.
    OnlyFirstAllowed,
    /// Only the second side's outcome is allowed.
    OnlySecondAllowed,
    /// Neither is allowed.
    NeitherAllowed,
}

/// One step where the two adapters answered differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Which sequence (0-based).
    pub sequence: usize,
    /// Which step of it (0-based).
    pub step: usize,
    /// The operation.
    pub op: Op,
    /// The first adapter's answer.
    pub first: Outcome,
    /// The second adapter's answer.
    pub second: Outcome,
    /// What the model says of the two.
    pub class: Class,
}

/// The comparison of two adapters over some sequences.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Steps compared.
    pub steps: usize,
    /// Steps answered differently.
    pub differences: Vec<Difference>,
}

/// Sequences of `len` operations drawn from the model's alphabet, following
/// the outcomes a conforming device gives (deterministic from `seed`).
pub fn sequences(model: &Fsm, count: usize, len: usize, mut seed: u64) -> Vec<Vec<Op>> {
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    (0..count)
        .map(|_| {
            let mut belief = model.start();
            let mut ops = Vec::with_capacity(len);
            for _ in 0..len {
                let alphabet = model.alphabet(&belief);
                let op = alphabet[next() as usize % alphabet.len()];
                let allowed = model.allowed(&belief, &op);
                let normal: Vec<_> = allowed
                    .items
                    .iter()
                    .filter(|a| a.kind == vfio_mig_model::Kind::Normal)
                    .collect();
                let Some(a) = normal.first() else { break };
                let outcome = a.expect.example(0);
                match model.advance(&belief, &op, &outcome) {
                    Ok((b, _)) => belief = b,
                    Err(_) => break,
                }
                ops.push(op);
            }
            ops
        })
        .collect()
}

/// Runs every sequence on both adapters (each restored first) and compares
/// the answers step by step; a sequence stops at its first difference,
/// since the two devices may no longer be in the same state.
pub fn compare(
    model: &Fsm,
    first: &mut Handle<Fsm>,
    second: &mut Handle<Fsm>,
    sequences: &[Vec<Op>],
) -> Result<Table, Unusable> {
    let mut table = Table::default();
    for (n, ops) in sequences.iter().enumerate() {
        first.restore()?;
        second.restore()?;
        let mut belief = model.start();
        for (i, op) in ops.iter().enumerate() {
            let mut io_a = Io {
                write: vec![0xa5; 64 << 10],
                read: Vec::new(),
            };
            let mut io_b = Io {
                write: vec![0xa5; 64 << 10],
                read: Vec::new(),
            };
            let a = first.exec(Fsm::call(op), &mut io_a)?;
            let b = second.exec(Fsm::call(op), &mut io_b)?;
            table.steps += 1;
            let allowed = model.allowed(&belief, op);
            let ok = |o: &Outcome| allowed.items.iter().any(|x| x.expect.matches(o));
            if a != b {
                let class = match (ok(&a), ok(&b)) {
                    (true, true) => Class::Equivalent,
                    (true, false) => Class::OnlyFirstAllowed,
                    (false, true) => Class::OnlySecondAllowed,
                    (false, false) => Class::NeitherAllowed,
                };
                table.differences.push(Difference {
                    sequence: n,
                    step: i,
                    op: *op,
                    first: a,
                    second: b,
                    class,
                });
                break;
            }
            match model.advance(&belief, op, &a) {
                Ok((next, _)) => belief = next,
                Err(_) => break,
            }
        }
    }
    Ok(table)
}

/// Why a comparison could not go on.
#[derive(Debug, thiserror::Error)]
pub enum Unusable {
    /// A device could not be restored.
    #[error(transparent)]
    Restore(#[from] DeviceError),
    /// A device stopped answering.
    #[error(transparent)]
    Stuck(#[from] Stuck),
}
