//! Suite 1: the arc table. From every state the device can be brought to,
//! every request, with the outcome and the resulting state checked.

use super::{restore, run_setup};
use crate::check::Checker;
use crate::device::Device;
use crate::target::FaultBelief;
use crate::verdict::Verdict;

/// Runs every (source, request) pair of the model's arc table.
pub fn run<T: FaultBelief>(model: &T, device: &mut dyn Device<T>) -> Vec<Verdict> {
    let mut out = Vec::new();
    for case in model.arc_cases() {
        for (target, request) in &case.requests {
            let name = format!("{}/arc/{}->{}", model.label(), case.from, target);
            if let Err(v) = restore("arcs", &name, device) {
                out.push(*v);
                return out;
            }
            let mut c = Checker::new(model, device);
            let result = (|| {
                if !run_setup(&mut c, &case.setup)? {
                    return Ok(false);
                }
                c.step(request.clone())?;
                // The state after the request, whatever the outcome, and
                // again: nothing but a request may change it.
                c.step(model.probe())?;
                c.step(model.probe())?;
                Ok(true)
            })();
            out.push(match result {
                Ok(false) => Verdict::skip(
                    "arcs",
                    name,
                    &[],
                    "the adapter cannot inject the fault this source state needs",
                ),
                Ok(true) => Verdict::of("arcs", name, &c, &[], Ok(())),
                Err(f) => Verdict::of("arcs", name, &c, &[], Err(f)),
            });
        }
    }
    out
}
