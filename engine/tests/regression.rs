//! A failing check's reproducer is a test that can be pasted and run, and
//! it reproduces: replayed on the device that failed, it fails with the same
//! requirement; replayed on a correct device, it passes.

mod common;

use vfio_mig_engine::check::Status;
use vfio_mig_engine::regression::{self, Step};
use vfio_mig_engine::trace::Trace;
use vfio_mig_engine::verdict::{SuiteId, Verdict};
use vfio_mig_mock::{MockConfig, MockFactory, Mutant};
use vfio_mig_model::reqs::{V2_ARC_007, V2_STATE_004, V2_STREAM_008};
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
    // V2-ARC-007.
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
        r.starts_with("#[test]\n#[allow(unused_imports)]\nfn regression_v2_stop_copy_p2p_pre_copy_arc_stop_copy_pre_copy()"),
        "{r}"
    );
    assert!(
        r.contains("        On(0, Set(StopCopy)), // observed: ok with data fd\n"),
        "{r}"
    );
    assert!(
        r.contains("        On(0, Set(PreCopy)), // observed: ok, no data fd\n"),
        "{r}"
    );
    assert!(
        r.contains("vfio_mig_engine::regression::check_v2(&factory(), &steps)"),
        "{r}"
    );
}

/// The reproducer above, pasted: it fails on the mutant and passes on the
/// correct mock (V2-ARC-007).
#[test]
fn the_pasted_reproducer_replays_the_failure() {
    use vfio_mig_engine::regression::Step::*;
    use vfio_mig_model::v2::{MigState::*, Op::*};
    let steps = [On(0, Set(StopCopy)), On(0, Set(PreCopy))];
    let failure = regression::check_v2(&factory(Some(Mutant::AcceptsBlockedArc)), &steps).unwrap_err();
    assert_eq!(failure.reqs, [V2_ARC_007]);
    regression::check_v2(&factory(None), &steps).unwrap();
}

#[test]
fn a_failing_sequence_shrinks_to_its_minimal_trace() {
    // V2-STATE-004.
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

/// A round trip's reproducer holds both instances: the source's save, the
/// destination's resume of the bytes the source gave, and the comparison
/// (V2-STREAM-008).
#[test]
fn a_round_trip_reproducer_saves_resumes_and_compares() {
    let verdicts = common::run_suites(
        config(Some(Mutant::StreamReordered)),
        ProtocolName::V2,
        &common::options(),
        &[SuiteId::Data],
    );
    let v = verdicts
        .iter()
        .find(|v| v.status == Status::Fail && v.broken.contains(&V2_STREAM_008))
        .expect("a reordered stream is caught by the state comparison");
    assert!(v.trace.two_instances());
    let steps = regression::v2_steps(&v.trace);
    assert!(matches!(steps.first(), Some(Step::On(0, _))), "{steps:?}");
    assert!(steps
        .iter()
        .any(|s| matches!(s, Step::OnWith(1, Op::Write { .. }, _))));
    assert!(steps
        .iter()
        .any(|s| matches!(s, Step::Same(_, _, r) if *r == V2_STREAM_008)));
    let r = regression::reproducer(&v.name, &v.trace).unwrap();
    assert!(r.contains("OnWith(1, Write {"), "{r}");
    assert!(r.contains("Saved { at: 0 }"), "{r}");
    assert!(
        r.contains("Same(Snap { instance: 0, nth: 0 }, Snap { instance: 1, nth: 0 }, V2_STREAM_008)"),
        "{r}"
    );
}

/// Whether `v` failed on state an earlier check left behind, which no
/// reproducer of `v` alone can bring back: an opt-in that outlives the
/// close of the device leaks into every later check; only the check that
/// makes the opt-in and closes the device shows the bug on its own.
fn leaked(m: Mutant, v: &Verdict) -> bool {
    m == Mutant::OptInSurvivesClose && !v.name.ends_with("/opt-in-after-close")
}

/// Whether replaying `trace` on `factory` fails naming one of `broken`.
fn reproduces(factory: &MockFactory, trace: &Trace, broken: &[vfio_mig_model::Req]) -> Result<(), String> {
    let result = match trace {
        Trace::V2(_) => regression::check_v2(factory, &regression::v2_steps(trace)),
        Trace::V1(_) => regression::check_v1(factory, &regression::v1_steps(trace)),
        Trace::Empty => return Err("no trace".into()),
    };
    match result {
        Err(f) if f.reqs.iter().any(|r| broken.contains(r)) => Ok(()),
        Err(f) => Err(format!("failed otherwise: {f}")),
        Ok(()) => Err("passed".into()),
    }
}

/// Every reproducer of every failing or warning check of every mutant, under
/// every flag set it declares, fails on that mutant naming one of the rules
/// the check broke, and passes on the correct mock of the same flags (every
/// requirement a mutant declares is thereby replayed).
#[test]
fn every_reproducer_of_every_mutant_reproduces_and_only_there() {
    let runs = common::mutant_runs();
    // Per run: the reproducers replayed and the problems found.
    let done = common::par::par_map(&runs, |(m, config)| {
        let mut problems = Vec::new();
        let mut replayed = 0;
        let mut bad = config.clone();
        bad.mutant = Some(m.mutant);
        let verdicts: Vec<Verdict> = common::run(bad.clone(), m.protocol);
        for v in verdicts.iter().filter(|v| {
            matches!(v.status, Status::Fail | Status::Warn)
                && !v.halts
                && !v.trace.is_empty()
                && v.replayable()
                && !leaked(m.mutant, v)
        }) {
            replayed += 1;
            let on = |c: &MockConfig| MockFactory { config: c.clone() };
            if let Err(e) = reproduces(&on(&bad), &v.trace, &v.broken) {
                problems.push(format!("{} {}: on the mutant: {e}", m.name, v.name));
            }
            let good = match &v.trace {
                Trace::V2(_) => regression::check_v2(&on(config), &regression::v2_steps(&v.trace)),
                _ => regression::check_v1(&on(config), &regression::v1_steps(&v.trace)),
            };
            if let Err(f) = good {
                problems.push(format!("{} {}: on the correct mock: {f}", m.name, v.name));
            }
        }
        (replayed, problems)
    });
    let replayed: usize = done.iter().map(|(n, _)| n).sum();
    let problems: Vec<String> = done.into_iter().flat_map(|(_, p)| p).collect();
    assert!(replayed > 100, "only {replayed} reproducers replayed");
    assert!(
        problems.is_empty(),
        "{} of {replayed} reproducers do not reproduce:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
