//! Progress of long runs, drawn on standard error only when it is a
//! terminal and not under CI, so that piped and logged output stays clean.
//!
//! The suites report when each begins; inside one (an exploration of depth
//! 20, a hundred thousand random sequences) progress is counted at the
//! device: every call, and every restore, which starts each sequence of
//! the exploration and each case of the random sequences.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vfio_mig_device::{Description, Device, DeviceError, DeviceFactory, Fault, Io, SharedDevice, Speaks};
use vfio_mig_engine::verdict::SuiteId;

/// Whether progress is drawn: standard error is a terminal and `CI` is
/// not set.
pub fn enabled() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// Device calls and restores so far, shared with the devices' threads.
#[derive(Debug, Default)]
pub struct Meter {
    calls: AtomicU64,
    restores: AtomicU64,
}

impl Meter {
    /// Calls and restores counted so far.
    pub fn read(&self) -> (u64, u64) {
        (
            self.calls.load(Ordering::Relaxed),
            self.restores.load(Ordering::Relaxed),
        )
    }

    /// The counts as a person reads them.
    pub fn text(&self) -> String {
        let (calls, restores) = self.read();
        format!("{restores} runs from a reset device, {calls} device calls")
    }
}

/// A factory whose devices count their calls and restores in a [`Meter`].
pub struct Counted<'a, P: Speaks> {
    inner: &'a dyn DeviceFactory<P>,
    meter: Arc<Meter>,
}

impl<'a, P: Speaks> Counted<'a, P> {
    /// Counts the devices of `inner` in `meter`.
    pub fn new(inner: &'a dyn DeviceFactory<P>, meter: Arc<Meter>) -> Self {
        Counted { inner, meter }
    }
}

impl<P: Speaks> DeviceFactory<P> for Counted<'_, P> {
    fn open(&self, index: usize) -> Result<Box<dyn Device<P>>, DeviceError> {
        Ok(counted(self.inner.open(index)?, self.meter.clone()))
    }
}

/// `device`, counting its calls and restores in `meter`.
pub fn counted<P: Speaks>(device: Box<dyn Device<P>>, meter: Arc<Meter>) -> Box<dyn Device<P>> {
    Box::new(CountedDevice { inner: device, meter })
}

struct CountedDevice<P: Speaks> {
    inner: Box<dyn Device<P>>,
    meter: Arc<Meter>,
}

impl<P: Speaks> Device<P> for CountedDevice<P> {
    fn describe(&self) -> Description {
        self.inner.describe()
    }

    fn exec(&mut self, call: &P::Call, io: &mut Io) -> P::Outcome {
        self.meter.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.exec(call, io)
    }

    fn restore(&mut self) -> Result<(), DeviceError> {
        self.meter.restores.fetch_add(1, Ordering::Relaxed);
        self.inner.restore()
    }

    fn fingerprint(&mut self) -> Option<Vec<u8>> {
        self.inner.fingerprint()
    }

    fn inject(&mut self, fault: Fault) -> bool {
        self.inner.inject(fault)
    }

    fn shared(&mut self) -> Option<Arc<dyn SharedDevice<P>>> {
        self.inner.shared()
    }
}

/// A bar on standard error, refreshed by a thread of its own with the
/// meter's counts.
pub struct Bar {
    bar: ProgressBar,
    meter: Arc<Meter>,
    label: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl Bar {
    /// A bar of `len` steps called `unit` (drawn only when [`enabled`]).
    pub fn new(len: u64, unit: &str) -> Self {
        let bar = ProgressBar::new(len);
        let shown = enabled();
        if !shown {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        if let Ok(style) = ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}} {unit} {{msg}}"))
        {
            bar.set_style(style);
        }
        let meter = Arc::new(Meter::default());
        let label = Arc::new(Mutex::new(String::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = shown.then(|| {
            let (bar, meter, label, stop) = (bar.clone(), meter.clone(), label.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let label = label.lock().map(|l| l.clone()).unwrap_or_default();
                    bar.set_message(format!("{label}: {}", meter.text()));
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        });
        Bar {
            bar,
            meter,
            label,
            stop,
            ticker,
        }
    }

    /// The meter the counted devices update.
    pub fn meter(&self) -> Arc<Meter> {
        self.meter.clone()
    }

    /// Names what runs now.
    pub fn label(&self, text: &str) {
        if let Ok(mut l) = self.label.lock() {
            text.clone_into(&mut l);
        }
    }

    /// One step done.
    pub fn inc(&self) {
        self.bar.inc(1);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}

/// Calls `run` with `factory`'s devices counted and a callback to announce
/// each suite; draws a bar of the suites with the counts of the current
/// one when [`enabled`].
pub fn over_suites<P: Speaks, R>(
    factory: &dyn DeviceFactory<P>,
    run: impl FnOnce(&dyn DeviceFactory<P>, &mut dyn FnMut(SuiteId)) -> R,
) -> R {
    let bar = Bar::new(SuiteId::RUN.len() as u64, "suites");
    let counted = Counted::new(factory, bar.meter());
    let mut started = false;
    run(&counted, &mut |s: SuiteId| {
        if started {
            bar.inc();
        }
        started = true;
        bar.label(s.name());
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfio_mig_engine::suites::{self, Options};
    use vfio_mig_mock::{MockConfig, MockFactory};
    use vfio_mig_model::v2::{Fsm, MigrationFlags};
    use vfio_mig_model::{Profile, ProtocolName};

    /// The counted devices see every call and every restore of a run:
    /// exploration to depth 2 restores the device once per sequence it
    /// explores. (The tool's own behaviour: no requirement of the catalogue.)
    #[test]
    fn a_counted_run_counts_each_sequence_and_call() {
        let mock = MockFactory {
            config: MockConfig::v2(MigrationFlags::accepted()[3]),
        };
        let meter = Arc::new(Meter::default());
        let counted = Counted::new(&mock, meter.clone());
        let mut opts = Options::default();
        opts.depth = 2;
        opts.sequences.cases = 0;
        let verdicts = suites::run_suites::<Fsm>(
            &counted,
            Profile::defaults(ProtocolName::V2),
            &opts,
            &[SuiteId::Explore],
        );
        let summary = verdicts.last().expect("a summary verdict");
        let sequences: u64 = summary
            .detail
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("the summary starts with the sequences explored");
        let (calls, restores) = meter.read();
        assert!(sequences > 0);
        assert!(
            restores >= sequences,
            "{restores} restores for {sequences} sequences"
        );
        assert!(calls >= sequences, "each sequence makes at least one call");
        assert!(meter
            .text()
            .contains(&format!("{restores} runs from a reset device")));
    }
}
