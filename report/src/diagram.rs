//! State diagrams: the arcs the spec allows for the device's flags and the
//! requests the device was seen to accept or refuse, as Mermaid and Graphviz.

use super::{ArcObs, Report};
use vfio_mig_model::v2::{arcs, MigState, MigrationFlags};

fn flags_of(report: &Report) -> Option<MigrationFlags> {
    let bits = report.target.flags.split('+').fold(0u64, |b, f| match f {
        "STOP_COPY" => b | 1,
        "P2P" => b | 2,
        "PRE_COPY" => b | 4,
        _ => b,
    });
    MigrationFlags::new(bits).ok()
}

/// Requests where the device and the spec disagree.
fn differences(report: &Report) -> impl Iterator<Item = &ArcObs> {
    report.arcs.iter().filter(|a| a.differs())
}

/// A Mermaid state diagram: direct arcs of the spec as edges, and every
/// request where the device disagreed with the spec as a labelled edge.
pub fn mermaid(report: &Report) -> Option<String> {
    let flags = flags_of(report)?;
    let mut out = String::from("stateDiagram-v2\n    [*] --> RUNNING\n");
    for a in arcs::DIRECT_ARCS.iter().filter(|a| a.enabled(flags)) {
        out.push_str(&format!("    {} --> {}\n", a.from.name(), a.to.name()));
    }
    for d in differences(report) {
        out.push_str(&format!("    {} --> {}: {}\n", d.from, d.to, d.label()));
    }
    Some(out)
}

/// The same as Graphviz DOT; disagreements are red and dashed.
pub fn dot(report: &Report) -> Option<String> {
    let flags = flags_of(report)?;
    let mut out = String::from("digraph migration {\n    rankdir=LR;\n    node [shape=box];\n");
    for s in flags.states().filter(|s| *s != MigState::Error) {
        out.push_str(&format!("    {};\n", s.name()));
    }
    for a in arcs::DIRECT_ARCS.iter().filter(|a| a.enabled(flags)) {
        out.push_str(&format!("    {} -> {};\n", a.from.name(), a.to.name()));
    }
    for d in differences(report) {
        out.push_str(&format!(
            "    {} -> {} [color=red, style=dashed, label=\"{}\"];\n",
            d.from,
            d.to,
            d.label()
        ));
    }
    out.push_str("}\n");
    Some(out)
}
