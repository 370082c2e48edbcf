//! Hostile input to `vfio-mig`: sizes and counts beyond their limits,
//! options that do not apply, outputs that cannot be written, garbage
//! files, and a trace that claims 4 GiB. None of it panics, hangs or loses a
//! run; each is one line naming what was wrong. Also the KTAP standard
//! output, read back by the independent reader of `report/tests/ktap_rules`.

mod common;
#[path = "../../report/tests/ktap_rules/mod.rs"]
mod ktap_rules;

use common::{stderr, stdout, tmp, vfio_mig};
use std::path::Path;
use std::process::Command;

/// A usage error: exit code 2, one line on standard error starting with
/// `error: ` once, containing `needle`, nothing on standard output.
fn refused(args: &[&str], needle: &str) {
    let o = vfio_mig(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err:?}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{args:?}: {err}"
    );
    assert_eq!(err.matches("error:").count(), 1, "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        stdout(&o).is_empty(),
        "{args:?}: nothing ran, yet {:?}",
        stdout(&o)
    );
}

/// Every size and count is checked against its limit before anything is
/// allocated or run: the error names the option, the value and the limit.
/// (The tool's own inputs: no requirement of the catalogue.)
#[test]
fn sizes_and_counts_beyond_their_limits_are_usage_errors() {
    let max = u64::MAX.to_string();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["run", "--state-len", &max],
            format!("--state-len {max}: at most 1048576"),
        ),
        (
            vec!["run", "--state-len", "100000000000"],
            "--state-len 100000000000: at most 1048576".into(),
        ),
        (vec!["run", "--depth", "1000"], "--depth 1000: at most 32".into()),
        (
            vec!["run", "--cases", "4294967295"],
            "--cases 4294967295: at most 100000".into(),
        ),
        (
            vec!["diff", "--sequences", &max],
            format!("--sequences {max}: at most 1000000"),
        ),
        (
            vec!["diff", "--len", &max],
            format!("--len {max}: at most 1000000"),
        ),
        (
            vec!["diff", "--len", "100000000"],
            "--len 100000000: at most 1000000".into(),
        ),
        (
            vec!["diff", "--sequences", "2000", "--len", "1000"],
            "--sequences 2000 --len 1000: at most 1000000".into(),
        ),
        (
            vec!["diff", "--sequences", "0"],
            "--sequences 0: nothing would be compared".into(),
        ),
        (vec!["run", "--timeout", "0"], "--timeout".into()),
    ];
    for (args, needle) in &cases {
        refused(args, needle);
    }
}

/// Options that do not apply to the adapter, protocol or run are refused,
/// never ignored; so are contradictory decisions and a decision of the
/// other protocol (DEC-013 shapes V2-PRE-004, a v2 rule).
#[test]
fn options_that_do_not_apply_are_refused() {
    let cases: [(&[&str], &str); 13] = [
        (
            &["run", "--adapter", "vfio-user", "--protocol", "v1"],
            "--protocol v1: the vfio-user adapter speaks v2 only",
        ),
        (
            &["run", "--adapter", "vfio", "--protocol", "v1"],
            "--protocol v1: the vfio adapter speaks v2 only",
        ),
        (
            &["run", "--adapter", "vfio", "--mutant", "set-error-accepted"],
            "--mutant set-error-accepted: applies to the mock adapter only",
        ),
        (
            &["run", "--adapter", "vfio-user", "--flags", "5"],
            "--flags 5: applies to the mock adapter only",
        ),
        (
            &["run", "--adapter", "vfio", "--state-len", "64"],
            "--state-len 64: applies to the mock adapter only",
        ),
        (
            &["run", "--device", "0000:00:01.0"],
            "--device 0000:00:01.0: the mock adapter has no device to name",
        ),
        (
            &["diff", "--adapter", "vfio-user", "--mutant", "x"],
            "--mutant x: applies to the mock adapter only",
        ),
        (
            &["diff", "--device2", "/tmp/s"],
            "--device2 /tmp/s: the mock adapter",
        ),
        (
            &[
                "run",
                "--decide",
                "DEC-013=enomsg-or-zero",
                "--decide",
                "DEC-013=enomsg-only",
            ],
            "--decide DEC-013=enomsg-only contradicts --decide DEC-013=enomsg-or-zero",
        ),
        (
            &["run", "--protocol", "v1", "--decide", "DEC-013=enomsg-or-zero"],
            "DEC-013 does not apply to v1",
        ),
        (
            &["run", "--protocol", "v1", "--traces", "/tmp/vfio-mig-never"],
            "--traces /tmp/vfio-mig-never: traces are written in the v2 trace format",
        ),
        (
            &[
                "check-trace",
                "/nonexistent",
                "--decide",
                "DEC-013=enomsg-only",
                "--decide",
                "DEC-013=enomsg-or-zero",
            ],
            "contradicts",
        ),
        (
            &["run", "--baseline", "/dev/zero"],
            "--baseline /dev/zero: larger than",
        ),
    ];
    for (args, needle) in cases {
        refused(args, needle);
    }
    // The same decision twice with the same option is no contradiction.
    let (_dir_root, dir) = tmp("same-decision");
    let o = vfio_mig(&[
        "run",
        "--decide",
        "DEC-013=enomsg-or-zero",
        "--decide",
        "DEC-013=enomsg-or-zero",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A trace of 200 bytes that claims a read and a write of 4 GiB is judged
/// as numbers: under an address-space limit of 512 MiB the checker still
/// finishes and judges it, both when the claims are allowed (a read never
/// returns more than asked, V2-STREAM-003; the end of the stream,
/// V2-STREAM-001; a resume of the whole stream, V2-STREAM-004 and
/// V2-STREAM-005) and when a read returns more than it asked for.
#[test]
fn check_trace_judges_4_gib_claims_without_allocating_them() {
    let (_dir_root, dir) = tmp("huge-trace");
    std::fs::create_dir_all(&dir).unwrap();
    let head = r#"{"format":"vfio-mig-trace/2","flags":1,"data_size":null}"#;
    let save = [
        r#"{"op":"set","state":3,"data_fd":true}"#,
        r#"{"op":"read","fd":0,"len":4294967295,"bytes":4294967295}"#,
        r#"{"op":"read","fd":0,"len":4294967295,"bytes":0}"#,
        r#"{"op":"set","state":1,"data_fd":false}"#,
        r#"{"op":"set","state":4,"data_fd":true}"#,
        r#"{"op":"write","fd":1,"len":4294967295,"bytes":4294967295,"stream_offset":0,"stream_total":4294967295}"#,
        r#"{"op":"set","state":1,"data_fd":false}"#,
    ];
    let allowed = dir.join("allowed.json");
    std::fs::write(&allowed, format!("{head}\n{}\n", save.join("\n"))).unwrap();
    let too_much = dir.join("too-much.json");
    std::fs::write(
        &too_much,
        format!(
            "{head}\n{}\n{}\n",
            save[0], r#"{"op":"read","fd":0,"len":4294967294,"bytes":4294967295}"#
        ),
    )
    .unwrap();
    let limited = |file: &Path| {
        Command::new("sh")
            .arg("-c")
            .arg(r#"ulimit -v 524288 && exec "$0" check-trace "$1""#)
            .arg(env!("CARGO_BIN_EXE_vfio-mig"))
            .arg(file)
            .output()
            .expect("sh runs")
    };
    let o = limited(&allowed);
    assert_eq!(o.status.code(), Some(0), "{} {}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("7 steps, every one allowed"),
        "{}",
        stdout(&o)
    );
    let o = limited(&too_much);
    assert_eq!(o.status.code(), Some(1), "{} {}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("step 1 is not allowed") && stdout(&o).contains("V2-STREAM-003"),
        "{}",
        stdout(&o)
    );
}

/// An output that cannot be written is found before the run: nothing runs,
/// exit code 2, the option and the path named. (The tool's own outputs: no
/// requirement of the catalogue.)
#[test]
fn unusable_outputs_are_refused_before_the_run() {
    let (_file_root, file) = tmp("a-file");
    std::fs::write(&file, "x").unwrap();
    let f = file.to_str().unwrap();
    refused(&["run", "--report-dir", f], "is a file, not a directory");
    let (_with_repro_root, with_repro) = tmp("with-reproducers");
    std::fs::create_dir_all(&with_repro).unwrap();
    std::fs::write(with_repro.join("reproducers"), "x").unwrap();
    refused(
        &["run", "--report-dir", with_repro.to_str().unwrap()],
        "reproducers is a file there",
    );
    // procfs takes no new files, whoever asks (a permission test would pass
    // for root).
    refused(
        &["run", "--report-dir", "/proc/self"],
        "--report-dir /proc/self: cannot write there",
    );
    let (_dir_root, dir) = tmp("traces-file");
    refused(
        &["run", "--report-dir", dir.to_str().unwrap(), "--traces", f],
        &format!("--traces {f}: is a file"),
    );
    assert!(!dir.join("report.md").exists(), "nothing was written");
}

/// When a file cannot be written after the run anyway (the disk filled
/// up: `report.md` leads to /dev/full), the verdicts are not lost: the
/// summary is printed, every other file is written, the file that failed
/// is named, and the exit code is the run's (1 for the broken V2-ARC-008);
/// a clean run that lost a file exits 2.
#[test]
fn a_write_that_fails_after_the_run_keeps_the_verdicts() {
    assert!(Path::new("/dev/full").exists(), "Linux has /dev/full");
    let (_dir_root, dir) = tmp("disk-full");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink("/dev/full", dir.join("report.md")).unwrap();
    let d = dir.to_str().unwrap();
    let o = vfio_mig(&["run", "--mutant", "set-error-accepted", "--report-dir", d]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("FAIL V2-ARC-008 [MUST]"), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("report.md: not written: No space left on device"),
        "{err}"
    );
    assert!(err.contains("1 file(s) not written"), "{err}");
    let json = std::fs::read_to_string(dir.join("report.json")).unwrap();
    assert!(json.contains("V2-ARC-008"));
    for f in ["junit.xml", "report.ktap", "states.dot"] {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    assert!(dir.join("reproducers").is_dir(), "the C reproducers are written");
    let o = vfio_mig(&["run", "--report-dir", d]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stdout(&o).contains(" 0 FAIL"), "{}", stdout(&o));
}

/// `--deviations` given garbage: 100 MB (a sparse file, nothing written to
/// disk), an endless device file, bytes that are not text, YAML of another
/// shape; each is one line with the file named and no parser internals.
/// A requirement listed twice is refused naming it and both entries.
/// (V2-ARC-008 is the requirement listed.)
#[test]
fn garbage_deviations_are_one_clear_line() {
    let (_dir_root, dir) = tmp("garbage");
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.yaml");
    std::fs::File::create(&big).unwrap().set_len(100_000_000).unwrap();
    let binary = dir.join("binary.yaml");
    std::fs::write(&binary, [0xffu8, 0xfe, 0x00, 0x80]).unwrap();
    let shape = dir.join("shape.yaml");
    std::fs::write(&shape, "garbage: [1, 2\n").unwrap();
    let scalar = dir.join("scalar.yaml");
    std::fs::write(&scalar, "!!binary aGVsbG8=\n").unwrap();
    let twice = dir.join("twice.yaml");
    std::fs::write(
        &twice,
        "- requirement: V2-ARC-008\n  reason: a\n- requirement: V2-PRE-004\n  reason: b\n- requirement: V2-ARC-008\n  reason: c\n",
    )
    .unwrap();
    let dup_key = dir.join("dup-key.yaml");
    std::fs::write(&dup_key, "- requirement: V2-ARC-008\n  reason: a\n  reason: b\n").unwrap();
    let cases: [(&Path, &str); 7] = [
        (&big, "larger than 1048576 bytes"),
        (Path::new("/dev/zero"), "larger than 1048576 bytes"),
        (&binary, "not text: invalid UTF-8 at byte 0"),
        (&shape, "line 1 column 1"),
        (&scalar, "an entry of `requirement` and `reason`"),
        (
            &twice,
            "entry 3 (V2-ARC-008): listed twice (entry 1 names it already)",
        ),
        (&dup_key, "duplicate mapping key: reason"),
    ];
    for (file, needle) in cases {
        let f = file.to_str().unwrap();
        refused(&["run", "--deviations", f], needle);
        let o = vfio_mig(&["run", "--deviations", f]);
        let err = stderr(&o);
        assert!(err.contains(&format!("--deviations {f}: ")), "{err}");
        for internal in ["Error {", "DuplicateKeyPolicy", "struct Deviation", "{ kind"] {
            assert!(!err.contains(internal), "{err}");
        }
    }
}

/// `run --format ktap` writes KTAP on standard output (the summary goes to
/// standard error) equal to `report.ktap`, valid by the format's rules, and
/// failing where the run fails (V2-ARC-008 broken by the mutant).
#[test]
fn format_ktap_writes_valid_ktap_on_standard_output() {
    let (_dir_root, dir) = tmp("ktap");
    let o = vfio_mig(&[
        "run",
        "--format",
        "ktap",
        "--mutant",
        "set-error-accepted",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let doc = ktap_rules::parse(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert!(doc.bailed.is_none());
    assert_eq!(doc.tests.len(), doc.plan);
    let arcs = doc.tests.iter().find(|t| t.name == "arcs").unwrap();
    assert!(!arcs.ok);
    assert!(arcs
        .subtests
        .iter()
        .any(|t| !t.ok && t.diags.iter().any(|d| d.contains("V2-ARC-008"))));
    assert_eq!(
        std::fs::read_to_string(dir.join("report.ktap")).unwrap(),
        out,
        "report.ktap is what standard output got"
    );
    assert!(stderr(&o).contains("FAIL V2-ARC-008 [MUST]"), "{}", stderr(&o));
}

/// Progress is drawn only on a terminal: with standard error a pipe (and
/// no CI variable), a passing run prints nothing there, and standard output
/// has no control characters.
#[test]
fn progress_never_reaches_a_pipe() {
    let (_dir_root, dir) = tmp("quiet");
    let o = Command::new(env!("CARGO_BIN_EXE_vfio-mig"))
        .args(["run", "--cases", "16", "--report-dir", dir.to_str().unwrap()])
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "nothing on a piped standard error");
    assert!(!stdout(&o).contains('\u{1b}') && !stdout(&o).contains('\r'));
    let o = Command::new(env!("CARGO_BIN_EXE_vfio-mig"))
        .args(["diff", "--sequences", "130"])
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
}

/// `diff` compares in batches (for progress) and numbers the sequences of
/// the whole run: a mutant that accepts a blocked arc (V2-ARC-007) differs
/// in sequences past the first batch, numbered as such.
#[test]
fn diff_batches_keep_the_sequence_numbers() {
    let o = vfio_mig(&[
        "diff",
        "--mutant",
        "accepts-blocked-arc",
        "--flags",
        "5",
        "--sequences",
        "256",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let numbers: Vec<usize> = stdout(&o)
        .lines()
        .filter_map(|l| l.strip_prefix("| ")?.split(' ').next()?.parse().ok())
        .collect();
    assert!(!numbers.is_empty());
    assert!(numbers.iter().any(|&n| n >= 64), "{numbers:?}");
    assert!(numbers.iter().all(|&n| n < 256), "{numbers:?}");
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]),
        "in order, each once: {numbers:?}"
    );
}
