//! Parse a spec, then run it on the simulated server with small limits: any panic is an engine
//! bug (SQL errors, deadlocks and timeouts are output, not failures).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep::spec::parse::Spec;
use lockstep::spec::run::{run_with, RunOptions};
use lockstep::time::Duration;

/// Small enough that one input runs in milliseconds.
const SESSIONS_MAX: usize = 4;
const STEPS_MAX: usize = 24;
const PERMUTATIONS_MAX: usize = 24;

fuzz_target!(|text: &str| {
    let Ok(spec) = Spec::parse(text) else {
        return;
    };
    let steps: usize = spec.sessions.iter().map(|s| s.steps.len()).sum();
    if spec.sessions.len() > SESSIONS_MAX || steps > STEPS_MAX {
        return;
    }
    match spec.permutations_to_run() {
        Ok(p) if p.len() <= PERMUTATIONS_MAX => {}
        _ => return,
    }
    let options = RunOptions {
        step_wait_max: Duration::from_secs(5),
    };
    let _ = run_with(&spec, &options);
});
