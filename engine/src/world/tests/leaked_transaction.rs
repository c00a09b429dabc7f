//! Lesson leaked-transaction: a transaction an early return leaves open, its connection and row
//! locks, and what contexts, timeouts and max_connections do about it.

use super::*;

/// Lesson leaked-transaction: an early return that neither commits nor rolls back.
fn leaked_transaction(
    requests: u32,
    max_connections: u32,
    begin_context: Option<&str>,
) -> Scenario {
    let mut begin = json!({ "line": 2, "op": "begin", "on": "db" });
    if let Some(ctx) = begin_context {
        begin["context"] = json!(ctx);
    }
    scenario(json!({
        "server": { "max_connections": max_connections, "superuser_reserved_connections": 0 },
        "setup": "CREATE TABLE subscription (id int PRIMARY KEY, status text); \
                  INSERT INTO subscription VALUES (1, 'cancelled');",
        "pools": [{ "name": "db", "driver": "database/sql" }],
        "tasks": [{ "name": "C", "count": requests, "every_ms": 100, "program": [
            begin,
            { "line": 3, "op": "defer", "body": [{ "line": 3, "op": "rollback", "when": "error" }] },
            { "line": 5, "op": "query-row", "on": "tx",
              "sql": "SELECT status FROM subscription WHERE id = $1 FOR UPDATE", "args": ["1"], "into": ["status"] },
            { "line": 6, "op": "if", "var": "status", "is": "eq", "value": "cancelled", "to": "early" },
            { "line": 9, "op": "exec", "on": "tx",
              "sql": "UPDATE subscription SET status = 'cancelled' WHERE id = $1", "args": ["1"] },
            { "line": 10, "op": "commit" },
            { "line": 11, "op": "return" },
            { "line": 7, "op": "return", "label": "early" },
        ]}],
    }))
}

#[test]
fn a_transaction_leaked_by_an_early_return_keeps_its_connection_forever() {
    let mut world = World::new(&leaked_transaction(1, 100, None)).unwrap();
    run_first_choice(&mut world, 1000);
    assert!(world.all_finished());
    let c1 = TaskId(0);
    assert_eq!(
        world.task_state(c1),
        TaskState::Finished,
        "the early return is a success"
    );
    assert_eq!(
        world.held_connections(c1).len(),
        1,
        "the Tx still holds its connection"
    );
    let conn = world.connections.values().next().unwrap();
    assert_eq!(conn.tx_status, TxStatus::InTransaction);
    assert!(world.pools[0].idle.is_empty());
    let graph = world.wait_for_graph();
    assert!(graph
        .explain()
        .iter()
        .any(|l| l.contains("has returned without giving it back")));
}

#[test]
fn a_transaction_begun_with_the_request_context_is_rolled_back_when_the_handler_returns() {
    let mut world = World::new(&leaked_transaction(1, 100, Some("request"))).unwrap();
    let (_, events) = run_first_choice(&mut world, 1000);
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::TransactionRolledBackByContext { .. })));
    assert!(world.held_connections(TaskId(0)).is_empty());
    assert_eq!(
        world.pools[0].idle.len(),
        1,
        "keepConnOnRollback: lib/pq's connection is reused"
    );
}

#[test]
fn database_sql_opens_connections_until_postgres_refuses_with_too_many_clients() {
    let s = scenario(json!({
        "server": { "max_connections": 3, "superuser_reserved_connections": 0 },
        "pools": [{ "name": "db", "driver": "database/sql" }],
        "tasks": [{ "name": "T", "count": 4, "program": [
            { "line": 1, "op": "begin", "on": "db" },
            { "line": 2, "op": "sleep", "ms": 1000 },
            { "line": 3, "op": "commit" },
        ]}],
    }));
    let mut world = World::new(&s).unwrap();
    assert_eq!(
        world.pools[0].max_open, None,
        "MaxOpenConns defaults to unlimited"
    );
    for name in ["T1", "T2", "T3", "T4"] {
        run_until_blocked(&mut world, name, 20);
    }
    assert_eq!(world.connections.len(), 3);
    assert_eq!(
        failure_of(&world, "T4").as_deref(),
        Some("pq: sorry, too many clients already")
    );
}

#[test]
fn database_sql_rolls_a_transaction_back_when_its_context_is_cancelled() {
    let s = scenario(json!({
        "pools": [{ "name": "db", "driver": "database/sql" }],
        "tasks": [{ "name": "W", "program": [
            { "line": 1, "op": "context", "name": "ctx" },
            { "line": 2, "op": "begin", "on": "db", "context": "ctx" },
            { "line": 3, "op": "cancel", "context": "ctx" },
            { "line": 4, "op": "commit" },
        ]}],
    }));
    let mut world = World::new(&s).unwrap();
    let events = run_until_blocked(&mut world, "W", 20);
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::TransactionRolledBackByContext { .. })));
    assert_eq!(
        world.pools[0].idle.len(),
        1,
        "the connection is back in the pool"
    );
    // Tx.Commit after the automatic rollback: ErrTxDone.
    assert_eq!(
        failure_of(&world, "W").as_deref(),
        Some("sql: transaction has already been committed or rolled back")
    );
}

#[test]
fn a_leaked_transaction_without_a_context_is_never_rolled_back() {
    let s = scenario(json!({
        "pools": [{ "name": "db", "driver": "database/sql" }],
        "tasks": [{ "name": "W", "program": [
            { "line": 1, "op": "begin", "on": "db" },
            { "line": 2, "op": "return" },
        ]}],
    }));
    let mut world = World::new(&s).unwrap();
    run_first_choice(&mut world, 100);
    assert!(world.all_finished());
    assert_eq!(world.held_connections(TaskId(0)).len(), 1);
    assert!(world.pools[0].idle.is_empty());
}

#[test]
fn later_requests_queue_on_the_leaked_row_lock_while_database_sql_opens_connections_until_refused()
{
    let mut s = leaked_transaction(6, 4, None);
    s.invariants = vec![Invariant::AllTasksFinished];
    let mut world = World::new(&s).unwrap();
    // Requests arrive every 100 ms; each runs until it blocks.
    let (schedule, events) = run_first_choice(&mut world, 10_000);
    assert!(schedule.0.contains(&Move::Tick), "arrivals move the clock");
    assert_eq!(
        world.task_state(TaskId(0)),
        TaskState::Finished,
        "C1 returned early, leaking its Tx"
    );
    for name in ["C2", "C3", "C4"] {
        let id = world.task_named(name).unwrap();
        assert!(
            matches!(world.block_reason(id), Some(BlockReason::Lock { .. })),
            "{name}: {:?}",
            world.task_state(id)
        );
    }
    for name in ["C5", "C6"] {
        assert_eq!(
            failure_of(&world, name).as_deref(),
            Some("pq: sorry, too many clients already"),
            "{name}"
        );
    }
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::ConnectionRefused { .. })));
    let Status::Stall { explanation } = world.status() else {
        panic!("{:?}", world.status())
    };
    assert!(
        explanation
            .iter()
            .any(|l| l.contains("has returned without giving it back: nobody will end it")),
        "{explanation:#?}"
    );
    assert!(
        explanation
            .iter()
            .any(|l| l.contains("waits for ShareLock on transaction")),
        "{explanation:#?}"
    );
}

#[test]
fn the_idle_in_transaction_timeout_terminates_the_leaked_session_and_the_queue_moves() {
    let mut s = leaked_transaction(3, 100, None);
    s.server.idle_in_transaction_session_timeout_ms = Some(10_000);
    let mut world = World::new(&s).unwrap();
    let (_, events) = run_first_choice(&mut world, 10_000);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Server(crate::server::Event::Log { line, .. })
            if line.contains("terminating connection due to idle-in-transaction timeout")
    )));
    assert_eq!(
        world.status(),
        Status::Finished {
            invariant_violations: vec![]
        }
    );
    // Every request saw the row already cancelled and leaked in turn; the server ended the
    // sessions of all but the last (the run ends when every request has returned).
    assert_eq!(
        world.connections.values().filter(|c| c.terminated).count(),
        2
    );
}

#[test]
fn a_request_timeout_cancels_the_statement_waiting_for_the_leaked_lock() {
    let mut s = leaked_transaction(2, 100, Some("request"));
    // The first request's Tx uses no context (the leak); the second times out after 5 s.
    s.tasks[0].program[0] =
        serde_json::from_value(json!({ "line": 2, "op": "begin", "on": "db" })).unwrap();
    s.tasks.push(TaskSpec {
        name: "Late".into(),
        count: 1,
        arrival_ms: 500,
        every_ms: 0,
        timeout_ms: Some(5_000),
        goroutine: false,
        program: s.tasks[0].program.clone(),
    });
    s.tasks[0].count = 1;
    s.tasks[1].program[0] = serde_json::from_value(
        json!({ "line": 2, "op": "begin", "on": "db", "context": "request" }),
    )
    .unwrap();
    s.tasks[1].program[2] = serde_json::from_value(json!({ "line": 5, "op": "query-row", "on": "tx", "context": "request",
        "sql": "SELECT status FROM subscription WHERE id = $1 FOR UPDATE", "args": ["1"], "into": ["status"] })).unwrap();
    let mut world = World::new(&s).unwrap();
    run_first_choice(&mut world, 10_000);
    assert_eq!(
        failure_of(&world, "Late").as_deref(),
        Some("pq: canceling statement due to user request")
    );
    assert_eq!(world.now, Instant::START + Duration::from_millis(5_500));
    // Its own Tx was rolled back by database/sql when the request context ended.
    let late = world.task_named("Late").unwrap();
    assert!(world.held_connections(late).is_empty());
}

#[test]
fn a_row_lock_held_while_waiting_for_a_full_pool_is_a_cycle_postgres_cannot_see() {
    let s = scenario(json!({
        "setup": "CREATE TABLE account (id int PRIMARY KEY, balance int); \
                  CREATE TABLE audit (id int, note text); \
                  INSERT INTO account VALUES (1, 100);",
        "pools": [{ "name": "db", "driver": "pgxpool", "max_conns": 2 }],
        "tasks": [
            { "name": "A", "program": [
                { "line": 1, "op": "begin", "on": "db" },
                { "line": 2, "op": "exec", "on": "tx", "sql": "UPDATE account SET balance = balance - 1 WHERE id = 1" },
                // The bug: pool.Exec instead of tx.Exec needs a second connection.
                { "line": 3, "op": "exec", "on": "db", "sql": "INSERT INTO audit VALUES (1, 'debit')" },
                { "line": 4, "op": "commit" },
            ]},
            { "name": "B", "program": [
                { "line": 1, "op": "begin", "on": "db" },
                { "line": 2, "op": "exec", "on": "tx", "sql": "UPDATE account SET balance = balance + 1 WHERE id = 1" },
                { "line": 4, "op": "commit" },
            ]},
        ],
    }));
    let mut world = World::new(&s).unwrap();
    let a = world.task_named("A").unwrap();
    while world.current_op(a).map(|op| op.line) != Some(3) {
        world.step(Choice::Task(a)).unwrap();
    }
    run_until_blocked(&mut world, "B", 50);
    run_until_blocked(&mut world, "A", 50);
    // PostgreSQL's deadlock check runs after deadlock_timeout and finds nothing.
    assert_eq!(world.choices(), vec![Choice::Tick]);
    world.step(Choice::Tick).unwrap();
    assert!(world.choices().is_empty());
    let Status::Deadlock { tasks, explanation } = world.status() else {
        panic!("{:?}", world.status())
    };
    assert_eq!(tasks, vec![a, world.task_named("B").unwrap()]);
    assert!(
        explanation[0].starts_with("a cycle through the pool and the database"),
        "{explanation:#?}"
    );
    for needle in [
        "A waits in Acquire for a connection from pool db",
        "pool db's conn 1 is held by B",
        "B waits for the reply to its query on conn 1",
        "waits for ShareLock on transaction",
        "is idle in a transaction: only A can move it on",
    ] {
        assert!(
            explanation.iter().any(|l| l.contains(needle)),
            "{needle}: {explanation:#?}"
        );
    }
}
