#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vfio_mig_fuzz_targets::trace_checker(data));
