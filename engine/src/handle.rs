//! A device behind a deadline.
//!
//! Every call into a device, whatever its adapter (an in-process device
//! included), runs on a worker thread that owns the device; the engine waits
//! for the answer at most the deadline. A call that does not return in time,
//! or a device that panics, leaves the device unusable: every later call
//! answers with the same [`Stuck`] at once, and the run stops.

use crate::handoff::{Empty, Mailbox};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use vfio_mig_device::{Description, Device, DeviceError, Errno, Fault, Io, SharedDevice, Speaks};

/// The deadline when nothing else is said: `VFIO_MIG_TIMEOUT_MS`, else 10 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest deadline accepted (a day): longer ones are a typo.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Why `VFIO_MIG_TIMEOUT_MS` or `--timeout` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a deadline in milliseconds between 1 and {max} (a day)", max = MAX_TIMEOUT.as_millis())]
pub struct BadTimeout {
    /// What was given.
    pub value: String,
}

/// Parses a deadline in milliseconds (`VFIO_MIG_TIMEOUT_MS`, `--timeout`).
pub fn parse_timeout_ms(text: &str) -> Result<Duration, BadTimeout> {
    let bad = || BadTimeout {
        value: text.to_owned(),
    };
    let ms: u64 = text.trim().parse().map_err(|_| bad())?;
    let d = Duration::from_millis(ms);
    if ms == 0 || d > MAX_TIMEOUT {
        return Err(bad());
    }
    Ok(d)
}

/// The deadline from `VFIO_MIG_TIMEOUT_MS`, or [`DEFAULT_TIMEOUT`].
pub fn timeout_from_env() -> Result<Duration, BadTimeout> {
    match std::env::var("VFIO_MIG_TIMEOUT_MS") {
        Ok(ms) => parse_timeout_ms(&ms),
        Err(_) => Ok(DEFAULT_TIMEOUT),
    }
}

/// A device that stopped answering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stuck {
    /// A call did not return within the deadline.
    #[error("{call} did not return within {} ms", .after.as_millis())]
    Timeout {
        /// The call, as a person reads it.
        call: String,
        /// The deadline it missed.
        after: Duration,
    },
    /// The device panicked during a call.
    #[error("{call} panicked: {message}")]
    Panicked {
        /// The call.
        call: String,
        /// The panic's message.
        message: String,
    },
    /// An earlier call left the device unusable.
    #[error("the device is unusable since an earlier call: {0}")]
    Earlier(Box<Stuck>),
}

enum Job<P: Speaks> {
    Exec(P::Call, Io),
    Restore,
    Fingerprint,
    Inject(Fault),
    Shared,
}

/// What the worker answered: one variant per kind of call, or the message
/// of the panic the call ended in.
enum Reply<P: Speaks> {
    Exec(P::Outcome, Io),
    Restore(Result<(), DeviceError>),
    Fingerprint(Option<Vec<u8>>),
    Inject(bool),
    Shared(Option<Arc<dyn SharedDevice<P>>>),
    Panicked(String),
}

/// One device instance, owned by its worker thread, called under a deadline.
pub struct Handle<P: Speaks> {
    desc: Description,
    timeout: Duration,
    jobs: Arc<Mailbox<Job<P>>>,
    replies: Arc<Mailbox<Reply<P>>>,
    stuck: Option<Stuck>,
    /// Calls left before the adapter boundary fails one (fail-nth where the
    /// device cannot fail calls itself).
    boundary: Option<u32>,
    /// Which instance of the factory this is (0 = source).
    instance: u8,
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

fn serve<P: Speaks>(mut device: Box<dyn Device<P>>, jobs: &Mailbox<Job<P>>, replies: &Mailbox<Reply<P>>) {
    while let Ok(job) = jobs.recv(None) {
        let reply = catch_unwind(AssertUnwindSafe(|| match job {
            Job::Exec(call, mut io) => {
                let o = device.exec(&call, &mut io);
                Reply::Exec(o, io)
            }
            Job::Restore => Reply::Restore(device.restore()),
            Job::Fingerprint => Reply::Fingerprint(device.fingerprint()),
            Job::Inject(f) => Reply::Inject(device.inject(f)),
            Job::Shared => Reply::Shared(device.shared()),
        }))
        .unwrap_or_else(|p| Reply::Panicked(panic_message(p)));
        let panicked = matches!(reply, Reply::Panicked(_));
        replies.send(reply);
        if panicked {
            // A device that panicked is in no known state: no more calls.
            replies.close();
            return;
        }
    }
}

impl<P: Speaks> Handle<P> {
    /// Moves `device` onto a worker thread; every call waits at most
    /// `timeout`. Describing the device is the first call.
    pub fn new(device: Box<dyn Device<P>>, timeout: Duration) -> Result<Self, DeviceError> {
        let jobs: Arc<Mailbox<Job<P>>> = Arc::default();
        let replies: Arc<Mailbox<Reply<P>>> = Arc::default();
        let (worker_jobs, worker_replies) = (Arc::clone(&jobs), Arc::clone(&replies));
        let (desc_tx, desc_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("vfio-mig-device".into())
            .spawn(move || {
                let desc = catch_unwind(AssertUnwindSafe(|| device.describe()));
                let ok = desc.is_ok();
                let _ = desc_tx.send(desc.map_err(panic_message));
                if ok {
                    serve(device, &worker_jobs, &worker_replies);
                }
            })
            .map_err(|e| DeviceError::unusable_because("cannot start the device's worker thread", e))?;
        let desc = match desc_rx.recv_timeout(timeout) {
            Ok(Ok(d)) => d,
            Ok(Err(m)) => {
                return Err(DeviceError::unusable(format!(
                    "describing the device panicked: {m}"
                )))
            }
            Err(_) => {
                return Err(DeviceError::unusable(format!(
                    "describing the device did not return within {} ms",
                    timeout.as_millis()
                )))
            }
        };
        Ok(Handle {
            desc,
            timeout,
            jobs,
            replies,
            stuck: None,
            boundary: None,
            instance: 0,
        })
    }

    /// The same handle, numbered as instance `instance` of its factory.
    pub fn numbered(mut self, instance: u8) -> Self {
        self.instance = instance;
        self
    }

    /// Which instance of its factory the device is (0 = source).
    pub fn instance(&self) -> u8 {
        self.instance
    }

    /// What the device said about itself when it was opened.
    pub fn describe(&self) -> &Description {
        &self.desc
    }

    /// The deadline of every call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Why the device is unusable, if it is.
    pub fn stuck(&self) -> Option<&Stuck> {
        self.stuck.as_ref()
    }

    /// Sends `job` and waits for its answer, which `pick` takes apart.
    fn call<T>(
        &mut self,
        job: Job<P>,
        pick: impl FnOnce(Reply<P>) -> Result<T, Reply<P>>,
        what: impl FnOnce() -> String,
    ) -> Result<T, Stuck> {
        if let Some(s) = &self.stuck {
            return Err(Stuck::Earlier(Box::new(s.clone())));
        }
        self.jobs.send(job);
        let stuck = match self.replies.recv(Some(self.timeout)) {
            Ok(Reply::Panicked(message)) => Stuck::Panicked {
                call: what(),
                message,
            },
            Ok(reply) => match pick(reply) {
                Ok(t) => return Ok(t),
                Err(_) => Stuck::Panicked {
                    call: what(),
                    message: "the device's worker answered another call".into(),
                },
            },
            Err(Empty::Timeout) => Stuck::Timeout {
                call: what(),
                after: self.timeout,
            },
            Err(Empty::Closed) => Stuck::Panicked {
                call: what(),
                message: "the device's worker is gone".into(),
            },
        };
        self.stuck = Some(stuck.clone());
        Err(stuck)
    }

    /// Executes one call.
    pub fn exec(&mut self, call: P::Call, io: &mut Io) -> Result<P::Outcome, Stuck> {
        if let Some(n) = self.boundary.as_mut() {
            *n -= 1;
            if *n == 0 {
                self.boundary = None;
                io.read.clear();
                return Ok(P::failed(Errno::EIO));
            }
        }
        let taken = std::mem::take(io);
        let pick = |r| match r {
            Reply::Exec(o, back) => Ok((o, back)),
            other => Err(other),
        };
        let (o, back) = self.call(Job::Exec(call, taken), pick, || format!("{call:?}"))?;
        *io = back;
        Ok(o)
    }

    /// Restores the device (see [`Device::restore`]).
    pub fn restore(&mut self) -> Result<(), DeviceError> {
        self.boundary = None;
        let pick = |r| match r {
            Reply::Restore(r) => Ok(r),
            other => Err(other),
        };
        match self.call(Job::Restore, pick, || "restoring the device".into()) {
            Ok(r) => r,
            Err(stuck) => Err(DeviceError::unusable_because(
                "the device cannot be restored",
                stuck,
            )),
        }
    }

    /// The device's observable state (see [`Device::fingerprint`]).
    pub fn fingerprint(&mut self) -> Result<Option<Vec<u8>>, Stuck> {
        let pick = |r| match r {
            Reply::Fingerprint(f) => Ok(f),
            other => Err(other),
        };
        self.call(Job::Fingerprint, pick, || "reading the device's state".into())
    }

    /// A handle that takes calls from several threads at once, when the
    /// device offers one (see [`Device::shared`]). Its calls carry no
    /// deadline of their own: the caller bounds them, as the concurrency
    /// runner does, and calls [`Handle::abandon`] when one does not return.
    pub fn shared(&mut self) -> Result<Option<Arc<dyn SharedDevice<P>>>, Stuck> {
        let pick = |r| match r {
            Reply::Shared(s) => Ok(s),
            other => Err(other),
        };
        self.call(Job::Shared, pick, || "asking for a shared handle".into())
    }

    /// Marks the device unusable because of `stuck`, found outside this
    /// handle (a call through the shared handle that did not return):
    /// every later call answers at once with it.
    pub fn abandon(&mut self, stuck: Stuck) {
        if self.stuck.is_none() {
            self.stuck = Some(stuck);
        }
    }

    /// Arms `fault` on the device. A device that cannot fail its n-th call
    /// ([`Fault::FailNthOp`]) gets the failure at this boundary instead: the
    /// n-th call answers EIO without reaching it.
    pub fn inject(&mut self, fault: Fault) -> Result<bool, Stuck> {
        let pick = |r| match r {
            Reply::Inject(b) => Ok(b),
            other => Err(other),
        };
        if self.call(Job::Inject(fault), pick, || format!("injecting {fault:?}"))? {
            return Ok(true);
        }
        match fault {
            Fault::FailNthOp(n) => {
                self.boundary = Some(n.max(1));
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

impl<P: Speaks> Drop for Handle<P> {
    fn drop(&mut self) {
        // The worker ends once its current call returns; one stuck in a
        // call is left behind (it cannot be stopped).
        self.jobs.close();
    }
}
