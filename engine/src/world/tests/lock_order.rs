//! Lesson lock-order: workers that lock rows in different orders, the deadlock PostgreSQL breaks,
//! the graph before it does, retries.

use super::*;

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
    // Nobody is stuck for good (the detector will abort one), yet the cycle is shown.
    assert!(graph.cycles().is_empty());
    assert_eq!(graph.closed_cycles(), cycles);
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
