//! Every JUnit file vfio-mig writes validates against `reports/junit.xsd`
//! (the layout CI systems read), for passing, failing, warning and
//! known-deviation runs.

use std::path::PathBuf;
use std::process::Command;
use vfio_mig_engine::suites::{self, Options};
use vfio_mig_engine::verdict::SuiteId;
use vfio_mig_mock::{MockConfig, MockFactory, Mutant};
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::{Profile, ProtocolName};
use vfio_mig_report::{self as report, Deviation, Report};
use vfio_mig_spec::Catalogue;

fn report_of(mutant: Option<Mutant>, flags_bits: u64) -> Report {
    let flags = MigrationFlags::new(flags_bits).unwrap();
    let mut config = MockConfig::v2(flags);
    config.mutant = mutant;
    let mut opts = Options::default();
    opts.sequences.cases = 32;
    let verdicts = suites::run_suites::<Fsm>(
        &MockFactory { config },
        Profile::defaults(ProtocolName::V2),
        &opts,
        &SuiteId::RUN,
    );
    Report::build(
        &Catalogue::builtin().unwrap(),
        &Profile::defaults(ProtocolName::V2),
        "mock",
        Some(flags),
        vfio_mig_model::Uapi::Linux7_3,
        &verdicts,
    )
}

fn samples() -> Vec<(&'static str, String)> {
    let mut deviated = report_of(Some(Mutant::SetErrorAccepted), 7);
    deviated.apply_deviations(&[Deviation {
        requirement: "V2-ARC-008".into(),
        reason: "known".into(),
    }]);
    vec![
        ("pass", report::junit_xml(&report_of(None, 7))),
        (
            "fail",
            report::junit_xml(&report_of(Some(Mutant::RefusesMandatoryArc), 7)),
        ),
        (
            "warn",
            report::junit_xml(&report_of(Some(Mutant::InitialBytesGrow), 5)),
        ),
        ("deviation", report::junit_xml(&deviated)),
    ]
}

#[test]
fn every_testcase_is_named_and_classed_and_failures_carry_the_rule() {
    for (name, xml) in samples() {
        let parsed =
            quick_junit::Report::deserialize_from_str(&xml).unwrap_or_else(|e| panic!("{name}: {e}"));
        for suite in &parsed.test_suites {
            for case in &suite.test_cases {
                assert!(!case.name.as_str().is_empty(), "{name}");
                assert!(
                    case.classname
                        .as_ref()
                        .is_some_and(|c| c.as_str().starts_with("vfio-mig.v2.")),
                    "{name}"
                );
            }
        }
        if name == "fail" {
            assert!(
                xml.contains("<failure message=\"FAIL MUST: Every device performs the direct arcs"),
                "{xml}"
            );
            assert!(xml.contains("allowed "), "the failure shows what was allowed");
        }
    }
}

#[test]
fn junit_validates_against_the_schema() {
    let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../reports/junit.xsd");
    if Command::new("xmllint").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install xmllint (libxml2-utils)"
        );
        eprintln!("SKIPPED junit_validates_against_the_schema: xmllint is not installed (apt-get install libxml2-utils)");
        return;
    }
    let root = tempfile::Builder::new()
        .prefix("vfio-mig-junit-")
        .tempdir()
        .unwrap();
    let dir = root.path();
    for (name, xml) in samples() {
        let file = dir.join(format!("{name}.xml"));
        std::fs::write(&file, xml).unwrap();
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The schema is not vacuous: a testcase without classname is refused.
    let bad = dir.join("bad.xml");
    std::fs::write(
        &bad,
        "<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"x\"/></testsuite></testsuites>",
    )
    .unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a testcase without classname must not validate"
    );
}
