//! Calls from several threads at once on a device's shared handle, and the
//! history they leave: every call with the thread that made it, its outcome
//! and the times it was made and answered.
//!
//! Each thread follows a small [`Step`] program. The threads start together
//! from one gate; the thread that runs them (the coordinator) waits for
//! every call at most the deadline. A call that does not return in time, or
//! a device that panics, ends the race as a [`Stall`] that shows each
//! thread's last call; the threads still inside the device are left behind
//! (a call stuck in a driver cannot be taken back) and the device is
//! unusable afterwards.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use vfio_mig_device::{Io, SharedDevice, Speaks};
use vfio_mig_model::Protocol;

/// One call of a history.
#[derive(Debug)]
pub struct Record<P: Protocol> {
    /// The thread that made it (0: the coordinator, before or after a
    /// race; 1 and up: the racing threads).
    pub thread: usize,
    /// What was asked.
    pub op: P::Op,
    /// What the device answered.
    pub outcome: P::Outcome,
    /// When the call was made, from the start of the history.
    pub invoked: Duration,
    /// When it returned, from the start of the history.
    pub returned: Duration,
    /// The bytes a read returned (empty for other calls).
    pub data: Vec<u8>,
}

impl<P: Protocol> Clone for Record<P> {
    fn clone(&self) -> Self {
        Record {
            thread: self.thread,
            op: self.op.clone(),
            outcome: self.outcome.clone(),
            invoked: self.invoked,
            returned: self.returned,
            data: self.data.clone(),
        }
    }
}

impl<P: Protocol> PartialEq for Record<P> {
    fn eq(&self, o: &Self) -> bool {
        self.thread == o.thread
            && self.op == o.op
            && self.outcome == o.outcome
            && self.invoked == o.invoked
            && self.returned == o.returned
            && self.data == o.data
    }
}

/// The calls several threads made on one device, in the order they were
/// made.
#[derive(Debug)]
pub struct History<P: Protocol> {
    /// Every call, ordered by the time it was made.
    pub records: Vec<Record<P>>,
}

impl<P: Protocol> Default for History<P> {
    fn default() -> Self {
        History { records: Vec::new() }
    }
}

impl<P: Protocol> Clone for History<P> {
    fn clone(&self) -> Self {
        History {
            records: self.records.clone(),
        }
    }
}

impl<P: Protocol> PartialEq for History<P> {
    fn eq(&self, o: &Self) -> bool {
        self.records == o.records
    }
}

impl<P: Protocol> History<P> {
    /// The threads that made calls, in increasing order.
    pub fn threads(&self) -> Vec<usize> {
        let mut t: Vec<usize> = self.records.iter().map(|r| r.thread).collect();
        t.sort_unstable();
        t.dedup();
        t
    }

    /// The history of the calls `keep` selects, in the same order.
    pub fn subset(&self, keep: impl Fn(usize, &Record<P>) -> bool) -> Self {
        History {
            records: self
                .records
                .iter()
                .enumerate()
                .filter(|(i, r)| keep(*i, r))
                .map(|(_, r)| r.clone())
                .collect(),
        }
    }

    /// The last time a call returned.
    pub fn end(&self) -> Duration {
        self.records.iter().map(|r| r.returned).max().unwrap_or_default()
    }
}

/// When a repeated call stops.
pub enum Until<P: Protocol> {
    /// After the first outcome for which this says true.
    Outcome(fn(&P::Outcome) -> bool),
    /// Once this racing thread has ended.
    Ended(usize),
}

impl<P: Protocol> Clone for Until<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: Protocol> Copy for Until<P> {}

impl<P: Protocol> std::fmt::Debug for Until<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Until::Outcome(_) => f.write_str("Until::Outcome"),
            Until::Ended(t) => write!(f, "Until::Ended({t})"),
        }
    }
}

/// One step of a racing thread's program.
#[derive(Debug)]
pub enum Step<P: Protocol> {
    /// One call, with the bytes it writes.
    Call(P::Op, Vec<u8>),
    /// The same call, at most `max` times, until `until` says so.
    Repeat {
        /// The call.
        op: P::Op,
        /// The bytes it writes.
        bytes: Vec<u8>,
        /// At most this many calls.
        max: u32,
        /// When to stop before that.
        until: Until<P>,
        /// A pause between two calls (zero: none), so that the calls spread
        /// over the time another thread's calls take.
        pause: Duration,
    },
    /// Waits until racing thread `thread` has begun `calls` calls, or has
    /// ended.
    AwaitBegun {
        /// The thread (1 and up).
        thread: usize,
        /// Calls begun.
        calls: usize,
    },
    /// Waits until racing thread `thread` has finished `calls` calls, or
    /// has ended.
    AwaitDone {
        /// The thread (1 and up).
        thread: usize,
        /// Calls finished.
        calls: usize,
    },
}

impl<P: Protocol> Step<P> {
    /// A call that writes nothing.
    pub fn call(op: P::Op) -> Self {
        Step::Call(op, Vec::new())
    }
}

/// What one thread was doing when a race stalled.
#[derive(Debug)]
pub struct ThreadEnd<P: Protocol> {
    /// The thread.
    pub thread: usize,
    /// The call it was in, with the time it was made (from the start of
    /// the history), when it was in one.
    pub in_call: Option<(P::Op, Duration)>,
    /// The last call it finished, with the outcome.
    pub last: Option<(P::Op, P::Outcome)>,
    /// Whether it had finished its program.
    pub ended: bool,
}

impl<P: Protocol> Clone for ThreadEnd<P> {
    fn clone(&self) -> Self {
        ThreadEnd {
            thread: self.thread,
            in_call: self.in_call.clone(),
            last: self.last.clone(),
            ended: self.ended,
        }
    }
}

impl<P: Protocol> PartialEq for ThreadEnd<P> {
    fn eq(&self, o: &Self) -> bool {
        self.thread == o.thread && self.in_call == o.in_call && self.last == o.last && self.ended == o.ended
    }
}

/// Why a race ended before every thread finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StallCause {
    /// A call did not return within the deadline.
    Timeout {
        /// The thread.
        thread: usize,
        /// The deadline.
        after: Duration,
    },
    /// The device panicked in a call of this thread.
    Panicked {
        /// The thread.
        thread: usize,
        /// The panic's message.
        message: String,
    },
    /// The threads waited on each other without a call in progress for
    /// longer than the deadline (a program that cannot finish).
    NoProgress {
        /// The deadline.
        after: Duration,
    },
    /// A thread could not be started.
    Spawn(String),
}

/// A race that did not finish: why, and what every thread was doing.
#[derive(Debug)]
pub struct Stall<P: Protocol> {
    /// Why.
    pub cause: StallCause,
    /// Every racing thread, in order.
    pub threads: Vec<ThreadEnd<P>>,
}

impl<P: Protocol> Clone for Stall<P> {
    fn clone(&self) -> Self {
        Stall {
            cause: self.cause.clone(),
            threads: self.threads.clone(),
        }
    }
}

impl<P: Protocol> PartialEq for Stall<P> {
    fn eq(&self, o: &Self) -> bool {
        self.cause == o.cause && self.threads == o.threads
    }
}

struct Slot<P: Protocol> {
    begun: usize,
    done: usize,
    in_call: Option<(P::Op, Instant)>,
    last: Option<(P::Op, P::Outcome)>,
    ended: bool,
    panicked: Option<String>,
}

struct Board<P: Protocol> {
    go: bool,
    abort: bool,
    slots: Vec<Slot<P>>,
    records: Vec<Record<P>>,
    progress: Instant,
}

struct Shared<P: Protocol> {
    board: Mutex<Board<P>>,
    changed: Condvar,
}

impl<P: Protocol> Shared<P> {
    fn lock(&self) -> MutexGuard<'_, Board<P>> {
        // A racing thread never panics while holding the lock (device calls
        // are made without it), so a poisoned lock still holds a consistent
        // board.
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Calls on one device's shared handle, recorded into one history.
pub struct Racer<P: Speaks> {
    device: Arc<dyn SharedDevice<P>>,
    timeout: Duration,
    start: Instant,
    history: History<P>,
}

impl<P: Speaks> Racer<P> {
    /// Records calls on `device`, each waited for at most `timeout`; the
    /// history's clock starts now.
    pub fn new(device: Arc<dyn SharedDevice<P>>, timeout: Duration) -> Self {
        Racer {
            device,
            timeout,
            start: Instant::now(),
            history: History::default(),
        }
    }

    /// The history so far.
    pub fn history(&self) -> &History<P> {
        &self.history
    }

    /// Ends the recording.
    pub fn into_history(self) -> History<P> {
        self.history
    }

    /// One call from the coordinator (thread 0), under the deadline.
    pub fn call(&mut self, op: P::Op, bytes: Vec<u8>) -> Result<P::Outcome, Stall<P>> {
        let before = self.history.records.len();
        self.run(vec![(0, vec![Step::Call(op, bytes)])])?;
        Ok(self.history.records[before..]
            .last()
            .map(|r| r.outcome.clone())
            .expect("a finished call leaves a record"))
    }

    /// Runs `programs` at once, racing thread `i + 1` following
    /// `programs[i]`, and adds their calls to the history.
    pub fn race(&mut self, programs: Vec<Vec<Step<P>>>) -> Result<(), Stall<P>> {
        self.run(
            programs
                .into_iter()
                .enumerate()
                .map(|(i, p)| (i + 1, p))
                .collect(),
        )
    }

    fn run(&mut self, programs: Vec<(usize, Vec<Step<P>>)>) -> Result<(), Stall<P>> {
        let ids: Vec<usize> = programs.iter().map(|(t, _)| *t).collect();
        let slots = ids
            .iter()
            .map(|_| Slot {
                begun: 0,
                done: 0,
                in_call: None,
                last: None,
                ended: false,
                panicked: None,
            })
            .collect();
        let shared = Arc::new(Shared {
            board: Mutex::new(Board {
                go: false,
                abort: false,
                slots,
                records: Vec::new(),
                progress: Instant::now(),
            }),
            changed: Condvar::new(),
        });
        let mut handles = Vec::new();
        let mut spawn_error = None;
        for (slot, (thread, program)) in programs.into_iter().enumerate() {
            let (shared, device, ids, start) = (
                Arc::clone(&shared),
                Arc::clone(&self.device),
                ids.clone(),
                self.start,
            );
            let spawned = std::thread::Builder::new()
                .name(format!("vfio-mig-race-{thread}"))
                .spawn(move || follow(&shared, &*device, &ids, slot, thread, program, start));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    spawn_error = Some(e.to_string());
                    break;
                }
            }
        }
        let result = self.coordinate(&shared, &ids, spawn_error);
        let mut board = shared.lock();
        let mut records = std::mem::take(&mut board.records);
        drop(board);
        if result.is_ok() {
            for h in handles {
                let _ = h.join();
            }
        }
        records.sort_by_key(|r| r.invoked);
        self.history.records.extend(records);
        self.history.records.sort_by_key(|r| r.invoked);
        result
    }

    fn coordinate(
        &self,
        shared: &Shared<P>,
        ids: &[usize],
        spawn_error: Option<String>,
    ) -> Result<(), Stall<P>> {
        let mut board = shared.lock();
        board.go = true;
        board.progress = Instant::now();
        if let Some(e) = &spawn_error {
            board.abort = true;
            shared.changed.notify_all();
            return Err(self.stall(&board, ids, StallCause::Spawn(e.clone())));
        }
        shared.changed.notify_all();
        loop {
            if let Some((i, m)) = board
                .slots
                .iter()
                .enumerate()
                .find_map(|(i, s)| s.panicked.clone().map(|m| (i, m)))
            {
                board.abort = true;
                shared.changed.notify_all();
                let cause = StallCause::Panicked {
                    thread: ids[i],
                    message: m,
                };
                return Err(self.stall(&board, ids, cause));
            }
            if board.slots.iter().all(|s| s.ended) {
                return Ok(());
            }
            let now = Instant::now();
            let oldest = board
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.in_call.as_ref().map(|(_, at)| (i, *at)))
                .min_by_key(|(_, at)| *at);
            let wait = match oldest {
                Some((i, at)) => {
                    let waited = now.saturating_duration_since(at);
                    if waited >= self.timeout {
                        board.abort = true;
                        shared.changed.notify_all();
                        let cause = StallCause::Timeout {
                            thread: ids[i],
                            after: self.timeout,
                        };
                        return Err(self.stall(&board, ids, cause));
                    }
                    self.timeout - waited
                }
                None => {
                    let idle = now.saturating_duration_since(board.progress);
                    if idle >= self.timeout {
                        board.abort = true;
                        shared.changed.notify_all();
                        let cause = StallCause::NoProgress { after: self.timeout };
                        return Err(self.stall(&board, ids, cause));
                    }
                    self.timeout - idle
                }
            };
            board = shared
                .changed
                .wait_timeout(board, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn stall(&self, board: &Board<P>, ids: &[usize], cause: StallCause) -> Stall<P> {
        Stall {
            cause,
            threads: board
                .slots
                .iter()
                .zip(ids)
                .map(|(s, &thread)| ThreadEnd {
                    thread,
                    in_call: s
                        .in_call
                        .as_ref()
                        .map(|(op, at)| (op.clone(), at.saturating_duration_since(self.start))),
                    last: s.last.clone(),
                    ended: s.ended,
                })
                .collect(),
        }
    }
}

/// Whether a wait of a racing thread is over.
fn awaited<P: Protocol>(
    board: &Board<P>,
    ids: &[usize],
    thread: usize,
    pick: impl Fn(&Slot<P>) -> bool,
) -> bool {
    match ids.iter().position(|t| *t == thread) {
        Some(i) => board.slots[i].ended || pick(&board.slots[i]),
        // A thread that is not racing has nothing to wait for.
        None => true,
    }
}

/// The body of racing thread `thread` (slot `slot` on the board).
fn follow<P: Speaks>(
    shared: &Shared<P>,
    device: &dyn SharedDevice<P>,
    ids: &[usize],
    slot: usize,
    thread: usize,
    program: Vec<Step<P>>,
    start: Instant,
) {
    {
        let mut board = shared.lock();
        while !board.go {
            board = shared.changed.wait(board).unwrap_or_else(PoisonError::into_inner);
        }
    }
    let call = |op: &P::Op, bytes: &[u8]| -> Option<P::Outcome> {
        let mut board = shared.lock();
        if board.abort {
            return None;
        }
        let now = Instant::now();
        board.slots[slot].begun += 1;
        board.slots[slot].in_call = Some((op.clone(), now));
        board.progress = now;
        shared.changed.notify_all();
        drop(board);
        let mut io = Io {
            write: bytes.to_vec(),
            read: Vec::new(),
        };
        let invoked = now.saturating_duration_since(start);
        let answered = catch_unwind(AssertUnwindSafe(|| device.exec(&P::call(op), &mut io)));
        let returned = start.elapsed();
        let mut board = shared.lock();
        board.progress = Instant::now();
        let s = &mut board.slots[slot];
        s.in_call = None;
        let outcome = match answered {
            Ok(o) => o,
            Err(p) => {
                s.panicked = Some(panic_message(p));
                s.ended = true;
                shared.changed.notify_all();
                return None;
            }
        };
        s.done += 1;
        s.last = Some((op.clone(), outcome.clone()));
        board.records.push(Record {
            thread,
            op: op.clone(),
            outcome: outcome.clone(),
            invoked,
            returned,
            data: io.read,
        });
        shared.changed.notify_all();
        Some(outcome)
    };
    let wait = |pick: &dyn Fn(&Board<P>) -> bool| -> bool {
        let mut board = shared.lock();
        while !board.abort && !pick(&board) {
            board = shared.changed.wait(board).unwrap_or_else(PoisonError::into_inner);
        }
        !board.abort
    };
    'program: for step in program {
        match step {
            Step::Call(op, bytes) => {
                if call(&op, &bytes).is_none() {
                    break 'program;
                }
            }
            Step::Repeat {
                op,
                bytes,
                max,
                until,
                pause,
            } => {
                for k in 0..max {
                    if k > 0 && !pause.is_zero() {
                        std::thread::sleep(pause);
                    }
                    if let Until::Ended(t) = until {
                        let ended = |b: &Board<P>| awaited(b, ids, t, |_| false);
                        if ended(&shared.lock()) {
                            break;
                        }
                    }
                    let Some(o) = call(&op, &bytes) else {
                        break 'program;
                    };
                    if matches!(until, Until::Outcome(stop) if stop(&o)) {
                        break;
                    }
                }
            }
            Step::AwaitBegun { thread, calls } => {
                if !wait(&|b| awaited(b, ids, thread, |s| s.begun >= calls)) {
                    break 'program;
                }
            }
            Step::AwaitDone { thread, calls } => {
                if !wait(&|b| awaited(b, ids, thread, |s| s.done >= calls)) {
                    break 'program;
                }
            }
        }
    }
    let mut board = shared.lock();
    board.slots[slot].ended = true;
    board.progress = Instant::now();
    shared.changed.notify_all();
}
