//! The v2 protocol: the FSM with its data sessions.

use super::arcs::{Opens, Path, PathTable};
use super::feature::{Feature, FeatureReq};
use super::ops::{DataTag, Expect, FdRef, FlagsOut, Op, Outcome};
use super::state::uapi::{FEATURE_HEADER_LEN, PRECOPY_INFO_REINIT};
use super::state::{MigState, MigrationFlags};
use crate::reqs::*;
use crate::{
    Allowance, Allowed, Belief, CorruptStream, Errno, ErrnoSet, FailedSet, Kind, PrecopyEnd, Profile,
    Protocol, Req, Uapi,
};

/// The data session behind the live fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionIo {
    /// A saving stream (read side).
    Save {
        /// STOP_COPY reported the end of stream.
        eof: bool,
        /// The last `initial_bytes` PRECOPY_INFO reported.
        last_initial: Option<u64>,
        /// Initial bytes PRECOPY_INFO promised that no read has delivered
        /// yet: the temporary end (ENOMSG) may not come before (V2-PRE-006).
        owed: u64,
        /// The last call was a PRECOPY_INFO on this session that reported
        /// 0 and 0: a read now must meet the temporary end (V2-PRE-007).
        at_zero: bool,
    },
    /// A resuming stream (write side).
    Resume {
        /// Offset in the source stream of the next byte expected.
        next: u64,
        /// Length of the complete source stream, once a write said so.
        total: Option<u64>,
        /// Every byte so far was in its place in one saved stream.
        intact: bool,
        /// Some of those bytes were altered (corrupted or foreign).
        corrupt: bool,
        /// A write failed: the device rejected bytes of the stream.
        rejected: bool,
    },
}

/// An open data session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Session {
    /// The fd the session was returned on.
    pub fd: FdRef,
    /// What flows through it.
    pub io: SessionIo,
    /// A call on the fd has worked: the fd itself is known to be good.
    pub used: bool,
}

impl Session {
    fn open(fd: FdRef, kind: Opens) -> Self {
        let io = match kind {
            Opens::Save => SessionIo::Save {
                eof: false,
                last_initial: None,
                owed: 0,
                at_zero: false,
            },
            Opens::Resume => SessionIo::Resume {
                next: 0,
                total: None,
                intact: true,
                corrupt: false,
                rejected: false,
            },
        };
        Session { fd, io, used: false }
    }

    /// What leaving RESUMING must do with what this session received.
    fn resume_verdict(&self) -> Loaded {
        match self.io {
            SessionIo::Resume { rejected: true, .. } => Loaded::Rejected,
            SessionIo::Resume {
                next,
                total: Some(t),
                intact: true,
                corrupt,
                ..
            } if next == t => {
                if corrupt {
                    Loaded::Corrupt
                } else {
                    Loaded::Whole
                }
            }
            _ => Loaded::Incomplete,
        }
    }
}

/// What a resume session received, as leaving RESUMING must judge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loaded {
    /// One whole saved stream: the resume must succeed.
    Whole,
    /// A write was rejected (V2-STREAM-006).
    Rejected,
    /// Not one saved stream by its length (V2-STREAM-009).
    Incomplete,
    /// A stream of the saved length with altered bytes (DEC-018).
    Corrupt,
}

/// One concrete model state of a v2 device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DevState {
    /// The FSM state.
    pub state: MigState,
    /// The live data session, if any.
    pub session: Option<Session>,
    /// How many data fds the device has returned so far.
    pub fds: u16,
    /// Which of the first 64 fds the user has closed.
    pub closed: u64,
    /// The rule that put the device in `state` (a successful SET, a failed
    /// one, a reset): a GET that contradicts the model names it.
    pub cause: Req,
    /// The user opted in to the PRECOPY_INFOv2 behaviour on this open of
    /// the device (Linux 7.3; forgotten only when the device is closed).
    pub opted_in: bool,
    /// Since the opt-in the device was reset (the opt-in must hold).
    pub reset_since_opt_in: bool,
    /// The previous open of the device had opted in (it must be
    /// forgotten).
    pub opt_in_closed: bool,
}

impl DevState {
    fn is_closed(&self, fd: FdRef) -> bool {
        fd.0 < 64 && self.closed & (1 << fd.0) != 0
    }

    fn with_state(mut self, state: MigState, session: Option<Session>) -> Self {
        self.state = state;
        self.session = session;
        self
    }
}

/// The v2 protocol for one device: its flags, its profile, its derived paths.
#[derive(Debug, Clone)]
pub struct Fsm {
    flags: MigrationFlags,
    profile: Profile,
    table: PathTable,
    data_size: bool,
    precopy_info: bool,
    uapi: Uapi,
}

/// How a data fd relates to the current session.
enum FdStatus {
    /// Never returned, or closed: the kernel's file layer answers EBADF.
    Bad,
    /// The live session's fd.
    Live(Session),
    /// Returned earlier, its session has ended.
    Dead,
}

impl Fsm {
    /// The model of a device with `flags`, judged under `profile`, that
    /// offers `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE` when `data_size` is true.
    pub fn new(flags: MigrationFlags, profile: Profile, data_size: bool) -> Self {
        Fsm {
            flags,
            profile,
            table: PathTable::derive(flags),
            data_size,
            precopy_info: true,
            uapi: Uapi::default(),
        }
    }

    /// The same model judging by the rules of uAPI revision `uapi` (the
    /// oldest, Linux 6.12, unless said otherwise).
    pub fn with_uapi(mut self, uapi: Uapi) -> Self {
        self.uapi = uapi;
        self
    }

    /// The uAPI revision whose rules the model judges by.
    pub fn uapi(&self) -> Uapi {
        self.uapi
    }

    /// The same model for a transport without `VFIO_MIG_GET_PRECOPY_INFO`
    /// (vfio-user) when `offered` is false: the call then fails.
    pub fn with_precopy_info(mut self, offered: bool) -> Self {
        self.precopy_info = offered;
        self
    }

    /// Whether the device offers `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`.
    pub fn data_size(&self) -> bool {
        self.data_size
    }

    /// Whether `VFIO_MIG_GET_PRECOPY_INFO` exists on this transport.
    pub fn precopy_info(&self) -> bool {
        self.precopy_info
    }

    /// The device's flags.
    pub fn flags(&self) -> MigrationFlags {
        self.flags
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The derived combination table.
    pub fn table(&self) -> &PathTable {
        &self.table
    }

    fn fd_status(&self, s: &DevState, fd: FdRef) -> FdStatus {
        if fd.0 >= s.fds || s.is_closed(fd) {
            FdStatus::Bad
        } else {
            match s.session {
                Some(sess) if sess.fd == fd => FdStatus::Live(sess),
                _ => FdStatus::Dead,
            }
        }
    }

    fn set_expectations(&self, s: &DevState, to: MigState, out: &mut Allowed<Expect>) {
        let from = s.state;
        let Some(path) = self.table.path(from, to) else {
            let reqs: &'static [Req] = if to == MigState::Error {
                &[V2_ARC_008]
            } else if from == MigState::Error {
                &[V2_ERR_003]
            } else if !self.flags.supports(to) {
                &[V2_FLAG_003]
            } else {
                &[V2_ARC_007]
            };
            out.governing.extend_from_slice(reqs);
            out.push(Expect::Err(ErrnoSet::Exactly(Errno::EINVAL)), Kind::Normal, reqs);
            return;
        };
        let leaves_resume = from == MigState::Resuming && to != MigState::Resuming;
        let loaded = s.session.map_or(Loaded::Incomplete, |x| x.resume_verdict());
        if leaves_resume && loaded != Loaded::Whole {
            // The first arc, RESUMING -> STOP, must refuse what is not one
            // whole saved stream; a corrupted one of the right length is
            // refused as DEC-018 says.
            let reqs: &'static [Req] = match (loaded, self.profile.corrupt_stream()) {
                (Loaded::Rejected, _) => &[V2_STREAM_006],
                (Loaded::Corrupt, CorruptStream::ShouldDetect) => &[V2_STREAM_010],
                (Loaded::Corrupt, CorruptStream::MustDetect) => &[V2_STREAM_011],
                _ => &[V2_STREAM_009],
            };
            out.governing.extend_from_slice(reqs);
            out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, reqs);
            if reqs == [V2_STREAM_010] {
                // Accepting it misses a SHOULD only: the resume then goes on.
                let success: &'static [Req] = &[V2_STREAM_010];
                out.push(
                    Expect::SetOk {
                        fd: path.opens().is_some(),
                    },
                    Kind::Warn,
                    success,
                );
            }
            return;
        }
        out.governing
            .extend_from_slice(&[V2_ARC_006, V2_PATH_001, V2_ERR_001, V2_FD_006, V2_FEAT_002]);
        if path.arcs() > 1 {
            out.governing.push(V2_PATH_005);
        }
        for w in path.states().windows(2) {
            if let Some(a) = super::arcs::direct_arc(self.flags, w[0], w[1]) {
                out.governing.extend_from_slice(a.reqs);
            }
        }
        let success_reqs: &'static [Req] = match path.opens() {
            Some(_) => &[V2_ARC_006, V2_FD_001],
            None if from.is_saving() && to.is_saving() && from != to => &[V2_ARC_006, V2_FD_002],
            None if from == to => &[V2_ARC_009],
            None => &[V2_ARC_006, V2_FD_003],
        };
        out.governing.extend_from_slice(success_reqs);
        let fd = path.opens().is_some();
        if leaves_resume {
            out.governing.push(V2_STREAM_005);
        }
        out.push(Expect::SetOk { fd }, Kind::Normal, success_reqs);
        let fault_reqs: &'static [Req] = if leaves_resume {
            &[V2_STREAM_005]
        } else {
            match super::arcs::direct_arc(self.flags, from, path.next_step()) {
                Some(a) => a.reqs,
                None => &[V2_ARC_006],
            }
        };
        out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, fault_reqs);
    }

    /// The rule that refuses a SET of `target` (`None`: not a state) from
    /// `from`.
    fn refusal(&self, from: MigState, target: Option<MigState>) -> Req {
        match target {
            None => V2_ARC_010,
            Some(MigState::Error) => V2_ARC_008,
            Some(_) if from == MigState::Error => V2_ERR_003,
            Some(to) if !self.flags.supports(to) || !self.flags.supports(from) => V2_FLAG_003,
            Some(_) => V2_ARC_007,
        }
    }

    /// The states a failed SET may leave (V2-ERR-001, DEC-011), with what
    /// happens to the session in each.
    fn failed_set_states(&self, s: &DevState, path: &Path, out: &mut Belief<DevState>) {
        out.insert(*s);
        let states = path.states();
        let last = states.len() - 1;
        let mut still_in_group = s.state.is_saving();
        for (i, &st) in states.iter().enumerate().skip(1) {
            still_in_group &= st.is_saving();
            let target_allowed = match self.profile.failed_set() {
                FailedSet::InteriorOnly => false,
                FailedSet::AnyOnPath => true,
            };
            if i == last && !target_allowed {
                break;
            }
            let session = if still_in_group { s.session } else { None };
            out.insert(s.with_state(st, session));
        }
        out.insert(s.with_state(MigState::Error, None));
    }

    /// The live session behind `fd` when it can carry this transfer;
    /// otherwise answers the transfer: never returned or closed (EBADF from
    /// the file layer), dead since its session ended (V2-FD-004), or the
    /// wrong direction (V2-FD-005).
    fn usable_fd(
        &self,
        s: &DevState,
        fd: FdRef,
        reading: bool,
        out: &mut Allowed<Expect>,
    ) -> Option<Session> {
        let reqs: &'static [Req] = match self.fd_status(s, fd) {
            FdStatus::Bad => {
                out.push(
                    Expect::Err(ErrnoSet::Exactly(Errno::EBADF)),
                    Kind::Normal,
                    &[V2_FD_004],
                );
                return None;
            }
            FdStatus::Dead => &[V2_FD_004],
            FdStatus::Live(sess) => match (sess.io, reading) {
                (SessionIo::Save { .. }, true) | (SessionIo::Resume { .. }, false) => {
                    if !sess.used {
                        // A fd the file layer calls bad, fresh from its SET:
                        // the SET returned no working fd.
                        out.push(
                            Expect::Err(ErrnoSet::Exactly(Errno::EBADF)),
                            Kind::Breaks,
                            &[V2_FD_001],
                        );
                    }
                    return Some(sess);
                }
                _ => &[V2_FD_005],
            },
        };
        out.governing.extend_from_slice(reqs);
        out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, reqs);
        None
    }

    fn read_expectations(&self, s: &DevState, fd: FdRef, len: u32, out: &mut Allowed<Expect>) {
        let Some(sess) = self.usable_fd(s, fd, true, out) else {
            return;
        };
        let SessionIo::Save { eof, .. } = sess.io else {
            return;
        };
        let any = Expect::Bytes { min: 0, max: len };
        if len == 0 {
            out.governing.push(V2_STREAM_003);
            out.push(any, Kind::Normal, &[V2_STREAM_003]);
        } else if s.state.is_precopy() {
            let (owed, at_zero) = match sess.io {
                SessionIo::Save { owed, at_zero, .. } => (owed, at_zero),
                SessionIo::Resume { .. } => (0, false),
            };
            out.governing.extend_from_slice(&[V2_STREAM_003, V2_PRE_004]);
            let data = Expect::Bytes { min: 1, max: len };
            if at_zero {
                // PRECOPY_INFO just said 0 and 0: data here was not counted.
                out.governing.push(V2_PRE_007);
                out.push(data, Kind::Warn, &[V2_PRE_007]);
            } else {
                out.push(data, Kind::Normal, &[V2_STREAM_003]);
            }
            let zero_allowed = match self.profile.precopy_end() {
                PrecopyEnd::EnomsgOnly => false,
                PrecopyEnd::EnomsgOrZero => true,
            };
            // The temporary end, unless initial data PRECOPY_INFO reported
            // is still unread.
            let (end_kind, end_reqs): (Kind, &'static [Req]) = if owed > 0 {
                out.governing.push(V2_PRE_006);
                (Kind::Breaks, &[V2_PRE_006])
            } else {
                (Kind::Normal, &[V2_PRE_004])
            };
            out.push(Expect::Err(ErrnoSet::Exactly(Errno::ENOMSG)), end_kind, end_reqs);
            if zero_allowed {
                out.push(Expect::Bytes { min: 0, max: 0 }, end_kind, end_reqs);
            }
            out.push(
                Expect::Err(ErrnoSet::AnyBut(Errno::ENOMSG)),
                Kind::Fault,
                &[V2_STREAM_003],
            );
        } else if eof {
            out.governing.push(V2_STREAM_002);
            out.push(Expect::Bytes { min: 0, max: 0 }, Kind::Normal, &[V2_STREAM_002]);
            out.push(Expect::Bytes { min: 1, max: len }, Kind::Warn, &[V2_STREAM_002]);
            out.push(
                Expect::Err(ErrnoSet::AnyBut(Errno::ENOMSG)),
                Kind::Fault,
                &[V2_STREAM_001],
            );
        } else {
            out.governing
                .extend_from_slice(&[V2_STREAM_001, V2_STREAM_003, V2_PRE_004]);
            out.push(any, Kind::Normal, &[V2_STREAM_001, V2_STREAM_003]);
            out.push(
                Expect::Err(ErrnoSet::AnyBut(Errno::ENOMSG)),
                Kind::Fault,
                &[V2_STREAM_001],
            );
        }
    }

    fn write_expectations(
        &self,
        s: &DevState,
        fd: FdRef,
        len: u32,
        data: DataTag,
        out: &mut Allowed<Expect>,
    ) {
        let Some(sess) = self.usable_fd(s, fd, false, out) else {
            return;
        };
        out.governing.push(V2_STREAM_004);
        if len == 0 {
            out.push(Expect::Bytes { min: 0, max: 0 }, Kind::Normal, &[V2_STREAM_004]);
        } else if continues(&sess, data) {
            out.push(Expect::Bytes { min: 1, max: len }, Kind::Normal, &[V2_STREAM_004]);
            if matches!(data, DataTag::Corrupt { .. }) {
                // A device that checks its data as it comes may refuse
                // altered bytes at once; the resume is then due to fail.
                out.governing.push(V2_STREAM_006);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V2_STREAM_006]);
            } else {
                out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V2_STREAM_004]);
            }
        } else {
            // Not the next bytes of one stream: the device may take
            // them (and must refuse the resume later) or refuse now.
            out.governing.push(V2_STREAM_006);
            out.push(Expect::Bytes { min: 0, max: len }, Kind::Normal, &[V2_STREAM_006]);
            out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V2_STREAM_006]);
        }
    }

    fn precopy_expectations(&self, s: &DevState, fd: FdRef, flags_in: u32, out: &mut Allowed<Expect>) {
        if !self.precopy_info {
            out.governing.push(V2_PRE_001);
            out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V2_PRE_001]);
            return;
        }
        out.governing.extend_from_slice(&[V2_PRE_001, V2_PRE_002]);
        match self.fd_status(s, fd) {
            FdStatus::Bad => out.push(
                Expect::Err(ErrnoSet::Exactly(Errno::EBADF)),
                Kind::Normal,
                &[V2_FD_004],
            ),
            FdStatus::Live(Session {
                io: SessionIo::Save { last_initial, .. },
                used,
                ..
            }) if s.state.is_precopy() => {
                if !used {
                    out.push(
                        Expect::Err(ErrnoSet::Exactly(Errno::EBADF)),
                        Kind::Breaks,
                        &[V2_FD_001],
                    );
                }
                self.precopy_answers(s, last_initial, flags_in, out);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V2_PRE_001]);
            }
            FdStatus::Live(Session {
                io: SessionIo::Save { .. },
                ..
            }) => {
                out.push(
                    Expect::Err(ErrnoSet::Exactly(Errno::EINVAL)),
                    Kind::Normal,
                    &[V2_PRE_002],
                );
            }
            _ => out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V2_PRE_002]),
        }
    }
}

impl Fsm {
    /// The answers PRECOPY_INFO may give in pre-copy: `initial_bytes` does
    /// not grow (V2-PRE-003), and from Linux 7.3 on `flags` is handed back
    /// as passed (V2-PRE-009) unless the user opted in, when it is 0 or
    /// REINIT, which alone lets `initial_bytes` grow (V2-PRE-010).
    fn precopy_answers(&self, s: &DevState, last: Option<u64>, flags_in: u32, out: &mut Allowed<Expect>) {
        let answer = |max_initial, flags| Expect::Precopy { max_initial, flags };
        let opted_in = s.opted_in;
        if self.uapi < Uapi::Linux7_3 {
            out.push(answer(last, FlagsOut::Any), Kind::Normal, &[V2_PRE_001]);
            if last.is_some() {
                out.governing.push(V2_PRE_003);
                out.push(answer(None, FlagsOut::Any), Kind::Warn, &[V2_PRE_003]);
            }
        } else if !opted_in {
            let kept = FlagsOut::Exactly(flags_in);
            out.governing.push(V2_PRE_009);
            out.push(answer(last, kept), Kind::Normal, &[V2_PRE_001, V2_PRE_009]);
            if last.is_some() {
                out.governing.push(V2_PRE_003);
                out.push(answer(None, kept), Kind::Warn, &[V2_PRE_003]);
            }
            if s.opt_in_closed && flags_in != 0 {
                // Flags cleared as after an opt-in, which ended with the
                // open that made it.
                out.governing.push(V2_PRE_011);
                for cleared in [0, PRECOPY_INFO_REINIT] {
                    out.push(
                        answer(None, FlagsOut::Exactly(cleared)),
                        Kind::Breaks,
                        &[V2_PRE_011],
                    );
                }
            }
            out.push(answer(None, FlagsOut::Any), Kind::Breaks, &[V2_PRE_009]);
        } else {
            out.governing.push(V2_PRE_010);
            out.push(
                answer(last, FlagsOut::Exactly(0)),
                Kind::Normal,
                &[V2_PRE_001, V2_PRE_010],
            );
            out.push(
                answer(None, FlagsOut::Exactly(PRECOPY_INFO_REINIT)),
                Kind::Normal,
                &[V2_PRE_010],
            );
            if s.reset_since_opt_in && flags_in != 0 {
                // Flags handed back as passed: the reset lost the opt-in.
                out.governing.push(V2_PRE_011);
                out.push(
                    answer(None, FlagsOut::Exactly(flags_in)),
                    Kind::Breaks,
                    &[V2_PRE_011],
                );
            }
            out.push(answer(None, FlagsOut::Any), Kind::Breaks, &[V2_PRE_010]);
        }
    }

    /// A feature request, checked in the order of Linux's
    /// `vfio_ioctl_device_feature()` and `vfio_check_feature()`.
    fn feature_expectations(&self, req: &FeatureReq, out: &mut Allowed<Expect>) {
        let a = req.access();
        let einval = Expect::Err(ErrnoSet::Exactly(Errno::EINVAL));
        let fail = |out: &mut Allowed<Expect>, expect, reqs: &'static [Req]| {
            out.governing.extend_from_slice(reqs);
            out.push(expect, Kind::Normal, reqs);
        };
        if req.argsz() < FEATURE_HEADER_LEN {
            return fail(out, einval, &[V2_FEAT_003]);
        }
        if a.get && a.set && !a.probe {
            return fail(out, einval, &[V2_FEAT_001]);
        }
        let Some(feature) = Feature::of(req.feature()).filter(|f| f.offered(self.uapi, self.data_size))
        else {
            return fail(out, Expect::Err(ErrnoSet::Any), &[V2_FEAT_004]);
        };
        if feature == Feature::PrecopyInfoV2 && !self.flags.pre_copy() {
            return fail(out, einval, &[V2_PRE_008]);
        }
        // The rule of the feature itself.
        let own: &'static [Req] = match feature {
            Feature::Migration => &[V2_FLAG_004],
            Feature::MigDeviceState => &[V2_FEAT_002],
            Feature::MigDataSize => &[V2_SIZE_001],
            Feature::PrecopyInfoV2 => &[V2_PRE_008],
        };
        let (probe_ok, probe_no, plain_no): (&'static [Req], &'static [Req], &'static [Req]) = match feature {
            Feature::Migration => (
                &[V2_FEAT_001, V2_FLAG_004],
                &[V2_FEAT_001, V2_FLAG_004],
                &[V2_FEAT_004, V2_FLAG_004],
            ),
            Feature::MigDeviceState => (&[V2_FEAT_001, V2_FEAT_002], &[V2_FEAT_001], &[V2_FEAT_004]),
            Feature::MigDataSize => (&[V2_FEAT_001, V2_SIZE_001], &[V2_FEAT_001], &[V2_FEAT_004]),
            Feature::PrecopyInfoV2 => (
                &[V2_FEAT_001, V2_PRE_008],
                &[V2_FEAT_001, V2_PRE_008],
                &[V2_FEAT_004, V2_PRE_008],
            ),
        };
        if !feature.supports(a) {
            return fail(out, einval, if a.probe { probe_no } else { plain_no });
        }
        if a.probe {
            return fail(out, Expect::Done, probe_ok);
        }
        if !a.get && !a.set {
            return fail(out, einval, &[V2_FEAT_004]);
        }
        if req.argsz() - FEATURE_HEADER_LEN < feature.payload() {
            return fail(out, einval, &[V2_FEAT_003]);
        }
        match feature {
            Feature::Migration => {
                out.governing.push(V2_FLAG_001);
                out.push(Expect::Flags(self.flags.bits()), Kind::Normal, &[V2_FLAG_001]);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V2_FLAG_001]);
            }
            _ => {
                out.governing.extend_from_slice(own);
                out.push(Expect::Done, Kind::Normal, own);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, own);
            }
        }
    }
}

/// Whether `data` is in the place of the next bytes of the stream `sess`
/// is loading (altered or not).
fn continues(sess: &Session, data: DataTag) -> bool {
    match (sess.io, data) {
        (
            SessionIo::Resume {
                next, total, intact, ..
            },
            DataTag::Stream { offset, total: t } | DataTag::Corrupt { offset, total: t },
        ) => intact && offset == next && (total.is_none() || total == t),
        _ => false,
    }
}

/// The rules that refuse a SET before the device acts: the state they
/// leave must be the one before.
const REFUSALS: [Req; 5] = [V2_ARC_007, V2_ARC_008, V2_ARC_010, V2_ERR_003, V2_FLAG_003];

/// The rules a refused resume leaves as the reason for the state: the rule
/// that made the refusal due, and the one about the state after it.
const RESUME_REFUSALS: [Req; 4] = [V2_STREAM_006, V2_STREAM_009, V2_STREAM_010, V2_STREAM_011];

/// `s` after `op` answered with `observed`, as far as the fd is concerned:
/// a call that worked on a session's fd shows the fd is good.
fn touch(mut s: DevState, op: &Op, observed: &Outcome) -> DevState {
    // A PRECOPY_INFO that said 0 and 0 binds only the call right after it.
    if let Some(Session {
        io: SessionIo::Save { at_zero, .. },
        ..
    }) = s.session.as_mut()
    {
        *at_zero = false;
    }
    let fd = match *op {
        Op::Read { fd, .. } | Op::Write { fd, .. } | Op::PrecopyInfo { fd, .. } => fd,
        _ => return s,
    };
    let worked = matches!(
        observed,
        Outcome::Bytes(_) | Outcome::Precopy { .. } | Outcome::Err(Errno::ENOMSG)
    );
    if let Some(sess) = s.session.as_mut().filter(|x| x.fd == fd && worked) {
        sess.used = true;
    }
    s
}

impl Protocol for Fsm {
    type State = DevState;
    type Op = Op;
    type Outcome = Outcome;
    type Expect = Expect;

    fn initial(&self) -> DevState {
        DevState {
            state: MigState::Running,
            session: None,
            fds: 0,
            closed: 0,
            cause: V2_STATE_002,
            opted_in: false,
            reset_since_opt_in: false,
            opt_in_closed: false,
        }
    }

    fn reopen(&self, belief: &Belief<DevState>) -> Belief<DevState> {
        let mut fresh = self.initial();
        fresh.opt_in_closed = belief.iter().any(|s| s.opted_in);
        Belief::one(fresh)
    }

    fn expectations(&self, s: &DevState, op: &Op, out: &mut Allowed<Expect>) {
        match *op {
            Op::Set(to) => self.set_expectations(s, to, out),
            Op::SetRaw(n) => match MigState::from_number(n) {
                Some(to) => self.set_expectations(s, to, out),
                None => {
                    out.governing.push(V2_ARC_010);
                    out.push(
                        Expect::Err(ErrnoSet::Exactly(Errno::EINVAL)),
                        Kind::Normal,
                        &[V2_ARC_010],
                    );
                }
            },
            Op::Get => {
                out.governing
                    .extend_from_slice(&[V2_STATE_003, V2_STATE_004, V2_FEAT_002, s.cause]);
                // A state that contradicts the model breaks the rule that
                // set the state, not the GET's own.
                let refused_resume = RESUME_REFUSALS.contains(&s.cause);
                if refused_resume {
                    out.governing.push(V2_STREAM_012);
                }
                // A state that moved after a refusal also misses V2-ERR-004
                // (refused before acting, the state stays).
                let refused = REFUSALS.contains(&s.cause);
                if refused {
                    out.governing.push(V2_ERR_004);
                }
                let also = refused_resume
                    .then_some(V2_STREAM_012)
                    .into_iter()
                    .chain(refused.then_some(V2_ERR_004));
                for r in std::iter::once(s.cause).chain(also) {
                    if !out.blame.contains(&r) {
                        out.blame.push(r);
                    }
                }
                out.push(
                    Expect::State(s.state),
                    Kind::Normal,
                    &[V2_STATE_003, V2_STATE_004],
                );
                out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V2_FEAT_002]);
            }
            Op::Read { fd, len } => self.read_expectations(s, fd, len, out),
            Op::Write { fd, len, data } => self.write_expectations(s, fd, len, data, out),
            Op::PrecopyInfo { fd, flags } => self.precopy_expectations(s, fd, flags, out),
            Op::Feature(req) => self.feature_expectations(&req, out),
            Op::DataSize => {
                out.governing.push(V2_SIZE_001);
                if self.data_size {
                    out.push(Expect::Size, Kind::Normal, &[V2_SIZE_001]);
                    out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V2_SIZE_001]);
                } else {
                    out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V2_SIZE_001]);
                }
            }
            Op::Close { fd } => match self.fd_status(s, fd) {
                FdStatus::Bad => out.push(
                    Expect::Err(ErrnoSet::Exactly(Errno::EBADF)),
                    Kind::Normal,
                    &[V2_FD_004],
                ),
                _ => out.push(Expect::Done, Kind::Normal, &[V2_FD_004]),
            },
            Op::Reset => {
                out.governing.push(V2_ERR_002);
                out.push(Expect::Done, Kind::Normal, &[V2_ERR_002]);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V2_ERR_002]);
            }
        }
    }

    fn successors(
        &self,
        s: &DevState,
        op: &Op,
        allowance: &Allowance<Expect>,
        observed: &Outcome,
        out: &mut Belief<DevState>,
    ) {
        let s = &touch(*s, op, observed);
        let target = match *op {
            Op::Set(to) => Some(to),
            Op::SetRaw(n) => MigState::from_number(n),
            _ => None,
        };
        match (op, observed) {
            (Op::Set(_) | Op::SetRaw(_), Outcome::SetOk { fd }) => {
                let to = target.expect("a SET that succeeded names a state");
                let mut next = *s;
                next.state = to;
                next.cause = V2_ARC_006;
                let path = self.table.path(s.state, to).expect("success implies a path");
                match path.opens() {
                    Some(kind) if *fd => {
                        next.session = Some(Session::open(FdRef(s.fds), kind));
                        next.fds = s.fds.saturating_add(1);
                    }
                    _ if s.state.is_saving() && to.is_saving() => {}
                    _ if s.state == to => {}
                    _ => next.session = None,
                }
                out.insert(next);
            }
            (Op::Set(_) | Op::SetRaw(_), Outcome::Err(_)) => {
                match target.and_then(|to| self.table.path(s.state, to)) {
                    // A refused request changes nothing; if the state moved
                    // anyway, the refusal's rule is what the device broke.
                    None => {
                        let mut kept = *s;
                        kept.cause = self.refusal(s.state, target);
                        out.insert(kept);
                    }
                    Some(_) if allowance.kind == Kind::Normal => {
                        // A resume that had to be refused: RESUMING or
                        // ERROR; a later state means the device took what
                        // it had to refuse.
                        let mut kept = *s;
                        kept.cause = allowance.reqs.first().copied().unwrap_or(V2_STREAM_009);
                        out.insert(kept);
                        out.insert(kept.with_state(MigState::Error, None));
                    }
                    Some(path) => {
                        let mut failed = *s;
                        failed.cause = V2_ERR_001;
                        self.failed_set_states(&failed, path, out);
                    }
                }
            }
            (Op::Read { fd, .. }, Outcome::Bytes(k)) if *k > 0 && s.state.is_precopy() => {
                let mut next = *s;
                if let Some(Session {
                    io: SessionIo::Save { owed, .. },
                    ..
                }) = next.session.as_mut().filter(|x| x.fd == *fd)
                {
                    *owed = owed.saturating_sub(u64::from(*k));
                }
                out.insert(next);
            }
            (Op::Read { .. }, Outcome::Bytes(0)) if s.state == MigState::StopCopy => {
                let mut next = *s;
                if let Some(Session {
                    io: SessionIo::Save { eof, .. },
                    ..
                }) = &mut next.session
                {
                    *eof = true;
                }
                out.insert(next);
            }
            (Op::Write { fd, data, len }, _) => {
                let mut next = *s;
                if let Some(sess) = next.session.as_mut().filter(|x| x.fd == *fd) {
                    let fits = continues(sess, *data);
                    if let SessionIo::Resume {
                        next: n,
                        total,
                        intact,
                        corrupt,
                        rejected,
                    } = &mut sess.io
                    {
                        match (observed, data) {
                            (Outcome::Bytes(k), DataTag::Stream { total: t, .. }) if fits => {
                                *n += u64::from(*k);
                                *total = *t;
                            }
                            // Altered bytes taken whole, in their place: a
                            // stream of the right length, corrupted.
                            (Outcome::Bytes(k), DataTag::Corrupt { total: t, .. }) if fits && k == len => {
                                *n += u64::from(*k);
                                *total = *t;
                                *corrupt = true;
                            }
                            (Outcome::Err(e), _) if self.profile.is_retryable(*e) => {}
                            (Outcome::Bytes(0), _) => {}
                            // The device rejected bytes of the stream.
                            (Outcome::Err(_), _) => {
                                *rejected = true;
                                *intact = false;
                            }
                            _ => *intact = false,
                        }
                    }
                }
                out.insert(next);
            }
            (Op::Get, Outcome::State(_)) => {
                // The state is confirmed: from here on only a request or a
                // reset may change it (V2-STATE-004).
                let mut next = *s;
                next.cause = V2_STATE_004;
                out.insert(next);
            }
            (
                Op::PrecopyInfo { .. },
                Outcome::Precopy {
                    initial_bytes,
                    dirty_bytes,
                    ..
                },
            ) => {
                let mut next = *s;
                if let Some(Session {
                    io:
                        SessionIo::Save {
                            last_initial,
                            owed,
                            at_zero,
                            ..
                        },
                    ..
                }) = &mut next.session
                {
                    *last_initial = Some(*initial_bytes);
                    *owed = *initial_bytes;
                    *at_zero = *initial_bytes == 0 && *dirty_bytes == 0;
                }
                out.insert(next);
            }
            (Op::Feature(req), Outcome::Done)
                if Feature::of(req.feature()) == Some(Feature::PrecopyInfoV2) && !req.access().probe =>
            {
                let mut next = *s;
                next.opted_in = true;
                out.insert(next);
            }
            (Op::Close { fd }, Outcome::Done) => {
                let mut next = *s;
                if fd.0 < 64 {
                    next.closed |= 1 << fd.0;
                }
                out.insert(next);
            }
            (Op::Reset, Outcome::Done) => {
                let mut next = s.with_state(MigState::Running, None);
                next.cause = V2_ERR_002;
                next.reset_since_opt_in |= next.opted_in;
                out.insert(next);
            }
            (Op::Reset, Outcome::Err(_)) => {
                let mut next = *s;
                next.cause = V2_ERR_002;
                out.insert(next);
                out.insert(next.with_state(MigState::Running, None));
                out.insert(next.with_state(MigState::Error, None));
            }
            _ => out.insert(*s),
        }
    }
}
