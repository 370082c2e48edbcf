//! What a stopped device may not do: change. In STOP and in STOP_COPY the
//! device's observable state must stay as it was, however long the user
//! waits and whatever it reads meanwhile (V2-STOP-001). DMA and interrupts,
//! the rest of that rule and all of V2-P2P-001, need a DMA-capable peer the
//! suite does not have: the checks say so.

use super::common::{concluded, push, restore, NO_STATE};
use crate::check::{Checker, Failure, Interrupt};
use crate::handle::Handle;
use crate::target::Target;
use crate::verdict::{SuiteId, Verdict};
use std::time::Duration;
use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::{self, FdRef, Fsm, MigState, Outcome};

/// How long the device is left alone between the two looks at its state.
pub const WAIT: Duration = Duration::from_millis(20);

/// Why the DMA side of the rules is not checked.
pub const NO_DMA: &str = "the device's DMA and interrupts cannot be observed: that needs a DMA-capable peer and an IOMMU fault log the suite does not have (only its register state is compared)";

/// The checks of this part, by name.
pub fn plan(model: &Fsm) -> Vec<String> {
    ["stop", "stop-copy"]
        .iter()
        .map(|s| format!("{}/data/quiescence/{s}", model.label()))
        .collect()
}

/// The state, twice, with waiting and the suite's usual reads between.
fn unchanged(c: &mut Checker<'_, Fsm>, read_stream: bool) -> Result<bool, Failure> {
    let before = c.fingerprint()?;
    let first = c.last_snapshot(&[]);
    for _ in 0..3 {
        std::thread::sleep(WAIT);
        c.step(v2::Op::Get)?;
    }
    if read_stream {
        // The save stream is read to its end: reading it changes nothing
        // either.
        for _ in 0..4096 {
            match c.step(v2::Op::Read {
                fd: FdRef(0),
                len: 4096,
            })? {
                Outcome::Bytes(n) if n > 0 => {}
                _ => break,
            }
        }
    }
    let after = c.fingerprint()?;
    let (Some(a), Some(b)) = (&before, &after) else {
        return Ok(false);
    };
    let second = c.last_snapshot(&[]);
    c.compared(first, second, V2_STOP_001);
    if a != b {
        return Err(Failure::new(
            &[V2_STOP_001],
            "the device's state changed while it was stopped",
        ));
    }
    Ok(true)
}

/// STOP and STOP_COPY: the state stays.
pub fn run(model: &Fsm, device: &mut Handle<Fsm>) -> Vec<Verdict> {
    let mut out = Vec::new();
    for (name, state, read) in [
        ("stop", MigState::Stop, false),
        ("stop-copy", MigState::StopCopy, true),
    ] {
        let name = format!("{}/data/quiescence/{name}", model.label());
        if let Err(v) = restore(SuiteId::Data, &name, device) {
            out.push(*v);
            return out;
        }
        let mut c = Checker::new(model, device);
        let mut compared = false;
        let result = (|| -> Result<(), Interrupt> {
            c.step(v2::Op::Set(state))?;
            compared = unchanged(&mut c, read)?;
            Ok(())
        })();
        let mut v = concluded(SuiteId::Data, name, &c, &[], result);
        if compared {
            v.reqs.push(V2_STOP_001);
            if v.detail.is_empty() {
                v.detail = format!("the state stayed the same; {NO_DMA}");
            }
        } else if v.status != crate::check::Status::Skip && !v.broken.contains(&V2_STOP_001) {
            v.uncovered.push((V2_STOP_001, NO_STATE.into()));
        }
        v.uncovered.push((V2_P2P_001, NO_DMA.into()));
        if !push(&mut out, v) {
            return out;
        }
    }
    out
}
