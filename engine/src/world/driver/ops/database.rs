//! The operations that reach for a connection: acquiring and releasing one, and beginning a
//! transaction (statements, commits and rollbacks start their calls in `calls.rs`).

use super::super::*;

impl World {
    /// `conn, err := pool.Acquire(ctx)`: starts the call that waits for a pool slot.
    pub(in crate::world::driver) fn exec_acquire(
        &mut self,
        id: TaskId,
        pool: String,
        conn: String,
        context: Option<String>,
        events: &mut Vec<Event>,
    ) {
        let Some(p) = self.pools.iter().position(|x| x.name == pool) else {
            return self.fail(id, error(format!("lockstep: no pool `{pool}`")), events);
        };
        let ctx = match self.context_var(id, &context) {
            Ok(c) => c,
            Err(e) => return self.fail(id, e, events),
        };
        let mut call = Call::new(
            CallKind::Acquire { var: conn },
            vec![Micro::Acquire(PoolId(p as u32))],
        );
        call.context = ctx;
        self.task_mut(id).call = Some(call);
        self.advance_call(id, events);
    }

    /// `conn.Release()`: hands the connection back to its pool.
    pub(in crate::world::driver) fn exec_release(
        &mut self,
        id: TaskId,
        conn: String,
        events: &mut Vec<Event>,
    ) {
        match self.var(id, &conn) {
            Some(Var::Conn(c)) => {
                let c = *c;
                self.task_mut(id).vars.remove(&conn);
                self.release_conn(c, id, events);
                self.advance(id, events);
            }
            _ => self.fail(
                id,
                error(format!("lockstep: `{conn}` is not a connection")),
                events,
            ),
        }
    }

    /// `tx, err := pool.BeginTx(ctx, opts)`: acquires a connection if begun on a pool, then
    /// sends `BEGIN` in the driver's words.
    pub(in crate::world::driver) fn exec_begin(
        &mut self,
        id: TaskId,
        on: String,
        tx: String,
        isolation: Option<Isolation>,
        context: Option<String>,
        events: &mut Vec<Event>,
    ) {
        let target = match self.resolve_target(id, &on) {
            Ok(t) => t,
            Err(e) => return self.fail(id, e, events),
        };
        let ctx = match self.context_var(id, &context) {
            Ok(c) => c,
            Err(e) => return self.fail(id, e, events),
        };
        if let Some(e) = ctx.and_then(|c| self.context_error(c)) {
            return self.fail(id, error(e), events);
        }
        let begin = match isolation {
            Some(level) => format!("BEGIN ISOLATION LEVEL {}", level.sql()),
            None => "BEGIN".to_string(),
        };
        let (pool, conn) = match target {
            Target::Pool(p) => (Some(p), None),
            Target::Conn(c) => (None, Some(c)),
            Target::Tx(_) => {
                return self.fail(id, error("lockstep: cannot begin on a transaction"), events)
            }
        };
        let driver = match (pool, conn) {
            (Some(p), _) => self.driver_of_pool(p),
            (_, Some(c)) => self.driver_of_conn(c),
            _ => Driver::Pgxpool,
        };
        let mut script = Vec::new();
        if let Some(p) = pool {
            script.push(Micro::Acquire(p));
        }
        script.extend(simple_script(driver, &begin));
        let mut call = Call::new(CallKind::Begin { var: tx }, script);
        call.conn = conn;
        call.context = ctx;
        self.start_call(id, call, driver, events);
    }
}
