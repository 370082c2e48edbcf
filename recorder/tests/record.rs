//! The recorder's decoding, fed the calls a migrating program makes (as the
//! preloaded shim sees them): the traces it writes check clean offline, and
//! a device that misbehaves is caught from its recorded trace.

use vfio_mig_model::{Profile, ProtocolName};
use vfio_mig_recorder::record::Recorder;
use vfio_mig_trace::check;

const GET: u32 = 1 << 16;
const SET: u32 = 1 << 17;

/// A SET of `state` on `dev` answered with `data_fd` (or `errno`).
fn set(r: &mut Recorder, dev: i32, state: u32, data_fd: i32, errno: Option<i32>) {
    let mut before = state.to_le_bytes().to_vec();
    before.extend_from_slice(&(-1i32).to_le_bytes());
    let mut after = state.to_le_bytes().to_vec();
    after.extend_from_slice(&data_fd.to_le_bytes());
    r.feature(dev, SET | 2, &before, &after, errno.map_or(Ok(()), Err));
}

fn json(r: &Recorder, dev: i32) -> String {
    serde_json::to_string(&r.trace(dev).unwrap()).unwrap()
}

fn profile() -> Profile {
    Profile::defaults(ProtocolName::V2)
}

#[test]
fn a_migration_between_two_devices_records_two_clean_traces() {
    let mut r = Recorder::new(None);
    let (src, dst) = (5, 8);
    for dev in [src, dst] {
        r.feature(dev, GET | 1, &[0; 8], &7u64.to_le_bytes(), Ok(()));
    }
    set(&mut r, src, 3, 20, None);
    let stream: Vec<u8> = (0..96).collect();
    r.read(20, 4096, Ok(&stream));
    r.read(20, 4096, Ok(&[]));
    set(&mut r, src, 1, -1, None);
    r.close(20, Ok(()));
    set(&mut r, dst, 4, 21, None);
    r.write(21, &stream[..64], Ok(64));
    r.write(21, &stream[64..], Ok(32));
    set(&mut r, dst, 1, -1, None);
    r.close(21, Ok(()));
    set(&mut r, dst, 2, -1, None);
    for dev in [src, dst] {
        let c = check(&json(&r, dev), profile()).unwrap();
        assert_eq!(c.violation, None, "device {dev}");
    }
    assert_eq!(
        r.trace(dst).unwrap().steps[1].stream_total,
        Some(96),
        "the writes were the saved stream"
    );
    // Calls on fds the recorder does not follow leave no trace.
    r.read(99, 10, Ok(&[1, 2]));
    assert!(!r.is_data_fd(99) && r.trace(99).is_none());
}

#[test]
fn unseen_bytes_count_as_one_stream_and_a_refused_arc_is_caught() {
    let mut r = Recorder::new(None);
    let dev = 3;
    r.feature(dev, GET | 1, &[0; 8], &1u64.to_le_bytes(), Ok(()));
    set(&mut r, dev, 3, 10, None);
    r.read(10, 4096, Ok(&[1, 2, 3, 4]));
    r.read(10, 4096, Ok(&[]));
    set(&mut r, dev, 1, -1, None);
    set(&mut r, dev, 4, 11, None);
    // Bytes this process did not read: the recorder cannot know where they
    // come from and takes them as one whole saved stream, so the device may
    // accept them.
    r.write(11, &[9, 9, 9, 9], Ok(4));
    set(&mut r, dev, 1, -1, None);
    let c = check(&json(&r, dev), profile()).unwrap();
    assert_eq!(c.violation, None);
    assert_eq!(r.trace(dev).unwrap().steps[5].stream_total, Some(4));
    // An arc the model refuses, recorded as accepted, is caught.
    set(&mut r, dev, 0, -1, None);
    let (at, reqs, what) = check(&json(&r, dev), profile()).unwrap().violation.unwrap();
    assert_eq!(at, 7);
    assert!(reqs.contains(&vfio_mig_model::reqs::V2_ARC_008), "{what}");
}
