//! The protocol-independent machinery of the model: beliefs with several
//! candidate states, allowed sets and how they merge, how a judgement and a
//! violation are formed from them, seeded examples, and the profile's
//! record of the decisions chosen. Driven through the v1 model where a
//! real protocol shows the rule, and through a small made-up protocol where
//! none does.

mod common;

use vfio_mig_model::reqs::*;
use vfio_mig_model::v1::{self, Expect, Field, Op, Outcome, Region, V1State};
use vfio_mig_model::{
    pick_in, Allowance, Allowed, Belief, Errno, ErrnoSet, Expectation, Judgement, Kind, Profile, Protocol,
    ProtocolName, Req,
};

const REGION: u64 = 4096;

fn region() -> Region {
    Region::new(Profile::defaults(ProtocolName::V1), REGION)
}

/// The belief after a transition to stop-and-copy failed: the device kept
/// RUNNING or went to the error state (default DEC-001).
fn after_failed_transition(m: &Region) -> Belief<v1::RegState> {
    m.advance(&m.start(), &Op::set(V1State::StopCopy), &Outcome::Err(Errno::EIO))
        .unwrap()
        .0
}

fn states(b: &Belief<v1::RegState>) -> Vec<V1State> {
    let mut s: Vec<_> = b.iter().map(|r| r.state).collect();
    s.sort();
    s
}

#[test]
fn a_belief_prints_every_candidate_state() {
    covers!("V1-FAIL-001");
    let m = region();
    let b = after_failed_transition(&m);
    assert_eq!(states(&b), [V1State::Running, V1State::Error]);
    let text = format!("{b:?}");
    assert!(text.contains("Running") && text.contains("Error"), "{text}");
    assert_eq!(format!("{:?}", Belief::<u8>::empty()), "{}");
}

#[test]
fn reused_buffers_hold_only_the_latest_judgement() {
    covers!("V1-FAIL-001", "V1-FAIL-004");
    // A checker judging many operations keeps its buffers; what one
    // operation left in them must not leak into the next.
    let m = region();
    let start = m.start();
    let mut allowed = Allowed::governed_by(&[]);
    let mut next = Belief::empty();
    let j = m.judge_into(
        &start,
        &Op::set(V1State::StopCopy),
        &Outcome::Err(Errno::EIO),
        &mut allowed,
        &mut next,
    );
    assert_eq!(j, Ok(Judgement::Fault(vec![V1_ARC_002])));
    assert_eq!(next.len(), 2);
    let j = m.judge_into(
        &start,
        &Op::set(V1State::Stop),
        &Outcome::Ok,
        &mut allowed,
        &mut next,
    );
    assert_eq!(j, Ok(Judgement::Pass));
    assert_eq!(states(&next), [V1State::Stop]);
    assert_eq!(allowed, m.allowed(&start, &Op::set(V1State::Stop)));
    // Cleared by hand, a belief has no candidate left.
    next.clear();
    assert!(next.is_empty());
    assert_eq!(next.known(), None);
}

#[test]
fn a_belief_becomes_a_copy_of_another() {
    covers!("V1-FAIL-001");
    // How a checker moves on to the belief it just computed.
    let m = region();
    let two = after_failed_transition(&m);
    let mut b = m.start();
    b.set_from(&two);
    assert_eq!(b, two);
    b.set_from(&m.start());
    assert_eq!(b, m.start());
    assert_eq!(b.known().map(|s| s.state), Some(V1State::Running));
}

#[test]
fn judging_offers_the_outcomes_of_every_candidate_state() {
    covers!("V1-FAIL-001", "V1-STATE-003");
    let m = region();
    let b = after_failed_transition(&m);
    let op = Op::Read(Field::DeviceState);
    // After a failed transition the read may say RUNNING or ERROR.
    let allowed = m.allowed(&b, &op);
    for s in [V1State::Running, V1State::Error] {
        assert!(
            allowed.items.iter().any(|a| a.expect == Expect::State(s)),
            "{s:?} missing from {allowed}"
        );
    }
    // Judging an outcome offers the same set, whatever was observed.
    for observed in [
        Outcome::Value(0b001),
        Outcome::Value(0b110),
        Outcome::Value(0b010),
    ] {
        let (judged, _) = m.judge(&b, &op, &observed);
        assert_eq!(judged, allowed, "observed {observed}");
    }
    // A violation tells what was allowed: both states.
    let v = m.advance(&b, &op, &Outcome::Value(0b010)).unwrap_err();
    assert!(v.reqs.contains(&V1_FAIL_001), "{v}");
    assert!(
        v.allowed.contains("RUNNING") && v.allowed.contains("ERROR"),
        "{}",
        v.allowed
    );
}

#[test]
fn violations_print_their_rules_operation_and_outcomes() {
    covers!("V1-LAYOUT-002");
    let m = region();
    let v = m
        .advance(&m.start(), &Op::Write(Field::PendingBytes, 1), &Outcome::Ok)
        .unwrap_err();
    let text = v.to_string();
    assert!(text.contains("V1-LAYOUT-002"), "{text}");
    assert!(text.contains(&v.op) && v.op.contains("pending_bytes"), "{text}");
    assert!(text.contains(&v.observed) && text.contains(&v.allowed), "{text}");
}

#[test]
fn merging_allowed_sets_keeps_every_pattern_rule_and_blame_once() {
    covers!("V1-FAIL-001", "V1-FAIL-004");
    // What one candidate state allows...
    let mut a: Allowed<Expect> = Allowed::governed_by(&[V1_FAIL_004]);
    a.push(Expect::Ok, Kind::Normal, &[V1_FAIL_004]);
    // ...and another: the same success, plus a refusal, and a rule to blame.
    let mut b: Allowed<Expect> = Allowed::governed_by(&[V1_FAIL_001]);
    b.push(Expect::Ok, Kind::Normal, &[V1_FAIL_004]);
    b.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V1_FAIL_001]);
    b.blame.push(V1_FAIL_001);
    a.merge(&b);
    a.merge(&b);
    assert_eq!(
        a.items.iter().map(|x| (x.expect, x.kind)).collect::<Vec<_>>(),
        [
            (Expect::Ok, Kind::Normal),
            (Expect::Err(ErrnoSet::Any), Kind::Fault)
        ]
    );
    assert!(a.governing.contains(&V1_FAIL_001) && a.governing.contains(&V1_FAIL_004));
    assert_eq!(a.blame.as_slice(), [V1_FAIL_001]);
    // An outcome that fits neither is blamed on the named rule only.
    assert_eq!(a.broken_by_mismatch(), [V1_FAIL_001]);
}

/// The same rule list at two addresses.
static ONE: [Req; 1] = [V1_ARC_010];
static OTHER: [Req; 1] = [V1_ARC_010];

#[test]
fn an_allowed_set_holds_each_pattern_once() {
    covers!("V1-ARC-010");
    let mut a: Allowed<Expect> = Allowed::governed_by(&[]);
    a.push(Expect::Ok, Kind::Normal, &ONE);
    a.push(Expect::Ok, Kind::Normal, &ONE);
    // Equal rules are the same rules, wherever the list lives.
    a.push(Expect::Ok, Kind::Normal, &OTHER);
    assert_eq!(a.items.len(), 1);
    // A different kind, outcome or rule list is another pattern.
    a.push(Expect::Ok, Kind::Warn, &ONE);
    a.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &ONE);
    a.push(Expect::Ok, Kind::Normal, &[V1_FAIL_004]);
    assert_eq!(a.items.len(), 4);
    // Through the model: two candidate states that allow the same outcomes
    // (RUNNING as after open, and RUNNING after a resumed stream, which the
    // model tells apart) give each pattern once.
    let m = region();
    let steps = [
        (Op::set(V1State::Resuming), Outcome::Ok),
        (Op::Read(Field::DataOffset), Outcome::Value(64)),
        (
            Op::WriteData {
                offset: 64,
                len: 8,
                data: v1::ChunkTag::Stream {
                    offset: 0,
                    total: Some(8),
                    whole: true,
                },
            },
            Outcome::Bytes(8),
        ),
        (Op::Write(Field::DataSize, 8), Outcome::Ok),
        (Op::set(V1State::Running), Outcome::Ok),
        (Op::Reset, Outcome::Err(Errno::EIO)),
    ];
    let mut b = m.start();
    for (op, out) in &steps {
        b = m.advance(&b, op, out).unwrap().0;
    }
    assert_eq!(b.len(), 3, "{b:?}");
    let allowed = m.allowed(&b, &Op::Read(Field::Reserved));
    for (i, x) in allowed.items.iter().enumerate() {
        assert!(!allowed.items[..i].contains(x), "{x:?} twice in {allowed}");
    }
}

/// A one-state protocol whose only outcome besides a refusal is allowed
/// as a warning that cites a MUST next to a SHOULD.
struct MixedWarning;

impl Protocol for MixedWarning {
    type State = V1State;
    type Op = Op;
    type Outcome = Outcome;
    type Expect = Expect;

    fn initial(&self) -> V1State {
        V1State::Running
    }

    fn expectations(&self, _: &V1State, _: &Op, out: &mut Allowed<Expect>) {
        out.governing.push(V1_ARC_007);
        out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V1_ARC_007]);
        out.push(Expect::Ok, Kind::Warn, &[V1_ARC_007, V1_FAIL_004]);
    }

    fn successors(&self, s: &V1State, _: &Op, _: &Allowance<Expect>, _: &Outcome, out: &mut Belief<V1State>) {
        out.insert(*s);
    }
}

#[test]
fn a_warning_that_misses_a_must_is_blamed_on_the_must_alone() {
    covers!("V1-FAIL-004", "V1-ARC-007");
    // A warning may only cite SHOULDs; one that also cites a MUST breaks
    // that MUST, and the violation names it and not the SHOULD.
    let p = MixedWarning;
    let op = Op::set(V1State::Stop);
    let v = p.advance(&p.start(), &op, &Outcome::Ok).unwrap_err();
    assert_eq!(v.reqs, [V1_FAIL_004]);
    assert_eq!(
        p.advance(&p.start(), &op, &Outcome::Err(Errno::EINVAL))
            .map(|(_, j)| j),
        Ok(Judgement::Pass)
    );
}

#[test]
fn seeded_examples_stay_in_their_range_and_reach_all_of_it() {
    covers!("V1-SAVE-005", "V1-LAYOUT-004");
    // A small range: every seed lands inside, and every value is reached.
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..100 {
        let v = pick_in(3, 12, seed);
        assert!((3..=12).contains(&v), "seed {seed}: {v}");
        seen.insert(v);
    }
    assert_eq!(seen.len(), 10);
    // A single value, the whole u64 range, and an empty range (its lower
    // bound, never a panic).
    for seed in [0, 1, 7, u64::MAX] {
        assert_eq!(pick_in(9, 9, seed), 9);
        assert_eq!(pick_in(0, u64::MAX, seed), seed);
        assert_eq!(pick_in(5, 3, seed), 5);
    }
    // Driving the model: the sizes drawn for a staged chunk are sizes the
    // model accepts, and not all the same.
    let m = region();
    let mut b = m.start();
    for (op, out) in [
        (Op::set(V1State::StopCopy), Outcome::Ok),
        (Op::Read(Field::PendingBytes), Outcome::Value(100)),
        (Op::Read(Field::DataOffset), Outcome::Value(REGION - 64)),
    ] {
        b = m.advance(&b, &op, &out).unwrap().0;
    }
    let op = Op::Read(Field::DataSize);
    let allowed = m.allowed(&b, &op);
    let normal: Vec<_> = allowed.items.iter().filter(|a| a.kind == Kind::Normal).collect();
    assert_eq!(normal.len(), 1, "{allowed}");
    let mut sizes = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let out = normal[0].expect.example(seed);
        let Outcome::Value(n) = out else { panic!("{out}") };
        assert!((1..=64).contains(&n), "{n}");
        assert_eq!(m.advance(&b, &op, &out).map(|(_, j)| j), Ok(Judgement::Pass));
        sizes.insert(n);
    }
    assert!(sizes.len() > 1);
}

#[test]
fn a_profile_lists_the_choices_made() {
    covers!("V1-FAIL-001", "V1-SAVE-009");
    let mut p = Profile::defaults(ProtocolName::V1);
    assert!(p.chosen().is_empty());
    p.decide("DEC-001", "previous").unwrap();
    p.decide("DEC-012", "undefined").unwrap();
    // Choosing the same again is no new choice.
    p.decide("DEC-001", "previous").unwrap();
    let chosen: Vec<_> = p.chosen().iter().map(|c| (c.id(), c.key())).collect();
    assert_eq!(chosen, [("DEC-001", "previous"), ("DEC-012", "undefined")]);
}
