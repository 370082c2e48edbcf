#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vfio_mig_fuzz_targets::deviations_loader(data));
