//! What a search found, computed from the graph it walked: shortest failing schedules by a
//! breadth-first pass, schedule counts by a memoized count over the states.

use super::reduction::Reduction;
use super::state_graph::{Edge, Record};
use super::visited::Visited;
use super::Model;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;

/// Why a search is not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stop {
    /// The report was taken before the search finished (more slices would go on).
    Paused,
    /// [`Limits::states_max`](super::Limits::states_max) distinct states were recorded and
    /// another new one was met.
    StatesMax,
    /// Some state at [`Limits::depth_max`](super::Limits::depth_max) steps had choices left.
    DepthMax,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stop::Paused => "the search was paused",
            Stop::StatesMax => "the state limit was reached",
            Stop::DepthMax => "the depth limit was reached",
        })
    }
}

/// One kind of failure and the shortest schedule that reaches it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FailureFound<C, F> {
    /// The kind, as [`Model::failure`] named it.
    pub failure: F,
    /// A shortest schedule from the start to a state with this failure in the explored graph
    /// (breadth-first, ties going to the model's choice order). The shortest of all schedules
    /// without reduction or with sleep sets; with persistent sets too for failures of terminal
    /// states, and possibly a few steps longer for failures of running states.
    pub schedule: Vec<C>,
    /// How many distinct explored states have this failure.
    pub states: usize,
}

/// Distinct terminal states (no choices left) by outcome. Exact for what was explored, and the
/// same under every reduction: sleep sets visit every state, persistent sets every terminal one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TerminalStates {
    /// Terminal states that have a failure.
    pub failing: usize,
    /// Terminal states without one.
    pub succeeding: usize,
}

/// How many complete schedules (from the start to a terminal state) fail, and how many do not.
/// A schedule fails when any state on it fails. Counts saturate at `u128::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Schedules {
    /// Every schedule of the model, counted exactly: the search was complete, without reduction,
    /// over an acyclic state graph.
    All {
        /// Schedules through at least one failing state.
        failing: u128,
        /// Schedules through none.
        succeeding: u128,
    },
    /// The schedules in the graph the reduced search walked: a subset of all schedules in which
    /// every failure kind still appears; orders of independent steps that the reduction skipped
    /// are not counted.
    Explored {
        /// Explored schedules through at least one failing state.
        failing: u128,
        /// Explored schedules through none.
        succeeding: u128,
    },
    /// Not counted, because the search was not complete.
    Incomplete,
    /// Not counted, because the states form a cycle: a schedule can loop, so there are
    /// infinitely many.
    Cyclic,
}

/// The outcome in one sentence's worth of facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Verdict {
    /// The search was complete and no state fails: every schedule is fine.
    Proven {
        /// Distinct states explored.
        states: usize,
    },
    /// The search was complete and no state fails, but the states form a cycle: some schedule
    /// never ends (a task can loop forever), so nothing is proven.
    NeverEnds {
        /// Distinct states explored.
        states: usize,
    },
    /// The search stopped early and found no failure so far: nothing is proven.
    NoFailureWithin {
        /// Distinct states explored.
        states: usize,
        /// Why it stopped.
        stop: Stop,
    },
    /// At least one kind of failure was found.
    Failed {
        /// How many distinct kinds.
        kinds: usize,
        /// Whether the search was complete (so these are all the kinds there are).
        complete: bool,
    },
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Verdict::Proven { states } => {
                write!(f, "No schedule fails ({states} states, complete)")
            }
            Verdict::NeverEnds { states } => write!(
                f,
                "No schedule fails, but some never end: a task can run forever ({states} states, complete)"
            ),
            Verdict::NoFailureWithin { states, stop } => {
                write!(f, "No failure within {states} states ({stop})")
            }
            Verdict::Failed { kinds, complete } => {
                let plural = if kinds == 1 { "" } else { "s" };
                let scope = if complete {
                    "all schedules checked"
                } else {
                    "search incomplete"
                };
                write!(f, "{kinds} kind{plural} of failure found ({scope})")
            }
        }
    }
}

/// Everything a search found.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Report<C, F> {
    /// Every schedule was explored within the limits.
    pub complete: bool,
    /// Why not, when not complete.
    pub stop: Option<Stop>,
    /// The reduction the search used.
    pub reduction: Reduction,
    /// States reached, counting repeats: one for the start plus one per transition.
    pub states_visited: u64,
    /// Distinct states reached (by fingerprint).
    pub states_unique: usize,
    /// Steps taken (calls to [`Model::step`]).
    pub transitions: u64,
    /// The longest schedule the depth-first search walked, in steps.
    pub depth_max: usize,
    /// Every distinct failure kind found, in the failure type's order.
    pub failures: Vec<FailureFound<C, F>>,
    /// Distinct terminal states by outcome.
    pub terminal_states: TerminalStates,
    /// Complete schedules by outcome, where they can be counted.
    pub schedules: Schedules,
}

impl<C, F> Report<C, F> {
    /// The search was complete, found no failure, and every schedule ends.
    pub fn proven(&self) -> bool {
        self.complete && self.failures.is_empty() && !self.never_ends()
    }

    /// Whether some schedule loops forever: the explored states form a cycle.
    pub fn never_ends(&self) -> bool {
        self.schedules == Schedules::Cyclic
    }

    /// The outcome, whose `Display` is the one-line message for people.
    pub fn verdict(&self) -> Verdict {
        match self.stop {
            _ if !self.failures.is_empty() => Verdict::Failed {
                kinds: self.failures.len(),
                complete: self.complete,
            },
            None if self.never_ends() => Verdict::NeverEnds {
                states: self.states_unique,
            },
            None => Verdict::Proven {
                states: self.states_unique,
            },
            Some(stop) => Verdict::NoFailureWithin {
                states: self.states_unique,
                stop,
            },
        }
    }
}

impl<C: fmt::Debug, F: fmt::Debug> fmt::Display for Report<C, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.verdict())?;
        writeln!(
            f,
            "states: {} unique, {} visited; transitions: {}; depth: {}",
            self.states_unique, self.states_visited, self.transitions, self.depth_max
        )?;
        for found in &self.failures {
            writeln!(
                f,
                "{:?}: shortest schedule ({} steps): {:?}; failing states: {}",
                found.failure,
                found.schedule.len(),
                found.schedule,
                found.states
            )?;
        }
        write!(
            f,
            "terminal states: {} failing, {} succeeding",
            self.terminal_states.failing, self.terminal_states.succeeding
        )?;
        match self.schedules {
            Schedules::All {
                failing,
                succeeding,
            } => write!(f, "; schedules: {failing} failing, {succeeding} succeeding"),
            Schedules::Explored {
                failing,
                succeeding,
            } => write!(
                f,
                "; explored schedules: {failing} failing, {succeeding} succeeding"
            ),
            Schedules::Incomplete | Schedules::Cyclic => Ok(()),
        }
    }
}

/// The explorer's bookkeeping, lent to [`build`].
/// The visited table and the fingerprint states are filed under (with symmetry).
pub(crate) type Filed<'a, M> = (&'a Visited, fn(&M) -> u64);

pub(crate) struct Explored<'a, M: Model> {
    pub root: &'a M,
    /// With symmetry: the visited table and the fingerprint states are filed under, to replay a
    /// path through renamed states.
    pub filed: Option<Filed<'a, M>>,
    pub reduction: Reduction,
    pub stop: Option<Stop>,
    pub records: &'a [Record],
    pub edges: &'a [Edge],
    pub kinds: &'a [M::Failure],
    pub transitions: u64,
    pub depth_reached: u32,
}

/// Explored transitions grouped by source state (compressed sparse rows), in the order the
/// search explored them, so that every pass over them is deterministic.
struct Graph {
    offsets: Vec<u32>,
    targets: Vec<(u32, u32)>,
}

impl Graph {
    fn new(states: usize, edges: &[Edge]) -> Graph {
        let mut offsets = vec![0u32; states + 1];
        for edge in edges {
            offsets[edge.from as usize + 1] += 1;
        }
        for state in 0..states {
            offsets[state + 1] += offsets[state];
        }
        let mut fill = offsets.clone();
        let mut targets = vec![(0u32, 0u32); edges.len()];
        for edge in edges {
            let slot = &mut fill[edge.from as usize];
            targets[*slot as usize] = (edge.to, edge.choice);
            *slot += 1;
        }
        Graph { offsets, targets }
    }

    fn successors(&self, state: u32) -> &[(u32, u32)] {
        let start = self.offsets[state as usize] as usize;
        let end = self.offsets[state as usize + 1] as usize;
        &self.targets[start..end]
    }
}

const UNREACHED: u32 = u32::MAX;

pub(crate) fn build<M: Model>(explored: Explored<'_, M>) -> Report<M::Choice, M::Failure> {
    let records = explored.records;
    let graph = Graph::new(records.len(), explored.edges);

    let kinds = explored.kinds.len();
    let mut states_per_kind = vec![0usize; kinds];
    for record in records {
        if record.failure() != 0 {
            states_per_kind[record.failure() as usize - 1] += 1;
        }
    }

    // Breadth-first from the start: the first state of each kind met in this order is one of the
    // closest, and its parent chain is a shortest schedule. The pass stops once every kind has
    // been met (at once, if there is no failure).
    let mut parent = vec![(UNREACHED, 0u32); records.len()];
    let mut closest = vec![UNREACHED; kinds];
    let mut found = 0;
    let mut meet = |state: u32, closest: &mut Vec<u32>| {
        let failure = records[state as usize].failure();
        if failure != 0 && closest[failure as usize - 1] == UNREACHED {
            closest[failure as usize - 1] = state;
            found += 1;
        }
        found == kinds
    };
    if !records.is_empty() && !meet(0, &mut closest) {
        let mut queue = VecDeque::from([0u32]);
        parent[0] = (0, 0);
        'search: while let Some(state) = queue.pop_front() {
            for &(next, choice) in graph.successors(state) {
                if parent[next as usize].0 == UNREACHED {
                    parent[next as usize] = (state, choice);
                    if meet(next, &mut closest) {
                        break 'search;
                    }
                    queue.push_back(next);
                }
            }
        }
    }
    let mut failures: Vec<FailureFound<M::Choice, M::Failure>> = explored
        .kinds
        .iter()
        .enumerate()
        .map(|(kind, failure)| FailureFound {
            failure: failure.clone(),
            schedule: schedule_to(explored.root, explored.filed, &parent, closest[kind]),
            states: states_per_kind[kind],
        })
        .collect();
    failures.sort_by(|a, b| a.failure.cmp(&b.failure));

    let mut terminal_states = TerminalStates::default();
    for record in records.iter().filter(|record| record.terminal()) {
        if record.failure() != 0 {
            terminal_states.failing += 1;
        } else {
            terminal_states.succeeding += 1;
        }
    }

    let schedules = if explored.stop.is_some() {
        Schedules::Incomplete
    } else {
        match count_schedules(records, &graph) {
            None => Schedules::Cyclic,
            Some((failing, succeeding)) => match explored.reduction {
                Reduction::Off => Schedules::All {
                    failing,
                    succeeding,
                },
                Reduction::SleepSets | Reduction::PersistentSets => Schedules::Explored {
                    failing,
                    succeeding,
                },
            },
        }
    };

    Report {
        complete: explored.stop.is_none(),
        stop: explored.stop,
        reduction: explored.reduction,
        states_visited: explored.transitions + 1,
        states_unique: records.len(),
        transitions: explored.transitions,
        depth_max: explored.depth_reached as usize,
        failures,
        terminal_states,
        schedules,
    }
}

/// Replays the parent chain from the start to `target`, turning choice positions into choices.
/// Replays the parent chain to `target` from the start. With symmetry, a recorded edge was
/// taken from the state first filed under its source, which may be a renaming of the state the
/// replay is in: then the recorded position may name another actor, and the replay takes the
/// choice whose successor is filed under the recorded target instead (a renaming maps the
/// recorded step to exactly such a choice).
fn schedule_to<M: Model>(
    root: &M,
    filed: Option<Filed<'_, M>>,
    parent: &[(u32, u32)],
    target: u32,
) -> Vec<M::Choice> {
    let mut path = Vec::new();
    let mut state = target;
    while state != 0 {
        let (from, choice) = parent[state as usize];
        path.push((choice, state));
        state = from;
    }
    path.reverse();
    let mut model = root.clone();
    let mut choices = Vec::new();
    let mut schedule = Vec::with_capacity(path.len());
    for (position, to) in path {
        choices.clear();
        model.choices(&mut choices);
        let recorded = position as usize;
        let next = match filed {
            None => {
                let choice = choices[recorded].clone();
                model.step(&choice);
                (choice, model)
            }
            Some((visited, canonical)) => {
                // The recorded position first: without a renaming it is the right one.
                let order = std::iter::once(recorded)
                    .chain((0..choices.len()).filter(|&p| p != recorded))
                    .filter(|&p| p < choices.len());
                let mut found = None;
                for p in order {
                    let mut next = model.clone();
                    next.step(&choices[p]);
                    if visited.get(canonical(&next)) == Some(to) {
                        found = Some((choices[p].clone(), next));
                        break;
                    }
                }
                found.expect("a renaming of the recorded step is enabled")
            }
        };
        schedule.push(next.0);
        model = next.1;
    }
    schedule
}

/// Counts (failing, succeeding) complete schedules from the start over the explored graph, or
/// `None` if it has a cycle. Iterative post-order, so deep graphs do not overflow the stack.
fn count_schedules(records: &[Record], graph: &Graph) -> Option<(u128, u128)> {
    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    const BLACK: u8 = 2;
    if records.is_empty() {
        return Some((0, 0));
    }
    let mut colour = vec![WHITE; records.len()];
    // Per state: schedules from here to a terminal state, and those among them with no failure
    // (side by side, so that reading a child's counts is one cache miss).
    let mut counts = vec![[0u128; 2]; records.len()];
    let mut stack: Vec<(u32, usize)> = vec![(0, 0)];
    colour[0] = GREY;
    while let Some(&mut (state, ref mut next)) = stack.last_mut() {
        let successors = graph.successors(state);
        if let Some(&(child, _)) = successors.get(*next) {
            *next += 1;
            match colour[child as usize] {
                WHITE => {
                    colour[child as usize] = GREY;
                    stack.push((child, 0));
                }
                GREY => return None,
                _ => {}
            }
            continue;
        }
        stack.pop();
        colour[state as usize] = BLACK;
        let record = &records[state as usize];
        let [mut all, mut clean]: [u128; 2] = if record.terminal() { [1, 1] } else { [0, 0] };
        for &(child, _) in successors {
            let [child_all, child_clean] = counts[child as usize];
            all = all.saturating_add(child_all);
            clean = clean.saturating_add(child_clean);
        }
        if record.failure() != 0 {
            clean = 0;
        }
        counts[state as usize] = [all, clean];
    }
    let [all, clean] = counts[0];
    Some((all.saturating_sub(clean), clean))
}
