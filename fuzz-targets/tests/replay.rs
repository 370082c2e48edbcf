//! Every committed corpus and regression input of every fuzz target, replayed
//! under stable `cargo test`.

use std::path::Path;

#[test]
fn replay_corpora_and_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut replayed = 0;
    for target in vfio_mig_fuzz_targets::TARGETS {
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
                continue;
            };
            for e in entries {
                let path = e.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                vfio_mig_fuzz_targets::run(target, &data);
                replayed += 1;
            }
        }
    }
    assert!(
        replayed >= vfio_mig_fuzz_targets::TARGETS.len(),
        "every target has a corpus: {replayed} files"
    );
}

#[test]
fn empty_and_tiny_inputs_are_handled() {
    for target in vfio_mig_fuzz_targets::TARGETS {
        for data in [&b""[..], &[0], &[255; 3], &[1, 2, 3, 4, 5, 6, 7, 8]] {
            vfio_mig_fuzz_targets::run(target, data);
        }
    }
}

/// The resume corpus starts from one stream the mock accepts whole and two
/// it must refuse (V2-STREAM-006), so the fuzzer mutates from both sides of
/// the line.
#[test]
fn the_resume_seeds_are_one_valid_stream_and_two_broken_ones() {
    use vfio_mig_device::v2::Call;
    use vfio_mig_device::{Device, Io};
    use vfio_mig_mock::{MockConfig, MockV2};
    use vfio_mig_model::v2::{FdRef, MigState, MigrationFlags, Outcome};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/resume_stream");
    for (name, accepted) in [
        ("whole-stream", true),
        ("corrupted-stream", false),
        ("truncated-stream", false),
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let mut config = MockConfig::v2(MigrationFlags::accepted()[0]);
        config.state_len = 16;
        let mut dev = MockV2::new(config, 1);
        let mut io = Io::default();
        assert_eq!(
            dev.exec(&Call::SetState(MigState::Resuming.number()), &mut io),
            Outcome::SetOk { fd: true }
        );
        io.write = bytes.clone();
        let write = Call::Write {
            fd: FdRef(0),
            len: bytes.len() as u32,
        };
        assert_eq!(dev.exec(&write, &mut io), Outcome::Bytes(bytes.len() as u32));
        let stop = dev.exec(&Call::SetState(MigState::Stop.number()), &mut Io::default());
        assert_eq!(stop == (Outcome::SetOk { fd: false }), accepted, "{name}: {stop}");
    }
}

/// The `model` target draws profiles from the generated decision options,
/// not from the YAML: they must be exactly the catalogue's.
#[test]
fn the_model_target_knows_every_option_of_the_catalogue() {
    let catalogue = vfio_mig_spec::Catalogue::builtin().unwrap();
    let from_yaml: Vec<Vec<(String, String)>> = catalogue
        .decisions
        .decisions
        .iter()
        .map(|d| {
            let mut keys: Vec<_> = d.options.keys().map(|k| (d.id.to_string(), k.clone())).collect();
            keys.sort();
            keys
        })
        .collect();
    let generated: Vec<Vec<(String, String)>> = vfio_mig_fuzz_targets::decision_options()
        .iter()
        .map(|options| {
            let mut keys: Vec<_> = options
                .iter()
                .map(|c| (c.id().to_owned(), c.key().to_owned()))
                .collect();
            keys.sort();
            keys
        })
        .collect();
    assert_eq!(generated, from_yaml);
}

fn seed(target: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The trace seeds: traces the checker judges to their end, traces with a
/// violation (lengths up to the largest u32 among them, judged as numbers),
/// and texts it refuses, so the fuzzer starts on both sides of each line.
#[test]
fn the_trace_seeds_are_judged_as_named() {
    use vfio_mig_model::{Profile, ProtocolName};
    let check =
        |name: &str| vfio_mig_trace::check(&seed("trace_checker", name), Profile::defaults(ProtocolName::V2));
    // A length above u32::MAX is judged as u32::MAX (the most a call may
    // move), so a trace with one reads to its end.
    for name in [
        "save-stop-copy",
        "resume-then-run",
        "precopy-with-errno",
        "len-beyond-u32",
    ] {
        let c = check(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(c.violation, None, "{name}");
    }
    for name in ["huge-lengths", "garbage-accepted"] {
        let c = check(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(c.violation.is_some(), "{name}: {c:?}");
    }
    for name in [
        "unknown-op",
        "missing-field",
        "other-format",
        "bad-flags",
        "truncated",
    ] {
        assert!(check(name).is_err(), "{name} was read as a trace");
    }
}

/// The deviations seeds: lists the loader takes and lists it refuses.
#[test]
fn the_deviations_seeds_are_loaded_or_refused_as_named() {
    let catalogue = vfio_mig_spec::Catalogue::builtin().unwrap();
    let parse = |name: &str| vfio_mig_report::parse_deviations(&seed("deviations_loader", name), &catalogue);
    for (name, entries) in [
        ("mtty", 3),
        ("one-entry", 1),
        ("flow-and-alias", 2),
        ("empty-list", 0),
    ] {
        let list = parse(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(list.len(), entries, "{name}");
    }
    for name in [
        "listed-twice",
        "no-such-requirement",
        "blank-reason",
        "unknown-field",
        "not-a-list",
    ] {
        assert!(parse(name).is_err(), "{name} was accepted");
    }
}

/// The baseline seeds: two reports that load and texts that do not (a
/// report of the earlier schema among them);
/// the first is also what the structure-aware inputs splice into.
#[test]
fn the_baseline_seeds_load_or_not_as_named() {
    let load = |name: &str| vfio_mig_report::Report::from_json(&seed("baseline_loader", name));
    for name in ["report-v2", "report-v1-minimal"] {
        load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for name in [
        "report-schema-1",
        "truncated",
        "schema-as-string",
        "duplicate-field",
        "unknown-status",
    ] {
        assert!(load(name).is_err(), "{name} was loaded");
    }
}
