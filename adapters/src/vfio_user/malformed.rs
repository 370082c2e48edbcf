//! The malformed-message suite: what a server does with requests no correct
//! client sends. A vfio-user server has no kernel validating what reaches
//! it: it parses untrusted bytes (*Security Considerations*: "vfio-user
//! clients should not trust servers, and vice versa ... prevent against
//! denial of service scenarios, buffer overflow"). For each case the server
//! must answer with an error reply (the header alone, *Header*) and keep
//! serving the connection, or close the connection; a server that crashes,
//! stops answering, or serves the request as if it were valid fails.
//!
//! Cases run on the run's own connection. One that ends with the
//! connection closed needs a fresh one for the next case: a new connection
//! to the same socket, or, when the suite started the server itself, a new
//! server; when neither can be had, the later cases are SKIP with that
//! reason.

use super::adapter::Link;
use super::conn::{errno, Answer, CLIENT_MAX_XFER};
use super::wire::{Judged, Peer};
use std::os::fd::AsFd;
use std::time::Duration;
use vfio_mig_engine::verdict::{SuiteId, Verdict};
use vfio_mig_model::reqs::{V2_VU_005, V2_VU_006, V2_VU_007, V2_VU_008, V2_VU_009, V2_VU_010};
use vfio_mig_model::v2::{MigState, Outcome};
use vfio_mig_model::Req;
use vfio_mig_vfio_user::codec::{
    FEATURE_GET, FEATURE_MIGRATION, FEATURE_MIG_DEVICE_STATE, FEATURE_PROBE, FEATURE_SET, FLAG_NO_REPLY,
    HEADER_LEN,
};
use vfio_mig_vfio_user::{Command, Header};

/// A message to send as it is: command number, flags, payload.
type Message = (u16, u32, Vec<u8>);

/// How one case sends its message.
struct Case {
    name: &'static str,
    reqs: &'static [Req],
    /// The device state the case starts in.
    from: MigState,
    /// Command number, flags, payload.
    message: fn(&Link) -> Option<Message>,
    /// Why the case cannot run on this server, if it cannot.
    what: &'static str,
}

fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

const GET_STATE: u32 = FEATURE_GET | FEATURE_MIG_DEVICE_STATE;
const SET_STATE: u32 = FEATURE_SET | FEATURE_MIG_DEVICE_STATE;
const FEATURE: u16 = 16;

/// The cases from a state other than RUNNING come last: a server that
/// cannot be reset there may not survive the restore after them.
fn late_cases() -> Vec<Case> {
    vec![Case {
        name: "argsz-below-the-reply/mig-data-read",
        reqs: &[V2_VU_006],
        from: MigState::StopCopy,
        what: "MIG_DATA_READ of 16 bytes with argsz 8, no room for the data",
        message: |_| Some((Command::MigDataRead.number(), 0, words(&[8, 16]))),
    }]
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "size-below-the-header",
            reqs: &[V2_VU_005],
            from: MigState::Running,
            what: "a header whose message size (8) is smaller than the 16-byte header",
            message: |_| Some((u16::MAX, 0, Vec::new())),
        },
        Case {
            name: "unknown-command",
            reqs: &[V2_VU_005],
            from: MigState::Running,
            what: "command 14, which this revision leaves unused",
            message: |_| Some((14, 0, Vec::new())),
        },
        Case {
            name: "argsz-below-the-reply/device-get-info",
            reqs: &[V2_VU_006],
            from: MigState::Running,
            what: "DEVICE_GET_INFO with argsz 8, below its 16-byte reply",
            message: |_| Some((4, 0, words(&[8, 0, 0, 0]))),
        },
        Case {
            name: "argsz-below-the-reply/feature-get",
            reqs: &[V2_VU_006],
            from: MigState::Running,
            what: "GET MIG_DEVICE_STATE with argsz 8, below its 16-byte reply",
            message: |_| Some((FEATURE, 0, words(&[8, GET_STATE]))),
        },
        Case {
            name: "payload-below-the-struct/device-feature",
            reqs: &[V2_VU_006],
            from: MigState::Running,
            what: "DEVICE_FEATURE whose payload (4 bytes) stops inside its argsz and flags",
            message: |_| Some((FEATURE, 0, words(&[16]))),
        },
        Case {
            name: "feature/set-without-data",
            reqs: &[V2_VU_007],
            from: MigState::Running,
            what: "SET MIG_DEVICE_STATE without the 8 bytes of device_state and data_fd",
            message: |_| Some((FEATURE, 0, words(&[16, SET_STATE]))),
        },
        Case {
            name: "feature/get-and-set",
            reqs: &[V2_VU_007],
            from: MigState::Running,
            what: "DEVICE_FEATURE with GET and SET together, without PROBE",
            message: |_| Some((FEATURE, 0, words(&[16, GET_STATE | FEATURE_SET, 2, 0]))),
        },
        Case {
            name: "feature/unknown-feature",
            reqs: &[V2_VU_007],
            from: MigState::Running,
            what: "GET of feature 3, which no vfio-user revision defines",
            message: |_| Some((FEATURE, 0, words(&[16, FEATURE_GET | 3]))),
        },
        Case {
            name: "feature/probe-of-unknown-feature",
            reqs: &[V2_VU_010],
            from: MigState::Running,
            what: "PROBE of feature 3",
            message: |_| Some((FEATURE, 0, words(&[8, FEATURE_PROBE | 3]))),
        },
        Case {
            name: "over-the-maximum-size",
            reqs: &[V2_VU_005],
            from: MigState::Running,
            what: "a DEVICE_FEATURE of more bytes than max_data_xfer_size, sent whole",
            message: |l| {
                let extra = usize::try_from(l.conn.announced_xfer).ok()?.checked_add(4096)?;
                if extra > CLIENT_MAX_XFER as usize {
                    return None;
                }
                let mut p = words(&[16, SET_STATE, 2, 0]);
                p.resize(p.len() + extra, 0);
                Some((FEATURE, 0, p))
            },
        },
    ]
}

/// How a SKIP for a device that could not be restored before a case starts.
const RESTORE_FAILED: &str = "the device could not be restored first";

/// The last lines of a server's output, for a failure message.
fn crashed(how: &str) -> String {
    format!("the server process died: {how}")
}

/// One case on `link`: its verdict, and whether the connection is still
/// usable afterwards.
fn run_case(link: &mut Link, peer: &mut dyn Peer, case: &Case) -> (Verdict, bool) {
    let name = format!("v2/vfio-user/malformed/{}", case.name);
    let Some((command, flags, payload)) = (case.message)(link) else {
        return (
            Verdict::skip(
                SuiteId::Wire,
                name,
                case.reqs,
                format!(
                    "{}: the server announces max_data_xfer_size {}, more than this client sends",
                    case.what, link.conn.announced_xfer
                ),
            ),
            true,
        );
    };
    if let Err(e) = link.restore() {
        return (
            Verdict::skip(SuiteId::Wire, name, case.reqs, format!("{RESTORE_FAILED}: {e}")),
            link.conn.broken.is_none(),
        );
    }
    if case.from != MigState::Running {
        for s in [MigState::Stop, case.from] {
            if let other @ (Outcome::Err(_) | Outcome::State(_) | Outcome::Bytes(_) | Outcome::Done) =
                link.set(s.number())
            {
                return (
                    Verdict::skip(
                        SuiteId::Wire,
                        name,
                        case.reqs,
                        format!("SET {s} failed first: {other}"),
                    ),
                    link.conn.broken.is_none(),
                );
            }
        }
    }
    let sent = if command == u16::MAX {
        // A header announcing 8 bytes: written raw, since the framer
        // would put the true size in.
        let h = Header {
            msg_id: link.conn.last_id().wrapping_add(1),
            command: Command::DeviceGetInfo.number(),
            size: 8,
            flags: 0,
            error: 0,
        };
        match link.conn.write_bytes(&h.encode()) {
            Ok(()) => Ok((h, Some(link.conn.read_any()))),
            Err(e) => Ok((h, Some(Answer::Closed(vfio_mig_vfio_user::FrameError::Io(e))))),
        }
    } else {
        link.conn.raw(command, flags, &payload, &[])
    };
    let (h, answer) = match sent {
        Ok(x) => x,
        Err(why) => return (Verdict::skip(SuiteId::Wire, name, case.reqs, why), false),
    };
    let what = format!(
        "{} (message id {}, {} bytes)",
        case.what,
        h.msg_id,
        HEADER_LEN + payload.len()
    );
    let judged = judge(link, peer, case, &h, answer, &what);
    let usable = link.conn.broken.is_none();
    (judged.verdict(name, case.reqs), usable)
}

/// The verdict of a case whose message `h` got `answer`.
fn judge(
    link: &mut Link,
    peer: &mut dyn Peer,
    case: &Case,
    h: &Header,
    answer: Option<Answer>,
    what: &str,
) -> Judged {
    let ms = link.conn.timeout.as_millis();
    match answer {
        None => Judged::Fail(format!("{what}: no answer was read")),
        Some(Answer::Closed(e)) => {
            link.conn.poison("the server closed the connection");
            match peer.exited(Duration::from_millis(500)) {
                Some((false, how)) => Judged::Fail(format!("{what} was sent; {}", crashed(&how))),
                Some((true, _)) => Judged::Pass(format!(
                    "{what}: the server closed the connection ({e}) and its process ended with status 0"
                )),
                None if peer.owned() => Judged::Pass(format!(
                    "{what}: the server closed the connection ({e}); its process still runs"
                )),
                None => Judged::Pass(format!(
                    "{what}: the server closed the connection ({e}); whether its process survived is not seen without --server-cmd"
                )),
            }
        }
        Some(Answer::Silent(e)) => {
            link.conn.poison("the server stopped answering");
            if let Some((false, how)) = peer.exited(Duration::from_millis(100)) {
                return Judged::Fail(format!("{what} was sent; {}", crashed(&how)));
            }
            Judged::Fail(format!(
                "{what} was sent; the server stopped answering after it: {e} (deadline {ms} ms)"
            ))
        }
        Some(Answer::Message(r, p)) => {
            if !(r.is_reply() && r.msg_id == h.msg_id && r.command == h.command) {
                link.conn.poison("an answer that is not the reply");
                return Judged::Fail(format!(
                    "{what} was sent; the answer (id {}, command {}, flags {:#x}) is not its reply: the server lost the framing",
                    r.msg_id, r.command, r.flags
                ));
            }
            if !r.is_error() {
                return Judged::Fail(format!(
                    "{what} was served ({} bytes of reply) instead of refused",
                    p.len()
                ));
            }
            if !p.is_empty() {
                return Judged::Fail(format!(
                    "{what}: the error reply carries {} bytes of payload; an error reply is the header alone",
                    p.len()
                ));
            }
            if let Some((false, how)) = peer.exited(Duration::ZERO) {
                return Judged::Fail(format!("{what} was refused; then {}", crashed(&how)));
            }
            // Still usable, and nothing changed.
            match link.get() {
                Ok(n) if n == case.from.number() => Judged::Pass(format!(
                    "{what}: refused with {}; the connection still serves and the state is still {}",
                    errno(r.error),
                    case.from
                )),
                Ok(n) => Judged::Fail(format!(
                    "{what} was refused with {}, but the state is now {n}, not {}",
                    errno(r.error),
                    case.from
                )),
                Err(f) => Judged::Fail(format!(
                    "{what} was refused with {}, but then the connection failed: {}",
                    errno(r.error),
                    f.why()
                )),
            }
        }
    }
}

/// Descriptors sent with a command that takes none (V2-VU-008): the
/// command is answered as without them (or refused), and the server does
/// not keep them: the write end of a pipe goes along, and once the reply is
/// in, the read end must see the end of file within the deadline.
fn fds_where_none_belong(link: &mut Link) -> Result<Option<String>, String> {
    let (mut rd, wr) = std::io::pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
    let payload = words(&[16, GET_STATE]);
    let (h, answer) = link.conn.raw(FEATURE, 0, &payload, &[wr.as_fd()])?;
    drop(wr);
    let what = format!(
        "GET MIG_DEVICE_STATE with a pipe's descriptor beside it (message id {})",
        h.msg_id
    );
    match answer {
        Some(Answer::Message(r, _)) if r.is_reply() && r.msg_id == h.msg_id && r.command == h.command => {}
        Some(Answer::Message(r, _)) => {
            link.conn.poison("an answer that is not the reply");
            return Err(format!(
                "{what}: the answer (id {}, command {}) is not its reply",
                r.msg_id, r.command
            ));
        }
        Some(Answer::Closed(_)) => return Ok(None),
        Some(Answer::Silent(e)) => {
            return Err(format!(
                "{what} was sent; the server stopped answering after it: {e}"
            ))
        }
        None => return Err(format!("{what}: no answer was read")),
    }
    // The read end sees the end of file once no write end is left: ours is
    // closed, so only the server's copy can hold it open.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut b = [0u8; 1];
        let _ = tx.send(std::io::Read::read(&mut rd, &mut b));
    });
    match rx.recv_timeout(link.conn.timeout) {
        Ok(Ok(0)) => {}
        Ok(Ok(_)) => return Err(format!("{what}: the server wrote into the descriptor")),
        Ok(Err(e)) => return Err(format!("{what}: reading the pipe failed: {e}")),
        Err(_) => {
            return Err(format!(
                "{what}: the server still holds the descriptor {} ms after answering",
                link.conn.timeout.as_millis()
            ))
        }
    }
    match link.get() {
        Ok(_) => Ok(None),
        Err(f) => Err(format!("{what}: the connection failed afterwards: {}", f.why())),
    }
}

/// A command with No_reply (V2-VU-009) gets no reply and is carried out
/// before the next command's reply (*Header*, *Command Concurrency*): a SET
/// to STOP with No_reply, then a GET whose reply must be the first answer
/// and read STOP; then an unknown command with No_reply, and a GET again.
fn no_reply(link: &mut Link) -> Result<Option<String>, String> {
    for (what, command, payload, expect) in [
        (
            "SET MIG_DEVICE_STATE = STOP with No_reply",
            FEATURE,
            words(&[16, SET_STATE, MigState::Stop.number(), 0]),
            MigState::Stop,
        ),
        ("command 14 with No_reply", 14, Vec::new(), MigState::Stop),
    ] {
        let (h, _) = link.conn.raw(command, FLAG_NO_REPLY, &payload, &[])?;
        let (g, answer) = link.conn.raw(FEATURE, 0, &words(&[16, GET_STATE]), &[])?;
        match answer {
            Some(Answer::Message(r, p)) if r.msg_id == g.msg_id && r.command == FEATURE && r.is_reply() => {
                if r.is_error() {
                    return Err(format!(
                        "after {what}, the GET (message id {}) was refused with {}",
                        g.msg_id,
                        errno(r.error)
                    ));
                }
                let state = p.get(8..12).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                if state != Some(expect.number()) {
                    return Err(format!(
                        "after {what}, the GET read {state:?}, not {expect}: the command was not carried out before the next reply"
                    ));
                }
            }
            Some(Answer::Message(r, _)) if r.msg_id == h.msg_id => {
                link.conn.poison("a reply to a command that asked for none");
                return Err(format!(
                    "{what} (message id {}) was answered (flags {:#x}) although it asked for no reply",
                    h.msg_id, r.flags
                ));
            }
            Some(Answer::Message(r, _)) => {
                link.conn.poison("an answer that is not the reply");
                return Err(format!(
                    "after {what}, the answer (id {}, command {}) is not the reply to the GET (id {})",
                    r.msg_id, r.command, g.msg_id
                ));
            }
            Some(Answer::Closed(e)) => {
                return Err(format!("after {what} the server closed the connection: {e}"))
            }
            Some(Answer::Silent(e)) => {
                return Err(format!(
                    "after {what} and a GET the server stopped answering: {e}"
                ))
            }
            None => return Err("no answer to the GET was read".into()),
        }
    }
    Ok(None)
}

/// PROBE and GET replies (V2-VU-010): a PROBE naming GET and SET of
/// MIG_DEVICE_STATE succeeds and its reply is the request payload; a GET of
/// MIGRATION appends 8 bytes of data and says so in argsz.
fn probe_and_get(link: &mut Link) -> Result<Option<String>, String> {
    let probe = words(&[
        8,
        FEATURE_PROBE | FEATURE_GET | FEATURE_SET | FEATURE_MIG_DEVICE_STATE,
    ]);
    let (h, answer) = link.conn.raw(FEATURE, 0, &probe, &[])?;
    match answer {
        Some(Answer::Message(r, p)) if r.msg_id == h.msg_id && r.is_reply() => {
            if r.is_error() {
                return Err(format!(
                    "PROBE of GET and SET of MIG_DEVICE_STATE was refused with {}",
                    errno(r.error)
                ));
            }
            if p != probe {
                return Err(format!(
                    "the PROBE reply {p:02x?} is not the request payload {probe:02x?}"
                ));
            }
        }
        other => return Err(format!("PROBE of MIG_DEVICE_STATE: {other:?}")),
    }
    let (h, answer) = link
        .conn
        .raw(FEATURE, 0, &words(&[16, FEATURE_GET | FEATURE_MIGRATION]), &[])?;
    match answer {
        Some(Answer::Message(r, p)) if r.msg_id == h.msg_id && r.is_reply() && !r.is_error() => {
            let argsz = p.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            if p.len() != 16 || argsz != Some(16) {
                return Err(format!(
                    "GET MIGRATION: a reply of {} bytes with argsz {argsz:?}; the request's 8 bytes and 8 of data with argsz 16 expected",
                    p.len()
                ));
            }
            Ok(None)
        }
        other => Err(format!("GET MIGRATION: {other:?}")),
    }
}

/// A header cut short, then the connection closed (V2-VU-005): the server
/// must survive. Seen by the server's exit status when the suite started
/// it, else by a new connection it accepts.
fn truncated_header(link: &mut Link, peer: &mut dyn Peer) -> Judged {
    let h = Header {
        msg_id: link.conn.last_id().wrapping_add(1),
        command: Command::DeviceGetInfo.number(),
        size: 32,
        flags: 0,
        error: 0,
    };
    if let Err(e) = link.conn.write_bytes(&h.encode()[..7]) {
        return Judged::Skip(format!("the first 7 bytes of a header could not be sent: {e}"));
    }
    link.conn.close();
    if peer.owned() {
        return match peer.exited(Duration::from_millis(1000)) {
            Some((false, how)) => Judged::Fail(format!(
                "7 bytes of a header were sent and the connection closed; {}",
                crashed(&how)
            )),
            Some((true, how)) => Judged::Pass(format!(
                "7 bytes of a header were sent and the connection closed; the server ended cleanly ({how})"
            )),
            None => Judged::Pass(
                "7 bytes of a header were sent and the connection closed; the server still runs".into(),
            ),
        };
    }
    match peer.reopen() {
        Ok(l) => {
            *link = l;
            Judged::Pass("7 bytes of a header were sent and the connection closed; the server accepted a new connection".into())
        }
        Err(why) => Judged::Skip(format!(
            "whether the server survived cannot be seen: it accepts no new connection ({why}) and was not started with --server-cmd"
        )),
    }
}

/// Every case of the suite, starting on `link` (instance 0's connection,
/// replaced by a fresh one when a case closes it). A case before which the
/// device could not be restored runs once more on a fresh server when the
/// suite started the server.
pub fn malformed_suite(link: &mut Link, peer: &mut dyn Peer) -> Vec<Verdict> {
    let mut out = Vec::new();
    let mut closed_by: Option<String> = None;
    type Extra = fn(&mut Link) -> Result<Option<String>, String>;
    let extras: [(&str, &[Req], Extra); 3] = [
        ("probe-and-get-replies", &[V2_VU_010], probe_and_get),
        (
            "descriptors-where-none-belong",
            &[V2_VU_008],
            fds_where_none_belong,
        ),
        ("no-reply", &[V2_VU_009], no_reply),
    ];
    enum Step {
        Case(Case),
        Extra(&'static str, &'static [Req], Extra),
    }
    let steps: Vec<Step> = cases()
        .into_iter()
        .map(Step::Case)
        .chain(extras.into_iter().map(|(n, r, f)| Step::Extra(n, r, f)))
        .chain(late_cases().into_iter().map(Step::Case))
        .collect();
    for step in steps {
        let (short, reqs) = match &step {
            Step::Case(c) => (c.name, c.reqs),
            Step::Extra(n, r, _) => (*n, *r),
        };
        let name = format!("v2/vfio-user/malformed/{short}");
        let mut tries = if peer.owned() { 2 } else { 1 };
        loop {
            tries -= 1;
            if let Err(why) = need(link, &closed_by, peer) {
                out.push(Verdict::skip(SuiteId::Wire, name, reqs, why));
                break;
            }
            let v = match &step {
                Step::Case(case) => run_case(link, peer, case).0,
                Step::Extra(_, _, check) => {
                    let judged: Judged = match link.restore() {
                        Ok(()) => match (Judged::from(check(link)), peer.exited(Duration::ZERO)) {
                            (_, Some((false, how))) => Judged::Fail(crashed(&how)),
                            (r, _) => r,
                        },
                        Err(e) => Judged::Skip(format!("{RESTORE_FAILED}: {e}")),
                    };
                    judged.verdict(name.clone(), reqs)
                }
            };
            if link.conn.broken.is_some() {
                closed_by = Some(short.to_owned());
            }
            let retry = v.detail.starts_with(RESTORE_FAILED) && tries > 0;
            if retry {
                link.conn.poison("restarted for the next case");
                continue;
            }
            out.push(v);
            break;
        }
    }
    let name = "v2/vfio-user/malformed/truncated-header-then-close".to_owned();
    match need(link, &closed_by, peer) {
        Err(why) => out.push(Verdict::skip(SuiteId::Wire, name, &[V2_VU_005], why)),
        Ok(()) => out.push(truncated_header(link, peer).verdict(name, &[V2_VU_005])),
    }
    out
}

/// A usable connection: the one there is, or a fresh one.
fn need(link: &mut Link, closed_by: &Option<String>, peer: &mut dyn Peer) -> Result<(), String> {
    if link.conn.broken.is_none() {
        return Ok(());
    }
    match peer.reopen() {
        Ok(l) => {
            *link = l;
            Ok(())
        }
        Err(why) => Err(format!(
            "needs a fresh connection{}, and the server accepts none ({why})",
            closed_by
                .as_deref()
                .map(|c| format!(" (case {c} ended the last one)"))
                .unwrap_or_default()
        )),
    }
}
