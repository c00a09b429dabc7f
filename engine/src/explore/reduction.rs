//! How a search prunes schedules that differ only in the order of independent steps (the
//! arguments are in `explorer.rs`).

use serde::{Deserialize, Serialize};

/// How the explorer prunes schedules that differ only in the order of independent steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reduction {
    /// Sleep sets, plus expanding a state by one [`Model::local`] choice when it has one: fewer
    /// transitions and fewer states; every failure kind is still found, with its exact shortest
    /// schedule when the failure is at a terminal state. The default.
    PersistentSets,
    /// Sleep sets over [`Model::independent`] alone: fewer transitions, every state still
    /// visited, every shortest schedule exact.
    SleepSets,
    /// No reduction: every enabled choice of every state is tried once. The only mode in which
    /// the report can count every schedule of the model.
    Off,
}
