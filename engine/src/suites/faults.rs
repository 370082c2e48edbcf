//! Suite 5: errors and faults. Failed arcs and the way out of ERROR, bad
//! streams into RESUMING with nothing partial applied, descriptors used after
//! their session ended.

use super::common::{concluded, push, restore};
use super::data::{load_v2, save_v2};
use crate::check::{Checker, Failure, Interrupt};
use crate::handle::Handle;
use crate::target::Target;
use crate::verdict::{SuiteId, Verdict};
use vfio_mig_device::{Fault, Io};
use vfio_mig_model::reqs::*;
use vfio_mig_model::v1::{self, ChunkTag, Field, Region, V1State};
use vfio_mig_model::v2::{self, DataTag, FdRef, Fsm, MigState};

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

/// Bad streams into RESUMING: each must be refused, leave RESUMING or ERROR,
/// and change nothing in the device.
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
    let full = saved.bytes;
    let len = full.len() as u64;
    // Each case: a name and how to feed the resume fd.
    type Feed<'f> = Box<dyn Fn(&mut Checker<'_, Fsm>) -> Result<(), Interrupt> + 'f>;
    let mut cases: Vec<(&str, Feed)> = vec![
        ("empty", Box::new(|_c| Ok(()))),
        (
            "garbage",
            Box::new(|c| {
                let junk: Vec<u8> = (0..full.len().max(64)).map(|i| (i * 37 + 11) as u8).collect();
                let mut io = Io {
                    write: junk.clone(),
                    read: Vec::new(),
                };
                c.step_io(
                    v2::Op::Write {
                        fd: FdRef(0),
                        len: junk.len() as u32,
                        data: DataTag::Garbage,
                    },
                    &mut io,
                )?;
                Ok(())
            }),
        ),
    ];
    if len > 0 {
        cases.push((
            "truncated",
            Box::new(|c| Ok(load_v2(c, FdRef(0), &full[..full.len() - 1], Some(len), 4096)?)),
        ));
        cases.push((
            "corrupted",
            Box::new(|c| {
                let mut bad = full.clone();
                let mid = bad.len() / 2;
                bad[mid] ^= 0x5a;
                // Declared as the stream (the bytes are not): the model
                // cannot tell, so the corrupted byte is fed as garbage.
                load_v2(c, FdRef(0), &bad[..mid], Some(len), 4096)?;
                let mut io = Io {
                    write: bad[mid..].to_vec(),
                    read: Vec::new(),
                };
                c.step_io(
                    v2::Op::Write {
                        fd: FdRef(0),
                        len: (bad.len() - mid) as u32,
                        data: DataTag::Garbage,
                    },
                    &mut io,
                )?;
                Ok(())
            }),
        ));
        cases.push((
            "write-fault",
            Box::new(|c| {
                c.require(Fault::FailNthWrite(1), "the adapter cannot make a write fail")?;
                // The first write fails; the rest follows as if it had not.
                let first = full.len().min(16);
                let mut io = Io {
                    write: full[..first].to_vec(),
                    read: Vec::new(),
                };
                c.step_io(
                    v2::Op::Write {
                        fd: FdRef(0),
                        len: first as u32,
                        data: DataTag::Stream {
                            offset: 0,
                            total: Some(len),
                        },
                    },
                    &mut io,
                )?;
                if first < full.len() {
                    let mut io = Io {
                        write: full[first..].to_vec(),
                        read: Vec::new(),
                    };
                    let data = DataTag::Garbage;
                    c.step_io(
                        v2::Op::Write {
                            fd: FdRef(0),
                            len: (full.len() - first) as u32,
                            data,
                        },
                        &mut io,
                    )?;
                }
                Ok(())
            }),
        ));
    }
    let mut out = Vec::new();
    for (case, feed) in cases {
        let name = format!("{name}/{case}");
        if let Err(v) = restore(SuiteId::Faults, &name, dst) {
            out.push(*v);
            return out;
        }
        let mut d = Checker::new(model, dst);
        let result = (|| {
            d.step(v2::Op::Set(MigState::Resuming))?;
            // The device is stopped from here on: its state must not move.
            let before = d.fingerprint()?;
            feed(&mut d)?;
            d.step(v2::Op::Set(MigState::Stop))?;
            d.step(v2::Op::Get)?;
            let after = d.fingerprint()?;
            if before != after {
                return Err(Failure::new(
                    &[V2_STREAM_006],
                    "a refused stream changed the device's state (partly applied)",
                )
                .into());
            }
            d.step(v2::Op::Reset)?;
            d.step(v2::Op::Get)?;
            Ok(())
        })();
        if !push(
            &mut out,
            concluded(SuiteId::Faults, name, &d, &[V2_STREAM_006], result),
        ) {
            return out;
        }
    }
    out
}

/// Descriptors used after their session ended must fail.
pub fn dead_fds_v2(model: &Fsm, device: &mut Handle<Fsm>) -> Vec<Verdict> {
    let mut scripts: Vec<(&str, Vec<MigState>)> = vec![
        ("stop-copy-then-stop", vec![MigState::StopCopy, MigState::Stop]),
        (
            "resuming-then-running",
            vec![MigState::Resuming, MigState::Running],
        ),
    ];
    if model.flags().pre_copy() {
        scripts.push((
            "pre-copy-then-running",
            vec![MigState::PreCopy, MigState::Running],
        ));
    }
    let mut out = Vec::new();
    for (script, states) in scripts {
        let name = format!("{}/faults/dead-fd/{script}", model.label());
        if let Err(v) = restore(SuiteId::Faults, &name, device) {
            out.push(*v);
            return out;
        }
        let mut c = Checker::new(model, device);
        let result = (|| {
            for s in &states {
                c.step(v2::Op::Set(*s))?;
            }
            c.step(v2::Op::Read {
                fd: FdRef(0),
                len: 64,
            })?;
            let mut io = Io {
                write: vec![0; 8],
                read: Vec::new(),
            };
            c.step_io(
                v2::Op::Write {
                    fd: FdRef(0),
                    len: 8,
                    data: DataTag::Garbage,
                },
                &mut io,
            )?;
            if c.model().precopy_info() {
                c.step(v2::Op::PrecopyInfo { fd: FdRef(0) })?;
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
                    c.step(v1::Op::Reset)?;
                    c.step(v1::Op::Read(Field::DeviceState))?;
                    Ok(())
                })();
                if !push(
                    &mut out,
                    concluded(SuiteId::Faults, name, &c, &[V1_FAIL_001, V1_FAIL_003], result),
                ) {
                    return out;
                }
            }
        }
    }
    out
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
                let mut io = Io {
                    write: (0..64u8).collect(),
                    read: Vec::new(),
                };
                c.step_io(
                    v1::Op::WriteData {
                        offset: at,
                        len: 64,
                        data,
                    },
                    &mut io,
                )?;
                c.step(v1::Op::Write(Field::DataSize, 64))?;
            }
            c.step(v1::Op::set(V1State::Running))?;
            c.step(v1::Op::Read(Field::DeviceState))?;
            if c.fingerprint()? != before {
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
