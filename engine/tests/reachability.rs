//! Reachability pinned: the (state, operation) pairs the v2 model reaches
//! within six operations, per flag combination, as a snapshot. A change to
//! the model or to the suites' operation alphabet that makes part of the
//! protocol unreachable (or newly reachable) shows up here as a diff.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use vfio_mig_device::{Description, Transport};
use vfio_mig_engine::target::Target;
use vfio_mig_model::v2::{DataTag, Fsm, MigrationFlags, Op};
use vfio_mig_model::{Belief, Expectation, Profile, Protocol, ProtocolName};

/// The operation without its fd number or length.
fn class(op: &Op) -> String {
    match op {
        Op::Set(s) => format!("SET {s}"),
        Op::SetRaw(n) => format!("SET {n}"),
        Op::Get => "GET".into(),
        Op::Read { .. } => "read".into(),
        Op::Write {
            data: DataTag::Stream { .. },
            ..
        } => "write stream".into(),
        Op::Write {
            data: DataTag::Garbage,
            ..
        } => "write garbage".into(),
        Op::PrecopyInfo { .. } => "PRECOPY_INFO".into(),
        Op::DataSize => "MIG_DATA_SIZE".into(),
        Op::Close { .. } => "close".into(),
        Op::Reset => "RESET".into(),
    }
}

fn reachable(flags: MigrationFlags) -> BTreeMap<String, BTreeSet<String>> {
    let desc = Description::v2("model", flags)
        .with_data_size(true)
        .with_fault_injection(true)
        .with_transport(Transport::KernelFd);
    let model = Fsm::model(&desc, Profile::defaults(ProtocolName::V2));
    let mut pairs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut seen: HashSet<Belief<_>> = HashSet::from([model.start()]);
    let mut frontier = vec![model.start()];
    for _ in 0..6 {
        let mut next = Vec::new();
        for belief in &frontier {
            for op in model.alphabet(belief) {
                for s in belief.iter() {
                    pairs.entry(s.state.to_string()).or_default().insert(class(&op));
                }
                // Follow every outcome the model allows, faults included.
                for a in model.allowed(belief, &op).items {
                    let outcome = a.expect.example(0);
                    if let Ok((b, _)) = model.advance(belief, &op, &outcome) {
                        if !b.is_empty() && seen.insert(b.clone()) {
                            next.push(b);
                        }
                    }
                }
            }
        }
        frontier = next;
    }
    pairs
}

#[test]
fn reachable_state_operation_pairs_per_flag_combination() {
    let mut out = String::new();
    for flags in MigrationFlags::accepted() {
        let pairs = reachable(flags);
        let total: usize = pairs.values().map(BTreeSet::len).sum();
        out.push_str(&format!("{flags}: {total} (state, operation) pairs\n"));
        for (state, ops) in &pairs {
            out.push_str(&format!(
                "  {state} ({}): {}\n",
                ops.len(),
                ops.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    // Every state the flags offer is reached, ERROR included.
    let all = reachable(MigrationFlags::accepted()[3]);
    assert_eq!(all.len(), 8, "{all:?}");
    insta::assert_snapshot!(out);
}
