//! Every conformance test for any adapter, from one macro.
//!
//! A vendor implements [`DeviceFactory`] for their device in their own crate,
//! adds a test target with `harness = false`, and writes
//!
//! ```ignore
//! vfio_mig_engine::conformance_main!(v2, my_crate::MyFactory::from_env());
//! ```
//!
//! `cargo test` then runs one test per suite (`arcs`, `sequences`, `explore`,
//! `data`, `faults`, `concurrency`), named `<protocol>/<suite>` so `cargo test -- arcs` picks
//! one. A device that is not configured makes every test report "ignored"
//! with the reason, instead of passing silently. A failing test prints every
//! failing check with the requirement it breaks, its trace and a paste-ready
//! reproducer. A device that stops answering within the deadline
//! (`VFIO_MIG_TIMEOUT_MS`) fails the test it was in and every later one.

use crate::check::Status;
use crate::regression::reproducer;
use crate::suites::{self, Options, ProtocolSuites};
use crate::verdict::{SuiteId, Verdict};
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::sync::{Arc, Mutex};
use vfio_mig_device::DeviceFactory;
use vfio_mig_model::v1::Region;
use vfio_mig_model::v2::Fsm;
use vfio_mig_model::Profile;

/// Turns the verdicts of one suite into a test result.
fn conclude(verdicts: &[Verdict]) -> Result<Completion, Failed> {
    if let [only] = verdicts {
        if only.status == Status::Skip && only.suite == SuiteId::Setup {
            return Ok(Completion::ignored_with(only.detail.clone()));
        }
    }
    if verdicts.iter().all(|v| v.status == Status::Skip) {
        if let Some(first) = verdicts.first() {
            // Nothing of the suite applies to this device: say why.
            return Ok(Completion::ignored_with(first.detail.clone()));
        }
    }
    let failed: Vec<&Verdict> = verdicts.iter().filter(|v| v.status == Status::Fail).collect();
    for v in verdicts.iter().filter(|v| v.status == Status::Warn) {
        println!("WARN {}: {}", v.name, v.detail);
    }
    if failed.is_empty() {
        return Ok(Completion::Completed);
    }
    let mut msg = format!("{} of {} checks failed\n", failed.len(), verdicts.len());
    for v in failed {
        msg.push_str(&render_failure(v));
    }
    Err(msg.into())
}

/// A failing check as a person reads it: rule, what happened, trace,
/// reproducer.
pub fn render_failure(v: &Verdict) -> String {
    let mut out = format!(
        "\nFAIL {} [{}]\n  {}\n",
        v.name,
        vfio_mig_model::join_ids(&v.broken, ", "),
        v.detail
    );
    if let Some(observed) = &v.concurrency {
        // Calls made at once cannot be replayed from one thread: the
        // smallest history that shows the failure instead.
        let shown = observed
            .witness
            .as_ref()
            .map_or(&observed.history, |w| &w.history);
        out.push_str(
            "  calls made at once (thread, made..returned in us from the first, call -> outcome):\n",
        );
        let first = shown.records.first().map(|r| r.invoked).unwrap_or_default();
        for r in &shown.records {
            out.push_str(&format!(
                "    {} {}..{} {} -> {}\n",
                r.thread,
                r.invoked.saturating_sub(first).as_micros(),
                r.returned.saturating_sub(first).as_micros(),
                r.op,
                r.outcome
            ));
        }
        return out;
    }
    if let Some(r) = reproducer(&v.name, &v.trace) {
        out.push_str("  reproducer (ops and observed outcomes):\n");
        for line in r.lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}

/// A device that stopped answering in one suite fails the later ones too.
type Halted = Arc<Mutex<Option<String>>>;

/// One trial per suite against the devices `factory` opens.
fn trials<T, F>(factory: Arc<F>, profile: Profile, opts: Options) -> Vec<Trial>
where
    T: ProtocolSuites,
    F: DeviceFactory<T> + Send + Sync + 'static,
{
    let halted: Halted = Arc::default();
    SuiteId::RUN
        .iter()
        .map(|&suite| {
            let (factory, opts, profile, halted) = (
                Arc::clone(&factory),
                opts.clone(),
                profile.clone(),
                Arc::clone(&halted),
            );
            let name = format!("{}/{}", T::KIND, suite.name());
            Trial::ignorable_test(name, move || {
                if let Some(why) = halted.lock().ok().and_then(|h| h.clone()) {
                    return Err(format!("not run: an earlier suite stopped the run: {why}").into());
                }
                let verdicts = suites::run_suites::<T>(&*factory, profile, &opts, &[suite]);
                if let Some(v) = verdicts.iter().find(|v| v.halts) {
                    if let Ok(mut h) = halted.lock() {
                        *h = Some(format!("{}: {}", v.name, v.detail));
                    }
                }
                conclude(&verdicts)
            })
        })
        .collect()
}

/// What a harness run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Suites that passed.
    pub passed: u64,
    /// Suites that failed.
    pub failed: u64,
    /// Suites reported ignored (the device is not configured).
    pub ignored: u64,
}

fn run<T, F>(factory: F, opts: Options, args: &Arguments) -> Counts
where
    T: ProtocolSuites,
    F: DeviceFactory<T> + Send + Sync + 'static,
{
    let trials = trials::<T, F>(Arc::new(factory), Profile::defaults(T::KIND), opts);
    let c = libtest_mimic::run(args, trials);
    Counts {
        passed: c.num_passed,
        failed: c.num_failed,
        ignored: c.num_ignored,
    }
}

fn quiet() -> Arguments {
    Arguments {
        test_threads: Some(1),
        quiet: true,
        ..Arguments::default()
    }
}

/// Runs every v2 suite against `factory` as `cargo test` would, quietly,
/// and returns the counts (what [`crate::conformance_main!`] does, without exiting).
pub fn run_v2<F: DeviceFactory<Fsm> + Send + Sync + 'static>(factory: F, opts: Options) -> Counts {
    run::<Fsm, F>(factory, opts, &quiet())
}

/// [`run_v2`] for a v1 device.
pub fn run_v1<F: DeviceFactory<Region> + Send + Sync + 'static>(factory: F, opts: Options) -> Counts {
    run::<Region, F>(factory, opts, &quiet())
}

/// The body of [`crate::conformance_main!`]: runs every suite of `protocol` as
/// tests, one at a time (a real device is one device), and exits.
#[doc(hidden)]
pub fn main<T, F>(factory: F) -> !
where
    T: ProtocolSuites,
    F: DeviceFactory<T> + Send + Sync + 'static,
{
    let mut args = Arguments::from_args();
    if args.test_threads.is_none() {
        args.test_threads = Some(1);
    }
    let opts = match Options::from_env() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: VFIO_MIG_TIMEOUT_MS: {e}");
            std::process::exit(2)
        }
    };
    let trials = trials::<T, F>(Arc::new(factory), Profile::defaults(T::KIND), opts);
    libtest_mimic::run(&args, trials).exit()
}

/// Generates `fn main` for a `harness = false` test target that runs every
/// suite against a device factory: `conformance_main!(v2, factory)` or
/// `conformance_main!(v1, factory)`.
#[macro_export]
macro_rules! conformance_main {
    (v2, $factory:expr) => {
        fn main() {
            $crate::harness::main::<$crate::models::Fsm, _>($factory)
        }
    };
    (v1, $factory:expr) => {
        fn main() {
            $crate::harness::main::<$crate::models::Region, _>($factory)
        }
    };
}
