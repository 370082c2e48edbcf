//! The suites against the mock: the complete default run, each suite alone,
//! and bounded exhaustive exploration of every flag combination to depth 4, 6
//! and 8.
// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;
use vfio_mig_engine::suites::{self, explore, Options};
use vfio_mig_engine::target::Target;
use vfio_mig_engine::verdict::SuiteId;
use vfio_mig_mock::{MockConfig, MockFactory};
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::{Profile, ProtocolName};

fn full_run(c: &mut Criterion) {
    let mut g = c.benchmark_group("suites");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let flags = MigrationFlags::accepted()[3];
    let profile = Profile::defaults(ProtocolName::V2);
    let opts = Options::default();
    g.bench_function("full-mock-run", |b| {
        b.iter(|| {
            let factory = MockFactory {
                config: MockConfig::v2(flags),
            };
            suites::run_all::<Fsm>(&factory, profile.clone(), &opts, &mut |_| {})
        })
    });
    let factory = MockFactory {
        config: MockConfig::v2(flags),
    };
    for suite in SuiteId::RUN {
        g.bench_function(suite.name(), |b| {
            b.iter(|| suites::run_suites::<Fsm>(&factory, profile.clone(), &opts, &[suite]))
        });
    }
    g.finish();
}

fn exploration(c: &mut Criterion) {
    let mut g = c.benchmark_group("explore");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let profile = Profile::defaults(ProtocolName::V2);
    for depth in [4usize, 6, 8] {
        g.bench_function(format!("all-flags-depth-{depth}"), |b| {
            b.iter(|| {
                let mut beliefs = 0;
                for flags in MigrationFlags::accepted() {
                    let mut dev = vfio_mig_bench::mock_handle(MockConfig::v2(flags));
                    let model = Fsm::model(dev.describe(), profile.clone());
                    beliefs += explore::run(&model, &mut dev, depth, 8).1.beliefs;
                }
                black_box(beliefs)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, full_run, exploration);
criterion_main!(benches);
