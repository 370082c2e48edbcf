//! Rules of the v2 model that the broader tests of v2_model.rs leave open:
//! which rule a violation names (combinations, refusals of unsupported
//! states, fds that never worked), what happens to a data session on the
//! edges of the protocol (a SET of the current state, a failed reset, an
//! old fd, writes the device took nothing of or may retry, a probe of the
//! opt-in), PRECOPY_INFO on every kind of fd, and the texts and numbers the
//! model hands to reports and adapters (feature numbers and names, rendered
//! operations, paths and refused flag words, examples drawn from patterns).

mod common;

use common::{all, fsm, judgement, run, violation};

use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::{
    Access, DataTag, Expect, FdRef, Feature, FeatureReq, FlagsOut, Fsm, MigState, MigrationFlags, Op,
    Outcome, PathTable,
};
use vfio_mig_model::{Errno, Expectation, Judgement, Profile, Protocol, ProtocolName, Uapi};
use MigState::*;

fn ok(fd: bool) -> Outcome {
    Outcome::SetOk { fd }
}

const FD0: FdRef = FdRef(0);

fn read(fd: FdRef, len: u32, out: Outcome) -> (Op, Outcome) {
    (Op::Read { fd, len }, out)
}

fn write(len: u32, data: DataTag, out: Outcome) -> (Op, Outcome) {
    (Op::Write { fd: FD0, len, data }, out)
}

fn stream(offset: u64, total: Option<u64>) -> DataTag {
    DataTag::Stream { offset, total }
}

fn info(fd: FdRef, flags_in: u32, out: Outcome) -> (Op, Outcome) {
    (Op::PrecopyInfo { fd, flags: flags_in }, out)
}

fn answer(initial_bytes: u64, dirty_bytes: u64, flags: u32) -> Outcome {
    Outcome::Precopy {
        initial_bytes,
        dirty_bytes,
        flags,
    }
}

// ---------------------------------------------------------------------
// Which rule a violation names
// ---------------------------------------------------------------------

/// V2-PATH-005 governs SETs carried out as a combination of arcs: a wrong
/// answer to one names it, a wrong answer to a single arc or to a SET of
/// the current state does not.
#[test]
fn only_combinations_name_the_combination_rule() {
    covers!("V2-PATH-005", "V2-ARC-009", "V2-FD-001");
    let m = all();
    // RUNNING -> STOP_COPY is three arcs (through RUNNING_P2P and STOP)
    // with P2P; the fd it must return is missing.
    assert_eq!(m.table().path(Running, StopCopy).unwrap().arcs(), 3);
    let combination = violation(&m, &[(Op::Set(StopCopy), ok(false))]);
    assert!(combination.contains(&V2_PATH_005), "{combination:?}");
    // STOP -> STOP_COPY is one arc.
    let stop = (Op::Set(Stop), ok(false));
    assert_eq!(m.table().path(Stop, StopCopy).unwrap().arcs(), 1);
    let single = violation(&m, &[stop, (Op::Set(StopCopy), ok(false))]);
    assert!(single.contains(&V2_FD_001), "{single:?}");
    assert!(!single.contains(&V2_PATH_005), "{single:?}");
    // RUNNING -> RUNNING is no arc at all; a fd is wrong there.
    let none = violation(&m, &[(Op::Set(Running), ok(true))]);
    assert!(none.contains(&V2_ARC_009), "{none:?}");
    assert!(!none.contains(&V2_PATH_005), "{none:?}");
}

/// Leaving the saving group opens no session: a fd returned then breaks
/// V2-FD-003, not the rule about moves inside the group.
#[test]
fn leaving_the_saving_group_returns_no_fd() {
    covers!("V2-FD-003", "V2-FD-002");
    let m = all();
    let pre = (Op::Set(PreCopy), ok(true));
    let reqs = violation(&m, &[pre, (Op::Set(Running), ok(true))]);
    assert!(reqs.contains(&V2_FD_003), "{reqs:?}");
    assert!(!reqs.contains(&V2_FD_002), "{reqs:?}");
    // Inside the group it is the other way round.
    let reqs = violation(&m, &[pre, (Op::Set(StopCopy), ok(true))]);
    assert!(reqs.contains(&V2_FD_002), "{reqs:?}");
    assert!(!reqs.contains(&V2_FD_003), "{reqs:?}");
}

/// A SET of a state the flags do not provide is refused because of the
/// flags (V2-FLAG-003); a device that moved anyway is blamed on that rule
/// and on V2-ERR-004, not on the arc table's V2-ARC-007.
#[test]
fn a_refused_set_of_an_unsupported_state_is_blamed_on_the_flags() {
    covers!("V2-FLAG-003", "V2-ERR-004");
    let m = fsm(0b001);
    let refused = (Op::Set(RunningP2p), Outcome::Err(Errno::EINVAL));
    let b = run(&m, &[refused]);
    assert_eq!(b.known().unwrap().state, Running);
    let moved = [refused, (Op::Get, Outcome::State(Stop.number()))];
    assert_eq!(violation(&m, &moved), [V2_FLAG_003, V2_ERR_004]);
    // A supported state the table refuses is the arc table's: STOP_COPY
    // cannot go to PRE_COPY even with every flag.
    let m = all();
    let steps = [
        (Op::Set(StopCopy), ok(true)),
        (Op::Set(PreCopy), Outcome::Err(Errno::EINVAL)),
        (Op::Get, Outcome::State(Stop.number())),
    ];
    assert_eq!(violation(&m, &steps), [V2_ARC_007, V2_ERR_004]);
}

/// In ERROR every SET is refused because of the error state (V2-ERR-003),
/// whether the target is supported or not; a device whose state moved
/// after such a refusal is blamed on that rule and on V2-ERR-004, not on
/// the arc table or the flags.
#[test]
fn a_refused_set_in_error_that_moved_is_blamed_on_the_error_rule() {
    covers!("V2-ERR-003", "V2-ERR-004");
    for (m, to) in [(all(), Stop), (all(), PreCopy), (fsm(0b001), RunningP2p)] {
        let steps = [
            (Op::Reset, Outcome::Err(Errno::EIO)),
            (Op::Get, Outcome::State(Error.number())),
            (Op::Set(to), Outcome::Err(Errno::EINVAL)),
        ];
        assert_eq!(judgement(&m, &steps), Judgement::Pass, "{to}");
        assert_eq!(run(&m, &steps).known().unwrap().state, Error);
        let mut moved = steps.to_vec();
        moved.push((Op::Get, Outcome::State(Running.number())));
        assert_eq!(violation(&m, &moved), [V2_ERR_003, V2_ERR_004], "{to}");
    }
}

// ---------------------------------------------------------------------
// PRECOPY_INFO on every kind of fd
// ---------------------------------------------------------------------

/// A fd the device never returned is bad to the file layer: PRECOPY_INFO on
/// it answers EBADF, nothing else.
#[test]
fn precopy_info_on_a_fd_never_returned_is_ebadf() {
    covers!("V2-FD-004", "V2-PRE-001");
    let m = all();
    let pre = (Op::Set(PreCopy), ok(true));
    let never = FdRef(5);
    run(&m, &[pre, info(never, 0, Outcome::Err(Errno::EBADF))]);
    let reqs = violation(&m, &[pre, info(never, 0, Outcome::Err(Errno::EINVAL))]);
    assert!(reqs.contains(&V2_FD_004), "{reqs:?}");
    // Before any session was opened too.
    let reqs = violation(&m, &[info(FD0, 0, Outcome::Err(Errno::ENOTTY))]);
    assert!(reqs.contains(&V2_FD_004), "{reqs:?}");
}

/// PRECOPY_INFO calling a fresh saving fd bad means the SET returned no
/// working fd (V2-FD-001); once a call on the fd has worked, EBADF is a
/// fault of PRECOPY_INFO itself.
#[test]
fn precopy_info_calling_a_fresh_fd_bad_is_blamed_on_its_set() {
    covers!("V2-FD-001", "V2-PRE-001");
    let m = all();
    let pre = (Op::Set(PreCopy), ok(true));
    let ebadf = info(FD0, 0, Outcome::Err(Errno::EBADF));
    assert_eq!(violation(&m, &[pre, ebadf]), [V2_FD_001]);
    let worked = info(FD0, 0, answer(64, 0, 0));
    assert_eq!(
        judgement(&m, &[pre, worked, ebadf]),
        Judgement::Fault(vec![V2_PRE_001])
    );
}

/// On the saving fd of a session that has moved on to STOP_COPY,
/// PRECOPY_INFO fails with EINVAL and no other errno.
#[test]
fn precopy_info_in_stop_copy_fails_with_einval() {
    covers!("V2-PRE-002");
    let m = all();
    let moved_on = [(Op::Set(PreCopy), ok(true)), (Op::Set(StopCopy), ok(false))];
    let mut steps = moved_on.to_vec();
    steps.push(info(FD0, 0, Outcome::Err(Errno::EINVAL)));
    assert_eq!(judgement(&m, &steps), Judgement::Pass);
    for e in [Errno::EIO, Errno::ENOTTY, Errno::ENOMSG] {
        let mut steps = moved_on.to_vec();
        steps.push(info(FD0, 0, Outcome::Err(e)));
        let reqs = violation(&m, &steps);
        assert!(reqs.contains(&V2_PRE_002), "{e}: {reqs:?}");
    }
}

/// On a transport without VFIO_MIG_GET_PRECOPY_INFO (vfio-user) the model
/// says so, and the call fails instead of reporting counts.
#[test]
fn without_precopy_info_on_the_transport_the_call_fails() {
    covers!("V2-PRE-001");
    let m = all().with_precopy_info(false);
    assert!(!m.precopy_info());
    assert!(all().with_precopy_info(true).precopy_info());
    let pre = (Op::Set(PreCopy), ok(true));
    run(&m, &[pre, info(FD0, 0, Outcome::Err(Errno::ENOTTY))]);
    assert_eq!(violation(&m, &[pre, info(FD0, 0, answer(0, 0, 0))]), [V2_PRE_001]);
}

// ---------------------------------------------------------------------
// Data fds and sessions
// ---------------------------------------------------------------------

/// A call that failed proves nothing about the fd: a read that failed with
/// EIO, then one that calls the fresh fd bad, still blames the SET.
#[test]
fn a_failed_call_does_not_show_the_fd_is_good() {
    covers!("V2-FD-001", "V2-STREAM-001");
    let m = all();
    let sc = (Op::Set(StopCopy), ok(true));
    let eio = read(FD0, 8, Outcome::Err(Errno::EIO));
    assert_eq!(judgement(&m, &[sc, eio]), Judgement::Fault(vec![V2_STREAM_001]));
    let ebadf = read(FD0, 8, Outcome::Err(Errno::EBADF));
    assert_eq!(violation(&m, &[sc, eio, ebadf]), [V2_FD_001]);
}

/// Closing a fd the device never returned, or one already closed, is the
/// file layer's EBADF: a close that worked on such a number would mean the
/// device handed out a fd the model does not know of.
#[test]
fn closing_a_fd_never_returned_or_already_closed_is_ebadf() {
    covers!("V2-FD-004");
    let m = all();
    let never = (Op::Close { fd: FdRef(3) }, Outcome::Err(Errno::EBADF));
    assert_eq!(judgement(&m, &[never]), Judgement::Pass);
    let worked = (Op::Close { fd: FdRef(3) }, Outcome::Done);
    assert_eq!(violation(&m, &[worked]), [V2_FD_004]);
    let sc = (Op::Set(StopCopy), ok(true));
    let close = (Op::Close { fd: FD0 }, Outcome::Done);
    assert_eq!(judgement(&m, &[sc, close]), Judgement::Pass);
    let again = (Op::Close { fd: FD0 }, Outcome::Err(Errno::EBADF));
    assert_eq!(judgement(&m, &[sc, close, again]), Judgement::Pass);
    assert_eq!(violation(&m, &[sc, close, close]), [V2_FD_004]);
}

/// A fd returned for an earlier session does not reach the session opened
/// later: it is dead (V2-FD-004) while the new fd carries the stream.
#[test]
fn an_old_fd_does_not_reach_the_new_session() {
    covers!("V2-FD-004", "V2-FD-001");
    let m = fsm(0b001);
    let steps = [
        (Op::Set(StopCopy), ok(true)),
        (Op::Set(Stop), ok(false)),
        (Op::Set(StopCopy), ok(true)),
    ];
    let mut old = steps.to_vec();
    old.push(read(FD0, 8, Outcome::Bytes(8)));
    assert!(violation(&m, &old).contains(&V2_FD_004));
    let mut old = steps.to_vec();
    old.push(read(FD0, 8, Outcome::Err(Errno::ENODEV)));
    assert_eq!(judgement(&m, &old), Judgement::Pass);
    let mut new = steps.to_vec();
    new.push(read(FdRef(1), 8, Outcome::Bytes(8)));
    assert_eq!(judgement(&m, &new), Judgement::Pass);
}

/// Closing a fd numbered beyond the first 64 the model tracks closes no
/// other fd: the first one is still dead, not bad.
#[test]
fn closing_a_fd_beyond_the_first_64_closes_no_other() {
    covers!("V2-FD-004");
    let m = fsm(0b001);
    let mut steps = Vec::new();
    // 65 saving sessions, fd#0 to fd#64, each ended by going to STOP.
    for _ in 0..65 {
        steps.push((Op::Set(StopCopy), ok(true)));
        steps.push((Op::Set(Stop), ok(false)));
    }
    steps.push((Op::Close { fd: FdRef(64) }, Outcome::Done));
    let b = run(&m, &steps);
    assert_eq!(b.known().unwrap().fds, 65);
    // fd#0 was never closed: its session ended, so any errno may answer,
    // not only the file layer's EBADF.
    let read0 = Op::Read { fd: FD0, len: 8 };
    let (_, j) = m.advance(&b, &read0, &Outcome::Err(Errno::ENODEV)).unwrap();
    assert_eq!(j, Judgement::Pass);
}

/// A SET of the state the device is in changes nothing: an open resuming
/// session stays open and the stream goes on (V2-ARC-009).
#[test]
fn setting_the_current_state_keeps_the_resuming_session() {
    covers!("V2-ARC-009", "V2-STREAM-005");
    let m = all();
    let steps = [
        (Op::Set(Resuming), ok(true)),
        write(10, stream(0, Some(20)), Outcome::Bytes(10)),
        (Op::Set(Resuming), ok(false)),
        write(10, stream(10, Some(20)), Outcome::Bytes(10)),
        (Op::Set(Stop), ok(false)),
    ];
    let b = run(&m, &steps);
    assert_eq!(b.known().unwrap().state, Stop);
}

/// A reset that failed may have done nothing, or reset the device, or
/// left it broken: each state a GET then reports is allowed.
#[test]
fn a_failed_reset_may_leave_the_state_or_reach_running_or_error() {
    covers!("V2-ERR-002");
    let m = all();
    let steps = [(Op::Set(Stop), ok(false)), (Op::Reset, Outcome::Err(Errno::EIO))];
    assert_eq!(judgement(&m, &steps), Judgement::Fault(vec![V2_ERR_002]));
    let b = run(&m, &steps);
    let mut states: Vec<_> = b.iter().map(|s| s.state).collect();
    states.sort();
    assert_eq!(states, [Error, Stop, Running]);
    for s in [Stop, Running, Error] {
        let mut get = steps.to_vec();
        get.push((Op::Get, Outcome::State(s.number())));
        assert_eq!(judgement(&m, &get), Judgement::Pass, "{s}");
    }
    // A state it cannot have reached breaks the reset's rule.
    let mut get = steps.to_vec();
    get.push((Op::Get, Outcome::State(Resuming.number())));
    assert_eq!(violation(&m, &get), [V2_ERR_002]);
}

// ---------------------------------------------------------------------
// The saving stream
// ---------------------------------------------------------------------

/// A read that returns 0 in pre-copy (asking for nothing, or the temporary
/// end under DEC-013 enomsg-or-zero) is not the end of the stream: in
/// STOP_COPY after it, data is what the device should send.
#[test]
fn the_temporary_end_of_pre_copy_is_not_the_end_of_the_stream() {
    covers!("V2-STREAM-002", "V2-PRE-004", "V2-STREAM-003");
    let m = all();
    let pre = (Op::Set(PreCopy), ok(true));
    let sc = (Op::Set(StopCopy), ok(false));
    let data = read(FD0, 8, Outcome::Bytes(8));
    let empty = read(FD0, 0, Outcome::Bytes(0));
    assert_eq!(judgement(&m, &[pre, empty, sc, data]), Judgement::Pass);
    let mut p = Profile::defaults(ProtocolName::V2);
    p.decide("DEC-013", "enomsg-or-zero").unwrap();
    let lax = Fsm::new(MigrationFlags::new(0b111).unwrap(), p, true);
    let zero = read(FD0, 8, Outcome::Bytes(0));
    assert_eq!(judgement(&lax, &[pre, zero, sc, data]), Judgement::Pass);
    // The end in STOP_COPY is the permanent one: data after it only warns.
    let end = read(FD0, 8, Outcome::Bytes(0));
    assert_eq!(
        judgement(&m, &[pre, sc, end, data]),
        Judgement::Warn(vec![V2_STREAM_002])
    );
}

// ---------------------------------------------------------------------
// The resuming stream
// ---------------------------------------------------------------------

/// Altered bytes written out of their place and taken whole do not make a
/// complete, merely corrupted stream: the bytes in order are missing, so
/// the resume must be refused as incomplete (V2-STREAM-009), not only as
/// the SHOULD about corruption (V2-STREAM-010).
#[test]
fn altered_bytes_out_of_place_leave_the_stream_incomplete() {
    covers!("V2-STREAM-009", "V2-STREAM-010");
    let m = all();
    let res = (Op::Set(Resuming), ok(true));
    let misplaced = DataTag::Corrupt {
        offset: 5,
        total: Some(10),
    };
    let steps = [
        res,
        write(10, misplaced, Outcome::Bytes(10)),
        (Op::Set(Stop), ok(false)),
    ];
    assert_eq!(violation(&m, &steps), [V2_STREAM_009]);
    // In their place, the same bytes make a corrupted whole stream.
    let in_place = DataTag::Corrupt {
        offset: 0,
        total: Some(10),
    };
    let steps = [
        res,
        write(10, in_place, Outcome::Bytes(10)),
        (Op::Set(Stop), ok(false)),
    ];
    assert_eq!(judgement(&m, &steps), Judgement::Warn(vec![V2_STREAM_010]));
}

/// Under DEC-004 eagain-retry (the default) a write that failed with
/// EAGAIN or EINTR may be repeated: the device rejected nothing, and the
/// whole stream written after it must load. Under any-error-fatal the same
/// failure is a rejection and the resume must fail (V2-STREAM-006).
#[test]
fn a_write_to_retry_does_not_spoil_the_stream() {
    covers!("V2-STREAM-006", "V2-STREAM-005", "V2-STREAM-004");
    let res = (Op::Set(Resuming), ok(true));
    let whole = stream(0, Some(20));
    let leave = (Op::Set(Stop), ok(false));
    let m = all();
    for e in [Errno::EAGAIN, Errno::EINTR] {
        let steps = [
            res,
            write(20, whole, Outcome::Err(e)),
            write(20, whole, Outcome::Bytes(20)),
            leave,
        ];
        assert_eq!(judgement(&m, &steps), Judgement::Pass, "{e}");
    }
    let mut p = Profile::defaults(ProtocolName::V2);
    p.decide("DEC-004", "any-error-fatal").unwrap();
    let strict = Fsm::new(MigrationFlags::new(0b111).unwrap(), p, true);
    let steps = [
        res,
        write(20, whole, Outcome::Err(Errno::EAGAIN)),
        write(20, whole, Outcome::Bytes(20)),
        leave,
    ];
    assert_eq!(violation(&strict, &steps), [V2_STREAM_006]);
}

/// A write the device took nothing of leaves the stream as it was: bytes
/// that are not the stream, refused by taking 0 of them, do not stop the
/// whole stream written afterwards from loading.
#[test]
fn a_write_that_took_nothing_leaves_the_stream_as_it_was() {
    covers!("V2-STREAM-004", "V2-STREAM-005", "V2-STREAM-006");
    let m = all();
    let res = (Op::Set(Resuming), ok(true));
    for stray in [DataTag::Garbage, stream(10, Some(20))] {
        let steps = [
            res,
            write(10, stray, Outcome::Bytes(0)),
            write(20, stream(0, Some(20)), Outcome::Bytes(20)),
            (Op::Set(Stop), ok(false)),
        ];
        assert_eq!(judgement(&m, &steps), Judgement::Pass, "{stray:?}");
    }
    // Taken, the same bytes spoil it.
    let steps = [
        res,
        write(10, DataTag::Garbage, Outcome::Bytes(10)),
        write(20, stream(0, Some(20)), Outcome::Bytes(20)),
        (Op::Set(Stop), ok(false)),
    ];
    assert_eq!(violation(&m, &steps), [V2_STREAM_009]);
}

// ---------------------------------------------------------------------
// The PRECOPY_INFOv2 opt-in and the uAPI revision
// ---------------------------------------------------------------------

/// A PROBE of the PRECOPY_INFOv2 feature only asks whether the SET would
/// work: it does not opt in, so the flags of PRECOPY_INFO stay reserved
/// and are handed back as passed.
#[test]
fn probing_the_opt_in_does_not_opt_in() {
    covers!("V2-PRE-008", "V2-PRE-009");
    let m = all().with_uapi(Uapi::Linux7_3);
    let probe = (
        Op::Feature(FeatureReq::full(12, Access::probe(false, true)).unwrap()),
        Outcome::Done,
    );
    let pre = (Op::Set(PreCopy), ok(true));
    let b = run(&m, &[probe, pre]);
    assert!(b.iter().all(|s| !s.opted_in));
    let handed_back = info(FD0, 0xffff_fffe, answer(10, 0, 0xffff_fffe));
    assert_eq!(judgement(&m, &[probe, pre, handed_back]), Judgement::Pass);
    let cleared = info(FD0, 0xffff_fffe, answer(10, 0, 0));
    assert_eq!(violation(&m, &[probe, pre, cleared]), [V2_PRE_009]);
    // The SET itself opts in.
    let set = (
        Op::Feature(FeatureReq::full(12, Access::SET).unwrap()),
        Outcome::Done,
    );
    let b = run(&m, &[set]);
    assert!(b.iter().all(|s| s.opted_in));
}

/// The model says which uAPI revision it judges by: the oldest, 6.12,
/// unless it was told another.
#[test]
fn the_model_judges_by_the_uapi_revision_it_was_given() {
    covers!("V2-PRE-008", "V2-PRE-009");
    assert_eq!(all().uapi(), Uapi::Linux6_12);
    assert_eq!(all().with_uapi(Uapi::Linux7_3).uapi(), Uapi::Linux7_3);
    assert_eq!(
        all().with_uapi(Uapi::Linux7_3).with_uapi(Uapi::Linux6_12).uapi(),
        Uapi::Linux6_12
    );
}

// ---------------------------------------------------------------------
// Numbers and texts
// ---------------------------------------------------------------------

/// Each feature carries the uAPI's number and the name of its
/// VFIO_DEVICE_FEATURE_* constant (include/uapi/linux/vfio.h, Linux 6.12;
/// feature 12 from Linux 7.3), and the number leads back to the feature.
#[test]
fn feature_numbers_and_names_are_the_uapis() {
    covers!("V2-FLAG-001", "V2-FEAT-002", "V2-SIZE-001", "V2-PRE-008");
    let features = [
        (Feature::Migration, 1, "VFIO_DEVICE_FEATURE_MIGRATION"),
        (Feature::MigDeviceState, 2, "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE"),
        (Feature::MigDataSize, 9, "VFIO_DEVICE_FEATURE_MIG_DATA_SIZE"),
        (
            Feature::PrecopyInfoV2,
            12,
            "VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2",
        ),
    ];
    for (f, number, symbol) in features {
        assert_eq!(f.number(), number, "{symbol}");
        assert_eq!(Feature::of(number), Some(f), "{symbol}");
        assert_eq!(format!("VFIO_DEVICE_FEATURE_{}", f.name()), symbol);
    }
    // The DMA logging features (6, 7, 8) are not migration features.
    for n in [0, 3, 6, 7, 8, 10, 11] {
        assert_eq!(Feature::of(n), None, "feature {n}");
    }
}

/// A feature request prints its accesses, its feature by number and name,
/// and its argsz: what a report needs to show which request failed.
#[test]
fn feature_requests_print_their_access_feature_and_size() {
    covers!("V2-FEAT-001", "V2-FEAT-003");
    assert_eq!(Access::GET.to_string(), "GET");
    assert_eq!(Access::SET.to_string(), "SET");
    let probe_both = Access::probe(true, true).to_string();
    for word in ["PROBE", "GET", "SET"] {
        assert!(probe_both.contains(word), "{probe_both}");
    }
    let probe_get = Access::probe(true, false).to_string();
    assert!(probe_get.contains("PROBE") && probe_get.contains("GET") && !probe_get.contains("SET"));
    // A request naming no access at all still says so.
    let nothing = Access::default().to_string();
    assert!(!nothing.is_empty() && !nothing.contains("GET") && !nothing.contains("SET"));

    let req = FeatureReq::new(1, Access::GET, 16).unwrap();
    let text = req.to_string();
    for part in ["GET", " 1 ", "MIGRATION", "16"] {
        assert!(text.contains(part), "{text} lacks {part:?}");
    }
    let text = FeatureReq::new(12, Access::probe(false, true), 8)
        .unwrap()
        .to_string();
    for part in ["PROBE", "SET", "12", "MIG_PRECOPY_INFOv2"] {
        assert!(text.contains(part), "{text} lacks {part:?}");
    }
    let text = FeatureReq::new(0x7fff, Access::GET, 24).unwrap().to_string();
    assert!(text.contains("32767") && text.contains("24"), "{text}");
}

/// Operations print what they do and on which fd, so that a violation says
/// which call broke the rule.
#[test]
fn operations_print_what_they_do() {
    covers!("V2-ARC-006", "V2-FD-004", "V2-STREAM-003");
    let fd = FdRef(7);
    let fd_text = fd.to_string();
    assert!(fd_text.contains('7'), "{fd_text}");
    let cases = [
        (Op::Set(StopCopy), vec!["SET", "STOP_COPY"]),
        (Op::SetRaw(4), vec!["SET", "RESUMING"]),
        (Op::SetRaw(99), vec!["SET", "99"]),
        (Op::Get, vec!["GET"]),
        (Op::Read { fd, len: 4096 }, vec!["read", &fd_text, "4096"]),
        (
            Op::Write {
                fd,
                len: 512,
                data: stream(1024, Some(4096)),
            },
            vec!["write", &fd_text, "512", "1024"],
        ),
        (
            Op::Write {
                fd,
                len: 512,
                data: DataTag::Garbage,
            },
            vec!["write", &fd_text, "512", "garbage"],
        ),
        (Op::PrecopyInfo { fd, flags: 0 }, vec!["PRECOPY_INFO", &fd_text]),
        (
            Op::PrecopyInfo { fd, flags: 1 },
            vec!["PRECOPY_INFO", &fd_text, "0x1"],
        ),
        (Op::DataSize, vec!["MIG_DATA_SIZE"]),
        (
            Op::Feature(FeatureReq::full(1, Access::GET).unwrap()),
            vec!["GET", "MIGRATION"],
        ),
        (Op::Close { fd }, vec!["close", &fd_text]),
        (Op::Reset, vec!["RESET"]),
    ];
    for (op, parts) in cases {
        let text = op.to_string();
        for part in parts {
            assert!(text.contains(part), "{op:?} prints {text:?}, lacking {part:?}");
        }
    }
    // The rendered operation is what a violation reports.
    let m = all();
    let v = m.advance(&m.start(), &Op::Set(StopCopy), &ok(false)).unwrap_err();
    assert!(v.op.contains("STOP_COPY"), "{}", v.op);
}

/// Outcomes print what the device answered, with the numbers in them, so
/// that a violation shows what was observed.
#[test]
fn outcomes_print_what_the_device_answered() {
    covers!("V2-STATE-003", "V2-PRE-001", "V2-SIZE-001", "V2-FLAG-001");
    let cases = [
        (ok(true), vec!["ok", "fd"]),
        (ok(false), vec!["ok", "no"]),
        (Outcome::State(3), vec!["STOP_COPY"]),
        (Outcome::State(42), vec!["42"]),
        (Outcome::Bytes(4096), vec!["4096"]),
        (answer(100, 7, 0), vec!["100", "7"]),
        (answer(0, 0, 1), vec!["REINIT"]),
        (answer(0, 0, 0x30), vec!["0x30"]),
        (Outcome::Size(65536), vec!["65536"]),
        (Outcome::Flags(0b101), vec!["0x5"]),
        (Outcome::Done, vec!["ok"]),
        (Outcome::Err(Errno::ENOMSG), vec!["ENOMSG"]),
    ];
    for (out, parts) in cases {
        let text = out.to_string();
        for part in parts {
            assert!(text.contains(part), "{out:?} prints {text:?}, lacking {part:?}");
        }
    }
    // The observed outcome is what a violation reports.
    let m = all();
    let v = m.advance(&m.start(), &Op::Set(StopCopy), &ok(false)).unwrap_err();
    assert_eq!(v.observed, ok(false).to_string());
    assert!(v.observed.contains("no"), "{}", v.observed);
}

/// A refused flag word says what is wrong with it, and shows it.
#[test]
fn refused_flag_words_say_why() {
    covers!("V2-FLAG-002");
    let missing = MigrationFlags::new(0b110).unwrap_err().to_string();
    assert!(
        missing.contains("STOP_COPY") && missing.contains("0x6"),
        "{missing}"
    );
    let unknown = MigrationFlags::new(0b1001).unwrap_err().to_string();
    assert!(
        unknown.contains("0x9") && unknown.contains("undefined"),
        "{unknown}"
    );
}

/// A path prints, also in debug form, its states from source to target.
#[test]
fn a_path_prints_its_states_in_order() {
    covers!("V2-PATH-001");
    let table = PathTable::derive(MigrationFlags::new(0b111).unwrap());
    let path = table.path(Running, StopCopy).unwrap();
    let text = format!("{path:?}");
    assert_eq!(text, path.to_string());
    // Each state's name appears after the previous one's.
    let mut rest = text.as_str();
    for s in path.states() {
        let at = rest
            .find(s.name())
            .unwrap_or_else(|| panic!("{text} lacks {s} in order"));
        rest = &rest[at + s.name().len()..];
    }
    assert_eq!(path.states().len(), 4);
}

/// Examples drawn from the patterns of sizes and pre-copy counts fit their
/// pattern for every seed, the largest included: a mock device or an
/// exploration may draw seeds from the whole range.
#[test]
fn examples_fit_their_pattern_for_every_seed() {
    covers!("V2-SIZE-001", "V2-PRE-001");
    let patterns = [
        Expect::Size,
        Expect::Precopy {
            max_initial: None,
            flags: FlagsOut::Any,
        },
        Expect::Precopy {
            max_initial: Some(100),
            flags: FlagsOut::Exactly(1),
        },
        Expect::Bytes { min: 1, max: 4096 },
    ];
    for p in patterns {
        for seed in [0, 1, 511, 512, 1 << 20, u64::MAX / 2, u64::MAX - 1, u64::MAX] {
            let example = p.example(seed);
            assert!(p.matches(&example), "{p}: seed {seed} gave {example}");
        }
    }
}

/// Examples vary with the seed: a mock or an exploration driven by them
/// sees different data sizes, and both the 0-and-0 answer of pre-copy (the
/// temporary end, V2-PRE-007) and answers with dirty data.
#[test]
fn examples_vary_with_the_seed() {
    covers!("V2-SIZE-001", "V2-PRE-007");
    let sizes: Vec<_> = (0..16).map(|seed| Expect::Size.example(seed)).collect();
    assert!(sizes.iter().any(|s| *s != sizes[0]), "{sizes:?}");
    let drained = Expect::Precopy {
        max_initial: Some(0),
        flags: FlagsOut::Exactly(0),
    };
    let answers: Vec<_> = (0..16).map(|seed| drained.example(seed)).collect();
    let dirty = |o: &Outcome| match o {
        Outcome::Precopy { dirty_bytes, .. } => *dirty_bytes,
        other => panic!("not a pre-copy answer: {other}"),
    };
    assert!(answers.iter().any(|a| dirty(a) == 0), "{answers:?}");
    assert!(answers.iter().any(|a| dirty(a) > 0), "{answers:?}");
}
