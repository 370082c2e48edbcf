//! `vfio-mig explain ID`: one requirement or decision.

use vfio_mig_spec::{Catalogue, ProtocolName};

/// The entry `id` as a person reads it, or `None` when the catalogue has no
/// such ID.
pub fn text(catalogue: &Catalogue, id: &str) -> Option<String> {
    if let Some(r) = catalogue.requirement(id) {
        let checkers: Vec<_> = r.checked_by.iter().map(|c| c.to_string()).collect();
        let mut out = format!(
            "{} [{}] {}\nsource: {}\nchecked by: {}\n",
            r.id,
            r.level,
            r.summary,
            r.source,
            checkers.join(", ")
        );
        if let Some(d) = &r.decision {
            out.push_str(&format!("shaped by decision: {d}\n"));
        }
        return Some(out);
    }
    let d = catalogue.decision(id)?;
    let mut out = format!("{}: {}\n", d.id, d.question);
    for (k, v) in &d.options {
        let mark = if *k == d.default { " (default)" } else { "" };
        out.push_str(&format!("  {k}{mark}: {v}\n"));
    }
    for (p, choice) in &d.per_protocol {
        out.push_str(&format!("  default for {p}: {choice}\n"));
    }
    for p in [ProtocolName::V1, ProtocolName::V2] {
        match d.model.get(&p) {
            Some(keys) => out.push_str(&format!("  --decide on {p} accepts: {}\n", keys.join(", "))),
            None => out.push_str(&format!("  does not apply to {p}\n")),
        }
    }
    out.push_str(&format!(
        "reason: {}\nhistory: {}\nsource: {}\n",
        d.reason, d.history, d.source
    ));
    Some(out)
}
