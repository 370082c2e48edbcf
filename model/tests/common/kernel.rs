//! Facts from drivers/vfio/vfio_main.c (Linux 6.12): `vfio_from_fsm_table`
//! and `state_flags_table`, and the stepping loop of
//! `vfio_mig_get_next_state()`, restated so the derived model can be compared
//! with the kernel. Numbers are the uAPI's state numbers.
#![allow(dead_code)]

/// ERROR, STOP, RUNNING, STOP_COPY, RESUMING, RUNNING_P2P, PRE_COPY, PRE_COPY_P2P.
const ERR: u8 = 0;
const STOP: u8 = 1;
const RUN: u8 = 2;
const SC: u8 = 3;
const RES: u8 = 4;
const RP2P: u8 = 5;
const PRE: u8 = 6;
const PP2P: u8 = 7;

/// `vfio_from_fsm_table[from][to]`: the next state to step to.
pub const FROM_FSM_TABLE: [[u8; 8]; 8] = [
    // to:  ERR  STOP  RUN   SC    RES   RP2P  PRE   PP2P
    [ERR, ERR, ERR, ERR, ERR, ERR, ERR, ERR],       // from ERR
    [ERR, STOP, RP2P, SC, RES, RP2P, RP2P, RP2P],   // from STOP
    [ERR, RP2P, RUN, RP2P, RP2P, RP2P, PRE, RP2P],  // from RUN
    [ERR, STOP, STOP, SC, STOP, STOP, ERR, ERR],    // from SC
    [ERR, STOP, STOP, STOP, RES, STOP, STOP, STOP], // from RES
    [ERR, STOP, RUN, STOP, STOP, RP2P, RUN, PP2P],  // from RP2P
    [ERR, RUN, RUN, PP2P, RUN, RUN, PRE, PP2P],     // from PRE
    [ERR, RP2P, RP2P, SC, RP2P, RP2P, PRE, PP2P],   // from PP2P
];

const F_SC: u64 = 1;
const F_P2P: u64 = 2;
const F_PRE: u64 = 4;

/// `state_flags_table[state]`: flags a device needs for the state.
pub const STATE_FLAGS_TABLE: [u64; 8] = [
    0,
    F_SC,
    F_SC,
    F_SC,
    F_SC,
    F_SC | F_P2P,
    F_SC | F_PRE,
    F_SC | F_P2P | F_PRE,
];

fn supported(flags: u64, s: u8) -> bool {
    STATE_FLAGS_TABLE[s as usize] & flags == STATE_FLAGS_TABLE[s as usize]
}

/// The kernel's answer: `Some(next)` or `None` for -EINVAL.
pub fn next_state(flags: u64, cur: u8, new: u8) -> Option<u8> {
    if !supported(flags, cur) || !supported(flags, new) {
        return None;
    }
    let mut next = FROM_FSM_TABLE[cur as usize][new as usize];
    while !supported(flags, next) {
        next = FROM_FSM_TABLE[next as usize][new as usize];
    }
    (next != ERR).then_some(next)
}

/// The full sequence of states a driver looping on `next_state` visits.
pub fn path(flags: u64, cur: u8, new: u8) -> Option<Vec<u8>> {
    if !supported(flags, cur) || !supported(flags, new) {
        return None;
    }
    let mut out = vec![cur];
    let mut at = cur;
    while at != new {
        at = next_state(flags, at, new)?;
        out.push(at);
        if out.len() > 8 {
            return None;
        }
    }
    if cur == ERR {
        return None;
    }
    Some(out)
}
