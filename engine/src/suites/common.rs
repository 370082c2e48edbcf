//! What every suite does around its checks: restoring the device, running
//! a check's setup, turning a check's end into its verdict.

use crate::check::{error_chain, Checker, Interrupt};
use crate::handle::Handle;
use crate::target::{Setup, Target};
use crate::verdict::{SuiteId, Verdict};

/// Restores the device, or turns the error into the verdict that ends the run.
pub(crate) fn restore<P: Target>(
    suite: SuiteId,
    name: &str,
    device: &mut Handle<P>,
) -> Result<(), Box<Verdict>> {
    device.restore().map_err(|e| {
        let why = error_chain(&e);
        let broke = match &e {
            vfio_mig_device::DeviceError::Broke { rule, .. } => vec![*rule],
            _ => Vec::new(),
        };
        Box::new(Verdict::halted(
            suite,
            name,
            &broke,
            format!("{why}; no later check was run"),
        ))
    })
}

/// The verdict of a check whose body ended with `result`; `extra` names the
/// requirements the check verified itself.
pub(crate) fn concluded<P: Target>(
    suite: SuiteId,
    name: String,
    c: &Checker<'_, P>,
    extra: &[vfio_mig_model::Req],
    result: Result<(), Interrupt>,
) -> Verdict {
    match result {
        Err(Interrupt::Unsupported(why)) => Verdict::skip(suite, name, extra, why),
        Err(Interrupt::Failed(f)) => Verdict::of(suite, name, c, extra, Err(f)),
        Ok(()) => Verdict::of(suite, name, c, extra, Ok(())),
    }
}

/// Adds `v` to `out`; false when it halts the run.
pub(crate) fn push(out: &mut Vec<Verdict>, v: Verdict) -> bool {
    let halts = v.halts;
    out.push(v);
    !halts
}

/// Runs the setup steps of a check.
pub(crate) fn run_setup<T: Target>(c: &mut Checker<'_, T>, setup: &[Setup<T::Op>]) -> Result<(), Interrupt> {
    for step in setup {
        match step {
            Setup::Op(op) => {
                c.step(op.clone())?;
            }
            Setup::Inject(fault) => c.require(
                *fault,
                "the adapter cannot inject the fault this source state needs",
            )?,
        }
    }
    Ok(())
}

/// Why a check could not compare the device's state.
pub(crate) const NO_STATE: &str = "the device exposes no state to compare: a VFIO or vfio-user device names state bytes with VFIO_MIG_STATE_BYTES=region:offset,... (read from the device fd or with REGION_READ), an adapter of your own returns them from Device::fingerprint";
