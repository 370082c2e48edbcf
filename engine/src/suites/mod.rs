//! The conformance suites, each generic over the protocol and the adapter.
//!
//! Every suite takes the model of the device and the device itself (behind
//! its deadline [`Handle`]), restores the device before each check, and
//! returns one [`Verdict`] per check. A device that cannot be restored or
//! stops answering ends the run: the last verdict says so and halts.

pub mod arcs;
mod common;
pub mod concurrency;
pub mod data;
pub mod explore;
pub mod faults;
pub mod features;
pub mod precopy;
pub mod quiescence;
pub mod sequences;
pub mod sweep;

pub use crate::check::error_chain;
use crate::check::error_chain as chain;
use crate::handle::Handle;
use crate::target::Target;
use crate::verdict::{SuiteId, Verdict};
use std::time::Duration;
use vfio_mig_device::{DeviceError, DeviceFactory};
use vfio_mig_model::Profile;

/// What a whole run does.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Exploration depth.
    pub depth: usize,
    /// Random sequences.
    pub sequences: sequences::Settings,
    /// (read chunk, write chunk) sizes of the round trips.
    pub chunks: Vec<(u32, u32)>,
    /// At most this many failing sequences reported per exploration.
    pub max_failures: usize,
    /// The deadline of every device call.
    pub timeout: Duration,
    /// Calls from several threads at once.
    pub concurrency: concurrency::Settings,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            depth: 4,
            sequences: sequences::Settings::default(),
            chunks: vec![(4096, 4096), (7, 1 << 20), (1 << 20, 1)],
            max_failures: 8,
            timeout: crate::handle::DEFAULT_TIMEOUT,
            concurrency: concurrency::Settings::default(),
        }
    }
}

impl Options {
    /// The defaults with the deadline of `VFIO_MIG_TIMEOUT_MS` when it is set.
    pub fn from_env() -> Result<Self, crate::handle::BadTimeout> {
        Ok(Options {
            timeout: crate::handle::timeout_from_env()?,
            ..Options::default()
        })
    }
}

/// Opens instance `index` behind a deadline handle, or the verdict
/// explaining why not.
pub fn open<P: Target>(
    factory: &dyn DeviceFactory<P>,
    index: usize,
    timeout: Duration,
) -> Result<Handle<P>, Box<Verdict>> {
    let fail = |e: DeviceError| {
        let name = format!("open instance {index}");
        let why = chain(&e);
        Box::new(if e.is_not_configured() {
            Verdict::skip(SuiteId::Setup, name, &[], why)
        } else {
            Verdict::halted(SuiteId::Setup, name, &[], why)
        })
    };
    let device = factory.open(index).map_err(fail)?;
    Handle::new(device, timeout)
        .map(|h| h.numbered(index.min(u8::MAX as usize) as u8))
        .map_err(fail)
}

/// A source and a destination instance.
pub struct Pair<P: Target> {
    /// Instance 0, the source of round trips.
    pub src: Handle<P>,
    /// Instance 1, the destination.
    pub dst: Handle<P>,
}

/// Opens the source and destination instances, or the verdict explaining why not.
pub fn open_pair<P: Target>(
    factory: &dyn DeviceFactory<P>,
    timeout: Duration,
) -> Result<Pair<P>, Box<Verdict>> {
    Ok(Pair {
        src: open(factory, 0, timeout)?,
        dst: open(factory, 1, timeout)?,
    })
}

/// One part of a suite: the model, the source and the destination in,
/// verdicts out.
type Body<'a, P> = Box<dyn FnOnce(&P, &mut Handle<P>, &mut Handle<P>) -> Vec<Verdict> + 'a>;

/// A part of a suite and the name every verdict it gives starts with: the
/// plan of a run is the list of these names.
pub struct Part<'a, P: Target> {
    /// The part's name (`v2/STOP_COPY/data/round-trip/stop-copy/read-7/write-1`).
    pub name: String,
    body: Body<'a, P>,
}

impl<'a, P: Target> Part<'a, P> {
    fn new(name: String, body: Body<'a, P>) -> Self {
        Part { name, body }
    }
}

/// Whether verdict `name` belongs to the part named `part`.
pub fn belongs(name: &str, part: &str) -> bool {
    name == part || (name.starts_with(part) && name[part.len()..].starts_with('/'))
}

/// Runs `parts` in order, stopping after the first verdict that halts the run.
fn until_halted<P: Target>(
    model: &P,
    src: &mut Handle<P>,
    dst: &mut Handle<P>,
    parts: Vec<Part<'_, P>>,
) -> Vec<Verdict> {
    let mut out = Vec::new();
    for part in parts {
        out.extend((part.body)(model, &mut *src, &mut *dst));
        if out.iter().any(|v| v.halts) {
            break;
        }
    }
    out
}

/// The protocol-specific suites: data round trips and fault cases, as named
/// parts. The other three are generic over [`Target`].
pub trait ProtocolSuites: Target {
    /// Suite 4 for this protocol.
    fn data_parts(&self, opts: &Options) -> Vec<Part<'static, Self>>;
    /// Suite 5 for this protocol.
    fn fault_parts(&self) -> Vec<Part<'static, Self>>;
    /// Suite 6 for this protocol.
    fn concurrency_parts(&self, opts: &Options) -> Vec<Part<'static, Self>>;
}

impl ProtocolSuites for vfio_mig_model::v2::Fsm {
    fn data_parts(&self, opts: &Options) -> Vec<Part<'static, Self>> {
        let mut parts: Vec<Part<'static, Self>> = Vec::new();
        // Without PRE_COPY there is one way to save: no second round trip
        // of the same name.
        let ways: &[bool] = if self.flags().pre_copy() {
            &[false, true]
        } else {
            &[false]
        };
        for &(r, w) in &opts.chunks {
            for &precopy in ways {
                parts.push(Part::new(
                    data::round_trip_name(self, r, w, precopy, None),
                    Box::new(move |m, s, d| data::round_trip_v2(m, s, d, r, w, precopy, None)),
                ));
            }
        }
        // The device itself returns fewer bytes than asked.
        parts.push(Part::new(
            data::round_trip_name(self, 4096, 4096, true, Some(3)),
            Box::new(|m, s, d| data::round_trip_v2(m, s, d, 4096, 4096, true, Some(3))),
        ));
        // A stopped device does not change.
        parts.push(Part::new(
            format!("{}/data/quiescence", self.label()),
            Box::new(|m, s, _| quiescence::run(m, s)),
        ));
        // Pre-copy accounting and the PRECOPY_INFOv2 opt-in, where they apply.
        if !precopy::plan(self).is_empty() {
            parts.push(Part::new(
                format!("{}/data/pre-copy", self.label()),
                Box::new(|m, s, _| precopy::run(m, s)),
            ));
        }
        parts
    }

    fn fault_parts(&self) -> Vec<Part<'static, Self>> {
        let l = self.label();
        vec![
            Part::new(
                format!("{l}/faults/failed-set"),
                Box::new(|m, s, _| faults::failed_arcs_v2(m, s)),
            ),
            Part::new(format!("{l}/faults/bad-stream"), Box::new(faults::bad_streams_v2)),
            Part::new(
                format!("{l}/faults/dead-fd"),
                Box::new(|m, s, _| faults::dead_fds_v2(m, s)),
            ),
            Part::new(
                format!("{l}/faults/feature"),
                Box::new(|m, s, _| features::run(m, s)),
            ),
            Part::new(format!("{l}/sweep"), Box::new(sweep::fail_nth_v2)),
        ]
    }

    fn concurrency_parts(&self, opts: &Options) -> Vec<Part<'static, Self>> {
        concurrency::SCENARIOS
            .iter()
            .map(|&scenario| {
                let settings = opts.concurrency.clone();
                Part::new(
                    concurrency::name(self, scenario),
                    Box::new(move |m, s, d| concurrency::run(m, s, d, scenario, &settings)),
                )
            })
            .collect()
    }
}

impl ProtocolSuites for vfio_mig_model::v1::Region {
    fn data_parts(&self, _opts: &Options) -> Vec<Part<'static, Self>> {
        vec![
            Part::new(
                "v1/data/round-trip/stop-copy".into(),
                Box::new(|m, s, d| data::round_trip_v1(m, s, d, false)),
            ),
            Part::new(
                "v1/data/round-trip/pre-copy".into(),
                Box::new(|m, s, d| data::round_trip_v1(m, s, d, true)),
            ),
        ]
    }

    fn fault_parts(&self) -> Vec<Part<'static, Self>> {
        vec![
            Part::new(
                "v1/faults/failed-write".into(),
                Box::new(|m, s, _| faults::failed_arcs_v1(m, s)),
            ),
            Part::new(
                "v1/faults/bad-stream".into(),
                Box::new(|m, _, d| faults::bad_streams_v1(m, d)),
            ),
            Part::new(
                "v1/faults/failed-read".into(),
                Box::new(|m, s, _| faults::failed_read_v1(m, s)),
            ),
        ]
    }

    fn concurrency_parts(&self, _opts: &Options) -> Vec<Part<'static, Self>> {
        vec![Part::new(
            "v1/concurrency".into(),
            Box::new(|_, _, _| {
                vec![Verdict::skip(
                    SuiteId::Concurrency,
                    "v1/concurrency",
                    &[],
                    "the concurrency scenarios race the calls of the v2 interface; the v1 region has none of its data fds or its reset deferral",
                )]
            }),
        )]
    }
}

/// The parts suite `suite` runs, by name.
pub fn plan_of<T: ProtocolSuites>(model: &T, opts: &Options, suite: SuiteId) -> Vec<String> {
    match suite {
        SuiteId::Arcs => arcs::plan(model),
        SuiteId::Sequences => vec![sequences::name(model, &opts.sequences)],
        SuiteId::Explore => vec![format!("{}/explore", model.label())],
        SuiteId::Data => model.data_parts(opts).into_iter().map(|p| p.name).collect(),
        SuiteId::Faults => model.fault_parts().into_iter().map(|p| p.name).collect(),
        SuiteId::Concurrency => model
            .concurrency_parts(opts)
            .into_iter()
            .map(|p| p.name)
            .collect(),
        SuiteId::Setup | SuiteId::Sweep | SuiteId::Wire => Vec::new(),
    }
}

/// Runs one suite against an opened pair, judged by `model`.
pub fn run_suite<T: ProtocolSuites>(
    model: &T,
    pair: &mut Pair<T>,
    opts: &Options,
    suite: SuiteId,
) -> Vec<Verdict> {
    let (src, dst) = (&mut pair.src, &mut pair.dst);
    match suite {
        SuiteId::Arcs => arcs::run(model, src),
        SuiteId::Sequences => sequences::run(model, src, &opts.sequences),
        SuiteId::Explore => explore::run(model, src, opts.depth, opts.max_failures).0,
        SuiteId::Data => until_halted(model, src, dst, model.data_parts(opts)),
        SuiteId::Faults => until_halted(model, src, dst, model.fault_parts()),
        SuiteId::Concurrency => until_halted(model, src, dst, model.concurrency_parts(opts)),
        SuiteId::Setup | SuiteId::Sweep | SuiteId::Wire => Vec::new(),
    }
}

/// Runs `suites` against the devices `factory` opens, judged by the model of
/// the described device under `profile`; stops after a verdict that halts.
pub fn run_suites<T: ProtocolSuites>(
    factory: &dyn DeviceFactory<T>,
    profile: Profile,
    opts: &Options,
    suites: &[SuiteId],
) -> Vec<Verdict> {
    let mut pair = match open_pair(factory, opts.timeout) {
        Ok(p) => p,
        Err(v) => return vec![*v],
    };
    let model = T::model(pair.src.describe(), profile);
    let mut out = Vec::new();
    for &suite in suites {
        out.extend(run_suite(&model, &mut pair, opts, suite));
        if out.iter().any(|v| v.halts) {
            break;
        }
    }
    out
}

/// Why a run ended before its plan was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// Parts of the plan done, the one that stopped the run included.
    pub after: usize,
    /// Parts in the plan.
    pub of: usize,
    /// The check that stopped it.
    pub check: String,
    /// Why.
    pub cause: String,
}

/// What a whole run produced.
#[derive(Debug)]
pub struct Run {
    /// What the source device said about itself, when it could be opened.
    pub device: Option<vfio_mig_device::Description>,
    /// The plan: the name of every part the run was to run, in order.
    pub plan: Vec<String>,
    /// Every check's verdict, in run order.
    pub verdicts: Vec<Verdict>,
    /// Set when the run did not complete its plan.
    pub stopped: Option<Stopped>,
}

impl Run {
    /// Checks where the plan was not finished: the part of the halting
    /// verdict, and how many parts were done up to it.
    fn conclude(
        plan: Vec<String>,
        verdicts: Vec<Verdict>,
        device: Option<vfio_mig_device::Description>,
    ) -> Self {
        let stopped = verdicts.iter().find(|v| v.halts).map(|v| {
            let at = plan.iter().position(|p| belongs(&v.name, p));
            Stopped {
                after: at.map_or(0, |i| i + 1),
                of: plan.len(),
                check: v.name.clone(),
                cause: v.detail.clone(),
            }
        });
        Run {
            device,
            plan,
            verdicts,
            stopped,
        }
    }
}

/// Runs every suite against the devices `factory` opens (each instance
/// opened once for the whole run), judged by the model of the described
/// device under `profile`; calls `progress` before each suite and stops
/// after a verdict that halts.
pub fn run_all<T: ProtocolSuites>(
    factory: &dyn DeviceFactory<T>,
    profile: Profile,
    opts: &Options,
    progress: &mut dyn FnMut(SuiteId),
) -> Run {
    let mut pair = match open_pair(factory, opts.timeout) {
        Ok(p) => p,
        Err(v) => return Run::conclude(Vec::new(), vec![*v], None),
    };
    let model = T::model(pair.src.describe(), profile);
    let plan: Vec<String> = SuiteId::RUN
        .iter()
        .flat_map(|s| plan_of(&model, opts, *s))
        .collect();
    let mut verdicts = Vec::new();
    for suite in SuiteId::RUN {
        progress(suite);
        verdicts.extend(run_suite(&model, &mut pair, opts, suite));
        if verdicts.iter().any(|v| v.halts) {
            break;
        }
    }
    Run::conclude(plan, verdicts, Some(pair.src.describe().clone()))
}
