//! A progress bar over the suites of a run, hidden when standard error is
//! not a terminal or under CI.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use vfio_mig_engine::verdict::SuiteId;

/// Calls `run` with a callback to announce each suite; draws a bar on a
/// terminal.
pub fn over_suites<R>(run: impl FnOnce(&mut dyn FnMut(SuiteId)) -> R) -> R {
    let bar = ProgressBar::new(SuiteId::RUN.len() as u64);
    if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} suites {msg}") {
        bar.set_style(style);
    }
    let mut started = false;
    let out = run(&mut |s: SuiteId| {
        if started {
            bar.inc(1);
        }
        started = true;
        bar.set_message(s.name());
    });
    bar.finish_and_clear();
    out
}
