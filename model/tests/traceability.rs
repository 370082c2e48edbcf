//! Links between the catalogue and the model's tests: every ID a test names
//! exists, and every requirement checked by the model has a test.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use vfio_mig_model::{Profile, ProtocolKind, DECISIONS};
use vfio_mig_spec::{Checker, ProtocolName};

/// Every `covers!(...)` in the model's test files: ID -> test files.
fn covered() -> BTreeMap<String, BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("tests dir") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.extension().is_none_or(|e| e != "rs") || name == "traceability.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for ids in covers_markers(&text) {
            out.entry(ids).or_default().insert(name.clone());
        }
    }
    out
}

/// The string literals inside each `covers!( ... )` of `text`.
fn covers_markers(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("covers!(") {
        let body = &rest[start + "covers!(".len()..];
        let end = body.find(')').expect("covers! is closed");
        for (i, part) in body[..end].split('"').enumerate() {
            if i % 2 == 1 {
                ids.push(part.to_owned());
            }
        }
        rest = &body[end..];
    }
    ids
}

#[test]
fn every_named_id_exists() {
    let cat = common::catalogue();
    let covered = covered();
    assert!(!covered.is_empty(), "no covers! markers found");
    let unknown: Vec<_> = covered
        .keys()
        .filter(|id| cat.requirement(id).is_none())
        .collect();
    assert!(
        unknown.is_empty(),
        "tests name IDs that are not in the catalogue: {unknown:?}"
    );
    let unknown: Vec<_> = vfio_mig_model::reqs::ALL
        .iter()
        .filter(|id| cat.requirement(id).is_none())
        .collect();
    assert!(
        unknown.is_empty(),
        "the model cites IDs that are not in the catalogue: {unknown:?}"
    );
}

#[test]
fn every_model_checked_requirement_has_a_test() {
    let cat = common::catalogue();
    let covered = covered();
    let gaps: Vec<_> = cat
        .requirements()
        .filter(|r| r.checked_by(Checker::Model) && !covered.contains_key(r.id.as_str()))
        .map(|r| r.id.to_string())
        .collect();
    assert!(
        gaps.is_empty(),
        "requirements checked by the model but named by no test: {gaps:?}"
    );
}

#[test]
fn the_marker_parser_finds_ids() {
    let ids = covers_markers("x covers!(\"V1-A-001\", \"V2-B-002\"); y covers!(\"V1-C-003\")");
    assert_eq!(ids, ["V1-A-001", "V2-B-002", "V1-C-003"]);
}

#[test]
fn model_decisions_agree_with_the_catalogue() {
    let cat = common::catalogue();
    let yaml: BTreeSet<_> = cat.decisions.decisions.iter().map(|d| d.id.as_str()).collect();
    let ours: BTreeSet<_> = DECISIONS.iter().map(|d| d.id).collect();
    assert!(
        ours.is_subset(&yaml),
        "the model knows decisions the catalogue lacks: {:?}",
        ours.difference(&yaml)
    );
    for info in DECISIONS {
        let d = cat.decision(info.id).unwrap();
        let keys: BTreeSet<_> = d.options.keys().map(String::as_str).collect();
        let model_keys: BTreeSet<_> = info.options.iter().copied().collect();
        assert_eq!(keys, model_keys, "{}: option keys differ", info.id);
        for (kind, name) in [
            (ProtocolKind::V1, ProtocolName::V1),
            (ProtocolKind::V2, ProtocolName::V2),
        ] {
            let mut p = Profile::defaults(kind);
            p.choose(info.id, d.default_for(name))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                p,
                Profile::defaults(kind),
                "{}: the model's {name} default is not the catalogue's",
                info.id
            );
            if let Some(only) = info.fixed {
                assert_eq!(
                    d.default_for(name),
                    only,
                    "{}: a fixed decision's default",
                    info.id
                );
            }
        }
    }
}
