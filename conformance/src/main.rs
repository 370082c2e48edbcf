//! `vfio-mig`: the command a driver author runs.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use vfio_mig_conformance::check::Status;
use vfio_mig_conformance::mock::{MockConfig, Mutant};
use vfio_mig_conformance::report::{self, Report, ReqStatus};
use vfio_mig_conformance::runner;
use vfio_mig_conformance::suites::{Options, SuiteId};
use vfio_mig_conformance::verdict::Verdict;
use vfio_mig_model::v1::Region;
use vfio_mig_model::v2::{MigrationFlags, PathTable};
use vfio_mig_model::{Profile, ProtocolKind};
use vfio_mig_spec::{Catalogue, ProtocolName};

/// Executable specification and conformance suite for VFIO device migration.
#[derive(Parser)]
#[command(name = "vfio-mig", version)]
struct Cli {
    /// Read the catalogue from this directory instead of the built-in copy.
    #[arg(long, global = true, value_name = "DIR")]
    spec_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Which adapter drives the device.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AdapterKind {
    /// The built-in mock device.
    Mock,
    /// A real VFIO device fd (needs `--features adapter-vfio`).
    Vfio,
    /// A vfio-user server (needs `--features adapter-vfio-user`).
    VfioUser,
}

/// Which protocol to check.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProtocolArg {
    /// The v1 migration region.
    V1,
    /// The v2 state machine.
    V2,
}

/// Options of `run`.
#[derive(clap::Args)]
struct RunArgs {
    /// The adapter.
    #[arg(long, value_enum, default_value = "mock")]
    adapter: AdapterKind,
    /// The protocol (the mock speaks both; real devices speak v2).
    #[arg(long, value_enum, default_value = "v2")]
    protocol: ProtocolArg,
    /// vfio: the source device (mdev UUID or /dev/vfio/devices/vfioN);
    /// vfio-user: the source server's socket. Defaults to the environment.
    #[arg(long)]
    device: Option<String>,
    /// The destination instance for round trips, like --device.
    #[arg(long)]
    device2: Option<String>,
    /// Mock: migration flags as bits (1, 3, 5 or 7).
    #[arg(long, default_value_t = 7)]
    flags: u64,
    /// Mock: run one of the deliberately broken variants (see `vfio-mig mutants`).
    #[arg(long)]
    mutant: Option<String>,
    /// Mock: bytes of device state.
    #[arg(long, default_value_t = 256)]
    state_len: usize,
    /// Take a decision of the catalogue otherwise than by default, as
    /// ID=OPTION (repeatable; see `vfio-mig spec`), e.g. DEC-013=enomsg-or-zero.
    #[arg(long = "decide", value_name = "ID=OPTION")]
    decide: Vec<String>,
    /// Exploration depth.
    #[arg(long, default_value_t = 4)]
    depth: usize,
    /// Random sequences.
    #[arg(long, default_value_t = 256)]
    cases: u32,
    /// Seed of the random sequences.
    #[arg(long, default_value_t = 0x5eed)]
    seed: u64,
    /// Where report.md, report.json and junit.xml are written.
    #[arg(long, default_value = "target/vfio-mig-report")]
    report_dir: PathBuf,
    /// An earlier report.json: a requirement that passed there and does not now fails the run.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// A YAML list of known deviations (`- requirement: ID` / `reason: ...`).
    #[arg(long)]
    deviations: Option<PathBuf>,
    /// Leave timings out of the reports (for committed reference reports).
    #[arg(long)]
    no_timings: bool,
    /// Also write every check's operations in the JSON trace format to
    /// DIR/<check>.json (for `vfio-mig check-trace`).
    #[arg(long, value_name = "DIR")]
    traces: Option<PathBuf>,
}

/// Options of `diff`.
#[derive(clap::Args)]
struct DiffArgs {
    /// The adapter of both devices.
    #[arg(long, value_enum, default_value = "mock")]
    adapter: AdapterKind,
    /// vfio, vfio-user: the first device (defaults to the environment).
    #[arg(long)]
    device: Option<String>,
    /// vfio, vfio-user: the second device, compared with the first.
    #[arg(long)]
    device2: Option<String>,
    /// Mock: migration flags as bits.
    #[arg(long, default_value_t = 7)]
    flags: u64,
    /// Mock: the second device runs this deliberately broken variant.
    #[arg(long)]
    mutant: Option<String>,
    /// Sequences to run.
    #[arg(long, default_value_t = 64)]
    sequences: usize,
    /// Operations per sequence.
    #[arg(long, default_value_t = 12)]
    len: usize,
    /// Seed of the sequences.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Run every suite against a device and write the reports.
    Run(Box<RunArgs>),
    /// List the mock's deliberately broken variants.
    Mutants,
    /// Run the same operation sequences on two devices (two driver versions,
    /// two transports, the mock and a mutant) and print where they differ.
    Diff(Box<DiffArgs>),
    /// Check a recorded v2 trace (the JSON trace format) against the model,
    /// without any device.
    CheckTrace {
        /// The trace file.
        file: PathBuf,
        /// Take a decision otherwise than by default, as ID=OPTION (repeatable).
        #[arg(long = "decide", value_name = "ID=OPTION")]
        decide: Vec<String>,
    },
    /// Compare a kernel's migration uAPI with the model (the drift gate).
    UapiCheck {
        /// The kernel's include/uapi/linux/vfio.h.
        #[arg(long)]
        header: PathBuf,
        /// The kernel's drivers/vfio/vfio_main.c.
        #[arg(long)]
        main: PathBuf,
    },
    /// Print the catalogue summary and the derived transition tables.
    Spec {
        /// Also list every combination path in full.
        #[arg(long)]
        paths: bool,
    },
    /// Print one requirement or decision.
    Explain {
        /// A requirement ID (V2-ARC-007) or decision ID (DEC-005).
        id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let catalogue = match &cli.spec_dir {
        Some(dir) => Catalogue::load_dir(dir),
        None => Catalogue::builtin(),
    };
    let catalogue = match catalogue {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Run(args) => match run(&catalogue, &args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::Diff(args) => match diff(&args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::CheckTrace { file, decide } => match check_trace(&file, &decide) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::UapiCheck { header, main } => match uapi_check(&header, &main) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::Mutants => {
            for m in Mutant::ALL {
                let proto = match m.protocol() {
                    ProtocolKind::V1 => "v1",
                    ProtocolKind::V2 => "v2",
                };
                println!(
                    "{:<30} {proto} breaks {:<14} {}",
                    m.name(),
                    m.breaks().join(","),
                    m.description()
                );
            }
            ExitCode::SUCCESS
        }
        Command::Spec { paths } => {
            print!("{}", spec_report(&catalogue, paths));
            ExitCode::SUCCESS
        }
        Command::Explain { id } => match explain(&catalogue, &id) {
            Some(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("error: no requirement or decision {id:?} in the catalogue");
                ExitCode::from(2)
            }
        },
    }
}

fn spec_report(catalogue: &Catalogue, paths: bool) -> String {
    let mut out = String::from("# Requirement catalogue\n\n");
    out.push_str(&catalogue.summary().to_string());
    out.push_str("\n# v2: next step of every (from, to) request, derived from the direct arcs\n\n");
    for flags in MigrationFlags::accepted() {
        let table = PathTable::derive(flags);
        out.push_str("```\n");
        out.push_str(&table.grid());
        out.push_str("```\n");
        if paths {
            out.push_str("```\n");
            out.push_str(&table.path_list());
            out.push_str("```\n");
        }
    }
    out.push_str("\n# v1: device_state writes, all 64 (from, to) pairs\n\n```\n");
    let region = Region::new(Profile::defaults(ProtocolKind::V1), 4096);
    out.push_str(&region.arc_grid());
    out.push_str("```\n");
    out
}

fn explain(catalogue: &Catalogue, id: &str) -> Option<String> {
    if let Some(r) = catalogue.requirement(id) {
        let checkers: Vec<_> = r.checked_by.iter().map(|c| c.to_string()).collect();
        let mut out = format!(
            "{} [{}] {}\nsource: {}\nchecked by: {}\n",
            r.id,
            r.level,
            r.summary,
            r.source,
            checkers.join(", ")
        );
        if let Some(d) = &r.decision {
            out.push_str(&format!("shaped by decision: {d}\n"));
        }
        return Some(out);
    }
    let d = catalogue.decision(id)?;
    let mut out = format!("{}: {}\n", d.id, d.question);
    for (k, v) in &d.options {
        let mark = if *k == d.default { " (default)" } else { "" };
        out.push_str(&format!("  {k}{mark}: {v}\n"));
    }
    for (p, choice) in &d.per_protocol {
        out.push_str(&format!("  default for {p}: {choice}\n"));
    }
    out.push_str(&format!(
        "reason: {}\nhistory: {}\nsource: {}\n",
        d.reason, d.history, d.source
    ));
    Some(out)
}

/// Runs the suites one by one under a progress bar (hidden when stderr is not
/// a terminal or under CI).
fn with_progress(run: impl FnOnce(&mut dyn FnMut(SuiteId)) -> Vec<Verdict>) -> Vec<Verdict> {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;
    let bar = ProgressBar::new(SuiteId::ALL.len() as u64);
    if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} suites {msg}") {
        bar.set_style(style);
    }
    let mut started = false;
    let verdicts = run(&mut |s: SuiteId| {
        if started {
            bar.inc(1);
        }
        started = true;
        bar.set_message(s.name());
    });
    bar.finish_and_clear();
    verdicts
}

fn run(catalogue: &Catalogue, args: &RunArgs) -> Result<ExitCode, String> {
    let baseline = match &args.baseline {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("{}: cannot read the baseline: {e}", path.display()))?;
            Some(Report::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let deviations = match &args.deviations {
        Some(path) => report::load_deviations(path, catalogue)?,
        None => Vec::new(),
    };
    let mut opts = Options {
        depth: args.depth,
        ..Options::default()
    };
    opts.sequences.cases = args.cases;
    opts.sequences.seed = args.seed;
    let (protocol, kind) = match args.protocol {
        ProtocolArg::V1 => (ProtocolName::V1, ProtocolKind::V1),
        ProtocolArg::V2 => (ProtocolName::V2, ProtocolKind::V2),
    };
    let profile = decided(kind, &args.decide)?;
    let (device, flags, transport, verdicts) = match args.adapter {
        AdapterKind::Mock => {
            let flags = MigrationFlags::new(args.flags).map_err(|e| format!("--flags: {e}"))?;
            let mut config = match kind {
                ProtocolKind::V1 => MockConfig::v1(),
                ProtocolKind::V2 => MockConfig::v2(flags),
            };
            config.state_len = args.state_len;
            if let Some(name) = &args.mutant {
                let m = Mutant::ALL
                    .iter()
                    .copied()
                    .find(|m| m.name() == name)
                    .ok_or_else(|| format!("--mutant: no mutant {name:?} (see `vfio-mig mutants`)"))?;
                if m.protocol() != kind {
                    return Err(format!(
                        "--mutant {name} is a {} mutant; pass --protocol accordingly",
                        if m.protocol() == ProtocolKind::V1 {
                            "v1"
                        } else {
                            "v2"
                        }
                    ));
                }
                config.mutant = Some(m);
            }
            let name = match &args.mutant {
                Some(m) => format!("mock ({m})"),
                None => "mock".to_owned(),
            };
            let verdicts = with_progress(|p| runner::mock_run(kind, profile, config, &opts, p));
            (
                name,
                (kind == ProtocolKind::V2).then_some(flags),
                Default::default(),
                verdicts,
            )
        }
        AdapterKind::Vfio => run_adapter_vfio(args, &opts, profile)?,
        AdapterKind::VfioUser => run_adapter_vfio_user(args, &opts, profile)?,
    };
    if let Some(setup) = verdicts.iter().find(|v| v.suite == "setup") {
        let hint = if setup.status == Status::Skip {
            "; or name it with --device and --device2"
        } else {
            ""
        };
        return Err(format!("{}{hint}", setup.detail));
    }
    let mut report = Report::build(catalogue, protocol, &device, flags, &verdicts)
        .with_decisions(args.decide.clone())
        .with_not_applicable(transport.not_applicable());
    if args.no_timings {
        report = report.without_timings();
    }
    report.apply_deviations(&deviations);
    write_reports(&report, &args.report_dir)?;
    print!("{}", report.summary_text());
    println!("reports written to {}", args.report_dir.display());
    if let Some(dir) = &args.traces {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
        for v in &verdicts {
            if let Some(json) = &v.json_trace {
                let file = report::c_reproducer_file(&v.name)
                    .replace("reproducers/", "")
                    .replace(".c", ".json");
                let path = dir.join(file);
                std::fs::write(&path, json).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
            }
        }
    }
    let mut code = if report.failed() { 1 } else { 0 };
    if let Some(base) = baseline {
        let regressions = regressions(&base, &report);
        if !regressions.is_empty() {
            println!("regressions against the baseline:");
            for r in &regressions {
                println!("  {r}");
            }
            code = 1;
        }
    }
    Ok(ExitCode::from(code))
}

/// Requirements that passed in `base` and do not pass in `now`.
fn regressions(base: &Report, now: &Report) -> Vec<String> {
    base.requirements
        .iter()
        .filter(|b| b.status == ReqStatus::Pass)
        .filter_map(|b| {
            let n = now.requirements.iter().find(|r| r.id == b.id)?;
            matches!(n.status, ReqStatus::Fail | ReqStatus::Warn)
                .then(|| format!("{} [{}] was PASS, now {}", n.id, n.level, n.status.as_str()))
        })
        .collect()
}

fn write_reports(report: &Report, dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("{}: cannot create the report directory: {e}", dir.display()))?;
    for (name, text) in [
        ("report.md", report::markdown(report)),
        ("report.json", report.to_json()),
        ("junit.xml", report::junit_xml(report)),
        ("states.dot", report::dot(report).unwrap_or_default()),
    ] {
        if text.is_empty() {
            continue;
        }
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    }
    for c in &report.checks {
        if let Some(code) = &c.c_reproducer {
            let path = dir.join(report::c_reproducer_file(&c.name));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: cannot create: {e}", parent.display()))?;
            }
            std::fs::write(&path, code).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        }
    }
    Ok(())
}

type Run = (
    String,
    Option<MigrationFlags>,
    vfio_mig_conformance::device::Transport,
    Vec<Verdict>,
);

/// Every suite against a real adapter's devices.
#[cfg(any(feature = "adapter-vfio", feature = "adapter-vfio-user"))]
fn run_real(
    kind: vfio_mig_conformance::adapters::Kind,
    args: &RunArgs,
    opts: &Options,
    profile: Profile,
) -> Result<Run, String> {
    let factory = vfio_mig_conformance::adapters::Factory::with_devices(
        kind,
        args.device.clone(),
        args.device2.clone(),
    );
    // Open the source once to name it and learn its flags (and to fail early
    // with the adapter's own message).
    let (name, flags, transport) = {
        use vfio_mig_conformance::device::DeviceFactory;
        match factory.open(0) {
            Ok(d) => {
                let desc = d.describe();
                (
                    format!("{}: {}", kind.name, desc.name),
                    desc.flags,
                    desc.transport,
                )
            }
            Err(_) => (kind.name.to_owned(), None, Default::default()),
        }
    };
    #[allow(unused_mut)]
    let mut verdicts = with_progress(|p| {
        runner::run_suites(
            &mut |s| vfio_mig_conformance::suites::run_v2_suites(&factory, profile, opts, &[s]),
            p,
        )
    });
    // The rules only the vfio-user transport has, checked on the wire.
    #[cfg(feature = "adapter-vfio-user")]
    if transport == vfio_mig_conformance::device::Transport::VfioUser
        && !verdicts.iter().any(|v| v.suite == "setup" || v.halts)
    {
        if let Some(path) = factory.device(0) {
            verdicts.extend(vfio_mig_conformance::adapters::vfio_user::wire_checks(path));
        }
    }
    Ok((name, flags, transport, verdicts))
}

#[cfg(feature = "adapter-vfio")]
fn run_adapter_vfio(args: &RunArgs, opts: &Options, profile: Profile) -> Result<Run, String> {
    run_real(vfio_mig_conformance::adapters::VFIO, args, opts, profile)
}

#[cfg(not(feature = "adapter-vfio"))]
fn run_adapter_vfio(_: &RunArgs, _: &Options, _: Profile) -> Result<Run, String> {
    Err("this build has no VFIO adapter: rebuild with --features adapter-vfio".to_owned())
}

#[cfg(feature = "adapter-vfio-user")]
fn run_adapter_vfio_user(args: &RunArgs, opts: &Options, profile: Profile) -> Result<Run, String> {
    run_real(vfio_mig_conformance::adapters::VFIO_USER, args, opts, profile)
}

#[cfg(not(feature = "adapter-vfio-user"))]
fn run_adapter_vfio_user(_: &RunArgs, _: &Options, _: Profile) -> Result<Run, String> {
    Err("this build has no vfio-user adapter: rebuild with --features adapter-vfio-user".to_owned())
}

type DevicePair = (
    Box<dyn vfio_mig_conformance::device::Device<vfio_mig_model::v2::Fsm>>,
    Box<dyn vfio_mig_conformance::device::Device<vfio_mig_model::v2::Fsm>>,
);

fn diff_devices(args: &DiffArgs) -> Result<DevicePair, String> {
    use vfio_mig_conformance::mock::MockV2;
    match args.adapter {
        AdapterKind::Mock => {
            let flags = MigrationFlags::new(args.flags).map_err(|e| format!("--flags: {e}"))?;
            let config = MockConfig::v2(flags);
            let mut broken = config.clone();
            if let Some(name) = &args.mutant {
                broken.mutant = Some(
                    Mutant::ALL
                        .iter()
                        .copied()
                        .find(|m| m.name() == name && m.protocol() == ProtocolKind::V2)
                        .ok_or_else(|| format!("--mutant: no v2 mutant {name:?} (see `vfio-mig mutants`)"))?,
                );
            }
            Ok((Box::new(MockV2::new(config, 0)), Box::new(MockV2::new(broken, 0))))
        }
        #[cfg(feature = "adapter-vfio")]
        AdapterKind::Vfio => open_pair(vfio_mig_conformance::adapters::VFIO, args),
        #[cfg(feature = "adapter-vfio-user")]
        AdapterKind::VfioUser => open_pair(vfio_mig_conformance::adapters::VFIO_USER, args),
        #[allow(unreachable_patterns)]
        _ => Err("this build has no such adapter: rebuild with its feature".to_owned()),
    }
}

#[cfg(any(feature = "adapter-vfio", feature = "adapter-vfio-user"))]
fn open_pair(kind: vfio_mig_conformance::adapters::Kind, args: &DiffArgs) -> Result<DevicePair, String> {
    use vfio_mig_conformance::device::DeviceFactory;
    let f = vfio_mig_conformance::adapters::Factory::with_devices(
        kind,
        args.device.clone(),
        args.device2.clone(),
    );
    Ok((
        f.open(0).map_err(|e| e.to_string())?,
        f.open(1).map_err(|e| e.to_string())?,
    ))
}

fn diff(args: &DiffArgs) -> Result<ExitCode, String> {
    use vfio_mig_conformance::differential::{compare, sequences, Class};
    use vfio_mig_conformance::target::Target;
    let (mut a, mut b) = diff_devices(args)?;
    let model = vfio_mig_model::v2::Fsm::model(&a.describe(), Profile::defaults(ProtocolKind::V2));
    let seqs = sequences(&model, args.sequences, args.len, args.seed);
    let table = compare(&model, a.as_mut(), b.as_mut(), &seqs).map_err(|e| e.to_string())?;
    let first = a.describe().name;
    let second = match (&args.mutant, b.describe().name) {
        (Some(m), _) if args.adapter == AdapterKind::Mock => format!("mock ({m})"),
        (_, n) if n == first => format!("{n} (second)"),
        (_, n) => n,
    };
    print!("{}", table.markdown(&first, &second));
    let real = table.differences.iter().any(|d| d.class != Class::Equivalent);
    Ok(ExitCode::from(u8::from(real)))
}

/// The default profile of `kind` with the `--decide ID=OPTION` choices.
fn decided(kind: ProtocolKind, decide: &[String]) -> Result<Profile, String> {
    let mut profile = Profile::defaults(kind);
    for d in decide {
        let (id, option) = d
            .split_once('=')
            .ok_or_else(|| format!("--decide {d}: expected ID=OPTION, e.g. DEC-013=enomsg-or-zero"))?;
        profile
            .choose(id.trim(), option.trim())
            .map_err(|e| format!("--decide {d}: {e}"))?;
    }
    Ok(profile)
}

fn check_trace(file: &std::path::Path, decide: &[String]) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
    let profile = decided(ProtocolKind::V2, decide)?;
    let checked = vfio_mig_conformance::trace_json::check(&text, profile)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    match &checked.violation {
        None => {
            println!(
                "{}: {} steps, every one allowed by the model",
                file.display(),
                checked.steps
            );
            if !checked.warnings.is_empty() {
                println!("SHOULD not met: {}", checked.warnings.join(", "));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some((at, f)) => {
            println!("{}: step {at} is not allowed: {f}", file.display());
            Ok(ExitCode::from(1))
        }
    }
}

fn uapi_check(header: &std::path::Path, main: &std::path::Path) -> Result<ExitCode, String> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))
    };
    let facts = vfio_mig_conformance::uapi_drift::KernelFacts::parse(&read(header)?, &read(main)?)?;
    let c = facts.compare();
    if c.drifts.is_empty() {
        println!(
            "the kernel's migration uAPI matches the model: {} facts compared",
            c.compared
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "the kernel's migration uAPI differs from the model in {} of {} facts:",
        c.drifts.len(),
        c.compared
    );
    for d in &c.drifts {
        println!("  {d}");
    }
    Ok(ExitCode::from(1))
}
