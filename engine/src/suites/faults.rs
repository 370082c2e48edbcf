//! Suite 5: errors and faults. Failed arcs and the way out of ERROR, bad
//! streams into RESUMING with nothing partial applied, descriptors used after
//! their session ended.

use super::common::{concluded, push, restore, NO_STATE};
use super::data::{load_v2, save_v2};
use crate::check::{Checker, Failure, Interrupt};
use crate::handle::Handle;
use crate::target::Target;
use crate::trace::{junk, Fill};
use crate::verdict::{SuiteId, Verdict};
use vfio_mig_device::Fault;
use vfio_mig_model::reqs::*;
use vfio_mig_model::v1::{self, ChunkTag, Field, Region, V1State};
use vfio_mig_model::v2::{self, DataTag, FdRef, Fsm, MigState};
use vfio_mig_model::Req;

/// Failed v2 SETs: from every state, every request with a path, the first
/// step fails (staying put, or falling into ERROR); the state afterwards must
/// be one the model allows, and reset must bring the device back.
pub fn failed_arcs_v2(model: &Fsm, device: &mut Handle<Fsm>) -> Vec<Verdict> {
    let mut out = Vec::new();
    let flags = model.flags();
    for from in flags.states().filter(|s| *s != MigState::Error) {
        for to in flags.states().filter(|t| *t != from) {
            if model.table().path(from, to).is_none() {
                continue;
            }
            for into_error in [false, true] {
                let how = if into_error { "into-error" } else { "stays" };
                let name = format!(
                    "{}/faults/failed-set/{}->{}/{how}",
                    model.label(),
                    from.name(),
                    to.name()
                );
                if let Err(v) = restore(SuiteId::Faults, &name, device) {
                    out.push(*v);
                    return out;
                }
                let mut c = Checker::new(model, device);
                let result = (|| {
                    if from != MigState::Running {
                        c.step(v2::Op::Set(from))?;
                    }
                    let fault = Fault::FailSet {
                        from: from.number(),
                        into_error,
                    };
                    c.require(fault, "the adapter cannot make a SET fail")?;
                    c.step(v2::Op::Set(to))?;
                    c.step(v2::Op::Get)?;
                    c.step(v2::Op::Reset)?;
                    c.step(v2::Op::Get)?;
                    Ok(())
                })();
                if !push(
                    &mut out,
                    concluded(SuiteId::Faults, name, &c, &[V2_ERR_001, V2_ERR_002], result),
                ) {
                    return out;
                }
            }
        }
    }
    out
}

/// How one bad stream is fed to the resuming fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// Nothing written.
    Empty,
    /// All but the last byte.
    Truncated,
    /// Junk of half the stream's length.
    ShortGarbage,
    /// Junk of the stream's length.
    Garbage,
    /// The stream with one byte flipped in the middle.
    Corrupted,
    /// The stream in four writes, the n-th (1-based) rejected by the
    /// device; the others follow as if it had not been.
    Rejected(u32),
}

impl Feed {
    fn name(self) -> String {
        match self {
            Feed::Empty => "empty".into(),
            Feed::Truncated => "truncated".into(),
            Feed::ShortGarbage => "short-garbage".into(),
            Feed::Garbage => "garbage".into(),
            Feed::Corrupted => "corrupted".into(),
            Feed::Rejected(1) => "rejected-write-first".into(),
            Feed::Rejected(4) => "rejected-write-last".into(),
            Feed::Rejected(n) => format!("rejected-write-{n}-of-4"),
        }
    }

    /// The rule that makes the resume's refusal due.
    fn rule(self, model: &Fsm) -> Req {
        match self {
            Feed::Rejected(_) => V2_STREAM_006,
            Feed::Garbage | Feed::Corrupted => match model.profile().corrupt_stream() {
                vfio_mig_model::CorruptStream::ShouldDetect => V2_STREAM_010,
                vfio_mig_model::CorruptStream::MustDetect => V2_STREAM_011,
            },
            _ => V2_STREAM_009,
        }
    }
}

/// Writes `bytes` (made as `fill` says) on the resuming fd, tagged `data`.
fn write_at(c: &mut Checker<'_, Fsm>, bytes: &[u8], data: DataTag, fill: Fill) -> Result<(), Failure> {
    let op = v2::Op::Write {
        fd: FdRef(0),
        len: bytes.len() as u32,
        data,
    };
    c.write(op, bytes, fill)?;
    Ok(())
}

fn feed(c: &mut Checker<'_, Fsm>, how: Feed, full: &[u8]) -> Result<(), Interrupt> {
    let total = Some(full.len() as u64);
    match how {
        Feed::Empty => {}
        Feed::Truncated => load_v2(c, FdRef(0), &full[..full.len() - 1], total, 4096)?,
        Feed::ShortGarbage => write_at(c, &junk(full.len() / 2), DataTag::Garbage, Fill::Junk)?,
        Feed::Garbage => write_at(
            c,
            &junk(full.len()),
            DataTag::Corrupt { offset: 0, total },
            Fill::Junk,
        )?,
        Feed::Corrupted => {
            // The second half of the stream with its first byte flipped.
            let mid = full.len() / 2;
            load_v2(c, FdRef(0), &full[..mid], total, 4096)?;
            let fill = Fill::Flipped {
                at: mid as u64,
                flip: 0,
            };
            let bad = fill
                .bytes(full, full.len() - mid)
                .expect("the flipped half lies within the stream");
            write_at(
                c,
                &bad,
                DataTag::Corrupt {
                    offset: mid as u64,
                    total,
                },
                fill,
            )?;
        }
        Feed::Rejected(n) => {
            c.require(Fault::FailNthWrite(n), "the adapter cannot make a write fail")?;
            let quarter = full.len().div_ceil(4);
            for (i, chunk) in full.chunks(quarter).enumerate() {
                let at = (i * quarter) as u64;
                let data = DataTag::Stream { offset: at, total };
                write_at(c, chunk, data, Fill::Saved { at })?;
            }
        }
    }
    Ok(())
}

/// Bad streams into RESUMING: each must be refused by the SET that leaves
/// RESUMING, leave RESUMING or ERROR, and change nothing in the device.
pub fn bad_streams_v2(model: &Fsm, src: &mut Handle<Fsm>, dst: &mut Handle<Fsm>) -> Vec<Verdict> {
    let label = model.label();
    let name = format!("{label}/faults/bad-stream");
    if let Err(v) = restore(SuiteId::Faults, &name, src) {
        return vec![*v];
    }
    let mut c = Checker::new(model, src);
    let saved = match save_v2(&mut c, 4096, false) {
        Ok(s) => s,
        Err(f) => {
            return vec![Verdict::of(
                SuiteId::Faults,
                format!("{name}/save"),
                &c,
                &[],
                Err(f),
            )]
        }
    };
    let full = saved.bytes.clone();
    let mut feeds = vec![Feed::Empty];
    if !full.is_empty() {
        feeds.extend([Feed::Truncated, Feed::Garbage, Feed::Corrupted]);
    }
    if full.len() >= 2 {
        feeds.push(Feed::ShortGarbage);
    }
    if full.len() >= 4 {
        feeds.extend([Feed::Rejected(1), Feed::Rejected(2), Feed::Rejected(4)]);
    }
    let mut out = Vec::new();
    for how in feeds {
        let name = format!("{name}/{}", how.name());
        if let Err(v) = restore(SuiteId::Faults, &name, dst) {
            out.push(*v);
            return out;
        }
        let mut d = Checker::new(model, dst);
        let mut compared = false;
        let result = (|| {
            d.step(v2::Op::Set(MigState::Resuming))?;
            // The device is stopped from here on: its state must not move.
            let before = d.fingerprint()?;
            let first = d.last_snapshot(&[]);
            feed(&mut d, how, &full)?;
            let left = d.step(v2::Op::Set(MigState::Stop))?;
            d.step(v2::Op::Get)?;
            let after = d.fingerprint()?;
            // Only a refused resume must have changed nothing (a corrupted
            // stream taken is a missed SHOULD, judged by the model).
            let refused = matches!(left, v2::Outcome::Err(_));
            compared = refused && before.is_some() && after.is_some();
            if compared {
                let second = d.last_snapshot(&[]);
                d.compared(first, second, V2_STREAM_012);
            }
            if compared && before != after {
                return Err(Failure::new(
                    &[V2_STREAM_012],
                    "a refused stream changed the device's state (partly applied)",
                )
                .into());
            }
            d.step(v2::Op::Reset)?;
            d.step(v2::Op::Get)?;
            Ok(())
        })();
        let mut v = concluded(SuiteId::Faults, name, &d, &[how.rule(model)], result).preceded_by(c.events());
        if compared {
            v.reqs.push(V2_STREAM_012);
        } else if v.status != crate::check::Status::Skip {
            v.uncovered.push((V2_STREAM_012, NO_STATE.into()));
        }
        if !push(&mut out, v) {
            return out;
        }
    }
    if full.len() >= 2 {
        let v = abandoned_resume(model, &c, &saved, dst);
        out.push(v);
    }
    out
}

/// A resume abandoned half way with VFIO_DEVICE_RESET (the only way out,
/// V2-STREAM-007) leaves nothing behind: a whole stream resumed next loads
/// and gives the source's state.
fn abandoned_resume(
    model: &Fsm,
    source: &Checker<'_, Fsm>,
    saved: &super::data::Saved,
    dst: &mut Handle<Fsm>,
) -> Verdict {
    let name = format!("{}/faults/bad-stream/abandoned-by-reset", model.label());
    if let Err(v) = restore(SuiteId::Faults, &name, dst) {
        return *v;
    }
    let full = &saved.bytes;
    let total = Some(full.len() as u64);
    let mut d = Checker::new(model, dst);
    let mut compared = false;
    let result = (|| -> Result<(), Interrupt> {
        d.step(v2::Op::Set(MigState::Resuming))?;
        load_v2(&mut d, FdRef(0), &full[..full.len() / 2], total, 4096)?;
        d.step(v2::Op::Reset)?;
        d.step(v2::Op::Get)?;
        d.step(v2::Op::Set(MigState::Resuming))?;
        load_v2(&mut d, FdRef(1), full, total, 4096)?;
        d.step(v2::Op::Set(MigState::Stop))?;
        let resumed = d.fingerprint()?;
        if let (Some(a), Some(b)) = (&saved.fingerprint, &resumed) {
            let now = d.last_snapshot(&[]);
            d.compared(saved.snapshot, now, V2_STREAM_008);
            compared = true;
            if a != b {
                return Err(Failure::new(
                    &[V2_STREAM_007, V2_STREAM_008],
                    "after a resume abandoned by reset, a whole stream did not give the source's state",
                )
                .into());
            }
        }
        Ok(())
    })();
    let mut v = concluded(SuiteId::Faults, name, &d, &[V2_STREAM_007, V2_ERR_002], result)
        .preceded_by(source.events());
    if compared {
        v.reqs.push(V2_STREAM_008);
    }
    v
}

/// Descriptors used after their session ended must fail: the session ends
/// by leaving its state, or by VFIO_DEVICE_RESET.
pub fn dead_fds_v2(model: &Fsm, device: &mut Handle<Fsm>) -> Vec<Verdict> {
    let set = v2::Op::Set;
    let mut scripts: Vec<(&str, Vec<v2::Op>)> = vec![
        (
            "stop-copy-then-stop",
            vec![set(MigState::StopCopy), set(MigState::Stop)],
        ),
        (
            "stop-copy-then-reset",
            vec![set(MigState::StopCopy), v2::Op::Reset],
        ),
        (
            "resuming-then-reset",
            vec![set(MigState::Resuming), v2::Op::Reset],
        ),
        (
            "resuming-then-running",
            vec![set(MigState::Resuming), set(MigState::Running)],
        ),
    ];
    if model.flags().pre_copy() {
        scripts.push((
            "pre-copy-then-running",
            vec![set(MigState::PreCopy), set(MigState::Running)],
        ));
        scripts.push(("pre-copy-then-reset", vec![set(MigState::PreCopy), v2::Op::Reset]));
    }
    let mut out = Vec::new();
    for (script, ops) in scripts {
        let name = format!("{}/faults/dead-fd/{script}", model.label());
        if let Err(v) = restore(SuiteId::Faults, &name, device) {
            out.push(*v);
            return out;
        }
        let mut c = Checker::new(model, device);
        let result = (|| {
            for op in &ops {
                c.step(*op)?;
            }
            c.step(v2::Op::Read {
                fd: FdRef(0),
                len: 64,
            })?;
            c.step(v2::Op::Write {
                fd: FdRef(0),
                len: 8,
                data: DataTag::Garbage,
            })?;
            if c.model().precopy_info() {
                c.step(v2::Op::PrecopyInfo {
                    fd: FdRef(0),
                    flags: 0,
                })?;
            }
            c.step(v2::Op::Close { fd: FdRef(0) })?;
            c.step(v2::Op::Read {
                fd: FdRef(0),
                len: 64,
            })?;
            Ok(())
        })();
        if !push(
            &mut out,
            Verdict::of(SuiteId::Faults, name, &c, &[V2_FD_004], result),
        ) {
            return out;
        }
    }
    out
}

/// Failed v1 device_state writes from every state to every other.
pub fn failed_arcs_v1(model: &Region, device: &mut Handle<Region>) -> Vec<Verdict> {
    let mut out = Vec::new();
    let states: Vec<V1State> = V1State::ALL.into_iter().filter(|s| s.is_requestable()).collect();
    for &from in &states {
        for &to in states.iter().filter(|t| **t != from) {
            for into_error in [false, true] {
                let how = if into_error { "into-error" } else { "stays" };
                let name = format!("v1/faults/failed-write/{}->{}/{how}", from.name(), to.name());
                if let Err(v) = restore(SuiteId::Faults, &name, device) {
                    out.push(*v);
                    return out;
                }
                let mut c = Checker::new(model, device);
                let result = (|| {
                    if from != V1State::Running {
                        c.step(v1::Op::set(from))?;
                    }
                    let fault = Fault::FailSet {
                        from: from.bits(),
                        into_error,
                    };
                    c.require(fault, "the adapter cannot make a write fail")?;
                    c.step(v1::Op::set(to))?;
                    c.step(v1::Op::Read(Field::DeviceState))?;
                    if !into_error {
                        // The device assumes no next step: the user may go
                        // back to RUNNING (V1-FAIL-005).
                        c.step(v1::Op::set(V1State::Running))?;
                        c.step(v1::Op::Read(Field::DeviceState))?;
                    }
                    c.step(v1::Op::Reset)?;
                    c.step(v1::Op::Read(Field::DeviceState))?;
                    Ok(())
                })();
                let reqs: &[Req] = if into_error {
                    &[V1_FAIL_001, V1_FAIL_003]
                } else {
                    &[V1_FAIL_001, V1_FAIL_003, V1_FAIL_005]
                };
                if !push(&mut out, concluded(SuiteId::Faults, name, &c, reqs, result)) {
                    return out;
                }
            }
        }
    }
    out
}

/// A v1 save whose data read fails: the failure is an errno on the
/// region access, which ends the loop; a reset brings the device back
/// (V1-ERR-001).
pub fn failed_read_v1(model: &Region, device: &mut Handle<Region>) -> Vec<Verdict> {
    let name = "v1/faults/failed-read".to_owned();
    if let Err(v) = restore(SuiteId::Faults, &name, device) {
        return vec![*v];
    }
    let mut c = Checker::new(model, device);
    let result = (|| -> Result<(), Interrupt> {
        c.step(v1::Op::set(V1State::StopCopy))?;
        c.step(v1::Op::Read(Field::PendingBytes))?;
        let v1::Outcome::Value(at) = c.step(v1::Op::Read(Field::DataOffset))? else {
            return Err(Failure::new(&[V1_SAVE_003], "data_offset read failed").into());
        };
        let v1::Outcome::Value(size) = c.step(v1::Op::Read(Field::DataSize))? else {
            return Err(Failure::new(&[V1_SAVE_005], "data_size read failed").into());
        };
        c.require(Fault::FailNthRead(1), "the adapter cannot make a read fail")?;
        let read = v1::Op::ReadData {
            offset: at,
            len: size.min(u64::from(u32::MAX)) as u32,
        };
        if !matches!(c.step(read)?, v1::Outcome::Err(_)) {
            return Err(Failure::new(&[V1_ERR_001], "the read made to fail did not report an errno").into());
        }
        c.step(v1::Op::Reset)?;
        c.step(v1::Op::Read(Field::DeviceState))?;
        Ok(())
    })();
    vec![concluded(SuiteId::Faults, name, &c, &[V1_ERR_001], result)]
}

/// Bad v1 streams: garbage chunk, a missing chunk, nothing at all.
pub fn bad_streams_v1(model: &Region, device: &mut Handle<Region>) -> Vec<Verdict> {
    let mut out = Vec::new();
    for case in ["empty", "garbage", "partial"] {
        let name = format!("v1/faults/bad-stream/{case}");
        if let Err(v) = restore(SuiteId::Faults, &name, device) {
            out.push(*v);
            return out;
        }
        let mut c = Checker::new(model, device);
        let result = (|| {
            c.step(v1::Op::set(V1State::Resuming))?;
            let before = c.fingerprint()?;
            let first = c.last_snapshot(&[]);
            if case != "empty" {
                let v1::Outcome::Value(at) = c.step(v1::Op::Read(Field::DataOffset))? else {
                    return Err(Failure::new(&[V1_RES_001], "data_offset read failed in RESUMING"));
                };
                let data = match case {
                    "garbage" => ChunkTag::Garbage,
                    _ => ChunkTag::Stream {
                        offset: 0,
                        total: None,
                        whole: true,
                    },
                };
                c.step(v1::Op::WriteData {
                    offset: at,
                    len: 64,
                    data,
                })?;
                c.step(v1::Op::Write(Field::DataSize, 64))?;
            }
            c.step(v1::Op::set(V1State::Running))?;
            c.step(v1::Op::Read(Field::DeviceState))?;
            let after = c.fingerprint()?;
            if before.is_some() && after.is_some() {
                let second = c.last_snapshot(&[]);
                c.compared(first, second, V1_RES_005);
            }
            if after != before {
                return Err(Failure::new(
                    &[V1_RES_005],
                    "a refused stream changed the device's state (partly applied)",
                ));
            }
            c.step(v1::Op::Reset)?;
            Ok(())
        })();
        if !push(
            &mut out,
            Verdict::of(SuiteId::Faults, name, &c, &[V1_RES_005], result),
        ) {
            return out;
        }
    }
    out
}
