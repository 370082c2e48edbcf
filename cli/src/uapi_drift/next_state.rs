//! What the kernel's own `vfio_mig_get_next_state()` did, compared with the
//! model. `ci/nextstate.sh` compiles the function out of a downloaded
//! `drivers/vfio/vfio_main.c` with a harness (`ci/nextstate/harness.c`) that
//! drives it the way a driver does, for every accepted flag set and every
//! (from, to) pair, and prints one line per case (format version 1,
//! documented at the top of the harness):
//!
//! ```text
//! flags=F from=S to=S first=R result=OK|EINVAL|RETn|LOOP|HANG path=S[,S...] warn=N
//! ```
//!
//! Each case is judged against the model: the result (a refused request is
//! EINVAL at once and a granted one reaches its target), the path of states
//! the driver loop steps through, the first call's return value and whether
//! the function's WARN_ON fired (it must, exactly when the device is asked
//! to step from a state its flags do not support). A LOOP (16 steps without
//! reaching the target) or HANG (a call that never returned) is always a
//! failure, named as such: Linux 6.2 to 6.12.116 looped on STOP_COPY ->
//! PRE_COPY.

use std::collections::BTreeMap;
use std::fmt;
use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::{MigState, MigrationFlags, PathTable};
use vfio_mig_model::Req;

/// The largest harness output read (256 cases of at most 200 bytes).
pub const MAX_BYTES: usize = 1 << 20;
/// The longest line read.
pub const MAX_LINE: usize = 400;
/// The harness's step bound: a path of more states than this plus one is
/// not possible.
pub const MAX_STEPS: usize = 16;

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// The driver loop reached the target.
    Ok,
    /// A call returned -EINVAL.
    Einval,
    /// A call returned another value.
    Ret(i32),
    /// The step bound was hit.
    Loop,
    /// A call did not return.
    Hang,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("OK"),
            Outcome::Einval => f.write_str("EINVAL"),
            Outcome::Ret(n) => write!(f, "RET{n}"),
            Outcome::Loop => f.write_str("LOOP"),
            Outcome::Hang => f.write_str("HANG"),
        }
    }
}

/// The first call's answer: a return value, or no return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum First {
    /// It returned this value.
    Returned(i32),
    /// It did not return.
    Hang,
}

impl fmt::Display for First {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            First::Returned(n) => write!(f, "{n}"),
            First::Hang => f.write_str("HANG"),
        }
    }
}

/// One case of the harness output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Line in the file.
    pub line: usize,
    /// The device's migration flags.
    pub flags: MigrationFlags,
    /// Starting state.
    pub from: MigState,
    /// Requested state.
    pub to: MigState,
    /// The first call's answer.
    pub first: First,
    /// How the driver loop ended.
    pub result: Outcome,
    /// The states the loop visited, `from` first.
    pub path: Vec<MigState>,
    /// How often WARN_ON fired.
    pub warn: u32,
}

const EINVAL: i32 = -22;

fn state(v: &str, what: &str) -> Result<MigState, String> {
    let n: u32 = v.parse().map_err(|_| format!("{what} {v:?} is not a number"))?;
    MigState::from_number(n).ok_or_else(|| format!("{what} {n} is not a state (0 to 7)"))
}

/// Parses one case line.
fn parse_line(line: usize, text: &str) -> Result<Case, String> {
    const KEYS: [&str; 7] = ["flags", "from", "to", "first", "result", "path", "warn"];
    let fields: Vec<&str> = text.split(' ').collect();
    if fields.len() != KEYS.len() {
        return Err(format!("{} fields, expected {}", fields.len(), KEYS.len()));
    }
    let mut v = [""; 7];
    for (i, (f, key)) in fields.iter().zip(KEYS).enumerate() {
        v[i] = f
            .strip_prefix(key)
            .and_then(|r| r.strip_prefix('='))
            .ok_or_else(|| format!("field {} is {f:?}, expected {key}=...", i + 1))?;
    }
    let bits: u64 = v[0]
        .parse()
        .map_err(|_| format!("flags {:?} is not a number", v[0]))?;
    let flags = MigrationFlags::new(bits).map_err(|e| format!("flags {bits}: {e}"))?;
    let from = state(v[1], "from")?;
    let to = state(v[2], "to")?;
    let first = match v[3] {
        "HANG" => First::Hang,
        n => First::Returned(
            n.parse()
                .map_err(|_| format!("first {n:?} is neither a number nor HANG"))?,
        ),
    };
    let result = match v[4] {
        "OK" => Outcome::Ok,
        "EINVAL" => Outcome::Einval,
        "LOOP" => Outcome::Loop,
        "HANG" => Outcome::Hang,
        r => Outcome::Ret(
            r.strip_prefix("RET")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("result {r:?} is not OK, EINVAL, RETn, LOOP or HANG"))?,
        ),
    };
    let parts: Vec<&str> = v[5].split(',').collect();
    if parts.len() > MAX_STEPS + 1 {
        return Err(format!(
            "path of {} states, more than the harness's {} steps allow",
            parts.len(),
            MAX_STEPS
        ));
    }
    let path = parts
        .iter()
        .map(|s| state(s, "path state"))
        .collect::<Result<Vec<_>, _>>()?;
    if path[0] != from {
        return Err(format!(
            "path starts at {}, not at from ({})",
            path[0].name(),
            from.name()
        ));
    }
    let warn = v[6]
        .parse()
        .map_err(|_| format!("warn {:?} is not a number", v[6]))?;
    Ok(Case {
        line,
        flags,
        from,
        to,
        first,
        result,
        path,
        warn,
    })
}

/// Parses a whole harness output: every accepted flag set with every (from,
/// to) pair exactly once, 256 cases.
pub fn parse(text: &str) -> Result<Vec<Case>, String> {
    if text.len() > MAX_BYTES {
        return Err(format!("the next-state file is larger than {MAX_BYTES} bytes"));
    }
    let mut cases = Vec::new();
    let mut seen = BTreeMap::new();
    for (i, l) in text.lines().enumerate() {
        let n = i + 1;
        if l.starts_with('#') || l.trim().is_empty() {
            continue;
        }
        if l.len() > MAX_LINE {
            return Err(format!("line {n}: longer than {MAX_LINE} bytes"));
        }
        let c = parse_line(n, l).map_err(|e| format!("line {n}: {e}"))?;
        if let Some(prev) = seen.insert((c.flags.bits(), c.from, c.to), n) {
            return Err(format!(
                "line {n}: flags={} from={} to={} already given on line {prev}",
                c.flags.bits(),
                c.from.number(),
                c.to.number()
            ));
        }
        cases.push(c);
    }
    let mut missing = Vec::new();
    for f in MigrationFlags::accepted() {
        for from in MigState::ALL {
            for to in MigState::ALL {
                if !seen.contains_key(&(f.bits(), from, to)) {
                    missing.push(format!(
                        "flags={} from={} to={}",
                        f.bits(),
                        from.number(),
                        to.number()
                    ));
                }
            }
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "{} of the 256 cases are missing, first {}",
            missing.len(),
            missing[0]
        ));
    }
    Ok(cases)
}

/// What the model says the harness must print for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The first call's return value.
    pub first: i32,
    /// How the driver loop ends.
    pub result: Outcome,
    /// The states it steps through.
    pub path: Vec<MigState>,
    /// How often WARN_ON fires.
    pub warn: u32,
}

/// Whether the kernel's function counts `s` as supported under `flags`:
/// ERROR never is (it can be neither left nor requested by a SET).
fn kernel_supported(flags: MigrationFlags, s: MigState) -> bool {
    s != MigState::Error && flags.supports(s)
}

/// The model's expectation for (flags, from, to), from its derived paths.
pub fn expected(table: &PathTable, from: MigState, to: MigState) -> Expected {
    let flags = table.flags();
    let path = table.path(from, to);
    let warn = u32::from(!kernel_supported(flags, from));
    let first = if path.is_some() { 0 } else { EINVAL };
    let (result, path) = if from == to {
        (Outcome::Ok, vec![from])
    } else {
        match path {
            Some(p) => (Outcome::Ok, p.states().to_vec()),
            None => (Outcome::Einval, vec![from]),
        }
    };
    Expected {
        first,
        result,
        path,
        warn,
    }
}

/// The requirements a case rests on.
pub fn reqs_of(flags: MigrationFlags, from: MigState, to: MigState, result: Outcome) -> &'static [Req] {
    let skips = !(flags.p2p() && flags.pre_copy());
    if matches!(result, Outcome::Loop | Outcome::Hang) {
        &[V2_TIME_001, V2_PATH_004]
    } else if to == MigState::Error {
        &[V2_ARC_008]
    } else if !kernel_supported(flags, from) || !kernel_supported(flags, to) {
        &[V2_FLAG_003]
    } else if from == to {
        &[V2_ARC_009]
    } else if from == MigState::StopCopy && to.is_precopy() {
        &[V2_ARC_007, V2_PATH_004]
    } else if skips {
        &[V2_PATH_004, V2_PATH_001, V2_PATH_003]
    } else {
        &[V2_PATH_004, V2_PATH_001]
    }
}

/// One case where the kernel's function and the model disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The case as the harness printed it.
    pub case: Case,
    /// What the model expected.
    pub expected: Expected,
    /// The requirements it rests on.
    pub reqs: &'static [Req],
}

fn names(path: &[MigState]) -> String {
    path.iter().map(|s| s.name()).collect::<Vec<_>>().join(" -> ")
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (c, e) = (&self.case, &self.expected);
        write!(
            f,
            "line {}: flags={} {} -> {}: ",
            c.line,
            c.flags.bits(),
            c.from.name(),
            c.to.name()
        )?;
        match c.result {
            Outcome::Loop => {
                write!(
                    f,
                    "LOOP: the driver loop took {} steps without reaching {} ({} ...): the kernel's \
                     next-state code never ends this transition",
                    MAX_STEPS,
                    c.to.name(),
                    names(&c.path[..c.path.len().min(5)])
                )?;
                if c.from == MigState::StopCopy && c.to.is_precopy() {
                    f.write_str(", the bug of Linux 6.2 to 6.12.116")?;
                }
            }
            Outcome::Hang => write!(
                f,
                "HANG: the call in {} did not return: the kernel's next-state code spins inside one call",
                c.path.last().map_or("?", |s| s.name())
            )?,
            _ => {
                let mut parts = Vec::new();
                if c.result != e.result || c.path != e.path {
                    parts.push(format!("kernel {} via {}", c.result, names(&c.path)));
                }
                if c.first != First::Returned(e.first) {
                    parts.push(format!("first call returned {}", c.first));
                }
                if c.warn != e.warn {
                    parts.push(format!("WARN_ON fired {} times", c.warn));
                }
                write!(f, "{}", parts.join(", "))?;
            }
        }
        let model = match e.result {
            Outcome::Ok if e.path.len() > 1 => format!("reaches it via {}", names(&e.path)),
            Outcome::Ok => "OK at once".to_owned(),
            _ => "refuses it with EINVAL".to_owned(),
        };
        write!(
            f,
            "; the model {model} (first call {}, WARN_ON {}) [{}]",
            e.first,
            e.warn,
            vfio_mig_model::join_ids(self.reqs, ", ")
        )
    }
}

/// Compares every case with the model; the disagreements, in file order.
pub fn compare(cases: &[Case]) -> Vec<Disagreement> {
    let tables: BTreeMap<u64, PathTable> = MigrationFlags::accepted()
        .into_iter()
        .map(|f| (f.bits(), PathTable::derive(f)))
        .collect();
    let mut out = Vec::new();
    for c in cases {
        let Some(table) = tables.get(&c.flags.bits()) else {
            continue;
        };
        let e = expected(table, c.from, c.to);
        let agrees = c.result == e.result
            && c.path == e.path
            && c.first == First::Returned(e.first)
            && c.warn == e.warn;
        if !agrees {
            out.push(Disagreement {
                reqs: reqs_of(c.flags, c.from, c.to, c.result),
                case: c.clone(),
                expected: e,
            });
        }
    }
    out
}

/// The model's own rendering of the harness output (what a kernel that
/// agrees with the model prints), in the harness's order.
pub fn model_output() -> String {
    let mut out = String::new();
    for f in MigrationFlags::accepted() {
        let table = PathTable::derive(f);
        for from in MigState::ALL {
            for to in MigState::ALL {
                let e = expected(&table, from, to);
                let path: Vec<String> = e.path.iter().map(|s| s.number().to_string()).collect();
                out.push_str(&format!(
                    "flags={} from={} to={} first={} result={} path={} warn={}\n",
                    f.bits(),
                    from.number(),
                    to.number(),
                    e.first,
                    e.result,
                    path.join(","),
                    e.warn
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_errors_that_say_what_is_wrong() {
        let e = |t: &str| parse_line(1, t).unwrap_err();
        assert!(e("flags=1 from=1").contains("2 fields"));
        assert!(e("flags=2 from=1 to=2 first=0 result=OK path=1,2 warn=0").contains("flags 2"));
        assert!(e("flags=1 from=9 to=2 first=0 result=OK path=1,2 warn=0").contains("not a state"));
        assert!(e("flags=1 from=1 to=2 first=x result=OK path=1,2 warn=0").contains("first"));
        assert!(e("flags=1 from=1 to=2 first=0 result=MAYBE path=1,2 warn=0").contains("result"));
        assert!(e("flags=1 from=1 to=2 first=0 result=OK path=2,1 warn=0").contains("path starts"));
        let long = vec!["1"; 18].join(",");
        assert!(e(&format!(
            "flags=1 from=1 to=2 first=0 result=LOOP path={long} warn=0"
        ))
        .contains("more than"));
        assert!(e("flags=1 to=1 from=2 first=0 result=OK path=1,2 warn=0").contains("expected from"));
    }
}
