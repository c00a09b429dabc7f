//! Shared helpers for the cross-crate integration tests.
//!
//! - [`pg_tester`]: runs isolation specs against a real PostgreSQL server the way PostgreSQL's
//!   `isolationtester` does;
//! - [`scenario`]: seeded random small isolation scenarios within the engine's SQL subset;
//! - [`differential`]: runs scenarios on the real server and on the engine, shrinks a
//!   divergence to a minimal spec and records it as a regression.

pub mod differential;
pub mod pg_tester;
pub mod scenario;
