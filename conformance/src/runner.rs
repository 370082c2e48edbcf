//! One whole run: every suite against one device, turned into a report.

#[cfg(feature = "adapter-mock")]
use crate::mock::{MockConfig, MockFactory};
#[cfg(feature = "adapter-mock")]
use crate::report::Report;
use crate::suites::SuiteId;
#[cfg(feature = "adapter-mock")]
use crate::suites::{self, Options};
use crate::verdict::Verdict;
#[cfg(feature = "adapter-mock")]
use vfio_mig_model::{Profile, ProtocolKind};
#[cfg(feature = "adapter-mock")]
use vfio_mig_spec::{Catalogue, ProtocolName};

/// Runs the suites one at a time, calling `progress` before each; stops
/// early when the device could not be opened or restored.
pub fn run_suites(
    run_one: &mut dyn FnMut(SuiteId) -> Vec<Verdict>,
    progress: &mut dyn FnMut(SuiteId),
) -> Vec<Verdict> {
    let mut out = Vec::new();
    for suite in SuiteId::ALL {
        progress(suite);
        let verdicts = run_one(suite);
        let stop = verdicts.iter().any(|v| v.suite == "setup" || v.halts);
        out.extend(verdicts);
        if stop {
            break;
        }
    }
    out
}

#[cfg(feature = "adapter-mock")]
/// Every suite against the mock configured by `config`, judged under
/// `profile`, as the `run` command does it.
pub fn mock_run(
    kind: ProtocolKind,
    profile: Profile,
    config: MockConfig,
    opts: &Options,
    progress: &mut dyn FnMut(SuiteId),
) -> Vec<Verdict> {
    let factory = MockFactory { config };
    run_suites(
        &mut |s| match kind {
            ProtocolKind::V2 => suites::run_v2_suites(&factory, profile, opts, &[s]),
            ProtocolKind::V1 => suites::run_v1_suites(&factory, profile, opts, &[s]),
        },
        progress,
    )
}

#[cfg(feature = "adapter-mock")]
/// The report of the default mock run: v2, all flags, default options. This
/// is what `reports/mock/` holds.
pub fn reference_mock_report(catalogue: &Catalogue) -> Report {
    let flags = vfio_mig_model::v2::MigrationFlags::accepted()[3];
    let verdicts = mock_run(
        ProtocolKind::V2,
        Profile::defaults(ProtocolKind::V2),
        MockConfig::v2(flags),
        &Options::default(),
        &mut |_| {},
    );
    Report::build(catalogue, ProtocolName::V2, "mock", Some(flags), &verdicts)
        .with_not_applicable(crate::device::Transport::KernelFd.not_applicable())
}
