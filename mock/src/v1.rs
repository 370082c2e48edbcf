//! The v1 mock: a migration region with its save and resume loops.

use super::faults::Faults;
use super::stream;
use super::{MockConfig, Mutant, Registers};
use vfio_mig_device::v1::Call;
use vfio_mig_device::{Description, Device, DeviceError, Fault, Io};
use vfio_mig_model::v1::{Field, Outcome, Region, V1State};
use vfio_mig_model::Errno;

/// Where the data section starts.
const DATA_OFFSET: u64 = 64;

/// Where the user is in a loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Idle,
    Pending,
    Staged { size: u64 },
}

/// A v1 mock device.
pub struct MockV1 {
    cfg: MockConfig,
    instance: u64,
    state: V1State,
    dev: Registers,
    /// The saving stream and how much of it was consumed.
    save: Vec<u8>,
    pos: usize,
    /// End of the part of the stream pre-copy may send.
    precopy_end: usize,
    cursor: Cursor,
    pending_reads: u64,
    /// The resume stream so far and the chunk being written.
    resume: Vec<u8>,
    chunk: Vec<u8>,
    faults: Faults,
}

fn err() -> Outcome {
    Outcome::Err(Errno::EINVAL)
}

impl MockV1 {
    /// Instance `instance` of a device configured by `cfg`.
    pub fn new(cfg: MockConfig, instance: u64) -> Self {
        let mut m = MockV1 {
            state: V1State::Running,
            dev: Registers::new(&cfg, instance),
            save: Vec::new(),
            pos: 0,
            precopy_end: 0,
            cursor: Cursor::Idle,
            pending_reads: 0,
            resume: Vec::new(),
            chunk: Vec::new(),
            faults: Faults::default(),
            cfg,
            instance,
        };
        m.power_on();
        m
    }

    fn mutant(&self, m: Mutant) -> bool {
        self.cfg.mutant == Some(m)
    }

    fn power_on(&mut self) {
        self.dev.power_on();
        self.state = V1State::Running;
        self.save.clear();
        self.pos = 0;
        self.cursor = Cursor::Idle;
        self.resume.clear();
        self.chunk.clear();
    }

    fn tick(&mut self) {
        if matches!(self.state, V1State::Running | V1State::PreCopy) {
            self.dev.tick();
        }
    }

    fn capacity(&self) -> u64 {
        self.cfg.region_size.saturating_sub(DATA_OFFSET)
    }

    fn pending(&self) -> u64 {
        let end = if self.state == V1State::PreCopy {
            self.precopy_end
        } else {
            self.save.len()
        };
        end.saturating_sub(self.pos) as u64
    }

    fn load(&mut self) -> bool {
        let parsed = stream::parse(&self.resume, self.dev.regs.len());
        match (parsed.verdict, parsed.snapshot) {
            (Ok(()), Some(snap)) => {
                self.dev.regs.copy_from_slice(&self.resume[snap]);
                true
            }
            _ => false,
        }
    }

    fn write_state(&mut self, raw: u32) -> Outcome {
        let from = self.state;
        let to = V1State::from_raw(raw);
        if from == V1State::Error {
            if self.mutant(Mutant::V1ErrorLeftByWrite) && to.is_requestable() {
                self.state = to;
                return Outcome::Ok;
            }
            return err();
        }
        if to == V1State::Invalid101 && self.mutant(Mutant::V1InvalidValueAccepted) {
            return Outcome::Ok;
        }
        if !to.is_requestable() {
            return err();
        }
        if to == from {
            return Outcome::Ok;
        }
        if let Some(into_error) = self.faults.set_fails(from.bits()) {
            if self.mutant(Mutant::V1FailedWriteThirdState) {
                self.state = if from == V1State::Stop {
                    V1State::PreCopy
                } else {
                    V1State::Stop
                };
            } else if into_error {
                self.state = V1State::Error;
            }
            return Outcome::Err(Errno::EIO);
        }
        if from == V1State::Resuming {
            if !self.load() {
                if self.cfg.resume_error_into_error {
                    self.state = V1State::Error;
                }
                return err();
            }
            self.resume.clear();
        }
        if to.is_saving() && !(from == V1State::PreCopy && to == V1State::StopCopy) {
            self.save.clear();
            self.pos = 0;
            stream::header(&mut self.save, self.dev.regs.len());
            if to == V1State::PreCopy {
                let filler = self.dev.rng.bytes(self.cfg.precopy_initial);
                stream::record(&mut self.save, stream::INITIAL, &filler);
            }
            self.precopy_end = self.save.len();
        }
        if to == V1State::StopCopy {
            stream::record(&mut self.save, stream::FINAL, &self.dev.regs);
            let t = stream::trailer(&self.save);
            self.save.extend_from_slice(&t);
        }
        if to == V1State::Resuming {
            self.resume.clear();
            self.chunk.clear();
        }
        self.cursor = Cursor::Idle;
        self.state = to;
        Outcome::Ok
    }

    fn read_field(&mut self, field: Field) -> Outcome {
        let saving = self.state.is_saving();
        let resuming = self.state == V1State::Resuming;
        match field {
            Field::DeviceState => {
                let bits = if self.mutant(Mutant::V1StopIsOne) && self.state == V1State::Stop {
                    1
                } else {
                    self.state.bits()
                };
                Outcome::Value(u64::from(bits))
            }
            Field::Reserved => Outcome::Value(0),
            Field::PendingBytes if saving => {
                if let Cursor::Staged { size } = self.cursor {
                    self.pos += size as usize;
                }
                self.cursor = Cursor::Pending;
                let p = self.pending();
                if self.mutant(Mutant::V1PendingNotIdempotent) {
                    self.pending_reads += 1;
                    return Outcome::Value(p.saturating_sub(self.pending_reads));
                }
                Outcome::Value(p)
            }
            Field::PendingBytes => Outcome::Value(0),
            Field::DataOffset if saving => match self.cursor {
                Cursor::Staged { .. } => Outcome::Value(DATA_OFFSET),
                Cursor::Pending if self.pending() > 0 => {
                    let size = self.pending().min(self.capacity());
                    self.cursor = Cursor::Staged { size };
                    Outcome::Value(DATA_OFFSET)
                }
                _ => err(),
            },
            Field::DataOffset if resuming => {
                self.cursor = Cursor::Staged { size: 0 };
                self.chunk.clear();
                Outcome::Value(DATA_OFFSET)
            }
            Field::DataSize if saving => match self.cursor {
                Cursor::Staged { size } => Outcome::Value(size),
                _ if self.mutant(Mutant::V1DataSizeBeforeOffset) => Outcome::Value(0),
                _ => err(),
            },
            Field::DataSize if resuming => Outcome::Value(self.chunk.len() as u64),
            Field::DataOffset | Field::DataSize => err(),
        }
    }

    fn write_field(&mut self, field: Field, value: u64) -> Outcome {
        match field {
            Field::DeviceState => self.write_state(value as u32),
            Field::Reserved => Outcome::Ok,
            Field::PendingBytes if self.mutant(Mutant::V1PendingWritable) => Outcome::Ok,
            Field::PendingBytes | Field::DataOffset => err(),
            Field::DataSize if self.state == V1State::Resuming => match self.cursor {
                Cursor::Staged { .. } => {
                    if self.faults.write_fails() {
                        return Outcome::Err(Errno::EIO);
                    }
                    let n = (value as usize).min(self.chunk.len());
                    self.resume.extend_from_slice(&self.chunk[..n]);
                    self.chunk.clear();
                    self.cursor = Cursor::Idle;
                    Outcome::Ok
                }
                _ => err(),
            },
            Field::DataSize => err(),
        }
    }

    fn read_data(&mut self, offset: u64, len: u32, io: &mut Io) -> Outcome {
        let Cursor::Staged { size } = self.cursor else {
            return err();
        };
        if !self.state.is_saving() || offset < DATA_OFFSET || offset + u64::from(len) > DATA_OFFSET + size {
            return err();
        }
        if self.faults.read_fails() {
            return Outcome::Err(Errno::EIO);
        }
        let start = self.pos + (offset - DATA_OFFSET) as usize;
        io.read.extend_from_slice(&self.save[start..start + len as usize]);
        Outcome::Bytes(len)
    }

    fn write_data(&mut self, offset: u64, len: u32, io: &Io) -> Outcome {
        if self.state != V1State::Resuming || !matches!(self.cursor, Cursor::Staged { .. }) {
            return err();
        }
        let end = offset.saturating_add(u64::from(len));
        if offset < DATA_OFFSET || end > self.cfg.region_size {
            return err();
        }
        let at = (offset - DATA_OFFSET) as usize;
        if self.chunk.len() < at + len as usize {
            self.chunk.resize(at + len as usize, 0);
        }
        let n = (len as usize).min(io.write.len());
        self.chunk[at..at + n].copy_from_slice(&io.write[..n]);
        Outcome::Bytes(len)
    }
}

impl Device<Region> for MockV1 {
    fn describe(&self) -> Description {
        Description::v1(format!("mock-v1#{}", self.instance), self.cfg.region_size).with_fault_injection(true)
    }

    fn exec(&mut self, call: &Call, io: &mut Io) -> Outcome {
        io.read.clear();
        if self.faults.op_fails() {
            return Outcome::Err(Errno::EIO);
        }
        if matches!(
            call,
            Call::Read(Field::DeviceState) | Call::Write(Field::DeviceState, _)
        ) {
            self.tick();
        }
        if self.state == V1State::Error
            && !matches!(
                call,
                Call::Reset | Call::Read(Field::DeviceState) | Call::Write(Field::DeviceState, _)
            )
        {
            return err();
        }
        match *call {
            Call::Read(f) => self.read_field(f),
            Call::Write(f, v) => self.write_field(f, v),
            Call::Misaligned { .. } => err(),
            Call::ReadData { offset, len } => self.read_data(offset, len, io),
            Call::WriteData { offset, len } => self.write_data(offset, len, io),
            Call::Reset => {
                self.power_on();
                Outcome::Ok
            }
            _ => Outcome::Err(Errno::ENOTTY),
        }
    }

    fn restore(&mut self) -> Result<(), DeviceError> {
        self.power_on();
        self.faults = Faults::default();
        self.pending_reads = 0;
        Ok(())
    }

    fn fingerprint(&mut self) -> Option<Vec<u8>> {
        Some(self.dev.regs.clone())
    }

    fn inject(&mut self, fault: Fault) -> bool {
        if fault == Fault::FallIntoError {
            self.state = V1State::Error;
        }
        self.faults.arm(fault)
    }
}
