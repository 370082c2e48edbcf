//! The loader accepts the built-in catalogue and rejects bad ones with an
//! error naming the file, the entry and the field.

use vfio_mig_spec::{Catalogue, Error, Level, Uapi};

const V1: &str = r#"
catalogue: v1
title: t
requirements:
  - id: V1-STATE-001
    level: MUST
    summary: s
    source: { doc: include/uapi/linux/vfio.h, version: "5.8", at: here }
    checked_by: [model]
    decision: DEC-001
"#;

const V2: &str = r#"
catalogue: v2
title: t
requirements:
  - id: V2-ARC-001
    level: SHOULD
    summary: s
    source: { doc: include/uapi/linux/vfio.h, version: "6.12", at: here }
    checked_by: [model, adapter]
    applies_to: { flags: [PRE_COPY] }
"#;

const DEC: &str = r#"
decisions:
  - id: DEC-001
    question: q
    options: { a: first, b: second }
    default: a
    per_protocol: { v1: b }
    model: { v1: [a, b], v2: [a] }
    reason: r
    history: h
    source: { doc: seed, at: msg }
"#;

fn load(v1: &str, v2: &str, dec: &str) -> Result<Catalogue, Error> {
    Catalogue::from_sources(v1, v2, dec)
}

/// Loads with one file replaced and returns the error text.
fn error_of(v1: &str, v2: &str, dec: &str) -> String {
    load(v1, v2, dec).expect_err("must be rejected").to_string()
}

#[test]
fn minimal_catalogue_loads() {
    let c = load(V1, V2, DEC).unwrap();
    assert_eq!(c.v1.requirements[0].level, Level::Must);
    assert_eq!(
        c.decisions.decisions[0].default_for(vfio_mig_spec::ProtocolName::V1),
        "b"
    );
    assert_eq!(
        c.decisions.decisions[0].default_for(vfio_mig_spec::ProtocolName::V2),
        "a"
    );
}

#[test]
fn builtin_catalogue_loads_and_summary_is_stable() {
    let c = Catalogue::builtin().unwrap_or_else(|e| panic!("{e}"));
    assert!(c.v1.requirements.len() >= 40);
    assert!(c.v2.requirements.len() >= 50);
    assert!(c.decisions.decisions.len() >= 13);
    insta::assert_snapshot!("catalogue_summary", c.summary().to_string());
}

#[test]
fn builtin_catalogue_on_disk_matches_the_compiled_copy() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let disk = Catalogue::load_dir(dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(disk.summary(), Catalogue::builtin().unwrap().summary());
}

#[test]
fn duplicate_id() {
    let twice = format!("{V1}{}", V1.split("requirements:").nth(1).unwrap());
    let e = error_of(&twice, V2, DEC);
    assert!(
        e.contains("spec/v1.yaml")
            && e.contains("V1-STATE-001")
            && e.contains("`id`")
            && e.contains("duplicate"),
        "{e}"
    );
}

#[test]
fn unknown_level() {
    let e = error_of(&V1.replace("MUST", "MUSTN'T"), V2, DEC);
    assert!(
        e.contains("spec/v1.yaml: requirement V1-STATE-001: field `level`") && e.contains("MUSTN'T"),
        "{e}"
    );
}

#[test]
fn missing_source() {
    let v2 = V2.replace(
        "    source: { doc: include/uapi/linux/vfio.h, version: \"6.12\", at: here }\n",
        "",
    );
    let e = error_of(V1, &v2, DEC);
    assert_eq!(
        e,
        "spec/v2.yaml: requirement V2-ARC-001: field `source`: is missing"
    );
}

#[test]
fn source_without_place() {
    let e = error_of(&V1.replace(", at: here", ""), V2, DEC);
    assert_eq!(
        e,
        "spec/v1.yaml: requirement V1-STATE-001: field `source.at`: is missing"
    );
}

#[test]
fn decision_without_default() {
    let e = error_of(V1, V2, &DEC.replace("    default: a\n", ""));
    assert_eq!(
        e,
        "spec/decisions.yaml: decision DEC-001: field `default`: is missing"
    );
}

#[test]
fn default_not_an_option() {
    let e = error_of(V1, V2, &DEC.replace("default: a", "default: c"));
    assert!(
        e.starts_with("spec/decisions.yaml: decision DEC-001: field `default`: \"c\" is not one of"),
        "{e}"
    );
}

#[test]
fn per_protocol_not_an_option() {
    let e = error_of(V1, V2, &DEC.replace("v1: b", "v1: z"));
    assert!(e.contains("field `per_protocol`"), "{e}");
}

#[test]
fn single_option() {
    let e = error_of(V1, V2, &DEC.replace("{ a: first, b: second }", "{ a: first }"));
    assert!(e.contains("field `options`: needs at least two options"), "{e}");
}

#[test]
fn bad_id_forms() {
    for bad in [
        "V3-ARC-001",
        "V1-arc-001",
        "V1-ARC-1",
        "V1-ARC",
        "V1--001",
        "V1-ARC-001-X",
    ] {
        let e = error_of(&V1.replace("V1-STATE-001", bad), V2, DEC);
        assert!(e.contains("requirement #1: field `id`"), "{bad}: {e}");
    }
    let e = error_of(V1, V2, &DEC.replace("DEC-001", "DEC-1"));
    assert!(e.contains("decision #1: field `id`"), "{e}");
}

#[test]
fn id_in_the_wrong_file() {
    let e = error_of(&V1.replace("V1-STATE-001", "V2-STATE-001"), V2, DEC);
    assert!(
        e.contains("spec/v1.yaml: requirement V2-STATE-001: field `id`"),
        "{e}"
    );
}

#[test]
fn unknown_or_empty_checker() {
    let e = error_of(&V1.replace("[model]", "[modle]"), V2, DEC);
    assert!(e.contains("field `checked_by`: unknown checker \"modle\""), "{e}");
    let e = error_of(&V1.replace("[model]", "[]"), V2, DEC);
    assert!(e.contains("field `checked_by`: is empty"), "{e}");
    let e = error_of(&V1.replace("[model]", "[model, model]"), V2, DEC);
    assert!(e.contains("field `checked_by`: names \"model\" twice"), "{e}");
}

#[test]
fn unknown_flag_and_flags_on_v1() {
    let e = error_of(V1, &V2.replace("[PRE_COPY]", "[PRECOPY]"), DEC);
    assert!(
        e.contains("field `applies_to.flags`: unknown flag \"PRECOPY\""),
        "{e}"
    );
    let v1 = V1.replace("    decision: DEC-001\n", "    applies_to: { flags: [P2P] }\n");
    let e = error_of(&v1, V2, DEC);
    assert!(e.contains("field `applies_to`"), "{e}");
}

#[test]
fn uapi_revision_of_a_rule_is_checked_and_kept() {
    let e = error_of(V1, &V2.replace("[PRE_COPY]", "[PRE_COPY], since: \"7.9\""), DEC);
    assert!(
        e.contains("field `applies_to.since`: unknown uAPI revision \"7.9\""),
        "{e}"
    );
    let c = load(V1, &V2.replace("[PRE_COPY]", "[PRE_COPY], since: \"7.3\""), DEC).unwrap();
    assert!(c.requirements().any(|r| r.since == Some(Uapi::Linux7_3)));
}

#[test]
fn lacking_names_optional_flags_only() {
    let e = error_of(V1, &V2.replace("flags: [PRE_COPY]", "lacking: [STOP_COPY]"), DEC);
    assert!(
        e.contains("field `applies_to.lacking`: \"STOP_COPY\" is not an optional flag"),
        "{e}"
    );
    let c = load(V1, &V2.replace("flags: [PRE_COPY]", "lacking: [P2P]"), DEC).unwrap();
    assert!(c
        .requirements()
        .any(|r| r.applies_lacking == [vfio_mig_spec::FlagName::P2p]));
}

#[test]
fn uapi_revision_of_a_kernel_release() {
    assert_eq!(Uapi::of_release("7.3.4+deb13-amd64"), Some(Uapi::Linux7_3));
    assert_eq!(Uapi::of_release("7.10.1"), Some(Uapi::Linux7_3));
    assert_eq!(Uapi::of_release("6.12.117+deb12-amd64"), Some(Uapi::Linux6_12));
    assert_eq!(Uapi::of_release("7.2.0"), Some(Uapi::Linux6_12));
    assert_eq!(Uapi::of_release("5.10.0"), None);
    assert_eq!(Uapi::of_release("garbage"), None);
}

#[test]
fn link_to_a_missing_decision() {
    let e = error_of(&V1.replace("decision: DEC-001", "decision: DEC-099"), V2, DEC);
    assert_eq!(e, "spec/v1.yaml: requirement V1-STATE-001: field `decision`: names DEC-099, which is not in spec/decisions.yaml");
}

#[test]
fn wrong_catalogue_name() {
    let e = error_of(V2, V2, DEC);
    assert!(e.contains("spec/v1.yaml: top level: field `catalogue`"), "{e}");
}

#[test]
fn yaml_errors_name_the_file_and_place() {
    // Syntax error.
    let e = error_of("catalogue: v1\n  title: [unclosed", V2, DEC);
    assert!(e.starts_with("spec/v1.yaml: "), "{e}");
    assert!(e.contains("line") || e.contains(':'), "{e}");
    // A duplicate key is refused, not silently overwritten.
    let e = error_of(
        &V1.replace("    level: MUST\n", "    level: MUST\n    level: MAY\n"),
        V2,
        DEC,
    );
    assert!(
        e.starts_with("spec/v1.yaml: ") && e.to_lowercase().contains("duplicate"),
        "{e}"
    );
    // An unknown field (a typo) is refused.
    let e = error_of(&V1.replace("summary:", "sumary:"), V2, DEC);
    assert!(e.starts_with("spec/v1.yaml: ") && e.contains("sumary"), "{e}");
    // Wrong shapes.
    for bad in ["", "- a\n- b\n", "catalogue: [v1]\n", "requirements: 3\n"] {
        let e = error_of(bad, V2, DEC);
        assert!(e.starts_with("spec/v1.yaml: "), "{bad:?}: {e}");
    }
}

#[test]
fn missing_directory_is_an_io_error() {
    let e = Catalogue::load_dir(std::path::Path::new("/nonexistent/spec")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }));
    assert!(e.to_string().contains("v1.yaml"), "{e}");
}

#[test]
fn random_bytes_never_panic() {
    // A cheap sweep over mangled versions of a valid file: every result is
    // either a catalogue or an error, never a panic.
    let base = V1.as_bytes();
    for i in 0..base.len() {
        for b in [b'\0', b':', b'-', b'[', b'"', b'\t', 0xff] {
            let mut m = base.to_vec();
            m[i] = b;
            let text = String::from_utf8_lossy(&m);
            let _ = load(&text, V2, DEC);
        }
    }
}

#[test]
fn decision_without_model_field() {
    let e = error_of(V1, V2, &DEC.replace("    model: { v1: [a, b], v2: [a] }\n", ""));
    assert!(e.contains("decision DEC-001: field `model`: is missing"), "{e}");
}

#[test]
fn model_option_not_an_option() {
    let e = error_of(V1, V2, &DEC.replace("v2: [a]", "v2: [a, z]"));
    assert!(
        e.contains("field `model`: v2: \"z\" is not one of the options"),
        "{e}"
    );
}

#[test]
fn model_must_implement_the_default() {
    let e = error_of(V1, V2, &DEC.replace("v1: [a, b]", "v1: [a]"));
    assert!(
        e.contains("field `model`: v1: the default \"b\" must be one the model implements"),
        "{e}"
    );
}

#[test]
fn per_protocol_default_for_a_protocol_the_decision_skips() {
    let e = error_of(
        V1,
        V2,
        &DEC.replace("model: { v1: [a, b], v2: [a] }", "model: { v2: [a] }"),
    );
    assert!(e.contains("field `per_protocol`: names v1"), "{e}");
}

#[test]
fn a_rule_applies_under_one_option_of_its_decision() {
    let c = load(
        &V1.replace("decision: DEC-001", "decision: DEC-001\n    when: b"),
        V2,
        DEC,
    )
    .unwrap();
    assert_eq!(c.v1.requirements[0].when.as_deref(), Some("b"));
    let e = error_of(
        &V1.replace("decision: DEC-001", "decision: DEC-001\n    when: z"),
        V2,
        DEC,
    );
    assert!(
        e.contains("field `when`: \"z\" is not an option of DEC-001"),
        "{e}"
    );
    let e = error_of(&V1.replace("    decision: DEC-001\n", "    when: b\n"), V2, DEC);
    assert!(e.contains("field `when`: needs a `decision`"), "{e}");
}
