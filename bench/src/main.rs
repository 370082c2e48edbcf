//! `perf-report`: turns the criterion results of `cargo bench -p
//! vfio-mig-bench` into `reports/perf.md`, each figure beside the limit or
//! target it is judged against, as a ratio.
//!
//! Usage: `perf-report [--criterion DIR] [--out FILE] [--test-seconds S]`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use vfio_mig_bench::{STREAM_LEN, TRACE_LEN};
use vfio_mig_engine::suites::explore;
use vfio_mig_engine::target::Target;
use vfio_mig_engine::verdict::SuiteId;
use vfio_mig_mock::MockConfig;
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::{Profile, ProtocolName};

/// Median time of one iteration of `group/bench`, in seconds. The median,
/// not the mean: on a two-core machine a few samples meet the scheduler at
/// its worst (the bare socket pair's mean was a quarter above its median),
/// and a figure should not hang on them.
fn median(dir: &Path, group: &str, bench: &str) -> Result<f64, String> {
    let path = dir.join(group).join(bench).join("new/estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (run `cargo bench -p vfio-mig-bench` first)",
            path.display()
        )
    })?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    v["median"]["point_estimate"]
        .as_f64()
        .map(|ns| ns * 1e-9)
        .ok_or_else(|| format!("{}: no median.point_estimate", path.display()))
}

/// Distinct model states the exploration of every flag set reaches at `depth`.
fn beliefs_at(depth: usize) -> usize {
    let profile = Profile::defaults(ProtocolName::V2);
    MigrationFlags::accepted()
        .into_iter()
        .map(|flags| {
            let mut dev = vfio_mig_bench::mock_handle(MockConfig::v2(flags));
            let model = Fsm::model(dev.describe(), profile.clone());
            explore::run(&model, &mut dev, depth, 8).1.beliefs
        })
        .sum()
}

fn si(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2} G", x / 1e9),
        x if x >= 1e6 => format!("{:.2} M", x / 1e6),
        x if x >= 1e3 => format!("{:.2} k", x / 1e3),
        x => format!("{x:.2} "),
    }
}

fn secs(x: f64) -> String {
    match x {
        x if x >= 1.0 => format!("{x:.2} s"),
        x if x >= 1e-3 => format!("{:.2} ms", x * 1e3),
        x => format!("{:.2} µs", x * 1e6),
    }
}

struct Row {
    measure: String,
    value: String,
    against: String,
    /// `None` when the figure has nothing to be compared with.
    ratio: Option<f64>,
    /// Whether a ratio of at least 1 meets a target (None: for information).
    target: Option<String>,
}

fn run() -> Result<(), String> {
    let mut dir = PathBuf::from("target/criterion");
    let mut out = PathBuf::from("reports/perf.md");
    let mut test_seconds: Option<f64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--criterion" => dir = PathBuf::from(value("--criterion")?),
            "--out" => out = PathBuf::from(value("--out")?),
            "--test-seconds" => {
                let v = value("--test-seconds")?;
                test_seconds = Some(v.parse().map_err(|e| format!("--test-seconds {v}: {e}"))?);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let mut rows = Vec::new();
    for (bench, name, target) in [
        ("v2-ops", "v2, a conforming device's answers", true),
        ("v1-ops", "v1, a conforming device's answers", true),
        (
            "v2-ops-any-answer",
            "v2, answers drawn from every allowed pattern",
            false,
        ),
        (
            "v1-ops-any-answer",
            "v1, answers drawn from every allowed pattern",
            false,
        ),
    ] {
        let rate = TRACE_LEN as f64 / median(&dir, "model", bench)?;
        rows.push(Row {
            measure: format!("model, {name}: operations judged"),
            value: format!("{}ops/s", si(rate)),
            against: "target 10 M ops/s".into(),
            ratio: Some(rate / 10e6),
            target: target.then(|| "≥ 1".into()),
        });
    }
    let t = median(&dir, "model", "v2-tables")?;
    rows.push(Row {
        measure: "model, v2: combination-path table of all 4 flag sets derived".into(),
        value: secs(t),
        against: "—".into(),
        ratio: None,
        target: None,
    });
    for depth in [4, 6, 8] {
        let t = median(&dir, "explore", &format!("all-flags-depth-{depth}"))?;
        rows.push(Row {
            measure: format!(
                "exploration of all 4 flag sets to depth {depth} on the mock ({} model states)",
                beliefs_at(depth)
            ),
            value: secs(t),
            against: "target 1 s (depth 6)".into(),
            ratio: Some(1.0 / t),
            target: (depth == 6).then(|| "≥ 1".into()),
        });
    }
    let full = median(&dir, "suites", "full-mock-run")?;
    rows.push(Row {
        measure: "complete default mock run (all five suites)".into(),
        value: secs(full),
        against: "target 10 s".into(),
        ratio: Some(10.0 / full),
        target: Some("≥ 1".into()),
    });
    for s in SuiteId::RUN {
        let t = median(&dir, "suites", s.name())?;
        rows.push(Row {
            measure: format!("suite `{}` alone (mock, all flags)", s.name()),
            value: secs(t),
            against: "the complete run".into(),
            ratio: Some(t / full),
            target: None,
        });
    }
    let copy = STREAM_LEN as f64 / median(&dir, "data", "memcpy")?;
    let mib = STREAM_LEN >> 20;
    let against = format!("memcpy of the same bytes in the same run: {}B/s", si(copy));
    for (bench, what, target) in [
        (
            "mock-save",
            format!("mock data path, saving: {mib} MiB read in 1 MiB chunks"),
            true,
        ),
        (
            "mock-resume",
            format!("mock data path, resuming: {mib} MiB written in 1 MiB chunks, checked and applied"),
            true,
        ),
        (
            "checked-round-trip",
            format!("data suite round trip of {mib} MiB (model checks, state compared)"),
            false,
        ),
    ] {
        let rate = STREAM_LEN as f64 / median(&dir, "data", bench)?;
        rows.push(Row {
            measure: what,
            value: format!("{}B/s", si(rate)),
            against: against.clone(),
            ratio: Some(rate / copy),
            target: target.then(|| "≥ 0.5".into()),
        });
    }
    let sock = STREAM_LEN as f64 / median(&dir, "data", "unix-socket-copy")?;
    let user = STREAM_LEN as f64 / median(&dir, "data", "vfio-user-save")?;
    rows.push(Row {
        measure: format!("vfio-user data path, saving: {mib} MiB through the socket in 1 MiB MIG_DATA_READs"),
        value: format!("{}B/s", si(user)),
        against: format!(
            "the same bytes through a bare UNIX socket pair in the same run: {}B/s",
            si(sock)
        ),
        ratio: Some(user / sock),
        target: Some("≥ 0.6".into()),
    });
    // Where the limit is: a request/reply read cannot start copying chunk
    // k+1 out of the device before chunk k went through the socket, so the
    // device's copy and the socket's two copies add up.
    let save = STREAM_LEN as f64 / median(&dir, "data", "mock-save")?;
    let serial = 1.0 / (1.0 / save + 1.0 / sock);
    rows.push(Row {
        measure:
            "vfio-user data path without overlap: the mock's save and the bare socket one after the other"
                .into(),
        value: format!("{}B/s", si(serial)),
        against: format!(
            "the same bytes through a bare UNIX socket pair in the same run: {}B/s",
            si(sock)
        ),
        ratio: Some(serial / sock),
        target: None,
    });
    // And what the protocol adds per chunk: one request/reply round trip,
    // measured without data.
    let trips = median(&dir, "data", "vfio-user-round-trips")?;
    let bound = STREAM_LEN as f64 / (STREAM_LEN as f64 / serial + trips);
    rows.push(Row {
        measure: format!(
            "vfio-user data path without overlap, with one round trip per chunk ({} µs each, measured without data)",
            (trips * 1e6 / (STREAM_LEN as f64 / vfio_mig_bench::CHUNK as f64)).round()
        ),
        value: format!("{}B/s", si(bound)),
        against: format!(
            "the same bytes through a bare UNIX socket pair in the same run: {}B/s",
            si(sock)
        ),
        ratio: Some(bound / sock),
        target: None,
    });
    if let Some(t) = test_seconds {
        rows.push(Row {
            measure: "`cargo test --workspace --locked`, already compiled".into(),
            value: secs(t),
            against: "CI's budget for the default run, 15 min".into(),
            ratio: Some(900.0 / t),
            target: None,
        });
    }

    let mut md = String::from(
        "# Performance\n\nWritten by `ci/bench.sh` (criterion medians; `cargo bench -p vfio-mig-bench`, then \
         `perf-report`). Every figure is measured in the same run as what it is compared with; \
         a ratio is *value / target* for rates and *target / value* for times, so 1 or more \
         meets a target.\n\n",
    );
    let _ = writeln!(md, "Machine: {}.\n", machine());
    md.push_str("| measure | result | compared with | ratio | target |\n|---|---|---|---|---|\n");
    for r in &rows {
        let verdict = match (&r.target, r.ratio) {
            (Some(t), Some(ratio)) => {
                let need: f64 = t.trim_start_matches('≥').trim().parse().unwrap_or(1.0);
                format!("{t} {}", if ratio >= need { "(met)" } else { "(MISSED)" })
            }
            _ => "for information".into(),
        };
        let ratio = r.ratio.map_or_else(|| "—".to_owned(), |x| format!("{x:.2}"));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {ratio} | {} |",
            r.measure, r.value, r.against, verdict
        );
    }
    let notes = Path::new("reports/perf-notes.md");
    if let Ok(text) = std::fs::read_to_string(notes) {
        md.push('\n');
        md.push_str(&text);
    }
    std::fs::write(&out, md).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{} written", out.display());
    Ok(())
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} cores, {model}")
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("perf-report: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
