//! The conformance suites, each generic over the protocol and the adapter.
//!
//! Every suite takes the model of the device and the device itself, restores
//! the device before each check, and returns one [`Verdict`] per check. A
//! device that cannot be restored stops the suite: the last verdict says so.

pub mod arcs;
pub mod data;
pub mod explore;
pub mod faults;
pub mod sequences;
pub mod sweep;

use crate::check::{Checker, Failure, Status};
use crate::device::{Device, DeviceError};
use crate::target::{FaultBelief, Setup};
use crate::verdict::Verdict;

/// Restores the device, or turns the error into the verdict that ends the suite.
pub(crate) fn restore<P: vfio_mig_model::Protocol>(
    suite: &'static str,
    name: &str,
    device: &mut dyn Device<P>,
) -> Result<(), Box<Verdict>> {
    device.restore().map_err(|e| {
        let status = match e {
            DeviceError::NotConfigured(_) => Status::Skip,
            DeviceError::Unusable(_) => Status::Fail,
        };
        let mut v = Verdict::skip(suite, name, &[], format!("{e}; no later check was run"));
        v.status = status;
        v.halts = true;
        Box::new(v)
    })
}

/// Runs the setup steps of a check. `Ok(false)`: a fault could not be
/// injected, the check is skipped.
pub(crate) fn run_setup<T: FaultBelief>(
    c: &mut Checker<'_, T>,
    setup: &[Setup<T::Op>],
) -> Result<bool, Failure> {
    for step in setup {
        match step {
            Setup::Op(op) => {
                c.step(op.clone())?;
            }
            Setup::Inject(fault) => {
                if !c.inject(*fault) {
                    return Ok(false);
                }
            }
        }
    }
    Ok(true)
}

/// What a whole run does.
#[derive(Debug, Clone)]
pub struct Options {
    /// Exploration depth.
    pub depth: usize,
    /// Random sequences.
    pub sequences: sequences::Settings,
    /// (read chunk, write chunk) sizes of the round trips.
    pub chunks: Vec<(u32, u32)>,
    /// At most this many failing sequences reported per exploration.
    pub max_failures: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            depth: 4,
            sequences: sequences::Settings::default(),
            chunks: vec![(4096, 4096), (7, 1 << 20), (1 << 20, 1)],
            max_failures: 8,
        }
    }
}

/// A source and a destination instance.
type Pair<P> = (Box<dyn Device<P>>, Box<dyn Device<P>>);

/// Opens the source and destination instances, or the verdict explaining why not.
fn open_pair<P: vfio_mig_model::Protocol>(
    factory: &dyn crate::device::DeviceFactory<P>,
) -> Result<Pair<P>, Box<Verdict>> {
    let open = |i| {
        factory.open(i).map_err(|e| {
            let mut v = Verdict::skip("setup", format!("open instance {i}"), &[], e.to_string());
            if matches!(e, DeviceError::Unusable(_)) {
                v.status = Status::Fail;
            }
            Box::new(v)
        })
    };
    Ok((open(0)?, open(1)?))
}

/// The five suites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuiteId {
    /// Every request from every reachable state.
    Arcs,
    /// Random sequences, shrunk on failure.
    Sequences,
    /// Every sequence up to a depth.
    Explore,
    /// Save, resume, compare.
    Data,
    /// Failures, ERROR, bad streams, dead descriptors.
    Faults,
}

impl SuiteId {
    /// All suites in run order.
    pub const ALL: [SuiteId; 5] = [
        SuiteId::Arcs,
        SuiteId::Sequences,
        SuiteId::Explore,
        SuiteId::Data,
        SuiteId::Faults,
    ];

    /// The suite's name in check names and reports.
    pub fn name(self) -> &'static str {
        match self {
            SuiteId::Arcs => "arcs",
            SuiteId::Sequences => "sequences",
            SuiteId::Explore => "explore",
            SuiteId::Data => "data",
            SuiteId::Faults => "faults",
        }
    }
}

/// One part of a suite: the model, the source and the destination in,
/// verdicts out.
type Part<'a, P> = Box<dyn FnOnce(&P, &mut dyn Device<P>, &mut dyn Device<P>) -> Vec<Verdict> + 'a>;

/// Runs `parts` in order, stopping after the first verdict that halts the run.
fn until_halted<P: vfio_mig_model::Protocol>(
    model: &P,
    src: &mut dyn Device<P>,
    dst: &mut dyn Device<P>,
    parts: Vec<Part<'_, P>>,
) -> Vec<Verdict> {
    let mut out = Vec::new();
    for part in parts {
        out.extend(part(model, &mut *src, &mut *dst));
        if out.iter().any(|v| v.halts) {
            break;
        }
    }
    out
}

/// The protocol-specific suites: data round trips and fault cases. The
/// other three are generic over [`Target`](crate::target::Target).
pub trait ProtocolSuites: FaultBelief + Clone + 'static
where
    Self::Op: 'static,
    Self::State: 'static,
{
    /// Suite 4 for this protocol.
    fn data(&self, src: &mut dyn Device<Self>, dst: &mut dyn Device<Self>, opts: &Options) -> Vec<Verdict>;
    /// Suite 5 for this protocol.
    fn faults(&self, src: &mut dyn Device<Self>, dst: &mut dyn Device<Self>) -> Vec<Verdict>;
}

impl ProtocolSuites for vfio_mig_model::v2::Fsm {
    fn data(&self, src: &mut dyn Device<Self>, dst: &mut dyn Device<Self>, opts: &Options) -> Vec<Verdict> {
        let mut parts: Vec<Part<'_, Self>> = Vec::new();
        for &(r, w) in &opts.chunks {
            for precopy in [false, true] {
                parts.push(Box::new(move |m, s, d| {
                    data::round_trip_v2(m, s, d, r, w, precopy, None)
                }));
            }
        }
        // The device itself returns fewer bytes than asked.
        parts.push(Box::new(|m, s, d| {
            data::round_trip_v2(m, s, d, 4096, 4096, true, Some(3))
        }));
        until_halted(self, src, dst, parts)
    }

    fn faults(&self, src: &mut dyn Device<Self>, dst: &mut dyn Device<Self>) -> Vec<Verdict> {
        let parts: Vec<Part<'_, Self>> = vec![
            Box::new(|m, s, _| faults::failed_arcs_v2(m, s)),
            Box::new(faults::bad_streams_v2),
            Box::new(|m, s, _| faults::dead_fds_v2(m, s)),
            Box::new(sweep::fail_nth_v2),
        ];
        until_halted(self, src, dst, parts)
    }
}

impl ProtocolSuites for vfio_mig_model::v1::Region {
    fn data(&self, src: &mut dyn Device<Self>, dst: &mut dyn Device<Self>, _opts: &Options) -> Vec<Verdict> {
        let parts: Vec<Part<'_, Self>> = vec![
            Box::new(|m, s, d| data::round_trip_v1(m, s, d, false)),
            Box::new(|m, s, d| data::round_trip_v1(m, s, d, true)),
        ];
        until_halted(self, src, dst, parts)
    }

    fn faults(&self, src: &mut dyn Device<Self>, dst: &mut dyn Device<Self>) -> Vec<Verdict> {
        let parts: Vec<Part<'_, Self>> = vec![
            Box::new(|m, s, _| faults::failed_arcs_v1(m, s)),
            Box::new(|m, _, d| faults::bad_streams_v1(m, d)),
        ];
        until_halted(self, src, dst, parts)
    }
}

/// Runs `suites` against the devices `factory` opens, judged by the model of
/// the described device under `profile`.
pub fn run_suites<T: ProtocolSuites>(
    factory: &dyn crate::device::DeviceFactory<T>,
    profile: vfio_mig_model::Profile,
    opts: &Options,
    suites: &[SuiteId],
) -> Vec<Verdict>
where
    T::Op: 'static,
    T::State: 'static,
{
    let (mut src, mut dst) = match open_pair(factory) {
        Ok(p) => p,
        Err(v) => return vec![*v],
    };
    let model = T::model(&src.describe(), profile);
    let mut out = Vec::new();
    for suite in suites {
        match suite {
            SuiteId::Arcs => out.extend(arcs::run(&model, src.as_mut())),
            SuiteId::Sequences => out.extend(sequences::run(&model, src.as_mut(), &opts.sequences)),
            SuiteId::Explore => {
                out.extend(explore::run(&model, src.as_mut(), opts.depth, opts.max_failures).0)
            }
            SuiteId::Data => out.extend(model.data(src.as_mut(), dst.as_mut(), opts)),
            SuiteId::Faults => out.extend(model.faults(src.as_mut(), dst.as_mut())),
        }
    }
    out
}

/// Runs `suites` of the v2 protocol against the devices `factory` opens.
pub fn run_v2_suites(
    factory: &dyn crate::device::DeviceFactory<vfio_mig_model::v2::Fsm>,
    profile: vfio_mig_model::Profile,
    opts: &Options,
    suites: &[SuiteId],
) -> Vec<Verdict> {
    run_suites(factory, profile, opts, suites)
}

/// Runs `suites` of the v1 protocol against the devices `factory` opens.
pub fn run_v1_suites(
    factory: &dyn crate::device::DeviceFactory<vfio_mig_model::v1::Region>,
    profile: vfio_mig_model::Profile,
    opts: &Options,
    suites: &[SuiteId],
) -> Vec<Verdict> {
    run_suites(factory, profile, opts, suites)
}

/// Every v2 suite.
pub fn run_v2(
    factory: &dyn crate::device::DeviceFactory<vfio_mig_model::v2::Fsm>,
    profile: vfio_mig_model::Profile,
    opts: &Options,
) -> Vec<Verdict> {
    run_v2_suites(factory, profile, opts, &SuiteId::ALL)
}

/// Every v1 suite.
pub fn run_v1(
    factory: &dyn crate::device::DeviceFactory<vfio_mig_model::v1::Region>,
    profile: vfio_mig_model::Profile,
    opts: &Options,
) -> Vec<Verdict> {
    run_v1_suites(factory, profile, opts, &SuiteId::ALL)
}
