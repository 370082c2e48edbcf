//! Direct arcs and the combination paths derived from them.
//!
//! The kernel's `vfio_mig_get_next_state()` (drivers/vfio/vfio_main.c) encodes
//! its answer as a typed-in table. Here the table is not typed in: it is
//! derived from the list of direct arcs (the comment above that function) and
//! the path rules of the uAPI header, and a test pins the result to the
//! kernel's table for every flag combination.

use super::state::{MigState, MigrationFlags};
use crate::{reqs, Req};
use std::collections::VecDeque;
use std::fmt;

/// A flag condition of a direct arc: `None` = either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Whether P2P must be present (`Some(true)`) or absent (`Some(false)`).
    pub p2p: Option<bool>,
    /// Whether PRE_COPY must be present or absent.
    pub pre_copy: Option<bool>,
}

/// One direct arc a driver must implement under some flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectArc {
    /// Source state.
    pub from: MigState,
    /// Target state.
    pub to: MigState,
    /// When the arc exists.
    pub needs: Needs,
    /// The requirements that mandate it.
    pub reqs: &'static [Req],
}

const fn arc(
    from: MigState,
    to: MigState,
    p2p: Option<bool>,
    pre_copy: Option<bool>,
    reqs: &'static [Req],
) -> DirectArc {
    DirectArc {
        from,
        to,
        needs: Needs { p2p, pre_copy },
        reqs,
    }
}

use MigState::*;

/// The direct arcs (comment above `vfio_mig_get_next_state()`, Linux 6.12).
pub const DIRECT_ARCS: [DirectArc; 18] = [
    arc(Resuming, Stop, None, None, &[reqs::V2_ARC_001]),
    arc(Stop, Resuming, None, None, &[reqs::V2_ARC_001]),
    arc(Stop, StopCopy, None, None, &[reqs::V2_ARC_001]),
    arc(StopCopy, Stop, None, None, &[reqs::V2_ARC_001]),
    arc(Running, Stop, Some(false), None, &[reqs::V2_ARC_002]),
    arc(Stop, Running, Some(false), None, &[reqs::V2_ARC_002]),
    arc(Running, RunningP2p, Some(true), None, &[reqs::V2_ARC_003]),
    arc(RunningP2p, Running, Some(true), None, &[reqs::V2_ARC_003]),
    arc(RunningP2p, Stop, Some(true), None, &[reqs::V2_ARC_003]),
    arc(Stop, RunningP2p, Some(true), None, &[reqs::V2_ARC_003]),
    arc(Running, PreCopy, None, Some(true), &[reqs::V2_ARC_004]),
    arc(PreCopy, Running, None, Some(true), &[reqs::V2_ARC_004]),
    arc(PreCopy, StopCopy, Some(false), Some(true), &[reqs::V2_ARC_004]),
    arc(PreCopy, PreCopyP2p, Some(true), Some(true), &[reqs::V2_ARC_005]),
    arc(PreCopyP2p, PreCopy, Some(true), Some(true), &[reqs::V2_ARC_005]),
    arc(
        PreCopyP2p,
        RunningP2p,
        Some(true),
        Some(true),
        &[reqs::V2_ARC_005],
    ),
    arc(PreCopyP2p, StopCopy, Some(true), Some(true), &[reqs::V2_ARC_005]),
    arc(
        RunningP2p,
        PreCopyP2p,
        Some(true),
        Some(true),
        &[reqs::V2_ARC_005],
    ),
];

impl DirectArc {
    /// Whether the arc exists for a device with `flags`.
    pub fn enabled(&self, flags: MigrationFlags) -> bool {
        let ok = |need: Option<bool>, have: bool| need.is_none_or(|n| n == have);
        ok(self.needs.p2p, flags.p2p())
            && ok(self.needs.pre_copy, flags.pre_copy())
            && flags.supports(self.from)
            && flags.supports(self.to)
    }
}

/// The direct arc from `from` to `to` under `flags`, if there is one.
pub fn direct_arc(flags: MigrationFlags, from: MigState, to: MigState) -> Option<&'static DirectArc> {
    DIRECT_ARCS
        .iter()
        .find(|a| a.from == from && a.to == to && a.enabled(flags))
}

/// What data session an arc opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opens {
    /// A read-side (saving) stream: entering the saving group from outside.
    Save,
    /// A write-side (resuming) stream: entering RESUMING.
    Resume,
}

/// The session a direct step opens, if any (V2-FD-001).
pub fn opens(from: MigState, to: MigState) -> Option<Opens> {
    if to.is_saving() && !from.is_saving() {
        Some(Opens::Save)
    } else if to == Resuming && from != Resuming {
        Some(Opens::Resume)
    } else {
        None
    }
}

/// A sequence of states joined by direct arcs, first = source, last = target.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Path {
    states: [MigState; 8],
    len: u8,
}

impl Path {
    fn single(s: MigState) -> Self {
        Path {
            states: [s; 8],
            len: 1,
        }
    }

    /// The states, source first.
    pub fn states(&self) -> &[MigState] {
        &self.states[..self.len as usize]
    }

    /// Number of direct arcs.
    pub fn arcs(&self) -> usize {
        self.len as usize - 1
    }

    /// The first step after the source (the source itself for an empty path).
    pub fn next_step(&self) -> MigState {
        self.states()[1.min(self.arcs())]
    }

    /// The session opened by the last arc, if any (a combination returns
    /// the fd of its last arc; no earlier arc can open one).
    pub fn opens(&self) -> Option<Opens> {
        let s = self.states();
        match s {
            [.., a, b] => opens(*a, *b),
            _ => None,
        }
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.states().iter().map(|s| s.name()).collect();
        f.write_str(&names.join(" -> "))
    }
}

/// Where a path is relative to the saving group, for the rule that a path
/// either stays inside the group or has saving states only at its ends, and
/// never at both ends unless it stays inside (V2-PATH-002).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Only the source so far, and it is a saving state.
    SavingSource,
    /// Every state so far is a saving state (two or more).
    AllSaving,
    /// Started in the group, left it after the source: no saving state may follow.
    Left,
    /// Started outside: a saving state may only be the target.
    Outside,
}

fn phase_after(phase: Phase, next: MigState, target: MigState) -> Option<Phase> {
    match (phase, next.is_saving()) {
        (Phase::SavingSource | Phase::AllSaving, true) => Some(Phase::AllSaving),
        (Phase::SavingSource, false) => Some(Phase::Left),
        (Phase::AllSaving, false) | (Phase::Left, true) => None,
        (Phase::Left, false) => Some(Phase::Left),
        (Phase::Outside, false) => Some(Phase::Outside),
        (Phase::Outside, true) => (next == target).then_some(Phase::Outside),
    }
}

/// Every shortest path from `from` to `to` over the direct arcs enabled by
/// `flags` that obeys the saving-group rule. Empty when the request is
/// refused (unsupported state, ERROR, or no such path).
pub fn shortest_paths(flags: MigrationFlags, from: MigState, to: MigState) -> Vec<Path> {
    if from == Error || to == Error || !flags.supports(from) || !flags.supports(to) {
        return Vec::new();
    }
    if from == to {
        return vec![Path::single(from)];
    }
    let start = if from.is_saving() {
        Phase::SavingSource
    } else {
        Phase::Outside
    };
    // Breadth-first over (path, phase); paths are short (at most 8 states),
    // so partial paths are kept whole instead of predecessor links.
    let mut queue = VecDeque::from([(Path::single(from), start)]);
    let mut found: Vec<Path> = Vec::new();
    while let Some((path, phase)) = queue.pop_front() {
        if found.first().is_some_and(|f| path.len >= f.len) {
            break;
        }
        let last = path.states()[path.len as usize - 1];
        for a in DIRECT_ARCS.iter().filter(|a| a.from == last && a.enabled(flags)) {
            if path.states().contains(&a.to) {
                continue;
            }
            let Some(next_phase) = phase_after(phase, a.to, to) else {
                continue;
            };
            let mut longer = path;
            longer.states[longer.len as usize] = a.to;
            longer.len += 1;
            if a.to == to {
                found.push(longer);
            } else {
                queue.push_back((longer, next_phase));
            }
        }
    }
    found
}

/// The derived combination table of one flag set: for every (from, to) the
/// path a driver executes, or `None` when the request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTable {
    flags: MigrationFlags,
    paths: [[Option<Path>; 8]; 8],
}

impl PathTable {
    /// Derives the table for `flags`. Where several shortest paths exist the
    /// first found in arc-list order is kept; tests check that this never
    /// happens for the accepted flag sets.
    pub fn derive(flags: MigrationFlags) -> Self {
        let mut paths = [[None; 8]; 8];
        for from in MigState::ALL {
            for to in MigState::ALL {
                paths[from as usize][to as usize] = shortest_paths(flags, from, to).first().copied();
            }
        }
        PathTable { flags, paths }
    }

    /// The flags this table was derived for.
    pub fn flags(&self) -> MigrationFlags {
        self.flags
    }

    /// The path for a request, or `None` when it is refused with EINVAL.
    pub fn path(&self, from: MigState, to: MigState) -> Option<&Path> {
        self.paths[from as usize][to as usize].as_ref()
    }

    /// The kernel's view: the next state to step to, `ERROR` meaning refused.
    pub fn next_step(&self, from: MigState, to: MigState) -> MigState {
        self.path(from, to).map_or(Error, Path::next_step)
    }

    /// The table as a grid a reviewer can read: rows = from, columns = to,
    /// each cell the next step (as in the kernel's table), `-` when the
    /// state is unsupported, `ERR` when refused.
    pub fn grid(&self) -> String {
        let mut out = format!("flags: {}\nfrom\\to", self.flags);
        for to in MigState::ALL {
            out.push_str(&format!(" {:>5}", to.short()));
        }
        out.push('\n');
        for from in MigState::ALL {
            out.push_str(&format!("{:<7}", from.short()));
            for to in MigState::ALL {
                let cell = if !self.flags.supports(from) || !self.flags.supports(to) {
                    "-"
                } else {
                    self.next_step(from, to).short()
                };
                out.push_str(&format!(" {cell:>5}"));
            }
            out.push('\n');
        }
        out
    }

    /// Every supported (from, to) pair with its full path, one per line.
    pub fn path_list(&self) -> String {
        let mut out = format!("flags: {}\n", self.flags);
        for from in self.flags.states() {
            for to in self.flags.states() {
                let line = match self.path(from, to) {
                    Some(p) => format!("{:>12} -> {:<12}: {p}\n", from.name(), to.name()),
                    None => format!("{:>12} -> {:<12}: refused (EINVAL)\n", from.name(), to.name()),
                };
                out.push_str(&line);
            }
        }
        out
    }
}
