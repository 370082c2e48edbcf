//! Shared test support: the `covers!` marker and kernel facts.
#![allow(dead_code)]

use std::sync::OnceLock;
use vfio_mig_spec::Catalogue;

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
