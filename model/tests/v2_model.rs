//! Behaviour of the v2 model: allowed outcomes and how it follows a device.

mod common;

use common::{all, fsm, run, violation};

use rstest::rstest;
use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::{Access, DataTag, FdRef, FeatureReq, Fsm, MigState, MigrationFlags, Op, Outcome};
use vfio_mig_model::{Errno, Judgement, Profile, Protocol, ProtocolName, Uapi};
use MigState::*;

fn ok(fd: bool) -> Outcome {
    Outcome::SetOk { fd }
}

const FD0: FdRef = FdRef(0);

#[test]
fn fresh_device_is_running_and_get_reports_it() {
    covers!("V2-STATE-002", "V2-STATE-003", "V2-STATE-004", "V2-FEAT-002");
    let m = all();
    let b = run(&m, &[(Op::Get, Outcome::State(2)), (Op::Get, Outcome::State(2))]);
    assert_eq!(b.known().unwrap().state, Running);
    assert_eq!(violation(&m, &[(Op::Get, Outcome::State(1))]), [V2_STATE_002]);
    // The same feature answers SET: the state GET then reports follows it.
    let b = run(&m, &[(Op::Set(Stop), ok(false)), (Op::Get, Outcome::State(1))]);
    assert_eq!(b.known().unwrap().state, Stop);
}

#[rstest]
#[case::run_to_pre(Running, PreCopy, true)]
#[case::run_to_sc(Running, StopCopy, true)]
#[case::run_to_res(Running, Resuming, true)]
#[case::run_to_stop(Running, Stop, false)]
#[case::run_to_rp2p(Running, RunningP2p, false)]
fn set_returns_fd_exactly_when_a_session_opens(
    #[case] from: MigState,
    #[case] to: MigState,
    #[case] fd: bool,
) {
    covers!("V2-FD-001", "V2-FD-003", "V2-ARC-006");
    let m = all();
    assert_eq!(from, Running);
    let b = run(&m, &[(Op::Set(to), ok(fd))]);
    assert_eq!(b.known().unwrap().state, to);
    // A fd where none is due breaks V2-FD-003; none where one is due,
    // V2-FD-001.
    let reqs = violation(&m, &[(Op::Set(to), ok(!fd))]);
    let rule = if fd { V2_FD_001 } else { V2_FD_003 };
    assert!(reqs.contains(&rule), "{reqs:?}");
}

#[test]
fn moving_inside_the_saving_group_keeps_the_fd() {
    covers!("V2-FD-002", "V2-PRE-005");
    let m = all();
    let steps = [
        (Op::Set(PreCopy), ok(true)),
        (Op::Set(StopCopy), ok(false)),
        (Op::Read { fd: FD0, len: 8 }, Outcome::Bytes(8)),
    ];
    let b = run(&m, &steps);
    assert_eq!(b.known().unwrap().state, StopCopy);
    let reqs = violation(&m, &[(Op::Set(PreCopy), ok(true)), (Op::Set(StopCopy), ok(true))]);
    assert!(reqs.contains(&V2_FD_002), "{reqs:?}");
    // The pre-copy bytes and the stop-copy bytes are one stream on one fd.
    let mut cont = steps.to_vec();
    cont.push((Op::Read { fd: FD0, len: 8 }, Outcome::Bytes(0)));
    run(&m, &cont);
}

#[test]
fn refused_requests_answer_einval_and_change_nothing() {
    covers!(
        "V2-ARC-007",
        "V2-ARC-008",
        "V2-ARC-010",
        "V2-ERR-003",
        "V2-FLAG-003"
    );
    let m = all();
    let sc = [(Op::Set(StopCopy), ok(true))];
    let b = run(
        &m,
        &[
            sc[0],
            (Op::Set(PreCopy), Outcome::Err(Errno::EINVAL)),
            (Op::Get, Outcome::State(3)),
        ],
    );
    assert_eq!(b.known().unwrap().state, StopCopy);
    assert!(violation(&m, &[sc[0], (Op::Set(PreCopy), ok(true))]).contains(&V2_ARC_007));
    assert!(violation(&m, &[sc[0], (Op::Set(PreCopy), Outcome::Err(Errno::EIO))]).contains(&V2_ARC_007));
    assert!(violation(&m, &[(Op::Set(Error), ok(false))]).contains(&V2_ARC_008));
    assert!(violation(&m, &[(Op::SetRaw(8), ok(false))]).contains(&V2_ARC_010));
    run(&m, &[(Op::SetRaw(u32::MAX), Outcome::Err(Errno::EINVAL))]);
    // Unsupported optional state.
    let sc_only = fsm(0b001);
    assert!(violation(&sc_only, &[(Op::Set(RunningP2p), ok(false))]).contains(&V2_FLAG_003));
    // In ERROR every SET is refused.
    let to_error = [
        (Op::Set(Stop), Outcome::Err(Errno::EIO)),
        (Op::Get, Outcome::State(0)),
    ];
    let b = run(&m, &to_error);
    assert_eq!(b.known().unwrap().state, Error);
    let mut steps = to_error.to_vec();
    steps.push((Op::Set(Running), ok(false)));
    assert!(violation(&m, &steps).contains(&V2_ERR_003));
}

#[test]
fn set_to_the_current_state_is_a_no_op() {
    covers!("V2-ARC-009");
    let m = all();
    run(&m, &[(Op::Set(Running), ok(false))]);
    let reqs = violation(&m, &[(Op::Set(Running), ok(true))]);
    assert!(reqs.contains(&V2_ARC_009), "{reqs:?}");
}

#[test]
fn failed_set_may_stop_on_the_path_or_in_error() {
    covers!("V2-ERR-001", "V2-PATH-005", "V2-FD-006");
    let m = all();
    // RUNNING -> STOP_COPY is RUNNING -> RUNNING_P2P -> STOP -> STOP_COPY.
    let b = run(&m, &[(Op::Set(StopCopy), Outcome::Err(Errno::EIO))]);
    let mut states: Vec<_> = b.iter().map(|s| s.state).collect();
    states.sort();
    assert_eq!(states, vec![Error, Stop, Running, StopCopy, RunningP2p]);
    // The judgement names the arc that should not have failed.
    let (_, j) = m
        .advance(&m.start(), &Op::Set(StopCopy), &Outcome::Err(Errno::EIO))
        .unwrap();
    assert_eq!(j, Judgement::Fault(vec![V2_ARC_003]));
    // A GET narrows the belief; a state off the path is a violation.
    let b = run(
        &m,
        &[
            (Op::Set(StopCopy), Outcome::Err(Errno::EIO)),
            (Op::Get, Outcome::State(1)),
        ],
    );
    assert_eq!(b.known().unwrap().state, Stop);
    let reqs = violation(
        &m,
        &[
            (Op::Set(StopCopy), Outcome::Err(Errno::EIO)),
            (Op::Get, Outcome::State(4)),
        ],
    );
    // The state the failed SET left is off its path: the failure broke
    // V2-ERR-001, and the GET that shows it is not to blame.
    assert_eq!(reqs, [V2_ERR_001]);
}

#[test]
fn interior_only_profile_excludes_the_target_after_failure() {
    covers!("V2-ERR-001");
    let mut p = Profile::defaults(ProtocolName::V2);
    p.decide("DEC-011", "interior-only").unwrap();
    let m = Fsm::new(MigrationFlags::new(0b111).unwrap(), p, true);
    let b = run(&m, &[(Op::Set(StopCopy), Outcome::Err(Errno::EIO))]);
    assert!(!b.iter().any(|s| s.state == StopCopy));
    assert_eq!(b.len(), 4);
}

#[test]
fn reset_leaves_error_for_running() {
    covers!("V2-ERR-002");
    let m = all();
    let b = run(
        &m,
        &[
            (Op::Set(Stop), Outcome::Err(Errno::EIO)),
            (Op::Get, Outcome::State(0)),
            (Op::Reset, Outcome::Done),
            (Op::Get, Outcome::State(2)),
        ],
    );
    assert_eq!(b.known().unwrap().state, Running);
}

#[test]
fn stop_copy_stream_ends_with_zero_and_stays_ended() {
    covers!("V2-STREAM-001", "V2-STREAM-002", "V2-STREAM-003");
    let m = all();
    let read = |n| (Op::Read { fd: FD0, len: 64 }, Outcome::Bytes(n));
    let steps = [(Op::Set(StopCopy), ok(true)), read(64), read(10), read(0)];
    run(&m, &steps);
    let mut after = steps.to_vec();
    after.push(read(0));
    run(&m, &after);
    after.push(read(5));
    let (_, j) = {
        let (last, init) = after.split_last().unwrap();
        m.advance(&run(&m, init), &last.0, &last.1).unwrap()
    };
    assert_eq!(j, Judgement::Warn(vec![V2_STREAM_002]));
    // More bytes than asked is never allowed.
    let reqs = violation(
        &m,
        &[
            (Op::Set(StopCopy), ok(true)),
            (Op::Read { fd: FD0, len: 4 }, Outcome::Bytes(5)),
        ],
    );
    assert!(reqs.contains(&V2_STREAM_003), "{reqs:?}");
}

#[test]
fn enomsg_only_in_pre_copy() {
    covers!("V2-PRE-004");
    let m = all();
    let pre = (Op::Set(PreCopy), ok(true));
    run(
        &m,
        &[pre, (Op::Read { fd: FD0, len: 8 }, Outcome::Err(Errno::ENOMSG))],
    );
    assert!(violation(&m, &[pre, (Op::Read { fd: FD0, len: 8 }, Outcome::Bytes(0))]).contains(&V2_PRE_004));
    let sc = (Op::Set(StopCopy), ok(true));
    assert!(violation(
        &m,
        &[sc, (Op::Read { fd: FD0, len: 8 }, Outcome::Err(Errno::ENOMSG))]
    )
    .contains(&V2_PRE_004));
    // Under DEC-013 enomsg-or-zero a zero read in pre-copy is allowed.
    let mut p = Profile::defaults(ProtocolName::V2);
    p.decide("DEC-013", "enomsg-or-zero").unwrap();
    let lax = Fsm::new(MigrationFlags::new(0b111).unwrap(), p, true);
    run(&lax, &[pre, (Op::Read { fd: FD0, len: 8 }, Outcome::Bytes(0))]);
}

#[test]
fn precopy_info_only_in_pre_copy_states() {
    covers!("V2-PRE-001", "V2-PRE-002", "V2-PRE-003");
    let m = all();
    let info = |i, d| {
        (
            Op::PrecopyInfo { fd: FD0, flags: 0 },
            Outcome::Precopy {
                initial_bytes: i,
                dirty_bytes: d,
                flags: 0,
            },
        )
    };
    run(
        &m,
        &[
            (Op::Set(PreCopy), ok(true)),
            info(100, 0),
            info(40, 3),
            (Op::Set(PreCopyP2p), ok(false)),
            info(0, 9),
        ],
    );
    let steps = [(Op::Set(PreCopy), ok(true)), info(100, 0), info(150, 0)];
    let (last, init) = steps.split_last().unwrap();
    let (_, j) = m.advance(&run(&m, init), &last.0, &last.1).unwrap();
    assert_eq!(j, Judgement::Warn(vec![V2_PRE_003]));
    let sc = [(Op::Set(PreCopy), ok(true)), (Op::Set(StopCopy), ok(false))];
    let mut s = sc.to_vec();
    s.push((Op::PrecopyInfo { fd: FD0, flags: 0 }, Outcome::Err(Errno::EINVAL)));
    run(&m, &s);
    s.pop();
    s.push(info(0, 0));
    assert!(violation(&m, &s).contains(&V2_PRE_002));
}

#[test]
fn descriptors_die_with_their_session() {
    covers!("V2-FD-004", "V2-FD-005");
    let m = all();
    let pre_then_back = [(Op::Set(PreCopy), ok(true)), (Op::Set(Running), ok(false))];
    let mut s = pre_then_back.to_vec();
    s.push((Op::Read { fd: FD0, len: 8 }, Outcome::Err(Errno::ENODEV)));
    run(&m, &s);
    s.pop();
    s.push((Op::Read { fd: FD0, len: 8 }, Outcome::Bytes(0)));
    assert!(violation(&m, &s).contains(&V2_FD_004));
    // After a reset the fd is dead too.
    let s = [
        (Op::Set(StopCopy), ok(true)),
        (Op::Reset, Outcome::Done),
        (Op::Read { fd: FD0, len: 8 }, Outcome::Bytes(8)),
    ];
    assert!(violation(&m, &s).contains(&V2_FD_004));
    // Direction: no writes on the saving fd, no reads on the resuming fd.
    let s = [
        (Op::Set(StopCopy), ok(true)),
        (
            Op::Write {
                fd: FD0,
                len: 4,
                data: DataTag::Garbage,
            },
            Outcome::Bytes(4),
        ),
    ];
    assert!(violation(&m, &s).contains(&V2_FD_005));
    let s = [
        (Op::Set(Resuming), ok(true)),
        (Op::Read { fd: FD0, len: 4 }, Outcome::Bytes(4)),
    ];
    assert!(violation(&m, &s).contains(&V2_FD_005));
    // A closed or never returned fd is EBADF.
    run(
        &m,
        &[(Op::Read { fd: FdRef(3), len: 1 }, Outcome::Err(Errno::EBADF))],
    );
    run(
        &m,
        &[
            (Op::Set(StopCopy), ok(true)),
            (Op::Close { fd: FD0 }, Outcome::Done),
            (Op::Read { fd: FD0, len: 1 }, Outcome::Err(Errno::EBADF)),
        ],
    );
}

fn stream(offset: u64, total: Option<u64>) -> DataTag {
    DataTag::Stream { offset, total }
}

#[test]
fn resume_accepts_exactly_one_complete_stream() {
    covers!("V2-STREAM-004", "V2-STREAM-005", "V2-STREAM-009", "V2-STREAM-012");
    let m = all();
    let res = (Op::Set(Resuming), ok(true));
    let w = |len, data| (Op::Write { fd: FD0, len, data }, Outcome::Bytes(len));
    // 100 bytes written in odd pieces: segmentation need not be kept.
    let good = [
        res,
        w(7, stream(0, Some(100))),
        w(90, stream(7, Some(100))),
        w(3, stream(97, Some(100))),
    ];
    let mut s = good.to_vec();
    s.push((Op::Set(Running), ok(false)));
    let b = run(&m, &s);
    assert_eq!(b.known().unwrap().state, Running);
    // Missing the last 3 bytes: the SET must fail.
    let mut s = good[..3].to_vec();
    s.push((Op::Set(Stop), ok(false)));
    assert_eq!(violation(&m, &s), [V2_STREAM_009]);
    // A failure leaves RESUMING or ERROR.
    let mut s = good[..3].to_vec();
    s.push((Op::Set(Stop), Outcome::Err(Errno::EINVAL)));
    let b = run(&m, &s);
    let states: Vec<_> = b.iter().map(|x| x.state).collect();
    assert!(states.contains(&Resuming) && states.contains(&Error) && states.len() == 2);
    // Bytes of another length, reordered bytes, or an empty resume: refused.
    for bad in [
        vec![res, w(100, DataTag::Garbage)],
        vec![res, w(50, stream(50, Some(100))), w(50, stream(0, Some(100)))],
        vec![res],
        vec![res, w(100, stream(0, None))],
    ] {
        let mut s = bad.clone();
        s.push((Op::Set(Stop), ok(false)));
        assert_eq!(violation(&m, &s), [V2_STREAM_009], "{bad:?}");
    }
    // An empty complete stream is announced by a zero-length write.
    run(
        &m,
        &[
            res,
            (
                Op::Write {
                    fd: FD0,
                    len: 0,
                    data: stream(0, Some(0)),
                },
                Outcome::Bytes(0),
            ),
            (Op::Set(Stop), ok(false)),
        ],
    );
}

/// A device that claims to refuse a resume but took it: the GET that shows
/// the later state blames the refusal's rule and the rule about the state
/// after a refused resume, not the GET.
#[test]
fn a_resume_taken_while_refused_is_blamed_on_the_refusal() {
    covers!("V2-STREAM-009", "V2-STREAM-012");
    let m = all();
    let res = (Op::Set(Resuming), ok(true));
    let half = (
        Op::Write {
            fd: FD0,
            len: 50,
            data: stream(0, Some(100)),
        },
        Outcome::Bytes(50),
    );
    // RESUMING -> STOP -> RUNNING: the device took the half stream, then
    // failed STOP -> RUNNING and says so.
    let steps = [
        res,
        half,
        (Op::Set(Running), Outcome::Err(Errno::EIO)),
        (Op::Get, Outcome::State(Stop.number())),
    ];
    assert_eq!(violation(&m, &steps), [V2_STREAM_009, V2_STREAM_012]);
}

/// What leaving RESUMING is judged by depends on what the device received:
/// a rejected write (V2-STREAM-006), a whole stream with altered bytes
/// (DEC-018: V2-STREAM-010 by default, V2-STREAM-011 under must-detect).
#[test]
fn rejected_writes_and_corrupted_streams_are_judged_apart() {
    covers!("V2-STREAM-006", "V2-STREAM-010", "V2-STREAM-011");
    let res = (Op::Set(Resuming), ok(true));
    let w = |len, data, out| (Op::Write { fd: FD0, len, data }, out);
    // The first write rejected, the rest taken: the resume must fail.
    let rejected = [
        res,
        w(10, stream(0, Some(20)), Outcome::Err(Errno::EFAULT)),
        w(20, stream(0, Some(20)), Outcome::Bytes(20)),
        (Op::Set(Stop), ok(false)),
    ];
    assert_eq!(violation(&all(), &rejected), [V2_STREAM_006]);
    // A whole stream with a corrupted tail, every write taken.
    let corrupted = [
        res,
        w(10, stream(0, Some(20)), Outcome::Bytes(10)),
        w(
            10,
            DataTag::Corrupt {
                offset: 10,
                total: Some(20),
            },
            Outcome::Bytes(10),
        ),
    ];
    let accept = (Op::Set(Stop), ok(false));
    let refuse = (Op::Set(Stop), Outcome::Err(Errno::EINVAL));
    let m = all();
    let b = run(&m, &corrupted);
    let (_, j) = m.advance(&b, &accept.0, &accept.1).unwrap();
    assert_eq!(j, Judgement::Warn(vec![V2_STREAM_010]));
    m.advance(&b, &refuse.0, &refuse.1).unwrap();
    let mut strict = Profile::defaults(ProtocolName::V2);
    strict.decide("DEC-018", "must-detect").unwrap();
    let m = Fsm::new(MigrationFlags::new(0b111).unwrap(), strict, true);
    let b = run(&m, &corrupted);
    let v = m.advance(&b, &accept.0, &accept.1).unwrap_err();
    assert_eq!(v.reqs, [V2_STREAM_011]);
    m.advance(&b, &refuse.0, &refuse.1).unwrap();
    // A device that checks what it is given may refuse altered bytes at
    // once (mtty fails a bad header with EFAULT); the resume must then
    // fail as after any rejected write.
    let corrupt = DataTag::Corrupt {
        offset: 0,
        total: Some(20),
    };
    let checked = [res, w(20, corrupt, Outcome::Err(Errno::EFAULT))];
    let b = run(&m, &checked);
    m.advance(&b, &refuse.0, &refuse.1).unwrap();
    let v = m.advance(&b, &accept.0, &accept.1).unwrap_err();
    assert_eq!(v.reqs, [V2_STREAM_006]);
}

/// A data fd the file layer calls bad before any call on it worked: the
/// SET that returned it broke V2-FD-001; once it worked, EBADF is a fault of
/// the transfer instead.
#[test]
fn a_fresh_fd_that_does_not_work_is_blamed_on_its_set() {
    covers!("V2-FD-001");
    let m = all();
    let sc = (Op::Set(StopCopy), ok(true));
    let read = |out| (Op::Read { fd: FD0, len: 8 }, out);
    assert_eq!(
        violation(&m, &[sc, read(Outcome::Err(Errno::EBADF))]),
        [V2_FD_001]
    );
    let steps = [sc, read(Outcome::Bytes(8))];
    let (_, j) = m
        .advance(
            &run(&m, &steps),
            &read(Outcome::Err(Errno::EBADF)).0,
            &Outcome::Err(Errno::EBADF),
        )
        .unwrap();
    assert_eq!(j, Judgement::Fault(vec![V2_STREAM_001]));
}

/// A GET that contradicts the model names the rule that set the state it
/// should have reported: drifting after a GET breaks V2-STATE-004, a reset
/// that does not reach RUNNING V2-ERR-002, the state right after open
/// V2-STATE-002.
#[test]
fn a_wrong_state_is_blamed_on_what_set_it() {
    covers!("V2-STATE-002", "V2-STATE-004", "V2-ERR-002");
    let m = all();
    let get = |n: MigState| (Op::Get, Outcome::State(n.number()));
    assert_eq!(violation(&m, &[get(Stop)]), [V2_STATE_002]);
    assert_eq!(violation(&m, &[get(Running), get(Stop)]), [V2_STATE_004]);
    assert_eq!(
        violation(
            &m,
            &[(Op::Set(Stop), ok(false)), (Op::Reset, Outcome::Done), get(Stop)]
        ),
        [V2_ERR_002]
    );
    assert_eq!(
        violation(&m, &[(Op::Set(Stop), ok(false)), get(Running)]),
        [V2_ARC_006]
    );
}

#[test]
fn data_size_is_answered_in_any_state() {
    covers!("V2-SIZE-001");
    let m = all();
    run(
        &m,
        &[
            (Op::DataSize, Outcome::Size(96)),
            (Op::Set(StopCopy), ok(true)),
            (Op::DataSize, Outcome::Size(96)),
        ],
    );
    let (_, j) = m
        .advance(&m.start(), &Op::DataSize, &Outcome::Err(Errno::EIO))
        .unwrap();
    assert_eq!(j, Judgement::Fault(vec![V2_SIZE_001]));
}

fn info_of(flags_in: u32, i: u64, d: u64, flags: u32) -> (Op, Outcome) {
    (
        Op::PrecopyInfo {
            fd: FD0,
            flags: flags_in,
        },
        Outcome::Precopy {
            initial_bytes: i,
            dirty_bytes: d,
            flags,
        },
    )
}

fn read(len: u32, out: Outcome) -> (Op, Outcome) {
    (Op::Read { fd: FD0, len }, out)
}

#[test]
fn enomsg_only_once_reported_initial_data_was_read() {
    covers!("V2-PRE-006");
    let m = all();
    let enomsg = Outcome::Err(Errno::ENOMSG);
    let pre = (Op::Set(PreCopy), ok(true));
    // 100 initial bytes promised, 60 read: the temporary end is too early.
    let early = [
        pre,
        info_of(0, 100, 0, 0),
        read(60, Outcome::Bytes(60)),
        read(60, enomsg),
    ];
    assert_eq!(violation(&m, &early), [V2_PRE_006]);
    // All 100 read: now it may come.
    let due = [
        pre,
        info_of(0, 100, 0, 0),
        read(60, Outcome::Bytes(60)),
        read(60, Outcome::Bytes(40)),
        read(60, enomsg),
    ];
    run(&m, &due);
    // Under DEC-013 enomsg-or-zero a 0 read is the temporary end as well,
    // and equally early.
    let mut p = Profile::defaults(ProtocolName::V2);
    p.decide("DEC-013", "enomsg-or-zero").unwrap();
    let lax = Fsm::new(MigrationFlags::new(0b111).unwrap(), p, true);
    let zero = [pre, info_of(0, 100, 0, 0), read(8, Outcome::Bytes(0))];
    assert_eq!(violation(&lax, &zero), [V2_PRE_006]);
}

#[test]
fn data_right_after_zero_and_zero_was_not_counted() {
    covers!("V2-PRE-007");
    let m = all();
    let pre = (Op::Set(PreCopy), ok(true));
    let steps = [pre, info_of(0, 0, 0, 0), read(64, Outcome::Bytes(64))];
    let (last, init) = steps.split_last().unwrap();
    let (_, j) = m.advance(&run(&m, init), &last.0, &last.1).unwrap();
    assert_eq!(j, Judgement::Warn(vec![V2_PRE_007]));
    // Another call in between (the device may have changed meanwhile):
    // the data is fine.
    let steps = [
        pre,
        info_of(0, 0, 0, 0),
        (Op::Get, Outcome::State(6)),
        read(64, Outcome::Bytes(64)),
    ];
    let (last, init) = steps.split_last().unwrap();
    let (_, j) = m.advance(&run(&m, init), &last.0, &last.1).unwrap();
    assert_eq!(j, Judgement::Pass);
    // Dirty data reported: the read is expected.
    let steps = [pre, info_of(0, 0, 16, 0), read(64, Outcome::Bytes(16))];
    let (last, init) = steps.split_last().unwrap();
    let (_, j) = m.advance(&run(&m, init), &last.0, &last.1).unwrap();
    assert_eq!(j, Judgement::Pass);
}

fn feature(number: u16, access: Access, argsz: u32) -> Op {
    Op::Feature(FeatureReq::new(number, access, argsz).unwrap())
}

fn full(number: u16, access: Access) -> Op {
    Op::Feature(FeatureReq::full(number, access).unwrap())
}

fn v73(bits: u64) -> Fsm {
    fsm(bits).with_uapi(Uapi::Linux7_3)
}

#[test]
fn state_machine_accesses_are_not_feature_requests() {
    covers!("V2-FEAT-002", "V2-SIZE-001");
    assert!(FeatureReq::full(2, Access::GET).is_err());
    assert!(FeatureReq::full(2, Access::SET).is_err());
    assert!(FeatureReq::full(9, Access::GET).is_err());
    // Malformed or probing forms are feature requests.
    assert!(FeatureReq::new(2, Access::GET, 12).is_ok());
    assert!(FeatureReq::full(2, Access::probe(true, true)).is_ok());
    assert!(FeatureReq::full(9, Access::SET).is_ok());
}

#[test]
fn migration_feature_reports_the_flags_and_is_read_only() {
    covers!("V2-FLAG-001", "V2-FLAG-004");
    for bits in [0b001, 0b011, 0b101, 0b111] {
        let m = fsm(bits);
        run(&m, &[(full(1, Access::GET), Outcome::Flags(bits))]);
        let other = bits ^ 0b010;
        assert_eq!(
            violation(&m, &[(full(1, Access::GET), Outcome::Flags(other))]),
            [V2_FLAG_001]
        );
    }
    let m = all();
    let einval = Outcome::Err(Errno::EINVAL);
    run(&m, &[(full(1, Access::probe(true, false)), Outcome::Done)]);
    run(&m, &[(full(1, Access::probe(false, true)), einval)]);
    run(&m, &[(full(1, Access::SET), einval)]);
    assert!(violation(&m, &[(full(1, Access::SET), Outcome::Done)]).contains(&V2_FLAG_004));
    assert!(violation(&m, &[(full(1, Access::probe(false, true)), Outcome::Done)]).contains(&V2_FLAG_004));
}

#[test]
fn feature_requests_follow_the_kernels_checks() {
    covers!("V2-FEAT-001", "V2-FEAT-002", "V2-FEAT-003", "V2-FEAT-004");
    let m = all();
    let einval = Outcome::Err(Errno::EINVAL);
    let enotty = Outcome::Err(Errno::ENOTTY);
    // GET and SET together without PROBE.
    let both = Access {
        get: true,
        set: true,
        probe: false,
    };
    run(&m, &[(full(2, both), einval)]);
    assert_eq!(violation(&m, &[(full(2, both), Outcome::Done)]), [V2_FEAT_001]);
    // PROBE of the state feature, any access, succeeds; the state stays.
    for (g, st) in [(true, false), (false, true), (true, true), (false, false)] {
        run(
            &m,
            &[
                (full(2, Access::probe(g, st)), Outcome::Done),
                (Op::Get, Outcome::State(2)),
            ],
        );
    }
    assert!(violation(&m, &[(full(2, Access::probe(true, true)), einval)]).contains(&V2_FEAT_001));
    // argsz below the header, and below the payload without PROBE.
    assert_eq!(
        violation(&m, &[(feature(1, Access::GET, 4), Outcome::Done)]),
        [V2_FEAT_003]
    );
    run(&m, &[(feature(1, Access::GET, 4), einval)]);
    run(
        &m,
        &[
            (feature(2, Access::SET, 12), einval),
            (Op::Get, Outcome::State(2)),
        ],
    );
    assert_eq!(
        violation(&m, &[(feature(2, Access::SET, 12), Outcome::Done)]),
        [V2_FEAT_003]
    );
    run(&m, &[(feature(1, Access::probe(true, false), 8), Outcome::Done)]);
    // An unknown feature fails, whatever the errno; its PROBE too.
    run(&m, &[(full(0x7fff, Access::GET), enotty)]);
    run(&m, &[(full(0x7fff, Access::probe(true, false)), einval)]);
    assert_eq!(
        violation(&m, &[(full(0x7fff, Access::probe(true, false)), Outcome::Done)]),
        [V2_FEAT_004]
    );
    // MIG_DATA_SIZE is a feature only where it is offered.
    let no_size = Fsm::new(
        MigrationFlags::new(0b111).unwrap(),
        Profile::defaults(ProtocolName::V2),
        false,
    );
    run(&no_size, &[(full(9, Access::probe(true, false)), enotty)]);
    run(&m, &[(full(9, Access::probe(true, false)), Outcome::Done)]);
    run(&m, &[(full(9, Access::SET), einval)]);
    // Neither GET nor SET without PROBE.
    run(&m, &[(full(1, Access::default()), einval)]);
}

#[test]
fn precopy_info_v2_opt_in_exists_from_7_3_with_pre_copy_only() {
    covers!("V2-PRE-008");
    let einval = Outcome::Err(Errno::EINVAL);
    // On 6.12 feature 12 is unknown.
    assert_eq!(
        violation(&all(), &[(full(12, Access::SET), Outcome::Done)]),
        [V2_FEAT_004]
    );
    let m = v73(0b111);
    run(&m, &[(full(12, Access::probe(false, true)), Outcome::Done)]);
    run(&m, &[(full(12, Access::SET), Outcome::Done)]);
    run(&m, &[(full(12, Access::GET), einval)]);
    let no_pre = v73(0b011);
    run(&no_pre, &[(full(12, Access::SET), einval)]);
    assert_eq!(
        violation(&no_pre, &[(full(12, Access::SET), Outcome::Done)]),
        [V2_PRE_008]
    );
    assert_eq!(
        violation(&no_pre, &[(full(12, Access::probe(false, true)), Outcome::Done)]),
        [V2_PRE_008]
    );
}

#[test]
fn precopy_flags_are_reserved_without_the_opt_in() {
    covers!("V2-PRE-009");
    let m = v73(0b111);
    let pre = (Op::Set(PreCopy), ok(true));
    run(&m, &[pre, info_of(0xffff_fffe, 10, 0, 0xffff_fffe)]);
    assert_eq!(
        violation(&m, &[pre, info_of(0xffff_fffe, 10, 0, 0)]),
        [V2_PRE_009]
    );
    assert_eq!(violation(&m, &[pre, info_of(0, 10, 0, 1)]), [V2_PRE_009]);
    // On 6.12 the field has no rule.
    run(&all(), &[pre, info_of(0, 10, 0, 1)]);
}

#[test]
fn reinit_after_the_opt_in_restarts_the_count() {
    covers!("V2-PRE-010", "V2-PRE-003");
    let m = v73(0b111);
    let opt = (full(12, Access::SET), Outcome::Done);
    let pre = (Op::Set(PreCopy), ok(true));
    // Flags cleared; REINIT lets initial_bytes grow; after it the count
    // falls again.
    run(
        &m,
        &[
            opt,
            pre,
            info_of(0xffff_fffe, 100, 0, 0),
            info_of(0, 300, 0, 1),
            info_of(0, 200, 0, 0),
        ],
    );
    // Growing without REINIT breaks the MUST once opted in.
    assert_eq!(
        violation(&m, &[opt, pre, info_of(0, 100, 0, 0), info_of(0, 300, 0, 0)]),
        [V2_PRE_010]
    );
    // A bit other than REINIT, or the input left standing.
    assert_eq!(violation(&m, &[opt, pre, info_of(0, 100, 0, 2)]), [V2_PRE_010]);
    assert_eq!(
        violation(&m, &[opt, pre, info_of(0xffff_fffe, 100, 0, 0xffff_fffe)]),
        [V2_PRE_010]
    );
}

#[test]
fn the_opt_in_survives_reset_and_ends_with_the_open() {
    covers!("V2-PRE-011");
    let m = v73(0b111);
    let opt = (full(12, Access::SET), Outcome::Done);
    let pre = (Op::Set(PreCopy), ok(true));
    // Reset keeps it: flags are still cleared afterwards.
    let b = run(&m, &[opt, (Op::Reset, Outcome::Done), pre]);
    assert!(b.iter().all(|s| s.opted_in));
    let steps = [
        opt,
        (Op::Reset, Outcome::Done),
        pre,
        info_of(0xffff_fffe, 10, 0, 0xffff_fffe),
    ];
    // A device that lost it in the reset hands the flags back as passed.
    assert_eq!(violation(&m, &steps), [V2_PRE_011]);
    // A fresh open starts without it.
    assert!(m.start().iter().all(|s| !s.opted_in));
    // After a close, an opt-in that still holds clears the flags.
    let b = run(&m, &[opt]);
    let reopened = m.reopen(&b);
    assert!(reopened.iter().all(|s| !s.opted_in && s.opt_in_closed));
    let b = m.advance(&reopened, &pre.0, &pre.1).unwrap().0;
    let (op, out) = info_of(0xffff_fffe, 10, 0, 0);
    assert_eq!(m.advance(&b, &op, &out).unwrap_err().reqs, [V2_PRE_011]);
    let (op, out) = info_of(0xffff_fffe, 10, 0, 0xffff_fffe);
    m.advance(&b, &op, &out).unwrap();
}

#[test]
fn a_refusal_leaves_the_state_as_it_was() {
    covers!("V2-ERR-004", "V2-ARC-008", "V2-ARC-007");
    let m = all();
    let einval = Outcome::Err(Errno::EINVAL);
    // SET ERROR is refused; a GET that then reports ERROR blames the
    // refusal's rule and V2-ERR-004.
    let steps = [(Op::Set(Error), einval), (Op::Get, Outcome::State(0))];
    assert_eq!(violation(&m, &steps), [V2_ARC_008, V2_ERR_004]);
    // A blocked arc the same way.
    let steps = [
        (Op::Set(StopCopy), ok(true)),
        (Op::Set(PreCopy), einval),
        (Op::Get, Outcome::State(0)),
    ];
    assert_eq!(violation(&m, &steps), [V2_ARC_007, V2_ERR_004]);
    run(&m, &[(Op::Set(Error), einval), (Op::Get, Outcome::State(2))]);
}

/// A data fd the user closed is bad to the file layer from then on,
/// whatever its number: only EBADF may answer a read on it.
#[test]
fn a_closed_fd_is_bad_whatever_its_number() {
    covers!("V2-FD-004");
    let m = all();
    // fd#0 from the first STOP_COPY, fd#1 from the second; fd#1 closed.
    let steps = [
        (Op::Set(StopCopy), ok(true)),
        (Op::Set(Stop), ok(false)),
        (Op::Set(StopCopy), ok(true)),
        (Op::Close { fd: FdRef(1) }, Outcome::Done),
    ];
    let b = run(&m, &steps);
    let read = Op::Read { fd: FdRef(1), len: 8 };
    m.advance(&b, &read, &Outcome::Err(Errno::EBADF)).unwrap();
    assert!(m.advance(&b, &read, &Outcome::Bytes(8)).is_err());
}

/// Leaving ERROR by a SET breaks V2-ERR-003 (only a reset leaves it), not
/// the arc table's rule.
#[test]
fn a_set_out_of_error_is_blamed_on_the_error_rule() {
    covers!("V2-ERR-003");
    let m = all();
    let into_error = [
        (Op::Set(StopCopy), Outcome::Err(Errno::EIO)),
        (Op::Get, Outcome::State(Error.number())),
    ];
    let mut steps = into_error.to_vec();
    steps.push((Op::Set(Running), ok(false)));
    assert_eq!(violation(&m, &steps), [V2_ERR_003]);
}

/// No path leads into or out of ERROR, or from or to a state the flags do
/// not provide: such a SET is refused, never carried out.
#[test]
fn no_path_touches_error_or_an_unsupported_state() {
    covers!("V2-ARC-008", "V2-ERR-003", "V2-FLAG-003");
    use vfio_mig_model::v2::arcs::shortest_paths;
    for flags in MigrationFlags::accepted() {
        for from in MigState::ALL {
            for to in MigState::ALL {
                let refused = from == Error || to == Error || !flags.supports(from) || !flags.supports(to);
                if refused {
                    assert!(
                        shortest_paths(flags, from, to).is_empty(),
                        "{flags:?}: {from} -> {to}"
                    );
                }
            }
        }
    }
}

/// The model judges PRECOPY_INFO as a device with PRE_COPY answers it.
#[test]
fn precopy_info_is_judged_when_the_device_has_pre_copy() {
    covers!("V2-PRE-001");
    assert!(fsm(0b101).precopy_info());
}
