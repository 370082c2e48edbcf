//! `vfio-mig mutants`: the mock's deliberately broken variants.

use vfio_mig_mock::MUTANTS;

/// The table, one mutant per line.
pub fn text() -> String {
    let mut out = String::new();
    for m in MUTANTS {
        out.push_str(&format!(
            "{:<30} {} breaks {:<14} {}\n",
            m.name,
            m.protocol,
            vfio_mig_model::join_ids(m.breaks, ","),
            m.description
        ));
    }
    out
}
