//! Both versions of the trace format: `/2` (JSON Lines, appended) judges
//! exactly as `/1`, a `set` gives a resume session's writes their total,
//! lengths above 4 GiB are judged correctly, a `lost` step ends the
//! judgement, and malformed lines are clear errors.

use vfio_mig_model::reqs::{V2_FLAG_003, V2_STREAM_009};
use vfio_mig_model::v2::{DataTag, FdRef, MigrationFlags, Op, Outcome};
use vfio_mig_model::{Profile, ProtocolName};
use vfio_mig_trace::{check, read, write, write_lines, Lost, FORMAT_LINES};

fn profile() -> Profile {
    Profile::defaults(ProtocolName::V2)
}

const HEAD: &str = r#"{"format":"vfio-mig-trace/2","flags":1,"data_size":null}"#;

/// `HEAD` and `lines`, one per line, as the recorder appends them.
fn lines(steps: &[&str]) -> String {
    let mut t = format!("{HEAD}\n");
    for s in steps {
        t.push_str(s);
        t.push('\n');
    }
    t
}

/// A save and a resume (states by number, as a trace has them), then an
/// arc flags 1 do not have.
fn save_then_resume() -> Vec<(Op, Outcome)> {
    let fd0 = FdRef(0);
    let fd1 = FdRef(1);
    vec![
        (Op::SetRaw(3), Outcome::SetOk { fd: true }),
        (Op::Read { fd: fd0, len: 4096 }, Outcome::Bytes(96)),
        (Op::Read { fd: fd0, len: 4096 }, Outcome::Bytes(0)),
        (Op::SetRaw(1), Outcome::SetOk { fd: false }),
        (Op::Close { fd: fd0 }, Outcome::Done),
        (Op::SetRaw(4), Outcome::SetOk { fd: true }),
        (
            Op::Write {
                fd: fd1,
                len: 96,
                data: DataTag::Stream {
                    offset: 0,
                    total: Some(96),
                },
            },
            Outcome::Bytes(96),
        ),
        (Op::SetRaw(1), Outcome::SetOk { fd: false }),
        // STOP -> PRE_COPY is not an arc of flags 1.
        (Op::SetRaw(6), Outcome::SetOk { fd: false }),
    ]
}

#[test]
fn both_versions_of_one_trace_read_and_judge_alike() {
    let flags = MigrationFlags::new(1).unwrap();
    let steps = save_then_resume();
    let one = write(flags, true, vfio_mig_model::Uapi::Linux6_12, &steps);
    let two = write_lines(flags, true, vfio_mig_model::Uapi::Linux6_12, &steps);
    assert!(
        two.starts_with(&format!(r#"{{"format":"{FORMAT_LINES}""#)),
        "{two}"
    );
    assert_eq!(
        two.lines().count(),
        steps.len() + 1,
        "a header and one line per step"
    );
    let (r1, r2) = (read(&one).unwrap(), read(&two).unwrap());
    assert_eq!(r1, r2);
    assert_eq!(r2.steps, steps);
    let (c1, c2) = (check(&one, profile()).unwrap(), check(&two, profile()).unwrap());
    assert_eq!(c1, c2);
    let (at, reqs, _) = c2.violation.expect("the refused arc is caught");
    assert_eq!((at, reqs.as_slice()), (8, &[V2_FLAG_003][..]));
}

#[test]
fn a_set_gives_the_writes_of_its_resume_session_their_total() {
    let resume = |leave: &str| {
        lines(&[
            r#"{"op":"set","state":4,"data_fd":true}"#,
            r#"{"op":"write","fd":0,"len":64,"bytes":64,"stream_offset":0}"#,
            r#"{"op":"write","fd":0,"len":32,"bytes":32,"stream_offset":64}"#,
            leave,
        ])
    };
    // The writes were one whole stream of 96 bytes: leaving RESUMING may
    // succeed.
    let t = resume(r#"{"op":"set","state":1,"data_fd":false,"stream_total":96}"#);
    let c = check(&t, profile()).unwrap();
    assert_eq!((c.steps, c.violation), (4, None));
    let r = read(&t).unwrap();
    assert!(matches!(
        r.steps[1].0,
        Op::Write {
            data: DataTag::Stream {
                offset: 0,
                total: Some(96)
            },
            ..
        }
    ));
    // Without the total the stream is not known to be whole, and a device
    // that accepts it is caught.
    let t = resume(r#"{"op":"set","state":1,"data_fd":false}"#);
    let (at, reqs, _) = check(&t, profile()).unwrap().violation.unwrap();
    assert_eq!((at, reqs.as_slice()), (3, &[V2_STREAM_009][..]));
    // A total that is not the sum of the writes is caught too.
    let t = resume(r#"{"op":"set","state":1,"data_fd":false,"stream_total":100}"#);
    let (at, reqs, _) = check(&t, profile()).unwrap().violation.unwrap();
    assert_eq!((at, reqs.as_slice()), (3, &[V2_STREAM_009][..]));
}

#[test]
fn lengths_above_four_gib_are_judged_without_truncation() {
    // A read of 5 GiB + 16 that moved 96 bytes: truncated to 32 bits the
    // length would be 16, less than the 96 bytes moved, a false violation.
    let five = (5u64 << 30) + 16;
    let t = lines(&[
        r#"{"op":"set","state":3,"data_fd":true}"#,
        &format!(r#"{{"op":"read","fd":0,"len":{five},"bytes":96}}"#),
        &format!(r#"{{"op":"read","fd":0,"len":{},"bytes":0}}"#, u64::MAX),
        r#"{"op":"set","state":1,"data_fd":false}"#,
    ]);
    let c = check(&t, profile()).unwrap();
    assert_eq!((c.steps, c.violation), (4, None));
    // A step claiming to move more than any call can is refused...
    let t = lines(&[
        r#"{"op":"set","state":3,"data_fd":true}"#,
        &format!(r#"{{"op":"read","fd":0,"len":{five},"bytes":{}}}"#, five - 1),
    ]);
    let e = check(&t, profile()).unwrap_err().to_string();
    assert!(e.contains("step 1 (read)") && e.contains("cannot follow"), "{e}");
    // ... and more bytes than asked for is caught.
    let t = lines(&[
        r#"{"op":"set","state":3,"data_fd":true}"#,
        r#"{"op":"read","fd":0,"len":16,"bytes":17}"#,
    ]);
    let (at, _, what) = check(&t, profile()).unwrap().violation.unwrap();
    assert_eq!(at, 1, "{what}");
}

#[test]
fn a_lost_step_ends_the_judgement() {
    let t = lines(&[
        r#"{"op":"set","state":3,"data_fd":true}"#,
        r#"{"op":"lost","count":2}"#,
        // After unseen calls the device may be anywhere: not judged.
        r#"{"op":"set","state":6,"data_fd":false}"#,
    ]);
    let c = check(&t, profile()).unwrap();
    assert_eq!(c.violation, None);
    assert_eq!((c.steps, c.lost), (1, Some(Lost { at: 1, count: 2 })));
    // A violation before it is reported as usual.
    let t = lines(&[
        r#"{"op":"set","state":3,"data_fd":true}"#,
        r#"{"op":"set","state":6,"data_fd":false}"#,
        r#"{"op":"lost","count":1}"#,
    ]);
    let c = check(&t, profile()).unwrap();
    let (at, reqs, _) = c.violation.unwrap();
    assert_eq!(at, 1);
    assert_eq!(reqs, [V2_FLAG_003], "PRE_COPY is not a state of flags 1");
    assert_eq!(c.lost, None);
}

#[test]
fn an_unknown_data_size_is_learned_from_the_trace() {
    let ok = r#"{"op":"data_size","size":4096}"#;
    let t = lines(&[ok]);
    assert!(read(&t).unwrap().data_size);
    assert_eq!(check(&t, profile()).unwrap().violation, None);
    // A header that says the device has no MIG_DATA_SIZE is believed.
    let t = format!("{}\n{ok}\n", HEAD.replace("null", "false"));
    assert!(!read(&t).unwrap().data_size);
    assert!(check(&t, profile()).unwrap().violation.is_some());
}

#[test]
fn malformed_lines_are_clear_errors() {
    for (text, want) in [
        (
            format!("{HEAD}\n\n{{\"op\":\"get\",\"state\":2}}\n"),
            "line 2: empty",
        ),
        (
            format!("{HEAD}\n{{\"op\":\"get\",\"state\":2}}\n{{\"op\":"),
            "line 3: not a step",
        ),
        (
            format!("{HEAD}\n{{\"op\":\"get\",\"colour\":1}}\n"),
            "line 2: not a step",
        ),
        (
            r#"{"format":"vfio-mig-trace/2","flags":1,"extra":0}"#.to_owned(),
            "line 1: not a trace header",
        ),
        (
            "{\"format\":\"vfio-mig-trace/3\",\"flags\":1}\n{\"op\":\"get\",\"state\":2}\n".to_owned(),
            "format `vfio-mig-trace/3`",
        ),
        (HEAD.replace(":1,", ":2,"), "flags 0x2"),
        (
            format!("{HEAD}\n{{\"op\":\"read\",\"fd\":0}}\n"),
            "step 0 (read): no `len`",
        ),
        (
            format!("{HEAD}\n{{\"op\":\"jump\"}}\n"),
            "step 0 (jump): not an operation",
        ),
        (String::new(), "not a trace"),
    ] {
        let e = check(&text, profile()).unwrap_err().to_string();
        assert!(e.contains(want), "{text:?}: {e}");
    }
    // The newline that ends the last line is optional.
    let t = format!("{HEAD}\n{{\"op\":\"get\",\"state\":2}}");
    assert_eq!(check(&t, profile()).unwrap().steps, 1);
}
