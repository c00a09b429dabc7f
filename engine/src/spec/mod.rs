//! PostgreSQL's isolation-tester `.spec` format, and a tester that runs specs on the simulated
//! server and prints what `expected/NAME.out` records.
//!
//! - [`parse`]: the spec syntax tree and parser;
//! - [`table`]: the output pieces (PQprint-style result tables, step lines);
//! - [`printed`]: what the tester printed, piece by piece, as data;
//! - [`mod@run`]: the tester itself, on the virtual clock, and one permutation step by step;
//! - [`whole`]: every permutation of a spec, at once or one piece at a time.

pub mod parse;
pub mod printed;
pub mod run;
pub mod table;
pub mod whole;

pub use printed::{Printed, Report};
pub use run::{PermutationRun, SessionProgress, Starting};
pub use whole::{run, run_into, run_text, run_with, WholeRun};

use crate::limits::{SPEC_BYTES_MAX, STEP_WAIT_SECONDS_MAX};
use crate::time::Duration;
use std::io::Read;

/// Settings of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// How long a step may block before the tester cancels it (isolationtester's
    /// `PGISOLATIONTIMEOUT`, 300 s by default). Only a permutation whose step can never finish
    /// gets there; the cancel is then printed as isolationtester prints it.
    pub step_wait_max: Duration,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            step_wait_max: Duration::from_secs(300),
        }
    }
}

impl RunOptions {
    /// The settings with `PGISOLATIONTIMEOUT` set to `seconds` as written (the environment
    /// variable's text): a whole number of seconds up to [`STEP_WAIT_SECONDS_MAX`], or an error
    /// that says what is wrong with it.
    pub fn with_timeout(seconds: &str) -> Result<RunOptions, String> {
        let refuse = || {
            format!(
                "PGISOLATIONTIMEOUT={seconds}: give whole seconds from 0 to \
                 STEP_WAIT_SECONDS_MAX ({STEP_WAIT_SECONDS_MAX})"
            )
        };
        let secs: u64 = seconds.trim().parse().map_err(|_| refuse())?;
        if secs > STEP_WAIT_SECONDS_MAX {
            return Err(refuse());
        }
        Ok(RunOptions {
            step_wait_max: Duration::from_secs(secs),
        })
    }
}

/// Reads a spec's text from `reader` (a file, or standard input), reading no more than
/// [`SPEC_BYTES_MAX`] + 1 bytes, so that an endless stream is refused instead of read whole.
pub fn read_text(reader: impl Read) -> Result<String, String> {
    let mut bytes = Vec::new();
    let limit = SPEC_BYTES_MAX as u64 + 1;
    reader
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > SPEC_BYTES_MAX {
        return Err(format!(
            "the spec is longer than SPEC_BYTES_MAX ({SPEC_BYTES_MAX} bytes)"
        ));
    }
    String::from_utf8(bytes).map_err(|e| format!("the spec is not UTF-8: {e}"))
}
