//! The mock behind a vfio-user socket, spoken to with the codec: the
//! handshake, the migration commands, state checks, oversized and malformed
//! requests, and clients that leave mid-stream. (The suites through the
//! socket come with the vfio-user adapter.)

use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::Duration;
use vfio_mig_mock::vfio_user_server::{MockServer, MAX_DATA_XFER};
use vfio_mig_mock::MockConfig;
use vfio_mig_model::v2::{uapi, MigState, MigrationFlags};
use vfio_mig_vfio_user::codec::HEADER_LEN;
use vfio_mig_vfio_user::{read_frame, write_frame, Command, Header, Reply, Request};

const EINVAL: u32 = 22;

/// A directory of its own for a test's sockets, removed when dropped.
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("vfio-mig-vu-{name}-"))
        .tempdir()
        .unwrap()
}

/// A server's socket, in a directory that goes when this does.
struct Socket {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Socket {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.path
    }
}

/// Starts a server for instance `instance` on a fresh socket.
fn server(name: &str, instance: u64) -> Socket {
    let dir = scratch(name);
    let path = dir.path().join("0.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let mut config = MockConfig::v2(MigrationFlags::new(5).unwrap());
    config.state_len = 3000;
    std::thread::spawn(move || MockServer::new(config, instance).serve(&listener));
    Socket { path, _dir: dir }
}

struct Client {
    s: UnixStream,
    id: u16,
}

impl Client {
    fn connect(path: &PathBuf) -> Self {
        let s = UnixStream::connect(path).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Client { s, id: 0 }
    }

    fn raw(&mut self, command: u16, flags: u32, payload: &[u8]) -> (Header, Vec<u8>) {
        self.id = self.id.wrapping_add(1);
        let h = Header {
            msg_id: self.id,
            command,
            size: 0,
            flags,
            error: 0,
        };
        write_frame(&mut self.s, h, payload).unwrap();
        let (r, p) = read_frame(&mut self.s, 1 << 24).unwrap();
        assert_eq!(
            (r.msg_id, r.command),
            (self.id, command),
            "the reply echoes id and command"
        );
        assert!(r.is_reply());
        (r, p)
    }

    fn call(&mut self, req: Request) -> Result<Reply, u32> {
        let cmd = req.command();
        let (h, p) = self.raw(cmd.number(), 0, &req.payload());
        if h.is_error() {
            return Err(h.error);
        }
        Ok(Reply::decode(cmd, &p).unwrap())
    }

    fn hello(path: &PathBuf) -> Self {
        let mut c = Client::connect(path);
        let r = c
            .call(Request::Version {
                major: 0,
                minor: 1,
                caps: String::new(),
            })
            .unwrap();
        let Reply::Version {
            major: 0,
            minor: 1,
            caps,
        } = r
        else {
            panic!("{r:?}")
        };
        let v: serde_json::Value = serde_json::from_str(&caps).unwrap();
        assert_eq!(v["capabilities"]["max_data_xfer_size"], MAX_DATA_XFER);
        c
    }

    fn feature(&mut self, flags: u32, data: Vec<u8>) -> Result<Vec<u8>, u32> {
        match self.call(Request::Feature {
            argsz: 64,
            flags,
            data,
        })? {
            Reply::Feature { data, .. } => Ok(data),
            other => panic!("{other:?}"),
        }
    }

    fn set(&mut self, s: MigState) -> Result<(), u32> {
        let mut d = s.number().to_le_bytes().to_vec();
        d.extend_from_slice(&0u32.to_le_bytes());
        self.feature(uapi::FEATURE_SET | uapi::FEATURE_MIG_DEVICE_STATE, d)
            .map(drop)
    }

    fn get(&mut self) -> u32 {
        let d = self
            .feature(uapi::FEATURE_GET | uapi::FEATURE_MIG_DEVICE_STATE, Vec::new())
            .unwrap();
        u32::from_le_bytes(d[..4].try_into().unwrap())
    }

    fn read(&mut self, size: u32) -> Result<Vec<u8>, u32> {
        match self.call(Request::MigDataRead { size })? {
            Reply::MigData { data } => Ok(data),
            other => panic!("{other:?}"),
        }
    }

    fn save(&mut self, chunk: u32) -> Vec<u8> {
        self.set(MigState::StopCopy).unwrap();
        let mut out = Vec::new();
        loop {
            let d = self.read(chunk).unwrap();
            if d.is_empty() {
                break;
            }
            out.extend_from_slice(&d);
        }
        self.set(MigState::Stop).unwrap();
        out
    }

    fn resume(&mut self, stream: &[u8]) -> Result<(), u32> {
        self.set(MigState::Resuming).unwrap();
        for c in stream.chunks(1000) {
            self.call(Request::MigDataWrite { data: c.to_vec() })?;
        }
        self.set(MigState::Stop)
    }
}

#[test]
fn a_stream_saved_from_one_server_resumes_into_another() {
    let (a, b) = (server("src", 0), server("dst", 1));
    let mut src = Client::hello(&a);
    let flags = src
        .feature(uapi::FEATURE_GET | uapi::FEATURE_MIGRATION, Vec::new())
        .unwrap();
    assert_eq!(
        u64::from_le_bytes(flags[..8].try_into().unwrap()),
        5,
        "STOP_COPY | PRE_COPY"
    );
    assert_eq!(src.get(), MigState::Running.number());
    let stream = src.save(700);
    assert!(stream.len() > 3000);
    let mut dst = Client::hello(&b);
    dst.resume(&stream).unwrap();
    assert_eq!(dst.get(), MigState::Stop.number());
    dst.set(MigState::Running).unwrap();
    // A damaged copy is refused when leaving RESUMING (V2-STREAM-006).
    let mut bad = stream.clone();
    bad[100] ^= 0xff;
    dst.call(Request::DeviceReset).unwrap();
    assert_eq!(dst.resume(&bad), Err(EINVAL));
    assert_eq!(dst.get(), MigState::Resuming.number());
}

#[test]
fn data_commands_are_refused_in_the_wrong_state_or_over_the_limit() {
    let path = server("state", 0);
    let mut c = Client::hello(&path);
    assert_eq!(c.read(16), Err(EINVAL), "no read while RUNNING");
    assert_eq!(
        c.call(Request::MigDataWrite { data: vec![1; 8] }),
        Err(EINVAL),
        "no write while RUNNING"
    );
    c.set(MigState::StopCopy).unwrap();
    assert_eq!(c.read(MAX_DATA_XFER + 1), Err(EINVAL), "over max_data_xfer_size");
    assert_eq!(
        c.call(Request::MigDataWrite { data: vec![1; 8] }),
        Err(EINVAL),
        "no write while saving"
    );
    assert!(!c.read(16).unwrap().is_empty());
    // STOP_COPY -> PRE_COPY is refused, as on the kernel interface.
    assert_eq!(c.set(MigState::PreCopy), Err(EINVAL));
}

#[test]
fn pre_copy_reads_end_with_a_short_reply_for_now() {
    let path = server("precopy", 0);
    let mut c = Client::hello(&path);
    c.set(MigState::PreCopy).unwrap();
    let mut got = 0;
    loop {
        let d = c.read(4096).unwrap();
        if d.is_empty() {
            break;
        }
        got += d.len();
    }
    assert!(got > 0, "initial pre-copy data");
    c.set(MigState::StopCopy).unwrap();
    assert!(
        !c.read(4096).unwrap().is_empty(),
        "the stream continues in STOP_COPY"
    );
}

#[test]
fn garbage_gets_an_error_and_the_server_stays_up() {
    let path = server("garbage", 0);
    let mut c = Client::connect(&path);
    // Before VERSION nothing else is served.
    let (h, _) = c.raw(Command::DeviceReset.number(), 0, &[]);
    assert!(h.is_error() && h.error == EINVAL);
    drop(c); // clients are served one after another
    let mut c = Client::hello(&path);
    let (h, p) = c.raw(99, 0, &[1, 2, 3]);
    assert!(
        h.is_error() && p.is_empty(),
        "an unknown command is answered with an error"
    );
    let (h, _) = c.raw(Command::MigDataRead.number(), 0, &[1, 2]);
    assert!(h.is_error(), "a truncated payload is answered with an error");
    let (h, _) = c.raw(Command::DeviceReset.number(), 1, &[]);
    assert!(h.is_error(), "a reply sent as a command is refused");
    assert_eq!(c.get(), MigState::Running.number(), "the connection still works");
    // A header announcing more than the server takes ends the connection...
    let mut bad = Header {
        msg_id: 1,
        command: 17,
        size: u32::MAX,
        flags: 0,
        error: 0,
    }
    .encode()
    .to_vec();
    bad.extend_from_slice(&[0; 8]);
    std::io::Write::write_all(&mut c.s, &bad).unwrap();
    let mut buf = [0u8; HEADER_LEN];
    assert_eq!(
        std::io::Read::read(&mut c.s, &mut buf).unwrap_or(0),
        0,
        "connection closed"
    );
    // ...and the server takes the next client.
    let mut c = Client::hello(&path);
    assert_eq!(c.get(), MigState::Running.number());
}

#[test]
fn a_client_that_leaves_mid_stream_leaves_a_device_the_next_one_can_reset() {
    let path = server("leave", 0);
    let mut c = Client::hello(&path);
    c.set(MigState::StopCopy).unwrap();
    c.read(100).unwrap();
    drop(c);
    let mut c = Client::hello(&path);
    assert_eq!(
        c.get(),
        MigState::StopCopy.number(),
        "the device keeps its state across clients"
    );
    c.call(Request::DeviceReset).unwrap();
    assert_eq!(c.get(), MigState::Running.number());
    assert_eq!(c.read(16), Err(EINVAL));
    drop(c);
    // Several clients one after another.
    for _ in 0..3 {
        let mut c = Client::hello(&path);
        let stream = c.save(4096);
        assert!(stream.len() > 3000);
        c.set(MigState::Running).unwrap();
    }
}

/// A client sending yesterday's MIG_DATA_READ (argsz 8, no room for the
/// data), a GET whose argsz leaves no room for the state, a SET without its
/// 8 bytes, or a descriptor where none belongs is refused by the server, as
/// libvfio-user refuses them: a client regression shows up against our own
/// server (V2-VU-006, V2-VU-007, V2-VU-008).
#[test]
fn the_server_refuses_what_a_strict_server_refuses() {
    let path = server("strict", 0);
    let mut c = Client::hello(&path);
    c.set(MigState::StopCopy).unwrap();
    let old_read: Vec<u8> = [8u32, 16].iter().flat_map(|w| w.to_le_bytes()).collect();
    let (h, _) = c.raw(Command::MigDataRead.number(), 0, &old_read);
    assert!(h.is_error() && h.error == EINVAL, "argsz 8 for 16 bytes: {h:?}");
    let (h, _) = c.raw(Command::MigDataRead.number(), 0, &[24, 0, 0, 0, 16, 0, 0, 0]);
    assert!(!h.is_error(), "argsz 8 + size is served");
    c.set(MigState::Stop).unwrap();
    let get = |argsz: u32| -> Vec<u8> {
        [argsz, uapi::FEATURE_GET | uapi::FEATURE_MIG_DEVICE_STATE]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect()
    };
    let (h, _) = c.raw(Command::DeviceFeature.number(), 0, &get(8));
    assert!(h.is_error(), "GET with argsz 8");
    let (h, p) = c.raw(Command::DeviceFeature.number(), 0, &get(16));
    assert!(!h.is_error() && p.len() == 16, "GET with argsz 16: {h:?} {p:?}");
    let set: Vec<u8> = [16u32, uapi::FEATURE_SET | uapi::FEATURE_MIG_DEVICE_STATE, 2]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    let (h, _) = c.raw(Command::DeviceFeature.number(), 0, &set);
    assert!(h.is_error(), "a SET with 4 bytes of data");
    assert_eq!(
        c.get(),
        MigState::Stop.number(),
        "the refused SET changed nothing"
    );
    // A descriptor beside a GET: refused, and closed by the server.
    let (rd, wr) = std::io::pipe().unwrap();
    c.id += 1;
    let hdr = Header {
        msg_id: c.id,
        command: Command::DeviceFeature.number(),
        size: 0,
        flags: 0,
        error: 0,
    };
    use std::os::fd::AsFd;
    vfio_mig_vfio_user::fds::write_frame_with_fds(&c.s, hdr, &get(16), &[wr.as_fd()], Duration::from_secs(5))
        .unwrap();
    drop(wr);
    let (r, _) = read_frame(&mut c.s, 1 << 20).unwrap();
    assert!(r.is_error() && r.msg_id == c.id, "{r:?}");
    let mut rd = rd;
    assert_eq!(
        std::io::Read::read(&mut rd, &mut [0u8; 1]).unwrap(),
        0,
        "the server kept the descriptor"
    );
}

/// A command with No_reply gets none, and is carried out before the next
/// reply (V2-VU-009).
#[test]
fn no_reply_means_no_reply() {
    let path = server("noreply", 0);
    let mut c = Client::hello(&path);
    let set: Vec<u8> = [
        16u32,
        uapi::FEATURE_SET | uapi::FEATURE_MIG_DEVICE_STATE,
        MigState::Stop.number(),
        0,
    ]
    .iter()
    .flat_map(|w| w.to_le_bytes())
    .collect();
    let h = Header {
        msg_id: 0x4242,
        command: Command::DeviceFeature.number(),
        size: 0,
        flags: vfio_mig_vfio_user::codec::FLAG_NO_REPLY,
        error: 0,
    };
    write_frame(&mut c.s, h, &set).unwrap();
    write_frame(
        &mut c.s,
        Header {
            msg_id: 0x4243,
            command: 99,
            ..h
        },
        &[],
    )
    .unwrap();
    assert_eq!(c.get(), MigState::Stop.number(), "the first answer is the GET's");
}

/// The mock's session numbers never run out: 70 000 sessions through one
/// server, more than a u16 counts.
#[test]
fn seventy_thousand_sessions_do_not_exhaust_the_server() {
    let mut config = MockConfig::v2(MigrationFlags::new(1).unwrap());
    config.state_len = 8;
    let mut s = MockServer::new(config, 0);
    let header = |command: u16| Header {
        msg_id: 1,
        command,
        size: 0,
        flags: 0,
        error: 0,
    };
    let hello = Request::Version {
        major: 0,
        minor: 1,
        caps: String::new(),
    };
    assert!(!s.respond(header(1), &hello.payload()).0.is_error());
    let set = |state: MigState| Request::Feature {
        argsz: 16,
        flags: uapi::FEATURE_SET | uapi::FEATURE_MIG_DEVICE_STATE,
        data: [state.number(), 0].iter().flat_map(|w| w.to_le_bytes()).collect(),
    };
    for i in 0..70_000u32 {
        let (h, _) = s.respond(header(16), &set(MigState::StopCopy).payload());
        assert!(!h.is_error(), "session {i}");
        let (h, _) = s.respond(header(16), &set(MigState::Stop).payload());
        assert!(!h.is_error(), "session {i}");
    }
    s.respond(header(16), &set(MigState::StopCopy).payload());
    let (h, p) = s.respond(header(17), &Request::MigDataRead { size: 4096 }.payload());
    assert!(!h.is_error() && p.len() > 8, "the 70 001st session still reads");
}

/// Clients are served side by side: one that connects and stays silent, or
/// one that sends half a message and stops, holds nobody up; the half
/// message costs its sender the connection after the message deadline.
#[test]
fn an_idle_or_trickling_client_holds_nobody_up() {
    let dir = scratch("idle");
    let path = dir.path().join("0.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let config = MockConfig::v2(MigrationFlags::new(5).unwrap());
    std::thread::spawn(move || {
        MockServer::new(config, 0)
            .with_message_deadline(Duration::from_millis(300))
            .serve(&listener)
    });
    let _idle = UnixStream::connect(&path).unwrap();
    let mut slow = UnixStream::connect(&path).unwrap();
    std::io::Write::write_all(&mut slow, &[1, 0, 1]).unwrap();
    let mut c = Client::hello(&path);
    assert_eq!(c.get(), MigState::Running.number());
    slow.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut b = [0u8; 16];
    assert_eq!(
        std::io::Read::read(&mut slow, &mut b).unwrap_or(0),
        0,
        "the half message's connection is closed after the deadline"
    );
    assert_eq!(
        c.get(),
        MigState::Running.number(),
        "the other client still served"
    );
}

/// The PCI device a VMM attaches to: config space with the IDs, BAR0 with
/// the registers, DMA mappings kept per client and checked on unmap.
#[test]
fn a_vmm_finds_a_minimal_pci_device() {
    use vfio_mig_vfio_user::attach::{DmaMap, IrqInfo, DEVICE_GET_IRQ_INFO, DMA_MAP, DMA_UNMAP};
    use vfio_mig_vfio_user::region::{RegionAccess, RegionInfo, DEVICE_GET_REGION_INFO, REGION_READ};
    let path = server("pci", 0);
    let mut c = Client::hello(&path);
    let Reply::DeviceInfo {
        flags,
        num_regions,
        num_irqs,
    } = c.call(Request::DeviceGetInfo).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (flags, num_regions, num_irqs),
        (3, 9, 5),
        "reset and PCI; 9 regions, 5 IRQ types"
    );
    let (h, p) = c.raw(
        DEVICE_GET_REGION_INFO,
        0,
        &RegionInfo::request(7, 32).payload(&[]),
    );
    assert!(!h.is_error());
    let (info, _) = RegionInfo::decode("reply", &p).unwrap();
    assert_eq!(info.size, 256);
    let read = RegionAccess {
        offset: 0,
        region: 7,
        count: 4,
    };
    let (h, p) = c.raw(REGION_READ, 0, &read.payload(&[]));
    assert!(!h.is_error());
    assert_eq!(&p[16..], &[0x36, 0x1b, 0x11, 0x00], "vendor and device IDs");
    let bar = RegionAccess {
        offset: 0,
        region: 0,
        count: 8,
    };
    let (h, p) = c.raw(REGION_READ, 0, &bar.payload(&[]));
    assert!(!h.is_error() && p.len() == 24, "BAR0 holds the registers");
    let (h, p) = c.raw(
        DEVICE_GET_IRQ_INFO,
        0,
        &IrqInfo {
            argsz: 16,
            flags: 0,
            index: 2,
            count: 0,
        }
        .payload(),
    );
    assert!(!h.is_error() && p.len() == 16);
    let map = DmaMap {
        flags: 3,
        offset: 0,
        address: 0x10000,
        size: 0x1000,
    };
    assert!(!c.raw(DMA_MAP, 0, &map.payload()).0.is_error());
    assert_eq!(
        c.raw(DMA_MAP, 0, &map.payload()).0.error,
        17,
        "a map over a map: EEXIST"
    );
    let unmap = |size: u64| -> Vec<u8> {
        let mut p = 24u32.to_le_bytes().to_vec();
        p.extend_from_slice(&0u32.to_le_bytes());
        p.extend_from_slice(&0x10000u64.to_le_bytes());
        p.extend_from_slice(&size.to_le_bytes());
        p
    };
    assert!(
        c.raw(DMA_UNMAP, 0, &unmap(0x800)).0.is_error(),
        "an unmap must match a map"
    );
    let (h, p) = c.raw(DMA_UNMAP, 0, &unmap(0x1000));
    assert!(!h.is_error() && p == unmap(0x1000), "the entry comes back");
}

/// DEVICE_SET_IRQS as a VMM sends it when it turns an interrupt type off:
/// DATA_NONE with ACTION_TRIGGER and count 0, written from the
/// specification's layout (argsz, flags, index, start, count; 4 bytes
/// each). The device has no interrupts to wire, so that is accepted, and
/// setting one sub-index is refused with EINVAL.
#[test]
fn interrupts_can_be_turned_off_but_not_on() {
    use vfio_mig_vfio_user::attach::DEVICE_SET_IRQS;
    // VFIO_IRQ_SET_DATA_NONE (bit 0) | VFIO_IRQ_SET_ACTION_TRIGGER (bit 5).
    const NONE_TRIGGER: u32 = 1 | (1 << 5);
    let set = |index: u32, count: u32| -> Vec<u8> {
        [20, NONE_TRIGGER, index, 0, count]
            .iter()
            .flat_map(|v: &u32| v.to_le_bytes())
            .collect()
    };
    let path = server("irqs", 0);
    let mut c = Client::hello(&path);
    for index in 0..5 {
        let (h, p) = c.raw(DEVICE_SET_IRQS, 0, &set(index, 0));
        assert!(!h.is_error(), "index {index}: turning it off is accepted");
        assert!(p.is_empty(), "an empty reply");
    }
    let (h, _) = c.raw(DEVICE_SET_IRQS, 0, &set(0, 1));
    assert_eq!(h.error, EINVAL, "an interrupt the device lacks");
    let (h, _) = c.raw(DEVICE_SET_IRQS, 0, &set(5, 0));
    assert_eq!(h.error, EINVAL, "an index past the five types");
}

/// `--socket` removes a socket a gone server left, never another kind of
/// file, and never a socket a server listens on.
#[test]
fn the_socket_option_removes_only_a_stale_socket() {
    let bin = env!("CARGO_BIN_EXE_vfio-user-mock-server");
    let scratch = scratch("stale");
    let dir = scratch.path();
    let file = dir.join("a-file");
    std::fs::write(&file, b"keep me").unwrap();
    let out = std::process::Command::new(bin)
        .arg("--socket")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a socket"),
        "{out:?}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
    let live = dir.join("live.sock");
    let _listener = UnixListener::bind(&live).unwrap();
    let out = std::process::Command::new(bin)
        .arg("--socket")
        .arg(&live)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("listening"),
        "{out:?}"
    );
    let stale = dir.join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let mut child = std::process::Command::new(bin)
        .arg("--socket")
        .arg(&stale)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut served = false;
    for _ in 0..200 {
        if let Ok(s) = UnixStream::connect(&stale) {
            let mut c = Client { s, id: 0 };
            c.s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            served = c
                .call(Request::Version {
                    major: 0,
                    minor: 1,
                    caps: String::new(),
                })
                .is_ok();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(served, "a stale socket is replaced and served");
}

/// A feature the server leaves to the device (DMA logging) answers
/// through the socket as the device answers in process, for the correct
/// mock (which refuses it) and for the mutant that accepts a PROBE of a
/// feature it lacks: a device's wrong success must reach the client to be
/// caught (V2-FEAT-001).
#[test]
fn features_the_device_answers_are_served_through_the_socket() {
    use vfio_mig_device::{v2, Device, Io};
    use vfio_mig_mock::{MockV2, Mutant};
    use vfio_mig_model::v2::{Access, FeatureReq, Outcome};
    for mutant in [None, Some(Mutant::ProbesUnknownFeature)] {
        let mut config = MockConfig::v2(MigrationFlags::new(5).unwrap());
        config.mutant = mutant;
        let dir = scratch("probe");
        let path = dir.path().join("0.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let served = config.clone();
        std::thread::spawn(move || MockServer::new(served, 0).serve(&listener));
        let mut c = Client::hello(&path);
        let mut dev = MockV2::new(config, 0);
        let mut accepted = 0;
        for number in [6, 7, 8] {
            for access in [Access::probe(true, false), Access::probe(false, true)] {
                let req = FeatureReq::full(number, access).unwrap();
                let want = match dev.exec(&v2::Call::Feature(req), &mut Io::default()) {
                    Outcome::Done => {
                        accepted += 1;
                        Ok(Vec::new())
                    }
                    Outcome::Err(e) => Err(e.0 as u32),
                    other => panic!("{req}: {other}"),
                };
                assert_eq!(c.feature(req.flags(), Vec::new()), want, "{mutant:?}: {req}");
            }
        }
        assert_eq!(accepted > 0, mutant.is_some(), "{mutant:?}: {accepted} accepted");
    }
}
