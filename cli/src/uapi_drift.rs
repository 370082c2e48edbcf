//! The uAPI drift gate: reads the migration parts of a kernel's
//! `include/uapi/linux/vfio.h` and `drivers/vfio/vfio_main.c` and compares
//! them with the model, so that a kernel that changes the migration uAPI
//! fails CI with a readable diff naming the requirements affected.

use regex::Regex;
use std::collections::BTreeMap;
use std::fmt;
use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::{uapi, MigState, MigrationFlags, PathTable};
use vfio_mig_model::Req;

/// The `vfio.h` names and values of the numbers the VFIO adapter opens
/// devices with (values and ioctl offsets from `VFIO_BASE`).
pub const OPENING: [(&str, u32); 11] = {
    use uapi::open;
    [
        ("VFIO_API_VERSION", open::API_VERSION),
        ("VFIO_TYPE1v2_IOMMU", open::TYPE1V2_IOMMU),
        ("VFIO_GROUP_FLAGS_VIABLE", open::GROUP_FLAGS_VIABLE),
        ("VFIO_GET_API_VERSION", open::GET_API_VERSION_NR),
        ("VFIO_CHECK_EXTENSION", open::CHECK_EXTENSION_NR),
        ("VFIO_SET_IOMMU", open::SET_IOMMU_NR),
        ("VFIO_GROUP_GET_STATUS", open::GROUP_GET_STATUS_NR),
        ("VFIO_GROUP_SET_CONTAINER", open::GROUP_SET_CONTAINER_NR),
        ("VFIO_GROUP_GET_DEVICE_FD", open::GROUP_GET_DEVICE_FD_NR),
        ("VFIO_DEVICE_GET_REGION_INFO", open::DEVICE_GET_REGION_INFO_NR),
        ("VFIO_DEVICE_BIND_IOMMUFD", open::DEVICE_BIND_IOMMUFD_NR),
    ]
};

/// One fact where the kernel and the model disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// What was compared.
    pub what: String,
    /// The kernel's value.
    pub kernel: String,
    /// The model's value.
    pub model: String,
    /// The requirements that rest on this fact.
    pub reqs: &'static [Req],
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reqs = match self.reqs {
            [] => "the VFIO adapter's own number".to_owned(),
            r => vfio_mig_model::join_ids(r, ", "),
        };
        write!(
            f,
            "{}: kernel {}, model {} [{reqs}]",
            self.what, self.kernel, self.model
        )
    }
}

/// The comparison's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Facts compared.
    pub compared: usize,
    /// Facts that differ.
    pub drifts: Vec<Drift>,
}

impl Comparison {
    fn check(
        &mut self,
        what: impl Into<String>,
        kernel: impl fmt::Display,
        model: impl fmt::Display,
        reqs: &'static [Req],
    ) {
        self.compared += 1;
        let (k, m) = (kernel.to_string(), model.to_string());
        if k != m {
            self.drifts.push(Drift {
                what: what.into(),
                kernel: k,
                model: m,
                reqs,
            });
        }
    }
}

/// The migration facts read from the kernel source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelFacts {
    /// `enum vfio_device_mig_state`: name (without prefix) to number.
    pub states: BTreeMap<String, u32>,
    /// `#define` values of interest, evaluated.
    pub defines: BTreeMap<String, u64>,
    /// `vfio_from_fsm_table[from][to]`, by state names.
    pub table: BTreeMap<(String, String), String>,
    /// `state_flags_table[state]`: flag bits, `None` for `~0U` (never supported).
    pub state_flags: BTreeMap<String, Option<u64>>,
}

fn strip_comments(src: &str) -> String {
    let block = Regex::new(r"(?s)/\*.*?\*/").expect("valid regex");
    let line = Regex::new(r"//[^\n]*").expect("valid regex");
    line.replace_all(&block.replace_all(src, " "), " ").into_owned()
}

/// The text of the brace block that follows `opening` (a regex), or an error
/// naming what is missing.
fn block<'a>(src: &'a str, opening: &str, what: &str) -> Result<&'a str, String> {
    let re = Regex::new(opening).expect("valid regex");
    let m = re.find(src).ok_or_else(|| format!("{what} not found"))?;
    let start = m.end();
    let mut depth = 1usize;
    for (i, c) in src[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(&src[start..start + i]);
                }
            }
            _ => {}
        }
    }
    Err(format!("{what} is not closed"))
}

const MIGRATION_FLAGS: [&str; 3] = ["STOP_COPY", "P2P", "PRE_COPY"];

impl KernelFacts {
    /// Parses the two files' contents.
    pub fn parse(vfio_h: &str, vfio_main_c: &str) -> Result<Self, String> {
        let h = strip_comments(vfio_h);
        let c = strip_comments(vfio_main_c);
        let mut facts = KernelFacts::default();
        let states = block(
            &h,
            r"enum\s+vfio_device_mig_state\s*\{",
            "vfio.h: enum vfio_device_mig_state",
        )?;
        let entry = Regex::new(r"VFIO_DEVICE_STATE_(\w+)\s*=\s*(\d+)").expect("valid regex");
        for cap in entry.captures_iter(states) {
            facts.states.insert(
                cap[1].to_owned(),
                cap[2].parse().map_err(|e| format!("vfio.h: {e}"))?,
            );
        }
        let define = Regex::new(r"(?m)^#define\s+(VFIO_\w+)\s+(.+?)\s*$").expect("valid regex");
        let shift = Regex::new(r"^\(\s*1\s*<<\s*(\d+)\s*\)$").expect("valid regex");
        let io = Regex::new(r"^_IO\(\s*VFIO_TYPE\s*,\s*VFIO_BASE\s*\+\s*(\d+)\s*\)$").expect("valid regex");
        for cap in define.captures_iter(&h) {
            let value = cap[2].trim();
            let parsed = if let Ok(n) = value.parse::<u64>() {
                Some(n)
            } else if let Some(s) = shift.captures(value) {
                s[1].parse::<u32>().ok().and_then(|b| 1u64.checked_shl(b))
            } else {
                io.captures(value).and_then(|s| s[1].parse().ok())
            };
            if let Some(v) = parsed {
                facts.defines.insert(cap[1].to_owned(), v);
            }
        }
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
        if facts.states.is_empty() || facts.table.is_empty() || facts.state_flags.is_empty() {
            return Err("the migration uAPI was not found in these files".to_owned());
        }
        Ok(facts)
    }

    fn define(&self, name: &str) -> String {
        self.defines
            .get(name)
            .map_or_else(|| "missing".to_owned(), |v| v.to_string())
    }

    /// Compares every fact with the model.
    pub fn compare(&self) -> Comparison {
        let mut c = Comparison::default();
        for s in MigState::ALL {
            let kernel = self
                .states
                .get(s.name())
                .map_or_else(|| "missing".to_owned(), |n| n.to_string());
            c.check(format!("state {}", s.name()), kernel, s.number(), &[V2_STATE_001]);
        }
        for name in self
            .states
            .keys()
            .filter(|n| *n != "NR" && MigState::ALL.iter().all(|s| s.name() != n.as_str()))
        {
            c.check(format!("state {name}"), "present", "absent", &[V2_STATE_001]);
        }
        for (i, f) in MIGRATION_FLAGS.iter().enumerate() {
            c.check(
                format!("VFIO_MIGRATION_{f}"),
                self.define(&format!("VFIO_MIGRATION_{f}")),
                1u64 << i,
                &[V2_FLAG_001],
            );
        }
        let numbers: [(&str, u64, &'static [Req]); 10] = [
            ("VFIO_BASE", u64::from(uapi::VFIO_BASE), &[V2_FEAT_001]),
            (
                "VFIO_DEVICE_FEATURE",
                u64::from(uapi::DEVICE_FEATURE_NR),
                &[V2_FEAT_001],
            ),
            (
                "VFIO_DEVICE_RESET",
                u64::from(uapi::DEVICE_RESET_NR),
                &[V2_ERR_002],
            ),
            (
                "VFIO_MIG_GET_PRECOPY_INFO",
                u64::from(uapi::MIG_GET_PRECOPY_INFO_NR),
                &[V2_PRE_001],
            ),
            (
                "VFIO_DEVICE_FEATURE_GET",
                u64::from(uapi::FEATURE_GET),
                &[V2_FEAT_001],
            ),
            (
                "VFIO_DEVICE_FEATURE_SET",
                u64::from(uapi::FEATURE_SET),
                &[V2_FEAT_001],
            ),
            (
                "VFIO_DEVICE_FEATURE_PROBE",
                u64::from(uapi::FEATURE_PROBE),
                &[V2_FEAT_001],
            ),
            (
                "VFIO_DEVICE_FEATURE_MIGRATION",
                u64::from(uapi::FEATURE_MIGRATION),
                &[V2_FLAG_001],
            ),
            (
                "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE",
                u64::from(uapi::FEATURE_MIG_DEVICE_STATE),
                &[V2_FEAT_002],
            ),
            (
                "VFIO_DEVICE_FEATURE_MIG_DATA_SIZE",
                u64::from(uapi::FEATURE_MIG_DATA_SIZE),
                &[V2_SIZE_001],
            ),
        ];
        for (name, value, reqs) in numbers {
            c.check(name, self.define(name), value, reqs);
        }
        // The numbers the VFIO adapter opens devices with: no requirement
        // rests on them, but a change would break the adapter.
        for (name, value) in OPENING {
            c.check(name, self.define(name), value, &[]);
        }
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
            );
        }
        // The raw table is the next step with every feature on.
        let all = PathTable::derive(MigrationFlags::accepted()[3]);
        for from in MigState::ALL {
            for to in MigState::ALL {
                let kernel = self
                    .table
                    .get(&(from.name().to_owned(), to.name().to_owned()))
                    .cloned()
                    .unwrap_or_else(|| "ERROR (unset)".to_owned());
                let kernel = if kernel == "ERROR (unset)" {
                    "ERROR".to_owned()
                } else {
                    kernel
                };
                c.check(
                    format!("vfio_from_fsm_table[{}][{}]", from.name(), to.name()),
                    kernel,
                    all.next_step(from, to).name(),
                    &[V2_PATH_004, V2_PATH_001],
                );
            }
        }
        c
    }
}
