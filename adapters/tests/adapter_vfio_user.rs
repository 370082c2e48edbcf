//! Every suite against a vfio-user server (`--features adapter-vfio-user`,
//! sockets named by `VFIO_MIG_SOCKET` and `VFIO_MIG_SOCKET2`).

vfio_mig_engine::conformance_main!(
    v2,
    vfio_mig_adapters::Factory::from_env(vfio_mig_adapters::VFIO_USER)
);
