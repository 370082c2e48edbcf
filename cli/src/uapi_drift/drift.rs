//! A difference between the kernel and what the gate expects, and the
//! running tally of a comparison.

use std::fmt;
use vfio_mig_model::Req;

/// One fact where the kernel and the model disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// What was compared (with its line in the header, when it has one).
    pub what: String,
    /// The kernel's value.
    pub kernel: String,
    /// The model's value.
    pub model: String,
    /// The requirements that rest on this fact.
    pub reqs: &'static [Req],
    /// Whose fact it is, when no requirement rests on it.
    pub owner: String,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whose = match self.reqs {
            [] => self.owner.clone(),
            r => vfio_mig_model::join_ids(r, ", "),
        };
        write!(
            f,
            "{}: kernel {}, model {} [{whose}]",
            self.what, self.kernel, self.model
        )
    }
}

/// The comparison's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Facts compared.
    pub compared: usize,
    /// Facts that differ.
    pub drifts: Vec<Drift>,
}

impl Comparison {
    /// Compares one fact; `owner` says whose it is when `reqs` is empty.
    pub fn check(
        &mut self,
        what: impl Into<String>,
        kernel: impl fmt::Display,
        model: impl fmt::Display,
        reqs: &'static [Req],
        owner: &str,
    ) {
        self.compared += 1;
        let (k, m) = (kernel.to_string(), model.to_string());
        if k != m {
            self.drifts.push(Drift {
                what: what.into(),
                kernel: k,
                model: m,
                reqs,
                owner: owner.to_owned(),
            });
        }
    }
}
