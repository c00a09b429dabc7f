//! The lesson-file parser (TOML, then validation, which builds the scenario's world and every
//! fix's) on any text: no panic, and errors name the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(e) = lockstep::lesson::parse("fuzz.toml", text) {
        assert_eq!(e.file, "fuzz.toml");
        assert!(!e.message.is_empty());
    }
});
