//! The v1 model: device_state values, the header, the 64 arcs and the
//! save and resume register sequences.

mod common;

use common::{judge, run};

use rstest::rstest;
use vfio_mig_model::reqs::*;
use vfio_mig_model::v1::{self, ArcClass, ChunkTag, Field, Op, Outcome, Region, V1State};
use vfio_mig_model::{Errno, Judgement, Profile, ProtocolName};
use V1State::*;

const REGION: u64 = 4096;

fn region() -> Region {
    Region::new(Profile::defaults(ProtocolName::V1), REGION)
}

fn set(s: V1State) -> Op {
    Op::set(s)
}

#[test]
fn bit_values_and_stop_is_zero() {
    covers!("V1-STATE-001");
    assert_eq!(
        (v1::state::RUNNING, v1::state::SAVING, v1::state::RESUMING),
        (1, 2, 4)
    );
    assert_eq!(
        v1::state::STOP,
        0,
        "DEC-006: _STOP is the absence of bits, not _RUNNING"
    );
    assert_eq!(v1::state::MASK, 0b111);
    assert_eq!(Stop.bits(), 0);
    assert_ne!(Stop.bits(), Running.bits());
}

#[rstest]
#[case(0b000, Stop, true)]
#[case(0b001, Running, true)]
#[case(0b010, StopCopy, true)]
#[case(0b011, PreCopy, true)]
#[case(0b100, Resuming, true)]
#[case(0b101, Invalid101, false)]
#[case(0b110, Error, false)]
#[case(0b111, Invalid111, false)]
fn meaning_and_validity_of_each_value(#[case] raw: u32, #[case] state: V1State, #[case] valid: bool) {
    covers!("V1-STATE-003", "V1-STATE-004");
    assert_eq!(V1State::from_raw(raw), state);
    assert_eq!(state.bits(), raw);
    assert_eq!(v1::state::valid(raw), valid, "VALID({raw:03b})");
    assert_eq!(v1::state::is_error(raw), raw == 0b110);
    // The error value is not valid (it has RESUMING set), yet the device can
    // be in it; 101b and 111b it can never be in.
    assert_eq!(state.is_requestable(), valid);
    assert_eq!(state.is_reachable(), valid || raw == 0b110);
}

#[test]
fn reserved_bits_do_not_change_meaning() {
    covers!("V1-STATE-005");
    for raw in 0..8u32 {
        for high in [0u32, 1 << 3, 0xffff_fff8] {
            assert_eq!(V1State::from_raw(raw | high), V1State::from_raw(raw));
        }
    }
    // A write with reserved bits set is judged by its masked bits.
    let m = region();
    let b = run(
        &m,
        &[
            (Op::Write(Field::DeviceState, 0xf0 | 0b010), Outcome::Ok),
            (Op::Read(Field::DeviceState), Outcome::Value(0xf0 | 0b010)),
        ],
    );
    assert_eq!(b.known().unwrap().state, StopCopy);
}

#[test]
fn header_layout_is_32_bytes() {
    covers!("V1-LAYOUT-001");
    let layout: Vec<_> = Field::ALL
        .iter()
        .map(|f| (f.name(), f.offset(), f.width()))
        .collect();
    assert_eq!(
        layout,
        vec![
            ("device_state", 0, 4),
            ("reserved", 4, 4),
            ("pending_bytes", 8, 8),
            ("data_offset", 16, 8),
            ("data_size", 24, 8)
        ]
    );
    let end = Field::ALL
        .iter()
        .map(|f| f.offset() + u64::from(f.width()))
        .max()
        .unwrap();
    assert_eq!(end, v1::state::HEADER_SIZE);
    assert_eq!(Field::at(8, 4), None);
}

#[test]
fn access_modes() {
    covers!("V1-LAYOUT-002", "V1-LAYOUT-003");
    let m = region();
    run(
        &m,
        &[
            (Op::Read(Field::Reserved), Outcome::Value(0)),
            (Op::Write(Field::Reserved, 7), Outcome::Ok),
            (Op::Read(Field::Reserved), Outcome::Value(0)),
        ],
    );
    for f in [Field::PendingBytes, Field::DataOffset] {
        run(&m, &[(Op::Write(f, 1), Outcome::Err(Errno::EINVAL))]);
        assert!(judge(&m, &[(Op::Write(f, 1), Outcome::Ok)])
            .unwrap_err()
            .contains(&V1_LAYOUT_002));
    }
    assert!(judge(&m, &[(Op::Read(Field::Reserved), Outcome::Value(1))])
        .unwrap_err()
        .contains(&V1_LAYOUT_002));
    let odd = Op::Misaligned {
        offset: 2,
        width: 4,
        write: false,
    };
    run(&m, &[(odd, Outcome::Err(Errno::EINVAL))]);
    assert_eq!(
        judge(&m, &[(odd, Outcome::Value(0))]),
        Ok(Judgement::Warn(vec![V1_LAYOUT_003]))
    );
}

/// The expected class of every (from, to) pair under our default profile:
/// R required, o optional, = no-op, X invalid, x error target, E from
/// error, - unreachable source. Rows and columns in numeric order.
const EXPECTED: [&str; 8] = [
    "= o o o o X x X", // from 000 STOP
    "R = R R R X x X", // from 001 RUNNING
    "R o = o o X x X", // from 010 STOP_COPY
    "o o R = o X x X", // from 011 PRE_COPY
    "o R o o = X x X", // from 100 RESUMING
    "- - - - - - - -", // from 101
    "E E E E E E E E", // from 110 ERROR
    "- - - - - - - -", // from 111
];

#[rstest]
fn all_64_pairs_are_classified(
    #[values(0, 1, 2, 3, 4, 5, 6, 7)] from: u32,
    #[values(0, 1, 2, 3, 4, 5, 6, 7)] to: u32,
) {
    covers!(
        "V1-ARC-001",
        "V1-ARC-002",
        "V1-ARC-003",
        "V1-ARC-004",
        "V1-ARC-005",
        "V1-ARC-006",
        "V1-ARC-007",
        "V1-ARC-008",
        "V1-ARC-009",
        "V1-ARC-010",
        "V1-FAIL-002"
    );
    let m = region();
    let (f, t) = (V1State::from_raw(from), V1State::from_raw(to));
    let want = EXPECTED[from as usize].split(' ').nth(to as usize).unwrap();
    assert_eq!(m.arc_class(f, t).cell(), want, "{f} -> {t}");
}

#[test]
fn v1_arc_grid_snapshot() {
    covers!("V1-ARC-007");
    insta::assert_snapshot!("v1_arc_grid", region().arc_grid());
}

#[test]
fn required_arcs_fail_only_as_faults() {
    covers!("V1-ARC-001", "V1-ARC-002", "V1-FAIL-001", "V1-FAIL-004");
    let m = region();
    assert!(matches!(m.arc_class(Running, StopCopy), ArcClass::Required(r) if r.contains(&V1_ARC_002)));
    assert_eq!(
        judge(&m, &[(set(StopCopy), Outcome::Err(Errno::EIO))]),
        Ok(Judgement::Fault(vec![V1_ARC_002]))
    );
    // After a failed write: previous state or error.
    let b = run(&m, &[(set(StopCopy), Outcome::Err(Errno::EIO))]);
    let mut states: Vec<_> = b.iter().map(|s| s.state).collect();
    states.sort();
    assert_eq!(states, vec![Running, Error]);
    assert!(judge(
        &m,
        &[
            (set(StopCopy), Outcome::Err(Errno::EIO)),
            (Op::Read(Field::DeviceState), Outcome::Value(0b010))
        ]
    )
    .unwrap_err()
    .contains(&V1_FAIL_001));
    // A success is reported by the next read.
    assert!(judge(
        &m,
        &[
            (set(Stop), Outcome::Ok),
            (Op::Read(Field::DeviceState), Outcome::Value(1))
        ]
    )
    .unwrap_err()
    .contains(&V1_FAIL_004));
}

#[test]
fn previous_profile_has_no_error_after_failure() {
    covers!("V1-FAIL-001");
    let mut p = Profile::defaults(ProtocolName::V1);
    p.decide("DEC-001", "previous").unwrap();
    let m = Region::new(p, REGION);
    let b = run(&m, &[(set(StopCopy), Outcome::Err(Errno::EIO))]);
    assert_eq!(b.known().unwrap().state, Running);
}

#[test]
fn error_state_is_left_only_by_reset() {
    covers!("V1-FAIL-002", "V1-FAIL-003", "V1-STATE-002");
    let m = region();
    let into_error = [
        (set(StopCopy), Outcome::Err(Errno::EIO)),
        (Op::Read(Field::DeviceState), Outcome::Value(0b110)),
    ];
    let mut s = into_error.to_vec();
    s.push((set(Running), Outcome::Ok));
    assert!(judge(&m, &s).unwrap_err().contains(&V1_FAIL_002));
    s.pop();
    s.extend([
        (set(Running), Outcome::Err(Errno::EINVAL)),
        (Op::Reset, Outcome::Ok),
        (Op::Read(Field::DeviceState), Outcome::Value(1)),
    ]);
    assert_eq!(run(&m, &s).known().unwrap().state, Running);
    run(&m, &[(Op::Read(Field::DeviceState), Outcome::Value(1))]);
}

#[test]
fn invalid_and_error_writes_are_refused() {
    covers!("V1-ARC-008", "V1-ARC-009");
    let m = region();
    for raw in [0b101u64, 0b111] {
        assert!(judge(&m, &[(Op::Write(Field::DeviceState, raw), Outcome::Ok)])
            .unwrap_err()
            .contains(&V1_ARC_008));
        let b = run(
            &m,
            &[(Op::Write(Field::DeviceState, raw), Outcome::Err(Errno::EINVAL))],
        );
        assert_eq!(b.known().unwrap().state, Running);
    }
    assert_eq!(
        judge(&m, &[(set(Error), Outcome::Ok)]),
        Ok(Judgement::Warn(vec![V1_ARC_009]))
    );
}

fn save_chunk(pending: u64, offset: u64, size: u64) -> Vec<(Op, Outcome)> {
    vec![
        (Op::Read(Field::PendingBytes), Outcome::Value(pending)),
        (Op::Read(Field::DataOffset), Outcome::Value(offset)),
        (Op::Read(Field::DataSize), Outcome::Value(size)),
        (
            Op::ReadData {
                offset,
                len: size as u32,
            },
            Outcome::Bytes(size as u32),
        ),
    ]
}

#[test]
fn save_loop_in_stop_and_copy() {
    covers!(
        "V1-SAVE-001",
        "V1-SAVE-003",
        "V1-SAVE-006",
        "V1-SAVE-008",
        "V1-ARC-003"
    );
    let m = region();
    let mut s = vec![(set(StopCopy), Outcome::Ok)];
    s.extend(save_chunk(300, 64, 200));
    s.extend(save_chunk(100, 64, 100));
    s.push((Op::Read(Field::PendingBytes), Outcome::Value(0)));
    s.push((set(Stop), Outcome::Ok));
    assert_eq!(run(&m, &s).known().unwrap().state, Stop);
}

#[test]
fn re_reads_are_idempotent() {
    covers!("V1-SAVE-002", "V1-SAVE-004");
    let m = region();
    let mut s = vec![(set(StopCopy), Outcome::Ok)];
    s.extend(save_chunk(300, 64, 200));
    run(&m, &s);
    let base = vec![
        (set(StopCopy), Outcome::Ok),
        (Op::Read(Field::PendingBytes), Outcome::Value(300)),
    ];
    let mut bad = base.clone();
    bad.push((Op::Read(Field::PendingBytes), Outcome::Value(299)));
    assert!(judge(&m, &bad).unwrap_err().contains(&V1_SAVE_002));
    let mut staged = base.clone();
    staged.push((Op::Read(Field::DataOffset), Outcome::Value(64)));
    staged.push((Op::Read(Field::DataSize), Outcome::Value(10)));
    run(
        &m,
        &[
            staged.clone(),
            vec![
                (Op::Read(Field::DataOffset), Outcome::Value(64)),
                (Op::Read(Field::DataSize), Outcome::Value(10)),
            ],
        ]
        .concat(),
    );
    let mut bad = staged.clone();
    bad.push((Op::Read(Field::DataOffset), Outcome::Value(128)));
    assert!(judge(&m, &bad).unwrap_err().contains(&V1_SAVE_004));
    let mut bad = staged;
    bad.push((Op::Read(Field::DataSize), Outcome::Value(11)));
    assert!(judge(&m, &bad).unwrap_err().contains(&V1_SAVE_004));
}

#[test]
fn data_offset_and_size_stay_inside_the_region() {
    covers!("V1-LAYOUT-004", "V1-SAVE-005");
    let m = region();
    let base = vec![
        (set(StopCopy), Outcome::Ok),
        (Op::Read(Field::PendingBytes), Outcome::Value(10)),
    ];
    for bad_offset in [0, 31, REGION] {
        let mut s = base.clone();
        s.push((Op::Read(Field::DataOffset), Outcome::Value(bad_offset)));
        assert!(
            judge(&m, &s).unwrap_err().contains(&V1_LAYOUT_004),
            "offset {bad_offset}"
        );
    }
    let mut s = base.clone();
    s.push((Op::Read(Field::DataOffset), Outcome::Value(REGION - 8)));
    s.push((Op::Read(Field::DataSize), Outcome::Value(9)));
    assert!(judge(&m, &s).unwrap_err().contains(&V1_LAYOUT_004));
    let mut s = base;
    s.push((Op::Read(Field::DataOffset), Outcome::Value(64)));
    s.push((Op::Read(Field::DataSize), Outcome::Value(0)));
    assert_eq!(judge(&m, &s), Ok(Judgement::Warn(vec![V1_SAVE_005])));
}

#[test]
fn pre_copy_with_nothing_pending_moves_on() {
    covers!("V1-SAVE-007", "V1-ARC-004", "V1-ARC-005");
    let m = region();
    let s = [
        (set(PreCopy), Outcome::Ok),
        (Op::Read(Field::PendingBytes), Outcome::Value(0)),
        (Op::Read(Field::PendingBytes), Outcome::Value(0)),
        (set(StopCopy), Outcome::Ok),
    ];
    run(&m, &s);
    // Straight to stop-and-copy with data still pending is fine too.
    run(
        &m,
        &[
            (set(PreCopy), Outcome::Ok),
            (Op::Read(Field::PendingBytes), Outcome::Value(500)),
            (set(StopCopy), Outcome::Ok),
        ],
    );
}

#[test]
fn out_of_order_accesses_are_rejected() {
    covers!("V1-SAVE-009", "V1-RES-004");
    let m = region();
    let sc = (set(StopCopy), Outcome::Ok);
    run(
        &m,
        &[sc, (Op::Read(Field::DataSize), Outcome::Err(Errno::EINVAL))],
    );
    assert_eq!(
        judge(&m, &[sc, (Op::Read(Field::DataSize), Outcome::Value(8))]),
        Ok(Judgement::Warn(vec![V1_SAVE_009]))
    );
    assert_eq!(
        judge(
            &m,
            &[sc, (Op::ReadData { offset: 64, len: 8 }, Outcome::Bytes(8))]
        ),
        Ok(Judgement::Warn(vec![V1_SAVE_009]))
    );
    let res = (set(Resuming), Outcome::Ok);
    assert_eq!(
        judge(&m, &[res, (Op::Write(Field::DataSize, 8), Outcome::Ok)]),
        Ok(Judgement::Warn(vec![V1_RES_004]))
    );
    // Under DEC-012 "undefined" the same accesses pass.
    let mut p = Profile::defaults(ProtocolName::V1);
    p.decide("DEC-012", "undefined").unwrap();
    let lax = Region::new(p, REGION);
    assert_eq!(
        judge(&lax, &[sc, (Op::Read(Field::DataSize), Outcome::Value(8))]),
        Ok(Judgement::Pass)
    );
}

#[test]
fn registers_outside_a_migration_state() {
    covers!("V1-SAVE-010");
    let m = region();
    run(
        &m,
        &[
            (Op::Read(Field::PendingBytes), Outcome::Value(0)),
            (Op::Read(Field::DataOffset), Outcome::Err(Errno::EINVAL)),
        ],
    );
    assert_eq!(
        judge(&m, &[(Op::Read(Field::DataOffset), Outcome::Value(64))]),
        Ok(Judgement::Warn(vec![V1_SAVE_010]))
    );
}

fn resume_chunk(offset: u64, len: u64, tag: ChunkTag) -> Vec<(Op, Outcome)> {
    vec![
        (Op::Read(Field::DataOffset), Outcome::Value(offset)),
        (
            Op::WriteData {
                offset,
                len: len as u32,
                data: tag,
            },
            Outcome::Bytes(len as u32),
        ),
        (Op::Write(Field::DataSize, len), Outcome::Ok),
    ]
}

fn chunk(offset: u64, total: u64) -> ChunkTag {
    ChunkTag::Stream {
        offset,
        total: Some(total),
        whole: true,
    }
}

#[test]
fn resume_loop_and_its_validation() {
    covers!(
        "V1-RES-001",
        "V1-RES-002",
        "V1-RES-005",
        "V1-DATA-001",
        "V1-ARC-006"
    );
    let m = region();
    let mut s = vec![(set(Resuming), Outcome::Ok)];
    s.extend(resume_chunk(64, 200, chunk(0, 300)));
    s.extend(resume_chunk(64, 100, chunk(200, 300)));
    let mut done = s.clone();
    done.push((set(Running), Outcome::Ok));
    assert_eq!(run(&m, &done).known().unwrap().state, Running);
    // One chunk short: leaving RESUMING must fail.
    let mut short = vec![(set(Resuming), Outcome::Ok)];
    short.extend(resume_chunk(64, 200, chunk(0, 300)));
    short.push((set(Running), Outcome::Ok));
    assert!(judge(&m, &short).unwrap_err().contains(&V1_RES_005));
    // Chunks out of order: refused.
    let mut swapped = vec![(set(Resuming), Outcome::Ok)];
    swapped.extend(resume_chunk(64, 100, chunk(200, 300)));
    swapped.extend(resume_chunk(64, 200, chunk(0, 300)));
    swapped.push((set(Running), Outcome::Ok));
    assert!(judge(&m, &swapped).unwrap_err().contains(&V1_RES_005));
    // The device may refuse a bad chunk as soon as data_size is written.
    let mut early = vec![
        (set(Resuming), Outcome::Ok),
        (Op::Read(Field::DataOffset), Outcome::Value(64)),
    ];
    early.push((
        Op::WriteData {
            offset: 64,
            len: 10,
            data: ChunkTag::Garbage,
        },
        Outcome::Bytes(10),
    ));
    early.push((Op::Write(Field::DataSize, 10), Outcome::Err(Errno::EINVAL)));
    assert_eq!(judge(&m, &early), Ok(Judgement::Pass));
}

#[test]
fn split_chunks_under_indivisible_profile_are_undefined() {
    covers!("V1-RES-003");
    let m = region();
    let half = |o| ChunkTag::Stream {
        offset: o,
        total: Some(200),
        whole: false,
    };
    let mut s = vec![(set(Resuming), Outcome::Ok)];
    s.extend(resume_chunk(64, 100, half(0)));
    s.extend(resume_chunk(64, 100, half(100)));
    // Indivisible (v1 default): the device may accept or refuse the result.
    let mut ok = s.clone();
    ok.push((set(Running), Outcome::Ok));
    run(&m, &ok);
    let mut refused = s.clone();
    refused.push((set(Running), Outcome::Err(Errno::EINVAL)));
    assert_eq!(judge(&m, &refused), Ok(Judgement::Pass));
    // Byte-stream: a split stream must be accepted.
    let mut p = Profile::defaults(ProtocolName::V1);
    p.decide("DEC-005", "byte-stream").unwrap();
    let bs = Region::new(p, REGION);
    assert_eq!(judge(&bs, &refused), Ok(Judgement::Fault(vec![V1_ARC_006])));
}

#[test]
fn loop_errors_end_the_loop() {
    covers!("V1-ERR-001", "V1-ERR-002");
    let m = region();
    let mut s = vec![
        (set(StopCopy), Outcome::Ok),
        (Op::Read(Field::PendingBytes), Outcome::Value(10)),
    ];
    s.push((Op::Read(Field::DataOffset), Outcome::Err(Errno::EIO)));
    assert_eq!(judge(&m, &s), Ok(Judgement::Fault(vec![V1_ERR_001])));
    let p = Profile::defaults(ProtocolName::V1);
    assert!(p.is_retryable(Errno::EAGAIN) && p.is_retryable(Errno::EINTR) && !p.is_retryable(Errno::EIO));
    let mut strict = p;
    strict.decide("DEC-004", "any-error-fatal").unwrap();
    assert!(!strict.is_retryable(Errno::EAGAIN));
}

#[test]
fn a_region_without_a_data_section_offers_no_offset() {
    covers!("V1-LAYOUT-004");
    // Found by the model fuzz target: a 32-byte region left the model
    // allowing only an empty range of offsets.
    let m = Region::new(Profile::defaults(ProtocolName::V1), 32);
    let s = [
        (set(StopCopy), Outcome::Ok),
        (Op::Read(Field::PendingBytes), Outcome::Value(8)),
    ];
    let mut steps = s.to_vec();
    steps.push((Op::Read(Field::DataOffset), Outcome::Err(Errno::EINVAL)));
    run(&m, &steps);
    steps.pop();
    steps.push((Op::Read(Field::DataOffset), Outcome::Value(32)));
    assert!(judge(&m, &steps).unwrap_err().contains(&V1_LAYOUT_004));
}
