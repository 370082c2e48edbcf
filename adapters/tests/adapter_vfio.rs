//! Every suite against a real VFIO device (`--features adapter-vfio`,
//! device named by `VFIO_MIG_DEVICE` and `VFIO_MIG_DEVICE2`).

vfio_mig_engine::conformance_main!(v2, vfio_mig_adapters::Factory::from_env(vfio_mig_adapters::VFIO));
