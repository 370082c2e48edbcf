//! The codec: every message survives encoding and decoding (property tests),
//! and malformed input is an error naming the message, never a panic.

use proptest::prelude::*;
use vfio_mig_vfio_user::codec::HEADER_LEN;
use vfio_mig_vfio_user::{read_frame, write_frame, CodecError, Command, FrameError, Header, Reply, Request};

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        (
            any::<u16>(),
            any::<u16>(),
            prop_oneof![
                Just(String::new()),
                Just(r#"{"capabilities":{"max_data_xfer_size":4096}}"#.to_owned())
            ]
        )
            .prop_map(|(major, minor, caps)| Request::Version { major, minor, caps }),
        Just(Request::DeviceGetInfo),
        Just(Request::DeviceReset),
        (
            any::<u32>(),
            any::<u32>(),
            prop::collection::vec(any::<u8>(), 0..24)
        )
            .prop_map(|(argsz, flags, data)| Request::Feature { argsz, flags, data }),
        any::<u32>().prop_map(|size| Request::MigDataRead { size }),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(|data| Request::MigDataWrite { data }),
    ]
}

fn reply() -> impl Strategy<Value = (Command, Reply)> {
    prop_oneof![
        (any::<u16>(), any::<u16>()).prop_map(|(major, minor)| (
            Command::Version,
            Reply::Version {
                major,
                minor,
                caps: String::new()
            }
        )),
        (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(flags, num_regions, num_irqs)| {
            (
                Command::DeviceGetInfo,
                Reply::DeviceInfo {
                    flags,
                    num_regions,
                    num_irqs,
                },
            )
        }),
        Just((Command::DeviceReset, Reply::Empty)),
        (
            any::<u32>(),
            any::<u32>(),
            prop::collection::vec(any::<u8>(), 0..24)
        )
            .prop_map(|(argsz, flags, data)| (Command::DeviceFeature, Reply::Feature { argsz, flags, data })),
        prop::collection::vec(any::<u8>(), 0..300)
            .prop_map(|data| (Command::MigDataRead, Reply::MigData { data })),
    ]
}

proptest! {
    #[test]
    fn requests_round_trip_through_a_frame(req in request(), id in any::<u16>()) {
        let mut wire = Vec::new();
        let h = Header { msg_id: id, command: req.command().number(), size: 0, flags: 0, error: 0 };
        write_frame(&mut wire, h, &req.payload()).unwrap();
        let (got_h, payload) = read_frame(&mut wire.as_slice(), 1 << 20).unwrap();
        prop_assert_eq!(got_h.msg_id, id);
        prop_assert_eq!(got_h.size as usize, wire.len());
        prop_assert_eq!(Request::decode(got_h.command, &payload).unwrap(), req);
    }

    #[test]
    fn replies_round_trip((cmd, rep) in reply()) {
        prop_assert_eq!(Reply::decode(cmd, &rep.payload()).unwrap(), rep);
    }

    /// Any bytes at all: decoding answers, never panics.
    #[test]
    fn arbitrary_payloads_never_panic(cmd in any::<u16>(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = Request::decode(cmd, &bytes);
        if let Some(c) = Command::from_number(cmd) {
            let _ = Reply::decode(c, &bytes);
        }
        let _ = read_frame(&mut bytes.as_slice(), 1 << 16);
    }
}

#[test]
fn truncated_and_inconsistent_messages_name_what_is_wrong() {
    let e = Request::decode(17, &[8, 0, 0, 0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "MIG_DATA_READ command: payload of 4 bytes, at least 8 needed"
    );
    let e = Request::decode(18, &[12, 0, 0, 0, 9, 0, 0, 0, 1, 2]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "MIG_DATA_WRITE command: size says 9 bytes, 2 follow"
    );
    assert_eq!(
        Request::decode(99, &[]).unwrap_err(),
        CodecError::UnknownCommand(99)
    );
    let e = Reply::decode(Command::MigDataRead, &[16, 0, 0, 0, 8, 0, 0, 0, 1]).unwrap_err();
    assert!(e.to_string().contains("only 1 follow"), "{e}");
    let e = Reply::decode(Command::Version, &[0, 0, 1, 0, b'{', 0]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("VERSION reply: capabilities are not JSON"),
        "{e}"
    );
    // A padded MIG_DATA_READ reply: `size` decides.
    let r = Reply::decode(Command::MigDataRead, &[10, 0, 0, 0, 2, 0, 0, 0, 7, 8, 0, 0]).unwrap();
    assert_eq!(r, Reply::MigData { data: vec![7, 8] });
}

#[test]
fn frames_are_bounded_before_anything_is_allocated() {
    let mut h = Header {
        msg_id: 1,
        command: 17,
        size: u32::MAX,
        flags: 0,
        error: 0,
    }
    .encode()
    .to_vec();
    assert!(matches!(
        read_frame(&mut h.as_slice(), 4096),
        Err(FrameError::TooLarge {
            size: u32::MAX,
            max: 4096
        })
    ));
    h[4..8].copy_from_slice(&3u32.to_le_bytes());
    assert!(matches!(
        read_frame(&mut h.as_slice(), 4096),
        Err(FrameError::TooSmall(3))
    ));
    h[4..8].copy_from_slice(&((HEADER_LEN + 10) as u32).to_le_bytes());
    let e = read_frame(&mut h.as_slice(), 4096).unwrap_err();
    assert!(matches!(e, FrameError::Cut { got: 16, size: 26 }), "{e}");
    assert!(matches!(
        read_frame(&mut [].as_slice(), 4096),
        Err(FrameError::Closed)
    ));
}

#[test]
fn a_data_read_offers_room_for_the_whole_reply() {
    // argsz is the largest reply payload accepted: 8 bytes of argsz and size,
    // then the data asked for.
    assert_eq!(
        Request::MigDataRead { size: 16 }.payload(),
        [24, 0, 0, 0, 16, 0, 0, 0]
    );
}

proptest! {
    /// The region decoders answer any bytes without panicking, and what
    /// they decode encodes back to the same bytes.
    #[test]
    fn region_messages_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        use vfio_mig_vfio_user::{RegionAccess, RegionInfo};
        if let Ok(a) = RegionAccess::decode("REGION_READ command", &bytes) {
            prop_assert_eq!(a.payload(&[]), bytes.clone());
        }
        if let Ok((a, data)) = RegionAccess::decode_with_data("REGION_WRITE command", &bytes) {
            prop_assert_eq!(a.payload(data), bytes.clone());
        }
        if let Ok((info, caps)) = RegionInfo::decode("DEVICE_GET_REGION_INFO reply", &bytes) {
            prop_assert_eq!(info.payload(caps), bytes.clone());
        }
    }
}

/// A deadline bounds the whole message, not each read: a peer that sends
/// one byte every 20 ms never completes a frame, and the read ends once the
/// deadline passes, saying how much came.
#[test]
fn a_trickling_peer_cannot_keep_a_read_alive() {
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};
    use vfio_mig_vfio_user::Deadline;
    let (a, mut b) = UnixStream::pair().unwrap();
    std::thread::spawn(move || {
        // A header announcing 64 bytes, then its payload, a byte at a time.
        let mut bytes = vec![1, 0, 1, 0, 64, 0, 0, 0];
        bytes.resize(64, 0);
        for byte in bytes {
            if std::io::Write::write_all(&mut b, &[byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let start = Instant::now();
    let e = read_frame(&mut Deadline::new(&a, Duration::from_millis(300)), 1 << 20).unwrap_err();
    assert!(matches!(e, FrameError::ReadTimedOut { got } if got > 0), "{e}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "ended by the deadline, not by the peer"
    );
    assert!(e.to_string().contains("stopped arriving"), "{e}");
}

/// A side whose write times out says that the peer stopped taking bytes,
/// not that nobody answered.
#[test]
fn a_write_timeout_says_the_peer_stopped_reading() {
    use std::os::unix::net::UnixStream;
    use std::time::Duration;
    use vfio_mig_vfio_user::Deadline;
    let (a, _b) = UnixStream::pair().unwrap();
    let big = vec![0u8; 8 << 20];
    let h = Header {
        msg_id: 1,
        command: 1,
        size: 0,
        flags: 0,
        error: 0,
    };
    let e = write_frame(&mut Deadline::new(&a, Duration::from_millis(200)), h, &big).unwrap_err();
    assert!(
        matches!(e, FrameError::WriteTimedOut { sent, .. } if sent > 0),
        "{e}"
    );
    let text = e.to_string();
    assert!(
        text.contains("stopped taking bytes") && !text.contains("no answer"),
        "{text}"
    );
}
