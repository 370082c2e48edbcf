//! `vfio-mig`: the command a driver author runs.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use vfio_mig_cli::cmd;
use vfio_mig_spec::Catalogue;

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

#[derive(Subcommand)]
enum Command {
    /// Run every suite against a device and write the reports.
    Run(Box<cmd::run::RunArgs>),
    /// List the mock's deliberately broken variants.
    Mutants,
    /// Run the same operation sequences on two devices (two driver versions,
    /// two transports, the mock and a mutant) and print where they differ.
    Diff(Box<cmd::diff::DiffArgs>),
    /// Check a recorded v2 trace (the JSON trace format) against the model,
    /// without any device.
    CheckTrace(cmd::check_trace::Args),
    /// Compare a kernel's migration uAPI with the model (the drift gate).
    UapiCheck(cmd::uapi_check::Args),
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
    let result = match &cli.command {
        Command::Run(args) => cmd::run::exec(&catalogue, args),
        Command::Diff(args) => cmd::diff::exec(args),
        Command::CheckTrace(args) => cmd::check_trace::exec(&catalogue, args),
        Command::UapiCheck(args) => cmd::uapi_check::exec(&catalogue, args),
        Command::Mutants => {
            print!("{}", cmd::mutants::text());
            Ok(ExitCode::SUCCESS)
        }
        Command::Spec { paths } => {
            print!("{}", cmd::spec::text(&catalogue, *paths));
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { id } => match cmd::explain::text(&catalogue, id) {
            Some(text) => {
                print!("{text}");
                Ok(ExitCode::SUCCESS)
            }
            None => Err(format!("no requirement or decision {id:?} in the catalogue")),
        },
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}
