//! Lockstep's engine: a pure, deterministic simulation of PostgreSQL and the applications that
//! use it.
//!
//! The whole simulated system is one value, [`world::World`]; only [`world::World::step`]
//! changes it. The same scenario and the same schedule always give the same trace, natively and
//! in WebAssembly: nothing here reads a clock, a random source or a hash-ordered collection.
//!
//! Layout, from the bottom up:
//! - [`limits`]: every bound on input, in one place;
//! - [`time`]: the virtual clock's instants and durations;
//! - [`sql`]: the SQL subset's lexer, syntax tree and parser;
//! - [`server`]: the PostgreSQL model (storage, MVCC, locks, deadlock detector, timeouts);
//! - [`spec`]: PostgreSQL's isolation-tester spec format and a tester that runs specs on
//!   [`server`];
//! - [`world`]: the server together with clients, pools, connections and tasks;
//! - [`lesson`]: the lesson file format and how a fix patches a scenario;
//! - [`explore`]: the exhaustive explorer that finds failures and proves fixes;
//! - [`analysis`]: questions about many worlds of one lesson (how big a pool must be).

pub mod analysis;
pub mod explore;
pub mod lesson;
pub mod limits;
pub mod order;
#[cfg(test)]
mod parse_proptests;
pub mod server;
pub mod spec;
pub mod sql;
pub mod time;
pub mod world;
#[cfg(test)]
mod world_invariants;
