//! JUnit XML: one test case per requirement, for CI dashboards.

use super::{Report, ReqStatus};
use quick_junit::{NonSuccessKind, Property, Report as JReport, TestCase, TestCaseStatus, TestSuite};

/// The report as JUnit XML. Each requirement is a test case named by its ID
/// with class `vfio-mig.<protocol>.<area>`; a failure carries the
/// requirement's text as message and the failing checks (what was allowed,
/// what was observed, the trace) as description; a missed SHOULD passes with
/// that evidence in system-out; SKIP, NOT COVERED and known deviations are
/// skipped with the reason. A run that stopped before its plan was done
/// adds a test case `run` with an error. The layout validates against
/// `reports/junit.xsd`.
pub fn junit_xml(report: &Report) -> String {
    let t = &report.target;
    let mut suite = TestSuite::new(
        format!("{} {} {}", t.device, t.protocol, t.flags)
            .trim()
            .to_owned(),
    );
    suite.add_property(Property::new("device", t.device.as_str()));
    suite.add_property(Property::new("protocol", t.protocol.as_str()));
    suite.add_property(Property::new("flags", t.flags.as_str()));
    for r in &report.requirements {
        let failing: Vec<String> = r
            .failures
            .iter()
            .filter_map(|name| report.checks.iter().find(|c| &c.name == name))
            .map(|c| {
                let mut text = format!("{}: {}\n  {}\n", c.name, c.detail, c.trace.join("\n  "));
                if !c.timeline.is_empty() {
                    text.push_str(&format!("  {}\n", c.timeline.join("\n  ")));
                }
                text
            })
            .collect();
        let text = format!("{} {}: {}", r.status.as_str(), r.level, r.summary);
        let mut status = match (r.status, &r.deviation) {
            (ReqStatus::Pass | ReqStatus::Warn, _) => TestCaseStatus::success(),
            (ReqStatus::Fail, None) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_type("FAIL");
                s
            }
            // A known deviation, or nothing to run: skipped, with the reason.
            (ReqStatus::Fail, Some(_)) | (ReqStatus::Skip | ReqStatus::NotCovered | ReqStatus::NotRun, _) => {
                TestCaseStatus::skipped()
            }
        };
        match r.status {
            ReqStatus::Pass | ReqStatus::Warn => {}
            _ => {
                let why = r
                    .deviation
                    .as_ref()
                    .map(|d| format!(" (known deviation: {d})"))
                    .unwrap_or_default();
                status.set_message(format!("{text}{why}"));
                let mut description = r.reason.clone().unwrap_or_default();
                description.push_str(&failing.concat());
                if !description.is_empty() {
                    status.set_description(description);
                }
            }
        }
        let area = r.id.split('-').nth(1).unwrap_or("");
        let mut case = TestCase::new(r.id.as_str(), status);
        case.set_classname(format!("vfio-mig.{}.{}", t.protocol, area));
        if r.status == ReqStatus::Warn {
            // A missed SHOULD passes, with the evidence on the side.
            case.set_system_out(format!("{text}\n{}", failing.concat()));
        }
        suite.add_test_case(case);
    }
    if let Some(stop) = &report.stopped {
        // The run itself did not complete: an error, not a requirement's
        // failure.
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_type("STOPPED");
        status.set_message(stop.headline());
        status.set_description(format!("the check that stopped the run: {}", stop.check));
        let mut case = TestCase::new("run", status);
        case.set_classname(format!("vfio-mig.{}.run", t.protocol));
        suite.add_test_case(case);
    }
    let mut out = JReport::new("vfio-mig-conformance");
    out.add_test_suite(suite);
    out.to_string().expect("a report always serialises as XML")
}
