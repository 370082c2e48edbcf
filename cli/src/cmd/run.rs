//! `vfio-mig run`: every suite against a device, then the reports.

use crate::outputs::{self, Unwritten, REPORT_FILES, REPRODUCERS};
use crate::{limits, progress};
use clap::ValueEnum;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
#[cfg(any(feature = "adapter-vfio", feature = "adapter-vfio-user"))]
use vfio_mig_device::Description;
use vfio_mig_device::Transport;
use vfio_mig_engine::suites::{self, Options, Run};
use vfio_mig_engine::target::not_applicable;
use vfio_mig_engine::verdict::{SuiteId, Verdict};
use vfio_mig_mock::{MockConfig, MockFactory, Mutant};
use vfio_mig_model::v1::Region;
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::{Profile, ProtocolName, Uapi};
use vfio_mig_report::{self as report, Report};
use vfio_mig_spec::Catalogue;

/// Which adapter drives the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdapterKind {
    /// The built-in mock device.
    Mock,
    /// A real VFIO device fd (needs `--features adapter-vfio`).
    Vfio,
    /// A vfio-user server (needs `--features adapter-vfio-user`).
    VfioUser,
}

/// Which protocol to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    /// The v1 migration region.
    V1,
    /// The v2 state machine.
    V2,
}

impl AdapterKind {
    /// The name `--adapter` takes.
    pub fn name(self) -> &'static str {
        match self {
            AdapterKind::Mock => "mock",
            AdapterKind::Vfio => "vfio",
            AdapterKind::VfioUser => "vfio-user",
        }
    }
}

/// What `run` prints on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A summary for people.
    Human,
    /// KTAP version 1 (the summary then goes to standard error).
    Ktap,
}

impl ProtocolArg {
    /// The catalogue's name for it.
    pub fn name(self) -> ProtocolName {
        match self {
            ProtocolArg::V1 => ProtocolName::V1,
            ProtocolArg::V2 => ProtocolName::V2,
        }
    }
}

/// Options of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The adapter.
    #[arg(long, value_enum, default_value = "mock")]
    pub adapter: AdapterKind,
    /// The protocol (the mock speaks both; real devices speak v2).
    #[arg(long, value_enum, default_value = "v2")]
    pub protocol: ProtocolArg,
    /// vfio: the source device (mdev UUID or /dev/vfio/devices/vfioN);
    /// vfio-user: the source server's socket. Defaults to the environment.
    #[arg(long)]
    pub device: Option<String>,
    /// The destination instance for round trips, like --device.
    #[arg(long)]
    pub device2: Option<String>,
    /// vfio-user: a shell command that starts one server per device
    /// instance, with `{socket}` where the socket it must listen on goes
    /// and `{instance}` for 0 or 1 (`--server-cmd 'my-server --socket
    /// {socket}'`); instead of --device and --device2. The servers are
    /// killed when the run ends.
    #[arg(long, value_name = "CMD")]
    pub server_cmd: Option<String>,
    /// Mock: migration flags as bits (1, 3, 5 or 7; default 7).
    #[arg(long)]
    pub flags: Option<u64>,
    /// Mock: run one of the deliberately broken variants (see `vfio-mig mutants`).
    #[arg(long)]
    pub mutant: Option<String>,
    /// Mock: bytes of device state (default 256, at most 1048576).
    #[arg(long, value_name = "BYTES")]
    pub state_len: Option<usize>,
    /// Take a decision of the catalogue otherwise than by default, as
    /// ID=OPTION (repeatable; see `vfio-mig spec`), e.g. DEC-013=enomsg-or-zero.
    #[arg(long = "decide", value_name = "ID=OPTION")]
    pub decide: Vec<String>,
    /// Exploration depth (at most 32).
    #[arg(long, default_value_t = 4)]
    pub depth: usize,
    /// Random sequences (at most 100000).
    #[arg(long, default_value_t = 256)]
    pub cases: u32,
    /// Seed of the random sequences.
    #[arg(long, default_value_t = 0x5eed)]
    pub seed: u64,
    /// The deadline of every device call, in milliseconds (default:
    /// `VFIO_MIG_TIMEOUT_MS`, else 10000).
    #[arg(long, value_name = "MS")]
    pub timeout: Option<String>,
    /// Where report.md, report.json, junit.xml and report.ktap are written.
    #[arg(long, default_value = "target/vfio-mig-report")]
    pub report_dir: PathBuf,
    /// An earlier report.json: a requirement that passed there and does not now fails the run.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// A YAML list of known deviations (`- requirement: ID` / `reason: ...`).
    #[arg(long)]
    pub deviations: Option<PathBuf>,
    /// Leave timings out of the reports (for committed reference reports).
    #[arg(long)]
    pub no_timings: bool,
    /// Also write every check's operations in the JSON trace format to
    /// `DIR/<check>.json` (for `vfio-mig check-trace`).
    #[arg(long, value_name = "DIR")]
    pub traces: Option<PathBuf>,
    /// What goes to standard output: the summary, or KTAP for kernel test
    /// systems (the summary then goes to standard error).
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// The mock's flags when `--flags` is not given.
pub const DEFAULT_MOCK_FLAGS: u64 = 7;

/// Refuses, before anything runs, a number out of its bounds (see
/// [`limits`]) and an option that does not apply to the adapter or
/// protocol chosen.
pub fn check_args(args: &RunArgs) -> Result<(), String> {
    limits::depth(args.depth)?;
    limits::cases(args.cases)?;
    if let Some(len) = args.state_len {
        limits::state_len(len)?;
    }
    let adapter = args.adapter.name();
    if let (Some(cmd), false) = (&args.server_cmd, args.adapter == AdapterKind::VfioUser) {
        return Err(format!(
            "--server-cmd `{cmd}` starts vfio-user servers: it needs --adapter vfio-user"
        ));
    }
    if args.adapter != AdapterKind::Mock && args.protocol == ProtocolArg::V1 {
        return Err(format!("--protocol v1: the {adapter} adapter speaks v2 only"));
    }
    refuse_inapplicable(
        args.adapter,
        [&args.device, &args.device2],
        [
            ("--flags", args.flags.map(|f| f.to_string())),
            ("--mutant", args.mutant.clone()),
            ("--state-len", args.state_len.map(|l| l.to_string())),
        ],
    )?;
    if let (Some(dir), ProtocolArg::V1) = (&args.traces, args.protocol) {
        return Err(format!(
            "--traces {}: traces are written in the v2 trace format; a v1 run has none",
            dir.display()
        ));
    }
    Ok(())
}

/// Refuses the options that do not apply to `adapter`: devices named for
/// the mock (`devices`: --device, --device2), or the mock's own settings
/// (`mock_only`, each with its value if given) for a real device.
pub fn refuse_inapplicable<const N: usize>(
    adapter: AdapterKind,
    devices: [&Option<String>; 2],
    mock_only: [(&str, Option<String>); N],
) -> Result<(), String> {
    let name = adapter.name();
    if adapter == AdapterKind::Mock {
        for (option, value) in ["--device", "--device2"].into_iter().zip(devices) {
            if let Some(v) = value {
                return Err(format!(
                    "{option} {v}: the mock adapter has no device to name (pass --adapter vfio or vfio-user)"
                ));
            }
        }
    } else {
        for (option, value) in mock_only {
            if let Some(v) = value {
                return Err(format!(
                    "{option} {v}: applies to the mock adapter only; the {name} adapter's devices have their own"
                ));
            }
        }
    }
    Ok(())
}

/// What one run checked: the device's name, flags and transport, and the
/// verdicts.
pub struct Outcome {
    /// The device's name for the report.
    pub device: String,
    /// v2 flags.
    pub flags: Option<MigrationFlags>,
    /// How it was reached.
    pub transport: Transport,
    /// Whether it offers MIG_DATA_SIZE.
    pub data_size: bool,
    /// The uAPI revision it speaks.
    pub uapi: Uapi,
    /// Why the run stopped before its plan was done, if it did.
    pub stopped: Option<vfio_mig_report::StopInfo>,
    /// Every check.
    pub verdicts: Vec<Verdict>,
}

/// The run's options from the arguments.
pub fn options(args: &RunArgs) -> Result<Options, String> {
    let mut opts = Options::from_env().map_err(|e| format!("VFIO_MIG_TIMEOUT_MS: {e}"))?;
    if let Some(ms) = &args.timeout {
        opts.timeout =
            vfio_mig_engine::handle::parse_timeout_ms(ms).map_err(|e| format!("--timeout: {e}"))?;
    }
    opts.depth = args.depth;
    opts.sequences.cases = args.cases;
    opts.sequences.seed = args.seed;
    Ok(opts)
}

/// The mock's configuration from the arguments.
pub fn mock_config(args: &RunArgs) -> Result<MockConfig, String> {
    let kind = args.protocol.name();
    let flags =
        MigrationFlags::new(args.flags.unwrap_or(DEFAULT_MOCK_FLAGS)).map_err(|e| format!("--flags: {e}"))?;
    let mut config = match kind {
        ProtocolName::V1 => MockConfig::v1(),
        ProtocolName::V2 => MockConfig::v2(flags),
    };
    if let Some(len) = args.state_len {
        limits::state_len(len)?;
        config.state_len = len;
    }
    if let Some(name) = &args.mutant {
        let m = Mutant::named(name)
            .ok_or_else(|| format!("--mutant: no mutant {name:?} (see `vfio-mig mutants`)"))?;
        if m.protocol() != kind {
            return Err(format!(
                "--mutant {name} is a {} mutant; pass --protocol accordingly",
                m.protocol()
            ));
        }
        config.mutant = Some(m);
    }
    Ok(config)
}

/// Every suite against the mock configured by `config`, judged under
/// `profile`, with progress on a terminal when `show`.
pub fn mock_run(config: MockConfig, profile: Profile, opts: &Options, show: bool) -> Run {
    let factory = MockFactory { config };
    match (profile.protocol(), show) {
        (ProtocolName::V2, true) => {
            progress::over_suites::<Fsm, _>(&factory, |f, p| suites::run_all::<Fsm>(f, profile, opts, p))
        }
        (ProtocolName::V1, true) => progress::over_suites::<Region, _>(&factory, |f, p| {
            suites::run_all::<Region>(f, profile, opts, p)
        }),
        (ProtocolName::V2, false) => suites::run_all::<Fsm>(&factory, profile, opts, &mut |_| {}),
        (ProtocolName::V1, false) => suites::run_all::<Region>(&factory, profile, opts, &mut |_| {}),
    }
}

/// The report of the default mock run: v2, all flags, default options.
/// This is what `reports/mock/` holds.
pub fn reference_mock_report(catalogue: &Catalogue) -> Report {
    let flags = MigrationFlags::accepted()[3];
    let run = mock_run(
        MockConfig::v2(flags),
        Profile::defaults(ProtocolName::V2),
        &Options::default(),
        false,
    );
    Report::build(
        catalogue,
        &Profile::defaults(ProtocolName::V2),
        "mock",
        Some(flags),
        MockConfig::v2(flags).uapi,
        &run.verdicts,
    )
    .with_not_applicable(not_applicable(Transport::KernelFd))
    .with_stop(run.stopped.as_ref().map(Into::into))
}

#[cfg(any(feature = "adapter-vfio", feature = "adapter-vfio-user"))]
impl Outcome {
    /// A real device's run: named `adapter: <device>` from its description,
    /// or by the adapter alone when it never described itself.
    fn of_device(
        adapter: &str,
        desc: &Option<Description>,
        stopped: Option<vfio_mig_report::StopInfo>,
        verdicts: Vec<Verdict>,
    ) -> Self {
        let (device, flags, transport, data_size, uapi) = match desc {
            Some(d) => (
                format!("{adapter}: {}", d.name),
                d.flags,
                d.transport,
                d.data_size,
                d.uapi,
            ),
            None => (
                adapter.to_owned(),
                None,
                Transport::KernelFd,
                false,
                Uapi::default(),
            ),
        };
        Outcome {
            device,
            flags,
            transport,
            data_size,
            uapi,
            stopped,
            verdicts,
        }
    }
}

/// Every suite against a real adapter's devices.
#[cfg(feature = "adapter-vfio")]
fn run_real(
    kind: vfio_mig_adapters::Kind,
    args: &RunArgs,
    opts: &Options,
    profile: Profile,
) -> Result<Outcome, String> {
    if args.protocol != ProtocolArg::V2 {
        return Err(format!("--protocol v1: the {} adapter speaks v2 only", kind.name));
    }
    let factory = vfio_mig_adapters::Factory::with_devices(kind, args.device.clone(), args.device2.clone());
    let run = progress::over_suites::<Fsm, _>(&factory, |f, p| suites::run_all::<Fsm>(f, profile, opts, p));
    let stopped = run.stopped.as_ref().map(Into::into);
    Ok(Outcome::of_device(kind.name, &run.device, stopped, run.verdicts))
}

#[cfg(feature = "adapter-vfio")]
fn run_adapter_vfio(args: &RunArgs, opts: &Options, profile: Profile) -> Result<Outcome, String> {
    run_real(vfio_mig_adapters::VFIO, args, opts, profile)
}

#[cfg(not(feature = "adapter-vfio"))]
fn run_adapter_vfio(_: &RunArgs, _: &Options, _: Profile) -> Result<Outcome, String> {
    Err("this build has no VFIO adapter: rebuild with --features adapter-vfio".to_owned())
}

/// Every suite against vfio-user servers, each instance on one connection
/// for the whole run; then, on the same connections, what the adapter saw
/// (refused resets, stalls), the wire checks and the malformed-message
/// suite.
#[cfg(feature = "adapter-vfio-user")]
fn run_adapter_vfio_user(args: &RunArgs, opts: &Options, profile: Profile) -> Result<Outcome, String> {
    use vfio_mig_adapters::probe::Probe;
    use vfio_mig_adapters::vfio_user::{Servers, VfioUserFactory};
    if args.protocol != ProtocolArg::V2 {
        return Err("--protocol v1: the vfio-user adapter speaks v2 only".to_owned());
    }
    let servers = match &args.server_cmd {
        Some(cmd) if args.device.is_some() || args.device2.is_some() => {
            return Err(format!(
                "--server-cmd `{cmd}` starts the servers: give it without --device and --device2"
            ))
        }
        Some(cmd) if !cmd.contains("{socket}") => {
            return Err(format!(
                "--server-cmd `{cmd}`: name {{socket}}, where the server must listen"
            ))
        }
        Some(cmd) => Servers::Command(cmd.clone()),
        None => {
            let [a, b] = vfio_mig_adapters::Named::from_env(vfio_mig_adapters::VFIO_USER.vars).devices;
            Servers::Sockets([args.device.clone().or(a), args.device2.clone().or(b)])
        }
    };
    let probe = Probe::from_env().map_err(|e| e.to_string())?.unwrap_or_default();
    let factory = VfioUserFactory::new(servers, opts.timeout, probe);
    let run = progress::over_suites::<Fsm, _>(&factory, |f, p| suites::run_all::<Fsm>(f, profile, opts, p));
    let stopped = run.stopped.as_ref().map(Into::into);
    let mut verdicts = run.verdicts;
    let setup = verdicts.iter().any(|v| v.suite == SuiteId::Setup);
    if !setup {
        verdicts.extend(factory.post_run(verdicts.iter().any(|v| v.halts)));
    }
    factory.shutdown();
    Ok(Outcome::of_device(
        vfio_mig_adapters::VFIO_USER.name,
        &run.device,
        stopped,
        verdicts,
    ))
}

#[cfg(not(feature = "adapter-vfio-user"))]
fn run_adapter_vfio_user(_: &RunArgs, _: &Options, _: Profile) -> Result<Outcome, String> {
    Err("this build has no vfio-user adapter: rebuild with --features adapter-vfio-user".to_owned())
}

/// Runs the suites the arguments ask for, judged under `profile`.
pub fn checks(args: &RunArgs, opts: &Options, profile: &Profile) -> Result<Outcome, String> {
    let outcome = match args.adapter {
        AdapterKind::Mock => {
            let config = mock_config(args)?;
            let name = match &args.mutant {
                Some(m) => format!("mock ({m})"),
                None => "mock".to_owned(),
            };
            let v2 = profile.protocol() == ProtocolName::V2;
            let (flags, data_size, uapi) = (config.flags, config.data_size, config.uapi);
            let run = mock_run(config, profile.clone(), opts, true);
            Outcome {
                device: name,
                flags: v2.then_some(flags),
                transport: Transport::KernelFd,
                data_size,
                uapi,
                stopped: run.stopped.as_ref().map(Into::into),
                verdicts: run.verdicts,
            }
        }
        AdapterKind::Vfio => run_adapter_vfio(args, opts, profile.clone())?,
        AdapterKind::VfioUser => run_adapter_vfio_user(args, opts, profile.clone())?,
    };
    Ok(outcome)
}

/// The exit code of a run whose checks all passed.
pub const EXIT_PASS: u8 = 0;
/// The exit code of a run where a MUST failed (or a known deviation went
/// stale, or the baseline regressed).
pub const EXIT_FAIL: u8 = 1;
/// The exit code of a usage or input error: nothing was checked.
pub const EXIT_ERROR: u8 = 2;
/// The exit code of a run that stopped before completing its plan (the
/// device could not be opened or restored, or stopped answering).
pub const EXIT_STOPPED: u8 = 3;

/// `vfio-mig run`: every argument and output is checked before anything
/// runs; once the checks ran, their verdicts are printed before any file is
/// written, and a file that cannot be written is named without losing the
/// others or the exit code of the verdicts.
pub fn exec(catalogue: &Catalogue, args: &RunArgs) -> Result<ExitCode, String> {
    check_args(args)?;
    let opts = options(args)?;
    let profile = crate::decide::profile(catalogue, args.protocol.name(), &args.decide)?;
    if args.adapter == AdapterKind::Mock {
        mock_config(args)?;
    }
    let baseline = match &args.baseline {
        Some(path) => {
            let text = limits::read_text("--baseline", path, limits::MAX_BASELINE_FILE)?;
            Some(Report::from_json(&text).map_err(|e| format!("--baseline {}: {e}", path.display()))?)
        }
        None => None,
    };
    let deviations = match &args.deviations {
        Some(path) => report::load_deviations(path, catalogue).map_err(|e| format!("--deviations {e}"))?,
        None => Vec::new(),
    };
    outputs::prepare("--report-dir", &args.report_dir, &REPORT_FILES, &[REPRODUCERS])?;
    if let Some(dir) = &args.traces {
        outputs::prepare("--traces", dir, &[], &[])?;
    }
    let outcome = checks(args, &opts, &profile)?;
    if let Some(setup) = outcome
        .verdicts
        .iter()
        .find(|v| v.suite == SuiteId::Setup && !v.halts)
    {
        // No device named: a usage error, nothing was checked.
        return Err(format!(
            "{}; or name it with --device and --device2",
            setup.detail
        ));
    }
    let mut report = Report::build(
        catalogue,
        &profile,
        &outcome.device,
        outcome.flags,
        outcome.uapi,
        &outcome.verdicts,
    )
    .with_not_applicable(not_applicable(outcome.transport))
    .with_stop(outcome.stopped.clone());
    if args.no_timings {
        report = report.without_timings();
    }
    report.apply_deviations(&deviations);
    let regressions = baseline
        .as_ref()
        .map(|base| report::regressions(base, &report))
        .unwrap_or_default();
    // The verdicts first, before any file is written.
    match args.format {
        Format::Human => {
            print!("{}", report.summary_text());
            if !regressions.is_empty() {
                println!("regressions against the baseline:");
                for r in &regressions {
                    println!("  {r}");
                }
            }
        }
        Format::Ktap => {
            print!("{}", report::ktap(&report));
            for r in &regressions {
                println!("# regression against the baseline: {r}");
            }
            eprint!("{}", report.summary_text());
        }
    }
    let mut unwritten = outputs::write_reports(&report, &args.report_dir);
    if unwritten.is_empty() && args.format == Format::Human {
        println!("reports written to {}", args.report_dir.display());
    }
    if let Some(dir) = &args.traces {
        unwritten.0.extend(write_traces(dir, &outcome).0);
    }
    let mut code = if report.stopped.is_some() {
        EXIT_STOPPED
    } else if report.failed() || !regressions.is_empty() {
        EXIT_FAIL
    } else {
        EXIT_PASS
    };
    if !unwritten.is_empty() {
        for line in unwritten.lines() {
            eprintln!("error: {line}");
        }
        // The verdict's exit code comes first; a clean run whose reports
        // could not all be written is still an error.
        if code == EXIT_PASS {
            code = EXIT_ERROR;
        }
        eprintln!(
            "error: {} file(s) not written; the verdicts above are complete (exit code {code})",
            unwritten.0.len()
        );
    }
    Ok(ExitCode::from(code))
}

/// Writes each check's JSON trace of each device instance it used into
/// `dir`, every one that can be written.
fn write_traces(dir: &Path, outcome: &Outcome) -> Unwritten {
    let Some(flags) = outcome.flags else {
        return Unwritten::default();
    };
    // One file per device instance a check used; a check that closed and
    // opened a device again is left out (a trace is one open of a device).
    let files = outcome
        .verdicts
        .iter()
        .filter(|v| !v.trace.reopens())
        .flat_map(|v| {
            [0u8, 1].into_iter().filter_map(move |instance| {
                let pairs = v.trace.v2_pairs_on(instance);
                (!pairs.is_empty()).then(|| {
                    (
                        report::trace_file(&v.name, instance),
                        vfio_mig_trace::write(flags, outcome.data_size, outcome.uapi, &pairs),
                    )
                })
            })
        });
    outputs::write_files(dir, files)
}
