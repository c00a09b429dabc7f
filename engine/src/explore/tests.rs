//! The explorer against toy models whose state spaces are known, and against a naive
//! breadth-first search that shares no code with it.

use super::toys::{
    CounterFailure, Counters, Flipper, FlipperFailure, Philosophers, Pool, PoolFailure, Random,
    RandomFailure, Switch, TableFailure,
};
use super::*;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Debug;

fn explore<M: Model>(model: M) -> Report<M::Choice, M::Failure> {
    Explorer::new(model, Limits::default()).run()
}

fn explore_plain<M: Model>(model: M) -> Report<M::Choice, M::Failure> {
    Explorer::with_reduction(model, Limits::default(), Reduction::Off).run()
}

fn explore_sleep<M: Model>(model: M) -> Report<M::Choice, M::Failure> {
    Explorer::with_reduction(model, Limits::default(), Reduction::SleepSets).run()
}

/// What a naive search finds: every reachable state (compared by value, not fingerprint), the
/// shortest distance to each failure kind, terminal states by outcome, and every complete
/// schedule counted by enumerating them one by one.
struct Naive<F> {
    states: usize,
    shortest: BTreeMap<F, usize>,
    terminal: TerminalStates,
    schedules: Option<(u128, u128)>,
}

fn naive<M: Model + Debug>(root: M, enumerate: bool) -> Naive<M::Failure> {
    let mut seen: HashSet<M> = HashSet::from([root.clone()]);
    let mut queue = VecDeque::from([(root.clone(), 0usize)]);
    let mut shortest = BTreeMap::new();
    let mut terminal = TerminalStates::default();
    while let Some((state, depth)) = queue.pop_front() {
        let failure = state.failure();
        if let Some(failure) = failure.clone() {
            shortest.entry(failure).or_insert(depth);
        }
        let mut choices = Vec::new();
        state.choices(&mut choices);
        if choices.is_empty() {
            if failure.is_some() {
                terminal.failing += 1;
            } else {
                terminal.succeeding += 1;
            }
        }
        for choice in choices {
            let mut next = state.clone();
            next.step(&choice);
            if seen.insert(next.clone()) {
                queue.push_back((next, depth + 1));
            }
        }
    }
    let schedules = enumerate.then(|| {
        let mut counts = (0u128, 0u128);
        enumerate_schedules(&root, false, &mut counts);
        counts
    });
    Naive {
        states: seen.len(),
        shortest,
        terminal,
        schedules,
    }
}

fn enumerate_schedules<M: Model>(state: &M, failed: bool, counts: &mut (u128, u128)) {
    let failed = failed || state.failure().is_some();
    let mut choices = Vec::new();
    state.choices(&mut choices);
    if choices.is_empty() {
        if failed {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
    }
    for choice in choices {
        let mut next = state.clone();
        next.step(&choice);
        enumerate_schedules(&next, failed, counts);
    }
}

/// Checks a report against the naive search, and that each reported schedule replays to a state
/// with its failure.
fn assert_agrees_with_naive<M: Model + Debug>(
    root: &M,
    report: &Report<M::Choice, M::Failure>,
    naive: &Naive<M::Failure>,
) {
    assert!(report.complete);
    assert_eq!(report.states_unique, naive.states, "unique states");
    assert_eq!(report.terminal_states, naive.terminal, "terminal states");
    let shortest: BTreeMap<M::Failure, usize> = report
        .failures
        .iter()
        .map(|found| (found.failure.clone(), found.schedule.len()))
        .collect();
    assert_eq!(
        shortest, naive.shortest,
        "failure kinds and shortest lengths"
    );
    for found in &report.failures {
        let mut state = root.clone();
        for choice in &found.schedule {
            let mut choices = Vec::new();
            state.choices(&mut choices);
            assert!(
                choices.contains(choice),
                "the schedule only takes enabled choices"
            );
            state.step(choice);
        }
        assert_eq!(state.failure(), Some(found.failure.clone()));
    }
}

/// For models without local choices: every reduction visits every state.
fn assert_reduction_agrees<M: Model + Debug>(root: M) {
    let plain = explore_plain(root.clone());
    let sleep = explore_sleep(root.clone());
    let persistent = explore(root.clone());
    let naive = naive(root.clone(), false);
    assert_agrees_with_naive(&root, &plain, &naive);
    assert_agrees_with_naive(&root, &sleep, &naive);
    assert_agrees_with_naive(&root, &persistent, &naive);
    assert!(sleep.transitions <= plain.transitions);
}

/// What persistent sets promise: every failure kind and every terminal state; the exact shortest
/// schedule to failures at terminal states, and no shorter than the truth elsewhere; no more
/// states than there are.
fn assert_persistent_sets_agree<M: Model + Debug>(
    root: &M,
    report: &Report<M::Choice, M::Failure>,
    naive: &Naive<M::Failure>,
    terminal_only: impl Fn(&M::Failure) -> bool,
) {
    assert!(report.complete);
    assert!(report.states_unique <= naive.states);
    assert_eq!(report.terminal_states, naive.terminal, "terminal states");
    let kinds: Vec<_> = report.failures.iter().map(|f| f.failure.clone()).collect();
    let naive_kinds: Vec<_> = naive.shortest.keys().cloned().collect();
    assert_eq!(kinds, naive_kinds, "failure kinds");
    for found in &report.failures {
        let shortest = naive.shortest[&found.failure];
        if terminal_only(&found.failure) {
            assert_eq!(found.schedule.len(), shortest, "{:?}", found.failure);
        } else {
            assert!(found.schedule.len() >= shortest, "{:?}", found.failure);
        }
        let mut state = root.clone();
        for choice in &found.schedule {
            state.step(choice);
        }
        assert_eq!(state.failure(), Some(found.failure.clone()));
    }
}

#[test]
fn two_threads_incrementing_two_counters_non_atomically_lose_updates_on_the_shortest_schedule() {
    let report = explore(Counters::non_atomic(2));
    assert!(report.complete);
    assert_eq!(report.states_unique, 53);
    let kinds: Vec<_> = report.failures.iter().map(|f| f.failure).collect();
    assert_eq!(
        kinds,
        vec![
            CounterFailure::LostUpdate('x'),
            CounterFailure::LostUpdate('y')
        ]
    );
    // Both read x before either writes it: the classic lost update, four steps.
    assert_eq!(report.failures[0].schedule, vec![0, 1, 0, 1]);
    assert_eq!(report.failures[1].schedule.len(), 8);
    assert!(!report.proven());
    assert_eq!(
        report.verdict().to_string(),
        "2 kinds of failure found (all schedules checked)"
    );
}

#[test]
fn counters_incremented_atomically_are_proven() {
    let report = explore(Counters::atomic(2));
    assert!(report.proven());
    assert_eq!(report.states_unique, 9);
    assert_eq!(
        report.verdict().to_string(),
        "No schedule fails (9 states, complete)"
    );
}

#[test]
fn two_philosophers_taking_the_left_fork_first_deadlock() {
    let report = explore(Philosophers::left_first(2));
    assert_eq!(report.states_unique, 13);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].failure, TableFailure::Deadlock);
    assert_eq!(report.failures[0].schedule, vec![0, 1]);
}

#[test]
fn three_philosophers_taking_the_left_fork_first_deadlock() {
    let report = explore(Philosophers::left_first(3));
    assert_eq!(report.states_unique, 45);
    assert_eq!(report.failures[0].failure, TableFailure::Deadlock);
    assert_eq!(report.failures[0].schedule, vec![0, 1, 2]);
}

#[test]
fn philosophers_taking_forks_in_order_are_proven() {
    let two = explore(Philosophers::ordered(2));
    assert!(two.proven());
    assert_eq!(two.states_unique, 12);
    let three = explore(Philosophers::ordered(3));
    assert!(three.proven());
    assert_eq!(three.states_unique, 42);
}

#[test]
fn four_requests_needing_two_connections_each_exhaust_a_pool_of_four() {
    let report = explore(Pool::new(4, 4));
    assert_eq!(report.states_unique, 1051);
    assert_eq!(report.failures[0].failure, PoolFailure::Deadlock);
    assert_eq!(report.failures[0].schedule, vec![0, 1, 2, 3, 0, 1, 2, 3]);
}

#[test]
fn a_pool_of_five_is_proven_for_four_requests_but_not_for_five() {
    let four = explore(Pool::new(4, 5));
    assert!(four.proven());
    assert_eq!(four.states_unique, 776);
    assert_eq!(
        four.verdict().to_string(),
        format!(
            "No schedule fails ({} states, complete)",
            four.states_unique
        )
    );
    let five = explore(Pool::new(5, 5));
    assert_eq!(five.states_unique, 7323);
    assert_eq!(five.failures[0].failure, PoolFailure::Deadlock);
    assert_eq!(five.failures[0].schedule.len(), 10);
}

#[test]
fn every_reduction_finds_the_same_states_and_failures_as_the_plain_search_on_toy_models() {
    assert_reduction_agrees(Counters::non_atomic(2));
    assert_reduction_agrees(Counters::non_atomic(3));
    assert_reduction_agrees(Counters::atomic(3));
    assert_reduction_agrees(Philosophers::left_first(2));
    assert_reduction_agrees(Philosophers::left_first(3));
    assert_reduction_agrees(Philosophers::left_first(4));
    assert_reduction_agrees(Philosophers::ordered(4));
    assert_reduction_agrees(Pool::new(3, 2));
    assert_reduction_agrees(Pool::new(4, 4));
    assert_reduction_agrees(Pool::new(4, 5));
    assert_reduction_agrees(Pool::new(5, 5));
}

#[test]
fn sleep_sets_find_the_same_states_and_failures_as_the_plain_search_on_random_models() {
    let mut with_failures = 0;
    let mut saved = 0;
    for seed in 0..400 {
        let model = Random::new(seed);
        let plain = explore_plain(model.clone());
        let reduced = explore_sleep(model.clone());
        let naive = naive(model.clone(), true);
        assert_agrees_with_naive(&model, &plain, &naive);
        assert_agrees_with_naive(&model, &reduced, &naive);
        let (failing, succeeding) = naive.schedules.expect("enumerated");
        assert_eq!(
            plain.schedules,
            Schedules::All {
                failing,
                succeeding
            },
            "seed {seed}"
        );
        with_failures += usize::from(!plain.failures.is_empty());
        saved += plain.transitions - reduced.transitions;
    }
    // The random models are worth something only if they fail sometimes and reduce sometimes.
    assert!(with_failures > 100, "{with_failures} models with failures");
    assert!(saved > 1000, "{saved} transitions saved");
}

#[test]
fn persistent_sets_find_every_failure_kind_and_terminal_state_of_random_models_in_fewer_states() {
    let (mut states, mut states_plain, mut pruned) = (0, 0, 0);
    for seed in 0..400 {
        let model = Random::new(seed);
        let report = explore(model.clone());
        let naive = naive(model.clone(), false);
        // Deadlocks are failures of terminal states only; values may fail mid-way.
        assert_persistent_sets_agree(&model, &report, &naive, |failure| {
            *failure == RandomFailure::Deadlock
        });
        states += report.states_unique;
        states_plain += naive.states;
        pruned += usize::from(report.states_unique < naive.states);
    }
    // Worth something only if local steps are common enough to prune.
    assert!(pruned > 100, "{pruned} models pruned");
    assert!(
        states * 10 < states_plain * 9,
        "{states} of {states_plain} states"
    );
}

#[test]
fn the_cycle_proviso_keeps_local_steps_round_a_cycle_from_hiding_the_other_actor() {
    let report = explore(Flipper::new());
    let naive = naive(Flipper::new(), false);
    assert_persistent_sets_agree(&Flipper::new(), &report, &naive, |_| false);
    let kinds: Vec<_> = report.failures.iter().map(|f| f.failure).collect();
    assert_eq!(kinds, vec![FlipperFailure::Moved]);
}

#[test]
fn a_random_model_can_fail_in_several_ways() {
    let kinds: HashSet<RandomFailure> = (0..400)
        .flat_map(|seed| explore(Random::new(seed)).failures)
        .map(|found| found.failure)
        .collect();
    assert!(kinds.contains(&RandomFailure::Deadlock));
    assert!(kinds
        .iter()
        .any(|kind| matches!(kind, RandomFailure::Value(_))));
}

#[test]
fn the_plain_search_counts_every_schedule_of_the_pool() {
    let report = explore_plain(Pool::new(3, 2));
    let naive = naive(Pool::new(3, 2), true);
    let (failing, succeeding) = naive.schedules.expect("enumerated");
    assert_eq!(
        report.schedules,
        Schedules::All {
            failing,
            succeeding
        }
    );
    assert!(failing > 0 && succeeding > 0);
}

#[test]
fn the_reduced_search_counts_only_the_schedules_it_explored() {
    let plain = explore_plain(Counters::non_atomic(2));
    let reduced = explore(Counters::non_atomic(2));
    let (Schedules::All { failing, .. }, Schedules::Explored { failing: few, .. }) =
        (plain.schedules, reduced.schedules)
    else {
        panic!("{:?} {:?}", plain.schedules, reduced.schedules);
    };
    assert!(0 < few && few <= failing);
}

#[test]
fn slicing_the_search_gives_the_same_report_as_one_run() {
    fn check<M: Model + Debug>(model: M) {
        let whole = explore(model.clone());
        for budget in [1, 2, 3, 7, 64] {
            let mut explorer = Explorer::new(model.clone(), Limits::default());
            let mut slices = 0;
            while !explorer.run_slice(budget).finished {
                slices += 1;
                assert_eq!(explorer.report().stop, Some(Stop::Paused));
            }
            assert!(slices >= (whole.transitions as usize / budget).saturating_sub(1));
            assert_eq!(explorer.report(), whole, "budget {budget}");
        }
    }
    check(Counters::non_atomic(3));
    check(Philosophers::left_first(3));
    check(Pool::new(4, 4));
    check(Random::new(7));
    check(Random::larger(3));
    check(Flipper::new());
    check(Strides(0));
}

#[test]
fn a_slice_takes_at_most_its_budget_of_steps() {
    let mut explorer = Explorer::new(Pool::new(4, 4), Limits::default());
    let first = explorer.run_slice(10);
    assert_eq!(first.transitions, 10);
    assert!(!first.finished);
    let second = explorer.run_slice(5);
    assert_eq!(second.transitions, 15);
}

#[test]
fn a_search_stopped_by_the_state_limit_says_no_failure_within_that_many_states() {
    let limits = Limits {
        states_max: 5,
        ..Limits::default()
    };
    let report = Explorer::new(Philosophers::ordered(3), limits).run();
    assert!(!report.complete);
    assert!(!report.proven());
    assert_eq!(report.stop, Some(Stop::StatesMax));
    assert_eq!(report.states_unique, 5);
    assert_eq!(report.schedules, Schedules::Incomplete);
    assert_eq!(
        report.verdict().to_string(),
        "No failure within 5 states (the state limit was reached)"
    );
}

#[test]
fn a_search_stopped_by_the_depth_limit_is_incomplete() {
    let limits = Limits {
        depth_max: 3,
        ..Limits::default()
    };
    let report = Explorer::new(Philosophers::ordered(3), limits).run();
    assert_eq!(report.stop, Some(Stop::DepthMax));
    assert!(report.depth_max <= 3);
    assert!(!report.proven());
}

#[test]
fn a_depth_limited_search_still_finds_failures_within_the_limit() {
    // The deadlock is 3 steps deep; the full search is 9 deep.
    let limits = Limits {
        depth_max: 3,
        ..Limits::default()
    };
    let report = Explorer::new(Philosophers::left_first(3), limits).run();
    assert_eq!(report.failures[0].schedule, vec![0, 1, 2]);
    assert_eq!(
        report.verdict().to_string(),
        "1 kind of failure found (search incomplete)"
    );
}

#[test]
fn a_model_that_cycles_is_never_proven_and_its_schedules_are_not_counted() {
    // No state fails, but a schedule can go round for ever: that is no proof.
    let report = explore(Switch(false));
    assert!(report.complete && report.failures.is_empty());
    assert!(!report.proven());
    assert!(report.never_ends());
    assert_eq!(report.states_unique, 2);
    assert_eq!(report.schedules, Schedules::Cyclic);
    assert_eq!(
        report.verdict().to_string(),
        "No schedule fails, but some never end: a task can run forever (2 states, complete)"
    );
}

#[test]
fn the_report_prints_the_verdict_the_counts_and_each_failure() {
    let text = explore(Philosophers::left_first(2)).to_string();
    assert!(text.starts_with("1 kind of failure found (all schedules checked)\n"));
    assert!(text.contains("Deadlock: shortest schedule (2 steps): [0, 1]; failing states: 1"));
}

#[test]
fn every_explored_transition_is_counted_once() {
    let report = explore_plain(Philosophers::left_first(3));
    assert_eq!(report.states_visited, report.transitions + 1);
    // Without reduction every enabled choice of every state is taken exactly once.
    let mut total = 0u64;
    let naive_transitions = {
        let mut seen = HashMap::new();
        let mut queue = VecDeque::from([Philosophers::left_first(3)]);
        seen.insert(Philosophers::left_first(3), ());
        while let Some(state) = queue.pop_front() {
            let mut choices = Vec::new();
            state.choices(&mut choices);
            total += choices.len() as u64;
            for choice in choices {
                let mut next = state.clone();
                next.step(&choice);
                if seen.insert(next.clone(), ()).is_none() {
                    queue.push_back(next);
                }
            }
        }
        total
    };
    assert_eq!(report.transitions, naive_transitions);
}

#[test]
fn a_report_round_trips_through_json_for_the_cli_and_the_browser() {
    let report = explore_plain(Pool::new(3, 2));
    let json = serde_json::to_string(&report).expect("serializes");
    assert!(json.contains("\"complete\":true"));
    let back: Report<usize, PoolFailure> = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, report);
}

#[test]
fn both_reductions_agree_with_the_plain_search_on_larger_random_models() {
    for seed in 0..1000 {
        let model = Random::larger(seed);
        let naive = naive(model.clone(), false);
        assert_agrees_with_naive(&model, &explore_sleep(model.clone()), &naive);
        assert_persistent_sets_agree(&model, &explore(model.clone()), &naive, |failure| {
            *failure == RandomFailure::Deadlock
        });
    }
}

/// Any toy model as a stateright model, to count its states with a peer checker.
struct Peer<M>(M);

impl<M> stateright::Model for Peer<M>
where
    M: Model + Debug + Send + Sync + 'static,
    M::Choice: Send + Sync,
{
    type State = M;
    type Action = M::Choice;

    fn init_states(&self) -> Vec<M> {
        vec![self.0.clone()]
    }

    fn actions(&self, state: &M, actions: &mut Vec<M::Choice>) {
        state.choices(actions);
    }

    fn next_state(&self, state: &M, choice: M::Choice) -> Option<M> {
        let mut next = state.clone();
        next.step(&choice);
        Some(next)
    }

    fn properties(&self) -> Vec<stateright::Property<Self>> {
        // Never discovered, so that the checker covers every state.
        vec![stateright::Property::sometimes("never", |_, _| false)]
    }
}

fn peer_state_count<M>(model: M) -> usize
where
    M: Model + Debug + Send + Sync + 'static,
    M::Choice: Send + Sync,
{
    use stateright::{Checker, Model as _};
    Peer(model)
        .checker()
        .spawn_bfs()
        .join()
        .unique_state_count()
}

#[test]
fn the_pinned_state_counts_agree_with_stateright() {
    assert_eq!(peer_state_count(Counters::non_atomic(2)), 53);
    assert_eq!(peer_state_count(Philosophers::left_first(3)), 45);
    assert_eq!(peer_state_count(Philosophers::ordered(3)), 42);
    assert_eq!(peer_state_count(Pool::new(4, 4)), 1051);
    assert_eq!(peer_state_count(Pool::new(4, 5)), 776);
    assert_eq!(peer_state_count(Pool::new(5, 5)), 7323);
    assert_eq!(peer_state_count(Counters::atomic(2)), 9);
    assert_eq!(peer_state_count(Philosophers::left_first(2)), 13);
    assert_eq!(peer_state_count(Philosophers::ordered(2)), 12);
}

/// A counter that moves up by one or by two; it fails at five. Schedules to one state differ in
/// length, so depth-first search meets some states deep before it meets them close.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Strides(u8);

impl Model for Strides {
    type Choice = u8;
    type Failure = &'static str;

    fn choices(&self, choices: &mut Vec<u8>) {
        if self.0 < 6 {
            choices.extend([1, 2]);
        }
    }

    fn step(&mut self, &stride: &u8) {
        self.0 += stride;
    }

    fn failure(&self) -> Option<&'static str> {
        (self.0 == 5).then_some("five")
    }
}

#[test]
fn a_state_first_met_at_the_depth_limit_is_expanded_when_met_closer() {
    // Depth first, 3 is met at depth 3 (1+1+1) and not expanded; met again at depth 2 (1+2), it
    // must be expanded then, or 5 (at depth 3 by 1+2+2) is never seen.
    let limits = Limits {
        depth_max: 3,
        ..Limits::default()
    };
    let report = Explorer::new(Strides(0), limits).run();
    assert_eq!(report.stop, Some(Stop::DepthMax));
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].schedule.len(), 3);
    assert_eq!(explore(Strides(0)).failures[0].schedule.len(), 3);
}
