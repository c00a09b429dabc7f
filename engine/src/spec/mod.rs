//! PostgreSQL's isolation-tester `.spec` format, and a tester that runs specs on the simulated
//! server and prints what `expected/NAME.out` records.
//!
//! - [`parse`]: the spec syntax tree and parser;
//! - [`table`]: the output pieces (PQprint-style result tables, step lines);
//! - [`mod@run`]: the tester itself, on the virtual clock, and one permutation step by step;
//! - [`whole`]: every permutation of a spec, at once or one piece at a time.

pub mod parse;
pub mod run;
pub mod table;
pub mod whole;

pub use run::{PermutationRun, RunOptions, SessionProgress};
pub use whole::{run, run_text, run_with, WholeRun};
