//! A device that cannot be restored between checks stops the whole run with
//! a clear verdict, instead of later checks being judged against a broken
//! device (the rule behind every adapter's `restore`).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use vfio_mig_device::v2::Call;
use vfio_mig_device::{Description, Device, DeviceError, DeviceFactory, Fault, Io};
use vfio_mig_engine::check::Status;
use vfio_mig_engine::suites::{self, Options};
use vfio_mig_mock::{MockConfig, MockFactory};
use vfio_mig_model::v2::{Fsm, MigrationFlags, Outcome};
use vfio_mig_model::{Profile, ProtocolName};

/// The mock, except that restores start failing once `budget` is spent.
struct Wearing {
    inner: Box<dyn Device<Fsm>>,
    budget: Arc<AtomicU32>,
}

impl Device<Fsm> for Wearing {
    fn describe(&self) -> Description {
        self.inner.describe()
    }
    fn exec(&mut self, call: &Call, io: &mut Io) -> Outcome {
        self.inner.exec(call, io)
    }
    fn restore(&mut self) -> Result<(), DeviceError> {
        match self.budget.load(Ordering::SeqCst) {
            0 => Err(DeviceError::unusable("reset timed out")),
            n => {
                self.budget.store(n - 1, Ordering::SeqCst);
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
    budget: Arc<AtomicU32>,
}

impl DeviceFactory<Fsm> for WearingFactory {
    fn open(&self, index: usize) -> Result<Box<dyn Device<Fsm>>, DeviceError> {
        Ok(Box::new(Wearing {
            inner: self.mock.open(index)?,
            budget: Arc::clone(&self.budget),
        }))
    }
}

#[test]
fn a_failed_restore_halts_the_run_with_its_reason() {
    let factory = WearingFactory {
        mock: MockFactory {
            config: MockConfig::v2(MigrationFlags::accepted()[3]),
        },
        budget: Arc::new(AtomicU32::new(30)),
    };
    let profile = Profile::defaults(ProtocolName::V2);
    let opts = Options::default();
    let mut started = Vec::new();
    let run = suites::run_all::<Fsm>(&factory, profile, &opts, &mut |s| started.push(s));
    let stopped = run.stopped.clone().expect("the run says it stopped");
    assert_eq!((stopped.after, stopped.of), (31, run.plan.len()));
    assert!(stopped.cause.contains("reset timed out"), "{stopped:?}");
    let verdicts = run.verdicts;
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

/// The mock, except that one SET never returns in any reasonable time.
struct Hangs {
    inner: Box<dyn Device<Fsm>>,
    on: u32,
}

impl Device<Fsm> for Hangs {
    fn describe(&self) -> Description {
        self.inner.describe()
    }
    fn exec(&mut self, call: &Call, io: &mut Io) -> Outcome {
        if *call == Call::SetState(self.on) {
            std::thread::sleep(std::time::Duration::from_secs(600));
        }
        self.inner.exec(call, io)
    }
    fn restore(&mut self) -> Result<(), DeviceError> {
        self.inner.restore()
    }
    fn fingerprint(&mut self) -> Option<Vec<u8>> {
        self.inner.fingerprint()
    }
    fn inject(&mut self, fault: Fault) -> bool {
        self.inner.inject(fault)
    }
}

struct HangsFactory(MockFactory);

impl DeviceFactory<Fsm> for HangsFactory {
    fn open(&self, index: usize) -> Result<Box<dyn Device<Fsm>>, DeviceError> {
        Ok(Box::new(Hangs {
            inner: self.0.open(index)?,
            on: vfio_mig_model::v2::MigState::PreCopy.number(),
        }))
    }
}

/// A device whose SET blocks (the kernel's STOP_COPY -> PRE_COPY loop of
/// 6.2 to 6.12.116) fails V2-TIME-001 at that call and stops the run, long
/// before the call would have returned.
#[test]
fn a_call_past_its_deadline_fails_the_time_rule_and_stops_the_run() {
    use vfio_mig_model::reqs::V2_TIME_001;
    let start = std::time::Instant::now();
    let factory = HangsFactory(MockFactory {
        config: MockConfig::v2(MigrationFlags::accepted()[3]),
    });
    let mut opts = Options::default();
    opts.timeout = std::time::Duration::from_millis(200);
    let verdicts =
        suites::run_all::<Fsm>(&factory, Profile::defaults(ProtocolName::V2), &opts, &mut |_| {}).verdicts;
    let last = verdicts.last().expect("some verdicts");
    assert!(last.halts && last.status == Status::Fail, "{last:?}");
    assert!(last.broken.contains(&V2_TIME_001), "{:?}", last.broken);
    assert!(
        last.detail.contains("did not return within 200 ms"),
        "{}",
        last.detail
    );
    assert_eq!(verdicts.iter().filter(|v| v.halts).count(), 1);
    // Every earlier check asserted the rule for its own calls.
    assert!(verdicts[0].reqs.contains(&V2_TIME_001));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(600),
        "the run waited for the device"
    );
}
