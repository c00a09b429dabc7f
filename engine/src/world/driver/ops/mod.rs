//! A task's operations, one function each, by what they act on: the database (`database`), the
//! task and its goroutines and contexts (`goroutines`), its own values (`values`). The
//! interpreter's `exec_op` picks the function.

mod database;
mod goroutines;
mod values;
