//! Every message the codec encodes or decodes, against bytes written out by
//! hand from the layouts of the vfio-user specification 0.9.2 (QEMU
//! `docs/interop/vfio-user.rst`). The arrays are typed in from the tables,
//! field by field, never produced by the encoder; a comment names each field
//! and its offset. Section names are the specification's.
//!
//! Multi-byte fields are written least significant byte first: the
//! specification says "host endianness", and the hosts this suite runs on are
//! little-endian.

use vfio_mig_vfio_user::{read_frame, write_frame, Command, Header, Reply, Request};

/// Encodes `req` as a whole message and checks it against `wire`; then reads
/// `wire` back and checks the header and the decoded request.
fn request_is(req: &Request, msg_id: u16, wire: &[u8]) {
    let mut out = Vec::new();
    let h = Header {
        msg_id,
        command: req.command().number(),
        size: 0,
        flags: 0,
        error: 0,
    };
    write_frame(&mut out, h, &req.payload()).unwrap();
    assert_eq!(out, wire, "encoding of {req:?}");
    let (got, payload) = read_frame(&mut &wire[..], 1 << 20).unwrap();
    assert_eq!(got.msg_id, msg_id);
    assert_eq!(got.size as usize, wire.len());
    assert!(!got.is_reply());
    assert_eq!(&Request::decode(got.command, &payload).unwrap(), req);
}

/// The same for a successful reply to `cmd`.
fn reply_is(cmd: Command, rep: &Reply, msg_id: u16, wire: &[u8]) {
    let mut out = Vec::new();
    let h = Header {
        msg_id,
        command: cmd.number(),
        size: 0,
        flags: 1,
        error: 0,
    };
    write_frame(&mut out, h, &rep.payload()).unwrap();
    assert_eq!(out, wire, "encoding of {rep:?}");
    let (got, payload) = read_frame(&mut &wire[..], 1 << 20).unwrap();
    assert!(got.is_reply() && !got.is_error());
    assert_eq!(got.command, cmd.number());
    assert_eq!(&Reply::decode(cmd, &payload).unwrap(), rep);
}

// Header: Message ID @0 (2), Command @2 (2), Message size @4 (4),
// Flags @8 (4: bits 0-3 type, 4 No_reply, 5 Error), Error @12 (4).

#[test]
fn header_fields_sit_where_the_table_puts_them() {
    let wire: [u8; 16] = [
        0x34, 0x12, // Message ID 0x1234
        0x11, 0x00, // Command 17
        0x28, 0x00, 0x00, 0x00, // Message size 40
        0x21, 0x00, 0x00, 0x00, // Flags: type 1 (reply) | Error (bit 5)
        0x16, 0x00, 0x00, 0x00, // Error 22 (EINVAL)
    ];
    let h = Header::decode(&wire);
    assert_eq!(
        h,
        Header {
            msg_id: 0x1234,
            command: 17,
            size: 40,
            flags: 0x21,
            error: 22
        }
    );
    assert!(h.is_reply() && h.is_error());
    assert_eq!(h.encode(), wire);
    // No_reply (bit 4) in a command: still a command, not an error.
    let cmd = Header::decode(&[1, 0, 13, 0, 16, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0]);
    assert!(!cmd.is_reply() && !cmd.is_error());
}

// VFIO_USER_VERSION, Request and Reply: version major @0 (2), version minor
// @2 (2), version data @4 (JSON, terminating NUL included, optional).

#[test]
fn version_without_capabilities() {
    let wire = [
        0x01, 0x00, // Message ID 1
        0x01, 0x00, // Command 1 (VERSION)
        0x14, 0x00, 0x00, 0x00, // Message size 20
        0x00, 0x00, 0x00, 0x00, // Flags: command
        0x00, 0x00, 0x00, 0x00, // Error (reserved in a command)
        0x00, 0x00, // version major 0
        0x01, 0x00, // version minor 1
    ];
    let req = Request::Version {
        major: 0,
        minor: 1,
        caps: String::new(),
    };
    request_is(&req, 1, &wire);
}

#[test]
fn version_with_capabilities() {
    let json = br#"{"capabilities":{"max_data_xfer_size":4096}}"#;
    let mut wire = vec![
        0x02, 0x00, // Message ID 2
        0x01, 0x00, // Command 1 (VERSION)
        0x41, 0x00, 0x00, 0x00, // Message size 16 + 4 + 44 + 1 = 65
        0x01, 0x00, 0x00, 0x00, // Flags: reply
        0x00, 0x00, 0x00, 0x00, // Error 0
        0x00, 0x00, // version major 0
        0x01, 0x00, // version minor 1
    ];
    wire.extend_from_slice(json); // version data: the JSON ...
    wire.push(0x00); // ... and its terminating NUL
    assert_eq!(json.len(), 44);
    let rep = Reply::Version {
        major: 0,
        minor: 1,
        caps: String::from_utf8(json.to_vec()).unwrap(),
    };
    reply_is(Command::Version, &rep, 2, &wire);
}

// VFIO_USER_DEVICE_GET_INFO, Request and Reply: argsz @0, flags @4,
// num_regions @8, num_irqs @12 (4 bytes each). Request: argsz is the largest
// reply payload, the other fields zero. Reply: argsz the full reply payload
// (16), flags bit 0 RESET, bit 1 PCI.

#[test]
fn device_get_info() {
    let request = [
        0x03, 0x00, // Message ID 3
        0x04, 0x00, // Command 4 (DEVICE_GET_INFO)
        0x20, 0x00, 0x00, 0x00, // Message size 32
        0x00, 0x00, 0x00, 0x00, // Flags: command
        0x00, 0x00, 0x00, 0x00, // Error
        0x10, 0x00, 0x00, 0x00, // argsz 16
        0x00, 0x00, 0x00, 0x00, // flags 0
        0x00, 0x00, 0x00, 0x00, // num_regions 0
        0x00, 0x00, 0x00, 0x00, // num_irqs 0
    ];
    request_is(&Request::DeviceGetInfo, 3, &request);
    let reply = [
        0x03, 0x00, // Message ID 3
        0x04, 0x00, // Command 4
        0x20, 0x00, 0x00, 0x00, // Message size 32
        0x01, 0x00, 0x00, 0x00, // Flags: reply
        0x00, 0x00, 0x00, 0x00, // Error
        0x10, 0x00, 0x00, 0x00, // argsz 16
        0x03, 0x00, 0x00, 0x00, // flags RESET | PCI
        0x09, 0x00, 0x00, 0x00, // num_regions 9
        0x05, 0x00, 0x00, 0x00, // num_irqs 5
    ];
    let rep = Reply::DeviceInfo {
        flags: 3,
        num_regions: 9,
        num_irqs: 5,
    };
    reply_is(Command::DeviceGetInfo, &rep, 3, &reply);
}

// VFIO_USER_DEVICE_RESET: neither the request nor the reply has a payload.

#[test]
fn device_reset() {
    let request = [
        0x04, 0x00, // Message ID 4
        0x0d, 0x00, // Command 13 (DEVICE_RESET)
        0x10, 0x00, 0x00, 0x00, // Message size 16: the header alone
        0x00, 0x00, 0x00, 0x00, // Flags: command
        0x00, 0x00, 0x00, 0x00, // Error
    ];
    request_is(&Request::DeviceReset, 4, &request);
    let reply = [
        0x04, 0x00, // Message ID 4
        0x0d, 0x00, // Command 13
        0x10, 0x00, 0x00, 0x00, // Message size 16
        0x01, 0x00, 0x00, 0x00, // Flags: reply
        0x00, 0x00, 0x00, 0x00, // Error
    ];
    reply_is(Command::DeviceReset, &Reply::Empty, 4, &reply);
}

// VFIO_USER_DEVICE_FEATURE, Request: argsz @0 (largest reply payload), flags
// @4 (bits 0-15 feature index, 16 GET, 17 SET, 18 PROBE), data @8. Reply: the
// request payload for SET and PROBE; for GET the data appended and argsz
// grown by its length.

#[test]
fn feature_get_migration() {
    // VFIO_DEVICE_FEATURE_MIGRATION (1): no request data; reply data a u64
    // of flags (bit 0 STOP_COPY, bit 2 PRE_COPY).
    let request = [
        0x05, 0x00, // Message ID 5
        0x10, 0x00, // Command 16 (DEVICE_FEATURE)
        0x18, 0x00, 0x00, 0x00, // Message size 24
        0x00, 0x00, 0x00, 0x00, // Flags: command
        0x00, 0x00, 0x00, 0x00, // Error
        0x10, 0x00, 0x00, 0x00, // argsz 16: 8 + the 8-byte flags
        0x01, 0x00, 0x01, 0x00, // flags: index 1 | GET (1 << 16)
    ];
    let req = Request::Feature {
        argsz: 16,
        flags: 0x0001_0001,
        data: Vec::new(),
    };
    request_is(&req, 5, &request);
    let reply = [
        0x05, 0x00, // Message ID 5
        0x10, 0x00, // Command 16
        0x20, 0x00, 0x00, 0x00, // Message size 32
        0x01, 0x00, 0x00, 0x00, // Flags: reply
        0x00, 0x00, 0x00, 0x00, // Error
        0x10, 0x00, 0x00, 0x00, // argsz 16
        0x01, 0x00, 0x01, 0x00, // flags, as asked
        0x05, 0x00, 0x00, 0x00, // data: migration flags STOP_COPY | PRE_COPY ...
        0x00, 0x00, 0x00, 0x00, // ... the u64's upper half
    ];
    let rep = Reply::Feature {
        argsz: 16,
        flags: 0x0001_0001,
        data: vec![5, 0, 0, 0, 0, 0, 0, 0],
    };
    reply_is(Command::DeviceFeature, &rep, 5, &reply);
}

#[test]
fn feature_set_and_get_device_state() {
    // VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE (2): SET data and GET reply data
    // are device_state @0 (4) and data_fd @4 (4, unused in vfio-user).
    let set = [
        0x06, 0x00, // Message ID 6
        0x10, 0x00, // Command 16 (DEVICE_FEATURE)
        0x20, 0x00, 0x00, 0x00, // Message size 32
        0x00, 0x00, 0x00, 0x00, // Flags: command
        0x00, 0x00, 0x00, 0x00, // Error
        0x10, 0x00, 0x00, 0x00, // argsz 16: the echoed payload
        0x02, 0x00, 0x02, 0x00, // flags: index 2 | SET (1 << 17)
        0x03, 0x00, 0x00, 0x00, // device_state 3 (STOP_COPY)
        0xff, 0xff, 0xff, 0xff, // data_fd (unused)
    ];
    let req = Request::Feature {
        argsz: 16,
        flags: 0x0002_0002,
        data: vec![3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
    };
    request_is(&req, 6, &set);
    // The reply to a SET is the request payload again.
    let set_reply = [
        0x06, 0x00, // Message ID 6
        0x10, 0x00, // Command 16
        0x20, 0x00, 0x00, 0x00, // Message size 32
        0x01, 0x00, 0x00, 0x00, // Flags: reply
        0x00, 0x00, 0x00, 0x00, // Error
        0x10, 0x00, 0x00, 0x00, // argsz 16
        0x02, 0x00, 0x02, 0x00, // flags: index 2 | SET
        0x03, 0x00, 0x00, 0x00, // device_state 3
        0xff, 0xff, 0xff, 0xff, // data_fd
    ];
    let rep = Reply::Feature {
        argsz: 16,
        flags: 0x0002_0002,
        data: vec![3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
    };
    reply_is(Command::DeviceFeature, &rep, 6, &set_reply);

    let get = [
        0x07, 0x00, // Message ID 7
        0x10, 0x00, // Command 16
        0x18, 0x00, 0x00, 0x00, // Message size 24
        0x00, 0x00, 0x00, 0x00, // Flags: command
        0x00, 0x00, 0x00, 0x00, // Error
        0x10, 0x00, 0x00, 0x00, // argsz 16
        0x02, 0x00, 0x01, 0x00, // flags: index 2 | GET
    ];
    let req = Request::Feature {
        argsz: 16,
        flags: 0x0001_0002,
        data: Vec::new(),
    };
    request_is(&req, 7, &get);
    let get_reply = [
        0x07, 0x00, // Message ID 7
        0x10, 0x00, // Command 16
        0x20, 0x00, 0x00, 0x00, // Message size 32
        0x01, 0x00, 0x00, 0x00, // Flags: reply
        0x00, 0x00, 0x00, 0x00, // Error
        0x10, 0x00, 0x00, 0x00, // argsz 16 = 8 + the appended 8
        0x02, 0x00, 0x01, 0x00, // flags: index 2 | GET
        0x02, 0x00, 0x00, 0x00, // device_state 2 (RUNNING)
        0x00, 0x00, 0x00, 0x00, // data_fd
    ];
    let rep = Reply::Feature {
        argsz: 16,
        flags: 0x0001_0002,
        data: vec![2, 0, 0, 0, 0, 0, 0, 0],
    };
    reply_is(Command::DeviceFeature, &rep, 7, &get_reply);
}

#[test]
fn feature_probe() {
    // PROBE (1 << 18) with SET: no data; the reply echoes the payload.
    let probe = [
        0x08, 0x00, // Message ID 8
        0x10, 0x00, // Command 16
        0x18, 0x00, 0x00, 0x00, // Message size 24
        0x00, 0x00, 0x00, 0x00, // Flags: command
        0x00, 0x00, 0x00, 0x00, // Error
        0x08, 0x00, 0x00, 0x00, // argsz 8
        0x02, 0x00, 0x06, 0x00, // flags: index 2 | SET | PROBE
    ];
    let req = Request::Feature {
        argsz: 8,
        flags: 0x0006_0002,
        data: Vec::new(),
    };
    request_is(&req, 8, &probe);
}

// VFIO_USER_MIG_DATA_READ, Request: argsz @0 ("the maximum size of the reply
// payload"), size @4. Reply: argsz @0 (the structure including the data),
// size @4 (bytes returned; fewer than asked: no more data), data @8.

#[test]
fn mig_data_read() {
    let request = [
        0x09, 0x00, // Message ID 9
        0x11, 0x00, // Command 17 (MIG_DATA_READ)
        0x18, 0x00, 0x00, 0x00, // Message size 24
        0x00, 0x00, 0x00, 0x00, // Flags: command
        0x00, 0x00, 0x00, 0x00, // Error
        0x0c, 0x10, 0x00, 0x00, // argsz 4108 = 8 + 4100
        0x04, 0x10, 0x00, 0x00, // size 4100
    ];
    request_is(&Request::MigDataRead { size: 4100 }, 9, &request);
    let reply = [
        0x09, 0x00, // Message ID 9
        0x11, 0x00, // Command 17
        0x1b, 0x00, 0x00, 0x00, // Message size 27
        0x01, 0x00, 0x00, 0x00, // Flags: reply
        0x00, 0x00, 0x00, 0x00, // Error
        0x0b, 0x00, 0x00, 0x00, // argsz 11 = 8 + 3
        0x03, 0x00, 0x00, 0x00, // size 3: less than asked, the end for now
        0xaa, 0xbb, 0xcc, // data
    ];
    let rep = Reply::MigData {
        data: vec![0xaa, 0xbb, 0xcc],
    };
    reply_is(Command::MigDataRead, &rep, 9, &reply);
}

#[test]
fn mig_data_read_reply_padded_to_the_size_asked() {
    // libvfio-user sends the reply at the length asked for; `size` decides.
    let payload = [
        0x0a, 0x00, 0x00, 0x00, // argsz 10 = 8 + 2
        0x02, 0x00, 0x00, 0x00, // size 2
        0x01, 0x02, // data
        0x00, 0x00, 0x00, 0x00, // padding
    ];
    assert_eq!(
        Reply::decode(Command::MigDataRead, &payload).unwrap(),
        Reply::MigData { data: vec![1, 2] }
    );
}

// VFIO_USER_MIG_DATA_WRITE, Request: argsz @0, size @4, data @8. No reply
// payload. argsz is 8 + size: libvfio-user refuses less (see the codec).

#[test]
fn mig_data_write() {
    let request = [
        0x0b, 0x00, // Message ID 11
        0x12, 0x00, // Command 18 (MIG_DATA_WRITE)
        0x1c, 0x00, 0x00, 0x00, // Message size 28
        0x00, 0x00, 0x00, 0x00, // Flags: command
        0x00, 0x00, 0x00, 0x00, // Error
        0x0c, 0x00, 0x00, 0x00, // argsz 12 = 8 + 4
        0x04, 0x00, 0x00, 0x00, // size 4
        0xde, 0xad, 0xbe, 0xef, // data
    ];
    let req = Request::MigDataWrite {
        data: vec![0xde, 0xad, 0xbe, 0xef],
    };
    request_is(&req, 11, &request);
    let reply = [
        0x0b, 0x00, // Message ID 11
        0x12, 0x00, // Command 18
        0x10, 0x00, 0x00, 0x00, // Message size 16: no payload
        0x01, 0x00, 0x00, 0x00, // Flags: reply
        0x00, 0x00, 0x00, 0x00, // Error
    ];
    reply_is(Command::MigDataWrite, &Reply::Empty, 11, &reply);
}

#[test]
fn error_reply_is_the_header_alone() {
    // "If an error occurs, the reply message must only include the reply
    // header" (Header).
    let wire = [
        0x0c, 0x00, // Message ID 12
        0x11, 0x00, // Command 17
        0x10, 0x00, 0x00, 0x00, // Message size 16
        0x21, 0x00, 0x00, 0x00, // Flags: reply | Error
        0x16, 0x00, 0x00, 0x00, // Error 22
    ];
    let (h, payload) = read_frame(&mut &wire[..], 1 << 20).unwrap();
    assert!(h.is_reply() && h.is_error());
    assert_eq!(h.error, 22);
    assert!(payload.is_empty());
    let mut out = Vec::new();
    write_frame(&mut out, h, &[]).unwrap();
    assert_eq!(out, wire);
}

// VFIO_USER_DEVICE_GET_REGION_INFO, Request and Reply: argsz @0, flags @4,
// index @8, cap_offset @12 (4 bytes each), size @16, offset @24 (8 each).

#[test]
fn device_get_region_info() {
    use vfio_mig_vfio_user::RegionInfo;
    let request = [
        0x20, 0x00, 0x00, 0x00, // argsz 32
        0x00, 0x00, 0x00, 0x00, // flags 0
        0x07, 0x00, 0x00, 0x00, // index 7 (PCI config space)
        0x00, 0x00, 0x00, 0x00, // cap_offset 0
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // size 0
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // offset 0
    ];
    assert_eq!(RegionInfo::request(7, 32).payload(&[]), request);
    let reply = [
        0x50, 0x00, 0x00, 0x00, // argsz 80: 32 + 48 bytes of capabilities
        0x0f, 0x00, 0x00, 0x00, // flags READ | WRITE | MMAP | CAPS
        0x01, 0x00, 0x00, 0x00, // index 1
        0x20, 0x00, 0x00, 0x00, // cap_offset 32
        0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // size 0x4000
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // offset 1 << 32
        0xaa, 0xbb, // the start of a capability
    ];
    let info = RegionInfo {
        argsz: 80,
        flags: 0xf,
        index: 1,
        cap_offset: 32,
        size: 0x4000,
        offset: 1 << 32,
    };
    assert_eq!(info.payload(&[0xaa, 0xbb]), reply);
    let (got, caps) = RegionInfo::decode("DEVICE_GET_REGION_INFO reply", &reply).unwrap();
    assert_eq!((got, caps), (info, &[0xaa, 0xbb][..]));
    assert!(RegionInfo::decode("DEVICE_GET_REGION_INFO reply", &reply[..31]).is_err());
}

// VFIO_USER_REGION_READ and VFIO_USER_REGION_WRITE: offset @0 (8), region @8
// (4), count @12 (4); data @16 in a READ reply and a WRITE request.

#[test]
fn region_read_and_write() {
    use vfio_mig_vfio_user::RegionAccess;
    let read = [
        0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // offset 4
        0x07, 0x00, 0x00, 0x00, // region 7
        0x02, 0x00, 0x00, 0x00, // count 2
    ];
    let access = RegionAccess {
        offset: 4,
        region: 7,
        count: 2,
    };
    assert_eq!(access.payload(&[]), read);
    assert_eq!(RegionAccess::decode("REGION_READ command", &read), Ok(access));
    let read_reply = [
        0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // offset 4
        0x07, 0x00, 0x00, 0x00, // region 7
        0x02, 0x00, 0x00, 0x00, // count 2
        0x06, 0x01, // data: the command register
    ];
    assert_eq!(access.payload(&[0x06, 0x01]), read_reply);
    assert_eq!(
        RegionAccess::decode_with_data("REGION_READ reply", &read_reply),
        Ok((access, &[0x06, 0x01][..]))
    );
    // count 2 with one byte of data, and data after a READ request.
    assert!(RegionAccess::decode_with_data("REGION_WRITE command", &read_reply[..17]).is_err());
    assert!(RegionAccess::decode("REGION_READ command", &read_reply).is_err());
    assert!(RegionAccess::decode("REGION_READ command", &read[..15]).is_err());
}
