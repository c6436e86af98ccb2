#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| libmodctl_fuzz::json(data));
