//! `report.ktap` read back by an independent reader of the format's rules
//! (`ktap_rules`), for passing, failing, warning, skipping, known-deviation,
//! stale, stopped and v1 runs: one test per suite with a subtest per check,
//! a last test per requirement, SKIP with its reason, requirement IDs in the
//! diagnostic lines, and a stopped run that bails out with its plan
//! unfinished.

mod ktap_rules;

use ktap_rules::{parse, Doc, Test};
use std::time::Duration;
use vfio_mig_engine::suites::{self, Options};
use vfio_mig_mock::{MockConfig, MockFactory, Mutant};
use vfio_mig_model::v1::Region;
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::{Profile, ProtocolName, Uapi};
use vfio_mig_report::{self as report, Deviation, Report, StopInfo};
use vfio_mig_spec::Catalogue;

fn options() -> Options {
    let mut opts = Options::default();
    opts.timeout = Duration::from_millis(300);
    opts.sequences.cases = 32;
    opts
}

fn report_of(mutant: Option<Mutant>, flags_bits: u64, opts: &Options) -> Report {
    let flags = MigrationFlags::new(flags_bits).unwrap();
    let mut config = MockConfig::v2(flags);
    config.mutant = mutant;
    let profile = Profile::defaults(ProtocolName::V2);
    let run = suites::run_all::<Fsm>(&MockFactory { config }, profile.clone(), opts, &mut |_| {});
    Report::build(
        &Catalogue::builtin().unwrap(),
        &profile,
        "mock",
        Some(flags),
        Uapi::Linux7_3,
        &run.verdicts,
    )
    .with_stop(run.stopped.as_ref().map(StopInfo::from))
}

/// The KTAP of `r`, read back; a broken rule fails the test with the line.
fn read(r: &Report) -> (String, Doc) {
    let text = report::ktap(r);
    let doc = parse(&text).unwrap_or_else(|e| panic!("not valid KTAP: {e}\n{text}"));
    (text, doc)
}

fn top<'a>(doc: &'a Doc, name: &str) -> &'a Test {
    doc.tests
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no top-level test {name}"))
}

fn subtest<'a>(doc: &'a Doc, name: &str) -> &'a Test {
    doc.tests
        .iter()
        .flat_map(|t| &t.subtests)
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no subtest {name}"))
}

#[test]
fn the_reader_knows_the_rules() {
    ktap_rules::self_test();
}

/// A passing run: every suite is a test, every check a subtest of its suite
/// in run order with the requirement IDs it exercised in its diagnostic
/// lines, and every requirement a subtest of `requirements` (NOT COVERED
/// and not applicable ones as SKIP with the reason). Covers the rendering
/// of V2-STATE-003 and V2-ARC-001 results among all others.
#[test]
fn a_passing_run_is_one_test_per_suite_and_a_subtest_per_check() {
    let r = report_of(None, 7, &options());
    let (_, doc) = read(&r);
    assert!(doc.bailed.is_none());
    assert_eq!(doc.tests.len(), doc.plan);
    for t in &doc.tests {
        assert!(t.ok, "{} fails on the correct mock", t.name);
    }
    let names: Vec<&str> = doc.tests.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names[..5], ["arcs", "sequences", "explore", "data", "faults"]);
    assert_eq!(names.last(), Some(&"requirements"));
    let subtests: usize = doc
        .tests
        .iter()
        .filter(|t| t.name != "requirements")
        .map(|t| t.subtests.len())
        .sum();
    assert_eq!(subtests, r.checks.len(), "one subtest per check");
    for c in &r.checks {
        let suite = top(&doc, &c.suite);
        let t = suite
            .subtests
            .iter()
            .find(|t| t.name == c.name.replace('#', "no."))
            .unwrap_or_else(|| panic!("{} is not a subtest of {}", c.name, c.suite));
        for id in &c.reqs {
            assert!(
                t.diags.iter().any(|d| d.contains(id.as_str())),
                "{}: {id} is not in its diagnostic lines {:?}",
                c.name,
                t.diags
            );
        }
    }
    let reqs = top(&doc, "requirements");
    assert_eq!(reqs.subtests.len(), r.requirements.len());
    for req in &r.requirements {
        let t = reqs.subtests.iter().find(|t| t.name == req.id).unwrap();
        match req.status.as_str() {
            "PASS" => assert!(t.ok && t.directive.is_none(), "{}", req.id),
            "SKIP" | "NOT COVERED" => {
                let (d, why) = t.directive.clone().expect("a SKIP directive");
                assert_eq!(d, "SKIP");
                assert!(
                    !why.is_empty() && why.contains(req.reason.as_deref().unwrap()),
                    "{why}"
                );
            }
            other => panic!("{} is {other} on the correct mock", req.id),
        }
    }
}

/// A failing check fails its suite and the `requirements` test, and its
/// diagnostic lines name the broken requirement (V2-ARC-001, refused by the
/// mutant) with what was observed.
#[test]
fn a_failure_names_the_broken_requirement_and_fails_its_suite() {
    let r = report_of(Some(Mutant::RefusesMandatoryArc), 7, &options());
    let (_, doc) = read(&r);
    let failing: Vec<_> = r.checks.iter().filter(|c| c.status == "FAIL").collect();
    assert!(!failing.is_empty());
    for c in failing {
        let t = subtest(&doc, &c.name);
        assert!(!t.ok, "{} passes in KTAP", c.name);
        assert!(
            t.diags
                .iter()
                .any(|d| d.starts_with("broken: ") && d.contains(c.broken[0].as_str())),
            "{:?}",
            t.diags
        );
        assert!(!top(&doc, &c.suite).ok);
    }
    let reqs = top(&doc, "requirements");
    assert!(!reqs.ok);
    let arc = reqs.subtests.iter().find(|t| t.name == "V2-ARC-001").unwrap();
    assert!(!arc.ok);
}

/// A missed SHOULD (V2-PRE-003) passes with a WARN diagnostic line, as in
/// JUnit; a check-level SKIP carries its reason (exploration of depth 0).
#[test]
fn a_missed_should_passes_with_a_warning_and_a_skip_says_why() {
    let mut opts = options();
    opts.depth = 0;
    let r = report_of(Some(Mutant::InitialBytesGrow), 5, &opts);
    let (_, doc) = read(&r);
    let warned = r.checks.iter().find(|c| c.status == "WARN").expect("a warning");
    let t = subtest(&doc, &warned.name);
    assert!(t.ok);
    assert!(
        t.diags
            .iter()
            .any(|d| d.starts_with("WARN") && d.contains("V2-PRE-003")),
        "{:?}",
        t.diags
    );
    let explore = top(&doc, "explore");
    assert_eq!(explore.subtests.len(), 1);
    let (d, why) = explore.subtests[0].directive.clone().expect("SKIP");
    assert_eq!(d, "SKIP");
    assert!(why.contains("depth 0"), "{why}");
    assert_eq!(explore.directive.as_ref().map(|d| d.0.as_str()), Some("SKIP"));
}

/// A known deviation (V2-ARC-008 on a device that accepts SET ERROR) is
/// XFAIL with its reason everywhere, so the KTAP passes as the run does; a
/// stale one fails the `requirements` test, as it fails the run.
#[test]
fn known_deviations_are_xfail_and_stale_ones_fail() {
    let known = Deviation {
        requirement: "V2-ARC-008".into(),
        reason: "firmware bug 17".into(),
    };
    let mut r = report_of(Some(Mutant::SetErrorAccepted), 7, &options());
    r.apply_deviations(std::slice::from_ref(&known));
    assert!(!r.failed());
    let (_, doc) = read(&r);
    for t in &doc.tests {
        assert!(t.ok, "{} fails although every failure is known", t.name);
    }
    let req = top(&doc, "requirements")
        .subtests
        .iter()
        .find(|t| t.name == "V2-ARC-008")
        .unwrap();
    let (d, why) = req.directive.clone().unwrap();
    assert_eq!(d, "XFAIL");
    assert!(why.contains("firmware bug 17"), "{why}");
    let check = r.checks.iter().find(|c| c.status == "FAIL").unwrap();
    assert_eq!(subtest(&doc, &check.name).directive.as_ref().unwrap().0, "XFAIL");

    let mut clean = report_of(None, 7, &options());
    clean.apply_deviations(&[known]);
    assert!(clean.failed());
    let (_, doc) = read(&clean);
    let reqs = top(&doc, "requirements");
    assert!(!reqs.ok);
    let stale = reqs.subtests.iter().find(|t| t.name == "V2-ARC-008").unwrap();
    assert!(!stale.ok && stale.diags.iter().any(|d| d.contains("known deviation")));
}

/// A run stopped by a call that never returned (V2-TIME-001): the check
/// that stopped it is `not ok` with ERROR and the cause, its suite fails,
/// and `Bail out!` ends the output with the plan unfinished.
#[test]
fn a_stopped_run_bails_out_with_its_plan_unfinished() {
    let r = report_of(Some(Mutant::HangsInSet), 5, &options());
    let stop = r.stopped.clone().expect("the run stopped");
    let (_, doc) = read(&r);
    let why = doc.bailed.as_deref().expect("Bail out!");
    assert!(why.contains("did not return within 300 ms"), "{why}");
    assert!(doc.tests.len() < doc.plan, "the plan is left unfinished");
    let last = doc.tests.last().unwrap();
    assert!(!last.ok);
    let t = subtest(&doc, &stop.check);
    assert!(!t.ok);
    let (d, cause) = t.directive.clone().unwrap();
    assert_eq!(d, "ERROR");
    assert!(cause.contains("300 ms"), "{cause}");
    assert!(doc.tests.iter().all(|t| t.name != "requirements"));
}

/// A v1 run has the same layout, without flags.
#[test]
fn a_v1_run_is_valid_ktap() {
    let profile = Profile::defaults(ProtocolName::V1);
    let run = suites::run_all::<Region>(
        &MockFactory {
            config: MockConfig::v1(),
        },
        profile.clone(),
        &options(),
        &mut |_| {},
    );
    let r = Report::build(
        &Catalogue::builtin().unwrap(),
        &profile,
        "mock",
        None,
        Uapi::Linux7_3,
        &run.verdicts,
    );
    let (text, doc) = read(&r);
    assert!(doc.tests.iter().all(|t| t.ok), "{text}");
    assert!(text.contains("V1-"), "{text}");
}
