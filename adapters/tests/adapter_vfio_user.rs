//! Every suite against a vfio-user server (`--features adapter-vfio-user`,
//! sockets named by `VFIO_MIG_SOCKET` and `VFIO_MIG_SOCKET2`), each
//! instance on one connection for the whole run.

vfio_mig_engine::conformance_main!(v2, vfio_mig_adapters::vfio_user::VfioUserFactory::from_env());
