//! Pre-copy accounting and the PRECOPY_INFOv2 opt-in: what PRECOPY_INFO
//! reports against what the reads then deliver, and how `flags` behaves
//! with and without the opt-in, across a reset and across a close.

use super::common::{concluded, push, restore};
use crate::check::{Checker, Failure, Interrupt};
use crate::handle::Handle;
use crate::target::Target;
use crate::verdict::{SuiteId, Verdict};
use vfio_mig_device::Io;
use vfio_mig_model::reqs::*;
use vfio_mig_model::v2::{self, uapi, Access, FdRef, FeatureReq, Fsm, MigState, Outcome};
use vfio_mig_model::{Errno, Req, Uapi};

/// Flags passed where they are reserved: every bit but REINIT, so that a
/// device that hands them back, clears them or sets REINIT can be told
/// apart.
pub const RESERVED_PATTERN: u32 = !uapi::PRECOPY_INFO_REINIT;

/// Rounds of PRECOPY_INFO and reads before the accounting check gives up
/// waiting for the counters to reach 0 and 0.
const ROUNDS: usize = 32;

/// Bytes a round reads at most (a device whose counters never fall is cut
/// off here).
const ROUND_LIMIT: u64 = 64 << 20;

/// One check of this part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    /// PRECOPY_INFO, read what it reported, again, until 0 and 0, then one
    /// more read: the temporary end.
    Accounting,
    /// PRECOPY_INFO with reserved flags set, without the opt-in.
    FlagsReserved,
    /// The accounting loop after the opt-in, flags passed set.
    OptIn,
    /// The opt-in, VFIO_DEVICE_RESET, then PRECOPY_INFO.
    OptInAfterReset,
    /// The opt-in, the device closed and opened again, then PRECOPY_INFO.
    OptInAfterClose,
}

impl Script {
    fn name(self) -> &'static str {
        match self {
            Script::Accounting => "accounting",
            Script::FlagsReserved => "flags-reserved",
            Script::OptIn => "opt-in",
            Script::OptInAfterReset => "opt-in-after-reset",
            Script::OptInAfterClose => "opt-in-after-close",
        }
    }

    /// The scripts that apply to `model`'s device.
    fn of(model: &Fsm) -> Vec<Script> {
        if !model.flags().pre_copy() || !model.precopy_info() {
            return Vec::new();
        }
        let mut out = vec![Script::Accounting];
        if model.uapi() >= Uapi::Linux7_3 {
            out.extend([
                Script::FlagsReserved,
                Script::OptIn,
                Script::OptInAfterReset,
                Script::OptInAfterClose,
            ]);
        }
        out
    }
}

fn name(model: &Fsm, script: Script) -> String {
    format!("{}/data/pre-copy/{}", model.label(), script.name())
}

/// Every check of this part, by name.
pub fn plan(model: &Fsm) -> Vec<String> {
    Script::of(model).into_iter().map(|s| name(model, s)).collect()
}

fn opt_in() -> v2::Op {
    v2::Op::Feature(
        FeatureReq::full(uapi::FEATURE_MIG_PRECOPY_INFO_V2 as u16, Access::SET)
            .expect("the opt-in is a feature request"),
    )
}

/// How the accounting loop ended.
enum Loop {
    /// The counters reached 0 and 0 and the read after them was judged.
    Ended,
    /// They never did within [`ROUNDS`].
    Endless,
}

/// PRECOPY_INFO, then reads of as many bytes as it reported (stopping at
/// the temporary end), round after round until it reports 0 and 0; then one
/// read, which must meet the temporary end. The model judges each answer
/// (V2-PRE-003, -006, -007, and the flags rules).
fn accounting(c: &mut Checker<'_, Fsm>, flags_in: u32) -> Result<Loop, Failure> {
    let fd = FdRef(0);
    let mut io = Io::default();
    for _ in 0..ROUNDS {
        let (initial, dirty) = match c.step(v2::Op::PrecopyInfo { fd, flags: flags_in })? {
            Outcome::Precopy {
                initial_bytes,
                dirty_bytes,
                ..
            } => (initial_bytes, dirty_bytes),
            other => {
                return Err(Failure::new(
                    &[V2_PRE_001],
                    format!("PRECOPY_INFO in PRE_COPY answered {other}"),
                ))
            }
        };
        let mut owed = initial.saturating_add(dirty).min(ROUND_LIMIT);
        if owed == 0 {
            c.step(v2::Op::Read { fd, len: 4096 })?;
            return Ok(Loop::Ended);
        }
        while owed > 0 {
            let len = owed.min(4096) as u32;
            match c.step_io(v2::Op::Read { fd, len }, &mut io)? {
                Outcome::Bytes(0) | Outcome::Err(Errno::ENOMSG) => break,
                Outcome::Bytes(n) => owed = owed.saturating_sub(u64::from(n)),
                _ => break,
            }
        }
    }
    Ok(Loop::Endless)
}

fn run_script(
    script: Script,
    model: &Fsm,
    device: &mut Handle<Fsm>,
    name: &str,
    out: &mut Vec<Verdict>,
) -> bool {
    if let Err(v) = restore(SuiteId::Data, name, device) {
        out.push(*v);
        return false;
    }
    let fd = FdRef(0);
    let mut extra: Vec<Req> = Vec::new();
    let mut uncovered: Vec<(Req, String)> = Vec::new();
    let endless = |uncovered: &mut Vec<(Req, String)>| {
        uncovered.push((
            V2_PRE_007,
            format!("PRECOPY_INFO did not report 0 and 0 within {ROUNDS} rounds of reading what it reported (a device that keeps changing its state)"),
        ));
    };
    let verdict = match script {
        Script::Accounting | Script::OptIn => {
            let mut c = Checker::new(model, device);
            let result = (|| -> Result<(), Interrupt> {
                let flags_in = if script == Script::OptIn {
                    c.step(opt_in())?;
                    RESERVED_PATTERN
                } else {
                    0
                };
                c.step(v2::Op::Set(MigState::PreCopy))?;
                // First the initial data alone, then after the device
                // worked a little (a GET lets a running device change):
                // each counter is checked on its own.
                let quiet = accounting(&mut c, flags_in)?;
                c.step(v2::Op::Get)?;
                let worked = accounting(&mut c, flags_in)?;
                if matches!(quiet, Loop::Endless) || matches!(worked, Loop::Endless) {
                    endless(&mut uncovered);
                }
                Ok(())
            })();
            extra.extend([V2_PRE_006, V2_PRE_003]);
            if script == Script::OptIn {
                extra.extend([V2_PRE_008, V2_PRE_010]);
            }
            concluded(SuiteId::Data, name.to_owned(), &c, &extra, result)
        }
        Script::FlagsReserved => {
            let mut c = Checker::new(model, device);
            let result = (|| -> Result<(), Interrupt> {
                c.step(v2::Op::Set(MigState::PreCopy))?;
                c.step(v2::Op::PrecopyInfo {
                    fd,
                    flags: RESERVED_PATTERN,
                })?;
                c.step(v2::Op::PrecopyInfo { fd, flags: 0 })?;
                Ok(())
            })();
            concluded(SuiteId::Data, name.to_owned(), &c, &[V2_PRE_009], result)
        }
        Script::OptInAfterReset | Script::OptInAfterClose => {
            let mut c = Checker::new(model, device);
            let result = (|| -> Result<(), Interrupt> {
                c.step(opt_in())?;
                if script == Script::OptInAfterReset {
                    c.step(v2::Op::Reset)?;
                } else {
                    // What every check starts with: the device closed and
                    // opened again.
                    c.reopen()?;
                }
                c.step(v2::Op::Set(MigState::PreCopy))?;
                c.step(v2::Op::PrecopyInfo {
                    fd,
                    flags: RESERVED_PATTERN,
                })?;
                Ok(())
            })();
            concluded(SuiteId::Data, name.to_owned(), &c, &[V2_PRE_011], result)
        }
    };
    let mut verdict = verdict;
    verdict.uncovered.extend(uncovered);
    push(out, verdict)
}

/// Runs every pre-copy accounting and opt-in check that applies.
pub fn run(model: &Fsm, device: &mut Handle<Fsm>) -> Vec<Verdict> {
    let mut out = Vec::new();
    for script in Script::of(model) {
        let name = name(model, script);
        if !run_script(script, model, device, &name, &mut out) {
            break;
        }
    }
    out
}
