//! `vfio-mig uapi-check`: a kernel's migration uAPI against the model (the
//! drift gate).

use crate::uapi_drift::KernelFacts;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `uapi-check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The kernel's include/uapi/linux/vfio.h.
    #[arg(long)]
    pub header: PathBuf,
    /// The kernel's drivers/vfio/vfio_main.c.
    #[arg(long)]
    pub main: PathBuf,
}

fn read(option: &str, p: &Path) -> Result<String, String> {
    crate::limits::read_text(option, p, crate::limits::MAX_KERNEL_SOURCE_FILE)
}

/// `vfio-mig uapi-check`.
pub fn exec(args: &Args) -> Result<ExitCode, String> {
    let facts = KernelFacts::parse(&read("--header", &args.header)?, &read("--main", &args.main)?)?;
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
