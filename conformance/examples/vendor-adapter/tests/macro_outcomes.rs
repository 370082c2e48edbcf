//! What the one-macro harness does for a vendor: with no device named every
//! suite is reported ignored with the reason; with one, every suite runs.

use libtest_mimic::Arguments;
use std::sync::Arc;
use vendor_adapter_example::VendorFactory;
use vfio_mig_conformance::harness;
use vfio_mig_conformance::ProtocolKind;

fn args() -> Arguments {
    Arguments {
        test_threads: Some(1),
        quiet: true,
        ..Arguments::default()
    }
}

#[test]
fn unconfigured_device_is_reported_ignored_not_passed() {
    let factory = Arc::new(VendorFactory::named(None));
    let trials = harness::trials_v2(
        "v2",
        factory,
        harness::default_profile(ProtocolKind::V2),
        Default::default(),
    );
    let n = trials.len();
    let c = libtest_mimic::run(&args(), trials);
    assert_eq!((c.num_passed, c.num_failed, c.num_ignored), (0, 0, n as u64));
}

#[test]
fn configured_device_runs_every_suite() {
    let factory = Arc::new(VendorFactory::named(Some("demo".into())));
    let mut opts = vfio_mig_conformance::suites::Options::default();
    opts.sequences.cases = 8;
    opts.depth = 2;
    let trials = harness::trials_v2("v2", factory, harness::default_profile(ProtocolKind::V2), opts);
    let n = trials.len();
    assert_eq!(n, 5);
    let c = libtest_mimic::run(&args(), trials);
    assert_eq!((c.num_passed, c.num_failed, c.num_ignored), (n as u64, 0, 0));
}
