//! Invariants of the whole world under random schedules: random small scenarios (tasks that
//! run transactions, stream rows, hold acquired connections, on pgxpool or database/sql pools
//! of one to three connections) stepped by a random scheduler, with checks after every step:
//!
//! - the world's structural invariants (`world/structure.rs`: an idle connection sits once on
//!   its own pool's idle list, every usable connection's backend is known to the server, the
//!   server's own invariants hold), which debug builds also assert after every step;
//! - a connection is never held by two tasks (its holder, the owners of the open transactions
//!   pinned to it and of the rows streaming on it are one task at most): these programs never
//!   share one between goroutines, as the shared-transaction lesson does;
//! - every open connection's backend is alive (these programs set no timeouts);
//! - no task finishes while holding a connection: every program here releases what it takes
//!   (defer rollback/close/release), so a finished holder would be a leak in the engine.

use crate::world::task::Life;
use crate::world::{Choice, Scenario, World};
use proptest::prelude::*;
use serde_json::{json, Value};

/// One task's program, built from a template and two keys.
fn program(template: usize, k1: u32, k2: u32) -> Value {
    match template {
        // A transaction that updates two rows, in a random order (row-lock deadlocks happen).
        0 => json!([
            { "line": 1, "op": "begin", "on": "db" },
            { "line": 1, "op": "defer", "body": [{ "line": 1, "op": "rollback", "when": "error" }] },
            { "line": 2, "op": "exec", "on": "tx", "sql": format!("UPDATE t SET v = v + 1 WHERE id = {k1}") },
            { "line": 3, "op": "exec", "on": "tx", "sql": format!("UPDATE t SET v = v + 1 WHERE id = {k2}") },
            { "line": 4, "op": "commit" },
        ]),
        // Locking reads in a transaction, then an update of each row read.
        1 => json!([
            { "line": 1, "op": "begin", "on": "db" },
            { "line": 1, "op": "defer", "body": [{ "line": 1, "op": "rollback", "when": "error" }] },
            { "line": 2, "op": "query", "on": "tx", "sql": format!("SELECT id FROM t WHERE id IN ({k1}, {k2}) FOR UPDATE"), "rows": "r" },
            { "line": 2, "op": "collect", "rows": "r", "into": "ids" },
            { "line": 3, "op": "next", "rows": "ids", "done": "commit", "label": "loop" },
            { "line": 3, "op": "scan", "rows": "ids", "into": ["id"] },
            { "line": 4, "op": "exec", "on": "tx", "sql": "UPDATE t SET v = v * 2 WHERE id = $1", "args": ["$id"] },
            { "line": 3, "op": "goto", "to": "loop" },
            { "line": 5, "op": "commit", "label": "commit" },
        ]),
        // Rows streamed on a pool connection, with a second statement per row on the pool
        // (pool exhaustion when connections run out).
        2 => json!([
            { "line": 1, "op": "query", "on": "db", "sql": "SELECT id FROM t ORDER BY id", "rows": "r" },
            { "line": 1, "op": "defer", "body": [{ "line": 1, "op": "close", "rows": "r" }] },
            { "line": 2, "op": "next", "rows": "r", "done": "end", "label": "loop" },
            { "line": 2, "op": "scan", "rows": "r", "into": ["id"] },
            { "line": 3, "op": "exec", "on": "db", "sql": "UPDATE t SET v = v + 1 WHERE id = $1", "args": ["$id"] },
            { "line": 2, "op": "goto", "to": "loop" },
            { "line": 4, "op": "return", "label": "end" },
        ]),
        // An acquired connection used directly, then released.
        _ => json!([
            { "line": 1, "op": "acquire", "pool": "db" },
            { "line": 1, "op": "defer", "body": [{ "line": 1, "op": "release" }] },
            { "line": 2, "op": "exec", "on": "conn", "sql": format!("UPDATE t SET v = v - 1 WHERE id = {k1}") },
            { "line": 3, "op": "query-row", "on": "conn", "sql": format!("SELECT v FROM t WHERE id = {k2}"), "into": ["v"] },
        ]),
    }
}

fn scenario(database_sql: bool, max_conns: u32, tasks: &[(usize, u32, u32)]) -> Scenario {
    let pool = if database_sql {
        json!({ "name": "db", "driver": "database/sql", "max_open_conns": max_conns })
    } else {
        json!({ "name": "db", "driver": "pgxpool", "max_conns": max_conns })
    };
    let tasks: Vec<Value> = tasks
        .iter()
        .enumerate()
        .map(|(i, &(template, k1, k2))| {
            json!({ "name": format!("T{i}"), "program": program(template, k1, k2) })
        })
        .collect();
    serde_json::from_value(json!({
        "setup": "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1), (2, 2), (3, 3);",
        "pools": [pool],
        "tasks": tasks,
    }))
    .expect("scenario")
}

/// Every broken invariant of `world`, one sentence each: the structural ones every step keeps
/// (`world/structure.rs`), and three these programs keep, which share no connection, set no
/// timeouts and release what they take.
fn violations(world: &World) -> Vec<String> {
    let mut out = world.structural_violations();
    for (id, conn) in &world.connections {
        let mut claimants: Vec<_> = conn.holder.into_iter().collect();
        claimants.extend(
            world
                .transactions
                .values()
                .filter(|t| t.conn == *id && !t.done)
                .map(|t| t.owner),
        );
        claimants.extend(
            world
                .rows
                .values()
                .filter(|r| r.conn == Some(*id) && !r.closed)
                .map(|r| r.owner),
        );
        crate::order::sort(&mut claimants);
        claimants.dedup();
        if claimants.len() > 1 {
            out.push(format!("connection {id:?} is held by {claimants:?}"));
        }
        if !conn.bad && !world.server.sessions().any(|p| p == conn.pid) {
            out.push(format!("connection {id:?}'s backend {} is gone", conn.pid));
        }
    }
    for (i, task) in world.tasks.iter().enumerate() {
        if matches!(task.life, Life::Finished { .. }) {
            let held = world.held_connections(crate::world::TaskId(i as u32));
            if !held.is_empty() {
                out.push(format!("{} finished holding {held:?}", task.name));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_scenarios_under_random_schedules_keep_the_world_invariants(
        database_sql in any::<bool>(),
        max_conns in 1u32..4,
        tasks in prop::collection::vec((0usize..4, 1u32..4, 1u32..4), 2..5),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 400),
    ) {
        let mut world = World::new(&scenario(database_sql, max_conns, &tasks)).expect("world");
        prop_assert!(violations(&world).is_empty());
        for (step, pick) in picks.iter().enumerate() {
            let choices: Vec<Choice> = world.choices();
            if choices.is_empty() {
                break;
            }
            let choice = *pick.get(&choices);
            world.step(choice).expect("an offered choice is enabled");
            let broken = violations(&world);
            prop_assert!(broken.is_empty(), "step {step} ({choice:?}): {broken:#?}");
        }
    }
}
