//! Cross-transport differential: the same sequences on the mock in-process
//! and on the mock behind a vfio-user socket. Where they differ, the table
//! names the step and what the model says; only the calls vfio-user lacks
//! differ for the correct mock, and a mutant behind the socket shows up as
//! answers the model does not allow.

use std::os::unix::net::UnixListener;
use vfio_mig_adapters::vfio_user::VfioUserAdapter;
use vfio_mig_engine::differential::{compare, sequences, Class};
use vfio_mig_engine::handle::{Handle, DEFAULT_TIMEOUT};
use vfio_mig_engine::target::Target;
use vfio_mig_mock::vfio_user_server::MockServer;
use vfio_mig_mock::{MockConfig, MockV2, Mutant};
use vfio_mig_model::v2::{Fsm, MigState, MigrationFlags, Op};
use vfio_mig_model::{Profile, ProtocolName};
use vfio_mig_report::differences;

/// The mock behind a socket, on one connection (the socket's directory is
/// gone once it is made).
fn behind_socket(name: &str, config: MockConfig) -> Handle<Fsm> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("vfio-mig-diff-{name}-"))
        .tempdir()
        .unwrap();
    let path = dir.path().join("0.sock");
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || MockServer::new(config, 0).serve(&listener));
    Handle::new(
        Box::new(VfioUserAdapter::open(path.to_str().unwrap(), 0).unwrap()),
        DEFAULT_TIMEOUT,
    )
    .unwrap()
}

fn in_process(config: MockConfig) -> Handle<Fsm> {
    Handle::new(Box::new(MockV2::new(config, 0)), DEFAULT_TIMEOUT).unwrap()
}

#[test]
fn the_same_mock_differs_only_where_the_transport_lacks_a_call() {
    let config = MockConfig::v2(MigrationFlags::new(5).unwrap());
    let mut local = in_process(config.clone());
    let mut remote = behind_socket("same", config);
    let model = Fsm::model(local.describe(), Profile::defaults(ProtocolName::V2));
    let seqs = sequences(&model, 64, 12, 1);
    let table = compare(&model, &mut local, &mut remote, &seqs).unwrap();
    assert!(table.steps > 200, "{} steps", table.steps);
    for d in &table.differences {
        let transport = matches!(d.op, Op::PrecopyInfo { .. } | Op::DataSize);
        assert!(transport || d.class == Class::Equivalent, "{d:?}");
    }
    assert!(differences(&table, "in-process", "vfio-user").contains("steps compared"));
}

#[test]
fn a_mutant_behind_the_socket_answers_what_the_model_does_not_allow() {
    let config = MockConfig::v2(MigrationFlags::new(5).unwrap());
    let mut local = in_process(config.clone());
    let mut broken = config.clone();
    broken.mutant = Some(Mutant::AcceptsBlockedArc);
    let mut remote = behind_socket("mutant", broken);
    let model = Fsm::model(local.describe(), Profile::defaults(ProtocolName::V2));
    let seqs = sequences(&model, 256, 12, 2);
    let table = compare(&model, &mut local, &mut remote, &seqs).unwrap();
    let found = table
        .differences
        .iter()
        .find(|d| d.class == Class::OnlyFirstAllowed && d.op == Op::Set(MigState::PreCopy));
    assert!(
        found.is_some(),
        "{}",
        differences(&table, "in-process", "vfio-user")
    );
}
