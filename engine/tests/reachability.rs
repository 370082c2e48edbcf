//! Reachability pinned: the transitions (state, operation, answer, next
//! state) the v2 model lets a device take within five operations, per flag
//! combination, as a snapshot. A change to the model or to the suites'
//! operation alphabet that makes part of the protocol unreachable (or newly
//! reachable) shows up here as a diff.

use std::collections::{BTreeSet, HashSet};
use vfio_mig_device::{Description, Transport};
use vfio_mig_engine::target::Target;
use vfio_mig_model::v2::{DataTag, DevState, FdRef, Fsm, MigState, MigrationFlags, Op, Outcome};
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
        Op::Write {
            data: DataTag::Corrupt { .. },
            ..
        } => "write corrupted".into(),
        Op::PrecopyInfo { .. } => "PRECOPY_INFO".into(),
        Op::Feature(req) => format!("FEATURE {:#x}", req.flags()),
        Op::DataSize => "MIG_DATA_SIZE".into(),
        Op::Close { .. } => "close".into(),
        Op::Reset => "RESET".into(),
    }
}

/// What kind of answer an outcome is.
fn answer(o: &Outcome) -> String {
    match o {
        Outcome::SetOk { fd: true } => "ok+fd".into(),
        Outcome::SetOk { fd: false } => "ok".into(),
        Outcome::State(n) => format!("state {}", MigState::from_number(*n).map_or("?", |s| s.name())),
        Outcome::Bytes(0) => "0 bytes".into(),
        Outcome::Bytes(_) => "bytes".into(),
        Outcome::Precopy { .. } => "precopy info".into(),
        Outcome::Size(_) => "size".into(),
        Outcome::Flags(_) => "flags".into(),
        Outcome::Done => "done".into(),
        Outcome::Err(e) => format!("error {e}"),
    }
}

/// The suites' alphabet, plus a whole 1-byte stream written and every fd
/// closed, so that a resume can succeed and a session can end by close.
fn alphabet(model: &Fsm, belief: &Belief<DevState>) -> Vec<Op> {
    let mut ops = model.alphabet(belief);
    let fds = belief.iter().map(|s| s.fds).max().unwrap_or(0);
    for n in 0..fds.min(2) {
        let fd = FdRef(fds - 1 - n);
        ops.push(Op::Write {
            fd,
            len: 1,
            data: DataTag::Stream {
                offset: 0,
                total: Some(1),
            },
        });
        ops.push(Op::Close { fd });
    }
    ops
}

/// Every (state, operation, answer, next state) the model lets a device
/// take within five operations, following every outcome it allows, faults
/// included: the edges actually taken, not every state times the alphabet.
fn reachable(flags: MigrationFlags) -> BTreeSet<String> {
    let desc = Description::v2("model", flags)
        .with_data_size(true)
        .with_fault_injection(true)
        .with_transport(Transport::KernelFd);
    let model = Fsm::model(&desc, Profile::defaults(ProtocolName::V2));
    let mut edges = BTreeSet::new();
    let mut seen: HashSet<Belief<_>> = HashSet::from([model.start()]);
    let mut frontier = vec![model.start()];
    for _ in 0..5 {
        let mut next = Vec::new();
        for belief in &frontier {
            for op in alphabet(&model, belief) {
                for s in belief.iter() {
                    let one = Belief::one(*s);
                    for a in model.allowed(&one, &op).items.iter().filter(|a| a.permitted()) {
                        let outcome = a.expect.example(0);
                        let Ok((b, _)) = model.advance(&one, &op, &outcome) else {
                            continue;
                        };
                        for t in b.iter() {
                            edges.insert(format!(
                                "{} | {} -> {} | {}",
                                s.state,
                                class(&op),
                                answer(&outcome),
                                t.state
                            ));
                        }
                    }
                }
                for a in model.allowed(belief, &op).items.iter().filter(|a| a.permitted()) {
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
    edges
}

#[test]
fn reachable_transitions_per_flag_combination() {
    let mut out = String::new();
    for flags in MigrationFlags::accepted() {
        let edges = reachable(flags);
        out.push_str(&format!(
            "{flags}: {} (state | operation -> answer | next state)\n",
            edges.len()
        ));
        for e in &edges {
            out.push_str(&format!("  {e}\n"));
        }
    }
    // Every state the flags offer is reached, ERROR included, and a session
    // ends by close and a resume succeeds.
    let all = reachable(MigrationFlags::accepted()[3]);
    let states: BTreeSet<&str> = all.iter().filter_map(|e| e.split(" | ").next()).collect();
    assert_eq!(states.len(), 8, "{states:?}");
    assert!(all.iter().any(|e| e.contains("| close -> done |")));
    assert!(all
        .iter()
        .any(|e| e.starts_with("RESUMING | SET STOP -> ok | STOP")));
    insta::assert_snapshot!(out);
}
