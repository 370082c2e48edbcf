//! The fail-nth sweep (V2-ERR-001, V2-ERR-002, V2-STREAM-006): the correct
//! mock survives every single failure of a live migration, at the device and
//! at the adapter boundary; mutants that mishandle failures are caught.

use vfio_mig_device::v2::Call;
use vfio_mig_device::{Description, Device, DeviceError, DeviceFactory, Fault, Io};
use vfio_mig_engine::check::Status;
use vfio_mig_engine::handle::{Handle, DEFAULT_TIMEOUT};
use vfio_mig_engine::suites::sweep;
use vfio_mig_engine::target::Target;
use vfio_mig_mock::{MockConfig, MockFactory, Mutant};
use vfio_mig_model::reqs::{V2_ERR_002, V2_STREAM_006};
use vfio_mig_model::v2::{Fsm, MigrationFlags, Outcome};
use vfio_mig_model::{Profile, ProtocolName};

fn sweep_of(config: MockConfig, wrap: bool) -> Vec<vfio_mig_engine::verdict::Verdict> {
    let f = MockFactory { config };
    let open = |i| -> Handle<Fsm> {
        let d = f.open(i).unwrap();
        let d: Box<dyn Device<Fsm>> = if wrap { Box::new(NoInjection(d)) } else { d };
        Handle::new(d, DEFAULT_TIMEOUT).unwrap()
    };
    let (mut a, mut b) = (open(0), open(1));
    let model = Fsm::model(a.describe(), Profile::defaults(ProtocolName::V2));
    sweep::fail_nth_v2(&model, &mut a, &mut b)
}

/// The mock, except that it refuses every fault: the sweep must inject at
/// the adapter boundary instead.
struct NoInjection(Box<dyn Device<Fsm>>);

impl Device<Fsm> for NoInjection {
    fn describe(&self) -> Description {
        self.0.describe()
    }
    fn exec(&mut self, call: &Call, io: &mut Io) -> Outcome {
        self.0.exec(call, io)
    }
    fn restore(&mut self) -> Result<(), DeviceError> {
        self.0.restore()
    }
    fn fingerprint(&mut self) -> Option<Vec<u8>> {
        self.0.fingerprint()
    }
    fn inject(&mut self, _: Fault) -> bool {
        false
    }
}

#[test]
fn the_correct_mock_survives_every_single_failure() {
    for flags in MigrationFlags::accepted() {
        for wrap in [false, true] {
            let v = sweep_of(MockConfig::v2(flags), wrap);
            // Pre-copy reads, stop-copy reads, SETs and the writes of the resume.
            assert!(v.len() >= 6, "{flags}: only {} operations swept", v.len());
            let bad: Vec<_> = v
                .iter()
                .filter(|v| v.status != Status::Pass)
                .map(|v| format!("{}: {}\n{:?}", v.name, v.detail, v.trace))
                .collect();
            assert!(bad.is_empty(), "{flags}, boundary {wrap}:\n{}", bad.join("\n\n"));
        }
    }
}

#[test]
fn failures_mishandled_by_a_mutant_are_caught() {
    for (m, req) in [
        (Mutant::ResumeAcceptsPartial, V2_STREAM_006),
        (Mutant::ResetToStop, V2_ERR_002),
    ] {
        let mut c = MockConfig::v2(MigrationFlags::accepted()[3]);
        c.mutant = Some(m);
        let v = sweep_of(c, false);
        assert!(
            v.iter().any(|v| v.status == Status::Fail && v.breaks(req)),
            "{} not caught naming {req}",
            m.name()
        );
    }
}
