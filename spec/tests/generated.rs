//! The generated `ids` module must match the YAML it was generated from.
//! Covers: every requirement and decision is spelled in one place.

use vfio_mig_spec::{codegen, Catalogue};

#[test]
fn generated_ids_match_the_catalogue() {
    let catalogue = Catalogue::builtin().expect("the built-in catalogue loads");
    let want = codegen::generate(&catalogue);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ids.rs");
    let have = std::fs::read_to_string(path).unwrap_or_default();
    if have == want {
        return;
    }
    if std::env::var_os("VFIO_MIG_REGENERATE").is_some() {
        std::fs::write(path, &want).expect("spec/src/ids.rs is writable");
        return;
    }
    panic!(
        "spec/src/ids.rs is out of date with spec/*.yaml: run \
         `VFIO_MIG_REGENERATE=1 cargo test -p vfio-mig-spec --test generated` and commit the result"
    );
}
