//! Calls into a device that cannot hang the caller: each runs on a worker
//! thread and is abandoned when it misses its deadline.
//!
//! A system call stuck in a driver cannot be cancelled from user space. The
//! worker that made it is left behind, the caller gets [`Error::TimedOut`],
//! and every later call on the same [`Worker`] fails at once with
//! [`Error::Hung`]: a device that stopped answering is not asked again.

use crate::Error;
use std::sync::mpsc;
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;

/// A thread that runs device calls one at a time, each with a deadline.
#[derive(Debug)]
pub struct Worker {
    jobs: mpsc::Sender<Job>,
    limit: Duration,
    hung: Option<&'static str>,
}

impl Worker {
    /// A worker whose calls each get `limit`.
    pub fn new(limit: Duration) -> Self {
        let (jobs, inbox) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("vfio-device-call".into())
            .spawn(move || {
                for job in inbox {
                    job();
                }
            })
            .expect("spawning the device worker thread");
        Worker {
            jobs,
            limit,
            hung: None,
        }
    }

    /// The per-call deadline.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Whether an earlier call missed its deadline.
    pub fn is_hung(&self) -> bool {
        self.hung.is_some()
    }

    /// Runs `f` (named `what` in errors) on the worker and waits for it at
    /// most the deadline.
    pub fn call<T: Send + 'static>(
        &mut self,
        what: &'static str,
        f: impl FnOnce() -> rustix::io::Result<T> + Send + 'static,
    ) -> Result<T, Error> {
        if let Some(first) = self.hung {
            return Err(Error::Hung { what, first });
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        if self.jobs.send(job).is_err() {
            self.hung = Some(what);
            return Err(Error::Hung { what, first: what });
        }
        match rx.recv_timeout(self.limit) {
            Ok(r) => r.map_err(|e| Error::Os {
                what,
                errno: e.raw_os_error(),
            }),
            Err(_) => {
                self.hung = Some(what);
                Err(Error::TimedOut {
                    what,
                    after: self.limit,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_that_answers_in_time_returns_its_value() {
        let mut w = Worker::new(Duration::from_secs(5));
        assert_eq!(w.call("sum", || Ok(2 + 2)).unwrap(), 4);
        let e = w
            .call("fail", || -> rustix::io::Result<()> {
                Err(rustix::io::Errno::INVAL)
            })
            .unwrap_err();
        assert_eq!(
            e,
            Error::Os {
                what: "fail",
                errno: 22
            }
        );
        assert!(!w.is_hung());
    }

    #[test]
    fn a_call_that_hangs_times_out_and_poisons_the_worker() {
        let mut w = Worker::new(Duration::from_millis(50));
        let e = w
            .call("sleep", || {
                std::thread::sleep(Duration::from_secs(3600));
                Ok(())
            })
            .unwrap_err();
        assert!(matches!(e, Error::TimedOut { what: "sleep", .. }), "{e}");
        let e = w.call("next", || Ok(1)).unwrap_err();
        assert_eq!(
            e,
            Error::Hung {
                what: "next",
                first: "sleep"
            }
        );
        assert!(w.is_hung());
    }
}
