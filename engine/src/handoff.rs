//! A one-value mailbox between the engine and a device's worker thread.
//!
//! Calls into a device are strictly one at a time, and most in-process
//! devices answer within microseconds, so a waiting side first polls the
//! mailbox for a short while before it sleeps: a call then costs no system
//! call at all, where a channel would wake the other thread through the
//! kernel twice per call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long a waiting side polls before it sleeps.
const SPIN: Duration = Duration::from_micros(50);

struct Inner<T> {
    value: Option<T>,
    /// The receiver sleeps on the condition variable.
    sleeping: bool,
    /// The sender is gone: nothing will arrive any more.
    closed: bool,
}

/// Holds at most one value on its way from one thread to another.
pub struct Mailbox<T> {
    inner: Mutex<Inner<T>>,
    full: AtomicBool,
    wake: Condvar,
}

/// Why nothing was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Empty {
    /// The deadline passed.
    Timeout,
    /// The other side closed the mailbox.
    Closed,
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Mailbox {
            inner: Mutex::new(Inner {
                value: None,
                sleeping: false,
                closed: false,
            }),
            full: AtomicBool::new(false),
            wake: Condvar::new(),
        }
    }
}

impl<T> Mailbox<T> {
    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // A panic while the lock was held leaves a value or none: both are
        // states this mailbox can continue from.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts `value` in, replacing one nobody took (a late answer to a call
    /// that was given up on), and wakes the receiver.
    pub fn send(&self, value: T) {
        let mut g = self.lock();
        g.value = Some(value);
        self.full.store(true, Ordering::Release);
        let sleeping = g.sleeping;
        drop(g);
        if sleeping {
            self.wake.notify_one();
        }
    }

    /// Marks the mailbox closed and wakes the receiver.
    pub fn close(&self) {
        let mut g = self.lock();
        g.closed = true;
        let sleeping = g.sleeping;
        drop(g);
        if sleeping {
            self.wake.notify_one();
        }
    }

    fn take(&self, g: &mut Inner<T>) -> Option<T> {
        let v = g.value.take();
        if v.is_some() {
            self.full.store(false, Ordering::Release);
        }
        v
    }

    /// Waits at most `timeout` for a value; `None` waits for ever.
    pub fn recv(&self, timeout: Option<Duration>) -> Result<T, Empty> {
        let start = Instant::now();
        // Each poll yields the core: with more threads than cores, the one
        // that is to answer gets to run instead of waiting for a time slice.
        while start.elapsed() < SPIN {
            if self.full.load(Ordering::Acquire) {
                if let Some(v) = self.take(&mut self.lock()) {
                    return Ok(v);
                }
            }
            std::thread::yield_now();
        }
        let mut g = self.lock();
        loop {
            if let Some(v) = self.take(&mut g) {
                return Ok(v);
            }
            if g.closed {
                return Err(Empty::Closed);
            }
            g.sleeping = true;
            g = match timeout {
                None => self.wake.wait(g).unwrap_or_else(PoisonError::into_inner),
                Some(t) => {
                    let left = t.saturating_sub(start.elapsed());
                    if left.is_zero() {
                        g.sleeping = false;
                        return Err(Empty::Timeout);
                    }
                    self.wake
                        .wait_timeout(g, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
            g.sleeping = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn values_cross_threads_in_order() {
        let (there, back) = (Arc::new(Mailbox::default()), Arc::new(Mailbox::default()));
        let (t, b) = (Arc::clone(&there), Arc::clone(&back));
        let worker = std::thread::spawn(move || {
            while let Ok(n) = t.recv(None) {
                b.send(n * 2);
            }
        });
        for i in 0..10_000u64 {
            there.send(i);
            assert_eq!(back.recv(Some(Duration::from_secs(5))), Ok(i * 2));
        }
        there.close();
        worker.join().unwrap();
    }

    #[test]
    fn a_missing_answer_times_out() {
        let m: Mailbox<u8> = Mailbox::default();
        assert_eq!(m.recv(Some(Duration::from_millis(30))), Err(Empty::Timeout));
        m.close();
        assert_eq!(m.recv(None), Err(Empty::Closed));
    }
}
