//! Cross-transport differential: the same sequences on the mock in-process
//! and on the mock behind a vfio-user socket. Where they differ, the table
//! names the step and what the model says; only the calls vfio-user lacks
//! differ for the correct mock, and a mutant behind the socket shows up as
//! answers the model does not allow.

use std::os::unix::net::UnixListener;
use vfio_mig_conformance::adapters::vfio_user::VfioUserAdapter;
use vfio_mig_conformance::device::Device;
use vfio_mig_conformance::differential::{compare, sequences, Class};
use vfio_mig_conformance::mock::{MockConfig, MockV2, Mutant};
use vfio_mig_conformance::target::Target;
use vfio_mig_conformance::vfio_user_server::MockServer;
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::{Profile, ProtocolKind};

fn behind_socket(name: &str, config: MockConfig) -> VfioUserAdapter {
    let path = std::env::temp_dir().join(format!("vfio-mig-diff-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || MockServer::new(config, 0).serve(&listener));
    VfioUserAdapter::open(path.to_str().unwrap(), 0).unwrap()
}

#[test]
fn the_same_mock_differs_only_where_the_transport_lacks_a_call() {
    let config = MockConfig::v2(MigrationFlags::new(5).unwrap());
    let mut local = MockV2::new(config.clone(), 0);
    let mut remote = behind_socket("same", config);
    let model = Fsm::model(&local.describe(), Profile::defaults(ProtocolKind::V2));
    let seqs = sequences(&model, 64, 12, 1);
    let table = compare(&model, &mut local, &mut remote, &seqs).unwrap();
    assert!(table.steps > 200, "{} steps", table.steps);
    for d in &table.differences {
        let transport = d.op.starts_with("PRECOPY_INFO") || d.op == "GET MIG_DATA_SIZE";
        assert!(transport || d.class == Class::Equivalent, "{d:?}");
    }
    assert!(table
        .markdown("in-process", "vfio-user")
        .contains("steps compared"));
}

#[test]
fn a_mutant_behind_the_socket_answers_what_the_model_does_not_allow() {
    let config = MockConfig::v2(MigrationFlags::new(5).unwrap());
    let mut local = MockV2::new(config.clone(), 0);
    let mut broken = config.clone();
    broken.mutant = Some(Mutant::AcceptsBlockedArc);
    let mut remote = behind_socket("mutant", broken);
    let model = Fsm::model(&local.describe(), Profile::defaults(ProtocolKind::V2));
    let seqs = sequences(&model, 256, 12, 2);
    let table = compare(&model, &mut local, &mut remote, &seqs).unwrap();
    let found = table
        .differences
        .iter()
        .find(|d| d.class == Class::OnlyFirstAllowed && d.op.starts_with("SET PRE_COPY"));
    assert!(found.is_some(), "{}", table.markdown("in-process", "vfio-user"));
}
