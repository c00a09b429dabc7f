//! States per second: our explorer against stateright on the `pool-exhaustion` scenario.
//!
//! N requests each need two connections at once from a pool of MaxConns M with a FIFO acquire
//! queue (acquire, acquire, release, release; a release hands its connection straight to the
//! first waiter). Both checkers explore the same state type with the same transitions until the
//! whole state space is covered, single-threaded, and both must count the same distinct states.
//! Stateright gets a property that is never discovered, so that it does not stop early. Our time
//! includes the report (shortest failing schedule, schedule counts); stateright's does not need
//! one. Stateright 0.31 has no partial-order reduction (its DPOR is future work), so "plain"
//! (ours without reduction) is the like-for-like algorithm and "ours" is what users get.
//!
//! Run: `cargo bench -p lockstep-engine --bench explore` (optionally `-- 4 8` for the range of N).
//! Prints a table; it is not a test and asserts only that the state counts agree.

use lockstep::explore::{Explorer, Limits, Model as ExploreModel, Reduction};
use stateright::{Checker, Model as StaterightModel, Property};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Requests at most; fixed-size arrays keep the state flat and cheap to clone and hash.
const REQUESTS_MAX: usize = 8;
/// The pool size the lesson teaches: pgxpool's default on a 4-core machine.
const CONNECTIONS_MAX: u8 = 4;
/// Program counter of a request that has released both connections.
const DONE: u8 = 4;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Pool {
    requests: u8,
    free: u8,
    pc: [u8; REQUESTS_MAX],
    queue: [u8; REQUESTS_MAX],
    queue_len: u8,
}

impl Pool {
    fn new(requests: usize, connections_max: u8) -> Pool {
        assert!(requests <= REQUESTS_MAX);
        Pool {
            requests: requests as u8,
            free: connections_max,
            pc: [0; REQUESTS_MAX],
            queue: [0; REQUESTS_MAX],
            queue_len: 0,
        }
    }

    fn waiting(&self, request: u8) -> bool {
        self.queue[..self.queue_len as usize].contains(&request)
    }

    fn enabled(&self, out: &mut Vec<u8>) {
        for request in 0..self.requests {
            if self.pc[request as usize] < DONE && !self.waiting(request) {
                out.push(request);
            }
        }
    }

    fn acquiring(&self, request: u8) -> bool {
        self.pc[request as usize] < 2
    }

    fn apply(&mut self, request: u8) {
        if self.acquiring(request) {
            if self.free > 0 {
                self.free -= 1;
                self.pc[request as usize] += 1;
            } else {
                self.queue[self.queue_len as usize] = request;
                self.queue_len += 1;
            }
        } else {
            if self.queue_len > 0 {
                let waiter = self.queue[0];
                self.queue.copy_within(1..self.queue_len as usize, 0);
                self.queue_len -= 1;
                self.queue[self.queue_len as usize] = 0;
                self.pc[waiter as usize] += 1;
            } else {
                self.free += 1;
            }
            self.pc[request as usize] += 1;
        }
    }

    fn deadlocked(&self) -> bool {
        let unfinished = self.pc[..self.requests as usize]
            .iter()
            .filter(|&&pc| pc < DONE)
            .count();
        unfinished > 0 && unfinished == self.queue_len as usize
    }
}

impl ExploreModel for Pool {
    type Choice = u8;
    type Failure = &'static str;

    fn choices(&self, choices: &mut Vec<u8>) {
        self.enabled(choices);
    }

    fn step(&mut self, &request: &u8) {
        self.apply(request);
    }

    fn failure(&self) -> Option<&'static str> {
        self.deadlocked().then_some("deadlock")
    }

    /// Releases commute with everything; two acquires only when both get a connection.
    fn independent(&self, &a: &u8, &b: &u8) -> bool {
        !(self.acquiring(a) && self.acquiring(b) && self.free < 2)
    }
}

/// The same system as a stateright model.
struct PoolModel {
    requests: usize,
    connections_max: u8,
}

impl StaterightModel for PoolModel {
    type State = Pool;
    type Action = u8;

    fn init_states(&self) -> Vec<Pool> {
        vec![Pool::new(self.requests, self.connections_max)]
    }

    fn actions(&self, state: &Pool, actions: &mut Vec<u8>) {
        state.enabled(actions);
    }

    fn next_state(&self, state: &Pool, request: u8) -> Option<Pool> {
        let mut next = state.clone();
        next.apply(request);
        Some(next)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("no deadlock", |_, state: &Pool| !state.deadlocked()),
            // Never discovered, so the checker covers the whole state space like ours does.
            Property::sometimes("never", |_, _: &Pool| false),
        ]
    }
}

struct Run {
    states: usize,
    elapsed: Duration,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.states as f64 / self.elapsed.as_secs_f64()
    }
}

/// How often each checker runs for `requests`; the report keeps the fastest run of each.
fn repeats(requests: usize) -> usize {
    match requests {
        0..=6 => 5,
        7 => 3,
        _ => 2,
    }
}

/// The fastest of `repeats` runs of each checker, taken in turns (ours, ours plain, stateright
/// BFS, stateright DFS, then again), so that a busy spell on a shared machine slows all of them
/// rather than one.
fn best_in_turns(repeats: usize, runs: &mut [&mut dyn FnMut() -> Run]) -> Vec<Run> {
    let mut best: Vec<Option<Run>> = runs.iter().map(|_| None).collect();
    for _ in 0..repeats {
        for (run, best) in runs.iter_mut().zip(&mut best) {
            let next = run();
            if best.as_ref().is_none_or(|best| next.elapsed < best.elapsed) {
                *best = Some(next);
            }
        }
    }
    best.into_iter()
        .map(|run| run.expect("at least one run"))
        .collect()
}

fn ours(requests: usize, reduction: Reduction) -> Run {
    let limits = Limits {
        states_max: usize::MAX,
        slice_steps: 100_000,
        ..Limits::default()
    };
    let start = Instant::now();
    let mut explorer =
        Explorer::with_reduction(Pool::new(requests, CONNECTIONS_MAX), limits, reduction);
    while !explorer.run_slice(limits.slice_steps).finished {}
    let searched = start.elapsed();
    let verbose = std::env::var_os("BENCH_VERBOSE").is_some();
    if verbose {
        eprint!(
            "  ours {reduction:?} N={requests}: {} transitions, search {:.1} ms",
            explorer.progress().transitions,
            searched.as_secs_f64() * 1000.0,
        );
    }
    let report = explorer.report();
    let elapsed = start.elapsed();
    if verbose {
        eprintln!(
            ", report {:.1} ms",
            (elapsed - searched).as_secs_f64() * 1000.0
        );
    }
    assert!(report.complete);
    assert_eq!(report.failures.len(), 1, "the pool deadlocks");
    black_box(&report);
    Run {
        states: report.states_unique,
        elapsed,
    }
}

fn stateright(requests: usize, breadth_first: bool) -> Run {
    let model = PoolModel {
        requests,
        connections_max: CONNECTIONS_MAX,
    };
    let start = Instant::now();
    let builder = model.checker();
    let states = if breadth_first {
        let checker = builder.spawn_bfs().join();
        assert!(checker.discovery("no deadlock").is_some());
        checker.unique_state_count()
    } else {
        let checker = builder.spawn_dfs().join();
        assert!(checker.discovery("no deadlock").is_some());
        checker.unique_state_count()
    };
    Run {
        states,
        elapsed: start.elapsed(),
    }
}

fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let (low, high) = match numbers[..] {
        [low, high, ..] => (low, high),
        [only] => (only, only),
        [] => (4, 8),
    };
    println!("pool-exhaustion: N requests x 2 connections, MaxConns {CONNECTIONS_MAX}, FIFO queue; single thread; states/s = distinct states / wall time, best of 5 (N<=6), 3 (N=7), 2 (N=8) runs taken in turns");
    println!(
        "{:>2} {:>10} | {:>12} {:>12} | {:>12} {:>12} {:>12} | {:>7} {:>7}",
        "N",
        "states",
        "sr bfs st/s",
        "sr dfs st/s",
        "ours st/s",
        "ours(plain)",
        "ours ms",
        "ratio",
        "plain"
    );
    // `ours` (or `plain`) as an argument runs only our explorer (without reduction), for
    // profiling.
    let only_ours = std::env::args().any(|arg| arg == "ours");
    let only_plain = std::env::args().any(|arg| arg == "plain");
    for requests in low..=high {
        if only_ours || only_plain {
            let reduction = if only_plain {
                Reduction::Off
            } else {
                Reduction::PersistentSets
            };
            let [run] = <[Run; 1]>::try_from(best_in_turns(
                repeats(requests),
                &mut [&mut || ours(requests, reduction)],
            ))
            .ok()
            .expect("one run");
            println!(
                "{requests:>2} {:>10} | ours {reduction:?} {:.0} states/s, {:.1} ms",
                run.states,
                run.per_second(),
                run.elapsed.as_secs_f64() * 1000.0
            );
            continue;
        }
        let mut runs = best_in_turns(
            repeats(requests),
            &mut [
                &mut || ours(requests, Reduction::PersistentSets),
                &mut || ours(requests, Reduction::Off),
                &mut || stateright(requests, true),
                &mut || stateright(requests, false),
            ],
        )
        .into_iter();
        let mut next = || runs.next().expect("four runs");
        let (ours_reduced, ours_plain, bfs, dfs) = (next(), next(), next(), next());
        assert_eq!(ours_reduced.states, bfs.states, "same state space");
        assert_eq!(ours_plain.states, bfs.states, "same state space");
        assert_eq!(dfs.states, bfs.states, "same state space");
        let peer = bfs.per_second().max(dfs.per_second());
        println!(
            "{:>2} {:>10} | {:>12.0} {:>12.0} | {:>12.0} {:>12.0} {:>12.1} | {:>6.2}x {:>6.2}x",
            requests,
            bfs.states,
            bfs.per_second(),
            dfs.per_second(),
            ours_reduced.per_second(),
            ours_plain.per_second(),
            ours_reduced.elapsed.as_secs_f64() * 1000.0,
            ours_reduced.per_second() / peer,
            ours_plain.per_second() / peer,
        );
    }
    println!("ratio = ours (default reduction; the pool has no local steps, so: sleep sets) / the faster of stateright's BFS and DFS");
    println!("plain = ours without reduction / the same; ours includes building the report (shortest schedules, schedule counts)");
    if !(only_ours || only_plain) {
        world_pool(low, high);
    }
}

/// The real world: the `pool-exhaustion` lesson's scenario (every protocol message, pgxpool's
/// queue, PostgreSQL's backends) with N requests and MaxConns 4, explored to the end with the
/// default reduction (private steps, sleep sets, symmetry between the identical requests).
/// Stateright has no model of it, so there is no ratio; without symmetry even N = 3 takes
/// millions of states.
fn world_pool(low: usize, high: usize) {
    use lockstep::lesson::KnobValues;
    use lockstep::world::World;
    let lesson = lockstep::lesson::parse(
        "lessons/pool-exhaustion/lesson.toml",
        include_str!("../../lessons/pool-exhaustion/lesson.toml"),
    )
    .expect("the lesson parses");
    println!();
    println!("the world: lesson pool-exhaustion, N requests, MaxConns 4, default reduction; best of the same number of runs");
    println!(
        "{:>2} {:>10} {:>12} {:>10} {:>12}  verdict",
        "N", "states", "transitions", "ms", "states/s"
    );
    for requests in low..=high {
        let values = KnobValues::from([
            ("requests".to_string(), requests as u32),
            ("max_conns".to_string(), 4),
        ]);
        let scenario = lesson.scenario_at(None, &values).expect("knobs in range");
        let world = World::new(&scenario).expect("a valid world");
        let mut best: Option<(Duration, lockstep::explore::Report<_, _>)> = None;
        for _ in 0..repeats(requests) {
            let start = Instant::now();
            let report = Explorer::new(world.clone(), Limits::default()).run();
            let elapsed = start.elapsed();
            if best.as_ref().is_none_or(|(b, _)| elapsed < *b) {
                best = Some((elapsed, report));
            }
        }
        let (elapsed, report) = best.expect("at least one run");
        assert!(
            report.complete && !report.failures.is_empty(),
            "the pool hangs"
        );
        println!(
            "{:>2} {:>10} {:>12} {:>10.1} {:>12.0}  {}",
            requests,
            report.states_unique,
            report.transitions,
            elapsed.as_secs_f64() * 1000.0,
            report.states_unique as f64 / elapsed.as_secs_f64(),
            report.verdict()
        );
    }
}
