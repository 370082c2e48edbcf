//! The rules only vfio-user has (V2-VU-001..004), which the generic suites
//! cannot reach because the adapter hides the messages behind the model's
//! operations, checked on the run's own connection; and what the adapter
//! saw during the suites that is a verdict of its own: refused resets
//! (V2-ERR-002) and a server that stopped answering (V2-TIME-001).

use super::adapter::Link;
use super::conn::{errno, Fail, CLIENT_MAX_XFER};
use std::time::Duration;
use vfio_mig_engine::check::Status;
use vfio_mig_engine::verdict::{SuiteId, Verdict};
use vfio_mig_model::reqs::{V2_ERR_002, V2_TIME_001, V2_VU_001, V2_VU_002, V2_VU_003, V2_VU_004};
use vfio_mig_model::v2::{MigState, Outcome};
use vfio_mig_model::Req;
use vfio_mig_vfio_user::{Reply, Request};

/// How a check ended, with what a person should read.
pub(crate) enum Judged {
    /// The rules held.
    Pass(String),
    /// The check could not run, for this reason.
    Skip(String),
    /// A rule broke.
    Fail(String),
}

impl Judged {
    /// The verdict of check `name` of rules `reqs`.
    pub(crate) fn verdict(self, name: String, reqs: &[Req]) -> Verdict {
        match self {
            Judged::Pass(what) => Verdict::passed(SuiteId::Wire, name, reqs, what),
            Judged::Skip(why) => Verdict::skip(SuiteId::Wire, name, reqs, why),
            Judged::Fail(why) => failed(name, reqs, why),
        }
    }
}

impl From<Result<Option<String>, String>> for Judged {
    fn from(r: Result<Option<String>, String>) -> Self {
        match r {
            Ok(None) => Judged::Pass(String::new()),
            Ok(Some(why)) => Judged::Skip(why),
            Err(why) => Judged::Fail(why),
        }
    }
}

/// A failed check of rules `reqs`.
pub(crate) fn failed(name: String, reqs: &[Req], why: String) -> Verdict {
    let mut v = Verdict::passed(SuiteId::Wire, name, reqs, why);
    v.status = Status::Fail;
    v.broken = reqs.to_vec();
    v
}

/// What the adapter saw on `link` while the suites ran: one FAIL of
/// V2-ERR-002 naming the refused resets (the run went on through SETs), one
/// FAIL of V2-TIME-001 naming each stall.
pub fn observed(link: &Link) -> Vec<Verdict> {
    let mut out = Vec::new();
    let who = format!("instance {}", link.instance);
    if let Some(first) = link.refusals.first() {
        let n = link.refusals.len();
        out.push(failed(
            format!("v2/vfio-user/restore/instance-{}/device-reset", link.instance),
            &[V2_ERR_002],
            format!(
                "{first}; {n} restore{} of {who} tried to go back to RUNNING through SETs instead",
                if n == 1 { "" } else { "s" }
            ),
        ));
    }
    for (i, stall) in link.conn.stalls.iter().enumerate() {
        out.push(failed(
            format!("v2/vfio-user/stall/instance-{}/{}", link.instance, i + 1),
            &[V2_TIME_001],
            stall.clone(),
        ));
    }
    out
}

/// The server behind the connection, as far as the suite can see it.
pub trait Peer {
    /// Whether the suite started the server process (and sees its exit).
    fn owned(&self) -> bool;
    /// `Some` once the server process has exited: whether cleanly (status
    /// 0) and how, with the last lines it printed. `None` while it runs, or
    /// when the process is not the suite's.
    fn exited(&mut self, grace: Duration) -> Option<(bool, String)>;
    /// A fresh connection after the last one closed: a new connection to
    /// the socket, or a new server when the suite started the last one.
    fn reopen(&mut self) -> Result<Link, String>;
}

type Check = fn(&mut Link) -> Judged;

/// The wire checks of V2-VU-001..004 on `link` (instance 0's connection),
/// each after a restore; after a check that broke the connection, the next
/// runs on a fresh one when `peer` can give one (a server the run started
/// is started afresh).
pub fn wire_checks(link: &mut Link, peer: &mut dyn Peer) -> Vec<Verdict> {
    let checks: [(&str, Req, Check); 4] = [
        ("data-outside-data-states", V2_VU_001, |l| {
            data_outside_data_states(l).into()
        }),
        ("over-max-data-xfer-size", V2_VU_002, over_max_xfer),
        ("read-replies-within-the-size-asked", V2_VU_003, |l| {
            read_reply_sizes(l).into()
        }),
        ("errors-keep-the-connection", V2_VU_004, |l| {
            errors_keep_connection(l).into()
        }),
    ];
    let mut out = Vec::new();
    for (name, req, check) in checks {
        let name = format!("v2/vfio-user/wire/{name}");
        if link.conn.broken.is_some() && peer.owned() {
            if let Ok(fresh) = peer.reopen() {
                *link = fresh;
            }
        }
        if let Some(why) = &link.conn.broken {
            out.push(Verdict::skip(
                SuiteId::Wire,
                name,
                &[req],
                format!("not run: the connection broke earlier ({why})"),
            ));
            continue;
        }
        let mut restored = link.restore();
        if restored.is_err() && peer.owned() {
            // A server the run started is started afresh for the check.
            if let Ok(fresh) = peer.reopen() {
                *link = fresh;
                restored = link.restore();
            }
        }
        let result = match restored {
            Ok(()) => check(link),
            Err(e) => Judged::Skip(format!("the device could not be restored first: {e}")),
        };
        let result = match result {
            Judged::Fail(why) if why.starts_with(SETUP) => Judged::Skip(match link.server_note() {
                Some(note) => format!("{why} ({note})"),
                None => why,
            }),
            Judged::Fail(why) => Judged::Fail(match (&link.conn.broken, link.server_note()) {
                (Some(broke), Some(note)) => format!("{why}: {broke} ({note})"),
                (Some(broke), None) if !why.contains(broke.as_str()) => format!("{why}: {broke}"),
                _ => why,
            }),
            other => other,
        };
        out.push(result.verdict(name, &[req]));
    }
    out
}

/// `req` must be refused with EINVAL.
fn refused(l: &mut Link, what: &str, req: Request) -> Result<(), String> {
    match l.conn.call(&req) {
        Err(Fail::Server(22)) => Ok(()),
        Err(Fail::Server(e)) => Err(format!("{what}: refused with {}, not EINVAL", errno(e))),
        Err(f @ Fail::Transport { .. }) => Err(format!("{what}: {}", f.why())),
        Ok(r) => Err(format!("{what}: served ({r:?}) instead of refused")),
    }
}

/// How the message of a check whose own setup (a SET, a restore) failed
/// starts: such a check is SKIP, since its rule was not reached.
const SETUP: &str = "could not be set up: ";

fn set_state(l: &mut Link, s: MigState) -> Result<(), String> {
    match l.set(s.number()) {
        Outcome::SetOk { .. } => Ok(()),
        other => Err(format!("{SETUP}SET {s}: {other}")),
    }
}

fn data_outside_data_states(l: &mut Link) -> Result<Option<String>, String> {
    let read = || Request::MigDataRead { size: 64 };
    let write = || Request::MigDataWrite { data: vec![0; 16] };
    refused(l, "MIG_DATA_READ in RUNNING", read())?;
    refused(l, "MIG_DATA_WRITE in RUNNING", write())?;
    set_state(l, MigState::Stop)?;
    refused(l, "MIG_DATA_READ in STOP", read())?;
    set_state(l, MigState::StopCopy)?;
    refused(l, "MIG_DATA_WRITE in STOP_COPY", write())?;
    set_state(l, MigState::Stop)?;
    set_state(l, MigState::Resuming)?;
    refused(l, "MIG_DATA_READ in RESUMING", read())?;
    Ok(None)
}

fn over_max_xfer(l: &mut Link) -> Judged {
    match over_max_parts(l) {
        Err(why) => Judged::Fail(why),
        Ok(skipped) if skipped.len() == 2 => Judged::Skip(skipped.join("; ")),
        Ok(skipped) if skipped.is_empty() => Judged::Pass(String::new()),
        Ok(skipped) => Judged::Pass(format!("checked in part: {}", skipped.join("; "))),
    }
}

fn over_max_parts(l: &mut Link) -> Result<Vec<String>, String> {
    let max = l.conn.announced_xfer;
    let mut skipped = Vec::new();
    set_state(l, MigState::StopCopy)?;
    match u32::try_from(max + 1) {
        Ok(size) => refused(
            l,
            "MIG_DATA_READ of max_data_xfer_size + 1 bytes",
            Request::MigDataRead { size },
        )?,
        Err(_) => skipped.push(format!(
            "a read of max_data_xfer_size + 1 = {} bytes does not fit the 32-bit size",
            max + 1
        )),
    }
    l.restore()
        .map_err(|e| format!("{SETUP}the restore between the read and the write failed: {e}"))?;
    if max < u64::from(CLIENT_MAX_XFER) {
        set_state(l, MigState::Stop)?;
        set_state(l, MigState::Resuming)?;
        refused(
            l,
            "MIG_DATA_WRITE of max_data_xfer_size + 1 bytes",
            Request::MigDataWrite {
                data: vec![0; max as usize + 1],
            },
        )?;
    } else {
        skipped.push(format!(
            "a write of max_data_xfer_size + 1 = {} bytes is more than this client sends ({CLIENT_MAX_XFER} bytes)",
            max + 1
        ));
    }
    Ok(skipped)
}

fn read_reply_sizes(l: &mut Link) -> Result<Option<String>, String> {
    set_state(l, MigState::StopCopy)?;
    let mut total = 0usize;
    for _ in 0..1_000_000 {
        match l.conn.call(&Request::MigDataRead { size: 7 }) {
            Ok(Reply::MigData { data }) if data.len() > 7 => {
                return Err(format!("MIG_DATA_READ of 7 bytes answered {} bytes", data.len()))
            }
            Ok(Reply::MigData { data }) if data.is_empty() => {
                return if total > 0 {
                    Ok(None)
                } else {
                    Err("STOP_COPY: the first MIG_DATA_READ already answered no data".into())
                };
            }
            Ok(Reply::MigData { data }) => total += data.len(),
            Ok(other) => return Err(format!("MIG_DATA_READ answered {other:?}")),
            Err(Fail::Server(e)) => return Err(format!("MIG_DATA_READ failed with {}", errno(e))),
            Err(f) => return Err(f.why()),
        }
    }
    Err("no end of the stream after a million reads of 7 bytes".into())
}

fn errors_keep_connection(l: &mut Link) -> Result<Option<String>, String> {
    use super::conn::Answer;
    // A command number no revision defines.
    let (h, answer) = l.conn.raw(99, 0, &[1, 2, 3], &[])?;
    match answer {
        Some(Answer::Message(r, _)) => {
            if !(r.is_reply() && r.msg_id == h.msg_id && r.command == 99) {
                l.conn.poison("an answer that is not the reply");
                return Err(format!(
                    "the answer to command 99 (id {}, command {}) does not echo it (id {}, command 99)",
                    r.msg_id, r.command, h.msg_id
                ));
            }
            if !r.is_error() {
                return Err("an unknown command was answered without the error flag".into());
            }
        }
        Some(Answer::Closed(e)) => {
            return Err(format!(
                "the server closed the connection after an unknown command: {e}"
            ))
        }
        Some(Answer::Silent(e)) => {
            return Err(format!(
                "command 99 (message id {}) was sent; the server stopped answering after it: {e}",
                h.msg_id
            ))
        }
        None => {}
    }
    match l.get() {
        Ok(n) if n == MigState::Running.number() => Ok(None),
        Ok(n) => Err(format!("after the error the state reads {n}, not RUNNING")),
        Err(f) => Err(format!(
            "the connection is unusable after an error reply: {}",
            f.why()
        )),
    }
}
