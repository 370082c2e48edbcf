//! The strict request checks: each rule refuses what it should, lets through
//! what the client sends, and no input makes checking panic. Payloads are
//! typed in by hand (argsz first, then the fields, little-endian).

use proptest::prelude::*;
use vfio_mig_vfio_user::check::{check_feature, check_mig_data_read, check_mig_data_write};
use vfio_mig_vfio_user::{check_request, Command, Header, Limits, Request, RequestError};

fn command(number: u16) -> Header {
    Header {
        msg_id: 1,
        command: number,
        size: 0,
        flags: 0,
        error: 0,
    }
}

fn check(number: u16, payload: &[u8]) -> Result<Request, RequestError> {
    check_request(&command(number), payload, &Limits::default())
}

const GET: u32 = 1 << 16;
const SET: u32 = 1 << 17;
const PROBE: u32 = 1 << 18;

#[test]
fn mig_data_read_argsz_must_cover_the_reply() {
    // argsz 8, size 16: the old encoding, refused by libvfio-user.
    let e = check(17, &[8, 0, 0, 0, 16, 0, 0, 0]).unwrap_err();
    assert_eq!(
        e,
        RequestError::ArgszTooSmall {
            command: Command::MigDataRead,
            argsz: 8,
            need: 24
        }
    );
    assert_eq!(e.errno(), 22);
    assert_eq!(
        e.to_string(),
        "MIG_DATA_READ: argsz 8 is below the 24 bytes of the reply"
    );
    // One short, then exactly enough, then more than enough.
    assert!(check(17, &[23, 0, 0, 0, 16, 0, 0, 0]).is_err());
    assert_eq!(
        check(17, &[24, 0, 0, 0, 16, 0, 0, 0]),
        Ok(Request::MigDataRead { size: 16 })
    );
    assert!(check(17, &[0xff, 0xff, 0, 0, 16, 0, 0, 0]).is_ok());
    // 8 + size does not fit in 32 bits: no argsz is large enough.
    let limits = Limits {
        max_data_xfer: u32::MAX,
    };
    assert_eq!(
        check_mig_data_read(u32::MAX, u32::MAX, &limits),
        Err(RequestError::ArgszTooSmall {
            command: Command::MigDataRead,
            argsz: u32::MAX,
            need: u64::from(u32::MAX) + 8
        })
    );
}

#[test]
fn mig_data_read_size_and_length() {
    // size 1 MiB + 1 over the default limit of 1 MiB.
    let e = check(17, &[9, 0, 0x10, 0, 1, 0, 0x10, 0]).unwrap_err();
    assert_eq!(
        e,
        RequestError::OverMaxXfer {
            command: Command::MigDataRead,
            size: (1 << 20) + 1,
            max: 1 << 20
        }
    );
    // A smaller limit from the client's VERSION.
    let limits = Limits { max_data_xfer: 4 };
    assert!(check_mig_data_read(13, 5, &limits).is_err());
    assert!(check_mig_data_read(12, 4, &limits).is_ok());
    // Seven bytes: argsz and three bytes of size.
    assert_eq!(
        check(17, &[24, 0, 0, 0, 16, 0, 0]),
        Err(RequestError::Truncated {
            command: Command::MigDataRead,
            need: 8,
            got: 7
        })
    );
    // A ninth byte the layout does not have.
    assert_eq!(
        check(17, &[24, 0, 0, 0, 16, 0, 0, 0, 0]),
        Err(RequestError::TrailingBytes {
            command: Command::MigDataRead,
            expected: 8,
            got: 9
        })
    );
}

#[test]
fn mig_data_write_rules() {
    // argsz 12, size 4, four bytes: accepted.
    assert_eq!(
        check(18, &[12, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]),
        Ok(Request::MigDataWrite {
            data: vec![1, 2, 3, 4]
        })
    );
    // argsz 8 with 4 bytes of data: libvfio-user's rule refuses it.
    assert_eq!(
        check(18, &[8, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]),
        Err(RequestError::ArgszTooSmall {
            command: Command::MigDataWrite,
            argsz: 8,
            need: 12
        })
    );
    // size 8, four bytes follow.
    assert_eq!(
        check(18, &[16, 0, 0, 0, 8, 0, 0, 0, 1, 2, 3, 4]),
        Err(RequestError::DataLength {
            command: Command::MigDataWrite,
            size: 8,
            follow: 4
        })
    );
    let limits = Limits { max_data_xfer: 2 };
    assert_eq!(
        check_mig_data_write(11, 3, 3, &limits),
        Err(RequestError::OverMaxXfer {
            command: Command::MigDataWrite,
            size: 3,
            max: 2
        })
    );
}

#[test]
fn feature_access_bits() {
    // GET and SET together without PROBE (flags 0x00030002).
    let both = [16, 0, 0, 0, 0x02, 0x00, 0x03, 0x00, 1, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        check(16, &both),
        Err(RequestError::FeatureGetAndSet { flags: 0x0003_0002 })
    );
    // ... which PROBE makes a valid question.
    assert!(check_feature(8, 0x0007_0002, &[]).is_ok());
    // No access bit.
    assert_eq!(
        check_feature(16, 2, &[]),
        Err(RequestError::FeatureNoAccess { flags: 2 })
    );
    // A bit above PROBE.
    assert_eq!(
        check_feature(16, (1 << 19) | GET | 2, &[]),
        Err(RequestError::FeatureUnknownBits {
            flags: (1 << 19) | GET | 2
        })
    );
    // Feature 3 is not a vfio-user feature.
    assert_eq!(
        check_feature(16, GET | 3, &[]),
        Err(RequestError::FeatureUnknown { index: 3 })
    );
    // MIGRATION has no SET; DMA_LOGGING_START has no GET; a probe naming
    // a missing method fails too.
    assert_eq!(
        check_feature(16, SET | 1, &[0; 8]),
        Err(RequestError::FeatureAccess {
            index: 1,
            access: "SET"
        })
    );
    assert_eq!(
        check_feature(64, GET | 6, &[]),
        Err(RequestError::FeatureAccess {
            index: 6,
            access: "GET"
        })
    );
    assert!(check_feature(8, PROBE | SET | 1, &[]).is_err());
    assert!(check_feature(8, PROBE | 1, &[]).is_ok());
}

#[test]
fn feature_set_of_the_state_needs_its_eight_bytes() {
    // argsz 64, flags SET | MIG_DEVICE_STATE, no data: the message that
    // makes libvfio-user read past its buffer.
    let short = [64, 0, 0, 0, 0x02, 0x00, 0x02, 0x00];
    let e = check(16, &short).unwrap_err();
    assert_eq!(
        e,
        RequestError::FeatureData {
            index: 2,
            access: "SET",
            expected: 8,
            got: 0
        }
    );
    assert_eq!(
        e.to_string(),
        "DEVICE_FEATURE SET of feature 2: 0 bytes of data, 8 expected"
    );
    // device_state alone, without data_fd.
    assert!(check(16, &[64, 0, 0, 0, 0x02, 0x00, 0x02, 0x00, 1, 0, 0, 0]).is_err());
    // Both words, but argsz 8 leaves no room for the echoed 16 bytes.
    let tight = [8, 0, 0, 0, 0x02, 0x00, 0x02, 0x00, 1, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        check(16, &tight),
        Err(RequestError::ArgszTooSmall {
            command: Command::DeviceFeature,
            argsz: 8,
            need: 16
        })
    );
    // argsz 16: accepted, and decoded as the lenient decoder would.
    let ok = [
        16, 0, 0, 0, 0x02, 0x00, 0x02, 0x00, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
    ];
    assert_eq!(
        check(16, &ok),
        Ok(Request::Feature {
            argsz: 16,
            flags: SET | 2,
            data: vec![1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]
        })
    );
}

#[test]
fn feature_get_argsz_covers_the_appended_data() {
    // GET MIGRATION with argsz 15: the reply is 16 bytes.
    assert_eq!(
        check(16, &[15, 0, 0, 0, 0x01, 0x00, 0x01, 0x00]),
        Err(RequestError::ArgszTooSmall {
            command: Command::DeviceFeature,
            argsz: 15,
            need: 16
        })
    );
    assert!(check(16, &[16, 0, 0, 0, 0x01, 0x00, 0x01, 0x00]).is_ok());
    // GET of the state with data in the request.
    assert!(check_feature(16, GET | 2, &[0; 8]).is_err());
    // Probe: argsz 2 is below the echoed 8 bytes.
    assert!(check_feature(2, PROBE | 1, &[]).is_err());
    // Fewer than argsz and flags.
    assert_eq!(
        check(16, &[16, 0, 0, 0, 1, 0, 1]),
        Err(RequestError::Truncated {
            command: Command::DeviceFeature,
            need: 8,
            got: 7
        })
    );
}

#[test]
fn dma_logging_data() {
    // REPORT of 32 pages of 4 KiB: bitmap of one u64.
    let mut report = Vec::new();
    report.extend_from_slice(&0x10000u64.to_le_bytes()); // iova
    report.extend_from_slice(&0x20000u64.to_le_bytes()); // length: 32 pages
    report.extend_from_slice(&0x1000u64.to_le_bytes()); // page_size
    assert!(check_feature(8 + 24 + 8, GET | 8, &report).is_ok());
    assert!(check_feature(8 + 24 + 7, GET | 8, &report).is_err());
    // Without its 24 bytes (the other read past the buffer in libvfio-user).
    assert_eq!(
        check_feature(64, GET | 8, &[]),
        Err(RequestError::FeatureData {
            index: 8,
            access: "GET",
            expected: 24,
            got: 0
        })
    );
    // page_size 3.
    report[16] = 3;
    report[17] = 0;
    assert!(matches!(
        check_feature(64, GET | 8, &report),
        Err(RequestError::FeatureValue { index: 8, .. })
    ));
    // START: page_size, num_ranges 1, reserved, one range.
    let mut start = Vec::new();
    start.extend_from_slice(&0x1000u64.to_le_bytes());
    start.extend_from_slice(&1u32.to_le_bytes());
    start.extend_from_slice(&0u32.to_le_bytes());
    start.extend_from_slice(&[0; 16]);
    assert!(check_feature(8 + 32, SET | 6, &start).is_ok());
    assert!(check_feature(8 + 32, SET | 6, &start[..24]).is_err());
}

#[test]
fn device_get_info_and_reset() {
    // argsz 15: the reply is 16 bytes.
    assert_eq!(
        check(4, &[15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        Err(RequestError::ArgszTooSmall {
            command: Command::DeviceGetInfo,
            argsz: 15,
            need: 16
        })
    );
    // num_regions set in the request.
    assert_eq!(
        check(4, &[16, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]),
        Err(RequestError::NotZero {
            command: Command::DeviceGetInfo,
            field: "num_regions",
            value: 9
        })
    );
    assert_eq!(
        check(4, &[16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        Ok(Request::DeviceGetInfo)
    );
    assert_eq!(check(13, &[]), Ok(Request::DeviceReset));
    assert!(matches!(
        check(13, &[0]),
        Err(RequestError::TrailingBytes { expected: 0, .. })
    ));
}

#[test]
fn version_capabilities() {
    assert!(check(1, &[0, 0, 1, 0]).is_ok());
    let with = |json: &[u8]| {
        let mut p = vec![0, 0, 1, 0];
        p.extend_from_slice(json);
        check(1, &p)
    };
    assert!(with(b"{\"capabilities\":{\"max_data_xfer_size\":4096}}\0").is_ok());
    // No terminating NUL.
    assert!(matches!(
        with(b"{}"),
        Err(RequestError::Capabilities(why)) if why.contains("NUL")
    ));
    assert!(with(b"[1]\0").is_err());
    assert!(with(b"{\"capabilities\":{\"max_msg_fds\":-1}}\0").is_err());
    assert!(with(b"{\"capabilities\":{\"twin_socket\":{\"supported\":1}}}\0").is_err());
    assert!(with(b"{\"capabilities\":7}\0").is_err());
}

#[test]
fn header_and_command_numbers() {
    let reply = Header {
        flags: 1,
        ..command(13)
    };
    assert_eq!(
        check_request(&reply, &[], &Limits::default()),
        Err(RequestError::NotACommand { flags: 1 })
    );
    // No_reply is still a command.
    let quiet = Header {
        flags: 0x10,
        ..command(13)
    };
    assert!(check_request(&quiet, &[], &Limits::default()).is_ok());
    assert_eq!(check(99, &[]), Err(RequestError::UnknownCommand(99)));
}

/// The requests the adapter sends, in the shapes it sends them.
fn client_request() -> impl Strategy<Value = Request> {
    prop_oneof![
        Just(Request::Version {
            major: 0,
            minor: 1,
            caps: String::new()
        }),
        Just(Request::DeviceGetInfo),
        Just(Request::DeviceReset),
        Just(Request::Feature {
            argsz: 64,
            flags: GET | 1,
            data: Vec::new()
        }),
        Just(Request::Feature {
            argsz: 64,
            flags: GET | 2,
            data: Vec::new()
        }),
        (0u32..8).prop_map(|s| Request::Feature {
            argsz: 64,
            flags: SET | 2,
            data: [s.to_le_bytes(), u32::MAX.to_le_bytes()].concat()
        }),
        (0u32..=1 << 20).prop_map(|size| Request::MigDataRead { size }),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(|data| Request::MigDataWrite { data }),
    ]
}

proptest! {
    /// What the client encodes passes the strict checks unchanged.
    #[test]
    fn client_requests_pass(req in client_request()) {
        let got = check_request(&command(req.command().number()), &req.payload(), &Limits::default());
        prop_assert_eq!(got, Ok(req));
    }

    /// Any bytes: checking answers without panicking, and whatever passes
    /// decodes the same leniently.
    #[test]
    fn arbitrary_requests_never_panic(
        number in prop_oneof![1u16..=18, any::<u16>()],
        flags in prop_oneof![Just(0u32), any::<u32>()],
        bytes in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let h = Header { flags, ..command(number) };
        if let Ok(req) = check_request(&h, &bytes, &Limits { max_data_xfer: 64 }) {
            prop_assert_eq!(Request::decode(number, &bytes), Ok(req));
        }
    }
}
