//! Shared test support: every v2 suite against the mock.
#![allow(dead_code)]

use vfio_mig_engine::suites::{self, Options};
use vfio_mig_engine::verdict::{SuiteId, Verdict};
use vfio_mig_mock::{MockConfig, MockFactory};
use vfio_mig_model::v2::Fsm;
use vfio_mig_model::{Profile, ProtocolName};

/// Every v2 suite against the mock configured by `config`, default options.
pub fn run_v2(config: MockConfig) -> Vec<Verdict> {
    suites::run_suites::<Fsm>(
        &MockFactory { config },
        Profile::defaults(ProtocolName::V2),
        &Options::default(),
        &SuiteId::RUN,
    )
}
