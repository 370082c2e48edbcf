//! The v1 protocol: `device_state` transitions and the save and resume
//! register sequences of the migration region.

use super::ops::{ChunkTag, Expect, Op, Outcome};
use super::state::{Access, Field, V1State, HEADER_SIZE};
use crate::reqs::*;
use crate::{
    Allowance, Allowed, Belief, ErrnoSet, Kind, NoPrecopyData, OutOfOrder, Profile, Protocol, Req,
    Segmentation, V1Arcs, V1ErrorState, V1ErrorWrite, V1FailedWrite,
};

/// Where the user is in the save loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SaveCursor {
    /// No `pending_bytes` read yet in this saving state.
    Idle,
    /// `pending_bytes` read and answered this value.
    Pending(u64),
    /// `data_offset` read: a chunk is staged.
    Staged {
        /// The staged chunk's offset.
        offset: u64,
        /// Its size, once `data_size` was read.
        size: Option<u64>,
    },
}

/// Where the user is in the resume loop, and what was loaded so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResumeCursor {
    /// `data_offset` read for the chunk being written.
    pub staged: Option<u64>,
    /// First tag and byte count of the chunk being written.
    pub chunk: Option<(ChunkTag, u64)>,
    /// Every byte of the current chunk continued the first one.
    pub chunk_ok: bool,
    /// Offset in the source stream of the next chunk expected.
    pub next: u64,
    /// Length of the complete source stream, once known.
    pub total: Option<u64>,
    /// Every chunk so far was the next chunk of one stream.
    pub intact: bool,
    /// A chunk was split or merged under the indivisible profile: the
    /// device may or may not accept the stream.
    pub unsure: bool,
}

impl ResumeCursor {
    fn fresh() -> Self {
        ResumeCursor {
            staged: None,
            chunk: None,
            chunk_ok: true,
            next: 0,
            total: None,
            intact: true,
            unsure: false,
        }
    }

    fn complete(&self) -> bool {
        self.intact && self.staged.is_none() && self.total == Some(self.next)
    }
}

/// One concrete model state of a v1 device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegState {
    /// The masked `device_state`.
    pub state: V1State,
    /// The save loop (meaningful in saving states).
    pub save: SaveCursor,
    /// The resume loop (meaningful in RESUMING).
    pub resume: ResumeCursor,
    /// The rule that put the device in `state`: a read of device_state that
    /// contradicts the model names it.
    pub cause: Req,
}

/// The v1 protocol for one device: its profile and its region size.
#[derive(Debug, Clone)]
pub struct Region {
    profile: Profile,
    region_size: u64,
}

/// The arcs of the documented flows (V1-ARC-001 to V1-ARC-006).
const FLOW_ARCS: [(V1State, V1State, &[Req]); 7] = [
    (V1State::Running, V1State::Stop, &[V1_ARC_001]),
    (V1State::Running, V1State::StopCopy, &[V1_ARC_002]),
    (V1State::StopCopy, V1State::Stop, &[V1_ARC_003]),
    (V1State::Running, V1State::PreCopy, &[V1_ARC_004]),
    (V1State::PreCopy, V1State::StopCopy, &[V1_ARC_004, V1_ARC_005]),
    (V1State::Running, V1State::Resuming, &[V1_ARC_006]),
    (V1State::Resuming, V1State::Running, &[V1_ARC_006]),
];

/// What the model says of a `device_state` write from one state to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArcClass {
    /// The source is a value the device can never be in (101b, 111b).
    Unreachable,
    /// The device is in the error state: every write fails (V1-FAIL-002).
    FromError,
    /// The target is an invalid value: refused (V1-ARC-008).
    Invalid,
    /// The target is the error value: refused (V1-ARC-009, DEC-010).
    ErrorTarget,
    /// The target is the current state: a no-op (V1-ARC-010).
    Same,
    /// The arc must work on a healthy device; the rules that say so.
    Required(&'static [Req]),
    /// The device performs it or refuses it cleanly (V1-ARC-007).
    Optional,
}

impl ArcClass {
    /// A short cell for the v1 grid.
    pub fn cell(self) -> &'static str {
        match self {
            ArcClass::Unreachable => "-",
            ArcClass::FromError => "E",
            ArcClass::Invalid => "X",
            ArcClass::ErrorTarget => "x",
            ArcClass::Same => "=",
            ArcClass::Required(_) => "R",
            ArcClass::Optional => "o",
        }
    }
}

impl Region {
    /// The model of a device whose migration region is `region_size` bytes,
    /// judged under `profile`.
    pub fn new(profile: Profile, region_size: u64) -> Self {
        Region { profile, region_size }
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The region size.
    pub fn region_size(&self) -> u64 {
        self.region_size
    }

    /// Classifies a `device_state` write of `to` while in `from`.
    pub fn arc_class(&self, from: V1State, to: V1State) -> ArcClass {
        if from == V1State::Error {
            ArcClass::FromError
        } else if !from.is_reachable() {
            ArcClass::Unreachable
        } else if to == V1State::Error {
            ArcClass::ErrorTarget
        } else if !to.is_requestable() {
            ArcClass::Invalid
        } else if to == from {
            ArcClass::Same
        } else {
            self.required_arc(from, to)
                .map_or(ArcClass::Optional, ArcClass::Required)
        }
    }

    /// All 64 (from, to) pairs as a grid a reviewer can read.
    pub fn arc_grid(&self) -> String {
        let mut out = String::from("legend: R required, o optional (done or refused cleanly), = no-op, X invalid target refused, x error target refused, E in error: refused, - unreachable\nfrom\\to    ");
        for to in V1State::ALL {
            out.push_str(&format!(" {:03b}", to.bits()));
        }
        out.push('\n');
        for from in V1State::ALL {
            out.push_str(&format!("{:<11} ", from.name()));
            for to in V1State::ALL {
                out.push_str(&format!(" {:>3}", self.arc_class(from, to).cell()));
            }
            out.push('\n');
        }
        out
    }

    /// Whether the arc `from -> to` must work on a healthy device, and the
    /// rules that say so.
    pub fn required_arc(&self, from: V1State, to: V1State) -> Option<&'static [Req]> {
        if !from.is_requestable() || !to.is_requestable() || from == to {
            return None;
        }
        let flow = FLOW_ARCS
            .iter()
            .find(|(f, t, _)| *f == from && *t == to)
            .map(|(_, _, r)| *r);
        match self.profile.v1_arcs() {
            V1Arcs::DriverChooses => None,
            V1Arcs::AllRequired => Some(flow.unwrap_or(&[V1_ARC_007])),
            V1Arcs::FlowsRequired => {
                let may_refuse = match self.profile.no_precopy_data() {
                    NoPrecopyData::PendingZero => false,
                    NoPrecopyData::RefusePreCopy => true,
                };
                let refusable_precopy = may_refuse && from == V1State::Running && to == V1State::PreCopy;
                flow.filter(|_| !refusable_precopy)
            }
        }
    }

    fn error_possible(&self) -> bool {
        // A separate error bit (DEC-002 error-bit) is not part of any merged
        // layout; for the model it behaves like the error value: an error is
        // reported and only reset leaves it.
        let has_error = match self.profile.v1_error_state() {
            V1ErrorState::None => false,
            V1ErrorState::ErrorBit | V1ErrorState::ErrorValue => true,
        };
        let may_report = match self.profile.v1_failed_write() {
            V1FailedWrite::Previous => false,
            V1FailedWrite::PreviousOrError => true,
        };
        has_error && may_report
    }

    /// Adds the patterns of an out-of-order access (DEC-012): under
    /// `reject` it must fail, a success only warns; under `undefined`
    /// anything goes.
    fn out_of_order(&self, out: &mut Allowed<Expect>, success: Expect, req: &'static [Req]) {
        out.governing.extend_from_slice(req);
        out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, req);
        let kind = match self.profile.out_of_order() {
            OutOfOrder::Reject => Kind::Warn,
            OutOfOrder::Undefined => Kind::Normal,
        };
        out.push(success, kind, req);
    }

    fn state_write(&self, s: &RegState, raw: u32, out: &mut Allowed<Expect>) {
        let from = s.state;
        let to = V1State::from_raw(raw);
        let class = self.arc_class(from, to);
        let refused = |out: &mut Allowed<Expect>, req: &'static [Req]| {
            out.governing.extend_from_slice(req);
            out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, req);
        };
        match class {
            ArcClass::Unreachable | ArcClass::FromError => refused(out, &[V1_FAIL_002]),
            ArcClass::Invalid => refused(out, &[V1_ARC_008]),
            ArcClass::ErrorTarget => {
                refused(out, &[V1_ARC_009]);
                let kind = match self.profile.v1_error_write() {
                    V1ErrorWrite::Refuse => Kind::Warn,
                    V1ErrorWrite::Undefined => Kind::Normal,
                };
                out.push(Expect::Ok, kind, &[V1_ARC_009]);
            }
            ArcClass::Same => {
                out.governing.push(V1_ARC_010);
                out.push(Expect::Ok, Kind::Normal, &[V1_ARC_010]);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Warn, &[V1_ARC_010]);
            }
            _ if from == V1State::Resuming && !(s.resume.complete() || s.resume.unsure) => {
                // Leaving RESUMING with less than one complete stream.
                out.governing.extend_from_slice(&[V1_FAIL_001, V1_FAIL_004]);
                refused(out, &[V1_RES_005]);
            }
            ArcClass::Required(reqs) => {
                out.governing.extend_from_slice(&[V1_FAIL_001, V1_FAIL_004]);
                out.governing.extend_from_slice(reqs);
                out.push(Expect::Ok, Kind::Normal, &[V1_FAIL_004]);
                let kind = if from == V1State::Resuming && s.resume.unsure {
                    Kind::Normal
                } else {
                    Kind::Fault
                };
                out.push(Expect::Err(ErrnoSet::Any), kind, reqs);
            }
            ArcClass::Optional => {
                out.governing
                    .extend_from_slice(&[V1_FAIL_001, V1_FAIL_004, V1_ARC_007]);
                out.push(Expect::Ok, Kind::Normal, &[V1_FAIL_004]);
                let stop_expected = match self.profile.v1_arcs() {
                    V1Arcs::DriverChooses => false,
                    V1Arcs::FlowsRequired | V1Arcs::AllRequired => true,
                };
                let kind = if to == V1State::Stop && stop_expected {
                    Kind::Warn
                } else {
                    Kind::Normal
                };
                out.push(Expect::Err(ErrnoSet::Any), kind, &[V1_ARC_007]);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V1_ARC_007]);
            }
        }
    }

    fn field_read(&self, s: &RegState, field: Field, out: &mut Allowed<Expect>) {
        let saving = s.state.is_saving();
        let resuming = s.state == V1State::Resuming;
        let data_end = self.region_size;
        match field {
            Field::DeviceState => {
                out.governing
                    .extend_from_slice(&[V1_STATE_001, V1_STATE_003, s.cause]);
                out.push(Expect::State(s.state), Kind::Normal, &[V1_FAIL_004, V1_STATE_003]);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V1_LAYOUT_002]);
            }
            Field::Reserved => {
                out.governing.push(V1_LAYOUT_002);
                out.push(Expect::value(0), Kind::Normal, &[V1_LAYOUT_002]);
            }
            Field::PendingBytes if saving => match s.save {
                SaveCursor::Pending(p) => {
                    out.governing.push(V1_SAVE_002);
                    out.push(Expect::value(p), Kind::Normal, &[V1_SAVE_002]);
                    out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V1_SAVE_002]);
                }
                _ => {
                    out.governing.extend_from_slice(&[V1_SAVE_001, V1_SAVE_006]);
                    out.push(Expect::any_value(), Kind::Normal, &[V1_SAVE_001, V1_SAVE_006]);
                    out.push(
                        Expect::Err(ErrnoSet::Any),
                        Kind::Fault,
                        &[V1_SAVE_001, V1_ERR_001],
                    );
                }
            },
            Field::PendingBytes => {
                out.governing.push(V1_SAVE_010);
                out.push(Expect::value(0), Kind::Normal, &[V1_SAVE_010]);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V1_SAVE_010]);
                out.push(
                    Expect::Value {
                        min: 1,
                        max: u64::MAX,
                    },
                    Kind::Warn,
                    &[V1_SAVE_010],
                );
            }
            Field::DataOffset if (saving || resuming) && data_end <= HEADER_SIZE => {
                // A region with no room after the header has no data section:
                // no offset can be valid.
                out.governing.push(V1_LAYOUT_004);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V1_LAYOUT_004]);
            }
            Field::DataOffset if saving || resuming => {
                let staged = if saving {
                    match s.save {
                        SaveCursor::Staged { offset, .. } => Some(offset),
                        _ => None,
                    }
                } else {
                    s.resume.staged
                };
                let fresh = Expect::Value {
                    min: HEADER_SIZE,
                    max: data_end.saturating_sub(1),
                };
                let req: &'static [Req] = if saving {
                    &[V1_SAVE_003, V1_LAYOUT_004]
                } else {
                    &[V1_RES_001, V1_LAYOUT_004]
                };
                match (staged, s.save) {
                    (Some(o), _) => {
                        out.governing.push(V1_SAVE_004);
                        out.push(Expect::value(o), Kind::Normal, &[V1_SAVE_004]);
                        out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V1_SAVE_004]);
                    }
                    (None, SaveCursor::Idle) if saving => self.out_of_order(out, fresh, &[V1_SAVE_009]),
                    (None, SaveCursor::Pending(0)) if saving => {
                        // Nothing pending: the access has no chunk to stage.
                        out.governing.push(V1_SAVE_007);
                        out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V1_SAVE_007]);
                        out.push(fresh, Kind::Normal, &[V1_SAVE_007]);
                    }
                    _ => {
                        out.governing.extend_from_slice(req);
                        out.push(fresh, Kind::Normal, req);
                        out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V1_ERR_001]);
                    }
                }
            }
            Field::DataSize if saving => match s.save {
                SaveCursor::Staged { size: Some(n), .. } => {
                    out.governing.push(V1_SAVE_004);
                    out.push(Expect::value(n), Kind::Normal, &[V1_SAVE_004]);
                    out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V1_SAVE_004]);
                }
                SaveCursor::Staged { offset, size: None } => {
                    let room = data_end.saturating_sub(offset);
                    out.governing.extend_from_slice(&[V1_SAVE_005, V1_LAYOUT_004]);
                    out.push(
                        Expect::Value { min: 1, max: room },
                        Kind::Normal,
                        &[V1_SAVE_005, V1_LAYOUT_004],
                    );
                    out.push(Expect::value(0), Kind::Warn, &[V1_SAVE_005]);
                    out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V1_ERR_001]);
                }
                _ => self.out_of_order(out, Expect::any_value(), &[V1_SAVE_009]),
            },
            Field::DataSize if resuming => {
                out.governing.push(V1_LAYOUT_002);
                out.push(Expect::any_value(), Kind::Normal, &[V1_LAYOUT_002]);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V1_LAYOUT_002]);
            }
            Field::DataOffset | Field::DataSize => {
                out.governing.push(V1_SAVE_010);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V1_SAVE_010]);
                out.push(Expect::any_value(), Kind::Warn, &[V1_SAVE_010]);
            }
        }
    }

    fn field_write(&self, s: &RegState, field: Field, value: u64, out: &mut Allowed<Expect>) {
        match (field, field.access()) {
            (Field::DeviceState, _) => self.state_write(s, value as u32, out),
            (_, Access::Reserved) => {
                out.governing.push(V1_LAYOUT_002);
                out.push(Expect::Ok, Kind::Normal, &[V1_LAYOUT_002]);
            }
            (_, Access::ReadOnly) => {
                out.governing.push(V1_LAYOUT_002);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V1_LAYOUT_002]);
            }
            (_, Access::ReadWrite) if s.state == V1State::Resuming => {
                match (s.resume.staged, s.resume.chunk) {
                    (None, _) => self.out_of_order(out, Expect::Ok, &[V1_RES_004]),
                    (Some(_), Some((tag, len))) if self.chunk_fits(s, tag, len, value) => {
                        out.governing.push(V1_RES_002);
                        out.push(Expect::Ok, Kind::Normal, &[V1_RES_002]);
                        out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V1_RES_002, V1_ERR_001]);
                    }
                    _ => {
                        // A chunk that is not the next one (or garbage): the
                        // driver may refuse it now or when RESUMING ends.
                        out.governing.extend_from_slice(&[V1_RES_002, V1_RES_005]);
                        out.push(Expect::Ok, Kind::Normal, &[V1_RES_005]);
                        out.push(
                            Expect::Err(ErrnoSet::Any),
                            Kind::Normal,
                            &[V1_RES_005, V1_ERR_001],
                        );
                    }
                }
            }
            (_, Access::ReadWrite) => {
                out.governing.push(V1_LAYOUT_002);
                out.push(Expect::Ok, Kind::Normal, &[V1_LAYOUT_002]);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V1_LAYOUT_002]);
            }
        }
    }

    /// Whether a chunk written with first tag `tag` and `len` bytes, closed
    /// by writing `size` to `data_size`, is exactly the next chunk.
    fn chunk_fits(&self, s: &RegState, tag: ChunkTag, len: u64, size: u64) -> bool {
        let r = &s.resume;
        match tag {
            ChunkTag::Stream { offset, total, .. } => {
                r.intact
                    && r.chunk_ok
                    && offset == r.next
                    && len == size
                    && (r.total.is_none() || r.total == total)
            }
            ChunkTag::Garbage => false,
        }
    }

    fn data_access(&self, s: &RegState, offset: u64, len: u32, write: bool, out: &mut Allowed<Expect>) {
        let end = offset.saturating_add(u64::from(len));
        let in_region = offset >= HEADER_SIZE && end <= self.region_size;
        let staged = match (write, s.state) {
            (false, st) if st.is_saving() => match s.save {
                SaveCursor::Staged { offset: o, size } => Some((o, size)),
                _ => None,
            },
            (true, V1State::Resuming) => s.resume.staged.map(|o| (o, None)),
            _ => None,
        };
        let active = if write {
            s.state == V1State::Resuming
        } else {
            s.state.is_saving()
        };
        let ok = Expect::Bytes(len);
        match staged {
            _ if !active => {
                out.governing.push(V1_SAVE_010);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V1_SAVE_010]);
                out.push(ok, Kind::Warn, &[V1_SAVE_010]);
            }
            None => {
                let req: &'static [Req] = if write { &[V1_RES_004] } else { &[V1_SAVE_009] };
                self.out_of_order(out, ok, req);
            }
            Some((o, size)) => {
                let limit = size.map_or(self.region_size, |n| o.saturating_add(n));
                let req: &'static [Req] = if write { &[V1_RES_002] } else { &[V1_SAVE_003] };
                out.governing.extend_from_slice(req);
                if in_region && offset >= o && end <= limit {
                    out.push(ok, Kind::Normal, req);
                    out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V1_ERR_001]);
                } else {
                    out.governing.push(V1_LAYOUT_004);
                    out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V1_LAYOUT_004]);
                }
            }
        }
    }
}

impl Protocol for Region {
    type State = RegState;
    type Op = Op;
    type Outcome = Outcome;
    type Expect = Expect;

    fn initial(&self) -> RegState {
        RegState {
            state: V1State::Running,
            save: SaveCursor::Idle,
            resume: ResumeCursor::fresh(),
            cause: V1_STATE_002,
        }
    }

    fn expectations(&self, s: &RegState, op: &Op, out: &mut Allowed<Expect>) {
        match *op {
            _ if s.state == V1State::Error
                && !matches!(
                    op,
                    Op::Reset | Op::Read(Field::DeviceState) | Op::Write(Field::DeviceState, _)
                ) =>
            {
                out.governing.push(V1_FAIL_002);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V1_FAIL_002]);
                out.push(Expect::value(0), Kind::Normal, &[V1_FAIL_002]);
            }
            Op::Read(field) => self.field_read(s, field, out),
            Op::Write(field, v) => self.field_write(s, field, v, out),
            Op::Misaligned { offset, width, .. } => {
                debug_assert!(Field::at(offset, width).is_none(), "a field access is Read/Write");
                out.governing.push(V1_LAYOUT_003);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Normal, &[V1_LAYOUT_003]);
                out.push(Expect::any_value(), Kind::Warn, &[V1_LAYOUT_003]);
                out.push(Expect::Ok, Kind::Warn, &[V1_LAYOUT_003]);
            }
            Op::ReadData { offset, len } => self.data_access(s, offset, len, false, out),
            Op::WriteData { offset, len, .. } => self.data_access(s, offset, len, true, out),
            Op::Reset => {
                out.governing.push(V1_FAIL_003);
                out.push(Expect::Ok, Kind::Normal, &[V1_FAIL_003]);
                out.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[V1_FAIL_003]);
            }
        }
    }

    fn successors(
        &self,
        s: &RegState,
        op: &Op,
        _allowance: &Allowance<Expect>,
        observed: &Outcome,
        out: &mut Belief<RegState>,
    ) {
        let mut next = *s;
        match (*op, *observed) {
            (Op::Write(Field::DeviceState, raw), Outcome::Ok) if s.state != V1State::Error => {
                let to = V1State::from_raw(raw as u32);
                if to != s.state && to.is_reachable() {
                    next.state = to;
                    next.cause = V1_FAIL_004;
                    // Pre-copy to stop-and-copy keeps the stream; any other
                    // move into a saving state starts a new one.
                    next.save = SaveCursor::Idle;
                    if to == V1State::Resuming {
                        next.resume = ResumeCursor::fresh();
                    }
                }
            }
            (Op::Write(Field::DeviceState, raw), Outcome::Err(_)) => {
                // A refused request changes nothing; a transition that failed
                // may leave the error state (V1-FAIL-001).
                let attempted = matches!(
                    self.arc_class(s.state, V1State::from_raw(raw as u32)),
                    ArcClass::Required(_) | ArcClass::Optional
                );
                if attempted {
                    next.cause = V1_FAIL_001;
                }
                out.insert(next);
                if attempted && self.error_possible() {
                    next.state = V1State::Error;
                }
            }
            (Op::Read(Field::PendingBytes), Outcome::Value(v)) if s.state.is_saving() => {
                next.save = SaveCursor::Pending(v);
            }
            (Op::Read(Field::DataOffset), Outcome::Value(v))
                if s.state.is_saving() && !matches!(s.save, SaveCursor::Staged { .. }) =>
            {
                next.save = SaveCursor::Staged {
                    offset: v,
                    size: None,
                };
            }
            (Op::Read(Field::DataOffset), Outcome::Value(v)) if s.state == V1State::Resuming => {
                next.resume.staged = Some(v);
            }
            (Op::Read(Field::DataSize), Outcome::Value(v)) => {
                if let SaveCursor::Staged {
                    size: size @ None, ..
                } = &mut next.save
                {
                    *size = Some(v);
                }
            }
            (Op::WriteData { len, data, .. }, Outcome::Bytes(_)) if s.state == V1State::Resuming => {
                let r = &mut next.resume;
                match (r.chunk, data) {
                    (None, tag) => {
                        r.chunk = Some((tag, u64::from(len)));
                        r.chunk_ok = matches!(tag, ChunkTag::Stream { .. });
                    }
                    (
                        Some((first @ ChunkTag::Stream { offset: o, .. }, n)),
                        ChunkTag::Stream { offset, .. },
                    ) if offset == o + n => {
                        r.chunk = Some((first, n + u64::from(len)));
                    }
                    (Some((first, n)), _) => {
                        r.chunk = Some((first, n + u64::from(len)));
                        r.chunk_ok = false;
                    }
                }
            }
            (Op::Write(Field::DataSize, size), outcome)
                if s.state == V1State::Resuming && s.resume.staged.is_some() =>
            {
                let fits = s
                    .resume
                    .chunk
                    .is_some_and(|(tag, len)| self.chunk_fits(s, tag, len, size));
                let r = &mut next.resume;
                match (outcome, r.chunk) {
                    (Outcome::Ok, Some((ChunkTag::Stream { total, whole, .. }, _))) if fits => {
                        r.next += size;
                        r.total = total;
                        let split = match self.profile.segmentation() {
                            Segmentation::Indivisible => !whole,
                            Segmentation::ByteStream => false,
                        };
                        if split {
                            r.unsure = true;
                        }
                    }
                    (Outcome::Err(e), _) if self.profile.is_retryable(e) => {}
                    _ => r.intact = false,
                }
                r.staged = None;
                r.chunk = None;
                r.chunk_ok = true;
            }
            (Op::Reset, Outcome::Ok) => {
                next = self.initial();
                next.cause = V1_FAIL_003;
            }
            (Op::Reset, Outcome::Err(_)) => {
                next.cause = V1_FAIL_003;
                out.insert(next);
                next = self.initial();
                next.cause = V1_FAIL_003;
                out.insert(next);
                next.state = V1State::Error;
            }
            _ => {}
        }
        out.insert(next);
    }
}
