//! Every lesson's test triad: the lesson's own schedule shows the bug with the real symptom,
//! the explorer finds a failure from scratch (counts pinned), and every real fix is proven over
//! every schedule.

use lockstep::explore::world::{check_lesson, ScenarioCheck};
use lockstep::server;
use lockstep::world::{task::Life, Choice, Event, Move, Schedule, Status, World};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

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
    match &world.tasks[world.task_named(task).unwrap().0 as usize].life {
        Life::Finished { error: Some(e) } => Some(e.text.clone()),
        _ => None,
    }
}

/// The SQLSTATE of the server error a task finished with.
fn failed_sqlstate(world: &World, task: &str) -> Option<String> {
    match &world.tasks[world.task_named(task).unwrap().0 as usize].life {
        Life::Finished { error: Some(e) } => e.sqlstate.clone(),
        _ => None,
    }
}

fn finished_ok(world: &World, task: &str) -> bool {
    let id = world.task_named(task).unwrap();
    matches!(
        world.tasks[id.0 as usize].life,
        Life::Finished { error: None }
    )
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
    for pid in world.server.sessions() {
        let state = world.server.state(pid);
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
    assert_eq!(bug.states, 384);
    assert_eq!((bug.terminal_failing, bug.terminal_succeeding), (5, 8));
    let rr = checks
        .iter()
        .find(|c| c.fix.as_deref() == Some("repeatable-read"))
        .unwrap();
    assert!(rr.complete && rr.failures.is_empty(), "{rr}");
    assert_eq!(rr.states, 610);
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
    // Repo.insert_all raises Postgrex.Error; a crashed process logs it like this (no CONTEXT:
    // Postgrex prints the hint and the DETAIL only).
    assert_eq!(
        failure(&world, "A").as_deref(),
        Some(
            "** (Postgrex.Error) ERROR 40P01 (deadlock_detected) deadlock detected\n\
             \n    hint: See server log for query details.\n\
             \n\
             Process 4101 waits for ShareLock on transaction 742; blocked by process 4102.\n\
             Process 4102 waits for ShareLock on transaction 741; blocked by process 4101."
        )
    );
    assert_eq!(failed_sqlstate(&world, "A").as_deref(), Some("40P01"));
}

/// The backend whose deadlock check runs first is the one that started waiting first, and it
/// aborts its own transaction: the lessons say the victim is chosen by that, not by size.
#[test]
fn the_deadlock_victim_is_the_backend_that_waited_first() {
    for slug in ["lock-order", "insert-order"] {
        let (_, events) = play_bug(slug, None);
        let first_waiter = events.iter().find_map(|e| match e {
            Event::Server(server::Event::LockWaiting { pid, .. }) => Some(*pid),
            _ => None,
        });
        let victim = events.iter().find_map(|e| match e {
            Event::Server(server::Event::Error { pid, error }) if error.code == "40P01" => {
                Some(*pid)
            }
            _ => None,
        });
        assert!(first_waiter.is_some(), "{slug}");
        assert_eq!(first_waiter, victim, "{slug}");
    }
}

/// ON CONFLICT DO UPDATE on keys that already exist locks the existing rows: two batches
/// upserting them in opposite orders deadlock on row locks instead of on the unique index.
#[test]
fn insert_order_upserts_of_existing_keys_deadlock_on_row_locks_too() {
    let lesson = lockstep_lessons::lesson("insert-order").unwrap();
    let mut scenario = lesson.scenario(None);
    scenario
        .setup
        .push_str("INSERT INTO addresses (hash) VALUES ('0xa1'), ('0xb2');\n");
    let schedule: Schedule = lesson.bug_schedule.parse().unwrap();
    let mut world = World::new(&scenario).unwrap();
    let mut events = Vec::new();
    for m in schedule.0 {
        if world.status() != Status::Running {
            break;
        }
        let wanted = match m {
            Move::Tick => Some(Choice::Tick),
            Move::Task(name) => world.task_named(&name).map(Choice::Task),
        };
        let enabled = world.choices();
        let choice = wanted.filter(|c| enabled.contains(c)).unwrap_or(enabled[0]);
        events.extend(world.step(choice).unwrap());
    }
    let errors = server_errors(&events);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code, "40P01");
    // Every write was an update of an existing row: no key was new.
    let writes: Vec<&server::WriteKind> = events
        .iter()
        .filter_map(|e| match e {
            Event::Server(server::Event::TupleWritten { kind, .. }) => Some(kind),
            _ => None,
        })
        .collect();
    assert!(!writes.is_empty());
    assert!(
        writes
            .iter()
            .all(|k| matches!(k, server::WriteKind::Update)),
        "{writes:?}"
    );
    // The second upsert's unique check waits for the first's transaction, as PostgreSQL's
    // check_exclusion_or_unique_constraint does (XLTW_InsertIndex), so CONTEXT reads the same.
    assert!(
        errors[0]
            .to_string()
            .contains("CONTEXT:  while inserting index tuple (0,2) in relation \"addresses\""),
        "{}",
        errors[0]
    );
}

#[test]
fn insert_order_explorer_finds_the_deadlock_and_sorted_keys_prove_the_fix() {
    let checks = check("insert-order");
    assert!(checks[0].ok && checks[0].complete, "{}", checks[0]);
    assert_eq!(checks[0].states, 255);
    assert_eq!(
        (checks[0].terminal_failing, checks[0].terminal_succeeding),
        (4, 6)
    );
    let sorted = checks
        .iter()
        .find(|c| c.fix.as_deref() == Some("sort-keys"))
        .unwrap();
    assert!(sorted.complete && sorted.failures.is_empty(), "{sorted}");
    assert_eq!(sorted.states, 189);
}

#[test]
fn insert_order_single_writer_deadlocks_again_with_the_balance_fetcher_outside_it() {
    let lesson = lockstep_lessons::lesson("insert-order").unwrap();
    // The writer process (A) writes the block batches one after the other; the balance
    // fetcher (B) keeps its own Repo.insert_all, the lesson's listing, outside the writer.
    let listings = lesson.listings_for(Some("single-writer"));
    let files: Vec<&str> = listings.iter().map(|l| l.file.as_str()).collect();
    assert_eq!(
        files,
        [
            "lib/indexer/balance_fetcher.ex",
            "lib/indexer/address_writer.ex"
        ]
    );
    let checks = check("insert-order");
    let single = scenario_check(&checks, "single-writer");
    assert!(single.ok && single.complete, "{single}");
    // 849 when the fix funnelled a block batch and a balance batch through the writer and
    // deadlocked with a backfill task; now the writer takes two block batches and the balance
    // fetcher writes outside it, as in the incident.
    assert_eq!(single.states, 1_085);
    assert_eq!(
        (single.terminal_failing, single.terminal_succeeding),
        (6, 27)
    );
    assert!(
        single.failures[0].0.contains("deadlock detected"),
        "{single}"
    );
    let (world, events) = play_bug("insert-order", Some("single-writer"));
    assert_eq!(server_errors(&events)[0].code, "40P01");
    assert!(!finished_ok(&world, "A") && finished_ok(&world, "B"));
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

#[test]
fn shared_transaction_default_schedule_desynchronises_the_socket_and_the_order_is_never_shipped() {
    let (world, events) = play_bug("shared-transaction", None);
    assert!(
        server_errors(&events).is_empty(),
        "PostgreSQL sees nothing wrong"
    );
    // Both goroutines' messages went into one connection's stream.
    let sent_by: std::collections::BTreeSet<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::MessageSent { task, .. } => Some(world.tasks[task.0 as usize].name.clone()),
            _ => None,
        })
        .collect();
    assert!(sent_by.contains("P.GetOrder") && sent_by.contains("P.GetInventory"));
    assert_eq!(
        failure(&world, "P.GetInventory").as_deref(),
        Some("pq: unexpected Parse response 'C'")
    );
    // lib/pq saved driver.ErrBadConn on the connection; the rows.Close() that ends GetOrder's
    // Row.Scan checks it first and returns it without reading.
    assert_eq!(
        failure(&world, "P.GetOrder").as_deref(),
        Some("driver: bad connection")
    );
    // errgroup returns the first error: GetInventory's.
    assert_eq!(
        failure(&world, "P").as_deref(),
        Some("pq: unexpected Parse response 'C'")
    );
    let get_order = world.task_named("P.GetOrder").unwrap();
    let after_bad = events
        .iter()
        .skip_while(|e| !matches!(e, Event::ConnectionMarkedBad { .. }))
        .any(|e| matches!(e, Event::MessageReceived { task, .. } if *task == get_order));
    assert!(
        !after_bad,
        "GetOrder reads nothing once the connection is bad"
    );
    assert_eq!(
        violations(&world),
        vec![
            "no task fails: P failed: pq: unexpected Parse response 'C'; \
             P.GetOrder failed: driver: bad connection; \
             P.GetInventory failed: pq: unexpected Parse response 'C'"
                .to_string(),
            "`SELECT status FROM orders WHERE id = 1` = shipped: it is accepted".to_string(),
            "`SELECT stock FROM inventory WHERE sku = 1` = 8: it is 10".to_string(),
        ]
    );
}

#[test]
fn shared_transaction_fails_on_165_of_1878_schedules_of_one_request() {
    let lesson = lockstep_lessons::lesson("shared-transaction").unwrap();
    let world = World::new(&lesson.scenario(None)).unwrap();
    let (failing, all) = count_schedules(&world, &mut Default::default());
    // The number the story quotes.
    assert_eq!((failing, all), (165, 1_878));
}

#[test]
fn shared_transaction_explorer_finds_the_desync_and_both_fixes_are_proven() {
    let checks = check("shared-transaction");
    let bug = &checks[0];
    assert!(bug.complete && bug.ok, "{bug}");
    // 212 before lib/pq's saved bad-connection error ended GetOrder's next call at once (it used
    // to read on through the desynchronised stream): fewer steps after the failure.
    assert_eq!(bug.states, 204);
    assert_eq!((bug.terminal_failing, bug.terminal_succeeding), (4, 1));
    let kinds: Vec<&str> = bug.failures.iter().map(|f| f.0.as_str()).collect();
    assert!(
        kinds
            .iter()
            .any(|k| k.contains("pq: unexpected Parse response 'C'")),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().all(|k| k.contains("it is accepted")),
        "never shipped: {kinds:?}"
    );
    let sequential = scenario_check(&checks, "sequential");
    assert!(sequential.complete && sequential.failures.is_empty() && sequential.ok);
    assert_eq!(sequential.states, 66);
    let before = scenario_check(&checks, "reads-before-tx");
    assert!(before.complete && before.failures.is_empty() && before.ok);
    assert_eq!(before.states, 431);
    for fix in ["sequential", "reads-before-tx"] {
        let (world, _) = play_bug("shared-transaction", Some(fix));
        assert!(violations(&world).is_empty(), "{fix}");
    }
}

#[test]
fn shared_transaction_reads_before_tx_says_what_protects_the_stock_check() {
    let lesson = lockstep_lessons::lesson("shared-transaction").unwrap();
    let fix = lesson.fix("reads-before-tx").unwrap();
    for claim in [
        "it was never\nprotected",
        "FOR UPDATE",
        "WHERE sku = $2 AND stock >= $1",
        "REPEATABLE READ or SERIALIZABLE",
        "(?lesson=read-skew)",
    ] {
        assert!(fix.explanation.contains(claim), "{claim}");
    }
}

/// The shared-transaction scenario with two requests for an item with stock 3 (each wants 2),
/// under `fix`, with `sql` rewritten, checked over every schedule for the right stock (one
/// order ships, leaving 1; the other is out of stock): the failures found, as text.
fn stock_failures(fix: &str, sql: &[(&str, &str)], states_max: usize) -> (bool, Vec<String>) {
    let lesson = lockstep_lessons::lesson("shared-transaction").unwrap();
    let mut scenario = lesson.scenario(Some(fix));
    scenario.setup = scenario.setup.replace("VALUES (1, 10)", "VALUES (1, 3)");
    scenario
        .tasks
        .iter_mut()
        .find(|t| t.name == "P")
        .unwrap()
        .count = 2;
    scenario.invariants = vec![lockstep::world::Invariant::Sql {
        query: "SELECT stock FROM inventory WHERE sku = 1".into(),
        equals: "1".into(),
    }];
    for task in &mut scenario.tasks {
        for op in &mut task.program {
            if let lockstep::world::Action::QueryRow { sql: text, .. } = &mut op.action {
                if let Some((_, new)) = sql.iter().find(|(old, _)| old == text) {
                    *text = new.to_string();
                }
            }
        }
    }
    let limits = lockstep::explore::Limits {
        states_max,
        ..Default::default()
    };
    let report = lockstep::explore::world::explore(World::new(&scenario).unwrap(), limits);
    let failures = report
        .failures
        .iter()
        .map(|f| f.failure.to_string())
        .collect();
    (report.complete, failures)
}

#[test]
fn shared_transaction_the_stock_check_oversells_with_either_fix_and_for_update_prevents_it() {
    // Both fixes can ship both orders (stock -1): the check was never protected, whether the
    // read runs inside the READ COMMITTED transaction or before it.
    // (Two requests with two goroutines each are too many schedules to search completely in a
    // test; finding one oversold end state is enough to show the claim.)
    for fix in ["sequential", "reads-before-tx"] {
        let (_, failures) = stock_failures(fix, &[], 20_000);
        assert!(
            failures.iter().any(|f| f.contains("it is -1")),
            "{fix}: {failures:?}"
        );
    }
    // Reading the stock FOR UPDATE inside the transaction that deducts protects it: proven.
    let (complete, failures) = stock_failures(
        "sequential",
        &[(
            "SELECT stock FROM inventory WHERE sku = $1",
            "SELECT stock FROM inventory WHERE sku = $1 FOR UPDATE",
        )],
        lockstep::explore::Limits::default().states_max,
    );
    assert!(complete && failures.is_empty(), "{failures:?}");
}

#[test]
fn leaked_transaction_default_schedule_leaves_the_lock_idle_in_transaction_until_postgres_refuses_clients(
) {
    let (world, events) = play_bug("leaked-transaction", None);
    assert!(finished_ok(&world, "C1"), "C1 cancels and commits");
    assert!(
        finished_ok(&world, "C2"),
        "C2 takes the early return: a success that leaks its Tx"
    );
    let Status::Stall { explanation } = world.status() else {
        panic!("{:?}", world.status())
    };
    assert!(
        explanation.iter().any(|l| l.contains(
            "is idle in a transaction and held by C2, which has returned without giving it back"
        )),
        "{explanation:#?}"
    );
    assert!(
        explanation
            .iter()
            .any(|l| l.contains("waits for ShareLock on transaction")),
        "{explanation:#?}"
    );
    // No deadlock error: the waiters form a queue, not a cycle.
    assert!(server_errors(&events).is_empty());
    // The connection count climbs: one per waiting request, until PostgreSQL says no.
    let opened = events
        .iter()
        .filter(|e| matches!(e, Event::Server(server::Event::Connected { .. })))
        .count();
    assert_eq!(opened, 3);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Server(server::Event::Log { line, .. })
            if line == "FATAL:  sorry, too many clients already"
    )));
    let c5 = &world.tasks[world.task_named("C5").unwrap().0 as usize];
    assert!(
        matches!(&c5.life, Life::Finished { error: Some(e) } if e.text == "pq: sorry, too many clients already"),
        "{:?}",
        c5.life
    );
}

const LEAKED_TRANSACTION_FIXES: [(&str, usize); 7] = [
    ("rollback-each-branch", 153),
    ("defer-rollback", 149),
    ("commit-in-defer", 148),
    ("return-error", 149),
    ("cancel-context", 142),
    ("request-timeout", 137),
    ("idle-in-transaction-timeout", 364),
];

#[test]
fn leaked_transaction_explorer_finds_the_stall_and_all_seven_fixes_are_proven() {
    let checks = check("leaked-transaction");
    let bug = &checks[0];
    assert!(bug.complete && bug.ok, "{bug}");
    assert_eq!(bug.states, 98);
    assert!(bug.failures[0].0.starts_with("stall") && bug.stuck, "{bug}");
    assert_eq!(checks.len(), 1 + LEAKED_TRANSACTION_FIXES.len());
    for (slug, states) in LEAKED_TRANSACTION_FIXES {
        let fix = scenario_check(&checks, slug);
        assert!(fix.complete && fix.failures.is_empty() && fix.ok, "{fix}");
        assert_eq!(fix.states, states, "{slug}");
    }
}

#[test]
fn leaked_transaction_every_fix_releases_the_lock_and_every_request_finishes() {
    for (slug, _) in LEAKED_TRANSACTION_FIXES {
        let (world, _) = play_bug("leaked-transaction", Some(slug));
        assert!(violations(&world).is_empty(), "{slug}");
        // Whoever is last may still hold the lock only under the idle timeout (until it
        // fires); every code fix leaves no session in a transaction.
        if slug != "idle-in-transaction-timeout" {
            for pid in world.server.sessions() {
                assert!(
                    matches!(world.server.state(pid), server::SessionState::Idle),
                    "{slug}: {pid}"
                );
            }
        }
    }
}

#[test]
fn leaked_transaction_idle_timeout_terminates_each_leaked_session() {
    let (_, events) = play_bug("leaked-transaction", Some("idle-in-transaction-timeout"));
    let terminated = events
        .iter()
        .filter(|e| {
            matches!(e, Event::Server(server::Event::Log { line, .. })
                if line == "FATAL:  terminating connection due to idle-in-transaction timeout")
        })
        .count();
    // C2, C3 and C4 each take the early return and are ended in turn; C5 is the last.
    assert_eq!(terminated, 3);
}

#[test]
fn leaked_transaction_return_error_answers_the_retry_with_an_error_that_is_not_a_failure() {
    let (world, _) = play_bug("leaked-transaction", Some("return-error"));
    let c2 = &world.tasks[world.task_named("C2").unwrap().0 as usize];
    assert!(
        matches!(&c2.life, Life::Finished { error: Some(e) } if e.text == "subscription already cancelled"),
        "{:?}",
        c2.life
    );
    assert!(violations(&world).is_empty());
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
        world.now >= lockstep::time::Instant::START + lockstep::time::Duration::from_millis(3_000)
    );
    assert!(
        violations(&world).iter().any(|v| v.contains("3 were")),
        "{:?}",
        violations(&world)
    );
}

#[test]
fn insert_order_retry_completes_on_every_schedule_but_batches_are_aborted_again() {
    let checks = check("insert-order");
    let retry = scenario_check(&checks, "retry");
    assert!(retry.complete && retry.ok, "{retry}");
    assert_eq!(retry.states, 762);
    assert_eq!((retry.terminal_failing, retry.terminal_succeeding), (16, 6));
    let kinds: Vec<&str> = retry.failures.iter().map(|f| f.0.as_str()).collect();
    assert!(!retry.stuck, "no schedule ends stuck: {kinds:?}");
    assert!(retry.to_string().contains("none hangs"), "{retry}");
    assert!(
        kinds.iter().all(|k| k.contains("(wasted work)")),
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|k| k.contains("3 were")), "{kinds:?}");
    let (world, events) = play_bug("insert-order", Some("retry"));
    assert_eq!(server_errors(&events).len(), 1);
    assert!(finished_ok(&world, "A") && finished_ok(&world, "B"));
    assert_eq!(
        world.query_value("SELECT seen + balance FROM addresses WHERE hash = '0xa1'"),
        Ok(Some("6".into()))
    );
}

#[test]
fn pool_exhaustion_default_schedule_hangs_with_every_request_in_acquire_and_postgres_silent() {
    let (world, events) = play_bug("pool-exhaustion", None);
    // PostgreSQL sees nothing: no error, no lock wait, no log line.
    assert!(server_errors(&events).is_empty());
    assert!(events.iter().all(|e| !matches!(
        e,
        Event::Server(server::Event::Log { .. } | server::Event::Error { .. })
    )));
    let Status::Deadlock { tasks, explanation } = world.status() else {
        panic!("{:?}", world.status())
    };
    assert_eq!(tasks.len(), 4);
    assert!(
        explanation[0].starts_with("pool starvation"),
        "{explanation:?}"
    );
    for view in world.task_views() {
        assert!(
            matches!(
                view.state,
                lockstep::world::TaskState::Blocked(lockstep::world::BlockReason::PoolSlot { .. })
            ),
            "{}: {:?}",
            view.name,
            view.state
        );
        assert_eq!(
            view.connections.len(),
            1,
            "{} holds one connection",
            view.name
        );
    }
    for pid in world.server.sessions() {
        assert!(matches!(
            world.server.state(pid),
            server::SessionState::Idle
        ));
    }
}

#[test]
fn pool_exhaustion_explorer_finds_the_hang_from_scratch() {
    let checks = check("pool-exhaustion");
    let bug = &checks[0];
    assert!(bug.fix.is_none() && bug.complete && bug.ok, "{bug}");
    assert_eq!(bug.failures.len(), 1, "{bug}");
    assert!(bug.failures[0].0.starts_with("deadlock"), "{bug}");
    assert_eq!(bug.states, 1_027);
    assert_eq!((bug.terminal_failing, bug.terminal_succeeding), (1, 3));
    // The shortest schedule really hangs when replayed.
    let lesson = lockstep_lessons::lesson("pool-exhaustion").unwrap();
    let schedule: Schedule = bug.failures[0].1.parse().unwrap();
    let (world, _) = World::replay(&lesson.scenario(None), &schedule).unwrap();
    assert!(matches!(world.status(), Status::Deadlock { .. }));
}

#[test]
fn pool_exhaustion_fewer_requests_than_max_conns_never_hang() {
    let lesson = lockstep_lessons::lesson("pool-exhaustion").unwrap();
    let knobs = lockstep::lesson::KnobValues::from([("requests".to_string(), 3)]);
    let world = World::new(&lesson.scenario_at(None, &knobs).unwrap()).unwrap();
    let report = lockstep::explore::world::explore(world, Default::default());
    assert!(report.proven(), "{}", report.verdict());
}

fn fix_check(checks: &[ScenarioCheck], slug: &str, at: bool) -> ScenarioCheck {
    checks
        .iter()
        .find(|c| c.fix.as_deref() == Some(slug) && c.at.is_empty() != at)
        .unwrap()
        .clone()
}

#[test]
fn pool_exhaustion_drain_first_is_proven_over_every_schedule() {
    let checks = check("pool-exhaustion");
    let fix = fix_check(&checks, "drain-first", false);
    assert!(fix.complete && fix.failures.is_empty() && fix.ok, "{fix}");
    assert_eq!(fix.states, 641);
    let (world, events) = play_bug("pool-exhaustion", Some("drain-first"));
    assert!(server_errors(&events).is_empty());
    assert!(violations(&world).is_empty());
}

#[test]
fn pool_exhaustion_bigger_pool_is_proven_for_four_requests_and_hangs_again_with_five() {
    let checks = check("pool-exhaustion");
    let fix = fix_check(&checks, "bigger-pool", false);
    assert_eq!(fix.knobs["max_conns"], 5);
    assert!(fix.complete && fix.failures.is_empty() && fix.ok, "{fix}");
    assert_eq!(fix.states, 1_310);
    let five = fix_check(&checks, "bigger-pool", true);
    assert_eq!(five.at["requests"], 5);
    assert_eq!((five.knobs["requests"], five.knobs["max_conns"]), (5, 5));
    assert!(five.expect_failure && five.ok, "{five}");
    assert!(five.failures[0].0.starts_with("deadlock"), "{five}");
    assert_eq!(five.states, 3_060);
    assert!(
        five.to_string()
            .contains("fix bigger-pool at requests = 5: fails"),
        "{five}"
    );
}

#[test]
fn pool_exhaustion_acquire_timeout_turns_the_hang_into_deadline_errors() {
    let checks = check("pool-exhaustion");
    let fix = fix_check(&checks, "acquire-timeout", false);
    assert!(fix.complete && fix.ok, "{fix}");
    assert_eq!(fix.failures.len(), 1, "{fix}");
    assert!(
        fix.failures[0]
            .0
            .contains("R1 failed: context deadline exceeded"),
        "{fix}"
    );
    assert_eq!(fix.states, 2_293);
    // On the lesson's schedule every request waits, then fails at the deadline; the server
    // recovers: every connection is back in the pool.
    let (world, _) = play_bug("pool-exhaustion", Some("acquire-timeout"));
    let broken = violations(&world);
    assert_eq!(broken.len(), 1, "{broken:?}");
    for name in ["R1", "R2", "R3", "R4"] {
        assert!(
            broken[0].contains(&format!("{name} failed: context deadline exceeded")),
            "{broken:?}"
        );
    }
    assert_eq!(world.pools[0].idle.len(), world.pools[0].open.len());
}

/// A failure's text with instance numbers of identical requests blanked (`R2` -> `R#`): the
/// reduced search reports failures up to renaming identical tasks.
fn up_to_renaming(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == 'R' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                chars.next();
            }
            out.push('#');
        }
    }
    out
}

/// The reduced search (private steps, sleep sets, symmetry) against the plain one on a world:
/// the same verdict, the same failure kinds up to renaming, and every schedule it reports
/// really reaches its failure.
fn assert_reduction_is_sound(world: World, what: &str) {
    use lockstep::explore::{Explorer, Limits, Model, Reduction};
    let limits = Limits::default();
    let plain = Explorer::with_reduction(world.clone(), limits, Reduction::Off).run();
    let reduced = Explorer::new(world.clone(), limits).run();
    assert!(plain.complete && reduced.complete, "{what}");
    assert_eq!(plain.proven(), reduced.proven(), "{what}");
    let kinds = |r: &lockstep::explore::Report<Choice, lockstep::explore::world::Failure>| {
        let mut k: Vec<String> = r
            .failures
            .iter()
            .map(|f| up_to_renaming(&f.failure.to_string()))
            .collect();
        k.sort();
        k.dedup();
        k
    };
    assert_eq!(kinds(&plain), kinds(&reduced), "{what}");
    assert!(reduced.states_unique <= plain.states_unique, "{what}");
    for found in &reduced.failures {
        let mut replay = world.clone();
        for choice in &found.schedule {
            Model::step(&mut replay, choice);
        }
        assert_eq!(
            Model::failure(&replay).as_ref(),
            Some(&found.failure),
            "{what}"
        );
    }
}

#[test]
fn the_reduced_search_agrees_with_the_plain_one_on_every_lesson_and_fix() {
    for lesson in lockstep_lessons::catalogue() {
        let fixes = std::iter::once(None).chain(lesson.fixes.iter().map(|f| Some(f.slug.as_str())));
        for fix in fixes {
            // Two requests keep the plain search small; the pool sizes cover hanging and not.
            let settings: Vec<lockstep::lesson::KnobValues> = if lesson.knobs.is_empty() {
                vec![Default::default()]
            } else {
                (1..=3)
                    .map(|pool| {
                        lockstep::lesson::KnobValues::from([
                            ("requests".to_string(), 2),
                            ("max_conns".to_string(), pool),
                        ])
                    })
                    .collect()
            };
            for knobs in settings {
                let scenario = lesson.scenario_at(fix, &knobs).unwrap();
                let what = format!("{} {fix:?} {knobs:?}", lesson.slug);
                assert_reduction_is_sound(World::new(&scenario).unwrap(), &what);
            }
        }
    }
}
