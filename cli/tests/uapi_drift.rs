//! The uAPI drift gate on C text written in the kernel's layout: generated
//! from the model it matches, and each kind of change is reported with the
//! requirements it affects. CI also runs it on the real Linux 6.12 sources
//! (`ci/uapi-drift.sh` runs this file's last test, ignored otherwise, with
//! `VFIO_MIG_KERNEL_SRC` naming an extracted source tree).

use vfio_mig_cli::uapi_drift::KernelFacts;
use vfio_mig_model::v2::{uapi, MigState, MigrationFlags, PathTable};

/// A header in the uAPI's layout, written from the model's numbers.
fn header() -> String {
    let mut h = String::from("#define VFIO_TYPE\t(';')\n#define VFIO_BASE\t100\n");
    h.push_str(&format!(
        "#define VFIO_DEVICE_RESET\t\t_IO(VFIO_TYPE, VFIO_BASE + {})\n",
        uapi::DEVICE_RESET_NR
    ));
    h.push_str(&format!(
        "#define VFIO_DEVICE_FEATURE\t\t_IO(VFIO_TYPE, VFIO_BASE + {})\n",
        uapi::DEVICE_FEATURE_NR
    ));
    h.push_str("#define VFIO_DEVICE_FEATURE_GET\t(1 << 16)\n#define VFIO_DEVICE_FEATURE_SET\t(1 << 17)\n#define VFIO_DEVICE_FEATURE_PROBE\t(1 << 18)\n");
    h.push_str("#define VFIO_MIGRATION_STOP_COPY\t(1 << 0)\n#define VFIO_MIGRATION_P2P\t\t(1 << 1)\n#define VFIO_MIGRATION_PRE_COPY\t\t(1 << 2)\n");
    h.push_str("#define VFIO_DEVICE_FEATURE_MIGRATION 1\n#define VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE 2\n");
    h.push_str("/* a comment with VFIO_DEVICE_STATE_STOP = 9 inside must not count */\nenum vfio_device_mig_state {\n");
    for s in MigState::ALL {
        h.push_str(&format!("\tVFIO_DEVICE_STATE_{} = {},\n", s.name(), s.number()));
    }
    h.push_str("\tVFIO_DEVICE_STATE_NR,\n};\n");
    h.push_str(&format!(
        "#define VFIO_MIG_GET_PRECOPY_INFO _IO(VFIO_TYPE, VFIO_BASE + {})\n",
        uapi::MIG_GET_PRECOPY_INFO_NR
    ));
    h.push_str("#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9\n");
    // The adapter's numbers: three values, then ioctl offsets.
    for (i, (name, value)) in vfio_mig_cli::uapi_drift::OPENING.iter().enumerate() {
        let text = match i {
            0 | 1 => value.to_string(),
            2 => format!("(1 << {})", value.trailing_zeros()),
            _ => format!("_IO(VFIO_TYPE, VFIO_BASE + {value})"),
        };
        h.push_str(&format!("#define {name}\t\t{text}\n"));
    }
    h
}

/// The two tables in the driver core's layout, from the model's derivation.
fn main_c() -> String {
    let all = PathTable::derive(MigrationFlags::accepted()[3]);
    let mut c = String::from("static int f(void)\n{\n\tstatic const u8 vfio_from_fsm_table[VFIO_DEVICE_NUM_STATES][VFIO_DEVICE_NUM_STATES] = {\n");
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

#[test]
fn text_written_from_the_model_matches_it() {
    let facts = KernelFacts::parse(&header(), &main_c()).unwrap();
    let c = facts.compare();
    assert!(c.drifts.is_empty(), "{:#?}", c.drifts);
    assert_eq!(c.compared, 8 + 3 + 10 + 11 + 8 + 64);
}

#[test]
fn a_changed_table_entry_names_the_path_rules() {
    let changed = main_c().replacen(
        "[VFIO_DEVICE_STATE_STOP_COPY] = {\n\t\t\t[VFIO_DEVICE_STATE_ERROR] = VFIO_DEVICE_STATE_ERROR,\n\t\t\t[VFIO_DEVICE_STATE_STOP] = VFIO_DEVICE_STATE_STOP",
        "[VFIO_DEVICE_STATE_STOP_COPY] = {\n\t\t\t[VFIO_DEVICE_STATE_ERROR] = VFIO_DEVICE_STATE_ERROR,\n\t\t\t[VFIO_DEVICE_STATE_STOP] = VFIO_DEVICE_STATE_RUNNING",
        1,
    );
    assert_ne!(changed, main_c());
    let c = KernelFacts::parse(&header(), &changed).unwrap().compare();
    assert_eq!(c.drifts.len(), 1, "{:#?}", c.drifts);
    let d = &c.drifts[0];
    assert_eq!(d.what, "vfio_from_fsm_table[STOP_COPY][STOP]");
    assert_eq!((d.kernel.as_str(), d.model.as_str()), ("RUNNING", "STOP"));
    assert!(d.reqs.contains(&vfio_mig_model::reqs::V2_PATH_004));
}

#[test]
fn changed_numbers_name_their_requirements() {
    let h = header()
        .replace(
            "VFIO_DEVICE_STATE_PRE_COPY_P2P = 7",
            "VFIO_DEVICE_STATE_PRE_COPY_P2P = 8",
        )
        .replace(
            "VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9",
            "VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 10",
        )
        .replace(
            "VFIO_DEVICE_STATE_NR,",
            "VFIO_DEVICE_STATE_NEW_ONE = 9,\n\tVFIO_DEVICE_STATE_NR,",
        );
    let c = KernelFacts::parse(&h, &main_c()).unwrap().compare();
    let whats: Vec<&str> = c.drifts.iter().map(|d| d.what.as_str()).collect();
    assert_eq!(
        whats,
        [
            "state PRE_COPY_P2P",
            "state NEW_ONE",
            "VFIO_DEVICE_FEATURE_MIG_DATA_SIZE"
        ],
        "{:#?}",
        c.drifts
    );
    assert!(c.drifts[0].reqs.contains(&vfio_mig_model::reqs::V2_STATE_001));
    assert!(c.drifts[2].reqs.contains(&vfio_mig_model::reqs::V2_SIZE_001));
}

/// The numbers the VFIO adapter opens devices with are checked too; a change
/// names no requirement but says whose number it is.
#[test]
fn a_changed_opening_number_is_reported_as_the_adapters() {
    let h = header().replace("VFIO_BASE + 6)", "VFIO_BASE + 60)");
    let c = KernelFacts::parse(&h, &main_c()).unwrap().compare();
    assert_eq!(c.drifts.len(), 1, "{:#?}", c.drifts);
    assert_eq!(c.drifts[0].what, "VFIO_GROUP_GET_DEVICE_FD");
    assert_eq!(
        c.drifts[0].to_string(),
        "VFIO_GROUP_GET_DEVICE_FD: kernel 60, model 6 [the VFIO adapter's own number]"
    );
}

#[test]
fn a_changed_state_flag_requirement_is_reported() {
    let changed = main_c().replacen(
        "[VFIO_DEVICE_STATE_RUNNING_P2P] = VFIO_MIGRATION_STOP_COPY |\n\t\t\tVFIO_MIGRATION_P2P",
        "[VFIO_DEVICE_STATE_RUNNING_P2P] = VFIO_MIGRATION_STOP_COPY",
        1,
    );
    assert_ne!(changed, main_c());
    let c = KernelFacts::parse(&header(), &changed).unwrap().compare();
    assert_eq!(c.drifts.len(), 1, "{:#?}", c.drifts);
    assert!(c.drifts[0].reqs.contains(&vfio_mig_model::reqs::V2_FLAG_003));
}

#[test]
fn files_without_the_uapi_are_an_error_not_a_match() {
    assert!(KernelFacts::parse("int x;", &main_c())
        .unwrap_err()
        .contains("enum vfio_device_mig_state"));
    assert!(KernelFacts::parse(&header(), "int y;")
        .unwrap_err()
        .contains("vfio_from_fsm_table"));
    let unknown = main_c().replacen("VFIO_MIGRATION_P2P", "VFIO_MIGRATION_BOGUS", 1);
    assert!(KernelFacts::parse(&header(), &unknown)
        .unwrap_err()
        .contains("unknown flag"));
}

#[test]
#[ignore = "needs a kernel source tree in VFIO_MIG_KERNEL_SRC; ci/uapi-drift.sh runs it with --include-ignored"]
fn the_real_kernel_source_matches() {
    let root = std::env::var_os("VFIO_MIG_KERNEL_SRC")
        .expect("VFIO_MIG_KERNEL_SRC names an extracted kernel source tree");
    let root = std::path::PathBuf::from(root);
    let h = std::fs::read_to_string(root.join("include/uapi/linux/vfio.h")).unwrap();
    let c = std::fs::read_to_string(root.join("drivers/vfio/vfio_main.c")).unwrap();
    let cmp = KernelFacts::parse(&h, &c).unwrap().compare();
    assert!(cmp.drifts.is_empty(), "{:#?}", cmp.drifts);
    assert_eq!(cmp.compared, 104);
}
