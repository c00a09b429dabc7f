//! The world: the server together with the application side (pools, connections, tasks) and
//! the virtual clock, changed only by `step`.

pub mod program;
pub mod protocol;
pub mod rng;
pub mod scenario;
pub mod schedule;
