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
/// A few lines. `Failure` should name a *kind* of outcome (deadlock, stall, which invariant
/// broke) without pids, xids, times or explanations, because each distinct value is reported
/// separately with its own shortest schedule:
///
/// ```ignore
/// #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
/// pub enum Failure {
///     Deadlock,
///     Stall,
///     /// The invariants that do not hold at the end, sorted.
///     Invariants(Vec<String>),
/// }
///
/// impl explore::Model for World {
///     type Choice = Choice;
///     type Failure = Failure;
///
///     fn choices(&self, choices: &mut Vec<Choice>) {
///         // Empty once every task returned or nothing can ever run again: terminal.
///         choices.extend(World::choices(self));
///     }
///
///     fn step(&mut self, choice: &Choice) {
///         // The world listed this choice itself, so an error is an engine bug.
///         World::step(self, *choice).expect("an enabled choice steps");
///     }
///
///     fn failure(&self) -> Option<Failure> {
///         match self.status() {
///             Status::Running => None,
///             Status::Finished { invariant_violations } if invariant_violations.is_empty() => None,
///             Status::Finished { mut invariant_violations } => {
///                 invariant_violations.sort();
///                 Some(Failure::Invariants(invariant_violations))
///             }
///             Status::Deadlock { .. } => Some(Failure::Deadlock),
///             Status::Stall { .. } => Some(Failure::Stall),
///         }
///     }
///
///     // `independent` and `local` left out at first: the defaults (`false`) give a sound
///     // plain search. Then `independent`: two `Choice::Task`s whose next operations touch
///     // disjoint resources (different pools, connections, rows, tables; pure client-side steps
///     // touch nothing); see `Footprint`. `Tick` is enabled only when no task can run, so it is
///     // never enabled together with another choice and needs no answer. And `local`, which
///     // pays most: a task's next operation that touches nothing any other unfinished task's
///     // remaining program can touch (its own variables, its own connection's stream).
/// }
/// ```
///
/// Two things make or break the search's speed on the world:
///
/// - `Eq` and `Hash` must cover exactly what can affect the future. A trace, a step counter or
///   an event log in the hashed state makes every schedule's states distinct, and nothing is
///   ever recognised as seen before. Parts that never change (the scenario behind a shared
///   pointer) cost hashing time on every state and tell no states apart: skip them in `Hash`.
/// - `failure` is called once per distinct state and `choices` at least once, so they should
///   be cheap while the world is running (as `status` is: it returns `Running` as soon as a
///   task can run).
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

    /// Whether `choice`, enabled in this state, is *local*:
    ///
    /// 1. its step commutes with every step the *other* actors can take from this state on, for
    ///    as long as `choice`'s actor does not move: it touches nothing any of them will touch,
    ///    and it neither enables nor disables any of their steps (nor they it); and
    /// 2. it keeps failures: wherever it can be taken along the way (this state, or any state
    ///    the other actors reach from here before this actor moves), if that state fails, the
    ///    state after the step fails in the same way. A model that reports failures only of
    ///    terminal states (as the world does: `Running` never fails) has nothing to check here,
    ///    since a state where `choice` can be taken is not terminal. Note what this rules out:
    ///    a failure of a running state that a terminal state would report differently, such as
    ///    "deadlock" taking precedence over "value is wrong" (the toy tests met exactly that).
    ///
    /// Typically: the actor's next step touches only its own data (a client-side computation),
    /// or only resources that no other unfinished actor's remaining program mentions (see
    /// [`Footprint`](super::Footprint)'s `union` for summing up a program's future).
    ///
    /// With [`Reduction::PersistentSets`](super::Reduction::PersistentSets), a state with a
    /// local choice is expanded by that choice alone: everything the others can do still happens
    /// after it, in every order that matters. This prunes *states*, not only transitions, which
    /// is what fine-grained steps (one protocol message at a time) need. A wrong `true` can hide
    /// failures; the default, `false`, is always sound.
    fn local(&self, choice: &Self::Choice) -> bool {
        let _ = choice;
        false
    }

    /// Whether [`canonical_fingerprint`](Model::canonical_fingerprint) is worth computing: the
    /// model has symmetries, interchangeable actors whose renaming maps schedules to schedules.
    const SYMMETRY: bool = false;

    /// A fingerprint that is the same for states that are renamings of one another under a
    /// symmetry of the model (two identical requests swapped, with everything that belongs to
    /// them), and otherwise as distinct as a plain fingerprint. Used only when
    /// [`SYMMETRY`](Model::SYMMETRY) is true and the search reduces.
    ///
    /// It must be a fingerprint of a genuine renaming of `self`, so that equal values mean
    /// renamings of each other: then exploring one explores the other, mirrored, and every
    /// failure is still found *up to renaming* (a failure value that names an actor may come out
    /// naming its twin). It need not find every symmetry: missing one only costs states.
    fn canonical_fingerprint(&self) -> u64 {
        super::fingerprint::fingerprint(self)
    }
}
