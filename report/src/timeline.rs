//! The calls of a concurrency check drawn as a timeline: one row per call,
//! with its thread, a bar from the moment it was made to the moment it
//! returned on a scale shared by all rows, and the call with its outcome.
//! A failure adds the smallest history found that no order explains either,
//! with the calls that could not be placed marked, how far an allowed order
//! got, and what the model allowed instead; a deadlock adds every thread's
//! last call.

use vfio_mig_engine::concurrent::{History, Record};
use vfio_mig_engine::verdict::Observed;
use vfio_mig_model::join_ids;
use vfio_mig_model::v2::Fsm;

/// Columns of the bars.
const WIDTH: usize = 40;

fn micros(d: std::time::Duration) -> u128 {
    d.as_micros()
}

/// One row per call of `h`; the calls in `marked` (indices) start with `!`.
fn rows(h: &History<Fsm>, marked: &[usize], out: &mut Vec<String>) {
    let (Some(first), end) = (h.records.iter().map(|r| r.invoked).min(), h.end()) else {
        out.push("  (no call)".to_owned());
        return;
    };
    let span = (end.saturating_sub(first)).as_nanos().max(1);
    let col = |t: std::time::Duration| -> usize {
        let x = t.saturating_sub(first).as_nanos() * (WIDTH as u128 - 1) / span;
        x as usize
    };
    out.push(format!(
        "  call thread |{:<w$}| from..to (us)  operation -> outcome",
        format!("{} us .. {} us", 0, micros(end.saturating_sub(first))),
        w = WIDTH
    ));
    for (i, r) in h.records.iter().enumerate() {
        let (a, b) = (col(r.invoked), col(r.returned).max(col(r.invoked)));
        let mut bar = vec![' '; WIDTH];
        for c in bar.iter_mut().take(b + 1).skip(a) {
            *c = '=';
        }
        let mark = if marked.contains(&i) { '!' } else { ' ' };
        out.push(format!(
            "{mark}{:>4} {:>6} |{}| {}..{}  {}",
            i + 1,
            thread(r),
            bar.into_iter().collect::<String>(),
            micros(r.invoked.saturating_sub(first)),
            micros(r.returned.saturating_sub(first)),
            call(r)
        ));
    }
}

fn thread(r: &Record<Fsm>) -> String {
    if r.thread == 0 {
        "main".to_owned()
    } else {
        r.thread.to_string()
    }
}

fn call(r: &Record<Fsm>) -> String {
    format!("{} -> {}", r.op, r.outcome)
}

/// The timeline of a concurrency check, as lines of text.
pub fn timeline(observed: &Observed) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(stall) = &observed.stall {
        out.push("The race did not finish; what every thread was doing:".to_owned());
        for t in &stall.threads {
            let doing = match (&t.in_call, &t.last) {
                (Some((op, since)), _) => format!("in {op}, made at {} us, no answer", micros(*since)),
                (None, Some((op, o))) if t.ended => format!("finished; last {op} -> {o}"),
                (None, Some((op, o))) => format!("waiting; last {op} -> {o}"),
                (None, None) => "no call made".to_owned(),
            };
            out.push(format!("  thread {}: {doing}", t.thread));
        }
        out.push(String::new());
    }
    out.push(format!(
        "Calls made at once ({} calls; `main` is the thread that set up the race and called after it):",
        observed.history.records.len()
    ));
    let blocked_full: Vec<usize> = Vec::new();
    rows(&observed.history, &blocked_full, &mut out);
    if let Some(w) = &observed.witness {
        let blocked: Vec<usize> = w.blocked.iter().map(|b| b.index).collect();
        out.push(String::new());
        out.push(format!(
            "A smaller history no order of whose calls the model allows ({} of the {} calls; `!`: could not be placed):",
            w.history.records.len(),
            observed.history.records.len()
        ));
        rows(&w.history, &blocked, &mut out);
        let order: Vec<String> = w.placed.iter().map(|i| format!("#{}", i + 1)).collect();
        out.push(format!(
            "The longest order the model allows: {}; then none of these can come next:",
            if order.is_empty() {
                "(none)".to_owned()
            } else {
                order.join(", ")
            }
        ));
        for b in &w.blocked {
            out.push(format!(
                "  #{} {}: allowed {} [{}]",
                b.index + 1,
                call(&w.history.records[b.index]),
                b.violation.allowed,
                join_ids(&b.violation.reqs, ", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use vfio_mig_engine::concurrent::{Stall, StallCause, ThreadEnd};
    use vfio_mig_engine::linearize::Blocked;
    use vfio_mig_engine::verdict::Witness;
    use vfio_mig_model::reqs::V2_CONC_005;
    use vfio_mig_model::v2::{MigState, Op, Outcome};
    use vfio_mig_model::Violation;

    fn rec(thread: usize, op: Op, outcome: Outcome, from: u64, to: u64) -> Record<Fsm> {
        Record {
            thread,
            op,
            outcome,
            invoked: Duration::from_micros(from),
            returned: Duration::from_micros(to),
            data: Vec::new(),
        }
    }

    // V2-CONC-001: the timeline shows each call's thread, its interval on a
    // shared scale and its outcome, and marks the calls that could not be
    // placed.
    #[test]
    fn calls_are_drawn_on_one_scale_with_the_unplaced_marked() {
        let history = History {
            records: vec![
                rec(
                    1,
                    Op::Set(MigState::StopCopy),
                    Outcome::SetOk { fd: true },
                    100,
                    500,
                ),
                rec(2, Op::Get, Outcome::State(MigState::Stop.number()), 200, 300),
            ],
        };
        let observed = Observed {
            witness: Some(Witness {
                history: history.clone(),
                placed: vec![0],
                blocked: vec![Blocked {
                    index: 1,
                    violation: Violation {
                        reqs: vec![V2_CONC_005],
                        op: "GET state".into(),
                        allowed: "state STOP_COPY".into(),
                        observed: "state STOP".into(),
                    },
                }],
            }),
            history,
            stall: None,
        };
        let lines = timeline(&observed);
        let text = lines.join("\n");
        let set = lines.iter().find(|l| l.contains("SET STOP_COPY")).unwrap();
        let get = lines.iter().find(|l| l.starts_with('!')).unwrap();
        assert!(get.contains("GET state -> state STOP"), "{text}");
        // The SET spans the whole scale; the GET sits inside it.
        let bar = |l: &str| l.split('|').nth(1).unwrap().to_owned();
        assert_eq!(bar(set).trim(), "=".repeat(WIDTH), "{text}");
        let g = bar(get);
        assert!(
            g.starts_with(' ') && g.ends_with(' ') && g.contains('='),
            "{text}"
        );
        assert!(set.contains("0..400"), "{text}");
        assert!(
            text.contains("#2 GET state -> state STOP: allowed state STOP_COPY [V2-CONC-005]"),
            "{text}"
        );
        assert!(text.contains("The longest order the model allows: #1;"), "{text}");
    }

    // V2-CONC-003: a deadlock shows every thread's last call.
    #[test]
    fn a_stall_shows_every_threads_last_call() {
        let observed = Observed {
            history: History::default(),
            witness: None,
            stall: Some(Stall {
                cause: StallCause::Timeout {
                    thread: 1,
                    after: Duration::from_secs(2),
                },
                threads: vec![
                    ThreadEnd {
                        thread: 1,
                        in_call: Some((Op::Set(MigState::Stop), Duration::from_micros(12))),
                        last: None,
                        ended: false,
                    },
                    ThreadEnd {
                        thread: 2,
                        in_call: None,
                        last: Some((Op::Get, Outcome::State(2))),
                        ended: true,
                    },
                ],
            }),
        };
        let text = timeline(&observed).join("\n");
        assert!(
            text.contains("thread 1: in SET STOP, made at 12 us, no answer"),
            "{text}"
        );
        assert!(
            text.contains("thread 2: finished; last GET state -> state RUNNING"),
            "{text}"
        );
        assert!(text.contains("(no call)"), "{text}");
    }
}
