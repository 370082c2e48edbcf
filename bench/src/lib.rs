//! What the benchmarks measure, shared by the criterion benches and the
//! `perf-report` tool: operation traces for the model, the mock configured
//! for large streams, and the names under which criterion stores results.

use vfio_mig_device::{Device, Io};
use vfio_mig_engine::target::Target;
use vfio_mig_mock::MockConfig;
use vfio_mig_model::v2::{DataTag, FdRef, Fsm, MigState, MigrationFlags, Op, Outcome};
use vfio_mig_model::{Allowed, Belief, Expectation, Kind, Protocol};

/// One checked step of a trace: the operation and the device's answer.
pub type Step<P> = (<P as Protocol>::Op, <P as Protocol>::Outcome);

/// A walk of `len` operations through `model`: each operation is drawn from
/// the model's alphabet and answered with an outcome the model allows
/// (deterministic from `seed`). One answer in `fault_one_in` is drawn from
/// every allowed pattern, faults included; the others from the normal
/// patterns, as a conforming device answers. Faults leave the model with
/// several candidate states, which cost more to judge.
pub fn walk<P: Target>(model: &P, len: usize, fault_one_in: u64, mut seed: u64) -> Vec<Step<P>> {
    let mut next = move || {
        // splitmix64
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut out = Vec::with_capacity(len);
    let mut belief = model.start();
    while out.len() < len {
        let ops = model.alphabet(&belief);
        let op = ops[next() as usize % ops.len()].clone();
        let allowed = model.allowed(&belief, &op);
        // Patterns the uAPI forbids are listed only to name the rule they
        // break: no device that the model follows answers with them.
        let permitted: Vec<_> = allowed.items.iter().filter(|a| a.permitted()).collect();
        let normal: Vec<_> = permitted
            .iter()
            .copied()
            .filter(|a| a.kind == Kind::Normal)
            .collect();
        let a = if normal.is_empty() || next() % fault_one_in == 0 {
            permitted[next() as usize % permitted.len()]
        } else {
            normal[next() as usize % normal.len()]
        };
        let outcome = a.expect.example(next());
        match model.advance(&belief, &op, &outcome) {
            Ok((b, _)) if !b.is_empty() => {
                belief = b;
                out.push((op, outcome));
            }
            // An example the successors cannot follow (a pattern only a
            // fault allows): not recorded; the walk draws again from the
            // same belief, so that the replay never loses step with it.
            _ => {}
        }
    }
    out
}

/// Replays `trace` as the checker does (one [`Protocol::judge_into`] per step:
/// the allowed outcomes and the judgement of the observed one); returns how
/// many steps were judged allowed (all of a [`walk`]'s).
pub fn replay<P: Protocol>(model: &P, trace: &[Step<P>]) -> usize {
    let mut belief = model.start();
    let mut next = Belief::empty();
    let mut allowed = Allowed::governed_by(&[]);
    let mut judged = 0;
    for (op, outcome) in trace {
        match model.judge_into(&belief, op, outcome, &mut allowed, &mut next) {
            Ok(_) => {
                belief.set_from(&next);
                judged += 1;
            }
            Err(_) => belief = model.start(),
        }
    }
    judged
}

/// Reads the saved state of a freshly restored device through the adapter
/// interface alone (STOP_COPY, reads of [`CHUNK`] bytes to the end, STOP).
/// Each chunk is handed to `sink`, as a VMM hands it to its transport;
/// returns the stream's length.
pub fn save(dev: &mut dyn Device<Fsm>, mut sink: impl FnMut(&[u8])) -> usize {
    let mut io = Io::default();
    let ok = Outcome::SetOk { fd: true };
    assert_eq!(
        dev.exec(
            &vfio_mig_device::v2::Call::of(&Op::Set(MigState::StopCopy)),
            &mut io
        ),
        ok
    );
    let read = Op::Read {
        fd: FdRef(0),
        len: CHUNK,
    };
    let mut total = 0;
    while let Outcome::Bytes(n @ 1..) = dev.exec(&vfio_mig_device::v2::Call::of(&read), &mut io) {
        debug_assert_eq!(n as usize, io.read.len());
        sink(&io.read);
        total += io.read.len();
    }
    dev.exec(&vfio_mig_device::v2::Call::of(&Op::Set(MigState::Stop)), &mut io);
    total
}

/// Writes the chunks of a saved stream into a freshly restored device
/// through the adapter interface alone (RESUMING, one write per chunk,
/// STOP); whether the device took it. The chunks move into the write buffer
/// and back, so the caller's own copying is not measured.
pub fn load(dev: &mut dyn Device<Fsm>, chunks: &mut [Vec<u8>]) -> bool {
    let total: usize = chunks.iter().map(Vec::len).sum();
    let mut io = Io::default();
    dev.exec(
        &vfio_mig_device::v2::Call::of(&Op::Set(MigState::Resuming)),
        &mut io,
    );
    let mut offset = 0;
    let mut ok = true;
    for chunk in chunks.iter_mut() {
        let len = chunk.len();
        std::mem::swap(&mut io.write, chunk);
        let data = DataTag::Stream {
            offset: offset as u64,
            total: Some(total as u64),
        };
        let op = Op::Write {
            fd: FdRef(0),
            len: len as u32,
            data,
        };
        ok &= dev.exec(&vfio_mig_device::v2::Call::of(&op), &mut io) == Outcome::Bytes(len as u32);
        std::mem::swap(&mut io.write, chunk);
        offset += len;
    }
    ok && dev.exec(&vfio_mig_device::v2::Call::of(&Op::Set(MigState::Stop)), &mut io)
        == (Outcome::SetOk { fd: false })
}

/// The mock for the data-path benchmark: `state_len` bytes of device state,
/// reads of any size.
pub fn large_stream_mock(state_len: usize) -> MockConfig {
    let mut c = MockConfig::v2(MigrationFlags::accepted()[3]);
    c.state_len = state_len;
    c.max_read = u32::MAX;
    c
}

/// In the conforming-device traces, one answer in this many may be a fault.
pub const FAULT_ONE_IN: u64 = 64;
/// Operations per model trace in the model benchmarks.
pub const TRACE_LEN: usize = 100_000;
/// Device state size in the data-path benchmark.
pub const STREAM_LEN: usize = 64 << 20;
/// Chunk of each read and write in the data-path benchmark.
pub const CHUNK: u32 = 1 << 20;

/// How many steps of `trace` start from a belief with more than one
/// candidate state (after a failure the uAPI lets end in several states):
/// those cost one set of expectations per candidate.
pub fn uncertain_steps<P: Protocol>(model: &P, trace: &[Step<P>]) -> usize {
    let mut belief = model.start();
    let mut n = 0;
    for (op, outcome) in trace {
        n += usize::from(belief.len() > 1);
        belief = match model.advance(&belief, op, outcome) {
            Ok((b, _)) => b,
            Err(_) => model.start(),
        };
    }
    n
}

/// The mock configured by `config`, instance 0, behind a deadline handle.
pub fn mock_handle(
    config: vfio_mig_mock::MockConfig,
) -> vfio_mig_engine::handle::Handle<vfio_mig_model::v2::Fsm> {
    let dev = Box::new(vfio_mig_mock::MockV2::new(config, 0));
    match vfio_mig_engine::handle::Handle::new(dev, vfio_mig_engine::handle::DEFAULT_TIMEOUT) {
        Ok(h) => h,
        Err(e) => panic!("the mock cannot be started: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfio_mig_model::v1::Region;
    use vfio_mig_model::v2::MigrationFlags;
    use vfio_mig_model::{Profile, ProtocolName};

    /// The benchmark measures judging what a device the model follows may
    /// answer: every step of a walk, faults included, is judged allowed
    /// when replayed, so no time goes to rendering violations.
    #[test]
    fn every_step_of_a_walk_replays_as_allowed() {
        let v2 = Fsm::new(
            MigrationFlags::accepted()[3],
            Profile::defaults(ProtocolName::V2),
            true,
        );
        let v1 = Region::new(Profile::defaults(ProtocolName::V1), 4096);
        for fault_one_in in [FAULT_ONE_IN, 1] {
            assert_eq!(replay(&v2, &walk(&v2, 5000, fault_one_in, 7)), 5000);
            assert_eq!(replay(&v1, &walk(&v1, 5000, fault_one_in, 7)), 5000);
        }
    }
}
