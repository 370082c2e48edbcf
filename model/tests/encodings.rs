//! The values the model hands to adapters and renderers: errno names, the
//! feature request's flags word, the state names reports print, and the
//! text of an allowed set. Written against the uAPI's numbers
//! (include/uapi/linux/vfio.h, Linux 6.12 and 7.3), not against the
//! model's own encoders.

mod common;

use vfio_mig_model::v1;
use vfio_mig_model::v2::{Access, Expect, FeatureReq, Fsm, MigState, MigrationFlags};
use vfio_mig_model::{Allowed, Errno, ErrnoSet, Kind, Profile, ProtocolName};

/// Each errno the model names prints as the kernel's symbol; any other
/// prints its number.
#[test]
fn errnos_print_as_the_kernels_symbols() {
    covers!("V2-ERR-001");
    let named = [
        (Errno::EINTR, "EINTR", 4),
        (Errno::EIO, "EIO", 5),
        (Errno::EBADF, "EBADF", 9),
        (Errno::EAGAIN, "EAGAIN", 11),
        (Errno::ENOMEM, "ENOMEM", 12),
        (Errno::EFAULT, "EFAULT", 14),
        (Errno::EBUSY, "EBUSY", 16),
        (Errno::ENODEV, "ENODEV", 19),
        (Errno::EINVAL, "EINVAL", 22),
        (Errno::ENOTTY, "ENOTTY", 25),
        (Errno::ENOMSG, "ENOMSG", 42),
        (Errno::ETIMEDOUT, "ETIMEDOUT", 110),
    ];
    for (e, name, number) in named {
        assert_eq!(e, Errno(number), "{name}");
        assert_eq!(e.name(), Some(name));
        assert_eq!(e.to_string(), name);
    }
    assert_eq!(Errno(95).name(), None);
    assert_eq!(Errno(95).to_string(), "errno 95");
}

/// An example drawn from "any errno but X" is never X, whatever the seed.
#[test]
fn an_example_of_any_errno_but_one_is_never_that_one() {
    covers!("V2-PRE-004");
    for but in [
        Errno::EINVAL,
        Errno::EIO,
        Errno::ENODEV,
        Errno::EBADF,
        Errno::ENOMSG,
    ] {
        // Every seed a caller can pass, the largest included (fuzz targets
        // and property tests draw seeds from the whole range).
        for seed in (0..16).chain(u64::MAX - 15..=u64::MAX) {
            let e = ErrnoSet::AnyBut(but).example(seed);
            assert_ne!(e, but, "seed {seed}");
            assert!(ErrnoSet::AnyBut(but).contains(e));
        }
    }
}

/// The flags word of VFIO_DEVICE_FEATURE: the feature number in bits 0-15,
/// GET bit 16, SET bit 17, PROBE bit 18 (vfio.h, `struct
/// vfio_device_feature`); reading it back gives the same access.
#[test]
fn feature_flags_are_the_uapi_bits() {
    covers!("V2-FEAT-001", "V2-FEAT-004");
    const GET: u32 = 1 << 16;
    const SET: u32 = 1 << 17;
    const PROBE: u32 = 1 << 18;
    for bits in 0..8u32 {
        let access = Access {
            get: bits & 1 != 0,
            set: bits & 2 != 0,
            probe: bits & 4 != 0,
        };
        let want = (if access.get { GET } else { 0 })
            | (if access.set { SET } else { 0 })
            | (if access.probe { PROBE } else { 0 });
        assert_eq!(access.bits(), want, "{access:?}");
        assert_eq!(
            Access::of_bits(want | 12),
            access,
            "feature bits are not access bits"
        );
        // Feature 1 (MIGRATION) and 11 (unknown to 6.12) with every access
        // a user can ask for; the state feature's well-formed accesses are
        // not requests of this kind.
        for feature in [1u16, 11] {
            let req = FeatureReq::new(feature, access, 24).expect("not the state feature");
            assert_eq!(req.flags(), u32::from(feature) | want, "{req}");
        }
    }
}

/// Reports print the uAPI's state names.
#[test]
fn states_print_as_the_uapi_names() {
    covers!("V2-STATE-001");
    let names = [
        (MigState::Error, "ERROR"),
        (MigState::Stop, "STOP"),
        (MigState::Running, "RUNNING"),
        (MigState::StopCopy, "STOP_COPY"),
        (MigState::Resuming, "RESUMING"),
        (MigState::RunningP2p, "RUNNING_P2P"),
        (MigState::PreCopy, "PRE_COPY"),
        (MigState::PreCopyP2p, "PRE_COPY_P2P"),
    ];
    for (s, name) in names {
        assert_eq!(s.to_string(), name);
    }
}

/// A byte count prints as one number when the range is one value, as a
/// range otherwise; an allowed set lists its permitted patterns in order,
/// with their kinds, and leaves out what the uAPI forbids.
#[test]
fn allowed_sets_print_what_is_allowed() {
    covers!("V2-STREAM-003");
    assert_eq!(Expect::Bytes { min: 4, max: 4 }.to_string(), "4 bytes");
    assert_eq!(Expect::Bytes { min: 1, max: 4 }.to_string(), "1..=4 bytes");
    // v1's register values alike.
    assert_eq!(v1::Expect::Value { min: 7, max: 7 }.to_string(), "value 7");
    assert_eq!(
        v1::Expect::Value { min: 1, max: 7 }.to_string(),
        "a value in 1..=7"
    );
    assert_eq!(
        v1::Expect::Value {
            min: 0,
            max: u64::MAX
        }
        .to_string(),
        "any value"
    );
    let mut a: Allowed<Expect> = Allowed::governed_by(&[]);
    a.push(Expect::Bytes { min: 1, max: 4 }, Kind::Normal, &[]);
    a.push(Expect::Err(ErrnoSet::Exactly(Errno::EBADF)), Kind::Breaks, &[]);
    a.push(Expect::Err(ErrnoSet::Exactly(Errno::ENOMSG)), Kind::Warn, &[]);
    a.push(Expect::Err(ErrnoSet::Any), Kind::Fault, &[]);
    assert_eq!(
        a.to_string(),
        "1..=4 bytes | error ENOMSG (warn) | error any errno (on fault)"
    );
}

/// The model says whether the device offers MIG_DATA_SIZE as it was told.
#[test]
fn the_model_keeps_whether_the_device_has_data_size() {
    covers!("V2-SIZE-001");
    let flags = MigrationFlags::new(0b1).unwrap();
    for has in [false, true] {
        let m = Fsm::new(flags, Profile::defaults(ProtocolName::V2), has);
        assert_eq!(m.data_size(), has);
    }
}

/// No arc into or out of a state a user cannot request is ever required of
/// a v1 device, under any reading of which arcs must work (DEC-003).
#[test]
fn no_v1_arc_through_an_unrequestable_state_is_required() {
    covers!("V1-ARC-001", "V1-ARC-002");
    for option in ["driver-chooses", "flows-required", "all-required"] {
        let mut p = Profile::defaults(ProtocolName::V1);
        p.decide("DEC-003", option).expect("a DEC-003 option");
        let r = v1::Region::new(p, 4096);
        for from in v1::V1State::ALL {
            for to in v1::V1State::ALL {
                if !from.is_requestable() || !to.is_requestable() || from == to {
                    assert_eq!(r.required_arc(from, to), None, "{option}: {from:?} -> {to:?}");
                }
            }
        }
    }
}
