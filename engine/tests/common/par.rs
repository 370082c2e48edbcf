//! Runs independent test cases on every core.
//!
//! `cargo test` runs one test binary at a time, so a binary whose one test
//! loops over every mutant would leave all cores but one idle. Standalone
//! (std only), so that other crates' tests include it by path.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` of every item, in the items' order, computed on as many threads as
/// there are cores; a panic in `f` is the caller's panic.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let mut out: Vec<Option<R>> = items.iter().map(|_| None).collect();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        for w in workers {
            match w.join() {
                Ok(done) => done.into_iter().for_each(|(i, r)| out[i] = Some(r)),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
    });
    out.into_iter()
        .map(|r| r.expect("every item was computed"))
        .collect()
}
