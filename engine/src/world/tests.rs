//! Behaviour of the world as a whole: pools, protocol streams, contexts, the wait-for graph.

use super::*;
use serde_json::json;

fn scenario(value: serde_json::Value) -> Scenario {
    serde_json::from_value(value).expect("scenario")
}

/// Lesson pool-exhaustion: `rows := pool.Query(q1)`, and inside `for rows.Next()` a second
/// `pool.Query(q2)` read to the end.
fn nested_queries(requests: u32, max_conns: Option<u32>, context: Option<&str>) -> Scenario {
    let mut pool = json!({ "name": "db", "driver": "pgxpool" });
    if let Some(n) = max_conns {
        pool["max_conns"] = json!(n);
    }
    let mut inner = json!({ "line": 6, "op": "query", "on": "db",
        "sql": "SELECT sku FROM item WHERE order_id = $1", "args": ["$id"], "rows": "items" });
    let mut outer = json!({ "line": 3, "op": "query", "on": "db",
        "sql": "SELECT id FROM orders WHERE customer = 1", "rows": "orders" });
    let mut program = vec![];
    if let Some(ms) = context {
        program.push(json!({ "line": 2, "op": "context", "name": "ctx", "timeout_ms": ms.parse::<u64>().unwrap() }));
        inner["context"] = json!("ctx");
        outer["context"] = json!("ctx");
    }
    program.extend([
        outer,
        json!({ "line": 3, "op": "defer", "body": [{ "line": 3, "op": "close", "rows": "orders" }] }),
        json!({ "line": 4, "op": "next", "rows": "orders", "done": "end", "label": "loop" }),
        json!({ "line": 5, "op": "scan", "rows": "orders", "into": ["id"] }),
        inner,
        json!({ "line": 7, "op": "close", "rows": "items" }),
        json!({ "line": 8, "op": "goto", "to": "loop" }),
        json!({ "line": 10, "op": "return", "label": "end" }),
    ]);
    scenario(json!({
        "setup": "CREATE TABLE orders (id int PRIMARY KEY, customer int); \
                  CREATE TABLE item (sku int PRIMARY KEY, order_id int); \
                  INSERT INTO orders VALUES (1, 1), (2, 1); \
                  INSERT INTO item VALUES (10, 1), (20, 2);",
        "pools": [pool],
        "tasks": [{ "name": "R", "count": requests, "program": program }],
        "invariants": [{ "check": "all-tasks-finished" }],
    }))
}

/// Steps `task` while it can run, at most `limit` times.
fn run_until_blocked(world: &mut World, task: &str, limit: usize) -> Vec<Event> {
    let id = world.task_named(task).expect("task");
    let mut events = Vec::new();
    for _ in 0..limit {
        if world.task_state(id) != TaskState::Runnable {
            break;
        }
        events.extend(world.step(Choice::Task(id)).expect("enabled"));
    }
    events
}

/// Runs the first enabled choice until nothing is enabled, returning the schedule taken.
fn run_first_choice(world: &mut World, limit: usize) -> (Schedule, Vec<Event>) {
    let mut moves = Vec::new();
    let mut events = Vec::new();
    for _ in 0..limit {
        let Some(&choice) = world.choices().first() else {
            break;
        };
        moves.push(world.move_of(choice));
        events.extend(world.step(choice).expect("enabled"));
    }
    (Schedule(moves), events)
}

/// Runs `task` alone until its inner query waits for the pool.
fn run_to_second_acquire(world: &mut World, task: &str) -> Vec<Event> {
    let id = world.task_named(task).unwrap();
    let mut events = Vec::new();
    for _ in 0..50 {
        if matches!(world.block_reason(id), Some(BlockReason::PoolSlot { .. })) {
            return events;
        }
        events.extend(world.step(Choice::Task(id)).expect("runnable"));
    }
    panic!("{task} never waited for the pool");
}

#[test]
fn pgxpool_max_conns_defaults_to_the_greater_of_four_and_the_cpu_count() {
    let mut s = nested_queries(1, None, None);
    assert_eq!(World::new(&s).unwrap().pools[0].max_open, Some(4));
    s.cpus = 16;
    assert_eq!(World::new(&s).unwrap().pools[0].max_open, Some(16));
}

#[test]
fn one_request_with_nested_queries_finishes_on_its_own() {
    let mut world = World::new(&nested_queries(1, None, None)).unwrap();
    let (_, events) = run_first_choice(&mut world, 1000);
    assert_eq!(
        world.status(),
        Status::Finished {
            invariant_violations: vec![]
        }
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::TaskFinished { .. })));
    // Both connections went back to the pool.
    assert_eq!(world.pools[0].idle.len(), world.pools[0].open.len());
}

#[test]
fn four_requests_that_each_hold_one_connection_wait_in_acquire_forever() {
    let mut world = World::new(&nested_queries(4, None, None)).unwrap();
    let mut events = Vec::new();
    for name in ["R1", "R2", "R3", "R4"] {
        // Each request's first query takes a connection; nobody has read its rows yet.
        let id = world.task_named(name).unwrap();
        events.extend(world.step(Choice::Task(id)).unwrap());
    }
    for name in ["R1", "R2", "R3", "R4"] {
        events.extend(run_to_second_acquire(&mut world, name));
    }
    // PostgreSQL sees nothing wrong: no waits, no errors, no log lines.
    assert!(events.iter().all(|e| !matches!(
        e,
        Event::Server(crate::server::Event::Log { .. } | crate::server::Event::Error { .. })
    )));
    assert!(
        world.choices().is_empty(),
        "nothing can run and no timer is pending"
    );
    for view in world.task_views() {
        assert!(
            matches!(view.state, TaskState::Blocked(BlockReason::PoolSlot { .. })),
            "{}: {:?}",
            view.name,
            view.state
        );
        assert_eq!(
            view.line,
            Some(6),
            "every request is stuck at the inner query"
        );
        assert_eq!(view.connections.len(), 1);
    }
    let Status::Deadlock { tasks, explanation } = world.status() else {
        panic!("{:?}", world.status())
    };
    assert_eq!(tasks.len(), 4);
    assert!(
        explanation[0].starts_with("pool starvation"),
        "{explanation:?}"
    );
    assert!(
        explanation
            .iter()
            .any(|l| l
                .contains("R1 waits in Acquire for a connection from pool db: all 4 are in use"))
    );
    assert!(explanation
        .iter()
        .any(|l| l.contains("is held by R4, and only R4 can give it back")));
    // PostgreSQL sees nothing wrong: no lock waits among sessions.
    assert!(world.wait_for_graph().edges.iter().all(|e| !matches!(
        (e.from, e.to),
        (WaitNode::Connection(_), WaitNode::Connection(_))
    )));
}

#[test]
fn with_max_conns_five_four_requests_always_finish_on_this_schedule() {
    let mut world = World::new(&nested_queries(4, Some(5), None)).unwrap();
    for name in ["R1", "R2", "R3", "R4"] {
        let id = world.task_named(name).unwrap();
        world.step(Choice::Task(id)).unwrap();
    }
    let (_, _) = run_first_choice(&mut world, 10_000);
    assert_eq!(
        world.status(),
        Status::Finished {
            invariant_violations: vec![]
        }
    );
}

#[test]
fn an_acquire_deadline_turns_the_hang_into_context_deadline_exceeded() {
    let mut world = World::new(&nested_queries(4, None, Some("500"))).unwrap();
    for name in ["R1", "R2", "R3", "R4"] {
        let id = world.task_named(name).unwrap();
        world.step(Choice::Task(id)).unwrap(); // context.WithTimeout
        world.step(Choice::Task(id)).unwrap(); // the first query
    }
    for name in ["R1", "R2", "R3", "R4"] {
        run_to_second_acquire(&mut world, name);
    }
    assert_eq!(world.choices(), vec![Choice::Tick]);
    let events = world.step(Choice::Tick).unwrap();
    assert_eq!(world.now, Instant::START + Duration::from_millis(500));
    let failures: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::AcquireFailed { .. }))
        .collect();
    assert_eq!(failures.len(), 4);
    assert!(failures
        .iter()
        .all(|e| e.narration().ends_with("context deadline exceeded")));
    // The requests fail, their connections come back, and the server recovers.
    let (_, _) = run_first_choice(&mut world, 10_000);
    let Status::Finished {
        invariant_violations,
    } = world.status()
    else {
        panic!()
    };
    assert!(invariant_violations.is_empty());
    for view in world.task_views() {
        assert_eq!(
            view.state,
            TaskState::Failed("context deadline exceeded".into())
        );
    }
    assert_eq!(world.pools[0].idle.len(), world.pools[0].open.len());
}

#[test]
fn pgxpool_hands_released_connections_to_waiters_first_come_first_served() {
    let s = scenario(json!({
        "pools": [{ "name": "db", "driver": "pgxpool", "max_conns": 1 }],
        "tasks": [{ "name": "T", "count": 3, "program": [
            { "line": 1, "op": "acquire", "pool": "db" },
            { "line": 2, "op": "sleep", "ms": 10 },
            { "line": 3, "op": "release" },
        ]}],
    }));
    let mut world = World::new(&s).unwrap();
    let mut granted = Vec::new();
    for name in ["T1", "T3", "T2"] {
        let id = world.task_named(name).unwrap();
        world.step(Choice::Task(id)).unwrap();
    }
    assert_eq!(
        world.pools[0].waiters,
        VecDeque::from([TaskId(2), TaskId(1)])
    );
    for _ in 0..100 {
        let Some(&choice) = world.choices().first() else {
            break;
        };
        for e in world.step(choice).unwrap() {
            if let Event::AcquireGranted { task, .. } = e {
                granted.push(world.tasks[task.0 as usize].name.clone());
            }
        }
    }
    assert_eq!(granted, vec!["T3", "T2"]);
    assert!(world.all_finished());
}

#[test]
fn rows_keep_their_connection_until_read_to_the_end_or_closed() {
    let s = scenario(json!({
        "setup": "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);",
        "pools": [{ "name": "db", "driver": "pgxpool", "max_conns": 1 }],
        "tasks": [{ "name": "A", "program": [
            { "line": 1, "op": "query", "on": "db", "sql": "SELECT id FROM t ORDER BY id" },
            { "line": 2, "op": "next", "done": "end", "label": "loop" },
            { "line": 3, "op": "goto", "to": "loop" },
            { "line": 4, "op": "return", "label": "end" },
        ]}],
    }));
    let mut world = World::new(&s).unwrap();
    let a = TaskId(0);
    world.step(Choice::Task(a)).unwrap();
    assert_eq!(
        world.held_connections(a).len(),
        1,
        "the rows hold the connection"
    );
    let mut released_at = None;
    for i in 0..20 {
        if world.task_state(a) != TaskState::Runnable {
            break;
        }
        let events = world.step(Choice::Task(a)).unwrap();
        if events
            .iter()
            .any(|e| matches!(e, Event::ConnectionReleased { .. }))
        {
            released_at = Some(i);
            assert_eq!(
                world.current_op(a).map(|op| op.line),
                Some(4),
                "released by the Next that returns false"
            );
        }
    }
    assert!(released_at.is_some());
    assert!(world.held_connections(a).is_empty());
    assert_eq!(
        world.pools[0].idle.len(),
        1,
        "the connection went back idle, not destroyed"
    );
}

#[test]
fn database_sql_hands_connections_to_a_seeded_random_waiter_reproducibly() {
    let order = |seed: u64| {
        let s = scenario(json!({
            "seed": seed,
            "pools": [{ "name": "db", "driver": "database/sql", "max_open_conns": 1 }],
            "tasks": [{ "name": "T", "count": 5, "program": [
                { "line": 1, "op": "acquire", "pool": "db" },
                { "line": 2, "op": "release" },
            ]}],
        }));
        let mut world = World::new(&s).unwrap();
        for i in 0..5 {
            world.step(Choice::Task(TaskId(i))).unwrap();
        }
        let mut granted = Vec::new();
        for _ in 0..100 {
            let Some(&choice) = world.choices().first() else {
                break;
            };
            for e in world.step(choice).unwrap() {
                if let Event::AcquireGranted { task, .. } = e {
                    granted.push(task.0);
                }
            }
        }
        assert!(world.all_finished());
        granted
    };
    assert_eq!(order(7), order(7));
    assert!(
        (0..8).any(|seed| order(seed) != vec![1, 2, 3, 4]),
        "not first-come-first-served"
    );
}

#[test]
fn schedules_replay_to_the_same_world() {
    let s = nested_queries(2, None, None);
    let mut world = World::new(&s).unwrap();
    let (schedule, events) = run_first_choice(&mut world, 1000);
    let text = schedule.to_string();
    let (replayed, replay_events) = World::replay(&s, &text.parse().unwrap()).unwrap();
    assert_eq!(replayed, world);
    assert_eq!(replay_events, events);
    let err = World::replay(&s, &"R1 Z".parse().unwrap()).unwrap_err();
    assert!(matches!(err, ReplayError::UnknownTask { index: 1, .. }));
}

#[test]
fn a_step_that_is_not_enabled_is_an_error() {
    let mut world = World::new(&nested_queries(1, None, None)).unwrap();
    assert_eq!(
        world.step(Choice::Tick),
        Err(StepError::NotEnabled(Choice::Tick))
    );
    assert_eq!(
        world.step(Choice::Task(TaskId(9))),
        Err(StepError::UnknownTask(TaskId(9)))
    );
}

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

fn failure_of(world: &World, name: &str) -> Option<String> {
    match world.task_state(world.task_named(name)?) {
        TaskState::Failed(e) => Some(e),
        _ => None,
    }
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

/// Lesson lock-order: two workers lock the same rows in different orders.
fn lock_order(a_filter: &str, b_filter: &str) -> Scenario {
    let worker = |name: &str, filter: &str| {
        json!({ "name": name, "program": [
            { "line": 3, "op": "begin", "on": "db" },
            { "line": 4, "op": "query", "on": "tx",
              "sql": format!("SELECT id FROM widget WHERE {filter} FOR UPDATE"), "rows": "widgets" },
            { "line": 4, "op": "collect", "rows": "widgets", "into": "ids" },
            { "line": 5, "op": "next", "rows": "ids", "done": "commit", "label": "loop" },
            { "line": 5, "op": "scan", "rows": "ids", "into": ["id"] },
            { "line": 6, "op": "exec", "on": "tx",
              "sql": "UPDATE widget SET n = n + 1 WHERE id = $1", "args": ["$id"] },
            { "line": 5, "op": "goto", "to": "loop" },
            { "line": 7, "op": "commit", "label": "commit" },
        ]})
    };
    scenario(json!({
        "setup": "CREATE TABLE widget (id int PRIMARY KEY, owner_id int, n int); \
                  INSERT INTO widget VALUES (1, 1, 0), (2, 2, 0), (3, 3, 0), (4, 4, 0), (5, 5, 0); \
                  UPDATE widget SET n = 1 WHERE id = 2;",
        "pools": [{ "name": "db", "driver": "pgxpool" }],
        "tasks": [worker("A", a_filter), worker("B", b_filter)],
        "invariants": [{ "check": "no-task-failed" }],
    }))
}

/// Every schedule of the form `A×a B×b` followed by running the first enabled choice.
fn two_phase_schedules(s: &Scenario, max: usize) -> Vec<(Schedule, World)> {
    let mut out = Vec::new();
    for a in 0..max {
        for b in 0..max {
            let mut world = World::new(s).unwrap();
            let mut moves = Vec::new();
            for (name, n) in [("A", a), ("B", b)] {
                let id = world.task_named(name).unwrap();
                for _ in 0..n {
                    if world.task_state(id) == TaskState::Runnable {
                        moves.push(Move::Task(name.into()));
                        world.step(Choice::Task(id)).unwrap();
                    }
                }
            }
            let (rest, _) = run_first_choice(&mut world, 1000);
            moves.extend(rest.0);
            out.push((Schedule(moves), world));
        }
    }
    out
}

#[test]
fn workers_locking_rows_in_heap_order_deadlock_and_postgres_aborts_one() {
    let s = lock_order("owner_id IN (1, 2, 3)", "id IN (2, 3, 5)");
    let runs = two_phase_schedules(&s, 12);
    let deadlocked: Vec<&(Schedule, World)> = runs
        .iter()
        .filter(|(_, w)| {
            w.tasks.iter().any(|t| matches!(&t.life, task::Life::Finished { error: Some(e) } if e.sqlstate.as_deref() == Some("40P01")))
        })
        .collect();
    assert!(!deadlocked.is_empty(), "some schedule deadlocks");
    let (schedule, world) = deadlocked.iter().min_by_key(|(s, _)| s.0.len()).unwrap();
    eprintln!("shortest deadlocking schedule: {schedule}");
    let Status::Finished {
        invariant_violations,
    } = world.status()
    else {
        panic!()
    };
    assert_eq!(invariant_violations.len(), 1, "{invariant_violations:?}");
    assert!(
        invariant_violations[0].contains("ERROR: deadlock detected (SQLSTATE 40P01)"),
        "{invariant_violations:?}"
    );
    // The other worker proceeds and commits.
    assert_eq!(
        world
            .tasks
            .iter()
            .filter(|t| matches!(t.life, task::Life::Finished { error: None }))
            .count(),
        1
    );
    // Replaying the printed schedule gives the same world.
    let (replayed, _) = World::replay(&s, &schedule.to_string().parse().unwrap()).unwrap();
    assert_eq!(&replayed, world);
}

#[test]
fn workers_locking_rows_in_key_order_never_deadlock_on_these_schedules() {
    let s = lock_order(
        "owner_id IN (1, 2, 3) ORDER BY id",
        "id IN (2, 3, 5) ORDER BY id",
    );
    for (schedule, world) in two_phase_schedules(&s, 12) {
        assert_eq!(
            world.status(),
            Status::Finished {
                invariant_violations: vec![]
            },
            "{schedule}"
        );
    }
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

#[test]
fn the_graph_shows_a_database_deadlock_before_postgres_breaks_it() {
    let s = lock_order("owner_id IN (1, 2, 3)", "id IN (2, 3, 5)");
    let schedule: Schedule = "B B B B B A A A A A A A B".parse().unwrap();
    let (world, _) = World::replay(&s, &schedule).unwrap();
    assert_eq!(
        world.status(),
        Status::Running,
        "the deadlock check is a pending timer"
    );
    let graph = world.wait_for_graph();
    let cycles = graph.all_cycles();
    assert_eq!(cycles.len(), 1);
    assert_eq!(WaitForGraph::kind(&cycles[0]), graph::CycleKind::Database);
    let lines = graph.explain_cycle(&cycles[0]);
    assert!(lines[0].starts_with("a deadlock between database sessions"));
    assert!(
        lines.iter().any(|l| l.starts_with(
            "process 4101 waits for ShareLock on transaction 742, held by process 4102"
        )),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(
            "process 4102 waits for ShareLock on transaction 741, held by process 4101"
        )),
        "{lines:#?}"
    );
}

/// Lesson read-skew: two reads at two moments, a transfer committing in between.
fn read_skew(in_tx: Option<&str>) -> Scenario {
    let on = if in_tx.is_some() { "tx" } else { "db" };
    let mut handler = vec![];
    if let Some(isolation) = in_tx {
        handler.push(json!({ "line": 2, "op": "begin", "on": "db", "isolation": isolation }));
    }
    handler.extend([
        json!({ "line": 3, "op": "query-row", "on": on, "sql": "SELECT balance FROM account WHERE id = 1", "into": ["a"] }),
        json!({ "line": 4, "op": "query-row", "on": on, "sql": "SELECT balance FROM account WHERE id = 2", "into": ["b"] }),
        json!({ "line": 5, "op": "add", "into": "total", "of": ["$a", "$b"] }),
        json!({ "line": 5, "op": "record", "var": "total" }),
    ]);
    if in_tx.is_some() {
        handler.push(json!({ "line": 6, "op": "commit" }));
    }
    scenario(json!({
        "setup": "CREATE TABLE account (id int PRIMARY KEY, balance int); \
                  INSERT INTO account VALUES (1, 100), (2, 100);",
        "pools": [{ "name": "db", "driver": "pgxpool" }],
        "tasks": [
            { "name": "H", "program": handler },
            { "name": "T", "program": [
                { "line": 20, "op": "begin", "on": "db" },
                { "line": 21, "op": "exec", "on": "tx", "sql": "UPDATE account SET balance = balance + 50 WHERE id = 1" },
                { "line": 22, "op": "exec", "on": "tx", "sql": "UPDATE account SET balance = balance - 50 WHERE id = 2" },
                { "line": 23, "op": "commit" },
            ]},
        ],
        "invariants": [
            { "check": "recorded", "task": "H", "var": "total", "equals": "200" },
            { "check": "sql", "query": "SELECT sum(balance) FROM account", "equals": "200" },
        ],
    }))
}

/// Runs H until its first read has returned, then T to the end, then the rest.
fn transfer_between_the_reads(s: &Scenario) -> World {
    let mut world = World::new(s).unwrap();
    let h = world.task_named("H").unwrap();
    while world.current_op(h).map(|op| op.line) != Some(4) {
        world.step(Choice::Task(h)).unwrap();
    }
    run_until_blocked(&mut world, "T", 100);
    run_first_choice(&mut world, 1000);
    world
}

#[test]
fn two_reads_on_the_pool_see_a_total_that_never_existed() {
    let world = transfer_between_the_reads(&read_skew(None));
    let Status::Finished {
        invariant_violations,
    } = world.status()
    else {
        panic!()
    };
    assert_eq!(
        invariant_violations,
        vec!["total recorded by H = 200: H recorded 150".to_string()]
    );
    assert_eq!(
        world.query_value("SELECT sum(balance) FROM account"),
        Ok(Some("200".into()))
    );
}

#[test]
fn one_read_committed_transaction_still_sees_the_skew() {
    let world = transfer_between_the_reads(&read_skew(Some("read-committed")));
    let Status::Finished {
        invariant_violations,
    } = world.status()
    else {
        panic!()
    };
    assert_eq!(invariant_violations.len(), 1, "{invariant_violations:?}");
}

#[test]
fn one_repeatable_read_transaction_sees_one_snapshot() {
    let world = transfer_between_the_reads(&read_skew(Some("repeatable-read")));
    assert_eq!(
        world.status(),
        Status::Finished {
            invariant_violations: vec![]
        }
    );
}

#[test]
fn the_step_that_finishes_the_last_task_reports_broken_invariants() {
    let s = read_skew(None);
    let mut world = World::new(&s).unwrap();
    let h = world.task_named("H").unwrap();
    while world.current_op(h).map(|op| op.line) != Some(4) {
        world.step(Choice::Task(h)).unwrap();
    }
    run_until_blocked(&mut world, "T", 100);
    let (_, events) = run_first_choice(&mut world, 1000);
    let broken: Vec<String> = events
        .iter()
        .filter(|e| matches!(e, Event::InvariantViolated { .. }))
        .map(Event::narration)
        .collect();
    assert_eq!(
        broken,
        vec!["invariant broken: total recorded by H = 200: H recorded 150"]
    );
}

#[test]
fn a_worker_that_retries_on_40p01_completes_after_the_deadlock() {
    let mut s = lock_order("owner_id IN (1, 2, 3)", "id IN (2, 3, 5)");
    for task in &mut s.tasks {
        let Action::Query { sql, .. } = task.program[1].action.clone() else {
            panic!()
        };
        let program: Vec<Op> = serde_json::from_value(json!([
            { "line": 2, "op": "begin", "on": "db", "label": "retry" },
            { "line": 4, "op": "query", "on": "tx", "on_error": "failed",
              "sql": sql, "rows": "widgets" },
            { "line": 4, "op": "collect", "rows": "widgets", "into": "ids", "on_error": "failed" },
            { "line": 5, "op": "next", "rows": "ids", "done": "commit", "label": "loop" },
            { "line": 5, "op": "scan", "rows": "ids", "into": ["id"] },
            { "line": 6, "op": "exec", "on": "tx", "on_error": "failed",
              "sql": "UPDATE widget SET n = n + 1 WHERE id = $1", "args": ["$id"] },
            { "line": 5, "op": "goto", "to": "loop" },
            { "line": 7, "op": "commit", "label": "commit" },
            { "line": 8, "op": "return" },
            { "line": 10, "op": "rollback", "label": "failed" },
            { "line": 11, "op": "if", "var": "sqlstate", "is": "eq", "value": "40P01", "to": "retry" },
            { "line": 12, "op": "return", "error": "$err" },
        ]))
        .unwrap();
        task.program = program;
    }
    let schedule: Schedule = "B B B B B A A A A A A A B +".parse().unwrap();
    let (mut world, events) = World::replay(&s, &schedule).unwrap();
    assert!(events
        .iter()
        .any(|e| e.narration().contains("deadlock detected")));
    run_first_choice(&mut world, 10_000);
    assert_eq!(
        world.status(),
        Status::Finished {
            invariant_violations: vec![]
        }
    );
    // Both workers' updates are there: every widget they wanted was bumped once per worker.
    assert_eq!(
        world.query_value("SELECT n FROM widget WHERE id = 3"),
        Ok(Some("2".into()))
    );
}

#[test]
fn a_pgx_query_whose_context_ends_while_it_waits_for_a_lock_closes_its_connection() {
    let s = scenario(json!({
        "setup": "CREATE TABLE account (id int PRIMARY KEY, balance int); INSERT INTO account VALUES (1, 100);",
        "pools": [{ "name": "db", "driver": "pgxpool" }],
        "tasks": [
            { "name": "A", "program": [
                { "line": 1, "op": "begin", "on": "db" },
                { "line": 2, "op": "exec", "on": "tx", "sql": "UPDATE account SET balance = 0 WHERE id = 1" },
                { "line": 3, "op": "sleep", "ms": 2000 },
                { "line": 4, "op": "commit" },
            ]},
            { "name": "B", "arrival_ms": 10, "program": [
                { "line": 10, "op": "context", "name": "ctx", "timeout_ms": 500 },
                { "line": 11, "op": "begin", "on": "db" },
                { "line": 11, "op": "defer", "body": [{ "line": 11, "op": "rollback" }] },
                { "line": 12, "op": "exec", "on": "tx", "context": "ctx",
                  "sql": "UPDATE account SET balance = 1 WHERE id = 1" },
                { "line": 13, "op": "commit" },
            ]},
        ],
    }));
    let mut world = World::new(&s).unwrap();
    let (_, events) = run_first_choice(&mut world, 1000);
    assert_eq!(
        failure_of(&world, "B").as_deref(),
        Some("timeout: context deadline exceeded")
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Server(crate::server::Event::Disconnected { .. }))));
    assert_eq!(
        world.task_state(TaskId(0)),
        TaskState::Finished,
        "A commits after B gave up"
    );
    assert_eq!(
        world.query_value("SELECT balance FROM account WHERE id = 1"),
        Ok(Some("0".into()))
    );
    // B's connection was destroyed on release, not put back idle.
    assert_eq!(world.pools[0].open.len(), world.pools[0].idle.len());
}

#[test]
fn the_pool_exhaustion_schedule_every_request_first_then_each_to_its_second_acquire_hangs() {
    let schedule: Schedule = "R1 R2 R3 R4 R1 R1 R1 R2 R2 R2 R3 R3 R3 R4 R4 R4"
        .parse()
        .unwrap();
    let (world, events) = World::replay(&nested_queries(4, None, None), &schedule).unwrap();
    assert!(matches!(world.status(), Status::Deadlock { .. }));
    let queued = events
        .iter()
        .filter(|e| matches!(e, Event::AcquireQueued { .. }))
        .count();
    assert_eq!(queued, 4);
    // With MaxConns 5 (4 x (2 - 1) + 1) the same moves leave a request running.
    let (world, _) = World::replay(&nested_queries(4, Some(5), None), &schedule).unwrap();
    assert_eq!(world.status(), Status::Running);
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

#[test]
fn the_deadlock_victims_transaction_counts_as_work_rolled_back() {
    let mut s = lock_order("owner_id IN (1, 2, 3)", "id IN (2, 3, 5)");
    s.invariants = vec![
        Invariant::NoTaskFailed { expected: vec![] },
        Invariant::NoWorkRolledBack,
    ];
    let schedule: Schedule = "B B B B B A A A A A A A B +".parse().unwrap();
    let (mut world, _) = World::replay(&s, &schedule).unwrap();
    run_first_choice(&mut world, 10_000);
    assert_eq!(world.server.transactions_rolled_back_after_work(), 1);
    let Status::Finished {
        invariant_violations,
    } = world.status()
    else {
        panic!("{:?}", world.status())
    };
    assert!(
        invariant_violations
            .iter()
            .any(|v| v.starts_with("no transaction that locked or wrote rows is rolled back")),
        "{invariant_violations:?}"
    );
}

#[test]
fn an_expected_error_is_an_answer_not_a_failure() {
    let s = scenario(json!({
        "tasks": [{ "name": "H", "program": [
            { "line": 1, "op": "return", "error": "subscription already cancelled" },
        ]}],
        "invariants": [{ "check": "no-task-failed", "expected": ["subscription already cancelled"] }],
    }));
    let mut world = World::new(&s).unwrap();
    run_first_choice(&mut world, 10);
    assert_eq!(
        world.status(),
        Status::Finished {
            invariant_violations: vec![]
        }
    );
    let mut strict = s.clone();
    strict.invariants = vec![Invariant::NoTaskFailed { expected: vec![] }];
    let mut world = World::new(&strict).unwrap();
    run_first_choice(&mut world, 10);
    assert_ne!(
        world.status(),
        Status::Finished {
            invariant_violations: vec![]
        }
    );
}
