//! The `vfio-mig` command: exit codes, reports, and one-line errors on bad input.

mod common;

use common::{stderr, tmp, vfio_mig};
use std::path::PathBuf;

#[test]
fn default_mock_run_passes_and_writes_three_reports() {
    let (_dir_root, dir) = tmp("pass");
    let o = vfio_mig(&["run", "--report-dir", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in ["report.md", "report.json", "junit.xml"] {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("0 FAIL"), "{out}");
}

#[test]
fn a_must_failure_exits_one_and_names_the_rule() {
    let (_dir_root, dir) = tmp("mutant");
    let o = vfio_mig(&[
        "run",
        "--mutant",
        "set-error-accepted",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("FAIL V2-ARC-008 [MUST]"), "{out}");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("## Failures") && md.contains("#[test]"), "{md}");
}

#[test]
fn a_baseline_regression_fails_even_for_a_should() {
    let (_base_root, base) = tmp("base");
    assert_eq!(
        vfio_mig(&["run", "--flags", "5", "--report-dir", base.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let (_now_root, now) = tmp("now");
    let baseline = base.join("report.json");
    let o = vfio_mig(&[
        "run",
        "--flags",
        "5",
        "--mutant",
        "initial-bytes-grow",
        "--baseline",
        baseline.to_str().unwrap(),
        "--report-dir",
        now.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("V2-PRE-003 [SHOULD] was PASS, now WARN"), "{out}");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn bad_input_is_one_clear_line_and_exit_two() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["run", "--baseline", "/nonexistent/report.json"],
            "--baseline /nonexistent/report.json: cannot read",
        ),
        (&["run", "--flags", "2"], "lack STOP_COPY"),
        (&["run", "--mutant", "no-such-bug"], "no mutant"),
        (
            &["run", "--adapter", "vfio"],
            if cfg!(feature = "adapter-vfio") {
                "not configured: set VFIO_MIG_DEVICE"
            } else {
                "rebuild with --features adapter-vfio"
            },
        ),
        (&["explain", "V9-NOPE-001"], "no requirement or decision"),
    ];
    for (args, needle) in cases {
        let o = vfio_mig(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err:?}");
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked") && !err.contains("backtrace"), "{err}");
    }
    // A baseline that is not a report.
    let (_junk_root, junk) = tmp("junk");
    std::fs::create_dir_all(&junk).unwrap();
    std::fs::write(junk.join("b.json"), "{ not json").unwrap();
    let o = vfio_mig(&["run", "--baseline", junk.join("b.json").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a vfio-mig JSON report"),
        "{}",
        stderr(&o)
    );
    // A report of the earlier layout is refused by its version, not
    // misread (a schema-1 report has no `complete`, so it could not say
    // whether its run stopped).
    std::fs::write(junk.join("old.json"), r#"{"schema": 1, "target": {}}"#).unwrap();
    let o = vfio_mig(&["run", "--baseline", junk.join("old.json").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("a report of schema 1"), "{}", stderr(&o));
}

#[test]
fn a_malformed_catalogue_is_refused_with_file_entry_and_field() {
    let (_dir_root, dir) = tmp("spec");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec");
    for f in ["v1.yaml", "v2.yaml", "decisions.yaml"] {
        std::fs::copy(spec.join(f), dir.join(f)).unwrap();
    }
    let v2 = std::fs::read_to_string(dir.join("v2.yaml")).unwrap();
    std::fs::write(dir.join("v2.yaml"), v2.replacen("level: MUST", "level: MUSTY", 1)).unwrap();
    let o = vfio_mig(&["--spec-dir", dir.to_str().unwrap(), "spec"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("spec/v2.yaml: requirement V2-STATE-001: field `level`: unknown level \"MUSTY\""),
        "{err}"
    );
}

#[test]
fn known_deviations_accept_listed_failures_and_cannot_go_stale() {
    let (_dir_root, dir) = tmp("dev");
    std::fs::create_dir_all(&dir).unwrap();
    let list = dir.join("deviations.yaml");
    let rd = dir.join("r");
    let rd = rd.to_str().unwrap();
    std::fs::write(
        &list,
        "- requirement: V2-ARC-008\n  reason: firmware accepts ERROR, tracked as bug 17\n",
    )
    .unwrap();
    let o = vfio_mig(&[
        "run",
        "--mutant",
        "set-error-accepted",
        "--deviations",
        list.to_str().unwrap(),
        "--report-dir",
        rd,
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("FAIL V2-ARC-008 [MUST]") && out.contains("(known deviation)"),
        "{out}"
    );
    // The same list against the correct device: the deviation is stale.
    let o = vfio_mig(&["run", "--deviations", list.to_str().unwrap(), "--report-dir", rd]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("STALE deviation V2-ARC-008"), "{out}");
    // A malformed list is refused in one line.
    std::fs::write(&list, "- requirement: V2-NOPE-001\n  reason: x\n").unwrap();
    let o = vfio_mig(&["run", "--deviations", list.to_str().unwrap(), "--report-dir", rd]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("(V2-NOPE-001): no such requirement in the catalogue"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1);
    std::fs::write(&list, "- requirement: V2-ARC-008\n  reasn: typo\n").unwrap();
    let o = vfio_mig(&["run", "--deviations", list.to_str().unwrap(), "--report-dir", rd]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

/// DEC-013 decides whether a 0-byte read in pre-copy is allowed (V2-PRE-004):
/// the same device fails under the default and passes when the decision is
/// taken the other way, and the report says which decision was taken.
#[test]
fn decide_changes_the_judgement_and_the_report_records_it() {
    let (_strict_root, strict) = tmp("decide-strict");
    let o = vfio_mig(&[
        "run",
        "--mutant",
        "zero-read-in-precopy",
        "--report-dir",
        strict.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("FAIL V2-PRE-004 [MUST]"));

    let (_relaxed_root, relaxed) = tmp("decide-relaxed");
    let o = vfio_mig(&[
        "run",
        "--mutant",
        "zero-read-in-precopy",
        "--decide",
        "DEC-013=enomsg-or-zero",
        "--report-dir",
        relaxed.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = std::fs::read_to_string(relaxed.join("report.md")).unwrap();
    assert!(md.contains("decisions taken otherwise than by default: DEC-013=enomsg-or-zero"));
    let json = std::fs::read_to_string(relaxed.join("report.json")).unwrap();
    assert!(json.contains("\"DEC-013=enomsg-or-zero\""), "{json}");

    let o = vfio_mig(&["run", "--decide", "DEC-013"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("expected ID=OPTION"), "{}", stderr(&o));
}

/// `diff` runs the same sequences on two devices: two copies of the correct
/// mock never differ; a mutant differs where the model allows only the
/// correct answer, and the exit code says so.
#[test]
fn diff_prints_a_table_and_fails_on_answers_the_model_does_not_allow() {
    let o = vfio_mig(&["diff", "--sequences", "32"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 answered differently"));
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
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("| SET PRE_COPY |") && out.contains("OnlyFirstAllowed"),
        "{out}"
    );
    let o = vfio_mig(&["diff", "--mutant", "no-such-thing"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no v2 mutant"), "{}", stderr(&o));
}

/// A run that stops before its plan is done (here a device call that never
/// returns) is never green: exit code 3, and every output says so first.
/// Covers V2-TIME-001.
#[test]
fn a_run_that_stops_exits_three_and_says_so_everywhere() {
    let (_dir_root, dir) = tmp("stopped");
    let d = dir.to_str().unwrap();
    let o = vfio_mig(&[
        "run",
        "--mutant",
        "hangs-in-set",
        "--flags",
        "5",
        "--timeout",
        "300",
        "--report-dir",
        d,
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{out}");
    let first = out.lines().next().unwrap_or("");
    assert!(
        first.starts_with("RUN STOPPED: Run stopped after check "),
        "{out}"
    );
    assert!(first.contains("did not return within 300 ms"), "{first}");
    assert!(out.contains("FAIL V2-TIME-001 [MUST]"), "{out}");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.starts_with("Run stopped after check "), "{md}");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains("<error") && junit.contains("STOPPED"), "{junit}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["complete"], false);
    assert!(json["stopped"]["cause"].as_str().unwrap().contains("300 ms"));
    let not_run = json["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "NOT RUN")
        .count();
    assert!(not_run > 0, "requirements no check reached are NOT RUN");
    // A stopped run against a complete baseline is a regression.
    let (_base_root, base) = tmp("stopped-base");
    let b = base.to_str().unwrap();
    assert_eq!(
        vfio_mig(&["run", "--flags", "5", "--report-dir", b])
            .status
            .code(),
        Some(0)
    );
    let o = vfio_mig(&[
        "run",
        "--mutant",
        "hangs-in-set",
        "--flags",
        "5",
        "--timeout",
        "300",
        "--report-dir",
        d,
        "--baseline",
        base.join("report.json").to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(
        out.contains("the run did not complete: Run stopped after check"),
        "{out}"
    );
    assert!(out.contains("was PASS, now NOT RUN"), "{out}");
}

/// The baseline gate fails on every way a requirement stops passing, one
/// line each, and on a baseline taken with other flags.
#[test]
fn the_baseline_gate_names_every_requirement_that_stopped_passing() {
    let (_base_root, base) = tmp("gate-base");
    let b = base.to_str().unwrap();
    assert_eq!(
        vfio_mig(&["run", "--flags", "7", "--report-dir", b])
            .status
            .code(),
        Some(0)
    );
    let baseline = base.join("report.json");
    // Another flag set: P2P rules become not applicable (PASS -> SKIP).
    let (_now_root, now) = tmp("gate-now");
    let o = vfio_mig(&[
        "run",
        "--flags",
        "1",
        "--report-dir",
        now.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("the baseline was taken with flags \"STOP_COPY+P2P+PRE_COPY\""),
        "{out}"
    );
    assert!(out.contains("was PASS, now SKIP"), "{out}");
}

/// `--server-cmd` starts vfio-user servers: with another adapter, without
/// `{socket}`, or beside `--device`, it is a usage error (exit 2) that says
/// why, before anything runs.
#[test]
fn server_cmd_misuse_is_a_usage_error() {
    let o = vfio_mig(&["run", "--server-cmd", "srv {socket}"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("needs --adapter vfio-user"), "{}", stderr(&o));
    if cfg!(feature = "adapter-vfio-user") {
        let o = vfio_mig(&["run", "--adapter", "vfio-user", "--server-cmd", "srv"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("{socket}"), "{}", stderr(&o));
        let o = vfio_mig(&[
            "run",
            "--adapter",
            "vfio-user",
            "--server-cmd",
            "srv {socket}",
            "--device",
            "/x",
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("without --device"), "{}", stderr(&o));
    }
}
