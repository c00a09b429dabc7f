//! The search: depth-first over choices, with a visited set of fingerprints and sleep sets.
//!
//! # The reduction, and why it never misses a failure
//!
//! Sleep sets (Godefroid, *Partial-Order Methods for the Verification of Concurrent Systems*,
//! LNCS 1032, 1996, chapter 5, "sleep sets with state caching"): after the search has explored
//! choice `t` from state `s`, any sibling `u` explored later from `s` and independent of `t`
//! leads to `s.u`, from where `t` need not be tried first, because `s.u.t == s.t.u` was already
//! reached below `s.t`. So `t` "sleeps" in `s.u` and stays asleep along every later step that is
//! independent of it; it wakes up at the first dependent step.
//!
//! Sleep sets prune *transitions*, never *states*: every state reachable from the start is still
//! visited (Godefroid's theorem 5.2 for trees, and for graphs when the visited set remembers the
//! sleep set each state was entered with and, on a later visit with a smaller sleep set, explores
//! the choices that were asleep then and are awake now, keeping the intersection; that is what
//! [`Explorer`] does with `Record::sleep`). The argument in one line: a choice `t` asleep in `s`
//! was explored from an ancestor `p` of `s`, and every step from `p` to `s` commutes with `t`, so
//! any schedule from `s` that starts with `t` has an equivalent schedule, of the same length,
//! that passes through `p.t`, whose subtree the search walks. Because failures are properties of
//! states ([`Model::failure`]) and every state is visited, the reduced search finds exactly the
//! failure kinds of the plain one; because equivalent schedules have the same length, the graph
//! it walks still holds a shortest schedule to each state, so the report's breadth-first pass
//! over that graph finds the same shortest lengths. The tests check both claims against the plain
//! search on toy models and on hundreds of random ones.
//!
//! The soundness rests on [`Model::independent`] being right; a model that answers `false`
//! everywhere gets a plain search.
//!
//! # Persistent sets: pruning states too
//!
//! Sleep sets leave the number of states alone, and a world whose tasks take many small steps
//! has a great many states. [`Reduction::PersistentSets`] adds the simplest persistent sets
//! (Godefroid, chapter 4, and the "ample sets" of Peled and of Clarke, Grumberg and Peled's
//! *Model Checking*): when a state has a [`Model::local`] choice `c` that is awake, the search
//! expands that state by `c` alone. Every step any other actor can take from there commutes with
//! `c` (the model promises it), so every schedule from the state that takes some of those steps
//! first has an equivalent one, of the same length, that takes `c` first; the subtree below `c`
//! holds it. Hence:
//!
//! - every terminal state is still reached, on a schedule as short as the shortest to it
//!   (Godefroid's theorem 4.3: persistent sets preserve deadlocks; equivalent schedules have the
//!   same length), so failures at terminal states keep their exact shortest schedules;
//! - failures of non-terminal states are still all found, because `c` keeps failures (the
//!   second half of [`Model::local`]'s contract, the "invisibility" of ample sets): moving `c`
//!   ahead of other steps turns each failing state `t` on a schedule into `t.c`, which fails the
//!   same way. The schedule found may take a few independent steps more than the shortest;
//! - the usual cycle proviso: if `c` leads back to a state on the depth-first stack (a cycle,
//!   along which `c` could be postponed forever), the state is expanded by every choice after
//!   all.
//!
//! The combination with sleep sets and state caching is Godefroid's (chapter 6): a revisited
//! state explores the choices that were asleep at its first visit and are awake now, exactly as
//! without persistent sets. The tests check all of this against the plain search on random
//! models whose `local` is computed from each process's remaining program.
//!
//! # Costs and limits
//!
//! Each distinct state costs a 12-byte slot in the visited table (at most 3/4 full), a 16-byte
//! record and, for every explored transition, a 12-byte edge (the report's shortest schedules and
//! schedule counts are computed from them).
//! The depth-first stack holds one state per level. Sleep sets are 64-bit masks over a state's
//! choice positions: choices beyond the 64th are never put to sleep (explored always, which is
//! sound).

use super::budget::{Budget, Unlimited};
use super::fingerprint::fingerprint as fingerprint_of;
pub use super::reduction::Reduction;
use super::report::{self, Report, Stop};
use super::state_graph::{Edge, Record};
use super::visited::{Lookup, Visited};
use super::{Limits, Model};
use crate::limits::{SLEEP_SET_CHOICES_MAX, VISITED_STATES_MAX};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How far a search has come, returned after each slice. Cheap: no analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Progress {
    /// The search has ended: it either explored everything or met a limit. More slices do
    /// nothing.
    pub finished: bool,
    /// Distinct states recorded so far.
    pub states_unique: usize,
    /// Steps taken so far.
    pub transitions: u64,
    /// Distinct failure kinds found so far.
    pub failures: usize,
    /// Steps from the start to the state being expanded now.
    pub depth: usize,
}

/// A sleep set's width: choices at positions 64 and beyond never sleep.
const SLEEP_BITS: usize = SLEEP_SET_CHOICES_MAX;

/// One level of the depth-first stack.
struct Frame<M: Model> {
    /// The state, until its last choice takes it.
    state: Option<M>,
    index: u32,
    depth: u32,
    choices: Vec<M::Choice>,
    /// The next choice position to consider.
    cursor: usize,
    /// Which positions below 64 to explore.
    todo: u64,
    /// Whether positions 64 and beyond are explored.
    todo_beyond: bool,
    /// Expanded by one local choice only (a persistent set), until the cycle proviso widens it.
    ample: bool,
    /// The current sleep set: the inherited one plus every choice already explored here.
    sleep: u64,
}

impl<M: Model> Frame<M> {
    /// The sleep set of the state the choice at `position` leads to, as a mask over this
    /// frame's positions: what sleeps here and commutes with that choice. The choice itself
    /// sleeps here from now on.
    fn child_sleep(&mut self, position: usize, reduction: Reduction) -> u64 {
        let mut sleep = 0u64;
        if reduction == Reduction::Off {
            return sleep;
        }
        let state = self
            .state
            .as_ref()
            .expect("a frame keeps its state until its last choice");
        let mut asleep = self.sleep;
        while asleep != 0 {
            let other = asleep.trailing_zeros() as usize;
            asleep &= asleep - 1;
            if state.independent(&self.choices[other], &self.choices[position]) {
                sleep |= 1 << other;
            }
        }
        if position < SLEEP_BITS {
            self.sleep |= 1 << position;
        }
        sleep
    }

    fn wanted(&self, position: usize) -> bool {
        if position < SLEEP_BITS {
            self.todo >> position & 1 == 1
        } else {
            self.todo_beyond
        }
    }

    /// Whether no choice after `position` is to be explored.
    fn is_last(&self, position: usize) -> bool {
        !(position + 1..self.choices.len()).any(|later| self.wanted(later))
    }

    fn next_choice(&mut self) -> Option<usize> {
        while self.cursor < self.choices.len() {
            let position = self.cursor;
            self.cursor += 1;
            if self.wanted(position) {
                return Some(position);
            }
        }
        None
    }
}

/// An exhaustive, incremental search over every schedule of a [`Model`].
///
/// ```
/// # use lockstep::explore::{Explorer, Limits, Model};
/// #[derive(Clone, PartialEq, Eq, Hash)]
/// struct Coin(Option<bool>);
/// impl Model for Coin {
///     type Choice = bool;
///     type Failure = &'static str;
///     fn choices(&self, choices: &mut Vec<bool>) {
///         if self.0.is_none() {
///             choices.extend([false, true]);
///         }
///     }
///     fn step(&mut self, choice: &bool) {
///         self.0 = Some(*choice);
///     }
///     fn failure(&self) -> Option<&'static str> {
///         (self.0 == Some(true)).then_some("heads")
///     }
/// }
/// let mut explorer = Explorer::new(Coin(None), Limits::default());
/// while !explorer.run_slice(1).finished {}
/// let report = explorer.report();
/// assert!(report.complete);
/// assert_eq!(report.failures[0].schedule, vec![true]);
/// ```
pub struct Explorer<M: Model> {
    root: M,
    limits: Limits,
    reduction: Reduction,
    /// States are filed under [`Model::canonical_fingerprint`]: symmetric states are one.
    symmetry: bool,
    visited: Visited,
    records: Vec<Record>,
    /// With symmetry: each record's plain fingerprint, telling a revisit of the very state
    /// first entered from a revisit of a renaming of it.
    plain: Vec<u64>,
    edges: Vec<Edge>,
    kinds: Vec<M::Failure>,
    kind_ids: BTreeMap<M::Failure, u32>,
    stack: Vec<Frame<M>>,
    /// Choice buffers of popped frames, reused to spare allocations.
    spare: Vec<Vec<M::Choice>>,
    transitions: u64,
    depth_reached: u32,
    depth_truncated: bool,
    states_truncated: bool,
    finished: bool,
}

impl<M: Model> Explorer<M> {
    /// A search from `root` with the default reduction, [`Reduction::PersistentSets`]. Does no
    /// exploring yet.
    pub fn new(root: M, limits: Limits) -> Explorer<M> {
        Explorer::with_reduction(root, limits, Reduction::PersistentSets)
    }

    /// A search from `root` with the given reduction, and with the model's symmetries unless
    /// the reduction is [`Reduction::Off`]. Does no exploring yet.
    pub fn with_reduction(root: M, limits: Limits, reduction: Reduction) -> Explorer<M> {
        Explorer::with_options(root, limits, reduction, true)
    }

    /// A search from `root` with the given reduction, using the model's symmetries
    /// ([`Model::canonical_fingerprint`]) if `symmetry` and the reduction is not
    /// [`Reduction::Off`]. Does no exploring yet.
    pub fn with_options(
        root: M,
        limits: Limits,
        reduction: Reduction,
        symmetry: bool,
    ) -> Explorer<M> {
        let symmetry = symmetry && M::SYMMETRY && reduction != Reduction::Off;
        let mut explorer = Explorer {
            root: root.clone(),
            limits,
            reduction,
            symmetry,
            visited: Visited::new(),
            records: Vec::new(),
            plain: Vec::new(),
            edges: Vec::new(),
            kinds: Vec::new(),
            kind_ids: BTreeMap::new(),
            stack: Vec::new(),
            spare: Vec::new(),
            transitions: 0,
            depth_reached: 0,
            depth_truncated: false,
            states_truncated: false,
            finished: false,
        };
        if explorer.states_max() == 0 {
            explorer.states_truncated = true;
            explorer.finished = true;
            return explorer;
        }
        let mut choices = Vec::new();
        root.choices(&mut choices);
        let failure = explorer.kind_id(root.failure());
        // The root's sleep set is empty: it is never flagged.
        let (filed, plain) = explorer.fingerprints(&root);
        explorer.visited.get_or_insert(filed, 0);
        if explorer.symmetry {
            explorer.plain.push(plain);
        }
        explorer
            .records
            .push(Record::new(0, 0, failure, choices.is_empty()));
        if !choices.is_empty() {
            if limits.depth_max == 0 {
                explorer.depth_truncated = true;
            } else {
                let (todo, todo_beyond, ample) = explorer.expansion(&root, &choices, 0);
                explorer.stack.push(Frame {
                    state: Some(root),
                    index: 0,
                    depth: 0,
                    choices,
                    cursor: 0,
                    todo,
                    todo_beyond,
                    ample,
                    sleep: 0,
                });
            }
        }
        explorer
    }

    /// Explores at most `budget` more transitions (calls to [`Model::step`]), then returns. Call
    /// it again to go on; the search picks up exactly where it stopped, so the final report does
    /// not depend on how the work was sliced.
    pub fn run_slice(&mut self, budget: usize) -> Progress {
        let mut steps_left = budget;
        while !self.finished {
            let Some(frame) = self.stack.last_mut() else {
                self.finished = true;
                break;
            };
            let Some(position) = frame.next_choice() else {
                if let Some(frame) = self.stack.pop() {
                    self.recycle(frame.choices);
                }
                continue;
            };
            if steps_left == 0 {
                // Put the choice back: the next slice starts with it.
                frame.cursor = position;
                break;
            }
            steps_left -= 1;
            self.explore(position);
        }
        self.progress()
    }

    /// Runs slices of [`Limits::slice_steps`] until the search ends, then reports.
    pub fn run(&mut self) -> Report<M::Choice, M::Failure> {
        self.run_within(&mut Unlimited);
        self.report()
    }

    /// Runs slices of [`Limits::slice_steps`] until the search ends or `budget`, asked after
    /// each slice, is spent. Returns the budget that stopped the search, if one did; the search
    /// can then go on with more slices, and its report says it was not complete.
    pub fn run_within(&mut self, budget: &mut dyn Budget) -> Option<String> {
        loop {
            let progress = self.run_slice(self.limits.slice_steps.max(1));
            if progress.finished {
                return None;
            }
            if let Some(spent) = budget.spent(&progress) {
                return Some(spent);
            }
        }
    }

    /// How far the search has come.
    pub fn progress(&self) -> Progress {
        Progress {
            finished: self.finished,
            states_unique: self.records.len(),
            transitions: self.transitions,
            failures: self.kinds.len(),
            depth: self.stack.last().map_or(0, |frame| frame.depth as usize),
        }
    }

    /// The report on what has been explored so far (complete only once the search finished
    /// without meeting a limit). Computes shortest schedules and schedule counts, in time and
    /// memory linear in the states and transitions explored.
    pub fn report(&self) -> Report<M::Choice, M::Failure> {
        let stop = if !self.finished {
            Some(Stop::Paused)
        } else if self.states_truncated {
            Some(Stop::StatesMax)
        } else if self.depth_truncated {
            Some(Stop::DepthMax)
        } else {
            None
        };
        report::build(report::Explored {
            root: &self.root,
            filed: self
                .symmetry
                .then_some((&self.visited, M::canonical_fingerprint as fn(&M) -> u64)),
            reduction: self.reduction,
            stop,
            records: &self.records,
            edges: &self.edges,
            kinds: &self.kinds,
            transitions: self.transitions,
            depth_reached: self.depth_reached,
        })
    }

    /// The limits this search runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn states_max(&self) -> usize {
        self.limits.states_max.min(VISITED_STATES_MAX)
    }

    /// The fingerprint a state is filed under, and its plain fingerprint (the same without
    /// symmetry).
    fn fingerprints(&self, state: &M) -> (u64, u64) {
        let plain = fingerprint_of(state);
        if self.symmetry {
            (state.canonical_fingerprint(), plain)
        } else {
            (plain, plain)
        }
    }

    /// The fingerprint a state is filed under in the visited table.
    fn filed_fingerprint(&self, state: &M) -> u64 {
        if self.symmetry {
            state.canonical_fingerprint()
        } else {
            fingerprint_of(state)
        }
    }

    fn kind_id(&mut self, failure: Option<M::Failure>) -> u32 {
        let Some(failure) = failure else { return 0 };
        if let Some(&id) = self.kind_ids.get(&failure) {
            return id;
        }
        self.kinds.push(failure.clone());
        let id = self.kinds.len() as u32;
        self.kind_ids.insert(failure, id);
        id
    }

    fn buffer(&mut self) -> Vec<M::Choice> {
        self.spare.pop().unwrap_or_default()
    }

    fn recycle(&mut self, mut choices: Vec<M::Choice>) {
        choices.clear();
        self.spare.push(choices);
    }

    /// Takes the choice at `position` from the top frame and handles the state it leads to.
    fn explore(&mut self, position: usize) {
        let frame = self.stack.last_mut().expect("explore needs a frame");
        let from = frame.index;
        let depth = frame.depth + 1;
        let sleep_parent = frame.child_sleep(position, self.reduction);

        // The last choice of a frame takes the frame's state instead of a copy: nothing reads it
        // after that (a single local choice excepted, which the cycle proviso may widen).
        let mut state = if !frame.ample && frame.is_last(position) {
            frame.state.take().expect("the frame's state")
        } else {
            frame
                .state
                .clone()
                .expect("a frame keeps its state until its last choice")
        };
        state.step(&frame.choices[position]);
        self.transitions += 1;

        let fingerprint = self.filed_fingerprint(&state);
        let index = self.records.len() as u32;
        let lookup = if self.records.len() < self.states_max() {
            self.visited.get_or_insert(fingerprint, index)
        } else {
            match self.visited.get(fingerprint) {
                Some(seen) => Lookup::Seen {
                    index: seen,
                    flagged: true,
                },
                None => {
                    // A new state beyond the limit: the search stops here.
                    self.states_truncated = true;
                    self.finished = true;
                    return;
                }
            }
        };
        let slot = match lookup {
            Lookup::Seen {
                index: seen,
                flagged,
            } => {
                self.edges.push(Edge {
                    from,
                    to: seen,
                    choice: position as u32,
                });
                if self.stack.last().is_some_and(|frame| frame.ample) && self.on_stack(seen) {
                    // The cycle proviso: the local choice closes a cycle, along which the other
                    // choices could be put off forever. Expand the parent by all of them.
                    let frame = self.stack.last_mut().expect("the parent frame");
                    frame.ample = false;
                    frame.todo = !frame.sleep;
                    frame.todo_beyond = true;
                    frame.cursor = 0;
                }
                // Unflagged states were entered with an empty sleep set, so everything from
                // there is explored already, unless the depth limit cut some of it off.
                if flagged || self.depth_truncated {
                    let renamed =
                        self.symmetry && self.plain[seen as usize] != fingerprint_of(&state);
                    self.revisit(state, seen, depth, sleep_parent, renamed);
                }
                return;
            }
            Lookup::New(slot) => slot,
        };
        self.edges.push(Edge {
            from,
            to: index,
            choice: position as u32,
        });
        self.enter(state, index, slot, depth, sleep_parent);
    }

    /// Records a state met for the first time (its index `index`, at `slot` of the visited
    /// table), and pushes a frame to explore it unless it has no choices or lies at the depth
    /// limit.
    fn enter(&mut self, state: M, index: u32, slot: usize, depth: u32, sleep_parent: u64) {
        let failure = self.kind_id(state.failure());
        let mut choices = self.buffer();
        state.choices(&mut choices);
        let sleep = self.translate(sleep_parent, &choices);
        if sleep != 0 {
            self.visited.flag(slot);
        }
        self.records
            .push(Record::new(sleep, depth, failure, choices.is_empty()));
        if self.symmetry {
            // Only a state entered with a sleep set is ever asked whether a revisit is the very
            // same state (zero otherwise, which a revisit treats as a renaming: sound).
            self.plain.push(if sleep != 0 {
                fingerprint_of(&state)
            } else {
                0
            });
        }
        self.depth_reached = self.depth_reached.max(depth);
        if choices.is_empty() {
            self.recycle(choices);
        } else if depth as usize >= self.limits.depth_max {
            self.depth_truncated = true;
            self.recycle(choices);
        } else {
            let (todo, todo_beyond, ample) = self.expansion(&state, &choices, sleep);
            self.stack.push(Frame {
                state: Some(state),
                index,
                depth,
                choices,
                cursor: 0,
                todo,
                todo_beyond,
                ample,
                sleep,
            });
        }
    }

    /// Which choices a first visit explores: every awake one, or with persistent sets the first
    /// awake local one alone. Returns the positions below 64, whether positions beyond are
    /// explored, and whether the expansion is a single local choice.
    fn expansion(&self, state: &M, choices: &[M::Choice], sleep: u64) -> (u64, bool, bool) {
        if self.reduction == Reduction::PersistentSets {
            let awake_local = choices
                .iter()
                .take(SLEEP_BITS)
                .enumerate()
                .find(|&(position, choice)| sleep >> position & 1 == 0 && state.local(choice));
            if let Some((position, _)) = awake_local {
                return (1 << position, false, true);
            }
        }
        (!sleep, true, false)
    }

    /// Whether the state with this index is on the depth-first stack (only asked when a local
    /// choice leads to a state seen before, so a scan is cheap enough).
    fn on_stack(&self, index: u32) -> bool {
        self.stack.iter().any(|frame| frame.index == index)
    }

    /// A state seen before: explore only what was asleep on every earlier visit and is awake
    /// now (or everything, if the depth limit cut it off deeper than it is met now).
    ///
    /// `renamed`: the state met is a renaming of the one recorded, not the same state, so the
    /// recorded sleep set speaks of other choice positions. If everything from the recorded
    /// state was explored, its renaming is covered; otherwise this visit explores every choice
    /// awake now, as a first visit would, and leaves the record alone.
    fn revisit(&mut self, state: M, index: u32, depth: u32, sleep_parent: u64, renamed: bool) {
        let record = self.records[index as usize];
        if record.terminal() {
            return;
        }
        let closer = self.depth_truncated && depth < record.depth;
        if !closer && record.sleep == 0 {
            // Everything from here was explored already.
            return;
        }
        let mut choices = self.buffer();
        state.choices(&mut choices);
        let sleep = self.translate(sleep_parent, &choices);
        let (todo, todo_beyond) = if closer || renamed {
            (!sleep, true)
        } else {
            (record.sleep & !sleep, false)
        };
        if todo == 0 && !todo_beyond {
            self.recycle(choices);
            return;
        }
        if depth as usize >= self.limits.depth_max {
            self.depth_truncated = true;
            self.recycle(choices);
            return;
        }
        let record = &mut self.records[index as usize];
        let sleep = if renamed {
            sleep
        } else {
            record.sleep &= sleep;
            record.sleep
        };
        record.depth = record.depth.min(depth);
        self.stack.push(Frame {
            state: Some(state),
            index,
            depth,
            choices,
            cursor: 0,
            todo,
            todo_beyond,
            ample: false,
            sleep,
        });
    }

    /// Maps a sleep set over the top frame's choice positions to the positions of the same
    /// choices in a child's list.
    fn translate(&self, sleep_parent: u64, child_choices: &[M::Choice]) -> u64 {
        if sleep_parent == 0 {
            return 0;
        }
        let parent = &self.stack.last().expect("a parent frame").choices;
        let mut sleep = 0u64;
        let mut asleep = sleep_parent;
        while asleep != 0 {
            let position = asleep.trailing_zeros() as usize;
            asleep &= asleep - 1;
            let choice = &parent[position];
            match child_choices.iter().position(|c| c == choice) {
                Some(child) if child < SLEEP_BITS => sleep |= 1 << child,
                Some(_) => {}
                // The model called two choices independent but one disabled the other: a bug in
                // its `independent`. Keeping the choice awake keeps the search sound.
                None => debug_assert!(false, "independent choice {choice:?} was disabled"),
            }
        }
        sleep
    }
}
