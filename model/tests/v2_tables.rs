//! The derived v2 transition table against the kernel's, for every flag set.

mod common;

use proptest::prelude::*;
use rstest::rstest;
use vfio_mig_model::v2::{arcs, MigState, MigrationFlags, PathTable};

fn flags(bits: u64) -> MigrationFlags {
    MigrationFlags::new(bits).expect("accepted flag set")
}

#[rstest]
fn derived_next_step_equals_kernel_table(
    #[values(0b001, 0b011, 0b101, 0b111)] bits: u64,
    #[values(0, 1, 2, 3, 4, 5, 6, 7)] from: u32,
    #[values(0, 1, 2, 3, 4, 5, 6, 7)] to: u32,
) {
    covers!("V2-PATH-004", "V2-PATH-001", "V2-PATH-003", "V2-FLAG-003");
    let table = PathTable::derive(flags(bits));
    let (f, t) = (
        MigState::from_number(from).unwrap(),
        MigState::from_number(to).unwrap(),
    );
    let kernel = common::kernel::next_state(bits, from as u8, to as u8);
    let ours = table.path(f, t).map(|p| p.next_step().number() as u8);
    assert_eq!(ours, kernel, "flags {bits:#b}: {f} -> {t}");
    // The whole path, not only the first step, is the kernel's.
    let kernel_path = common::kernel::path(bits, from as u8, to as u8);
    let our_path = table
        .path(f, t)
        .map(|p| p.states().iter().map(|s| s.number() as u8).collect::<Vec<_>>());
    assert_eq!(our_path, kernel_path, "flags {bits:#b}: {f} -> {t}");
}

#[rstest]
fn every_request_has_at_most_one_shortest_path(#[values(0b001, 0b011, 0b101, 0b111)] bits: u64) {
    covers!("V2-PATH-001");
    for from in MigState::ALL {
        for to in MigState::ALL {
            let paths = arcs::shortest_paths(flags(bits), from, to);
            assert!(
                paths.len() <= 1,
                "{from} -> {to} has {} shortest paths: {paths:?}",
                paths.len()
            );
        }
    }
}

#[rstest]
#[case::sc_only(0b001)]
#[case::sc_p2p(0b011)]
#[case::sc_pre(0b101)]
#[case::sc_p2p_pre(0b111)]
fn accepted_flag_sets_are_exactly_the_kernels(#[case] bits: u64) {
    covers!("V2-FLAG-002", "V2-FLAG-001");
    assert!(MigrationFlags::accepted().contains(&flags(bits)));
}

#[test]
fn refused_flag_sets() {
    covers!("V2-FLAG-002");
    for bits in 0..64u64 {
        let ok = MigrationFlags::new(bits).is_ok();
        let expected = bits & 1 == 1 && bits < 8;
        assert_eq!(ok, expected, "flags {bits:#b}");
    }
    assert_eq!(MigrationFlags::accepted().len(), 4);
}

#[test]
fn state_numbers_are_the_uapi_numbers() {
    covers!("V2-STATE-001");
    let names = [
        "ERROR",
        "STOP",
        "RUNNING",
        "STOP_COPY",
        "RESUMING",
        "RUNNING_P2P",
        "PRE_COPY",
        "PRE_COPY_P2P",
    ];
    for (n, name) in names.iter().enumerate() {
        let s = MigState::from_number(n as u32).unwrap();
        assert_eq!(s.name(), *name);
        assert_eq!(s.number(), n as u32);
    }
    assert_eq!(MigState::from_number(8), None);
}

#[rstest]
fn supported_states_follow_state_flags_table(#[values(0b001, 0b011, 0b101, 0b111)] bits: u64) {
    covers!("V2-FLAG-003");
    for s in MigState::ALL {
        let need = common::kernel::STATE_FLAGS_TABLE[s.number() as usize];
        assert_eq!(flags(bits).supports(s), need & bits == need, "{s}");
    }
}

#[rstest]
#[case::sc_to_pre(MigState::StopCopy, MigState::PreCopy)]
#[case::sc_to_pp2p(MigState::StopCopy, MigState::PreCopyP2p)]
fn stop_copy_back_to_pre_copy_is_refused(#[case] from: MigState, #[case] to: MigState) {
    covers!("V2-ARC-007");
    for f in MigrationFlags::accepted().into_iter().filter(|f| f.supports(to)) {
        assert!(
            PathTable::derive(f).path(from, to).is_none(),
            "{f}: {from} -> {to}"
        );
    }
}

#[test]
fn error_is_never_a_target_nor_a_source() {
    covers!("V2-ARC-008", "V2-ERR-003");
    for f in MigrationFlags::accepted() {
        let t = PathTable::derive(f);
        for s in MigState::ALL {
            assert!(t.path(s, MigState::Error).is_none());
            assert!(t.path(MigState::Error, s).is_none());
        }
    }
}

#[test]
fn mandatory_direct_arcs_are_single_steps() {
    covers!(
        "V2-ARC-001",
        "V2-ARC-002",
        "V2-ARC-003",
        "V2-ARC-004",
        "V2-ARC-005"
    );
    for f in MigrationFlags::accepted() {
        let t = PathTable::derive(f);
        for a in arcs::DIRECT_ARCS.iter().filter(|a| a.enabled(f)) {
            let p = t.path(a.from, a.to).expect("a direct arc is never refused");
            assert_eq!(p.arcs(), 1, "{f}: {} -> {} is direct", a.from, a.to);
        }
    }
}

#[test]
fn data_fd_arcs() {
    covers!("V2-FD-001", "V2-FD-002", "V2-FD-003");
    use arcs::Opens;
    use MigState::*;
    let all = flags(0b111);
    let t = PathTable::derive(all);
    let opens = |a, b| t.path(a, b).unwrap().opens();
    assert_eq!(opens(Running, PreCopy), Some(Opens::Save));
    assert_eq!(opens(RunningP2p, PreCopyP2p), Some(Opens::Save));
    assert_eq!(opens(Stop, StopCopy), Some(Opens::Save));
    assert_eq!(opens(Stop, Resuming), Some(Opens::Resume));
    // A combination returns the fd of its last arc.
    assert_eq!(opens(Running, StopCopy), Some(Opens::Save));
    assert_eq!(opens(Resuming, PreCopy), Some(Opens::Save));
    assert_eq!(opens(Running, Resuming), Some(Opens::Resume));
    // Inside the saving group: same session.
    assert_eq!(opens(PreCopy, StopCopy), None);
    assert_eq!(opens(PreCopy, PreCopyP2p), None);
    assert_eq!(opens(StopCopy, Stop), None);
    assert_eq!(opens(Running, Stop), None);
}

#[test]
fn derived_tables_snapshot() {
    covers!("V2-PATH-004");
    let mut out = String::new();
    for f in MigrationFlags::accepted() {
        out.push_str(&PathTable::derive(f).grid());
        out.push('\n');
    }
    insta::assert_snapshot!("v2_next_step_grids", out);
    let mut paths = String::new();
    for f in MigrationFlags::accepted() {
        paths.push_str(&PathTable::derive(f).path_list());
        paths.push('\n');
    }
    insta::assert_snapshot!("v2_paths", paths);
}

fn any_flags() -> impl Strategy<Value = MigrationFlags> {
    prop::sample::select(MigrationFlags::accepted().to_vec())
}

fn any_state() -> impl Strategy<Value = MigState> {
    prop::sample::select(MigState::ALL.to_vec())
}

proptest! {
    #[test]
    fn derived_paths_use_enabled_direct_arcs_only(f in any_flags(), from in any_state(), to in any_state()) {
        covers!("V2-PATH-001", "V2-PATH-003");
        if let Some(p) = PathTable::derive(f).path(from, to) {
            for w in p.states().windows(2) {
                prop_assert!(arcs::direct_arc(f, w[0], w[1]).is_some(), "{} -> {} in {}", w[0], w[1], p);
            }
            for s in p.states() {
                prop_assert!(f.supports(*s));
            }
        }
    }

    #[test]
    fn derived_paths_never_pass_through_error(f in any_flags(), from in any_state(), to in any_state()) {
        covers!("V2-ARC-008");
        if let Some(p) = PathTable::derive(f).path(from, to) {
            prop_assert!(!p.states().contains(&MigState::Error));
        }
    }

    #[test]
    fn derived_paths_are_no_longer_than_the_kernels(f in any_flags(), from in any_state(), to in any_state()) {
        covers!("V2-PATH-004", "V2-PATH-001");
        let ours = PathTable::derive(f).path(from, to).map(|p| p.arcs());
        let kernel = common::kernel::path(f.bits(), from.number() as u8, to.number() as u8).map(|p| p.len() - 1);
        prop_assert_eq!(ours.is_some(), kernel.is_some());
        if let (Some(o), Some(k)) = (ours, kernel) {
            prop_assert!(o <= k);
        }
    }

    #[test]
    fn saving_states_only_open_or_close_a_path(f in any_flags(), from in any_state(), to in any_state()) {
        covers!("V2-PATH-002");
        if let Some(p) = PathTable::derive(f).path(from, to) {
            let s = p.states();
            let saving: Vec<usize> = (0..s.len()).filter(|&i| s[i].is_saving()).collect();
            let all = saving.len() == s.len();
            let ends_only = saving.iter().all(|&i| i == 0 || i == s.len() - 1);
            let both_ends = s.len() > 1 && saving.contains(&0) && saving.contains(&(s.len() - 1));
            // Either the path stays in the saving group, or saving states
            // stand only at one of its ends.
            prop_assert!(all || (ends_only && !both_ends), "{}", p);
        }
    }
}
