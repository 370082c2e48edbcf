//! `vfio-mig spec`: the catalogue summary and the derived transition tables.

use vfio_mig_model::v1::Region;
use vfio_mig_model::v2::{MigrationFlags, PathTable};
use vfio_mig_model::{Profile, ProtocolName};
use vfio_mig_spec::Catalogue;

/// The summary, the v2 next-step grids (with every path when `paths`) and
/// the v1 arc grid.
pub fn text(catalogue: &Catalogue, paths: bool) -> String {
    let mut out = String::from("# Requirement catalogue\n\n");
    out.push_str(&catalogue.summary().to_string());
    out.push_str("\n# v2: next step of every (from, to) request, derived from the direct arcs\n\n");
    for flags in MigrationFlags::accepted() {
        let table = PathTable::derive(flags);
        out.push_str("```\n");
        out.push_str(&table.grid());
        out.push_str("```\n");
        if paths {
            out.push_str("```\n");
            out.push_str(&table.path_list());
            out.push_str("```\n");
        }
    }
    out.push_str("\n# v1: device_state writes, all 64 (from, to) pairs\n\n```\n");
    let region = Region::new(Profile::defaults(ProtocolName::V1), 4096);
    out.push_str(&region.arc_grid());
    out.push_str("```\n");
    out
}
