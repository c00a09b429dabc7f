//! The sandbox page (`sandbox.html`): paste or edit an isolation-tester spec, pick one of its
//! permutations or drive it by hand, and watch the same panels as a lesson shows.
//!
//! - [`model`]: the engine state, with [`history`] (periodic snapshots and replay, so Back is
//!   exact in bounded memory);
//! - [`examples`]: the shipped specs;
//! - [`address`]: a spec ([`crate::link`]) and its run in the address;
//! - [`signal`]: the signal the panels share;
//! - [`view`]: the page, and one file per panel.

pub mod address;
pub mod controls;
pub mod editor;
pub mod examples;
pub mod history;
pub mod lanes;
pub mod model;
pub mod output;
pub mod permutation_picker;
pub mod picker;
pub mod replay;
pub mod signal;
pub mod status;
pub mod view;
pub mod wait_graph;
pub mod whole_run;

#[cfg(test)]
mod bounds_tests;
