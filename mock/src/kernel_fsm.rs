//! How the mock steps between v2 states: the way in-tree drivers do it.
//!
//! The kernel's core gives drivers the next state toward every target as a
//! table (`vfio_from_fsm_table` in drivers/vfio/vfio_main.c, Linux 6.12),
//! skips states the device's flags do not offer (`state_flags_table`), and
//! the driver executes one direct arc per step until it arrives. The mock
//! carries that table as data and runs the same loop. The reference model
//! instead derives its paths from the rules of the uAPI header; the two are
//! separate implementations that can disagree, which is what lets the suites
//! catch a wrong derivation.

use vfio_mig_model::v2::{MigState, MigrationFlags};

use MigState::{
    Error as Err, PreCopy as Pre, PreCopyP2p as Pp2p, Resuming as Res, Running as Run, RunningP2p as Rp2p,
    Stop, StopCopy as Sc,
};

/// The next state from `from` (row, by state number) toward `to` (column,
/// by state number): ERROR 0, STOP 1, RUNNING 2, STOP_COPY 3, RESUMING 4,
/// RUNNING_P2P 5, PRE_COPY 6, PRE_COPY_P2P 7.
const NEXT: [[MigState; 8]; 8] = [
    // from ERROR: nothing leaves it but a reset.
    [Err, Err, Err, Err, Err, Err, Err, Err],
    // from STOP
    [Err, Stop, Rp2p, Sc, Res, Rp2p, Rp2p, Rp2p],
    // from RUNNING
    [Err, Rp2p, Run, Rp2p, Rp2p, Rp2p, Pre, Rp2p],
    // from STOP_COPY
    [Err, Stop, Stop, Sc, Stop, Stop, Err, Err],
    // from RESUMING
    [Err, Stop, Stop, Stop, Res, Stop, Stop, Stop],
    // from RUNNING_P2P
    [Err, Stop, Run, Stop, Stop, Rp2p, Run, Pp2p],
    // from PRE_COPY
    [Err, Run, Run, Pp2p, Run, Run, Pre, Pp2p],
    // from PRE_COPY_P2P
    [Err, Rp2p, Rp2p, Sc, Rp2p, Rp2p, Pre, Pp2p],
];

/// The flag bits a state needs (ERROR needs none).
fn needs(s: MigState) -> u64 {
    const SC: u64 = 1;
    const P2P: u64 = 2;
    const PRE: u64 = 4;
    match s {
        Err => 0,
        Stop | Run | Sc | Res => SC,
        Rp2p => SC | P2P,
        Pre => SC | PRE,
        Pp2p => SC | P2P | PRE,
    }
}

pub(crate) fn offered(flags: MigrationFlags, s: MigState) -> bool {
    flags.bits() & needs(s) == needs(s)
}

/// The next state to step to from `cur` toward `to`, or `None` when the
/// request is refused (EINVAL).
pub fn next_state(flags: MigrationFlags, cur: MigState, to: MigState) -> Option<MigState> {
    if !offered(flags, cur) || !offered(flags, to) {
        return None;
    }
    let mut next = NEXT[cur as usize][to as usize];
    // Unoffered states are skipped; the table never cycles among them, and
    // eight steps visit every state.
    for _ in 0..8 {
        if offered(flags, next) {
            break;
        }
        next = NEXT[next as usize][to as usize];
    }
    (next != Err && offered(flags, next)).then_some(next)
}
