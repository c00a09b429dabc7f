//! Budgets a caller puts on a search besides its [`Limits`](super::Limits): the engine has no
//! clock (see the crate's contract), so a bound on wall-clock time, or a wish to print progress,
//! lives with the caller. The search asks its [`Budget`] between slices of bounded work whether
//! to go on, and a search stopped that way says which budget it met, so the caller never
//! mistakes an unfinished search for a finished one.
//!
//! ```
//! # use lockstep::explore::{Budget, Progress};
//! // A budget of 1,000 distinct states, checked between slices.
//! let mut budget = |progress: &Progress| {
//!     (progress.states_unique > 1_000).then(|| "the budget of 1000 states".to_string())
//! };
//! # let _: &mut dyn Budget = &mut budget;
//! ```

use super::Progress;

/// Asked between slices of a search whether to go on.
pub trait Budget {
    /// A new search begins, described in words ("fix order-by", "challenge survive"): a budget
    /// per search starts again here.
    fn begin(&mut self, _what: &str) {}

    /// `None` to go on; otherwise the budget that ran out, in words that complete "... reached"
    /// ("the time budget of 60 s").
    fn spent(&mut self, progress: &Progress) -> Option<String>;
}

/// No budget beyond the search's own limits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unlimited;

impl Budget for Unlimited {
    fn spent(&mut self, _: &Progress) -> Option<String> {
        None
    }
}

impl<F: FnMut(&Progress) -> Option<String>> Budget for F {
    fn spent(&mut self, progress: &Progress) -> Option<String> {
        self(progress)
    }
}
