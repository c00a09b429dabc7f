//! The lock-order lesson: two workers lock the same rows in opposite orders.

use super::*;

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
    // The worker sees it the way a Django traceback ends: psycopg2's DeadlockDetected re-raised
    // as django.db.utils.OperationalError, with libpq's DETAIL, HINT and CONTEXT lines.
    assert_eq!(
        failure(&world, "A").as_deref(),
        Some(
            "django.db.utils.OperationalError: deadlock detected\n\
             DETAIL:  Process 4101 waits for ShareLock on transaction 742; blocked by process 4102.\n\
             Process 4102 waits for ShareLock on transaction 741; blocked by process 4101.\n\
             HINT:  See server log for query details.\n\
             CONTEXT:  while locking tuple (0,6) in relation \"widget\""
        )
    );
    // The retry fix branches on this, not on the words.
    assert_eq!(failed_sqlstate(&world, "A").as_deref(), Some("40P01"));
    // Leaving atomic() with the exception rolled A back: no session is left in a transaction.
    for pid in world.server().sessions() {
        let state = world.server().state(pid);
        assert!(
            matches!(state, server::SessionState::Idle),
            "{pid}: {state:?}"
        );
    }
}

/// The ids a task's updates touch when it runs alone, in order: the order its
/// `SELECT ... FOR UPDATE` returned (and locked) the rows.
fn update_order_alone(slug: &str, task: &str) -> Vec<String> {
    let lesson = lockstep_lessons::lesson(slug).unwrap();
    let mut world = World::new(&lesson.scenario(None)).unwrap();
    let id = world.task_named(task).unwrap();
    let mut events = Vec::new();
    while world.choices().contains(&Choice::Task(id)) {
        events.extend(world.step(Choice::Task(id)).unwrap());
    }
    events
        .iter()
        .filter_map(|e| match e {
            Event::Server(server::Event::StatementStarted { sql, .. }) => sql
                .strip_prefix("UPDATE widget SET n = n + 1 WHERE id = ")
                .map(str::to_string),
            _ => None,
        })
        .collect()
}

#[test]
fn lock_order_restock_locks_1_3_2_and_fulfilment_2_3_5_as_the_story_says() {
    assert_eq!(update_order_alone("lock-order", "A"), ["1", "3", "2"]);
    assert_eq!(update_order_alone("lock-order", "B"), ["2", "3", "5"]);
    // The updated widget 2's new version went into the page's next free slot.
    let (world, _) = play_bug("lock-order", None);
    assert!(failure(&world, "A")
        .unwrap()
        .contains("while locking tuple (0,6)"));
}

#[test]
fn lock_order_explorer_finds_the_deadlock_from_scratch() {
    let checks = check("lock-order");
    let bug = &checks[0];
    assert!(bug.fix.is_none() && bug.complete && bug.ok, "{bug}");
    assert_eq!(bug.states, 2_750);
    assert_eq!((bug.terminal_failing, bug.terminal_succeeding), (8, 18));
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
    assert_eq!(fix.states, 3_455);
    let (world, events) = play_bug("lock-order", Some("order-by"));
    assert!(server_errors(&events).is_empty());
    assert!(finished_ok(&world, "A") && finished_ok(&world, "B"));
}

#[test]
fn lock_order_retry_completes_on_every_schedule_but_wastes_work_and_can_lose_three_times() {
    let checks = check("lock-order");
    let retry = scenario_check(&checks, "retry");
    assert!(retry.complete && retry.ok, "{retry}");
    assert_eq!(retry.states, 5_864);
    assert_eq!(
        (retry.terminal_failing, retry.terminal_succeeding),
        (40, 18)
    );
    let kinds: Vec<&str> = retry.failures.iter().map(|f| f.0.as_str()).collect();
    assert!(!retry.stuck, "no schedule ends stuck: {kinds:?}");
    assert!(retry.to_string().contains("none hangs"), "{retry}");
    assert!(
        kinds.iter().all(|k| k.contains("(wasted work)")),
        "{kinds:?}"
    );
    // One and two rollbacks, then a worker that gives up after its third.
    assert!(kinds.contains(
        &"no transaction that locked or wrote rows is rolled back: 1 was: its row locks and \
          writes were thrown away (wasted work)"
    ));
    assert!(kinds.iter().any(|k| k
        .contains("A failed: django.db.utils.OperationalError: deadlock detected")
        && k.contains("3 were")));
    // The fix's own schedule: the same deadlock after the one-second check, B finishes, A
    // retries alone and both workers' updates land; one transaction's work was thrown away.
    let (world, events) = play_bug("lock-order", Some("retry"));
    let errors = server_errors(&events);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code, "40P01");
    assert!(finished_ok(&world, "A") && finished_ok(&world, "B"));
    assert_eq!(
        world.query_value("SELECT n FROM widget WHERE id = 3"),
        Ok(Some("2".into()))
    );
    assert_eq!(
        violations(&world),
        vec![
            "no transaction that locked or wrote rows is rolled back: 1 was: its row locks and \
             writes were thrown away (wasted work)"
                .to_string()
        ]
    );
}

#[test]
fn lock_order_retry_can_collide_again_when_the_victim_outruns_the_woken_worker() {
    // Always A first: each time A is rolled back it runs again before B has taken the row it
    // was woken for, and the cycle forms again, one deadlock_timeout each time, until A gives up.
    let lesson = lockstep_lessons::lesson("lock-order").unwrap();
    let mut world = World::new(&lesson.scenario(Some("retry"))).unwrap();
    let schedule: Schedule = lesson.bug_schedule.parse().unwrap();
    let (mut world, mut events) = {
        let mut events = Vec::new();
        for m in schedule.0 {
            let choice = match m {
                Move::Tick => Choice::Tick,
                Move::Task(name) => Choice::Task(world.task_named(&name).unwrap()),
            };
            let choice = if world.choices().contains(&choice) {
                choice
            } else {
                world.choices()[0]
            };
            events.extend(world.step(choice).unwrap());
        }
        (world, events)
    };
    while world.status() == Status::Running {
        let first = world.choices()[0];
        events.extend(world.step(first).unwrap());
    }
    let errors = server_errors(&events);
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(!finished_ok(&world, "A") && finished_ok(&world, "B"));
    assert!(
        world.now()
            >= lockstep::time::Instant::START + lockstep::time::Duration::from_millis(3_000)
    );
    assert!(
        violations(&world).iter().any(|v| v.contains("3 were")),
        "{:?}",
        violations(&world)
    );
}
