#![no_main]
use libfuzzer_sys::fuzz_target;
use newsjournal::import::Format;

fuzz_target!(|data: &[u8]| newsjournal::fuzzing::import(Format::Netscape, data));
