//! Every lesson's test triad: the lesson's own schedule shows the bug with the real symptom,
//! the explorer finds a failure from scratch (counts pinned), and every real fix is proven over
//! every schedule.

use lockstep::explore::world::{check_lesson, ScenarioCheck};
use lockstep::server;
use lockstep::world::{Choice, Event, Move, Schedule, Status, TaskState, World};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

mod insert_order;
mod leaked_transaction;
mod lock_order;
mod pool_exhaustion;
mod read_skew;
mod reduction;
mod shared_transaction;

/// Plays the lesson's schedule (the fix's own, if it has one) the way the app's Play button does: each move when it is
/// enabled, otherwise the first enabled choice (a fix can change which moves exist), then the
/// first enabled choice until the end.
fn play_bug(slug: &str, fix: Option<&str>) -> (World, Vec<Event>) {
    let lesson = lockstep_lessons::lesson(slug).unwrap();
    let mut world = World::new(&lesson.scenario(fix)).unwrap();
    let schedule: Schedule = lesson.schedule_for(fix).parse().unwrap();
    let mut moves = schedule.0.into_iter();
    let mut events = Vec::new();
    for _ in 0..10_000 {
        if world.status() != Status::Running {
            break;
        }
        let enabled = world.choices();
        let wanted = moves.next().and_then(|m| match m {
            Move::Tick => Some(Choice::Tick),
            Move::Task(name) => world.task_named(&name).map(Choice::Task),
        });
        let choice = wanted.filter(|c| enabled.contains(c)).unwrap_or(enabled[0]);
        events.extend(world.step(choice).unwrap());
    }
    (world, events)
}

fn server_errors(events: &[Event]) -> Vec<&server::PgError> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Server(server::Event::Error { error, .. }) => Some(error),
            _ => None,
        })
        .collect()
}

/// The error a task finished with, in full (the driver's words).
fn failure(world: &World, task: &str) -> Option<String> {
    world
        .task_error(world.task_named(task).unwrap())
        .map(|e| e.text)
}

/// The SQLSTATE of the server error a task finished with.
fn failed_sqlstate(world: &World, task: &str) -> Option<String> {
    world
        .task_error(world.task_named(task).unwrap())
        .and_then(|e| e.sqlstate)
}

fn finished_ok(world: &World, task: &str) -> bool {
    let id = world.task_named(task).unwrap();
    matches!(world.task_views()[id.0 as usize].state, TaskState::Finished)
}

/// The checker's verdicts on a lesson, computed once per lesson for all the tests that ask.
fn check(slug: &str) -> Vec<ScenarioCheck> {
    type Cell = Arc<OnceLock<Vec<ScenarioCheck>>>;
    static CHECKS: Mutex<BTreeMap<String, Cell>> = Mutex::new(BTreeMap::new());
    let cell = CHECKS
        .lock()
        .unwrap()
        .entry(slug.to_string())
        .or_default()
        .clone();
    cell.get_or_init(|| {
        check_lesson(lockstep_lessons::lesson(slug).unwrap(), Default::default()).unwrap()
    })
    .clone()
}

/// Every complete schedule from `world` (no reduction: each interleaving counted once), as
/// (failing, all). Memoised on the state, so shared suffixes are counted once.
fn count_schedules(
    world: &World,
    memo: &mut std::collections::HashMap<World, (u64, u64)>,
) -> (u64, u64) {
    if let Some(counts) = memo.get(world) {
        return *counts;
    }
    let counts = match world.status() {
        Status::Running => {
            let mut counts = (0, 0);
            for choice in world.choices() {
                let mut next = world.clone();
                next.step(choice).unwrap();
                let (failing, all) = count_schedules(&next, memo);
                counts = (counts.0 + failing, counts.1 + all);
            }
            counts
        }
        Status::Finished {
            invariant_violations,
        } => (u64::from(!invariant_violations.is_empty()), 1),
        _ => (1, 1),
    };
    memo.insert(world.clone(), counts);
    counts
}

fn scenario_check<'a>(checks: &'a [ScenarioCheck], fix: &str) -> &'a ScenarioCheck {
    checks
        .iter()
        .find(|c| c.fix.as_deref() == Some(fix))
        .unwrap_or_else(|| panic!("no fix {fix}"))
}

fn violations(world: &World) -> Vec<String> {
    match world.status() {
        Status::Finished {
            invariant_violations,
        } => invariant_violations,
        other => panic!("not finished: {other:?}"),
    }
}
