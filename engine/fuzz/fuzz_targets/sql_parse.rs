//! The SQL parser on any text: no panic, no stack overflow, errors inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match lockstep::sql::parse(text) {
        Ok(statements) => {
            for s in statements {
                assert!(text.contains(&s.text));
            }
        }
        Err(e) => {
            let lines = text.split('\n').count() as u32;
            assert!(e.line >= 1 && e.line <= lines, "{e}");
            assert!(e.column >= 1 && e.position >= 1, "{e}");
            assert!(e.position as usize <= text.chars().count() + 1, "{e}");
        }
    }
});
