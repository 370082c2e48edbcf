//! Suite 1: the arc table. From every state the device can be brought to,
//! every request, with the outcome and the resulting state checked.

use super::common::{concluded, push, restore, run_setup};
use crate::check::Checker;
use crate::handle::Handle;
use crate::target::Target;
use crate::verdict::{SuiteId, Verdict};

/// The check of one request from one source state.
fn name<T: Target>(model: &T, from: &str, target: &str) -> String {
    format!("{}/arc/{from}->{target}", model.label())
}

/// Every check the arc table runs, by name.
pub fn plan<T: Target>(model: &T) -> Vec<String> {
    model
        .arc_cases()
        .iter()
        .flat_map(|c| c.requests.iter().map(|r| name(model, &c.from, &r.target)))
        .collect()
}

/// Runs every (source, request) pair of the model's arc table.
pub fn run<T: Target>(model: &T, device: &mut Handle<T>) -> Vec<Verdict> {
    let mut out = Vec::new();
    for case in model.arc_cases() {
        for request in &case.requests {
            let name = name(model, &case.from, &request.target);
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
