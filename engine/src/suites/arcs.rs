//! Suite 1: the arc table. From every state the device can be brought to,
//! every request, with the outcome and the resulting state checked.

use super::common::{concluded, push, restore, run_setup};
use crate::check::Checker;
use crate::handle::Handle;
use crate::target::Target;
use crate::verdict::{SuiteId, Verdict};

/// Runs every (source, request) pair of the model's arc table.
pub fn run<T: Target>(model: &T, device: &mut Handle<T>) -> Vec<Verdict> {
    let mut out = Vec::new();
    for case in model.arc_cases() {
        for request in &case.requests {
            let name = format!("{}/arc/{}->{}", model.label(), case.from, request.target);
            if let Err(v) = restore(SuiteId::Arcs, &name, device) {
                out.push(*v);
                return out;
            }
            let mut c = Checker::new(model, device);
            let mut at = 0;
            let result = (|| {
                run_setup(&mut c, &case.setup)?;
                at = c.len();
                c.step(request.op.clone())?;
                // The state after the request, whatever the outcome, and
                // again: nothing but a request may change it.
                c.step(model.probe())?;
                c.step(model.probe())?;
                Ok(())
            })();
            let mut v = concluded(SuiteId::Arcs, name, &c, &[], result);
            if c.len() > at {
                v.arc = request.arc.map(|a| (a, at));
            }
            if !push(&mut out, v) {
                return out;
            }
        }
    }
    out
}
