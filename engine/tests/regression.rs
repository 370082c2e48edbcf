//! A failing check's reproducer is a test that can be pasted and run.

mod common;

use vfio_mig_engine::check::Status;
use vfio_mig_engine::regression;
use vfio_mig_engine::verdict::SuiteId;
use vfio_mig_mock::{MockConfig, MockFactory, Mutant};
use vfio_mig_model::reqs::{V2_ARC_007, V2_STATE_004};
use vfio_mig_model::v2::{MigState, MigrationFlags, Op, Outcome};
use vfio_mig_model::ProtocolName;

fn config(mutant: Option<Mutant>) -> MockConfig {
    let mut config = MockConfig::v2(MigrationFlags::accepted()[3]);
    config.mutant = mutant;
    config
}

fn factory(mutant: Option<Mutant>) -> MockFactory {
    MockFactory {
        config: config(mutant),
    }
}

#[test]
fn a_failing_arc_check_carries_a_paste_ready_test() {
    let verdicts = common::run_suites(
        config(Some(Mutant::AcceptsBlockedArc)),
        ProtocolName::V2,
        &common::options(),
        &[SuiteId::Arcs],
    );
    let v = verdicts
        .iter()
        .find(|v| v.status == Status::Fail && v.name.ends_with("STOP_COPY->PRE_COPY"))
        .expect("the blocked arc is caught");
    assert_eq!(v.broken, [V2_ARC_007]);
    let r = regression::reproducer(&v.name, &v.trace).expect("a failure has a reproducer");
    assert!(
        r.starts_with("#[test]\nfn regression_v2_stop_copy_p2p_pre_copy_arc_stop_copy_pre_copy()"),
        "{r}"
    );
    assert!(
        r.contains("        Set(StopCopy), // observed: ok with data fd\n"),
        "{r}"
    );
    assert!(
        r.contains("        Set(PreCopy), // observed: ok, no data fd\n"),
        "{r}"
    );
    assert!(
        r.contains("vfio_mig_engine::regression::check_v2(&factory(), &ops)"),
        "{r}"
    );
}

/// The reproducer above, pasted: it fails on the mutant and passes on the
/// correct mock.
#[test]
fn the_pasted_reproducer_replays_the_failure() {
    use vfio_mig_model::v2::{MigState::*, Op::*};
    let ops = [Set(StopCopy), Set(PreCopy)];
    let failure = regression::check_v2(&factory(Some(Mutant::AcceptsBlockedArc)), &ops).unwrap_err();
    assert_eq!(failure.reqs, [V2_ARC_007]);
    regression::check_v2(&factory(None), &ops).unwrap();
}

#[test]
fn a_failing_sequence_shrinks_to_its_minimal_trace() {
    let verdicts = common::run_suites(
        config(Some(Mutant::DriftsByItself)),
        ProtocolName::V2,
        &vfio_mig_engine::suites::Options::default(),
        &[SuiteId::Sequences],
    );
    let v = &verdicts[0];
    assert_eq!(v.status, Status::Fail);
    assert!(v.broken.contains(&V2_STATE_004), "{:?}", v.broken);
    // Two GETs are the shortest sequence that shows a device moving by itself.
    assert_eq!(
        v.trace.v2_pairs(),
        [
            (Op::Get, Outcome::State(MigState::Running.number())),
            (Op::Get, Outcome::State(MigState::Stop.number()))
        ]
    );
}
