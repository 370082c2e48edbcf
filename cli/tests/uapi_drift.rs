//! The uAPI drift gate on C text written in the kernel's layout from the
//! gate's own table of facts (never kernel text): it matches, and each kind
//! of change, including a definition the gate does not know, is reported
//! with its name, its line and the requirements it affects. CI also runs the
//! last test, ignored otherwise, on each real source tree
//! (`ci/uapi-drift.sh`, with `VFIO_MIG_KERNEL_SRC` naming it).

use std::collections::BTreeMap;
use vfio_mig_cli::uapi_drift::cited::{self, Anchor};
use vfio_mig_cli::uapi_drift::header::Header;
use vfio_mig_cli::uapi_drift::inventory::{inventory, Inventory};
use vfio_mig_cli::uapi_drift::known::{self, Expect, Known};
use vfio_mig_cli::uapi_drift::KernelTables;
use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::{MigState, MigrationFlags, PathTable};
use vfio_mig_spec::Catalogue;

/// Our own C for the v1 macros, equivalent to the model's functions.
fn macro_body(name: &str) -> &'static str {
    match name {
        "VFIO_DEVICE_STATE_VALID" => "(!((s) & VFIO_DEVICE_STATE_V1_RESUMING) || ((s) & VFIO_DEVICE_STATE_MASK) == VFIO_DEVICE_STATE_V1_RESUMING)",
        "VFIO_DEVICE_STATE_IS_ERROR" => "(((s) & VFIO_DEVICE_STATE_MASK) == 6)",
        "VFIO_DEVICE_STATE_SET_ERROR" => "(((s) & ~VFIO_DEVICE_STATE_MASK) | 6)",
        other => panic!("no body for {other}"),
    }
}

/// A header in the uAPI's layout with every fact of the table that a
/// kernel of `since` has: the definitions of the device-feature section
/// between `struct vfio_device_feature` and the Type1 banner, the others
/// before it. `extra` is added just before the banner.
fn header_with(facts: &[Known], extra: &str) -> String {
    let mut before = String::from("#define VFIO_TYPE\t(';')\n#define VFIO_BASE\t100\n");
    before.push_str("struct vfio_info_cap_header {\n\t__u16 id;\n\t__u16 version;\n\t__u32 next;\n};\n");
    let mut section = String::new();
    let mut structs: BTreeMap<&str, Vec<(u64, &str, &str)>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for k in facts {
        if let Expect::Field(ty, off) = k.expect {
            let (s, f) = k.name.split_once('.').unwrap();
            structs.entry(s).or_default().push((off, ty, f));
        } else if matches!(k.expect, Expect::Present) && k.name.starts_with("struct ") {
            order.push(k.name);
        }
    }
    for s in order {
        let mut fields = structs.remove(s).unwrap_or_default();
        fields.sort();
        let mut text = format!("{s} {{\n");
        for (_, ty, f) in fields {
            match ty.strip_suffix("[]") {
                Some(elem) => text.push_str(&format!("\t{elem} {f}[];\n")),
                None => text.push_str(&format!("\t{ty} {f};\n")),
            }
        }
        text.push_str("};\n");
        if s == "struct vfio_device_feature" {
            section.insert_str(0, &text);
        } else {
            section.push_str(&text);
        }
    }
    for k in facts {
        let line = match k.expect {
            Expect::Num(v) => format!("#define {}\t{v}\n", k.name),
            Expect::Io(n) => format!("#define {}\t_IO(VFIO_TYPE, VFIO_BASE + {n})\n", k.name),
            Expect::Macro(_) => format!("#define {}(s)\t{}\n", k.name, macro_body(k.name)),
            _ => continue,
        };
        let enumerator = k.name.strip_prefix("VFIO_DEVICE_STATE_");
        if enumerator.is_some_and(|e| e == "NR" || MigState::ALL.iter().any(|s| s.name() == e)) {
            continue; // enumerators, below
        }
        if matches!(k.name, "VFIO_TYPE" | "VFIO_BASE") {
            continue;
        }
        section.push_str(&line);
    }
    section.push_str("enum vfio_device_mig_state {\n");
    for s in MigState::ALL {
        section.push_str(&format!("\tVFIO_DEVICE_STATE_{} = {},\n", s.name(), s.number()));
    }
    section.push_str("\tVFIO_DEVICE_STATE_NR,\n};\n");
    section.push_str(extra);
    format!("{before}{section}/* -------- API for Type1 VFIO IOMMU -------- */\n")
}

fn facts_of(kernel: &str) -> Vec<Known> {
    known::table()
        .into_iter()
        .filter(|k| k.since.is_none() || kernel == "7.3")
        .collect()
}

fn check(text: &str, kernel: &str) -> Inventory {
    check_with(text, kernel, &known::table())
}

fn check_with(text: &str, kernel: &str, table: &[Known]) -> Inventory {
    let h = Header::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    inventory(&h, table, Some(kernel))
}

/// Linux 7.3's new migration definitions.
const NEW_IN_7_3: [&str; 2] = [
    "VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2",
    "VFIO_PRECOPY_INFO_REINIT",
];

/// V2-STATE-001, V2-FLAG-001, V2-FEAT-001, V1-LAYOUT-001: a header written
/// from the gate's facts has no unknown definition and no difference.
#[test]
fn a_header_written_from_the_facts_matches_them() {
    for kernel in ["6.12", "7.3"] {
        let facts = facts_of(kernel);
        let inv = check(&header_with(&facts, ""), kernel);
        assert!(inv.unknown.is_empty(), "{kernel}: {:#?}", inv.unknown);
        assert!(
            inv.comparison.drifts.is_empty(),
            "{kernel}: {:#?}",
            inv.comparison.drifts
        );
        assert_eq!(inv.comparison.compared, facts.len(), "{kernel}");
    }
}

/// What a gate comparing only the facts it knows would pass: every one is
/// equal. 7.3's new definitions, written here from their facts (feature 12
/// and bit 0 of vfio_precopy_info.flags), fail a gate whose table lacks
/// them, by name and line (V2-PRE-001 rests on struct vfio_precopy_info).
#[test]
fn a_new_definition_fails_the_gate_with_its_name_and_line() {
    let table: Vec<Known> = known::table()
        .into_iter()
        .filter(|k| !NEW_IN_7_3.contains(&k.name))
        .collect();
    let facts = table.clone();
    let text = header_with(&facts, "#define VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 12\n").replace(
        "\t__aligned_u64 initial_bytes;",
        "#define VFIO_PRECOPY_INFO_REINIT (1 << 0)\n\t__aligned_u64 initial_bytes;",
    );
    let inv = check_with(&text, "7.3", &table);
    // Every known fact still matches: comparing known facts alone is green.
    assert!(inv.comparison.drifts.is_empty(), "{:#?}", inv.comparison.drifts);
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let unknown: Vec<(&str, usize)> = inv.unknown.iter().map(|u| (u.name.as_str(), u.line)).collect();
    assert_eq!(
        unknown,
        [
            ("VFIO_PRECOPY_INFO_REINIT", line_of("VFIO_PRECOPY_INFO_REINIT")),
            (
                "VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2",
                line_of("PRECOPY_INFOv2")
            ),
        ]
    );
    assert!(
        inv.unknown[0]
            .to_string()
            .contains("inside struct vfio_precopy_info"),
        "{}",
        inv.unknown[0]
    );
    // A new state, a new field and a new struct are unknown too.
    let text = header_with(&facts, "struct vfio_new { __u32 a; };\n")
        .replace(
            "\tVFIO_DEVICE_STATE_NR,",
            "\tVFIO_DEVICE_STATE_NEW_ONE = 8,\n\tVFIO_DEVICE_STATE_NR,",
        )
        .replace("\t__s32 data_fd;", "\t__s32 data_fd;\n\t__u32 more;");
    let names: Vec<String> = check_with(&text, "7.3", &table)
        .unknown
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(
        names,
        [
            "struct vfio_device_feature_mig_state.more",
            "VFIO_DEVICE_STATE_NEW_ONE",
            "struct vfio_new",
            "struct vfio_new.a"
        ],
        "{text}"
    );
}

/// V2-SIZE-001, V2-STATE-001, V2-ARC-010: a changed number names the
/// requirements resting on it; a new state moves VFIO_DEVICE_STATE_NR.
#[test]
fn changed_numbers_name_their_requirements() {
    let text = header_with(&facts_of("6.12"), "")
        .replace(
            "VFIO_DEVICE_STATE_PRE_COPY_P2P = 7",
            "VFIO_DEVICE_STATE_PRE_COPY_P2P = 8",
        )
        .replace(
            "VFIO_DEVICE_FEATURE_MIG_DATA_SIZE\t9",
            "VFIO_DEVICE_FEATURE_MIG_DATA_SIZE\t10",
        );
    let inv = check(&text, "6.12");
    let whats: Vec<&str> = inv
        .comparison
        .drifts
        .iter()
        .map(|d| d.what.split(" (line").next().unwrap())
        .collect();
    assert_eq!(
        whats,
        [
            "VFIO_DEVICE_STATE_PRE_COPY_P2P",
            "VFIO_DEVICE_STATE_NR",
            "VFIO_DEVICE_FEATURE_MIG_DATA_SIZE"
        ],
        "{:#?}",
        inv.comparison.drifts
    );
    let d = &inv.comparison.drifts;
    assert!(d[0].reqs.contains(&V2_STATE_001));
    assert!(d[1].reqs.contains(&V2_ARC_010));
    assert!(d[2].reqs.contains(&V2_SIZE_001));
    assert_eq!((d[2].kernel.as_str(), d[2].model.as_str()), ("10", "9"));
    assert!(d[0].what.contains("(line "), "{}", d[0].what);
}

/// V1-STATE-004, V1-ARC-008, V1-LAYOUT-001: a macro computing another
/// function, and a moved field, are differences naming their rules.
#[test]
fn changed_macros_and_layouts_are_differences() {
    let text = header_with(&facts_of("6.12"), "")
        .replace(
            "(!((s) & VFIO_DEVICE_STATE_V1_RESUMING) ||",
            "(((s) & 6) == 6 || !((s) & VFIO_DEVICE_STATE_V1_RESUMING) ||",
        )
        .replace(
            "\t__u32 reserved;\n\t__aligned_u64 pending_bytes;",
            "\t__aligned_u64 pending_bytes;\n\t__u32 reserved;",
        );
    let inv = check(&text, "6.12");
    let d = &inv.comparison.drifts;
    let valid = d
        .iter()
        .find(|d| d.what.starts_with("VFIO_DEVICE_STATE_VALID"))
        .unwrap();
    assert_eq!(
        (valid.kernel.as_str(), valid.model.as_str()),
        ("VFIO_DEVICE_STATE_VALID(0x6) = 1", "0")
    );
    assert!(valid.reqs.contains(&V1_STATE_004) && valid.reqs.contains(&V1_ARC_008));
    let moved: Vec<&str> = d
        .iter()
        .filter(|d| d.what.starts_with("struct vfio_device_migration_info."))
        .map(|d| d.what.split(" (line").next().unwrap())
        .collect();
    assert_eq!(
        moved,
        [
            "struct vfio_device_migration_info.reserved",
            "struct vfio_device_migration_info.data_offset",
            "struct vfio_device_migration_info.data_size",
        ],
        "{d:#?}"
    );
}

/// The adapter's numbers name no requirement but say whose they are; a fact
/// a kernel of its version must have is reported missing.
#[test]
fn adapter_numbers_and_missing_facts_are_reported() {
    let text = header_with(&facts_of("6.12"), "").replace("VFIO_BASE + 6)", "VFIO_BASE + 60)");
    let inv = check(&text, "6.12");
    assert_eq!(inv.comparison.drifts.len(), 1, "{:#?}", inv.comparison.drifts);
    let d = &inv.comparison.drifts[0];
    assert!(d.what.starts_with("VFIO_GROUP_GET_DEVICE_FD (line "));
    assert!(d
        .to_string()
        .ends_with(": kernel _IO(VFIO_TYPE, VFIO_BASE + 60), model _IO(VFIO_TYPE, VFIO_BASE + 6) [the VFIO adapter's own number or layout]"));
    // 7.3's facts are optional in a 6.12 header, required in a 7.3 one.
    let text = header_with(&facts_of("6.12"), "");
    assert!(check(&text, "6.12").comparison.drifts.is_empty());
    let missing: Vec<String> = check(&text, "7.3")
        .comparison
        .drifts
        .into_iter()
        .map(|d| d.what)
        .collect();
    assert!(
        missing.contains(&"VFIO_DEVICE_FEATURE_DMA_BUF".to_owned()),
        "{missing:?}"
    );
    // A model fact is required everywhere.
    let text = text.replace("#define VFIO_MIGRATION_P2P\t2\n", "");
    let d = check(&text, "6.12").comparison.drifts;
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(
        (d[0].what.as_str(), d[0].kernel.as_str()),
        ("VFIO_MIGRATION_P2P", "missing")
    );
    assert!(d[0].reqs.contains(&V2_FLAG_001));
}

/// The layouts the table holds as the adapter's are the adapter's own
/// (`vfio-mig-sys`, which flattens the feature header into each payload).
#[test]
fn the_adapters_layouts_are_the_ones_in_the_table() {
    use std::mem::offset_of;
    use vfio_mig_sys::uapi::{BindIommufd, FeatureMigState, FeatureU64, PrecopyInfo};
    let t: BTreeMap<&str, Expect> = known::table().into_iter().map(|k| (k.name, k.expect)).collect();
    let off = |name: &str| match t[name] {
        Expect::Field(_, o) => o as usize,
        _ => panic!("{name} is not a field"),
    };
    let header = 8;
    assert_eq!(off("struct vfio_device_feature.data"), header);
    assert_eq!(
        off("struct vfio_device_feature_mig_state.device_state"),
        offset_of!(FeatureMigState, device_state) - header
    );
    assert_eq!(
        off("struct vfio_device_feature_mig_state.data_fd"),
        offset_of!(FeatureMigState, data_fd) - header
    );
    assert_eq!(
        off("struct vfio_device_feature_migration.flags"),
        offset_of!(FeatureU64, value) - header
    );
    assert_eq!(
        off("struct vfio_device_feature_mig_data_size.stop_copy_length"),
        offset_of!(FeatureU64, value) - header
    );
    assert_eq!(
        off("struct vfio_precopy_info.flags"),
        offset_of!(PrecopyInfo, flags)
    );
    assert_eq!(
        off("struct vfio_precopy_info.initial_bytes"),
        offset_of!(PrecopyInfo, initial_bytes)
    );
    assert_eq!(
        off("struct vfio_precopy_info.dirty_bytes"),
        offset_of!(PrecopyInfo, dirty_bytes)
    );
    assert_eq!(
        off("struct vfio_device_bind_iommufd.iommufd"),
        offset_of!(BindIommufd, iommufd)
    );
    assert_eq!(
        off("struct vfio_device_bind_iommufd.out_devid"),
        offset_of!(BindIommufd, out_devid)
    );
}

/// The two tables in the driver core's layout, from the model's derivation.
fn main_c() -> String {
    let all = PathTable::derive(MigrationFlags::accepted()[3]);
    let mut c = String::from("int vfio_mig_get_next_state(void)\n{\n\tstatic const u8 vfio_from_fsm_table[VFIO_DEVICE_NUM_STATES][VFIO_DEVICE_NUM_STATES] = {\n");
    for from in MigState::ALL {
        c.push_str(&format!("\t\t[VFIO_DEVICE_STATE_{}] = {{\n", from.name()));
        for to in MigState::ALL {
            c.push_str(&format!(
                "\t\t\t[VFIO_DEVICE_STATE_{}] = VFIO_DEVICE_STATE_{},\n",
                to.name(),
                all.next_step(from, to).name()
            ));
        }
        c.push_str("\t\t},\n");
    }
    c.push_str("\t};\n\tstatic const unsigned int state_flags_table[VFIO_DEVICE_NUM_STATES] = {\n");
    for s in MigState::ALL {
        let bits = s.required_flags().bits();
        let expr = if s == MigState::Error {
            "~0U".to_owned()
        } else {
            let names: Vec<&str> = [
                (1, "VFIO_MIGRATION_STOP_COPY"),
                (2, "VFIO_MIGRATION_P2P"),
                (4, "VFIO_MIGRATION_PRE_COPY"),
            ]
            .into_iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|(_, n)| n)
            .collect();
            names.join(" |\n\t\t\t")
        };
        c.push_str(&format!("\t\t[VFIO_DEVICE_STATE_{}] = {expr},\n", s.name()));
    }
    c.push_str("\t};\n}\n");
    c
}

/// V2-PATH-004, V2-PATH-001, V2-FLAG-003: the driver core's tables.
#[test]
fn the_tables_match_and_a_changed_entry_names_the_path_rules() {
    let c = KernelTables::parse(&main_c()).unwrap().compare();
    assert!(c.drifts.is_empty(), "{:#?}", c.drifts);
    assert_eq!(c.compared, 8 + 64);
    let changed = main_c().replacen(
        "[VFIO_DEVICE_STATE_STOP_COPY] = {\n\t\t\t[VFIO_DEVICE_STATE_ERROR] = VFIO_DEVICE_STATE_ERROR,\n\t\t\t[VFIO_DEVICE_STATE_STOP] = VFIO_DEVICE_STATE_STOP",
        "[VFIO_DEVICE_STATE_STOP_COPY] = {\n\t\t\t[VFIO_DEVICE_STATE_ERROR] = VFIO_DEVICE_STATE_ERROR,\n\t\t\t[VFIO_DEVICE_STATE_STOP] = VFIO_DEVICE_STATE_RUNNING",
        1,
    );
    assert_ne!(changed, main_c());
    let c = KernelTables::parse(&changed).unwrap().compare();
    assert_eq!(c.drifts.len(), 1, "{:#?}", c.drifts);
    assert_eq!(
        c.drifts[0].to_string(),
        "vfio_from_fsm_table[STOP_COPY][STOP]: kernel RUNNING, model STOP [V2-PATH-004, V2-PATH-001]"
    );
    let changed = main_c().replacen(
        "[VFIO_DEVICE_STATE_RUNNING_P2P] = VFIO_MIGRATION_STOP_COPY |\n\t\t\tVFIO_MIGRATION_P2P",
        "[VFIO_DEVICE_STATE_RUNNING_P2P] = VFIO_MIGRATION_STOP_COPY",
        1,
    );
    let c = KernelTables::parse(&changed).unwrap().compare();
    assert_eq!(c.drifts.len(), 1, "{:#?}", c.drifts);
    assert!(c.drifts[0].reqs.contains(&V2_FLAG_003));
}

#[test]
fn files_without_the_uapi_are_an_error_not_a_match() {
    assert!(Header::parse("int x;")
        .unwrap_err()
        .contains("struct vfio_device_feature"));
    assert!(KernelTables::parse("int y;")
        .unwrap_err()
        .contains("vfio_from_fsm_table"));
    let unknown = main_c().replacen("VFIO_MIGRATION_P2P", "VFIO_MIGRATION_BOGUS", 1);
    assert!(KernelTables::parse(&unknown)
        .unwrap_err()
        .contains("unknown flag"));
}

/// The catalogue's citations of kernel text, grouped as the snapshot groups
/// them: (file, what is cited) -> requirements, for a kernel of `version`.
fn citations(cat: &Catalogue, version: (u32, u32)) -> BTreeMap<(String, Anchor), Vec<String>> {
    let mut out: BTreeMap<(String, Anchor), Vec<String>> = BTreeMap::new();
    for r in cat.requirements() {
        let s = &r.source;
        let Some(v) = s
            .version
            .as_deref()
            .and_then(vfio_mig_cli::uapi_drift::inventory::version)
        else {
            continue;
        };
        if v < (5, 18) || v > version || !vfio_mig_cli::uapi_drift::cited::in_kernel_tree(&s.doc) {
            continue;
        }
        let a = Anchor::of(&s.at)
            .unwrap_or_else(|| panic!("{}: {:?} names no text the gate can find", r.id, s.at));
        out.entry((s.doc.clone(), a))
            .or_default()
            .push(r.id.as_str().to_owned());
    }
    out
}

/// The committed snapshots (ci/uapi/cited-VERSION.txt) list exactly the
/// texts the catalogue cites, each with exactly the requirements citing it:
/// a requirement added or re-cited without the snapshot being rewritten
/// fails here, before any kernel is downloaded.
#[test]
fn the_committed_snapshots_name_the_requirements_citing_each_text() {
    let cat = Catalogue::builtin().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ci/uapi");
    for (kernel, v) in [("6.12", (6, 12)), ("7.3", (7, 3))] {
        let text = std::fs::read_to_string(root.join(format!("cited-{kernel}.txt"))).unwrap();
        let snap = cited::parse(&text).unwrap();
        let want = citations(&cat, v);
        let got: BTreeMap<(String, Anchor), Vec<String>> = snap
            .into_iter()
            .map(|(k, c)| (k, c.reqs.into_iter().collect()))
            .collect();
        let mut want_sorted = want.clone();
        want_sorted.values_mut().for_each(|r| r.sort());
        assert_eq!(
            got, want_sorted,
            "ci/uapi/cited-{kernel}.txt is out of date: ci/uapi-drift.sh --update-cited rewrites it"
        );
    }
}

/// A header with comments above the definitions the catalogue cites, in our
/// own words.
fn commented_header() -> String {
    let mut h = header_with(&facts_of("6.12"), "");
    for (def, text) in [
        (
            "struct vfio_precopy_info {",
            "/*\n * First paragraph about the pre-copy sizes.\n *\n * Second paragraph.\n */\n",
        ),
        ("enum vfio_device_mig_state {", "/*\n * The states.\n */\n"),
        ("struct vfio_device_feature {", "/* The feature ioctl. */\n"),
        ("struct vfio_device_feature_migration {", "/* The flags. */\n"),
        (
            "struct vfio_device_feature_mig_state {",
            "/* Setting a state. */\n",
        ),
        (
            "#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE",
            "/* A size estimate. */\n",
        ),
    ] {
        let at = h.find(def).unwrap_or_else(|| panic!("{def}"));
        h.insert_str(at, text);
    }
    h
}

/// V2-PRE-001..004, V2-STREAM-002: a changed paragraph of a cited comment
/// is a difference naming it and the requirements citing it; a definition
/// that disappears leaves its citations unresolved.
#[test]
fn a_changed_cited_comment_names_the_requirements_citing_it() {
    let cat = Catalogue::builtin().unwrap();
    let h = commented_header();
    let main = main_c();
    let read = |h: String| {
        let main = main.clone();
        move |doc: &str| -> Result<String, String> {
            match doc {
                "include/uapi/linux/vfio.h" => Ok(h.clone()),
                "drivers/vfio/vfio_main.c" => Ok(main.clone()),
                other => Err(format!("{other} not given")),
            }
        }
    };
    let before = cited::collect(&cat, Some("6.12"), &mut read(h.clone()));
    let key = (
        "include/uapi/linux/vfio.h".to_owned(),
        Anchor::CommentAbove("struct vfio_precopy_info".into()),
    );
    assert!(before.texts[&key].reqs.contains(V2_PRE_001.id()));
    let snapshot = cited::parse(&cited::render(&before, "6.12")).unwrap();
    let same = cited::collect(&cat, Some("6.12"), &mut read(h.clone()));
    assert!(cited::compare(&same, &snapshot).is_empty());
    // Reflowing the text changes nothing; a new sentence does.
    let reflowed = h.replace("about the pre-copy sizes.", "about the\n * pre-copy   sizes.");
    assert!(cited::compare(
        &cited::collect(&cat, Some("6.12"), &mut read(reflowed)),
        &snapshot
    )
    .is_empty());
    let changed = h.replace(
        " * Second paragraph.\n",
        " * Second paragraph.\n *\n * A new rule.\n",
    );
    let changes = cited::compare(&cited::collect(&cat, Some("6.12"), &mut read(changed)), &snapshot);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let shown = changes[0].to_string();
    assert!(shown.contains("comment above struct vfio_precopy_info changed: paragraph(s) 3 of 3 new; cited by V2-PRE-001, V2-PRE-002, V2-PRE-003, V2-PRE-004"), "{shown}");
    let gone = h.replace("enum vfio_device_mig_state {", "enum vfio_renamed {");
    let after = cited::collect(&cat, Some("6.12"), &mut read(gone));
    assert!(
        after.unresolved.iter().any(|u| u.req == V2_STATE_001.id()),
        "{:#?}",
        after.unresolved
    );
}

/// The real trees, from `ci/uapi-drift.sh`: every definition known and
/// equal, the tables equal.
#[test]
#[ignore = "needs a kernel source tree in VFIO_MIG_KERNEL_SRC; ci/uapi-drift.sh runs it with --include-ignored"]
fn the_real_kernel_source_matches() {
    let root = std::env::var_os("VFIO_MIG_KERNEL_SRC")
        .expect("VFIO_MIG_KERNEL_SRC names an extracted kernel source tree");
    let root = std::path::PathBuf::from(root);
    let kernel = std::env::var("VFIO_MIG_KERNEL_VERSION").ok();
    let h = std::fs::read_to_string(root.join("include/uapi/linux/vfio.h")).unwrap();
    let c = std::fs::read_to_string(root.join("drivers/vfio/vfio_main.c")).unwrap();
    let inv = inventory(&Header::parse(&h).unwrap(), &known::table(), kernel.as_deref());
    assert!(inv.unknown.is_empty(), "{:#?}", inv.unknown);
    assert!(inv.comparison.drifts.is_empty(), "{:#?}", inv.comparison.drifts);
    let t = KernelTables::parse(&c).unwrap().compare();
    assert!(t.drifts.is_empty(), "{:#?}", t.drifts);
}
