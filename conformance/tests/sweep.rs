//! The fail-nth sweep (V2-ERR-001, V2-ERR-002, V2-STREAM-006): the correct
//! mock survives every single failure of a live migration, at the device and
//! at the adapter boundary; mutants that mishandle failures are caught.

use vfio_mig_conformance::check::Status;
use vfio_mig_conformance::device::{Description, Device, DeviceError, DeviceFactory, Fault, Io};
use vfio_mig_conformance::mock::{MockConfig, MockFactory, Mutant};
use vfio_mig_conformance::suites::sweep;
use vfio_mig_conformance::target::Target;
use vfio_mig_model::v2::{Fsm, MigrationFlags, Op, Outcome};
use vfio_mig_model::{Profile, ProtocolKind};

fn sweep_of(config: MockConfig, wrap: bool) -> Vec<vfio_mig_conformance::verdict::Verdict> {
    let f = MockFactory { config };
    let mut a = f.open(0).unwrap();
    let mut b = f.open(1).unwrap();
    let model = Fsm::model(&a.describe(), Profile::defaults(ProtocolKind::V2));
    if wrap {
        let (mut a, mut b) = (NoInjection(a), NoInjection(b));
        sweep::fail_nth_v2(&model, &mut a, &mut b)
    } else {
        sweep::fail_nth_v2(&model, a.as_mut(), b.as_mut())
    }
}

/// The mock, except that it refuses every fault: the sweep must inject at
/// the adapter boundary instead.
struct NoInjection(Box<dyn Device<Fsm>>);

impl Device<Fsm> for NoInjection {
    fn describe(&self) -> Description {
        self.0.describe()
    }
    fn exec(&mut self, op: &Op, io: &mut Io) -> Outcome {
        self.0.exec(op, io)
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
                .map(|v| format!("{}: {}\n{}", v.name, v.detail, v.trace.join("\n")))
                .collect();
            assert!(bad.is_empty(), "{flags}, boundary {wrap}:\n{}", bad.join("\n\n"));
        }
    }
}

#[test]
fn failures_mishandled_by_a_mutant_are_caught() {
    for (m, req) in [
        (Mutant::ResumeAcceptsPartial, "V2-STREAM-006"),
        (Mutant::ResetToStop, "V2-ERR-002"),
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
