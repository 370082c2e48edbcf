//! A device that cannot be restored between checks stops the whole run with
//! a clear verdict, instead of later checks being judged against a broken
//! device (the rule behind every adapter's `restore`).

use std::cell::Cell;
use std::rc::Rc;
use vfio_mig_conformance::check::Status;
use vfio_mig_conformance::device::{Description, Device, DeviceError, DeviceFactory, Fault, Io};
use vfio_mig_conformance::mock::{MockConfig, MockFactory};
use vfio_mig_conformance::runner;
use vfio_mig_conformance::suites::{self, Options};
use vfio_mig_model::v2::{Fsm, MigrationFlags, Op, Outcome};
use vfio_mig_model::{Profile, ProtocolKind};

/// The mock, except that restores start failing once `budget` is spent.
struct Wearing {
    inner: Box<dyn Device<Fsm>>,
    budget: Rc<Cell<u32>>,
}

impl Device<Fsm> for Wearing {
    fn describe(&self) -> Description {
        self.inner.describe()
    }
    fn exec(&mut self, op: &Op, io: &mut Io) -> Outcome {
        self.inner.exec(op, io)
    }
    fn restore(&mut self) -> Result<(), DeviceError> {
        match self.budget.get() {
            0 => Err(DeviceError::Unusable("reset timed out".into())),
            n => {
                self.budget.set(n - 1);
                self.inner.restore()
            }
        }
    }
    fn fingerprint(&mut self) -> Option<Vec<u8>> {
        self.inner.fingerprint()
    }
    fn inject(&mut self, fault: Fault) -> bool {
        self.inner.inject(fault)
    }
}

struct WearingFactory {
    mock: MockFactory,
    budget: Rc<Cell<u32>>,
}

impl DeviceFactory<Fsm> for WearingFactory {
    fn open(&self, index: usize) -> Result<Box<dyn Device<Fsm>>, DeviceError> {
        Ok(Box::new(Wearing {
            inner: self.mock.open(index)?,
            budget: Rc::clone(&self.budget),
        }))
    }
}

#[test]
fn a_failed_restore_halts_the_run_with_its_reason() {
    let factory = WearingFactory {
        mock: MockFactory {
            config: MockConfig::v2(MigrationFlags::accepted()[3]),
        },
        budget: Rc::new(Cell::new(30)),
    };
    let profile = Profile::defaults(ProtocolKind::V2);
    let opts = Options::default();
    let mut started = Vec::new();
    let verdicts = runner::run_suites(
        &mut |s| suites::run_v2_suites(&factory, profile, &opts, &[s]),
        &mut |s| started.push(s),
    );
    let last = verdicts.last().expect("some verdicts");
    assert!(last.halts, "the last verdict halts the run: {last:?}");
    assert_eq!(last.status, Status::Fail);
    assert!(last.detail.contains("reset timed out") && last.detail.contains("no later check was run"));
    assert_eq!(
        verdicts.iter().filter(|v| v.halts).count(),
        1,
        "nothing ran after it"
    );
    assert_eq!(started.len(), 1, "no later suite started: {:?}", started);
    assert_eq!(verdicts.len(), 31, "30 checks passed, then the halt");
}
