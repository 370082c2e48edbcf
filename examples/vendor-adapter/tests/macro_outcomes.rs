//! What the one-macro harness does for a vendor: with no device named every
//! suite is reported ignored with the reason; with one, every suite runs,
//! and the concurrency suite, which this device cannot take part in (it
//! offers no shared handle), is reported ignored with that reason.

use vendor_adapter_example::VendorFactory;
use vfio_mig_engine::harness::{self, Counts};
use vfio_mig_engine::suites::Options;

#[test]
fn unconfigured_device_is_reported_ignored_not_passed() {
    let c = harness::run_v2(VendorFactory::named(None), Options::default());
    assert_eq!(
        c,
        Counts {
            passed: 0,
            failed: 0,
            ignored: 6
        }
    );
}

#[test]
fn configured_device_runs_every_suite() {
    let mut opts = Options::default();
    opts.sequences.cases = 8;
    opts.depth = 2;
    let c = harness::run_v2(VendorFactory::named(Some("demo".into())), opts);
    assert_eq!(
        c,
        Counts {
            passed: 5,
            failed: 0,
            ignored: 1
        }
    );
}
