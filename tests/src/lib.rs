//! Shared helpers for the cross-crate integration tests.
//!
//! - [`pg_tester`]: runs isolation specs against a real PostgreSQL server the way PostgreSQL's
//!   `isolationtester` does, for differential testing of the engine.

pub mod pg_tester;
