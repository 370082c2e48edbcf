//! Properties of the model driven by itself: outcomes drawn from what the
//! model allows never lead it into a state it calls unreachable.

mod common;

use proptest::prelude::*;
use vfio_mig_model::v1::{self, ChunkTag, Field, Region, V1State};
use vfio_mig_model::v2::{Access, DataTag, FdRef, FeatureReq, Fsm, MigState, MigrationFlags};
use vfio_mig_model::{Expectation, Judgement, Kind, Profile, Protocol, ProtocolName, Uapi};

fn v2_op() -> impl Strategy<Value = vfio_mig_model::v2::Op> {
    use vfio_mig_model::v2::Op;
    let state = prop::sample::select(MigState::ALL.to_vec());
    let fd = (0u16..3).prop_map(FdRef);
    let tag = prop_oneof![
        Just(DataTag::Garbage),
        (0u64..64, prop::option::of(0u64..64)).prop_map(|(offset, total)| DataTag::Stream { offset, total }),
    ];
    prop_oneof![
        4 => state.prop_map(Op::Set),
        1 => (0u32..12).prop_map(Op::SetRaw),
        1 => Just(Op::Get),
        2 => (fd.clone(), 0u32..32).prop_map(|(fd, len)| Op::Read { fd, len }),
        2 => (fd.clone(), 0u32..32, tag).prop_map(|(fd, len, data)| Op::Write { fd, len, data }),
        1 => (fd.clone(), prop::sample::select(vec![0u32, 1, 0xffff_fffe])).prop_map(|(fd, flags)| Op::PrecopyInfo { fd, flags }),
        1 => Just(Op::DataSize),
        1 => (prop::sample::select(vec![0u16, 1, 2, 9, 12, 0x7fff]), 0u32..8, 0u32..24).prop_filter_map(
            "state-machine accesses are other operations",
            |(feature, bits, argsz)| {
                let access = Access { get: bits & 1 != 0, set: bits & 2 != 0, probe: bits & 4 != 0 };
                FeatureReq::new(feature, access, argsz).ok().map(Op::Feature)
            },
        ),
        1 => fd.prop_map(|fd| Op::Close { fd }),
        1 => Just(Op::Reset),
    ]
}

fn v1_op() -> impl Strategy<Value = v1::Op> {
    use v1::Op;
    let field = prop::sample::select(Field::ALL.to_vec());
    prop_oneof![
        3 => (0u64..8).prop_map(|s| Op::Write(Field::DeviceState, s)),
        3 => field.clone().prop_map(Op::Read),
        1 => (field, 0u64..512).prop_map(|(f, v)| Op::Write(f, v)),
        1 => (1u64..4, prop::sample::select(vec![1u8, 2])).prop_map(|(offset, width)| Op::Misaligned { offset, width, write: false }),
        2 => (32u64..256, 0u32..64).prop_map(|(offset, len)| Op::ReadData { offset, len }),
        2 => (32u64..256, 0u32..64, any::<bool>()).prop_map(|(offset, len, whole)| Op::WriteData {
            offset,
            len,
            data: ChunkTag::Stream { offset: 0, total: Some(u64::from(len)), whole },
        }),
        1 => Just(Op::Reset),
    ]
}

/// Drives `m` with `ops`, answering each with an outcome the model allows
/// (picked by `picks`), and checks `ok_state` on every candidate state.
fn drive<P: Protocol>(
    m: &P,
    ops: &[P::Op],
    picks: &[u64],
    ok_state: impl Fn(&P::State) -> bool,
) -> Result<(), TestCaseError> {
    let mut belief = m.start();
    for (op, pick) in ops.iter().zip(picks.iter().cycle()) {
        let allowed = m.allowed(&belief, op);
        let permitted: Vec<_> = allowed.items.iter().filter(|a| a.permitted()).collect();
        prop_assert!(!permitted.is_empty(), "no outcome allowed for {}", op);
        let a = permitted[(*pick as usize) % permitted.len()];
        let observed = a.expect.example(pick.rotate_left(17));
        prop_assert!(a.expect.matches(&observed));
        // An example of a broad pattern (any errno) can be an outcome the
        // model names as forbidden (EBADF on a fresh fd): not a drive.
        if allowed
            .items
            .iter()
            .any(|f| !f.permitted() && f.expect.matches(&observed))
        {
            continue;
        }
        let (next, judgement) = m
            .advance(&belief, op, &observed)
            .map_err(|v| TestCaseError::fail(v.to_string()))?;
        // A normal outcome is judged a pass.
        if a.kind == Kind::Normal {
            prop_assert_eq!(judgement, Judgement::Pass, "{} -> {}", op, observed);
        }
        prop_assert!(!next.is_empty());
        for s in next.iter() {
            prop_assert!(ok_state(s), "unreachable state {:?} after {}", s, op);
        }
        belief = next;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn v2_never_reaches_an_unsupported_state(
        bits in prop::sample::select(vec![0b001u64, 0b011, 0b101, 0b111]),
        uapi in prop::sample::select(Uapi::ALL.to_vec()),
        ops in prop::collection::vec(v2_op(), 1..40),
        picks in prop::collection::vec(any::<u64>(), 1..40),
    ) {
        covers!("V2-FLAG-003", "V2-ERR-001", "V2-ERR-002");
        let flags = MigrationFlags::new(bits).unwrap();
        let m = Fsm::new(flags, Profile::defaults(ProtocolName::V2), true).with_uapi(uapi);
        drive(&m, &ops, &picks, |s| {
            flags.supports(s.state)
                // A live session only exists in a state that has one.
                && s.session.is_none_or(|_| s.state.is_saving() || s.state == MigState::Resuming)
        })?;
    }

    #[test]
    fn v1_never_reaches_an_invalid_value(
        ops in prop::collection::vec(v1_op(), 1..40),
        picks in prop::collection::vec(any::<u64>(), 1..40),
    ) {
        covers!("V1-STATE-004", "V1-FAIL-001");
        let m = Region::new(Profile::defaults(ProtocolName::V1), 4096);
        drive(&m, &ops, &picks, |s| s.state.is_reachable() && !matches!(s.state, V1State::Invalid101 | V1State::Invalid111))?;
    }
}
