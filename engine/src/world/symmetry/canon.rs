//! The canonical fingerprint: a renaming of interchangeable tasks and handles to canonical
//! numbers, and the world hashed as seen through it (the argument is in the module above).

use super::*;

/// A renaming of a world's tasks and handles to canonical numbers.
pub(super) struct Canon {
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
    pub(super) fn new(world: &World) -> Canon {
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

    pub(super) fn hash_world<H: Hasher>(&self, world: &World, h: &mut H) {
        // Destructured so that a new field fails to compile until it is hashed below. The
        // scenario and its labels are the same in every state of one exploration.
        let World {
            scenario: _,
            labels: _,
            server,
            now,
            rng,
            pools,
            connections: _,
            tasks: _,
            transactions: _,
            rows: _,
            contexts: _,
            records: _,
            next_conn,
        } = world;
        server.hash_with_anonymous_blank_sessions(h);
        now.hash(h);
        rng.hash(h);
        next_conn.hash(h);
        for pool in pools {
            self.hash_pool(pool, h);
        }
        self.hash_connections(world, h);
        for &index in &self.order {
            self.hash_task(&world.tasks[index], h);
        }
        self.hash_handles(world, h);
        self.hash_records(world, h);
    }

    fn hash_pool<H: Hasher>(&self, pool: &Pool, h: &mut H) {
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

    /// Connections in canonical order, each as seen through the renaming.
    fn hash_connections<H: Hasher>(&self, world: &World, h: &mut H) {
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
    }

    /// Transactions, rows cursors and contexts in canonical order, as seen through the renaming.
    fn hash_handles<H: Hasher>(&self, world: &World, h: &mut H) {
        let mut txs: Vec<(u32, Transaction)> = world
            .transactions
            .iter()
            .map(|(id, x)| {
                // Destructured so that a new field fails to compile until it is renamed or
                // kept here.
                let Transaction {
                    conn,
                    pool,
                    releases,
                    context,
                    done,
                    owner,
                } = x;
                let x = Transaction {
                    conn: self.conn(*conn),
                    pool: *pool,
                    releases: *releases,
                    context: context.map(|c| self.context(c)),
                    done: *done,
                    owner: self.task_id(*owner),
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
                // Destructured so that a new field fails to compile until it is renamed or
                // kept here.
                let Rows {
                    conn,
                    releases_to,
                    buffered,
                    current,
                    closed,
                    owner,
                } = r;
                let r = Rows {
                    conn: conn.map(|c| self.conn(c)),
                    releases_to: *releases_to,
                    buffered: buffered.clone(),
                    current: current.clone(),
                    closed: *closed,
                    owner: self.task_id(*owner),
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
                // Destructured so that a new field fails to compile until it is renamed or
                // kept here.
                let task::Context {
                    parent,
                    deadline,
                    cancelled,
                    owner,
                } = c;
                let c = task::Context {
                    parent: parent.map(|p| self.context(p)),
                    deadline: *deadline,
                    cancelled: *cancelled,
                    owner: self.task_id(*owner),
                };
                (self.context(ContextId(index as u32)), c)
            })
            .collect();
        contexts.sort_unstable_by_key(|(id, _)| *id);
        contexts.hash(h);
    }

    /// The recorded values, a swappable task's by its position instead of its name.
    fn hash_records<H: Hasher>(&self, world: &World, h: &mut H) {
        for record in &world.records {
            // Destructured so that a new field fails to compile until it is hashed here.
            let Record { task, var, value } = record;
            let position = world
                .task_named(task)
                .filter(|t| self.swappable[t.0 as usize])
                .map(|t| self.task_id(t));
            match position {
                Some(p) => p.hash(h),
                None => task.hash(h),
            }
            var.hash(h);
            value.hash(h);
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
