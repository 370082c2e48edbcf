//! Turning decoded calls into trace steps, one trace per device fd. No
//! unsafe code: the shim hands over plain values and byte slices.

use std::collections::HashMap;
use std::path::PathBuf;
use vfio_mig_model::v2::uapi;
use vfio_mig_trace::{Step, TraceFile, FORMAT};

/// One device's trace.
#[derive(Debug, Default)]
struct DeviceLog {
    file: PathBuf,
    flags: u64,
    data_size: bool,
    steps: Vec<Step>,
    /// Data fds returned so far (the next one's number).
    fds: u16,
    /// Bytes this process read from the device's saving fds.
    saved: Vec<u8>,
    /// Whether a read returned the end of the saved stream.
    ended: bool,
    /// Bytes written in the current resume session, and the steps whose
    /// stream total is known only when the session is left.
    written: u64,
    open_writes: Vec<usize>,
}

/// The recorder's state for the whole process.
#[derive(Debug, Default)]
pub struct Recorder {
    dir: Option<PathBuf>,
    devices: HashMap<i32, DeviceLog>,
    /// Data fd -> (device fd, its number in the trace).
    data: HashMap<i32, (i32, u16)>,
}

fn word(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn dword(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

impl Recorder {
    /// A recorder writing into `dir` (nothing is written without one).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Recorder {
            dir,
            ..Recorder::default()
        }
    }

    /// Whether `fd` is a data fd the recorder follows.
    pub fn is_data_fd(&self, fd: i32) -> bool {
        self.data.contains_key(&fd)
    }

    fn device(&mut self, fd: i32) -> &mut DeviceLog {
        let dir = self.dir.clone().unwrap_or_default();
        self.devices.entry(fd).or_insert_with(|| DeviceLog {
            file: dir.join(format!("vfio-mig-trace-{}-fd{fd}.json", std::process::id())),
            flags: 1,
            ..DeviceLog::default()
        })
    }

    fn push(&mut self, dev: i32, step: Step) {
        let writing = self.dir.is_some();
        let log = self.device(dev);
        // Leaving a resume session: the writes made one stream of this length.
        if step.op == "set" && !log.open_writes.is_empty() {
            for &i in &log.open_writes {
                log.steps[i].stream_total = Some(log.written);
            }
            log.open_writes.clear();
            log.written = 0;
        }
        log.steps.push(step);
        let t = TraceFile {
            format: FORMAT.into(),
            flags: log.flags,
            data_size: log.data_size,
            steps: log.steps.clone(),
        };
        if writing {
            if let Ok(text) = serde_json::to_string_pretty(&t) {
                let _ = std::fs::write(&log.file, text);
            }
        }
    }

    /// `VFIO_DEVICE_FEATURE` on `dev` with `flags`, the payload after the
    /// header before and after the call, and the call's result.
    pub fn feature(&mut self, dev: i32, flags: u32, before: &[u8], after: &[u8], result: Result<(), i32>) {
        let (get, set, probe) = (
            flags & uapi::FEATURE_GET != 0,
            flags & uapi::FEATURE_SET != 0,
            flags & uapi::FEATURE_PROBE != 0,
        );
        if probe {
            return;
        }
        let errno = result.err();
        let mut step = Step {
            errno,
            ..Step::default()
        };
        match flags & 0xffff {
            f if f == uapi::FEATURE_MIGRATION && get => {
                if let (Ok(()), Some(bits)) = (result, dword(after, 0)) {
                    self.device(dev).flags = bits;
                }
                return;
            }
            f if f == uapi::FEATURE_MIG_DEVICE_STATE && set => {
                step.op = "set".into();
                step.state = word(before, 0);
                if result.is_ok() {
                    let data_fd = word(after, 4).map(|v| v as i32).unwrap_or(-1);
                    step.data_fd = Some(data_fd >= 0);
                    if data_fd >= 0 {
                        let log = self.device(dev);
                        let n = log.fds;
                        log.fds += 1;
                        self.data.insert(data_fd, (dev, n));
                    }
                }
            }
            f if f == uapi::FEATURE_MIG_DEVICE_STATE && get => {
                step.op = "get".into();
                step.state = result.ok().and_then(|()| word(after, 0));
            }
            f if f == uapi::FEATURE_MIG_DATA_SIZE && get => {
                step.op = "data_size".into();
                step.size = result.ok().and_then(|()| dword(after, 0));
                if result.is_ok() {
                    self.device(dev).data_size = true;
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

    /// `read(fd, _, len)` that returned `result` (the bytes read).
    pub fn read(&mut self, fd: i32, len: usize, result: Result<&[u8], i32>) {
        let Some(&(dev, n)) = self.data.get(&fd) else {
            return;
        };
        let log = self.device(dev);
        match result {
            Ok(bytes) if bytes.is_empty() && len > 0 => log.ended = true,
            Ok(bytes) => log.saved.extend_from_slice(bytes),
            Err(_) => {}
        }
        let step = Step {
            op: "read".into(),
            fd: Some(n),
            len: Some(len as u64),
            bytes: result.ok().map(|b| b.len() as u64),
            errno: result.err(),
            ..Step::default()
        };
        self.push(dev, step);
    }

    /// `write(fd, buf)` that returned `result` (bytes taken).
    ///
    /// Bytes this process read from a saving fd are tagged with their place
    /// in that stream; others are taken to be one whole saved stream written
    /// in order (the recorder cannot see where they came from), whose length
    /// is known when the program leaves RESUMING.
    pub fn write(&mut self, fd: i32, buf: &[u8], result: Result<usize, i32>) {
        let Some(&(dev, n)) = self.data.get(&fd) else {
            return;
        };
        // Which saved stream (any device's) holds these bytes at the cursor.
        let cursor = self.devices.get(&dev).map_or(0, |l| l.written);
        let source = self.devices.values().find(|l| {
            let at = cursor as usize;
            l.saved.get(at..at + buf.len()) == Some(buf)
        });
        let known_total = source.map(|l| l.ended.then_some(l.saved.len() as u64));
        let log = self.device(dev);
        let mut step = Step {
            op: "write".into(),
            fd: Some(n),
            len: Some(buf.len() as u64),
            bytes: result.ok().map(|b| b as u64),
            errno: result.err(),
            stream_offset: Some(cursor),
            ..Step::default()
        };
        match known_total {
            Some(total) => step.stream_total = total,
            None => log.open_writes.push(log.steps.len()),
        }
        if let Ok(taken) = result {
            log.written += taken as u64;
        }
        self.push(dev, step);
    }

    /// `close(fd)`.
    pub fn close(&mut self, fd: i32, result: Result<(), i32>) {
        let Some((dev, n)) = self.data.remove(&fd) else {
            self.devices.remove(&fd);
            return;
        };
        let step = Step {
            op: "close".into(),
            fd: Some(n),
            errno: result.err(),
            ..Step::default()
        };
        self.push(dev, step);
    }

    /// The trace of device `dev` so far, as the file holds it.
    pub fn trace(&self, dev: i32) -> Option<TraceFile> {
        let log = self.devices.get(&dev)?;
        Some(TraceFile {
            format: FORMAT.into(),
            flags: log.flags,
            data_size: log.data_size,
            steps: log.steps.clone(),
        })
    }
}
