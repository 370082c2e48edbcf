//! Severity comes from the catalogue: an allowance that only warns may cite
//! no MUST, and an outcome that misses a MUST is a violation whatever the
//! allowance's kind says.

mod common;

use std::collections::{BTreeSet, HashSet, VecDeque};
use vfio_mig_model::v1::{self, ChunkTag, Field, Region, V1State};
use vfio_mig_model::v2::{DataTag, FdRef, Fsm, MigState, MigrationFlags, Op};
use vfio_mig_model::{
    Allowance, Allowed, Belief, Expectation, Kind, Level, Profile, Protocol, ProtocolName, Req,
};

/// Every allowance the model offers in the beliefs reachable within `depth`
/// operations of `alphabet`, following every allowed outcome.
fn every_allowance<P: Protocol>(
    m: &P,
    alphabet: impl Fn(&Belief<P::State>) -> Vec<P::Op>,
    depth: usize,
) -> Vec<(String, Allowance<P::Expect>)>
where
    P::State: std::hash::Hash,
{
    let mut out = Vec::new();
    let mut seen: HashSet<Vec<P::State>> = HashSet::new();
    let mut queue = VecDeque::from([(m.start(), 0usize)]);
    while let Some((belief, d)) = queue.pop_front() {
        if !seen.insert(belief.iter().copied().collect()) {
            continue;
        }
        for op in alphabet(&belief) {
            let allowed: Allowed<P::Expect> = m.allowed(&belief, &op);
            for a in &allowed.items {
                out.push((format!("{op}"), a.clone()));
                if d + 1 < depth {
                    for seed in 0..2 {
                        let observed = a.expect.example(seed);
                        if let Ok((next, _)) = m.advance(&belief, &op, &observed) {
                            queue.push_back((next, d + 1));
                        }
                    }
                }
            }
        }
    }
    out
}

fn v2_alphabet(m: &Fsm, b: &Belief<vfio_mig_model::v2::DevState>) -> Vec<Op> {
    let mut ops: Vec<Op> = MigState::ALL.iter().map(|s| Op::Set(*s)).collect();
    ops.extend([Op::SetRaw(8), Op::Get, Op::Reset, Op::DataSize]);
    let fds = b.iter().map(|s| s.fds).max().unwrap_or(0);
    for n in 0..fds.min(2) {
        let fd = FdRef(fds - 1 - n);
        ops.push(Op::Read { fd, len: 16 });
        ops.push(Op::Read { fd, len: 0 });
        ops.push(Op::Write {
            fd,
            len: 16,
            data: DataTag::Garbage,
        });
        ops.push(Op::Write {
            fd,
            len: 16,
            data: DataTag::Stream {
                offset: 0,
                total: Some(16),
            },
        });
        ops.push(Op::PrecopyInfo { fd, flags: 0 });
        ops.push(Op::Close { fd });
    }
    let _ = m;
    ops
}

fn v1_alphabet() -> Vec<v1::Op> {
    let mut ops: Vec<v1::Op> = (0..8).map(|s| v1::Op::Write(Field::DeviceState, s)).collect();
    ops.extend(Field::ALL.iter().map(|f| v1::Op::Read(*f)));
    ops.extend(Field::ALL.iter().map(|f| v1::Op::Write(*f, 16)));
    ops.push(v1::Op::Misaligned {
        offset: 2,
        width: 4,
        write: false,
    });
    ops.push(v1::Op::ReadData { offset: 64, len: 16 });
    ops.push(v1::Op::ReadData {
        offset: 4096,
        len: 16,
    });
    ops.push(v1::Op::WriteData {
        offset: 64,
        len: 16,
        data: ChunkTag::Stream {
            offset: 0,
            total: Some(16),
            whole: true,
        },
    });
    ops.push(v1::Op::Reset);
    ops
}

fn warn_musts<E: std::fmt::Display>(all: &[(String, Allowance<E>)]) -> BTreeSet<String> {
    all.iter()
        .filter(|(_, a)| a.kind == Kind::Warn && a.reqs.iter().any(|r| r.level() == Level::Must))
        .map(|(op, a)| format!("{op}: {} cites {:?}", a.expect, a.reqs))
        .collect()
}

#[test]
fn no_warning_cites_a_must() {
    covers!("V2-STREAM-002", "V2-PRE-003", "V1-LAYOUT-002", "V1-LAYOUT-004");
    let mut bad = BTreeSet::new();
    for flags in MigrationFlags::accepted() {
        let m = Fsm::new(flags, Profile::defaults(ProtocolName::V2), true);
        bad.extend(warn_musts(&every_allowance(&m, |b| v2_alphabet(&m, b), 5)));
    }
    for id in ["DEC-012", "DEC-010", "DEC-003"] {
        for key in [
            "reject",
            "undefined",
            "refuse",
            "driver-chooses",
            "flows-required",
            "all-required",
        ] {
            let mut p = Profile::defaults(ProtocolName::V1);
            if p.decide(id, key).is_err() {
                continue;
            }
            let m = Region::new(p, 4096);
            bad.extend(warn_musts(&every_allowance(&m, |_| v1_alphabet(), 5)));
        }
    }
    assert!(
        bad.is_empty(),
        "warnings that cite a MUST:\n{}",
        bad.into_iter().collect::<Vec<_>>().join("\n")
    );
    let _ = V1State::Running;
}

/// A protocol with one warning that names a MUST: the judgement must be a
/// violation naming that MUST, not a warning.
#[derive(Debug)]
struct OneWarn(Req);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Any;

impl std::fmt::Display for Any {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("anything")
    }
}

impl Expectation<u8> for Any {
    fn matches(&self, _: &u8) -> bool {
        true
    }
    fn example(&self, _: u64) -> u8 {
        0
    }
}

impl Protocol for OneWarn {
    type State = u8;
    type Op = u8;
    type Outcome = u8;
    type Expect = Any;
    fn initial(&self) -> u8 {
        0
    }
    fn expectations(&self, _: &u8, _: &u8, out: &mut Allowed<Any>) {
        out.push(Any, Kind::Warn, std::slice::from_ref(Box::leak(Box::new(self.0))));
    }
    fn successors(&self, s: &u8, _: &u8, _: &Allowance<Any>, _: &u8, out: &mut Belief<u8>) {
        out.insert(*s);
    }
}

#[test]
fn a_warning_that_misses_a_must_is_a_violation() {
    covers!("V2-PRE-003");
    use vfio_mig_model::reqs::{V2_PRE_003, V2_STREAM_001};
    assert_eq!(V2_STREAM_001.level(), Level::Must);
    let must = OneWarn(V2_STREAM_001);
    let v = must
        .advance(&must.start(), &0, &0)
        .expect_err("a missed MUST is a violation");
    assert_eq!(v.reqs, vec![V2_STREAM_001]);
    assert_eq!(V2_PRE_003.level(), Level::Should);
    let should = OneWarn(V2_PRE_003);
    let (_, j) = should
        .advance(&should.start(), &0, &0)
        .expect("a missed SHOULD is allowed");
    assert_eq!(j, vfio_mig_model::Judgement::Warn(vec![V2_PRE_003]));
}
