//! `reports/mock/` is the committed reference report of the mock; this test
//! regenerates it and compares, timings aside. After an intended change,
//! regenerate it with
//! `cargo run -p vfio-mig-conformance -- run --no-timings --report-dir reports/mock`.

use std::path::Path;
use vfio_mig_cli::cmd::run::reference_mock_report;
use vfio_mig_report::{self as report, Report, ReqStatus};
use vfio_mig_spec::Catalogue;

fn committed(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../reports/mock")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn same(name: &str, want: &str, got: &str) {
    if want == got {
        return;
    }
    let line = want
        .lines()
        .zip(got.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(want.lines().count().min(got.lines().count()));
    panic!(
        "reports/mock/{name} is stale: first difference at line {}\n  committed: {:?}\n  now:       {:?}\nregenerate with `cargo run -p vfio-mig-conformance -- run --no-timings --report-dir reports/mock` and review the diff",
        line + 1,
        want.lines().nth(line).unwrap_or(""),
        got.lines().nth(line).unwrap_or("")
    );
}

#[test]
fn committed_mock_report_is_current() {
    let catalogue = Catalogue::builtin().unwrap();
    let now = reference_mock_report(&catalogue).without_timings();
    let was = Report::from_json(&committed("report.json")).unwrap();
    assert_eq!(
        was.without_timings(),
        now.without_timings(),
        "reports/mock/report.json is stale"
    );
    same("report.md", &committed("report.md"), &report::markdown(&now));
    same("junit.xml", &committed("junit.xml"), &report::junit_xml(&now));
    same("report.ktap", &committed("report.ktap"), &report::ktap(&now));
    same(
        "states.dot",
        &committed("states.dot"),
        &report::dot(&now).unwrap(),
    );
}

#[test]
fn correct_mock_report_has_no_failure_and_shows_its_gaps() {
    let catalogue = Catalogue::builtin().unwrap();
    let r = reference_mock_report(&catalogue);
    assert!(!r.failed());
    assert_eq!((r.summary.fail, r.summary.warn), (0, 0));
    // Requirements no check reaches are listed, not hidden.
    let md = report::markdown(&r);
    assert!(md.contains("Requirements no check exercised: "), "{md}");
    // Every PASS rests on checks that exercised it; every requirement that
    // is not covered or not applicable says why.
    for req in &r.requirements {
        match req.status {
            ReqStatus::Pass => assert!(!req.checks.is_empty(), "{} passes with no check", req.id),
            ReqStatus::NotCovered | ReqStatus::Skip => {
                assert!(
                    req.reason.as_deref().is_some_and(|w| !w.is_empty()),
                    "{} has no reason",
                    req.id
                )
            }
            other => panic!("{} is {} on the correct mock", req.id, other.as_str()),
        }
    }
    assert!(r.complete && r.stopped.is_none());
}
