//! The suites are not vacuous: on the mock every "sometimes" property is
//! seen, and a device that refuses to resume leaves one unseen, which the
//! report says.

mod common;

use vfio_mig_mock::{MockConfig, Mutant};
use vfio_mig_model::v2::MigrationFlags;
use vfio_mig_report::sometimes;

fn seen(config: MockConfig) -> Vec<(&'static str, bool)> {
    let verdicts = common::run_v2(config);
    sometimes::v2(&verdicts)
        .into_iter()
        .map(|s| (s.what, s.seen))
        .collect()
}

#[test]
fn every_property_is_seen_on_the_mock() {
    let all = seen(MockConfig::v2(MigrationFlags::accepted()[3]));
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|(_, s)| *s), "{all:?}");
    // Without PRE_COPY there is no pre-copy to leave.
    let sc = seen(MockConfig::v2(MigrationFlags::STOP_COPY));
    assert!(!sc[1].1 && sc[0].1 && sc[2].1, "{sc:?}");
}

#[test]
fn a_device_that_never_resumes_leaves_a_property_unseen() {
    let mut c = MockConfig::v2(MigrationFlags::accepted()[3]);
    c.mutant = Some(Mutant::RefusesMandatoryArc);
    let props = seen(c);
    let resume = props
        .iter()
        .find(|(w, _)| w.contains("not a saved stream"))
        .unwrap();
    assert!(!resume.1, "{props:?}");
}
