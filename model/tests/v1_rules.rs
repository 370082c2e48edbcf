//! Rules of the v1 migration region the other v1 tests leave loose: which
//! accesses the save and resume loops accept where, how a chunk is counted
//! when it is written in pieces, which refusals are faults, what a
//! decision of the profile changes, and how states, fields and operations
//! are named when the model prints them.

mod common;

use common::{judge, run};

use vfio_mig_model::reqs::*;
use vfio_mig_model::v1::{self, ArcClass, ChunkTag, Field, Op, Outcome, Region, V1State};
use vfio_mig_model::{Errno, Judgement, Profile, Protocol, ProtocolName};
use V1State::*;

const REGION: u64 = 4096;

fn region() -> Region {
    Region::new(Profile::defaults(ProtocolName::V1), REGION)
}

/// The model under the defaults but for one decision.
fn with(id: &str, option: &str) -> Region {
    let mut p = Profile::defaults(ProtocolName::V1);
    p.decide(id, option).unwrap();
    Region::new(p, REGION)
}

/// `steps` followed by one more.
fn then(steps: &[(Op, Outcome)], op: Op, out: Outcome) -> Vec<(Op, Outcome)> {
    let mut s = steps.to_vec();
    s.push((op, out));
    s
}

fn set(s: V1State) -> (Op, Outcome) {
    (Op::set(s), Outcome::Ok)
}

fn refused(e: Errno) -> Outcome {
    Outcome::Err(e)
}

fn read(f: Field, v: u64) -> (Op, Outcome) {
    (Op::Read(f), Outcome::Value(v))
}

fn stream(offset: u64, total: u64) -> ChunkTag {
    ChunkTag::Stream {
        offset,
        total: Some(total),
        whole: true,
    }
}

fn write_data(offset: u64, len: u32, data: ChunkTag) -> (Op, Outcome) {
    (Op::WriteData { offset, len, data }, Outcome::Bytes(len))
}

/// One complete resume iteration: data_offset, the bytes, data_size.
fn resume_chunk(at: u64, len: u32, data: ChunkTag) -> Vec<(Op, Outcome)> {
    vec![
        read(Field::DataOffset, at),
        write_data(at, len, data),
        (Op::Write(Field::DataSize, u64::from(len)), Outcome::Ok),
    ]
}

#[test]
fn the_model_keeps_the_region_size_the_device_reported() {
    covers!("V1-LAYOUT-004");
    // The bound on data_offset + data_size is the size GET_REGION_INFO
    // gave; the model must hand back exactly that size.
    for size in [v1::state::HEADER_SIZE, REGION, 1 << 20] {
        let m = Region::new(Profile::defaults(ProtocolName::V1), size);
        assert_eq!(m.region_size(), size);
    }
}

#[test]
fn under_refuse_pre_copy_only_the_move_into_pre_copy_may_be_refused() {
    covers!("V1-ARC-002", "V1-ARC-004", "V1-SAVE-007");
    // By default a driver without pre-copy data still accepts pre-copy.
    assert!(matches!(
        region().arc_class(Running, PreCopy),
        ArcClass::Required(r) if r.contains(&V1_ARC_004)
    ));
    // DEC-008 refuse-pre-copy frees exactly RUNNING -> PRE_COPY; the other
    // flow arcs out of RUNNING and PRE_COPY stay required.
    let m = with("DEC-008", "refuse-pre-copy");
    assert_eq!(m.arc_class(Running, PreCopy), ArcClass::Optional);
    assert!(matches!(m.arc_class(Running, StopCopy), ArcClass::Required(_)));
    assert!(matches!(m.arc_class(PreCopy, StopCopy), ArcClass::Required(_)));
    assert!(matches!(m.arc_class(Running, Stop), ArcClass::Required(_)));
    assert_eq!(
        judge(&m, &[(Op::set(PreCopy), refused(Errno::EINVAL))]),
        Ok(Judgement::Pass)
    );
    // Refusing stop-and-copy still needs a fault.
    assert_eq!(
        judge(&m, &[(Op::set(StopCopy), refused(Errno::EIO))]),
        Ok(Judgement::Fault(vec![V1_ARC_002]))
    );
}

#[test]
fn refusing_an_optional_move_warns_only_when_it_is_a_stop() {
    covers!("V1-ARC-007");
    let m = region();
    // PRE_COPY -> STOP is no documented flow, but stopping from any valid
    // state should work: a clean refusal is a warning.
    assert_eq!(
        judge(&m, &[set(PreCopy), (Op::set(Stop), refused(Errno::EINVAL))]),
        Ok(Judgement::Warn(vec![V1_ARC_007]))
    );
    // Any other optional move may be refused cleanly without remark.
    assert_eq!(
        judge(&m, &[set(Stop), (Op::set(Running), refused(Errno::EINVAL))]),
        Ok(Judgement::Pass)
    );
    assert_eq!(
        judge(&m, &[set(Stop), (Op::set(Resuming), refused(Errno::EINVAL))]),
        Ok(Judgement::Pass)
    );
    // When the driver chooses its arcs (DEC-003), not even a stop is
    // expected.
    let lax = with("DEC-003", "driver-chooses");
    assert_eq!(
        judge(&lax, &[set(PreCopy), (Op::set(Stop), refused(Errno::EINVAL))]),
        Ok(Judgement::Pass)
    );
}

#[test]
fn a_region_without_a_data_section_refuses_data_offset_as_it_should() {
    covers!("V1-LAYOUT-004", "V1-RES-001", "V1-SAVE-003");
    // A region of just the header has no valid data_offset: refusing the
    // read is what the device must do, not a fault.
    let m = Region::new(Profile::defaults(ProtocolName::V1), v1::state::HEADER_SIZE);
    let saving = [set(StopCopy), read(Field::PendingBytes, 8)];
    assert_eq!(
        judge(
            &m,
            &then(&saving, Op::Read(Field::DataOffset), refused(Errno::EINVAL))
        ),
        Ok(Judgement::Pass)
    );
    let resuming = [set(Resuming)];
    assert_eq!(
        judge(
            &m,
            &then(&resuming, Op::Read(Field::DataOffset), refused(Errno::EINVAL))
        ),
        Ok(Judgement::Pass)
    );
}

#[test]
fn in_resuming_data_offset_names_a_place_in_the_data_section() {
    covers!("V1-RES-001", "V1-LAYOUT-004");
    let m = region();
    let res = [set(Resuming)];
    assert_eq!(
        judge(&m, &then(&res, Op::Read(Field::DataOffset), Outcome::Value(64))),
        Ok(Judgement::Pass)
    );
    assert!(
        judge(&m, &then(&res, Op::Read(Field::DataOffset), Outcome::Value(16)))
            .unwrap_err()
            .contains(&V1_LAYOUT_004)
    );
}

#[test]
fn data_offset_before_pending_bytes_is_out_of_order() {
    covers!("V1-SAVE-009", "V1-SAVE-001");
    // Every iteration opens with pending_bytes; a data_offset read before
    // it should fail, and a success only warns.
    let m = region();
    let sc = [set(StopCopy)];
    assert_eq!(
        judge(
            &m,
            &then(&sc, Op::Read(Field::DataOffset), refused(Errno::EINVAL))
        ),
        Ok(Judgement::Pass)
    );
    assert_eq!(
        judge(&m, &then(&sc, Op::Read(Field::DataOffset), Outcome::Value(64))),
        Ok(Judgement::Warn(vec![V1_SAVE_009]))
    );
}

#[test]
fn with_nothing_pending_data_offset_may_be_refused() {
    covers!("V1-SAVE-007");
    // pending_bytes 0 in pre-copy: there is no chunk to stage, so refusing
    // data_offset is normal, and so is answering it.
    let m = region();
    let empty = [set(PreCopy), read(Field::PendingBytes, 0)];
    assert_eq!(
        judge(
            &m,
            &then(&empty, Op::Read(Field::DataOffset), refused(Errno::EINVAL))
        ),
        Ok(Judgement::Pass)
    );
    assert_eq!(
        judge(&m, &then(&empty, Op::Read(Field::DataOffset), Outcome::Value(64))),
        Ok(Judgement::Pass)
    );
}

#[test]
fn outside_a_save_pending_bytes_reads_zero_or_fails() {
    covers!("V1-SAVE-010");
    let m = region();
    for before in [vec![], vec![set(Stop)], vec![set(Resuming)]] {
        let pb = Op::Read(Field::PendingBytes);
        assert_eq!(
            judge(&m, &then(&before, pb, Outcome::Value(0))),
            Ok(Judgement::Pass)
        );
        assert_eq!(
            judge(&m, &then(&before, pb, refused(Errno::EINVAL))),
            Ok(Judgement::Pass)
        );
        assert_eq!(
            judge(&m, &then(&before, pb, Outcome::Value(5))),
            Ok(Judgement::Warn(vec![V1_SAVE_010])),
            "after {before:?}"
        );
    }
}

#[test]
fn data_size_reads_are_free_in_resuming_and_warn_outside_a_transfer() {
    covers!("V1-LAYOUT-002", "V1-SAVE-010");
    let m = region();
    let ds = Op::Read(Field::DataSize);
    // data_size is a read-write register; while resuming the user owns its
    // value, so any answer (or a refusal) is fine.
    let res = [set(Resuming)];
    assert_eq!(judge(&m, &then(&res, ds, Outcome::Value(7))), Ok(Judgement::Pass));
    assert_eq!(
        judge(&m, &then(&res, ds, refused(Errno::EINVAL))),
        Ok(Judgement::Pass)
    );
    // With no transfer at all it should fail: a value misses V1-SAVE-010
    // (not the out-of-order rule of the save loop).
    for before in [vec![], vec![set(Stop)]] {
        assert_eq!(
            judge(&m, &then(&before, ds, Outcome::Value(7))),
            Ok(Judgement::Warn(vec![V1_SAVE_010]))
        );
        assert_eq!(
            judge(&m, &then(&before, ds, refused(Errno::EINVAL))),
            Ok(Judgement::Pass)
        );
    }
}

#[test]
fn data_size_writes_outside_resuming_are_plain_register_writes() {
    covers!("V1-LAYOUT-002");
    // Outside RESUMING a data_size write closes no chunk: it may succeed or
    // fail, and neither is out of order.
    let m = region();
    for before in [vec![], vec![set(StopCopy)], vec![set(Stop)]] {
        for out in [Outcome::Ok, refused(Errno::EINVAL)] {
            assert_eq!(
                judge(&m, &then(&before, Op::Write(Field::DataSize, 8), out)),
                Ok(Judgement::Pass),
                "after {before:?}: {out}"
            );
        }
    }
}

#[test]
fn refusing_the_length_of_the_next_chunk_is_a_fault() {
    covers!("V1-RES-002", "V1-ERR-001");
    // The chunk is exactly the next one of the stream: the driver has no
    // reason to refuse it unless something failed inside it.
    let m = region();
    let s = [
        set(Resuming),
        read(Field::DataOffset, 64),
        write_data(64, 100, stream(0, 300)),
        (Op::Write(Field::DataSize, 100), refused(Errno::EIO)),
    ];
    assert_eq!(judge(&m, &s), Ok(Judgement::Fault(vec![V1_RES_002, V1_ERR_001])));
}

#[test]
fn a_staged_chunk_is_read_only_inside_its_bounds() {
    covers!("V1-SAVE-003", "V1-LAYOUT-004");
    let m = region();
    // A 200-byte chunk staged at 64.
    let staged = [
        set(StopCopy),
        read(Field::PendingBytes, 300),
        read(Field::DataOffset, 64),
        read(Field::DataSize, 200),
    ];
    let read_at =
        |offset: u64, len: u32, out: Outcome| judge(&m, &then(&staged, Op::ReadData { offset, len }, out));
    assert_eq!(read_at(64, 200, Outcome::Bytes(200)), Ok(Judgement::Pass));
    assert_eq!(read_at(164, 100, Outcome::Bytes(100)), Ok(Judgement::Pass));
    // Before the chunk (still in the data section) and past its end: the
    // device has nothing there to hand out.
    for (offset, len) in [(32, 16), (64, 201), (250, 20)] {
        assert!(
            read_at(offset, len, Outcome::Bytes(len))
                .unwrap_err()
                .contains(&V1_LAYOUT_004),
            "{len} bytes at {offset}"
        );
        assert_eq!(read_at(offset, len, refused(Errno::EINVAL)), Ok(Judgement::Pass));
    }
}

#[test]
fn resume_data_is_written_after_data_offset_inside_the_data_section() {
    covers!("V1-RES-002", "V1-LAYOUT-004");
    let m = region();
    let staged = [set(Resuming), read(Field::DataOffset, 64)];
    let write_at = |offset: u64, len: u32| {
        judge(
            &m,
            &then(
                &staged,
                Op::WriteData {
                    offset,
                    len,
                    data: stream(0, 300),
                },
                Outcome::Bytes(len),
            ),
        )
    };
    assert_eq!(write_at(64, 100), Ok(Judgement::Pass));
    for (offset, len) in [(32, 16), (REGION - 50, 100)] {
        assert!(
            write_at(offset, len).unwrap_err().contains(&V1_LAYOUT_004),
            "{len} bytes at {offset}"
        );
    }
}

#[test]
fn data_section_accesses_outside_a_transfer_warn() {
    covers!("V1-SAVE-010");
    let m = region();
    let rd = Op::ReadData { offset: 64, len: 8 };
    let wr = Op::WriteData {
        offset: 64,
        len: 8,
        data: stream(0, 8),
    };
    // No transfer at all.
    assert_eq!(
        judge(&m, &[(rd, Outcome::Bytes(8))]),
        Ok(Judgement::Warn(vec![V1_SAVE_010]))
    );
    assert_eq!(judge(&m, &[(rd, refused(Errno::EINVAL))]), Ok(Judgement::Pass));
    assert_eq!(
        judge(&m, &[(wr, Outcome::Bytes(8))]),
        Ok(Judgement::Warn(vec![V1_SAVE_010]))
    );
    // Writing while saving, reading while resuming: the wrong direction
    // for the transfer in progress, even with a chunk staged.
    let saving = [
        set(StopCopy),
        read(Field::PendingBytes, 8),
        read(Field::DataOffset, 64),
    ];
    assert_eq!(
        judge(&m, &then(&saving, wr, Outcome::Bytes(8))),
        Ok(Judgement::Warn(vec![V1_SAVE_010]))
    );
    let resuming = [set(Resuming), read(Field::DataOffset, 64)];
    assert_eq!(
        judge(&m, &then(&resuming, rd, Outcome::Bytes(8))),
        Ok(Judgement::Warn(vec![V1_SAVE_010]))
    );
}

#[test]
fn accesses_outside_a_transfer_leave_the_model_where_it_was() {
    covers!("V1-SAVE-010", "V1-LAYOUT-002");
    // With no transfer in progress nothing is staged, counted or loaded,
    // whatever the device answers: the belief stays as it was.
    let m = region();
    for before in [vec![], vec![set(Stop)]] {
        let b = run(&m, &before);
        let accesses = [
            read(Field::PendingBytes, 0),
            read(Field::PendingBytes, 7),
            read(Field::DataOffset, 64),
            read(Field::DataSize, 8),
            (Op::ReadData { offset: 64, len: 8 }, Outcome::Bytes(8)),
            write_data(64, 8, stream(0, 8)),
            (Op::Write(Field::DataSize, 8), Outcome::Ok),
        ];
        for (op, out) in accesses {
            let (after, _) = m.advance(&b, &op, &out).unwrap();
            assert_eq!(after, b, "{op} answered {out} after {before:?}");
        }
    }
}

#[test]
fn writing_the_current_state_keeps_the_transfer_in_progress() {
    covers!("V1-ARC-010");
    let m = region();
    // A chunk staged in stop-and-copy stays staged.
    let staged = [
        set(StopCopy),
        read(Field::PendingBytes, 300),
        read(Field::DataOffset, 64),
        read(Field::DataSize, 200),
        set(StopCopy),
    ];
    assert_eq!(
        judge(
            &m,
            &then(&staged, Op::Read(Field::DataOffset), Outcome::Value(64))
        ),
        Ok(Judgement::Pass)
    );
    assert_eq!(
        judge(&m, &then(&staged, Op::Read(Field::DataSize), Outcome::Value(200))),
        Ok(Judgement::Pass)
    );
    assert_eq!(
        judge(
            &m,
            &then(
                &staged,
                Op::ReadData { offset: 64, len: 200 },
                Outcome::Bytes(200)
            )
        ),
        Ok(Judgement::Pass)
    );
    // The chunks loaded while resuming stay loaded.
    let mut s = vec![set(Resuming)];
    s.extend(resume_chunk(64, 200, stream(0, 300)));
    s.push(set(Resuming));
    s.extend(resume_chunk(64, 100, stream(200, 300)));
    s.push(set(Running));
    assert_eq!(judge(&m, &s), Ok(Judgement::Pass));
}

#[test]
fn a_chunk_written_in_contiguous_pieces_is_one_chunk() {
    covers!("V1-RES-002", "V1-RES-003", "V1-ARC-006");
    // The user may write one chunk into the data section in several
    // writes; what counts is the whole written before data_size.
    let m = region();
    let s = [
        set(Resuming),
        read(Field::DataOffset, 64),
        write_data(64, 120, stream(0, 200)),
        write_data(184, 80, stream(120, 200)),
        (Op::Write(Field::DataSize, 200), Outcome::Ok),
        set(Running),
    ];
    assert_eq!(judge(&m, &s[..5]), Ok(Judgement::Pass));
    assert_eq!(judge(&m, &s), Ok(Judgement::Pass));
    // The model knows the chunk's first bytes and how many were written.
    let b = run(&m, &s[..4]);
    assert_eq!(b.known().unwrap().resume.chunk, Some((stream(0, 200), 200)));
}

#[test]
fn the_model_counts_every_byte_of_a_chunk_even_a_spoilt_one() {
    covers!("V1-RES-002", "V1-RES-005");
    let m = region();
    let s = [
        set(Resuming),
        read(Field::DataOffset, 64),
        write_data(64, 100, ChunkTag::Garbage),
        write_data(164, 50, ChunkTag::Garbage),
        write_data(214, 30, stream(0, 300)),
    ];
    let b = run(&m, &s);
    let r = b.known().unwrap().resume;
    assert_eq!(r.chunk, Some((ChunkTag::Garbage, 180)));
    assert!(!r.chunk_ok);
}

#[test]
fn pieces_that_do_not_continue_a_chunk_spoil_the_stream() {
    covers!("V1-RES-005", "V1-DATA-001");
    let m = region();
    // The second write starts the chunk over instead of continuing it: 200
    // bytes were written, but they are not the first 200 of the stream.
    let s = [
        set(Resuming),
        read(Field::DataOffset, 64),
        write_data(64, 120, stream(0, 200)),
        write_data(184, 80, stream(0, 200)),
    ];
    let close = Op::Write(Field::DataSize, 200);
    // Refusing the chunk at once is what a checking driver does.
    assert_eq!(
        judge(&m, &then(&s, close, refused(Errno::EINVAL))),
        Ok(Judgement::Pass)
    );
    // Taking it, the driver must refuse to leave RESUMING.
    let mut taken = then(&s, close, Outcome::Ok);
    taken.push(set(Running));
    assert!(judge(&m, &taken).unwrap_err().contains(&V1_RES_005));
}

#[test]
fn a_retryable_refusal_of_a_chunk_leaves_the_stream_intact() {
    covers!("V1-ERR-002", "V1-RES-002", "V1-ARC-006");
    // EAGAIN on data_size: the user sends the same chunk again and the
    // stream goes on; the complete stream must then be accepted.
    let m = region();
    for e in [Errno::EAGAIN, Errno::EINTR] {
        let mut s = vec![
            set(Resuming),
            read(Field::DataOffset, 64),
            write_data(64, 200, stream(0, 300)),
            (Op::Write(Field::DataSize, 200), refused(e)),
        ];
        s.extend(resume_chunk(64, 200, stream(0, 300)));
        s.extend(resume_chunk(64, 100, stream(200, 300)));
        s.push(set(Running));
        assert_eq!(judge(&m, &s), Ok(Judgement::Pass), "{e}");
    }
}

#[test]
fn any_other_refusal_of_a_chunk_ends_the_resume() {
    covers!("V1-ERR-002", "V1-ERR-001", "V1-RES-005");
    // After a fatal errno the stream is lost: even if the user sends the
    // chunks again, the device must not leave RESUMING with it.
    let fatal = |m: &Region, e: Errno| {
        let mut s = vec![
            set(Resuming),
            read(Field::DataOffset, 64),
            write_data(64, 200, stream(0, 300)),
            (Op::Write(Field::DataSize, 200), refused(e)),
        ];
        s.extend(resume_chunk(64, 200, stream(0, 300)));
        s.extend(resume_chunk(64, 100, stream(200, 300)));
        s.push((Op::set(Running), refused(Errno::EINVAL)));
        assert_eq!(judge(m, &s), Ok(Judgement::Pass), "{e}: refusing is right");
        s.pop();
        s.push(set(Running));
        assert!(
            judge(m, &s).unwrap_err().contains(&V1_RES_005),
            "{e}: taking the stream is not"
        );
    };
    fatal(&region(), Errno::EIO);
    fatal(&region(), Errno::EINVAL);
    // Under DEC-004 any-error-fatal, EAGAIN is fatal too.
    fatal(&with("DEC-004", "any-error-fatal"), Errno::EAGAIN);
}

#[test]
fn a_data_size_write_before_data_offset_loads_nothing() {
    covers!("V1-RES-004", "V1-ARC-006");
    // Out of order: the device refuses it and nothing is loaded, so the
    // stream sent afterwards is complete and intact.
    let m = region();
    let mut s = vec![
        set(Resuming),
        (Op::Write(Field::DataSize, 8), refused(Errno::EINVAL)),
    ];
    assert_eq!(judge(&m, &s), Ok(Judgement::Pass));
    s.extend(resume_chunk(64, 200, stream(0, 300)));
    s.extend(resume_chunk(64, 100, stream(200, 300)));
    s.push(set(Running));
    assert_eq!(judge(&m, &s), Ok(Judgement::Pass));
}

/// The belief after a reset that failed and a read of device_state that
/// then showed the error value: the device is known to be in ERROR.
fn in_error() -> Vec<(Op, Outcome)> {
    vec![
        (Op::Reset, refused(Errno::EIO)),
        read(Field::DeviceState, u64::from(Error.bits())),
    ]
}

#[test]
fn in_the_error_state_the_save_and_resume_registers_fail_or_read_zero() {
    covers!("V1-FAIL-002", "V1-FAIL-003");
    let m = region();
    let b = run(&m, &in_error());
    assert_eq!(b.known().unwrap().state, Error);
    // Failing, or reading 0, is what a device in ERROR does with any
    // register but device_state.
    let pb = Op::Read(Field::PendingBytes);
    for out in [refused(Errno::EIO), Outcome::Value(0)] {
        assert_eq!(judge(&m, &then(&in_error(), pb, out)), Ok(Judgement::Pass));
    }
    // Anything that looks like a working save or resume loop breaks the
    // rule of the error state, though outside a transfer in a healthy
    // state each of these answers is allowed, at most with a warning.
    let working = [
        (pb, Outcome::Value(5)),
        (Op::Read(Field::DataSize), Outcome::Value(64)),
        (Op::Write(Field::DataSize, 64), Outcome::Ok),
        (Op::ReadData { offset: 64, len: 8 }, Outcome::Bytes(8)),
        (
            Op::WriteData {
                offset: 64,
                len: 8,
                data: ChunkTag::Garbage,
            },
            Outcome::Bytes(8),
        ),
    ];
    for (op, out) in working {
        assert_eq!(
            judge(&m, &then(&in_error(), op, out)),
            Err(vec![V1_FAIL_002]),
            "{op} answered {out}"
        );
    }
    // device_state itself and the reset keep their own rules there: the
    // reset is what leads out of ERROR.
    let steps = then(&in_error(), Op::Reset, Outcome::Ok);
    assert_eq!(judge(&m, &steps), Ok(Judgement::Pass));
    assert_eq!(run(&m, &steps).known().unwrap().state, Running);
}

#[test]
fn outcomes_print_what_the_device_answered() {
    covers!("V1-LAYOUT-002");
    let cases = [
        (Outcome::Ok, vec!["ok"]),
        (Outcome::Value(4096), vec!["4096"]),
        (Outcome::Bytes(200), vec!["200", "bytes"]),
        (refused(Errno::EINVAL), vec!["EINVAL"]),
    ];
    for (out, parts) in cases {
        let text = out.to_string();
        for part in parts {
            assert!(text.contains(part), "{out:?} prints {text:?}, lacking {part:?}");
        }
    }
    // A violation shows what the device did: a write to the read-only
    // pending_bytes that worked.
    let v = region()
        .advance(
            &region().start(),
            &Op::Write(Field::PendingBytes, 1),
            &Outcome::Ok,
        )
        .unwrap_err();
    assert!(v.observed.contains("ok"), "{}", v.observed);
}

#[test]
fn each_field_is_found_at_its_own_offset_and_width() {
    covers!("V1-LAYOUT-001", "V1-LAYOUT-003");
    for f in Field::ALL {
        assert_eq!(Field::at(f.offset(), f.width()), Some(f), "{}", f.name());
    }
    // The right offset at the wrong width is no field.
    assert_eq!(Field::at(0, 8), None);
    assert_eq!(Field::at(8, 4), None);
    assert_eq!(Field::at(32, 4), None);
}

#[test]
fn v1_states_print_their_uapi_name_and_bits() {
    covers!("V1-STATE-003");
    let want = [
        (Stop, "STOP", "000"),
        (Running, "RUNNING", "001"),
        (StopCopy, "STOP_COPY", "010"),
        (PreCopy, "PRE_COPY", "011"),
        (Resuming, "RESUMING", "100"),
        (Error, "ERROR", "110"),
    ];
    for (s, name, bits) in want {
        let text = s.to_string();
        assert!(text.contains(name), "{text}");
        assert!(text.contains(bits), "{text}");
    }
}

#[test]
fn header_fields_print_as_their_c_names() {
    covers!("V1-LAYOUT-001");
    let names: Vec<String> = Field::ALL.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        names,
        [
            "device_state",
            "reserved",
            "pending_bytes",
            "data_offset",
            "data_size"
        ]
    );
}

#[test]
fn operations_print_the_register_and_state_they_touch() {
    covers!("V1-LAYOUT-001", "V1-STATE-003");
    let text = Op::set(StopCopy).to_string();
    assert!(
        text.contains("device_state") && text.contains("STOP_COPY"),
        "{text}"
    );
    let text = Op::Read(Field::PendingBytes).to_string();
    assert!(text.contains("read") && text.contains("pending_bytes"), "{text}");
    let text = Op::Write(Field::DataSize, 4096).to_string();
    assert!(text.contains("data_size") && text.contains("4096"), "{text}");
    let text = Op::ReadData { offset: 64, len: 200 }.to_string();
    assert!(text.contains("64") && text.contains("200"), "{text}");
    assert!(Op::Reset.to_string().contains("RESET"));
    // A violation names the operation it judged.
    let v = region()
        .advance(
            &region().start(),
            &Op::Write(Field::PendingBytes, 1),
            &Outcome::Ok,
        )
        .unwrap_err();
    assert!(v.op.contains("pending_bytes"), "{}", v.op);
}
