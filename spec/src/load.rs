//! YAML parsing (serde-saphyr) and validation into the typed catalogue.
//!
//! Parsing happens in two steps: serde reads loosely typed "raw" entries
//! (every field optional, unknown fields refused), then each entry is
//! validated by hand so that an error names the file, the entry and the field.

use crate::types::*;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The three catalogue files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileName {
    /// `v1.yaml`.
    V1,
    /// `v2.yaml`.
    V2,
    /// `decisions.yaml`.
    Decisions,
}

impl FileName {
    /// The file's name inside `spec/`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileName::V1 => "v1.yaml",
            FileName::V2 => "v2.yaml",
            FileName::Decisions => "decisions.yaml",
        }
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spec/{}", self.as_str())
    }
}

/// Why a catalogue was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("{path}: cannot read: {message}")]
    Io {
        /// The path tried.
        path: String,
        /// The OS error.
        message: String,
    },
    /// The YAML is malformed or does not have the catalogue's shape.
    #[error("{file}: {message}")]
    Yaml {
        /// Which file.
        file: FileName,
        /// The parser's message, with line and column.
        message: String,
    },
    /// One entry has a bad or missing field.
    #[error("{file}: {entry}: field `{field}`: {problem}")]
    Entry {
        /// Which file.
        file: FileName,
        /// The entry's ID, or its position when the ID itself is bad.
        entry: String,
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirementFile {
    catalogue: Option<String>,
    title: Option<String>,
    requirements: Option<Vec<RawRequirement>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    id: Option<String>,
    level: Option<String>,
    summary: Option<String>,
    source: Option<RawSource>,
    checked_by: Option<Vec<String>>,
    applies_to: Option<RawApplies>,
    decision: Option<String>,
    when: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    doc: Option<String>,
    version: Option<String>,
    at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplies {
    flags: Option<Vec<String>>,
    lacking: Option<Vec<String>>,
    since: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecisionFile {
    decisions: Option<Vec<RawDecision>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecision {
    id: Option<String>,
    question: Option<String>,
    options: Option<BTreeMap<String, String>>,
    default: Option<String>,
    per_protocol: Option<BTreeMap<String, String>>,
    model: Option<BTreeMap<String, Vec<String>>>,
    reason: Option<String>,
    history: Option<String>,
    source: Option<RawSource>,
}

fn parse_yaml<'a, T: Deserialize<'a>>(file: FileName, text: &'a str) -> Result<T, Error> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| Error::Yaml {
        file,
        message: e.to_string(),
    })
}

/// Builds entry errors for one entry of one file.
struct EntryCtx {
    file: FileName,
    entry: String,
}

impl EntryCtx {
    fn err(&self, field: &'static str, problem: impl Into<String>) -> Error {
        Error::Entry {
            file: self.file,
            entry: self.entry.clone(),
            field,
            problem: problem.into(),
        }
    }

    fn text(&self, field: &'static str, value: Option<String>) -> Result<String, Error> {
        match value {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
            Some(_) => Err(self.err(field, "is empty")),
            None => Err(self.err(field, "is missing")),
        }
    }

    fn source(&self, raw: Option<RawSource>) -> Result<Source, Error> {
        let raw = raw.ok_or_else(|| self.err("source", "is missing"))?;
        Ok(Source {
            doc: self.text("source.doc", raw.doc)?,
            version: raw.version.map(|v| v.trim().to_owned()),
            at: self.text("source.at", raw.at)?,
        })
    }
}

pub(crate) fn requirement_file(file: FileName, text: &str) -> Result<RequirementFile, Error> {
    let raw: RawRequirementFile = parse_yaml(file, text)?;
    let top = EntryCtx {
        file,
        entry: "top level".into(),
    };
    let expected = match file {
        FileName::V1 => ProtocolName::V1,
        _ => ProtocolName::V2,
    };
    let catalogue = top.text("catalogue", raw.catalogue)?;
    if catalogue != expected.to_string() {
        return Err(top.err(
            "catalogue",
            format!("is {catalogue:?}, expected {:?}", expected.to_string()),
        ));
    }
    let title = top.text("title", raw.title)?;
    let raw_reqs = raw
        .requirements
        .ok_or_else(|| top.err("requirements", "is missing"))?;
    if raw_reqs.is_empty() {
        return Err(top.err("requirements", "is empty"));
    }
    let mut seen = BTreeSet::new();
    let mut requirements = Vec::with_capacity(raw_reqs.len());
    for (index, raw) in raw_reqs.into_iter().enumerate() {
        let mut ctx = EntryCtx {
            file,
            entry: format!("requirement #{}", index + 1),
        };
        let id_text = ctx.text("id", raw.id)?;
        let id = ReqId::parse(&id_text).ok_or_else(|| {
            ctx.err(
                "id",
                format!("{id_text:?} is not of the form V1-AREA-NNN or V2-AREA-NNN"),
            )
        })?;
        ctx.entry = format!("requirement {id}");
        if !id_text.starts_with(expected.id_prefix()) {
            return Err(ctx.err(
                "id",
                format!(
                    "belongs in {expected}.yaml only if it starts with {}",
                    expected.id_prefix()
                ),
            ));
        }
        if !seen.insert(id.clone()) {
            return Err(ctx.err("id", "is a duplicate: IDs must be unique"));
        }
        let level_text = ctx.text("level", raw.level)?;
        let level = Level::parse(&level_text).ok_or_else(|| {
            ctx.err(
                "level",
                format!("unknown level {level_text:?} (expected MUST, SHOULD or MAY)"),
            )
        })?;
        let summary = ctx.text("summary", raw.summary)?;
        let source = ctx.source(raw.source)?;
        let raw_checkers = raw
            .checked_by
            .ok_or_else(|| ctx.err("checked_by", "is missing"))?;
        if raw_checkers.is_empty() {
            return Err(ctx.err("checked_by", "is empty (name model and/or adapter)"));
        }
        let mut checked_by = Vec::new();
        for c in raw_checkers {
            let checker = Checker::parse(&c).ok_or_else(|| {
                ctx.err(
                    "checked_by",
                    format!("unknown checker {c:?} (expected model or adapter)"),
                )
            })?;
            if checked_by.contains(&checker) {
                return Err(ctx.err("checked_by", format!("names {c:?} twice")));
            }
            checked_by.push(checker);
        }
        let mut applies_to_flags = Vec::new();
        let mut applies_lacking = Vec::new();
        let mut since = None;
        if let Some(applies) = raw.applies_to {
            if expected == ProtocolName::V1 {
                return Err(ctx.err("applies_to", "v1 rules have no migration flags"));
            }
            if let Some(v) = applies.since {
                let known = Uapi::ALL.map(|u| u.version()).join(", ");
                since = Some(Uapi::parse(&v).ok_or_else(|| {
                    ctx.err(
                        "applies_to.since",
                        format!("unknown uAPI revision {v:?} (expected one of {known})"),
                    )
                })?);
            }
            for f in applies.flags.unwrap_or_default() {
                let flag = FlagName::parse(&f).ok_or_else(|| {
                    ctx.err(
                        "applies_to.flags",
                        format!("unknown flag {f:?} (expected STOP_COPY, P2P or PRE_COPY)"),
                    )
                })?;
                applies_to_flags.push(flag);
            }
            for f in applies.lacking.unwrap_or_default() {
                let flag = FlagName::parse(&f)
                    .filter(|f| *f != FlagName::StopCopy)
                    .ok_or_else(|| {
                        ctx.err(
                            "applies_to.lacking",
                            format!("{f:?} is not an optional flag (expected P2P or PRE_COPY)"),
                        )
                    })?;
                applies_lacking.push(flag);
            }
        }
        let decision = match raw.decision {
            None => None,
            Some(d) => Some(
                DecId::parse(d.trim())
                    .ok_or_else(|| ctx.err("decision", format!("{d:?} is not of the form DEC-NNN")))?,
            ),
        };
        let when = match (raw.when, &decision) {
            (None, _) => None,
            (Some(_), None) => return Err(ctx.err("when", "needs a `decision` whose option it names")),
            (Some(w), Some(_)) => Some(w.trim().to_owned()),
        };
        requirements.push(Requirement {
            id,
            level,
            summary,
            source,
            checked_by,
            applies_to_flags,
            applies_lacking,
            since,
            decision,
            when,
        });
    }
    Ok(RequirementFile {
        catalogue: expected,
        title,
        requirements,
    })
}

pub(crate) fn decision_file(text: &str) -> Result<DecisionFile, Error> {
    let file = FileName::Decisions;
    let raw: RawDecisionFile = parse_yaml(file, text)?;
    let top = EntryCtx {
        file,
        entry: "top level".into(),
    };
    let raw_decisions = raw.decisions.ok_or_else(|| top.err("decisions", "is missing"))?;
    if raw_decisions.is_empty() {
        return Err(top.err("decisions", "is empty"));
    }
    let mut seen = BTreeSet::new();
    let mut decisions = Vec::with_capacity(raw_decisions.len());
    for (index, raw) in raw_decisions.into_iter().enumerate() {
        let mut ctx = EntryCtx {
            file,
            entry: format!("decision #{}", index + 1),
        };
        let id_text = ctx.text("id", raw.id)?;
        let id = DecId::parse(&id_text)
            .ok_or_else(|| ctx.err("id", format!("{id_text:?} is not of the form DEC-NNN")))?;
        ctx.entry = format!("decision {id}");
        if !seen.insert(id.clone()) {
            return Err(ctx.err("id", "is a duplicate: IDs must be unique"));
        }
        let question = ctx.text("question", raw.question)?;
        let options = raw.options.ok_or_else(|| ctx.err("options", "is missing"))?;
        if options.len() < 2 {
            return Err(ctx.err("options", "needs at least two options"));
        }
        if let Some((key, _)) = options.iter().find(|(_, v)| v.trim().is_empty()) {
            return Err(ctx.err("options", format!("option {key:?} has no meaning")));
        }
        let default = ctx.text("default", raw.default)?;
        if !options.contains_key(&default) {
            return Err(ctx.err(
                "default",
                format!(
                    "{default:?} is not one of the options {:?}",
                    options.keys().collect::<Vec<_>>()
                ),
            ));
        }
        let protocol = |field: &'static str, proto: &str| match proto {
            "v1" => Ok(ProtocolName::V1),
            "v2" => Ok(ProtocolName::V2),
            other => Err(ctx.err(field, format!("unknown protocol {other:?} (expected v1 or v2)"))),
        };
        let mut per_protocol = BTreeMap::new();
        for (proto, choice) in raw.per_protocol.unwrap_or_default() {
            let name = protocol("per_protocol", &proto)?;
            if !options.contains_key(&choice) {
                return Err(ctx.err(
                    "per_protocol",
                    format!("{proto}: {choice:?} is not one of the options"),
                ));
            }
            per_protocol.insert(name, choice);
        }
        let raw_model = raw.model.ok_or_else(|| ctx.err("model", "is missing"))?;
        if raw_model.is_empty() {
            return Err(ctx.err("model", "names no protocol"));
        }
        let mut model = BTreeMap::new();
        for (proto, keys) in raw_model {
            let name = protocol("model", &proto)?;
            if keys.is_empty() {
                return Err(ctx.err("model", format!("{proto}: lists no option")));
            }
            if let Some(k) = keys.iter().find(|k| !options.contains_key(*k)) {
                return Err(ctx.err("model", format!("{proto}: {k:?} is not one of the options")));
            }
            let default = per_protocol.get(&name).unwrap_or(&default);
            if !keys.contains(default) {
                return Err(ctx.err(
                    "model",
                    format!("{proto}: the default {default:?} must be one the model implements"),
                ));
            }
            model.insert(name, keys);
        }
        if let Some(p) = per_protocol.keys().find(|p| !model.contains_key(*p)) {
            return Err(ctx.err(
                "per_protocol",
                format!("names {p}, to which the decision does not apply (see `model`)"),
            ));
        }
        decisions.push(Decision {
            id,
            question,
            options,
            default,
            per_protocol,
            model,
            reason: ctx.text("reason", raw.reason)?,
            history: ctx.text("history", raw.history)?,
            source: ctx.source(raw.source)?,
        });
    }
    Ok(DecisionFile { decisions })
}

/// Checks links between files: every `decision:` names an existing decision.
pub(crate) fn cross_check(
    v1: &RequirementFile,
    v2: &RequirementFile,
    decisions: &DecisionFile,
) -> Result<(), Error> {
    for (file, reqs) in [(FileName::V1, &v1.requirements), (FileName::V2, &v2.requirements)] {
        for r in reqs {
            let Some(d) = &r.decision else { continue };
            let err = |field, problem| Error::Entry {
                file,
                entry: format!("requirement {}", r.id),
                field,
                problem,
            };
            let Some(dec) = decisions.decisions.iter().find(|x| x.id == *d) else {
                return Err(err(
                    "decision",
                    format!("names {d}, which is not in spec/decisions.yaml"),
                ));
            };
            if let Some(w) = &r.when {
                if !dec.options.contains_key(w) {
                    return Err(err("when", format!("{w:?} is not an option of {d}")));
                }
            }
        }
    }
    Ok(())
}
