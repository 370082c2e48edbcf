//! Offline trace checking: traces written by a run check clean without the
//! device, a broken device's trace fails offline on the same rule, and
//! hand-made wrong or malformed traces get the step and the rule, or a clear
//! error.

mod common;

use vfio_mig_engine::check::Status;
use vfio_mig_engine::verdict::Verdict;
use vfio_mig_mock::{MockConfig, Mutant};
use vfio_mig_model::reqs::{V2_ARC_007, V2_ARC_008, V2_STREAM_009};
use vfio_mig_model::v2::MigrationFlags;
use vfio_mig_model::{Profile, ProtocolName};
use vfio_mig_trace::check;

fn profile() -> Profile {
    Profile::defaults(ProtocolName::V2)
}

const FLAGS: usize = 3;

fn run(mutant: Option<Mutant>) -> Vec<Verdict> {
    let mut config = MockConfig::v2(MigrationFlags::accepted()[FLAGS]);
    config.mutant = mutant;
    common::run_v2(config)
}

/// The source's trace of the check in the JSON trace format, as
/// `run --traces` writes it.
fn json(v: &Verdict) -> Option<String> {
    let pairs = v.trace.v2_pairs_on(0);
    (!pairs.is_empty()).then(|| {
        vfio_mig_trace::write(
            MigrationFlags::accepted()[FLAGS],
            true,
            vfio_mig_model::Uapi::Linux7_3,
            &pairs,
        )
    })
}

#[test]
fn traces_of_a_run_check_the_same_offline() {
    let verdicts = run(None);
    let mut checked = 0;
    // Checks that inject faults rely on knowing it, and the trace format
    // does not record injections yet: those are left out.
    // A check that reopens a device has two device lives in one trace,
    // which the format cannot say: not written either.
    let injects = |v: &&Verdict| v.trace.injects() || v.trace.reopens();
    for v in verdicts.iter().filter(|v| !injects(v)) {
        let Some(json) = json(v) else { continue };
        let c = check(&json, profile()).unwrap();
        assert!(c.violation.is_none(), "{}: {:?}", v.name, c.violation);
        checked += 1;
    }
    assert!(checked > 50, "{checked} traces");
    // A broken device's failing check fails offline on the same rule.
    let verdicts = run(Some(Mutant::SetErrorAccepted));
    let v = verdicts
        .iter()
        .find(|v| v.status == Status::Fail && v.breaks(V2_ARC_008))
        .unwrap();
    let c = check(&json(v).unwrap(), profile()).unwrap();
    let (_, reqs, what) = c.violation.expect("the offline check fails too");
    assert!(reqs.contains(&V2_ARC_008), "{what}");
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
    let (at, reqs, what) = check(&t, profile()).unwrap().violation.unwrap();
    assert_eq!(at, 2);
    assert!(reqs.contains(&V2_ARC_007), "{what}");
    // A resume of garbage accepted.
    let t = format!(
        r#"{HEAD}
        {{"op": "set", "state": 4, "data_fd": true}},
        {{"op": "write", "fd": 0, "len": 96, "bytes": 96}},
        {{"op": "set", "state": 1, "data_fd": false}}]}}"#
    );
    let (at, reqs, _) = check(&t, profile()).unwrap().violation.unwrap();
    assert_eq!((at, reqs.as_slice()), (2, &[V2_STREAM_009][..]));
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
            "step 0 (jump): not an operation of this format",
        ),
        (
            &format!(r#"{HEAD} {{"op": "get", "colour": 1}}]}}"#),
            "unknown field `colour`",
        ),
    ] {
        let e = check(text, profile()).unwrap_err().to_string();
        assert!(e.contains(want), "{text}: {e}");
    }
}
