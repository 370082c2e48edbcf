//! The suites against the mock: the complete default run, each suite alone,
//! and bounded exhaustive exploration of every flag combination to depth 4, 6
//! and 8.
// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;
use vfio_mig_conformance::device::DeviceFactory;
use vfio_mig_conformance::mock::{MockConfig, MockFactory};
use vfio_mig_conformance::runner;
use vfio_mig_conformance::suites::{self, explore, Options, SuiteId};
use vfio_mig_conformance::target::Target;
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::{Profile, ProtocolKind};

fn full_run(c: &mut Criterion) {
    let mut g = c.benchmark_group("suites");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let flags = MigrationFlags::accepted()[3];
    let profile = Profile::defaults(ProtocolKind::V2);
    let opts = Options::default();
    g.bench_function("full-mock-run", |b| {
        b.iter(|| {
            runner::mock_run(
                ProtocolKind::V2,
                profile,
                MockConfig::v2(flags),
                &opts,
                &mut |_| {},
            )
        })
    });
    let factory = MockFactory {
        config: MockConfig::v2(flags),
    };
    for suite in SuiteId::ALL {
        g.bench_function(suite.name(), |b| {
            b.iter(|| suites::run_v2_suites(&factory, profile, &opts, &[suite]))
        });
    }
    g.finish();
}

fn exploration(c: &mut Criterion) {
    let mut g = c.benchmark_group("explore");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let profile = Profile::defaults(ProtocolKind::V2);
    for depth in [4usize, 6, 8] {
        g.bench_function(format!("all-flags-depth-{depth}"), |b| {
            b.iter(|| {
                let mut beliefs = 0;
                for flags in MigrationFlags::accepted() {
                    let factory = MockFactory {
                        config: MockConfig::v2(flags),
                    };
                    let mut dev = factory.open(0).expect("the mock opens");
                    let model = Fsm::model(&dev.describe(), profile);
                    beliefs += explore::run(&model, dev.as_mut(), depth, 8).1.beliefs;
                }
                black_box(beliefs)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, full_run, exploration);
criterion_main!(benches);
