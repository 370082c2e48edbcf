//! What the generic suites need to know about each protocol.

use crate::device::{Description, Fault};
use vfio_mig_model::v1::{self, Field, Region, V1State};
use vfio_mig_model::v2::{self, DataTag, FdRef, Fsm, MigState, MigrationFlags};
use vfio_mig_model::{Belief, Profile, Protocol, ProtocolKind};

/// One step of bringing a device into a state before a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setup<Op> {
    /// An operation, checked like any other.
    Op(Op),
    /// A fault to inject (the case is skipped when the adapter cannot).
    Inject(Fault),
}

/// A source state of the arc table and every request tried from it.
#[derive(Debug, Clone)]
pub struct ArcCase<Op> {
    /// The source state's name.
    pub from: String,
    /// How to get there from a fresh device.
    pub setup: Vec<Setup<Op>>,
    /// (target name, request) pairs.
    pub requests: Vec<(String, Op)>,
}

/// A protocol the suites can drive.
pub trait Target: Protocol + Sized {
    /// Which protocol.
    const KIND: ProtocolKind;

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

    /// The trace of check `name` as a C program issuing the same calls,
    /// where the protocol has one.
    fn c_reproducer(_name: &str, _steps: &[(Self::Op, Self::Outcome)]) -> Option<String> {
        None
    }

    /// The trace in the project's JSON trace format, where the protocol has
    /// one.
    fn json_trace(&self, _steps: &[(Self::Op, Self::Outcome)]) -> Option<String> {
        None
    }
}

impl Target for Fsm {
    const KIND: ProtocolKind = ProtocolKind::V2;

    fn model(desc: &Description, profile: Profile) -> Self {
        let flags = desc.flags.unwrap_or(MigrationFlags::STOP_COPY);
        Fsm::new(flags, profile, desc.data_size).with_precopy_info(desc.transport.precopy_info())
    }

    fn label(&self) -> String {
        format!("v2/{}", self.flags())
    }

    fn c_reproducer(name: &str, steps: &[(v2::Op, v2::Outcome)]) -> Option<String> {
        Some(crate::reproducer_c::v2(name, steps))
    }

    fn json_trace(&self, steps: &[(v2::Op, v2::Outcome)]) -> Option<String> {
        Some(crate::trace_json::write(self.flags(), self.data_size(), steps))
    }

    fn arc_cases(&self) -> Vec<ArcCase<v2::Op>> {
        let flags = self.flags();
        let mut targets: Vec<(String, v2::Op)> = MigState::ALL
            .iter()
            .map(|s| (s.name().to_owned(), v2::Op::Set(*s)))
            .collect();
        targets.push(("state 8".to_owned(), v2::Op::SetRaw(8)));
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
                requests: targets.clone(),
            })
            .collect();
        cases.push(ArcCase {
            from: "ERROR".to_owned(),
            setup: vec![Setup::Inject(Fault::FallIntoError), Setup::Op(v2::Op::Get)],
            requests: targets,
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
                ops.push(v2::Op::PrecopyInfo { fd });
            }
        }
        ops.push(v2::Op::DataSize);
        ops
    }
}

impl Target for Region {
    const KIND: ProtocolKind = ProtocolKind::V1;

    fn model(desc: &Description, profile: Profile) -> Self {
        Region::new(profile, desc.region_size.unwrap_or(4096))
    }

    fn label(&self) -> String {
        "v1".to_owned()
    }

    fn arc_cases(&self) -> Vec<ArcCase<v1::Op>> {
        let targets: Vec<(String, v1::Op)> = V1State::ALL
            .iter()
            .map(|s| (format!("{:03b}", s.bits()), v1::Op::set(*s)))
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
}

/// How an injected fault changes what the model must believe.
pub trait FaultBelief: Target {
    /// The belief after `fault` was armed: a device told to fall into ERROR
    /// may now be in ERROR; other faults show up as operation outcomes.
    fn after_fault(&self, belief: &Belief<Self::State>, fault: Fault) -> Belief<Self::State>;
}

impl FaultBelief for Fsm {
    fn after_fault(&self, belief: &Belief<v2::DevState>, fault: Fault) -> Belief<v2::DevState> {
        let mut out = belief.clone();
        if fault == Fault::FallIntoError {
            out = Belief::empty();
            for s in belief.iter() {
                let mut e = *s;
                e.state = MigState::Error;
                e.session = None;
                out.insert(e);
            }
        }
        out
    }
}

impl FaultBelief for Region {
    fn after_fault(&self, belief: &Belief<v1::RegState>, fault: Fault) -> Belief<v1::RegState> {
        let mut out = belief.clone();
        if fault == Fault::FallIntoError {
            out = Belief::empty();
            for s in belief.iter() {
                let mut e = *s;
                e.state = V1State::Error;
                out.insert(e);
            }
        }
        out
    }
}
