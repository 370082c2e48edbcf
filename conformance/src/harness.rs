//! Every conformance test for any adapter, from one macro.
//!
//! A vendor implements [`DeviceFactory`] for their device in their own crate,
//! adds a test target with `harness = false`, and writes
//!
//! ```ignore
//! vfio_mig_conformance::conformance_main!(v2, my_crate::MyFactory::from_env());
//! ```
//!
//! `cargo test` then runs one test per suite (`arcs`, `sequences`, `explore`,
//! `data`, `faults`), named `<prefix>/<suite>` so `cargo test -- arcs` picks
//! one. A device that is not configured makes every test report "ignored"
//! with the reason, instead of passing silently. A failing test prints every
//! failing check with the requirement it breaks, its trace and a paste-ready
//! reproducer.

use crate::check::Status;
use crate::device::DeviceFactory;
use crate::suites::{self, Options, ProtocolSuites, SuiteId};
use crate::verdict::Verdict;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::sync::Arc;
use vfio_mig_model::v1::Region;
use vfio_mig_model::v2::Fsm;
use vfio_mig_model::{Profile, ProtocolKind};

/// Turns the verdicts of one suite into a test result.
pub fn conclude(verdicts: &[Verdict]) -> Result<Completion, Failed> {
    if let [only] = verdicts {
        if only.status == Status::Skip && only.suite == "setup" {
            return Ok(Completion::ignored_with(only.detail.clone()));
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

/// A failing check as a person reads it: rule, what happened, trace, reproducer.
pub fn render_failure(v: &Verdict) -> String {
    let mut out = format!(
        "\nFAIL {} [{}]\n  {}\n  trace:\n",
        v.name,
        v.broken.join(", "),
        v.detail
    );
    for line in &v.trace {
        out.push_str(&format!("    {line}\n"));
    }
    if let Some(r) = &v.reproducer {
        out.push_str("  reproducer (ops and observed outcomes):\n");
        for line in r.lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}

/// One trial per suite against the devices `factory` opens.
pub fn trials<T, F>(prefix: &str, factory: Arc<F>, profile: Profile, opts: Options) -> Vec<Trial>
where
    T: ProtocolSuites,
    T::Op: 'static,
    T::State: 'static,
    F: DeviceFactory<T> + Send + Sync + 'static,
{
    SuiteId::ALL
        .iter()
        .map(|&suite| {
            let (factory, opts) = (Arc::clone(&factory), opts.clone());
            Trial::ignorable_test(format!("{prefix}/{}", suite.name()), move || {
                conclude(&suites::run_suites::<T>(&*factory, profile, &opts, &[suite]))
            })
        })
        .collect()
}

/// [`trials`] for a v2 device.
pub fn trials_v2<F>(prefix: &str, factory: Arc<F>, profile: Profile, opts: Options) -> Vec<Trial>
where
    F: DeviceFactory<Fsm> + Send + Sync + 'static,
{
    trials::<Fsm, F>(prefix, factory, profile, opts)
}

/// [`trials`] for a v1 device.
pub fn trials_v1<F>(prefix: &str, factory: Arc<F>, profile: Profile, opts: Options) -> Vec<Trial>
where
    F: DeviceFactory<Region> + Send + Sync + 'static,
{
    trials::<Region, F>(prefix, factory, profile, opts)
}

/// Runs `trials` like `cargo test` would, one at a time (a real device is
/// one device), and exits.
pub fn main_with(trials: Vec<Trial>) -> ! {
    let mut args = Arguments::from_args();
    if args.test_threads.is_none() {
        args.test_threads = Some(1);
    }
    libtest_mimic::run(&args, trials).exit()
}

/// The default profile of a protocol, as `conformance_main!` uses it.
pub fn default_profile(kind: ProtocolKind) -> Profile {
    Profile::defaults(kind)
}

/// Generates `fn main` for a `harness = false` test target that runs every
/// suite against a device factory: `conformance_main!(v2, factory)` or
/// `conformance_main!(v1, factory)`.
#[macro_export]
macro_rules! conformance_main {
    (v2, $factory:expr) => {
        fn main() {
            let factory = ::std::sync::Arc::new($factory);
            let profile = $crate::harness::default_profile($crate::ProtocolKind::V2);
            let trials =
                $crate::harness::trials_v2("v2", factory, profile, ::std::default::Default::default());
            $crate::harness::main_with(trials)
        }
    };
    (v1, $factory:expr) => {
        fn main() {
            let factory = ::std::sync::Arc::new($factory);
            let profile = $crate::harness::default_profile($crate::ProtocolKind::V1);
            let trials =
                $crate::harness::trials_v1("v1", factory, profile, ::std::default::Default::default());
            $crate::harness::main_with(trials)
        }
    };
}
