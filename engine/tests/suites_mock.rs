//! The suites against the mock: the correct mock passes every check, and
//! every mutant is caught by a check that names the requirement it breaks.

mod common;

use common::{options, render, run, run_with};
use vfio_mig_engine::check::Status;
use vfio_mig_engine::verdict::Verdict;
use vfio_mig_mock::{MockConfig, Mutant, MUTANTS};
use vfio_mig_model::v2::MigrationFlags;
use vfio_mig_model::ProtocolName;

fn assert_all_pass(verdicts: &[Verdict]) {
    let bad: Vec<String> = verdicts
        .iter()
        .filter(|v| matches!(v.status, Status::Fail | Status::Warn))
        .map(render)
        .collect();
    assert!(
        bad.is_empty(),
        "the correct mock failed {} checks:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert!(verdicts.iter().any(|v| v.status == Status::Pass));
}

#[test]
fn correct_mock_passes_every_v2_suite_for_every_flag_set() {
    for flags in MigrationFlags::accepted() {
        assert_all_pass(&run(MockConfig::v2(flags), ProtocolName::V2));
    }
}

#[test]
fn correct_mock_passes_with_empty_and_large_streams() {
    let all = MigrationFlags::accepted()[3];
    for state_len in [0usize, 4 << 20] {
        let mut c = MockConfig::v2(all);
        c.state_len = state_len;
        let mut o = options();
        o.sequences.cases = 8;
        o.depth = 2;
        // Odd chunk sizes are covered with ordinary streams; a 4 MiB stream
        // read 7 bytes at a time would only cost time.
        o.chunks = vec![(1 << 20, 1 << 20), (4096, 65536)];
        let v = run_with(c, ProtocolName::V2, &o);
        assert_all_pass(&v);
    }
}

#[test]
fn correct_mock_passes_every_v1_suite() {
    assert_all_pass(&run(MockConfig::v1(), ProtocolName::V1));
}

#[test]
fn every_mutant_is_caught_naming_the_requirement_it_breaks() {
    assert!(MUTANTS.len() >= 20, "the catalogue needs at least 20 mutants");
    let mut missed = Vec::new();
    for m in Mutant::all() {
        let mut config = match m.protocol() {
            ProtocolName::V2 => MockConfig::v2(m.flags().unwrap_or(MigrationFlags::accepted()[3])),
            ProtocolName::V1 => MockConfig::v1(),
        };
        config.mutant = Some(m);
        let verdicts = run(config, m.protocol());
        let caught = verdicts.iter().any(|v| {
            matches!(v.status, Status::Fail | Status::Warn) && m.breaks().iter().any(|r| v.breaks(*r))
        });
        if !caught {
            let seen: Vec<String> = verdicts
                .iter()
                .filter(|v| matches!(v.status, Status::Fail | Status::Warn))
                .map(|v| format!("{} [{}]", v.name, vfio_mig_model::join_ids(&v.broken, ", ")))
                .take(5)
                .collect();
            missed.push(format!(
                "{} (breaks {:?}); failing checks seen: {seen:?}",
                m.name(),
                m.breaks()
            ));
        }
    }
    assert!(
        missed.is_empty(),
        "mutants not caught by a check naming their requirement:\n{}",
        missed.join("\n")
    );
}
