//! How a race the model cannot explain reaches the reports: the timeline in
//! Markdown, JSON and JUnit, no one-thread reproducer, and nothing of it in
//! a report written without timings (V2-CONC-001, V2-CONC-005).

use vfio_mig_engine::check::Status;
use vfio_mig_engine::suites::{self, Options};
use vfio_mig_engine::verdict::{SuiteId, Verdict};
use vfio_mig_mock::{MockConfig, MockFactory, Mutant};
use vfio_mig_model::reqs::{V2_CONC_001, V2_CONC_005};
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::{Profile, ProtocolName};
use vfio_mig_report::{junit_xml, markdown, CheckResult, Report};
use vfio_mig_spec::Catalogue;

fn races(mutant: Option<Mutant>) -> Vec<Verdict> {
    let mut config = MockConfig::v2(MigrationFlags::accepted()[3]);
    config.mutant = mutant;
    suites::run_suites::<Fsm>(
        &MockFactory { config },
        Profile::defaults(ProtocolName::V2),
        &Options::default(),
        &[SuiteId::Concurrency],
    )
}

fn report(verdicts: &[Verdict]) -> Report {
    Report::build(
        &Catalogue::builtin().unwrap(),
        &Profile::defaults(ProtocolName::V2),
        "mock",
        Some(MigrationFlags::accepted()[3]),
        Default::default(),
        verdicts,
    )
}

#[test]
fn a_path_seen_from_outside_is_drawn_as_a_timeline() {
    let verdicts = races(Some(Mutant::SetPathNotAtomic));
    let v = verdicts
        .iter()
        .find(|v| v.name.ends_with("concurrency/gets-during-set"))
        .unwrap();
    assert_eq!(v.status, Status::Fail, "{}", v.detail);
    assert!(
        v.broken.contains(&V2_CONC_001) && v.broken.contains(&V2_CONC_005),
        "{:?}",
        v.broken
    );
    let c = CheckResult::from(v);
    assert!(c.reproducer.is_none() && c.c_reproducer.is_none());
    // The witness: the SET and a GET inside it that could not be placed.
    assert!(
        c.timeline.iter().any(|l| l.contains("SET STOP_COPY")),
        "{:?}",
        c.timeline
    );
    assert!(c
        .timeline
        .iter()
        .any(|l| l.starts_with('!') && l.contains("GET state")));
    let r = report(&verdicts);
    let md = markdown(&r);
    assert!(
        md.contains("A smaller history no order of whose calls the model allows"),
        "{md}"
    );
    assert!(junit_xml(&r).contains("The longest order the model allows"));
    let quiet = r.without_timings();
    assert!(quiet.checks.iter().all(|c| c.timeline.is_empty()));
    assert!(!markdown(&quiet).contains("from..to (us)"));
}

#[test]
fn the_correct_mock_races_without_a_failure() {
    let verdicts = races(None);
    assert_eq!(verdicts.len(), 5);
    for v in &verdicts {
        assert_eq!(v.status, Status::Pass, "{}: {}", v.name, v.detail);
        assert!(v.reqs.contains(&V2_CONC_001));
        let observed = v.concurrency.as_ref().expect("the calls made at once are kept");
        assert!(observed.history.threads().len() >= 2, "{}", v.name);
        assert!(
            CheckResult::from(v).timeline.is_empty(),
            "passing checks draw nothing"
        );
    }
}
