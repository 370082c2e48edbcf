//! Suite 3: bounded exhaustive exploration. Every sequence of operations from
//! the model's alphabet up to a depth, pruned where two sequences lead the
//! model to the same belief.

use super::common::restore;
use crate::check::Checker;
use crate::handle::Handle;
use crate::target::Target;
use crate::verdict::{SuiteId, Verdict};
use std::collections::HashSet;
use vfio_mig_model::{Belief, Req};

/// A sequence of operations and the belief it leads to.
type Node<T> = (
    Vec<<T as vfio_mig_model::Protocol>::Op>,
    Belief<<T as vfio_mig_model::Protocol>::State>,
);

/// What an exploration covered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Distinct beliefs reached.
    pub beliefs: usize,
    /// Operation sequences executed.
    pub sequences: usize,
}

/// Explores to `depth` operations. Returns one verdict per failing sequence
/// (at most `max_failures`) plus one summary verdict.
pub fn run<T: Target>(
    model: &T,
    device: &mut Handle<T>,
    depth: usize,
    max_failures: usize,
) -> (Vec<Verdict>, Stats) {
    let mut out = Vec::new();
    let mut stats = Stats::default();
    let mut seen: HashSet<Belief<T::State>> = HashSet::from([model.start()]);
    let mut frontier: Vec<Node<T>> = vec![(Vec::new(), model.start())];
    let mut exercised: Vec<Req> = Vec::new();
    let summary = format!("{}/explore/depth-{depth}", model.label());
    for _ in 0..depth {
        let mut next_frontier = Vec::new();
        for (prefix, belief) in &frontier {
            for op in model.alphabet(belief) {
                if let Err(v) = restore(SuiteId::Explore, &summary, device) {
                    out.push(*v);
                    return (out, stats);
                }
                stats.sequences += 1;
                let mut c = Checker::new(model, device);
                let result = prefix
                    .iter()
                    .chain(std::iter::once(&op))
                    .try_for_each(|o| c.step(o.clone()).map(|_| ()));
                for r in c.exercised() {
                    if !exercised.contains(r) {
                        exercised.push(*r);
                    }
                }
                if result.is_err() || !c.warnings().is_empty() {
                    let halts = result.as_ref().is_err_and(|f| f.halts);
                    if out.len() < max_failures || halts {
                        let name = format!(
                            "{}/explore/sequence-{}-of-length-{}",
                            model.label(),
                            stats.sequences,
                            c.len()
                        );
                        out.push(Verdict::of(SuiteId::Explore, name, &c, &[], result));
                    }
                    if halts {
                        return (out, stats);
                    }
                    continue;
                }
                let b = c.belief().clone();
                if seen.insert(b.clone()) {
                    let mut longer = prefix.clone();
                    longer.push(op);
                    next_frontier.push((longer, b));
                }
            }
        }
        frontier = next_frontier;
    }
    stats.beliefs = seen.len();
    if stats.sequences == 0 {
        // Nothing was explored: nothing passed.
        out.push(Verdict::skip(
            SuiteId::Explore,
            summary,
            &[],
            "depth 0: no sequence was explored",
        ));
        return (out, stats);
    }
    let what = format!(
        "{} sequences, {} distinct model states",
        stats.sequences, stats.beliefs
    );
    out.push(Verdict::passed(SuiteId::Explore, summary, &exercised, what));
    (out, stats)
}
