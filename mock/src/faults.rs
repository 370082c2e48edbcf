//! Armed faults, shared by both protocols.

use vfio_mig_device::Fault;

/// What the test asked the device to do wrong.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    /// Fail the next SET requested while in this state (raw number), and
    /// fall into ERROR when the flag is set.
    pub fail_set: Option<(u32, bool)>,
    /// Reads left before one fails (1 = the next).
    pub read_in: Option<u32>,
    /// Writes left before one fails.
    pub write_in: Option<u32>,
    /// Operations left before one fails.
    pub op_in: Option<u32>,
    /// Cap on bytes per read.
    pub short: Option<u32>,
}

/// Counts one event down; true when it is the one that must fail.
fn due(counter: &mut Option<u32>) -> bool {
    match counter {
        Some(1) => {
            *counter = None;
            true
        }
        Some(n) => {
            *n -= 1;
            false
        }
        None => false,
    }
}

impl Faults {
    /// Arms a fault; `FallIntoError` is acted on by the device itself.
    /// False for a fault the mock does not know.
    pub fn arm(&mut self, fault: Fault) -> bool {
        match fault {
            Fault::FailSet { from, into_error } => self.fail_set = Some((from, into_error)),
            Fault::FailNthRead(n) => self.read_in = Some(n.max(1)),
            Fault::FailNthWrite(n) => self.write_in = Some(n.max(1)),
            Fault::FailNthOp(n) => self.op_in = Some(n.max(1)),
            Fault::ShortReads(n) => self.short = Some(n.max(1)),
            Fault::FallIntoError => {}
            _ => return false,
        }
        true
    }

    /// Whether this operation must fail (fail-nth).
    pub fn op_fails(&mut self) -> bool {
        due(&mut self.op_in)
    }

    /// Whether this data read must fail.
    pub fn read_fails(&mut self) -> bool {
        due(&mut self.read_in)
    }

    /// Whether this data write must fail.
    pub fn write_fails(&mut self) -> bool {
        due(&mut self.write_in)
    }

    /// Whether a SET requested in state `raw` must fail, and how.
    pub fn set_fails(&mut self, raw: u32) -> Option<bool> {
        match self.fail_set {
            Some((from, into_error)) if from == raw => {
                self.fail_set = None;
                Some(into_error)
            }
            _ => None,
        }
    }
}
