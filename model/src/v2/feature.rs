//! `VFIO_DEVICE_FEATURE` requests other than the state machine's own GET and
//! SET: probes, the read-only MIGRATION feature, the PRECOPY_INFOv2 opt-in,
//! unknown features and malformed requests.
//!
//! The facts (feature numbers, which accesses each feature supports, payload
//! sizes, the order of the checks) are those of `vfio_ioctl_device_feature()`
//! and `vfio_check_feature()` in Linux 6.12 and 7.3 (drivers/vfio/vfio_main.c,
//! include/linux/vfio.h).

use super::state::uapi::{
    FEATURE_GET, FEATURE_HEADER_LEN, FEATURE_MIGRATION, FEATURE_MIG_DATA_SIZE, FEATURE_MIG_DEVICE_STATE,
    FEATURE_MIG_PRECOPY_INFO_V2, FEATURE_PROBE, FEATURE_SET,
};
use std::fmt;
use vfio_mig_spec::Uapi;

/// Which accesses a request names (`VFIO_DEVICE_FEATURE_GET`, `_SET`,
/// `_PROBE`); every combination is a request a user can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Access {
    /// `VFIO_DEVICE_FEATURE_GET`.
    pub get: bool,
    /// `VFIO_DEVICE_FEATURE_SET`.
    pub set: bool,
    /// `VFIO_DEVICE_FEATURE_PROBE`.
    pub probe: bool,
}

impl Access {
    /// A plain GET.
    pub const GET: Access = Access {
        get: true,
        set: false,
        probe: false,
    };
    /// A plain SET.
    pub const SET: Access = Access {
        get: false,
        set: true,
        probe: false,
    };

    /// A PROBE naming `get` and `set`.
    pub fn probe(get: bool, set: bool) -> Access {
        Access {
            get,
            set,
            probe: true,
        }
    }

    /// The access bits of the uAPI's `flags`.
    pub fn bits(self) -> u32 {
        (if self.get { FEATURE_GET } else { 0 })
            | (if self.set { FEATURE_SET } else { 0 })
            | (if self.probe { FEATURE_PROBE } else { 0 })
    }

    /// The access named by `flags` (other bits ignored).
    pub fn of_bits(flags: u32) -> Access {
        Access {
            get: flags & FEATURE_GET != 0,
            set: flags & FEATURE_SET != 0,
            probe: flags & FEATURE_PROBE != 0,
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.probe {
            parts.push("PROBE");
        }
        if self.get {
            parts.push("GET");
        }
        if self.set {
            parts.push("SET");
        }
        if parts.is_empty() {
            parts.push("no access");
        }
        f.write_str(&parts.join("|"))
    }
}

/// A `VFIO_DEVICE_FEATURE` request that is not the state machine's own GET
/// or SET of MIG_DEVICE_STATE nor the GET of MIG_DATA_SIZE (those are
/// [`super::Op::Get`], [`super::Op::Set`] and [`super::Op::DataSize`]): a
/// request of that form cannot be built, so one request has one meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FeatureReq {
    feature: u16,
    access: Access,
    argsz: u32,
}

/// Why a [`FeatureReq`] could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a well-formed {access} of feature {feature} is a state-machine operation (GET/SET state, GET MIG_DATA_SIZE), not a feature request")]
pub struct StateAccess {
    /// The feature.
    pub feature: u16,
    /// The access.
    pub access: Access,
}

impl FeatureReq {
    /// The request of `feature` naming `access` with `argsz` (the header's 8
    /// bytes plus the payload bytes the user says it passes; a user buffer of
    /// the feature's full size is always passed).
    pub fn new(feature: u16, access: Access, argsz: u32) -> Result<Self, StateAccess> {
        let req = FeatureReq {
            feature,
            access,
            argsz,
        };
        let plain = !access.probe && (access.get != access.set);
        let full = argsz >= FEATURE_HEADER_LEN + 8;
        let state_access = match u32::from(feature) {
            FEATURE_MIG_DEVICE_STATE => plain && full,
            FEATURE_MIG_DATA_SIZE => plain && access.get && full,
            _ => false,
        };
        if state_access {
            Err(StateAccess { feature, access })
        } else {
            Ok(req)
        }
    }

    /// A well-formed request of `feature` naming `access`: `argsz` covers
    /// the feature's payload.
    pub fn full(feature: u16, access: Access) -> Result<Self, StateAccess> {
        let payload = Feature::of(feature).map_or(0, |f| f.payload());
        FeatureReq::new(feature, access, FEATURE_HEADER_LEN + payload)
    }

    /// The feature number.
    pub fn feature(&self) -> u16 {
        self.feature
    }

    /// The accesses named.
    pub fn access(&self) -> Access {
        self.access
    }

    /// `argsz`.
    pub fn argsz(&self) -> u32 {
        self.argsz
    }

    /// The uAPI `flags` word: feature number and access bits.
    pub fn flags(&self) -> u32 {
        u32::from(self.feature) | self.access.bits()
    }
}

impl fmt::Display for FeatureReq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Feature::of(self.feature).map_or("unknown", |x| x.name());
        write!(
            f,
            "FEATURE {} {} ({name}), argsz {}",
            self.access, self.feature, self.argsz
        )
    }
}

/// A feature the migration uAPI defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// `VFIO_DEVICE_FEATURE_MIGRATION` (1): GET the migration flags.
    Migration,
    /// `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE` (2): GET and SET the state.
    MigDeviceState,
    /// `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE` (9): GET the stop-copy estimate.
    MigDataSize,
    /// `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2` (12, Linux 7.3): SET opts in.
    PrecopyInfoV2,
}

/// What the uAPI says of one feature (vfio_main.c's handlers, 6.12 and 7.3).
struct Row {
    feature: Feature,
    number: u32,
    name: &'static str,
    /// (GET, SET) supported.
    ops: (bool, bool),
    /// Bytes of payload a GET or SET carries.
    payload: u32,
    /// The first uAPI revision that has it.
    since: Uapi,
}

const FEATURES: [Row; 4] = [
    Row {
        feature: Feature::Migration,
        number: FEATURE_MIGRATION,
        name: "MIGRATION",
        ops: (true, false),
        payload: 8,
        since: Uapi::Linux6_12,
    },
    Row {
        feature: Feature::MigDeviceState,
        number: FEATURE_MIG_DEVICE_STATE,
        name: "MIG_DEVICE_STATE",
        ops: (true, true),
        payload: 8,
        since: Uapi::Linux6_12,
    },
    Row {
        feature: Feature::MigDataSize,
        number: FEATURE_MIG_DATA_SIZE,
        name: "MIG_DATA_SIZE",
        ops: (true, false),
        payload: 8,
        since: Uapi::Linux6_12,
    },
    Row {
        feature: Feature::PrecopyInfoV2,
        number: FEATURE_MIG_PRECOPY_INFO_V2,
        name: "MIG_PRECOPY_INFOv2",
        ops: (false, true),
        payload: 0,
        since: Uapi::Linux7_3,
    },
];

impl Feature {
    fn row(self) -> &'static Row {
        FEATURES
            .iter()
            .find(|r| r.feature == self)
            .expect("every feature has a row")
    }

    /// The feature with this number, if the uAPI defines it.
    pub fn of(number: u16) -> Option<Feature> {
        FEATURES
            .iter()
            .find(|r| r.number == u32::from(number))
            .map(|r| r.feature)
    }

    /// Its number.
    pub fn number(self) -> u16 {
        self.row().number as u16
    }

    /// Its name without prefix.
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// Whether `access` names only accesses the feature supports.
    pub fn supports(self, access: Access) -> bool {
        let (get, set) = self.row().ops;
        (!access.get || get) && (!access.set || set)
    }

    /// Bytes of its payload.
    pub fn payload(self) -> u32 {
        self.row().payload
    }

    /// Whether a device of `uapi` (offering MIG_DATA_SIZE when
    /// `data_size`) has it.
    pub fn offered(self, uapi: Uapi, data_size: bool) -> bool {
        self.row().since <= uapi && (self != Feature::MigDataSize || data_size)
    }
}
