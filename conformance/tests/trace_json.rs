//! Offline trace checking: traces written by a run check clean without the
//! device, a broken device's trace fails offline on the same rule, and
//! hand-made wrong or malformed traces get the step and the rule, or a clear
//! error.

use vfio_mig_conformance::check::Status;
use vfio_mig_conformance::mock::{MockConfig, MockFactory, Mutant};
use vfio_mig_conformance::suites::{self, Options};
use vfio_mig_conformance::trace_json::check;
use vfio_mig_model::v2::MigrationFlags;
use vfio_mig_model::{Profile, ProtocolKind};

fn profile() -> Profile {
    Profile::defaults(ProtocolKind::V2)
}

fn run(mutant: Option<Mutant>) -> Vec<vfio_mig_conformance::verdict::Verdict> {
    let mut config = MockConfig::v2(MigrationFlags::accepted()[3]);
    config.mutant = mutant;
    suites::run_v2(&MockFactory { config }, profile(), &Options::default())
}

#[test]
fn traces_of_a_run_check_the_same_offline() {
    let verdicts = run(None);
    let mut checked = 0;
    // Checks that inject faults rely on knowing it, and the trace format
    // does not record injections yet: those are left out.
    let injects = |v: &&vfio_mig_conformance::verdict::Verdict| {
        matches!(v.suite, "faults" | "sweep")
            || v.name.contains("/arc/ERROR->")
            || v.name.contains("short-reads")
    };
    for v in verdicts.iter().filter(|v| !injects(v)) {
        let Some(json) = &v.json_trace else { continue };
        let c = check(json, profile()).unwrap();
        assert!(c.violation.is_none(), "{}: {:?}", v.name, c.violation);
        checked += 1;
    }
    assert!(checked > 50, "{checked} traces");
    // A broken device's failing check fails offline on the same rule.
    let verdicts = run(Some(Mutant::SetErrorAccepted));
    let v = verdicts
        .iter()
        .find(|v| v.status == Status::Fail && v.breaks("V2-ARC-008"))
        .unwrap();
    let c = check(v.json_trace.as_deref().unwrap(), profile()).unwrap();
    let (_, f) = c.violation.expect("the offline check fails too");
    assert!(f.reqs.contains(&"V2-ARC-008"), "{f}");
}

const HEAD: &str = r#"{"format": "vfio-mig-trace/1", "flags": 5, "steps": ["#;

#[test]
fn hand_made_wrong_traces_name_the_step_and_the_rule() {
    // STOP_COPY -> PRE_COPY accepted.
    let t = format!(
        r#"{HEAD}
        {{"op": "set", "state": 3, "data_fd": true}},
        {{"op": "read", "fd": 0, "len": 64, "bytes": 64}},
        {{"op": "set", "state": 6, "data_fd": false}}]}}"#
    );
    let (at, f) = check(&t, profile()).unwrap().violation.unwrap();
    assert_eq!(at, 2);
    assert!(f.reqs.contains(&"V2-ARC-007"), "{f}");
    // A resume of garbage accepted.
    let t = format!(
        r#"{HEAD}
        {{"op": "set", "state": 4, "data_fd": true}},
        {{"op": "write", "fd": 0, "len": 96, "bytes": 96}},
        {{"op": "set", "state": 1, "data_fd": false}}]}}"#
    );
    let (at, f) = check(&t, profile()).unwrap().violation.unwrap();
    assert_eq!((at, f.reqs.as_slice()), (2, &["V2-STREAM-006"][..]));
    // A correct save.
    let t = format!(
        r#"{HEAD}
        {{"op": "set", "state": 3, "data_fd": true}},
        {{"op": "read", "fd": 0, "len": 4096, "bytes": 96}},
        {{"op": "read", "fd": 0, "len": 4096, "bytes": 0}},
        {{"op": "set", "state": 1, "data_fd": false}},
        {{"op": "read", "fd": 0, "len": 4096, "errno": 19}}]}}"#
    );
    let c = check(&t, profile()).unwrap();
    assert_eq!((c.steps, c.violation), (5, None));
}

#[test]
fn malformed_traces_are_clear_errors() {
    for (text, want) in [
        ("{", "not a trace"),
        (
            r#"{"format": "other", "flags": 1, "steps": []}"#,
            "format `other`",
        ),
        (
            r#"{"format": "vfio-mig-trace/1", "flags": 2, "steps": []}"#,
            "flags 0x2",
        ),
        (
            &format!(r#"{HEAD} {{"op": "read", "fd": 0, "bytes": 1}}]}}"#),
            "step 0 (read): no `len`",
        ),
        (
            &format!(r#"{HEAD} {{"op": "jump"}}]}}"#),
            "step 0: unknown op `jump`",
        ),
        (
            &format!(r#"{HEAD} {{"op": "get", "colour": 1}}]}}"#),
            "unknown field `colour`",
        ),
    ] {
        let e = check(text, profile()).unwrap_err();
        assert!(e.contains(want), "{text}: {e}");
    }
}
