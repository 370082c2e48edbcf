//! JUnit XML: one test case per requirement, for CI dashboards.

use super::{Report, ReqStatus};
use quick_junit::{NonSuccessKind, Property, Report as JReport, TestCase, TestCaseStatus, TestSuite};

/// The report as JUnit XML. Each requirement is a test case named by its ID
/// with class `vfio-mig.<protocol>.<area>`; failures carry the requirement
/// text as message and the failing checks (what was allowed, what was
/// observed, the trace) as description.
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
        let mut status = match r.status {
            ReqStatus::Pass => TestCaseStatus::success(),
            ReqStatus::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
            ReqStatus::Warn | ReqStatus::Skip | ReqStatus::NotCovered => TestCaseStatus::skipped(),
        };
        if r.status != ReqStatus::Pass {
            status.set_message(format!("{} {}: {}", r.status.as_str(), r.level, r.summary));
            status.set_type(r.status.as_str());
            let mut description = r.reason.clone().unwrap_or_default();
            for name in &r.failures {
                if let Some(c) = report.checks.iter().find(|c| &c.name == name) {
                    description.push_str(&format!(
                        "\n{}: {}\n  {}\n",
                        c.name,
                        c.detail,
                        c.trace.join("\n  ")
                    ));
                }
            }
            if !description.is_empty() {
                status.set_description(description);
            }
        }
        let area = r.id.split('-').nth(1).unwrap_or("");
        let mut case = TestCase::new(r.id.as_str(), status);
        case.set_classname(format!("vfio-mig.{}.{}", t.protocol, area));
        case.add_property(Property::new("requirement", r.id.as_str()));
        case.add_property(Property::new("level", r.level.as_str()));
        case.add_property(Property::new("checks", r.checks.len().to_string()));
        suite.add_test_case(case);
    }
    let mut out = JReport::new("vfio-mig-conformance");
    out.add_test_suite(suite);
    out.to_string().expect("a report always serialises as XML")
}
