//! `vfio-mig diff`: the same operation sequences on two devices (two driver
//! versions, two transports, the mock and a mutant), and where they differ.

use super::run::{AdapterKind, DEFAULT_MOCK_FLAGS};
use crate::{limits, progress};
use std::process::ExitCode;
use vfio_mig_engine::differential::{compare, sequences, Class, Table};
use vfio_mig_engine::handle::{timeout_from_env, Handle};
use vfio_mig_engine::target::Target;
use vfio_mig_mock::{MockConfig, MockV2, Mutant};
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::{Profile, ProtocolName};

/// Options of `diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The adapter of both devices.
    #[arg(long, value_enum, default_value = "mock")]
    pub adapter: AdapterKind,
    /// vfio, vfio-user: the first device (defaults to the environment).
    #[arg(long)]
    pub device: Option<String>,
    /// vfio, vfio-user: the second device, compared with the first.
    #[arg(long)]
    pub device2: Option<String>,
    /// Mock: migration flags as bits (1, 3, 5 or 7; default 7).
    #[arg(long)]
    pub flags: Option<u64>,
    /// Mock: the second device runs this deliberately broken variant.
    #[arg(long)]
    pub mutant: Option<String>,
    /// Sequences to run (at least 1; --sequences times --len at most 1000000).
    #[arg(long, default_value_t = 64)]
    pub sequences: usize,
    /// Operations per sequence (at least 1).
    #[arg(long, default_value_t = 12)]
    pub len: usize,
    /// Seed of the sequences.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Refuses, before anything runs, counts out of their bounds (see
/// [`limits::diff_steps`]) and options that do not apply to the adapter.
pub fn check_args(args: &DiffArgs) -> Result<(), String> {
    limits::diff_steps(args.sequences, args.len)?;
    super::run::refuse_inapplicable(
        args.adapter,
        [&args.device, &args.device2],
        [
            ("--flags", args.flags.map(|f| f.to_string())),
            ("--mutant", args.mutant.clone()),
        ],
    )
}

/// Sequences compared per step of the progress bar.
const BATCH: usize = 64;

type Devices = (
    Box<dyn vfio_mig_device::Device<Fsm>>,
    Box<dyn vfio_mig_device::Device<Fsm>>,
);

fn devices(args: &DiffArgs) -> Result<Devices, String> {
    match args.adapter {
        AdapterKind::Mock => {
            let flags = MigrationFlags::new(args.flags.unwrap_or(DEFAULT_MOCK_FLAGS))
                .map_err(|e| format!("--flags: {e}"))?;
            let config = MockConfig::v2(flags);
            let mut broken = config.clone();
            if let Some(name) = &args.mutant {
                broken.mutant = Some(
                    Mutant::named(name)
                        .filter(|m| m.protocol() == ProtocolName::V2)
                        .ok_or_else(|| format!("--mutant: no v2 mutant {name:?} (see `vfio-mig mutants`)"))?,
                );
            }
            Ok((Box::new(MockV2::new(config, 0)), Box::new(MockV2::new(broken, 0))))
        }
        #[cfg(feature = "adapter-vfio")]
        AdapterKind::Vfio => pair(vfio_mig_adapters::VFIO, args),
        #[cfg(feature = "adapter-vfio-user")]
        AdapterKind::VfioUser => pair(vfio_mig_adapters::VFIO_USER, args),
        #[allow(unreachable_patterns)]
        _ => Err("this build has no such adapter: rebuild with its feature".to_owned()),
    }
}

#[cfg(any(feature = "adapter-vfio", feature = "adapter-vfio-user"))]
fn pair(kind: vfio_mig_adapters::Kind, args: &DiffArgs) -> Result<Devices, String> {
    use vfio_mig_device::DeviceFactory;
    let f = vfio_mig_adapters::Factory::with_devices(kind, args.device.clone(), args.device2.clone());
    let open = |i| f.open(i).map_err(|e| vfio_mig_engine::suites::error_chain(&e));
    Ok((open(0)?, open(1)?))
}

/// `vfio-mig diff`.
pub fn exec(args: &DiffArgs) -> Result<ExitCode, String> {
    check_args(args)?;
    let timeout = timeout_from_env().map_err(|e| format!("VFIO_MIG_TIMEOUT_MS: {e}"))?;
    let (a, b) = devices(args)?;
    // In batches, so that a terminal shows how far the comparison got.
    let bar = progress::Bar::new(args.sequences.div_ceil(BATCH) as u64, "batches");
    bar.label(&format!("{BATCH} sequences each"));
    let (a, b) = (
        progress::counted(a, bar.meter()),
        progress::counted(b, bar.meter()),
    );
    let chain = |e: vfio_mig_device::DeviceError| vfio_mig_engine::suites::error_chain(&e);
    let mut a = Handle::new(a, timeout).map_err(chain)?;
    let mut b = Handle::new(b, timeout).map_err(chain)?;
    let model = Fsm::model(a.describe(), Profile::defaults(ProtocolName::V2));
    let seqs = sequences(&model, args.sequences, args.len, args.seed);
    let mut table = Table::default();
    for (i, batch) in seqs.chunks(BATCH).enumerate() {
        let part = compare(&model, &mut a, &mut b, batch).map_err(|e| e.to_string())?;
        table.steps += part.steps;
        table
            .differences
            .extend(part.differences.into_iter().map(|mut d| {
                d.sequence += i * BATCH;
                d
            }));
        bar.inc();
    }
    drop(bar);
    let first = a.describe().name.clone();
    let second = match (&args.mutant, b.describe().name.clone()) {
        (Some(m), _) if args.adapter == AdapterKind::Mock => format!("mock ({m})"),
        (_, n) if n == first => format!("{n} (second)"),
        (_, n) => n,
    };
    print!("{}", vfio_mig_report::differences(&table, &first, &second));
    let real = table.differences.iter().any(|d| d.class != Class::Equivalent);
    Ok(ExitCode::from(u8::from(real)))
}
