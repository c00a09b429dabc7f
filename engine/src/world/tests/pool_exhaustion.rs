//! Lesson pool-exhaustion and the pools' own rules: nested queries that each hold a connection,
//! pgxpool's and database/sql's hand-over of released connections, rows that keep their
//! connection, acquire deadlines.

use super::*;

/// Runs `task` alone until its inner query waits for the pool.
pub(super) fn run_to_second_acquire(world: &mut World, task: &str) -> Vec<Event> {
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
