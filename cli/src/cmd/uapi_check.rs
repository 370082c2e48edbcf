//! `vfio-mig uapi-check`: a kernel's migration uAPI against the model (the
//! drift gate): every definition of the migration part of `vfio.h` known
//! and equal to the model's, the driver core's tables equal to the model's
//! derivation, the cited kernel text unchanged, and the kernel's own
//! next-state code agreeing with the model case by case.

use crate::uapi_drift::cited::{self, CitedSet};
use crate::uapi_drift::header::Header;
use crate::uapi_drift::inventory::{self, version};
use crate::uapi_drift::{known, next_state, KernelTables};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vfio_mig_spec::Catalogue;

/// Where the gate reads `vfio.h` in a kernel tree.
pub const HEADER_IN_TREE: &str = "include/uapi/linux/vfio.h";
/// Where the gate reads `vfio_main.c` in a kernel tree.
pub const MAIN_IN_TREE: &str = "drivers/vfio/vfio_main.c";

/// Options of `uapi-check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A kernel source tree: `--header` and `--main` default to its
    /// include/uapi/linux/vfio.h and drivers/vfio/vfio_main.c, and the
    /// kernel files the catalogue cites are read from it.
    #[arg(long, value_name = "DIR")]
    pub tree: Option<PathBuf>,
    /// The kernel's include/uapi/linux/vfio.h.
    #[arg(long)]
    pub header: Option<PathBuf>,
    /// The kernel's drivers/vfio/vfio_main.c.
    #[arg(long)]
    pub main: Option<PathBuf>,
    /// The kernel's version (6.12, 7.3): facts new in this version or
    /// earlier must be present, and later citations are not checked.
    #[arg(long, value_name = "VERSION")]
    pub kernel: Option<String>,
    /// Compare the kernel text the catalogue cites with this snapshot.
    #[arg(long, value_name = "FILE")]
    pub cited_text: Option<PathBuf>,
    /// Write the snapshot (--cited-text) from this kernel instead of
    /// comparing (needs --kernel).
    #[arg(long, requires = "cited_text", requires = "kernel")]
    pub update_cited_text: bool,
    /// Compare the output of ci/nextstate.sh's harness (the kernel's own
    /// vfio_mig_get_next_state() run for every flags, from and to) with the
    /// model.
    #[arg(long, value_name = "FILE")]
    pub next_state: Option<PathBuf>,
}

fn read(p: &Path) -> Result<String, String> {
    crate::limits::read_text("uapi-check", p, crate::limits::MAX_KERNEL_SOURCE_FILE)
}

/// What the run found wrong; any entry makes the exit code 1.
#[derive(Default)]
struct Verdict {
    failures: usize,
    compared: usize,
}

fn check_header(path: &Path, kernel: Option<&str>, v: &mut Verdict) -> Result<(), String> {
    let h = Header::parse(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    let inv = inventory::inventory(&h, &known::table(), kernel);
    let c = &inv.comparison;
    v.compared += c.compared;
    println!(
        "vfio.h: {} definitions in the migration part; {} known facts compared ({} with the model, {} the \
         VFIO adapter's, {} not modelled)",
        inv.in_part, c.compared, inv.by_role[0], inv.by_role[1], inv.by_role[2]
    );
    if !inv.unknown.is_empty() {
        v.failures += inv.unknown.len();
        println!(
            "vfio.h: {} definitions of the migration part are unknown to the gate (each needs a line in \
             cli/src/uapi_drift/known.rs, and the model a rule for it):",
            inv.unknown.len()
        );
        for u in &inv.unknown {
            println!("  unknown: {u}");
        }
    }
    if !c.drifts.is_empty() {
        v.failures += c.drifts.len();
        println!(
            "vfio.h: {} of {} facts differ from the model:",
            c.drifts.len(),
            c.compared
        );
        for d in &c.drifts {
            println!("  {d}");
        }
    }
    Ok(())
}

fn check_main(path: &Path, v: &mut Verdict) -> Result<(), String> {
    let t = KernelTables::parse(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    let c = t.compare();
    v.compared += c.compared;
    println!(
        "vfio_main.c: {} facts compared (state_flags_table and vfio_from_fsm_table)",
        c.compared
    );
    if !c.drifts.is_empty() {
        v.failures += c.drifts.len();
        println!(
            "the kernel's migration uAPI differs from the model in {} of {} facts:",
            c.drifts.len(),
            c.compared
        );
        for d in &c.drifts {
            println!("  {d}");
        }
    }
    Ok(())
}

fn check_cited(
    catalogue: &Catalogue,
    args: &Args,
    files: &BTreeMap<&str, PathBuf>,
    v: &mut Verdict,
) -> Result<(), String> {
    let Some(snapshot) = &args.cited_text else {
        return Ok(());
    };
    let kernel = args.kernel.as_deref();
    let mut reader = |doc: &str| -> Result<String, String> {
        match files.get(doc) {
            Some(p) => read(p),
            None => match &args.tree {
                Some(t) => read(&t.join(doc)),
                None => Err(format!("{doc} was not given (use --tree)")),
            },
        }
    };
    let set: CitedSet = cited::collect(catalogue, kernel, &mut reader);
    let citing: usize = set.texts.values().map(|c| c.reqs.len()).sum();
    v.compared += set.texts.len();
    let skipped: Vec<String> = set
        .not_checked
        .iter()
        .map(|(why, n)| format!("{n} {why}"))
        .collect();
    if args.update_cited_text {
        if !set.unresolved.is_empty() {
            for u in &set.unresolved {
                println!("  unresolved: {} ({}): {}", u.req, u.source, u.why);
            }
            return Err("the snapshot was not written: some citations cannot be followed".to_owned());
        }
        let text = cited::render(&set, kernel.unwrap_or("?"));
        std::fs::write(snapshot, text).map_err(|e| format!("{}: cannot write: {e}", snapshot.display()))?;
        println!(
            "cited text: wrote {} ({} texts cited by {} requirements)",
            snapshot.display(),
            set.texts.len(),
            citing
        );
        return Ok(());
    }
    let old = cited::parse(&read(snapshot)?).map_err(|e| format!("{}: {e}", snapshot.display()))?;
    let changes = cited::compare(&set, &old);
    if set.unresolved.is_empty() && changes.is_empty() {
        println!(
            "cited text: {} texts cited by {} requirements match {} (not checked: {})",
            set.texts.len(),
            citing,
            snapshot.display(),
            skipped.join("; ")
        );
        return Ok(());
    }
    v.failures += set.unresolved.len() + changes.len();
    println!(
        "cited text: {} of {} texts differ from {} (rewrite it with --update-cited-text once the \
         requirements citing them are reviewed):",
        changes.len(),
        set.texts.len(),
        snapshot.display()
    );
    for c in &changes {
        println!("  {c}");
    }
    for u in &set.unresolved {
        println!("  unresolved: {} ({}): {}", u.req, u.source, u.why);
    }
    Ok(())
}

fn check_next_state(path: &Path, v: &mut Verdict) -> Result<(), String> {
    let cases = next_state::parse(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    let bad = next_state::compare(&cases);
    v.compared += cases.len();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in &cases {
        *counts.entry(c.result.to_string()).or_default() += 1;
    }
    let counts: Vec<String> = counts.iter().map(|(r, n)| format!("{r} {n}")).collect();
    if bad.is_empty() {
        println!(
            "next state: the kernel's vfio_mig_get_next_state() agrees with the model in all {} cases ({})",
            cases.len(),
            counts.join(", ")
        );
        return Ok(());
    }
    v.failures += bad.len();
    println!(
        "next state: the kernel's vfio_mig_get_next_state() disagrees with the model in {} of {} cases ({}):",
        bad.len(),
        cases.len(),
        counts.join(", ")
    );
    for d in &bad {
        println!("  {d}");
    }
    Ok(())
}

/// `vfio-mig uapi-check`.
pub fn exec(catalogue: &Catalogue, args: &Args) -> Result<ExitCode, String> {
    if let Some(k) = &args.kernel {
        version(k).ok_or_else(|| format!("--kernel {k:?} is not a version like 6.12"))?;
    }
    let in_tree = |rel: &str| args.tree.as_ref().map(|t| t.join(rel));
    let header = args.header.clone().or_else(|| in_tree(HEADER_IN_TREE));
    let main = args.main.clone().or_else(|| in_tree(MAIN_IN_TREE));
    if header.is_none() && main.is_none() && args.next_state.is_none() {
        return Err("nothing to check: give --tree, --header, --main or --next-state".to_owned());
    }
    if args.cited_text.is_some() && header.is_none() && main.is_none() {
        return Err("--cited-text needs the kernel's files (--tree, or --header and --main)".to_owned());
    }
    let mut v = Verdict::default();
    let mut files = BTreeMap::new();
    if let Some(h) = &header {
        check_header(h, args.kernel.as_deref(), &mut v)?;
        files.insert(HEADER_IN_TREE, h.clone());
    }
    if let Some(m) = &main {
        check_main(m, &mut v)?;
        files.insert(MAIN_IN_TREE, m.clone());
    }
    check_cited(catalogue, args, &files, &mut v)?;
    if let Some(n) = &args.next_state {
        check_next_state(n, &mut v)?;
    }
    if v.failures == 0 {
        println!(
            "the kernel's migration uAPI matches the model: {} facts compared",
            v.compared
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "the kernel's migration uAPI does not match the model: {} findings above",
            v.failures
        );
        Ok(ExitCode::from(1))
    }
}
