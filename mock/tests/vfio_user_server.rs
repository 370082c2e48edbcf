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

/// Starts a server for instance `instance` on a fresh socket.
fn server(name: &str, instance: u64) -> PathBuf {
    let path = std::env::temp_dir().join(format!("vfio-mig-vu-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let mut config = MockConfig::v2(MigrationFlags::new(5).unwrap());
    config.state_len = 3000;
    std::thread::spawn(move || MockServer::new(config, instance).serve(&listener));
    path
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
