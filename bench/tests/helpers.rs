//! The benchmarks measure what they claim: the model traces are accepted
//! step by step, and the data-path helpers move a stream the mock accepts
//! (and refuse a damaged one).

use vfio_mig_bench::{large_stream_mock, load, replay, save, uncertain_steps, walk};
use vfio_mig_device::DeviceFactory;
use vfio_mig_mock::MockFactory;
use vfio_mig_model::v1::Region;
use vfio_mig_model::v2::{Fsm, MigrationFlags};
use vfio_mig_model::{Profile, Protocol, ProtocolName};

#[test]
fn model_traces_are_judged_allowed_at_every_step() {
    let v2 = Fsm::new(
        MigrationFlags::accepted()[3],
        Profile::defaults(ProtocolName::V2),
        true,
    );
    let v1 = Region::new(Profile::defaults(ProtocolName::V1), 4096);
    let t2 = walk(&v2, 2000, 64, 1);
    assert_eq!(replay(&v2, &t2), 2000);
    let t1 = walk(&v1, 2000, 64, 1);
    assert_eq!(replay(&v1, &t1), 2000);
    // Every step of the walk is one the model allows.
    let mut b = v2.start();
    for (op, outcome) in &t2 {
        b = v2.advance(&b, op, outcome).expect("allowed").0;
    }
    // Answers drawn from every pattern leave the model uncertain more often.
    let any = walk(&v2, 2000, 1, 1);
    assert!(uncertain_steps(&v2, &any) > uncertain_steps(&v2, &t2));
}

#[test]
fn the_data_path_helpers_round_trip_and_refuse_damage() {
    let factory = MockFactory {
        config: large_stream_mock(3 << 20),
    };
    let mut a = factory.open(0).unwrap();
    let mut z = factory.open(1).unwrap();
    a.restore().unwrap();
    let mut chunks = Vec::new();
    let len = save(a.as_mut(), |c| chunks.push(c.to_vec()));
    assert!(
        len > 3 << 20 && chunks.len() == 4,
        "{len} bytes in {} chunks",
        chunks.len()
    );
    z.restore().unwrap();
    assert!(load(z.as_mut(), &mut chunks));
    assert_eq!(z.fingerprint(), a.fingerprint(), "the state arrived");
    chunks[1][100] ^= 1;
    z.restore().unwrap();
    assert!(!load(z.as_mut(), &mut chunks), "a damaged stream is refused");
}
