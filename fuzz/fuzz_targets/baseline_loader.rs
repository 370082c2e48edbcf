#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vfio_mig_fuzz_targets::baseline_loader(data));
