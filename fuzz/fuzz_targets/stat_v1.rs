#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| libmodctl_fuzz::stat_v1(data));
