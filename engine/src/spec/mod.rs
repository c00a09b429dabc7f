//! PostgreSQL's isolation-tester `.spec` format, and a tester that runs specs on the simulated
//! server and prints what `expected/NAME.out` records.

pub mod parse;
pub mod table;
