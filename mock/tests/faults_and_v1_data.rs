//! The mock as the suite's reference device, called in process: a SET
//! failure injected for one state fires only for a SET from that state (v1
//! and v2), a v1 data read outside the staged chunk, or outside the save
//! loop, fails instead of returning bytes, the v1 mock's registers move
//! only while it runs, and the v2 mock's data size estimate is exact.

use vfio_mig_device::{v1, v2, Device, Fault, Io};
use vfio_mig_mock::{MockConfig, MockV1, MockV2};
use vfio_mig_model::v1::{Field, Outcome as V1Outcome, V1State};
use vfio_mig_model::v2::{FdRef, MigState, MigrationFlags, Outcome as V2Outcome};
use vfio_mig_model::Errno;

/// Reads data_offset: where the chunk lies in the region (a read that, in
/// the save loop, stages the chunk).
fn data_offset(dev: &mut MockV1, io: &mut Io) -> u64 {
    match dev.exec(&v1::Call::Read(Field::DataOffset), io) {
        V1Outcome::Value(v) => v,
        other => panic!("data_offset: {other}"),
    }
}

fn set_v1(dev: &mut MockV1, to: V1State) -> V1Outcome {
    dev.exec(
        &v1::Call::Write(Field::DeviceState, u64::from(to.bits())),
        &mut Io::default(),
    )
}

fn get_v1(dev: &mut MockV1) -> V1Outcome {
    dev.exec(&v1::Call::Read(Field::DeviceState), &mut Io::default())
}

fn set_v2(dev: &mut MockV2, to: MigState) -> V2Outcome {
    dev.exec(&v2::Call::SetState(to.number()), &mut Io::default())
}

fn get_v2(dev: &mut MockV2) -> V2Outcome {
    dev.exec(&v2::Call::GetState, &mut Io::default())
}

/// A v1 device_state write fails only when it leaves the state the fault
/// was armed for: writes from other states succeed and leave the fault
/// armed, the first write from that state fails once and leaves the device
/// where it was, and the next one succeeds (V1-FAIL-001, V1-FAIL-004).
#[test]
fn a_v1_set_failure_armed_for_one_state_fires_only_when_leaving_that_state() {
    let mut dev = MockV1::new(MockConfig::v1(), 0);
    assert!(dev.inject(Fault::FailSet {
        from: V1State::Stop.bits(),
        into_error: false,
    }));
    // From RUNNING and from PRE-COPY: not the armed state, so no failure.
    assert_eq!(
        set_v1(&mut dev, V1State::PreCopy),
        V1Outcome::Ok,
        "RUNNING -> PRE-COPY"
    );
    assert_eq!(
        set_v1(&mut dev, V1State::Running),
        V1Outcome::Ok,
        "PRE-COPY -> RUNNING"
    );
    assert_eq!(set_v1(&mut dev, V1State::Stop), V1Outcome::Ok, "RUNNING -> STOP");
    assert_eq!(
        get_v1(&mut dev),
        V1Outcome::Value(u64::from(V1State::Stop.bits()))
    );
    // From STOP: the armed fault fires, once, and the device stays in STOP.
    assert_eq!(
        set_v1(&mut dev, V1State::Running),
        V1Outcome::Err(Errno::EIO),
        "the write leaving STOP fails"
    );
    assert_eq!(
        get_v1(&mut dev),
        V1Outcome::Value(u64::from(V1State::Stop.bits()))
    );
    assert_eq!(
        set_v1(&mut dev, V1State::Running),
        V1Outcome::Ok,
        "the fault fired once"
    );
    assert_eq!(
        get_v1(&mut dev),
        V1Outcome::Value(u64::from(V1State::Running.bits()))
    );
}

/// The same on v2: a SET failure armed for STOP lets SETs from RUNNING
/// and PRE_COPY through, fails the first SET from STOP with the device left in STOP
/// (not ERROR, as not asked for), and is spent by it (V2-ERR-001).
#[test]
fn a_v2_set_failure_armed_for_one_state_fires_only_when_leaving_that_state() {
    let mut dev = MockV2::new(MockConfig::v2(MigrationFlags::new(5).unwrap()), 0);
    assert!(dev.inject(Fault::FailSet {
        from: MigState::Stop.number(),
        into_error: false,
    }));
    assert!(
        matches!(set_v2(&mut dev, MigState::PreCopy), V2Outcome::SetOk { .. }),
        "RUNNING -> PRE_COPY"
    );
    assert!(
        matches!(set_v2(&mut dev, MigState::Running), V2Outcome::SetOk { .. }),
        "PRE_COPY -> RUNNING"
    );
    assert!(
        matches!(set_v2(&mut dev, MigState::Stop), V2Outcome::SetOk { .. }),
        "RUNNING -> STOP"
    );
    assert_eq!(get_v2(&mut dev), V2Outcome::State(MigState::Stop.number()));
    assert!(
        matches!(set_v2(&mut dev, MigState::Running), V2Outcome::Err(Errno::EIO)),
        "the SET leaving STOP fails"
    );
    assert_eq!(get_v2(&mut dev), V2Outcome::State(MigState::Stop.number()));
    assert!(
        matches!(set_v2(&mut dev, MigState::Running), V2Outcome::SetOk { .. }),
        "the fault fired once"
    );
    assert_eq!(get_v2(&mut dev), V2Outcome::State(MigState::Running.number()));
}

/// With a chunk staged in stop-and-copy, the chunk reads back at
/// data_offset, but a read that starts before data_offset (in the header)
/// or runs past data_offset + data_size fails with an errno and returns no
/// bytes (V1-LAYOUT-004, V1-SAVE-003, V1-SAVE-005).
#[test]
fn a_v1_data_read_outside_the_staged_chunk_fails() {
    let mut dev = MockV1::new(MockConfig::v1(), 0);
    let mut io = Io::default();
    assert_eq!(set_v1(&mut dev, V1State::StopCopy), V1Outcome::Ok);
    let V1Outcome::Value(pending) = dev.exec(&v1::Call::Read(Field::PendingBytes), &mut io) else {
        panic!("pending_bytes in stop-and-copy");
    };
    assert!(pending > 0);
    let offset = data_offset(&mut dev, &mut io);
    assert!(offset >= 32, "the data section lies after the header");
    let V1Outcome::Value(size) = dev.exec(&v1::Call::Read(Field::DataSize), &mut io) else {
        panic!("data_size of a staged chunk");
    };
    assert!(size > 8, "a chunk of more than 8 bytes is staged ({size})");
    let outside = [
        (0, 8, "the header"),
        (offset - 8, 8, "just before data_offset"),
        (offset - 4, 8, "straddling data_offset"),
        (offset + size - 4, 8, "straddling the end of the chunk"),
        (offset + size, 1, "just after the chunk"),
    ];
    for (at, len, what) in outside {
        let got = dev.exec(&v1::Call::ReadData { offset: at, len }, &mut io);
        assert_eq!(
            got,
            V1Outcome::Err(Errno::EINVAL),
            "a read of {what} ({at}+{len})"
        );
        assert!(io.read.is_empty(), "no bytes from a failed read of {what}");
    }
    // The staged chunk itself still reads whole.
    let len = u32::try_from(size).unwrap();
    assert_eq!(
        dev.exec(&v1::Call::ReadData { offset, len }, &mut io),
        V1Outcome::Bytes(len)
    );
    assert_eq!(io.read.len(), len as usize);
}

/// Outside the save loop nothing is staged to read: in RESUMING, after
/// data_offset opened a chunk for writing, a read of the data section fails
/// even when it asks for nothing, as the model expects of a read outside
/// pre-copy and stop-and-copy (V1-SAVE-010).
#[test]
fn a_v1_data_read_while_resuming_fails() {
    let mut dev = MockV1::new(MockConfig::v1(), 1);
    let mut io = Io::default();
    assert_eq!(set_v1(&mut dev, V1State::Stop), V1Outcome::Ok);
    assert_eq!(set_v1(&mut dev, V1State::Resuming), V1Outcome::Ok);
    let offset = data_offset(&mut dev, &mut io);
    for len in [0, 1, 8] {
        assert_eq!(
            dev.exec(&v1::Call::ReadData { offset, len }, &mut io),
            V1Outcome::Err(Errno::EINVAL),
            "a read of {len} bytes at data_offset while resuming"
        );
        assert!(io.read.is_empty());
    }
}

/// The v1 mock is a device that runs: while RUNNING and in pre-copy its
/// registers change as the user polls device_state (so that a suite can
/// catch a stale snapshot), and in STOP and stop-and-copy they stay as
/// they are (V1-ARC-001, V1-ARC-002, V1-ARC-004).
#[test]
fn the_v1_mock_runs_in_running_and_pre_copy_and_stands_still_when_stopped() {
    let mut dev = MockV1::new(MockConfig::v1(), 0);
    for (state, runs) in [
        (V1State::Running, true),
        (V1State::PreCopy, true),
        (V1State::StopCopy, false),
        (V1State::Stop, false),
    ] {
        assert_eq!(set_v1(&mut dev, state), V1Outcome::Ok, "into {state:?}");
        let before = dev.fingerprint().expect("the mock exposes its registers");
        for _ in 0..8 {
            assert_eq!(get_v1(&mut dev), V1Outcome::Value(u64::from(state.bits())));
        }
        let after = dev.fingerprint().expect("the mock exposes its registers");
        assert_eq!(
            before != after,
            runs,
            "{state:?}: registers changed: {}",
            before != after
        );
    }
}

/// The v2 mock's MIG_DATA_SIZE estimate is exact: a STOP_COPY stream
/// taken from STOP carries as many bytes as the GET said just before.
/// V2-SIZE-001 allows any estimate; the reference device gives the exact
/// one, so that a user can set a device's estimate beside it.
#[test]
fn the_v2_mocks_data_size_is_the_length_of_its_stop_copy_stream() {
    for state_len in [1, 256, 3000] {
        let mut config = MockConfig::v2(MigrationFlags::new(1).unwrap());
        config.state_len = state_len;
        let mut dev = MockV2::new(config, 0);
        assert!(matches!(
            set_v2(&mut dev, MigState::Stop),
            V2Outcome::SetOk { .. }
        ));
        let V2Outcome::Size(estimate) = dev.exec(&v2::Call::DataSize, &mut Io::default()) else {
            panic!("MIG_DATA_SIZE in STOP");
        };
        assert!(
            matches!(
                set_v2(&mut dev, MigState::StopCopy),
                V2Outcome::SetOk { fd: true }
            ),
            "STOP -> STOP_COPY opens a data fd"
        );
        let mut io = Io::default();
        let mut total = 0u64;
        loop {
            match dev.exec(
                &v2::Call::Read {
                    fd: FdRef(0),
                    len: 512,
                },
                &mut io,
            ) {
                V2Outcome::Bytes(0) => break,
                V2Outcome::Bytes(n) => total += u64::from(n),
                other => panic!("a read of the stream: {other}"),
            }
        }
        assert_eq!(total, estimate, "{state_len} bytes of state");
    }
}
