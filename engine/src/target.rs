//! What the generic suites need to know about each protocol: how to build
//! its model for a described device, which requests the arc table tries,
//! which operations exploration draws from, and how an injected fault
//! changes what the model must believe.

use crate::trace::Traced;
use vfio_mig_device::{Description, Fault, Speaks, Transport};
use vfio_mig_model::reqs::*;
use vfio_mig_model::v1::{self, Field, Region, V1State};
use vfio_mig_model::v2::{self, uapi, Access, DataTag, FdRef, FeatureReq, Fsm, MigState, MigrationFlags};
use vfio_mig_model::{Belief, Profile, ProtocolName, Req, Uapi};

/// One step of bringing a device into a state before a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setup<Op> {
    /// An operation, checked like any other.
    Op(Op),
    /// A fault to inject (the case is skipped when the adapter cannot).
    Inject(Fault),
}

/// A v2 request of the arc table between two named states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arc {
    /// The source state.
    pub from: MigState,
    /// The requested state.
    pub to: MigState,
}

/// One request of the arc table.
#[derive(Debug, Clone)]
pub struct Request<Op> {
    /// The target's name in the check's name.
    pub target: String,
    /// The request.
    pub op: Op,
    /// The arc it asks for, when both ends are v2 states (for the arc table
    /// of the report).
    pub arc: Option<Arc>,
}

/// A source state of the arc table and every request tried from it.
#[derive(Debug, Clone)]
pub struct ArcCase<Op> {
    /// The source state's name.
    pub from: String,
    /// How to get there from a fresh device.
    pub setup: Vec<Setup<Op>>,
    /// The requests.
    pub requests: Vec<Request<Op>>,
}

/// A protocol the suites can drive.
pub trait Target: Speaks + Traced + Clone {
    /// Which protocol.
    const KIND: ProtocolName;

    /// The model of the described device under `profile`.
    fn model(desc: &Description, profile: Profile) -> Self;

    /// A label for check names (`v2/STOP_COPY+P2P`).
    fn label(&self) -> String;

    /// The arc table: every source state and every request from it.
    fn arc_cases(&self) -> Vec<ArcCase<Self::Op>>;

    /// The operation that observes the device's state (GET, read device_state).
    fn probe(&self) -> Self::Op;

    /// A finite set of operations worth trying next, for exploration and
    /// random sequences.
    fn alphabet(&self, belief: &Belief<Self::State>) -> Vec<Self::Op>;

    /// The belief after `fault` was armed: a device told to fall into ERROR
    /// may now be in ERROR; other faults show up as operation outcomes.
    fn after_fault(&self, belief: &Belief<Self::State>, fault: Fault) -> Belief<Self::State>;

    /// The rule every call breaks when it does not return in time.
    const DEADLINE: Req;

    /// The bytes `op` writes, when it is a write.
    fn written(op: &Self::Op) -> Option<u32>;

    /// `op`, a write of bytes of a saved stream, claiming a stream of
    /// `total` bytes (a replay's own source may give another length than
    /// the check's did); any other operation unchanged.
    fn with_stream_total(op: &Self::Op, total: u64) -> Self::Op;
}

/// Why a feature request with a chosen `argsz` means something else over
/// vfio-user.
pub const ARGSZ_OVER_VFIO_USER: &str = "over vfio-user a request's argsz bounds the reply, not the request (a short one gets a cut reply, not EINVAL): malformed messages are the wire checks' business";

/// Requirements a transport cannot exercise, each with the reason the
/// report gives.
pub fn not_applicable(transport: Transport) -> &'static [(Req, &'static str)] {
    const NO_FDS: &str = "vfio-user has no data fds: the stream follows the device state and the adapter numbers the sessions itself";
    const NO_INFO: &str = "vfio-user has no PRECOPY_INFO";
    const VU_ONLY: &str = "a rule of the vfio-user transport only";
    match transport {
        Transport::VfioUser => &[
            (V2_FD_001, NO_FDS),
            (V2_FD_002, NO_FDS),
            (V2_FD_003, NO_FDS),
            (V2_FD_004, NO_FDS),
            (V2_FD_005, NO_FDS),
            (V2_FD_006, NO_FDS),
            (V2_PRE_001, NO_INFO),
            (V2_PRE_002, NO_INFO),
            (V2_PRE_003, NO_INFO),
            (V2_SIZE_001, "vfio-user has no MIG_DATA_SIZE"),
            (V2_FEAT_003, ARGSZ_OVER_VFIO_USER),
        ],
        _ => &[
            (V2_VU_001, VU_ONLY),
            (V2_VU_002, VU_ONLY),
            (V2_VU_003, VU_ONLY),
            (V2_VU_004, VU_ONLY),
            (V2_VU_005, VU_ONLY),
            (V2_VU_006, VU_ONLY),
            (V2_VU_007, VU_ONLY),
            (V2_VU_008, VU_ONLY),
            (V2_VU_009, VU_ONLY),
            (V2_VU_010, VU_ONLY),
        ],
    }
}

impl Target for Fsm {
    const KIND: ProtocolName = ProtocolName::V2;
    const DEADLINE: Req = V2_TIME_001;

    fn model(desc: &Description, profile: Profile) -> Self {
        let flags = desc.flags.unwrap_or(MigrationFlags::STOP_COPY);
        Fsm::new(flags, profile, desc.data_size)
            .with_precopy_info(desc.transport.precopy_info())
            .with_uapi(desc.uapi)
    }

    fn label(&self) -> String {
        format!("v2/{}", self.flags())
    }

    fn written(op: &v2::Op) -> Option<u32> {
        match op {
            v2::Op::Write { len, .. } => Some(*len),
            _ => None,
        }
    }

    fn with_stream_total(op: &v2::Op, total: u64) -> v2::Op {
        let mut op = *op;
        if let v2::Op::Write {
            data: DataTag::Stream { total: t, .. } | DataTag::Corrupt { total: t, .. },
            ..
        } = &mut op
        {
            *t = Some(total);
        }
        op
    }

    fn arc_cases(&self) -> Vec<ArcCase<v2::Op>> {
        let flags = self.flags();
        let targets = |from: Option<MigState>| -> Vec<Request<v2::Op>> {
            let mut r: Vec<Request<v2::Op>> = MigState::ALL
                .iter()
                .map(|s| Request {
                    target: s.name().to_owned(),
                    op: v2::Op::Set(*s),
                    arc: from.map(|f| Arc { from: f, to: *s }),
                })
                .collect();
            r.push(Request {
                target: "state 8".to_owned(),
                op: v2::Op::SetRaw(8),
                arc: None,
            });
            r
        };
        let mut cases: Vec<ArcCase<v2::Op>> = flags
            .states()
            .filter(|s| *s != MigState::Error)
            .map(|s| ArcCase {
                from: s.name().to_owned(),
                setup: if s == MigState::Running {
                    Vec::new()
                } else {
                    vec![Setup::Op(v2::Op::Set(s))]
                },
                requests: targets(Some(s)),
            })
            .collect();
        cases.push(ArcCase {
            from: "ERROR".to_owned(),
            setup: vec![Setup::Inject(Fault::FallIntoError), Setup::Op(v2::Op::Get)],
            requests: targets(Some(MigState::Error)),
        });
        cases
    }

    fn probe(&self) -> v2::Op {
        v2::Op::Get
    }

    fn alphabet(&self, belief: &Belief<v2::DevState>) -> Vec<v2::Op> {
        let mut ops: Vec<v2::Op> = self.flags().states().map(v2::Op::Set).collect();
        ops.push(v2::Op::Set(MigState::Error));
        ops.push(v2::Op::Get);
        ops.push(v2::Op::Reset);
        // Data operations on every fd the device has returned: the live one
        // and the dead ones (use after the session ended).
        let fds = belief.iter().map(|s| s.fds).max().unwrap_or(0);
        for n in 0..fds.min(3) {
            let fd = FdRef(fds - 1 - n);
            ops.push(v2::Op::Read { fd, len: 4096 });
            ops.push(v2::Op::Write {
                fd,
                len: 16,
                data: DataTag::Garbage,
            });
            if self.flags().pre_copy() && self.precopy_info() {
                ops.push(v2::Op::PrecopyInfo { fd, flags: 0 });
            }
        }
        ops.push(v2::Op::DataSize);
        // The PRECOPY_INFOv2 opt-in changes what PRECOPY_INFO may answer.
        if self.flags().pre_copy() && self.precopy_info() && self.uapi() >= Uapi::Linux7_3 {
            let opt_in = FeatureReq::full(uapi::FEATURE_MIG_PRECOPY_INFO_V2 as u16, Access::SET)
                .expect("the opt-in is a feature request");
            ops.push(v2::Op::Feature(opt_in));
        }
        ops
    }

    fn after_fault(&self, belief: &Belief<v2::DevState>, fault: Fault) -> Belief<v2::DevState> {
        if fault != Fault::FallIntoError {
            return belief.clone();
        }
        let mut out = Belief::empty();
        for s in belief.iter() {
            let mut e = *s;
            e.state = MigState::Error;
            e.session = None;
            out.insert(e);
        }
        out
    }
}

impl Target for Region {
    const KIND: ProtocolName = ProtocolName::V1;
    const DEADLINE: Req = V1_TIME_001;

    fn model(desc: &Description, profile: Profile) -> Self {
        Region::new(profile, desc.region_size.unwrap_or(4096))
    }

    fn label(&self) -> String {
        "v1".to_owned()
    }

    fn written(op: &v1::Op) -> Option<u32> {
        match op {
            v1::Op::WriteData { len, .. } => Some(*len),
            _ => None,
        }
    }

    fn with_stream_total(op: &v1::Op, total: u64) -> v1::Op {
        let mut op = *op;
        if let v1::Op::WriteData {
            data: v1::ChunkTag::Stream { total: t, .. },
            ..
        } = &mut op
        {
            *t = Some(total);
        }
        op
    }

    fn arc_cases(&self) -> Vec<ArcCase<v1::Op>> {
        let targets: Vec<Request<v1::Op>> = V1State::ALL
            .iter()
            .map(|s| Request {
                target: format!("{:03b}", s.bits()),
                op: v1::Op::set(*s),
                arc: None,
            })
            .collect();
        let mut cases: Vec<ArcCase<v1::Op>> = V1State::ALL
            .into_iter()
            .filter(|s| s.is_requestable())
            .map(|s| ArcCase {
                from: s.name().to_owned(),
                setup: if s == V1State::Running {
                    Vec::new()
                } else {
                    vec![Setup::Op(v1::Op::set(s))]
                },
                requests: targets.clone(),
            })
            .collect();
        cases.push(ArcCase {
            from: "ERROR".to_owned(),
            setup: vec![
                Setup::Inject(Fault::FallIntoError),
                Setup::Op(v1::Op::Read(Field::DeviceState)),
            ],
            requests: targets,
        });
        cases
    }

    fn probe(&self) -> v1::Op {
        v1::Op::Read(Field::DeviceState)
    }

    fn alphabet(&self, _belief: &Belief<v1::RegState>) -> Vec<v1::Op> {
        let mut ops: Vec<v1::Op> = V1State::ALL.iter().map(|s| v1::Op::set(*s)).collect();
        ops.extend(Field::ALL.iter().map(|f| v1::Op::Read(*f)));
        ops.push(v1::Op::Write(Field::DataSize, 16));
        ops.push(v1::Op::Write(Field::PendingBytes, 1));
        ops.push(v1::Op::Misaligned {
            offset: 2,
            width: 4,
            write: false,
        });
        ops.push(v1::Op::ReadData { offset: 64, len: 16 });
        ops.push(v1::Op::Reset);
        ops
    }

    fn after_fault(&self, belief: &Belief<v1::RegState>, fault: Fault) -> Belief<v1::RegState> {
        if fault != Fault::FallIntoError {
            return belief.clone();
        }
        let mut out = Belief::empty();
        for s in belief.iter() {
            let mut e = *s;
            e.state = V1State::Error;
            out.insert(e);
        }
        out
    }
}
