//! The sandbox page (`sandbox.html`): paste or edit an isolation-tester spec, pick one of its
//! permutations or drive it by hand, and watch the same panels as a lesson shows.
//!
//! - [`model`]: the engine state (one snapshot per move, so Back is exact);
//! - [`examples`]: the shipped specs;
//! - [`link`] and [`address`]: a spec and its run in the address;
//! - [`signal`]: the signal the panels share;
//! - [`view`]: the page, and one file per panel.

pub mod address;
pub mod controls;
pub mod editor;
pub mod examples;
pub mod lanes;
pub mod link;
pub mod model;
pub mod output;
pub mod signal;
pub mod status;
pub mod view;
pub mod wait_graph;
