//! Lesson shared-transaction: goroutines that use one transaction or connection at once, and how
//! lib/pq and pgx fail.

use super::*;

/// Lesson shared-transaction: two goroutines use one database/sql Tx (lib/pq) at once.
fn shared_transaction() -> Scenario {
    scenario(json!({
        "setup": "CREATE TABLE orders (id int PRIMARY KEY, qty int, status text); \
                  CREATE TABLE inventory (sku int PRIMARY KEY, stock int); \
                  INSERT INTO orders VALUES (1, 2, 'new'); INSERT INTO inventory VALUES (1, 10);",
        "pools": [{ "name": "db", "driver": "database/sql" }],
        "tasks": [
            { "name": "P", "program": [
                { "line": 2, "op": "begin", "on": "db" },
                { "line": 3, "op": "defer", "body": [{ "line": 3, "op": "rollback" }] },
                { "line": 5, "op": "spawn", "task": "GetOrder" },
                { "line": 6, "op": "spawn", "task": "GetInventory" },
                { "line": 8, "op": "wait" },
                { "line": 12, "op": "exec", "on": "tx",
                  "sql": "UPDATE inventory SET stock = stock - $1 WHERE sku = $2", "args": ["$qty", "1"] },
                { "line": 13, "op": "exec", "on": "tx",
                  "sql": "UPDATE orders SET status = 'shipped' WHERE id = $1", "args": ["1"] },
                { "line": 14, "op": "commit" },
            ]},
            { "name": "GetOrder", "goroutine": true, "program": [
                { "line": 20, "op": "query-row", "on": "tx",
                  "sql": "SELECT qty FROM orders WHERE id = $1 LIMIT 1", "args": ["1"], "into": ["qty"] },
            ]},
            { "name": "GetInventory", "goroutine": true, "program": [
                { "line": 25, "op": "query-row", "on": "tx",
                  "sql": "SELECT stock FROM inventory WHERE sku = $1 LIMIT 1", "args": ["1"], "into": ["stock"] },
            ]},
        ],
        "invariants": [{ "check": "no-task-failed" }],
    }))
}

#[test]
fn goroutines_sharing_a_lib_pq_transaction_fail_only_on_some_interleavings() {
    let s = shared_transaction();
    let mut start = World::new(&s).unwrap();
    run_until_blocked(&mut start, "P", 20); // begin, defer, spawn, spawn, then g.Wait()
    assert!(matches!(
        start.block_reason(TaskId(0)),
        Some(BlockReason::Goroutines { .. })
    ));
    let g1 = start.task_named("P.GetOrder").unwrap();
    let mut outcomes = BTreeMap::new();
    for k in 0..30 {
        // GetOrder takes k steps, then GetInventory runs alone, then everything else.
        let mut world = start.clone();
        for _ in 0..k {
            if world.task_state(g1) == TaskState::Runnable {
                world.step(Choice::Task(g1)).unwrap();
            }
        }
        run_until_blocked(&mut world, "P.GetInventory", 100);
        run_first_choice(&mut world, 1000);
        assert!(world.all_finished());
        let error =
            failure_of(&world, "P.GetInventory").or_else(|| failure_of(&world, "P.GetOrder"));
        outcomes.entry(error).or_insert(k);
    }
    let errors: Vec<Option<String>> = outcomes.keys().cloned().collect();
    assert!(
        errors.contains(&None),
        "running one after the other works: {errors:?}"
    );
    assert!(
        errors.contains(&Some("pq: unexpected Parse response 'C'".into())),
        "{errors:?}"
    );
    assert!(
        errors.contains(&Some("pq: unexpected Parse response 'D'".into())),
        "{errors:?}"
    );
}

#[test]
fn the_unexpected_parse_response_kills_the_transaction_and_the_order_is_not_shipped() {
    let s = shared_transaction();
    let mut world = World::new(&s).unwrap();
    run_until_blocked(&mut world, "P", 20);
    let g1 = world.task_named("P.GetOrder").unwrap();
    // GetOrder until rows.Next has returned its row (the DataRow is read twice: by
    // postExecuteWorkaround, which saves it, then by rows.Next), before rows.Close.
    let mut data_rows = 0;
    for _ in 0..30 {
        let events = world.step(Choice::Task(g1)).unwrap();
        data_rows += events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::MessageReceived {
                        message: Backend::DataRow { .. },
                        ..
                    }
                )
            })
            .count();
        if data_rows == 2 {
            world.step(Choice::Task(g1)).unwrap(); // the end of rows.Next's driver call
            break;
        }
    }
    let events = run_until_blocked(&mut world, "P.GetInventory", 100);
    assert_eq!(
        failure_of(&world, "P.GetInventory").as_deref(),
        Some("pq: unexpected Parse response 'C'")
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::ConnectionMarkedBad { .. })));
    let (_, events) = run_first_choice(&mut world, 1000);
    // errgroup returns the error; the deferred Rollback meets a bad connection, which
    // database/sql closes: the server session ends and the transaction with it.
    assert_eq!(
        failure_of(&world, "P").as_deref(),
        Some("pq: unexpected Parse response 'C'")
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::ConnectionClosed { .. })));
    assert!(world.connections.is_empty());
    let Status::Finished {
        invariant_violations,
    } = world.status()
    else {
        panic!()
    };
    assert_eq!(invariant_violations.len(), 1);
}

#[test]
fn pgx_refuses_a_second_goroutine_on_a_busy_connection_with_conn_busy() {
    let s = scenario(json!({
        "pools": [{ "name": "db", "driver": "pgxpool" }],
        "tasks": [
            { "name": "P", "program": [
                { "line": 1, "op": "begin", "on": "db" },
                { "line": 2, "op": "spawn", "task": "Reader" },
                { "line": 3, "op": "spawn", "task": "Writer" },
                { "line": 4, "op": "wait" },
                { "line": 5, "op": "commit" },
            ]},
            { "name": "Reader", "goroutine": true, "program": [
                { "line": 10, "op": "query", "on": "tx", "sql": "SELECT id FROM t" },
                { "line": 11, "op": "close" },
            ]},
            { "name": "Writer", "goroutine": true, "program": [
                { "line": 20, "op": "exec", "on": "tx", "sql": "UPDATE t SET n = 1" },
            ]},
        ],
    }));
    let mut world = World::new(&s).unwrap();
    run_until_blocked(&mut world, "P", 10);
    let reader = world.task_named("P.Reader").unwrap();
    world.step(Choice::Task(reader)).unwrap(); // the rows are open: the connection is busy
    run_until_blocked(&mut world, "P.Writer", 10);
    assert_eq!(failure_of(&world, "P.Writer").as_deref(), Some("conn busy"));
    run_first_choice(&mut world, 100);
    assert_eq!(
        failure_of(&world, "P").as_deref(),
        Some("conn busy"),
        "errgroup returns it"
    );
}

#[test]
fn the_shared_transaction_schedule_that_breaks_the_socket_is_pinned() {
    let schedule: Schedule = "P P P P P P P \
        P.GetOrder P.GetOrder P.GetOrder P.GetOrder P.GetOrder P.GetOrder P.GetOrder \
        P.GetOrder P.GetOrder P.GetOrder P.GetOrder P.GetOrder P.GetInventory P.GetInventory"
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .parse()
        .unwrap();
    let (world, _) = World::replay(&shared_transaction(), &schedule).unwrap();
    assert_eq!(
        failure_of(&world, "P.GetInventory").as_deref(),
        Some("pq: unexpected Parse response 'C'")
    );
}
