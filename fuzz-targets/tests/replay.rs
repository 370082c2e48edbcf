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
