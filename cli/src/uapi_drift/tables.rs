//! The driver core's two tables in `drivers/vfio/vfio_main.c`
//! (`vfio_from_fsm_table` and `state_flags_table`, inside
//! `vfio_mig_get_next_state()`), read as data and compared with the model's
//! derivation.

use super::drift::Comparison;
use regex::Regex;
use std::collections::BTreeMap;
use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::{MigState, MigrationFlags, PathTable};

/// The largest source file read.
pub const MAX_SOURCE_BYTES: usize = 16 << 20;

/// The tables read from the driver core.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelTables {
    /// `vfio_from_fsm_table[from][to]`, by state names.
    pub table: BTreeMap<(String, String), String>,
    /// `state_flags_table[state]`: flag bits, `None` for `~0U` (never supported).
    pub state_flags: BTreeMap<String, Option<u64>>,
}

fn strip_comments(src: &str) -> String {
    super::clex::split(src).code
}

/// The text of the brace block that follows `opening` (a regex), or an error
/// naming what is missing.
fn block<'a>(src: &'a str, opening: &str, what: &str) -> Result<&'a str, String> {
    let re = Regex::new(opening).expect("valid regex");
    let m = re.find(src).ok_or_else(|| format!("{what} not found"))?;
    let open = m.end() - 1;
    super::clex::brace_block(src, open)
        .map(|r| &src[r.start + 1..r.end - 1])
        .ok_or_else(|| format!("{what} is not closed"))
}

const MIGRATION_FLAGS: [&str; 3] = ["STOP_COPY", "P2P", "PRE_COPY"];

impl KernelTables {
    /// Parses `drivers/vfio/vfio_main.c`.
    pub fn parse(vfio_main_c: &str) -> Result<Self, String> {
        if vfio_main_c.len() > MAX_SOURCE_BYTES {
            return Err(format!("vfio_main.c is larger than {MAX_SOURCE_BYTES} bytes"));
        }
        let c = strip_comments(vfio_main_c);
        let mut facts = KernelTables::default();
        let table = block(
            &c,
            r"vfio_from_fsm_table\s*\[[^\]]*\]\s*\[[^\]]*\]\s*=\s*\{",
            "vfio_main.c: vfio_from_fsm_table",
        )?;
        let row = Regex::new(r"\[VFIO_DEVICE_STATE_(\w+)\]\s*=\s*\{([^}]*)\}").expect("valid regex");
        let cell =
            Regex::new(r"\[VFIO_DEVICE_STATE_(\w+)\]\s*=\s*VFIO_DEVICE_STATE_(\w+)").expect("valid regex");
        for r in row.captures_iter(table) {
            for e in cell.captures_iter(&r[2]) {
                facts
                    .table
                    .insert((r[1].to_owned(), e[1].to_owned()), e[2].to_owned());
            }
        }
        let flags = block(
            &c,
            r"state_flags_table\s*\[[^\]]*\]\s*=\s*\{",
            "vfio_main.c: state_flags_table",
        )?;
        let item = Regex::new(r"\[VFIO_DEVICE_STATE_(\w+)\]\s*=\s*([^,\[]+)").expect("valid regex");
        for e in item.captures_iter(flags) {
            let expr = e[2].trim();
            let bits = if expr == "~0U" || expr == "~0" {
                None
            } else {
                let mut bits = 0u64;
                for part in expr.split('|') {
                    let name = part.trim().trim_start_matches("VFIO_MIGRATION_");
                    let i = MIGRATION_FLAGS.iter().position(|f| *f == name).ok_or_else(|| {
                        format!("vfio_main.c: state_flags_table: unknown flag {:?}", part.trim())
                    })?;
                    bits |= 1 << i;
                }
                Some(bits)
            };
            facts.state_flags.insert(e[1].to_owned(), bits);
        }
        if facts.table.is_empty() || facts.state_flags.is_empty() {
            return Err("vfio_main.c: the migration tables were not found".to_owned());
        }
        Ok(facts)
    }

    /// Compares both tables with the model: 8 state-flag entries and 64
    /// next-step entries.
    pub fn compare(&self) -> Comparison {
        let mut c = Comparison::default();
        for s in MigState::ALL {
            let kernel = match self.state_flags.get(s.name()) {
                None => "missing".to_owned(),
                // ERROR is never a supported target: ~0U and "no flags
                // needed" both leave it refused (V2-ARC-008).
                Some(None) if s == MigState::Error => "0x0".to_owned(),
                Some(None) => "~0".to_owned(),
                Some(Some(b)) => format!("{b:#x}"),
            };
            c.check(
                format!("state_flags_table[{}]", s.name()),
                kernel,
                format!("{:#x}", s.required_flags().bits()),
                &[V2_FLAG_003],
                "",
            );
        }
        // The raw table is the next step with every feature on; an entry not
        // written is 0, ERROR.
        let all = PathTable::derive(MigrationFlags::accepted()[3]);
        for from in MigState::ALL {
            for to in MigState::ALL {
                let kernel = self
                    .table
                    .get(&(from.name().to_owned(), to.name().to_owned()))
                    .map_or("ERROR", String::as_str);
                c.check(
                    format!("vfio_from_fsm_table[{}][{}]", from.name(), to.name()),
                    kernel,
                    all.next_step(from, to).name(),
                    &[V2_PATH_004, V2_PATH_001],
                    "",
                );
            }
        }
        c
    }
}
