//! The data path: saving a large stream from the mock and resuming it into a
//! second instance, next to a plain copy of the same number of bytes in the
//! same run (the limit the ratio in reports/perf.md is taken against).
//!
//! `mock-save` and `mock-resume` move the bytes through the adapter interface
//! alone, as a VMM's migration loop does (the device serialises, checksums
//! and hands over its state; the resuming device takes, checks and applies
//! it); `checked-round-trip` is the data suite's round trip (the model
//! judging every step, the device state compared after the resume).
//! `vfio-user-save` is `mock-save` through a vfio-user socket (the mock's
//! server in a thread, the vfio-user adapter as the client), next to
//! `unix-socket-copy`, the same bytes through a bare UNIX socket pair, and
//! `vfio-user-round-trips`, one data-less request/reply per chunk.

// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};
use vfio_mig_adapters::vfio_user::VfioUserAdapter;
use vfio_mig_bench::{large_stream_mock, load, save, CHUNK, STREAM_LEN};
use vfio_mig_device::Device;
use vfio_mig_device::DeviceFactory;
use vfio_mig_engine::check::Status;
use vfio_mig_engine::handle::Handle;
use vfio_mig_engine::suites::data;
use vfio_mig_engine::target::Target;
use vfio_mig_mock::vfio_user_server::MockServer;
use vfio_mig_mock::MockFactory;
use vfio_mig_model::v2::Fsm;
use vfio_mig_model::{Profile, ProtocolName};

fn data_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("data");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Bytes(STREAM_LEN as u64));

    let src: Vec<u8> = (0..STREAM_LEN).map(|i| (i * 31 % 251) as u8).collect();
    let mut dst = vec![0u8; STREAM_LEN];
    g.bench_function("memcpy", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&dst);
        })
    });

    let factory = MockFactory {
        config: large_stream_mock(STREAM_LEN),
    };
    let mut a = factory.open(0).expect("the mock opens");
    let mut z = factory.open(1).expect("the mock opens");
    // Restoring the device between iterations is not part of the data path:
    // it is left out of the measured time.
    let mut saved = 0;
    g.bench_function("mock-save", |b| {
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                a.restore().expect("the mock restores");
                let start = Instant::now();
                saved = save(a.as_mut(), |chunk| {
                    black_box(chunk);
                });
                took += start.elapsed();
            }
            took
        })
    });
    // Zero when a filter left the benchmark out.
    assert!(saved == 0 || saved > STREAM_LEN);
    a.restore().expect("the mock restores");
    let mut chunks = Vec::new();
    save(a.as_mut(), |chunk| chunks.push(chunk.to_vec()));
    g.bench_function("mock-resume", |b| {
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                z.restore().expect("the mock restores");
                let start = Instant::now();
                assert!(load(z.as_mut(), &mut chunks), "the mock takes its own stream");
                took += start.elapsed();
            }
            took
        })
    });

    // The same save through a vfio-user socket, and the bare socket.
    let sock = std::env::temp_dir().join(format!("vfio-mig-bench-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&sock);
    let listener = std::os::unix::net::UnixListener::bind(&sock).expect("a socket");
    std::thread::spawn(move || MockServer::new(large_stream_mock(STREAM_LEN), 0).serve(&listener));
    let mut remote =
        VfioUserAdapter::open(sock.to_str().expect("a UTF-8 path"), 0).expect("the server answers");
    // One connection for the whole benchmark: the path is not needed again.
    let _ = std::fs::remove_file(&sock);
    let mut through = 0;
    g.bench_function("vfio-user-save", |b| {
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                remote.restore().expect("the server restores");
                let start = Instant::now();
                through = save(&mut remote, |chunk| {
                    black_box(chunk);
                });
                took += start.elapsed();
            }
            took
        })
    });
    assert!(through == 0 || through > STREAM_LEN);
    // As many request/reply round trips as the save has chunks, each without
    // data (GET MIG_DEVICE_STATE): what the protocol adds per chunk beyond
    // the device's copy and the socket's.
    let get = vfio_mig_device::v2::Call::GetState;
    let mut io = vfio_mig_device::Io::default();
    g.bench_function("vfio-user-round-trips", |b| {
        b.iter(|| {
            for _ in 0..STREAM_LEN / CHUNK as usize {
                black_box(remote.exec(&get, &mut io));
            }
        })
    });
    let (mut tx, mut rx) = std::os::unix::net::UnixStream::pair().expect("a socket pair");
    let (go, wait) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let chunk = vec![7u8; CHUNK as usize];
        for () in wait {
            for _ in 0..STREAM_LEN / CHUNK as usize {
                std::io::Write::write_all(&mut tx, &chunk).expect("the pair is open");
            }
        }
    });
    let mut buf = vec![0u8; CHUNK as usize];
    g.bench_function("unix-socket-copy", |b| {
        b.iter(|| {
            go.send(()).expect("the writer runs");
            let mut got = 0;
            while got < STREAM_LEN {
                got += std::io::Read::read(&mut rx, &mut buf).expect("the pair is open");
            }
            black_box(&buf);
        })
    });

    let timeout = vfio_mig_engine::handle::DEFAULT_TIMEOUT;
    let (Ok(mut a), Ok(mut z)) = (Handle::new(a, timeout), Handle::new(z, timeout)) else {
        panic!("the vfio-user adapters cannot be wrapped");
    };
    let model = Fsm::model(a.describe(), Profile::defaults(ProtocolName::V2));
    g.bench_function("checked-round-trip", |b| {
        b.iter(|| {
            let v = data::round_trip_v2(&model, &mut a, &mut z, CHUNK, CHUNK, false, None);
            assert!(v.iter().all(|v| v.status == Status::Pass));
            black_box(v)
        })
    });
    g.finish();
}

criterion_group!(benches, data_path);
criterion_main!(benches);
