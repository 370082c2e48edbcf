//! Every conformance test against the vendor's device, from one macro.

vfio_mig_engine::conformance_main!(v2, vendor_adapter_example::VendorFactory::from_env());
