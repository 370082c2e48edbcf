//! Links between the catalogue and the model's tests: every ID a test names
//! exists, and every requirement checked by the model has a test.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use vfio_mig_model::{Profile, ProfileError};
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
        .filter(|id| cat.requirement(id.id()).is_none())
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
fn every_decision_option_is_chosen_or_refused_as_the_catalogue_says() {
    let cat = common::catalogue();
    for d in &cat.decisions.decisions {
        for protocol in [ProtocolName::V1, ProtocolName::V2] {
            let implemented = d.model.get(&protocol);
            for key in d.options.keys() {
                let mut p = Profile::defaults(protocol);
                let got = p.decide(d.id.as_str(), key);
                match implemented {
                    None => assert!(
                        matches!(got, Err(ProfileError::OtherProtocol { .. })),
                        "{}={key} on {protocol}: {got:?}",
                        d.id
                    ),
                    Some(keys) if keys.contains(key) => {
                        assert_eq!(got, Ok(()), "{}={key} on {protocol}", d.id);
                        let chosen = p.decisions().choices();
                        let c = chosen.iter().find(|c| c.id() == d.id.as_str()).unwrap();
                        assert_eq!(c.key(), key, "{}: the choice was not taken", d.id);
                    }
                    Some(_) => assert!(
                        matches!(got, Err(ProfileError::NotImplemented { .. })),
                        "{}={key} on {protocol}: {got:?}",
                        d.id
                    ),
                }
            }
        }
    }
}

#[test]
fn profile_defaults_are_the_catalogue_defaults() {
    let cat = common::catalogue();
    for protocol in [ProtocolName::V1, ProtocolName::V2] {
        let p = Profile::defaults(protocol);
        for c in p.decisions().choices() {
            let d = cat.decision(c.id()).unwrap();
            assert_eq!(c.key(), d.default_for(protocol), "{} on {protocol}", c.id());
        }
    }
}

#[test]
fn a_decision_chosen_twice_differently_is_refused() {
    let mut p = Profile::defaults(ProtocolName::V2);
    p.decide("DEC-013", "enomsg-or-zero").unwrap();
    p.decide("DEC-013", "enomsg-or-zero").unwrap();
    assert!(matches!(
        p.decide("DEC-013", "enomsg-only"),
        Err(ProfileError::Contradiction { .. })
    ));
    assert!(matches!(p.decide("DEC-099", "x"), Err(ProfileError::Unknown(_))));
}
