//! Behaviour of the world as a whole: pools, protocol streams, contexts, the wait-for graph.

use super::*;
use serde_json::json;

mod leaked_transaction;
mod lock_order;
mod pool_exhaustion;
mod read_skew;
mod shared_transaction;
mod views;

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

#[test]
fn pgxpool_max_conns_defaults_to_the_greater_of_four_and_the_cpu_count() {
    let mut s = nested_queries(1, None, None);
    assert_eq!(World::new(&s).unwrap().pools[0].max_open, Some(4));
    s.cpus = 16;
    assert_eq!(World::new(&s).unwrap().pools[0].max_open, Some(16));
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

fn failure_of(world: &World, name: &str) -> Option<String> {
    match world.task_state(world.task_named(name)?) {
        TaskState::Failed(e) => Some(e),
        _ => None,
    }
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
