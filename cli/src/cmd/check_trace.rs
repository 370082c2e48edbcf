//! `vfio-mig check-trace FILE`: a recorded v2 trace (`vfio-mig-trace/1` or
//! `/2`) against the model, without any device. Exits 1 at a step the model
//! does not allow, 3 when the trace is allowed up to calls the recorder
//! lost (the rest is not judged).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vfio_mig_model::ProtocolName;
use vfio_mig_spec::Catalogue;

/// Options of `check-trace`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The trace file.
    pub file: PathBuf,
    /// Take a decision otherwise than by default, as ID=OPTION (repeatable).
    #[arg(long = "decide", value_name = "ID=OPTION")]
    pub decide: Vec<String>,
}

/// The largest trace read: a step of the JSON format is some 100 bytes, so
/// this is over two million steps, far more than a migration makes.
/// (Lengths inside a trace are judged as numbers, never allocated.)
pub const MAX_TRACE_FILE: u64 = 256 << 20;

fn read(file: &Path) -> Result<String, String> {
    crate::limits::read_text("trace", file, MAX_TRACE_FILE)
}

/// `vfio-mig check-trace`.
pub fn exec(catalogue: &Catalogue, args: &Args) -> Result<ExitCode, String> {
    let profile = crate::decide::profile(catalogue, ProtocolName::V2, &args.decide)?;
    let text = read(&args.file)?;
    let file = args.file.display();
    let checked = vfio_mig_trace::check(&text, profile).map_err(|e| format!("{file}: {e}"))?;
    match &checked.violation {
        None => {
            match checked.lost {
                None => println!("{file}: {} steps, every one allowed by the model", checked.steps),
                Some(lost) => println!(
                    "{file}: {} steps, every one allowed by the model; at step {} the recorder lost {} \
                     call(s), so the steps after it are not judged",
                    checked.steps, lost.at, lost.count
                ),
            }
            if !checked.warnings.is_empty() {
                println!(
                    "SHOULD not met: {}",
                    vfio_mig_model::join_ids(&checked.warnings, ", ")
                );
            }
            Ok(if checked.lost.is_some() {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            })
        }
        Some((at, reqs, what)) => {
            println!(
                "{file}: step {at} is not allowed: [{}] {what}",
                vfio_mig_model::join_ids(reqs, ", ")
            );
            Ok(ExitCode::from(1))
        }
    }
}
