//! The reference model alone: operations judged per second (`allowed` and
//! `advance`, as the checker calls them) for v1 and v2, and the derivation of
//! the v2 combination-path table for every accepted flag set.
// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use vfio_mig_bench::{replay, walk, FAULT_ONE_IN, TRACE_LEN};
use vfio_mig_model::v1::Region;
use vfio_mig_model::v2::{Fsm, MigrationFlags, PathTable};
use vfio_mig_model::{Profile, ProtocolName};

fn model_ops(c: &mut Criterion) {
    let mut g = c.benchmark_group("model");
    g.throughput(Throughput::Elements(TRACE_LEN as u64));
    let v2 = Fsm::new(
        MigrationFlags::accepted()[3],
        Profile::defaults(ProtocolName::V2),
        true,
    );
    let v1 = Region::new(Profile::defaults(ProtocolName::V1), 4096);
    // A conforming device's answers, and answers drawn from every allowed
    // pattern (faults included) for comparison.
    for (name, fault_one_in) in [("", FAULT_ONE_IN), ("-any-answer", 1)] {
        let trace = walk(&v2, TRACE_LEN, fault_one_in, 7);
        g.bench_function(format!("v2-ops{name}"), |b| {
            b.iter(|| replay(black_box(&v2), black_box(&trace)))
        });
        let trace = walk(&v1, TRACE_LEN, fault_one_in, 7);
        g.bench_function(format!("v1-ops{name}"), |b| {
            b.iter(|| replay(black_box(&v1), black_box(&trace)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("model");
    g.throughput(Throughput::Elements(4));
    g.bench_function("v2-tables", |b| {
        b.iter(|| {
            for flags in MigrationFlags::accepted() {
                black_box(PathTable::derive(black_box(flags)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, model_ops);
criterion_main!(benches);
