//! Shared test support: running the suites against the mock.
#![allow(dead_code)]

pub mod par;

use vfio_mig_engine::check::Status;
use vfio_mig_engine::suites::{self, Options};
use vfio_mig_engine::verdict::{SuiteId, Verdict};
use vfio_mig_mock::{MockConfig, MockFactory};
use vfio_mig_model::v1::Region;
use vfio_mig_model::v2::Fsm;
use vfio_mig_model::{Profile, ProtocolName};

/// Default options with fewer random sequences.
pub fn options() -> Options {
    let mut o = Options::default();
    o.sequences.cases = 32;
    // A mutant that never answers ends its run within two seconds (a
    // correct mock answers in microseconds, even on a loaded machine).
    o.timeout = std::time::Duration::from_secs(2);
    o
}

/// Every catalogued mutant under every configuration it declares (each of
/// its flag sets for v2), with the correct mock's configuration.
pub fn mutant_runs() -> Vec<(&'static vfio_mig_mock::MutantInfo, MockConfig)> {
    vfio_mig_mock::MUTANTS
        .iter()
        .flat_map(|m| {
            let configs: Vec<MockConfig> = match m.protocol {
                ProtocolName::V2 => m.mutant.flag_sets().map(MockConfig::v2).collect(),
                ProtocolName::V1 => vec![MockConfig::v1()],
            };
            configs.into_iter().map(move |c| (m, c))
        })
        .collect()
}

/// Every suite against the mock configured by `config`.
pub fn run_with(config: MockConfig, protocol: ProtocolName, opts: &Options) -> Vec<Verdict> {
    run_suites(config, protocol, opts, &SuiteId::RUN)
}

/// `suites` against the mock configured by `config`.
pub fn run_suites(
    config: MockConfig,
    protocol: ProtocolName,
    opts: &Options,
    which: &[SuiteId],
) -> Vec<Verdict> {
    let factory = MockFactory { config };
    let profile = Profile::defaults(protocol);
    match protocol {
        ProtocolName::V2 => suites::run_suites::<Fsm>(&factory, profile, opts, which),
        ProtocolName::V1 => suites::run_suites::<Region>(&factory, profile, opts, which),
    }
}

/// Every suite against the mock with [`options`].
pub fn run(config: MockConfig, protocol: ProtocolName) -> Vec<Verdict> {
    run_with(config, protocol, &options())
}

/// A verdict for a failure message.
pub fn render(v: &Verdict) -> String {
    format!(
        "{} {} [{}]: {}\n  {:?}",
        v.status.as_str(),
        v.name,
        vfio_mig_model::join_ids(&v.broken, ", "),
        v.detail,
        v.trace
    )
}

/// The verdicts that failed or warned.
pub fn failing(verdicts: &[Verdict]) -> Vec<&Verdict> {
    verdicts
        .iter()
        .filter(|v| matches!(v.status, Status::Fail | Status::Warn))
        .collect()
}
