//! Writes [`crate::ids`] from the catalogue: one constant per requirement,
//! one enum per decision. `tests/generated.rs` fails when the committed file
//! differs from what this produces, and rewrites it when run with
//! `VFIO_MIG_REGENERATE=1`.

use crate::{Catalogue, Decision, Level, ProtocolName};
use std::fmt::Write;

/// The Rust source of the `ids` module for `catalogue`.
pub fn generate(catalogue: &Catalogue) -> String {
    let mut out = String::new();
    out.push_str(
        "//! Requirement IDs and decision options, generated from `spec/v1.yaml`,\n\
         //! `spec/v2.yaml` and `spec/decisions.yaml`: do not edit. After changing\n\
         //! the YAML, run `VFIO_MIG_REGENERATE=1 cargo test -p vfio-mig-spec --test\n\
         //! generated`; without it that test fails while this file is out of date.\n\
         #![allow(missing_docs)]\n\n\
         use crate::{Level, OptionSet, ProtocolName, Req};\n\n",
    );
    let mut all = Vec::new();
    for r in catalogue.requirements() {
        let name = r.id.as_str().replace('-', "_");
        let level = match r.level {
            Level::Must => "Must",
            Level::Should => "Should",
            Level::May => "May",
        };
        let _ = writeln!(out, "/// `{}` ({}): {}", r.id, r.level, one_line(&r.summary));
        let _ = writeln!(
            out,
            "pub const {name}: Req = Req::new(\"{}\", Level::{level});",
            r.id
        );
        all.push(name);
    }
    let _ = writeln!(out, "\n/// Every requirement, v1 first, in catalogue order.");
    let _ = writeln!(out, "pub const ALL: &[Req] = &[");
    for name in &all {
        let _ = writeln!(out, "    {name},");
    }
    out.push_str("];\n");
    out.push_str(
        "\n/// The requirement with this ID text, if the catalogue has one.\n\
         pub fn lookup(id: &str) -> Option<Req> {\n    ALL.iter().copied().find(|r| r.id() == id)\n}\n",
    );
    let decisions = &catalogue.decisions.decisions;
    for d in decisions {
        decision(&mut out, d);
    }
    choice(&mut out, decisions);
    decisions_struct(&mut out, decisions);
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn type_name(d: &Decision) -> String {
    d.id.as_str().replace("DEC-", "Dec")
}

fn field_name(d: &Decision) -> String {
    d.id.as_str().replace("DEC-", "dec").to_ascii_lowercase()
}

fn variant(key: &str) -> String {
    key.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn protocol_name(p: ProtocolName) -> &'static str {
    match p {
        ProtocolName::V1 => "V1",
        ProtocolName::V2 => "V2",
    }
}

fn decision(out: &mut String, d: &Decision) {
    let ty = type_name(d);
    let _ = writeln!(out, "\n/// `{}`: {}", d.id, one_line(&d.question));
    out.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\n");
    let _ = writeln!(out, "pub enum {ty} {{");
    for (key, meaning) in &d.options {
        let _ = writeln!(out, "    /// `{key}`: {}", one_line(meaning));
        let _ = writeln!(out, "    {},", variant(key));
    }
    out.push_str("}\n\n");
    let _ = writeln!(out, "impl OptionSet for {ty} {{");
    let _ = writeln!(out, "    const ID: &'static str = \"{}\";", d.id);
    let variants: Vec<String> = d
        .options
        .keys()
        .map(|k| format!("Self::{}", variant(k)))
        .collect();
    let _ = writeln!(
        out,
        "    const ALL: &'static [Self] = &[{}];",
        variants.join(", ")
    );
    out.push_str("\n    fn key(self) -> &'static str {\n        match self {\n");
    for key in d.options.keys() {
        let _ = writeln!(out, "            Self::{} => \"{key}\",", variant(key));
    }
    out.push_str("        }\n    }\n\n    fn model(protocol: ProtocolName) -> &'static [Self] {\n        match protocol {\n");
    for p in [ProtocolName::V1, ProtocolName::V2] {
        let list: Vec<String> = d
            .model
            .get(&p)
            .map(|keys| keys.iter().map(|k| format!("Self::{}", variant(k))).collect())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "            ProtocolName::{} => &[{}],",
            protocol_name(p),
            list.join(", ")
        );
    }
    out.push_str("        }\n    }\n}\n\n");
    let _ = writeln!(out, "impl {ty} {{");
    out.push_str("    /// The catalogue's default for `protocol`.\n");
    out.push_str(
        "    pub const fn default_for(protocol: ProtocolName) -> Self {\n        match protocol {\n",
    );
    for p in [ProtocolName::V1, ProtocolName::V2] {
        let _ = writeln!(
            out,
            "            ProtocolName::{} => Self::{},",
            protocol_name(p),
            variant(d.default_for(p))
        );
    }
    out.push_str("        }\n    }\n}\n");
}

fn choice(out: &mut String, decisions: &[Decision]) {
    out.push_str("\n/// One option of one decision, as `--decide ID=OPTION` names it.\n");
    out.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum Choice {\n");
    for d in decisions {
        let _ = writeln!(out, "    /// `{}`.", d.id);
        let _ = writeln!(out, "    {}({}),", type_name(d), type_name(d));
    }
    out.push_str("}\n\nimpl Choice {\n");
    out.push_str("    /// The choice `id=key`, when the catalogue has that decision and option.\n");
    out.push_str("    pub fn parse(id: &str, key: &str) -> Result<Self, crate::ChoiceError> {\n");
    out.push_str("        fn find<T: OptionSet>(key: &str) -> Result<T, crate::ChoiceError> {\n");
    out.push_str("            T::ALL.iter().copied().find(|o| o.key() == key).ok_or_else(|| {\n");
    out.push_str("                crate::ChoiceError::UnknownOption {\n                    id: T::ID,\n                    option: key.to_owned(),\n                    expected: T::ALL.iter().map(|o| o.key()).collect(),\n                }\n            })\n        }\n");
    out.push_str("        match id {\n");
    for d in decisions {
        let _ = writeln!(
            out,
            "            \"{}\" => find(key).map(Choice::{}),",
            d.id,
            type_name(d)
        );
    }
    out.push_str(
        "            _ => Err(crate::ChoiceError::UnknownDecision(id.to_owned())),\n        }\n    }\n\n",
    );
    for (doc, name, body) in [
        ("The decision's ID.", "id(self) -> &'static str", "ID"),
        ("The option's key.", "key(self) -> &'static str", "key"),
    ] {
        let _ = writeln!(out, "    /// {doc}\n    pub fn {name} {{\n        match self {{");
        for d in decisions {
            let ty = type_name(d);
            let expr = if body == "ID" {
                format!("{ty}::ID")
            } else {
                "o.key()".to_owned()
            };
            let bind = if body == "ID" { "_" } else { "o" };
            let _ = writeln!(out, "            Choice::{ty}({bind}) => {expr},");
        }
        out.push_str("        }\n    }\n\n");
    }
    out.push_str("    /// The keys of the options the model implements for `protocol` (empty:\n");
    out.push_str("    /// the decision does not apply to that protocol).\n");
    out.push_str(
        "    pub fn model_keys(self, protocol: ProtocolName) -> Vec<&'static str> {\n        match self {\n",
    );
    for d in decisions {
        let ty = type_name(d);
        let _ = writeln!(
            out,
            "            Choice::{ty}(_) => {ty}::model(protocol).iter().map(|o| o.key()).collect(),"
        );
    }
    out.push_str("        }\n    }\n}\n");
}

fn decisions_struct(out: &mut String, decisions: &[Decision]) {
    out.push_str("\n/// One chosen option for every decision of the catalogue.\n");
    out.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub struct Decisions {\n");
    for d in decisions {
        let _ = writeln!(out, "    /// `{}`.", d.id);
        let _ = writeln!(out, "    pub {}: {},", field_name(d), type_name(d));
    }
    out.push_str("}\n\nimpl Decisions {\n");
    out.push_str("    /// The catalogue's defaults for `protocol`.\n");
    out.push_str("    pub const fn defaults(protocol: ProtocolName) -> Self {\n        Decisions {\n");
    for d in decisions {
        let _ = writeln!(
            out,
            "            {}: {}::default_for(protocol),",
            field_name(d),
            type_name(d)
        );
    }
    out.push_str("        }\n    }\n\n");
    out.push_str(
        "    /// Takes one choice.\n    pub fn set(&mut self, choice: Choice) {\n        match choice {\n",
    );
    for d in decisions {
        let _ = writeln!(
            out,
            "            Choice::{}(o) => self.{} = o,",
            type_name(d),
            field_name(d)
        );
    }
    out.push_str("        }\n    }\n\n");
    out.push_str("    /// Every decision as the choice it holds, in catalogue order.\n");
    let _ = writeln!(
        out,
        "    pub fn choices(&self) -> [Choice; {}] {{\n        [",
        decisions.len()
    );
    for d in decisions {
        let _ = writeln!(
            out,
            "            Choice::{}(self.{}),",
            type_name(d),
            field_name(d)
        );
    }
    out.push_str("        ]\n    }\n}\n");
}
