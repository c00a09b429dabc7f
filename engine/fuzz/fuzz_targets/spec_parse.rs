//! The `.spec` parser on any text: no panic, errors inside the text, and what parses prints
//! back as text that parses to the same spec.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep::spec::parse::Spec;

fuzz_target!(|text: &str| {
    match Spec::parse(text) {
        Ok(spec) => {
            let printed = spec.to_string();
            assert_eq!(Spec::parse(&printed).as_ref(), Ok(&spec), "printed:\n{printed}");
        }
        Err(e) => {
            let lines = text.split('\n').count() as u32;
            assert!(e.line >= 1 && e.line <= lines, "{e}");
            assert!(e.column >= 1, "{e}");
        }
    }
});
