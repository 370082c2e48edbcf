//! Every suite through a vfio-user socket: the vfio-user adapter against the
//! mock behind `MockServer` (`--features adapter-vfio-user`), one
//! connection per instance for the whole run, then the wire checks and the
//! malformed-message suite on the same connection. The correct mock passes;
//! the mutants whose fault survives the transport are caught, and those it
//! hides are listed with the reason; peers that misbehave (refused resets,
//! one client only, stalls, trickles, huge announced sizes) are reported as
//! what they are.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};
use vfio_mig_adapters::probe::{Probe, RegionByte};
use vfio_mig_adapters::vfio_user::{Servers, VfioUserFactory};
use vfio_mig_device::{DeviceFactory, Transport};
use vfio_mig_engine::check::Status;
use vfio_mig_engine::suites::{self, Options};
use vfio_mig_engine::target::not_applicable;
use vfio_mig_engine::verdict::{SuiteId, Verdict};
use vfio_mig_mock::vfio_user_server::MockServer;
use vfio_mig_mock::{MockConfig, MUTANTS};
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::{Profile, ProtocolName};
use vfio_mig_report::{Report, ReqStatus};
use vfio_mig_spec::Catalogue;
use vfio_mig_vfio_user::codec::TYPE_REPLY;
use vfio_mig_vfio_user::{read_frame, write_frame, Command, Header, Reply, Request};

// The engine's helper for spreading independent runs over the cores.
#[path = "../../engine/tests/common/par.rs"]
mod par;

const TIMEOUT: Duration = Duration::from_secs(2);

/// A directory of its own for a test's sockets, removed when dropped.
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("vfio-mig-vus-{name}-"))
        .tempdir()
        .unwrap()
}

/// The socket of instance `i` in `dir`.
fn socket(dir: &tempfile::TempDir, i: u64) -> std::path::PathBuf {
    dir.path().join(format!("{i}.sock"))
}

/// A factory for servers whose sockets live in `_dir`, which goes when
/// the factory does.
struct Served {
    factory: VfioUserFactory,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Served {
    type Target = VfioUserFactory;
    fn deref(&self) -> &VfioUserFactory {
        &self.factory
    }
}

/// Two servers (instances 0 and 1 of `config`) on fresh sockets, built by
/// `make`.
fn servers_with(name: &str, config: &MockConfig, probe: Probe, make: fn(MockServer) -> MockServer) -> Served {
    let dir = scratch(name);
    let mut paths = [None, None];
    for i in 0..2u64 {
        let path = socket(&dir, i);
        let listener = UnixListener::bind(&path).unwrap();
        let config = config.clone();
        std::thread::spawn(move || make(MockServer::new(config, i)).serve(&listener));
        paths[i as usize] = Some(path.to_string_lossy().into_owned());
    }
    Served {
        factory: VfioUserFactory::new(Servers::Sockets(paths), TIMEOUT, probe),
        _dir: dir,
    }
}

fn servers(name: &str, config: &MockConfig) -> Served {
    servers_with(name, config, Probe::default(), |s| s)
}

/// The mock's registers as state bytes: BAR0 (region 0) holds them.
fn registers(len: u64) -> Probe {
    Probe {
        state: (0..len).map(|offset| RegionByte { region: 0, offset }).collect(),
        scratch: Vec::new(),
    }
}

fn run(factory: &VfioUserFactory) -> Vec<Verdict> {
    let mut opts = Options::default();
    // A server that never answers ends its run within two seconds.
    opts.timeout = TIMEOUT;
    let mut v = suites::run_suites::<Fsm>(factory, Profile::defaults(ProtocolName::V2), &opts, &SuiteId::RUN);
    let halted = v.iter().any(|v| v.halts);
    v.extend(factory.post_run(halted));
    v
}

fn config(flags: u64) -> MockConfig {
    MockConfig::v2(MigrationFlags::new(flags).unwrap())
}

fn report(desc_flags: Option<MigrationFlags>, verdicts: &[Verdict]) -> Report {
    let catalogue = Catalogue::builtin().unwrap();
    Report::build(
        &catalogue,
        &Profile::defaults(ProtocolName::V2),
        "vfio-user",
        desc_flags,
        vfio_mig_model::Uapi::Linux6_12,
        verdicts,
    )
    .with_not_applicable(not_applicable(Transport::VfioUser))
}

fn requirement<'a>(r: &'a Report, id: &str) -> &'a vfio_mig_report::ReqResult {
    r.requirements.iter().find(|q| q.id == id).unwrap()
}

#[test]
fn the_correct_mock_passes_every_suite_through_the_socket() {
    for flags in [1, 5] {
        let factory = servers(&format!("ok{flags}"), &config(flags));
        let desc = factory.open(0).unwrap().describe();
        assert_eq!(desc.transport, Transport::VfioUser);
        let verdicts = run(&factory);
        let bad: Vec<_> = verdicts
            .iter()
            .filter(|v| {
                matches!(v.status, Status::Fail | Status::Warn | Status::Skip) && v.suite == SuiteId::Wire
            })
            .map(|v| format!("{}: {}\n{:?}", v.name, v.detail, v.trace))
            .chain(
                verdicts
                    .iter()
                    .filter(|v| matches!(v.status, Status::Fail | Status::Warn))
                    .map(|v| format!("{}: {}", v.name, v.detail)),
            )
            .collect();
        assert!(bad.is_empty(), "flags {flags}:\n{}", bad.join("\n\n"));
        // Not vacuous: streams really went through the socket both ways.
        let passed = |part: &str| {
            verdicts
                .iter()
                .any(|v| v.status == Status::Pass && v.name.contains(part))
        };
        assert!(passed("data/round-trip/stop-copy/read-7/write-1048576/resume"));
        assert!(passed("faults/bad-stream/garbage"));
        if flags == 5 {
            assert!(passed("data/round-trip/pre-copy/read-4096/write-4096/resume"));
        }
        // V2-CONC-001: one request at a time on the socket: the concurrency
        // checks are skipped, saying why.
        let races: Vec<_> = verdicts
            .iter()
            .filter(|v| v.suite == SuiteId::Concurrency)
            .collect();
        assert_eq!(races.len(), 5);
        for v in races {
            assert_eq!(v.status, Status::Skip, "{}", v.name);
            assert!(
                v.detail.starts_with("vfio-user carries one request at a time"),
                "{}",
                v.detail
            );
        }
        // The report shows what vfio-user cannot exercise as not applicable.
        let report = report(desc.flags, &verdicts);
        let fd = requirement(&report, "V2-FD-004");
        assert_eq!(fd.status, ReqStatus::Skip);
        assert!(fd
            .reason
            .as_deref()
            .unwrap()
            .starts_with("not applicable: vfio-user has no data fds"));
        assert!(!report.failed());
        // No state bytes were named: the round trip's rule is not claimed
        // as passed, and the report says why (V2-STREAM-008).
        let same = requirement(&report, "V2-STREAM-008");
        assert_eq!(same.status, ReqStatus::NotCovered, "{same:?}");
        assert!(same
            .reason
            .as_deref()
            .unwrap()
            .contains("exposes no state to compare"));
        // What the run exercised: over the socket nothing can make the
        // device fall into ERROR (no fault injection), and the report says so.
        let props = vfio_mig_report::sometimes::v2(&verdicts);
        assert!(!props[0].seen, "ERROR is not reachable over vfio-user: {props:?}");
        assert_eq!(props[1].seen, flags == 5, "{props:?}");
        assert!(props[2].seen && props[3].seen, "{props:?}");
        // The wire checks and every case of the malformed-message suite
        // ran on the run's connection and passed (V2-VU-001..010).
        for n in 1..=10 {
            let id = format!("V2-VU-{n:03}");
            assert_eq!(requirement(&report, &id).status, ReqStatus::Pass, "{id}");
        }
        let malformed = verdicts.iter().filter(|v| v.name.contains("/malformed/")).count();
        assert_eq!(malformed, 15, "every malformed case has its verdict");
    }
}

/// V2-STREAM-008 over vfio-user: with the registers named as state bytes
/// (read with REGION_READ), the resumed device's state is compared and the
/// rule passes; and the two mutants that corrupt the restored registers
/// are caught by it.
#[test]
fn state_bytes_compare_the_devices_through_region_read() {
    let verdicts = run(&servers_with("state", &config(5), registers(256), |s| s));
    let r = report(Some(MigrationFlags::new(5).unwrap()), &verdicts);
    assert_eq!(requirement(&r, "V2-STREAM-008").status, ReqStatus::Pass);
    assert!(
        !r.failed(),
        "{:?}",
        verdicts
            .iter()
            .filter(|v| v.status == Status::Fail)
            .map(|v| &v.detail)
            .collect::<Vec<_>>()
    );
    for (mutant, rule) in [
        (vfio_mig_mock::Mutant::StreamReordered, "V2-STREAM-008"),
        (vfio_mig_mock::Mutant::ResumeAppliesPartial, "V2-STREAM-012"),
    ] {
        let mut c = config(5);
        c.mutant = Some(mutant);
        let verdicts = run(&servers_with(
            &format!("state-{mutant:?}"),
            &c,
            registers(256),
            |s| s,
        ));
        assert!(
            verdicts
                .iter()
                .any(|v| v.status == Status::Fail && v.broken.iter().any(|b| b.id() == rule)),
            "{mutant:?} breaks {rule}"
        );
    }
}

/// A server that refuses DEVICE_RESET in STOP and STOP_COPY (as
/// libvfio-user does): the refusal is a FAIL of V2-ERR-002, and the run
/// goes on through SETs back to RUNNING instead of stopping.
#[test]
fn a_refused_reset_fails_v2_err_002_and_the_run_goes_on() {
    let factory = servers_with(
        "noreset",
        &config(5),
        Probe::default(),
        MockServer::refusing_reset_when_stopped,
    );
    let verdicts = run(&factory);
    assert!(!verdicts.iter().any(|v| v.halts), "the run did not stop");
    let refused: Vec<_> = verdicts
        .iter()
        .filter(|v| v.name.contains("/restore/") && v.status == Status::Fail)
        .collect();
    assert!(!refused.is_empty(), "the refusal is reported");
    assert!(refused[0].breaks(vfio_mig_model::reqs::V2_ERR_002));
    assert!(
        refused[0].detail.contains("DEVICE_RESET was refused with EINVAL"),
        "{}",
        refused[0].detail
    );
    assert!(verdicts
        .iter()
        .any(|v| v.name.contains("data/round-trip") && v.status == Status::Pass));
}

/// A server that takes exactly one connection and never another (as the
/// sample servers do): the whole run works on that one connection, and the
/// cases that need a fresh one are SKIP, saying so.
#[test]
fn a_server_that_takes_one_connection_is_tested_on_it() {
    let dir = scratch("single");
    let mut paths = [None, None];
    for i in 0..2u64 {
        let path = socket(&dir, i);
        let listener = UnixListener::bind(&path).unwrap();
        let c = config(5);
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            // One client: the listener stays, but nobody else is accepted.
            let _keep = listener;
            MockServer::new(c, i).serve_one(stream)
        });
        paths[i as usize] = Some(path.to_string_lossy().into_owned());
    }
    let factory = VfioUserFactory::new(Servers::Sockets(paths), TIMEOUT, Probe::default());
    let verdicts = run(&factory);
    let bad: Vec<_> = verdicts
        .iter()
        .filter(|v| v.status == Status::Fail)
        .map(|v| format!("{}: {}", v.name, v.detail))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert!(verdicts
        .iter()
        .any(|v| v.name.contains("wire/over-max") && v.status == Status::Pass));
    let skipped: Vec<_> = verdicts
        .iter()
        .filter(|v| v.status == Status::Skip && v.suite == SuiteId::Wire)
        .collect();
    assert!(!skipped.is_empty(), "a case after a closed connection cannot run");
    for v in skipped {
        assert!(
            v.detail.contains("needs a fresh connection"),
            "{}: {}",
            v.name,
            v.detail
        );
    }
}

/// A server that says yes to everything: the wire and malformed checks
/// catch it, each naming its rule.
#[test]
fn wire_checks_catch_a_server_that_serves_everything() {
    let dir = scratch("yes");
    let path = socket(&dir, 0);
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            std::thread::spawn(move || {
                while let Ok((h, payload)) = read_frame(&mut s, 1 << 24) {
                    let feature = match Request::decode(h.command, &payload) {
                        Ok(Request::Feature { flags, .. }) => flags & 0xffff,
                        _ => 0,
                    };
                    let reply = match Command::from_number(h.command) {
                        Some(Command::Version) => Reply::Version {
                            major: 0,
                            minor: 1,
                            caps: String::new(),
                        },
                        Some(Command::DeviceFeature) => Reply::Feature {
                            argsz: 16,
                            flags: 0,
                            // MIGRATION: STOP_COPY; MIG_DEVICE_STATE: RUNNING.
                            data: match feature {
                                1 => 1u64.to_le_bytes().to_vec(),
                                _ => vec![2, 0, 0, 0, 0, 0, 0, 0],
                            },
                        },
                        Some(Command::MigDataRead) => Reply::MigData { data: vec![0; 9] },
                        Some(Command::DeviceGetInfo) => Reply::DeviceInfo {
                            flags: 1,
                            num_regions: 0,
                            num_irqs: 0,
                        },
                        _ => Reply::Empty,
                    };
                    let r = Header {
                        flags: TYPE_REPLY,
                        ..h
                    };
                    if write_frame(&mut s, r, &reply.payload()).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let factory = VfioUserFactory::new(
        Servers::Sockets([Some(path.to_string_lossy().into_owned()), None]),
        TIMEOUT,
        Probe::default(),
    );
    factory.open(0).unwrap();
    let verdicts = factory.post_run(false);
    let failed: std::collections::BTreeSet<&str> = verdicts
        .iter()
        .filter(|v| v.status == Status::Fail)
        .flat_map(|v| v.broken.iter().map(|r| r.id()))
        .collect();
    for id in [
        "V2-VU-001",
        "V2-VU-002",
        "V2-VU-003",
        "V2-VU-004",
        "V2-VU-005",
        "V2-VU-006",
        "V2-VU-007",
    ] {
        assert!(failed.contains(id), "{id} not caught: {verdicts:#?}");
    }
}

/// A server that answers VERSION, then sends the reply to the next request
/// one byte every 50 ms: the request ends by its deadline, not by the
/// server, and the report says what was sent and that the server stopped
/// answering after it, under V2-TIME-001.
#[test]
fn a_trickling_server_is_a_stall_with_what_was_sent() {
    let dir = scratch("trickle");
    let path = socket(&dir, 0);
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let (h, _) = read_frame(&mut s, 1 << 20).unwrap();
        let caps = r#"{"capabilities":{"max_data_xfer_size":4294967295}}"#.to_owned();
        let hello = Reply::Version {
            major: 0,
            minor: 1,
            caps,
        };
        write_frame(
            &mut s,
            Header {
                flags: TYPE_REPLY,
                ..h
            },
            &hello.payload(),
        )
        .unwrap();
        let (h, _) = read_frame(&mut s, 1 << 20).unwrap();
        let info = Reply::DeviceInfo {
            flags: 1,
            num_regions: 0,
            num_irqs: 0,
        };
        let mut bytes = Header {
            flags: TYPE_REPLY,
            size: 32,
            ..h
        }
        .encode()
        .to_vec();
        bytes.extend_from_slice(&info.payload());
        for b in bytes {
            if s.write_all(&[b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    });
    let timeout = Duration::from_millis(400);
    let factory = VfioUserFactory::new(
        Servers::Sockets([Some(path.to_string_lossy().into_owned()), None]),
        timeout,
        Probe::default(),
    );
    let start = Instant::now();
    // The announced max_data_xfer_size of u32::MAX made no arithmetic
    // overflow; the open fails on the stalled DEVICE_GET_INFO.
    let e = factory
        .open(0)
        .err()
        .expect("the stalled request fails")
        .to_string();
    assert!(start.elapsed() < Duration::from_secs(5), "ended by the deadline");
    assert!(
        e.contains(
            "DEVICE_GET_INFO (message id 2, 32 bytes) was sent; the server stopped answering after it"
        ),
        "{e}"
    );
    assert!(
        e.contains("stopped after"),
        "says how much of the reply came: {e}"
    );
}

/// A server announcing a max_data_xfer_size of 2^31 (or near u32::MAX):
/// the client neither overflows nor allocates that much; the over-limit
/// write is skipped with the reason, the over-limit read still checked.
#[test]
fn huge_announced_transfer_sizes_are_bounded() {
    for (name, max) in [("big31", 1u64 << 31), ("bigmax", u64::from(u32::MAX))] {
        let dir = scratch(name);
        let path = socket(&dir, 0);
        let listener = UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { return };
                // One thread per connection: a connection the client left
                // open never holds up the next one.
                std::thread::spawn(move || {
                    while let Ok((h, payload)) = read_frame(&mut s, 1 << 24) {
                        let r = Header {
                            flags: TYPE_REPLY,
                            ..h
                        };
                        let reply = match Command::from_number(h.command) {
                            Some(Command::Version) => Reply::Version {
                                major: 0,
                                minor: 1,
                                caps: format!(r#"{{"capabilities":{{"max_data_xfer_size":{max}}}}}"#),
                            },
                            Some(Command::DeviceGetInfo) => Reply::DeviceInfo {
                                flags: 1,
                                num_regions: 0,
                                num_irqs: 0,
                            },
                            Some(Command::DeviceFeature) if payload.len() >= 8 => {
                                let flags = u32::from_le_bytes(payload[4..8].try_into().unwrap());
                                Reply::Feature {
                                    argsz: 16,
                                    flags,
                                    data: if flags & 0xffff == 1 {
                                        1u64.to_le_bytes().to_vec()
                                    } else {
                                        vec![2, 0, 0, 0, 0, 0, 0, 0]
                                    },
                                }
                            }
                            _ => {
                                let e = Header {
                                    flags: TYPE_REPLY | 0x20,
                                    error: 22,
                                    ..h
                                };
                                let _ = write_frame(&mut s, e, &[]);
                                continue;
                            }
                        };
                        let _ = write_frame(&mut s, r, &reply.payload());
                    }
                });
            }
        });
        let factory = VfioUserFactory::new(
            Servers::Sockets([Some(path.to_string_lossy().into_owned()), None]),
            TIMEOUT,
            Probe::default(),
        );
        let d = factory.open(0).unwrap().describe();
        assert_eq!(
            d.max_transfer,
            vfio_mig_adapters::vfio_user::CLIENT_MAX_XFER,
            "{name}"
        );
        let v = factory.post_run(false);
        let over = v
            .iter()
            .find(|v| v.name.ends_with("over-max-data-xfer-size"))
            .unwrap();
        assert!(
            over.detail.contains("more than this client sends") || over.status != Status::Pass,
            "{name}: {over:?}"
        );
    }
}

/// `Servers::Command`: a server started per instance, killed at the end;
/// a command that dies at once, or names no socket, is a clear error.
#[test]
fn servers_started_by_command_run_and_are_killed() {
    let exe = std::env::current_exe().unwrap();
    let cmd = format!(
        "VFIO_MIG_TEST_SERVE={{socket}} VFIO_MIG_TEST_INSTANCE={{instance}} {} --ignored --exact serve_for_a_command --nocapture",
        exe.display()
    );
    let factory = VfioUserFactory::new(Servers::Command(cmd), Duration::from_secs(10), Probe::default());
    let verdicts = run(&factory);
    let bad: Vec<_> = verdicts
        .iter()
        .filter(|v| v.status == Status::Fail)
        .map(|v| format!("{}: {}", v.name, v.detail))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    let link = factory.link(0).unwrap();
    let path = vfio_mig_adapters::vfio_user::lock(&link).conn.path.clone();
    factory.shutdown();
    drop(link);
    assert!(
        UnixStream::connect(&path).is_err(),
        "the server is gone after the run"
    );

    let dies = VfioUserFactory::new(
        Servers::Command("echo no such server >&2; exit 7".into()),
        TIMEOUT,
        Probe::default(),
    );
    let e = dies.open(0).err().unwrap().to_string();
    assert!(e.contains("{socket}"), "{e}");
    let dies = VfioUserFactory::new(
        Servers::Command("echo cannot start on {socket} >&2; exit 7".into()),
        TIMEOUT,
        Probe::default(),
    );
    let e = dies.open(0).err().unwrap().to_string();
    assert!(
        e.contains("exit status 7") && e.contains("cannot start on"),
        "{e}"
    );
}

/// Not a test: the server that `servers_started_by_command_run_and_are_killed`
/// starts through its command (this test binary, run with
/// `VFIO_MIG_TEST_SERVE` naming the socket).
#[test]
#[ignore = "a server for the server-command test, started by it"]
fn serve_for_a_command() {
    let Ok(path) = std::env::var("VFIO_MIG_TEST_SERVE") else {
        return;
    };
    let instance: u64 = std::env::var("VFIO_MIG_TEST_INSTANCE").unwrap().parse().unwrap();
    let listener = UnixListener::bind(&path).unwrap();
    let _ = MockServer::new(config(5), instance).serve(&listener);
}

/// Every mutant whose bug the transport can show is caught through the
/// socket, under every flag set its bug shows under (without P2P, which
/// vfio-user servers do not have), by one of the requirements it declares,
/// at FAIL for a MUST; the registers are named as state bytes. A mutant
/// listed as hidden (with its reason, in `vfio_mig_mock::MUTANTS`) that is
/// caught anyway means the list is stale.
#[test]
fn mutants_are_caught_through_the_socket_unless_the_transport_hides_them() {
    let runs: Vec<(&vfio_mig_mock::MutantInfo, u64)> = MUTANTS
        .iter()
        .filter(|m| m.protocol == ProtocolName::V2)
        .flat_map(|m| {
            let mut sets: Vec<u64> = m.flag_sets.iter().map(|b| b & !0b010).collect();
            sets.dedup();
            sets.into_iter().map(move |bits| (m, bits))
        })
        .collect();
    // Per run: whether the mutant was caught, and whether it is listed as
    // hidden by the transport.
    let seen = par::par_map(&runs, |(m, bits)| {
        let mut c = config(*bits);
        c.mutant = Some(m.mutant);
        let verdicts = run(&servers_with(
            &format!("{}-{bits}", m.name),
            &c,
            registers(256),
            |s| s,
        ));
        let caught = verdicts
            .iter()
            .any(|v| m.breaks.iter().any(|r| v.reports_broken(*r)));
        (caught, m.hidden_over_vfio_user.is_some())
    });
    let mut missed = Vec::new();
    let mut hidden_but_caught = Vec::new();
    for ((m, bits), (caught, hidden)) in runs.iter().zip(seen) {
        match (caught, hidden) {
            (false, false) => missed.push(format!("{} under flags {bits}", m.name)),
            (true, true) => hidden_but_caught.push(m.name),
            _ => {}
        }
    }
    assert!(
        missed.is_empty(),
        "mutants not caught through the socket: {missed:?}"
    );
    assert!(
        hidden_but_caught.is_empty(),
        "listed as hidden by the transport but caught (update MUTANTS): {hidden_but_caught:?}"
    );
}

/// A server that stops answering in the middle of the suites (the mock
/// mutant whose STOP_COPY -> PRE_COPY never returns): the run stops under
/// V2-TIME-001, and the report says what was sent and that the server
/// stopped answering after it.
#[test]
fn a_server_that_stops_answering_is_reported_with_what_was_sent() {
    let mut c = config(5);
    c.mutant = Some(vfio_mig_mock::Mutant::HangsInSet);
    let factory = servers("hang", &c);
    let mut opts = Options::default();
    opts.timeout = Duration::from_millis(500);
    let mut verdicts = suites::run_suites::<Fsm>(
        &*factory,
        Profile::defaults(ProtocolName::V2),
        &opts,
        &SuiteId::RUN,
    );
    let halted = verdicts
        .iter()
        .find(|v| v.halts)
        .cloned()
        .expect("the run stopped");
    assert!(halted.breaks(vfio_mig_model::reqs::V2_TIME_001), "{halted:?}");
    verdicts.extend(factory.post_run(true));
    let stall = verdicts
        .iter()
        .find(|v| v.name.contains("/stall/"))
        .expect("the stall is a verdict of its own");
    assert!(stall.breaks(vfio_mig_model::reqs::V2_TIME_001));
    assert!(
        stall.detail.contains("DEVICE_FEATURE SET MIG_DEVICE_STATE = 6")
            && stall
                .detail
                .contains("was sent; the server stopped answering after it: no reply within "),
        "{}",
        stall.detail
    );
}
