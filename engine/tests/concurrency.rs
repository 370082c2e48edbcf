//! The runner of calls made at once: what it records, and what it does
//! with a call that never returns (V2-CONC-003, V2-TIME-001), on small
//! devices of this file's own.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vfio_mig_device::v2::Call;
use vfio_mig_device::{Io, SharedDevice};
use vfio_mig_engine::concurrent::{Racer, StallCause, Step, Until};
use vfio_mig_model::v2::{Fsm, MigState, Op, Outcome};

/// Answers every GET with RUNNING; a SET never returns when `hang` says so,
/// and takes a millisecond otherwise.
struct Toy {
    hang: bool,
    gets: AtomicU32,
}

impl SharedDevice<Fsm> for Toy {
    fn exec(&self, call: &Call, _io: &mut Io) -> Outcome {
        match call {
            Call::SetState(_) if self.hang => {
                std::thread::sleep(Duration::from_secs(3600));
                Outcome::SetOk { fd: false }
            }
            Call::SetState(_) => {
                std::thread::sleep(Duration::from_millis(1));
                Outcome::SetOk { fd: false }
            }
            _ => {
                self.gets.fetch_add(1, Ordering::SeqCst);
                Outcome::State(MigState::Running.number())
            }
        }
    }
}

fn toy(hang: bool) -> Arc<Toy> {
    Arc::new(Toy {
        hang,
        gets: AtomicU32::new(0),
    })
}

// V2-CONC-003: a call that does not return within the deadline ends the
// race, and every thread's last call is known: the one still in its call,
// and the others with what they did last.
#[test]
fn a_call_that_never_returns_stalls_the_race_showing_every_thread() {
    let device = toy(true);
    let mut racer = Racer::<Fsm>::new(device, Duration::from_millis(200));
    let stall = racer
        .race(vec![
            vec![Step::call(Op::Set(MigState::Stop))],
            vec![Step::call(Op::Get), Step::call(Op::Get)],
        ])
        .expect_err("the SET never returns");
    assert_eq!(
        stall.cause,
        StallCause::Timeout {
            thread: 1,
            after: Duration::from_millis(200)
        }
    );
    let t1 = &stall.threads[0];
    assert_eq!(
        t1.in_call.as_ref().map(|(op, _)| *op),
        Some(Op::Set(MigState::Stop))
    );
    assert!(t1.last.is_none() && !t1.ended);
    let t2 = &stall.threads[1];
    assert!(t2.in_call.is_none() && t2.ended);
    assert_eq!(t2.last, Some((Op::Get, Outcome::State(2))));
    // The calls that returned are in the history; the SET is not.
    let calls: Vec<Op> = racer.history().records.iter().map(|r| r.op).collect();
    assert_eq!(calls, vec![Op::Get, Op::Get]);
}

// V2-CONC-001: the history holds every call with its thread and times; a
// thread's calls follow each other, a wait on another thread's call orders
// the calls in real time, and a call repeated until another thread ends
// stops then.
#[test]
fn the_history_orders_each_threads_calls_and_honours_waits() {
    let device = toy(false);
    let mut racer = Racer::<Fsm>::new(device.clone(), Duration::from_secs(10));
    let gets_until_ended = Step::Repeat {
        op: Op::Get,
        bytes: Vec::new(),
        max: 1000,
        until: Until::Ended(1),
        pause: Duration::ZERO,
    };
    racer
        .race(vec![
            vec![Step::call(Op::Set(MigState::Stop)), Step::call(Op::Get)],
            vec![Step::AwaitDone { thread: 1, calls: 1 }, Step::call(Op::Get)],
            // Thread 1 makes two calls: waiting for a third waits for its end.
            vec![Step::AwaitDone { thread: 1, calls: 3 }, gets_until_ended],
        ])
        .expect("nothing hangs");
    racer.call(Op::Get, Vec::new()).expect("the call returns");
    let h = racer.into_history();
    let set = h
        .records
        .iter()
        .find(|r| r.op == Op::Set(MigState::Stop))
        .unwrap();
    for r in &h.records {
        assert!(r.invoked <= r.returned);
    }
    let waited = h.records.iter().find(|r| r.thread == 2).unwrap();
    assert!(waited.invoked >= set.returned, "thread 2 waited for the SET");
    assert_eq!(
        h.records.iter().filter(|r| r.thread == 3).count(),
        0,
        "thread 1 had ended"
    );
    let mine: Vec<_> = h.records.iter().filter(|r| r.thread == 1).collect();
    assert_eq!(mine.len(), 2);
    assert!(mine[0].returned <= mine[1].invoked);
    // The coordinator's call comes after every racing call.
    let last = h.records.last().unwrap();
    assert_eq!(last.thread, 0);
    assert!(h
        .records
        .iter()
        .all(|r| r.returned <= last.invoked || r.thread == 0));
    assert_eq!(device.gets.load(Ordering::SeqCst), 3);
    assert_eq!(h.records.len(), 4);
}
