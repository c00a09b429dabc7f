//! Every lesson's test triad: the lesson's own schedule shows the bug with the real symptom,
//! the explorer finds a failure from scratch (counts pinned), and every real fix is proven over
//! every schedule.

use lockstep::explore::world::{check_lesson, ScenarioCheck};
use lockstep::server;
use lockstep::world::{task::Life, Choice, Event, Move, Schedule, Status, World};

/// Plays the lesson's bug schedule the way the app's Play button does: each move when it is
/// enabled, otherwise the first enabled choice (a fix can change which moves exist), then the
/// first enabled choice until the end.
fn play_bug(slug: &str, fix: Option<&str>) -> (World, Vec<Event>) {
    let lesson = lockstep_lessons::lesson(slug).unwrap();
    let mut world = World::new(&lesson.scenario(fix)).unwrap();
    let schedule: Schedule = lesson.bug_schedule.parse().unwrap();
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

fn finished_ok(world: &World, task: &str) -> bool {
    let id = world.task_named(task).unwrap();
    matches!(
        world.tasks[id.0 as usize].life,
        Life::Finished { error: None }
    )
}

fn check(slug: &str) -> Vec<ScenarioCheck> {
    check_lesson(lockstep_lessons::lesson(slug).unwrap(), Default::default()).unwrap()
}

#[test]
fn lock_order_default_schedule_deadlocks_and_postgres_aborts_worker_a() {
    let (world, events) = play_bug("lock-order", None);
    let errors = server_errors(&events);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = errors[0];
    assert_eq!(error.code, "40P01");
    assert_eq!(
        error.to_string(),
        "ERROR:  deadlock detected\n\
         DETAIL:  Process 4101 waits for ShareLock on transaction 742; blocked by process 4102.\n\
         Process 4102 waits for ShareLock on transaction 741; blocked by process 4101.\n\
         HINT:  See server log for query details.\n\
         CONTEXT:  while locking tuple (0,6) in relation \"widget\""
    );
    // A waited first, so A's deadlock check ran first and A is the victim; B carries on.
    assert!(!finished_ok(&world, "A"));
    assert!(finished_ok(&world, "B"));
    // Leaving atomic() with the exception rolled A back: no session is left in a transaction.
    for pid in world.server.sessions() {
        let state = world.server.state(pid);
        assert!(
            matches!(state, server::SessionState::Idle),
            "{pid}: {state:?}"
        );
    }
}

#[test]
fn lock_order_explorer_finds_the_deadlock_from_scratch() {
    let checks = check("lock-order");
    let bug = &checks[0];
    assert!(bug.fix.is_none() && bug.complete && bug.ok, "{bug}");
    assert_eq!(bug.states, 12_979);
    assert_eq!((bug.terminal_failing, bug.terminal_succeeding), (32, 90));
    assert!(bug.failures[0].0.contains("deadlock detected"), "{bug}");
}

#[test]
fn lock_order_with_order_by_never_deadlocks_on_any_schedule() {
    let checks = check("lock-order");
    let fix = checks
        .iter()
        .find(|c| c.fix.as_deref() == Some("order-by"))
        .unwrap();
    assert!(fix.complete && fix.failures.is_empty() && fix.ok, "{fix}");
    assert_eq!(fix.states, 16_159);
    let (world, events) = play_bug("lock-order", Some("order-by"));
    assert!(server_errors(&events).is_empty());
    assert!(finished_ok(&world, "A") && finished_ok(&world, "B"));
}

fn violations(world: &World) -> Vec<String> {
    match world.status() {
        Status::Finished {
            invariant_violations,
        } => invariant_violations,
        other => panic!("not finished: {other:?}"),
    }
}

#[test]
fn read_skew_default_schedule_reports_a_total_that_never_existed() {
    let (world, events) = play_bug("read-skew", None);
    assert!(
        server_errors(&events).is_empty(),
        "read skew raises no error"
    );
    assert_eq!(
        violations(&world),
        vec!["total recorded by H = 200: H recorded 150".to_string()]
    );
}

#[test]
fn read_skew_explorer_finds_the_skew_and_repeatable_read_proves_the_fix() {
    let checks = check("read-skew");
    let bug = &checks[0];
    assert!(bug.complete && bug.ok, "{bug}");
    assert_eq!(bug.states, 421);
    assert_eq!((bug.terminal_failing, bug.terminal_succeeding), (7, 9));
    let rr = checks
        .iter()
        .find(|c| c.fix.as_deref() == Some("repeatable-read"))
        .unwrap();
    assert!(rr.complete && rr.failures.is_empty(), "{rr}");
    assert_eq!(rr.states, 1_265);
    let (world, _) = play_bug("read-skew", Some("repeatable-read"));
    assert!(violations(&world).is_empty());
}

#[test]
fn read_skew_read_committed_transaction_still_shows_the_skew() {
    let checks = check("read-skew");
    let rc = checks
        .iter()
        .find(|c| c.fix.as_deref() == Some("read-committed-tx"))
        .unwrap();
    assert!(!rc.failures.is_empty() && rc.ok, "{rc}");
    assert!(rc.failures[0].0.contains("H recorded 150"), "{rc}");
}

#[test]
fn insert_order_default_schedule_deadlocks_on_the_unique_index() {
    let (world, events) = play_bug("insert-order", None);
    let errors = server_errors(&events);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].to_string(),
        "ERROR:  deadlock detected\n\
         DETAIL:  Process 4101 waits for ShareLock on transaction 742; blocked by process 4102.\n\
         Process 4102 waits for ShareLock on transaction 741; blocked by process 4101.\n\
         HINT:  See server log for query details.\n\
         CONTEXT:  while inserting index tuple (0,2) in relation \"addresses\""
    );
    assert!(!finished_ok(&world, "A"));
    assert!(finished_ok(&world, "B"));
}

#[test]
fn insert_order_explorer_finds_the_deadlock_and_sorted_keys_prove_the_fix() {
    let checks = check("insert-order");
    assert!(checks[0].ok && checks[0].complete, "{}", checks[0]);
    assert_eq!(checks[0].states, 279);
    assert_eq!(
        (checks[0].terminal_failing, checks[0].terminal_succeeding),
        (8, 10)
    );
    let sorted = checks
        .iter()
        .find(|c| c.fix.as_deref() == Some("sort-keys"))
        .unwrap();
    assert!(sorted.complete && sorted.failures.is_empty(), "{sorted}");
    assert_eq!(sorted.states, 205);
}

#[test]
fn insert_order_single_writer_deadlocks_again_with_a_second_write_path() {
    let checks = check("insert-order");
    let single = checks
        .iter()
        .find(|c| c.fix.as_deref() == Some("single-writer"))
        .unwrap();
    assert!(single.ok, "{single}");
    assert!(
        single.failures[0].0.contains("deadlock detected"),
        "{single}"
    );
    let (_, events) = play_bug("insert-order", Some("single-writer"));
    assert_eq!(server_errors(&events)[0].code, "40P01");
}
