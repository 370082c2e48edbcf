//! The kernel's own next-state code against the model, from harness outputs
//! (the format of `ci/nextstate/harness.c`): the real output of Linux
//! 6.12.117, and two copies changed by hand, one with the historical
//! STOP_COPY -> PRE_COPY loop and one with a wrong path.

use std::path::Path;
use vfio_mig_cli::uapi_drift::next_state::{self, Outcome};
use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::MigState;

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/next-state")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// V2-PATH-001, V2-PATH-003, V2-PATH-004, V2-ARC-007, V2-ARC-008,
/// V2-FLAG-003: every one of the 256 cases Linux 6.12.117's function gives
/// is what the model expects, and the model's own rendering is that output
/// byte for byte.
#[test]
fn linux_6_12_117_agrees_with_the_model_in_every_case() {
    let text = fixture("linux-6.12.117.txt");
    let cases = next_state::parse(&text).unwrap();
    assert_eq!(cases.len(), 256);
    let bad = next_state::compare(&cases);
    assert!(
        bad.is_empty(),
        "{}",
        bad.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
    );
    let without_comments: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(next_state::model_output(), without_comments);
}

/// V2-TIME-001, V2-ARC-007: a loop on STOP_COPY -> PRE_COPY (the bug of
/// Linux 6.2 to 6.12.116) is a failure that says LOOP and names the bug.
#[test]
fn a_loop_is_a_failure_that_names_it() {
    let cases = next_state::parse(&fixture("loop.txt")).unwrap();
    let bad = next_state::compare(&cases);
    assert_eq!(bad.len(), 1);
    let d = &bad[0];
    assert_eq!(
        (d.case.from, d.case.to, d.case.result),
        (MigState::StopCopy, MigState::PreCopy, Outcome::Loop)
    );
    assert_eq!(d.expected.result, Outcome::Einval);
    assert!(d.reqs.contains(&V2_TIME_001));
    let shown = d.to_string();
    assert!(
        shown.starts_with("line 225: flags=7 STOP_COPY -> PRE_COPY: LOOP: the driver loop took 16 steps without reaching PRE_COPY (STOP_COPY -> STOP -> STOP_COPY"),
        "{shown}"
    );
    assert!(shown.contains("the bug of Linux 6.2 to 6.12.116"), "{shown}");
    assert!(shown.contains("the model refuses it with EINVAL"), "{shown}");
}

/// V2-PATH-004, V2-PATH-001, V2-PATH-003: a path that skips RUNNING_P2P on
/// a P2P device is a disagreement showing both paths.
#[test]
fn a_wrong_path_is_a_disagreement_naming_the_path_rules() {
    let cases = next_state::parse(&fixture("wrong.txt")).unwrap();
    let bad = next_state::compare(&cases);
    assert_eq!(bad.len(), 1);
    let shown = bad[0].to_string();
    assert_eq!(
        shown,
        "line 84: flags=3 RUNNING -> STOP: kernel OK via RUNNING -> STOP; the model reaches it via RUNNING -> \
         RUNNING_P2P -> STOP (first call 0, WARN_ON 0) [V2-PATH-004, V2-PATH-001, V2-PATH-003]"
    );
}

/// Other kinds of disagreement: a refused request granted, an unsupported
/// state accepted without WARN_ON, a HANG.
#[test]
fn wrong_first_calls_warnings_and_hangs_are_disagreements() {
    let good = fixture("linux-6.12.117.txt");
    let swap = |from: &str, to: &str| {
        assert!(good.contains(from), "{from}");
        good.replace(from, to)
    };
    // STOP -> ERROR granted.
    let t = swap(
        "flags=1 from=1 to=0 first=-22 result=EINVAL path=1 warn=0",
        "flags=1 from=1 to=0 first=0 result=OK path=1,0 warn=0",
    );
    let bad = next_state::compare(&next_state::parse(&t).unwrap());
    assert_eq!(bad.len(), 1);
    assert!(bad[0].reqs.contains(&V2_ARC_008));
    // From RUNNING_P2P without P2P: WARN_ON must fire.
    let t = swap(
        "flags=1 from=5 to=1 first=-22 result=EINVAL path=5 warn=1",
        "flags=1 from=5 to=1 first=-22 result=EINVAL path=5 warn=0",
    );
    let bad = next_state::compare(&next_state::parse(&t).unwrap());
    assert_eq!(bad.len(), 1);
    assert!(bad[0].to_string().contains("WARN_ON fired 0 times"), "{}", bad[0]);
    assert!(bad[0].reqs.contains(&V2_FLAG_003));
    let t = swap(
        "flags=1 from=1 to=2 first=0 result=OK path=1,2 warn=0",
        "flags=1 from=1 to=2 first=HANG result=HANG path=1 warn=0",
    );
    let bad = next_state::compare(&next_state::parse(&t).unwrap());
    assert!(
        bad[0]
            .to_string()
            .contains("HANG: the call in STOP did not return"),
        "{}",
        bad[0]
    );
}

/// Incomplete or doubled outputs are errors, never a pass.
#[test]
fn incomplete_outputs_are_errors() {
    let good = fixture("linux-6.12.117.txt");
    let first_case = good.lines().find(|l| !l.starts_with('#')).unwrap();
    let short = good.replacen(&format!("{first_case}\n"), "", 1);
    assert!(next_state::parse(&short)
        .unwrap_err()
        .contains("1 of the 256 cases are missing, first flags=1 from=0 to=0"));
    let doubled = format!("{good}{first_case}\n");
    assert!(next_state::parse(&doubled)
        .unwrap_err()
        .contains("already given on line 4"));
    assert!(next_state::parse("").unwrap_err().contains("256 of the 256"));
    assert!(next_state::parse(&"#".repeat(2 << 20))
        .unwrap_err()
        .contains("larger than"));
}

/// V2-TIME-001: `vfio-mig uapi-check --next-state` exits 0 on an output
/// that agrees, 1 on the loop with its line, 2 on a file that is not one.
#[test]
fn uapi_check_next_state_exit_codes() {
    let run = |name: &str| {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/next-state")
            .join(name);
        std::process::Command::new(env!("CARGO_BIN_EXE_vfio-mig"))
            .args(["uapi-check", "--next-state", p.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let ok = run("linux-6.12.117.txt");
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("agrees with the model in all 256 cases"));
    let bad = run("loop.txt");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("flags=7 STOP_COPY -> PRE_COPY: LOOP"));
    let none = run("no-such-file.txt");
    assert_eq!(none.status.code(), Some(2));
}
