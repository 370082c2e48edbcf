//! Every suite through a vfio-user socket: the vfio-user adapter against the
//! mock behind `MockServer` (`--features adapter-vfio-user`). The correct
//! mock passes; the mutants whose fault survives the transport are caught,
//! and those it hides are listed with the reason.

use std::os::unix::net::UnixListener;
use vfio_mig_adapters::{Factory, VFIO_USER};
use vfio_mig_device::{DeviceFactory, Transport};
use vfio_mig_engine::check::Status;
use vfio_mig_engine::suites::{self, Options};
use vfio_mig_engine::target::not_applicable;
use vfio_mig_engine::verdict::{SuiteId, Verdict};
use vfio_mig_mock::vfio_user_server::MockServer;
use vfio_mig_mock::{MockConfig, MUTANTS};
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::{Level, Profile, ProtocolName};
use vfio_mig_report::{Report, ReqStatus};
use vfio_mig_spec::Catalogue;

/// Two servers (instances 0 and 1 of `config`) on fresh sockets.
fn servers(name: &str, config: &MockConfig) -> Factory {
    let mut paths = Vec::new();
    for i in 0..2u64 {
        let path = std::env::temp_dir().join(format!("vfio-mig-vus-{}-{name}-{i}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let config = config.clone();
        std::thread::spawn(move || MockServer::new(config, i).serve(&listener));
        paths.push(path.to_string_lossy().into_owned());
    }
    Factory::with_devices(VFIO_USER, Some(paths[0].clone()), Some(paths[1].clone()))
}

fn run(factory: &Factory) -> Vec<Verdict> {
    let mut opts = Options::default();
    // A server that never answers ends its run within two seconds.
    opts.timeout = std::time::Duration::from_secs(2);
    suites::run_suites::<Fsm>(factory, Profile::defaults(ProtocolName::V2), &opts, &SuiteId::RUN)
}

fn config(flags: u64) -> MockConfig {
    MockConfig::v2(MigrationFlags::new(flags).unwrap())
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
            .filter(|v| matches!(v.status, Status::Fail | Status::Warn))
            .map(|v| format!("{}: {}\n{:?}", v.name, v.detail, v.trace))
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
        // The report shows what vfio-user cannot exercise as not applicable.
        let catalogue = Catalogue::builtin().unwrap();
        let report = Report::build(
            &catalogue,
            &Profile::defaults(ProtocolName::V2),
            "vfio-user",
            desc.flags,
            desc.uapi,
            &verdicts,
        )
        .with_not_applicable(not_applicable(desc.transport));
        let fd = report.requirements.iter().find(|r| r.id == "V2-FD-004").unwrap();
        assert_eq!(fd.status, ReqStatus::Skip);
        assert!(fd
            .reason
            .as_deref()
            .unwrap()
            .starts_with("not applicable: vfio-user has no data fds"));
        assert!(!report.failed());
        // Nothing compared the two devices' state: the round trip's rule
        // is not claimed as passed, and the report says why.
        let same = report
            .requirements
            .iter()
            .find(|r| r.id == "V2-STREAM-008")
            .unwrap();
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
        // The rules only vfio-user has, on the wire (after the suites: the
        // server takes one client at a time).
        let path = factory.device(0).unwrap();
        let wire = vfio_mig_adapters::vfio_user::wire_checks(path);
        assert_eq!(wire.len(), 4);
        for v in &wire {
            assert_eq!(v.status, Status::Pass, "{}: {}", v.name, v.detail);
        }
    }
}

/// A server that says yes to everything: the wire checks catch it, each
/// naming its rule.
#[test]
fn wire_checks_catch_a_server_that_serves_everything() {
    use vfio_mig_vfio_user::codec::TYPE_REPLY;
    use vfio_mig_vfio_user::{read_frame, write_frame, Command, Reply};
    let path = std::env::temp_dir().join(format!("vfio-mig-vus-{}-yes.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            while let Ok((h, payload)) = read_frame(&mut s, 1 << 24) {
                let feature = match vfio_mig_vfio_user::Request::decode(h.command, &payload) {
                    Ok(vfio_mig_vfio_user::Request::Feature { flags, .. }) => flags & 0xffff,
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
                let r = vfio_mig_vfio_user::Header {
                    flags: TYPE_REPLY,
                    ..h
                };
                if write_frame(&mut s, r, &reply.payload()).is_err() {
                    break;
                }
            }
        }
    });
    let wire = vfio_mig_adapters::vfio_user::wire_checks(path.to_str().unwrap());
    let failed: Vec<_> = wire
        .iter()
        .filter(|v| v.status == Status::Fail)
        .map(|v| v.broken[0])
        .collect();
    assert_eq!(
        failed,
        ["V2-VU-001", "V2-VU-002", "V2-VU-003", "V2-VU-004"],
        "{wire:#?}"
    );
}

/// Every mutant whose bug the transport can show is caught through the
/// socket, under every flag set its bug shows under (without P2P, which
/// vfio-user servers do not have), by one of the requirements it declares,
/// at FAIL for a MUST. A mutant listed as hidden (with its reason, in
/// `vfio_mig_mock::MUTANTS`) that is caught anyway means the list is stale.
#[test]
fn mutants_are_caught_through_the_socket_unless_the_transport_hides_them() {
    let mut missed = Vec::new();
    let mut hidden_but_caught = Vec::new();
    for m in MUTANTS.iter().filter(|m| m.protocol == ProtocolName::V2) {
        let mut sets: Vec<u64> = m.flag_sets.iter().map(|b| b & !0b010).collect();
        sets.dedup();
        for bits in sets {
            let mut c = config(bits);
            c.mutant = Some(m.mutant);
            let verdicts = run(&servers(&format!("{}-{bits}", m.name), &c));
            let caught = verdicts.iter().any(|v| {
                m.breaks.iter().any(|r| {
                    v.breaks(*r)
                        && match r.level() {
                            Level::Must => v.status == Status::Fail,
                            Level::Should | Level::May => matches!(v.status, Status::Fail | Status::Warn),
                        }
                })
            });
            match (caught, m.hidden_over_vfio_user) {
                (false, None) => missed.push(format!("{} under flags {bits}", m.name)),
                (true, Some(_)) => hidden_but_caught.push(m.name),
                _ => {}
            }
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
