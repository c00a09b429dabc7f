//! The insert-order lesson: batches insert the same keys in different orders.

use super::*;

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
