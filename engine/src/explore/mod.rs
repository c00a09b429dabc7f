//! The explorer: "check every schedule".
//!
//! Given a [`Model`] (a plain value whose only transitions are its enabled choices), the
//! [`Explorer`] walks every schedule depth-first, remembers each state it has seen by a
//! [fingerprint](fingerprint::fingerprint), and skips schedules that differ only in the order of
//! independent steps (sleep sets, see [`explorer`]). It runs in slices of bounded work so a
//! browser tab stays responsive, stops at explicit [`Limits`], and hands back a [`Report`]: whether
//! the search was complete, how many states it saw, every distinct failure with the shortest
//! schedule that reaches it, and whether the model is proven (complete, no failure).
//!
//! The explorer knows nothing of PostgreSQL: the world implements [`Model`] in a few lines (see
//! its docs), and the tests and the benchmark use small toy models. Determinism is a contract:
//! the same model and limits give the same report, however the work is sliced, natively and in
//! WebAssembly.
//!
//! # Use
//!
//! ```ignore
//! // Native (the CLI): run to the end.
//! let report = Explorer::new(world, Limits::default()).run();
//! println!("{}", report.verdict()); // "No schedule fails (1234 states, complete)"
//!
//! // Browser: one slice per animation frame or timer tick, showing progress in between.
//! let mut explorer = Explorer::new(world, Limits::default());
//! let progress = explorer.run_slice(SLICE_STEPS_DEFAULT); // call again until progress.finished
//! let report = explorer.report();
//! ```
//!
//! # Symmetry
//!
//! A model with interchangeable actors (the world: identical requests, and the connections,
//! backends and handles they use) files states under a [canonical
//! fingerprint](Model::canonical_fingerprint), the same for states that are renamings of one
//! another, so a search meets each such family once. Every reduced search uses it
//! ([`Explorer::with_options`] turns it off); [`Reduction::Off`] never does. With symmetry, state
//! and end-state counts and failure kinds are counted up to renaming, and the schedules in the
//! report are replayed from the start through the renamings, so they are real schedules that
//! reach what they claim.
//!
//! # What the report counts
//!
//! - `states_unique`: distinct states (by fingerprint, up to renaming with symmetry). Sleep sets
//!   leave it alone; persistent sets lower it when the model has [local](Model::local) choices.
//! - `transitions`: steps taken; both reductions lower it.
//! - `failures`: one entry per distinct [`Model::Failure`] value, with a shortest schedule
//!   (exact without reduction and with sleep sets, and for failures of terminal states with
//!   persistent sets; see [`explorer`]).
//! - `terminal_states`: distinct end states, failing or not; the same under every reduction.
//! - `schedules`: complete schedules, failing or not: every schedule of the model when the
//!   search ran without reduction ([`Schedules::All`]), only the explored ones with it
//!   ([`Schedules::Explored`]), nothing when incomplete or cyclic.
//! - [`Report::proven`] only when the search was complete and found no failure;
//!   [`Report::verdict`] says "No schedule fails (N states, complete)" only then, and
//!   "No failure within N states (...)" when a limit stopped the search first.

pub mod budget;
pub mod explorer;
pub mod fingerprint;
pub mod footprint;
pub mod model;
mod reduction;
pub mod report;
mod state_graph;
mod visited;
pub mod world;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod toys;

pub use budget::{Budget, Unlimited};
pub use explorer::{Explorer, Progress, Reduction};
pub use footprint::Footprint;
pub use model::Model;
pub use report::{FailureFound, Report, Schedules, Stop, TerminalStates, Verdict};

/// Default for [`Limits::states_max`]: enough for every lesson, small enough (a few tens of MB
/// of bookkeeping) for a browser tab.
pub const STATES_MAX_DEFAULT: usize = crate::limits::EXPLORER_STATES_MAX;

/// Default for [`Limits::depth_max`]: far longer than any lesson's schedule; a schedule this long
/// means the model loops without advancing, and the search says it stopped there.
pub const DEPTH_MAX_DEFAULT: usize = crate::limits::STEPS_PER_RUN_MAX;

/// Default for [`Limits::slice_steps`]: a few milliseconds of work, so that a browser slice
/// does not drop frames. Measured on the world's pool-exhaustion scenario with the default
/// reduction: about 30 to 60 µs per step natively (a step also tries whether a task's next step
/// is private, on a copy, and hashes the state up to renaming), so 100 steps are 3 to 6 ms
/// natively and, allowing WebAssembly twice that, about 10 ms.
pub const SLICE_STEPS_DEFAULT: usize = 100;

/// Every bound on one exploration. The search never exceeds them; when it meets one it stops
/// there and the [`Report`] says the search was not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// At most this many distinct states are recorded; meeting the next new state stops the
    /// whole search.
    pub states_max: usize,
    /// States at this depth (steps from the start) are recorded but not expanded.
    pub depth_max: usize,
    /// Steps per slice for [`Explorer::run`], which runs slice after slice to the end. The UI
    /// passes its own budget to [`Explorer::run_slice`] instead.
    pub slice_steps: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            states_max: STATES_MAX_DEFAULT,
            depth_max: DEPTH_MAX_DEFAULT,
            slice_steps: SLICE_STEPS_DEFAULT,
        }
    }
}
