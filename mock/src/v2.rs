//! The v2 mock: the `VFIO_DEVICE_FEATURE` state machine of a well-behaved
//! driver, unless a mutant is configured.
//!
//! The device's data sits behind one lock ([`Core`]), taken for short steps,
//! and a second lock plays the driver's state mutex: a SET holds it for its
//! whole path, and so do GET, PRECOPY_INFO, MIG_DATA_SIZE and reset, while
//! reads and writes of the data fds take only the data lock, as a driver's
//! migration file lock. Calls through [`Device::exec`] take both for the
//! whole call. Calls through the shared handle ([`Device::shared`]) are split
//! into the steps a driver takes: a SET works `arc_time` with the state lock
//! held before each arc (at least once), so reads, writes and a reset can
//! race it at the data lock's granularity.

use super::faults::Faults;
use super::kernel_fsm::{next_state, offered};
use super::stream;
use super::{MockConfig, Mutant, Registers};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;
use vfio_mig_device::v2::Call;
use vfio_mig_device::{Description, Device, DeviceError, Fault, Io, SharedDevice};
use vfio_mig_model::v2::uapi::{self, PRECOPY_INFO_REINIT};
use vfio_mig_model::v2::{FdRef, FeatureReq, Fsm, MigState, Outcome};
use vfio_mig_model::{Errno, Uapi};

/// Which way a data fd points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Save,
    Resume,
}

/// The bytes of the live saving session.
///
/// Once in STOP_COPY the register file cannot change (the device is
/// stopped), so the final record's payload is not copied into the queue: it
/// is read straight from the registers at `regs_at`, as a device hands out
/// its state from its own memory.
#[derive(Debug, Default)]
struct SaveQueue {
    /// The stream without the register payload.
    bytes: Vec<u8>,
    /// Where the register payload sits in the stream, once finalised.
    regs_at: Option<usize>,
    /// Bytes of the register payload (0 until finalised).
    regs_len: usize,
    pos: usize,
    initial_end: usize,
    sum: stream::RunningSum,
}

impl SaveQueue {
    /// Empties the queue, keeping its storage for the next session.
    fn clear(&mut self) {
        self.bytes.clear();
        self.regs_at = None;
        self.regs_len = 0;
        self.pos = 0;
        self.initial_end = 0;
        self.sum = stream::RunningSum::default();
    }

    /// The stream's length.
    fn len(&self) -> usize {
        self.bytes.len() + self.regs_len
    }

    /// Appends `n` bytes of the stream from `pos` to `out`.
    fn copy_out(&self, regs: &[u8], pos: usize, n: usize, out: &mut Vec<u8>) {
        let (at, len) = (self.regs_at.unwrap_or(usize::MAX), self.regs_len);
        let end = pos + n;
        let mut p = pos;
        while p < end {
            if p < at {
                let stop = end.min(at).min(self.bytes.len());
                out.extend_from_slice(&self.bytes[p..stop]);
                p = stop;
            } else if p < at + len {
                let stop = end.min(at + len);
                out.extend_from_slice(&regs[p - at..stop - at]);
                p = stop;
            } else {
                let stop = end;
                out.extend_from_slice(&self.bytes[p - len..stop - len]);
                p = stop;
            }
        }
    }
}

/// The data of a v2 mock device, behind its data lock.
struct Core {
    cfg: MockConfig,
    instance: u64,
    state: MigState,
    dev: Registers,
    fds: Vec<(Dir, bool)>,
    live: Option<usize>,
    save: SaveQueue,
    resume: Vec<u8>,
    resume_sum: stream::RunningSum,
    faults: Faults,
    info_calls: u64,
    /// The PRECOPY_INFOv2 opt-in of this open.
    opted_in: bool,
    /// Where the session is with its one re-initialisation.
    reinit: Reinit,
    /// The early ENOMSG of its mutant was given in this session.
    early_enomsg: bool,
    /// A reset that found the state lock taken and was put off (its
    /// mutant only).
    deferred_reset: bool,
}

/// A v2 mock device.
pub struct MockV2 {
    cell: Arc<Cell>,
}

/// What every handle of one mock shares.
struct Cell {
    /// The driver's state mutex.
    state: Mutex<()>,
    /// The device's data.
    core: Mutex<Core>,
    /// How long a SET works on each arc through the shared handle.
    arc_time: Duration,
}

/// The plan of a SET once it is known to be carried out arc by arc.
enum Plan {
    /// Answered without an arc.
    Done(Outcome),
    /// The path, from the current state to the target.
    Path(Vec<MigState>),
}

/// The one re-initialisation a pre-copy session goes through after the
/// opt-in ([`MockConfig::reinit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reinit {
    /// Not yet: waits for the initial data to be read.
    Waiting,
    /// New initial data was queued; the next PRECOPY_INFO says REINIT.
    Pending,
    /// Done for this session.
    Done,
}

fn err(e: Errno) -> Outcome {
    Outcome::Err(e)
}

impl MockV2 {
    /// Instance `instance` of a device configured by `cfg`.
    pub fn new(cfg: MockConfig, instance: u64) -> Self {
        let arc_time = cfg.arc_time;
        MockV2 {
            cell: Arc::new(Cell {
                state: Mutex::new(()),
                core: Mutex::new(Core::new(cfg, instance)),
                arc_time,
            }),
        }
    }

    /// Forgets every data fd but the live one, which becomes fd 0; returns
    /// it. For a server that hands out no fds (vfio-user): its sessions
    /// never run out of numbers however many it opens.
    pub fn renumber_fds(&mut self) -> Option<FdRef> {
        let _state = self.cell.state();
        self.cell.core().renumber_fds()
    }

    /// Both locks, for a call made from one thread.
    fn whole(&self) -> (MutexGuard<'_, ()>, MutexGuard<'_, Core>) {
        (self.cell.state(), self.cell.core())
    }
}

impl Core {
    fn new(cfg: MockConfig, instance: u64) -> Self {
        let mut m = Core {
            state: MigState::Running,
            dev: Registers::new(&cfg, instance),
            fds: Vec::new(),
            live: None,
            save: SaveQueue::default(),
            resume: Vec::new(),
            resume_sum: stream::RunningSum::default(),
            faults: Faults::default(),
            info_calls: 0,
            opted_in: false,
            reinit: Reinit::Waiting,
            early_enomsg: false,
            deferred_reset: false,
            cfg,
            instance,
        };
        m.power_on();
        m
    }

    fn mutant(&self, m: Mutant) -> bool {
        self.cfg.mutant == Some(m)
    }

    fn renumber_fds(&mut self) -> Option<FdRef> {
        let live = self.live.and_then(|i| self.fds.get(i).copied());
        self.fds.clear();
        self.live = None;
        let fd = live?;
        self.fds.push(fd);
        self.live = Some(0);
        Some(FdRef(0))
    }

    fn power_on(&mut self) {
        self.dev.power_on();
        self.state = MigState::Running;
        self.end_session();
    }

    fn end_session(&mut self) {
        self.live = None;
        self.reinit = Reinit::Waiting;
        self.early_enomsg = false;
        self.save.clear();
        self.resume.clear();
        self.resume_sum = stream::RunningSum::default();
    }

    fn running(&self) -> bool {
        matches!(
            self.state,
            MigState::Running | MigState::RunningP2p | MigState::PreCopy | MigState::PreCopyP2p
        )
    }

    /// The device does some work: a register changes, and in pre-copy the
    /// change is queued as dirty data.
    fn tick(&mut self) {
        if !self.running() && !self.mutant(Mutant::ChangesWhileStopped) {
            return;
        }
        let Some(i) = self.dev.tick() else { return };
        if self.state.is_precopy() && self.live.is_some() {
            let mut p = (i as u32).to_le_bytes().to_vec();
            p.push(self.dev.regs[i]);
            stream::record(&mut self.save.bytes, stream::DIRTY, &p);
        }
    }

    fn new_fd(&mut self, dir: Dir) -> usize {
        self.fds.push((dir, false));
        let fd = self.fds.len() - 1;
        self.live = Some(fd);
        fd
    }

    fn open_save(&mut self, precopy: bool) {
        self.save.clear();
        stream::header(&mut self.save.bytes, self.dev.regs.len());
        if precopy {
            let filler = self.dev.rng.bytes(self.cfg.precopy_initial);
            stream::record(&mut self.save.bytes, stream::INITIAL, &filler);
        }
        self.save.initial_end = self.save.bytes.len();
        self.new_fd(Dir::Save);
    }

    fn finalize(&mut self) {
        let q = &mut self.save;
        if self.cfg.mutant == Some(Mutant::StreamReordered) {
            let mut snapshot = self.dev.regs.clone();
            snapshot.reverse();
            stream::record(&mut q.bytes, stream::FINAL, &snapshot);
            q.sum.catch_up(&q.bytes, 0);
        } else {
            // The record's header is queued; its payload stays in the
            // registers and is summed where it lies.
            let regs = &self.dev.regs;
            q.bytes.push(stream::FINAL);
            q.bytes.extend_from_slice(&(regs.len() as u32).to_le_bytes());
            q.sum.catch_up(&q.bytes, 0);
            q.sum.add(regs);
            q.regs_at = Some(q.bytes.len());
            q.regs_len = regs.len();
        }
        if self.cfg.mutant != Some(Mutant::StreamTruncated) {
            let t = stream::trailer_after(q.len(), &q.sum);
            q.bytes.extend_from_slice(&t);
        }
    }

    fn fall_into_error(&mut self) {
        self.state = MigState::Error;
        self.end_session();
    }

    /// Loads the resume stream; on success the registers take its snapshot.
    fn load(&mut self) -> bool {
        let parsed = stream::parse_summed(&self.resume, self.dev.regs.len(), &self.resume_sum);
        if self.mutant(Mutant::ResumeAcceptsGarbage) {
            return true;
        }
        if self.mutant(Mutant::ResumeAcceptsPartial) && parsed.verdict == Err(stream::Invalid::Truncated) {
            return true;
        }
        match (parsed.verdict, parsed.snapshot) {
            (Ok(()), Some(snap)) => {
                self.dev.regs.copy_from_slice(&self.resume[snap]);
                true
            }
            // The checksum is skipped: the structure and length decide.
            (Err(stream::Invalid::BadTrailer), Some(snap)) if self.mutant(Mutant::ResumeAcceptsCorrupted) => {
                self.dev.regs.copy_from_slice(&self.resume[snap]);
                true
            }
            (_, Some(snap)) if self.mutant(Mutant::ResumeAppliesPartial) => {
                self.dev.regs.copy_from_slice(&self.resume[snap]);
                false
            }
            _ => false,
        }
    }

    fn set(&mut self, raw: u32) -> Outcome {
        match self.plan(raw) {
            Plan::Done(o) => o,
            Plan::Path(path) => {
                let to = path[path.len() - 1];
                let mut opened = false;
                for w in path.windows(2) {
                    match self.arc(w[0], w[1], to) {
                        Ok(o) => opened |= o,
                        Err(o) => return o,
                    }
                }
                self.set_done(path[0], to, opened)
            }
        }
    }

    /// Everything a SET decides before its first arc: a refused or failed
    /// request, or the path to walk.
    fn plan(&mut self, raw: u32) -> Plan {
        let Some(to) = MigState::from_number(raw) else {
            return Plan::Done(if self.mutant(Mutant::StateNumberEightAccepted) {
                Outcome::SetOk { fd: false }
            } else {
                err(Errno::EINVAL)
            });
        };
        let from = self.state;
        if to == MigState::Error {
            if self.mutant(Mutant::SetErrorAccepted) {
                self.fall_into_error();
                return Plan::Done(Outcome::SetOk { fd: false });
            }
            if self.mutant(Mutant::RefusalFallsIntoError) {
                self.fall_into_error();
            }
            return Plan::Done(err(Errno::EINVAL));
        }
        if from == MigState::Error {
            if self.mutant(Mutant::LeavesErrorWithoutReset) && to == MigState::Running {
                self.state = MigState::Running;
                return Plan::Done(Outcome::SetOk { fd: false });
            }
            return Plan::Done(err(Errno::EINVAL));
        }
        if self.mutant(Mutant::HangsInSet) && from == MigState::StopCopy && to.is_precopy() {
            // Spins far past any deadline a run gives a call.
            std::thread::sleep(std::time::Duration::from_secs(120));
        }
        if self.mutant(Mutant::AcceptsBlockedArc)
            && from == MigState::StopCopy
            && to.is_precopy()
            && offered(self.cfg.flags, to)
        {
            self.state = to;
            return Plan::Done(Outcome::SetOk { fd: false });
        }
        if from == to {
            return Plan::Done(if offered(self.cfg.flags, to) {
                Outcome::SetOk { fd: false }
            } else {
                err(Errno::EINVAL)
            });
        }
        // The whole path first: a request the table refuses changes nothing.
        let mut path = vec![from];
        while let Some(&cur) = path.last().filter(|c| **c != to) {
            match next_state(self.cfg.flags, cur, to) {
                Some(next) if path.len() <= 8 => path.push(next),
                _ => return Plan::Done(err(Errno::EINVAL)),
            }
        }
        if let Some(into_error) = self.faults.set_fails(from.number()) {
            if self.mutant(Mutant::WrongStateAfterFailure) {
                self.state = MigState::Resuming;
            } else if into_error {
                self.fall_into_error();
            }
            return Plan::Done(err(Errno::EIO));
        }
        Plan::Path(path)
    }

    /// One arc `a` -> `b` of a SET of `to`: whether it opened a data fd, or
    /// the SET's answer when it failed.
    fn arc(&mut self, a: MigState, b: MigState, to: MigState) -> Result<bool, Outcome> {
        let mut opened = false;
        if self.mutant(Mutant::RefusesMandatoryArc) && a == MigState::Stop && b == MigState::Resuming {
            return Err(err(Errno::EINVAL));
        }
        if a == MigState::Resuming {
            if !self.load() {
                if self.mutant(Mutant::TakesResumeThenFails) {
                    // The stream is taken as it is; whatever comes after
                    // STOP on the path fails.
                    self.end_session();
                    self.state = MigState::Stop;
                    return Err(if to == MigState::Stop {
                        Outcome::SetOk { fd: false }
                    } else {
                        err(Errno::EIO)
                    });
                }
                if self.cfg.resume_error_into_error {
                    self.fall_into_error();
                }
                return Err(err(Errno::EINVAL));
            }
            self.end_session();
        }
        if a.is_saving() && !b.is_saving() {
            self.end_session();
        }
        if !a.is_saving() && b.is_saving() {
            self.open_save(b.is_precopy());
            opened = true;
            if b == MigState::StopCopy {
                self.finalize();
            }
        } else if a.is_precopy() && b == MigState::StopCopy {
            self.finalize();
            if self.mutant(Mutant::NewFdInsideSavingGroup) {
                self.new_fd(Dir::Save);
                opened = true;
            }
        }
        if b == MigState::Resuming && !self.mutant(Mutant::ResetKeepsResumeData) {
            self.resume.clear();
            self.resume_sum = stream::RunningSum::default();
        }
        if b == MigState::Resuming {
            self.new_fd(Dir::Resume);
            opened = true;
        }
        self.state = b;
        Ok(opened)
    }

    /// The answer of a SET from `from` to `to` whose arcs all worked.
    fn set_done(&mut self, from: MigState, to: MigState, mut opened: bool) -> Outcome {
        if self.mutant(Mutant::NoFdOnPrecopy) && from == MigState::Running && to == MigState::PreCopy {
            opened = false;
        }
        Outcome::SetOk { fd: opened }
    }

    /// The fd's status: `Err` is the answer for a bad or dead fd.
    fn fd(&self, fd: u16, dead: Errno) -> Result<Dir, Errno> {
        match self.fds.get(fd as usize) {
            None | Some((_, true)) => Err(Errno::EBADF),
            Some((dir, false)) if self.live == Some(fd as usize) => Ok(*dir),
            Some(_) => Err(dead),
        }
    }

    fn read(&mut self, fd: u16, len: u32, io: &mut Io) -> Outcome {
        if self.mutant(Mutant::ReturnsDeadFd) {
            return err(Errno::EBADF);
        }
        match self.fd(fd, Errno::ENODEV) {
            Err(Errno::ENODEV) if self.mutant(Mutant::DeadFdReadable) => return Outcome::Bytes(0),
            Err(e) => return err(e),
            Ok(Dir::Resume) => return err(Errno::EBADF),
            Ok(Dir::Save) => {}
        }
        self.read_live(len, io)
    }

    /// A read of the device's current saving session, once the fd was
    /// found good.
    fn read_live(&mut self, len: u32, io: &mut Io) -> Outcome {
        if self.faults.read_fails() {
            return err(Errno::EIO);
        }
        if self.mutant(Mutant::EnomsgWhileInitialRemains)
            && self.state.is_precopy()
            && !self.early_enomsg
            && len > 0
            && self.save.pos * 2 >= self.save.initial_end
            && self.save.pos < self.save.initial_end
        {
            self.early_enomsg = true;
            return err(Errno::ENOMSG);
        }
        let available = self.save.len() - self.save.pos;
        if available == 0 {
            return match (self.state.is_precopy(), len) {
                (_, 0) => Outcome::Bytes(0),
                (true, _) if self.mutant(Mutant::ZeroReadInPrecopy) => Outcome::Bytes(0),
                (true, _) => err(Errno::ENOMSG),
                (false, _) if self.mutant(Mutant::EnomsgInStopCopy) => err(Errno::ENOMSG),
                (false, _) => Outcome::Bytes(0),
            };
        }
        let cap = self
            .faults
            .short
            .unwrap_or(u32::MAX)
            .min(self.cfg.max_read)
            .max(1);
        let mut n = available.min(len as usize).min(cap as usize);
        if self.mutant(Mutant::ReadsTooMuch) && available > len as usize && len > 0 {
            n = len as usize + 1;
        }
        self.save.copy_out(&self.dev.regs, self.save.pos, n, &mut io.read);
        self.save.pos += n;
        self.maybe_reinit();
        Outcome::Bytes(n as u32)
    }

    fn write(&mut self, fd: u16, len: u32, io: &Io) -> Outcome {
        match self.fd(fd, Errno::ENODEV) {
            Err(e) => err(e),
            Ok(Dir::Save) if self.mutant(Mutant::SaveFdWritable) => Outcome::Bytes(len),
            Ok(Dir::Save) => err(Errno::EBADF),
            Ok(Dir::Resume) => {
                if self.faults.write_fails() {
                    if self.mutant(Mutant::RejectedWriteStillCounts) {
                        // The write fails, but its bytes count (mtty's
                        // EFAULT on a bad header, with the length kept).
                        let n = (len as usize).min(io.write.len());
                        self.resume.extend_from_slice(&io.write[..n]);
                        self.resume_sum.catch_up(&self.resume, stream::TRAILER_LEN);
                    }
                    return err(Errno::EIO);
                }
                let n = (len as usize).min(io.write.len());
                self.resume.extend_from_slice(&io.write[..n]);
                self.resume_sum.catch_up(&self.resume, stream::TRAILER_LEN);
                Outcome::Bytes(n as u32)
            }
        }
    }

    /// Puts the bytes of `io` at `at` of the resume buffer, over what is
    /// there, and makes the position the end of them: what a write does
    /// with a position it read before another write moved it.
    fn write_at(&mut self, at: usize, len: u32, io: &Io) -> Outcome {
        let n = (len as usize).min(io.write.len());
        self.resume.truncate(at);
        self.resume.extend_from_slice(&io.write[..n]);
        self.resume_sum = stream::RunningSum::default();
        self.resume_sum.catch_up(&self.resume, stream::TRAILER_LEN);
        Outcome::Bytes(n as u32)
    }

    /// After the opt-in (or in its mutant, without), once the session's
    /// initial data has been read, new initial data is queued and the next
    /// PRECOPY_INFO announces it with REINIT.
    fn maybe_reinit(&mut self) {
        let wanted = (self.opted_in || self.mutant(Mutant::ReinitWithoutOptIn)) && self.cfg.reinit;
        if !wanted || self.reinit != Reinit::Waiting || !self.state.is_precopy() {
            return;
        }
        if self.save.pos < self.save.initial_end {
            return;
        }
        // The new initial data goes where the reader is: what is queued
        // after it (dirty records) follows it.
        let mut record = Vec::new();
        stream::record(&mut record, stream::INITIAL, &self.dev.rng.bytes(48));
        let at = self.save.pos;
        self.save.bytes.splice(at..at, record.iter().copied());
        self.save.initial_end = at + record.len();
        self.reinit = Reinit::Pending;
    }

    /// What `flags` a PRECOPY_INFO answer carries for `flags_in`.
    fn precopy_flags(&mut self, flags_in: u32) -> u32 {
        let reinit = if self.reinit == Reinit::Pending {
            self.reinit = Reinit::Done;
            PRECOPY_INFO_REINIT
        } else {
            0
        };
        if self.cfg.uapi >= Uapi::Linux7_3 && self.opted_in {
            reinit
        } else if self.mutant(Mutant::ReinitWithoutOptIn) {
            flags_in | reinit
        } else {
            flags_in
        }
    }

    fn precopy_info(&mut self, fd: u16, flags_in: u32) -> Outcome {
        match self.fd(fd, Errno::ENODEV) {
            Err(e) => err(e),
            Ok(Dir::Resume) => err(Errno::EINVAL),
            Ok(Dir::Save) if !self.state.is_precopy() => {
                if self.mutant(Mutant::PrecopyInfoOutsidePrecopy) {
                    Outcome::Precopy {
                        initial_bytes: 0,
                        dirty_bytes: 0,
                        flags: flags_in,
                    }
                } else {
                    err(Errno::EINVAL)
                }
            }
            Ok(Dir::Save) => {
                self.info_calls += 1;
                let flags = self.precopy_flags(flags_in);
                let q = &self.save;
                let mut initial = q.initial_end.saturating_sub(q.pos) as u64;
                if self.mutant(Mutant::InitialBytesGrow) {
                    initial += self.info_calls;
                }
                if self.mutant(Mutant::UnderReportsInitial) {
                    initial = initial.saturating_sub(32);
                }
                let mut dirty = (q.bytes.len() - q.pos.max(q.initial_end)) as u64;
                if self.mutant(Mutant::UnderReportsDirty) {
                    dirty = 0;
                }
                Outcome::Precopy {
                    initial_bytes: initial,
                    dirty_bytes: dirty,
                    flags,
                }
            }
        }
    }

    /// A `VFIO_DEVICE_FEATURE` request other than the state machine's, in
    /// the order Linux checks it (vfio_main.c, 6.12 and 7.3).
    fn feature(&mut self, req: &FeatureReq) -> Outcome {
        const HEADER: u32 = 8;
        let flags = req.flags();
        let number = flags & uapi::FEATURE_MASK;
        let (get, set, probe) = (
            flags & uapi::FEATURE_GET != 0,
            flags & uapi::FEATURE_SET != 0,
            flags & uapi::FEATURE_PROBE != 0,
        );
        if req.argsz() < HEADER || (get && set && !probe) {
            return err(Errno::EINVAL);
        }
        let payload = req.argsz() - HEADER;
        // (GET allowed, SET allowed, payload bytes) of each feature here.
        let handler = match number {
            uapi::FEATURE_MIGRATION => Some((true, false, 8)),
            uapi::FEATURE_MIG_DEVICE_STATE => Some((true, true, 8)),
            uapi::FEATURE_MIG_DATA_SIZE if self.cfg.data_size => Some((true, false, 8)),
            uapi::FEATURE_MIG_PRECOPY_INFO_V2 if self.cfg.uapi >= Uapi::Linux7_3 => {
                if !self.cfg.flags.pre_copy() {
                    return err(Errno::EINVAL);
                }
                Some((false, true, 0))
            }
            _ => None,
        };
        let Some((can_get, can_set, size)) = handler else {
            return if probe && self.mutant(Mutant::ProbesUnknownFeature) {
                Outcome::Done
            } else {
                err(Errno::ENOTTY)
            };
        };
        if (get && !can_get) || (set && !can_set) {
            return err(Errno::EINVAL);
        }
        if probe {
            return Outcome::Done;
        }
        if !get && !set {
            return err(Errno::EINVAL);
        }
        let short = payload < size;
        if short && !(self.mutant(Mutant::ShortArgszAccepted) && number == uapi::FEATURE_MIGRATION) {
            return err(Errno::EINVAL);
        }
        match number {
            uapi::FEATURE_MIGRATION => {
                let mut bits = self.cfg.flags.bits();
                if self.mutant(Mutant::ReportsWrongFlags) {
                    bits ^= 0b010;
                }
                Outcome::Flags(bits)
            }
            uapi::FEATURE_MIG_PRECOPY_INFO_V2 => {
                self.opted_in = true;
                Outcome::Done
            }
            // A well-formed state or size access is not a feature request.
            _ => err(Errno::EINVAL),
        }
    }
}

impl Core {
    fn describe(&self) -> Description {
        Description::v2(format!("mock#{}", self.instance), self.cfg.flags)
            .with_data_size(self.cfg.data_size)
            .with_fault_injection(true)
            .with_uapi(self.cfg.uapi)
            .with_concurrency(true)
    }

    /// What every call does first: a failure armed for it, and the device's
    /// own work between the calls that take the state mutex.
    fn enter(&mut self, call: &Call, io: &mut Io) -> Option<Outcome> {
        io.read.clear();
        if !matches!(call, Call::Close { .. }) && self.faults.op_fails() {
            return Some(err(Errno::EIO));
        }
        // PRECOPY_INFO does not tick, so that its answer holds for the read
        // that follows (a quiet device: what V2-PRE-007 is checked against).
        if matches!(call, Call::SetState(_) | Call::GetState | Call::DataSize) {
            self.tick();
        }
        None
    }

    fn exec(&mut self, call: &Call, io: &mut Io) -> Outcome {
        if let Some(o) = self.enter(call, io) {
            return o;
        }
        match *call {
            Call::SetState(n) => self.set(n),
            Call::Reset => self.reset(),
            _ => self.answer(call, io),
        }
    }

    /// Every call but SET and reset, once entered.
    fn answer(&mut self, call: &Call, io: &mut Io) -> Outcome {
        match *call {
            Call::GetState => {
                let now = self.state;
                if self.mutant(Mutant::DriftsByItself) && now == MigState::Running {
                    self.state = MigState::Stop;
                }
                Outcome::State(now.number())
            }
            Call::Read { fd, len } => self.read(fd.0, len, io),
            Call::Write { fd, len } => self.write(fd.0, len, io),
            Call::PrecopyInfo { fd, flags } => self.precopy_info(fd.0, flags),
            Call::Feature(req) => self.feature(&req),
            Call::DataSize => {
                if self.cfg.data_size {
                    let header = 5 + 9;
                    Outcome::Size((header + stream::stop_copy_len(self.dev.regs.len())) as u64)
                } else {
                    err(Errno::ENOTTY)
                }
            }
            Call::Close { fd } => match self.fds.get_mut(fd.0 as usize) {
                Some((_, closed @ false)) => {
                    *closed = true;
                    Outcome::Done
                }
                _ => err(Errno::EBADF),
            },
            _ => err(Errno::ENOTTY),
        }
    }

    fn reset(&mut self) -> Outcome {
        self.deferred_reset = false;
        // The mutant's reset forgets to drop what a resume received.
        let kept = self
            .mutant(Mutant::ResetKeepsResumeData)
            .then(|| (std::mem::take(&mut self.resume), self.resume_sum.clone()));
        self.power_on();
        if let Some((bytes, sum)) = kept {
            (self.resume, self.resume_sum) = (bytes, sum);
        }
        if self.mutant(Mutant::ResetToStop) {
            self.state = MigState::Stop;
        }
        Outcome::Done
    }

    fn restore(&mut self) -> Result<(), DeviceError> {
        self.power_on();
        self.deferred_reset = false;
        self.fds.clear();
        self.faults = Faults::default();
        self.info_calls = 0;
        // A fresh open: the opt-in belonged to the closed one.
        if !self.mutant(Mutant::OptInSurvivesClose) {
            self.opted_in = false;
        }
        Ok(())
    }

    fn inject(&mut self, fault: Fault) -> bool {
        if fault == Fault::FallIntoError {
            self.fall_into_error();
        }
        self.faults.arm(fault)
    }
}

impl Cell {
    fn state(&self) -> MutexGuard<'_, ()> {
        // The mock never panics while it holds a lock; a panic elsewhere
        // leaves the data as consistent as any step leaves it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn core(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn mutant(&self, m: Mutant) -> bool {
        self.core().mutant(m)
    }

    /// The driver works on the device (an arc, its preparation).
    fn work(&self) {
        std::thread::sleep(self.arc_time);
    }

    /// A SET as a driver carries it out: the state lock held for the whole
    /// path (unless its mutant lets go of it between arcs), some work before
    /// each arc, and the data lock taken for each step.
    fn set(&self, call: &Call, raw: u32, io: &mut Io) -> Outcome {
        let atomic = !self.mutant(Mutant::SetPathNotAtomic);
        let held = atomic.then(|| self.state());
        let step = || (!atomic).then(|| self.state());
        {
            let mut core = self.core();
            if core.deferred_reset {
                // The reset its mutant put off lands only now, when the
                // next SET takes the state lock.
                core.reset();
            }
        }
        self.work();
        let plan = {
            let _s = step();
            let mut core = self.core();
            if let Some(o) = core.enter(call, io) {
                return o;
            }
            core.plan(raw)
        };
        let path = match plan {
            Plan::Done(o) => return o,
            Plan::Path(path) => path,
        };
        let to = path[path.len() - 1];
        let mut opened = false;
        for (i, w) in path.windows(2).enumerate() {
            if i > 0 {
                self.work();
            }
            let _s = step();
            match self.core().arc(w[0], w[1], to) {
                Ok(o) => opened |= o,
                Err(o) => return o,
            }
        }
        let out = self.core().set_done(path[0], to, opened);
        drop(held);
        out
    }

    /// A read of a data fd: one step under the data lock, or, in its
    /// mutant, a check of the fd, the copy to the user without the lock,
    /// and a second step that serves whatever saving session the device
    /// has by then.
    fn read(&self, call: &Call, fd: u16, len: u32, io: &mut Io) -> Outcome {
        let mut core = self.core();
        if let Some(o) = core.enter(call, io) {
            return o;
        }
        if !core.mutant(Mutant::DeadSessionRead) {
            return core.read(fd, len, io);
        }
        match core.fd(fd, Errno::ENODEV) {
            Ok(Dir::Save) => {}
            Ok(Dir::Resume) => return err(Errno::EBADF),
            Err(e) => return err(e),
        }
        drop(core);
        std::thread::sleep(self.arc_time * 4);
        self.core().read_live(len, io)
    }

    /// A write of a data fd: one step under the data lock, or, in its
    /// mutant, the position read in a first step and the bytes put there
    /// in a second.
    fn write(&self, call: &Call, fd: u16, len: u32, io: &mut Io) -> Outcome {
        let mut core = self.core();
        if let Some(o) = core.enter(call, io) {
            return o;
        }
        if !core.mutant(Mutant::RacyResumePosition) {
            return core.write(fd, len, io);
        }
        match core.fd(fd, Errno::ENODEV) {
            Ok(Dir::Resume) => {}
            _ => return core.write(fd, len, io),
        }
        let at = core.resume.len();
        drop(core);
        self.work();
        self.core().write_at(at, len, io)
    }

    /// A reset: under the state lock, or, in its mutants, put off when the
    /// state lock is taken, or taken with the data lock first.
    fn reset(&self, call: &Call, io: &mut Io) -> Outcome {
        if self.mutant(Mutant::ResetDeadlocks) {
            let mut core = self.core();
            if let Some(o) = core.enter(call, io) {
                return o;
            }
            // The reset's work with the data lock held, then the state
            // lock: the opposite order of a SET's.
            self.work();
            let _s = self.state();
            return core.reset();
        }
        let _s = if self.mutant(Mutant::ResetAppliedLate) {
            match self.state.try_lock() {
                Ok(g) => g,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    let mut core = self.core();
                    if let Some(o) = core.enter(call, io) {
                        return o;
                    }
                    core.deferred_reset = true;
                    return Outcome::Done;
                }
            }
        } else {
            self.state()
        };
        let mut core = self.core();
        if let Some(o) = core.enter(call, io) {
            return o;
        }
        core.reset()
    }
}

impl SharedDevice<Fsm> for Cell {
    fn exec(&self, call: &Call, io: &mut Io) -> Outcome {
        match *call {
            Call::SetState(n) => self.set(call, n, io),
            Call::Reset => self.reset(call, io),
            Call::Read { fd, len } => self.read(call, fd.0, len, io),
            Call::Write { fd, len } => self.write(call, fd.0, len, io),
            Call::Close { .. } => {
                let mut core = self.core();
                core.enter(call, io).unwrap_or_else(|| core.answer(call, io))
            }
            // GET, PRECOPY_INFO, MIG_DATA_SIZE, features: the state lock,
            // then the data.
            _ => {
                let _s = self.state();
                let mut core = self.core();
                core.enter(call, io).unwrap_or_else(|| core.answer(call, io))
            }
        }
    }
}

impl Device<Fsm> for MockV2 {
    fn describe(&self) -> Description {
        self.cell.core().describe()
    }

    fn exec(&mut self, call: &Call, io: &mut Io) -> Outcome {
        let (_s, mut core) = self.whole();
        core.exec(call, io)
    }

    fn restore(&mut self) -> Result<(), DeviceError> {
        let (_s, mut core) = self.whole();
        core.restore()
    }

    fn fingerprint(&mut self) -> Option<Vec<u8>> {
        Some(self.cell.core().dev.regs.clone())
    }

    fn inject(&mut self, fault: Fault) -> bool {
        let (_s, mut core) = self.whole();
        core.inject(fault)
    }

    fn shared(&mut self) -> Option<Arc<dyn SharedDevice<Fsm>>> {
        Some(Arc::clone(&self.cell) as Arc<dyn SharedDevice<Fsm>>)
    }
}
