//! Two things the explorer asks of the world to keep the search small, both sound by the
//! arguments below: which task steps are *private* (they commute with everything every other task
//! can still do), and a fingerprint that is the same for states that differ only by renaming
//! interchangeable things (identical requests, connections, backends, handles).
//!
//! # Private steps
//!
//! A step of task `t` is private when it reads or writes only `t` itself, one connection `c`
//! that `t` holds and no other task can reach, and `c`'s own backend; or, when it also runs a
//! statement on the server, that statement left nothing behind but changes to its own session
//! and no other unfinished task can ever write to the server (every statement in their programs
//! is a plain `SELECT`, they begin and end no transactions and spawn nothing). Then no step of
//! another task, taken before `t` moves, can change what `t`'s step does or whether it is
//! enabled, and `t`'s step changes nothing they read: the two commute. The clock cannot move
//! either, since `t` stays runnable. The check is partly dynamic: the step is taken on a copy
//! and everything outside `t`, `c` and `c`'s session is compared with the state before.
//!
//! # Symmetry
//!
//! Instances of one request task (`count = N`: `R1` .. `RN`) run the same program, so swapping
//! two of them, together with everything that belongs to them, is a symmetry of the world:
//! every schedule from a state has a mirror schedule from the swapped state, with the same
//! outcome up to the swap. Connections, rows cursors, transactions and contexts are named by ids
//! that carry no meaning beyond identity (an id picks no winner anywhere), and so are the pids of
//! blank backends ([`Server::session_is_blank`](crate::server::Server::session_is_blank)). The
//! canonical fingerprint sorts interchangeable tasks by what they are doing, numbers the handles
//! in the order the sorted tasks and then the pools refer to them, and hashes the world as seen
//! through that renaming. It is a fingerprint of a genuine renaming of the state, so two states
//! with the same canonical fingerprint are renamings of each other (up to the usual 64-bit
//! collision odds): exploring one of them explores the other, mirrored. Tasks that an invariant
//! names one by one, goroutines and their parents are never swapped.
//!
//! What the explorer reports changes accordingly: failure kinds and end states are counted up to
//! renaming (a failure text that names `R2` may stand for the same failure of `R1`), and every
//! schedule it prints is a real one, replayed from the start.

use super::task::{Call, CallKind, Micro, Rows, Task, Transaction, Var};
use super::*;
use crate::explore::fingerprint::{fingerprint, Fingerprinter};
use crate::server::Pid;
use std::hash::{Hash, Hasher};

mod canon;

use canon::Canon;

/// Whether a program can never change what the server stores: plain `SELECT`s only, no
/// transactions, no goroutines.
fn reads_only(program: &[Op]) -> bool {
    program.iter().all(|op| match &op.action {
        Action::Query { sql, .. } | Action::QueryRow { sql, .. } | Action::Exec { sql, .. } => {
            plain_select(sql)
        }
        Action::Begin { .. }
        | Action::Commit { .. }
        | Action::Rollback { .. }
        | Action::Spawn { .. } => false,
        Action::Defer { body } => reads_only(body),
        _ => true,
    })
}

/// A `SELECT` that locks nothing and calls nothing that writes (sequences, advisory locks).
fn plain_select(sql: &str) -> bool {
    let lower = sql.trim_start().to_ascii_lowercase();
    lower.starts_with("select")
        && !lower.contains(" for ")
        && !lower.contains("nextval")
        && !lower.contains("setval")
        && !lower.contains("lock")
        && !lower.contains(';')
}

impl World {
    /// Whether task `t`'s next step is private (see the module docs): it commutes with every
    /// step the other tasks can take before `t` moves again, and neither enables nor disables
    /// any of them.
    pub fn next_step_is_private(&self, id: TaskId) -> bool {
        let t = &self.tasks[id.0 as usize];
        if !t.started || t.wake_at.is_some() || !matches!(t.life, Life::Running) {
            return false;
        }
        // Pools and database/sql's connection mutex are shared by nature.
        if let Some(call) = &t.call {
            if matches!(
                call.script.first(),
                Some(Micro::Acquire(_) | Micro::Lock | Micro::Unlock) | None
            ) {
                return false;
            }
        }
        // A statement on a pool acquires from it: no need to try.
        if t.call.is_none() {
            let on_pool = |on: &str| !t.vars.contains_key(on);
            match self.op_at(id).map(|op| op.action) {
                Some(Action::Acquire { .. } | Action::Release { .. }) => return false,
                Some(
                    Action::Query { on, .. }
                    | Action::QueryRow { on, .. }
                    | Action::Exec { on, .. }
                    | Action::Begin { on, .. },
                ) if on_pool(&on) => return false,
                _ => {}
            }
        }
        // Only a task holding a connection can have a private step that is not already local.
        if !self.connections.values().any(|c| c.holder == Some(id)) {
            return false;
        }
        // Take the step on a copy and compare everything outside the task, the connection it
        // changed and that connection's backend session.
        let mut after = self.clone();
        if after.step(Choice::Task(id)).is_err() {
            return false;
        }
        let mut changed = after
            .connections
            .iter()
            .filter(|(k, v)| self.connections.get(k) != Some(v))
            .map(|(k, _)| *k);
        let conn = match (changed.next(), changed.next()) {
            (Some(conn), None) => Some(conn),
            (None, None) => None,
            _ => return false,
        };
        let pid = match conn {
            Some(conn) => {
                let Some(c) = self.connections.get(&conn) else {
                    return false; // a new connection: the pool opened it
                };
                if c.holder != Some(id) || c.locked_by.is_some_and(|l| l != id) {
                    return false;
                }
                // The backend must not be waiting for a lock: another task's commit could
                // wake it and queue more replies on the connection.
                if matches!(
                    self.server.state(c.pid),
                    crate::server::SessionState::Waiting(_)
                ) {
                    return false;
                }
                // Nobody else can reach the connection.
                let reaches = |other: &Task| {
                    other.call.as_ref().is_some_and(|k| k.conn == Some(conn))
                        || other.vars.values().any(|v| self.var_reaches(v, conn))
                };
                if self.tasks.iter().any(|o| o.id != id && reaches(o)) {
                    return false;
                }
                Some(c.pid)
            }
            None => None,
        };
        // Nobody shares the task's contexts (goroutines share their parent's).
        if self.tasks.iter().any(|o| o.parent == Some(id)) {
            return false;
        }
        if let Some(mut context) = t.call.as_ref().and_then(|c| c.context) {
            loop {
                let c = &self.contexts[context.0 as usize];
                if c.owner != id {
                    return false;
                }
                match c.parent {
                    Some(p) => context = p,
                    None => break,
                }
            }
        }
        self.same_outside(&after, id, pid)
    }

    /// Whether the world `after` task `id`'s step differs from this one only in the task, the
    /// connection it changed (checked by the caller) and, if the step ran a statement, in the
    /// session of backend `pid`, with no other unfinished task able to write anything it read.
    fn same_outside(&self, after: &World, id: TaskId, pid: Option<Pid>) -> bool {
        // Destructured so that a new field fails to compile until it is compared here. The
        // scenario and its labels never change.
        let World {
            scenario: _,
            labels: _,
            server,
            now,
            rng,
            pools,
            connections,
            tasks,
            transactions,
            rows,
            contexts,
            records,
            next_conn,
        } = after;
        let same = *now == self.now
            && *rng == self.rng
            && *next_conn == self.next_conn
            && *pools == self.pools
            && *records == self.records
            && contexts.len() == self.contexts.len()
            && contexts
                .iter()
                .zip(&self.contexts)
                .all(|(a, b)| a == b || b.owner == id)
            && tasks
                .iter()
                .zip(&self.tasks)
                .all(|(a, b)| a.id == id || a == b)
            && connections.len() == self.connections.len()
            && same_owned(rows, &self.rows, id, |r: &Rows| r.owner)
            && same_owned(transactions, &self.transactions, id, |x: &Transaction| {
                x.owner
            });
        if !same {
            return false;
        }
        if *server == self.server {
            return true;
        }
        // The step ran a statement: private only if it left nothing behind outside its own
        // session, and no other unfinished task can ever write anything it read.
        let Some(pid) = pid else { return false };
        server.equal_except_session(&self.server, pid)
            && self.tasks.iter().all(|o| {
                o.id == id
                    || matches!(o.life, Life::Finished { .. })
                    || reads_only(&self.scenario.0.tasks[o.spec].program)
            })
    }

    /// Whether a variable's handle lives on connection `conn`.
    fn var_reaches(&self, var: &Var, conn: ConnId) -> bool {
        match var {
            Var::Conn(c) => *c == conn,
            Var::Tx(tx) => self.transactions.get(tx).is_some_and(|x| x.conn == conn),
            Var::Rows(r) => self.rows.get(r).is_some_and(|r| r.conn == Some(conn)),
            Var::Value(_) | Var::Context(_) => false,
        }
    }

    /// The fingerprint of this state up to renaming interchangeable tasks and handles (see the
    /// module docs).
    pub fn canonical_fingerprint(&self) -> u64 {
        let mut hasher = Fingerprinter::new();
        Canon::new(self).hash_world(self, &mut hasher);
        hasher.finish()
    }
}

fn same_owned<K: Ord, V: PartialEq>(
    after: &LiteMap<K, V>,
    before: &LiteMap<K, V>,
    id: TaskId,
    owner: impl Fn(&V) -> TaskId,
) -> bool {
    let untouched = |a: &LiteMap<K, V>, b: &LiteMap<K, V>| {
        a.iter().all(|(k, v)| owner(v) == id || b.get(k) == Some(v))
    };
    untouched(after, before) && untouched(before, after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Requests that each hold one connection while they ask for a second.
    fn nested(requests: u32) -> World {
        let scenario: Scenario = serde_json::from_value(json!({
            "setup": "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);",
            "pools": [{ "name": "db", "driver": "pgxpool", "max_conns": 2 }],
            "tasks": [{ "name": "R", "count": requests, "program": [
                { "line": 1, "op": "query", "on": "db", "sql": "SELECT id FROM t", "rows": "outer" },
                { "line": 2, "op": "next", "rows": "outer", "done": "end", "label": "loop" },
                { "line": 3, "op": "query-row", "on": "db", "sql": "SELECT id FROM t" },
                { "line": 4, "op": "goto", "to": "loop" },
                { "line": 5, "op": "return", "label": "end" },
            ]}],
        }))
        .unwrap();
        World::new(&scenario).unwrap()
    }

    fn run(world: &World, moves: &[u32]) -> World {
        let mut w = world.clone();
        for &m in moves {
            w.step(Choice::Task(TaskId(m))).unwrap();
        }
        w
    }

    #[test]
    fn swapping_two_identical_requests_keeps_the_canonical_fingerprint() {
        let world = nested(3);
        let a = run(&world, &[0, 0, 1]);
        let b = run(&world, &[1, 1, 0]);
        assert_ne!(a, b, "different states: R1 and R2 swapped roles");
        assert_eq!(a.canonical_fingerprint(), b.canonical_fingerprint());
        let c = run(&world, &[2, 2, 0]);
        assert_eq!(a.canonical_fingerprint(), c.canonical_fingerprint());
    }

    #[test]
    fn states_that_are_no_renaming_of_each_other_keep_distinct_canonical_fingerprints() {
        let world = nested(3);
        let a = run(&world, &[0, 0, 1]);
        let b = run(&world, &[0, 0, 0]);
        let c = run(&world, &[0, 1]);
        assert_ne!(a.canonical_fingerprint(), b.canonical_fingerprint());
        assert_ne!(a.canonical_fingerprint(), c.canonical_fingerprint());
        assert_ne!(b.canonical_fingerprint(), c.canonical_fingerprint());
    }

    #[test]
    fn a_single_task_is_never_swapped_and_its_name_counts() {
        let mut one = nested(1);
        let plain = one.canonical_fingerprint();
        one.tasks[0].name = "S".into();
        assert_ne!(one.canonical_fingerprint(), plain);
    }

    #[test]
    fn reading_replies_from_its_own_connection_is_private_and_acquiring_is_not() {
        let world = nested(2);
        // R1's first step acquires: it touches the pool.
        assert!(!world.next_step_is_private(TaskId(0)));
        let after = run(&world, &[0]);
        // Now its statement runs on its own backend: a SELECT that no other task can disturb,
        // since the other request only ever reads.
        assert!(after.next_step_is_private(TaskId(0)));
        assert!(!after.next_step_is_private(TaskId(1)), "R2 has not started");
    }
}
