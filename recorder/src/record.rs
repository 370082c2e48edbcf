//! Turning decoded calls into trace steps, one `vfio-mig-trace/2` file per
//! device and process, each step appended as one line. No unsafe code: the
//! shim hands over plain values (lengths, results, at most 8 argument bytes
//! it could read), never the program's data.
//!
//! Files are `vfio-mig-trace-<pid>-fd<device fd>.json` (with `-<k>` added
//! when that name is taken, e.g. by an earlier device on the same fd) in the
//! trace directory, opened once with `O_APPEND` at the device's first step.
//! After a fork the child writes its own files: a device it inherited gets a
//! new file that starts with a copy of the parent's steps up to the fork.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::IntoRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use vfio_mig_model::v2::uapi;
use vfio_mig_trace::{Header, Step, LOST};

/// `errno` of a call that is not for this kind of fd.
const ENOTTY: i32 = 25;

/// The fds the recorder follows (data fds and device fds), readable without
/// any lock so that `read`, `write` and `close` of every other fd (from a
/// signal handler, say) never wait for the recorder.
#[derive(Debug)]
pub struct FdSet {
    bits: Box<[AtomicU64]>,
    /// Whether an fd at or above [`FdSet::SPAN`] was ever followed: such fds
    /// are then all taken as followed, and the recorder's map decides.
    high: AtomicBool,
}

impl FdSet {
    /// Fds below this are kept exactly, one bit each.
    pub const SPAN: i32 = 1 << 16;

    /// An empty set.
    pub fn new() -> Self {
        FdSet {
            bits: (0..Self::SPAN / 64).map(|_| AtomicU64::new(0)).collect(),
            high: AtomicBool::new(false),
        }
    }

    /// Whether `fd` may be followed (exact below [`FdSet::SPAN`]).
    /// Lock-free and async-signal-safe: atomic loads only.
    pub fn contains(&self, fd: i32) -> bool {
        match usize::try_from(fd) {
            Err(_) => false,
            Ok(i) if fd < Self::SPAN => self.bits[i / 64].load(Ordering::Acquire) & (1 << (i % 64)) != 0,
            Ok(_) => self.high.load(Ordering::Acquire),
        }
    }

    fn insert(&self, fd: i32) {
        match usize::try_from(fd) {
            Err(_) => {}
            Ok(i) if fd < Self::SPAN => {
                self.bits[i / 64].fetch_or(1 << (i % 64), Ordering::Release);
            }
            Ok(_) => self.high.store(true, Ordering::Release),
        }
    }

    fn remove(&self, fd: i32) {
        if let Ok(i) = usize::try_from(fd) {
            if fd < Self::SPAN {
                self.bits[i / 64].fetch_and(!(1 << (i % 64)), Ordering::Release);
            }
        }
    }

    /// Forgets every fd.
    pub fn clear(&self) {
        for w in self.bits.iter() {
            w.store(0, Ordering::Release);
        }
        self.high.store(false, Ordering::Release);
    }
}

impl Default for FdSet {
    fn default() -> Self {
        FdSet::new()
    }
}

/// Where a device's steps go.
#[derive(Debug, Default)]
enum Sink {
    /// No step written yet in this process.
    #[default]
    Unopened,
    /// The open trace file, with the device and inode it had when opened
    /// (checked before each append: the program may have closed the fd or
    /// put another file on its number).
    Open { file: File, id: (u64, u64) },
    /// The file could not be made or written; steps are dropped.
    Failed,
}

/// One device's trace in this process.
#[derive(Debug, Default)]
struct DeviceLog {
    /// Its `VFIO_DEVICE_FEATURE_MIGRATION` flags, as far as known.
    flags: u64,
    /// Whether it offers MIG_DATA_SIZE, when known.
    data_size: Option<bool>,
    sink: Sink,
    /// The file's path, once made.
    path: Option<PathBuf>,
    /// Steps written to the file.
    steps: u64,
    /// Data fds returned so far (the next one's number).
    fds: u16,
    /// Bytes written in the current resume session, and whether any write
    /// was recorded since the last SET (that SET then carries the total).
    written: u64,
    open_writes: bool,
    /// Set after a fork: the parent's pid and file, whose first `steps`
    /// steps the child's file starts with.
    parent: Option<(u32, PathBuf)>,
}

/// The recorder's state for the whole process.
#[derive(Debug)]
pub struct Recorder {
    dir: Option<PathBuf>,
    pid: u32,
    followed: Arc<FdSet>,
    devices: HashMap<i32, DeviceLog>,
    /// Data fd -> (device fd, its number in the trace).
    data: HashMap<i32, (i32, u16)>,
    /// The one line said on stderr when traces could not be written.
    warning: Option<String>,
}

fn word(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn dword(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The longest line copied from a parent's trace after a fork (the
/// recorder's own lines are a few hundred bytes).
const MAX_LINE: u64 = 64 << 10;

impl Recorder {
    /// A recorder of process `pid` writing into `dir` (nothing is recorded
    /// without one), with a set of followed fds of its own.
    pub fn new(dir: Option<PathBuf>, pid: u32) -> Self {
        Recorder::with_fds(dir, pid, Arc::new(FdSet::new()))
    }

    /// A recorder that keeps the fds it follows in `followed`.
    pub fn with_fds(dir: Option<PathBuf>, pid: u32, followed: Arc<FdSet>) -> Self {
        Recorder {
            dir,
            pid,
            followed,
            devices: HashMap::new(),
            data: HashMap::new(),
            warning: None,
        }
    }

    /// The fds this recorder follows.
    pub fn followed(&self) -> &Arc<FdSet> {
        &self.followed
    }

    /// Whether `fd` is a data fd the recorder follows.
    pub fn is_data_fd(&self, fd: i32) -> bool {
        self.data.contains_key(&fd)
    }

    /// The process the recorder last ran in.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The trace file of device `dev` in this process, once written.
    pub fn path(&self, dev: i32) -> Option<&Path> {
        self.devices.get(&dev)?.path.as_deref()
    }

    /// What was said on stderr when traces could not be written.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// Tells the recorder which process it runs in. After a fork (another
    /// pid) the parent's files are left to the parent: each device the
    /// child goes on using gets a file of the child's, which starts with
    /// the parent's steps up to the fork.
    pub fn process(&mut self, pid: u32) {
        if pid == self.pid {
            return;
        }
        let parent = std::mem::replace(&mut self.pid, pid);
        for log in self.devices.values_mut() {
            // The fd is the parent's file, inherited: never written again,
            // and not closed either, since the child may have put one of
            // its own on that number by now.
            if let Sink::Open { file, .. } = std::mem::take(&mut log.sink) {
                let _ = file.into_raw_fd();
            }
            log.parent = match log.path.take() {
                Some(path) if log.steps > 0 => Some((parent, path)),
                _ => None,
            };
        }
    }

    fn device(&mut self, fd: i32) -> &mut DeviceLog {
        let followed = &self.followed;
        self.devices.entry(fd).or_insert_with(|| {
            followed.insert(fd);
            DeviceLog {
                flags: 1,
                ..DeviceLog::default()
            }
        })
    }

    /// Says once on stderr that traces cannot be written, then goes on.
    fn warn(&mut self, what: String) {
        if self.warning.is_none() {
            let line = format!("vfio-mig recorder: {what}; the program goes on without its traces\n");
            let _ = std::io::stderr().write_all(line.as_bytes());
            self.warning = Some(line);
        }
    }

    /// Makes device `dev`'s file: the header, and after a fork the
    /// parent's steps up to it.
    fn open(&mut self, dev: i32) -> Sink {
        let Some(dir) = self.dir.clone() else {
            return Sink::Failed;
        };
        let pid = self.pid;
        let mut made = None;
        let mut last_err = None;
        for k in 0..100 {
            let name = match k {
                0 => format!("vfio-mig-trace-{pid}-fd{dev}.json"),
                k => format!("vfio-mig-trace-{pid}-fd{dev}-{k}.json"),
            };
            let path = dir.join(name);
            match std::fs::OpenOptions::new()
                .append(true)
                .create_new(true)
                .open(&path)
            {
                Ok(f) => {
                    made = Some((f, path));
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_err = Some(e),
                Err(e) => {
                    last_err = Some(e);
                    break;
                }
            }
        }
        let Some((file, path)) = made else {
            let e = last_err.map(|e| e.to_string()).unwrap_or_default();
            self.warn(format!("cannot write traces in {}: {e}", dir.display()));
            return Sink::Failed;
        };
        let Some(log) = self.devices.get_mut(&dev) else {
            return Sink::Failed;
        };
        let mut header = Header::new(log.flags, log.data_size);
        let parent = log.parent.take();
        header.forked_from = parent.as_ref().map(|(p, _)| *p);
        // Written through a small buffer: a parent's steps are copied line
        // by line, never held whole.
        let mut w = BufWriter::new(&file);
        let written = (|| {
            w.write_all(serde_json::to_string(&header).unwrap_or_default().as_bytes())?;
            w.write_all(b"\n")?;
            match &parent {
                Some((_, from)) => {
                    let copied = copy_steps(from, log.steps, &mut w)?;
                    if copied < log.steps {
                        // The parent's file no longer holds them: say so,
                        // and the checker judges nothing after it.
                        let lost = Step {
                            op: LOST.into(),
                            count: Some(log.steps - copied),
                            ..Step::default()
                        };
                        w.write_all(serde_json::to_string(&lost).unwrap_or_default().as_bytes())?;
                        w.write_all(b"\n")?;
                        log.steps = copied + 1;
                    }
                }
                None => log.steps = 0,
            }
            w.flush()
        })();
        drop(w);
        let id = file.metadata().map(|m| (m.dev(), m.ino()));
        match (written, id) {
            (Ok(()), Ok(id)) => {
                log.path = Some(path);
                Sink::Open { file, id }
            }
            (Err(e), _) | (_, Err(e)) => {
                self.warn(format!("cannot write traces in {}: {e}", dir.display()));
                Sink::Failed
            }
        }
    }

    /// Appends `step` to device `dev`'s file.
    fn push(&mut self, dev: i32, mut step: Step) {
        let log = self.device(dev);
        // Leaving a resume session: its writes made one stream this long.
        if step.op == "set" && log.open_writes {
            step.stream_total = Some(log.written);
            log.open_writes = false;
            log.written = 0;
        }
        if matches!(log.sink, Sink::Unopened) {
            let sink = self.open(dev);
            self.device(dev).sink = sink;
        }
        let mut line = serde_json::to_string(&step).unwrap_or_default();
        line.push('\n');
        if let Err(Some(problem)) = append(self.device(dev), &line) {
            let dir = self.dir.clone().unwrap_or_default();
            self.warn(format!("cannot write traces in {}: {problem}", dir.display()));
        }
    }

    /// A step saying `count` calls went unrecorded.
    fn push_lost(&mut self, dev: i32, count: u64) {
        let step = Step {
            op: LOST.into(),
            count: Some(count),
            ..Step::default()
        };
        self.push(dev, step);
    }

    /// `VFIO_DEVICE_FEATURE` on `dev` with `flags`, the payload after the
    /// header (at most its first 8 bytes, as the argument held them after
    /// the call: the kernel writes back what a GET reports and the data fd
    /// a SET returns, and leaves a failed call's request as it was), and
    /// the call's result. A call that failed as not meant for this fd
    /// (ENOTTY) starts no trace.
    pub fn feature(&mut self, dev: i32, flags: u32, payload: &[u8], result: Result<(), i32>) {
        let (get, set, probe) = (
            flags & uapi::FEATURE_GET != 0,
            flags & uapi::FEATURE_SET != 0,
            flags & uapi::FEATURE_PROBE != 0,
        );
        if probe || result == Err(ENOTTY) && !self.devices.contains_key(&dev) {
            return;
        }
        let errno = result.err();
        let mut step = Step {
            errno,
            ..Step::default()
        };
        match flags & 0xffff {
            f if f == uapi::FEATURE_MIGRATION && get => {
                if let (Ok(()), Some(bits)) = (result, dword(payload, 0)) {
                    self.device(dev).flags = bits;
                }
                return;
            }
            f if f == uapi::FEATURE_MIG_DEVICE_STATE && set => {
                let Some(state) = word(payload, 0) else {
                    return; // the kernel refuses it too: argsz too small
                };
                step.op = "set".into();
                step.state = Some(state);
                if result.is_ok() {
                    let data_fd = word(payload, 4).map(|v| v as i32).unwrap_or(-1);
                    step.data_fd = Some(data_fd >= 0);
                    if data_fd >= 0 {
                        let log = self.device(dev);
                        let n = log.fds;
                        log.fds = log.fds.saturating_add(1);
                        self.data.insert(data_fd, (dev, n));
                        self.followed.insert(data_fd);
                    }
                }
            }
            f if f == uapi::FEATURE_MIG_DEVICE_STATE && get => {
                step.op = "get".into();
                if result.is_ok() {
                    let Some(state) = word(payload, 0) else {
                        return self.push_lost(dev, 1); // answered, but unreadable
                    };
                    step.state = Some(state);
                }
            }
            f if f == uapi::FEATURE_MIG_DATA_SIZE && get => {
                step.op = "data_size".into();
                if result.is_ok() {
                    let Some(size) = dword(payload, 0) else {
                        return self.push_lost(dev, 1);
                    };
                    step.size = Some(size);
                    self.device(dev).data_size = Some(true);
                }
            }
            _ => return,
        }
        self.push(dev, step);
    }

    /// `VFIO_DEVICE_RESET` on `dev`.
    pub fn reset(&mut self, dev: i32, result: Result<(), i32>) {
        if !self.devices.contains_key(&dev) {
            return;
        }
        let step = Step {
            op: "reset".into(),
            errno: result.err(),
            ..Step::default()
        };
        self.push(dev, step);
    }

    /// `VFIO_MIG_GET_PRECOPY_INFO` on data fd `fd`.
    pub fn precopy_info(&mut self, fd: i32, result: Result<(u64, u64), i32>) {
        let Some(&(dev, n)) = self.data.get(&fd) else {
            return;
        };
        let mut step = Step {
            op: "precopy_info".into(),
            fd: Some(n),
            errno: result.err(),
            ..Step::default()
        };
        if let Ok((i, d)) = result {
            (step.initial_bytes, step.dirty_bytes) = (Some(i), Some(d));
        }
        self.push(dev, step);
    }

    /// `read(fd, _, len)` that returned `result` (bytes read). Only the
    /// numbers are kept, never the bytes.
    pub fn read(&mut self, fd: i32, len: u64, result: Result<u64, i32>) {
        let Some(&(dev, n)) = self.data.get(&fd) else {
            return;
        };
        let step = Step {
            op: "read".into(),
            fd: Some(n),
            len: Some(len),
            bytes: result.ok(),
            errno: result.err(),
            ..Step::default()
        };
        self.push(dev, step);
    }

    /// `write(fd, _, len)` that returned `result` (bytes taken).
    ///
    /// The recorder cannot see where bytes come from: the writes of a
    /// resume session are taken to be one whole saved stream written in
    /// order, whose length (the sum of the bytes taken) the SET that ends
    /// the session carries.
    pub fn write(&mut self, fd: i32, len: u64, result: Result<u64, i32>) {
        let Some(&(dev, n)) = self.data.get(&fd) else {
            return;
        };
        let log = self.device(dev);
        let step = Step {
            op: "write".into(),
            fd: Some(n),
            len: Some(len),
            bytes: result.ok(),
            errno: result.err(),
            stream_offset: Some(log.written),
            ..Step::default()
        };
        log.open_writes = true;
        if let Ok(taken) = result {
            log.written = log.written.saturating_add(taken);
        }
        self.push(dev, step);
    }

    /// `close(fd)`: a data fd's close is a step; a device fd's ends its
    /// trace (and forgets its data fds).
    pub fn close(&mut self, fd: i32, result: Result<(), i32>) {
        self.followed.remove(fd);
        if let Some((dev, n)) = self.data.remove(&fd) {
            let step = Step {
                op: "close".into(),
                fd: Some(n),
                errno: result.err(),
                ..Step::default()
            };
            self.push(dev, step);
        } else if let Some(log) = self.devices.remove(&fd) {
            let followed = &self.followed;
            self.data.retain(|&data_fd, (dev, _)| {
                let keep = *dev != fd;
                if !keep {
                    followed.remove(data_fd);
                }
                keep
            });
            if let Sink::Open { file, id } = log.sink {
                // Closed only when it is still ours.
                if !file.metadata().is_ok_and(|m| (m.dev(), m.ino()) == id) {
                    let _ = file.into_raw_fd();
                }
            }
        }
    }

    /// `count` calls on `fd` that could not be recorded (made by a signal
    /// handler while its thread was inside the recorder): the trace of the
    /// fd's device says so.
    pub fn lost(&mut self, fd: i32, count: u64) {
        let dev = match self.data.get(&fd) {
            Some(&(dev, _)) => dev,
            None if self.devices.contains_key(&fd) => fd,
            None => return,
        };
        self.push_lost(dev, count);
    }

    /// `count` calls lost on fds no longer known: every device's trace
    /// says so.
    pub fn lost_everywhere(&mut self, count: u64) {
        let devs: Vec<i32> = self.devices.keys().copied().collect();
        for dev in devs {
            self.lost(dev, count);
        }
    }
}

/// Appends `line` to the device's file, unless it is gone: `Err(Some(_))`
/// is a problem to say, `Err(None)` a file already given up.
fn append(log: &mut DeviceLog, line: &str) -> Result<(), Option<String>> {
    let Sink::Open { file, id } = &mut log.sink else {
        return Err(None);
    };
    let id = *id;
    // The program may have closed our fd, or put its own file on the
    // number: never write into it; reopen ours by name.
    if !file.metadata().is_ok_and(|m| (m.dev(), m.ino()) == id) {
        if let Sink::Open { file, .. } = std::mem::replace(&mut log.sink, Sink::Failed) {
            let _ = file.into_raw_fd();
        }
        let reopened = log.path.as_ref().and_then(|p| {
            let f = std::fs::OpenOptions::new().append(true).open(p).ok()?;
            let m = f.metadata().ok()?;
            ((m.dev(), m.ino()) == id).then_some(f)
        });
        match reopened {
            Some(file) => log.sink = Sink::Open { file, id },
            None => return Err(Some("the trace file went away".into())),
        }
    }
    let Sink::Open { file, .. } = &mut log.sink else {
        return Err(None);
    };
    if let Err(e) = file.write_all(line.as_bytes()) {
        log.sink = Sink::Failed;
        return Err(Some(e.to_string()));
    }
    log.steps += 1;
    Ok(())
}

/// Copies to `out` the first `n` step lines of the trace at `from` (after
/// its header line); returns how many it found there.
fn copy_steps(from: &Path, n: u64, out: &mut impl Write) -> std::io::Result<u64> {
    let Ok(f) = File::open(from) else {
        return Ok(0);
    };
    let mut r = BufReader::new(f);
    let mut line = String::new();
    let mut copied = 0;
    for i in 0..=n {
        line.clear();
        match r.by_ref().take(MAX_LINE).read_line(&mut line) {
            Ok(_) if line.ends_with('\n') => {}
            _ => break,
        }
        if i > 0 {
            out.write_all(line.as_bytes())?;
            copied += 1;
        }
    }
    Ok(copied)
}
