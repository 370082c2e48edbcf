//! `vfio-mig`: the command a driver author runs.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use vfio_mig_model::v1::Region;
use vfio_mig_model::v2::{MigrationFlags, PathTable};
use vfio_mig_model::{Profile, ProtocolKind};
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
