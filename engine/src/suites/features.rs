//! `VFIO_DEVICE_FEATURE` requests beside the state machine's own: the
//! MIGRATION feature, probes, the PRECOPY_INFOv2 opt-in, unknown features
//! and malformed requests. Each is issued from RUNNING; the state is read
//! twice afterwards, since none of them may change it.

use super::common::{concluded, push, restore};
use crate::check::Checker;
use crate::handle::Handle;
use crate::target::Target;
use crate::target::ARGSZ_OVER_VFIO_USER;
use crate::verdict::{SuiteId, Verdict};
use vfio_mig_device::Transport;
use vfio_mig_model::reqs::V2_FEAT_003;
use vfio_mig_model::v2::{self, uapi, Access, FeatureReq, Fsm};

/// A feature number no uAPI revision defines (the last one of the 16-bit
/// range, far from the numbers in use).
pub const UNKNOWN_FEATURE: u16 = 0xffff;

/// One request of the table: its name and what it asks.
struct Case {
    name: &'static str,
    feature: u16,
    access: Access,
    /// `argsz` when not the feature's full size.
    argsz: Option<u32>,
}

const fn case(name: &'static str, feature: u32, access: Access, argsz: Option<u32>) -> Case {
    Case {
        name,
        feature: feature as u16,
        access,
        argsz,
    }
}

const GET: Access = Access::GET;
const SET: Access = Access::SET;
const fn probe(get: bool, set: bool) -> Access {
    Access {
        get,
        set,
        probe: true,
    }
}
const BOTH: Access = Access {
    get: true,
    set: true,
    probe: false,
};
const NONE: Access = Access {
    get: false,
    set: false,
    probe: false,
};

const MIGRATION: u32 = uapi::FEATURE_MIGRATION;
const STATE: u32 = uapi::FEATURE_MIG_DEVICE_STATE;
const SIZE: u32 = uapi::FEATURE_MIG_DATA_SIZE;
const PRECOPY_V2: u32 = uapi::FEATURE_MIG_PRECOPY_INFO_V2;

/// The requests, by what they test.
const CASES: &[Case] = &[
    // The read-only MIGRATION feature (V2-FLAG-001, V2-FLAG-004).
    case("get-migration", MIGRATION, GET, None),
    case("probe-get-migration", MIGRATION, probe(true, false), None),
    case("probe-set-migration", MIGRATION, probe(false, true), None),
    case("set-migration", MIGRATION, SET, None),
    // The state feature probed every way (V2-FEAT-001, V2-FEAT-002).
    case("probe-get-state", STATE, probe(true, false), None),
    case("probe-set-state", STATE, probe(false, true), None),
    case("probe-get-set-state", STATE, probe(true, true), None),
    case("probe-state", STATE, probe(false, false), None),
    case("get-and-set-state", STATE, BOTH, None),
    // Malformed (V2-FEAT-003, V2-FEAT-004).
    case("argsz-below-header", MIGRATION, GET, Some(4)),
    case("get-migration-short-payload", MIGRATION, GET, Some(12)),
    case("set-state-short-payload", STATE, SET, Some(12)),
    case("migration-without-access", MIGRATION, NONE, None),
    // MIG_DATA_SIZE is read-only; it exists only where offered.
    case("probe-get-data-size", SIZE, probe(true, false), None),
    case("set-data-size", SIZE, SET, None),
    // A feature no revision defines.
    case("get-unknown", UNKNOWN_FEATURE as u32, GET, None),
    case("probe-unknown", UNKNOWN_FEATURE as u32, probe(true, false), None),
    // The PRECOPY_INFOv2 opt-in (Linux 7.3; unknown before).
    case("probe-set-precopy-info-v2", PRECOPY_V2, probe(false, true), None),
    case("get-precopy-info-v2", PRECOPY_V2, GET, None),
    case("set-precopy-info-v2", PRECOPY_V2, SET, None),
];

/// The name of the check of request `case`.
fn name(model: &Fsm, case: &str) -> String {
    format!("{}/faults/feature/{case}", model.label())
}

/// Every check of the table, by name.
pub fn plan(model: &Fsm) -> Vec<String> {
    CASES.iter().map(|c| name(model, c.name)).collect()
}

/// Runs every request of the table.
pub fn run(model: &Fsm, device: &mut Handle<Fsm>) -> Vec<Verdict> {
    let mut out = Vec::new();
    for case in CASES {
        let name = name(model, case.name);
        let req = match case.argsz {
            Some(argsz) => FeatureReq::new(case.feature, case.access, argsz),
            None => FeatureReq::full(case.feature, case.access),
        }
        .expect("the table holds feature requests only");
        if case.argsz.is_some() && device.describe().transport == Transport::VfioUser {
            out.push(Verdict::skip(
                SuiteId::Faults,
                name,
                &[V2_FEAT_003],
                ARGSZ_OVER_VFIO_USER,
            ));
            continue;
        }
        if let Err(v) = restore(SuiteId::Faults, &name, device) {
            out.push(*v);
            return out;
        }
        let mut c = Checker::new(model, device);
        let result = (|| {
            c.step(v2::Op::Feature(req))?;
            // None of them changes the state.
            c.step(v2::Op::Get)?;
            c.step(v2::Op::Get)?;
            Ok(())
        })();
        if !push(&mut out, concluded(SuiteId::Faults, name, &c, &[], result)) {
            return out;
        }
    }
    out
}
