//! The requirement catalogue of the VFIO migration protocols and its loader.
//!
//! The catalogue lives in three YAML files next to this crate (`v1.yaml`,
//! `v2.yaml`, `decisions.yaml`, schema in `README.md`). [`Catalogue::builtin`]
//! gives the copy compiled into the crate; [`Catalogue::load_dir`] reads a
//! directory, so a vendor can check an edited catalogue. Either way the loader
//! rejects a bad catalogue with an error naming the file, the entry and the
//! field.
#![forbid(unsafe_code)]

#[doc(hidden)]
pub mod codegen;
#[rustfmt::skip]
pub mod ids;
mod load;
mod req;
mod types;

pub use load::{Error, FileName};
pub use req::{join_ids, ChoiceError, OptionSet, Req};
pub use types::*;

use std::collections::BTreeMap;
use std::path::Path;

/// The whole catalogue: both protocol files and the decisions, validated.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Rules of the v1 migration region.
    pub v1: RequirementFile,
    /// Rules of the v2 state machine.
    pub v2: RequirementFile,
    /// The open questions of the seed thread, decided.
    pub decisions: DecisionFile,
}

/// The YAML sources compiled into the crate, by file name.
pub const BUILTIN_SOURCES: [(FileName, &str); 3] = [
    (FileName::V1, include_str!("../v1.yaml")),
    (FileName::V2, include_str!("../v2.yaml")),
    (FileName::Decisions, include_str!("../decisions.yaml")),
];

/// The largest catalogue file `--spec-dir` reads (the built-in `v2.yaml`,
/// the largest, is about 32 KB; anything near this is not a catalogue).
pub const MAX_CATALOGUE_FILE: u64 = 16 << 20;

impl Catalogue {
    /// The catalogue compiled into this crate.
    ///
    /// The built-in files are checked by this crate's tests, so this only
    /// fails if the crate was built from an edited, broken catalogue.
    pub fn builtin() -> Result<Self, Error> {
        let [(_, v1), (_, v2), (_, dec)] = BUILTIN_SOURCES;
        Self::from_sources(v1, v2, dec)
    }

    /// Reads `v1.yaml`, `v2.yaml` and `decisions.yaml` from `dir`.
    pub fn load_dir(dir: &Path) -> Result<Self, Error> {
        let read = |name: FileName| {
            use std::io::Read;
            let path = dir.join(name.as_str());
            let fail = |message: String| Error::Io {
                path: path.display().to_string(),
                message,
            };
            // Bounded by the bytes read, not a size the file claims.
            let mut bytes = Vec::new();
            std::fs::File::open(&path)
                .and_then(|f| f.take(MAX_CATALOGUE_FILE + 1).read_to_end(&mut bytes))
                .map_err(|e| fail(e.to_string()))?;
            if bytes.len() as u64 > MAX_CATALOGUE_FILE {
                return Err(fail(format!(
                    "larger than {MAX_CATALOGUE_FILE} bytes, the most a catalogue file may have"
                )));
            }
            String::from_utf8(bytes).map_err(|e| fail(format!("not UTF-8 text: {e}")))
        };
        Self::from_sources(
            &read(FileName::V1)?,
            &read(FileName::V2)?,
            &read(FileName::Decisions)?,
        )
    }

    /// Parses and validates the three files' contents.
    pub fn from_sources(v1: &str, v2: &str, decisions: &str) -> Result<Self, Error> {
        let v1 = load::requirement_file(FileName::V1, v1)?;
        let v2 = load::requirement_file(FileName::V2, v2)?;
        let decisions = load::decision_file(decisions)?;
        load::cross_check(&v1, &v2, &decisions)?;
        Ok(Catalogue { v1, v2, decisions })
    }

    /// Every requirement of both protocols, v1 first.
    pub fn requirements(&self) -> impl Iterator<Item = &Requirement> {
        self.v1.requirements.iter().chain(&self.v2.requirements)
    }

    /// The requirement with this ID, if any.
    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        self.requirements().find(|r| r.id.as_str() == id)
    }

    /// The decision with this ID, if any.
    pub fn decision(&self, id: &str) -> Option<&Decision> {
        self.decisions.decisions.iter().find(|d| d.id.as_str() == id)
    }

    /// A one-screen summary: requirements per file, level and checker.
    pub fn summary(&self) -> Summary {
        let files = [&self.v1, &self.v2]
            .into_iter()
            .map(|f| {
                let mut by_level = BTreeMap::new();
                let mut by_checker = BTreeMap::new();
                for r in &f.requirements {
                    *by_level.entry(r.level).or_insert(0) += 1;
                    for c in &r.checked_by {
                        *by_checker.entry(*c).or_insert(0) += 1;
                    }
                }
                FileSummary {
                    catalogue: f.catalogue,
                    total: f.requirements.len(),
                    by_level,
                    by_checker,
                }
            })
            .collect();
        Summary {
            files,
            decisions: self.decisions.decisions.len(),
        }
    }
}

/// Counts of one requirement file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    /// Which protocol.
    pub catalogue: ProtocolName,
    /// Number of requirements.
    pub total: usize,
    /// Requirements per level.
    pub by_level: BTreeMap<Level, usize>,
    /// Requirements per checker (a requirement checked by both counts twice).
    pub by_checker: BTreeMap<Checker, usize>,
}

/// Counts of the whole catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// One line per requirement file.
    pub files: Vec<FileSummary>,
    /// Number of decisions.
    pub decisions: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "| file | requirements | MUST | SHOULD | MAY | model | adapter |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|---|")?;
        for s in &self.files {
            let l = |lvl| s.by_level.get(&lvl).copied().unwrap_or(0);
            let c = |chk| s.by_checker.get(&chk).copied().unwrap_or(0);
            writeln!(
                f,
                "| {}.yaml | {} | {} | {} | {} | {} | {} |",
                s.catalogue,
                s.total,
                l(Level::Must),
                l(Level::Should),
                l(Level::May),
                c(Checker::Model),
                c(Checker::Adapter)
            )?;
        }
        writeln!(f, "| decisions.yaml | {} decisions | | | | | |", self.decisions)
    }
}
