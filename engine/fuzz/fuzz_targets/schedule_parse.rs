//! Schedules as they arrive in a URL's `schedule=` parameter: no panic, errors at a column of
//! the text, and a parsed schedule prints back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep::world::Schedule;

fuzz_target!(|text: &str| {
    match text.parse::<Schedule>() {
        Ok(schedule) => {
            assert_eq!(schedule.to_string().parse::<Schedule>(), Ok(schedule));
        }
        Err(e) => assert!(e.column >= 1 && e.column <= text.chars().count() + 1, "{e}"),
    }
});
