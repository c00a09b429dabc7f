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
        let same_outside = after.now == self.now
            && after.rng == self.rng
            && after.next_conn == self.next_conn
            && after.pools == self.pools
            && after.records == self.records
            && after.contexts.len() == self.contexts.len()
            && after
                .contexts
                .iter()
                .zip(&self.contexts)
                .all(|(a, b)| a == b || b.owner == id)
            && after
                .tasks
                .iter()
                .zip(&self.tasks)
                .all(|(a, b)| a.id == id || a == b)
            && after.connections.len() == self.connections.len()
            && same_owned(&after.rows, &self.rows, id, |r: &Rows| r.owner)
            && same_owned(
                &after.transactions,
                &self.transactions,
                id,
                |x: &Transaction| x.owner,
            );
        if !same_outside {
            return false;
        }
        if after.server == self.server {
            return true;
        }
        // The step ran a statement: private only if it left nothing behind outside its own
        // session, and no other unfinished task can ever write anything it read.
        let Some(pid) = pid else { return false };
        after.server.equal_except_session(&self.server, pid)
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
    after: &BTreeMap<K, V>,
    before: &BTreeMap<K, V>,
    id: TaskId,
    owner: impl Fn(&V) -> TaskId,
) -> bool {
    let untouched = |a: &BTreeMap<K, V>, b: &BTreeMap<K, V>| {
        a.iter().all(|(k, v)| owner(v) == id || b.get(k) == Some(v))
    };
    untouched(after, before) && untouched(before, after)
}

/// A renaming of a world's tasks and handles to canonical numbers.
struct Canon {
    /// Task index to canonical position.
    task: Vec<u32>,
    /// Canonical position to task index.
    order: Vec<usize>,
    conns: BTreeMap<ConnId, u32>,
    rows: BTreeMap<RowsId, u32>,
    txs: BTreeMap<TxId, u32>,
    contexts: BTreeMap<ContextId, u32>,
    /// Whether each task may be swapped with its kind.
    swappable: Vec<bool>,
}

impl Canon {
    fn new(world: &World) -> Canon {
        let n = world.tasks.len();
        let scenario = world.scenario();
        let named_by_invariant = |name: &str| {
            scenario.invariants.iter().any(|i| match i {
                Invariant::Recorded { task, .. } => task == name,
                _ => false,
            })
        };
        let swappable: Vec<bool> = world
            .tasks
            .iter()
            .map(|t| {
                t.parent.is_none()
                    && scenario.tasks[t.spec].count > 1
                    && !world.tasks.iter().any(|o| o.parent == Some(t.id))
                    && !named_by_invariant(&t.name)
            })
            .collect();
        // Within each spec, the swappable tasks' positions go to the same tasks sorted by what
        // they are doing.
        let mut order: Vec<usize> = (0..n).collect();
        let mut specs: Vec<usize> = world
            .tasks
            .iter()
            .zip(&swappable)
            .filter(|(_, &s)| s)
            .map(|(t, _)| t.spec)
            .collect();
        specs.sort_unstable();
        specs.dedup();
        for spec in specs {
            let members: Vec<usize> = (0..n)
                .filter(|&i| swappable[i] && world.tasks[i].spec == spec)
                .collect();
            let mut sorted: Vec<(u64, usize)> = members
                .iter()
                .map(|&i| (shape(world, &world.tasks[i]), i))
                .collect();
            sorted.sort_unstable();
            for (&position, &(_, task)) in members.iter().zip(&sorted) {
                order[position] = task;
            }
        }
        let mut task = vec![0u32; n];
        for (position, &index) in order.iter().enumerate() {
            task[index] = position as u32;
        }
        let mut canon = Canon {
            task,
            order,
            conns: BTreeMap::new(),
            rows: BTreeMap::new(),
            txs: BTreeMap::new(),
            contexts: BTreeMap::new(),
            swappable,
        };
        canon.number_handles(world);
        canon
    }

    /// Numbers handles in the order the canonically ordered tasks, then the pools, refer to
    /// them; handles nobody refers to follow in id order.
    fn number_handles(&mut self, world: &World) {
        fn number<K: Ord + Copy>(map: &mut BTreeMap<K, u32>, key: K) {
            let next = map.len() as u32;
            map.entry(key).or_insert(next);
        }
        for &index in &self.order.clone() {
            let t = &world.tasks[index];
            number(&mut self.contexts, t.request_context);
            for var in t.vars.values() {
                match var {
                    Var::Conn(c) => number(&mut self.conns, *c),
                    Var::Tx(tx) => {
                        number(&mut self.txs, *tx);
                        if let Some(x) = world.transactions.get(tx) {
                            number(&mut self.conns, x.conn);
                        }
                    }
                    Var::Rows(r) => {
                        number(&mut self.rows, *r);
                        if let Some(conn) = world.rows.get(r).and_then(|r| r.conn) {
                            number(&mut self.conns, conn);
                        }
                    }
                    Var::Context(c) => number(&mut self.contexts, *c),
                    Var::Value(_) => {}
                }
            }
            if let Some(call) = &t.call {
                if let Some(c) = call.conn {
                    number(&mut self.conns, c);
                }
                if let Some(c) = call.context {
                    number(&mut self.contexts, c);
                }
                match call.kind {
                    CallKind::Commit { tx, .. } | CallKind::Rollback { tx } => {
                        number(&mut self.txs, tx)
                    }
                    CallKind::Next { rows }
                    | CallKind::Close { rows }
                    | CallKind::Collect { rows, .. } => number(&mut self.rows, rows),
                    _ => {}
                }
            }
            for c in world.connections.values() {
                if c.holder == Some(t.id) {
                    number(&mut self.conns, c.id);
                }
            }
        }
        for pool in &world.pools {
            for &c in &pool.idle {
                number(&mut self.conns, c);
            }
        }
        for &c in world.connections.keys() {
            number(&mut self.conns, c);
        }
        for &r in world.rows.keys() {
            number(&mut self.rows, r);
        }
        for &tx in world.transactions.keys() {
            number(&mut self.txs, tx);
        }
        for index in 0..world.contexts.len() {
            number(&mut self.contexts, ContextId(index as u32));
        }
    }

    fn task_id(&self, id: TaskId) -> TaskId {
        TaskId(self.task.get(id.0 as usize).copied().unwrap_or(id.0))
    }

    fn conn(&self, id: ConnId) -> ConnId {
        ConnId(self.conns.get(&id).copied().unwrap_or(u32::MAX))
    }

    fn context(&self, id: ContextId) -> ContextId {
        ContextId(self.contexts.get(&id).copied().unwrap_or(u32::MAX))
    }

    fn var(&self, var: &Var) -> Var {
        match var {
            Var::Value(v) => Var::Value(v.clone()),
            Var::Conn(c) => Var::Conn(self.conn(*c)),
            Var::Tx(tx) => Var::Tx(TxId(self.txs.get(tx).copied().unwrap_or(u32::MAX))),
            Var::Rows(r) => Var::Rows(RowsId(self.rows.get(r).copied().unwrap_or(u32::MAX))),
            Var::Context(c) => Var::Context(self.context(*c)),
        }
    }

    /// Hashes a task as seen through the renaming, without copying it.
    fn hash_task<H: Hasher>(&self, t: &Task, h: &mut H) {
        // Destructured so that a new field fails to compile until it is hashed here.
        let Task {
            id,
            name,
            spec,
            parent,
            arrival,
            started,
            pc,
            life,
            err,
            returning,
            defers,
            vars,
            call,
            wake_at,
            children,
            group_error,
            request_context,
        } = t;
        self.task_id(*id).hash(h);
        // A swappable task's name is a label of its position, not part of its state.
        if !self.swappable[id.0 as usize] {
            name.hash(h);
        }
        spec.hash(h);
        parent.map(|p| self.task_id(p)).hash(h);
        arrival.hash(h);
        started.hash(h);
        pc.hash(h);
        life.hash(h);
        err.hash(h);
        returning.hash(h);
        defers.hash(h);
        vars.len().hash(h);
        for (name, var) in vars {
            name.hash(h);
            self.var(var).hash(h);
        }
        match call {
            None => 0u8.hash(h),
            Some(call) => {
                1u8.hash(h);
                self.hash_call(call, h);
            }
        }
        wake_at.hash(h);
        children.len().hash(h);
        for &child in children {
            self.task_id(child).hash(h);
        }
        group_error.hash(h);
        self.context(*request_context).hash(h);
    }

    fn hash_call<H: Hasher>(&self, call: &Call, h: &mut H) {
        let rows_id = |r: RowsId| RowsId(self.rows.get(&r).copied().unwrap_or(u32::MAX));
        let tx = |x: TxId| TxId(self.txs.get(&x).copied().unwrap_or(u32::MAX));
        // Destructured so that a new field fails to compile until it is hashed here.
        let Call {
            kind,
            conn,
            pool,
            script,
            context,
            rows,
            tag,
            rows_done,
            cancelled,
        } = call;
        std::mem::discriminant(kind).hash(h);
        match kind {
            CallKind::Commit { tx: x, failed } => (tx(*x), failed).hash(h),
            CallKind::Rollback { tx: x } => tx(*x).hash(h),
            CallKind::Next { rows: r } | CallKind::Close { rows: r } => rows_id(*r).hash(h),
            CallKind::Collect { rows: r, into } => (rows_id(*r), into).hash(h),
            CallKind::Acquire { var } | CallKind::Query { var } | CallKind::Begin { var } => {
                var.hash(h)
            }
            CallKind::QueryRow { into } => into.hash(h),
            CallKind::Exec => {}
        }
        conn.map(|c| self.conn(c)).hash(h);
        pool.hash(h);
        script.hash(h);
        context.map(|c| self.context(c)).hash(h);
        rows.hash(h);
        tag.hash(h);
        rows_done.hash(h);
        cancelled.hash(h);
    }

    fn hash_world<H: Hasher>(&self, world: &World, h: &mut H) {
        // Destructured so that a new field fails to compile until it is hashed below. The
        // scenario and its labels are the same in every state of one exploration.
        let World {
            scenario: _,
            labels: _,
            server: _,
            now: _,
            rng: _,
            pools: _,
            connections: _,
            tasks: _,
            transactions: _,
            rows: _,
            contexts: _,
            records: _,
            next_conn: _,
        } = world;
        world.server.hash_with_anonymous_blank_sessions(h);
        world.now.hash(h);
        world.rng.hash(h);
        world.next_conn.hash(h);
        for pool in &world.pools {
            // Destructured so that a new field fails to compile until it is hashed here.
            let Pool {
                name,
                driver,
                max_open,
                max_idle,
                idle,
                open,
                waiters,
            } = pool;
            name.hash(h);
            driver.hash(h);
            max_open.hash(h);
            max_idle.hash(h);
            let idle: Vec<ConnId> = idle.iter().map(|&c| self.conn(c)).collect();
            idle.hash(h);
            let mut open: Vec<ConnId> = open.iter().map(|&c| self.conn(c)).collect();
            open.sort_unstable();
            open.hash(h);
            let waiters: Vec<TaskId> = waiters.iter().map(|&t| self.task_id(t)).collect();
            waiters.hash(h);
        }
        let mut conns: Vec<(ConnId, &Connection)> = world
            .connections
            .values()
            .map(|c| (self.conn(c.id), c))
            .collect();
        conns.sort_unstable_by_key(|(id, _)| *id);
        conns.len().hash(h);
        for (id, c) in conns {
            // Destructured so that a new field fails to compile until it is hashed here.
            let Connection {
                id: _,
                pool,
                pid,
                to_backend,
                to_frontend,
                saved,
                backend,
                statement,
                portal,
                bad,
                holder,
                locked_by,
                busy,
                tx_status,
                terminated,
            } = c;
            id.hash(h);
            pool.hash(h);
            let blank = world.server.session_is_blank(*pid);
            if blank { Pid(0) } else { *pid }.hash(h);
            to_backend.hash(h);
            to_frontend.hash(h);
            saved.hash(h);
            backend.hash(h);
            statement.hash(h);
            portal.hash(h);
            bad.hash(h);
            holder.map(|t| self.task_id(t)).hash(h);
            locked_by.map(|t| self.task_id(t)).hash(h);
            busy.hash(h);
            tx_status.hash(h);
            terminated.hash(h);
        }
        for &index in &self.order {
            self.hash_task(&world.tasks[index], h);
        }
        let mut txs: Vec<(u32, Transaction)> = world
            .transactions
            .iter()
            .map(|(id, x)| {
                let x = Transaction {
                    conn: self.conn(x.conn),
                    context: x.context.map(|c| self.context(c)),
                    owner: self.task_id(x.owner),
                    ..x.clone()
                };
                (self.txs[id], x)
            })
            .collect();
        txs.sort_unstable_by_key(|(id, _)| *id);
        txs.hash(h);
        let mut rows: Vec<(u32, Rows)> = world
            .rows
            .iter()
            .map(|(id, r)| {
                let r = Rows {
                    conn: r.conn.map(|c| self.conn(c)),
                    owner: self.task_id(r.owner),
                    ..r.clone()
                };
                (self.rows[id], r)
            })
            .collect();
        rows.sort_unstable_by_key(|(id, _)| *id);
        rows.hash(h);
        let mut contexts: Vec<(ContextId, task::Context)> = world
            .contexts
            .iter()
            .enumerate()
            .map(|(index, c)| {
                let c = task::Context {
                    parent: c.parent.map(|p| self.context(p)),
                    owner: self.task_id(c.owner),
                    ..c.clone()
                };
                (self.context(ContextId(index as u32)), c)
            })
            .collect();
        contexts.sort_unstable_by_key(|(id, _)| *id);
        contexts.hash(h);
        for record in &world.records {
            let position = world
                .task_named(&record.task)
                .filter(|t| self.swappable[t.0 as usize])
                .map(|t| self.task_id(t));
            match position {
                Some(p) => p.hash(h),
                None => record.task.hash(h),
            }
            record.var.hash(h);
            record.value.hash(h);
        }
    }
}

/// What a task is doing, without the ids of its handles: the key that sorts interchangeable
/// tasks. Ties keep task order, which costs reduction but never soundness.
fn shape(world: &World, t: &Task) -> u64 {
    let vars: Vec<(&String, u8, Option<&Option<String>>)> = t
        .vars
        .iter()
        .map(|(k, v)| match v {
            Var::Value(x) => (k, 0, Some(x)),
            Var::Conn(_) => (k, 1, None),
            Var::Tx(_) => (k, 2, None),
            Var::Rows(r) => (
                k,
                if world.rows.get(r).is_some_and(|r| r.closed) {
                    3
                } else {
                    4
                },
                None,
            ),
            Var::Context(_) => (k, 5, None),
        })
        .collect();
    let call = t.call.as_ref().map(|c| {
        (
            &c.script,
            c.rows.len(),
            c.rows_done,
            c.cancelled,
            c.conn.is_some(),
        )
    });
    fingerprint(&(
        t.started,
        t.pc,
        &t.life,
        &t.err,
        &t.returning,
        &t.defers,
        t.arrival,
        t.wake_at,
        vars,
        call,
    ))
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
