//! Shared test support: the `covers!` marker and kernel facts.
#![allow(dead_code)]

use std::sync::OnceLock;
use vfio_mig_model::{Belief, Judgement, Protocol, Req};
use vfio_mig_spec::Catalogue;

/// The v2 model of a device with migration flags `bits` (that report
/// data_size), under the default decisions.
pub fn fsm(bits: u64) -> vfio_mig_model::v2::Fsm {
    vfio_mig_model::v2::Fsm::new(
        vfio_mig_model::v2::MigrationFlags::new(bits).unwrap(),
        vfio_mig_model::Profile::defaults(vfio_mig_model::ProtocolName::V2),
        true,
    )
}

/// The v2 model of a device with every flag: STOP_COPY, P2P and PRE_COPY.
pub fn all() -> vfio_mig_model::v2::Fsm {
    fsm(0b111)
}

/// Follows `steps` from a fresh device; every outcome must be allowed.
pub fn run<P: Protocol>(m: &P, steps: &[(P::Op, P::Outcome)]) -> Belief<P::State> {
    let mut b = m.start();
    for (op, out) in steps {
        b = m.advance(&b, op, out).unwrap_or_else(|v| panic!("{op}: {v}")).0;
    }
    b
}

/// The judgement of the last step after following the others, or the rules
/// its violation names.
pub fn judge<P: Protocol>(m: &P, steps: &[(P::Op, P::Outcome)]) -> Result<Judgement, Vec<Req>> {
    let (last, init) = steps.split_last().expect("at least one step");
    m.advance(&run(m, init), &last.0, &last.1)
        .map(|(_, j)| j)
        .map_err(|v| v.reqs)
}

/// The rules a violation names, when the last step is not allowed.
pub fn violation<P: Protocol>(m: &P, steps: &[(P::Op, P::Outcome)]) -> Vec<Req> {
    judge(m, steps).expect_err("the last step must be a violation")
}

/// How the last step is judged, when every step is allowed.
pub fn judgement<P: Protocol>(m: &P, steps: &[(P::Op, P::Outcome)]) -> Judgement {
    judge(m, steps).unwrap_or_else(|reqs| panic!("the last step broke {reqs:?}"))
}

/// The built-in catalogue, loaded once.
pub fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| Catalogue::builtin().expect("the built-in catalogue is valid"))
}

/// Names the requirement IDs a test checks. The traceability test finds
/// these markers in the source; at run time each ID must exist.
#[macro_export]
macro_rules! covers {
    ($($id:literal),+ $(,)?) => {
        $( assert!(
            $crate::common::catalogue().requirement($id).is_some(),
            "test names requirement {} which is not in the catalogue", $id
        ); )+
    };
}
pub mod kernel;
