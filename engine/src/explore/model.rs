//! The one trait the explorer needs from a system: what can happen next, how it happens, and
//! what is wrong with a state.

use std::fmt::Debug;
use std::hash::Hash;

/// A nondeterministic system as one plain value. The explorer clones it, steps the clones with
/// every enabled choice, and compares states by equality (through a fingerprint of [`Hash`]).
///
/// Everything here must be a pure function of the value: no clocks, no randomness, no
/// hash-ordered iteration. Two equal values must hash equally and give the same choices in the
/// same order, the same step results and the same failure; otherwise the report is not
/// deterministic and the search may be unsound.
///
/// # Implementing it for the world
///
/// A few lines, with `type Choice = world::Choice` and a `Failure` that names a *kind* of
/// outcome (e.g. `Stall`, `Deadlock`, `InvariantViolated("totals add up")`, an error's SQLSTATE)
/// without pids, xids or times, because each distinct `Failure` value is reported separately:
///
/// - [`choices`](Model::choices): `world.choices()` while `status()` is `Running`, nothing
///   otherwise (a finished or stalled world is terminal);
/// - [`step`](Model::step): `world.step(choice)`, ignoring the events; an `Err` for a choice the
///   world itself listed is an engine bug, so `expect` it;
/// - [`failure`](Model::failure): from `status()`: `Stall` and `Finished` with invariant
///   violations map to a kind, a clean `Finished` or `Running` to `None`;
/// - [`independent`](Model::independent): `false` to begin with (sound, no reduction); then
///   `true` for two task choices whose next operations touch disjoint resources (see
///   [`Footprint`](super::Footprint)). `Tick` is enabled only when no task can run, so it is never
///   enabled together with another choice and never needs to be independent.
pub trait Model: Clone + Eq + Hash {
    /// What the scheduler picks: which task (or the clock) moves next. A choice names an actor,
    /// not an effect: in a later state the same value means "that actor's next step".
    type Choice: Clone + Eq + Debug;

    /// A kind of failure. Distinct values are reported separately, each with its own shortest
    /// schedule, and in this order.
    type Failure: Clone + Ord + Debug;

    /// Appends the choices enabled in this state to `choices`, in a fixed order, without
    /// duplicates. Appending none makes this state terminal: a schedule ends here (finished,
    /// stalled, or stopped because the model does not look past a failure).
    ///
    /// The order is the order in which the explorer tries choices, so it decides which of
    /// several equally short schedules the report shows.
    fn choices(&self, choices: &mut Vec<Self::Choice>);

    /// Takes one step. Called only with a choice that [`choices`](Model::choices) listed for this
    /// very state.
    fn step(&mut self, choice: &Self::Choice);

    /// What is wrong with this state, if anything: a property of the state alone, checked once
    /// for every distinct state, terminal or not. A state may fail and still have choices; the
    /// explorer goes on past it (a model that wants schedules to end at a failure lists no
    /// choices there). A schedule fails when any state on it fails. When several things are wrong
    /// at once, return one value that names them all, or the one that matters most.
    fn failure(&self) -> Option<Self::Failure>;

    /// Whether two distinct choices, both enabled in this state, commute here:
    ///
    /// 1. taking `a` leaves `b` enabled, and taking `b` leaves `a` enabled; and
    /// 2. `a` then `b` reaches a state equal to `b` then `a`.
    ///
    /// Answering `true` lets the explorer try only one of the two orders (and everything that
    /// follows from that); answering `false` is always sound and only costs time. A wrong `true`
    /// can hide failures. The default, `false`, turns the reduction off.
    fn independent(&self, a: &Self::Choice, b: &Self::Choice) -> bool {
        let _ = (a, b);
        false
    }
}
