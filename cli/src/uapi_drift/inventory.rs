//! The header against the gate's table: every known fact compared, every
//! definition of the migration part that the table lacks reported as
//! unknown with its name and line.

use super::cexpr;
use super::drift::Comparison;
use super::header::{Def, DefKind, Header};
use super::known::{Expect, Known, Role};
use std::collections::BTreeSet;
use std::fmt;
use vfio_mig_model::v2::uapi;

/// A definition of the migration part the gate does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// Its name, as the table would spell it.
    pub name: String,
    /// Its line in the header.
    pub line: usize,
    /// What it is, and its value as written.
    pub shown: String,
    /// The struct or enum it is written in, if any.
    pub within: Option<String>,
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {} ({}", self.line, self.name, self.shown)?;
        match &self.within {
            Some(w) if !self.name.starts_with(w.as_str()) => write!(f, ", inside {w})"),
            _ => f.write_str(")"),
        }
    }
}

/// The result of comparing a header with the table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// The known facts compared, and those that differ.
    pub comparison: Comparison,
    /// Definitions of the migration part the table lacks.
    pub unknown: Vec<Unknown>,
    /// How many definitions the migration part has.
    pub in_part: usize,
    /// Facts compared with the model (model and pinned facts), with the
    /// adapter's, and outside what the suite models.
    pub by_role: [usize; 3],
}

/// A kernel version as (major, minor), for `since`.
pub fn version(v: &str) -> Option<(u32, u32)> {
    let mut it = v.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// Whether a fact new in `since` must be in the header of `kernel`.
fn required(since: Option<&str>, kernel: Option<&str>) -> bool {
    match (since, kernel) {
        (None, _) => true,
        (Some(s), Some(k)) => matches!((version(k), version(s)), (Some(k), Some(s)) if k >= s),
        (Some(_), None) => false,
    }
}

fn show(def: &Def) -> String {
    match &def.kind {
        DefKind::Define(body) => format!("#define {body}"),
        DefKind::Macro(params, body) => format!("#define ({}) {body}", params.join(", ")),
        DefKind::Aggregate(_) => "struct".to_owned(),
        DefKind::Enum => "enum".to_owned(),
        DefKind::Field(ty, off) => format!("field {ty} at {}", off.map_or("?".to_owned(), |o| o.to_string())),
        DefKind::Enumerator(v) => format!("enum value {}", v.map_or("?".to_owned(), |v| v.to_string())),
    }
}

fn io_text(v: u64) -> String {
    let (ty, nr) = (v >> 8, v & 0xff);
    let base = u64::from(uapi::VFIO_BASE);
    if ty == u64::from(uapi::VFIO_TYPE) && nr >= base {
        format!("_IO(VFIO_TYPE, VFIO_BASE + {})", nr - base)
    } else {
        format!("{v:#x}")
    }
}

/// The values a function-like macro is tried on.
fn macro_args() -> impl Iterator<Item = u64> {
    (0..16).chain((0..8).map(|k| 0xffff_fff0 | k))
}

/// The kernel's and the model's side of one known fact.
fn sides(h: &Header, def: &Def, k: &Known) -> (String, String) {
    let value = || match &def.kind {
        DefKind::Define(_) => h.value(&def.name),
        DefKind::Enumerator(Some(v)) => Ok(*v),
        other => Err(format!("a {}", DefKind::noun(other))),
    };
    match k.expect {
        Expect::Num(want) => (
            value().map_or_else(|e| format!("unreadable ({e})"), |v| v.to_string()),
            want.to_string(),
        ),
        Expect::Io(nr) => (
            value().map_or_else(|e| format!("unreadable ({e})"), io_text),
            format!("_IO(VFIO_TYPE, VFIO_BASE + {nr})"),
        ),
        Expect::Field(ty, off) => {
            let kernel = match &def.kind {
                DefKind::Field(t, o) => format!("{t} at {}", o.map_or("?".to_owned(), |o| o.to_string())),
                other => format!("a {}", other.noun()),
            };
            (kernel, format!("{ty} at {off}"))
        }
        Expect::Present => {
            let kernel = match def.kind {
                DefKind::Aggregate(_) | DefKind::Enum => "present".to_owned(),
                ref other => format!("a {}", other.noun()),
            };
            (kernel, "present".to_owned())
        }
        Expect::Macro(f) => {
            if !matches!(&def.kind, DefKind::Macro(p, _) if p.len() == 1) {
                return (
                    format!("a {}", def.kind.noun()),
                    "a macro of one argument".to_owned(),
                );
            }
            for a in macro_args() {
                let got = cexpr::call(&def.name, &[a], h.macros());
                let want = f(a);
                if got.as_ref() != Ok(&want) {
                    let got = got.map_or_else(|e| format!("unreadable ({e})"), |g| g.to_string());
                    return (format!("{}({a:#x}) = {got}", def.name), format!("{want}"));
                }
            }
            let same = format!("agrees on {} values", macro_args().count());
            (same.clone(), same)
        }
    }
}

/// Whose fact it is, for a difference no requirement rests on.
pub fn owner(role: Role) -> String {
    match role {
        Role::Model | Role::Pinned => "the model".to_owned(),
        Role::Adapter => "the VFIO adapter's own number or layout".to_owned(),
        Role::NotModelled(why) => format!("not modelled: {why}"),
    }
}

/// Compares `h` with `table`; `kernel` is the header's kernel version, when
/// known, which makes the facts new in that version or earlier required.
pub fn inventory(h: &Header, table: &[Known], kernel: Option<&str>) -> Inventory {
    let mut inv = Inventory::default();
    let names: BTreeSet<&str> = table.iter().map(|k| k.name).collect();
    for d in h.migration_part() {
        inv.in_part += 1;
        if !names.contains(d.name.as_str()) {
            inv.unknown.push(Unknown {
                name: d.name.clone(),
                line: d.line,
                shown: show(d),
                within: d.within.clone(),
            });
        }
    }
    for k in table {
        let what;
        let (kernel_side, model_side) = match h.get(k.name) {
            Some(def) => {
                what = format!("{} (line {})", k.name, def.line);
                sides(h, def, k)
            }
            None if required(k.since, kernel) => {
                what = k.name.to_owned();
                ("missing".to_owned(), "present".to_owned())
            }
            None => continue,
        };
        inv.by_role[match k.role {
            Role::Model | Role::Pinned => 0,
            Role::Adapter => 1,
            Role::NotModelled(_) => 2,
        }] += 1;
        inv.comparison
            .check(what, kernel_side, model_side, k.reqs, &owner(k.role));
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically() {
        assert!(version("7.3") > version("6.12"));
        assert!(version("6.12") > version("6.2"));
        assert_eq!(version("7"), Some((7, 0)));
        assert_eq!(version("x"), None);
        assert!(required(None, None));
        assert!(!required(Some("7.3"), None));
        assert!(!required(Some("7.3"), Some("6.12")));
        assert!(required(Some("7.3"), Some("7.3")));
        assert!(required(Some("7.3"), Some("8.0")));
    }

    #[test]
    fn ioctl_numbers_read_as_offsets_from_vfio_base() {
        assert_eq!(io_text(0x3b00 | 117), "_IO(VFIO_TYPE, VFIO_BASE + 17)");
        assert_eq!(io_text(0x4100 | 117), "0x4175");
    }
}
